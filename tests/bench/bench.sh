#!/usr/bin/env bash
# make bench: single-stream TCP throughput (iperf3) between two network
# namespaces joined by a veth pair, over
#   veth          the bare link, the ceiling
#   wireguard-go  wireguard-go on both ends (MTU 1420)
#   yggdrasil     yggdrasil on both ends, peered over TCP on the veth (its default MTU)
#   alamesh       alameshd on both ends (MTU 1420)
#   alamesh-relay alameshd on A, B and C in a line A - B - C, where A and C
#                 cannot reach each other's underlay: A's session with C is
#                 relayed by B, which opens each message of its own session
#                 with A and seals it in its session with C, never the
#                 end-to-end message inside (measured A -> C)
#   alamesh-punched two members each behind its own masquerading NAT, with
#                 two public members that relay their session first; they
#                 punch through and go direct (measured once direct)
# each in fresh namespaces, for BENCH_SECONDS (default 10) seconds
# (BENCH_PHASES, a list of these names, runs only those). Prints
# Gbit/s for each and the ratios of alamesh to the others. Exits non-zero if
# any phase failed (the others are still measured and printed).
# The relayed and punched paths' shares of the direct figure are printed too.
# shellcheck disable=SC2317  # the phases are called by name
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

SECS=${BENCH_SECONDS:-10}
case $SECS in '' | *[!0-9]* | 0) fail "BENCH_SECONDS must be a positive integer" ;; esac
need_root
need_tool ip iperf3 wg wireguard-go yggdrasil python3 ss git nft

# BENCH_PHASES picks some (the ratios need alamesh among them).
read -ra PHASES <<<"${BENCH_PHASES:-veth wireguard-go yggdrasil alamesh alamesh-relay alamesh-punched}"
declare -A GBPS=() RETR=()
PHASE_NO=0

# Each phase measures from B to the server in A and leaves Gbit/s in
# $NS_WORK/result.PHASE (iperf3's JSON stays in $NS_WORK/iperf.NS.json).

phase_veth() {
	netns_pair a b
	iperf_server iperf "$NS_A"
	iperf_gbps "$NS_B" "$U6_A" "$SECS" >"$NS_WORK/result.veth" || fail "iperf3 over veth"
}

phase_wireguard-go() {
	netns_pair a b
	new_node WA
	new_node WB
	local ia ib
	ia=$(ifname wa) && ib=$(ifname wb) || exit 1
	wggo_start wg-a "$NS_A" "$ia" "$WA_KEYFILE" 51820 "$WA_ADDR"
	wggo_start wg-b "$NS_B" "$ib" "$WB_KEYFILE" 51820 "$WB_ADDR"
	wggo_peer "$NS_A" "$ia" "$WB_PUB" "$WB_ADDR/128" "$U4_B:51820"
	wggo_peer "$NS_B" "$ib" "$WA_PUB" "$WA_ADDR/128" "$U4_A:51820"
	ping_until "$NS_B" "$WA_ADDR" 15 || fail "no ping across wireguard-go"
	iperf_server iperf "$NS_A"
	iperf_gbps "$NS_B" "$WA_ADDR" "$SECS" >"$NS_WORK/result.wireguard-go" ||
		fail "iperf3 over wireguard-go"
}

# ygg_conf FILE IFNAME LISTEN PEER: a fresh yggdrasil config (new keys), no
# admin socket, no multicast discovery, peering only as told.
ygg_conf() {
	yggdrasil -genconf -json | python3 -c '
import json, sys
c = json.load(sys.stdin)
c["IfName"] = sys.argv[1]
c["Listen"] = [sys.argv[2]] if sys.argv[2] else []
c["Peers"] = [sys.argv[3]] if sys.argv[3] else []
c["AdminListen"] = "none"
c["MulticastInterfaces"] = []
json.dump(c, sys.stdout, indent=1)
' "$2" "$3" "$4" >"$1" || fail "yggdrasil -genconf"
}

