#!/usr/bin/env bash
# Runs each netns integration test with its own time bound. Each script
# cleans up after itself; exit status 0 is a pass, anything else a failure.
set -u
results=${1:?results dir}/integration.txt
: >>"$results"
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
# Sanitizer reports of the daemons under test land here, one file per process.
sanlogs=$(cd "$(dirname "$results")" && pwd)/sanitizer
mkdir -p "$sanlogs"
export ASAN_OPTIONS="detect_leaks=1:log_path=$sanlogs/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$sanlogs/ubsan"
for t in tests/integration/test_*.sh; do
	rm -f "$sanlogs"/*
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	log=$(dirname "$results")/$name.log
	start=$(date +%s)
	if timeout -k 10 300 bash "$t" >"$log" 2>&1 && ! ls "$sanlogs"/* >/dev/null 2>&1; then
		echo "PASS $name" >>"$results"; verdict=ok
	else
		cat "$sanlogs"/* >>"$log" 2>/dev/null
		echo "FAIL $name" >>"$results"; verdict=FAILED
		echo "--- $name failed:"; tail -n 40 "$log"
	fi
	printf '%-32s %s (%ss)\n' "$name" "$verdict" "$(($(date +%s) - start))"
done
