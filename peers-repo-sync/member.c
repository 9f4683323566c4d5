// SPDX-License-Identifier: ISC
/*
 * Member files: every byte comes from whoever got a pull request merged, so
 * each rule is checked and each failure named, file by file. One bad file
 * never stops the others.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "peers-repo-sync/escape.h"
#include "peers-repo-sync/member.h"
#include "routing/address.h"
#include "wgproto/crypto.h"
#include "wgproto/encoding.h"

#define MEMBER_LINE_MAX 512

void member_set_init(struct member_set *r, size_t max_members)
{
	memset(r, 0, sizeof(*r));
	r->max_members = max_members ? max_members : REGISTRY_DEFAULT_MAX_MEMBERS;
}

void member_set_free(struct member_set *r)
{
	free(r->members);
	free(r->problems);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

/* Adds s to r's text; its offset, or 0 when out of memory. */
static uint32_t keep_text(struct member_set *r, const char *s)
{
	size_t len = strlen(s) + 1;

	if (!r->textlen)
		r->textlen = 1; /* offset 0, reserved for "" */
	if (r->textlen + len > r->textcap) {
		size_t cap = r->textcap ? r->textcap : 4096;
		while (cap < r->textlen + len)
			cap *= 2;
		char *n = cap <= UINT32_MAX ? realloc(r->text, cap) : NULL;
		if (!n)
			return 0;
		n[0] = '\0';
		r->text = n;
		r->textcap = cap;
	}
	uint32_t at = (uint32_t)r->textlen;
	memcpy(r->text + at, s, len);
	r->textlen += len;
	return at;
}

const char *member_endpoint(const struct member_set *r, const struct member *m, size_t i)
{
	return i < m->nendpoints ? r->text + m->endpoints[i] : "";
}

const char *member_via(const struct member_set *r, const struct member *m)
{
	return m->via ? r->text + m->via : "";
}

/* The next name of the Via list at *v, and its length; NULL at the end. */
static const char *via_next(const char **v, size_t *len)
{
	const char *name = *v;

	if (!*name)
		return NULL;
	*len = strcspn(name, ",");
	*v = name + *len + (name[*len] == ',');
	return name;
}

bool member_via_names(const struct member_set *r, const struct member *m, const char *name)
{
	size_t n = strlen(name), len;

	for (const char *v = member_via(r, m), *via; (via = via_next(&v, &len));)
		if (len == n && !memcmp(via, name, n))
			return true;
	return false;
}

const char *member_contact(const struct member_set *r, const struct member *m)
{
	return m->contact ? r->text + m->contact : "";
}

/*
 * Records a problem: file (a name in members/, "" for the directory) and the
 * reason. Past REGISTRY_PROBLEMS_MAX they are only counted, unless listed
 * anyway (the closing notes of member_set_finish()).
 */
static void vproblem(struct member_set *r, const char *file, bool warning, bool always,
		     const char *fmt, va_list ap)
{
	if (r->nproblems >= REGISTRY_PROBLEMS_MAX && !always) {
		r->nunlisted++;
		return;
	}
	if (r->nproblems == r->problems_cap) {
		size_t cap = r->problems_cap ? r->problems_cap * 2 : 16;
		struct member_problem *n = realloc(r->problems, cap * sizeof(*n));
		if (!n) {
			r->nunlisted++;
			return;
		}
		r->problems = n;
		r->problems_cap = cap;
	}
	struct member_problem *p = &r->problems[r->nproblems++];
	char why[REGISTRY_WHY_MAX];
	size_t flen = strlen(file);
	/*
	 * The name and the reason (which may quote the file) are the committer's
	 * bytes: escaped here, once, so no log line, reply line or terminal sees
	 * them raw.
	 */
	memcpy(p->file, "members/", 8);
	escape_text(p->file + 8, sizeof(p->file) - 8, file,
		    flen > MEMBER_NAME_MAX + 8 ? MEMBER_NAME_MAX + 8 : flen);
	p->warning = warning;
	vsnprintf(why, sizeof(why), fmt, ap);
	escape_text(p->why, sizeof(p->why), why, strlen(why));
}

