#!/usr/bin/env bash
# A relay that misbehaves gets nothing through. Three members in a line
# A - B - C, where A and C share no underlay path, so their session is
# relayed by B; B runs alameshd-tamper (make tamper: daemon/datapath/tamper.h),
# which, as a file tells it, does one of three things to each relayed data
# message it passes on. With each, A pings C, and this checks:
#   flip    (a bit of the end-to-end message flipped): every ping is lost,
#           C's TUN gets none of them, and C counts them in relay_refused;
#   replay  (each message sent twice): every ping is answered once, C's TUN
#           gets each once, and C counts the copies in relay_refused;
#   inject  (beside each message, an echo request from A's address to C in
#           B's own session with C): C's TUN gets only A's own pings, and C
#           counts the forgeries in e2e_source_refused;
# and that, told to do nothing again, B carries A's pings as before.
set -u
# shellcheck source=tests/lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

need_root
need_tool ip wg ping python3 git
need_alamesh
TAMPER_BIN=$(dirname "$ALAMESHD")/alameshd-tamper
[ -x "$TAMPER_BIN" ] || fail "the misbehaving relay is not built: $TAMPER_BIN (make tamper)"

netns_line a b c
new_node MA
new_node MB
new_node MC
export ALAMESH_TAMPER=$NS_WORK/tamper
echo none >"$ALAMESH_TAMPER"

step "A - B - C, B a relay built to misbehave, doing nothing yet"
alameshd_line_start "$TAMPER_BIN"
ping_until "$NS_A" "$MC_ADDR" 60 || fail "no ping A -> C through B"
ping_ok "$NS_A" "$MC_ADDR" 3 || fail "ping A -> C: $(tail -n 3 "$NS_WORK/ping.out")"
pass "A reaches C through B"

stat_of() { "$ALAMESH" show "$1" stats | awk -F': ' -v k="$2" '$1 == k {print $2}'; }
# tun_rx: packets C's daemon wrote to its TUN.
tun_rx() {
	ip -n "$NS_C" -s -j link show "$IC" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'
}
# pings N: N pings A -> C, 0.1 s apart; prints how many were answered.
pings() {
	nsx "$NS_A" ping -6 -n -c "$1" -i 0.1 -W 1 "$MC_ADDR" 2>/dev/null |
		awk '/packets transmitted/ {print $4}'
}
# tamper MODE: tells B, and waits out its 100 ms re-read.
tamper() {
	echo "$1" >"$ALAMESH_TAMPER"
	sleep 0.5
}

# round MODE N COUNTER GOT DT: B does MODE while A pings C N times; then GOT
# pings must have been answered, C's TUN must have got DT packets, and C's
# COUNTER must have risen by N or more (every message refused is counted).
round() {
	local c0 t0 c1 t1 got
	c0=$(stat_of "$IC" "$3") || fail "C's $3"
	t0=$(tun_rx) || fail "C's TUN counter"
	tamper "$1"
	got=$(pings "$2")
	tamper none
	c1=$(stat_of "$IC" "$3") || fail "C's $3"
	t1=$(tun_rx) || fail "C's TUN counter"
	info "$1: answered $got of $2; C: $3 +$((c1 - c0)), TUN +$((t1 - t0))"
	[ "$got" = "$4" ] || fail "$1: $got of $2 pings answered, not $4"
	[ $((t1 - t0)) -eq "$5" ] || fail "$1: C's TUN got $((t1 - t0)) packets, not $5"
	[ $((c1 - c0)) -ge "$2" ] || fail "$1: C's $3 rose by $((c1 - c0)), not $2 or more"
}

step "flip: a bit of each relayed message flipped"
round flip 20 relay_refused 0 0
pass "flipped: no ping answered, nothing reached C's TUN, C refused every message"

step "replay: each relayed message sent twice"
ping_until "$NS_A" "$MC_ADDR" 15 || fail "A - C did not come back after the flips"
round replay 20 relay_refused 20 20
pass "replayed: each ping reached C's TUN once, C refused every copy"

step "inject: B sends C echo requests from A's address in its own session"
round inject 10 e2e_source_refused 10 10
pass "injected: only A's own pings reached C's TUN, C refused every forgery"

step "B does nothing again"
ping_ok "$NS_A" "$MC_ADDR" 3 || fail "ping A -> C: $(tail -n 3 "$NS_WORK/ping.out")"
grep -q ' 0% packet loss' "$NS_WORK/ping.out" || fail "ping A -> C lost packets"
for n in alameshd-a alameshd-b alameshd-c; do
	proc_alive "$n" || fail "$n died"
done
pass "a relay can drop what it carries, but neither read, change, replay nor forge it"
