# shellcheck shell=bash disable=SC2034  # sets globals (NS_A, EP_A, PROC_RC...) for its callers
# Sourced by the netns integration tests, the benchmark and the demo.
#
# Everything a test creates carries the run's prefix (NS_PREFIX, "t<pid>"),
# so concurrent runs never collide: namespaces, interface names (and with them
# the control sockets in /var/run/wireguard, which namespaces share) and the
# work directory. Every process is started through ns_spawn, which records
# its pid; the EXIT/INT/TERM trap kills them all and deletes the namespaces,
# whatever way the script ends. Every wait is bounded.

set -u

NS_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NS_PREFIX=${NS_PREFIX:-t$$}
# make passes BUILD (given on its command line) down to us; relative to the top.
BUILD_DIR=${BUILD_DIR:-${BUILD:-build}}
case $BUILD_DIR in /*) ;; *) BUILD_DIR=$NS_TOP/$BUILD_DIR ;; esac
ALAMESHD=${ALAMESHD:-$BUILD_DIR/alameshd}
ALAMESH=${ALAMESH:-$BUILD_DIR/alamesh}
WG_SOCK_DIR=/var/run/wireguard

NS_WORK=$(mktemp -d "/tmp/$NS_PREFIX.XXXXXX") || {
	echo "FAIL: mktemp" >&2
	exit 1
}
NS_PAIRS=0         # how many veth pairs so far (picks the underlay subnet)
declare -gA PROC_PID=() # name -> pid of everything ns_spawn started
declare -gA PROC_LOG=() # name -> its log file
declare -gA PROC_NS=()  # name -> the namespace it runs in
NS_CLEANED=0

_ts() { date +%H:%M:%S; }
step() { printf '[%s] == %s\n' "$(_ts)" "$*"; }
info() { printf '[%s]    %s\n' "$(_ts)" "$*"; }
pass() { printf '[%s] PASS: %s\n' "$(_ts)" "$*"; }

# Prints every tracked process's log, for the failure report.
dump_logs() {
	local name
	for name in "${!PROC_LOG[@]}"; do
		[ -s "${PROC_LOG[$name]}" ] || continue
		echo "---- log of $name (last 30 lines) ----"
		tail -n 30 "${PROC_LOG[$name]}"
	done
}

# Reports a failure with the logs and ends the test (the trap cleans up).
fail() {
	printf '[%s] FAIL: %s\n' "$(_ts)" "$*" >&2
	dump_logs >&2
	exit 1
}

# check_fail MSG: records a failure and carries on, for tests whose cases are
# independent; check_done ends such a test (exit 1 if any case failed).
CHECK_FAILS=0
check_fail() {
	printf '[%s] FAIL: %s\n' "$(_ts)" "$*" >&2
	CHECK_FAILS=$((CHECK_FAILS + 1))
	return 1
}
check_done() {
	[ "$CHECK_FAILS" -eq 0 ] || fail "$CHECK_FAILS case(s) failed"
	pass "$*"
}

need_root() {
	[ "$(id -u)" -eq 0 ] || fail "must run as root (network namespaces)"
}

need_tool() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || fail "missing tool: $t (make deps)"
	done
}

# The daemon under test must be built; a clear failure naming it otherwise.
need_alamesh() {
	[ -x "$ALAMESHD" ] || fail "alameshd not built: $ALAMESHD (make)"
}

# wait_for CMD TIMEOUT: polls CMD (a string for eval) every 0.1 s until it
# succeeds; returns 1 after TIMEOUT seconds.
wait_for() {
	local cmd=$1 timeout=${2:-10}
	local deadline=$((SECONDS + timeout))
	while :; do
		eval "$cmd" >/dev/null 2>&1 && return 0
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# Runs a command, failing the test with MSG if it fails.
must() {
	local msg=$1
	shift
	"$@" || fail "$msg (command: $*)"
}

nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# ifname SUFFIX: an interface name of this run ("$NS_PREFIX-SUFFIX"), which
# also names its control socket in the shared /var/run/wireguard.
ifname() {
	local n="$NS_PREFIX-$1"
	[ ${#n} -le 15 ] || fail "interface name too long: $n"
	printf '%s\n' "$n"
}

ns_add() {
	local ns=$1
	ip netns add "$ns" || fail "ip netns add $ns"
	ip -n "$ns" link set lo up || fail "lo up in $ns"
}

# veth_link NSX NSY: joins two existing namespaces by a veth pair (the Nth
# of the run, N counting from 1) with
#   NSX: 10.N.0.1/24 fd00:N::1/64     NSY: 10.N.0.2/24 fd00:N::2/64
# The addresses are left in U4_X U4_Y U6_X U6_Y, the veth names in V_X V_Y.
veth_link() {
	local x=$1 y=$2
	NS_PAIRS=$((NS_PAIRS + 1))
	local n=$NS_PAIRS
	local vx vy
	vx=$(ifname "v${n}a") || exit 1
	vy=$(ifname "v${n}b") || exit 1
	ip link add "$vx" netns "$x" type veth peer name "$vy" netns "$y" ||
		fail "veth $vx/$vy"
	U4_X=10.$n.0.1 U4_Y=10.$n.0.2 U6_X=fd00:$n::1 U6_Y=fd00:$n::2 V_X=$vx V_Y=$vy
	must "underlay $x" ip -n "$x" addr add "$U4_X/24" dev "$vx"
	must "underlay $y" ip -n "$y" addr add "$U4_Y/24" dev "$vy"
	must "underlay6 $x" ip -n "$x" addr add "$U6_X/64" dev "$vx" nodad
	must "underlay6 $y" ip -n "$y" addr add "$U6_Y/64" dev "$vy" nodad
	must "veth up" ip -n "$x" link set "$vx" up
	must "veth up" ip -n "$y" link set "$vy" up
	wait_for "ip netns exec $x ping -c1 -W1 $U4_Y" 10 || fail "underlay IPv4 $x -> $y"
	wait_for "ip netns exec $x ping -6 -c1 -W1 $U6_Y" 10 || fail "underlay IPv6 $x -> $y"
}

# netns_pair A B: two namespaces "$NS_PREFIX-A" and "$NS_PREFIX-B" (their
# names left in NS_A and NS_B) joined by a veth pair with
#   A: 10.N.0.1/24 fd00:N::1/64     B: 10.N.0.2/24 fd00:N::2/64
# (N counts pairs from 1). The addresses are left in U4_A U4_B U6_A U6_B,
# the veth names in V_A V_B.
netns_pair() {
	NS_A="$NS_PREFIX-$1" NS_B="$NS_PREFIX-$2"
	ns_add "$NS_A"
	ns_add "$NS_B"
	veth_link "$NS_A" "$NS_B"
	U4_A=$U4_X U4_B=$U4_Y U6_A=$U6_X U6_B=$U6_Y V_A=$V_X V_B=$V_Y
}

# netns_line A B C: three namespaces in a line, A - B - C, each link a veth
# pair as netns_pair makes them. B routes nothing between its two links, so
# A and C cannot reach each other's underlay: only tunnels through B join
# them. Sets NS_A NS_B NS_C and, named by the near end and then the far
# one, the underlay addresses U4_AB U4_BA U6_AB U6_BA (the A-B link) and
# U4_BC U4_CB U6_BC U6_CB (the B-C link).
netns_line() {
	NS_A="$NS_PREFIX-$1" NS_B="$NS_PREFIX-$2" NS_C="$NS_PREFIX-$3"
	ns_add "$NS_A"
	ns_add "$NS_B"
	ns_add "$NS_C"
	veth_link "$NS_A" "$NS_B"
	U4_AB=$U4_X U4_BA=$U4_Y U6_AB=$U6_X U6_BA=$U6_Y
	veth_link "$NS_B" "$NS_C"
	U4_BC=$U4_X U4_CB=$U4_Y U6_BC=$U6_X U6_CB=$U6_Y
	must "no IPv4 forwarding on B" nsx "$NS_B" sysctl -qw net.ipv4.ip_forward=0
	must "no IPv6 forwarding on B" nsx "$NS_B" sysctl -qw net.ipv6.conf.all.forwarding=0
	if nsx "$NS_A" ping -c1 -W1 "$U4_CB" >/dev/null 2>&1 ||
		nsx "$NS_A" ping -6 -c1 -W1 "$U6_CB" >/dev/null 2>&1; then
		fail "A reaches C's underlay: the line is not a line"
	fi
}

# use_underlay 4|6 PORT: sets EP_A and EP_B, the "host:port" of A and B on
# that underlay of the last pair. For 6 the IPv4 addresses are removed, so
# nothing can quietly fall back to IPv4.
use_underlay() {
	local fam=$1 port=$2
	case $fam in
	4) EP_A="$U4_A:$port" EP_B="$U4_B:$port" ;;
	6)
		EP_A="[$U6_A]:$port" EP_B="[$U6_B]:$port"
		must "flush IPv4 on A" ip -n "$NS_A" -4 addr flush dev "$V_A"
		must "flush IPv4 on B" ip -n "$NS_B" -4 addr flush dev "$V_B"
		;;
	*) fail "underlay must be 4 or 6, not '$fam'" ;;
	esac
}

# ns_spawn NAME NS CMD...: starts CMD in NS in the background, in a session
# of its own (so Ctrl-C reaches only this script and the cleanup can kill the
# whole group); stdout+stderr go to $NS_WORK/NAME.log.
ns_spawn() {
	local name=$1 ns=$2
	shift 2
	local log="$NS_WORK/$name.log"
	setsid ip netns exec "$ns" "$@" >"$log" 2>&1 </dev/null &
	PROC_PID[$name]=$!
	PROC_LOG[$name]=$log
	PROC_NS[$name]=$ns
}

proc_alive() {
	local pid=${PROC_PID[$1]:-}
	[ -n "$pid" ] || return 1
	local state
	state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# proc_wait NAME TIMEOUT: waits for NAME to exit; sets PROC_RC to its exit
# status (or 124 when it had to be killed). Returns 0 if it exited in time.
proc_wait() {
	local name=$1 timeout=${2:-10}
	local pid=${PROC_PID[$name]:-}
	PROC_RC=127
	[ -n "$pid" ] || return 1
	local deadline=$((SECONDS + timeout))
	while proc_alive "$name" && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.1
	done
	if proc_alive "$name"; then
		_proc_kill "$name"
		PROC_RC=124
		return 1
	fi
	wait "$pid" 2>/dev/null
	PROC_RC=$?
	unset "PROC_PID[$name]"
	return 0
}

# proc_stop NAME [SIGNAL] [TIMEOUT]: signals NAME and waits for it (bounded);
# PROC_RC holds its exit status.
proc_stop() {
	local name=$1 sig=${2:-TERM} timeout=${3:-10}
	local pid=${PROC_PID[$name]:-}
	PROC_RC=127
	[ -n "$pid" ] || return 1
	kill -"$sig" "$pid" 2>/dev/null
	proc_wait "$name" "$timeout"
}

# Our namespaces: every one named "$NS_PREFIX-*", including those made by a
# subshell whose bookkeeping the main shell never saw.
ns_ours() {
	ip netns list 2>/dev/null | awk -v p="$NS_PREFIX-" 'index($1, p) == 1 {print $1}'
}

# Stops one tracked process: TERM to its group, bounded wait, then KILL.
_proc_kill() {
	local name=$1 pid=${PROC_PID[$1]}
	kill -TERM -- "-$pid" 2>/dev/null
	kill -TERM "$pid" 2>/dev/null
	local deadline=$((SECONDS + 5))
	while proc_alive "$name" && [ "$SECONDS" -lt "$deadline" ]; do
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "PROC_PID[$name]" "PROC_NS[$name]"
}

# ns_del NS: kills the processes in NS (tracked or not) and deletes it.
ns_del() {
	local ns=$1 name pid
	for name in "${!PROC_PID[@]}"; do
		[ "${PROC_NS[$name]:-}" = "$ns" ] && _proc_kill "$name"
	done
	for pid in $(ip netns pids "$ns" 2>/dev/null); do
		kill -KILL "$pid" 2>/dev/null
	done
	ip netns del "$ns" 2>/dev/null
}

# Kills every tracked process and deletes all our namespaces (with whatever
# still runs in them); the work directory stays.
ns_teardown() {
	local name ns
	for name in "${!PROC_PID[@]}"; do
		_proc_kill "$name"
	done
	for ns in $(ns_ours); do
		ns_del "$ns"
	done
	rm -f "$WG_SOCK_DIR/$NS_PREFIX-"*.sock
	rm -rf "/etc/netns/$NS_PREFIX-"* # files a test gave its namespaces (hosts)
}

# Everything, once: teardown and the work directory (kept with KEEP_LOGS=1).
ns_cleanup() {
	[ "$NS_CLEANED" -eq 1 ] && return 0
	NS_CLEANED=1
	ns_teardown
	if [ "${KEEP_LOGS:-0}" = 1 ]; then
		echo "logs kept in $NS_WORK"
	else
		rm -rf "$NS_WORK"
	fi
}

_on_exit() {
	local rc=$?
	trap - EXIT INT TERM
	ns_cleanup
	exit "$rc"
}
_on_signal() {
	echo "interrupted ($1), cleaning up" >&2
	trap - EXIT INT TERM
	ns_cleanup
	[ "$1" = INT ] && exit 130
	exit 143
}
trap _on_exit EXIT
trap '_on_signal INT' INT
trap '_on_signal TERM' TERM

# ---- keys and addresses ----------------------------------------------------

key_gen() { wg genkey; }
key_pub() { printf '%s\n' "$1" | wg pubkey; }

# addr_py PUB: the address per DESIGN.md ("Address"), computed here so the
# tests do not depend on the code they test.
addr_py() {
	python3 - "$1" <<'EOF'
import base64, hashlib, ipaddress, sys
raw = base64.b64decode(sys.argv[1], validate=True)
if len(raw) != 32:
    sys.exit("bad key length")
h = hashlib.blake2s(b"alamesh address" + raw).digest()
print(ipaddress.IPv6Address(b"\xfc" + h[:15]))
EOF
}

# key_addr PUB: the node address. When build/alamesh exists its answer is
# checked against the independent computation, so a mismatch fails loudly.
key_addr() {
	local want got
	want=$(addr_py "$1") || fail "cannot derive the address of $1"
	if [ -x "$ALAMESH" ] && got=$("$ALAMESH" addr "$1" 2>/dev/null) && [ -n "$got" ]; then
		got=$(python3 -c 'import ipaddress,sys; print(ipaddress.IPv6Address(sys.argv[1]))' \
			"$got" 2>/dev/null) || fail "alamesh addr printed an invalid address for $1"
		[ "$got" = "$want" ] || fail "alamesh addr $1 = $got, DESIGN.md says $want"
	fi
	printf '%s\n' "$want"
}

# new_node VAR: generates a key pair; sets VAR_PRIV, VAR_PUB, VAR_ADDR and
# writes the private key to $NS_WORK/VAR.key (mode 0600).
new_node() {
	local v=$1 priv pub addr
	priv=$(key_gen) || fail "wg genkey"
	pub=$(key_pub "$priv") || fail "wg pubkey"
	addr=$(key_addr "$pub") || exit 1
	(umask 077 && printf '%s\n' "$priv" >"$NS_WORK/$v.key")
	printf -v "${v}_PRIV" '%s' "$priv"
	printf -v "${v}_PUB" '%s' "$pub"
	printf -v "${v}_ADDR" '%s' "$addr"
	printf -v "${v}_KEYFILE" '%s' "$NS_WORK/$v.key"
}

# uplink INET NS SUFFIX NET: a link from NS to the router INET ("the
# internet"): NS at NET.1/24, INET at NET.254, NS's default route through
# INET; prints NS's end.
uplink() {
	local inet=$1 ns=$2 net=$4 v p
	v=$(ifname "$3") && p=$(ifname "$3p") || exit 1
	ip link add "$v" netns "$ns" type veth peer name "$p" netns "$inet" || fail "veth $v"
	must "addr $net.1" ip -n "$ns" addr add "$net.1/24" dev "$v"
	must "addr $net.254" ip -n "$inet" addr add "$net.254/24" dev "$p"
	must "up $v" ip -n "$ns" link set "$v" up
	must "up $p" ip -n "$inet" link set "$p" up
	must "default route of $ns" ip -n "$ns" route add default via "$net.254"
	printf '%s\n' "$v"
}

# nat_lan NAT HOST NAT_ADDR HOST_ADDR: a LAN (/24) from the router NAT to
# HOST behind it, HOST's default route through NAT, which forwards IPv4;
# sets NLAN and CLAN to NAT's and HOST's ends.
nat_lan() {
	local nat=$1 host=$2
	NLAN=$(ifname ln) && CLAN=$(ifname lc) || exit 1
	ip link add "$NLAN" netns "$nat" type veth peer name "$CLAN" netns "$host" || fail "veth LAN"
	must "LAN addr N" ip -n "$nat" addr add "$3/24" dev "$NLAN"
	must "LAN addr C" ip -n "$host" addr add "$4/24" dev "$CLAN"
	must "LAN up N" ip -n "$nat" link set "$NLAN" up
	must "LAN up C" ip -n "$host" link set "$CLAN" up
	must "C's default route" ip -n "$host" route add default via "$3"
	must "N forwards IPv4" nsx "$nat" sysctl -qw net.ipv4.ip_forward=1
}

# nat_router NS LAN WAN MODE [OTHER]: NS's nftables, a home router's: it
# masquerades what goes out of WAN (MODE "" keeps the port when it can,
# "fully-random" maps each destination apart); forwards only what the LAN
# opened (and, where the LAN is a bridge that hands its frames to the
# firewall, what stays on it); and takes nothing unasked from the WAN for
# itself (a probe that reached the router's own stack would hold the port
# its LAN host's answer needs, and the NAT would map that answer
# elsewhere). Counts, as to_other, what goes towards OTHER.
nat_router() {
	nsx "$1" nft -f - <<EOF || fail "nftables of $1 ($4)"
flush ruleset
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "$3" masquerade $4
	}
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "$3" ct state new drop
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		ip daddr ${5:-0.0.0.0} counter name to_other
		ct state established,related accept
		iifname "$2" oifname { "$2", "$3" } accept
	}
	counter to_other {}
}
EOF
}

# to_other NS: packets NS's LAN sent towards nat_router's OTHER.
to_other() {
	nsx "$1" nft -j list counter ip nat to_other |
		python3 -c 'import json,sys; print([o["counter"]["packets"] for o in json.load(sys.stdin)["nftables"] if "counter" in o][0])'
}

# ---- alameshd ----------------------------------------------------------------

# alameshd_conf FILE IFNAME PRIVKEY PORT: writes the [Interface] section.
alameshd_conf() {
	local file=$1 ifname=$2 priv=$3 port=$4
	(umask 077 && cat >"$file") <<EOF
[Interface]
Name = $ifname
PrivateKey = $priv
ListenPort = $port
MTU = 1420
EOF
}

# alameshd_conf_peer FILE PUB [ENDPOINT] [KEEPALIVE]: appends a [Peer].
alameshd_conf_peer() {
	local file=$1 pub=$2 ep=${3:-} ka=${4:-}
	{
		printf '\n[Peer]\nPublicKey = %s\n' "$pub"
		[ -n "$ep" ] && printf 'Endpoint = %s\n' "$ep"
		[ -n "$ka" ] && printf 'PersistentKeepalive = %s\n' "$ka"
	} >>"$file"
}

# alameshd_start NAME NS CONF IFNAME ADDR: starts alameshd and waits (bounded)
# until its TUN is up with ADDR on it.
alameshd_start() {
	local name=$1 ns=$2 conf=$3 ifname=$4 addr=$5
	ns_spawn "$name" "$ns" "$ALAMESHD" ${ALAMESHD_DEBUG:+-v} -c "$conf"
	if ! wait_for "ip -n $ns -6 addr show dev $ifname | grep -q ' $addr/128'" 10; then
		proc_alive "$name" || fail "$name exited at start-up"
		fail "$name: no $ifname with $addr/128 after 10 s"
	fi
	info "$name up in $ns: $ifname $addr"
}

# alameshd_pair_start: alameshd-a (node MA) in NS_A and alameshd-b (node MB)
# in NS_B, each the other's static peer at the endpoints use_underlay chose;
# sets IA and IB to their interface names.
alameshd_pair_start() {
	IA=$(ifname ma) && IB=$(ifname mb) || exit 1
	alameshd_conf "$NS_WORK/a.conf" "$IA" "$MA_PRIV" 51820
	alameshd_conf_peer "$NS_WORK/a.conf" "$MB_PUB" "$EP_B"
	alameshd_conf "$NS_WORK/b.conf" "$IB" "$MB_PRIV" 51820
	alameshd_conf_peer "$NS_WORK/b.conf" "$MA_PUB" "$EP_A"
	alameshd_start alameshd-a "$NS_A" "$NS_WORK/a.conf" "$IA" "$MA_ADDR"
	alameshd_start alameshd-b "$NS_B" "$NS_WORK/b.conf" "$IB" "$MB_ADDR"
}

# alameshd_line_start [BIN_B]: alameshd-a, -b and -c (nodes MA, MB, MC) on the line
# netns_line made, linked by static peers A <-> B and B <-> C (with
# keepalives), and a registry (a bare git repository read over file://)
# that lists all three as members without endpoints: it peers no one more,
# but origin validation takes routes only for members, static peers and
# ourselves, so without it A would refuse a route to C. Sets IA IB IC.
# With BIN_B, B runs that daemon instead (a relay built to misbehave).
alameshd_line_start() {
	local n bin_b=${1:-$ALAMESHD}
	IA=$(ifname la) && IB=$(ifname lb) && IC=$(ifname lc) || exit 1
	registry_init
	registry_member a "$MA_PUB"
	registry_member b "$MB_PUB"
	registry_member c "$MC_PUB"
	registry_publish "a, b and c"
	alameshd_conf "$NS_WORK/a.conf" "$IA" "$MA_PRIV" 51820
	alameshd_conf_peer "$NS_WORK/a.conf" "$MB_PUB" "$U4_BA:51820" 25
	alameshd_conf "$NS_WORK/b.conf" "$IB" "$MB_PRIV" 51820
	alameshd_conf_peer "$NS_WORK/b.conf" "$MA_PUB" "$U4_AB:51820" 25
	alameshd_conf_peer "$NS_WORK/b.conf" "$MC_PUB" "$U4_CB:51820" 25
	alameshd_conf "$NS_WORK/c.conf" "$IC" "$MC_PRIV" 51820
	alameshd_conf_peer "$NS_WORK/c.conf" "$MB_PUB" "$U4_BC:51820" 25
	for n in a b c; do
		registry_section "$NS_WORK/$n.conf" "file://$REG" "$NS_WORK/cache-$n"
		"$ALAMESHD" -t -c "$NS_WORK/$n.conf" || fail "-t refuses $n.conf"
	done
	alameshd_start alameshd-a "$NS_A" "$NS_WORK/a.conf" "$IA" "$MA_ADDR"
	ALAMESHD=$bin_b alameshd_start alameshd-b "$NS_B" "$NS_WORK/b.conf" "$IB" "$MB_ADDR"
	alameshd_start alameshd-c "$NS_C" "$NS_WORK/c.conf" "$IC" "$MC_ADDR"
}

# ---- a registry ----------------------------------------------------------------

# registry_init: a bare repository REG ($NS_WORK/registry.git) and a working
# copy SRC that pushes to it, with an empty members/.
registry_init() {
	REG=$NS_WORK/registry.git SRC=$NS_WORK/registry-src
	git init -q --bare -b main "$REG" || fail "git init --bare"
	git init -q -b main "$SRC" && git -C "$SRC" config user.email t@example.org &&
		git -C "$SRC" config user.name test || fail "git init"
	mkdir -p "$SRC/members"
}

# registry_section CONF URL CACHE: appends a [Registry] section to CONF that
# follows URL's main branch hourly (a test asks for syncs), cached in CACHE.
registry_section() {
	printf '\n[Registry]\nURL = %s\nBranch = main\nInterval = 1h\nCacheDir = %s\n' \
		"$2" "$3" >>"$1"
}

# registry_conf NAME IFNAME PRIV PORT: $NS_WORK/NAME.conf, an [Interface]
# and the [Registry] of REG, which -t must take.
registry_conf() {
	alameshd_conf "$NS_WORK/$1.conf" "$2" "$3" "$4"
	registry_section "$NS_WORK/$1.conf" "file://$REG" "$NS_WORK/cache-$1"
	"$ALAMESHD" -t -c "$NS_WORK/$1.conf" || fail "-t refuses $1.conf"
}

# path_of IFACE MEMBER: the path column of alamesh show IFACE members.
path_of() {
	"$ALAMESH" show "$1" members | awk -F'\t' -v m="$2" '$1 == m {print $6}'
}

# nat_of IFACE KEY: the value of KEY in alamesh show IFACE nat.
nat_of() {
	"$ALAMESH" show "$1" nat | awk -F': ' -v k="$2" '$1 == k {print $2; exit}'
}

# registry_member NAME PUB [ENDPOINT...]: writes members/NAME.conf in SRC.
registry_member() {
	local name=$1 pub=$2 e
	shift 2
	{
		printf '[Member]\nPublicKey = %s\n' "$pub"
		for e in "$@"; do printf 'Endpoint = %s\n' "$e"; done
	} >"$SRC/members/$name.conf"
}

# registry_publish MESSAGE: commits all of SRC and pushes it to REG; HEAD is the commit.
registry_publish() {
	git -C "$SRC" add -A . && git -C "$SRC" commit -qm "$1" &&
		git -C "$SRC" push -q "$REG" main 2>/dev/null || fail "publish: $1"
	HEAD=$(git -C "$SRC" rev-parse HEAD)
}

# ---- wireguard-go -------------------------------------------------------------

# wggo_start NAME NS IFNAME KEYFILE PORT ADDR: wireguard-go in the foreground
# (tracked), its key and port, its own derived /128 and the mesh route.
wggo_start() {
	local name=$1 ns=$2 ifname=$3 keyfile=$4 port=$5 addr=$6
	ns_spawn "$name" "$ns" env WG_PROCESS_FOREGROUND=1 LOG_LEVEL=verbose wireguard-go "$ifname"
	wait_for "test -S $WG_SOCK_DIR/$ifname.sock && ip -n $ns link show $ifname" 10 ||
		fail "$name: wireguard-go did not create $ifname"
	must "wg set $ifname" nsx "$ns" wg set "$ifname" private-key "$keyfile" listen-port "$port"
	must "addr on $ifname" ip -n "$ns" -6 addr add "$addr/128" dev "$ifname" nodad
	must "mtu on $ifname" ip -n "$ns" link set "$ifname" mtu 1420 up
	must "mesh route on $ifname" ip -n "$ns" -6 route add fc00::/7 dev "$ifname"
	info "$name up in $ns: $ifname $addr"
}

# wggo_peer NS IFNAME PUB ALLOWED [ENDPOINT] [KEEPALIVE]
wggo_peer() {
	local ns=$1 ifname=$2 pub=$3 allowed=$4 ep=${5:-} ka=${6:-}
	local args=(peer "$pub" allowed-ips "$allowed")
	[ -n "$ep" ] && args+=(endpoint "$ep")
	[ -n "$ka" ] && args+=(persistent-keepalive "$ka")
	must "wg set $ifname peer" nsx "$ns" wg set "$ifname" "${args[@]}"
}

# wggo_handshake_age NS IFNAME PUB: seconds since the latest handshake with
# PUB as wg reports it; fails (returns 1) when there has been none.
wggo_handshake_age() {
	local ns=$1 ifname=$2 pub=$3 line ts
	line=$(nsx "$ns" wg show "$ifname" latest-handshakes 2>/dev/null | grep -F "$pub") || return 1
	ts=${line##*[[:space:]]}
	[ "$ts" -gt 0 ] 2>/dev/null || return 1
	echo $(($(date +%s) - ts))
}

# ---- traffic --------------------------------------------------------------------

# ping_ok NS DEST [COUNT]: pings (IPv6 or IPv4 by the address), bounded.
ping_ok() {
	local ns=$1 dst=$2 count=${3:-3} fam=-4
	case $dst in *:*) fam=-6 ;; esac
	nsx "$ns" timeout --foreground 20 ping "$fam" -c "$count" -i 0.2 -W 2 "$dst" >"$NS_WORK/ping.out" 2>&1
}

# ping_until NS DEST TIMEOUT: the first packets may be lost to the handshake;
# polls with single pings until one gets through.
ping_until() {
	local ns=$1 dst=$2 timeout=${3:-15} fam=-4
	case $dst in *:*) fam=-6 ;; esac
	wait_for "ip netns exec $ns ping $fam -c1 -W1 $dst" "$timeout"
}

# iperf_server NAME NS: an iperf3 server (tracked), ready when it returns.
iperf_server() {
	local name=$1 ns=$2 port=${3:-5201}
	ns_spawn "$name" "$ns" iperf3 -s -p "$port"
	wait_for "ip netns exec $ns ss -Hltn 'sport = :$port' | grep -q LISTEN" 10 ||
		fail "$name: iperf3 server not listening"
}

# iperf_gbps NS DEST SECONDS [PORT] [-R]: a single-stream TCP transfer from
# NS to DEST (with -R, from DEST to NS); prints the receiver's throughput in
# Gbit/s. Returns 1 if it failed or moved nothing.
iperf_gbps() {
	local ns=$1 dst=$2 secs=$3 port=${4:-5201} extra=()
	[ $# -ge 5 ] && extra=("$5")
	local out="$NS_WORK/iperf.$ns.json"
	nsx "$ns" timeout --foreground $((secs + 20)) iperf3 -J -c "$dst" -p "$port" -t "$secs" \
		--connect-timeout 5000 "${extra[@]}" >"$out" 2>&1 || {
		grep -m1 '"error"' "$out" >&2 || tail -n 3 "$out" >&2
		return 1
	}
	python3 - "$out" <<'EOF'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
    bps = r["end"]["sum_received"]["bits_per_second"]
except Exception as e:
    sys.exit("iperf3: cannot parse result: %s" % e)
if not bps > 0:
    sys.exit("iperf3: zero throughput")
print("%.3f" % (bps / 1e9))
EOF
}
