#!/usr/bin/env bash
# A member behind NAT: "members without an Endpoint dial out and keep their
# NAT mapping open" (alameshd(8), PEERING). Two public members, alice (A) and
# bob (B), publish an Endpoint; carol (C) publishes none and sits on a private
# LAN behind a router (N) that masquerades with fully random source ports,
# forwards nothing inward that it did not see go out, and whose conntrack
# forgets an idle UDP mapping after UDP_TIMEOUT seconds (both the unreplied
# and the stream timeout: they are per namespace):
#
#        A 10.9.0.1 ---+
#        B 10.9.0.2 ---+-- [bridge] -- 10.9.0.254 N 192.168.77.1 -- C 192.168.77.2
#                      "the internet"              (masquerade)      (no Endpoint)
#
# The registry is served by git daemon on A (C fetches it through the NAT).
# Asserted, with the facts printed:
#   - A cannot reach C's underlay address (even with a route to C's LAN
#     through N), and before C dials, A knows carol with no endpoint;
#   - C dials A and B: sessions come up, and A and B (wg show and alamesh
#     show) see C at N's public address, at a NATed port, never at C's own;
#   - A routes carol directly and pings her (traffic A starts towards a
#     NATed member), B too, and C pings A;
#   - then no user traffic for IDLE seconds (3x UDP_TIMEOUT and more): the
#     conntrack entry of C's session with A is there at every sample (where
#     N has /proc/net/nf_conntrack; that sub-check is skipped if not), A's
#     endpoint for C has not moved (with random ports a mapping that expired
#     and was made anew would have a new port), and a single ping A -> C with
#     a 1 s deadline is answered: the routing hellos every 2 s keep it open;
#     N's counters show C's daemon itself sending to A more often than the
#     timeout (Linux refreshes a mapping on packets either way, stricter NATs
#     only on those going out);
#   - the control, over the same NAT in the same idle time: a UDP flow from
#     C to A on other ports that nothing keeps alive is answered at once, but
#     an answer after IDLE seconds is not delivered, its conntrack entry is
#     gone, and C's next datagram leaves through a new mapping (another port):
#     so the NAT does forget idle mappings, and the test above could fail.
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

UDP_TIMEOUT=${UDP_TIMEOUT:-6}          # seconds N keeps an idle UDP mapping
IDLE=${IDLE:-$((3 * UDP_TIMEOUT + 2))} # seconds without user traffic
need_root
need_tool ip wg ping python3 git ss nft
need_alamesh
[ -x "$ALAMESH" ] || fail "alamesh not built: $ALAMESH (make)"
export ALAMESH_COLOR_MODE=never WG_COLOR_MODE=never
unset WG_HIDE_KEYS ALAMESH_HIDE_KEYS

# The whole test in at most IDLE + 160 s, whatever hangs (the trap cleans up).
setsid bash -c "sleep $((IDLE + 160)) && echo 'watchdog: test took too long' >&2 && kill -TERM $$" &
PROC_PID[watchdog]=$!

NI=$NS_PREFIX-inet NA=$NS_PREFIX-a NB=$NS_PREFIX-b NN=$NS_PREFIX-nat NC=$NS_PREFIX-c
for ns in "$NI" "$NA" "$NB" "$NN" "$NC"; do ns_add "$ns"; done
A4=10.9.0.1 B4=10.9.0.2 N4=10.9.0.254 NL4=192.168.77.1 C4=192.168.77.2

step "the underlay: A, B and N's public side on one bridge; C behind N"
must "bridge" ip -n "$NI" link add br0 type bridge
must "bridge up" ip -n "$NI" link set br0 up
# wan NS SUFFIX ADDR: NS on the bridge at ADDR/24; prints its interface.
wan() {
	local ns=$1 v p
	v=$(ifname "$2") && p=$(ifname "$2p") || exit 1
	ip link add "$v" netns "$ns" type veth peer name "$p" netns "$NI" || fail "veth $v"
	must "port $p" ip -n "$NI" link set "$p" master br0 up
	must "addr $3" ip -n "$ns" addr add "$3/24" dev "$v"
	must "up $v" ip -n "$ns" link set "$v" up
	printf '%s\n' "$v"
}
wan "$NA" wa "$A4" >/dev/null
wan "$NB" wb "$B4" >/dev/null
NWAN=$(wan "$NN" wn "$N4") || exit 1
nat_lan "$NN" "$NC" "$NL4" "$C4"
# A has a route to C's LAN through N: only the NAT stands between them.
must "A's route to the LAN" ip -n "$NA" route add 192.168.77.0/24 via "$N4"
must "N forwards no IPv6" nsx "$NN" sysctl -qw net.ipv6.conf.all.forwarding=0
must "N's conntrack UDP timeouts" nsx "$NN" sysctl -qw \
	net.netfilter.nf_conntrack_udp_timeout="$UDP_TIMEOUT" \
	net.netfilter.nf_conntrack_udp_timeout_stream="$UDP_TIMEOUT"
