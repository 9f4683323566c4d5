#!/usr/bin/env bash
# alamesh show / showconf / set against wireguard-go, judged by the real
# wg(8), byte for byte (alameshd speaks the same protocol; this test needs
# no alamesh daemon at all):
#  - an interface with nothing configured (the "(none)" and "off" forms);
#  - the set grammar: the same argument lists given to `wg set` on one
#    interface and to `alamesh set` on another leave the same configuration
#    (showconf compared), and the lists wg refuses, alamesh refuses too;
#  - a live interface with three peers, two with handshakes a moment apart
#    (peer order, latest handshake, transfer, IPv4 and IPv6 endpoints):
#    every field, dump, pretty with and without colour, all, interfaces.
# wireguard-go accepts any allowed IPs, so nothing here assumes alamesh's
# own rules for them. Root (network namespaces); bounded by a watchdog.
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

need_root
need_tool ip wg wireguard-go ping
[ -x "$ALAMESH" ] || fail "alamesh not built: $ALAMESH (make)"

# The whole test in at most 240 s, whatever hangs (the trap cleans up).
(sleep 240 && echo "watchdog: test took too long" >&2 && kill -TERM $$) &
PROC_PID[watchdog]=$!

netns_pair a b
IA=$(ifname wa) && IB1=$(ifname wb1) && IB2=$(ifname wb2) && IE=$(ifname we) &&
	IS1=$(ifname s1) && IS2=$(ifname s2) || exit 1
export WG_COLOR_MODE=never ALAMESH_COLOR_MODE=never
unset WG_HIDE_KEYS ALAMESH_HIDE_KEYS

# wggo_up NS IFNAME: a wireguard-go interface with nothing configured.
wggo_up() {
	local ns=$1 ifn=$2
	ns_spawn "wggo-$ifn" "$ns" wireguard-go -f "$ifn"
	wait_for "test -S $WG_SOCK_DIR/$ifn.sock && ip -n $ns link show $ifn" 10 ||
		fail "wireguard-go did not create $ifn"
}

# canon FILE: the output with wireguard-go's peer order taken out (it lists
# peers in Go map order, which changes from one get=1 to the next): the
# paragraphs sorted, and the lines of a one-paragraph output sorted.
canon() {
	if grep -q '^$' "$1"; then
		awk 'BEGIN { RS = ""; ORS = "\n" } { gsub(/\n/, "\001"); print }' "$1" | LC_ALL=C sort
	else
		LC_ALL=C sort "$1"
	fi
}

# same_output A B: the same bytes, or the same once the peer order is taken out.
same_output() {
	cmp -s "$1" "$2" || [ "$(canon "$1")" = "$(canon "$2")" ]
}

# ours_only FILE: the lines of this test's interfaces in an `all` output
# (other tests' interfaces, busy with traffic, change between two calls).
ours_only() {
	awk -v p="$NS_PREFIX-" '
		/^interface: / { keep = index($2, p) == 1; pretty = 1 }
		pretty && keep || !pretty && index($0, p) == 1' "$1" >"$1.f" && mv "$1.f" "$1"
}

# same WHAT NS ARGS...: `alamesh ARGS` and `wg ARGS`, run in NS, print the
# same bytes and exit alike (retried: a handshake age or a counter, or
# another test's interface in `all`, may change between the two calls).
same() {
	local what=$1 ns=$2 rc_ours rc_theirs
	shift 2
	for _ in 1 2 3 4 5; do
		nsx "$ns" "$ALAMESH" "$@" >"$NS_WORK/ours" 2>/dev/null
		rc_ours=$?
		nsx "$ns" wg "$@" >"$NS_WORK/theirs" 2>/dev/null
		rc_theirs=$?
		if [ "${ONLY_OURS:-0}" = 1 ]; then
			ours_only "$NS_WORK/ours"
			ours_only "$NS_WORK/theirs"
		fi
		if [ "$rc_ours" = "$rc_theirs" ] && same_output "$NS_WORK/ours" "$NS_WORK/theirs"; then
			return 0
		fi
		sleep 0.3
	done
	diff "$NS_WORK/theirs" "$NS_WORK/ours" | head -n 20 >&2
	check_fail "$what: alamesh $* differs from wg $* (exit $rc_ours vs $rc_theirs)"
}

