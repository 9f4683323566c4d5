#!/usr/bin/env bash
# Membership by pull request, with real git: a bare repository that A reads
# over file:// and B over git:// (git daemon on B's loopback). The two
# daemons have no static peers: the registry alone peers them. Then, with a
# ping from A to B running across every sync (it must lose nothing):
#   a member is added (peered, B's session untouched), its endpoint changed;
#   a hostile commit (bad base64, a 31-byte key, the zero key, a low-order
#   point, duplicate keys,
#   an uppercase name, a symlink, a subdirectory, a 10 MiB blob, binary
#   garbage, a newline in a name) applies the good files and reports each bad
#   one, escaped; so is a hostile server's error message;
#   a commit without members/, a branch that vanished, an unreachable remote
#   keep the current set; a force push is applied by A with a warning and
#   refused by B (RequireFastForward = yes);
#   a git host that accepts and never answers fails the sync within
#   FetchTimeout while B serves on, and a later sync works;
#   alamesh sync asked during a hung fetch reports the next sync's outcome;
#   a second daemon on A's CacheDir is refused;
#   B stops at once in the middle of a hung fetch, and restarted with the
#   remote hung applies its cached commit at once;
# then a member removed by a commit can no longer complete a handshake;
# and with a third node C: a member without an Endpoint dials in and is
# accepted, C syncs every Interval (10 s) unasked, an empty repository keeps
# its members, and with AllowEmpty = yes a members/ without a member, or no
# members/ at all, removes them all (A, AllowEmpty = no, keeps its own).
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

need_root
need_tool ip wg ping python3 git ss
need_alamesh
[ -x "$ALAMESH" ] || fail "alamesh not built"

netns_pair a b
new_node MA
new_node MB
new_node MC
new_node MD
new_node ME
new_node MF
IA=$(ifname ra) && IB=$(ifname rb) || exit 1
use_underlay 4 51820
export ALAMESH_COLOR_MODE=never

step "a registry: a bare repository and a working copy"
registry_init
registry_member alice "$MA_PUB" "$EP_A"
registry_member bob "$MB_PUB" "$EP_B"
registry_publish "alice and bob"
touch "$REG/git-daemon-export-ok"
ns_spawn gitd "$NS_B" git daemon --reuseaddr --base-path="$NS_WORK" --export-all \
	--listen=127.0.0.1 --port=9418 "$NS_WORK"
wait_for "ip netns exec $NS_B ss -Hltn 'sport = :9418' | grep -q LISTEN" 10 || fail "git daemon"

registry_conf() { # FILE IFNAME PRIV URL CACHE [EXTRA]
	alameshd_conf "$1" "$2" "$3" 51820
	printf '\n[Registry]\nURL = %s\nBranch = main\nInterval = 1h\nCacheDir = %s\n%s\n' \
		"$4" "$5" "${6:-}" >>"$1"
}
registry_conf "$NS_WORK/a.conf" "$IA" "$MA_PRIV" "file://$REG" "$NS_WORK/cache-a"
registry_conf "$NS_WORK/b.conf" "$IB" "$MB_PRIV" "git://127.0.0.1:9418/registry.git" \
	"$NS_WORK/cache-b" "RequireFastForward = yes
FetchTimeout = 4s"
"$ALAMESHD" -t -c "$NS_WORK/a.conf" || fail "-t refuses a.conf"
alameshd_start alameshd-a "$NS_A" "$NS_WORK/a.conf" "$IA" "$MA_ADDR"
alameshd_start alameshd-b "$NS_B" "$NS_WORK/b.conf" "$IB" "$MB_ADDR"

