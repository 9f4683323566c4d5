#!/usr/bin/env bash
# alamesh genkey/pubkey/addr against wg(8) and the DESIGN.md vectors, and
# the error paths: bad input exits 1 with usage or a clear message.
# Needs no privileges and no network. ALAMESH overrides the binary.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
alamesh=${ALAMESH:-$top/${BUILD:-build}/alamesh}
alameshd=${ALAMESHD:-$top/${BUILD:-build}/alameshd}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

pass() {
	echo "ok: $*"
}

# expect_status WANT DESCRIPTION CMD...: runs CMD, output in $work/out, $work/err.
expect_status() {
	local want=$1 what=$2
	shift 2
	"$@" >"$work/out" 2>"$work/err"
	local rc=$?
	if [ "$rc" -eq "$want" ]; then pass "$what"; else fail "$what: exit $rc, wanted $want"; fi
}

[ -x "$alamesh" ] || { echo "no binary at $alamesh (make first)"; exit 1; }
command -v wg >/dev/null || { echo "wg(8) is not installed"; exit 1; }

# genkey | pubkey equals wg pubkey of the same key, and wg accepts our keys.
for i in 1 2 3 4 5; do
	key=$("$alamesh" genkey) || fail "genkey exits 0"
	[[ $key =~ ^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$ ]] || fail "genkey output is base64 of 32 bytes: $key"
	ours=$(printf '%s\n' "$key" | "$alamesh" pubkey) || fail "pubkey exits 0"
	theirs=$(printf '%s\n' "$key" | wg pubkey) || fail "wg pubkey accepts our key"
	[ "$ours" = "$theirs" ] && pass "pubkey = wg pubkey ($ours)" || fail "pubkey $ours != wg $theirs"
	# genkey clamps like wg: byte 0 & 7 == 0, byte 31 top bits 01.
	bytes=$(printf '%s' "$key" | base64 -d | od -An -tu1 -v | tr -s ' \n' ' ')
	set -- $bytes
	b0=$1 b31=${32}
	if [ $((b0 & 7)) -eq 0 ] && [ $((b31 & 192)) -eq 64 ]; then pass "genkey clamps"; else fail "genkey not clamped: $b0 $b31"; fi
done

# wg's keys through our pubkey, including unclamped ones and no trailing newline.
for i in 1 2 3; do
	key=$(wg genkey)
	[ "$(printf '%s' "$key" | "$alamesh" pubkey)" = "$(printf '%s' "$key" | wg pubkey)" ] &&
		pass "pubkey of wg genkey" || fail "pubkey of wg genkey differs"
	raw=$(head -c 32 /dev/urandom | base64)
	[ "$(printf '%s\n' "$raw" | "$alamesh" pubkey)" = "$(printf '%s\n' "$raw" | wg pubkey)" ] &&
		pass "pubkey of unclamped bytes" || fail "pubkey of unclamped $raw differs"
done

# Two keys never repeat.
[ "$("$alamesh" genkey)" != "$("$alamesh" genkey)" ] && pass "genkey is random" || fail "genkey repeated"

# A world-readable output file draws the warning; a private one does not.
(umask 022 && "$alamesh" genkey >"$work/open.key" 2>"$work/open.err")
grep -q "world accessible" "$work/open.err" && pass "genkey warns on world-readable file" ||
	fail "genkey did not warn on a world-readable file"
(umask 077 && "$alamesh" genkey >"$work/closed.key" 2>"$work/closed.err")
[ ! -s "$work/closed.err" ] && pass "genkey quiet on private file" || fail "genkey warned on a private file"
"$alamesh" pubkey <"$work/closed.key" >/dev/null && pass "pubkey reads a key file" || fail "pubkey on key file"

# The address vectors, as an argument and on stdin.
check_addr() {
	local pub=$1 want=$2 got
	got=$("$alamesh" addr "$pub") && [ "$got" = "$want" ] && pass "addr $pub" ||
		fail "addr $pub: got '$got', wanted $want"
	got=$(printf '%s\n' "$pub" | "$alamesh" addr) && [ "$got" = "$want" ] && pass "addr stdin $pub" ||
		fail "addr stdin $pub: got '$got', wanted $want"
}
check_addr HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw= fc3b:5bd6:826c:3e9c:d662:b3e0:d37e:6fe
check_addr xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg= fcb6:c89d:4f1f:4a2a:2972:73a0:5a38:53f1

# The whole chain: private key -> public key -> address in fc00::/8.
a=$("$alamesh" genkey | "$alamesh" pubkey | "$alamesh" addr)
[[ $a =~ ^fc[0-9a-f]{2}: ]] && pass "genkey|pubkey|addr gives $a" || fail "chain gave '$a'"

# Usage and version.
expect_status 0 "--help exits 0" "$alamesh" --help
grep -q genkey "$work/out" && grep -q pubkey "$work/out" && grep -q addr "$work/out" &&
	pass "--help lists subcommands on stdout" || fail "--help output"
