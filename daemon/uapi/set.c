// SPDX-License-Identifier: ISC
/*
 * Parsing a set=1 request of the control socket. Everything is checked
 * here, before the device is touched: keys, numbers, endpoints, and that an
 * allowed_ip is the peer's own derived /128 (alamesh routes each member's
 * address and nothing else). Pure: no I/O, no device, so the fuzzer runs it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "daemon/uapi/set.h"
#include "routing/address.h"
#include "wgproto/crypto.h"
#include "wgproto/encoding.h"

#define UAPI_MAX_LINE 512 /* the longest valid line is far shorter */

struct parse_state {
	struct uapi_set *set;
	struct uapi_peer *peer; /* the current public_key= block, or NULL */
	int line;
	char *err;
	size_t errlen;
};

static int fail(struct parse_state *st, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct parse_state *st, int err, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(st->err, st->errlen, "line %d: ", st->line);

	if (n < 0 || (size_t)n >= st->errlen)
		return -err;
	va_start(ap, fmt);
	vsnprintf(st->err + n, st->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -err;
}

static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	unsigned long long v = 0;

	if (!*s || strlen(s) > 10)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v > max)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* The wire form of wg(8): "a.b.c.d:port" or "[v6%scope]:port", numeric only. */
static bool parse_endpoint(const char *s, struct sockaddr_in6 *out)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	const char *colon = strrchr(s, ':');
	uint32_t port;
	size_t hlen;

	if (!colon || !parse_u32(colon + 1, 65535, &port) || port == 0)
		return false;
	hlen = (size_t)(colon - s);
	memset(out, 0, sizeof(*out));
	out->sin6_family = AF_INET6;
	out->sin6_port = htons((uint16_t)port);
	if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
		if (hlen - 2 >= sizeof(host))
			return false;
		memcpy(host, s + 1, hlen - 2);
		host[hlen - 2] = '\0';
		char *pct = strchr(host, '%');
		if (pct) {
			uint32_t scope;
			*pct++ = '\0';
			if (parse_u32(pct, UINT32_MAX, &scope))
				out->sin6_scope_id = scope;
			else if (!(out->sin6_scope_id = if_nametoindex(pct)))
				return false;
		}
		return inet_pton(AF_INET6, host, &out->sin6_addr) == 1;
	}
	if (hlen >= sizeof(host))
		return false;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	struct in_addr v4;
	if (inet_pton(AF_INET, host, &v4) != 1)
		return false;
	/* Held as v4-mapped: the UDP socket is dual-stack. */
	out->sin6_addr.s6_addr[10] = 0xff;
	out->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&out->sin6_addr.s6_addr[12], &v4, 4);
	return true;
}

static int allowed_ip(struct parse_state *st, const char *v)
{
	char text[INET6_ADDRSTRLEN + 5], want[INET6_ADDRSTRLEN];
	struct in6_addr a, own;
	uint32_t cidr = 128;
	const char *slash = strchr(v, '/');
	size_t alen = slash ? (size_t)(slash - v) : strlen(v);

	if (alen >= sizeof(text) || (slash && !parse_u32(slash + 1, 128, &cidr)))
		return fail(st, EINVAL, "allowed_ip=%.64s: not an address/prefix", v);
	memcpy(text, v, alen);
	text[alen] = '\0';
	struct in_addr v4;
	if (inet_pton(AF_INET6, text, &a) != 1 && inet_pton(AF_INET, text, &v4) != 1)
		return fail(st, EINVAL, "allowed_ip=%.64s: not an address/prefix", v);
	alamesh_addr(&own, st->peer->public_key);
	inet_ntop(AF_INET6, &own, want, sizeof(want));
	if (inet_pton(AF_INET6, text, &a) != 1 || cidr != 128 || memcmp(&a, &own, sizeof(a)))
		return fail(
		    st, EINVAL,
		    "allowed_ip=%.64s: alamesh routes a peer's derived address only (%s/128)", v,
		    want);
	return 0;
}

static bool is_true(const char *v)
{
	return !strcmp(v, "true");
}

static int new_peer(struct parse_state *st, const char *v)
{
	struct uapi_set *set = st->set;
	uint8_t key[WG_KEY_LEN];

	if (!key_from_hex(key, v))
		return fail(st, EINVAL, "public_key: not 64 hex digits");
	if (wg_key_is_low_order(key)) {
		sodium_memzero(key, sizeof(key));
		return fail(st, EINVAL, "public_key=%s: a low-order point, not a usable key", v);
	}
	if (set->npeers == UAPI_MAX_PEERS)
		return fail(st, E2BIG, "more than %d peers in one request", UAPI_MAX_PEERS);
	if (set->npeers == set->peers_cap) {
		size_t cap = set->peers_cap ? set->peers_cap * 2 : 8;
		struct uapi_peer *n = realloc(set->peers, cap * sizeof(*n));
		if (!n)
			return fail(st, ENOMEM, "out of memory");
		set->peers = n;
		set->peers_cap = cap;
	}
	st->peer = &set->peers[set->npeers++];
	*st->peer = (struct uapi_peer){.line = st->line};
	memcpy(st->peer->public_key, key, WG_KEY_LEN);
	return 0;
}

