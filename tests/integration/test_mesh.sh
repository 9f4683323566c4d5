#!/usr/bin/env bash
# Routing between members, with the registry over real git (served by git
# daemon to A and C, read over file:// by B and D) and no static peers:
#   a line A - B - C where A and C cannot reach each other's underlay: ping
#   and iperf3 from A to C through B, traceroute6 names B, and
#   alamesh show routes says so;
#   a square A - B - C - D - A: the link A uses towards C is cut (silently:
#   the veth goes down), traffic moves to the other way round, and the time
#   it took is printed;
#   a member whose phone runs stock WireGuard (wireguard-go, AllowedIPs
#   fc00::/7 towards bob, Via = bob in its member file) is announced by bob:
#   A and C reach it through B; with Via = alice instead, bob withdraws it
#   and carries none of its packets on, and with Via = bob again he does;
#   a member that announces an address that is not its own (a crafted frame
#   from wgprobe, under a registry key) is ignored, and so is a key that is
#   no member; the same frames from a static peer that is no member are
#   dropped unread and counted (alamesh show IFACE stats);
#   a member removed from the registry disappears from every route table;
#   a member whose daemon stops is unreachable at once: A's ping to it gets
#   ICMPv6 Destination Unreachable rather than waiting on a dead session.
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

need_root
need_tool ip wg ping python3 git ss iperf3 traceroute6 cc
need_alamesh
[ -x "$ALAMESH" ] || fail "alamesh not built: $ALAMESH"
export ALAMESH_COLOR_MODE=never

NA=$NS_PREFIX-a NB=$NS_PREFIX-b NC=$NS_PREFIX-c ND=$NS_PREFIX-d NP=$NS_PREFIX-p
for ns in "$NA" "$NB" "$NC" "$ND" "$NP"; do ns_add "$ns"; done
# link N X Y: a veth between X (10.N.0.1) and Y (10.N.0.2); its ends are vNx, vNy.
link() {
	local n=$1 x=$2 y=$3 vx vy
	vx=$(ifname "v${n}x") && vy=$(ifname "v${n}y") || exit 1
	ip link add "$vx" netns "$x" type veth peer name "$vy" netns "$y" || fail "veth $n"
	must "addr" ip -n "$x" addr add "10.$n.0.1/24" dev "$vx"
	must "addr" ip -n "$y" addr add "10.$n.0.2/24" dev "$vy"
	must "up" ip -n "$x" link set "$vx" up
	must "up" ip -n "$y" link set "$vy" up
	wait_for "ip netns exec $x ping -c1 -W1 10.$n.0.2" 10 || fail "underlay 10.$n.0.0/24"
}
link 1 "$NA" "$NB" # A 10.1.0.1 - B 10.1.0.2
link 2 "$NB" "$NC" # B 10.2.0.1 - C 10.2.0.2
link 3 "$NC" "$ND" # C 10.3.0.1 - D 10.3.0.2, down until the square
link 4 "$ND" "$NA" # D 10.4.0.1 - A 10.4.0.2, down until the square
link 5 "$NB" "$NP" # B 10.5.0.1 - the phone 10.5.0.2
V3=$(ifname v3x) V4=$(ifname v4y)
must "cut C-D" ip -n "$NC" link set "$V3" down
must "cut D-A" ip -n "$NA" link set "$V4" down
if nsx "$NA" ping -c1 -W1 10.2.0.2 >/dev/null 2>&1; then fail "A reaches C's underlay"; fi
pass "underlay: a line A - B - C; A cannot reach C's underlay (B does not forward IP)"

for v in MA MB MC MD MM MP; do new_node "$v"; done
IA=$(ifname ma) IB=$(ifname mb) IC=$(ifname mc) ID=$(ifname md)