expect_status 0 "help exits 0" "$alamesh" help
# The daemon takes --help as -h: the usage on stdout, exit 0, nothing on stderr.
for flag in --help -h; do
	expect_status 0 "alameshd $flag exits 0" "$alameshd" $flag
	grep -q '^Usage: alameshd' "$work/out" && [ ! -s "$work/err" ] &&
		pass "alameshd $flag: usage on stdout" || fail "alameshd $flag output"
done
expect_status 1 "alameshd --frobnicate exits 1" "$alameshd" --frobnicate
grep -q '^Usage: alameshd' "$work/err" && [ ! -s "$work/out" ] &&
	pass "alameshd --frobnicate: usage on stderr" || fail "alameshd --frobnicate output"
expect_status 0 "--version exits 0" "$alamesh" --version
grep -q alamesh "$work/out" && pass "--version prints a version" || fail "--version output"
# No subcommand is `show`, as for wg (test_cli_show compares the output).
"$alamesh" >/dev/null 2>"$work/err"
if grep -q Usage "$work/err"; then fail "no subcommand printed the usage, not show"; else pass "no subcommand: show"; fi
expect_status 1 "unknown subcommand exits 1" "$alamesh" frobnicate
grep -q Usage "$work/err" && grep -q frobnicate "$work/err" && [ ! -s "$work/out" ] &&
	pass "unknown subcommand: named, usage on stderr" || fail "unknown subcommand output"
expect_status 1 "genkey with an argument exits 1" "$alamesh" genkey extra
grep -q Usage "$work/err" && pass "genkey usage on stderr" || fail "genkey usage"
expect_status 1 "pubkey with an argument exits 1" "$alamesh" pubkey extra
expect_status 1 "addr with two arguments exits 1" "$alamesh" addr a b
grep -q Usage "$work/err" && pass "addr usage on stderr" || fail "addr usage"
expect_status 0 "genkey --help exits 0" "$alamesh" genkey --help

# Bad keys: a clear message, nothing on stdout, exit 1.
bad_keys=(
	""
	"not a key"
	"HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8yk="
	"HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw"
	"HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=="
	"HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykx="
	"HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8yk!="
	" HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="
)
for k in "${bad_keys[@]}"; do
	expect_status 1 "addr rejects '$k'" "$alamesh" addr "$k"
	grep -q "not the correct length or format" "$work/err" && [ ! -s "$work/out" ] ||
		fail "addr '$k': message or stdout"
	printf '%s\n' "$k" >"$work/in"
	expect_status 1 "pubkey rejects '$k'" "$alamesh" pubkey <"$work/in"
	grep -q "not the correct length or format" "$work/err" && [ ! -s "$work/out" ] ||
		fail "pubkey '$k': message or stdout"
done
printf 'HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=\nsecond line\n' >"$work/in"
expect_status 1 "pubkey rejects trailing garbage" "$alamesh" pubkey <"$work/in"
head -c 100000 /dev/zero >"$work/in"
expect_status 1 "pubkey rejects a huge input" "$alamesh" pubkey <"$work/in"
expect_status 1 "addr rejects empty stdin" "$alamesh" addr </dev/null

# genpsk: 32 random bytes in base64, wg accepts it as a key, never twice the same.
psk=$("$alamesh" genpsk) || fail "genpsk exits 0"
[[ $psk =~ ^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$ ]] && [ "$(printf '%s' "$psk" | base64 -d | wc -c)" = 32 ] &&
	pass "genpsk is base64 of 32 bytes" || fail "genpsk output: $psk"
printf '%s\n' "$psk" | wg pubkey >/dev/null && pass "wg reads a genpsk key" || fail "wg rejects genpsk output"
[ "$("$alamesh" genpsk)" != "$("$alamesh" genpsk)" ] && pass "genpsk is random" || fail "genpsk repeated"
(umask 022 && "$alamesh" genpsk >"$work/open.psk" 2>"$work/open.err")
grep -q "world accessible" "$work/open.err" && pass "genpsk warns on world-readable file" ||
	fail "genpsk did not warn on a world-readable file"
expect_status 1 "genpsk with an argument exits 1" "$alamesh" genpsk extra
grep -q Usage "$work/err" && [ ! -s "$work/out" ] && pass "genpsk usage on stderr" || fail "genpsk usage"

# Every subcommand: --help and -h are usage on stdout, exit 0; for registry
# check and add too, which must not take them for a directory or a name (run
# in a directory of their own, where a member written by mistake would show).
mkdir "$work/cwd" && cd "$work/cwd" || exit 1
for sub in show showconf set sync genkey genpsk pubkey addr registry "registry check" "registry add"; do
	for flag in --help -h; do
		# shellcheck disable=SC2086
		expect_status 0 "$sub $flag exits 0" "$alamesh" $sub "$flag"
		grep -q "^Usage: " "$work/out" && grep -q "$alamesh $sub" "$work/out" && [ ! -s "$work/err" ] &&
			pass "$sub $flag prints its usage" || fail "$sub $flag output: $(cat "$work/out" "$work/err")"
	done