FIELDS="public-key private-key listen-port fwmark peers preshared-keys endpoints allowed-ips
	latest-handshakes transfer persistent-keepalive dump"

# every_form WHAT NS IFNAME: each field, pretty (keys hidden and shown, with
# and without colour) and showconf.
every_form() {
	local what=$1 ns=$2 ifn=$3 field
	for field in $FIELDS; do
		same "$what $field" "$ns" show "$ifn" "$field"
	done
	same "$what pretty" "$ns" show "$ifn"
	WG_HIDE_KEYS=never same "$what pretty, keys shown" "$ns" show "$ifn"
	WG_COLOR_MODE=always ALAMESH_COLOR_MODE=always same "$what pretty in colour" "$ns" show "$ifn"
	same "$what showconf" "$ns" showconf "$ifn"
}

step "an interface with nothing configured ($IE)"
wggo_up "$NS_A" "$IE"
every_form "empty" "$NS_A" "$IE"
check_done "empty interface: every form as wg prints it"

step "set: the same arguments through wg set ($IS1) and alamesh set ($IS2)"
wggo_up "$NS_A" "$IS1"
wggo_up "$NS_B" "$IS2"
new_node K
P1=$(key_pub "$(key_gen)") P2=$(key_pub "$(key_gen)") P3=$(key_pub "$(key_gen)")
(umask 077 && wg genpsk >"$NS_WORK/psk" && printf '  %s\n' "$(wg genpsk)" >"$NS_WORK/psk.lead" &&
	printf '%sx\n' "$(wg genpsk)" >"$NS_WORK/psk.junk")

# set_both WANT ARGS...: wg set on IS1, alamesh set on IS2; both exit WANT
# (0, or 1 for a refusal), then the two configurations are identical.
set_both() {
	local want=$1 rc1 rc2
	shift
	nsx "$NS_A" wg set "$IS1" "$@" 2>"$NS_WORK/err1"
	rc1=$?
	nsx "$NS_B" "$ALAMESH" set "$IS2" "$@" 2>"$NS_WORK/err2"
	rc2=$?
	[ "$rc1" = "$want" ] || check_fail "wg set $*: exit $rc1, wanted $want ($(cat "$NS_WORK/err1"))"
	[ "$rc2" = "$want" ] || check_fail "alamesh set $*: exit $rc2, wanted $want ($(cat "$NS_WORK/err2"))"
	if [ "$want" != 0 ] && [ "$rc2" != 0 ] && ! grep -q Usage "$NS_WORK/err2"; then
		check_fail "alamesh set $*: refused without the usage"
	fi
	nsx "$NS_A" wg showconf "$IS1" >"$NS_WORK/conf1"
	nsx "$NS_B" wg showconf "$IS2" >"$NS_WORK/conf2"
	if ! same_output "$NS_WORK/conf1" "$NS_WORK/conf2"; then
		diff "$NS_WORK/conf1" "$NS_WORK/conf2" | head -n 20 >&2
		check_fail "after set $*: the two configurations differ"
	fi
}

set_both 0 private-key "$K_KEYFILE" listen-port 51900 fwmark 0x20
set_both 0 listen-port 51901 fwmark 010 listen-port 51902
set_both 0 fwmark OFF
set_both 0 peer "$P1" preshared-key "$NS_WORK/psk" endpoint 192.0.2.1:51820 \
	persistent-keepalive 25 allowed-ips "10.1.0.0/16, fd00::/64"
set_both 0 peer "$P2" endpoint "[2001:db8::1]:4000" allowed-ips 0.0.0.0/0,::/0 \
	peer "$P3" endpoint "[2001:DB8:0::2]:4001" allowed-ips 192.168.7.7 persistent-keepalive 010
