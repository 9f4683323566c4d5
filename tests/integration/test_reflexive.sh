#!/usr/bin/env bash
# A node learns its public endpoint from its neighbours (alamesh-protocol(7),
# NAT): each tells it, in a Seen record with its hellos, where its datagrams
# come from. alice and bob are public, on two subnets routed by "the
# internet" (I); carol sits behind a router N that masquerades:
#
#   A 10.9.0.1 --+
#   B 10.8.0.1 --+-- I (routes) -- 10.7.0.1 N 192.168.77.1 -- C 192.168.77.2
#                                  (masquerade)
#
#   - with N mapping carol to one port whoever she talks to (masquerade that
#     keeps her port), `alamesh show IFACE nat` on carol says cone, at N's
#     public address and the port both alice and bob see; alice and bob say
#     none, at their own endpoints;
#   - with N mapping each destination to a random port (random-fully) and
#     carol's daemon started afresh on another port, carol says symmetric
#     and names no endpoint.
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

need_root
need_tool ip wg ping python3 git nft
need_alamesh
[ -x "$ALAMESH" ] || fail "alamesh not built: $ALAMESH (make)"
export ALAMESH_COLOR_MODE=never

setsid bash -c "sleep 150 && echo 'watchdog: test took too long' >&2 && kill -TERM $$" &
PROC_PID[watchdog]=$!

NI=$NS_PREFIX-inet NA=$NS_PREFIX-a NB=$NS_PREFIX-b NN=$NS_PREFIX-nat NC=$NS_PREFIX-c
for ns in "$NI" "$NA" "$NB" "$NN" "$NC"; do ns_add "$ns"; done
A4=10.9.0.1 B4=10.8.0.1 N4=10.7.0.1 NL4=192.168.77.1 C4=192.168.77.2

step "the underlay: A and B on two subnets, N's public side on a third, C behind N"
must "I forwards IPv4" nsx "$NI" sysctl -qw net.ipv4.ip_forward=1
uplink "$NI" "$NA" wa 10.9.0 >/dev/null
uplink "$NI" "$NB" wb 10.8.0 >/dev/null
NWAN=$(uplink "$NI" "$NN" wn 10.7.0) || exit 1
nat_lan "$NN" "$NC" "$NL4" "$C4"
nat_router "$NN" "$NLAN" "$NWAN" ""
wait_for "ip netns exec $NA ping -c1 -W1 $B4" 10 || fail "underlay A -> B"
wait_for "ip netns exec $NC ping -c1 -W1 $A4" 10 || fail "underlay C -> A through the NAT"
wait_for "ip netns exec $NC ping -c1 -W1 $B4" 10 || fail "underlay C -> B through the NAT"
pass "A on 10.9.0.0/24, B on 10.8.0.0/24, C behind N (public $N4)"

step "alice and bob with endpoints, carol without; all three up"
for v in MA MB MC; do new_node "$v"; done
IA=$(ifname ma) IB=$(ifname mb) IC=$(ifname mc)
registry_init
registry_member alice "$MA_PUB" "$A4:51820"
registry_member bob "$MB_PUB" "$B4:51820"
registry_member carol "$MC_PUB"
registry_publish "alice, bob, and carol behind NAT"
registry_conf a "$IA" "$MA_PRIV" 51820
registry_conf b "$IB" "$MB_PRIV" 51820
registry_conf c "$IC" "$MC_PRIV" 51820
alameshd_start alameshd-a "$NA" "$NS_WORK/a.conf" "$IA" "$MA_ADDR"
alameshd_start alameshd-b "$NB" "$NS_WORK/b.conf" "$IB" "$MB_ADDR"
alameshd_start alameshd-c "$NC" "$NS_WORK/c.conf" "$IC" "$MC_ADDR"

wait_for "[ \"\$(nat_of $IC nat)\" = cone ]" 30 ||
	fail "carol's NAT is not seen as cone: $("$ALAMESH" show "$IC" nat 2>&1)"
info "carol: $("$ALAMESH" show "$IC" nat | tr '\n' ' ')"
ep=$(nat_of "$IC" endpoint)
case $ep in
"$N4":*) ;;
*) fail "carol's endpoint is $ep, not at N's public address $N4" ;;
esac
[ "$(nat_of "$IC" reporters)" = 2 ] || fail "carol: reporters $(nat_of "$IC" reporters), want 2"
for i in "$IA" "$IB"; do
	seen=$(wg show "$i" endpoints | awk -v k="$MC_PUB" '$1 == k {print $2}')
	[ "$seen" = "$ep" ] || fail "$i sees carol at $seen, carol says $ep"
done
pass "carol: cone NAT, public endpoint $ep, as alice and bob both see her"
for n in a:"$IA":"$A4" b:"$IB":"$B4"; do
	i=${n#*:} && i=${i%%:*} && want=${n##*:}
	wait_for "[ \"\$(nat_of $i nat)\" = none ]" 15 ||
		fail "$i: $("$ALAMESH" show "$i" nat 2>&1)"
	[ "$(nat_of "$i" endpoint)" = "$want:51820" ] || fail "$i: endpoint $(nat_of "$i" endpoint), want $want:51820"
done
pass "alice and bob: no NAT, at their own endpoints"

step "N maps each destination apart (random-fully); carol starts afresh on port 51821"
proc_stop alameshd-c
nat_router "$NN" "$NLAN" "$NWAN" fully-random
registry_conf c "$IC" "$MC_PRIV" 51821
alameshd_start alameshd-c "$NC" "$NS_WORK/c.conf" "$IC" "$MC_ADDR"
wait_for "[ \"\$(nat_of $IC nat)\" = symmetric ]" 30 ||
	fail "carol's NAT is not seen as symmetric: $("$ALAMESH" show "$IC" nat 2>&1)"
info "carol: $("$ALAMESH" show "$IC" nat | tr '\n' ' ')"
[ -z "$(nat_of "$IC" endpoint)" ] || fail "carol names an endpoint behind a symmetric NAT: $(nat_of "$IC" endpoint)"
pa=$(wg show "$IA" endpoints | awk -v k="$MC_PUB" '$1 == k {print $2}')
pb=$(wg show "$IB" endpoints | awk -v k="$MC_PUB" '$1 == k {print $2}')
[ "$pa" != "$pb" ] || fail "alice and bob see carol at one endpoint $pa behind random-fully"
pass "carol: symmetric NAT (alice sees $pa, bob $pb), no endpoint told"

for n in a b c; do
	proc_alive "alameshd-$n" || fail "alameshd-$n died"
done
pass "a node learns its public endpoint and its NAT's kind from its neighbours"
