#!/usr/bin/env bash
# Roaming: the endpoint follows the latest authenticated packet. alameshd (A)
# knows its peer in B by a static Endpoint; after a first ping A -> B the
# peer's underlay address changes (the old one is removed from B, a new one
# in the same subnet added). A still has only the old address, where nothing
# answers any more, so:
#   ping B -> A must work: A's replies can only reach B at the new address,
#                          learned from B's authenticated packets;
#   ping A -> B must work: A now sends to the new address on its own.
# Round 1: another alameshd is the peer that moves: its routing hellos (the
# two are members of a registry), sent every 2 s from the new address, are
# authenticated packets, so A follows it before anyone pings; round 2:
# wireguard-go moves (alameshd must follow it, and only once it has
# spoken); round 3: wireguard-go changes its UDP port
# (a NAT rebinding), which alameshd must follow as well.
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

need_root
need_tool ip wg wireguard-go ping python3 ss git
need_alamesh

netns_pair a b
new_node MA # alameshd in A, both rounds
new_node MB # alameshd in B, round 1
new_node W  # wireguard-go in B, round 2
IA=$(ifname ma) && IB=$(ifname mb) && IW=$(ifname w) || exit 1
use_underlay 4 51820
OLD4=$U4_B

# move_b NEW: B's underlay address OLD4 is replaced by NEW. The old address
# goes first: removing a primary IPv4 address would also remove a secondary
# one added before it. Then checks that nothing answers at the old address,
# so that a reply sent there could not arrive.
move_b() {
	local new=$1
	must "remove $OLD4 from B" ip -n "$NS_B" addr del "$OLD4/24" dev "$V_B"
	must "add $new to B" ip -n "$NS_B" addr add "$new/24" dev "$V_B"
	if ip -n "$NS_B" -4 addr show dev "$V_B" | grep -qF " $OLD4/"; then
		fail "B still has its old address $OLD4"
	fi
	if ip -n "$NS_B" route show table local | grep -qw "$OLD4"; then
		fail "B still has a local route for $OLD4"
	fi
	if nsx "$NS_A" ping -4 -c1 -W1 "$OLD4" >/dev/null 2>&1; then
		fail "$OLD4 still answers from A after the move"
	fi
	wait_for "ip netns exec $NS_A ping -4 -c1 -W1 $new" 10 ||
		fail "underlay: A cannot reach B's new address $new"
	pass "B moved from $OLD4 to $new; nothing answers at $OLD4"
}

# move_back: restores OLD4 for the next round.
move_back() {
	local new=$1
	must "remove $new from B" ip -n "$NS_B" addr del "$new/24" dev "$V_B"
	must "restore $OLD4 on B" ip -n "$NS_B" addr add "$OLD4/24" dev "$V_B"
	wait_for "ip netns exec $NS_A ping -4 -c1 -W1 $OLD4" 10 ||
		fail "underlay: A cannot reach B at $OLD4 again"
}

# still_old ROUND PEER_ADDR: the control: before B has sent anything from its
# new address, A still sends to the old one, so a ping A -> B goes unanswered.
still_old() {
	local r=$1 peer=$2
	if nsx "$NS_A" ping -6 -c1 -W1 "$peer" >/dev/null 2>&1; then
		fail "$r: ping A -> B answered before B sent anything from its new address"
	fi
	pass "$r: before B speaks, A's packets go to the old address and are lost"
}

# after_move ROUND PEER_ADDR NEW: both pings after B moved to NEW.
after_move() {
	local r=$1 peer=$2 new=$3
	ping_until "$NS_B" "$MA_ADDR" 10 ||
		fail "$r: ping B -> A after the move never answered (A did not follow B to $new)"
	ping_ok "$NS_B" "$MA_ADDR" 3 ||
		fail "$r: ping6 B -> A after the move: $(tail -n 2 "$NS_WORK/ping.out")"
	pass "$r: ping6 B -> A after the move: A answered at $new"
	ping_ok "$NS_A" "$peer" 3 ||
		fail "$r: ping6 A -> B after the move: $(tail -n 2 "$NS_WORK/ping.out")"
	pass "$r: ping6 A -> B after the move: A sends to $new"
}