step "the registry alone peers A and B"
wait_for "wg show $IA peers | grep -qx '$MB_PUB'" 20 || fail "A never peered B: $(wg show "$IA" peers)"
wait_for "wg show $IB peers | grep -qx '$MA_PUB'" 20 || fail "B never peered A"
ping_until "$NS_A" "$MB_ADDR" 15 || fail "ping A -> B"
ping_ok "$NS_B" "$MA_ADDR" 2 || fail "ping B -> A"
"$ALAMESH" show "$IA" registry >"$NS_WORK/reg" || fail "show registry"
grep -qx "commit: $HEAD" "$NS_WORK/reg" || fail "show registry: $(cat "$NS_WORK/reg")"
grep -qx "accepted: 2" "$NS_WORK/reg" || fail "show registry accepted: $(cat "$NS_WORK/reg")"
grep -qx "url: file://$REG" "$NS_WORK/reg" || fail "show registry url"
"$ALAMESH" show "$IA" members >"$NS_WORK/members" || fail "show members"
grep -qxF "$(printf 'bob\t%s\t%s\t%s\tup\tdirect %s' "$MB_PUB" "$MB_ADDR" "$EP_B" "$EP_B")" "$NS_WORK/members" ||
	fail "members: $(cat "$NS_WORK/members")"
grep -qxF "$(printf 'alice\t%s\t%s\t%s\tself\tself' "$MA_PUB" "$MA_ADDR" "$EP_A")" "$NS_WORK/members" ||
	fail "members: $(cat "$NS_WORK/members")"
# show all: each line of members and registry after its interface and a
# tab, as wg show all FIELD writes them (only this run's interfaces are
# looked at: other runs' may come and go, so the exit status is not either).
"$ALAMESH" show all members >"$NS_WORK/all-members" 2>&1
"$ALAMESH" show all registry >"$NS_WORK/all-reg" 2>&1
T=$'\t'
for want in "$IA${T}alice$T$MA_PUB$T$MA_ADDR$T$EP_A${T}self${T}self" \
	"$IA${T}bob$T$MB_PUB$T$MB_ADDR$T$EP_B${T}up${T}direct $EP_B" \
	"$IB${T}alice$T$MA_PUB$T$MA_ADDR$T$EP_A${T}up${T}direct $EP_A" \
	"$IB${T}bob$T$MB_PUB$T$MB_ADDR$T$EP_B${T}self${T}self"; do
	grep -qxF "$want" "$NS_WORK/all-members" || fail "show all members lacks '$want': $(cat "$NS_WORK/all-members")"
done
for want in "$IA${T}commit: $HEAD" "$IA${T}url: file://$REG" "$IB${T}commit: $HEAD" \
	"$IB${T}url: git://127.0.0.1:9418/registry.git"; do
	grep -qxF "$want" "$NS_WORK/all-reg" || fail "show all registry lacks '$want': $(cat "$NS_WORK/all-reg")"
done
pass "peered through file:// and git://; show registry and show members report it, show all with the interface"

step "a second daemon on A's CacheDir is refused"
NS_C=$NS_PREFIX-c
ns_add "$NS_C"
IC=$(ifname rc) || exit 1
registry_conf "$NS_WORK/c-shared.conf" "$IC" "$MC_PRIV" "file://$REG" "$NS_WORK/cache-a"
ns_spawn alameshd-shared "$NS_C" "$ALAMESHD" -c "$NS_WORK/c-shared.conf"
proc_wait alameshd-shared 10 || fail "a daemon sharing A's CacheDir kept running"
[ "$PROC_RC" = 1 ] || fail "a daemon sharing A's CacheDir exited $PROC_RC"
grep -q "CacheDir $NS_WORK/cache-a is in use by another alameshd" "${PROC_LOG[alameshd-shared]}" ||
	fail "no clear error: $(cat "${PROC_LOG[alameshd-shared]}")"
proc_alive alameshd-a || fail "A died"
pass "refused: $(grep -o 'CacheDir .*' "${PROC_LOG[alameshd-shared]}")"

# From here on a ping A -> B runs across every sync.
ns_spawn pinger "$NS_A" ping -6 -i 0.2 -W 1 "$MB_ADDR"
hs_b=$(wg show "$IA" latest-handshakes | awk -v k="$MB_PUB" '$1 == k {print $2}')

