#!/usr/bin/env bash
# make demo: two alameshd in two network namespaces with static peers; a
# ping across the mesh each way and each side's handshake state, then
# everything torn down (also on Ctrl-C). DEMO_HOLD=SECONDS keeps the two
# nodes up that long before the teardown, to look around (see the hint).
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

HOLD=${DEMO_HOLD:-0}
case $HOLD in '' | *[!0-9]*) fail "DEMO_HOLD must be a number of seconds" ;; esac
need_root
need_tool ip wg ping python3
need_alamesh

step "two network namespaces joined by a veth pair"
netns_pair a b
info "$NS_A: $U4_A $U6_A    $NS_B: $U4_B $U6_B"

step "a key pair per node; the address is derived from the public key"
new_node A
new_node B
IA=$(ifname a) && IB=$(ifname b) || exit 1
info "node A: $A_PUB -> $A_ADDR"
info "node B: $B_PUB -> $B_ADDR"

step "each names the other as a static peer"
alameshd_conf "$NS_WORK/a.conf" "$IA" "$A_PRIV" 51820
alameshd_conf_peer "$NS_WORK/a.conf" "$B_PUB" "$U4_B:51820" 25
alameshd_conf "$NS_WORK/b.conf" "$IB" "$B_PRIV" 51820
alameshd_conf_peer "$NS_WORK/b.conf" "$A_PUB" "$U4_A:51820" 25
sed 's/^\(PrivateKey *=\).*/\1 (hidden)/; s/^/    /' "$NS_WORK/a.conf"

step "starting alameshd -c a.conf in $NS_A and -c b.conf in $NS_B"
alameshd_start alameshd-a "$NS_A" "$NS_WORK/a.conf" "$IA" "$A_ADDR"
alameshd_start alameshd-b "$NS_B" "$NS_WORK/b.conf" "$IB" "$B_ADDR"
ip -n "$NS_A" -6 addr show dev "$IA" | sed 's/^/    /'
ip -n "$NS_A" -6 route show dev "$IA" | sed 's/^/    /'

step "ping6 A -> B across the mesh (the first packet triggers the handshake)"
ping_until "$NS_A" "$B_ADDR" 15 || fail "no answer from $B_ADDR"
nsx "$NS_A" timeout --foreground 20 ping -6 -c 3 -i 0.3 -W 2 "$B_ADDR" | sed 's/^/    /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "ping6 A -> B"

step "ping6 B -> A"
nsx "$NS_B" timeout --foreground 20 ping -6 -c 3 -i 0.3 -W 2 "$A_ADDR" | sed 's/^/    /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "ping6 B -> A"

# show_state NAME NS IFNAME: what `alamesh show` says of the interface.
show_state() {
	local name=$1 ns=$2 ifn=$3
	step "alamesh show $ifn ($name)"
	ALAMESH_COLOR_MODE=never nsx "$ns" "$ALAMESH" show "$ifn" >"$NS_WORK/show" 2>&1 ||
		fail "alamesh show $ifn: $(cat "$NS_WORK/show")"
	grep -q 'latest handshake' "$NS_WORK/show" || fail "$ifn shows no handshake"
	sed 's/^/    /' "$NS_WORK/show"
}
show_state alameshd-a "$NS_A" "$IA"
show_state alameshd-b "$NS_B" "$IB"

if [ "$HOLD" -gt 0 ]; then
	step "holding for ${HOLD}s (Ctrl-C to stop now); try:"
	info "ip netns exec $NS_A ping $B_ADDR"
	info "$ALAMESH show $IA    (or: wg show $IA)"
	wait_for false "$HOLD"
fi

step "teardown: SIGTERM to both daemons"
for n in alameshd-a alameshd-b; do
	proc_stop "$n" TERM 10 || fail "$n did not stop within 10 s"
	[ "$PROC_RC" -eq 0 ] || fail "$n exited with status $PROC_RC, want 0"
	info "$n exited cleanly"
done
pass "demo done"
