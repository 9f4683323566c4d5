/* SPDX-License-Identifier: ISC */
/*
 * Following the registry: a worker thread fetches it (gitfetch.c), checks
 * the member files (peers-repo-sync/member.c) and resolves endpoints; the
 * control thread then applies the new member set to the peers, touching
 * only what changed. A failed fetch, a bad commit or an empty member set
 * keeps the current peers; the last commit applied is remembered in
 * CacheDir and applied at once on the next start.
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
 * Control thread, when registry_sync_fd() is readable: applies the result.
 * Returns true if a sync finished (then *summary holds one line, static, and
 * *gen the last request it answers: every request numbered up to it).
 */
bool registry_sync_collect(struct registry_sync *s, const char **summary, bool *ok, uint64_t *gen);
/* This node's member name in the applied commit, or NULL. */
const char *registry_sync_self_name(const struct registry_sync *s);
/* A wait of interval_ns give or take 10 %, uniformly: the time to the next sync. */
uint64_t registry_jittered(uint64_t interval_ns);
/* The answers to get=registry and get=members, key=value lines (malloc'd). */
int registry_sync_describe(struct registry_sync *s, bool members, char **out, size_t *len);

#endif