# pinger_done NAME MIN WHAT: stops the ping NAME, which must have sent at
# least MIN and lost none; sets sent. The last echo may still be on its way
# when ping is stopped (ping counts it lost): every one before it must have
# its reply.
pinger_done() {
	local name=$1 min=$2 what=$3 lost log=${PROC_LOG[$1]}
	proc_stop "$name" INT 5
	sent=$(grep -oE '[0-9]+ packets transmitted' "$log" | cut -d' ' -f1)
	[ -n "$sent" ] && [ "$sent" -ge "$min" ] || fail "$what did not run: $(tail -n 3 "$log")"
	lost=$(awk -v n="$sent" '/ bytes from / && match($0, /icmp_seq=[0-9]+/) {
		got[substr($0, RSTART + 9, RLENGTH - 9) + 0] = 1
	} END {
		c = 0
		for (i = 1; i < n; i++) if (!(i in got)) c++
		print c
	}' "$log")
	[ "$lost" = 0 ] || fail "$what lost $lost of $sent: $(grep -c ' bytes from ' "$log") replies"
}

sync_a() { # WANT_REGEX: alamesh sync IA, whose line must match
	local out
	out=$("$ALAMESH" sync "$IA" 2>&1)
	printf '%s\n' "$out" | grep -qE "$1" || fail "sync A: '$out', wanted /$1/"
	info "sync A: $out"
}

step "a member is added, then its endpoint changes"
registry_member carol "$MC_PUB" "10.1.0.99:51820"
registry_publish "carol"
sync_a "applied ${HEAD:0:12}: 3 members, 0 files rejected; 1 added, 0 removed, 0 changed"
wg show "$IA" peers | grep -qx "$MC_PUB" || fail "carol not peered"
[ "$(wg show "$IA" endpoints | awk -v k="$MC_PUB" '$1 == k {print $2}')" = 10.1.0.99:51820 ] || fail "carol's endpoint"
registry_member carol "$MC_PUB" "[fd00:1::99]:51999" "10.1.0.98:1"
registry_publish "carol moves"
sync_a "1 changed"
[ "$(wg show "$IA" endpoints | awk -v k="$MC_PUB" '$1 == k {print $2}')" = "[fd00:1::99]:51999" ] ||
	fail "carol's new endpoint: $(wg show "$IA" endpoints)"
pass "carol added, then moved; bob untouched"

step "a hostile commit: the good files apply, each bad one is reported"
printf '[Member]\nPublicKey = not!base64\n' >"$SRC/members/badb64.conf"
printf '[Member]\nPublicKey = AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n' >"$SRC/members/short.conf"
printf '[Member]\nPublicKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n' >"$SRC/members/zero.conf"
# The point of order 8 (u = 1): a handshake with it would give a known shared secret.
printf '[Member]\nPublicKey = AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n' >"$SRC/members/loworder.conf"
registry_member dup1 "$MD_PUB"
registry_member dup2 "$MD_PUB"
registry_member Upper "$MD_PUB"
printf '[Member]\nPublicKey = %s\n' "$ME_PUB" >"$SRC/members/..conf"
ln -s bob.conf "$SRC/members/link.conf"
mkdir -p "$SRC/members/sub.conf" && echo x >"$SRC/members/sub.conf/x"
head -c $((10 << 20)) /dev/urandom >"$SRC/members/huge.conf"
head -c 500 /dev/urandom >"$SRC/members/garbage.conf"
# A newline in a name (git allows it) must not forge a line of the reply.
printf '[Member]\nPublicKey = %s\n' "$ME_PUB" >"$SRC/members/"$'x\nproblem=forged\n.conf'
registry_publish "hostile"
sync_a "applied ${HEAD:0:12}: 3 members, 11 files rejected; 0 added, 0 removed, 0 changed"
"$ALAMESH" show "$IA" registry >"$NS_WORK/reg"
for want in "members/badb64.conf: line 2: PublicKey is not the base64" \
	"members/short.conf: line 2: PublicKey is not the base64" \
	"members/zero.conf: line 2: PublicKey is the zero key" \
	"members/loworder.conf: line 2: PublicKey is the zero key or a low-order point" \
	"members/dup1.conf: PublicKey shared by 2 files" "members/dup2.conf: PublicKey shared by 2 files" \
	"members/Upper.conf: the name must be" "members/..conf: the name must be" \
	"members/link.conf: warning: a symbolic link" \
	"members/sub.conf: warning: a directory" "members/huge.conf: 10485760 bytes, over the limit" \
	"members/garbage.conf: " 'members/x\x0aproblem=forged\x0a.conf: the name must be'; do
	grep -qF "problem: $want" "$NS_WORK/reg" || fail "show registry lacks '$want': $(cat "$NS_WORK/reg")"
