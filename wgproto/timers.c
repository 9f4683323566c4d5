// SPDX-License-Identifier: ISC
/*
 * The WireGuard timer rules (paper 6.2-6.5) as pure state. Nothing here
 * sends anything: events arm and disarm deadlines, and wg_timers_expired()
 * turns the deadlines that passed into actions for the caller to carry out.
 */
#include <string.h>

#include "timers.h"

/* A deadline of 0 means unarmed, so a deadline at time 0 becomes 1 ns. */
static uint64_t deadline(uint64_t when)
{
	return when ? when : 1;
}

static bool due(uint64_t when, uint64_t now)
{
	return when && when <= now;
}

void wg_timers_init(struct wg_timers *t, uint16_t persistent_keepalive_interval)
{
	memset(t, 0, sizeof(*t));
	t->persistent_keepalive_interval = persistent_keepalive_interval;
}

void wg_timers_set_persistent_keepalive(struct wg_timers *t, uint16_t interval, uint64_t now)
{
	t->persistent_keepalive_interval = interval;
	/* Like `wg set`, a new interval sends a keepalive at once. */
	t->persistent_keepalive = interval ? deadline(now) : 0;
}

void wg_timers_data_sent(struct wg_timers *t, uint64_t now, uint64_t jitter)
{
	if (t->new_handshake)
		return;
	t->new_handshake = deadline(now + WG_KEEPALIVE_TIMEOUT + WG_REKEY_TIMEOUT + jitter);
}

void wg_timers_data_received(struct wg_timers *t, uint64_t now)
{
	if (t->send_keepalive) {
		t->need_another_keepalive = true;
		return;
	}
	t->send_keepalive = deadline(now + WG_KEEPALIVE_TIMEOUT);
}

void wg_timers_any_authenticated_packet_sent(struct wg_timers *t, uint64_t now)
{
	(void)now;
	/* Whatever we sent already tells the peer we are alive. */
	t->send_keepalive = 0;
}

void wg_timers_any_authenticated_packet_received(struct wg_timers *t, uint64_t now)
{
	(void)now;
	/* The peer answers, so there is no need to suspect the session. */
	t->new_handshake = 0;
}

void wg_timers_any_authenticated_packet_traversal(struct wg_timers *t, uint64_t now)
{
	if (!t->persistent_keepalive_interval)
		return;
	t->persistent_keepalive =
	    deadline(now + (uint64_t)t->persistent_keepalive_interval * NSEC_PER_SEC);
}

void wg_timers_handshake_initiated(struct wg_timers *t, uint64_t now, uint64_t jitter)
{
	t->retransmit_handshake = deadline(now + WG_REKEY_TIMEOUT + jitter);
}

void wg_timers_handshake_complete(struct wg_timers *t, uint64_t now)
{
	(void)now;
	t->retransmit_handshake = 0;
	t->handshake_attempts = 0;
	t->sent_lastminute_handshake = false;
}

void wg_timers_session_derived(struct wg_timers *t, uint64_t now)
{
	t->zero_key_material = deadline(now + 3 * WG_REJECT_AFTER_TIME);
}

bool wg_timers_may_initiate(struct wg_timers *t, uint64_t now, bool is_retry)
{
	if (!is_retry) {
		/* Fresh demand for a session restarts the REKEY_ATTEMPT_TIME budget. */
		t->handshake_attempts = 0;
		if (t->last_initiation_sent && (now < t->last_initiation_sent ||
						now - t->last_initiation_sent <= WG_REKEY_TIMEOUT))
			return false;
	}
	t->last_initiation_sent = deadline(now);
	return true;
}

bool wg_timers_lastminute_handshake(struct wg_timers *t)
{
	if (t->sent_lastminute_handshake)
		return false;
	t->sent_lastminute_handshake = true;
	return true;
}

static uint32_t retransmit_expired(struct wg_timers *t, uint64_t now, uint64_t jitter)
{
	if (t->handshake_attempts >= WG_MAX_TIMER_HANDSHAKES) {
		t->send_keepalive = 0;
		t->need_another_keepalive = false;
		if (!t->zero_key_material)
			t->zero_key_material = deadline(now + 3 * WG_REJECT_AFTER_TIME);
		return WG_TIMER_GIVE_UP;
	}
	t->handshake_attempts++;
	/* Keep retrying even if the caller fails to get this initiation out. */
	t->retransmit_handshake = deadline(now + WG_REKEY_TIMEOUT + jitter);
	return WG_TIMER_SEND_INITIATION;
}

static uint32_t send_keepalive_expired(struct wg_timers *t, uint64_t now)
{
	if (t->need_another_keepalive) {
		t->need_another_keepalive = false;
		t->send_keepalive = deadline(now + WG_KEEPALIVE_TIMEOUT);
	}
	return WG_TIMER_SEND_KEEPALIVE;
}

uint32_t wg_timers_expired(struct wg_timers *t, uint64_t now, uint64_t jitter)
{
	uint32_t actions = 0;

	if (due(t->retransmit_handshake, now)) {
		t->retransmit_handshake = 0;
		actions |= retransmit_expired(t, now, jitter);
	}
	if (due(t->send_keepalive, now)) {
		t->send_keepalive = 0;
		actions |= send_keepalive_expired(t, now);
	}
	if (due(t->new_handshake, now)) {
		/* The peer went quiet after our data: time for a fresh session. */
		t->new_handshake = 0;
		actions |= WG_TIMER_SEND_INITIATION;
	}
	if (due(t->zero_key_material, now)) {
		t->zero_key_material = 0;
		actions |= WG_TIMER_ZERO_KEYS;
	}
	if (due(t->persistent_keepalive, now)) {
		t->persistent_keepalive = 0;
		if (t->persistent_keepalive_interval)
			actions |= WG_TIMER_SEND_KEEPALIVE;
	}
	return actions;
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	if (!b)
		return a;
	return b < a ? b : a;
}

uint64_t wg_timers_next_deadline(const struct wg_timers *t)
{
	uint64_t next = UINT64_MAX;

	next = earliest(next, t->retransmit_handshake);
	next = earliest(next, t->send_keepalive);
	next = earliest(next, t->new_handshake);
	next = earliest(next, t->zero_key_material);
	next = earliest(next, t->persistent_keepalive);
	return next;
}

void wg_timers_stop(struct wg_timers *t)
{
	t->retransmit_handshake = 0;
	t->send_keepalive = 0;
	t->new_handshake = 0;
	t->zero_key_material = 0;
	t->persistent_keepalive = 0;
	t->need_another_keepalive = false;
}
