#!/usr/bin/env bash
# alamesh show / showconf / set against the real wg(8), byte for byte, on
# both an alameshd and a wireguard-go interface (the same protocol serves
# both): every field of `show`, `dump`, `all`, `interfaces`, the pretty
# form without colour, showconf; `alamesh set` changes checked through wg;
# colour only when asked or on a terminal; the alamesh-only views answer
# "not configured"; a daemon that is not running is reported with its socket;
# a socket left by a daemon that is gone is skipped and removed, as wg does.
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

need_root
need_tool ip wg wireguard-go ping python3 script
need_alamesh
[ -x "$ALAMESH" ] || fail "alamesh not built: $ALAMESH"

netns_pair a b
new_node MA
new_node MB
new_node MX
IA=$(ifname ca) && IB=$(ifname cb) || exit 1
use_underlay 4 51820
export ALAMESH_COLOR_MODE=never WG_COLOR_MODE=never

alameshd_conf "$NS_WORK/a.conf" "$IA" "$MA_PRIV" 51820
alameshd_conf_peer "$NS_WORK/a.conf" "$MB_PUB" "$EP_B"
alameshd_start alameshd-a "$NS_A" "$NS_WORK/a.conf" "$IA" "$MA_ADDR"
wggo_start wggo-b "$NS_B" "$IB" "$MB_KEYFILE" 51820 "$MB_ADDR"
wggo_peer "$NS_B" "$IB" "$MA_PUB" "$MA_ADDR/128,10.99.0.0/16" "$EP_A"
(umask 077 && wg genpsk >"$NS_WORK/psk")
must "psk A" wg set "$IA" peer "$MB_PUB" preshared-key "$NS_WORK/psk"
must "psk B" wg set "$IB" fwmark 0x42 peer "$MA_PUB" preshared-key "$NS_WORK/psk"
ping_until "$NS_A" "$MB_ADDR" 15 || fail "no ping A -> B"

step "alamesh set: keepalive, fwmark, a second peer (endpoint by name resolution of a literal)"
must "alamesh set" "$ALAMESH" set "$IA" fwmark 0x33 peer "$MB_PUB" persistent-keepalive 7 \
	peer "$MX_PUB" endpoint "[fd00:1::9]:4000" allowed-ips "$(addr_py "$MX_PUB")/128"
[ "$(wg show "$IA" fwmark)" = 0x33 ] || fail "fwmark via alamesh set: $(wg show "$IA" fwmark)"
[ "$(wg show "$IA" persistent-keepalive | awk -v k="$MB_PUB" '$1 == k {print $2}')" = 7 ] ||
	fail "keepalive via alamesh set"
[ "$(wg show "$IA" endpoints | awk -v k="$MX_PUB" '$1 == k {print $2}')" = "[fd00:1::9]:4000" ] ||
	fail "endpoint via alamesh set"
pass "alamesh set applied, as wg show reports"
must "alamesh set remove" "$ALAMESH" set "$IA" peer "$MX_PUB" remove
[ "$(wg show "$IA" peers)" = "$MB_PUB" ] || fail "alamesh set remove"
if "$ALAMESH" set "$IA" peer "$MX_PUB" allowed-ips 10.0.0.0/8 2>"$NS_WORK/err"; then
	fail "alamesh set with a foreign allowed ip succeeded"
fi
grep -q 'unable to modify interface: Invalid argument' "$NS_WORK/err" || fail "set error: $(cat "$NS_WORK/err")"
pass "alamesh set remove; a refused set reports the daemon's errno"

# same WHAT ARGS...: alamesh show ARGS and wg show ARGS print the same bytes
# (retried: a handshake age or a counter may tick between the two calls).
# ours_only FILE: with ONLY_OURS=1, only this run's interfaces in an output
# of several: other runs' interfaces, busy with traffic, change between two
# calls. Pretty form: their paragraphs; the others: their lines, and in
# `all endpoints` the lines of a peer after the first (which start with its key).
ours_only() {
	[ "${ONLY_OURS:-0}" = 1 ] || return 0
	awk -v p="$NS_PREFIX-" '
		/^interface: / { keep = index($2, p) == 1; pretty = 1 }
		pretty { if (keep) print; next }
		index($0, p) == 1 { keep = 1; print; next }
		$1 ~ /=$/ { if (keep) print; next }
		{ keep = 0 }' "$1" >"$1.f" && mv "$1.f" "$1"
}

