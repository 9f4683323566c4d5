#!/usr/bin/env bash
# Cookies under load (WireGuard paper 5.4.7): alameshd in namespace A; in
# namespace B a python3 flooder and a stock wireguard-go, a peer of alameshd
# (alameshd has no endpoint for it, so every handshake is wireguard-go's).
# Under load alameshd answers an initiation without mac2 with a cookie
# reply, as kernel WireGuard does, at most one per initiation and without
# counting it against the source; only those with a valid mac2 count, per
# source address (5 at once, then 20/s). The flooder sends from an
# address of its own, not wireguard-go's.
#   part 1: bursts of handshake initiations with random contents. A burst
#           with a WRONG mac1 must get no answer at all; a burst with a
#           valid mac1 fills alameshd's handshake queue past HS_UNDER_LOAD,
#           so alameshd must answer with cookie replies (at most one per
#           initiation): 64 bytes, type 3, addressed to one of the
#           flooder's sender indexes, and whose cookie opens with the key
#           derived from alameshd's public key and the mac1 of that
#           initiation as associated data. Then, under load, a burst with
#           a valid mac2 made with that cookie: no cookie reply to any, and
#           the rate limit lets no more than its share on to the
#           Diffie-Hellman (alameshd counts the rest in handshake_refused);
#   part 2: while a flood keeps alameshd under load (bounded: FLOOD_SECONDS),
#           wireguard-go starts a handshake: it must get a cookie reply, and
#           its retry, carrying mac2, must be accepted: a ping is answered
#           during the flood and `wg show` reports the handshake. Initiations
#           with a wrong mac1 mixed into the flood must never be answered,
#           and no initiation gets more than one cookie reply;
#   part 3: after the flood alameshd still runs, a plain ping works, and it
#           exits 0 on SIGTERM.
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

FLOOD_SECONDS=${FLOOD_SECONDS:-25}
RL_BURST=5 RL_PER_SECOND=20 # wgproto/ratelimiter.h
need_root
need_tool ip wg wireguard-go ping python3
need_alamesh

netns_pair a b
new_node M # alameshd, in A
new_node W # wireguard-go, in B
IM=$(ifname m) && IW=$(ifname w) || exit 1
CONF=$NS_WORK/m.conf
use_underlay 4 51820
FLOOD_SRC=${U4_B%.*}.3 # the flooder's own address in B
must "flooder address" ip -n "$NS_B" addr add "$FLOOD_SRC/24" dev "$V_B"
FLOODER=$NS_WORK/flood.py

# The flooder. Initiations are random but for the type, a sender index
# unique in the run and (unless told otherwise) a valid mac1; mac2 is zero
# (but in mode mac2), so under load each valid one deserves a cookie reply.
# Every reply is checked: shape, receiver, and that its cookie decrypts
# (XChaCha20-Poly1305 through libsodium, which the daemon needs anyway).
#   flood.py PUB SRC HOST PORT bad|good COUNT WAIT: one burst, then listens
#     WAIT s;
#   flood.py PUB SRC HOST PORT mac2 COUNT WAIT: a burst of 200 valid ones
#     until a cookie reply comes (at most 2 s), then a burst of COUNT with a
#     valid mac2 made with that cookie, and listens WAIT s ("sent" counts
#     the latter; a reply to one of them is a bad one);
#   flood.py PUB SRC HOST PORT flood SECONDS MESHADDR: initiations as fast
#     as it can until SIGTERM or SECONDS, one in 16 with a wrong mac1. On
#     SIGUSR1, in the middle of it, it sends a datagram to MESHADDR, which
#     makes wireguard-go initiate a handshake while the queue is deep.
# Each prints "sent N replies N cookies N bad N distinct_cookies N secs N",
# sent counting the initiations with a valid mac1.
cat >"$FLOODER" <<'EOF'
import base64, ctypes, ctypes.util, hashlib, os, signal, socket, struct, sys, time

MAC1_OFF, COOKIE_MSG_LEN, BATCH = 116, 64, 64

pub = base64.b64decode(sys.argv[1], validate=True)
src, dst = sys.argv[2], (sys.argv[3], int(sys.argv[4]))
mode = sys.argv[5]
mac1_key = hashlib.blake2s(b"mac1----" + pub).digest()
cookie_key = hashlib.blake2s(b"cookie--" + pub).digest()

