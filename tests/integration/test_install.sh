#!/usr/bin/env bash
# make install / make uninstall into a DESTDIR, from the already-built BUILD
# directory (nothing is rebuilt: a stale build is an error, so that a
# sanitizer build is never mixed with plain objects):
#   - exactly alameshd in sbin, alamesh in bin and every man/* page in
#     share/man/manN are installed, with the right modes and contents;
#   - mandoc renders every installed page;
#   - the installed programs run: alamesh genkey | alamesh pubkey (checked
#     against wg pubkey), alamesh addr, alameshd -h and alameshd -t;
#   - nothing is written outside DESTDIR;
#   - make uninstall removes every installed file again.
# Needs no network and no namespaces.
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

need_tool make mandoc install cmp wg python3
need_alamesh
[ -x "$ALAMESH" ] || fail "alamesh not built: $ALAMESH (make)"

DEST=$NS_WORK/root
PFX=/usr
ROOT=$DEST$PFX
mk() { make --no-print-directory -C "$NS_TOP" BUILD="$BUILD_DIR" DESTDIR="$DEST" PREFIX="$PFX" "$@"; }

make --no-print-directory -q -C "$NS_TOP" BUILD="$BUILD_DIR" all ||
	fail "$BUILD_DIR is not up to date: build it first (make BUILD=$BUILD_DIR all)"

# The expected set: two programs and every page under man/.
declare -A WANT=([sbin/alameshd]=755 [bin/alamesh]=755
	[share/bash-completion/completions/alamesh]=644)
declare -A SRC=([sbin/alameshd]=$BUILD_DIR/alameshd [bin/alamesh]=$BUILD_DIR/alamesh
	[share/bash-completion/completions/alamesh]=$NS_TOP/contrib/completion/alamesh.bash)
PAGES=()
for m in "$NS_TOP"/man/*.[0-9]; do
	[ -f "$m" ] || continue
	rel=share/man/man${m##*.}/$(basename "$m")
	WANT[$rel]=644
	SRC[$rel]=$m
	PAGES+=("$rel")
done
[ ${#PAGES[@]} -gt 0 ] || fail "no man pages under man/"
# The systemd units, with ExecStart pointing at the installed alameshd.
for u in "$NS_TOP"/contrib/systemd/*.service; do
	rel=lib/systemd/system/$(basename "$u")
	WANT[$rel]=644
	sed "s|/usr/local/sbin/|$PFX/sbin/|g" "$u" >"$NS_WORK/$(basename "$u")"
	SRC[$rel]=$NS_WORK/$(basename "$u")
done

# Real system paths that must not appear because of us.
outside=()
for rel in "${!WANT[@]}"; do
	[ -e "$PFX/$rel" ] || outside+=("$PFX/$rel")
done

step "make install DESTDIR=$DEST PREFIX=$PFX (BUILD=$BUILD_DIR)"
mk install >"$NS_WORK/install.log" 2>&1 ||
	fail "make install: $(tail -n 5 "$NS_WORK/install.log")"
if grep -qE '(^| )(cc|gcc|clang|ar) ' "$NS_WORK/install.log"; then
	check_fail "make install rebuilt something: $(grep -m1 -E '(cc|gcc|clang|ar) ' "$NS_WORK/install.log")"
fi
pass "make install exited 0"

for rel in "${!WANT[@]}"; do
	f=$ROOT/$rel
	if [ ! -f "$f" ]; then
		check_fail "not installed: $PFX/$rel"
		continue
	fi
	mode=$(stat -c %a "$f")
	[ "$mode" = "${WANT[$rel]}" ] || check_fail "$PFX/$rel has mode $mode, want ${WANT[$rel]}"
	cmp -s "$f" "${SRC[$rel]}" || check_fail "$PFX/$rel differs from ${SRC[$rel]}"
done
# Nothing but the expected files.
while IFS= read -r f; do
	rel=${f#"$ROOT"/}
	[ -n "${WANT[$rel]:-}" ] || check_fail "unexpected file installed: ${f#"$DEST"}"
done < <(find "$DEST" -type f -o -type l)
[ "$CHECK_FAILS" -eq 0 ] && pass "installed exactly: ${!WANT[*]}"

for p in "${outside[@]}"; do
	[ -e "$p" ] && check_fail "make install with DESTDIR created $p"
done

step "the installed man pages render"
for rel in "${PAGES[@]}"; do
	f=$ROOT/$rel
	[ -f "$f" ] || continue
	page=$(basename "$rel")
	title="${page%.*}(${page##*.})"
	out=$(mandoc -Tutf8 "$f" 2>"$NS_WORK/mandoc.err") ||
		{ check_fail "mandoc cannot render $rel: $(head -n 3 "$NS_WORK/mandoc.err")"; continue; }
	out=${out//?$'\b'/} # no overstrike (bold, underline)
	if ! grep -qiF "$title" <<<"$out"; then
		check_fail "$rel: rendered page has no '$title' header"
		continue
	fi
	grep -q '^NAME' <<<"$out" || { check_fail "$rel: rendered page has no NAME section"; continue; }
	pass "mandoc renders $rel ($(wc -l <<<"$out") lines, header $title)"
done

step "the installed programs run"
inst_cli=$ROOT/bin/alamesh
inst_d=$ROOT/sbin/alameshd
if key=$("$inst_cli" genkey) && pub=$(printf '%s\n' "$key" | "$inst_cli" pubkey); then
	want=$(printf '%s\n' "$key" | wg pubkey)
	if [ "$pub" = "$want" ]; then
		pass "installed alamesh genkey | alamesh pubkey = $pub (= wg pubkey)"
	else
		check_fail "installed alamesh pubkey printed '$pub', wg pubkey says '$want'"
	fi
	got=$("$inst_cli" addr "$pub") || check_fail "installed alamesh addr $pub failed"
	want=$(addr_py "$pub")
	got=$(python3 -c 'import ipaddress,sys; print(ipaddress.IPv6Address(sys.argv[1]))' "$got" 2>/dev/null)
	if [ "$got" = "$want" ]; then
		pass "installed alamesh addr = $want"
	else
		check_fail "installed alamesh addr printed '$got', want $want"
	fi
else
	check_fail "installed alamesh genkey | alamesh pubkey failed"
fi
if "$inst_d" -h >"$NS_WORK/h.out" 2>&1 && grep -q 'alameshd' "$NS_WORK/h.out"; then
	pass "installed alameshd -h prints its usage"
else
	check_fail "installed alameshd -h: $(head -n 3 "$NS_WORK/h.out")"
fi
alameshd_conf "$NS_WORK/t.conf" "$NS_PREFIX-x" "${key:-$(wg genkey)}" 51820
if "$inst_d" -t -c "$NS_WORK/t.conf" >"$NS_WORK/t.out" 2>&1; then
	pass "installed alameshd -t accepts a minimal configuration"
else
	check_fail "installed alameshd -t -c (minimal config): $(head -n 3 "$NS_WORK/t.out")"
fi

step "make uninstall DESTDIR=$DEST PREFIX=$PFX"
mk uninstall >"$NS_WORK/uninstall.log" 2>&1 ||
	fail "make uninstall: $(tail -n 5 "$NS_WORK/uninstall.log")"
left=$(find "$DEST" -type f -o -type l)
if [ -z "$left" ]; then
	pass "make uninstall removed every installed file"
else
	check_fail "left after make uninstall: $(tr '\n' ' ' <<<"$left")"
fi

check_done "make install / uninstall"
