#!/usr/bin/env bash
# Keepalives from alameshd (namespace A) as a stock wireguard-go (namespace B)
# counts them: `wg show IF transfer` gives the bytes it received from
# alameshd, and a keepalive is 32 of them (header and tag, no payload).
#   part 1, persistent: PersistentKeepalive = 1 and no traffic at all: over
#           3 s wireguard-go must receive at least two keepalives;
#   part 2, passive: no persistent keepalive. wireguard-go sends a UDP
#           datagram to a listener on alameshd's address that never
#           answers, which brings a handshake about; wireguard-go is no
#           registry member (there is no registry), so alameshd speaks no
#           routing with it, not even a hello (alamesh-protocol(7)). A
#           second datagram: alameshd received data and sent nothing, so
#           after KEEPALIVE_TIMEOUT (10 s) it must send one keepalive, and
#           only that (32 bytes; a silent alameshd would instead see
#           wireguard-go rehandshake after 15 s).
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

SINK_PORT=5555
need_root
need_tool ip wg wireguard-go python3 ss
need_alamesh

netns_pair a b
new_node M # alameshd, in A
new_node W # wireguard-go, in B
IM=$(ifname m) && IW=$(ifname w) || exit 1
CONF=$NS_WORK/m.conf
use_underlay 4 51820

# rx_bytes: what wireguard-go has received from alameshd so far.
rx_bytes() {
	local n
	n=$(nsx "$NS_B" wg show "$IW" transfer | grep -F "$M_PUB" | awk '{print $2}')
	[ -n "$n" ] || return 1
	echo "$n"
}

# start_pair KEEPALIVE: alameshd (peer W at EP_B, with KEEPALIVE if not
# empty) and wireguard-go (peer M at EP_A), both fresh.
start_pair() {
	local ka=$1
	alameshd_conf "$CONF" "$IM" "$M_PRIV" 51820
	alameshd_conf_peer "$CONF" "$W_PUB" "$EP_B" "$ka"
	wggo_start wggo "$NS_B" "$IW" "$W_KEYFILE" 51820 "$W_ADDR"
	wggo_peer "$NS_B" "$IW" "$M_PUB" "$M_ADDR/128" "$EP_A"
	alameshd_start alameshd "$NS_A" "$CONF" "$IM" "$M_ADDR"
}

stop_pair() {
	proc_stop alameshd TERM 10
	[ "$PROC_RC" -eq 0 ] || fail "alameshd exit status $PROC_RC after SIGTERM"
	proc_stop wggo TERM 10
	wait_for "! ip -n $NS_A link show $IM && ! ip -n $NS_B link show $IW" 5 ||
		fail "$IM or $IW still there after their daemons exited"
}

step "part 1: PersistentKeepalive = 1, no traffic"
start_pair 1
# The persistent keepalive alone must bring the handshake about.
wait_for "wggo_handshake_age $NS_B $IW $M_PUB" 10 ||
	fail "part 1: no handshake without traffic despite PersistentKeepalive = 1"
pass "part 1: handshake brought about by the persistent keepalive"
rx0=$(rx_bytes) || fail "part 1: wg show $IW transfer has no line for alameshd"
sleep 3
rx1=$(rx_bytes) || fail "part 1: wg show $IW transfer has no line for alameshd"
grew=$((rx1 - rx0))
[ "$grew" -ge 64 ] || fail "part 1: wireguard-go received $grew bytes in 3 s, want >= 64 (two keepalives)"
pass "part 1: wireguard-go received $grew bytes in 3 s of silence ($((grew / 32)) keepalives' worth)"
stop_pair

step "part 2: passive keepalive after one received datagram"
start_pair ""
# A listener on alameshd's mesh address that reads and never answers (so no
# ICMPv6 port unreachable either); it logs what it got.
ns_spawn sink "$NS_A" python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
print("listening", flush=True)
while True:
    data, src = s.recvfrom(2048)
    print("got %d from %s" % (len(data), src[0]), flush=True)
' "$M_ADDR" "$SINK_PORT"
wait_for "grep -q listening ${PROC_LOG[sink]}" 10 || fail "part 2: UDP listener did not start"
rx_before=$(rx_bytes) || fail "part 2: wg show $IW transfer has no line for alameshd"
[ "$rx_before" -eq 0 ] || fail "part 2: alameshd sent $rx_before bytes before any traffic"

send_datagram() {
	must "send a datagram" nsx "$NS_B" timeout 5 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.sendto(b"x" * 20, (sys.argv[1], int(sys.argv[2])))
' "$M_ADDR" "$SINK_PORT"
}
# The first datagram; wireguard-go holds it for the handshake it starts.
send_datagram
wait_for "grep -q 'got 20 from $W_ADDR' ${PROC_LOG[sink]}" 10 ||
	fail "part 2: the datagram never reached the listener on alameshd's address"
wait_for "grep -q 'peer $W_PUB is no registry member: no routing with it' ${PROC_LOG[alameshd]}" 10 ||
	fail "part 2: alameshd did not take wireguard-go for an outsider: $(tail -n 3 "${PROC_LOG[alameshd]}")"
sleep 3
rx0=$(rx_bytes) || fail "part 2: wg show $IW transfer has no line for alameshd"
# The handshake response (92 bytes), and no routing hello to a peer that is no member.
[ "$rx0" -eq 92 ] || fail "part 2: wireguard-go received $rx0 bytes, want 92 (the response alone)"
pass "part 2: a handshake response, no routing hello, then silence"

# The second datagram: data received, nothing sent back.
send_datagram
wait_for "[ \$(grep -c '^got' ${PROC_LOG[sink]}) -eq 2 ]" 10 ||
	fail "part 2: the second datagram never reached the listener"
t0=$SECONDS
if ! wait_for "[ \$((\$(rx_bytes) - $rx0)) -ge 32 ]" 14; then
	rx1=$(rx_bytes)
	fail "part 2: no keepalive from alameshd within 14 s of the datagram (KEEPALIVE_TIMEOUT 10 s): wireguard-go received $((${rx1:-0} - rx0)) bytes since"
fi
rx1=$(rx_bytes) || fail "part 2: wg show $IW transfer has no line for alameshd"
[ $((rx1 - rx0)) -eq 32 ] || fail "part 2: wireguard-go received $((rx1 - rx0)) bytes, want exactly one keepalive (32)"
pass "part 2: one passive keepalive (32 bytes) after about $((SECONDS - t0)) s"
n=$(grep -c '^got' "${PROC_LOG[sink]}")
[ "$n" -eq 2 ] || fail "part 2: the listener received $n datagrams, want 2"
stop_pair
pass "keepalives (persistent and passive) seen by wireguard-go"