same() {
	local what=$1 try
	shift
	for try in 1 2 3; do
		"$ALAMESH" "$@" >"$NS_WORK/ours" 2>&1
		local rc_ours=$?
		wg "$@" >"$NS_WORK/theirs" 2>&1
		local rc_theirs=$?
		ours_only "$NS_WORK/ours"
		ours_only "$NS_WORK/theirs"
		if [ "$rc_ours" = "$rc_theirs" ] && cmp -s "$NS_WORK/ours" "$NS_WORK/theirs"; then
			[ -s "$NS_WORK/ours" ] || [ "$what" = empty ] || fail "$what: no output at all"
			return 0
		fi
		sleep 0.3
	done
	diff "$NS_WORK/theirs" "$NS_WORK/ours" | head -n 20
	fail "$what: alamesh $* differs from wg $* (exit $rc_ours vs $rc_theirs)"
}

step "every form of show, against wg, on alameshd ($IA) and wireguard-go ($IB)"
for ifn in "$IA" "$IB"; do
	for field in public-key private-key listen-port fwmark peers preshared-keys endpoints \
		allowed-ips latest-handshakes transfer persistent-keepalive dump; do
		same "$ifn $field" show "$ifn" "$field"
	done
	same "$ifn pretty" show "$ifn"
	same "$ifn showconf" showconf "$ifn"
	WG_HIDE_KEYS=never same "$ifn pretty, keys shown" show "$ifn"
done
pass "12 fields, pretty and showconf, on both"
# A second peer on A and an interface with none: `all endpoints` names each
# interface once, before its first peer, as wg does.
must "second peer" wg set "$IA" peer "$MX_PUB" endpoint "[fd00:1::99]:51999"
IE=$(ifname ce) || exit 1
alameshd_conf "$NS_WORK/e.conf" "$IE" "$MX_PRIV" 51821
ns_add "$NS_PREFIX-e" # its own: A's and B's already route fc00::/7
ns_spawn alameshd-e "$NS_PREFIX-e" "$ALAMESHD" -c "$NS_WORK/e.conf"
wait_for "test -S $WG_SOCK_DIR/$IE.sock && wg show $IE listen-port" 10 || fail "alameshd-e did not come up"
for field in dump peers transfer endpoints; do
	ONLY_OURS=1 same "all $field" show all "$field"
done
wg show all endpoints >"$NS_WORK/theirs"
[ "$(grep -o "$IA	" "$NS_WORK/theirs" | wc -l)" = 1 ] && [ "$(grep -o "$IE	" "$NS_WORK/theirs" | wc -l)" = 1 ] ||
	fail "wg show all endpoints does not name $IA (2 peers) and $IE (none) once each (wg changed?)"
ONLY_OURS=1 same "all pretty" show all
ONLY_OURS=1 same "show without arguments" show
ONLY_OURS=1 same "no arguments at all"
same "interfaces" show interfaces
proc_stop alameshd-e TERM 10
must "second peer out" wg set "$IA" peer "$MX_PUB" remove
pass "all, interfaces"

step "a dead socket (its daemon gone) and a file that is no socket, next to live daemons"
DEAD=$WG_SOCK_DIR/$(ifname dd).sock NOTSOCK=$WG_SOCK_DIR/$(ifname df).sock
# A socket file nobody listens on, as a crashed daemon leaves it, kept under
# a second name (a hard link, not *.sock, so never listed) to put it back at
# once after each command removed it: alamesh and wg run back to back.
SPARE=$WG_SOCK_DIR/$NS_PREFIX-dd.spare
trap 'rc=$?; rm -f "$SPARE" "$NOTSOCK"; (exit $rc); _on_exit' EXIT # _on_exit exits with $?
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$SPARE" &&
	[ -S "$SPARE" ] || fail "cannot make a dead socket at $SPARE"
