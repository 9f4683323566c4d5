#!/usr/bin/env bash
# A stock WireGuard peer uses an alameshd member as its gateway into the
# mesh, which needs no routing protocol: wireguard-go in A (AllowedIPs
# fc00::/7 through B), alameshd in B and C, static peers A <-> B <-> C, in
# a line where A cannot reach C's underlay. B must
#   forward A's packets to C;
#   answer a hop limit of 1 with Time Exceeded from its own address;
#   answer a destination it has no route to with Destination Unreachable;
#   answer a packet longer than its MTU with Packet Too Big;
#   drop what A sends from any address but its own, for B or for C.
# (C cannot answer A: without routing it has no route back. The round
# trips through relays, and the hop limit one less at C, are
# tests/integration/pending/test_forward.sh.)
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

need_root
need_tool ip wg wireguard-go ping python3
need_alamesh

netns_line a b c
new_node W  # wireguard-go, in A
new_node MB # alameshd, in B
new_node MC # alameshd, in C
IW=$(ifname w) && IB=$(ifname gb) && IC=$(ifname gc) || exit 1

step "wireguard-go in A, alameshd in B and C"
# Room on A - B for a datagram carrying more than B's MTU (the Packet Too Big case).
must "mtu A" ip -n "$NS_A" link set "$(ifname v1a)" mtu 2000
must "mtu B" ip -n "$NS_B" link set "$(ifname v1b)" mtu 2000
wggo_start wggo "$NS_A" "$IW" "$W_KEYFILE" 51820 "$W_ADDR"
wggo_peer "$NS_A" "$IW" "$MB_PUB" fc00::/7 "$U4_BA:51820" 25
alameshd_conf "$NS_WORK/b.conf" "$IB" "$MB_PRIV" 51820
alameshd_conf_peer "$NS_WORK/b.conf" "$W_PUB" "$U4_AB:51820"
alameshd_conf_peer "$NS_WORK/b.conf" "$MC_PUB" "$U4_CB:51820"
alameshd_conf "$NS_WORK/c.conf" "$IC" "$MC_PRIV" 51820
alameshd_conf_peer "$NS_WORK/c.conf" "$MB_PUB" "$U4_BC:51820"
alameshd_start alameshd-b "$NS_B" "$NS_WORK/b.conf" "$IB" "$MB_ADDR"
alameshd_start alameshd-c "$NS_C" "$NS_WORK/c.conf" "$IC" "$MC_ADDR"
ping_until "$NS_A" "$MB_ADDR" 15 || fail "ping A -> B"
ping_until "$NS_C" "$MB_ADDR" 15 || fail "ping C -> B"
pass "tunnels A - B and B - C up"

# tun_rx NS IFNAME: packets the daemon has written to its TUN.
tun_rx() {
	ip -n "$1" -s -j link show "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'
}

step "A's datagrams to C leave B towards C"
# What C does with them is its own rule: it takes relayed packets only from
# a peer that speaks the routing protocol (forward.h). What B sent towards C
# is in its transfer counter: 50 datagrams of 200 bytes are some 15 kB
# sealed, far more than any keepalive.
tx_to_c() {
	nsx "$NS_B" wg show "$IB" transfer | awk -v k="$MC_PUB" '$1 == k {print $3}'
}
t0=$(tx_to_c)
must "UDP to C from A" nsx "$NS_A" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
for i in range(50):
    s.sendto(bytes(200), (sys.argv[1], 9999))
' "$MC_ADDR"
wait_for '[ $(($(tx_to_c) - t0)) -ge 14000 ]' 10 ||
	fail "B sent $(($(tx_to_c) - t0)) bytes to C for A's 50 datagrams"
pass "B forwarded A's datagrams to C ($(($(tx_to_c) - t0)) bytes sealed)"

step "hop limit 1 to C: Time Exceeded from B"
nsx "$NS_A" timeout --foreground 10 ping -6 -c 1 -t 1 -W 2 "$MC_ADDR" >"$NS_WORK/hl1.out" 2>&1
info "$(sed -n 2p "$NS_WORK/hl1.out")"
grep -q "^From $MB_ADDR icmp_seq=1 Time exceeded: Hop limit" "$NS_WORK/hl1.out" ||
	fail "no Time Exceeded from B: $(cat "$NS_WORK/hl1.out")"
pass "B answers an expired hop limit"

step "a destination B has no route to: Destination Unreachable from B"
nsx "$NS_A" timeout --foreground 10 ping -6 -c 1 -W 2 fc00::dead:beef >"$NS_WORK/unr.out" 2>&1
info "$(sed -n 2p "$NS_WORK/unr.out")"
grep -q "^From $MB_ADDR icmp_seq=1 Destination unreachable: No route" "$NS_WORK/unr.out" ||
	fail "no Destination Unreachable from B: $(cat "$NS_WORK/unr.out")"
pass "B answers an unknown destination"

step "more than B's MTU: Packet Too Big from B"
must "mtu of A's tunnel" ip -n "$NS_A" link set "$IW" mtu 1500
nsx "$NS_A" timeout --foreground 10 ping -6 -c 1 -W 2 -s 1452 -M do "$MC_ADDR" >"$NS_WORK/big.out" 2>&1
info "$(sed -n 2p "$NS_WORK/big.out")"
grep -q "^From $MB_ADDR icmp_seq=1 Packet too big: mtu=1420" "$NS_WORK/big.out" ||
	fail "no Packet Too Big from B: $(cat "$NS_WORK/big.out")"
must "mtu of A's tunnel" ip -n "$NS_A" link set "$IW" mtu 1420
pass "B answers a packet over its MTU"

step "A sends from an address not its own: B drops it, for B and for C"
SPOOF=fc00::5:f00f
must "second address on A" ip -n "$NS_A" -6 addr add "$SPOOF/128" dev "$IW" nodad
b0=$(tun_rx "$NS_B" "$IB") && c0=$(tun_rx "$NS_C" "$IC") || fail "TUN counters"
nsx "$NS_A" ping -6 -c 20 -i 0.05 -W 1 -I "$SPOOF" "$MB_ADDR" >/dev/null 2>&1 &&
	fail "B answered a ping from $SPOOF"
nsx "$NS_A" ping -6 -c 20 -i 0.05 -W 1 -I "$SPOOF" "$MC_ADDR" >/dev/null 2>&1
b1=$(tun_rx "$NS_B" "$IB") && c1=$(tun_rx "$NS_C" "$IC") || fail "TUN counters"
[ "$b1" -eq "$b0" ] || fail "B delivered $((b1 - b0)) packet(s) from $SPOOF to its TUN"
[ "$c1" -eq "$c0" ] || fail "C got $((c1 - c0)) packet(s) from $SPOOF through B"
# The same pings from A's own address do get through, so the counters do count.
nsx "$NS_A" ping -6 -c 5 -i 0.2 -W 2 -I "$W_ADDR" "$MB_ADDR" >/dev/null 2>&1 ||
	fail "ping A -> B from A's own address"
b2=$(tun_rx "$NS_B" "$IB")
[ "$b2" -ge $((b1 + 5)) ] || fail "B's TUN counted $((b2 - b1)) of 5 pings"
pass "40 packets from $SPOOF dropped at B; A's own still delivered"

for n in alameshd-b alameshd-c wggo; do
	proc_alive "$n" || fail "$n died"
done
pass "a stock peer's gateway forwards, answers and drops as it must"
