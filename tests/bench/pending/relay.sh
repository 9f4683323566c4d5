#!/usr/bin/env bash
# needs-routing
#
# Relay benchmark: single-stream TCP throughput (iperf3) from A to C
#   alamesh       alameshd on A and C, a direct tunnel (the ceiling)
#   alamesh-relay alameshd on A, B and C in a line, A - B - C, where A and
#                 C cannot reach each other's underlay: every packet is
#                 decrypted and sealed again in B's receive thread
# for BENCH_SECONDS (default 10) seconds each, in fresh namespaces. Prints
# Gbit/s and TCP retransmits for each and the relay's share of the direct
# figure. Static peers A <-> B <-> C and a registry of the three
# (alameshd_line_start): A's route to C through B comes from the routing
# protocol, so this waits until routing is merged with forwarding, when
# it becomes a phase of tests/bench/bench.sh (phase_alamesh-relay below
# drops in as it is, with "alamesh-relay" added to PHASES).
# shellcheck disable=SC2317  # the phases are called by name
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../../lib/netns.sh"

SECS=${BENCH_SECONDS:-10}
case $SECS in '' | *[!0-9]* | 0) fail "BENCH_SECONDS must be a positive integer" ;; esac
ROUTE_WAIT=${ROUTE_WAIT:-60}
need_root
need_tool ip iperf3 wg python3 ss git
need_alamesh

phase_alamesh() {
	netns_pair a b
	new_node MA
	new_node MB
	use_underlay 4 51820
	alameshd_pair_start
	ping_until "$NS_B" "$MA_ADDR" 15 || fail "no ping across alameshd"
	iperf_server iperf "$NS_A"
	iperf_gbps "$NS_B" "$MA_ADDR" "$SECS" >"$NS_WORK/result.alamesh" || fail "iperf3 over alameshd"
	cp "$NS_WORK/iperf.$NS_B.json" "$NS_WORK/iperf.alamesh.json"
}

phase_alamesh-relay() {
	netns_line a b c
	new_node MA
	new_node MB
	new_node MC
	alameshd_line_start
	ping_until "$NS_A" "$MC_ADDR" "$ROUTE_WAIT" || fail "no route A -> C through B"
	iperf_server iperf "$NS_C"
	iperf_gbps "$NS_A" "$MC_ADDR" "$SECS" >"$NS_WORK/result.alamesh-relay" ||
		fail "iperf3 A -> C through B"
	cp "$NS_WORK/iperf.$NS_A.json" "$NS_WORK/iperf.alamesh-relay.json"
}

PHASES=(alamesh alamesh-relay)
declare -A GBPS=() RETR=()
PHASE_NO=0

retransmits() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["end"]["sum_sent"]["retransmits"])' \
		"$1" 2>/dev/null || echo "?"
}

for p in "${PHASES[@]}"; do
	PHASE_NO=$((PHASE_NO + 1))
	step "$p (${SECS}s)"
	(
		trap ns_teardown EXIT
		trap 'exit 130' INT
		trap 'exit 143' TERM
		NS_PAIRS=$((2 * PHASE_NO))
		"phase_$p"
	)
	if [ $? -eq 0 ] && [ -s "$NS_WORK/result.$p" ]; then
		GBPS[$p]=$(cat "$NS_WORK/result.$p")
		RETR[$p]=$(retransmits "$NS_WORK/iperf.$p.json")
	fi
done

echo
echo "== iperf3 single TCP stream, ${SECS}s, $(nproc) CPUs, $(uname -r)"
rc=0
for p in "${PHASES[@]}"; do
	if [ -n "${GBPS[$p]:-}" ]; then
		printf '%-14s %8s Gbit/s  %8s TCP retransmits\n' "$p" "${GBPS[$p]}" "${RETR[$p]}"
	else
		printf '%-14s %8s\n' "$p" "FAILED"
		rc=1
	fi
done
if [ -n "${GBPS[alamesh]:-}" ] && [ -n "${GBPS[alamesh-relay]:-}" ]; then
	printf 'relay/direct   %s\n' "$(python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' \
		"${GBPS[alamesh-relay]}" "${GBPS[alamesh]}")"
fi
exit "$rc"