nsx "$NN" nft -f - <<EOF || fail "N's nftables ruleset"
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "$NWAN" masquerade fully-random
	}
	counter c2a {}
	counter a2c {}
	chain forward {
		type filter hook forward priority filter; policy drop;
		iifname "$NLAN" ip daddr $A4 udp dport 51820 counter name "c2a"
		iifname "$NWAN" ip saddr $A4 udp sport 51820 counter name "a2c"
		ct state established,related accept
		iifname "$NLAN" oifname "$NWAN" accept
	}
}
EOF
for s in nf_conntrack_udp_timeout nf_conntrack_udp_timeout_stream; do
	v=$(nsx "$NN" sysctl -n "net.netfilter.$s") || fail "sysctl $s in N"
	[ "$v" = "$UDP_TIMEOUT" ] || fail "$s in N is $v, want $UDP_TIMEOUT"
done
CT=/proc/net/nf_conntrack
HAVE_CT=0
nsx "$NN" test -r "$CT" && HAVE_CT=1
wait_for "ip netns exec $NA ping -c1 -W1 $B4" 10 || fail "underlay A -> B"
wait_for "ip netns exec $NA ping -c1 -W1 $N4" 10 || fail "underlay A -> N"
wait_for "ip netns exec $NC ping -c1 -W1 $A4" 10 || fail "underlay C -> A through the NAT"
if nsx "$NA" ping -c2 -i 0.3 -W1 "$C4" >/dev/null 2>&1; then
	fail "A reaches C's private address $C4: N lets unsolicited packets in"
fi
pass "C reaches A through the NAT; A cannot reach C's $C4 though it routes it via N" \
	"(UDP timeouts in N: ${UDP_TIMEOUT} s; $CT in N: $([ "$HAVE_CT" = 1 ] && echo yes || echo no))"

step "the registry (served by git daemon on A): alice and bob with endpoints, carol without"
for v in MA MB MC; do new_node "$v"; done
IA=$(ifname ma) IB=$(ifname mb) IC=$(ifname mc)
registry_init
registry_member alice "$MA_PUB" "$A4:51820"
registry_member bob "$MB_PUB" "$B4:51820"
registry_member carol "$MC_PUB" # behind NAT: dials out
registry_publish "alice, bob, and carol behind NAT"
touch "$REG/git-daemon-export-ok"
ns_spawn gitd "$NA" git daemon --reuseaddr --base-path="$NS_WORK" --export-all \
	--listen="$A4" --port=9418 "$NS_WORK"
wait_for "ip netns exec $NA ss -Hltn 'sport = :9418' | grep -q LISTEN" 10 || fail "git daemon"
conf() { # NAME IFNAME PRIV URL
	alameshd_conf "$NS_WORK/$1.conf" "$2" "$3" 51820
	registry_section "$NS_WORK/$1.conf" "$4" "$NS_WORK/cache-$1"
	"$ALAMESHD" -t -c "$NS_WORK/$1.conf" || fail "-t refuses $1.conf"
}
conf a "$IA" "$MA_PRIV" "file://$REG"
conf b "$IB" "$MB_PRIV" "git://$A4:9418/registry.git"
conf c "$IC" "$MC_PRIV" "git://$A4:9418/registry.git"

# ep_of IFACE PUB: the endpoint wg show gives for PUB on IFACE.
ep_of() { wg show "$1" endpoints | awk -v k="$2" '$1 == k {print $2}'; }
hs_of() { wg show "$1" latest-handshakes | awk -v k="$2" '$1 == k {print $2}'; }
route_of() { "$ALAMESH" show "$1" routes dump | awk -F'\t' -v a="$2" '$1 == a'; }
next_member() { route_of "$1" "$2" | cut -f4; }