done
if grep -q '^problem: forged' "$NS_WORK/reg"; then fail "a file name forged a reply line"; fi
grep -qF 'members/x\x0aproblem=forged\x0a.conf: rejected' "${PROC_LOG[alameshd-a]}" ||
	fail "the log does not name the newline file escaped"
grep -q 'registry: members/huge.conf: rejected' "${PROC_LOG[alameshd-a]}" || fail "the log does not name huge.conf"
if wg show "$IA" peers | grep -qx "$MD_PUB"; then fail "a duplicated key was peered"; fi
pass "11 bad files rejected, each named with its reason (escaped); the 3 good members stay"

step "no members/, a vanished branch, an unreachable remote: the current set stays"
git -C "$SRC" rm -rq members && registry_publish "no members"
sync_a "sync failed: no members/ directory"
git -C "$SRC" revert --no-edit HEAD >/dev/null || fail "git revert"
git -C "$SRC" push -q "$REG" main 2>/dev/null || fail "push the revert"
# Only bad files: no valid member, so nothing changes (AllowEmpty = no).
saved=$(git -C "$SRC" rev-parse HEAD)
git -C "$SRC" rm -q members/alice.conf members/bob.conf members/carol.conf
printf '[Member]\nPublicKey = %s\nEndpoint = nowhere\n' "$MD_PUB" >"$SRC/members/onlybad.conf"
registry_publish "only bad files"
sync_a "sync failed: commit ${HEAD:0:12} has no valid member"
wg show "$IA" peers | grep -qx "$MB_PUB" || fail "an empty member set removed bob"
# Its files' reasons are logged and shown, marked as those of the refused commit.
grep -q 'members/onlybad.conf: rejected: line 3: Endpoint' "${PROC_LOG[alameshd-a]}" ||
	fail "the refused commit's problems were not logged"
"$ALAMESH" show "$IA" registry >"$NS_WORK/reg"
grep -qx "problems_commit: $HEAD (refused, not applied: 12 files rejected)" "$NS_WORK/reg" ||
	fail "show registry does not label the refused commit's problems: $(cat "$NS_WORK/reg")"
grep -q '^problem: members/onlybad.conf: line 3: Endpoint' "$NS_WORK/reg" ||
	fail "show registry lacks the refused commit's problem: $(cat "$NS_WORK/reg")"
if grep -qx "commit: $HEAD" "$NS_WORK/reg"; then fail "the refused commit shows as applied"; fi
git -C "$SRC" reset -q --hard "$saved" && git -C "$SRC" push -qf "$REG" main 2>/dev/null || fail "restore"
git -C "$SRC" push -q "$REG" main 2>/dev/null || fail "push the revert"
HEAD=$(git -C "$SRC" rev-parse HEAD)
sync_a "applied ${HEAD:0:12}"
"$ALAMESH" show "$IA" registry | grep -qx "problems_commit: $HEAD (applied)" ||
	fail "problems of the applied commit: $("$ALAMESH" show "$IA" registry)"
if "$ALAMESH" show "$IA" registry | grep -q onlybad; then fail "the refused commit's problems stayed"; fi
git -C "$REG" update-ref -d refs/heads/main || fail "delete branch"
sync_a "sync failed: branch 'main' not found"
git -C "$SRC" push -q "$REG" main 2>/dev/null || fail "restore branch"
# A corrupt download: the newest member blob on the server is garbage.
printf '[Member]\nPublicKey = %s\n' "$(wg genkey | wg pubkey)" >"$SRC/members/frank.conf"
registry_publish "frank"
blob=$(git -C "$SRC" rev-parse HEAD:members/frank.conf)
obj=$REG/objects/${blob:0:2}/${blob:2}
[ -f "$obj" ] || fail "no loose object $obj"
cp "$obj" "$NS_WORK/frank.obj" && chmod u+w "$obj" && head -c 64 /dev/urandom >"$obj"
sync_a "sync failed"
if wg show "$IA" peers | wc -l | grep -qx 4; then fail "a corrupt commit was applied"; fi
cp "$NS_WORK/frank.obj" "$obj"
sync_a "applied ${HEAD:0:12}: 4 members"
proc_stop gitd TERM 5
# A hostile server's error message, newline and all, must not forge a reply line.
ns_spawn gitbad "$NS_B" python3 "$NS_TOP/tests/lib/git_server.py" 9418 err 'evil\nlast_error=forged'
wait_for "grep -q listening '${PROC_LOG[gitbad]}'" 10 || fail "git_server.py"
out=$("$ALAMESH" sync "$IB" 2>&1) && fail "B synced from a server that answers ERR: $out"
"$ALAMESH" show "$IB" registry >"$NS_WORK/reg-b"
grep -qF 'last_error: fetch: remote error: evil\x0alast_error=forged' "$NS_WORK/reg-b" ||
	fail "B's last error, escaped: $(cat "$NS_WORK/reg-b")"
