#!/usr/bin/env bash
# The member's side of the registry, in a real git checkout:
#   alamesh registry add NAME writes members/NAME.conf (public key only), the
#   private key 0600 outside the checkout (also for a --dir below its top),
#   prints the address and the git commands, and refuses to overwrite;
#   alamesh registry check accepts a good registry (exit 0) and reports a
#   hostile one file by file (exit 1): bad base64, a 31-byte key, the zero
#   key, duplicate keys, an uppercase name, a symlink, a subdirectory, a
#   10 MiB file, binary garbage; a members/ that is a symbolic link is
#   refused as the daemon refuses it; contrib/registry passes its own check.
# Needs no privileges and no network.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
alamesh=${ALAMESH:-$top/${BUILD:-build}/alamesh}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
pass() { echo "ok: $*"; }
[ -x "$alamesh" ] || { echo "no binary at $alamesh (make first)"; exit 1; }
command -v git >/dev/null || { echo "git is not installed"; exit 1; }

repo=$work/registry
mkdir -p "$repo" && git -C "$repo" init -q && git -C "$repo" config user.email t@example.org &&
	git -C "$repo" config user.name test

# add
out=$(cd "$repo" && "$alamesh" registry add alice --endpoint alice.example.org:51820) || fail "registry add alice"
[ -f "$repo/members/alice.conf" ] || fail "no members/alice.conf"
[ -f "$work/alice.key" ] || fail "no private key next to the checkout"
[ "$(stat -c %a "$work/alice.key")" = 600 ] || fail "key mode $(stat -c %a "$work/alice.key")"
pub=$(wg pubkey <"$work/alice.key")
grep -qx "PublicKey = $pub" "$repo/members/alice.conf" || fail "the conf does not hold the public key"
if grep -qF "$(cat "$work/alice.key")" "$repo/members/alice.conf"; then fail "private key in the repo"; fi
grep -qx "Endpoint = alice.example.org:51820" "$repo/members/alice.conf" || fail "no Endpoint"
addr=$("$alamesh" addr "$pub")
printf '%s\n' "$out" | grep -q "address: *$addr" || fail "add did not print the address $addr"
printf '%s\n' "$out" | grep -q 'git add members/alice.conf' || fail "add did not print the git commands"
pass "registry add: conf with the public key, 0600 key outside, address $addr, git commands"
"$alamesh" registry add bob --dir "$repo" >/dev/null || fail "registry add --dir"
if "$alamesh" registry add alice --dir "$repo" 2>/dev/null; then fail "add overwrote alice"; fi
if "$alamesh" registry add Bad_Name --dir "$repo" 2>/dev/null; then fail "add took a bad name"; fi
if "$alamesh" registry add carol --dir "$repo" --endpoint nohost 2>/dev/null; then fail "add took a bad endpoint"; fi
[ ! -e "$repo/members/carol.conf" ] || fail "a refused add wrote a file"
pass "add refuses to overwrite, bad names and bad endpoints"
# A --dir below the top of the checkout: the key still goes next to the
# repository (found by its .git), never into it; so for a worktree's or a
# submodule's .git file.
"$alamesh" registry add dave --dir "$repo/members" >"$work/out" || fail "registry add --dir repo/members"
[ -f "$work/dave.key" ] || fail "--dir repo/members: no key next to the repository: $(grep 'private key' "$work/out")"
[ "$(stat -c %a "$work/dave.key" 2>&1)" = 600 ] || fail "--dir repo/members: key mode $(stat -c %a "$work/dave.key" 2>&1)"
[ -z "$(find "$repo" -name '*.key')" ] || fail "a key inside the repository: $(find "$repo" -name '*.key')"
grep -qF "private key: $work/dave.key (mode 0600" "$work/out" || fail "--dir repo/members: $(cat "$work/out")"
rm -rf "$repo/members/members" "$work/dave.key"
mkdir -p "$work/wt/a/b" && echo "gitdir: $repo/.git/worktrees/wt" >"$work/wt/.git"
"$alamesh" registry add erin --dir "$work/wt/a/b" >/dev/null || fail "registry add in a worktree"
[ -f "$work/erin.key" ] && [ "$(stat -c %a "$work/erin.key")" = 600 ] && [ -z "$(find "$work/wt" -name '*.key')" ] ||
	fail "worktree: the key is not next to it: $(find "$work" -name 'erin.key')"
pass "add --dir repo/members and below a worktree's .git file: the 0600 key outside the repository"
git -C "$repo" add -A && git -C "$repo" commit -qm "two members" || fail "git commit"

# check: good
out=$("$alamesh" registry check "$repo" 2>&1) || fail "check of a good registry: $out"
[ "$out" = "2 members accepted, 0 files rejected" ] || fail "check said: $out"
(cd "$repo" && "$alamesh" registry check >/dev/null 2>&1) || fail "check without DIR"
pass "check: a good registry passes"