phase_yggdrasil() {
	netns_pair a b
	local ia ib ya yb
	ia=$(ifname ya) && ib=$(ifname yb) || exit 1
	ygg_conf "$NS_WORK/ygg-a.conf" "$ia" "tcp://$U4_A:12345" ""
	ygg_conf "$NS_WORK/ygg-b.conf" "$ib" "" "tcp://$U4_A:12345"
	ya=$(yggdrasil -address -useconffile "$NS_WORK/ygg-a.conf") || fail "yggdrasil -address"
	yb=$(yggdrasil -address -useconffile "$NS_WORK/ygg-b.conf") || fail "yggdrasil -address"
	# B dials A once and then backs off for long: A must listen first.
	ns_spawn ygg-a "$NS_A" yggdrasil -useconffile "$NS_WORK/ygg-a.conf"
	wait_for "ip netns exec $NS_A ss -Hltn 'sport = :12345' | grep -q LISTEN" 15 ||
		fail "yggdrasil A not listening on $U4_A:12345"
	ns_spawn ygg-b "$NS_B" yggdrasil -useconffile "$NS_WORK/ygg-b.conf"
	wait_for "ip -n $NS_A -6 addr show dev $ia | grep -q ' $ya/'" 15 || fail "yggdrasil A: no $ya on $ia"
	wait_for "ip -n $NS_B -6 addr show dev $ib | grep -q ' $yb/'" 15 || fail "yggdrasil B: no $yb on $ib"
	info "yggdrasil A $ya, B $yb"
	ping_until "$NS_B" "$ya" 30 || fail "no ping across yggdrasil"
	iperf_server iperf "$NS_A"
	iperf_gbps "$NS_B" "$ya" "$SECS" >"$NS_WORK/result.yggdrasil" || fail "iperf3 over yggdrasil"
}

phase_alamesh() {
	need_alamesh
	netns_pair a b
	new_node MA
	new_node MB
	use_underlay 4 51820
	alameshd_pair_start
	ping_until "$NS_B" "$MA_ADDR" 15 || fail "no ping across alameshd"
	iperf_server iperf "$NS_A"
	iperf_gbps "$NS_B" "$MA_ADDR" "$SECS" >"$NS_WORK/result.alamesh" || fail "iperf3 over alameshd"
}

# Static peers A <-> B <-> C and a registry of the three (alameshd_line_start):
# A's route to C through B comes from the routing protocol.
phase_alamesh-relay() {
	need_alamesh
	netns_line a b c
	new_node MA
	new_node MB
	new_node MC
	alameshd_line_start
	ping_until "$NS_A" "$MC_ADDR" 60 || fail "no route A -> C through B"
	iperf_server iperf "$NS_C"
	iperf_gbps "$NS_A" "$MC_ADDR" "$SECS" >"$NS_WORK/result.alamesh-relay" ||
		fail "iperf3 A -> C through B"
	cp "$NS_WORK/iperf.$NS_A.json" "$NS_WORK/iperf.alamesh-relay.json"
}

