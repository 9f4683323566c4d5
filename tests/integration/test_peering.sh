#!/usr/bin/env bash
# The peering policy: five members on one LAN, all with an Endpoint, each
# with MaxPeers = 1. Each dials exactly the member whose pair score with it
# is lowest (BLAKE2b-128 of the two keys, the smaller first, read as a
# little-endian number: computed here from alameshd(8)'s description), and
# no other; so the sessions that exist are exactly the pairs one side
# chose, and every member still answers those that dial it.
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

need_root
need_tool ip wg python3 git
need_alamesh

LAN=$NS_PREFIX-lan
ns_add "$LAN"
must "bridge" ip -n "$LAN" link add br0 type bridge
must "bridge up" ip -n "$LAN" link set br0 up
NAMES=(n1 n2 n3 n4 n5)
registry_init
for i in 1 2 3 4 5; do
	ns_add "$NS_PREFIX-n$i"
	v=$(ifname "l$i") && p=$(ifname "p$i") || exit 1
	ip link add "$v" netns "$NS_PREFIX-n$i" type veth peer name "$p" netns "$LAN" || fail "veth $i"
	must "port" ip -n "$LAN" link set "$p" master br0 up
	must "addr" ip -n "$NS_PREFIX-n$i" addr add "10.7.0.$i/24" dev "$v"
	must "up" ip -n "$NS_PREFIX-n$i" link set "$v" up
	new_node "N$i"
	pub_var=N${i}_PUB
	registry_member "n$i" "${!pub_var}" "10.7.0.$i:51820"
done
registry_publish "five members"
wait_for "ip netns exec $NS_PREFIX-n1 ping -c1 -W1 10.7.0.5" 10 || fail "the LAN"

for i in 1 2 3 4 5; do
	priv_var=N${i}_PRIV addr_var=N${i}_ADDR
	alameshd_conf "$NS_WORK/n$i.conf" "$(ifname "m$i")" "${!priv_var}" 51820
	printf '\n[Registry]\nURL = file://%s\nInterval = 1h\nCacheDir = %s\nMaxPeers = 1\n' \
		"$REG" "$NS_WORK/cache-$i" >>"$NS_WORK/n$i.conf"
	alameshd_start "alameshd-$i" "$NS_PREFIX-n$i" "$NS_WORK/n$i.conf" "$(ifname "m$i")" "${!addr_var}"
done

step "each member dials the one with the lowest pair score, and only that one"
# want: for every member, the one it chooses.
python3 - "$N1_PUB" "$N2_PUB" "$N3_PUB" "$N4_PUB" "$N5_PUB" >"$NS_WORK/choices" <<'EOF'
import base64, hashlib, sys
keys = [base64.b64decode(k) for k in sys.argv[1:]]
def score(a, b):
    lo, hi = sorted((a, b))
    return int.from_bytes(hashlib.blake2b(lo + hi, digest_size=16).digest()[:8], "little")
for i, a in enumerate(keys):
    best = min((score(a, b), j) for j, b in enumerate(keys) if j != i)[1]
    print(i + 1, best + 1)
EOF
declare -A WANT=()
while read -r i j; do
	WANT["$i-$j"]=1
	WANT["$j-$i"]=1
	info "n$i chooses n$j"
done <"$NS_WORK/choices"
sleep 8 # every chosen pair has handshaken by now; the dials back off for 15 s and more
for i in 1 2 3 4 5; do
	for j in 1 2 3 4 5; do
		[ "$i" -lt "$j" ] || continue
		pub_var=N${j}_PUB
		hs=$(wg show "$(ifname "m$i")" latest-handshakes | awk -v k="${!pub_var}" '$1 == k {print $2}')
		if [ -n "${WANT[$i-$j]:-}" ]; then
			[ "${hs:-0}" -gt 0 ] || fail "n$i and n$j: no session, though one of them chose the other"
		else
			[ "${hs:-0}" -eq 0 ] || fail "n$i and n$j: a session neither chose"
		fi
	done
done
pass "the sessions are exactly the chosen pairs: $(tr '\n' ' ' <"$NS_WORK/choices")"
