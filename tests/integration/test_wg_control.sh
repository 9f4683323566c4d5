#!/usr/bin/env bash
# The real wg(8) administers alameshd through its control socket, and each
# change is checked against what the daemon then does on the wire, with a
# stock wireguard-go as the other end (its own counters and handshakes are
# the witness): wg show / show all dump / showconf; wg set adding a peer,
# changing its endpoint and keepalive, removing it, changing the listen port
# and the private key (and with it the address on the TUN); a request with
# one bad line changes nothing; the socket is 0600, a second daemon for the
# interface is refused and a stale socket is replaced; hostile clients are
# refused or cut off; without a [Registry], get=routes is served and
# get=members, get=registry and sync=1 answer errno=95; a setconf of 15,000
# peers (over 2 MiB) is taken whole. Last, no key or secret of the run
# appears in any daemon log (run with -v).
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

need_root
need_tool ip wg wireguard-go ping python3 ss
need_alamesh

netns_pair a b
new_node MA
new_node MB
new_node MN # A's next private key
IA=$(ifname ma) && IB=$(ifname gb) || exit 1
use_underlay 4 51820

step "alameshd (A, no peers, -v) and wireguard-go (B)"
alameshd_conf "$NS_WORK/a.conf" "$IA" "$MA_PRIV" 51820
ns_spawn alameshd-a "$NS_A" "$ALAMESHD" -v -c "$NS_WORK/a.conf"
wait_for "ip -n $NS_A -6 addr show dev $IA | grep -q ' $MA_ADDR/128'" 10 || fail "A did not come up"
wggo_start wggo-b "$NS_B" "$IB" "$MB_KEYFILE" 51820 "$MB_ADDR"
wggo_peer "$NS_B" "$IB" "$MA_PUB" "$MA_ADDR/128" "$EP_A"
sock=$WG_SOCK_DIR/$IA.sock

step "the control socket"
[ -S "$sock" ] || fail "no socket at $sock"
mode=$(stat -c %a "$sock")
[ "$mode" = 600 ] || fail "$sock has mode $mode, want 600"
pass "$sock exists, mode 0600"

step "wg show on an empty interface"
got=$(nsx "$NS_A" wg show "$IA" public-key) || fail "wg show public-key"
[ "$got" = "$MA_PUB" ] || fail "wg show public-key: $got, want $MA_PUB"
got=$(wg show "$IA" private-key) || fail "wg show private-key"
[ "$got" = "$MA_PRIV" ] || fail "wg show private-key does not give the configured key"
got=$(wg show "$IA" listen-port)
[ "$got" = 51820 ] || fail "listen-port $got"
[ -z "$(wg show "$IA" peers)" ] || fail "peers listed on an interface with none"
pass "public-key, private-key, listen-port, no peers"

step "wg set: add B as a peer (endpoint, keepalive 1, allowed-ips its /128)"
must "wg set add peer" wg set "$IA" peer "$MB_PUB" endpoint "$EP_B" persistent-keepalive 1 \
	allowed-ips "$MB_ADDR/128"
ping_until "$NS_A" "$MB_ADDR" 15 || fail "no ping A -> B after wg set added B"
ping_ok "$NS_B" "$MA_ADDR" 3 || fail "ping B -> A"
pass "ping both ways through the peer wg set added"
hs=$(wggo_handshake_age "$NS_B" "$IB" "$MA_PUB") || fail "wireguard-go saw no handshake from A"
pass "wireguard-go completed a handshake with A ${hs}s ago"

