/* SPDX-License-Identifier: ISC */
/*
 * The registry's git side, with libgit2: a bare repository under CacheDir
 * (never a work tree), fetched from the registry's URL, and the member files
 * read as blobs straight from a commit's tree. Called from the registry
 * worker thread only: a slow or dead remote never holds up packets.
 */
#ifndef ALAMESH_GITFETCH_H
#define ALAMESH_GITFETCH_H

#include <stdbool.h>
#include <stddef.h>

#include "peers-repo-sync/member.h"

#define GIT_OID_HEX_LEN	 40
#define GITFETCH_ERR_MAX 256

struct gitfetch;

/*
 * Opens (creating it on first use) the bare repository CACHE_DIR/registry.git.
 * ca_file, if not NULL or empty, replaces the system's authorities for https.
 */
struct gitfetch *gitfetch_open(const char *cache_dir, const char *ca_file, char *err,
			       size_t errlen);
void gitfetch_close(struct gitfetch *g);
/*
 * Fetches branch from url; the commit it points to goes to oid (hex). 0 or
 * -1 with err. The fetch is abandoned (and reported so) after timeout_secs,
 * or as soon as cancel_fd (if not -1) becomes readable.
 */
int gitfetch_fetch(struct gitfetch *g, const char *url, const char *branch, unsigned timeout_secs,
		   int cancel_fd, char oid[GIT_OID_HEX_LEN + 1], char *err, size_t errlen);
/* gitfetch_read(): the commit has no members/ at all (git keeps no empty directory). */
#define GITFETCH_NO_MEMBERS (-2)
/*
 * Feeds every entry of members/ in that commit's tree to r. 0, or -1 or
 * GITFETCH_NO_MEMBERS with err.
 */
int gitfetch_read(struct gitfetch *g, const char *oid, struct member_set *r, char *err,
		  size_t errlen);
/* Whether commit now descends from commit before (a fast-forward). */
bool gitfetch_descends(struct gitfetch *g, const char *now, const char *before);

#endif