# check: hostile
m=$repo/members
k() { wg genkey | wg pubkey; }
printf '[Member]\nPublicKey = not!base64\n' >"$m/badb64.conf"
printf '[Member]\nPublicKey = AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n' >"$m/short.conf"
printf '[Member]\nPublicKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n' >"$m/zero.conf"
dup=$(k)
printf '[Member]\nPublicKey = %s\n' "$dup" >"$m/dup1.conf"
printf '[Member]\nPublicKey = %s\n' "$dup" >"$m/dup2.conf"
printf '[Member]\nPublicKey = %s\n' "$(k)" >"$m/Upper.conf"
ln -s alice.conf "$m/link.conf"
mkdir "$m/sub.conf"
head -c $((10 << 20)) /dev/zero >"$m/huge.conf"
head -c 300 /dev/urandom >"$m/garbage.conf"
printf '[Member]\nPublicKey = %s\nColour = red\n' "$(k)" >"$m/warned.conf"
echo hi >"$m/README.md"
"$alamesh" registry check "$repo" >"$work/out" 2>"$work/err"
rc=$?
[ "$rc" = 1 ] || fail "check of a hostile registry exited $rc"
expect() {
	grep -q "^members/$1: $2" "$work/err" || fail "no line for $1 ($2) in: $(cat "$work/err")"
}
expect badb64.conf "line 2: PublicKey is not the base64"
expect short.conf "line 2: PublicKey is not the base64"
expect zero.conf "line 2: PublicKey is the zero key"
expect dup1.conf "PublicKey shared by 2 files"
expect dup2.conf "PublicKey shared by 2 files"
expect Upper.conf "the name must be"
expect link.conf "warning: a symbolic link"
expect sub.conf "warning: a directory"
expect huge.conf "10485760 bytes, over the limit"
expect warned.conf "warning: line 3: unknown key 'Colour'"
expect README.md "warning: not a .conf file"
grep -q '^members/garbage.conf: ' "$work/err" || fail "garbage not reported"
[ "$(cat "$work/out")" = "3 members accepted, 8 files rejected" ] || fail "summary: $(cat "$work/out")"
pass "check: each hostile file named with its reason; the good ones still accepted"

# A members/ that is a symbolic link: git stores the link, which the daemon
# does not follow, so the check refuses it too.
linked=$work/linked
mkdir -p "$linked" && ln -s "$repo/members" "$linked/members"
"$alamesh" registry check "$linked" >"$work/out" 2>"$work/err"
rc=$?
[ "$rc" = 1 ] || fail "check followed a symlinked members/ (exit $rc: $(cat "$work/out"))"
grep -q "^$linked/members: a symbolic link, not a directory" "$work/err" ||
	fail "no clear line for a symlinked members/: $(cat "$work/err")"
pass "check: a symlinked members/ is refused, as the daemon refuses it"

# The example registry in contrib passes the check its CI job runs.
"$alamesh" registry check "$top/contrib/registry" >/dev/null 2>&1 || fail "contrib/registry fails its own check"
out=$(ALAMESH=$alamesh sh "$top/contrib/registry/ci/check.sh" 2>&1) || fail "ci/check.sh: $out"
[ "$out" = "2 members accepted, 0 files rejected" ] || fail "ci/check.sh said: $out"
# The workflow is valid YAML, builds from the ALAMESH_GIT variable (no
# placeholder host) and fails clearly without it.
wf=$top/contrib/registry/.github/workflows/check.yml
python3 - "$wf" <<'PY' || fail "the CI workflow"
import sys, yaml
wf = yaml.safe_load(open(sys.argv[1]))
job = wf["jobs"]["check"]
assert job["env"]["ALAMESH_GIT"] == "${{ vars.ALAMESH_GIT }}", job.get("env")
steps = "\n".join(s.get("run", "") for s in job["steps"])
assert "example.org" not in steps, "a placeholder URL"
assert 'if [ -z "$ALAMESH_GIT" ]' in steps and "::error::" in steps, "no clear failure"
assert "sh ci/check.sh" in steps
PY
build=$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["jobs"]["check"]["steps"][1]["run"])' "$wf")
# No PATH: whatever happens, nothing is installed or fetched here.
out=$(cd "$work" && ALAMESH_GIT='' PATH=/nonexistent /bin/bash -c "$build" 2>&1) && fail "the build step ran without ALAMESH_GIT"
printf '%s\n' "$out" | grep -q '::error::set the repository variable ALAMESH_GIT' || fail "the build step's failure: $out"
pass "contrib/registry passes, through ci/check.sh too; its workflow asks for ALAMESH_GIT"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all registry CLI checks passed"