alameshd_start alameshd-a "$NA" "$NS_WORK/a.conf" "$IA" "$MA_ADDR"
alameshd_start alameshd-b "$NB" "$NS_WORK/b.conf" "$IB" "$MB_ADDR"
for i in "$IA" "$IB"; do
	wait_for "[ \"\$(ep_of $i $MC_PUB)\" = '(none)' ]" 20 ||
		fail "$i has no peer carol without an endpoint: $(wg show "$i" endpoints)"
done
[ "$(hs_of "$IA" "$MC_PUB")" = 0 ] || fail "A has a handshake with carol before she runs"
pass "A and B know carol from the registry, with no endpoint to dial"

step "C (no Endpoint) starts: it dials A and B"
t0=$(date +%s.%N)
alameshd_start alameshd-c "$NC" "$NS_WORK/c.conf" "$IC" "$MC_ADDR"
wait_for "[ \"\$(hs_of $IA $MC_PUB)\" -gt 0 ] && [ \"\$(hs_of $IB $MC_PUB)\" -gt 0 ]" 30 ||
	fail "no session C - A and C - B: A: $(hs_of "$IA" "$MC_PUB"), B: $(hs_of "$IB" "$MC_PUB")"
up=$(python3 -c "import time; print('%.1f' % (time.time() - $t0))")
EP_CA=$(ep_of "$IA" "$MC_PUB") EP_CB=$(ep_of "$IB" "$MC_PUB")
info "A sees carol at $EP_CA, B sees her at $EP_CB; C sees alice at $(ep_of "$IC" "$MA_PUB")"
for e in "$EP_CA" "$EP_CB"; do
	case $e in
	"$N4":*) ;;
	"$C4":*) fail "carol's endpoint is her private address $e, not the NAT's" ;;
	*) fail "carol's endpoint is $e, want the NAT's public $N4" ;;
	esac