step "wg show all dump"
dump=$(wg show all dump) || fail "wg show all dump"
line=$(printf '%s\n' "$dump" | awk -F'\t' -v i="$IA" -v k="$MB_PUB" '$1 == i && $2 == k')
[ -n "$line" ] || fail "no peer line for $IA/$MB_PUB in: $dump"
IFS=$'\t' read -r d_if d_pub d_psk d_ep d_allowed d_hs d_rx d_tx d_ka <<<"$line"
[ "$d_psk" = "(none)" ] || fail "dump psk: $d_psk"
[ "$d_ep" = "$EP_B" ] || fail "dump endpoint: $d_ep, want $EP_B"
[ "$d_allowed" = "$MB_ADDR/128" ] || fail "dump allowed ips: $d_allowed"
[ "$d_hs" -gt 0 ] || fail "dump latest handshake: $d_hs"
[ "$d_rx" -gt 0 ] && [ "$d_tx" -gt 0 ] || fail "dump transfer: rx $d_rx tx $d_tx"
[ "$d_ka" = 1 ] || fail "dump keepalive: $d_ka"
iline=$(printf '%s\n' "$dump" | awk -F'\t' -v i="$IA" '$1 == i && NF == 5')
[ "$iline" = "$(printf '%s\t%s\t%s\t51820\toff' "$IA" "$MA_PRIV" "$MA_PUB")" ] ||
	fail "dump interface line: $iline"
pass "dump: endpoint, allowed ips, handshake, transfer, keepalive, interface line"
# Our counters against the witness: what A sent, B received (B counts data only after decryption).
b_rx=$(nsx "$NS_B" wg show "$IB" transfer | awk -v k="$MA_PUB" '$1 == k {print $2}')
[ "${b_rx:-0}" -gt 0 ] || fail "wireguard-go received nothing from A"
pass "wireguard-go received $b_rx bytes from A; A counts tx $d_tx"

step "wg showconf"
conf=$(wg showconf "$IA") || fail "wg showconf"
printf '%s\n' "$conf" | grep -qx "PrivateKey = $MA_PRIV" || fail "showconf: no PrivateKey"
printf '%s\n' "$conf" | grep -qx "ListenPort = 51820" || fail "showconf: no ListenPort"
printf '%s\n' "$conf" | grep -qx "PublicKey = $MB_PUB" || fail "showconf: no peer"
printf '%s\n' "$conf" | grep -qx "AllowedIPs = $MB_ADDR/128" || fail "showconf: no AllowedIPs"
printf '%s\n' "$conf" | grep -qx "Endpoint = $EP_B" || fail "showconf: no Endpoint"
printf '%s\n' "$conf" | grep -qx "PersistentKeepalive = 1" || fail "showconf: no keepalive"
# What showconf prints, setconf takes back (replace_peers, replace_allowed_ips...).
printf '%s\n' "$conf" >"$NS_WORK/a.wg"
must "wg setconf of showconf" wg setconf "$IA" "$NS_WORK/a.wg"
[ "$(wg showconf "$IA")" = "$conf" ] || fail "showconf after setconf differs"
ping_until "$NS_A" "$MB_ADDR" 15 || fail "no ping after setconf"
pass "showconf is complete and setconf takes it back"

step "keepalive: every 1 s, then off, as wireguard-go counts them"
# B's own receive counter is the witness: it counts every authenticated
# datagram, a keepalive as 32 bytes, and nothing of the link's own chatter
# (neighbour and router solicitations land on the veth at their own times).
b_rx() { nsx "$NS_B" wg show "$IB" transfer | awk -v k="$MA_PUB" '$1 == k {print $2}'; }
# On first: A's keepalives also cancel its passive one (due 10 s after the
# pings' replies), so the quiet window that follows is quiet.
must "keepalive 1" wg set "$IA" peer "$MB_PUB" persistent-keepalive 1
r0=$(b_rx)
sleep 6
r1=$(b_rx)
on=$(((r1 - r0) / 32))
[ "$on" -ge 3 ] || fail "only $on keepalives reached B in 6 s with keepalive 1"
must "keepalive off" wg set "$IA" peer "$MB_PUB" persistent-keepalive off
[ "$(wg show "$IA" persistent-keepalive | awk '{print $2}')" = off ] || fail "keepalive not off"
sleep 1.5 # a keepalive already on its way
r0=$(b_rx)
sleep 6
r1=$(b_rx)
off=$(((r1 - r0) / 32))
[ "$off" -le 1 ] || fail "$off keepalives reached B in 6 s with keepalive off"
pass "idle for 6 s: $on keepalives with keepalive 1, $off with keepalive off"

