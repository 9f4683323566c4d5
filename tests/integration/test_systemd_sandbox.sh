#!/usr/bin/env bash
# alameshd the way contrib/systemd/alameshd@.service starts it, as far as can
# be done without systemd as PID 1: the unit's CapabilityBoundingSet and
# NoNewPrivileges (read from the unit file, applied with setpriv), its UMask,
# its ExecStartPre= in their order (directories made first, then the -t
# check under the same restrictions), and a $NOTIFY_SOCKET listening as
# systemd's does. A (User = nobody, with a registry in a cache directory
# that starts out root's, as ExecStartPre leaves it) and B (root, no User)
# both start inside those limits, tell the socket READY=1 with a STATUS from
# their own pid, carry traffic, and say STOPPING=1 when stopped; A starts a
# second time over the cache it left behind. The commands are the unit's own
# ExecStartPre= -t and ExecStart= lines for the instance: B's file has no
# Name =, and its interface is named after the instance all the same (-i %i).
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

need_root
need_tool ip wg ping python3 setpriv git
need_alamesh
id nobody >/dev/null 2>&1 || fail "no user nobody on this machine"
NOBODY_UID=$(id -u nobody)
UNIT=${UNIT:-$NS_TOP/contrib/systemd/alameshd@.service}
[ -f "$UNIT" ] || fail "no $UNIT"

# unit_key KEY: the value of KEY= in the unit (the last one wins, as in systemd).
unit_key() { sed -n "s/^$1=//p" "$UNIT" | tail -n 1; }

step "the unit's limits, as setpriv options"
bset=$(unit_key CapabilityBoundingSet)
[ -n "$bset" ] || fail "no CapabilityBoundingSet in the unit"
caps=-all
for c in $bset; do caps+=",+$(printf '%s' "${c#CAP_}" | tr '[:upper:]' '[:lower:]')"; done
[ "$(unit_key NoNewPrivileges)" = yes ] || fail "NoNewPrivileges is not yes"
umask_unit=$(unit_key UMask)
[ -n "$umask_unit" ] || fail "no UMask in the unit"
# sandboxed CMD...: runs CMD as the unit's ExecStart would (minus what only
# systemd can do: mount namespaces, seccomp, device policy).
SANDBOX=(setpriv --bounding-set="$caps" --no-new-privs sh -c "umask $umask_unit && exec \"\$@\"" sandboxed)
pass "bounding set $caps, no_new_privs, umask $umask_unit"

step "ExecStartPre: directories first, then the -t check"
# Every ReadWritePaths= directory must exist before a sandboxed command runs
# (systemd refuses to set up the namespace otherwise), so the unprivileged
# mkdir lines ("+") must come before the -t check.
pre=$(sed -n 's/^ExecStartPre=//p' "$UNIT")
first_check=$(printf '%s\n' "$pre" | grep -n -- ' -t ' | head -n 1 | cut -d: -f1)
[ -n "$first_check" ] || fail "no ExecStartPre with -t"
for d in $(unit_key ReadWritePaths); do
	case $d in -*) continue ;; esac # "-": may be missing
	line=$(printf '%s\n' "$pre" | grep -n -- "^+/bin/mkdir .* $d\$" | head -n 1 | cut -d: -f1)
	[ -n "$line" ] || fail "ReadWritePaths $d: no ExecStartPre=+/bin/mkdir ... $d"
	[ "$line" -lt "$first_check" ] || fail "ReadWritePaths $d is made after the -t check"
done
if grep -q '^StateDirectory=' "$UNIT"; then
	# systemd would chown it back to root (recursively) on every start,
	# under the feet of a daemon that dropped to User= of its config.
	fail "StateDirectory= in the unit: the cache must stay the config's User's"
fi
pass "$(printf '%s\n' "$pre" | tr '\n' ';')"

netns_pair a b
new_node MA
new_node MB
IA=$(ifname sa) && IB=$(ifname sb) || exit 1
use_underlay 4 51820

# A directory nobody can reach: the notify socket, the registry, the cache.
PUB=$(mktemp -d /tmp/alamesh-sandbox.XXXXXX) && chmod 755 "$PUB" || fail "mktemp"
trap 'rc=$?; rm -rf "$PUB"; (exit $rc); _on_exit' EXIT # _on_exit exits with $?
git init -q -b main "$PUB/src" && mkdir "$PUB/src/members" || fail "git init"
printf '[Member]\nPublicKey = %s\n' "$MA_PUB" >"$PUB/src/members/a.conf"
printf '[Member]\nPublicKey = %s\n' "$MB_PUB" >"$PUB/src/members/b.conf"
git -C "$PUB/src" add -A && git -C "$PUB/src" -c user.email=t@e -c user.name=t commit -qm m &&
	git clone -q --bare "$PUB/src" "$PUB/registry.git" && chmod -R a+rX "$PUB" || fail "registry"
