#!/usr/bin/env bash
# An underlay whose MTU is below what a full tunnel datagram needs (a PPPoE
# link, a tunnel inside a tunnel): the kernel refuses UDP segmentation trains
# whose segments exceed the path MTU, while lone datagrams still get through
# as fragments. alameshd must notice, fall back to single datagrams and keep
# carrying bulk TCP, with a warning in its log.
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

SECS=${IPERF_SECONDS:-3}
UNDERLAY_MTU=1400 # a 1420-byte packet becomes a 1452-byte UDP payload
need_root
need_tool ip wg iperf3 ping python3
need_alamesh

netns_pair a b
new_node MA
new_node MB
use_underlay 4 51820
must "underlay MTU A" ip -n "$NS_A" link set "$V_A" mtu "$UNDERLAY_MTU"
must "underlay MTU B" ip -n "$NS_B" link set "$V_B" mtu "$UNDERLAY_MTU"
step "two alameshd with MTU 1420 over an underlay of MTU $UNDERLAY_MTU"

alameshd_pair_start

ping_until "$NS_A" "$MB_ADDR" 15 || fail "first ping A -> B never answered"
# A full-size packet only fits the underlay as fragments.
nsx "$NS_A" ping -6 -c 2 -W 2 -s 1352 "$MB_ADDR" >/dev/null ||
	fail "a full-size ping does not cross the small underlay"
pass "full-size ping crosses as fragments"

iperf_server iperf "$NS_B"
g=$(iperf_gbps "$NS_A" "$MB_ADDR" "$SECS") || fail "iperf3 A -> B over the small underlay"
pass "iperf3 A -> B: $g Gbit/s"
g=$(iperf_gbps "$NS_A" "$MB_ADDR" "$SECS" 5201 -R) || fail "iperf3 B -> A over the small underlay"
pass "iperf3 B -> A: $g Gbit/s"
proc_stop iperf TERM 5

grep -q "UDP segmentation offload refused" "${PROC_LOG[alameshd-a]}" ||
	fail "alameshd-a did not report falling back from UDP segmentation offload"
pass "alameshd-a reported the fallback to single datagrams"
pass "bulk TCP over an underlay smaller than the tunnel's datagrams"
