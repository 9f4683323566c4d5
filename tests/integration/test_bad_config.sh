#!/usr/bin/env bash
# Bad configs: alameshd (and alameshd -t) must exit 1 with "FILE:LINE: ..."
# on stderr and never create its interface, not even for a moment (an
# `ip monitor link` in the namespace watches). A good config passes -t, and
# an unknown section is an error for -t but only a warning (naming
# FILE:LINE) at run time, as daemon/config/config.h specifies. At run time the
# messages go through the daemon's log ("alameshd: " before them, or under
# the journal <3> for errors and <4> for warnings); -t prints them bare.
# -i names the interface over Name =, with a warning when they differ;
# without -c the file is /etc/alamesh/alamesh.conf.
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

need_root
need_tool ip wg unshare mount
need_alamesh

NS="$NS_PREFIX-c"
ns_add "$NS"
new_node K
new_node P

# The watcher is ready once it reports a TUN made for the purpose (made
# again until it does: it may not have subscribed yet).
ns_spawn monitor "$NS" ip monitor link
MON_LOG=${PROC_LOG[monitor]}
READY=$(ifname ready) || exit 1
probe_monitor() {
	ip -n "$NS" tuntap add "$READY" mode tun && ip -n "$NS" link del "$READY" &&
		grep -q "$READY" "$MON_LOG"
}
wait_for probe_monitor 5 || fail "ip monitor link not reporting"

# conf_file NAME: writes a config (on stdin) to NAME.conf, prints its path.
conf_file() {
	local f="$NS_WORK/$1.conf"
	(umask 077 && cat >"$f")
	printf '%s\n' "$f"
}

# no_iface IFNAME: IFNAME does not exist and never appeared.
no_iface() {
	if ip -n "$NS" link show "$1" >/dev/null 2>&1; then
		check_fail "$1 exists"
	elif grep -q "$1" "$MON_LOG"; then
		check_fail "$1 was created (ip monitor: $(grep -m1 "$1" "$MON_LOG"))"
	fi
}

# reject WHAT LINE FILE IFNAME [-t]: alameshd exits 1 naming FILE:LINE and
# creates no interface. A failed case is reported and the next one runs.
reject() {
	local what=$1 line=$2 file=$3 ifn=$4 mode=${5:-} rc
	local args=(-c "$file") label="alameshd"
	[ -n "$mode" ] && args=("$mode" -c "$file") label="alameshd $mode"
	nsx "$NS" timeout --foreground 10 "$ALAMESHD" "${args[@]}" >"$NS_WORK/out" 2>"$NS_WORK/err"
	rc=$?
	local err
	err=$(head -c 300 "$NS_WORK/err")
	if [ "$rc" -eq 124 ]; then
		check_fail "$label, $what: still running after 10 s"
	elif [ "$rc" -ne 1 ]; then
		check_fail "$label, $what: exit status $rc, want 1 (stderr: $err)"
	elif ! grep -qF "$file:$line:" "$NS_WORK/err"; then
		check_fail "$label, $what: stderr does not name $file:$line: $err"
	fi
	local before=$CHECK_FAILS
	no_iface "$ifn"
	[ "$before" -eq "$CHECK_FAILS" ] && [ "$rc" -eq 1 ] &&
		grep -qF "$file:$line:" "$NS_WORK/err" &&
		pass "$label, $what: exit 1, $(grep -m1 -F "$file:$line:" "$NS_WORK/err")"
	return 0
}

# Each case: a config whose line LINE is wrong.
I=$(ifname c1) || exit 1
f=$(conf_file c1 <<EOF
[Interface]
Name = $I
PrivateKey = not-a-key
ListenPort = 51820
EOF
)
reject "bad private key" 3 "$f" "$I"
reject "bad private key" 3 "$f" "$I" -t

I=$(ifname c2) || exit 1
f=$(conf_file c2 <<EOF
[Interface]
Name = $I
PrivateKey = ${K_PRIV%?}
ListenPort = 51820
EOF
)
reject "private key one character short" 3 "$f" "$I"

