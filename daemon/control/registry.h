/* SPDX-License-Identifier: ISC */
/*
 * Following the registry: the fetcher (peers-repo-sync/fetcher.h) fetches
 * it, checks the member files and resolves endpoints on its own thread; the
 * control thread here applies the new member set to the peers, touching
 * only what changed (the diff is peers-repo-sync/diff.h's), and answers
 * get=registry and get=members. A failed fetch, a bad commit or an empty
 * member set keeps the current peers; the last commit applied is
 * remembered in CacheDir and applied at once on the next start.
 */
#ifndef ALAMESH_REGISTRY_H
#define ALAMESH_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct device;
struct registry_sync;

/* Sets up the sync of cfg's [Registry] for dev (not started). NULL on error (logged). */
struct registry_sync *registry_sync_new(struct device *dev, const struct config *cfg);
/*
 * Locks CacheDir/lock, then starts the worker: the cached commit first, then
 * a fetch. -EBUSY (logged) if another daemon holds the lock.
 */
int registry_sync_start(struct registry_sync *s);
/* Stops and frees it (the peers stay). */
void registry_sync_free(struct registry_sync *s);
/* The eventfd that becomes readable when a sync has a result for the control thread. */
int registry_sync_fd(const struct registry_sync *s);
/*
 * Asks for a sync now (SIGHUP, alamesh sync). Returns the request's number:
 * a sync answers it only if it started after the request was made.
 */
uint64_t registry_sync_trigger(struct registry_sync *s);
/*
 * Control thread, when registry_sync_fd() is readable: applies the result
 * (and sets dev->self_name to this node's member name in it). Returns true if a sync finished (then
 * *summary holds one line, static, and *gen the last request it answers: every request numbered up
 * to it).
 */
bool registry_sync_collect(struct registry_sync *s, const char **summary, bool *ok, uint64_t *gen);
/* The answers to get=registry and get=members, key=value lines (malloc'd). */
int registry_sync_describe(struct registry_sync *s, bool members, char **out, size_t *len);

#endif
