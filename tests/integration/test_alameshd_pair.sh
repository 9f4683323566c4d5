#!/usr/bin/env bash
# Two alameshd in two namespaces, static peers over the IPv4 underlay (or
# the IPv6 one with UNDERLAY=6, which test_ipv6_underlay.sh uses): ping6 both
# ways, iperf3 both ways; then SIGTERM one and SIGINT the other: each must
# exit 0 and take its TUN (and control socket) with it.
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

SECS=${IPERF_SECONDS:-3}
UNDERLAY=${UNDERLAY:-4}
need_root
need_tool ip wg iperf3 ping python3 ss
need_alamesh

netns_pair a b
new_node MA
new_node MB
use_underlay "$UNDERLAY" 51820
step "two alameshd, endpoints $EP_A and $EP_B"

alameshd_pair_start

ping_until "$NS_A" "$MB_ADDR" 15 || fail "first ping A -> B never answered"
ping_ok "$NS_A" "$MB_ADDR" 5 || fail "ping6 A -> B: $(tail -n 2 "$NS_WORK/ping.out")"
pass "ping6 A -> B"
ping_ok "$NS_B" "$MA_ADDR" 5 || fail "ping6 B -> A: $(tail -n 2 "$NS_WORK/ping.out")"
pass "ping6 B -> A"

# The route is fc00::/7 but only members answer: an unknown mesh address must
# not reach anyone (it fails, fast or by timeout, but never gets a reply).
if nsx "$NS_A" ping -6 -c1 -W1 fc00::1 >/dev/null 2>&1; then
	fail "ping to a non-member fc00::1 was answered"
fi
pass "no reply from a non-member address"

iperf_server iperf "$NS_B"
g=$(iperf_gbps "$NS_A" "$MB_ADDR" "$SECS") || fail "iperf3 A -> B"
pass "iperf3 A -> B: $g Gbit/s"
g=$(iperf_gbps "$NS_A" "$MB_ADDR" "$SECS" 5201 -R) || fail "iperf3 B -> A"
pass "iperf3 B -> A: $g Gbit/s"
proc_stop iperf TERM 5

# stop_check NAME NS IFNAME SIGNAL: the daemon exits 0 and removes its TUN
# and, if it had one, its control socket.
stop_check() {
	local name=$1 ns=$2 ifn=$3 sig=$4 had_sock=0
	[ -S "$WG_SOCK_DIR/$ifn.sock" ] && had_sock=1
	proc_alive "$name" || fail "$name died before SIG$sig"
	proc_stop "$name" "$sig" 10 || fail "$name still running 10 s after SIG$sig"
	[ "$PROC_RC" -eq 0 ] || fail "$name exit status $PROC_RC after SIG$sig, want 0"
	if ip -n "$ns" link show "$ifn" >/dev/null 2>&1; then
		fail "$ifn still exists after $name exited"
	fi
	if [ "$had_sock" = 1 ] && [ -e "$WG_SOCK_DIR/$ifn.sock" ]; then
		fail "$WG_SOCK_DIR/$ifn.sock left behind by $name"
	fi
	pass "SIG$sig: $name exited 0, $ifn removed"
}
stop_check alameshd-a "$NS_A" "$IA" TERM
proc_alive alameshd-b || fail "alameshd-b died when its peer stopped"
stop_check alameshd-b "$NS_B" "$IB" INT
pass "alameshd pair (IPv$UNDERLAY underlay)"
