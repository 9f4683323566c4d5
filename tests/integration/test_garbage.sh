#!/usr/bin/env bash
# Every datagram is untrusted: while two alameshd keep a session, a third
# party sprays the UDP port of one with junk shaped like each WireGuard
# message type (right and wrong lengths, random indices and counters,
# truncated and oversized) and the TUN of the other with malformed IPv6.
# The daemons must stay up, the session must keep carrying pings, and (in
# make check, where the daemons are built with sanitizers) nothing may trip.
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

need_root
need_tool ip wg ping python3
need_alamesh

netns_pair a b
new_node MA
new_node MB
use_underlay 4 51820
alameshd_pair_start
ping_until "$NS_A" "$MB_ADDR" 15 || fail "first ping A -> B never answered"
pass "session up"

step "junk at B's UDP port from A's side, and malformed IPv6 into A's TUN"
cat >"$NS_WORK/junk.py" <<'PY'
import os, random, socket, struct, sys, time
dst, tun_dst, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
rnd = random.Random(1234)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
sizes = {1: 148, 2: 92, 3: 64, 4: 32}
sent = 0
end = time.time() + seconds
while time.time() < end:
    t = rnd.choice([1, 2, 3, 4, 0, 5, 255])
    n = sizes.get(t, 40)
    n = rnd.choice([n, n - 1, n + 1, 0, 1, 3, 4, 16, 31, 2000, rnd.randrange(0, 1600)])
    body = bytes([t, 0, 0, 0]) + os.urandom(max(n - 4, 0))
    body = body[:n]
    if t == 4 and n >= 16 and rnd.random() < 0.5:
        # a plausible receiver index is still a guess: 32 random bits
        body = body[:4] + struct.pack("<IQ", rnd.getrandbits(32), rnd.getrandbits(64)) + body[16:]
    try:
        u.sendto(body, (dst, 51820))
        sent += 1
    except OSError:
        pass
    if sent % 4 == 0:
        # raw IPv6 headers with lying lengths, towards the mesh through the TUN
        hdr = bytes([0x60, 0, 0, 0]) + struct.pack(">H", rnd.randrange(0, 65536)) + bytes([rnd.choice([6, 17, 58, 0, 44]), 64])
        pkt = hdr + os.urandom(16) + socket.inet_pton(socket.AF_INET6, tun_dst) + os.urandom(rnd.randrange(0, 200))
        try:
            r.sendto(pkt, (tun_dst, 0))
        except OSError:
            pass
print(sent)
PY
sent=$(nsx "$NS_A" timeout 30 python3 "$NS_WORK/junk.py" "$U4_B" "$MB_ADDR" 6) ||
	fail "the junk sender failed"
[ "${sent:-0}" -gt 1000 ] || fail "only ${sent:-0} junk datagrams sent"
pass "$sent junk datagrams sent"

proc_alive alameshd-a || fail "alameshd-a died under junk"
proc_alive alameshd-b || fail "alameshd-b died under junk"
pass "both daemons still running"
ping_ok "$NS_A" "$MB_ADDR" 3 || fail "ping A -> B after the junk: $(tail -n 2 "$NS_WORK/ping.out")"
ping_ok "$NS_B" "$MA_ADDR" 3 || fail "ping B -> A after the junk: $(tail -n 2 "$NS_WORK/ping.out")"
pass "the session still carries pings both ways"
proc_stop alameshd-b TERM 10 || fail "alameshd-b did not stop"
[ "$PROC_RC" -eq 0 ] || fail "alameshd-b exit status $PROC_RC, want 0"
pass "junk is dropped, nothing else changes"
