/* SPDX-License-Identifier: ISC */
/*
 * Sliding-window replay protection for transport counters (RFC 6479 style):
 * a bitmap of WG_REPLAY_WINDOW_BITS counters below the greatest seen. Only
 * the receiving thread touches a window, so it needs no lock.
 */
#ifndef ALAMESH_REPLAY_H
#define ALAMESH_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "constants.h"

#define WG_REPLAY_WORD_BITS 64
#define WG_REPLAY_WORDS	    (WG_REPLAY_WINDOW_BITS / WG_REPLAY_WORD_BITS)

struct wg_replay {
	uint64_t greatest; /* highest counter accepted + 1; 0 = none yet */
	uint64_t bitmap[WG_REPLAY_WORDS];
};

void wg_replay_init(struct wg_replay *r);
/*
 * Accepts a counter and records it, or rejects it: already seen, older than
 * the window, or >= WG_REJECT_AFTER_MESSAGES. Call only after the packet
 * authenticated, so forged counters cannot move the window.
 */
bool wg_replay_accept(struct wg_replay *r, uint64_t counter);

#endif
