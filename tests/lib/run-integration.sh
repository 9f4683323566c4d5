#!/usr/bin/env bash
# Runs each netns integration test with its own time bound. Each script
# cleans up after itself; exit status 0 is a pass, anything else a failure.
set -u
results=${1:?results dir}/integration.txt
: >>"$results"
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
for t in tests/integration/test_*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	log=$(dirname "$results")/$name.log
	start=$(date +%s)
	if timeout -k 10 300 bash "$t" >"$log" 2>&1; then
		echo "PASS $name" >>"$results"; verdict=ok
	else
		echo "FAIL $name" >>"$results"; verdict=FAILED
		echo "--- $name failed:"; tail -n 40 "$log"
	fi
	printf '%-32s %s (%ss)\n' "$name" "$verdict" "$(($(date +%s) - start))"
done