set_both 0 peer "$P1" allowed-ips "" persistent-keepalive off preshared-key /dev/null
set_both 0 peer "$P1" allowed-ips 10.1.2.3/8,fd00::1/64 endpoint 127.0.0.1:9
set_both 0 peer "$P2" remove peer "$P3" persistent-keepalive 65535 allowed-ips 10.0.0.1/08
set_both 0 peer "$P2" remove
if grep -q '^domain' /etc/services 2>/dev/null; then
	set_both 0 listen-port domain
fi
set_both 1 fwmark 0x100000000
set_both 1 fwmark -1
set_both 1 fwmark 0X10
set_both 1 listen-port
set_both 1 listen-port 0x10
set_both 1 bogus 1
set_both 1 peer
set_both 1 peer notakey
set_both 1 peer "$P1" endpoint 192.0.2.1
set_both 1 peer "$P1" endpoint
set_both 1 peer "$P1" persistent-keepalive 65536
set_both 1 peer "$P1" persistent-keepalive " 7"
set_both 1 peer "$P1" allowed-ips 10.0.0.1/8,
set_both 1 peer "$P1" allowed-ips 10.0.0.1/33
set_both 1 peer "$P1" allowed-ips +10.0.0.1/8
set_both 1 peer "$P1" preshared-key "$NS_WORK/psk.lead"
set_both 1 peer "$P1" preshared-key "$NS_WORK/psk.junk"
set_both 1 peer "$P1" preshared-key /nonexistent
set_both 1 peer "$P1" listen-port 5
set_both 1 listen-port 5 peer "$P1" allowed-ips 1.2.3.4/40
set_both 0 private-key /dev/null
every_form "after set" "$NS_B" "$IS2"
check_done "set: alamesh set and wg set agree on every argument list (accepted and refused)"

step "a live interface: $IA with peers $IB1 and $IB2 (handshakes a moment apart) and one silent peer"
wggo_up "$NS_A" "$IA"
wggo_up "$NS_B" "$IB1"
wggo_up "$NS_B" "$IB2"
new_node A
new_node B1
new_node B2
SILENT=$(key_pub "$(key_gen)")
must "A" nsx "$NS_A" wg set "$IA" private-key "$A_KEYFILE" listen-port 51820 \
	peer "$B1_PUB" endpoint "$U4_B:51821" allowed-ips 10.77.0.2/32 preshared-key "$NS_WORK/psk" \
	peer "$B2_PUB" endpoint "[$U6_B]:51822" allowed-ips 10.78.0.2/32,fd77::/64 persistent-keepalive 25 \
	peer "$SILENT" endpoint 192.0.2.9:9 allowed-ips 10.79.0.0/16
must "B1" nsx "$NS_B" wg set "$IB1" private-key "$B1_KEYFILE" listen-port 51821 \
	peer "$A_PUB" allowed-ips 10.77.0.0/24 preshared-key "$NS_WORK/psk"
must "B2" nsx "$NS_B" wg set "$IB2" private-key "$B2_KEYFILE" listen-port 51822 fwmark 0x42 \
	peer "$A_PUB" allowed-ips 10.78.0.0/24
must "A addrs" ip -n "$NS_A" addr add 10.77.0.1/24 dev "$IA"
must "A addrs" ip -n "$NS_A" addr add 10.78.0.1/24 dev "$IA"
must "B1 addr" ip -n "$NS_B" addr add 10.77.0.2/24 dev "$IB1"
must "B2 addr" ip -n "$NS_B" addr add 10.78.0.2/24 dev "$IB2"
must "up $IA" ip -n "$NS_A" link set "$IA" mtu 1420 up
must "up $IB1" ip -n "$NS_B" link set "$IB1" mtu 1420 up
must "up $IB2" ip -n "$NS_B" link set "$IB2" mtu 1420 up
wait_for "nsx $NS_A ping -c1 -W1 10.77.0.2" 15 || fail "no ping A -> B1"
sleep 1.2 # the second handshake a second later, so the two sort one way
wait_for "nsx $NS_A ping -c1 -W1 10.78.0.2" 15 || fail "no ping A -> B2"
order=$(nsx "$NS_A" "$ALAMESH" show "$IA" | awk '/^peer:/ {print $2}' | tr '\n' ' ')
[ "$order" = "$B2_PUB $B1_PUB $SILENT " ] ||
	check_fail "peer order: $order (wanted the latest handshake first, the silent peer last)"
