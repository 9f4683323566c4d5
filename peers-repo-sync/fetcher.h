/* SPDX-License-Identifier: ISC */
/*
 * Following the registry, the fetching half: a worker thread fetches it
 * (gitfetch.h) at start-up from the cache (the last commit applied, at once,
 * with no network) and then every Interval or on request, checks the member
 * files (member.h) and resolves their endpoints, and posts each outcome for
 * the control thread, which applies it (daemon/control/registry.c). It knows
 * nothing of the device: what it needs of the daemon comes in fetch_params.
 */
#ifndef ALAMESH_FETCHER_H
#define ALAMESH_FETCHER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "peers-repo-sync/gitfetch.h"
#include "peers-repo-sync/member.h"
#include "wgproto/constants.h"

#define FETCH_ERR_MAX 256

/*
 * Resolves a member's endpoint ("host:port", checked by member.c) into out,
 * on the worker thread (a name may take the resolver's time). False, with
 * *why set or left NULL, when it cannot.
 */
typedef bool fetch_resolve_fn(const char *endpoint, struct sockaddr_in6 *out, const char **why);

struct fetch_params {
	const char *url, *branch, *cache_dir, *ca_file;
	uint64_t interval_ns;
	unsigned fetch_timeout; /* seconds */
	bool allow_empty, require_ff;
	uint32_t max_members;
	uint8_t own[WG_KEY_LEN]; /* this node's key: its member is marked is_self */
	fetch_resolve_fn *resolve;
};

/* One outcome of a sync: a commit read and checked, or why not. */
struct fetch_result {
	bool ok, forced, from_cache;
	bool checked; /* its member files were read and checked (set.problems holds theirs) */
	uint64_t gen; /* the last request made before this sync started (0: none) */
	char error[FETCH_ERR_MAX];
	char commit[GIT_OID_HEX_LEN + 1];
	uint64_t when;	  /* wall clock, seconds */
	uint64_t read_ns; /* reading and checking the member files, resolving endpoints */
	struct member_set set;
	/* Member i's resolved endpoints: neps[i] of them from eps + ep_first[i]. */
	struct sockaddr_in6 *eps;
	uint32_t *ep_first;
	uint8_t *neps;
};

struct fetcher;

/* Sets up the fetcher (not started); NULL on error (logged). */
struct fetcher *fetcher_new(const struct fetch_params *p);
/*
 * Locks CacheDir/lock, then starts the worker: the cached commit first, then
 * a fetch. -EBUSY (logged) if another daemon holds the lock.
 */
int fetcher_start(struct fetcher *s);
/*
 * Stops and frees it. A worker still resolving after 3 s is left to finish
 * on its own (it touches nothing but the fetcher, which it then keeps).
 */
void fetcher_free(struct fetcher *s);
/* The eventfd that becomes readable when there is an outcome to take. */
int fetcher_fd(const struct fetcher *s);
/*
 * Asks for a sync now. Returns the request's number: a sync answers it only
 * if it started after the request was made (fetch_result.gen).
 */
uint64_t fetcher_trigger(struct fetcher *s);
/*
 * Takes the outcomes not taken yet (each may be NULL): the newest commit to
 * apply, and the newest failure after it.
 */
void fetcher_take(struct fetcher *s, struct fetch_result **ok, struct fetch_result **failed);
void fetch_result_free(struct fetch_result *r);
/* A wait of interval_ns give or take 10 %, uniformly: the time to the next sync. */
uint64_t registry_jittered(uint64_t interval_ns);

#endif
