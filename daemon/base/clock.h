/* SPDX-License-Identifier: ISC */
/*
 * The daemon's clocks, in nanoseconds, and timer jitter: the only clock
 * reads of the daemon. wgproto/ and routing/ read no clock; the time they
 * work with comes from here, passed in.
 */
#ifndef ALAMESH_CLOCK_H
#define ALAMESH_CLOCK_H

#include <stdint.h>

/* Time since boot, suspended time included: key ages stay true across a suspend. */
uint64_t now_mono(void);
/* The wall clock, for what users read (handshake times) and for seqnos that outlive a restart. */
uint64_t now_wall(void);
/* A random delay below WG_REKEY_TIMEOUT_JITTER, cheap enough to ask per batch. */
uint64_t random_jitter(void);

#endif