static void problem(struct member_set *r, const char *file, bool warning, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem(struct member_set *r, const char *file, bool warning, const char *fmt, ...)
{
	va_list ap;

	if (!warning)
		r->nrejected++;
	va_start(ap, fmt);
	vproblem(r, file, warning, false, fmt, ap);
	va_end(ap);
}

/* A note on the whole directory, listed however many problems came before. */
static void note(struct member_set *r, bool warning, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void note(struct member_set *r, bool warning, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(r, "", warning, true, fmt, ap);
	va_end(ap);
}

size_t member_set_entries_left(const struct member_set *r)
{
	size_t max = r->max_members + REGISTRY_ENTRY_MARGIN;

	return r->nentries < max ? max - r->nentries : 0;
}

void member_set_skip_entries(struct member_set *r, size_t n)
{
	r->nskipped += n;
}

bool member_name_valid(const char *name, size_t len)
{
	if (len < 1 || len > MEMBER_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0);
		if (!ok)
			return false;
	}
	return true;
}

static bool host_valid(const char *h, size_t len)
{
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = h[i];
		if (!isalnum((unsigned char)c) && c != '-' && c != '.')
			return false;
	}
	return h[0] != '-' && h[0] != '.';
}

bool member_endpoint_valid(const char *s)
{
	const char *colon = strrchr(s, ':');
	unsigned long port;
	char *end;

	if (!colon || !colon[1] || strlen(s) > MEMBER_ENDPOINT_MAX)
		return false;
	port = strtoul(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535 || !isdigit((unsigned char)colon[1]))
		return false;
	size_t hlen = (size_t)(colon - s);
	if (s[0] == '[') {
		char v6[INET6_ADDRSTRLEN];
		struct in6_addr a;
		if (hlen < 3 || s[hlen - 1] != ']' || hlen - 2 >= sizeof(v6))
			return false;
		memcpy(v6, s + 1, hlen - 2);
		v6[hlen - 2] = '\0';
		return inet_pton(AF_INET6, v6, &a) == 1;
	}
	return host_valid(s, hlen);
}