step "the registry: alice, bob, carol, dave, mallory, and a phone"
registry_init
registry_member alice "$MA_PUB" 10.1.0.1:51820 10.4.0.2:51820
registry_member bob "$MB_PUB" 10.1.0.2:51820 10.2.0.1:51820
registry_member carol "$MC_PUB" 10.2.0.2:51820 10.3.0.1:51820
registry_member dave "$MD_PUB" 10.3.0.2:51820 10.4.0.1:51820
registry_member mallory "$MM_PUB" # behind NAT: dials in
registry_member phone "$MP_PUB"    # a stock WireGuard app, dials bob
echo "Via = bob" >>"$SRC/members/phone.conf"
registry_publish "six members"
touch "$REG/git-daemon-export-ok"
ns_spawn gitd "$NB" git daemon --reuseaddr --base-path="$NS_WORK" --export-all \
	--listen=10.1.0.2 --listen=10.2.0.1 --port=9418 "$NS_WORK"
wait_for "ip netns exec $NB ss -Hltn 'sport = :9418' | grep -q LISTEN" 10 || fail "git daemon"

conf() { # FILE IFNAME PRIV URL CACHE
	alameshd_conf "$1" "$2" "$3" 51820
	registry_section "$1" "$4" "$5"
}
conf "$NS_WORK/a.conf" "$IA" "$MA_PRIV" git://10.1.0.2:9418/registry.git "$NS_WORK/cache-a"
conf "$NS_WORK/b.conf" "$IB" "$MB_PRIV" "file://$REG" "$NS_WORK/cache-b"
conf "$NS_WORK/c.conf" "$IC" "$MC_PRIV" git://10.2.0.1:9418/registry.git "$NS_WORK/cache-c"
conf "$NS_WORK/d.conf" "$ID" "$MD_PRIV" "file://$REG" "$NS_WORK/cache-d"
alameshd_start alameshd-a "$NA" "$NS_WORK/a.conf" "$IA" "$MA_ADDR"
alameshd_start alameshd-b "$NB" "$NS_WORK/b.conf" "$IB" "$MB_ADDR"
alameshd_start alameshd-c "$NC" "$NS_WORK/c.conf" "$IC" "$MC_ADDR"
alameshd_start alameshd-d "$ND" "$NS_WORK/d.conf" "$ID" "$MD_ADDR"

# route_of IFACE ADDR: the routes dump line for ADDR (destination member next-hop ...).
route_of() { "$ALAMESH" show "$1" routes dump | awk -F'\t' -v a="$2" '$1 == a'; }
next_member() { route_of "$1" "$2" | cut -f4; }
stat_of() { "$ALAMESH" show "$1" stats | awk -F': ' -v k="$2" '$1 == k {print $2}'; }

step "the line: A reaches C through B"
t0=$SECONDS
wait_for "[ \"\$(next_member $IA $MC_ADDR)\" = bob ]" 40 ||
	fail "A has no route to carol through bob: $("$ALAMESH" show "$IA" routes)"
ping_until "$NA" "$MC_ADDR" 15 || fail "no ping A -> C"
path_of() { "$ALAMESH" show "$1" members | awk -F'\t' -v m="$2" '$1 == m {print $6}'; }
[ "$(path_of "$IA" carol)" = "via bob" ] || fail "A's members: carol's path is '$(path_of "$IA" carol)', not via bob"
[ "$(path_of "$IA" bob)" = "direct 10.1.0.2:51820" ] || fail "A's members: bob's path is '$(path_of "$IA" bob)'"
pass "A routes carol through bob ($((SECONDS - t0)) s after start), show members says so; ping A -> C"
ping_ok "$NC" "$MA_ADDR" 3 || fail "ping C -> A"
"$ALAMESH" show "$IA" routes | tee "$NS_WORK/routes-a"
grep -q "^$MC_ADDR  *carol  *bob  " "$NS_WORK/routes-a" || fail "show routes on A: carol via bob"
grep -q "^$MA_ADDR  *alice  *(self)  *0 " "$NS_WORK/routes-a" || fail "show routes on A: alice herself"
tr=$(nsx "$NA" timeout 30 traceroute6 -n -q 1 -w 2 -m 5 "$MC_ADDR" 2>&1) || fail "traceroute6: $tr"
printf '%s\n' "$tr"
hop1=$(printf '%s\n' "$tr" | awk '$1 == 1 {print $2}')
hop2=$(printf '%s\n' "$tr" | awk '$1 == 2 {print $2}')
[ "$hop1" = "$MB_ADDR" ] || fail "traceroute6 first hop $hop1, want bob $MB_ADDR"
[ "$hop2" = "$MC_ADDR" ] || fail "traceroute6 second hop $hop2, want carol $MC_ADDR"
# With the members' names in A's hosts file (ip netns exec mounts
# /etc/netns/NS/hosts over /etc/hosts), traceroute6 names them.
mkdir -p "/etc/netns/$NA" && printf '%s bob\n%s carol\n' "$MB_ADDR" "$MC_ADDR" >"/etc/netns/$NA/hosts"
tr=$(nsx "$NA" timeout 30 traceroute6 -q 1 -w 2 -m 5 "$MC_ADDR" 2>&1) || fail "traceroute6: $tr"
printf '%s\n' "$tr"
[ "$(printf '%s\n' "$tr" | awk '$1 == 1 {print $2 " " $3}')" = "bob ($MB_ADDR)" ] ||
	fail "traceroute6 does not name bob as the first hop: $tr"