sodium = ctypes.CDLL(ctypes.util.find_library("sodium") or "libsodium.so.23")
if sodium.sodium_init() < 0:
    sys.exit("sodium_init failed")


def xaead_open(ct, ad, nonce, key):
    out = ctypes.create_string_buffer(len(ct))
    outlen = ctypes.c_ulonglong(0)
    r = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
        out, ctypes.byref(outlen), None, ct, ctypes.c_ulonglong(len(ct)),
        ad, ctypes.c_ulonglong(len(ad)), nonce, key)
    return out.raw[:outlen.value] if r == 0 else None


class Run:
    """The initiations made (sender index -> mac1) and the replies seen."""

    def __init__(self):
        self.good, self.wrong, self.with_mac2 = {}, set(), set()
        self.cookie = None
        self.replies = self.cookies = self.bad = 0
        self.cookie_values = set()
        self.why = ""

    def initiation(self, good, cookie=None):
        while True:
            sender = struct.unpack("<I", os.urandom(4))[0]
            if sender not in self.good and sender not in self.wrong:
                break
        body = b"\x01\x00\x00\x00" + struct.pack("<I", sender) + os.urandom(MAC1_OFF - 8)
        mac1 = hashlib.blake2s(body, key=mac1_key, digest_size=16).digest()
        if good:
            self.good[sender] = mac1
        else:
            self.wrong.add(sender)
            mac1 = bytes([mac1[0] ^ 0x80]) + mac1[1:]
        if cookie is None:
            return body + mac1 + bytes(16)
        self.with_mac2.add(sender)
        return body + mac1 + hashlib.blake2s(body + mac1, key=cookie, digest_size=16).digest()

    def problem(self, d):
        if len(d) != COOKIE_MSG_LEN:
            return "a %d-byte reply" % len(d)
        if d[:4] != b"\x03\x00\x00\x00":
            return "a reply with header %s, not a cookie reply" % d[:4].hex()
        recv = struct.unpack("<I", d[4:8])[0]
        if recv in self.wrong:
            return "a cookie reply to an initiation with a WRONG mac1 (%08x)" % recv
        if recv in self.with_mac2:
            return "a cookie reply to an initiation with a valid mac2 (%08x)" % recv
        mac1 = self.good.get(recv)
        if mac1 is None:
            return "a cookie reply to %08x, none of our sender indexes" % recv
        cookie = xaead_open(d[32:64], mac1, d[8:32], cookie_key)
        if cookie is None or len(cookie) != 16:
            return "a cookie reply whose cookie does not decrypt"
        self.cookie_values.add(cookie)
        self.cookie = cookie
        return None

    def take(self, d):
        self.replies += 1
        why = self.problem(d)
        if why:
            self.bad += 1
            self.why = self.why or why
        else:
            self.cookies += 1

    def line(self, sent, secs):
        return ("sent %d replies %d cookies %d bad %d distinct_cookies %d secs %.1f%s" %
                (sent, self.replies, self.cookies, self.bad, len(self.cookie_values), secs,
                 " first_bad: " + self.why if self.why else ""))


s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind((src, 0))
s.connect(dst)
s.setblocking(False)
run = Run()


def send(p):
    try:
        s.send(p)
        return True
    except OSError:  # a full send buffer: just go on
        return False


def drain():
    while True:
        try:
            run.take(s.recv(2048))
        except BlockingIOError:
            return


def listen(secs):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        drain()
        time.sleep(0.01)
    drain()


stop = trigger = False


def on_term(*_):
    global stop
    stop = True


def on_usr1(*_):
    global trigger
    trigger = True


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGUSR1, on_usr1)

t0 = time.monotonic()
if mode in ("bad", "good"):
    count, wait = int(sys.argv[6]), float(sys.argv[7])
    pkts = [run.initiation(mode == "good") for _ in range(count)]
    t0 = time.monotonic()
    sent = sum(send(p) for p in pkts)
    listen(wait)
    print(run.line(sent, time.monotonic() - t0), flush=True)
    sys.exit(0)