step "endpoint: B moves to another port; A follows only when told"
must "B listen-port" nsx "$NS_B" wg set "$IB" listen-port 51999
sleep 1
if nsx "$NS_A" ping -6 -c 2 -W 1 "$MB_ADDR" >/dev/null 2>&1; then
	fail "ping reached B at a port it no longer listens on"
fi
must "A endpoint" wg set "$IA" peer "$MB_PUB" endpoint "$U4_B:51999"
[ "$(wg show "$IA" endpoints | awk '{print $2}')" = "$U4_B:51999" ] || fail "endpoint not shown"
ping_until "$NS_A" "$MB_ADDR" 10 || fail "no ping after the endpoint change"
pass "A reaches B at its new endpoint $U4_B:51999"

step "listen-port: A moves to 52000"
must "A listen-port" wg set "$IA" listen-port 52000
[ "$(wg show "$IA" listen-port)" = 52000 ] || fail "listen-port not 52000"
nsx "$NS_A" ss -Huln 'sport = :52000' | grep -q . || fail "nothing listens on 52000 in A"
if nsx "$NS_A" ss -Huln 'sport = :51820' | grep -q .; then fail "51820 still bound in A"; fi
must "B endpoint" nsx "$NS_B" wg set "$IB" peer "$MA_PUB" endpoint "$U4_A:52000"
ping_until "$NS_B" "$MA_ADDR" 10 || fail "B cannot reach A on its new port"
ping_ok "$NS_A" "$MB_ADDR" 3 || fail "A -> B after the port change"
pass "A listens on 52000 only; traffic flows both ways"

step "a request with one bad line changes nothing"
if wg set "$IA" listen-port 52001 peer "$MN_PUB" allowed-ips 10.9.0.0/16 2>"$NS_WORK/bad.err"; then
	fail "wg set with a foreign allowed-ip succeeded"
fi
[ "$(wg show "$IA" listen-port)" = 52000 ] || fail "listen-port changed by a refused request"
[ "$(wg show "$IA" peers)" = "$MB_PUB" ] || fail "peers changed by a refused request"
grep -q 'allowed_ip=10.9.0.0/16' "${PROC_LOG[alameshd-a]}" || fail "the log does not name the bad line"
if wg set "$IA" peer "$MN_PUB" endpoint 10.1.0.2:1 preshared-key /dev/stdin <<<"short" 2>/dev/null; then
	fail "wg set with a bad psk succeeded"
fi
[ "$(wg show "$IA" peers)" = "$MB_PUB" ] || fail "peers changed by a refused request"
pass "refused whole, reported in the log; listen port and peers unchanged"

step "preshared key both sides, then the private key changes (and the address)"
wg genpsk >"$NS_WORK/psk"
must "A psk" wg set "$IA" peer "$MB_PUB" preshared-key "$NS_WORK/psk"
must "B psk" nsx "$NS_B" wg set "$IB" peer "$MA_PUB" preshared-key "$NS_WORK/psk"
[ "$(wg show "$IA" preshared-keys | awk '{print $2}')" = "$(cat "$NS_WORK/psk")" ] || fail "psk not shown"
must "A private key" wg set "$IA" private-key "$MN_KEYFILE"
[ "$(wg show "$IA" public-key)" = "$MN_PUB" ] || fail "public key did not change"
ip -n "$NS_A" -6 addr show dev "$IA" | grep -q " $MN_ADDR/128" || fail "new address $MN_ADDR not on $IA"
if ip -n "$NS_A" -6 addr show dev "$IA" | grep -q " $MA_ADDR/128"; then fail "old address still on $IA"; fi
must "B forgets A's old key" nsx "$NS_B" wg set "$IB" peer "$MA_PUB" remove
must "B learns A's new key" nsx "$NS_B" wg set "$IB" peer "$MN_PUB" allowed-ips "$MN_ADDR/128" \
	endpoint "$U4_A:52000" preshared-key "$NS_WORK/psk"