# As ExecStartPre=+/bin/mkdir leaves it: root's, 0750.
mkdir -m 0750 "$PUB/cache" || fail "mkdir cache"

step "a notify socket, as systemd's"
cat >"$NS_WORK/notify.py" <<'EOF'
import os, socket, struct, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o777)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
with open(out, "a", buffering=1) as f:
    while True:
        data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = uid = -1
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid, uid, _ = struct.unpack("iii", cdata[:12])
        f.write("pid=%d uid=%d %s\n" % (pid, uid, data.decode(errors="replace").replace("\n", "|")))
EOF
NOTIFY=$PUB/notify.sock
NLOG=$NS_WORK/notify.log
: >"$NLOG"
ns_spawn notify "$NS_A" python3 "$NS_WORK/notify.py" "$NOTIFY" "$NLOG"
wait_for "test -S $NOTIFY" 5 || fail "the notify listener did not start"
pass "$NOTIFY"

alameshd_conf "$NS_WORK/a.conf" "$IA" "$MA_PRIV" 51820
printf 'User = nobody\n' >>"$NS_WORK/a.conf"
alameshd_conf_peer "$NS_WORK/a.conf" "$MB_PUB" "$EP_B"
printf '\n[Registry]\nURL = file://%s/registry.git\nCacheDir = %s/cache\n' "$PUB" "$PUB" >>"$NS_WORK/a.conf"
# B's file names no interface: the instance's name (-i %i) is all it gets.
alameshd_conf "$NS_WORK/b.conf" "$IB" "$MB_PRIV" 51820
sed -i '/^Name = /d' "$NS_WORK/b.conf"
alameshd_conf_peer "$NS_WORK/b.conf" "$MA_PUB" "$EP_A"

# unit_exec LINE INSTANCE CONF: the unit's command line LINE as systemd runs
# it for INSTANCE (%i), with our binary and CONF for /etc/alamesh/%i.conf;
# left in EXEC.
unit_exec() {
	local line=$1 inst=$2 conf=$3
	line=${line//\/usr\/local\/sbin\/alameshd/$ALAMESHD}
	line=${line//\/etc\/alamesh\/%i.conf/$conf}
	line=${line//%i/$inst}
	read -r -a EXEC <<<"$line"
}
CHECK_LINE=$(printf '%s\n' "$pre" | grep -- ' -t ' | head -n 1)
START_LINE=$(unit_key ExecStart)
case $START_LINE in *"-i %i"*) ;; *) fail "ExecStart does not name the interface after the instance: $START_LINE" ;; esac
case $CHECK_LINE in *"-i %i"*) ;; *) fail "the -t check does not name the interface after the instance: $CHECK_LINE" ;; esac

# start_sandboxed NAME NS CONF IFNAME ADDR: ExecStartPre's -t, then ExecStart,
# for instance IFNAME, both inside the unit's limits, with $NOTIFY_SOCKET set.
start_sandboxed() {
	local name=$1 ns=$2 conf=$3 ifname=$4 addr=$5
	unit_exec "$CHECK_LINE" "$ifname" "$conf"
	must "$name: -t in the sandbox" "${SANDBOX[@]}" "${EXEC[@]}"
	unit_exec "$START_LINE" "$ifname" "$conf"
	ns_spawn "$name" "$ns" env NOTIFY_SOCKET="$NOTIFY" "${SANDBOX[@]}" "${EXEC[@]}"
	if ! wait_for "ip -n $ns -6 addr show dev $ifname | grep -q ' $addr/128'" 10; then
		proc_alive "$name" || fail "$name exited at start-up"
		fail "$name: no $ifname with $addr/128 after 10 s"
	fi
	info "$name up in $ns: $ifname $addr"
}

# ready_from NAME UID: READY=1 with a STATUS, sent by NAME's own pid as UID.
ready_from() {
	local pid=${PROC_PID[$1]} uid=$2
	wait_for "grep -q '^pid=$pid .*READY=1' $NLOG" 10 || fail "$1: no READY=1 from pid $pid: $(cat "$NLOG")"
	grep -q "^pid=$pid uid=$uid READY=1|STATUS=.* up: .*, UDP port [0-9]*|\$" "$NLOG" ||
		fail "$1: READY=1 not as wanted (pid $pid uid $uid): $(grep "^pid=$pid " "$NLOG")"
}