pass "traceroute6 A -> C: bob, then carol"
iperf_server iperf-c "$NC"
gbps=$(iperf_gbps "$NA" "$MC_ADDR" 3) || fail "iperf3 A -> C through B"
pass "iperf3 A -> C through B: $gbps Gbit/s"
proc_stop iperf-c TERM 5

step "a phone with stock WireGuard connects to bob; the mesh reaches it through him"
IP=$(ifname wp)
wggo_start phone "$NP" "$IP" "$MP_KEYFILE" 51820 "$MP_ADDR"
wggo_peer "$NP" "$IP" "$MB_PUB" fc00::/7 10.5.0.1:51820 25
wait_for "grep -q 'peer $MP_PUB speaks no routing' ${PROC_LOG[alameshd-b]}" 20 ||
	fail "bob did not take the phone for stock WireGuard"
[ "$(route_of "$IB" "$MP_ADDR" | cut -f3)" = direct ] || fail "bob: $(route_of "$IB" "$MP_ADDR")"
for i in "$IA" "$IC"; do
	wait_for "[ \"\$(next_member $i $MP_ADDR)\" = bob ]" 20 ||
		fail "$i has no route to the phone through bob: $(route_of "$i" "$MP_ADDR")"
done
ping_until "$NC" "$MP_ADDR" 15 || fail "no ping C -> the phone"
ping_ok "$NA" "$MP_ADDR" 3 || fail "ping A -> the phone"
ping_ok "$NP" "$MC_ADDR" 3 || fail "ping the phone -> C"
pass "bob announces the phone; A and C reach it through him, and it reaches C"

step "the phone's member file names alice in Via, not bob: bob no longer carries it"
sed -i 's/^Via = bob$/Via = alice/' "$SRC/members/phone.conf"
registry_publish "the phone goes through alice"
for i in "$IA" "$IB" "$IC" "$ID"; do
	"$ALAMESH" sync "$i" >/dev/null || fail "alamesh sync $i"
done
for i in "$IA" "$IC"; do
	wait_for "[ -z \"\$(route_of $i $MP_ADDR)\" ]" 15 ||
		fail "$i still routes the phone: $(route_of "$i" "$MP_ADDR")"
done
if nsx "$NP" ping -6 -c 2 -W 1 "$MC_ADDR" >/dev/null 2>&1; then
	fail "bob still carries the phone's packets to C"
fi
ping_ok "$NP" "$MB_ADDR" 2 || fail "the phone no longer reaches bob himself"
sed -i 's/^Via = alice$/Via = bob/' "$SRC/members/phone.conf"
registry_publish "the phone goes through bob again"
for i in "$IA" "$IB" "$IC" "$ID"; do
	"$ALAMESH" sync "$i" >/dev/null || fail "alamesh sync $i"
done
wait_for "[ \"\$(next_member $IC $MP_ADDR)\" = bob ]" 20 ||
	fail "C has no route to the phone through bob again: $(route_of "$IC" "$MP_ADDR")"
ping_until "$NP" "$MC_ADDR" 15 || fail "no ping the phone -> C with Via = bob again"
pass "Via decides: bob withdrew the phone (no route to it at A or C, its pings to C unanswered), and carries it again"