done
PORT_CA=${EP_CA##*:}
[ "$PORT_CA" != "${EP_CB##*:}" ] || fail "one NAT port for two flows: $EP_CA and $EP_CB"
ep_cli=$("$ALAMESH" show "$IA" endpoints | awk -v k="$MC_PUB" '$1 == k {print $2}')
[ "$ep_cli" = "$EP_CA" ] || fail "alamesh show endpoints says $ep_cli, wg show says $EP_CA"
[ "$(ep_of "$IC" "$MA_PUB")" = "$A4:51820" ] || fail "C's endpoint for alice: $(ep_of "$IC" "$MA_PUB")"
pass "C dialled A and B (sessions $up s after its start); both see her at the NAT's" \
	"$N4 (ports $PORT_CA and ${EP_CB##*:}), not at $C4"

step "A starts traffic towards the NATed member"
wait_for "[ \"\$(next_member $IA $MC_ADDR)\" = carol ] && [ \"\$(next_member $IB $MC_ADDR)\" = carol ]" 20 ||
	fail "no direct route to carol: A: $(route_of "$IA" "$MC_ADDR"), B: $(route_of "$IB" "$MC_ADDR")"
ping_until "$NA" "$MC_ADDR" 10 || fail "no ping A -> C"
ping_ok "$NA" "$MC_ADDR" 3 || fail "ping A -> C: $(tail -n 2 "$NS_WORK/ping.out")"
info "A -> C: $(tail -n 1 "$NS_WORK/ping.out")"
ping_ok "$NB" "$MC_ADDR" 3 || fail "ping B -> C: $(tail -n 2 "$NS_WORK/ping.out")"
ping_ok "$NC" "$MA_ADDR" 3 || fail "ping C -> A: $(tail -n 2 "$NS_WORK/ping.out")"
"$ALAMESH" show "$IA" members
pass "A and B route carol directly and ping her; she pings A"

# ct_line SPORT DST: N's conntrack entry of the UDP flow from C's port SPORT to DST.
ct_line() {
	nsx "$NN" cat "$CT" 2>/dev/null |
		awk -v s="src=$C4" -v d="dst=$2" -v p="sport=$1" '$3 == "udp" &&
			$6 == s && $7 == d && $8 == p'
}
# ct_port LINE: the NAT port of an entry (the reply direction's destination port).
ct_port() { printf '%s\n' "$1" | awk '{for (i = 9; i <= NF; i++) if ($i ~ /^dport=/) p = $i} END {sub("dport=", "", p); print p}'; }
if [ "$HAVE_CT" = 1 ]; then
	l=$(ct_line 51820 "$A4")
	[ -n "$l" ] || fail "no conntrack entry in N for carol -> alice"
	[ "$(ct_port "$l")" = "$PORT_CA" ] || fail "conntrack maps carol to $(ct_port "$l"), A sees $PORT_CA"
	info "N: $l"
fi

step "no user traffic for $IDLE s (the mapping lasts $UDP_TIMEOUT s idle); a control flow beside it"
cat >"$NS_WORK/ctl_a.py" <<'EOF'
# On A: waits for C's datagram, answers at once, and again after IDLE s;
# then prints where C's next datagram came from.
import socket, sys, time
bind, idle = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((bind, 40001))
print("ready", flush=True)
s.settimeout(20)
_, src1 = s.recvfrom(64)
print("first %s:%d" % src1, flush=True)
s.sendto(b"early", src1)
time.sleep(idle)
s.sendto(b"late", src1)
print("late sent", flush=True)
s.settimeout(20)
_, src2 = s.recvfrom(64)
print("second %s:%d" % src2, flush=True)
EOF
cat >"$NS_WORK/ctl_c.py" <<'EOF'
# On C: one datagram to A, then prints what comes back, at once and later.
import socket, sys
bind, dst, idle = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((bind, 40000))
s.sendto(b"probe1", (dst, 40001))
for wait in (5, idle + 4):
    s.settimeout(wait)
    try:
        print("got %s" % s.recv(64).decode(), flush=True)
    except socket.timeout:
        print("nothing", flush=True)
s.sendto(b"probe2", (dst, 40001))
print("sent probe2", flush=True)
EOF
ns_spawn ctl-a "$NA" python3 "$NS_WORK/ctl_a.py" "$A4" "$IDLE"
wait_for "grep -q ready ${PROC_LOG[ctl-a]}" 10 || fail "control listener on A"
hs_before=$(hs_of "$IA" "$MC_PUB")
idle_start=$SECONDS
ns_spawn ctl-c "$NC" python3 "$NS_WORK/ctl_c.py" "$C4" "$A4" "$IDLE"
wait_for "grep -q '^first' ${PROC_LOG[ctl-a]}" 10 || fail "control: A heard nothing from C"
wait_for "grep -q '^got early' ${PROC_LOG[ctl-c]}" 10 ||
	fail "control: C did not get A's immediate answer: $(cat "${PROC_LOG[ctl-c]}")"
# nft_count NAME: packets through N's counter NAME (c2a: C's daemon to A's, a2c: back).
nft_count() { nsx "$NN" nft list counter ip nat "$1" | awk '{for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1)}'; }
ctl_entry0=""
[ "$HAVE_CT" = 1 ] && ctl_entry0=$(ct_line 40000 "$A4")
samples=0 present=0 moved=0 min_left=999 ports=""
: >"$NS_WORK/counts"
while [ $((SECONDS - idle_start)) -lt "$IDLE" ]; do
	printf '%s %s %s\n' "$EPOCHREALTIME" "$(nft_count c2a)" "$(nft_count a2c)" >>"$NS_WORK/counts"
	sleep 1
	samples=$((samples + 1))
	[ "$(ep_of "$IA" "$MC_PUB")" = "$EP_CA" ] || moved=$((moved + 1))
	[ "$HAVE_CT" = 1 ] || continue
	l=$(ct_line 51820 "$A4")
	[ -n "$l" ] || continue
	present=$((present + 1))
	p=$(ct_port "$l") left=$(printf '%s\n' "$l" | awk '{print $5}')
	case " $ports " in *" $p "*) ;; *) ports="$ports $p" ;; esac
	[ "$left" -lt "$min_left" ] && min_left=$left
done
printf '%s %s %s\n' "$EPOCHREALTIME" "$(nft_count c2a)" "$(nft_count a2c)" >>"$NS_WORK/counts"
idle_secs=$((SECONDS - idle_start))
t1=$(date +%s.%N)
if ! nsx "$NA" ping -6 -c1 -W1 "$MC_ADDR" >"$NS_WORK/ping-idle.out" 2>&1; then
	fail "after $idle_secs s idle, A's ping to carol went unanswered within 1 s: $(cat "$NS_WORK/ping-idle.out")"
