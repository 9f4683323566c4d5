/* SPDX-License-Identifier: ISC */
/*
 * The /128 route table of the packet path: destination address -> next-hop
 * peer (an opaque pointer, never NULL). The data-path threads look up every
 * packet under a read lock while the control thread edits the table under
 * the write lock; lookups never allocate.
 */
#ifndef ALAMESH_TABLE_H
#define ALAMESH_TABLE_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct route_slot {
	struct in6_addr addr;
	void *value; /* NULL: empty; the table's tombstone marker: removed */
};

struct route_table {
	pthread_rwlock_t lock;
	struct route_slot *slots; /* open addressing, power-of-two size */
	uint32_t size, used, tombstones;
};

bool route_table_init(struct route_table *t);
/* Frees the table; the values are the caller's. */
void route_table_destroy(struct route_table *t);

/* The value for a, or NULL. The caller keeps the value alive by other means. */
void *route_table_lookup(struct route_table *t, const struct in6_addr *a);
/*
 * The value for a with hold(value) called inside the read lock (to take a
 * reference before a concurrent remove can drop it), or NULL.
 */
void *route_table_lookup_hold(struct route_table *t, const struct in6_addr *a,
			      void (*hold)(void *value));

/* Adds a -> value. False if a is already present, value is NULL, or out of memory. */
bool route_table_add(struct route_table *t, const struct in6_addr *a, void *value);
/*
 * Sets a -> value whether or not a was present; the previous value (or NULL)
 * goes to *old if old is not NULL. False if value is NULL or out of memory.
 */
bool route_table_replace(struct route_table *t, const struct in6_addr *a, void *value, void **old);
/* Removes a; returns its value, or NULL if it was absent. */
void *route_table_remove(struct route_table *t, const struct in6_addr *a);
/* Removes every route through value (a peer going away); returns how many. */
size_t route_table_remove_value(struct route_table *t, const void *value);

/* Number of routes. */
size_t route_table_count(struct route_table *t);
/*
 * Calls fn for every route under the read lock; fn must not modify the table.
 * A nonzero return from fn stops the walk and is returned.
 */
int route_table_foreach(struct route_table *t,
			int (*fn)(const struct in6_addr *a, void *value, void *ctx), void *ctx);

#endif