# alice and bob public on two subnets of "the internet" I; carol behind N1,
# dave behind N2, each masquerading (nat_router). Their session starts
# relayed by alice or bob and goes direct; measured carol -> dave once
# carol's members view says so.
phase_alamesh-punched() {
	need_alamesh
	local ni=$NS_PREFIX-pi na=$NS_PREFIX-pa nb=$NS_PREFIX-pb n1=$NS_PREFIX-p1 n2=$NS_PREFIX-p2
	local nc=$NS_PREFIX-pc nd=$NS_PREFIX-pd ns w1 w2 v
	for ns in "$ni" "$na" "$nb" "$n1" "$n2" "$nc" "$nd"; do ns_add "$ns"; done
	must "I forwards" nsx "$ni" sysctl -qw net.ipv4.ip_forward=1
	uplink "$ni" "$na" pwa 10.9.0 >/dev/null
	uplink "$ni" "$nb" pwb 10.8.0 >/dev/null
	w1=$(uplink "$ni" "$n1" pw1 10.7.0) && w2=$(uplink "$ni" "$n2" pw2 10.6.0) || exit 1
	nat_lan "$n1" "$nc" 192.168.77.1 192.168.77.2
	nat_router "$n1" "$NLAN" "$w1" ""
	nat_lan "$n2" "$nd" 192.168.78.1 192.168.78.2
	nat_router "$n2" "$NLAN" "$w2" ""
	for v in MA MB MC MD; do new_node "$v"; done
	registry_init
	registry_member alice "$MA_PUB" 10.9.0.1:51820
	registry_member bob "$MB_PUB" 10.8.0.1:51820
	registry_member carol "$MC_PUB"
	registry_member dave "$MD_PUB"
	registry_publish "two public, two behind NATs"
	registry_conf a "$(ifname pma)" "$MA_PRIV" 51820
	registry_conf b "$(ifname pmb)" "$MB_PRIV" 51820
	registry_conf c "$(ifname pmc)" "$MC_PRIV" 51820
	registry_conf d "$(ifname pmd)" "$MD_PRIV" 51820
	alameshd_start alameshd-a "$na" "$NS_WORK/a.conf" "$(ifname pma)" "$MA_ADDR"
	alameshd_start alameshd-b "$nb" "$NS_WORK/b.conf" "$(ifname pmb)" "$MB_ADDR"
	alameshd_start alameshd-c "$nc" "$NS_WORK/c.conf" "$(ifname pmc)" "$MC_ADDR"
	alameshd_start alameshd-d "$nd" "$NS_WORK/d.conf" "$(ifname pmd)" "$MD_ADDR"
	ping_until "$nc" "$MD_ADDR" 60 || fail "no ping carol -> dave"
	ns_spawn pinger "$nc" ping -6 -i 0.2 "$MD_ADDR"
	wait_for "path_of $(ifname pmc) dave | grep -q '^direct 10.6.0.1:'" 60 ||
		fail "carol -> dave never direct: $("$ALAMESH" show "$(ifname pmc)" members)"
	proc_stop pinger
	iperf_server iperf "$nd"
	iperf_gbps "$nc" "$MD_ADDR" "$SECS" >"$NS_WORK/result.alamesh-punched" ||
		fail "iperf3 carol -> dave, punched"
	cp "$NS_WORK/iperf.$nc.json" "$NS_WORK/iperf.alamesh-punched.json"
}

# Runs one phase in a subshell that tears its namespaces down however it
# ends, so one failing phase does not stop the others.
run_phase() {
	local p=$1
	PHASE_NO=$((PHASE_NO + 1))
	step "$p (${SECS}s)"
	(
		trap ns_teardown EXIT
		trap 'exit 130' INT
		trap 'exit 143' TERM
		NS_PAIRS=$((PHASE_NO - 1))
		"phase_$p"
	)
	local rc=$?
	if [ "$rc" -eq 0 ] && [ -s "$NS_WORK/result.$p" ]; then
		GBPS[$p]=$(cat "$NS_WORK/result.$p")
		local json=$NS_WORK/iperf.$NS_PREFIX-b.json
		[ -f "$NS_WORK/iperf.$p.json" ] && json=$NS_WORK/iperf.$p.json
		RETR[$p]=$(retransmits "$json")
		info "$p: ${GBPS[$p]} Gbit/s, ${RETR[$p]} retransmits"
	else
		info "$p: FAILED"
	fi
}

# The sender's TCP retransmits: packets the tunnel dropped (or reordered).
retransmits() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["end"]["sum_sent"]["retransmits"])' \
		"$1" 2>/dev/null || echo "?"
}

ratio() {
	python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))' "$1" "$2"
}

for p in "${PHASES[@]}"; do
	run_phase "$p"
done

echo
echo "== iperf3 single TCP stream, ${SECS}s, $(nproc) CPUs, $(uname -r)"
rc=0
for p in "${PHASES[@]}"; do
	if [ -n "${GBPS[$p]:-}" ]; then
		printf '%-16s %8s Gbit/s  %8s TCP retransmits\n' "$p" "${GBPS[$p]}" "${RETR[$p]}"
	else
		printf '%-16s %8s\n' "$p" "FAILED"
		rc=1
	fi
done
m=${GBPS[alamesh]:-}
for other in wireguard-go yggdrasil; do
	o=${GBPS[$other]:-}
	if [ -n "$m" ] && [ -n "$o" ]; then
		printf 'alamesh/%-13s %s\n' "$other" "$(ratio "$m" "$o")"
	else
		printf 'alamesh/%-13s n/a\n' "$other"
	fi
done
for path in relay punched; do
	r=${GBPS[alamesh-$path]:-}
	if [ -n "$m" ] && [ -n "$r" ]; then
		printf '%-21s %s\n' "$path/direct" "$(ratio "$r" "$m")"
	fi
done
[ -n "$m" ] || echo "alamesh: FAILED (see above); the other figures are valid" >&2
exit "$rc"
