#!/usr/bin/env bash
# Interop of wgproto/ with stock wireguard-go: wgprobe (built here from the
# repo sources) and wireguard-go in two network namespaces joined by a veth
# pair. Checks the handshake and an ICMPv6 echo through the tunnel with the
# probe as initiator, as responder (wireguard-go initiating because of a
# ping), and with a preshared key.
set -euo pipefail
umask 077

top=$(cd "$(dirname "$0")/../.." && pwd)
NS_WG=nzwg NS_PR=nzpr
IF_WG=wgnz0
V4_WG=10.201.77.1 V4_PR=10.201.77.2
IP6_WG=fd77:6e7a::1 IP6_PR=fd77:6e7a::2
PORT_WG=51871 PORT_PR=51872
tmp=$(mktemp -d /tmp/nz-interop.XXXXXX)
wgpid=

cleanup() {
	set +e
	[ -n "$wgpid" ] && kill "$wgpid" 2>/dev/null && wait "$wgpid" 2>/dev/null
	ip netns del "$NS_WG" 2>/dev/null
	ip netns del "$NS_PR" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	[ -f "$tmp/wg.log" ] && tail -n 30 "$tmp/wg.log" >&2
	exit 1
}

for tool in wireguard-go wg ip cc pkg-config ping; do
	command -v "$tool" >/dev/null || fail "$tool is not installed"
done

echo "== building wgprobe"
# shellcheck disable=SC2046
cc -std=c17 -D_GNU_SOURCE -pthread -O1 -g -I"$top" -o "$tmp/wgprobe" \
	"$top/tests/interop/wgprobe.c" "$top"/wgproto/*.c \
	$(pkg-config --cflags --libs libsodium libb2)

echo "== network namespaces"
ip netns del "$NS_WG" 2>/dev/null || true
ip netns del "$NS_PR" 2>/dev/null || true
ip netns add "$NS_WG"
ip netns add "$NS_PR"
ip -n "$NS_WG" link add nzv0 type veth peer name nzv1 netns "$NS_PR"
ip -n "$NS_WG" addr add "$V4_WG/24" dev nzv0
ip -n "$NS_PR" addr add "$V4_PR/24" dev nzv1
for ns in "$NS_WG" "$NS_PR"; do ip -n "$ns" link set lo up; done
ip -n "$NS_WG" link set nzv0 up
ip -n "$NS_PR" link set nzv1 up

wg genkey >"$tmp/wg.key"
wg genkey >"$tmp/pr.key"
wg genpsk >"$tmp/psk"
wg_pub=$(wg pubkey <"$tmp/wg.key")
pr_pub=$(wg pubkey <"$tmp/pr.key")

echo "== starting wireguard-go"
ip netns exec "$NS_WG" env WG_PROCESS_FOREGROUND=1 wireguard-go -f "$IF_WG" >"$tmp/wg.log" 2>&1 &
wgpid=$!
for _ in $(seq 50); do
	[ -S "/var/run/wireguard/$IF_WG.sock" ] && break
	sleep 0.1
done
[ -S "/var/run/wireguard/$IF_WG.sock" ] || fail "wireguard-go did not start"
ip netns exec "$NS_WG" wg set "$IF_WG" private-key "$tmp/wg.key" listen-port "$PORT_WG"
ip -n "$NS_WG" addr add "$IP6_WG/64" dev "$IF_WG" nodad
ip -n "$NS_WG" link set "$IF_WG" up

# Puts the probe back as a fresh peer, so no session survives between cases.
reset_peer() {
	ip netns exec "$NS_WG" wg set "$IF_WG" peer "$pr_pub" remove
	ip netns exec "$NS_WG" wg set "$IF_WG" peer "$pr_pub" allowed-ips "$IP6_PR/128" "$@"
}

handshake_seen() {
	local t
	t=$(ip netns exec "$NS_WG" wg show "$IF_WG" latest-handshakes | awk -v k="$pr_pub" '$1 == k {print $2}')
	[ -n "$t" ] && [ "$t" -gt 0 ]
}

probe_initiates() {
	local label=$1
	shift
	echo "== $label: wgprobe initiates"
	timeout 30 ip netns exec "$NS_PR" "$tmp/wgprobe" -k "$tmp/pr.key" -p "$wg_pub" \
		-e "$V4_WG:$PORT_WG" -l "$PORT_PR" -a "$IP6_PR" -d "$IP6_WG" -t 20 "$@" ||
		fail "$label: the probe got no echo reply"
	handshake_seen || fail "$label: wireguard-go shows no handshake"
	echo "ok: $label"
}

probe_responds() {
	local label=$1
	shift
	echo "== $label: wireguard-go initiates"
	timeout 30 ip netns exec "$NS_PR" "$tmp/wgprobe" -r -k "$tmp/pr.key" -p "$wg_pub" \
		-l "$PORT_PR" -a "$IP6_PR" -n 1 -t 25 "$@" &
	local probe=$!
	sleep 0.3
	# The first echo request triggers wireguard-go's handshake and waits in its queue.
	if ! timeout 25 ip netns exec "$NS_WG" ping -6 -c 1 -W 15 "$IP6_PR"; then
		kill "$probe" 2>/dev/null || true
		wait "$probe" 2>/dev/null || true
		fail "$label: no echo reply through the probe"
	fi
	wait "$probe" || fail "$label: the probe failed"
	handshake_seen || fail "$label: wireguard-go shows no handshake"
	echo "ok: $label"
}

reset_peer
probe_initiates "initiator"

reset_peer endpoint "$V4_PR:$PORT_PR"
probe_responds "responder"

reset_peer preshared-key "$tmp/psk"
probe_initiates "initiator with psk" -P "$tmp/psk"

reset_peer preshared-key "$tmp/psk" endpoint "$V4_PR:$PORT_PR"
probe_responds "responder with psk" -P "$tmp/psk"

echo "all interop cases passed"