I=$(ifname c3) || exit 1
f=$(conf_file c3 <<EOF
[Interface]
Name = $I
PrivateKey = $K_PRIV
ListenPort = 70000
EOF
)
reject "port 70000" 4 "$f" "$I"
reject "port 70000" 4 "$f" "$I" -t

I=$(ifname c4) || exit 1
f=$(conf_file c4 <<EOF
[Interface]
Name = $I
PrivateKey = $K_PRIV
ListenPort = http
EOF
)
reject "port 'http'" 4 "$f" "$I"

I=$(ifname c5) || exit 1
f=$(conf_file c5 <<EOF
[Interface]
Name = $I
PrivateKey = $K_PRIV
ListenPort = 51820

[Peer]
PublicKey = AAAA
EOF
)
reject "bad peer public key" 7 "$f" "$I"

I=$(ifname c6) || exit 1
f=$(conf_file c6 <<EOF
[Interface]
Name = $I
PrivateKey = $K_PRIV
ListenPort = 51820

[Peer]
PublicKey = $P_PUB
Endpoint = 10.0.0.2
EOF
)
reject "endpoint without a port" 8 "$f" "$I"

I=$(ifname c7) || exit 1
f=$(conf_file c7 <<EOF
[Interface]
Name = $I
PrivateKey = $K_PRIV
ListenPort = 51820

[Bogus]
Key = value
EOF
)
reject "unknown section" 6 "$f" "$I" -t

# A registry URL of a scheme alamesh.conf(5) does not list: -t says so, with
# the value, instead of the first fetch failing an Interval later. (Not in
# f and I: the run-time checks below use the unknown section's.)
IU=$(ifname cu) || exit 1
fu=$(conf_file cu <<EOF
[Interface]
Name = $IU
PrivateKey = $K_PRIV
ListenPort = 51820

[Registry]
URL = ftp://x
CacheDir = $NS_WORK/cache-cu
EOF
)
reject "ftp:// registry URL" 7 "$fu" "$IU" -t
grep -qF "$fu:7: invalid URL 'ftp://x'" "$NS_WORK/err" || check_fail "-t on ftp://x: $(head -c 300 "$NS_WORK/err")"

# journal_stream FILE: JOURNAL_STREAM as systemd sets it for a stderr on FILE
# (made now, so that the redirection reopens the same inode).
journal_stream() {
	: >"$1" && stat -c '%d:%i' "$1"
}

# warns_at_run_time NAME WANT [ENV...]: alameshd runs with the unknown section
# and its log holds exactly the line WANT.
warns_at_run_time() {
	local name=$1 want=$2
	shift 2
	ns_spawn "$name" "$NS" env "$@" "$ALAMESHD" -c "$f"
	if ! wait_for "ip -n $NS -6 addr show dev $I | grep -q ' $K_ADDR/128'" 10; then
		check_fail "$name, unknown section: not up with $K_ADDR on $I after 10 s (config.h: only a warning at run time)"
	elif ! wait_for "grep -qxF '$want' '${PROC_LOG[$name]}'" 5; then
		check_fail "$name, unknown section: no line '$want' in: $(head -c 300 "${PROC_LOG[$name]}")"
	else
		pass "$name, unknown section: runs, logs $want"
	fi
	proc_stop "$name" TERM 10
	[ "$PROC_RC" -eq 0 ] || check_fail "$name exit status $PROC_RC after SIGTERM"
}

# At run time the unknown section is a warning naming it, through the log:
# "alameshd: " before it, or under systemd the journal's warning priority.
warns_at_run_time alameshd "alameshd: $f:6: warning: unknown section [Bogus]" JOURNAL_STREAM=
js=$(journal_stream "$NS_WORK/alameshd-j.log") || fail "journal_stream"
warns_at_run_time alameshd-j "<4>$f:6: warning: unknown section [Bogus]" JOURNAL_STREAM="$js"

