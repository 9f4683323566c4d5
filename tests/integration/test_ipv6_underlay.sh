#!/usr/bin/env bash
# The pair and the wireguard-go interop tests again, with every endpoint on
# the IPv6 underlay and the IPv4 addresses removed from the link.
set -u
here=$(cd "$(dirname "$0")" && pwd)
rc=0
for t in test_alameshd_pair test_interop_wggo; do
	echo "== $t over the IPv6 underlay"
	if UNDERLAY=6 bash "$here/$t.sh"; then
		echo "PASS: $t over IPv6"
	else
		echo "FAIL: $t over IPv6" >&2
		rc=1
	fi
done
exit "$rc"
