#!/usr/bin/env bash
# alameshd with `User = nobody`: once its TUN and sockets are open it runs as
# nobody, every thread holding exactly CAP_NET_ADMIN and CAP_NET_BIND_SERVICE
# (and nothing else even in its bounding set, with no_new_privs), and it
# still does its whole job: carries traffic both ways, follows a peer that
# roams, completes new handshakes whichever side starts them, renews a live
# session with wireguard-go on its REKEY_AFTER_TIME timer (120 s, the
# session started early and the other steps run meanwhile), and takes
# `wg set` from root: a keepalive, a listen port below 1024, a firewall mark
# and a new private key (a new address on the TUN). `alameshd -t` refuses an
# unknown user.
# runs-alongside
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

need_root
need_tool ip wg wireguard-go ping python3 ss git
need_alamesh
id nobody >/dev/null 2>&1 || fail "no user nobody on this machine"
NOBODY_UID=$(id -u nobody)

netns_pair a b
new_node MA
new_node MB
new_node MN # A's next key
new_node MW # wireguard-go, whose session with A must be renewed by A's timer
IA=$(ifname na) && IB=$(ifname nb) && IW=$(ifname nw) || exit 1
use_underlay 4 51820
EP_W=10.9.0.2:51830

step "alameshd -t refuses an unknown user"
alameshd_conf "$NS_WORK/bad.conf" "$IA" "$MA_PRIV" 51820
printf 'User = no-such-user-here\n' >>"$NS_WORK/bad.conf"
if "$ALAMESHD" -t -c "$NS_WORK/bad.conf" 2>"$NS_WORK/bad.err"; then fail "-t accepted an unknown user"; fi
grep -q "bad.conf:6: unknown User 'no-such-user-here'" "$NS_WORK/bad.err" || fail "-t said: $(cat "$NS_WORK/bad.err")"
pass "$(cat "$NS_WORK/bad.err")"

step "A runs as nobody, B as root"
# A registry nobody can read, and a cache directory the daemon makes for it.
PUB=$(mktemp -d /tmp/alamesh-nobody.XXXXXX) && chmod 755 "$PUB" || fail "mktemp"
trap 'rc=$?; rm -rf "$PUB"; (exit $rc); _on_exit' EXIT # _on_exit exits with $?
git init -q -b main "$PUB/src" && mkdir "$PUB/src/members" || fail "git init"
printf '[Member]\nPublicKey = %s\n' "$MA_PUB" >"$PUB/src/members/a.conf"
printf '[Member]\nPublicKey = %s\n' "$(wg genkey | wg pubkey)" >"$PUB/src/members/c.conf"
git -C "$PUB/src" add -A && git -C "$PUB/src" -c user.email=t@e -c user.name=t commit -qm m &&
	git clone -q --bare "$PUB/src" "$PUB/registry.git" && chmod -R a+rX "$PUB" || fail "registry"
alameshd_conf "$NS_WORK/a.conf" "$IA" "$MA_PRIV" 51820
printf 'User = nobody\n' >>"$NS_WORK/a.conf"
alameshd_conf_peer "$NS_WORK/a.conf" "$MB_PUB" "$EP_B"
alameshd_conf_peer "$NS_WORK/a.conf" "$MW_PUB" "$EP_W"
printf '\n[Registry]\nURL = file://%s/registry.git\nCacheDir = %s/cache\n' "$PUB" "$PUB" >>"$NS_WORK/a.conf"
alameshd_conf "$NS_WORK/b.conf" "$IB" "$MB_PRIV" 51820
alameshd_conf_peer "$NS_WORK/b.conf" "$MA_PUB" "$EP_A"
alameshd_start alameshd-a "$NS_A" "$NS_WORK/a.conf" "$IA" "$MA_ADDR"
alameshd_start alameshd-b "$NS_B" "$NS_WORK/b.conf" "$IB" "$MB_ADDR"
pid=${PROC_PID[alameshd-a]}
[ "$(cat "/proc/$pid/comm")" = alameshd ] || fail "pid $pid is $(cat "/proc/$pid/comm"), not alameshd"
wait_for "grep -q 'running as nobody' ${PROC_LOG[alameshd-a]}" 5 || fail "A did not log the drop"

