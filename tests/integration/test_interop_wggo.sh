#!/usr/bin/env bash
# alameshd (namespace A) against a stock wireguard-go (namespace B) over the
# IPv4 underlay (or the IPv6 one with UNDERLAY=6, which test_ipv6_underlay.sh
# uses), twice:
#   round 1: alameshd initiates: wireguard-go has no endpoint for it (so
#            cannot) and must learn it from alameshd's handshake initiation;
#   round 2: both restarted, wireguard-go initiates: alameshd has no
#            endpoint for it and must learn it.
# Each round: ping6 both ways across the tunnel addresses, an iperf3 TCP
# transfer each way, and `wg show` on the wireguard-go side must report a
# handshake and the endpoint it learned.
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

SECS=${IPERF_SECONDS:-3}
UNDERLAY=${UNDERLAY:-4}
need_root
need_tool ip wg wireguard-go iperf3 ping python3 ss
need_alamesh

netns_pair a b
new_node M # alameshd, in A
new_node W # wireguard-go, in B
IM=$(ifname m) && IW=$(ifname w) || exit 1
CONF=$NS_WORK/m.conf
use_underlay "$UNDERLAY" 51820

# round N INITIATOR: one full round, everything stopped again at the end.
round() {
	local n=$1 initiator=$2
	step "round $n: $initiator initiates (IPv$UNDERLAY underlay)"

	alameshd_conf "$CONF" "$IM" "$M_PRIV" 51820
	wggo_start wggo "$NS_B" "$IW" "$W_KEYFILE" 51820 "$W_ADDR"
	if [ "$initiator" = alameshd ]; then
		alameshd_conf_peer "$CONF" "$W_PUB" "$EP_B"
		wggo_peer "$NS_B" "$IW" "$M_PUB" "$M_ADDR/128"
	else
		alameshd_conf_peer "$CONF" "$W_PUB"
		wggo_peer "$NS_B" "$IW" "$M_PUB" "$M_ADDR/128" "$EP_A"
	fi
	alameshd_start alameshd "$NS_A" "$CONF" "$IM" "$M_ADDR"

	local from=$NS_A to=$W_ADDR
	[ "$initiator" = alameshd ] || from=$NS_B to=$M_ADDR
	ping_until "$from" "$to" 15 || fail "round $n: first ping $initiator -> peer ($to) never answered"
	pass "round $n: handshake initiated by $initiator, first ping answered"

	ping_ok "$NS_A" "$W_ADDR" 5 || fail "round $n: ping6 alameshd -> wireguard-go: $(tail -n 2 "$NS_WORK/ping.out")"
	pass "round $n: ping6 alameshd -> wireguard-go"
	ping_ok "$NS_B" "$M_ADDR" 5 || fail "round $n: ping6 wireguard-go -> alameshd: $(tail -n 2 "$NS_WORK/ping.out")"
	pass "round $n: ping6 wireguard-go -> alameshd"

	local age ep
	age=$(wggo_handshake_age "$NS_B" "$IW" "$M_PUB") ||
		fail "round $n: wg show $IW reports no handshake with alameshd"
	[ "$age" -le 60 ] || fail "round $n: wg show: latest handshake $age s ago"
	ep=$(nsx "$NS_B" wg show "$IW" endpoints | grep -F "$M_PUB" | awk '{print $2}')
	[ "$ep" = "$EP_A" ] || fail "round $n: wg show endpoint of alameshd is '$ep', want $EP_A"
	pass "round $n: wg show: handshake ${age}s ago, endpoint $ep"

	local g
	iperf_server iperf "$NS_B"
	g=$(iperf_gbps "$NS_A" "$W_ADDR" "$SECS") || fail "round $n: iperf3 alameshd -> wireguard-go"
	pass "round $n: iperf3 alameshd -> wireguard-go: $g Gbit/s"
	g=$(iperf_gbps "$NS_A" "$W_ADDR" "$SECS" 5201 -R) || fail "round $n: iperf3 wireguard-go -> alameshd"
	pass "round $n: iperf3 wireguard-go -> alameshd: $g Gbit/s"
	proc_stop iperf TERM 5

	proc_stop alameshd TERM 10
	[ "$PROC_RC" -eq 0 ] || fail "round $n: alameshd exit status $PROC_RC after SIGTERM"
	wait_for "! ip -n $NS_A link show $IM" 5 || fail "round $n: $IM still there after alameshd exited"
	proc_stop wggo TERM 10
	wait_for "! ip -n $NS_B link show $IW" 5 || fail "round $n: $IW still there after wireguard-go exited"
}

round 1 alameshd
round 2 wireguard-go
pass "interop with wireguard-go (IPv$UNDERLAY underlay)"