step "A (User = nobody) and B (root) start inside the unit's limits"
start_sandboxed alameshd-a "$NS_A" "$NS_WORK/a.conf" "$IA" "$MA_ADDR"
start_sandboxed alameshd-b "$NS_B" "$NS_WORK/b.conf" "$IB" "$MB_ADDR"
ready_from alameshd-a "$NOBODY_UID"
ready_from alameshd-b 0
ip -n "$NS_B" link show "$IB" >/dev/null 2>&1 || fail "B's interface is not named $IB, its instance"
if ip -n "$NS_B" link show alamesh0 >/dev/null 2>&1; then fail "B made alamesh0, the default, not $IB"; fi
pid=${PROC_PID[alameshd-a]}
for t in /proc/"$pid"/task/*; do
	[ "$(awk '$1 == "CapBnd:" {print $2}' "$t/status")" = 0000000000001400 ] || fail "$t: $(grep ^Cap "$t/status")"
	[ "$(awk '$1 == "Uid:" {print $2}' "$t/status")" = "$NOBODY_UID" ] || fail "$t: not nobody"
done
[ "$(stat -c %U "$PUB/cache")" = nobody ] || fail "cache dir not handed to nobody"
pass "$(grep "^pid=$pid " "$NLOG")"

step "traffic and the registry"
ping_until "$NS_A" "$MB_ADDR" 15 || fail "ping A -> B"
ping_ok "$NS_B" "$MA_ADDR" 3 || fail "ping B -> A"
wait_for "grep -q 'registry: applied' ${PROC_LOG[alameshd-a]}" 15 ||
	fail "A applied no registry: $(tail -n 3 "${PROC_LOG[alameshd-a]}")"
pass "ping6 both ways; A fetched its registry as nobody"

step "STOPPING=1 on SIGTERM; A starts again over the cache it left"
proc_stop alameshd-a TERM 10 || fail "A did not stop"
[ "$PROC_RC" -eq 0 ] || fail "A exited $PROC_RC"
grep -q "^pid=$pid uid=$NOBODY_UID STOPPING=1|\$" "$NLOG" || fail "no STOPPING=1 from A: $(grep "^pid=$pid " "$NLOG")"
: >"${PROC_LOG[alameshd-a]}"
start_sandboxed alameshd-a "$NS_A" "$NS_WORK/a.conf" "$IA" "$MA_ADDR"
ready_from alameshd-a "$NOBODY_UID"
out=$("$ALAMESH" sync "$IA") || fail "alamesh sync after the restart: $out"
if grep -qi 'permission denied' "${PROC_LOG[alameshd-a]}"; then
	fail "A, restarted: $(grep -i 'permission denied' "${PROC_LOG[alameshd-a]}")"
fi
# A has no session after its restart and starts the handshake (B, holding the
# old one, would only notice after the protocol's 15 s without an answer).
ping_until "$NS_A" "$MB_ADDR" 15 || fail "ping A -> B after A's restart"
ping_ok "$NS_B" "$MA_ADDR" 3 || fail "ping B -> A after A's restart"
pass "STOPPING=1 seen; restarted: $out"

step "an admin runs it as root by hand (no User =), then the unit as nobody again"
proc_stop alameshd-a TERM 10 || fail "A did not stop"
sed -i '/^User = nobody$/d' "$NS_WORK/a.conf"
: >"${PROC_LOG[alameshd-a]}"
alameshd_start alameshd-a "$NS_A" "$NS_WORK/a.conf" "$IA" "$MA_ADDR"
# member c: git writes new objects and refs, as root, into nobody's cache
printf '[Member]\nPublicKey = %s\n' "$(wg genkey | wg pubkey)" >"$PUB/src/members/c.conf"
git -C "$PUB/src" add -A && git -C "$PUB/src" -c user.email=t@e -c user.name=t commit -qm c &&
	git -C "$PUB/src" push -q "$PUB/registry.git" main || fail "commit c"
out=$("$ALAMESH" sync "$IA") || fail "sync as root: $out"
proc_stop alameshd-a TERM 10 || fail "A (root) did not stop"
rooted=$(find "$PUB/cache" -user root | wc -l)
[ "$rooted" -gt 0 ] || fail "the root run left nothing of root's in the cache"
printf '[Member]\nPublicKey = %s\n' "$(wg genkey | wg pubkey)" >"$PUB/src/members/d.conf"
git -C "$PUB/src" add -A && git -C "$PUB/src" -c user.email=t@e -c user.name=t commit -qm d &&
	git -C "$PUB/src" push -q "$PUB/registry.git" main || fail "commit d"
sed -i 's/^MTU = 1420$/MTU = 1420\nUser = nobody/' "$NS_WORK/a.conf"
: >"${PROC_LOG[alameshd-a]}"
start_sandboxed alameshd-a "$NS_A" "$NS_WORK/a.conf" "$IA" "$MA_ADDR"
ready_from alameshd-a "$NOBODY_UID"
out=$("$ALAMESH" sync "$IA") || fail "sync as nobody after the root run: $out"
left=$(find "$PUB/cache" ! -user nobody)
[ -z "$left" ] || fail "still not nobody's: $left"
[ "$(wg show "$IA" peers | wc -l)" = 3 ] || fail "peers: $(wg show "$IA" peers)"
pass "$rooted entries of root's handed back to nobody; $out"
