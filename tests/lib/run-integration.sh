#!/usr/bin/env bash
# Runs each netns integration test with its own time bound. Each script
# cleans up after itself; exit status 0 is a pass, anything else a failure.
#
# A test whose header has the line "# runs-alongside" spends its time
# waiting on protocol timers (a rekey after 120 s) or computing alone (the
# simulator): it starts at once in the background, niced, and runs beside
# the others, which keeps the suite's wall time down without crowding the
# tests that time what they measure. Every test has a directory of its own
# for the sanitizer reports of the daemons it runs.
set -u
results=${1:?results dir}/integration.txt
: >>"$results"
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
resdir=$(cd "$(dirname "$results")" && pwd)
sanroot=$resdir/sanitizer
rm -rf "$sanroot"
mkdir -p "$sanroot"

# run_one NAME SCRIPT: runs it; prints "ok" or "FAILED" and its seconds in NAME.verdict.
run_one() {
	local name=$1 t=$2 sanlogs=$sanroot/$1 log=$resdir/$1.log start
	mkdir -p "$sanlogs"
	start=$(date +%s)
	if ASAN_OPTIONS="detect_leaks=1:log_path=$sanlogs/asan" \
		UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$sanlogs/ubsan" \
		timeout -k 10 300 bash "$t" >"$log" 2>&1 && ! ls "$sanlogs"/* >/dev/null 2>&1; then
		echo "ok $(($(date +%s) - start))" >"$resdir/$name.verdict"
	else
		cat "$sanlogs"/* >>"$log" 2>/dev/null
		echo "FAILED $(($(date +%s) - start))" >"$resdir/$name.verdict"
	fi
}

report() {
	local name=$1 verdict secs
	read -r verdict secs <"$resdir/$name.verdict"
	if [ "$verdict" = ok ]; then
		echo "PASS $name" >>"$results"
	else
		echo "FAIL $name" >>"$results"
		echo "--- $name failed:"
		tail -n 40 "$resdir/$name.log"
	fi
	printf '%-32s %s (%ss)\n' "$name" "$verdict" "$secs"
}

alongside=() pids=()
for t in tests/integration/test_*.sh; do
	[ -f "$t" ] || continue
	grep -qx '# runs-alongside' "$t" || continue
	name=$(basename "$t" .sh)
	nice -n 10 bash -c "$(declare -f run_one); sanroot='$sanroot' resdir='$resdir' run_one '$name' '$t'" &
	pids+=($!)
	alongside+=("$name")
done
for t in tests/integration/test_*.sh; do
	[ -f "$t" ] || continue
	grep -qx '# runs-alongside' "$t" && continue
	name=$(basename "$t" .sh)
	run_one "$name" "$t"
	report "$name"
done
for i in "${!pids[@]}"; do
	wait "${pids[$i]}"
	report "${alongside[$i]}"
done