if mode == "mac2":
    count, wait = int(sys.argv[6]), float(sys.argv[7])
    for p in [run.initiation(True) for _ in range(200)]:
        send(p)
    end = time.monotonic() + 2
    while run.cookie is None and time.monotonic() < end:
        drain()
        time.sleep(0.001)
    if run.cookie is None:
        print("no cookie reply to 200 initiations: " + run.line(0, 0), flush=True)
        sys.exit(1)
    pkts = [run.initiation(True, run.cookie) for _ in range(count)]
    t0 = time.monotonic()
    sent = sum(send(p) for p in pkts)
    listen(wait)
    print(run.line(sent, time.monotonic() - t0), flush=True)
    sys.exit(0)

if mode != "flood":
    sys.exit("unknown mode " + mode)
secs, mesh_addr = float(sys.argv[6]), sys.argv[7]
trig = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
pool = [(run.initiation(i % 16 != 0), i % 16 != 0) for i in range(8192)]
t0 = time.monotonic()
sent, i, next_report = 0, 0, t0 + 1
while not stop:
    now = time.monotonic()
    if now - t0 >= secs:
        break
    for _ in range(BATCH):
        p, good = pool[i % len(pool)]
        i += 1
        if send(p):
            sent += good
    drain()
    if trigger:
        trigger = False
        trig.sendto(b"trigger", (mesh_addr, 9))
        print("trigger sent", flush=True)
    if now >= next_report:
        print("t=%.0f %s" % (now - t0, run.line(sent, now - t0)), flush=True)
        next_report += 1
elapsed = time.monotonic() - t0
listen(0.3)
print("done " + run.line(sent, elapsed), flush=True)
EOF

# flood_field LINE NAME: the number after NAME in a flooder's summary line.
flood_field() {
	awk -v k="$2" '{for (i = 1; i < NF; i++) if ($i == k) {print $(i + 1); exit}}' <<<"$1"
}

# rl_max SECS: the most messages the rate limit lets one source have in
# SECS seconds (the burst, then the rate), plus a little for timing.
rl_max() {
	awk -v s="$1" -v b="$RL_BURST" -v r="$RL_PER_SECOND" 'BEGIN {print int(b + r * (s + 0.5))}'
}

# burst bad|good COUNT WAIT: one burst from B, its summary line on stdout.
burst() {
	nsx "$NS_B" timeout 30 python3 "$FLOODER" "$M_PUB" "$FLOOD_SRC" "$U4_A" 51820 "$@"
}

alameshd_conf "$CONF" "$IM" "$M_PRIV" 51820
alameshd_conf_peer "$CONF" "$W_PUB"
wggo_start wggo "$NS_B" "$IW" "$W_KEYFILE" 51820 "$W_ADDR"
wggo_peer "$NS_B" "$IW" "$M_PUB" "$M_ADDR/128" "$EP_A"
alameshd_start alameshd "$NS_A" "$CONF" "$IM" "$M_ADDR"

step "part 1: bursts of initiations from $FLOOD_SRC"
out=$(burst bad 400 1.5) || fail "part 1: flooder failed: $out"
info "wrong mac1: $out"
[ "$(flood_field "$out" sent)" -ge 300 ] || fail "part 1: flooder could not send its burst: $out"
[ "$(flood_field "$out" replies)" -eq 0 ] ||
	fail "part 1: alameshd answered initiations with a wrong mac1: $out"
pass "part 1: 400 initiations with a wrong mac1 got no reply at all"

out=$(burst good 400 1.5) || fail "part 1: flooder failed: $out"
info "valid mac1: $out"
[ "$(flood_field "$out" bad)" -eq 0 ] || fail "part 1: bad replies to the burst: $out"
n=$(flood_field "$out" cookies)
[ "$n" -ge 1 ] || fail "part 1: no cookie reply to a burst of 400 (HS_UNDER_LOAD 32): $out"
[ "$n" -le "$(flood_field "$out" sent)" ] || fail "part 1: more cookie replies than initiations: $out"
[ "$(flood_field "$out" distinct_cookies)" -eq 1 ] ||
	fail "part 1: one source, yet different cookies: $out"
pass "part 1: $n cookie replies to a burst of 400, each to one of our initiations, all decrypting to one cookie"