fi
took=$(python3 -c "import time; print('%.0f' % ((time.time() - $t1) * 1000))")
rtt=$(sed -n 's/.*time=\([0-9.]* ms\).*/\1/p' "$NS_WORK/ping-idle.out")
ep_after=$(ep_of "$IA" "$MC_PUB") hs_after=$(hs_of "$IA" "$MC_PUB")
info "after $idle_secs s: A's ping to carol answered in $rtt (the command took $took ms)"
info "A's endpoint for carol: $EP_CA before, $ep_after after ($moved of $samples samples differed);" \
	"$([ "$hs_after" = "$hs_before" ] && echo "the same session" || echo "a new handshake $(($(date +%s) - hs_after)) s ago")"
# From the counters sampled every second: datagrams C -> A and A -> C through
# N during the idle time, and the longest time C's daemon sent none to A.
read -r n_c2a n_a2c quiet < <(awk 'NR == 1 {last = $1; c = c0 = $2; a0 = $3; next}
	$2 != c {if ($1 - last > max) max = $1 - last; last = $1; c = $2}
	END {if ($1 - last > max) max = $1 - last; printf "%d %d %.1f\n", $2 - c0, $3 - a0, max}' "$NS_WORK/counts")
info "through N in that time: $n_c2a datagrams C -> A, $n_a2c A -> C; C's longest silence towards A ~$quiet s"
if [ "$HAVE_CT" = 1 ]; then
	info "N's entry for carol -> alice: in $present of $samples samples, NAT port(s)$ports," \
		"at least $min_left s of its $UDP_TIMEOUT s left"
else
	info "no $CT in N: the conntrack sub-check is skipped"
fi
if [ "$ep_after" != "$EP_CA" ] || [ "$moved" != 0 ]; then
	fail "carol's endpoint on A moved during the idle time ($EP_CA -> $ep_after): the mapping was lost and made anew"
fi
[ "$(next_member "$IA" "$MC_ADDR")" = carol ] || fail "A no longer routes carol directly: $(route_of "$IA" "$MC_ADDR")"
awk -v q="$quiet" -v t="$UDP_TIMEOUT" 'BEGIN {exit !(q < t)}' ||
	fail "C's daemon sent nothing to A for $quiet s, longer than the NAT's $UDP_TIMEOUT s"
if [ "$HAVE_CT" = 1 ]; then
	[ "$present" = "$samples" ] || fail "N's conntrack entry for carol -> alice was missing in $((samples - present)) of $samples samples"
	[ "$ports" = " $PORT_CA" ] || fail "N mapped carol -> alice to port(s)$ports, first $PORT_CA"
fi
pass "no traffic but the daemons' own for $idle_secs s ($((idle_secs / UDP_TIMEOUT))x the NAT's timeout):" \
	"the mapping stayed (NAT port $PORT_CA throughout) and A reached carol at once"

step "the control: the flow nothing kept alive"
proc_wait ctl-c 30 || fail "control on C did not finish"
proc_wait ctl-a 30 || fail "control on A did not finish: $(cat "${PROC_LOG[ctl-a]}")"
[ "$PROC_RC" = 0 ] || fail "control on A: $(cat "${PROC_LOG[ctl-a]}")"
sed 's/^/    A: /' "${PROC_LOG[ctl-a]}"
sed 's/^/    C: /' "${PROC_LOG[ctl-c]}"
first=$(awk '$1 == "first" {print $2}' "${PROC_LOG[ctl-a]}")
second=$(awk '$1 == "second" {print $2}' "${PROC_LOG[ctl-a]}")
case $first in "$N4":*) ;; *) fail "control: A saw C's datagram from $first, not the NAT's $N4" ;; esac
[ "$(sed -n 2p "${PROC_LOG[ctl-c]}")" = nothing ] ||
	fail "control: A's answer after $IDLE s idle reached C: the NAT kept an idle mapping"
[ "$first" != "$second" ] ||
	fail "control: C's datagram after the idle time left through the same mapping $first"
if [ "$HAVE_CT" = 1 ]; then
	[ -n "$ctl_entry0" ] || fail "control: no conntrack entry in N for C:40000 -> A at the start"
	after=$(ct_line 40000 "$A4")
	[ "$(ct_port "$after")" != "${first##*:}" ] ||
		fail "control: N still has the idle mapping ${first##*:}: $after"
fi
pass "control: an idle flow's answer after $IDLE s is dropped; its mapping $first expired," \
	"C's next datagram left as $second"

for n in a b c; do
	proc_alive "alameshd-$n" || fail "alameshd-$n died"
done
pass "a member behind NAT dials out, and its hellos keep the mapping open"