dead_socket() {
	ln -f "$SPARE" "$DEAD" || fail "cannot link $DEAD"
}
: >"$NOTSOCK"
# like_wg ARGS...: alamesh and wg, each with the dead socket present, print
# the same bytes and exit alike, and each removes the dead socket.
like_wg() {
	local try
	for try in 1 2 3 4 5; do
		dead_socket
		"$ALAMESH" "$@" >"$NS_WORK/ours" 2>&1
		local rc_ours=$?
		[ ! -e "$DEAD" ] || fail "alamesh $* left the dead socket"
		dead_socket
		wg "$@" >"$NS_WORK/theirs" 2>&1
		local rc_theirs=$?
		[ ! -e "$DEAD" ] || fail "wg $* left the dead socket (wg's behaviour changed?)"
		ours_only "$NS_WORK/ours"
		ours_only "$NS_WORK/theirs"
		if [ "$rc_ours" = "$rc_theirs" ] && cmp -s "$NS_WORK/ours" "$NS_WORK/theirs"; then
			[ "$rc_ours" = 0 ] || fail "alamesh $*: exit $rc_ours with a dead socket: $(cat "$NS_WORK/ours")"
			return 0
		fi
		sleep 0.3
	done
	diff "$NS_WORK/theirs" "$NS_WORK/ours" | head -n 20
	fail "with a dead socket, alamesh $* differs from wg $* (exit $rc_ours vs $rc_theirs)"
}
ONLY_OURS=1 like_wg show
ONLY_OURS=1 like_wg show all dump
ONLY_OURS=1 like_wg show all
like_wg show interfaces
grep -qw "$IA" "$NS_WORK/ours" && grep -qw "$IB" "$NS_WORK/ours" || fail "show interfaces: $(cat "$NS_WORK/ours")"
if grep -qw "$(ifname dd)" "$NS_WORK/ours"; then fail "the dead socket is listed"; fi
if grep -qw "$(ifname df)" "$NS_WORK/ours"; then fail "the file that is no socket is listed"; fi
[ -f "$NOTSOCK" ] || fail "the file that is no socket was removed"
dead_socket
if "$ALAMESH" show "$(ifname dd)" >/dev/null 2>"$NS_WORK/err"; then fail "show of a dead interface exited 0"; fi
grep -qF "$DEAD: Connection refused" "$NS_WORK/err" || fail "show of a dead interface: $(cat "$NS_WORK/err")"
[ ! -e "$DEAD" ] || fail "show of a dead interface left its socket"
rm -f "$NOTSOCK" "$SPARE"
pass "show, show all dump, show all, show interfaces: as wg, the dead socket skipped and removed, the other file kept"

step "colour: never on a pipe, on a terminal or when forced"
ALAMESH_COLOR_MODE=always "$ALAMESH" show "$IA" >"$NS_WORK/colour"
grep -q $'\x1b\\[' "$NS_WORK/colour" || fail "ALAMESH_COLOR_MODE=always gave no colour"
env -u ALAMESH_COLOR_MODE -u WG_COLOR_MODE "$ALAMESH" show "$IA" >"$NS_WORK/plain"
if grep -q $'\x1b' "$NS_WORK/plain"; then fail "colour on a pipe"; fi
env -u ALAMESH_COLOR_MODE -u WG_COLOR_MODE script -qec "$ALAMESH show $IA" /dev/null >"$NS_WORK/tty"
grep -q $'\x1b\\[' "$NS_WORK/tty" || fail "no colour on a terminal"
pass "colour on a terminal and when forced, none on a pipe"

step "alamesh's own views and errors"
for view in members registry; do
	out=$("$ALAMESH" show "$IA" "$view") || fail "show $view exit $?"
	[ "$out" = "$IA: $view: not configured" ] || fail "show $view: $out"