if grep -q '^last_error: forged' "$NS_WORK/reg-b"; then fail "a server's error forged a reply line"; fi
proc_stop gitbad TERM 5
out=$("$ALAMESH" sync "$IB" 2>&1) && fail "B synced from a dead git daemon: $out"
info "sync B: $out"
wg show "$IB" peers | grep -qx "$MA_PUB" || fail "B lost A after a failed fetch"
grep -q 'last_error\|last error' <("$ALAMESH" show "$IB" registry) || fail "B shows no last error"
"$ALAMESH" show "$IB" registry | grep -q '^last_error: fetch' || fail "B's last error: $("$ALAMESH" show "$IB" registry | grep last_error)"
pass "each failure reported, nothing changed"

step "a git host that accepts and never answers: the sync fails within FetchTimeout, B serves on"
# B's git:// port now belongs to git_server.py: silent first, then relaying to git daemon.
MODE=$NS_WORK/git-mode
echo silent >"$MODE"
ns_spawn gitstall "$NS_B" python3 "$NS_TOP/tests/lib/git_server.py" 9418 "@$MODE"
wait_for "grep -q listening '${PROC_LOG[gitstall]}'" 10 || fail "git_server.py"
start=$SECONDS
"$ALAMESH" sync "$IB" >"$NS_WORK/sync-b" 2>&1 &
syncer=$!
ping_ok "$NS_B" "$MA_ADDR" 3 || fail "B stopped serving while its fetch hung"
wait "$syncer" && fail "B synced from a silent server: $(cat "$NS_WORK/sync-b")"
took=$((SECONDS - start))
grep -q 'sync failed: fetch: no answer within 4 s (FetchTimeout)' "$NS_WORK/sync-b" ||
	fail "B's sync: $(cat "$NS_WORK/sync-b")"
[ "$took" -le 8 ] || fail "the sync took $took s with FetchTimeout = 4s"
"$ALAMESH" show "$IB" registry | grep -q '^last_error: fetch: no answer within 4 s' ||
	fail "B's last error: $("$ALAMESH" show "$IB" registry)"
wg show "$IB" peers | grep -qx "$MA_PUB" || fail "B lost A when its fetch timed out"
proc_alive alameshd-b || fail "B died"
ns_spawn gitd "$NS_B" git daemon --reuseaddr --base-path="$NS_WORK" --export-all \
	--listen=127.0.0.1 --port=9420 "$NS_WORK"
wait_for "ip netns exec $NS_B ss -Hltn 'sport = :9420' | grep -q LISTEN" 10 || fail "git daemon again"
echo "proxy 9420" >"$MODE"
out=$("$ALAMESH" sync "$IB" 2>&1) || fail "B's sync once the host answers: $out"
printf '%s\n' "$out" | grep -q "applied ${HEAD:0:12}" || fail "B's sync once the host answers: $out"
pass "timed out in $took s (FetchTimeout = 4s), pings answered meanwhile; then: $out"

step "alamesh sync is answered by a sync that started after it asked, not by one under way"
echo silent >"$MODE"
kill -HUP "${PROC_PID[alameshd-b]}"
wait_for "ip netns exec $NS_B ss -Htn 'sport = :9418' | grep -q ESTAB" 5 || fail "B's SIGHUP fetch"
echo "proxy 9420" >"$MODE"
out=$("$ALAMESH" sync "$IB" 2>&1) || fail "alamesh sync got the hung fetch's outcome: $out"
printf '%s\n' "$out" | grep -q "applied ${HEAD:0:12}" || fail "B's sync: $out"
grep -q 'no answer within 4 s' <(tail -n 3 "${PROC_LOG[alameshd-b]}") ||
	fail "the SIGHUP fetch did not time out first: $(tail -n 3 "${PROC_LOG[alameshd-b]}")"