every_form "live $IA" "$NS_A" "$IA"
every_form "live $IB1" "$NS_B" "$IB1"
every_form "live $IB2" "$NS_B" "$IB2"
for field in $FIELDS; do
	[ "$field" = endpoints ] && continue
	ONLY_OURS=1 same "all $field" "$NS_A" show all "$field"
done
# wg writes the interface name of `all endpoints` once, before an
# interface's first peer (alone and unterminated for $IE, which has none),
# not on each line as for the other fields; alamesh writes the same bytes.
# endpoints_canon FILE: the shape of the output (which line carries which
# names) and each interface's peer lines sorted, so that wireguard-go's
# changing peer order is taken out but a name on the wrong line is not.
endpoints_canon() {
	python3 - "$1" <<'EOF'
import sys
shape, blocks = [], []
for line in open(sys.argv[1]).read().split("\n"):
    fields = line.split("\t")
    # The names come before the first field that is a key (base64, "=" last).
    k = next((i for i, f in enumerate(fields) if f.endswith("=")), len(fields))
    names, record = fields[:k], "\t".join(fields[k:])
    shape.append("\t".join(names) + ("\tR" if record else ""))
    if names or not blocks:
        blocks.append([])
    if record:
        blocks[-1].append(record)
print("\n".join(shape))
for b in blocks:
    print("--", *sorted(b), sep="\n")
EOF
}
all_endpoints_ok() {
	nsx "$NS_A" "$ALAMESH" show all endpoints >"$NS_WORK/ours" || return 1
	nsx "$NS_A" wg show all endpoints >"$NS_WORK/theirs" || return 1
	cmp -s "$NS_WORK/ours" "$NS_WORK/theirs" ||
		[ "$(endpoints_canon "$NS_WORK/ours")" = "$(endpoints_canon "$NS_WORK/theirs")" ]
}
wait_for all_endpoints_ok 5 || check_fail "all endpoints: $(diff "$NS_WORK/theirs" "$NS_WORK/ours")"
# What the comparison stands on: $IA's three peers, its name written once.
[ "$(grep -o "$IA	" "$NS_WORK/theirs" | wc -l)" = 1 ] && [ "$(grep -c "=	" "$NS_WORK/theirs")" -ge 3 ] ||
	check_fail "wg show all endpoints does not name $IA once for 3 peers (wg changed?): $(cat "$NS_WORK/theirs")"
ONLY_OURS=1 same "all pretty" "$NS_A" show all
ONLY_OURS=1 same "show without arguments" "$NS_A" show
same "interfaces" "$NS_A" show interfaces
check_done "live interfaces: every form, all and interfaces as wg prints them"

step "errors"
gone=$(ifname gone)
if "$ALAMESH" show "$gone" 2>"$NS_WORK/err"; then check_fail "show of a missing interface exited 0"; fi
grep -qF "cannot connect to $gone: $WG_SOCK_DIR/$gone.sock: No such file or directory (is alameshd running?)" \
	"$NS_WORK/err" || check_fail "not running: $(cat "$NS_WORK/err")"
for args in "show $IA bogus" "show $IA peers extra" "show interfaces peers" "showconf" \
	"showconf $IA extra" "set" "set $IA"; do
	# shellcheck disable=SC2086
	if nsx "$NS_A" "$ALAMESH" $args >/dev/null 2>"$NS_WORK/err"; then
		check_fail "alamesh $args exited 0"
	fi
	grep -q Usage "$NS_WORK/err" || check_fail "alamesh $args: no usage: $(cat "$NS_WORK/err")"
done
check_done "errors: the socket named, bad arguments with the usage"