done
pass "members, registry: not configured without a [Registry]"
# B is wireguard-go: no routing frame comes back, so A announces B's address for it.
wait_for "'$ALAMESH' show '$IA' routes dump | grep -qP '^$MB_ADDR\t\(none\)\tdirect\t'" 20 ||
	fail "A does not route B as a stock peer: $("$ALAMESH" show "$IA" routes dump)"
out=$("$ALAMESH" show "$IA" routes dump) || fail "show routes dump exit $?"
printf '%s\n' "$out" | grep -qP "^$MA_ADDR\t\(none\)\tself\t\(none\)\t0\t[0-9]+\t0\$" ||
	fail "routes dump lacks our own route: $out"
[ "$(printf '%s\n' "$out" | wc -l)" = 2 ] || fail "routes dump: $out"
table=$("$ALAMESH" show "$IA" routes) || fail "show routes exit $?"
printf '%s\n' "$table" | head -n1 | grep -q '^destination *member *next hop *metric *seqno *age$' ||
	fail "routes table header: $table"
printf '%s\n' "$table" | grep -q "^$MB_ADDR .*(direct) *100 " || fail "routes table: $table"
pass "routes: our own address and B's, announced for it; table and dump forms"
if "$ALAMESH" show nosuch0 2>"$NS_WORK/err"; then fail "show of a missing interface exited 0"; fi
grep -qF "/var/run/wireguard/nosuch0.sock" "$NS_WORK/err" || fail "message lacks the socket: $(cat "$NS_WORK/err")"
grep -q 'is alameshd running' "$NS_WORK/err" || fail "message: $(cat "$NS_WORK/err")"
pass "not running: $(cat "$NS_WORK/err")"
for args in "show $IA bogus" "show $IA dump extra" "showconf" "set" "set $IA listen-port" \
	"set $IA listen-port 70000" "set $IA peer notakey" "set $IA peer $MB_PUB endpoint" \
	"set $IA peer $MB_PUB bogus 1" "set $IA fwmark x" "set $IA private-key /nonexistent" \
	"genpsk extra" "set $IA peer $MB_PUB allowed-ips 1.2.3.4/99"; do
	# shellcheck disable=SC2086
	if "$ALAMESH" $args >/dev/null 2>"$NS_WORK/err"; then fail "alamesh $args exited 0"; fi
	[ -s "$NS_WORK/err" ] || fail "alamesh $args: exit 1 without a word"
done
pass "bad arguments exit 1 with a message"
psk=$("$ALAMESH" genpsk) || fail "genpsk"
[ "$(printf '%s\n' "$psk" | base64 -d | wc -c)" = 32 ] || fail "genpsk: $psk"
pass "genpsk"

step "bash completion"
out=$(PATH="$(dirname "$ALAMESH"):$PATH" bash -c '
	_init_completion() { words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; cur=${words[cword]}; prev=${words[cword-1]}; }
	_filedir() { :; }
	. "$1/contrib/completion/alamesh.bash"
	comp() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _alamesh; echo "${COMPREPLY[*]}"; }
	comp alamesh sh
	comp alamesh show "$2" tra
	comp alamesh show ""
	comp alamesh set "$2" peer ""
	comp alamesh set "$2" peer KEY end' _ "$NS_TOP" "$IA") || fail "completion script"
mapfile -t lines <<<"$out"
[ "${lines[0]}" = "show showconf" ] || fail "complete 'alamesh sh': ${lines[0]}"
[ "${lines[1]}" = "transfer" ] || fail "complete show field: ${lines[1]}"
[[ " ${lines[2]} " == *" $IA "* ]] || fail "complete interfaces: ${lines[2]}"
[ "${lines[3]}" = "$MB_PUB" ] || fail "complete peers: ${lines[3]}"
[ "${lines[4]}" = "endpoint" ] || fail "complete peer keyword: ${lines[4]}"
pass "bash completion: subcommands, fields, interfaces, peers, keywords"