step "round 1: alameshd in B moves"
alameshd_conf "$NS_WORK/a.conf" "$IA" "$MA_PRIV" 51820
alameshd_conf_peer "$NS_WORK/a.conf" "$MB_PUB" "$EP_B"
alameshd_conf_peer "$NS_WORK/a.conf" "$W_PUB" "$EP_B"
alameshd_conf "$NS_WORK/b.conf" "$IB" "$MB_PRIV" 51820
alameshd_conf_peer "$NS_WORK/b.conf" "$MA_PUB" "$EP_A"
# A and B are members (routing is spoken with members only), W is not.
registry_init
registry_member a "$MA_PUB"
registry_member b "$MB_PUB"
registry_publish "a and b"
for n in a b; do
	registry_section "$NS_WORK/$n.conf" "file://$REG" "$NS_WORK/cache-$n"
done
alameshd_start alameshd-a "$NS_A" "$NS_WORK/a.conf" "$IA" "$MA_ADDR"
alameshd_start alameshd-b "$NS_B" "$NS_WORK/b.conf" "$IB" "$MB_ADDR"

ping_until "$NS_A" "$MB_ADDR" 15 || fail "round 1: first ping A -> B never answered"
pass "round 1: ping6 A -> B before the move"
move_b 10.1.0.22
ep_of_b() { wg show "$IA" endpoints | awk -v k="$MB_PUB" '$1 == k {print $2}'; }
wait_for "[ \"\$(ep_of_b)\" = 10.1.0.22:51820 ]" 8 ||
	fail "round 1: A did not follow B's hellos to 10.1.0.22 (endpoint $(ep_of_b))"
pass "round 1: B's routing hellos from its new address moved A's endpoint for it"
ping_ok "$NS_A" "$MB_ADDR" 3 || fail "round 1: ping6 A -> B after the move"
after_move "round 1" "$MB_ADDR" 10.1.0.22

proc_stop alameshd-b TERM 10
[ "$PROC_RC" -eq 0 ] || fail "alameshd-b exit status $PROC_RC after SIGTERM"
move_back 10.1.0.22

# A keeps running: its peer W has the static endpoint EP_B (OLD4), which
# wireguard-go now holds, so A's first handshake goes to the old address.
step "round 2: wireguard-go in B moves"
wggo_start wggo "$NS_B" "$IW" "$W_KEYFILE" 51820 "$W_ADDR"
wggo_peer "$NS_B" "$IW" "$MA_PUB" "$MA_ADDR/128" "$EP_A"
ping_until "$NS_A" "$W_ADDR" 15 || fail "round 2: first ping A -> wireguard-go never answered"
pass "round 2: ping6 A -> wireguard-go before the move"
move_b 10.1.0.23
still_old "round 2" "$W_ADDR"
# wireguard-go's sticky source address is still the removed one (its sends
# fail with ENETUNREACH); setting its endpoint for A again forgets it, as a
# roaming client re-resolving its server would. A is not touched.
wggo_peer "$NS_B" "$IW" "$MA_PUB" "$MA_ADDR/128" "$EP_A"
after_move "round 2" "$W_ADDR" 10.1.0.23

# The port moves too (as behind a NAT that rebinds): nothing listens on the
# old one any more, so A's answers must go to the new port.
step "round 3: wireguard-go in B changes its port"
must "wg set listen-port" nsx "$NS_B" wg set "$IW" listen-port 51821
if nsx "$NS_B" ss -Hlun 'sport = :51820' | grep -q .; then
	fail "round 3: something still listens on UDP port 51820 in B"
fi
after_move "round 3" "$W_ADDR" 10.1.0.23:51821

# wireguard-go's view: the handshake stayed, its endpoint for A unchanged.
ep=$(nsx "$NS_B" wg show "$IW" endpoints | grep -F "$MA_PUB" | awk '{print $2}')
[ "$ep" = "$EP_A" ] || fail "round 2: wg show endpoint of alameshd is '$ep', want $EP_A"
proc_alive alameshd-a || fail "alameshd-a died"
pass "roaming (alameshd and wireguard-go peers)"
