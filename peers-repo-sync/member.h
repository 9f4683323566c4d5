/* SPDX-License-Identifier: ISC */
/*
 * The registry's member files, members/<name>.conf, checked one by one and
 * then as a set. Pure: the caller hands over each entry of members/ (its
 * name, its kind and, for a blob, its bytes), whether it comes from a git
 * tree (the daemon) or from a checkout on disk (alamesh registry check), so
 * both apply exactly the same rules.
 */
#ifndef ALAMESH_MEMBER_H
#define ALAMESH_MEMBER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wgproto/constants.h"

#define MEMBER_NAME_MAX		     32	  /* [a-z0-9][a-z0-9-]{0,31} */
#define MEMBER_FILE_MAX		     4096 /* bytes of one member file */
#define MEMBER_MAX_ENDPOINTS	     8
#define MEMBER_ENDPOINT_MAX	     262 /* "[" 253-byte host "]:" port */
#define MEMBER_CONTACT_MAX	     256
#define MEMBER_MAX_VIA		     4 /* members a stock device connects through */
#define REGISTRY_DEFAULT_MAX_MEMBERS 65536
#define REGISTRY_WHY_MAX	     256
#define REGISTRY_ENTRY_MARGIN	     1024 /* entries of members/ read beyond the member cap */
#define REGISTRY_PROBLEMS_MAX	     4096 /* problems listed; the rest are counted */

enum member_entry_kind { MEMBER_BLOB, MEMBER_SYMLINK, MEMBER_TREE, MEMBER_SUBMODULE, MEMBER_OTHER };

/*
 * One member, compact (a registry may hold 65,536 of them): its endpoints
 * and contact are kept in the set's text, read with member_endpoint()
 * and member_contact().
 */
struct member {
	char name[MEMBER_NAME_MAX + 1];
	bool is_self; /* the key of the node that reads the registry */
	uint8_t nendpoints;
	uint8_t public_key[WG_KEY_LEN];
	struct in6_addr addr;
	uint32_t endpoints[MEMBER_MAX_ENDPOINTS]; /* offsets in member_set.text */
	uint32_t contact;			  /* offset in member_set.text; 0: none */
	/*
	 * A stock WireGuard device's Via lines, the members whose sessions
	 * alone may carry its address: "bob,carol" at this offset in
	 * member_set.text (0: none).
	 */
	uint32_t via;
	uint8_t nvia;
};

/*
 * A rejected file or a warning, with the file's name (as in members/NAME).
 * Both strings are escaped (escape.h): printable ASCII only, one line each.
 */
struct member_problem {
	char file[8 + 4 * (MEMBER_NAME_MAX + 8) + 1]; /* "members/", 40 bytes escaped */
	char why[REGISTRY_WHY_MAX];
	bool warning;
};

struct member_set {
	struct member *members;
	size_t nmembers, members_cap;
	struct member_problem *problems;
	size_t nproblems, problems_cap;
	size_t nunlisted; /* problems past REGISTRY_PROBLEMS_MAX, counted only */
	size_t nrejected;
	size_t nentries, nskipped; /* entries of members/ read, and not read */
	size_t max_members;
	char *text; /* the members' strings, each NUL-terminated; offset 0 is "" */
	size_t textlen, textcap;
};

void member_set_init(struct member_set *r, size_t max_members);
void member_set_free(struct member_set *r);

/*
 * One entry of members/: filename is its name in that directory. A file that
 * breaks a rule is rejected with a problem naming it; entries that are not
 * member files (other kinds, names without .conf) are ignored with a warning.
 */
void member_set_add_entry(struct member_set *r, const char *filename, enum member_entry_kind kind,
			  const uint8_t *data, size_t len);
/*
 * How many more entries member_set_add_entry() reads: members/ may hold any
 * number of entries, and each may cost a problem and a log line, so after
 * max_members + REGISTRY_ENTRY_MARGIN the rest are only counted, the caller
 * telling how many with member_set_skip_entries() rather than handing them
 * over (a git tree's remaining blobs need not even be looked up).
 */
size_t member_set_entries_left(const struct member_set *r);
void member_set_skip_entries(struct member_set *r, size_t n);
/*
 * After the last entry: members sharing a key or an address are all
 * rejected, the rest sorted by name, and own_public (may be NULL) marked
 * as is_self. Entries not read count as rejected, with one problem on
 * members/ saying how many; so do problems past the listed ones.
 */
void member_set_finish(struct member_set *r, const uint8_t *own_public);

/* Endpoint i (below m->nendpoints) of member m of r, and its contact ("" if none). */
const char *member_endpoint(const struct member_set *r, const struct member *m, size_t i);
const char *member_contact(const struct member_set *r, const struct member *m);
/* Member m's Via names, separated by commas ("" if none). */
const char *member_via(const struct member_set *r, const struct member *m);
/* Whether member m names name in its Via lines. */
bool member_via_names(const struct member_set *r, const struct member *m, const char *name);
/* The addresses of the members m's Via lines name (not m itself), at most max: how many. */
size_t member_via_addrs(const struct member_set *r, const struct member *m, struct in6_addr *out,
			size_t max);

/* "host:port" or "[v6]:port" with a plausible host and a port 1-65535; no lookup. */
bool member_endpoint_valid(const char *s);
/* [a-z0-9][a-z0-9-]{0,31} */
bool member_name_valid(const char *name, size_t len);

#endif
