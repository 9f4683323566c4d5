#!/usr/bin/env bash
# Runs every cmocka binary and records each test case as PASS or FAIL.
# A binary that crashes or prints no result counts as a failure of its own.
set -u
results=${1:?results dir}/unit.txt
bindir=${2:?test binary dir}
: >>"$results"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for t in "$bindir"/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	log=$(dirname "$results")/$name.log
	CMOCKA_MESSAGE_OUTPUT=stdout timeout 300 "$t" >"$log" 2>&1
	rc=$?
	ok=$(sed -n 's/^\[       OK \] \(.*\)$/\1/p' "$log")
	bad=$(sed -n 's/^\[  FAILED  \] \([^0-9].*\)$/\1/p' "$log" | grep -v 'test(s)' || true)
	for c in $ok; do echo "PASS $name:$c"; done >>"$results"
	for c in $bad; do echo "FAIL $name:$c"; done >>"$results"
	if [ "$rc" -ne 0 ] && [ -z "$bad" ]; then echo "FAIL $name (exit $rc)" >>"$results"; fi
	if [ -z "$ok" ] && [ -z "$bad" ] && [ "$rc" -eq 0 ]; then echo "FAIL $name (ran no test)" >>"$results"; fi
	if [ "$rc" -ne 0 ]; then echo "--- $name failed:"; tail -n 30 "$log"; fi
	printf '%-28s %s\n' "$name" "$(grep -c . <<<"$ok") ok, $(grep -c . <<<"$bad") failed"
done
