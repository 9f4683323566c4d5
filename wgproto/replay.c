// SPDX-License-Identifier: ISC
/*
 * Replay window after RFC 6479: the bitmap is a ring of 64-bit words indexed
 * by counter / 64, so advancing the window clears whole words instead of
 * shifting bits. The word holding the greatest counter is only partly in use,
 * which is why the window proper is one word shorter than the ring: every
 * counter from greatest - WINDOW_SIZE on is remembered exactly, and the edge
 * does not wobble with the greatest counter's position inside its word.
 */
#include <string.h>

#include "replay.h"

#define WINDOW_SIZE (WG_REPLAY_WINDOW_BITS - WG_REPLAY_WORD_BITS)
#define WORD_MASK   (WG_REPLAY_WORDS - 1)

_Static_assert((WG_REPLAY_WORDS & WORD_MASK) == 0, "the ring has a power-of-two size");
_Static_assert(WINDOW_SIZE >= 2048, "the window is at least as wide as WireGuard's");

void wg_replay_init(struct wg_replay *r)
{
	memset(r, 0, sizeof(*r));
}

/* Clears the ring words between the old top word and the new one. */
static void advance(struct wg_replay *r, uint64_t counter)
{
	uint64_t top = r->greatest ? (r->greatest - 1) / WG_REPLAY_WORD_BITS : 0;
	uint64_t diff = counter / WG_REPLAY_WORD_BITS - top;

	if (diff > WG_REPLAY_WORDS)
		diff = WG_REPLAY_WORDS;
	for (uint64_t i = 1; i <= diff; i++)
		r->bitmap[(top + i) & WORD_MASK] = 0;
	r->greatest = counter + 1;
}

bool wg_replay_accept(struct wg_replay *r, uint64_t counter)
{
	/* Also keeps counter + 1 and counter + WINDOW_SIZE from overflowing. */
	if (counter >= WG_REJECT_AFTER_MESSAGES)
		return false;
	if (counter + WINDOW_SIZE < r->greatest)
		return false;
	if (counter >= r->greatest)
		advance(r, counter);

	uint64_t *word = &r->bitmap[(counter / WG_REPLAY_WORD_BITS) & WORD_MASK];
	uint64_t bit = 1ULL << (counter % WG_REPLAY_WORD_BITS);

	if (*word & bit)
		return false;
	*word |= bit;
	return true;
}
