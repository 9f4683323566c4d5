// SPDX-License-Identifier: ISC
/*
 * The /128 route table: open addressing with linear probing over the
 * address bytes. Member addresses are already hash outputs, but static peers
 * may bring hand-picked ones (fd00::1, fd00::2), so both halves are folded
 * and multiplied before the top bits pick the slot.
 */
#include <stdlib.h>
#include <string.h>

#include "routing/table.h"

#define MIN_SIZE 64u

static char tombstone;

static bool is_empty(const struct route_slot *s)
{
	return !s->value;
}

static bool is_live(const struct route_slot *s)
{
	return s->value && s->value != &tombstone;
}

static uint32_t slot_of(const struct in6_addr *a, uint32_t size)
{
	uint64_t hi, lo;

	memcpy(&hi, &a->s6_addr[0], sizeof(hi));
	memcpy(&lo, &a->s6_addr[8], sizeof(lo));
	/* Fibonacci hashing: the multiply spreads every input bit upward. */
	uint64_t h = (hi ^ (lo * 0x9e3779b97f4a7c15ULL)) * 0x9e3779b97f4a7c15ULL;
	return (uint32_t)(h >> 32) & (size - 1);
}

bool route_table_init(struct route_table *t)
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

void route_table_destroy(struct route_table *t)
{
	pthread_rwlock_destroy(&t->lock);
	free(t->slots);
	t->slots = NULL;
	t->size = t->used = t->tombstones = 0;
}

/* The live slot of a, or NULL. Caller holds the lock. */
static struct route_slot *find(const struct route_table *t, const struct in6_addr *a)
{
	uint32_t mask = t->size - 1;

	for (uint32_t i = slot_of(a, t->size), n = 0; n < t->size; i = (i + 1) & mask, n++) {
		struct route_slot *s = &t->slots[i];

		if (is_empty(s))
			return NULL;
		if (is_live(s) && !memcmp(&s->addr, a, sizeof(*a)))
			return s;
	}
	return NULL;
}

/* Stores a route known to be absent; returns true if it reused a tombstone. */
static bool place(struct route_slot *slots, uint32_t size, const struct in6_addr *a, void *value)
{
	uint32_t mask = size - 1;
	uint32_t i = slot_of(a, size);

	while (is_live(&slots[i]))
		i = (i + 1) & mask;
	bool reused = !is_empty(&slots[i]);
	slots[i].addr = *a;
	slots[i].value = value;
	return reused;
}

/* Rebuilds the table so one more route keeps the load under 3/4. */
static bool make_room(struct route_table *t)
{
	if ((uint64_t)(t->used + t->tombstones + 1) * 4 <= (uint64_t)t->size * 3)
		return true;

	uint32_t size = t->size;
	if ((uint64_t)(t->used + 1) * 2 > size) /* mostly live routes: grow */
		size *= 2;
	if (size > UINT32_MAX / 2 || size < t->size)
		return false;

	struct route_slot *slots = calloc(size, sizeof(*slots));
	if (!slots)
		return false;
	for (uint32_t i = 0; i < t->size; i++)
		if (is_live(&t->slots[i]))
			place(slots, size, &t->slots[i].addr, t->slots[i].value);
	free(t->slots);
	t->slots = slots;
	t->size = size;
	t->tombstones = 0;
	return true;
}

static void insert(struct route_table *t, const struct in6_addr *a, void *value)
{
	if (place(t->slots, t->size, a, value))
		t->tombstones--;
	t->used++;
}

static void erase(struct route_table *t, struct route_slot *s)
{
	s->value = &tombstone;
	t->used--;
	t->tombstones++;
}

void *route_table_lookup_hold(struct route_table *t, const struct in6_addr *a,
			      void (*hold)(void *value))
{
	void *value = NULL;

	pthread_rwlock_rdlock(&t->lock);
	const struct route_slot *s = find(t, a);
	if (s) {
		value = s->value;
		if (hold)
			hold(value);
	}
	pthread_rwlock_unlock(&t->lock);
	return value;
}

void *route_table_lookup(struct route_table *t, const struct in6_addr *a)
{
	return route_table_lookup_hold(t, a, NULL);
}

bool route_table_add(struct route_table *t, const struct in6_addr *a, void *value)
{
	bool ok = false;

	if (!value)
		return false;
	pthread_rwlock_wrlock(&t->lock);
	if (!find(t, a) && make_room(t)) {
		insert(t, a, value);
		ok = true;
	}
	pthread_rwlock_unlock(&t->lock);
	return ok;
}

bool route_table_replace(struct route_table *t, const struct in6_addr *a, void *value, void **old)
{
	bool ok = true;
	void *prev = NULL;

	if (!value)
		return false;
	pthread_rwlock_wrlock(&t->lock);
	struct route_slot *s = find(t, a);
	if (s) {
		prev = s->value;
		s->value = value;
	} else if (make_room(t)) {
		insert(t, a, value);
	} else {
		ok = false;
	}
	pthread_rwlock_unlock(&t->lock);
	if (old)
		*old = prev;
	return ok;
}

void *route_table_remove(struct route_table *t, const struct in6_addr *a)
{
	void *value = NULL;

	pthread_rwlock_wrlock(&t->lock);
	struct route_slot *s = find(t, a);
	if (s) {
		value = s->value;
		erase(t, s);
	}
	pthread_rwlock_unlock(&t->lock);
	return value;
}

size_t route_table_remove_value(struct route_table *t, const void *value)
{
	size_t removed = 0;

	if (!value)
		return 0;
	pthread_rwlock_wrlock(&t->lock);
	for (uint32_t i = 0; i < t->size; i++) {
		if (is_live(&t->slots[i]) && t->slots[i].value == value) {
			erase(t, &t->slots[i]);
			removed++;
		}
	}
	pthread_rwlock_unlock(&t->lock);
	return removed;
}

size_t route_table_count(struct route_table *t)
{
	pthread_rwlock_rdlock(&t->lock);
	size_t n = t->used;
	pthread_rwlock_unlock(&t->lock);
	return n;
}

int route_table_foreach(struct route_table *t,
			int (*fn)(const struct in6_addr *a, void *value, void *ctx), void *ctx)
{
	int ret = 0;

	pthread_rwlock_rdlock(&t->lock);
	for (uint32_t i = 0; i < t->size && !ret; i++)
		if (is_live(&t->slots[i]))
			ret = fn(&t->slots[i].addr, t->slots[i].value, ctx);
	pthread_rwlock_unlock(&t->lock);
	return ret;
}