static int device_key(struct parse_state *st, const char *k, const char *v)
{
	struct uapi_set *set = st->set;
	uint32_t n;

	if (!strcmp(k, "private_key")) {
		if (!key_from_hex(set->private_key, v))
			return fail(st, EINVAL, "private_key: not 64 hex digits");
		if (wg_key_is_zero(set->private_key))
			return fail(st, EINVAL, "private_key: alameshd cannot run without a key");
		set->has_private_key = true;
	} else if (!strcmp(k, "listen_port")) {
		if (!parse_u32(v, 65535, &n))
			return fail(st, EINVAL, "listen_port=%.32s: not a port number", v);
		set->has_listen_port = true;
		set->listen_port = (uint16_t)n;
	} else if (!strcmp(k, "fwmark")) {
		if (!parse_u32(v, UINT32_MAX, &n))
			return fail(st, EINVAL, "fwmark=%.32s: not a 32-bit number", v);
		set->has_fwmark = true;
		set->fwmark = n;
	} else if (!strcmp(k, "replace_peers")) {
		if (!is_true(v))
			return fail(st, EINVAL, "replace_peers=%.32s: only \"true\" is allowed", v);
		set->replace_peers = true;
	} else {
		return fail(st, EINVAL, "unknown key %.32s", k);
	}
	return 0;
}

static int peer_key(struct parse_state *st, const char *k, const char *v)
{
	struct uapi_peer *p = st->peer;
	uint32_t n;

	if (!strcmp(k, "remove") || !strcmp(k, "update_only") ||
	    !strcmp(k, "replace_allowed_ips")) {
		if (!is_true(v))
			return fail(st, EINVAL, "%s=%.32s: only \"true\" is allowed", k, v);
		if (k[0] == 'r' && k[2] == 'm')
			p->remove = true;
		else if (k[0] == 'u')
			p->update_only = true;
		/* replace_allowed_ips: the only allowed IP is fixed, nothing to replace. */
	} else if (!strcmp(k, "preshared_key")) {
		if (!key_from_hex(p->psk, v))
			return fail(st, EINVAL, "preshared_key: not 64 hex digits");
		p->has_psk = true;
	} else if (!strcmp(k, "endpoint")) {
		if (!parse_endpoint(v, &p->endpoint))
			return fail(st, EINVAL, "endpoint=%.64s: not IP:PORT or [IPv6]:PORT", v);
		p->has_endpoint = true;
	} else if (!strcmp(k, "persistent_keepalive_interval")) {
		if (!parse_u32(v, 65535, &n))
			return fail(st, EINVAL, "persistent_keepalive_interval=%.32s: not 0-65535",
				    v);
		p->has_keepalive = true;
		p->keepalive = (uint16_t)n;
	} else if (!strcmp(k, "allowed_ip")) {
		return allowed_ip(st, v);
	} else if (!strcmp(k, "protocol_version")) {
		if (strcmp(v, "1"))
			return fail(st, EPROTONOSUPPORT, "protocol_version=%.32s: only 1 exists",
				    v);
	} else {
		return fail(st, EINVAL, "unknown peer key %.32s", k);
	}
	return 0;
}

static int parse_line(struct parse_state *st, char *line)
{
	char *eq = strchr(line, '=');

	if (!eq || eq == line)
		return fail(st, EINVAL, "not key=value");
	*eq = '\0';
	const char *k = line, *v = eq + 1;
	if (!strcmp(k, "public_key"))
		return new_peer(st, v);
	if (st->peer)
		return peer_key(st, k, v);
	return device_key(st, k, v);
}

int uapi_set_parse(struct uapi_set *set, const char *body, size_t len, char *err, size_t errlen)
{
	struct parse_state st = {.set = set, .line = 1, .err = err, .errlen = errlen};
	char line[UAPI_MAX_LINE];
	int r = 0;

	*set = (struct uapi_set){0};
	if (errlen)
		err[0] = '\0';
	for (size_t pos = 0; pos < len && r == 0;) {
		const char *nl = memchr(body + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (body + pos)) : len - pos;

		st.line++; /* line 1 is "set=1" */
		if (n >= sizeof(line))
			r = fail(&st, EINVAL, "line longer than %d bytes", UAPI_MAX_LINE - 1);
		else if (memchr(body + pos, '\0', n))
			r = fail(&st, EINVAL, "NUL byte");
		else {
			memcpy(line, body + pos, n);
			line[n] = '\0';
			r = parse_line(&st, line);
		}
		pos += n + 1;
	}
	sodium_memzero(line, sizeof(line));
	return r;
}

void uapi_set_free(struct uapi_set *set)
{
	if (set->peers) {
		sodium_memzero(set->peers, set->peers_cap * sizeof(*set->peers));
		free(set->peers);
	}
	sodium_memzero(set, sizeof(*set));
}
