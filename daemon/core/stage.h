/* SPDX-License-Identifier: ISC */
/*
 * Packets staged until a session exists: a pool of buffers shared by the
 * device (under dev->stage_lock) and a short queue per peer (under p->lock).
 * The pool is allocated once, so staging never allocates on the data path.
 */
#ifndef ALAMESH_STAGE_H
#define ALAMESH_STAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "wgproto/constants.h"

#define PEER_STAGED_MAX 128 /* packets held per peer while a handshake runs */
#define STAGE_POOL_SIZE 1024

struct device;
struct peer;

struct stage_buf {
	struct stage_buf *next;
	uint32_t len;
	uint8_t data[ALAMESH_MAX_MTU];
};

/* The device's pool; false when out of memory (stage_pool_free() still applies). */
bool stage_pool_init(struct device *dev);
/* Wipes (packets are user data) and frees the pool. */
void stage_pool_free(struct device *dev);
/* Holds a copy of pkt for p (caller holds p->lock); when p's queue is full the oldest goes. */
bool stage_packet(struct device *dev, struct peer *p, const uint8_t *pkt, uint32_t len);
/* Takes p's whole queue (caller holds p->lock)... */
struct stage_buf *stage_take_all(struct peer *p);
/* ...and gives its buffers back to the pool once sent. */
void stage_release(struct device *dev, struct stage_buf *list);
/* Drops what p had staged (takes p->lock). */
void stage_drop_all(struct device *dev, struct peer *p);

#endif