pass "the fetch under way timed out; alamesh sync waited for the next: $out"

step "a force push: A applies it with a warning, B (RequireFastForward) refuses"
git -C "$SRC" commit -q --amend -m "history rewritten" && git -C "$SRC" push -qf "$REG" main 2>/dev/null || fail "force push"
HEAD=$(git -C "$SRC" rev-parse HEAD)
sync_a "applied ${HEAD:0:12}"
grep -q "force-pushed to ${HEAD:0:12}" "${PROC_LOG[alameshd-a]}" || fail "A did not warn of the force push"
out=$("$ALAMESH" sync "$IB" 2>&1) && fail "B applied a force push: $out"
printf '%s\n' "$out" | grep -q 'RequireFastForward' || fail "B's refusal: $out"
pass "force push: A warned and applied, B refused ($out)"

step "the ping ran across every sync without a loss; bob's session was never redone"
pinger_done pinger 11 "the ping across the syncs"
hs_now=$(wg show "$IA" latest-handshakes | awk -v k="$MB_PUB" '$1 == k {print $2}')
[ "$hs_now" = "$hs_b" ] || fail "bob's session was redone across the syncs ($hs_b -> $hs_now)"
pass "$sent pings, none lost; bob's handshake still the one at $hs_b"

step "B stops in the middle of a hung fetch, and restarts with its remote hung"
reg_field() { # IFACE FIELD: a field of alamesh show IFACE registry
	"$ALAMESH" show "$1" registry | sed -n "s/^$2: //p"
}
applied_b=$(reg_field "$IB" applied_time) success_b=$(reg_field "$IB" last_success)
[ "$applied_b" -gt 0 ] && [ "$success_b" -gt 0 ] || fail "B's times: $applied_b $success_b"
while [ "$(date +%s)" -le "$applied_b" ]; do sleep 0.2; done
proc_stop gitd TERM 5
echo silent >"$MODE"
kill -HUP "${PROC_PID[alameshd-b]}"
sleep 0.5
start=$SECONDS
proc_stop alameshd-b TERM 10 || fail "B did not stop"
[ $((SECONDS - start)) -le 2 ] || fail "B took $((SECONDS - start)) s to stop during a fetch"
if grep -q 'a fetch is still running' "${PROC_LOG[alameshd-b]}"; then fail "B left its fetch running"; fi
alameshd_start alameshd-b "$NS_B" "$NS_WORK/b.conf" "$IB" "$MB_ADDR"
wait_for "wg show $IB peers | grep -qx '$MA_PUB'" 10 || fail "B restarted without its cached members"
grep -q 'applied .*(cached)' "${PROC_LOG[alameshd-b]}" || fail "B did not log the cached commit"
ping_ok "$NS_B" "$MA_ADDR" 2 || fail "B -> A after the restart"
[ "$(reg_field "$IB" applied_time)" = "$applied_b" ] ||
	fail "B's applied_time after the restart: $(reg_field "$IB" applied_time), not $applied_b"
[ "$(reg_field "$IB" last_success)" = "$success_b" ] ||
	fail "B's last_success after the restart: $(reg_field "$IB" last_success), not $success_b"
pass "B stopped at once, its fetch killed; restarted, it applied its last good commit at once, applied at $applied_b as before"

step "SIGHUP syncs too"
registry_member erin "$ME_PUB"
registry_publish "erin"
kill -HUP "${PROC_PID[alameshd-a]}"
wait_for "wg show $IA peers | grep -qx '$ME_PUB'" 15 || fail "SIGHUP did not sync: $(tail -n 2 "${PROC_LOG[alameshd-a]}")"
pass "SIGHUP: erin added"

