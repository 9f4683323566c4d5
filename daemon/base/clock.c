// SPDX-License-Identifier: ISC
/* The daemon's clocks and timer jitter (clock.h). */
#include <time.h>

#include <sodium.h>

#include "daemon/base/clock.h"
#include "wgproto/constants.h"

uint64_t now_mono(void)
{
	struct timespec ts;

	/* Boot time counts suspended time too, so key ages stay true across a suspend. */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t now_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/*
 * Timer jitter needs no cryptographic strength, and the data threads ask for
 * it per batch: a per-thread xorshift seeded once from libsodium avoids a
 * getrandom() call each time.
 */
uint64_t random_jitter(void)
{
	static _Thread_local uint64_t state;

	while (!state)
		randombytes_buf(&state, sizeof(state));
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state % WG_REKEY_TIMEOUT_JITTER;
}