# -t prints its lines bare, even with the journal's stream as stderr.
js=$(journal_stream "$NS_WORK/err") || fail "journal_stream"
nsx "$NS" env JOURNAL_STREAM="$js" "$ALAMESHD" -t -c "$f" 2>"$NS_WORK/err"
if [ "$(cat "$NS_WORK/err")" != "$f:6: unknown section [Bogus]" ]; then
	check_fail "alameshd -t under the journal printed: $(head -c 300 "$NS_WORK/err")"
else
	pass "alameshd -t under the journal: $(cat "$NS_WORK/err")"
fi

# A refused file at run time: each error at the journal's error priority
# and each warning at its warning one; no interface.
I=$(ifname c9) || exit 1
f=$(conf_file c9 <<EOF
[Interface]
Name = $I
PrivateKey = $K_PRIV
ListenPort = 70000
Colour = blue
EOF
)
js=$(journal_stream "$NS_WORK/err") || fail "journal_stream"
nsx "$NS" env JOURNAL_STREAM="$js" timeout --foreground 10 "$ALAMESHD" -c "$f" 2>"$NS_WORK/err"
rc=$?
want="<3>$f:4: invalid ListenPort '70000': 0 to 65535
<4>$f:5: warning: unknown key 'Colour' in [Interface]"
if [ "$rc" -ne 1 ]; then
	check_fail "alameshd under the journal, bad port: exit status $rc, want 1"
elif [ "$(cat "$NS_WORK/err")" != "$want" ]; then
	check_fail "alameshd under the journal, bad port: stderr $(head -c 300 "$NS_WORK/err"), want $want"
else
	pass "alameshd under the journal: $(tr '\n' ' ' <"$NS_WORK/err")"
fi
no_iface "$I"

# -i names the interface, over a different Name = (which -t and the running
# daemon point out with a warning, and which is never created); a name -i
# cannot take is refused before anything is made.
I=$(ifname ci) && OTHER=$(ifname cn) || exit 1
f=$(conf_file ci <<EOF
[Interface]
Name = $OTHER
PrivateKey = $K_PRIV
ListenPort = 51820
EOF
)
warn="$f:2: warning: Name = $OTHER is overridden by -i $I"
nsx "$NS" "$ALAMESHD" -t -i "$I" -c "$f" 2>"$NS_WORK/err"
rc=$?
if [ "$rc" -ne 0 ] || [ "$(cat "$NS_WORK/err")" != "$warn" ]; then
	check_fail "alameshd -t -i $I over Name = $OTHER: exit $rc, $(head -c 300 "$NS_WORK/err") (want 0, $warn)"
else
	pass "alameshd -t -i: exit 0, $warn"
fi
ns_spawn alameshd-i "$NS" "$ALAMESHD" -i "$I" -c "$f"
if ! wait_for "ip -n $NS -6 addr show dev $I | grep -q ' $K_ADDR/128'" 10; then
	check_fail "alameshd -i $I: no $I with $K_ADDR after 10 s"
elif ! wait_for "grep -qxF 'alameshd: $warn' '${PROC_LOG[alameshd-i]}'" 5; then
	check_fail "alameshd -i $I: no warning 'alameshd: $warn' in: $(head -c 300 "${PROC_LOG[alameshd-i]}")"
elif [ "$(wg show interfaces | tr ' ' '\n' | grep -c -x -e "$I" -e "$OTHER")" != 1 ] || ! wg show "$I" >/dev/null; then
	check_fail "alameshd -i $I: control socket not $I's alone: $(wg show interfaces)"
else
	pass "alameshd -i $I: interface and control socket $I, not $OTHER; logs the override"
