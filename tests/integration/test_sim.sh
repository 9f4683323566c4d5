#!/usr/bin/env bash
# The routing simulator (tests/sim) over every topology at 250 nodes, with
# link failures (declared and silent) and node restarts, three seeds each,
# then a storm of overlapping changes, under the sanitizer build: every run
# must keep forwarding loop-free at every event and converge within the
# bound after every change. A run is also repeated to check that a seed
# determines the output. No root, no namespaces: the network is simulated.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
SIM=$top/${BUILD:-build}/sim/alamesh-sim
[ -x "$SIM" ] || { echo "FAIL: no $SIM (make sim)"; exit 1; }

failed=0
run() {
	local out rc
	out=$("$SIM" "$@" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] || ! grep -q '^result=ok$' <<<"$out" || ! grep -q ' loops=none$' <<<"$out"; then
		echo "FAIL: alamesh-sim $* (exit $rc):"
		sed 's/^/    /' <<<"$out"
		failed=1
		return 1
	fi
	printf 'ok    %-58s %s\n' "$*" "$(grep '^cold_start' <<<"$out" | cut -d' ' -f2)"
}

for topology in line ring grid geometric scalefree; do
	for seed in 1 2 3; do
		run --topology "$topology" --nodes 250 --seed "$seed" --failures 4 --churn 3 \
			--duration 10 --quiet 2 --bound 400
	done
done

for topology in line ring grid geometric scalefree; do
	run --topology "$topology" --nodes 250 --seed 4 --duration 5 --quiet 1 --bound 400 \
		--storm 100 --storm-gap 0.3
done

# Storms fast enough that a node restarts twice before the routes of its
# first self are gone: with a random first seqno at each start, these looped
# (the three seqnos newer than one another in a circle); a seqno from the
# clock at each start keeps them in order.
for args in "grid 40 8" "geometric 60 23" "scalefree 40 7" "grid 60 5"; do
	set -- $args
	run --topology "$1" --nodes "$2" --seed "$3" --duration 5 --quiet 1 --storm 300 --storm-gap 0.05
done

# Same seed, same output (the timing line aside, which --timing alone prints).
a=$("$SIM" --topology geometric --nodes 200 --seed 9 --failures 2 --churn 2 --duration 10)
b=$("$SIM" --topology geometric --nodes 200 --seed 9 --failures 2 --churn 2 --duration 10)
if [ "$a" != "$b" ]; then
	echo "FAIL: two runs with seed 9 differ:"
	diff <(echo "$a") <(echo "$b") | head -20
	failed=1
else
	echo "ok    seed 9 twice: identical output"
fi

[ "$failed" -eq 0 ] && echo "PASS test_sim" || echo "FAIL test_sim"
exit "$failed"