# stat NAME: alameshd's counter NAME (alamesh show IFACE stats).
stat() {
	"$ALAMESH" show "$IM" stats | awk -F': ' -v k="$1" '$1 == k {print $2}'
}
refused=$(stat handshake_refused)
[ -n "$refused" ] || fail "part 1: alamesh show $IM stats has no handshake_refused"
out=$(burst mac2 100 1) || fail "part 1: flooder failed: $out"
info "valid mac2: $out"
[ "$(flood_field "$out" bad)" -eq 0 ] || fail "part 1: bad replies to the burst with mac2: $out"
sent=$(flood_field "$out" sent)
refused=$(($(stat handshake_refused) - refused))
max=$(rl_max "$(flood_field "$out" secs)")
[ "$((sent - refused))" -le "$max" ] ||
	fail "part 1: of $sent initiations with a valid mac2 from one source only $refused refused: the rate limit allows $max"
pass "part 1: $sent initiations with a valid mac2 from one source: no cookie reply, $refused refused, the rate limit lets $max through"

step "part 2: wireguard-go's handshake during a flood of ${FLOOD_SECONDS}s at most"
# Niced: when wireguard-go needs a CPU, the flooder gives it up, not alameshd.
ns_spawn flood "$NS_B" nice -n 19 python3 -u "$FLOODER" "$M_PUB" "$FLOOD_SRC" "$U4_A" 51820 \
	flood "$FLOOD_SECONDS" "$M_ADDR"
FLOOD_END=$((SECONDS + FLOOD_SECONDS))
wait_for "grep -Eq '^t=[0-9]+ .* cookies [1-9]' ${PROC_LOG[flood]}" 5 ||
	fail "part 2: the flood got no cookie replies in its first seconds"
info "flood: $(grep '^t=' "${PROC_LOG[flood]}" | tail -n 1)"