static char *trim(char *s)
{
	char *e = s + strlen(s);

	while (isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

struct member_parse {
	struct member_set *r;
	const char *file;
	struct member *m;
	int sections, line;
	bool have_key;
	char via[MEMBER_MAX_VIA * (MEMBER_NAME_MAX + 1)]; /* "bob,carol" */
};

static bool member_key(struct member_parse *mp, const char *k, char *v)
{
	struct member *m = mp->m;

	if (!strcasecmp(k, "PublicKey")) {
		if (mp->have_key) {
			problem(mp->r, mp->file, false, "line %d: PublicKey given twice", mp->line);
			return false;
		}
		if (!key_from_base64(m->public_key, v)) {
			problem(mp->r, mp->file, false,
				"line %d: PublicKey is not the base64 of 32 bytes", mp->line);
			return false;
		}
		if (wg_key_is_low_order(m->public_key)) {
			problem(mp->r, mp->file, false,
				"line %d: PublicKey is the zero key or a low-order point",
				mp->line);
			return false;
		}
		mp->have_key = true;
	} else if (!strcasecmp(k, "Endpoint")) {
		if (!member_endpoint_valid(v)) {
			problem(mp->r, mp->file, false,
				"line %d: Endpoint '%.64s' is not host:port or [IPv6]:port",
				mp->line, v);
			return false;
		}
		if (m->nendpoints == MEMBER_MAX_ENDPOINTS) {
			problem(mp->r, mp->file, false, "line %d: more than %d Endpoint lines",
				mp->line, MEMBER_MAX_ENDPOINTS);
			return false;
		}
		if (!(m->endpoints[m->nendpoints++] = keep_text(mp->r, v))) {
			problem(mp->r, mp->file, false, "out of memory");
			return false;
		}
	} else if (!strcasecmp(k, "Via")) {
		if (!member_name_valid(v, strlen(v))) {
			problem(mp->r, mp->file, false, "line %d: Via '%.40s' is not a member name",
				mp->line, v);
			return false;
		}
		if (m->nvia == MEMBER_MAX_VIA) {
			problem(mp->r, mp->file, false, "line %d: more than %d Via lines", mp->line,
				MEMBER_MAX_VIA);
			return false;
		}
		/* Kept whole after the file is read: the list is one string. */
		size_t at = strlen(mp->via);
		snprintf(mp->via + at, sizeof(mp->via) - at, "%s%s", at ? "," : "", v);
		m->nvia++;
	} else if (!strcasecmp(k, "Contact")) {
		char contact[MEMBER_CONTACT_MAX + 1];
		snprintf(contact, sizeof(contact), "%s", v);
		if (!(m->contact = keep_text(mp->r, contact))) {
			problem(mp->r, mp->file, false, "out of memory");
			return false;
		}
	} else {
		problem(mp->r, mp->file, true, "line %d: unknown key '%.32s' ignored", mp->line, k);
	}
	return true;
}

static bool member_line(struct member_parse *mp, char *s)
{
	s = trim(s);
	if (!*s || *s == '#' || *s == ';')
		return true;
	if (*s == '[') {
		if (strcmp(s, "[Member]")) {
			problem(mp->r, mp->file, false, "line %d: section %.40s is not [Member]",
				mp->line, s);
			return false;
		}
		if (++mp->sections > 1) {
			problem(mp->r, mp->file, false, "line %d: a second [Member] section",
				mp->line);
			return false;
		}
		return true;
	}
	char *eq = strchr(s, '=');
	if (!eq) {
		problem(mp->r, mp->file, false, "line %d: not key = value", mp->line);
		return false;
	}
	if (!mp->sections) {
		problem(mp->r, mp->file, false, "line %d: a key before [Member]", mp->line);
		return false;
	}
	*eq = '\0';
	return member_key(mp, trim(s), trim(eq + 1));
}

/* Parses one member file into m; false when it is rejected (the problem is recorded). */
static bool member_parse(struct member_set *r, const char *file, const uint8_t *data, size_t len,
			 struct member *m)
{
	struct member_parse mp = {.r = r, .file = file, .m = m};
	char line[MEMBER_LINE_MAX];

	if (memchr(data, '\0', len)) {
		problem(r, file, false, "binary content (a NUL byte)");
		return false;
	}
	for (size_t pos = 0; pos < len;) {
		const uint8_t *nl = memchr(data + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) : len - pos;
		mp.line++;
		if (n >= sizeof(line)) {
			problem(r, file, false, "line %d: longer than %d bytes", mp.line,
				MEMBER_LINE_MAX - 1);
			return false;
		}
		memcpy(line, data + pos, n);
		line[n] = '\0';
		if (!member_line(&mp, line))
			return false;
		pos += n + 1;
	}
	if (!mp.sections) {
		problem(r, file, false, "no [Member] section");
		return false;
	}
	if (!mp.have_key) {
		problem(r, file, false, "no PublicKey");
		return false;
	}
	if (mp.via[0] && !(m->via = keep_text(r, mp.via))) {
		problem(r, file, false, "out of memory");
		return false;
	}
	alamesh_addr(&m->addr, m->public_key);
	return true;
}

void member_set_add_entry(struct member_set *r, const char *filename, enum member_entry_kind kind,
			  const uint8_t *data, size_t len)
{
	size_t flen = strlen(filename);
	static const char *const kinds[] = {"a file", "a symbolic link", "a directory",
					    "a submodule", "not a regular file"};

	/* Each entry may cost a problem and a log line: only so many are read. */
	if (!member_set_entries_left(r)) {
		r->nskipped++;
		return;
	}
	r->nentries++;
	if (flen < 5 || strcmp(filename + flen - 5, ".conf")) {
		problem(r, filename, true, "not a .conf file, ignored");
		return;
	}
	if (kind != MEMBER_BLOB) {
		problem(r, filename, true, "%s, not a regular file: ignored", kinds[kind]);
		return;
	}
	if (!member_name_valid(filename, flen - 5)) {
		problem(r, filename, false,
			"the name must be 1-32 of a-z, 0-9 and '-' (not first), then .conf");
		return;
	}
	if (len > MEMBER_FILE_MAX) {
		problem(r, filename, false, "%zu bytes, over the limit of %d", len,
			MEMBER_FILE_MAX);
		return;
	}
	if (r->nmembers == r->max_members) {
		problem(r, filename, false, "over the limit of %zu members", r->max_members);
		return;
	}
	if (r->nmembers == r->members_cap) {
		size_t cap = r->members_cap ? r->members_cap * 2 : 64;
		struct member *n = realloc(r->members, cap * sizeof(*n));
		if (!n) {
			problem(r, filename, false, "out of memory");
			return;
		}
		r->members = n;
		r->members_cap = cap;
	}
	struct member *m = &r->members[r->nmembers];
	size_t textlen = r->textlen;
	memset(m, 0, sizeof(*m));
	memcpy(m->name, filename, flen - 5);
	if (member_parse(r, filename, data, len, m))
		r->nmembers++;
	else
		r->textlen = textlen; /* a rejected file's strings are not kept */
}

static int by_key(const void *a, const void *b)
{
	return memcmp(((const struct member *)a)->public_key,
		      ((const struct member *)b)->public_key, WG_KEY_LEN);
}

static int by_addr(const void *a, const void *b)
{
	return memcmp(&((const struct member *)a)->addr, &((const struct member *)b)->addr,
		      sizeof(struct in6_addr));
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->name, ((const struct member *)b)->name);
}

/* Marks (name[0] = 0) every member whose key, or address, it shares with a neighbour. */
static void mark_duplicates(struct member_set *r, int (*cmp)(const void *, const void *),
			    const char *what)
{
	if (r->nmembers < 2)
		return;
	qsort(r->members, r->nmembers, sizeof(*r->members), cmp);
	for (size_t i = 0; i < r->nmembers;) {
		size_t j = i + 1;
		while (j < r->nmembers && !cmp(&r->members[i], &r->members[j]))
			j++;
		if (j - i > 1)
			for (size_t k = i; k < j; k++) {
				struct member *m = &r->members[k];
				char file[MEMBER_NAME_MAX + 8];
				if (!m->name[0])
					continue;
				snprintf(file, sizeof(file), "%s.conf", m->name);
				problem(r, file, false,
					"%s shared by %zu files: all of them rejected", what,
					j - i);
				m->name[0] = '\0';
			}
		i = j;
	}
}

static int name_cmp(const void *key, const void *m)
{
	return strcmp(key, ((const struct member *)m)->name);
}

/*
 * A Via that names no member of the set, or the device itself, carries
 * nothing: warned, not rejected (the member it names may come back). The
 * set is sorted by name.
 */
static void warn_via(struct member_set *r)
{
	for (size_t i = 0; i < r->nmembers; i++) {
		const struct member *m = &r->members[i];
		char file[MEMBER_NAME_MAX + 8], name[MEMBER_NAME_MAX + 1];
		size_t len;
		snprintf(file, sizeof(file), "%s.conf", m->name);
		for (const char *v = member_via(r, m), *via; (via = via_next(&v, &len));) {
			snprintf(name, sizeof(name), "%.*s", (int)len, via);
			if (!strcmp(name, m->name))
				problem(r, file, true, "Via names the device itself");
			else if (!bsearch(name, r->members, r->nmembers, sizeof(*m), name_cmp))
				problem(r, file, true, "Via names no member: '%s'", name);
		}
	}
}

void member_set_finish(struct member_set *r, const uint8_t *own_public)
{
	size_t kept = 0;

	mark_duplicates(r, by_key, "PublicKey");
	mark_duplicates(r, by_addr, "address");
	for (size_t i = 0; i < r->nmembers; i++)
		if (r->members[i].name[0])
			r->members[kept++] = r->members[i];
	r->nmembers = kept;
	if (r->nmembers > 1)
		qsort(r->members, r->nmembers, sizeof(*r->members), by_name);
	for (size_t i = 0; i < r->nmembers; i++)
		r->members[i].is_self =
		    own_public && !memcmp(r->members[i].public_key, own_public, WG_KEY_LEN);
	warn_via(r);
	if (r->nskipped) {
		r->nrejected += r->nskipped;
		note(r, false, "%zu more entries not read: at most %zu are (MaxMembers + %d)",
		     r->nskipped, r->nentries, REGISTRY_ENTRY_MARGIN);
	}
	if (r->nunlisted)
		note(r, true, "%zu more problems not listed: at most %d are", r->nunlisted,
		     REGISTRY_PROBLEMS_MAX);
}

size_t member_via_addrs(const struct member_set *r, const struct member *m, struct in6_addr *out,
			size_t max)
{
	char name[MEMBER_NAME_MAX + 1];
	size_t n = 0, len;

	for (const char *v = member_via(r, m), *via; n < max && (via = via_next(&v, &len));) {
		snprintf(name, sizeof(name), "%.*s", (int)len, via);
		const struct member *x =
		    bsearch(name, r->members, r->nmembers, sizeof(*x), name_cmp);
		if (x && x != m)
			out[n++] = x->addr;
	}
	return n;
}