step "several endpoints: the unreachable first, then the one that answers"
registry_member bob "$MB_PUB" "[fd00:77::1]:51820" "$EP_B"
registry_publish "bob: two endpoints, the first unreachable"
must "A forgets bob" wg set "$IA" peer "$MB_PUB" remove
sync_a "1 added"
[ "$(wg show "$IA" endpoints | awk -v k="$MB_PUB" '$1 == k {print $2}')" = "[fd00:77::1]:51820" ] ||
	fail "bob's first endpoint: $(wg show "$IA" endpoints)"
ping_until "$NS_A" "$MB_ADDR" 20 || fail "A never reached bob at his second endpoint"
[ "$(wg show "$IA" endpoints | awk -v k="$MB_PUB" '$1 == k {print $2}')" = "$EP_B" ] ||
	fail "bob's endpoint after the handshake: $(wg show "$IA" endpoints)"
sync_a "applied" # nothing changed: the endpoint that answered stays
[ "$(wg show "$IA" endpoints | awk -v k="$MB_PUB" '$1 == k {print $2}')" = "$EP_B" ] || fail "a sync moved bob back"
pass "tried [fd00:77::1]:51820, then $EP_B, which answered and is kept"

step "bob is removed: A cuts him off, and his key no longer completes a handshake"
git -C "$SRC" rm -q members/bob.conf && registry_publish "bob leaves"
sync_a "1 removed"
if wg show "$IA" peers | grep -qx "$MB_PUB"; then fail "bob still a peer of A"; fi
grep -q 'member bob removed' "${PROC_LOG[alameshd-a]}" || fail "A did not log bob's removal"
# B still has A (its own copy of the registry is older): it tries, and fails.
must "B forgets its session" wg set "$IB" peer "$MA_PUB" remove
must "B re-adds A" wg set "$IB" peer "$MA_PUB" endpoint "$EP_A"
if nsx "$NS_B" ping -6 -c 3 -i 0.5 -W 1 "$MA_ADDR" >/dev/null 2>&1; then fail "A answered removed bob"; fi
hs=$(wg show "$IB" latest-handshakes | awk -v k="$MA_PUB" '$1 == k {print $2}')
[ "$hs" = 0 ] || fail "bob completed a handshake with A after his removal"
proc_alive alameshd-a && proc_alive alameshd-b || fail "a daemon died"
pass "bob removed: no peer, no handshake; both daemons still up"

step "a member without an Endpoint (fay, node C behind A) dials in and is accepted"
VC=$(ifname v9c) && VA=$(ifname v9a) || exit 1
ip link add "$VC" netns "$NS_C" type veth peer name "$VA" netns "$NS_A" || fail "veth C-A"
must "C's underlay" ip -n "$NS_C" addr add 10.9.0.1/24 dev "$VC"
must "A's side" ip -n "$NS_A" addr add 10.9.0.2/24 dev "$VA"
must "veth up" ip -n "$NS_C" link set "$VC" up
must "veth up" ip -n "$NS_A" link set "$VA" up
must "C's route to A" ip -n "$NS_C" route add 10.1.0.0/24 via 10.9.0.2
registry_member fay "$MF_PUB"
registry_publish "fay, behind NAT"
sync_a "1 added"
# C follows the registry through a link, so that it can be pointed elsewhere.
ln -s registry.git "$NS_WORK/c-remote.git"
alameshd_conf "$NS_WORK/c.conf" "$IC" "$MF_PRIV" 51820
printf '\n[Registry]\nURL = file://%s\nInterval = 10s\nAllowEmpty = yes\nCacheDir = %s\n' \
	"$NS_WORK/c-remote.git" "$NS_WORK/cache-c" >>"$NS_WORK/c.conf"
alameshd_start alameshd-c "$NS_C" "$NS_WORK/c.conf" "$IC" "$MF_ADDR"
c_started=$SECONDS
wait_for "wg show $IC peers | grep -qx '$MA_PUB'" 10 || fail "C never peered A"
ping_until "$NS_C" "$MA_ADDR" 15 || fail "C (no Endpoint) could not reach A"
[ "$(wg show "$IA" endpoints | awk -v k="$MF_PUB" '$1 == k {print $2}')" = 10.9.0.1:51820 ] ||
	fail "A did not learn fay's endpoint: $(wg show "$IA" endpoints)"
