#!/usr/bin/env bash
# make bench (or make bench-sim alone): the routing simulator (tests/sim)
# over every topology at 1,000 and 10,000 nodes. Each run prints its own
# result lines (convergence after the cold start and after each failure,
# control bytes per node per second in steady state, path stretch), then
# one summary line with its wall time and peak RSS. A run is cut off after
# SIM_TIME_LIMIT seconds (default 3600) or SIM_MEM_GB of address space
# (default 12), and counted as failed. Exits non-zero if any run failed.
#
#   SIM_SIZES="1000 10000"  SIM_TOPOLOGIES="line ring grid geometric scalefree"
#   SIM_SEED=1  SIM_ARGS="..."  (the options of every run, instead of those below)
#
# On 2 CPUs the 1,000-node runs take 15-35 s each, the 10,000-node ones
# 13-40 minutes (1 h 45 min in all, the ring longest).
#
# At 10,000 nodes each simulated second costs seconds of wall time (every
# node hears every route from every neighbour at each full table) and the
# routers hold about 1 KB per destination per node: 5-10 GB. The glibc
# tunable below puts that memory on transparent huge pages, which saves a
# fifth of the time in TLB misses.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
SIM=${SIM:-$top/${BUILD:-build}/sim/alamesh-sim}
SIZES=${SIM_SIZES:-1000 10000}
TOPOLOGIES=${SIM_TOPOLOGIES:-line ring grid geometric scalefree}
SEED=${SIM_SEED:-1}
LIMIT=${SIM_TIME_LIMIT:-3600}
MEM_GB=${SIM_MEM_GB:-12}
[ -x "$SIM" ] || { echo "no $SIM: make sim" >&2; exit 1; }

# Options per size: at 10,000 nodes one declared and one silent link
# failure (each with its recovery) and no node churn, with a shorter steady
# window: each simulated second there costs about a second of wall time,
# and where paths are long a failure takes hundreds of simulated seconds
# (a line or ring cold start alone takes 230-460).
# SIM_ARGS="--failures 2 --churn 1 --duration 30 --bound 3600" adds churn.
args_for() {
	if [ -n "${SIM_ARGS:-}" ]; then
		echo "$SIM_ARGS"
		return
	fi
	case $1 in
	1000) echo "--failures 4 --churn 4 --duration 60 --bound 1200" ;;
	10000) echo "--failures 2 --duration 30 --bound 3600 --quiet 5" ;;
	*) echo "--failures 2 --churn 2 --duration 60" ;;
	esac
}

export GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.malloc.hugetlb=1}

status=0
for n in $SIZES; do
	for t in $TOPOLOGIES; do
		# shellcheck disable=SC2046 # the options are words
		set -- --topology "$t" --nodes "$n" --seed "$SEED" $(args_for "$n") --timing
		echo "== alamesh-sim $*"
		start=$(date +%s.%N)
		out=$(ulimit -v $((MEM_GB * 1024 * 1024)) && timeout "$LIMIT" "$SIM" "$@" 2>&1)
		rc=$?
		wall=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
		echo "$out"
		rss=$(sed -n 's/.*max_rss_mb=\([0-9]*\).*/\1/p' <<<"$out")
		case $rc in
		0) verdict=ok ;;
		124) verdict="timeout after ${LIMIT}s" ;;
		*) verdict="failed (exit $rc)" ;;
		esac
		[ "$rc" -eq 0 ] || status=1
		printf 'bench-sim topology=%s nodes=%s wall_s=%.1f max_rss_mb=%s result=%s\n' \
			"$t" "$n" "$wall" "${rss:-?}" "$verdict"
	done
done
exit "$status"
