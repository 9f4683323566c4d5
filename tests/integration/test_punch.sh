#!/usr/bin/env bash
# Members behind NATs go direct (alamesh-protocol(7), Direct paths). alice
# and bob are public, on two subnets routed by "the internet" (I); carol sits
# behind router N1, dave behind N2, each masquerading; erin shares carol's
# LAN behind N1:
#
#   A 10.9.0.1 --+                   +-- 192.168.77.2 C
#   B 10.8.0.1 --+-- I -- 10.7.0.1 N1 (bridge 192.168.77.1)
#                |                   +-- 192.168.77.3 E
#                +------- 10.6.0.1 N2 192.168.78.1 -- D 192.168.78.2
#
# carol, dave and erin have no Endpoint: they dial alice and bob, and their
# sessions with each other start relayed by them. This checks that:
#   - carol and dave, pinging, are direct within seconds: carol's members
#     view shows dave "direct" at N2's public address; an iperf3 transfer
#     between them crosses N1 towards N2 (N1's counter) while the relays'
#     share of it falls to about zero;
#   - with N1 dropping what goes between it and N2 in the middle of an iperf3 transfer,
#     they are back on a relay within 10 s, and the transfer goes on;
#   - unblocked, they are direct again (tried about every 60 s);
#   - with N1 dropping only what goes towards N2, both are back on a relay
#     within 10 s (each end's probes say whether it hears the other);
#   - carol and erin, behind one NAT, meet on their LAN;
#   - with N2 mapping each destination apart (random-fully), dave says
#     symmetric, and carol and dave stay relayed, and work.
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

need_root
need_tool ip wg ping python3 git nft iperf3
need_alamesh
[ -x "$ALAMESH" ] || fail "alamesh not built: $ALAMESH (make)"
export ALAMESH_COLOR_MODE=never

setsid bash -c "sleep 280 && echo 'watchdog: test took too long' >&2 && kill -TERM $$" &
PROC_PID[watchdog]=$!

NI=$NS_PREFIX-inet NA=$NS_PREFIX-a NB=$NS_PREFIX-b NN1=$NS_PREFIX-n1 NN2=$NS_PREFIX-n2
NC=$NS_PREFIX-c ND=$NS_PREFIX-d NE=$NS_PREFIX-e
for ns in "$NI" "$NA" "$NB" "$NN1" "$NN2" "$NC" "$ND" "$NE"; do ns_add "$ns"; done
A4=10.9.0.1 B4=10.8.0.1 N14=10.7.0.1 N24=10.6.0.1