# Every thread: uid/gid nobody, exactly the two capabilities, nothing else bounded in.
want_caps=0000000000001400 # CAP_NET_BIND_SERVICE (10) | CAP_NET_ADMIN (12)
ntasks=0
for t in /proc/"$pid"/task/*; do
	st=$t/status
	read -r _ r e s f < <(grep '^Uid:' "$st")
	[ "$r $e $s $f" = "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID" ] || fail "$t: Uid $r $e $s $f"
	read -r _ r e s f < <(grep '^Gid:' "$st")
	[ "$r" != 0 ] && [ "$e" != 0 ] && [ "$s" != 0 ] || fail "$t: Gid $r $e $s"
	[ "$(awk '/^Groups:/ {print NF}' "$st")" = 1 ] || fail "$t: supplementary groups: $(grep '^Groups:' "$st")"
	for c in CapEff CapPrm CapBnd; do
		v=$(awk -v c="$c:" '$1 == c {print $2}' "$st")
		[ "$v" = "$want_caps" ] || fail "$t: $c $v, want $want_caps"
	done
	[ "$(awk '$1 == "CapInh:" {print $2}' "$st")" = 0000000000000000 ] || fail "$t: inheritable caps"
	[ "$(awk '$1 == "NoNewPrivs:" {print $2}' "$st")" = 1 ] || fail "$t: NoNewPrivs not set"
	ntasks=$((ntasks + 1))
done
[ "$ntasks" -ge 3 ] || fail "only $ntasks threads (control, transmit, receive expected)"
pass "$ntasks threads: uid $NOBODY_UID, CapEff=CapPrm=CapBnd=$want_caps, NoNewPrivs"

step "a session with wireguard-go (W), started now and left to run: A must renew it at 120 s"
# W has no endpoint for A, so A initiates and A's timer is the one to rekey.
NS_W=$NS_PREFIX-w
ns_add "$NS_W"
VW_A=$(ifname vwa) && VW_W=$(ifname vww) || exit 1
must "veth to W" ip link add "$VW_A" netns "$NS_A" type veth peer name "$VW_W" netns "$NS_W"
must "A's side" ip -n "$NS_A" addr add 10.9.0.1/24 dev "$VW_A"
must "W's side" ip -n "$NS_W" addr add 10.9.0.2/24 dev "$VW_W"
must "up" ip -n "$NS_A" link set "$VW_A" up
must "up" ip -n "$NS_W" link set "$VW_W" up
wggo_start wggo-w "$NS_W" "$IW" "$MW_KEYFILE" 51830 "$MW_ADDR"
wggo_peer "$NS_W" "$IW" "$MA_PUB" "$MA_ADDR/128"
# Traffic all along, A to W: every send past REKEY_AFTER_TIME starts a rekey.
ns_spawn ping-w "$NS_A" ping -6 -n -i 1 "$MW_ADDR"
# w_hs: W's (wireguard-go's) latest handshake with A, in seconds since the epoch.
w_hs() { nsx "$NS_W" wg show "$IW" latest-handshakes | awk -v k="$MA_PUB" '$1 == k {print $2}'; }
wait_for '[ "$(w_hs)" -gt 0 ]' 15 || fail "no handshake A -> W: $(nsx "$NS_W" wg show "$IW")"
W_HS0=$(w_hs) W_PID=${PROC_PID[wggo-w]}
pass "A (nobody) initiated a session with W at $W_HS0"

step "the registry is fetched by the unprivileged daemon"
wait_for "grep -q 'registry: applied' ${PROC_LOG[alameshd-a]}" 15 || fail "no registry applied: $(tail -n 3 "${PROC_LOG[alameshd-a]}")"
out=$("$ALAMESH" sync "$IA") || fail "alamesh sync as nobody: $out"
[ "$(stat -c %U "$PUB/cache/registry.git")" = nobody ] || fail "cache not nobody's: $(stat -c %U "$PUB/cache/registry.git")"
[ "$(stat -c %U "$PUB/cache/last-good")" = nobody ] || fail "last-good not nobody's"
[ "$(wg show "$IA" peers | wc -l)" = 3 ] || fail "peers: $(wg show "$IA" peers)" # B, W, member c
pass "as nobody: fetched into its own cache, $out"

step "traffic both ways"
ping_until "$NS_A" "$MB_ADDR" 15 || fail "ping A -> B"
ping_ok "$NS_B" "$MA_ADDR" 3 || fail "ping B -> A"
pass "ping6 both ways"

hs_of() { wg show "$IA" latest-handshakes | awk -v k="$1" '$1 == k {print $2}'; }

step "roaming: B's underlay address changes; A follows it"
must "B loses $U4_B" ip -n "$NS_B" addr del "$U4_B/24" dev "$V_B"
must "B gains 10.1.0.12" ip -n "$NS_B" addr add 10.1.0.12/24 dev "$V_B"
must "B's peer A" wg set "$IB" peer "$MA_PUB" persistent-keepalive 1
ping_until "$NS_B" "$MA_ADDR" 15 || fail "B -> A after B moved"
wait_for "wg show $IA endpoints | grep -q '10.1.0.12:51820'" 10 || fail "A's endpoint for B: $(wg show "$IA" endpoints)"
ping_ok "$NS_A" "$MB_ADDR" 3 || fail "A -> B after B moved"
must "B keepalive off" wg set "$IB" peer "$MA_PUB" persistent-keepalive off
pass "A now sends to 10.1.0.12:51820"

step "new handshakes: B restarts (B initiates), then A forgets B (A initiates)"
h0=$(hs_of "$MB_PUB")
sleep 1.1
proc_stop alameshd-b TERM 10 || fail "B did not stop"
alameshd_conf "$NS_WORK/b.conf" "$IB" "$MB_PRIV" 51820
alameshd_conf_peer "$NS_WORK/b.conf" "$MA_PUB" "$EP_A"
alameshd_start alameshd-b "$NS_B" "$NS_WORK/b.conf" "$IB" "$MB_ADDR"
ping_until "$NS_B" "$MA_ADDR" 15 || fail "B -> A after B's restart"
h1=$(hs_of "$MB_PUB")
[ "$h1" -gt "$h0" ] || fail "no new handshake on A after B restarted ($h0 -> $h1)"
sleep 1.1
must "A forgets B" wg set "$IA" peer "$MB_PUB" remove
must "A learns B again" wg set "$IA" peer "$MB_PUB" endpoint 10.1.0.12:51820
ping_until "$NS_A" "$MB_ADDR" 15 || fail "A -> B after A re-added B"
h2=$(hs_of "$MB_PUB")
[ "$h2" -gt "$h1" ] || fail "no new handshake started by A ($h1 -> $h2)"
pass "handshakes at $h0, $h1 (B started), $h2 (A started)"

step "rekeying as nobody: the session with W renewed on REKEY_AFTER_TIME, nothing restarted"
# The rest of the test ran meanwhile; now the remainder of the 120 s, and a
# little more, with the pings going (bounded: 140 s after the handshake).
t0=$SECONDS
a_hs() { wg show "$IA" latest-handshakes | awk -v k="$MW_PUB" '$1 == k {print $2}'; }
wait_for '[ "$(w_hs)" -gt "$W_HS0" ]' $((W_HS0 + 140 - $(date +%s))) ||
	fail "no new handshake with W within 140 s of $W_HS0 (W: $(w_hs), A: $(a_hs))"
W_HS1=$(w_hs)
waited=$((SECONDS - t0))
age=$((W_HS1 - W_HS0))
[ "$age" -ge 119 ] && [ "$age" -le 135 ] ||
	fail "W's handshake renewed $age s after the first, not on REKEY_AFTER_TIME (120 s)"
[ "${PROC_PID[alameshd-a]}" = "$pid" ] && proc_alive alameshd-a || fail "A was restarted"
[ "${PROC_PID[wggo-w]}" = "$W_PID" ] && proc_alive wggo-w || fail "W was restarted"
[ "$(awk '$1 == "Uid:" {print $2}' "/proc/$pid/status")" = "$NOBODY_UID" ] || fail "A is no longer nobody"
wait_for '[ "$(a_hs)" -ge "$W_HS1" ]' 5 || fail "A's view: handshake $(a_hs), W's $W_HS1"
ping_ok "$NS_A" "$MW_ADDR" 3 || fail "A -> W after the rekey"
proc_stop ping-w INT 5
pass "renewed by A as nobody $age s after the first handshake ($W_HS0 -> $W_HS1, as W and A both report), same processes; waited $waited s here"

step "wg set from root on the unprivileged daemon"
must "keepalive" wg set "$IA" peer "$MB_PUB" persistent-keepalive 25
[ "$(wg show "$IA" persistent-keepalive | awk -v k="$MB_PUB" '$1 == k {print $2}')" = 25 ] || fail "keepalive not 25"
must "listen-port 853 (< 1024)" wg set "$IA" listen-port 853
nsx "$NS_A" ss -Huln 'sport = :853' | grep -q . || fail "nothing bound to 853 in A"
must "B follows A's port" wg set "$IB" peer "$MA_PUB" endpoint "$U4_A:853"
ping_until "$NS_B" "$MA_ADDR" 10 || fail "B -> A on port 853"
must "fwmark" wg set "$IA" fwmark 0x77
[ "$(wg show "$IA" fwmark)" = 0x77 ] || fail "fwmark: $(wg show "$IA" fwmark)"
ping_ok "$NS_A" "$MB_ADDR" 2 || fail "A -> B with a fwmark"
must "private key" wg set "$IA" private-key "$MN_KEYFILE"
ip -n "$NS_A" -6 addr show dev "$IA" | grep -q " $MN_ADDR/128" || fail "new address not on $IA"
if ip -n "$NS_A" -6 addr show dev "$IA" | grep -q " $MA_ADDR/128"; then fail "old address still on $IA"; fi
must "B: A's old key out" wg set "$IB" peer "$MA_PUB" remove
must "B: A's new key in" wg set "$IB" peer "$MN_PUB" endpoint "$U4_A:853"
ping_until "$NS_B" "$MN_ADDR" 15 || fail "B -> A at its new address"
pass "keepalive, port 853, fwmark 0x77, new key and address $MN_ADDR: all taken, traffic flows"

step "still nobody, still the two capabilities; SIGTERM exits 0"
st=/proc/$pid/status
[ "$(awk '$1 == "CapEff:" {print $2}' "$st")" = "$want_caps" ] || fail "capabilities changed"
[ "$(awk '$1 == "Uid:" {print $2}' "$st")" = "$NOBODY_UID" ] || fail "uid changed"
proc_stop alameshd-a TERM 10 || fail "A did not stop"
[ "$PROC_RC" -eq 0 ] || fail "A exited $PROC_RC"
if ip -n "$NS_A" link show "$IA" >/dev/null 2>&1; then fail "$IA left behind"; fi
pass "A exited 0 and its TUN is gone"
