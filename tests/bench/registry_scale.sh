#!/usr/bin/env bash
# make bench, registry part: a generated registry of REGISTRY_MEMBERS (default
# 10,000) members with an endpoint each, in a real git repository read over
# file://; one alameshd follows it. Prints how long the daemon took to read
# and check the member files and to apply them (its own measurement, from
# its log), the time from start-up to all members being peers, and the
# daemon's resident memory before and after (target: under one second).
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

N=${REGISTRY_MEMBERS:-10000}
case $N in '' | *[!0-9]* | 0) fail "REGISTRY_MEMBERS must be a positive integer" ;; esac
need_root
need_tool ip git python3 wg
need_alamesh

step "generating a registry of $N members"
SRC=$NS_WORK/src
mkdir -p "$SRC/members"
python3 - "$SRC/members" "$N" <<'EOF'
import base64, os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    # Random bytes are a valid X25519 public key (a low-order one has odds of 2^-250).
    key = base64.b64encode(os.urandom(32)).decode()
    with open(os.path.join(d, "m%05d.conf" % i), "w") as f:
        f.write("[Member]\nPublicKey = %s\nEndpoint = 10.%d.%d.%d:51820\n"
                % (key, (i >> 16) & 255, (i >> 8) & 255, i & 255 or 1))
EOF
git init -q -b main "$SRC" && git -C "$SRC" add -A && git -C "$SRC" -c user.email=b@example.org \
	-c user.name=bench commit -qm "$N members" || fail "git commit"
git clone -q --bare "$SRC" "$NS_WORK/registry.git" || fail "git clone --bare"
info "$(git -C "$NS_WORK/registry.git" count-objects -vH | grep size-pack)"

netns_pair a b
new_node MA
IA=$(ifname sa) || exit 1
alameshd_conf "$NS_WORK/a.conf" "$IA" "$MA_PRIV" 51820
printf '\n[Registry]\nURL = file://%s\nCacheDir = %s\nInterval = 1h\n' \
	"$NS_WORK/registry.git" "$NS_WORK/cache" >>"$NS_WORK/a.conf"

step "alameshd follows it"
t0=$(date +%s%N)
alameshd_start alameshd-a "$NS_A" "$NS_WORK/a.conf" "$IA" "$MA_ADDR"
pid=${PROC_PID[alameshd-a]}
rss0=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
wait_for "grep -q 'registry: applied' ${PROC_LOG[alameshd-a]}" 120 || fail "never applied: $(tail -n 3 "${PROC_LOG[alameshd-a]}")"
t1=$(date +%s%N)
line=$(grep -m1 'registry: applied' "${PROC_LOG[alameshd-a]}")
peers=$(wg show "$IA" peers | wc -l)
[ "$peers" = "$N" ] || fail "$peers peers, want $N"
rss1=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
read_ms=$(printf '%s\n' "$line" | sed -n 's/.*read and checked in \([0-9]*\) ms.*/\1/p')
apply_ms=$(printf '%s\n' "$line" | sed -n 's/.*applied in \([0-9]*\) ms.*/\1/p')

echo
echo "== registry of $N members, $(nproc) CPUs"
printf 'read and checked  %6s ms   (git blobs -> validated members, endpoints resolved)\n' "$read_ms"
printf 'applied           %6s ms   (%s peers added)\n' "$apply_ms" "$peers"
printf 'parsed+applied    %6s ms   (target: under 1000 ms)\n' "$((read_ms + apply_ms))"
printf 'start to peered   %6s ms   (including the first fetch)\n' "$(((t1 - t0) / 1000000))"
printf 'resident memory   %6s KiB at start, %s KiB with %s members (%s bytes each)\n' \
	"$rss0" "$rss1" "$N" "$(((rss1 - rss0) * 1024 / N))"
