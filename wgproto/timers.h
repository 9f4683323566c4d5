/* SPDX-License-Identifier: ISC */
/*
 * The per-peer timer rules of the WireGuard paper (6.2-6.5), as pure state:
 * events record what happened at time now, wg_timers_expired() says what is
 * due. Deadlines are monotonic nanoseconds, 0 when unarmed. The caller passes
 * random jitter in, so tests are deterministic.
 */
#ifndef ALAMESH_TIMERS_H
#define ALAMESH_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

#include "constants.h"

enum wg_timer_action {
	WG_TIMER_SEND_INITIATION = 1u << 0, /* retry, or the peer stopped answering */
	WG_TIMER_SEND_KEEPALIVE = 1u << 1,  /* passive or persistent keepalive */
	WG_TIMER_GIVE_UP = 1u << 2,	    /* REKEY_ATTEMPT_TIME spent: drop queued packets */
	WG_TIMER_ZERO_KEYS = 1u << 3,	    /* 3 * REJECT_AFTER_TIME without a new session */
};

struct wg_timers {
	uint64_t retransmit_handshake; /* resend initiation (REKEY_TIMEOUT + jitter) */
	uint64_t send_keepalive;       /* passive keepalive after data received */
	uint64_t new_handshake;	       /* data sent, nothing heard back */
	uint64_t zero_key_material;
	uint64_t persistent_keepalive;
	uint64_t last_initiation_sent; /* for the one-per-REKEY_TIMEOUT limit */
	uint32_t handshake_attempts;
	uint16_t persistent_keepalive_interval; /* seconds, 0 = off */
	bool need_another_keepalive;
	bool sent_lastminute_handshake;
};

void wg_timers_init(struct wg_timers *t, uint16_t persistent_keepalive_interval);
/*
 * A nonzero interval arms the persistent keepalive at now, so one goes out at
 * once as with `wg set`; 0 disarms it.
 */
void wg_timers_set_persistent_keepalive(struct wg_timers *t, uint16_t interval, uint64_t now);

/* Events. jitter is a random value in [0, WG_REKEY_TIMEOUT_JITTER). */
void wg_timers_data_sent(struct wg_timers *t, uint64_t now, uint64_t jitter);
void wg_timers_data_received(struct wg_timers *t, uint64_t now);
void wg_timers_any_authenticated_packet_sent(struct wg_timers *t, uint64_t now);
void wg_timers_any_authenticated_packet_received(struct wg_timers *t, uint64_t now);
void wg_timers_any_authenticated_packet_traversal(struct wg_timers *t, uint64_t now);
void wg_timers_handshake_initiated(struct wg_timers *t, uint64_t now, uint64_t jitter);
void wg_timers_handshake_complete(struct wg_timers *t, uint64_t now);
void wg_timers_session_derived(struct wg_timers *t, uint64_t now);

/*
 * May an initiation go out now? A new (non-retry) one only if the last was
 * more than REKEY_TIMEOUT ago. Records it and resets the attempt count when
 * not a retry.
 */
bool wg_timers_may_initiate(struct wg_timers *t, uint64_t now, bool is_retry);

/*
 * Receiving on a keypair that wg_keypair_needs_rekey_on_receive(): true only
 * the first time since the last completed handshake, so that one initiation
 * goes out before the session expires (then wg_timers_may_initiate(false)).
 */
bool wg_timers_lastminute_handshake(struct wg_timers *t);

/*
 * What is due at now (bitmask of wg_timer_action); fired timers are disarmed.
 * SEND_INITIATION is a retry when the retransmission timer fired: that counts
 * an attempt (so handshake_attempts > 0) and re-arms the retransmission at
 * now + REKEY_TIMEOUT + jitter, so retries go on even if this one cannot be
 * sent. Either way the caller then asks wg_timers_may_initiate(t, now,
 * t->handshake_attempts > 0) and, once the initiation is out, calls
 * wg_timers_handshake_initiated(). GIVE_UP comes instead of a retry once
 * WG_MAX_TIMER_HANDSHAKES retries went unanswered: it disarms the keepalive
 * and arms zero_key_material if that was not armed.
 */
uint32_t wg_timers_expired(struct wg_timers *t, uint64_t now, uint64_t jitter);
/* The earliest armed deadline, or UINT64_MAX. */
uint64_t wg_timers_next_deadline(const struct wg_timers *t);
/* Disarm everything (peer removed). */
void wg_timers_stop(struct wg_timers *t);

#endif