done
expect_status 0 "registry add NAME --help exits 0" "$alamesh" registry add alice --help
[ -z "$(ls -A "$work/cwd")" ] && [ ! -e "$work/alice.key" ] && pass "registry add NAME --help writes nothing" ||
	fail "registry add alice --help wrote a member: $(ls -A "$work/cwd" "$work")"
cd "$top" || exit 1

# Bad arguments: the usage on stderr, nothing on stdout, exit 1, before any
# socket is tried (so no daemon is needed to see them).
iface=alameshcli$$
iface=${iface:0:15}
bad_args=(
	"show $iface bogus"
	"show $iface peers extra"
	"show interfaces peers"
	"show all bogus"
	"showconf"
	"showconf $iface extra"
	"set"
	"set $iface"
	"set $iface bogus 1"
	"set $iface listen-port"
	"set $iface listen-port 65536"
	"set $iface listen-port 0x10"
	"set $iface fwmark x"
	"set $iface fwmark 0x100000000"
	"set $iface private-key /nonexistent/key"
	"set $iface peer"
	"set $iface peer notakey"
	"set $iface peer HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw= endpoint"
	"set $iface peer HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw= endpoint 192.0.2.1"
	"set $iface peer HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw= persistent-keepalive 65536"
	"set $iface peer HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw= allowed-ips 10.0.0.0/33"
	"set $iface peer HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw= allowed-ips 10.0.0.0/8,"
	"set $iface peer HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw= listen-port 1"
	"set $iface peer HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw= bogus 1"
)
for args in "${bad_args[@]}"; do
	# shellcheck disable=SC2086
	expect_status 1 "alamesh $args exits 1" "$alamesh" $args
	grep -q Usage "$work/err" && [ ! -s "$work/out" ] && ! grep -q "cannot connect" "$work/err" &&
		pass "alamesh $args: usage on stderr" || fail "alamesh $args: $(cat "$work/err")"
done

# A daemon that is not running: named with its socket, exit 1, for every
# subcommand that talks to one.
for args in "show $iface" "show $iface dump" "show $iface routes" "showconf $iface" 	"set $iface listen-port 1"; do
	# shellcheck disable=SC2086
	expect_status 1 "alamesh $args without a daemon exits 1" "$alamesh" $args
	grep -qF "cannot connect to $iface: /var/run/wireguard/$iface.sock: No such file or directory (is alameshd running?)" \
		"$work/err" && [ ! -s "$work/out" ] && pass "alamesh $args: names the socket" ||
		fail "alamesh $args without a daemon: $(cat "$work/err")"
done
expect_status 1 "an interface name with a slash is refused" "$alamesh" show ../etc
grep -q "invalid interface name" "$work/err" && pass "slash in interface name" || fail "slash: $(cat "$work/err")"

# Bash completion (no interface needed): subcommands, show's fields, set's keywords.
complete_words() {
	bash -c '
		_init_completion() { words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; cur=${words[cword]}; prev=${words[cword-1]}; }
		_filedir() { COMPREPLY=(FILES); }
		. "$1"
		shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _alamesh; echo "${COMPREPLY[*]}"' \
		_ "$top/contrib/completion/alamesh.bash" "$@"
}
check_completion() {
	local want=$1 got
	shift
	got=$(complete_words "$@")
	[ "$got" = "$want" ] && pass "complete '$*' -> '$want'" || fail "complete '$*': '$got', wanted '$want'"
}
check_completion "show showconf set sync" alamesh s
check_completion "genkey genpsk" alamesh gen
check_completion "persistent-keepalive" alamesh show all pers
check_completion "listen-port latest-handshakes" alamesh show x l
check_completion "routes registry" alamesh show x r
check_completion "" alamesh show interfaces ""
check_completion "listen-port" alamesh set x li
check_completion "private-key peer" alamesh set x p
check_completion "preshared-key persistent-keepalive peer" alamesh set x peer K p
check_completion "remove" alamesh set x peer K endpoint 192.0.2.1:1 re
check_completion "off" alamesh set x fwmark ""
check_completion "off" alamesh set x peer K persistent-keepalive ""
check_completion "FILES" alamesh set x private-key ""
check_completion "" alamesh set x peer K endpoint ""
check_completion "--help --version" alamesh --
check_completion "dump" alamesh show x routes ""
check_completion "" alamesh show x routes dump ""
check_completion "" alamesh show x peers ""
check_completion "check add" alamesh registry ""
check_completion "" alamesh registry add ""
check_completion "--endpoint --dir" alamesh registry add -
check_completion "--endpoint --dir" alamesh registry add alice ""
check_completion "--dir" alamesh registry add alice --endpoint h:1 --d
check_completion "" alamesh registry add alice --endpoint ""
check_completion "FILES" alamesh registry add alice --dir ""
check_completion "" alamesh registry add --dir d ""
check_completion "--endpoint --dir" alamesh registry add --dir d alice ""

if [ "$fails" -ne 0 ]; then
	echo "$fails check(s) failed"
	exit 1
fi
echo "all CLI checks passed"
