#!/usr/bin/env bash
# Sums the suites' result files (one "PASS name" or "FAIL name" per line).
# The last line is "N passed, N failed"; exits 1 on any failure or no test.
set -u
dir=${1:?results dir}
tp=0 tf=0
for suite in unit lint integration; do
	f=$dir/$suite.txt
	p=0 fl=0
	if [ -f "$f" ]; then
		p=$(grep -c '^PASS ' "$f" || true)
		fl=$(grep -c '^FAIL ' "$f" || true)
		grep '^FAIL ' "$f" | sed "s/^/  $suite: /"
	fi
	echo "$suite: $p passed, $fl failed"
	tp=$((tp + p)) tf=$((tf + fl))
done
echo "$tp passed, $tf failed"
[ "$tf" -eq 0 ] && [ "$tp" -gt 0 ]