# wait_ms CMD MS: wait_for with a timeout in milliseconds (wait_for counts
# whole seconds of $SECONDS, so its "1" may be over at once).
now_ms() {
	local us=${EPOCHREALTIME//[!0-9]/}
	echo $((us / 1000))
}
wait_ms() {
	local cmd=$1 end=$(($(now_ms) + $2))
	while :; do
		eval "$cmd" >/dev/null 2>&1 && return 0
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# wg_log_since LINE: wireguard-go's log from line LINE on.
wg_log_since() { tail -n +"$1" "${PROC_LOG[wggo]}"; }
# wg_log_has FROM GREP-ARGS...: whether wireguard-go logged it since FROM.
wg_log_has() {
	local from=$1
	shift
	wg_log_since "$from" | grep -q "$@"
}

# Each attempt: wireguard-go forgets alameshd (a fresh peer), then the
# flooder sends a datagram into wireguard-go's tunnel in the middle of the
# flood, so that wireguard-go's first initiation meets the load. It may
# still be lost (a full queue) or meet a queue that was briefly shallow
# (then it is answered at once, which proves nothing about mac2): both are
# tried again at once rather than after wireguard-go's own 5 s. The attempts
# end when wireguard-go gets a cookie reply.
attempt=0
while :; do
	attempt=$((attempt + 1))
	# What follows needs up to 15 s, inside the flood.
	[ $((FLOOD_END - SECONDS)) -ge 17 ] ||
		fail "part 2: no time left in the flood after $((attempt - 1)) attempt(s), none of which got wireguard-go a cookie reply"
	if [ "$attempt" -gt 1 ]; then
		must "remove peer" nsx "$NS_B" wg set "$IW" peer "$M_PUB" remove
		wggo_peer "$NS_B" "$IW" "$M_PUB" "$M_ADDR/128" "$EP_A"
	fi
	from=$(($(wc -l <"${PROC_LOG[wggo]}") + 1))
	ntrig=$(grep -c '^trigger sent' "${PROC_LOG[flood]}")
	kill -USR1 "${PROC_PID[flood]}" || fail "part 2: the flooder is gone"
	wait_for "[ \$(grep -c '^trigger sent' ${PROC_LOG[flood]}) -gt $ntrig ]" 3 ||
		fail "part 2: the flooder did not send its trigger datagram"
	wait_for "wg_log_has $from 'Sending handshake initiation'" 3 ||
		fail "part 2: wireguard-go did not initiate a handshake on the trigger datagram"
	wait_ms "wg_log_has $from -e 'Receiving cookie response' -e 'Received handshake response'" 1000
	! wg_log_has "$from" 'Could not decrypt invalid cookie response' ||
		fail "part 2: wireguard-go could not decrypt alameshd's cookie reply"
	wg_log_has "$from" 'Receiving cookie response' && break
	if wg_log_has "$from" 'Received handshake response'; then
		info "attempt $attempt: answered without meeting the load; again"
	else
		info "attempt $attempt: initiation lost in the flood; again"
	fi
done
pass "part 2: attempt $attempt: wireguard-go's initiation got a cookie reply under load"

# Its retry (5 s later) carries mac2 and must be accepted despite the load.
t0=$SECONDS
if ! ping_until "$NS_B" "$M_ADDR" 15; then
	cookies=$(wg_log_since "$from" | grep -c 'Receiving cookie response')
	why=""
	[ "$cookies" -gt 1 ] && why=" (alameshd answered a retry carrying mac2 with another cookie reply)"
	fail "part 2: ping wireguard-go -> alameshd unanswered for 15 s under load although wireguard-go had a cookie: $(wg_log_since "$from" | grep -c 'Sending handshake initiation') initiations sent, $cookies cookie replies received$why"
fi
took=$((SECONDS - t0))
proc_alive flood || fail "part 2: the flood had ended before the ping was answered"
log=$(wg_log_since "$from")
! grep -q 'Could not decrypt invalid cookie response' <<<"$log" ||
	fail "part 2: wireguard-go could not decrypt alameshd's cookie reply"
cookies=$(grep -c 'Receiving cookie response' <<<"$log")
[ "$cookies" -eq 1 ] ||
	fail "part 2: wireguard-go received $cookies cookie replies: alameshd answered a retry carrying a valid mac2 with a cookie reply"
# The handshake that let the ping through came after the cookie reply.
order=$(grep -n -e 'Receiving cookie response' -e 'Received handshake response' <<<"$log" |
	awk -F: '/cookie/ && !c {c = $1} /handshake response/ {h = $1} END {print (c && h > c) ? "ok" : "bad"}')
[ "$order" = ok ] || fail "part 2: no handshake response after the cookie reply in wireguard-go's log"
inits=$(grep -c 'Sending handshake initiation' <<<"$log")
pass "part 2: wireguard-go's retry with mac2 accepted under load: ping answered after ${took}s ($inits initiations)"

age=$(wggo_handshake_age "$NS_B" "$IW" "$M_PUB") ||
	fail "part 2: wg show $IW reports no handshake with alameshd"
[ "$age" -le 30 ] || fail "part 2: wg show: latest handshake $age s ago"
pass "part 2: wg show: latest handshake ${age}s ago"

proc_stop flood TERM 10
[ "$PROC_RC" -eq 0 ] || fail "part 2: flooder exit status $PROC_RC"
out=$(grep '^done' "${PROC_LOG[flood]}") || fail "part 2: flooder printed no summary"
info "flood: $out"
[ "$(flood_field "$out" bad)" -eq 0 ] || fail "part 2: bad replies during the flood: $out"
n=$(flood_field "$out" cookies)
[ "$n" -gt 0 ] || fail "part 2: no cookie replies during the flood: $out"
[ "$n" -le "$(flood_field "$out" sent)" ] || fail "part 2: more cookie replies than initiations: $out"
pass "part 2: $(flood_field "$out" sent) initiations, $n cookie replies, at most one each, all well-formed; none to a wrong mac1"

step "part 3: after the flood"
proc_alive alameshd || fail "part 3: alameshd died during the flood"
ping_ok "$NS_B" "$M_ADDR" 3 || fail "part 3: ping after the flood: $(tail -n 2 "$NS_WORK/ping.out")"
pass "part 3: alameshd still running, ping answered"
proc_stop alameshd TERM 10
[ "$PROC_RC" -eq 0 ] || fail "part 3: alameshd exit status $PROC_RC after SIGTERM"
pass "part 3: alameshd exited 0 on SIGTERM"
pass "cookies under load"
