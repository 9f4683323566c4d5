// SPDX-License-Identifier: ISC
/*
 * Receiver indices: an open-addressing table keyed by the random index
 * itself. Indices come from the CSPRNG and only we insert, so the low bits
 * are a fine hash and a peer cannot aim packets at a long probe chain.
 * The table does not own what it points to: callers unregister an index
 * before they free the handshake or put the keypair behind it.
 */
#include <sodium.h>
#include <stdlib.h>

#include "index.h"

#define MIN_SIZE 64u

/* kind NONE with a non-NULL ptr marks a removed slot that probes must skip. */
static char tombstone;

static bool is_empty(const struct wg_index_entry *e)
{
	return e->kind == WG_INDEX_NONE && !e->ptr;
}

static bool is_live(const struct wg_index_entry *e)
{
	return e->kind != WG_INDEX_NONE;
}

bool wg_index_init(struct wg_index_table *t)
{
	t->slots = calloc(MIN_SIZE, sizeof(*t->slots));
	if (!t->slots)
		return false;
	t->size = MIN_SIZE;
	t->used = t->tombstones = 0;
	if (pthread_rwlock_init(&t->lock, NULL)) {
		free(t->slots);
		t->slots = NULL;
		return false;
	}
	return true;
}

void wg_index_destroy(struct wg_index_table *t)
{
	pthread_rwlock_destroy(&t->lock);
	free(t->slots);
	t->slots = NULL;
	t->size = t->used = t->tombstones = 0;
}

/* The live entry for idx, or NULL. Caller holds the lock. */
static struct wg_index_entry *find(const struct wg_index_table *t, uint32_t idx)
{
	uint32_t mask = t->size - 1;

	for (uint32_t i = idx & mask, n = 0; n < t->size; i = (i + 1) & mask, n++) {
		struct wg_index_entry *e = &t->slots[i];

		if (is_empty(e))
			return NULL;
		if (is_live(e) && e->index == idx)
			return e;
	}
	return NULL;
}

/* Puts an entry known to be absent into the first free slot of its chain. */
static void place(struct wg_index_entry *slots, uint32_t size, const struct wg_index_entry *src)
{
	uint32_t mask = size - 1;
	uint32_t i = src->index & mask;

	while (is_live(&slots[i]))
		i = (i + 1) & mask;
	slots[i] = *src;
}

/* Rebuilds the table so one more entry keeps the load under 3/4. */
static bool make_room(struct wg_index_table *t)
{
	if ((uint64_t)(t->used + t->tombstones + 1) * 4 <= (uint64_t)t->size * 3)
		return true;

	uint32_t size = t->size;
	if ((uint64_t)(t->used + 1) * 2 > size) /* mostly live entries: grow */
		size *= 2;
	if (size > UINT32_MAX / 2 || size < t->size)
		return false;

	struct wg_index_entry *slots = calloc(size, sizeof(*slots));
	if (!slots)
		return false;
	for (uint32_t i = 0; i < t->size; i++)
		if (is_live(&t->slots[i]))
			place(slots, size, &t->slots[i]);
	free(t->slots);
	t->slots = slots;
	t->size = size;
	t->tombstones = 0;
	return true;
}

static uint32_t fresh_index(const struct wg_index_table *t)
{
	uint32_t idx;

	do
		randombytes_buf(&idx, sizeof(idx));
	while (find(t, idx));
	return idx;
}

bool wg_index_add(struct wg_index_table *t, enum wg_index_kind kind, void *ptr, uint32_t *idx)
{
	if (kind == WG_INDEX_NONE || !ptr)
		return false;

	pthread_rwlock_wrlock(&t->lock);
	if (!make_room(t)) {
		pthread_rwlock_unlock(&t->lock);
		return false;
	}

	struct wg_index_entry e = {.index = fresh_index(t), .kind = kind, .ptr = ptr};
	uint32_t mask = t->size - 1;
	uint32_t i = e.index & mask;

	while (is_live(&t->slots[i]))
		i = (i + 1) & mask;
	if (!is_empty(&t->slots[i]))
		t->tombstones--;
	t->slots[i] = e;
	t->used++;
	*idx = e.index;
	pthread_rwlock_unlock(&t->lock);
	return true;
}

void wg_index_remove(struct wg_index_table *t, uint32_t idx)
{
	pthread_rwlock_wrlock(&t->lock);
	struct wg_index_entry *e = find(t, idx);
	if (e) {
		*e = (struct wg_index_entry){.kind = WG_INDEX_NONE, .ptr = &tombstone};
		t->used--;
		t->tombstones++;
	}
	pthread_rwlock_unlock(&t->lock);
}

bool wg_index_replace(struct wg_index_table *t, uint32_t idx, enum wg_index_kind kind, void *ptr)
{
	if (kind == WG_INDEX_NONE || !ptr)
		return false;

	pthread_rwlock_wrlock(&t->lock);
	struct wg_index_entry *e = find(t, idx);
	if (e) {
		e->kind = kind;
		e->ptr = ptr;
	}
	pthread_rwlock_unlock(&t->lock);
	return e != NULL;
}

struct wg_keypair *wg_index_get_keypair(struct wg_index_table *t, uint32_t idx)
{
	struct wg_keypair *kp = NULL;

	pthread_rwlock_rdlock(&t->lock);
	const struct wg_index_entry *e = find(t, idx);
	if (e && e->kind == WG_INDEX_KEYPAIR) {
		kp = e->ptr;
		/* Inside the lock: a concurrent remove-then-put cannot free it first. */
		wg_keypair_get(kp);
	}
	pthread_rwlock_unlock(&t->lock);
	return kp;
}

struct wg_handshake *wg_index_get_handshake(struct wg_index_table *t, uint32_t idx)
{
	struct wg_handshake *hs = NULL;

	pthread_rwlock_rdlock(&t->lock);
	const struct wg_index_entry *e = find(t, idx);
	if (e && e->kind == WG_INDEX_HANDSHAKE)
		hs = e->ptr;
	pthread_rwlock_unlock(&t->lock);
	return hs;
}