"$ALAMESH" show "$IA" members | grep -qxF "$(printf 'fay\t%s\t%s\t(none)\tup\tdirect 10.9.0.1:51820' "$MF_PUB" "$MF_ADDR")" ||
	fail "A's members: $("$ALAMESH" show "$IA" members)"
pass "fay, listed without an Endpoint, dialled A and was accepted; A shows her session up"

step "C syncs every Interval (10 s) without being asked"
MG_PUB=$(wg genkey | wg pubkey)
registry_member gus "$MG_PUB"
registry_publish "gus"
wait_for "wg show $IC peers | grep -qx '$MG_PUB'" 15 || fail "C did not pick up gus by itself"
took=$((SECONDS - c_started))
[ "$took" -ge 8 ] || fail "C picked gus up after $took s: not the interval"
grep -q "applied ${HEAD:0:12}" "${PROC_LOG[alameshd-c]}" || fail "C's log: $(tail -n 3 "${PROC_LOG[alameshd-c]}")"
pass "C applied ${HEAD:0:12} on its own, $took s after it started"

step "an empty repository (no commit at all): the sync fails, C keeps its members"
git init -q --bare -b main "$NS_WORK/empty.git" || fail "git init empty"
ns_spawn pinger-c "$NS_C" ping -6 -i 0.2 -W 1 "$MA_ADDR"
sleep 1
ln -sfn empty.git "$NS_WORK/c-remote.git"
out=$("$ALAMESH" sync "$IC" 2>&1) && fail "C synced from an empty repository: $out"
printf '%s\n' "$out" | grep -q "sync failed: branch 'main' not found" || fail "C's sync: $out"
wg show "$IC" peers | grep -qx "$MA_PUB" || fail "an empty repository removed C's members"
sleep 1
pinger_done pinger-c 5 "C's ping across the empty repository's sync"
ln -sfn registry.git "$NS_WORK/c-remote.git"
pass "empty repository: $out; C's $sent pings to A across it, none lost"

step "AllowEmpty = yes: a members/ without a member, or none, removes every member from C; A keeps its own"
git -C "$SRC" rm -rq members && mkdir -p "$SRC/members" && echo "no members yet" >"$SRC/members/README.md"
registry_publish "nobody"
out=$("$ALAMESH" sync "$IC" 2>&1) || fail "C (AllowEmpty = yes) refused an empty member set: $out"
printf '%s\n' "$out" | grep -q "applied ${HEAD:0:12}: 0 members, 0 files rejected; 0 added, [1-9][0-9]* removed" ||
	fail "C's sync: $out"
[ -z "$(wg show "$IC" peers)" ] || fail "C kept peers: $(wg show "$IC" peers)"
sync_a "sync failed: commit ${HEAD:0:12} has no valid member"
wg show "$IA" peers | grep -qx "$MF_PUB" || fail "A (AllowEmpty = no) removed fay"
# Deleting the last member file deletes members/ itself: with AllowEmpty, no member either.
registry_member fay "$MF_PUB"
registry_member alice "$MA_PUB" "$EP_A"
registry_publish "fay and alice again"
"$ALAMESH" sync "$IC" | grep -q "applied ${HEAD:0:12}: 2 members" || fail "C did not take its members back"
git -C "$SRC" rm -rq members && registry_publish "members/ deleted"
out2=$("$ALAMESH" sync "$IC" 2>&1) || fail "C (AllowEmpty = yes) refused a commit without members/: $out2"
printf '%s\n' "$out2" | grep -q "applied ${HEAD:0:12}: 0 members, 0 files rejected; 0 added, 1 removed" ||
	fail "C's sync: $out2"
[ -z "$(wg show "$IC" peers)" ] || fail "C kept peers: $(wg show "$IC" peers)"
grep -q "no members/ directory in commit ${HEAD:0:12}: read as no member (AllowEmpty = yes)" \
	"${PROC_LOG[alameshd-c]}" || fail "C did not log the missing members/"
sync_a "sync failed: no members/ directory in commit ${HEAD:0:12}"
wg show "$IA" peers | grep -qx "$MF_PUB" || fail "A (AllowEmpty = no) removed fay"
proc_alive alameshd-a && proc_alive alameshd-c || fail "a daemon died"
pass "C: $out; then, members/ deleted: $out2; A kept its members"
