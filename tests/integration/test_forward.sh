#!/usr/bin/env bash
# Forwarding through a member: three alameshd in a line A - B - C, where A
# and C cannot reach each other's underlay. The links are static peers
# (A <-> B and B <-> C); a registry (a bare git repository read over
# file://) lists the three as members without endpoints, which peers no one
# more but lets each accept routes to the others' addresses: origin
# validation takes members, static peers and ourselves only (routing/origin.h),
# so with static peers alone A would refuse C's address (alameshd_line_start
# in tests/lib/netns.sh). Once the routing
# protocol has given A a route to C through B (and C one to A), this checks
# on the wire that:
#   ping A -> C goes through B, both ways;
#   traceroute6 from A to C names B's mesh address as the first hop and C
#   as the second (B, where the relayed message's hop limit runs out, sends
#   A a notice, and A's daemon answers its host with Time Exceeded from B);
#   a ping from A with hop limit 1 gets Time Exceeded from B;
#   iperf3 moves data from A to C and from C to A through B;
#   B counts the relayed bytes;
#   C's session with A is end to end: it has a handshake and the transfer,
#   and no endpoint; B counts the relayed messages it passed on unopened
#   and the notices it sent for the expired hop limits;
#   a packet A's host sends from C's address (put on A's interface) does
#   not reach B, and A counts it in `alamesh show IFACE stats`.
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

need_root
need_tool ip wg ping traceroute6 iperf3 python3 ss git
need_alamesh

# How long the routing may take to give A and C routes through B.
ROUTE_WAIT=${ROUTE_WAIT:-60}

netns_line a b c
new_node MA
new_node MB
new_node MC

step "three daemons in a line, static peers A <-> B <-> C, a registry of the three"
alameshd_line_start

step "the direct tunnels"
ping_until "$NS_A" "$MB_ADDR" 15 || fail "ping A -> B"
ping_until "$NS_C" "$MB_ADDR" 15 || fail "ping C -> B"
pass "A - B and B - C carry pings"

step "A reaches C through B (routes within ${ROUTE_WAIT}s)"
start=$SECONDS
ping_until "$NS_A" "$MC_ADDR" "$ROUTE_WAIT" || fail "no ping A -> C after ${ROUTE_WAIT}s"
info "first answer from C after $((SECONDS - start))s"
ping_ok "$NS_A" "$MC_ADDR" 10 || fail "ping A -> C: $(tail -n 3 "$NS_WORK/ping.out")"
grep -q ' 0% packet loss' "$NS_WORK/ping.out" ||
	fail "ping A -> C lost packets: $(tail -n 2 "$NS_WORK/ping.out")"
ping_until "$NS_C" "$MA_ADDR" 15 || fail "no ping C -> A"
ping_ok "$NS_C" "$MA_ADDR" 5 || fail "ping C -> A: $(tail -n 3 "$NS_WORK/ping.out")"
# The underlay is still a line: nothing went around B.
nsx "$NS_A" ping -c1 -W1 "$U4_CB" >/dev/null 2>&1 && fail "A reaches C's underlay"
pass "ping A <-> C through B"

step "traceroute6 A -> C: B, then C"
# One probe per hop, numeric, UDP probes (C answers Port Unreachable).
nsx "$NS_A" timeout --foreground 30 traceroute6 -n -q 1 -w 2 -m 5 "$MC_ADDR" \
	>"$NS_WORK/trace.out" 2>&1 || fail "traceroute6 failed: $(cat "$NS_WORK/trace.out")"
info "$(cat "$NS_WORK/trace.out")"
hop() { # N: the address that answered hop N
	awk -v n="$1" '$1 == n {print $2}' "$NS_WORK/trace.out"
}
canon() { python3 -c 'import ipaddress,sys; print(ipaddress.IPv6Address(sys.argv[1]))' "$1" 2>/dev/null; }
[ "$(canon "$(hop 1)")" = "$(canon "$MB_ADDR")" ] ||
	fail "traceroute6: hop 1 is '$(hop 1)', not B ($MB_ADDR)"
[ "$(canon "$(hop 2)")" = "$(canon "$MC_ADDR")" ] ||
	fail "traceroute6: hop 2 is '$(hop 2)', not C ($MC_ADDR)"
pass "traceroute6 names B at hop 1 and C at hop 2"

step "hop limit 1 from A: Time Exceeded from B"
nsx "$NS_A" timeout --foreground 10 ping -6 -c 1 -t 1 -W 2 "$MC_ADDR" >"$NS_WORK/hl1.out" 2>&1
info "$(head -n 3 "$NS_WORK/hl1.out")"
grep -qi "from $MB_ADDR.*time exceeded" "$NS_WORK/hl1.out" ||
	grep -qi "from $(canon "$MB_ADDR").*time exceeded" "$NS_WORK/hl1.out" ||
	fail "no Time Exceeded from B: $(cat "$NS_WORK/hl1.out")"
# Hop limit 2 is enough to reach C.
nsx "$NS_A" timeout --foreground 10 ping -6 -c 1 -t 2 -W 2 "$MC_ADDR" >/dev/null 2>&1 ||
	fail "a ping with hop limit 2 does not reach C"
pass "B answers an expired hop limit, and hop limit 2 reaches C"

