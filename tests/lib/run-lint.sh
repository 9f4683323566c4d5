#!/usr/bin/env bash
# Lint suite: man pages (mandoc -Tlint, style messages included), systemd
# units (systemd-analyze verify), formatting (clang-format), the tree's
# layering (check-layers.py: no call or include loop, includes only
# downward, no file over 800 lines; read from the objects in OBJDIR), and a
# short smoke run of every libFuzzer target over its seed corpus.
set -u
results=${1:?results dir}/lint.txt
objdir=${2:?object dir of the daemon library}
: >>"$results"
top=$(cd "$(dirname "$0")/../.." && pwd)
case $objdir in /*) ;; *) objdir=$top/$objdir ;; esac
cd "$top"
# Every warning fails, and so does every style message (a line over 80
# bytes, ...) but two that depend on this machine, not on the page: an Xr
# to a page not installed here (wg(8), our own pages before make install)
# and mandoc's notes on its stale database. -Wstyle exits 1 for those two,
# so the exit status is -Wwarning's.
mandoc_lint() {
	mandoc -Tlint -Wwarning "$1" >/dev/null 2>&1 || echo "mandoc -Tlint -Wwarning $1: exit $?"
	mandoc -Tlint -Wstyle "$1" 2>&1 |
		grep -v -e ': STYLE: referenced manual not found: ' -e '^mandoc: outdated mandoc\.db '
}
for m in man/*.[0-9]; do
	[ -f "$m" ] || continue
	out=$(mandoc_lint "$m")
	if [ -z "$out" ]; then
		echo "PASS mandoc:$m"
	else
		echo "FAIL mandoc:$m"; echo "$out" >&2
	fi
done >>"$results"
# The systemd units: systemd-analyze verify (binaries pointed at /bin/true,
# which verify insists exist; no man lookups, none are installed here).
units=$(mktemp -d)
for u in contrib/systemd/*.service; do
	[ -f "$u" ] || continue
	name=$(basename "$u")
	sed 's|/usr/local/sbin/alameshd|/bin/true|g' "$u" >"$units/$name"
	inst=$name
	case $name in *@.service) inst=${name%@.service}@alamesh0.service; cp "$units/$name" "$units/$inst" ;; esac
	if out=$(cd "$units" && systemd-analyze verify --man=no "$units/$inst" 2>&1) && [ -z "$out" ]; then
		echo "PASS systemd-analyze:$u"
	else
		echo "FAIL systemd-analyze:$u"; echo "$out" >&2
	fi
done >>"$results"
rm -rf "$units"
for f in $(git ls-files '*.c' '*.h'); do
	[ -f "$f" ] || continue
	if clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "PASS clang-format:$f"
	else
		echo "FAIL clang-format:$f"; echo "clang-format: $f is not formatted (make format)" >&2
	fi
done >>"$results"
python3 tests/lib/check-layers.py "$objdir" >>"$results" ||
	echo "FAIL layers:check-layers.py (exit $?)" >>"$results"
# Two fuzz targets at a time: each runs for its own 8 s whatever the other does.
fuzz_one() {
	local f=$1 name corpus work
	name=$(basename "$f")
	corpus=tests/fuzz/corpus/$name
	work=$(mktemp -d)
	if timeout 120 "$f" -max_total_time=8 -runs=200000 -print_final_stats=0 \
		"$work" $([ -d "$corpus" ] && echo "$corpus") >"$work.log" 2>&1; then
		echo "PASS fuzz:$name" >"$work.verdict"
	else
		echo "FAIL fuzz:$name" >"$work.verdict"
		tail -n 30 "$work.log" >&2
	fi
	cat "$work.verdict"
	rm -rf "$work" "$work.log" "$work.verdict"
}
fuzzers=()
for f in build/fuzz/fuzz/fuzz_*; do
	[ -f "$f" ] && [ -x "$f" ] && fuzzers+=("$f")
done
for ((i = 0; i < ${#fuzzers[@]}; i += 2)); do
	for f in "${fuzzers[@]:i:2}"; do
		fuzz_one "$f" >"$(dirname "$results")/lint-fuzz.$(basename "$f")" &
	done
	wait
done
cat "$(dirname "$results")"/lint-fuzz.* >>"$results" 2>/dev/null
rm -f "$(dirname "$results")"/lint-fuzz.*
echo "lint: $(grep -c '^PASS' "$results") passed, $(grep -c '^FAIL' "$results") failed"