fi
proc_stop alameshd-i TERM 10
[ "$PROC_RC" -eq 0 ] || check_fail "alameshd -i exit status $PROC_RC after SIGTERM"
no_iface "$OTHER"
for bad in "a/b" "" "0123456789abcdef" "a b" ".."; do
	nsx "$NS" timeout --foreground 10 "$ALAMESHD" -i "$bad" -c "$f" >/dev/null 2>"$NS_WORK/err"
	rc=$?
	if [ "$rc" -ne 1 ] || ! grep -qF "invalid interface name '$bad' for -i" "$NS_WORK/err"; then
		check_fail "alameshd -i '$bad': exit $rc, $(head -c 300 "$NS_WORK/err")"
	fi
done
no_iface "$OTHER"
pass "alameshd -i refuses names Name = would refuse"

# The missing file names the file.
nsx "$NS" timeout --foreground 10 "$ALAMESHD" -c "$NS_WORK/missing.conf" >/dev/null 2>"$NS_WORK/err"
rc=$?
if [ "$rc" -ne 1 ]; then
	check_fail "missing config: exit status $rc, want 1"
elif ! grep -qF "$NS_WORK/missing.conf" "$NS_WORK/err"; then
	check_fail "missing config: stderr does not name the file"
else
	pass "missing config: exit 1, $(head -n1 "$NS_WORK/err")"
fi

# Without -c the file is /etc/alamesh/alamesh.conf, as alamesh.conf(5) says:
# tried in a mount namespace of its own, on a tmpfs over /etc, so that this
# host's own /etc is neither read nor touched.
default_conf() {
	unshare -m sh -c '
		mount -t tmpfs -o mode=0755 tmpfs /etc || exit 99
		if [ -n "$2" ]; then
			mkdir /etc/alamesh && (umask 077 && printf "%s" "$2" >/etc/alamesh/alamesh.conf)
		fi
		exec "$1" -t' sh "$ALAMESHD" "${1:-}" >/dev/null 2>"$NS_WORK/err"
}
default_conf
rc=$?
if [ "$rc" -ne 1 ] || [ "$(cat "$NS_WORK/err")" != "/etc/alamesh/alamesh.conf: No such file or directory" ]; then
	check_fail "alameshd -t without -c or a default file: exit $rc, $(head -c 300 "$NS_WORK/err")"
else
	pass "alameshd -t without -c reads /etc/alamesh/alamesh.conf: $(cat "$NS_WORK/err")"
fi
default_conf "$(printf '[Interface]\nPrivateKey = %s\nColour = blue\n' "$K_PRIV")"
rc=$?
if [ "$rc" -ne 1 ] || [ "$(cat "$NS_WORK/err")" != "/etc/alamesh/alamesh.conf:3: unknown key 'Colour' in [Interface]" ]; then
	check_fail "alameshd -t without -c, default file with an unknown key: exit $rc, $(head -c 300 "$NS_WORK/err")"
else
	pass "alameshd -t without -c checks /etc/alamesh/alamesh.conf: $(cat "$NS_WORK/err")"
fi
default_conf "$(printf '[Interface]\nPrivateKey = %s\n' "$K_PRIV")"
rc=$?
[ "$rc" -eq 0 ] || check_fail "alameshd -t without -c, a good default file: exit $rc, $(head -c 300 "$NS_WORK/err")"

# The control: a good config passes -t (and -t creates nothing either).
I=$(ifname c8) || exit 1
f=$(conf_file c8 <<EOF
[Interface]
Name = $I
PrivateKey = $K_PRIV
ListenPort = 51820
MTU = 1420

[Peer]
PublicKey = $P_PUB
Endpoint = [fd00::2]:51820
PersistentKeepalive = 25
EOF
)
nsx "$NS" timeout --foreground 10 "$ALAMESHD" -t -c "$f" >/dev/null 2>"$NS_WORK/err"
rc=$?
if [ "$rc" -ne 0 ]; then
	check_fail "good config: alameshd -t exit status $rc: $(head -c 300 "$NS_WORK/err")"
else
	pass "good config: alameshd -t exit 0"
fi
no_iface "$I"
check_done "bad configs rejected"
