/* SPDX-License-Identifier: ISC */
/*
 * The receiver-index table: the random 32-bit indices we hand out in
 * handshakes, mapped to the handshake or keypair they stand for. The
 * receiving thread looks up every data packet here while the control thread
 * adds and removes entries, so lookups take a read lock and return the
 * keypair with a reference held.
 */
#ifndef ALAMESH_INDEX_H
#define ALAMESH_INDEX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "keypair.h"
#include "noise.h"

enum wg_index_kind { WG_INDEX_NONE, WG_INDEX_HANDSHAKE, WG_INDEX_KEYPAIR };

struct wg_index_entry {
	uint32_t index;
	enum wg_index_kind kind;
	void *ptr;
};

struct wg_index_table {
	pthread_rwlock_t lock;
	struct wg_index_entry *slots; /* open addressing, power-of-two size */
	uint32_t size, used, tombstones;
};

bool wg_index_init(struct wg_index_table *t);
void wg_index_destroy(struct wg_index_table *t);
/* Registers ptr under a fresh random index, returned in *idx. False when out of memory. */
bool wg_index_add(struct wg_index_table *t, enum wg_index_kind kind, void *ptr, uint32_t *idx);
void wg_index_remove(struct wg_index_table *t, uint32_t idx);
/*
 * Points an existing index at something else, keeping the number: a
 * handshake's index becomes its keypair's, since the peer already uses it.
 * False if idx is not registered.
 */
bool wg_index_replace(struct wg_index_table *t, uint32_t idx, enum wg_index_kind kind, void *ptr);
/* The keypair at idx with a reference taken (wg_keypair_put it), or NULL. */
struct wg_keypair *wg_index_get_keypair(struct wg_index_table *t, uint32_t idx);
/*
 * The handshake at idx, or NULL. No reference is taken: only the control
 * thread, which frees handshakes, may follow it; others may test it.
 */
struct wg_handshake *wg_index_get_handshake(struct wg_index_table *t, uint32_t idx);

#endif