step "iperf3 A -> C and C -> A through B"
b_rx_before=$(nsx "$NS_B" wg show "$IB" transfer | awk -v k="$MA_PUB" '$1 == k {print $2}')
iperf_server iperf "$NS_C"
gbps=$(iperf_gbps "$NS_A" "$MC_ADDR" 5) || fail "iperf3 A -> C through B"
info "A -> C: $gbps Gbit/s"
gbps=$(iperf_gbps "$NS_A" "$MC_ADDR" 5 5201 -R) || fail "iperf3 C -> A through B"
info "C -> A: $gbps Gbit/s"
b_rx_after=$(nsx "$NS_B" wg show "$IB" transfer | awk -v k="$MA_PUB" '$1 == k {print $2}')
# Five seconds of TCP at any useful rate is well over 10 MB through B.
[ $((b_rx_after - b_rx_before)) -gt 10000000 ] ||
	fail "B received only $((b_rx_after - b_rx_before)) bytes from A during the transfer"
pass "iperf3 both ways through B"

step "one session A - C, end to end, whose messages B relays unopened"
# C has a session with A itself: a handshake, and the transfer above, though
# no datagram of A's ever reached C's underlay. Relayed, it has no endpoint.
hs=$(nsx "$NS_C" wg show "$IC" latest-handshakes | awk -v k="$MA_PUB" '$1 == k {print $2}')
rx=$(nsx "$NS_C" wg show "$IC" transfer | awk -v k="$MA_PUB" '$1 == k {print $2}')
ep=$(nsx "$NS_C" wg show "$IC" endpoints | awk -v k="$MA_PUB" '$1 == k {print $2}')
info "C's session with A: handshake at ${hs:-none}, ${rx:-0} bytes received, endpoint ${ep:-none}"
[ "${hs:-0}" -gt 0 ] || fail "C has no handshake with A: $(nsx "$NS_C" wg show "$IC")"
[ "${rx:-0}" -gt 10000000 ] || fail "C received ${rx:-0} bytes in its session with A"
[ "$ep" = "(none)" ] || fail "C shows an endpoint for A, whose session is relayed: $ep"
relayed=$("$ALAMESH" show "$IB" stats | awk -F': ' '$1 == "relayed" {print $2}')
[ "${relayed:-0}" -gt 10000 ] || fail "B passed on ${relayed:-0} relayed messages"
notices=$("$ALAMESH" show "$IB" stats | awk -F': ' '$1 == "relay_notices" {print $2}')
[ "${notices:-0}" -ge 2 ] || fail "B sent ${notices:-0} notices for the expired hop limits"
pass "C's session with A: a handshake and ${rx} bytes; B relayed $relayed messages, sent $notices notices"

step "A puts C's address on its interface and sends from it: nothing reaches B"
# B is A's neighbour and a router of the mesh, so B's receive rule alone
# would take C's source from A: A's own transmit path must refuse it.
ns_spawn udprecv "$NS_B" python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 7777))
while True:
    d, a = s.recvfrom(2048)
    print(a[0], d.decode(errors="replace"))
' "$MB_ADDR"
wait_for "nsx $NS_B ss -Hlun 'sport = :7777' | grep -q 7777" 10 || fail "no UDP listener on B"
send_udp() { # SRC TEXT: one datagram from A, from SRC, to B's port 7777
	nsx "$NS_A" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.sendto(sys.argv[3].encode(), (sys.argv[2], 7777))
' "$1" "$MB_ADDR" "$2"
}
stat_foreign() {
	nsx "$NS_A" "$ALAMESH" show "$IA" stats | awk -F': ' '$1 == "tun_foreign_source" {print $2}'
}
before=$(stat_foreign)
[ -n "$before" ] || fail "alamesh show $IA stats: no tun_foreign_source: $(nsx "$NS_A" "$ALAMESH" show "$IA" stats 2>&1)"
send_udp "$MA_ADDR" own || fail "sending from A's own address"
wait_for "grep -q ' own$' ${PROC_LOG[udprecv]}" 5 || fail "B did not get A's own datagram: $(cat "${PROC_LOG[udprecv]}")"
must "adding C's address to A's interface" nsx "$NS_A" ip -6 addr add "$MC_ADDR/128" dev "$IA" nodad
for i in 1 2 3 4 5; do send_udp "$MC_ADDR" "forged$i" || fail "sending from C's address on A"; done
send_udp "$MA_ADDR" own-after || fail "sending from A's own address, after"
wait_for "grep -q ' own-after$' ${PROC_LOG[udprecv]}" 5 || fail "B did not get A's second datagram"
nsx "$NS_A" ip -6 addr del "$MC_ADDR/128" dev "$IA"
if grep -q forged "${PROC_LOG[udprecv]}"; then
	fail "B received datagrams from C's address sent by A: $(grep forged "${PROC_LOG[udprecv]}")"
fi
after=$(stat_foreign)
[ "$((after - before))" -ge 5 ] || fail "A counted $((after - before)) foreign-source packets, not 5"
grep -q "dropped a packet from the TUN from $MC_ADDR" "${PROC_LOG[alameshd-a]}" ||
	grep -q "dropped a packet from the TUN from $(canon "$MC_ADDR")" "${PROC_LOG[alameshd-a]}" ||
	fail "A did not log the foreign source: $(tail -n 3 "${PROC_LOG[alameshd-a]}")"
proc_stop udprecv
pass "A dropped and counted $((after - before)) packets from C's address; B got only A's own"

for n in a b c; do
	proc_alive "alameshd-$n" || fail "alameshd-$n died"
done
pass "forwarding through a member"