step "a member announces an address that is not its own"
python3 - "$MM_PUB" "$MA_PUB" "$NS_WORK/bogus" <<'EOF'
import base64, hashlib, os, sys
def addr(key):
    return b"\xfc" + hashlib.blake2s(b"alamesh address" + key).digest()[:15]
mallory, alice = (base64.b64decode(k) for k in sys.argv[1:3])
stranger = os.urandom(32)
hello = bytes([1, 14]) + (1).to_bytes(2, "big") + (200).to_bytes(2, "big") + bytes(2) + \
    (1).to_bytes(4, "big") + (7).to_bytes(4, "big")
ihu = bytes([2, 12]) + (256).to_bytes(2, "big") + (200).to_bytes(2, "big") + bytes(8)
def update(address, key, seqno):
    return bytes([3, 58, 0, 0]) + (3000).to_bytes(2, "big") + seqno.to_bytes(2, "big") + \
        (0).to_bytes(4, "big") + address + key
body = hello + ihu + update(addr(alice), mallory, 40000) + update(addr(stranger), stranger, 1)
open(sys.argv[3], "wb").write(bytes([0xa1, 0, len(body) >> 8, len(body) & 255]) + body)
open(sys.argv[3] + ".addr", "w").write(__import__("ipaddress").IPv6Address(addr(stranger)).compressed)
EOF
STRANGER=$(cat "$NS_WORK/bogus.addr")
top=$(cd "$(dirname "$0")/../.." && pwd)
cc -std=c17 -D_GNU_SOURCE -O1 -I"$top" -o "$NS_WORK/wgprobe" "$top/tests/interop/wgprobe.c" \
	"$top"/wgproto/*.c $(pkg-config --cflags --libs libsodium libb2) || fail "building wgprobe"
# mallory dials bob from A's namespace, as a member behind NAT would.
must "mallory's frames" nsx "$NA" timeout 30 "$NS_WORK/wgprobe" -k "$MM_KEYFILE" -p "$MB_PUB" \
	-e 10.1.0.2:51820 -s "$NS_WORK/bogus" -n 3
wait_for "grep -q 'announced $MA_ADDR for key $MM_PUB, whose address it is not: ignored' ${PROC_LOG[alameshd-b]}" 10 ||
	fail "bob does not report mallory's claim on alice's address"
sleep 3
for i in "$IA" "$IB" "$IC"; do
	[ -z "$(route_of "$i" "$STRANGER")" ] || fail "$i routes the stranger's address $STRANGER"
done
[ "$(next_member "$IB" "$MA_ADDR")" = alice ] || fail "bob's route to alice moved: $(route_of "$IB" "$MA_ADDR")"
ping_ok "$NC" "$MA_ADDR" 3 || fail "ping C -> A after mallory's frames"
pass "mallory's claim on alice's address and a stranger's key: ignored everywhere, logged by bob"

step "a static peer that is no member sends bob the same frames"
# Oscar is configured on bob (wg set) but the registry does not list him:
# his frames are dropped before they are queued, he becomes no neighbour,
# so no router that could relay others' packets.
new_node MO
outsider0=$(stat_of "$IB" routing_from_outsider)
[ -n "$outsider0" ] || fail "alamesh show $IB stats: $("$ALAMESH" show "$IB" stats 2>&1)"
must "wg set oscar on bob" nsx "$NB" wg set "$IB" peer "$MO_PUB"
must "oscar's frames" nsx "$NA" timeout 30 "$NS_WORK/wgprobe" -k "$MO_KEYFILE" -p "$MB_PUB" \
	-e 10.1.0.2:51820 -s "$NS_WORK/bogus" -n 3
wait_for "[ \$((\$(stat_of $IB routing_from_outsider) - $outsider0)) -ge 3 ]" 10 ||
	fail "bob counted $(($(stat_of "$IB" routing_from_outsider) - outsider0)) frames from oscar, not 3"
wait_for "grep -q 'peer $MO_PUB is no registry member: no routing with it' ${PROC_LOG[alameshd-b]}" 10 ||
	fail "bob did not take oscar for an outsider"
"$ALAMESH" show "$IB" routes dump | awk -F'\t' -v k="$MO_PUB" '$3 == k' | grep -q . &&
	fail "bob routes through oscar: $("$ALAMESH" show "$IB" routes dump)"
must "wg set oscar away" nsx "$NB" wg set "$IB" peer "$MO_PUB" remove
ping_ok "$NC" "$MA_ADDR" 3 || fail "ping C -> A after oscar's frames"
pass "oscar's frames: dropped and counted by bob, and he is no neighbour"

step "the square: C - D - A come up; the link A uses towards C is cut"
must "C-D up" ip -n "$NC" link set "$V3" up
must "D-A up" ip -n "$NA" link set "$V4" up
wait_for "[ \"\$(next_member $IA $MD_ADDR)\" = dave ] && [ \"\$(next_member $IC $MD_ADDR)\" = dave ]" 60 ||
	fail "dave not reached directly: $("$ALAMESH" show "$IA" routes)"
via=$(next_member "$IA" "$MC_ADDR")
case $via in
bob) cut_ns=$NA cut_if=$(ifname v1x) other=dave ;;
dave) cut_ns=$NA cut_if=$V4 other=bob ;;
*) fail "A routes carol through '$via'" ;;
esac
info "A reaches carol through $via; cutting that link"
ns_spawn pinger "$NA" ping -6 -i 0.1 -W 1 "$MC_ADDR"
sleep 2
cut_at=$(date +%s.%N)
must "cut" ip -n "$cut_ns" link set "$cut_if" down
wait_for "[ \"\$(next_member $IA $MC_ADDR)\" = $other ]" 30 ||
	fail "A did not move to $other: $(route_of "$IA" "$MC_ADDR")"
moved_at=$(date +%s.%N)
wait_for "ip netns exec $NA ping -6 -c1 -W1 $MC_ADDR" 10 ||
	fail "no ping A -> C after the move"
sleep 1
proc_stop pinger INT 5
lost=$(python3 - "${PROC_LOG[pinger]}" <<'EOF'
import re, sys
seqs = [int(m) for m in re.findall(r"icmp_seq=(\d+)", open(sys.argv[1]).read())]
gaps = [b - a for a, b in zip(seqs, seqs[1:])]
print(max(gaps) - 1 if gaps else -1)
EOF
)
took=$(python3 -c "print('%.1f' % ($moved_at - $cut_at))")
pass "the route moved to $other ${took} s after the cut; the ping lost $lost packets of 0.1 s in between"
must "mend" ip -n "$cut_ns" link set "$cut_if" up # A's git daemon is behind it

step "carol leaves the registry"
git -C "$SRC" rm -q "members/carol.conf" && registry_publish "carol leaves"
for i in "$IA" "$IB" "$ID"; do
	"$ALAMESH" sync "$i" >/dev/null || fail "alamesh sync $i"
done
for i in "$IA" "$IB" "$ID"; do
	wait_for "[ -z \"\$(route_of $i $MC_ADDR)\" ]" 10 ||
		fail "$i still routes carol: $(route_of "$i" "$MC_ADDR")"
done
if nsx "$NA" ping -6 -c 2 -W 1 "$MC_ADDR" >/dev/null 2>&1; then fail "A still reaches carol"; fi
pass "carol is gone from every route table, and unreachable"
for n in a b c d; do
	proc_alive "alameshd-$n" || fail "alameshd-$n died"
done

step "dave's daemon stops: a member still in the registry, unreachable"
proc_stop alameshd-d TERM 5
for i in "$IA" "$IB"; do
	wait_for "[ -z \"\$(route_of $i $MD_ADDR)\" ]" 30 ||
		fail "$i still routes dave: $(route_of "$i" "$MD_ADDR")"
done
# The sessions to dave outlive it by minutes; its packets must not wait on them.
t0=$(date +%s.%N)
out=$(nsx "$NA" ping -6 -c 1 -W 5 "$MD_ADDR" 2>&1) && fail "A still reaches dave: $out"
took=$(python3 -c "print('%.2f' % ($(date +%s.%N) - $t0))")
grep -q "Destination unreachable" <<<"$out" ||
	fail "no ICMPv6 Destination Unreachable for dave: $out"
pass "A's ping to dave fails with Destination Unreachable, after ${took} s"
for n in a b; do
	proc_alive "alameshd-$n" || fail "alameshd-$n died"
done
pass "routing between members, over the registry"