ping_until "$NS_B" "$MN_ADDR" 15 || fail "B cannot reach A at its new address"
wggo_handshake_age "$NS_B" "$IB" "$MN_PUB" >/dev/null || fail "no handshake under the new key"
pass "new key, new address $MN_ADDR, handshake with psk completed with wireguard-go"

step "remove B: A cuts it off"
must "remove" wg set "$IA" peer "$MB_PUB" remove
[ -z "$(wg show "$IA" peers)" ] || fail "B still listed"
# B starts afresh (no session), so each ping makes it initiate a handshake A must ignore.
must "B re-adds A" nsx "$NS_B" wg set "$IB" peer "$MN_PUB" remove
must "B re-adds A" nsx "$NS_B" wg set "$IB" peer "$MN_PUB" allowed-ips "$MN_ADDR/128" \
	endpoint "$U4_A:52000" preshared-key "$NS_WORK/psk"
if nsx "$NS_B" ping -6 -c 4 -i 0.5 -W 1 "$MN_ADDR" >/dev/null 2>&1; then
	fail "A still answers B after removing it"
fi
hs=$(nsx "$NS_B" wg show "$IB" latest-handshakes | awk -v k="$MN_PUB" '$1 == k {print $2}')
[ "$hs" = 0 ] || fail "B completed a handshake with A after its removal ($hs)"
grep -q 'handshake' "${PROC_LOG[wggo-b]}" || fail "wireguard-go never tried a handshake"
pass "removed: no answer, no new handshake"

step "a second alameshd for $IA is refused; a stale socket is replaced"
alameshd_conf "$NS_WORK/a2.conf" "$IA" "$MA_PRIV" 52100
if nsx "$NS_A" timeout 10 "$ALAMESHD" -c "$NS_WORK/a2.conf" >"$NS_WORK/a2.log" 2>&1; then
	fail "a second daemon for $IA started"
fi
grep -q "another alameshd already runs this interface ($sock answers)" "$NS_WORK/a2.log" ||
	fail "second daemon's message: $(cat "$NS_WORK/a2.log")"
[ "$(wg show "$IA" public-key)" = "$MN_PUB" ] || fail "the first daemon was disturbed"
pass "second daemon refused: $(head -n1 "$NS_WORK/a2.log")"
apid=${PROC_PID[alameshd-a]}
kill -KILL "$apid"
wait "$apid" 2>/dev/null
wait_for "! test -e /proc/$apid && ! ip -n $NS_A link show $IA" 10 || fail "$IA left after SIGKILL"
[ -S "$sock" ] || fail "SIGKILL removed the socket? (it cannot)"
ns_spawn alameshd-a2 "$NS_A" "$ALAMESHD" -v -c "$NS_WORK/a2.conf"
wait_for "ip -n $NS_A -6 addr show dev $IA | grep -q ' $MA_ADDR/128'" 10 || fail "restart over a stale socket failed"
[ "$(wg show "$IA" listen-port)" = 52100 ] || fail "the new daemon does not answer on $sock"
pass "stale socket replaced"