step "the underlay: A and B public, C and E behind N1, D behind N2"
must "I forwards IPv4" nsx "$NI" sysctl -qw net.ipv4.ip_forward=1
uplink "$NI" "$NA" wa 10.9.0 >/dev/null
uplink "$NI" "$NB" wb 10.8.0 >/dev/null
W1=$(uplink "$NI" "$NN1" w1 10.7.0) && W2=$(uplink "$NI" "$NN2" w2 10.6.0) || exit 1
# N1's LAN is a bridge with carol and erin on it.
BR=$(ifname br) || exit 1
must "bridge" ip -n "$NN1" link add "$BR" type bridge
must "bridge addr" ip -n "$NN1" addr add 192.168.77.1/24 dev "$BR"
must "bridge up" ip -n "$NN1" link set "$BR" up
for h in "$NC":2:lc "$NE":3:le; do
	ns=${h%%:*} rest=${h#*:} && n=${rest%%:*} && suf=${rest#*:}
	v=$(ifname "$suf") && p=$(ifname "${suf}p") || exit 1
	ip link add "$v" netns "$ns" type veth peer name "$p" netns "$NN1" || fail "veth $v"
	must "LAN addr" ip -n "$ns" addr add "192.168.77.$n/24" dev "$v"
	must "LAN up" ip -n "$ns" link set "$v" up
	must "port up" ip -n "$NN1" link set "$p" master "$BR" up
	must "default route" ip -n "$ns" route add default via 192.168.77.1
done
must "N1 forwards" nsx "$NN1" sysctl -qw net.ipv4.ip_forward=1
nat_lan "$NN2" "$ND" 192.168.78.1 192.168.78.2
L2=$NLAN
nat_router "$NN1" "$BR" "$W1" "" "$N24"
nat_router "$NN2" "$L2" "$W2" "" "$N14"
for h in "$NC" "$NE" "$ND"; do
	wait_for "ip netns exec $h ping -c1 -W1 $A4" 10 || fail "underlay $h -> A"
done
[ -n "$(to_other "$NN1")" ] || fail "no counter on N1"
pass "A and B public; C and E behind N1 ($N14), D behind N2 ($N24)"

step "alice and bob with endpoints; carol, dave and erin without"
for v in MA MB MC MD ME; do new_node "$v"; done
IA=$(ifname ma) IB=$(ifname mb) IC=$(ifname mc) ID=$(ifname md) IE=$(ifname me)
registry_init
registry_member alice "$MA_PUB" "$A4:51820"
registry_member bob "$MB_PUB" "$B4:51820"
registry_member carol "$MC_PUB"
registry_member dave "$MD_PUB"
registry_member erin "$ME_PUB"
registry_publish "two public members, three behind NATs"
registry_conf a "$IA" "$MA_PRIV" 51820
registry_conf b "$IB" "$MB_PRIV" 51820
registry_conf c "$IC" "$MC_PRIV" 51820
registry_conf d "$ID" "$MD_PRIV" 51820
registry_conf e "$IE" "$ME_PRIV" 51820
alameshd_start alameshd-a "$NA" "$NS_WORK/a.conf" "$IA" "$MA_ADDR"
alameshd_start alameshd-b "$NB" "$NS_WORK/b.conf" "$IB" "$MB_ADDR"
alameshd_start alameshd-c "$NC" "$NS_WORK/c.conf" "$IC" "$MC_ADDR"
alameshd_start alameshd-d "$ND" "$NS_WORK/d.conf" "$ID" "$MD_ADDR"
alameshd_start alameshd-e "$NE" "$NS_WORK/e.conf" "$IE" "$ME_ADDR"
for i in "$IC" "$ID"; do
	wait_for "[ \"\$(nat_of $i nat)\" = cone ]" 30 ||
		fail "$i: NAT not seen as cone: $("$ALAMESH" show "$i" nat 2>&1)"
done
pass "carol and dave each see a cone NAT: $(nat_of "$IC" endpoint), $(nat_of "$ID" endpoint)"

relayed() { # the messages alice and bob passed on, together
	local a b
	a=$("$ALAMESH" show "$IA" stats | awk -F': ' '$1 == "relayed" {print $2}')
	b=$("$ALAMESH" show "$IB" stats | awk -F': ' '$1 == "relayed" {print $2}')
	echo $((a + b))
}

step "carol pings dave: relayed first, then direct"
ping_until "$NC" "$MD_ADDR" 40 || fail "no ping carol -> dave: $("$ALAMESH" show "$IC" members)"
info "carol -> dave, first: $(path_of "$IC" dave)"
ns_spawn pinger "$NC" ping -6 -i 0.2 "$MD_ADDR"
t0=$SECONDS
wait_for "path_of $IC dave | grep -q '^direct $N24:'" 30 ||
	fail "carol -> dave not direct: $(path_of "$IC" dave); N1: $(nsx "$NN1" nft list ruleset); N2: $(nsx "$NN2" nft list ruleset); $(nsx "$NN1" cat /proc/net/nf_conntrack 2>/dev/null | head; nsx "$NN1" conntrack -L 2>&1 | head)"
info "direct after $((SECONDS - t0)) s: $(path_of "$IC" dave); dave: $(path_of "$ID" carol)"
wait_for "path_of $ID carol | grep -q '^direct $N14:'" 10 || fail "dave -> carol: $(path_of "$ID" carol)"
proc_stop pinger
iperf_server iperf "$ND"
n0=$(to_other "$NN1") || fail "N1's counter"
r0=$(relayed)
gbps=$(iperf_gbps "$NC" "$MD_ADDR" 3) || fail "iperf3 carol -> dave"
n1=$(to_other "$NN1") || fail "N1's counter"
r1=$(relayed)
info "iperf3 carol -> dave: $gbps Gbit/s; N1 -> N2: $((n1 - n0)) packets; relayed by alice and bob: $((r1 - r0))"
[ $((n1 - n0)) -gt 10000 ] || fail "only $((n1 - n0)) packets crossed N1 towards N2"
[ $((r1 - r0)) -lt $(((n1 - n0) / 100)) ] || fail "the relays passed on $((r1 - r0)) messages"
pass "carol and dave direct: $((n1 - n0)) packets NAT to NAT, $((r1 - r0)) relayed"

step "N1 drops what goes between it and N2 during a transfer: back on a relay within 10 s"
touch "$NS_WORK/blocked"
nsx "$NC" timeout 40 iperf3 -J -c "$MD_ADDR" -t 15 --connect-timeout 5000 >"$NS_WORK/iperf-block.json" 2>&1 &
ipid=$!
sleep 3
r0=$(relayed)
for dir in daddr saddr; do
	nsx "$NN1" nft insert rule ip nat forward ip "$dir" "$N24" drop || fail "blocking N1 <-> N2"
done
t0=$SECONDS
wait_for "[ \$((\$(relayed) - $r0)) -gt 1000 ]" 10 ||
	fail "not back on a relay 10 s after the block: $(path_of "$IC" dave), relayed $(($(relayed) - r0)); $("$ALAMESH" show "$IC" routes); $(wg show "$IC")"
back=$((SECONDS - t0))
info "back on a relay after $back s: $(path_of "$IC" dave)"
wait "$ipid" || fail "iperf3 did not survive the block: $(grep -m1 error "$NS_WORK/iperf-block.json")"
python3 - "$NS_WORK/iperf-block.json" <<'EOF' || fail "iperf3 during the block"
import json, sys
r = json.load(open(sys.argv[1]))
if r["end"]["sum_received"]["bytes"] <= 0:
    sys.exit("moved nothing")
EOF
pass "back on the relay $back s after the block, and the transfer went on"

step "unblocked: direct again"
nsx "$NN1" nft flush chain ip nat forward || fail "unblocking"
nat_router "$NN1" "$BR" "$W1" "" "$N24"
ns_spawn pinger "$NC" ping -6 -i 0.2 "$MD_ADDR"
t0=$SECONDS
wait_for "path_of $IC dave | grep -q '^direct $N24:'" 80 ||
	fail "carol -> dave not direct again: $(path_of "$IC" dave)"
info "direct again after $((SECONDS - t0)) s"
proc_stop pinger
pass "direct again"

step "one way only: N1 drops what goes to N2, not what comes back"
# dave's datagrams still reach carol; carol's probes tell dave nothing
# comes, and dave's tell carol the same: both ends go back to a relay.
ns_spawn pinger "$NC" ping -6 -i 0.2 "$MD_ADDR"
wait_for "path_of $IC dave | grep -q '^direct $N24:'" 10 || fail "not direct before the one-way block"
r0=$(relayed)
nsx "$NN1" nft insert rule ip nat forward ip daddr "$N24" drop || fail "blocking N1 -> N2"
t0=$SECONDS
wait_for "[ \$((\$(relayed) - $r0)) -gt 20 ]" 10 ||
	fail "not back on a relay 10 s after a one-way block: $(path_of "$IC" dave), relayed $(($(relayed) - r0)); $("$ALAMESH" show "$IC" routes); $("$ALAMESH" show "$ID" routes)"
info "back on a relay after $((SECONDS - t0)) s: carol $(path_of "$IC" dave), dave $(path_of "$ID" carol)"
proc_stop pinger
ping_ok "$NC" "$MD_ADDR" 3 || fail "ping carol -> dave during the one-way block"
nat_router "$NN1" "$BR" "$W1" "" "$N24"
pass "a path that works one way only is no path: relayed again, pings go on"

step "carol and erin, behind one NAT, meet on their LAN"
ns_spawn pinger "$NC" ping -6 -i 0.2 "$ME_ADDR"
wait_for "path_of $IC erin | grep -q '^direct 192.168.77.3:51820'" 40 ||
	fail "carol -> erin: $(path_of "$IC" erin)"
proc_stop pinger
ping_ok "$NC" "$ME_ADDR" 2 || fail "ping carol -> erin"
pass "carol reaches erin at 192.168.77.3:51820"

step "N2 maps each destination apart: dave symmetric, carol and dave stay relayed"
proc_stop alameshd-d
nat_router "$NN2" "$L2" "$W2" fully-random "$N14"
registry_conf d "$ID" "$MD_PRIV" 51821
alameshd_start alameshd-d "$ND" "$NS_WORK/d.conf" "$ID" "$MD_ADDR"
wait_for "[ \"\$(nat_of $ID nat)\" = symmetric ]" 30 ||
	fail "dave's NAT not seen as symmetric: $("$ALAMESH" show "$ID" nat 2>&1)"
ping_until "$NC" "$MD_ADDR" 40 || fail "no ping carol -> dave behind a symmetric NAT"
ns_spawn pinger "$NC" ping -6 -i 0.2 "$MD_ADDR"
sleep 12
p=$(path_of "$IC" dave)
proc_stop pinger
case $p in via\ *) ;; *) fail "carol -> dave behind a symmetric NAT: $p" ;; esac
ping_ok "$NC" "$MD_ADDR" 3 || fail "ping carol -> dave, relayed"
pass "dave symmetric: carol reaches him $p"

for n in a b c d e; do
	proc_alive "alameshd-$n" || fail "alameshd-$n died"
done
pass "members behind NATs go direct, fall back to a relay and come back"
