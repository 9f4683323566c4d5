#!/usr/bin/env bash
# make demo: a three-member alamesh in three network namespaces, the way a
# community runs one. The registry is a git repository served by git daemon;
# alice, bob and carol each add themselves with `alamesh registry add` (a
# pull request, here a push); each node runs alameshd with a [Registry] and
# no static peer. A and C sit on two networks that only B joins, so A
# reaches C through B: ping6, traceroute6 naming B, and each node's status
# (`alamesh show`, routes, members). Then everything is torn down (also on
# Ctrl-C). DEMO_HOLD=SECONDS keeps the nodes up that long to look around.
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

HOLD=${DEMO_HOLD:-0}
case $HOLD in '' | *[!0-9]*) fail "DEMO_HOLD must be a number of seconds" ;; esac
need_root
need_tool ip wg ping python3 git ss traceroute6
need_alamesh
[ -x "$ALAMESH" ] || fail "alamesh not built: $ALAMESH"
export ALAMESH_COLOR_MODE=${ALAMESH_COLOR_MODE:-never}

step "three network namespaces in a line: A - B - C (B forwards no IP between them)"
netns_line a b c
info "$NS_A: $U4_AB    $NS_B: $U4_BA and $U4_BC    $NS_C: $U4_CB"

step "the registry: a bare git repository, served by git daemon in B"
REG=$NS_WORK/registry.git SRC=$NS_WORK/registry
git init -q --bare -b main "$REG" || fail "git init --bare"
touch "$REG/git-daemon-export-ok"
ns_spawn gitd "$NS_B" git daemon --reuseaddr --base-path="$NS_WORK" --export-all \
	--listen="$U4_BA" --listen="$U4_BC" --port=9418 "$NS_WORK"
wait_for "ip netns exec $NS_B ss -Hltn 'sport = :9418' | grep -q LISTEN" 10 || fail "git daemon"
git clone -q "$REG" "$SRC" 2>/dev/null || fail "git clone"
git -C "$SRC" config user.email demo@example.org && git -C "$SRC" config user.name demo

# join NAME ENDPOINT...: a member's pull request: a key pair, members/NAME.conf, a push.
join() {
	local name=$1
	shift
	local eps=()
	for e in "$@"; do eps+=(--endpoint "$e"); done
	step "$name joins: alamesh registry add $name ${eps[*]}"
	(cd "$SRC" && "$ALAMESH" registry add "$name" "${eps[@]}") | sed 's/^/    /'
	[ "${PIPESTATUS[0]}" -eq 0 ] || fail "registry add $name"
	git -C "$SRC" add "members/$name.conf" && git -C "$SRC" commit -qm "$name joins" &&
		git -C "$SRC" push -q origin main 2>/dev/null || fail "push $name"
}
join alice "$U4_AB:51820"
join bob "$U4_BA:51820" "$U4_BC:51820"
join carol "$U4_CB:51820"
"$ALAMESH" registry check "$SRC" || fail "registry check"
info "registry check: every member file is good"

# node NAME NS IFNAME URL: alameshd for member NAME, with the registry and no static peer.
node() {
	local name=$1 ns=$2 ifn=$3 url=$4 conf=$NS_WORK/$1.conf
	(umask 077 && cat >"$conf") <<EOF
[Interface]
Name = $ifn
PrivateKeyFile = $NS_WORK/$name.key
ListenPort = 51820

[Registry]
URL = $url
Branch = main
Interval = 1h
CacheDir = $NS_WORK/cache-$name
EOF
	"$ALAMESHD" -t -c "$conf" || fail "alameshd -t refuses $conf"
	local addr
	addr=$("$ALAMESH" addr "$("$ALAMESH" pubkey <"$NS_WORK/$name.key")")
	alameshd_start "alameshd-$name" "$ns" "$conf" "$ifn" "$addr"
}
IA=$(ifname a) IB=$(ifname b) IC=$(ifname c)
step "each member starts alameshd -c NAME.conf: [Interface] and [Registry], no [Peer]"
node alice "$NS_A" "$IA" "git://$U4_BA:9418/registry.git"
node bob "$NS_B" "$IB" "file://$REG"
node carol "$NS_C" "$IC" "git://$U4_BC:9418/registry.git"
sed 's/^/    /' "$NS_WORK/alice.conf"
C_ADDR=$("$ALAMESH" addr "$("$ALAMESH" pubkey <"$NS_WORK/carol.key")")
B_ADDR=$("$ALAMESH" addr "$("$ALAMESH" pubkey <"$NS_WORK/bob.key")")

step "alice reaches carol through bob"
wait_for "'$ALAMESH' show '$IA' routes dump | awk -F'\t' '\$1 == \"$C_ADDR\" && \$4 == \"bob\"' | grep -q ." 40 ||
	fail "alice has no route to carol through bob"
ping_until "$NS_A" "$C_ADDR" 15 || fail "no answer from carol at $C_ADDR"
nsx "$NS_A" timeout --foreground 20 ping -6 -c 3 -i 0.3 -W 2 "$C_ADDR" | sed 's/^/    /'
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "ping6 alice -> carol"
step "traceroute6 from alice to carol: bob is the first hop"
nsx "$NS_A" timeout 30 traceroute6 -n -q 1 -w 2 -m 5 "$C_ADDR" >"$NS_WORK/tr" 2>&1
sed 's/^/    /' "$NS_WORK/tr"
[ "$(awk '$1 == 1 {print $2}' "$NS_WORK/tr")" = "$B_ADDR" ] || fail "the first hop is not bob"

# status NAME NS IFNAME: what alamesh says of the node.
status() {
	local name=$1 ifn=$3
	step "$name: alamesh show $ifn; routes; members"
	"$ALAMESH" show "$ifn" | sed 's/^/    /'
	echo
	"$ALAMESH" show "$ifn" routes | sed 's/^/    /'
	echo
	"$ALAMESH" show "$ifn" members | sed 's/^/    /'
}
status alice "$NS_A" "$IA"
status bob "$NS_B" "$IB"
status carol "$NS_C" "$IC"

if [ "$HOLD" -gt 0 ]; then
	step "holding for ${HOLD}s (Ctrl-C to stop now); try:"
	info "ip netns exec $NS_A ping $C_ADDR"
	info "ip netns exec $NS_A traceroute6 $C_ADDR"
	info "$ALAMESH show $IA routes    (or: wg show $IA)"
	wait_for false "$HOLD"
fi

step "teardown: SIGTERM to the three daemons"
for n in alice bob carol; do
	proc_stop "alameshd-$n" TERM 10 || fail "alameshd-$n did not stop within 10 s"
	[ "$PROC_RC" -eq 0 ] || fail "alameshd-$n exited with status $PROC_RC, want 0"
	info "alameshd-$n exited cleanly"
done
pass "demo done"