step "hostile clients: garbage, oversize, silence, a drip feed"
python3 - "$sock" <<'EOF' >"$NS_WORK/hostile.out" 2>&1 || fail "hostile clients: $(cat "$NS_WORK/hostile.out")"
import socket, sys, time
path = sys.argv[1]
def ask(data, expect_errno=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    try:
        s.sendall(data)
    except BrokenPipeError:
        pass
    out = b""
    while not out.endswith(b"\n\n"):
        try:
            c = s.recv(65536)
        except ConnectionResetError:
            break
        if not c:
            break
        out += c
    s.close()
    if expect_errno is not None:
        tail = out.rstrip(b"\n").split(b"\n")[-1]
        if tail != b"errno=%d" % expect_errno and not (expect_errno and tail.startswith(b"errno=") and tail != b"errno=0"):
            sys.exit("request %r: answer %r" % (data[:40], out[-40:]))
    return out
# Idle clients hold connections: the daemon keeps serving others.
idle = []
for i in range(40):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(path); idle.append(s)
ask(b"get=1\n\n", 0)
ask(b"set=1\nlisten_port=x\n\n", 1)
ask(b"set=1\nprivate_key=zz\n\n", 1)
ask(b"set=1\npublic_key=" + b"0" * 64 + b"\n\n", 1)
ask(b"bogus\n\n", 1)
ask(b"get=1\nextra=1\n\n", 1)
ask(b"set=1\n" + b"\x00\xff" * 100 + b"\n\n", 1)
ask(b"set=1\n" + b"a" * 3000 + b"\n\n", 1)
# alamesh's own requests, as alameshd.8 lists them: the route table is
# served without a [Registry] (our own address, next hop self); the
# registry's requests are not supported then (errno=95, EOPNOTSUPP).
out = ask(b"get=routes\n\n", 0)
if b"\nnext_hop=self\n" not in out:
    sys.exit("get=routes without our own route: %r" % out[:200])
ask(b"get=routes\nextra=1\n\n", 1)
for req in (b"get=members\n\n", b"get=registry\n\n", b"sync=1\n\n"):
    out = ask(req)
    if out != b"errno=95\n\n":
        sys.exit("request %r without a [Registry]: answer %r" % (req, out[:80]))
# Two requests on one connection are answered in turn.
out = ask(b"get=1\n\nget=1\n\n")
# Oversize: a request that never ends is cut off at the limit, 512 bytes
# for each of 65536 peers and a little more (daemon/uapi/uapi.h), not later.
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(path); s.settimeout(10)
sent, cut = 0, False
try:
    for i in range(1024):
        s.sendall(b"x" * 65536)
        sent += 65536
except (BrokenPipeError, ConnectionResetError):
    cut = True
if not cut:
    sys.exit("a request of %d bytes was not cut off" % sent)
if sent > 33 * 1024 * 1024:
    sys.exit("a request was cut off only after %d bytes" % sent)
s.close()
for s in idle: s.close()
ask(b"get=1\n\n", 0)
# A silent client and one that drips a byte a second, never ending its
# request, are both cut off after UAPI_CONN_TIMEOUT (5 s) from when they
# connected; meanwhile the daemon answers everyone else at once.
import threading
cut = {}
def silent():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(path); t0 = time.monotonic()
    s.settimeout(15)
    try:
        data = s.recv(1)
    except socket.timeout:
        data = b"(still open after 15 s)"
    except ConnectionResetError:
        data = b""
    cut["silent"] = (time.monotonic() - t0, data)
def drip():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(path); t0 = time.monotonic()
    s.settimeout(1) # the recv's wait paces the drip
    closed = False
    for i in range(15):
        try:
            s.send(b"x")
            closed = s.recv(1) == b""
        except socket.timeout:
            pass
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        if closed:
            break
    cut["drip"] = (time.monotonic() - t0, b"" if closed else b"(still open after 15 s)")
threads = [threading.Thread(target=f) for f in (silent, drip)]
for th in threads: th.start()
slowest = 0.0
while any(th.is_alive() for th in threads):
    t0 = time.monotonic()
    ask(b"get=1\n\n", 0)
    slowest = max(slowest, time.monotonic() - t0)
    time.sleep(0.5)
for th in threads: th.join()
for name, (after, data) in sorted(cut.items()):
    if data != b"" or not 4.8 <= after <= 7.0:
        sys.exit("%s client: cut off after %.1f s (%r), want about 5 s" % (name, after, data))
if slowest > 1.0:
    sys.exit("a get=1 took %.1f s while the slow clients held on" % slowest)
print("silent client cut off after %.1f s, drip-feeding one after %.1f s; the slowest get=1 meanwhile %.2f s"
      % (cut["silent"][0], cut["drip"][0], slowest))
print("hostile clients handled")
EOF
[ "$(wg show "$IA" listen-port)" = 52100 ] || fail "daemon not answering after hostile clients"
pass "garbage and floods refused, the daemon keeps answering; $(grep -m1 "^silent client" "$NS_WORK/hostile.out")"

step "wg setconf of 15,000 peers (over 2 MiB, as showconf prints them), and back"
# Random public keys with a preshared key, an endpoint and their own /128
# each: about 270 bytes a peer, 4 MB in one request.
# (setconf without a PrivateKey would remove the key, which alameshd refuses.)
python3 - "$NS_WORK/big.conf" "$MA_PRIV" <<'EOF' || fail "cannot write the big config"
import base64, hashlib, ipaddress, os, sys
with open(sys.argv[1], "w") as f:
    f.write("[Interface]\nPrivateKey = %s\nListenPort = 52100\n" % sys.argv[2])
    for i in range(15000):
        raw = os.urandom(32)
        addr = ipaddress.IPv6Address(b"\xfc" + hashlib.blake2s(b"alamesh address" + raw).digest()[:15])
        f.write("\n[Peer]\nPublicKey = %s\nPresharedKey = %s\nAllowedIPs = %s/128\nEndpoint = [fd00:ff::%x]:51820\n"
                % (base64.b64encode(raw).decode(), base64.b64encode(os.urandom(32)).decode(), addr, i + 1))
EOF
t0=$(date +%s.%N)
must "wg setconf of 15,000 peers" wg setconf "$IA" "$NS_WORK/big.conf"
t1=$(date +%s.%N)
[ "$(wg show "$IA" peers | wc -l)" = 15000 ] || fail "after setconf: $(wg show "$IA" peers | wc -l) peers, want 15000"
[ "$(wg show "$IA" public-key)" = "$MA_PUB" ] || fail "setconf changed the key"
wg show "$IA" endpoints | grep -q $'\t\\[fd00:ff::3a98\\]:51820$' || fail "peer 15000's endpoint missing"
wg showconf "$IA" >"$NS_WORK/big.showconf" || fail "wg showconf of 15,000 peers"
size=$(stat -c %s "$NS_WORK/big.showconf")
[ "$size" -gt $((2 * 1024 * 1024)) ] || fail "showconf is only $size bytes: the test proves nothing"
must "wg setconf of showconf's output" wg setconf "$IA" "$NS_WORK/big.showconf"
t2=$(date +%s.%N)
[ "$(wg show "$IA" peers | wc -l)" = 15000 ] || fail "after setconf of showconf: $(wg show "$IA" peers | wc -l) peers"
printf '[Interface]\nPrivateKey = %s\nListenPort = 52100\n' "$MA_PRIV" >"$NS_WORK/none.conf"
must "setconf without peers" wg setconf "$IA" "$NS_WORK/none.conf"
[ -z "$(wg show "$IA" peers)" ] || fail "peers left after a setconf without any"
pass "$(awk -v a="$t0" -v b="$t1" -v c="$t2" -v n="$size" 'BEGIN {
	printf "setconf: 15,000 peers in %.1f s; showconf (%d bytes) and setconf again in %.1f s; cleared", b - a, n, c - b }')"

step "no secret in any log"
for f in "${PROC_LOG[alameshd-a]}" "${PROC_LOG[alameshd-a2]}" "$NS_WORK/a2.log"; do
	for secret in "$MA_PRIV" "$MN_PRIV" "$MB_PRIV" "$(cat "$NS_WORK/psk")"; do
		hex=$(printf '%s' "$secret" | base64 -d | od -An -tx1 | tr -d ' \n')
		if grep -qF -e "$secret" -e "$hex" "$f"; then
			fail "a secret appears in $f"
		fi
	done
done
grep -q 'control socket' "${PROC_LOG[alameshd-a2]}" || fail "-v log has no control socket lines"
pass "no private or preshared key (base64 or hex) in the three daemon logs"
