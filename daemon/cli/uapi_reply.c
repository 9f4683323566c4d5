// SPDX-License-Identifier: ISC
/* Reading a get=1 answer of the control socket (see uapi_reply.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "daemon/cli/uapi_reply.h"
#include "wgproto/crypto.h"
#include "wgproto/encoding.h"

#define REPLY_MAX_LINE	256
#define REPLY_MAX_PEERS (1 << 20)

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s || strlen(s) > 20)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		uint64_t d = (uint64_t)(*s - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static bool add_peer(struct uapi_device_info *dev, const char *v)
{
	if (dev->npeers == REPLY_MAX_PEERS)
		return false;
	if (dev->npeers == dev->peers_cap) {
		size_t cap = dev->peers_cap ? dev->peers_cap * 2 : 8;
		struct uapi_peer_info *n = realloc(dev->peers, cap * sizeof(*n));
		if (!n)
			return false;
		dev->peers = n;
		dev->peers_cap = cap;
	}
	struct uapi_peer_info *p = &dev->peers[dev->npeers++];
	*p = (struct uapi_peer_info){0};
	return key_from_hex(p->public_key, v);
}

static bool add_allowed_ip(struct uapi_peer_info *p, const char *v)
{
	size_t len = strlen(v);

	if (len == 0 || len >= UAPI_ALLOWED_IP_MAX || p->nallowed == UAPI_MAX_ALLOWED_IPS)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr("0123456789abcdefABCDEF.:/", v[i]))
			return false;
	if (!(p->nallowed & (p->nallowed - 1)) || p->nallowed == 0) {
		size_t cap = p->nallowed ? p->nallowed * 2 : 1;
		void *n = realloc(p->allowed_ips, cap * sizeof(*p->allowed_ips));
		if (!n)
			return false;
		p->allowed_ips = n;
	}
	memcpy(p->allowed_ips[p->nallowed++], v, len + 1);
	return true;
}

static bool peer_line(struct uapi_peer_info *p, const char *k, const char *v)
{
	uint64_t n;

	if (!strcmp(k, "preshared_key")) {
		if (!key_from_hex(p->preshared_key, v))
			return false;
		p->has_preshared_key = !wg_key_is_zero(p->preshared_key);
	} else if (!strcmp(k, "endpoint")) {
		size_t len = strlen(v);
		if (len == 0 || len >= sizeof(p->endpoint))
			return false;
		for (size_t i = 0; i < len; i++)
			if (!strchr("0123456789abcdefABCDEF.:[]%", v[i]) &&
			    !(v[i] >= 'g' && v[i] <= 'z'))
				return false;
		memcpy(p->endpoint, v, len + 1);
	} else if (!strcmp(k, "last_handshake_time_sec")) {
		return parse_u64(v, UINT64_MAX, &p->last_handshake_sec);
	} else if (!strcmp(k, "last_handshake_time_nsec")) {
		return parse_u64(v, 999999999, &p->last_handshake_nsec);
	} else if (!strcmp(k, "rx_bytes")) {
		return parse_u64(v, UINT64_MAX, &p->rx_bytes);
	} else if (!strcmp(k, "tx_bytes")) {
		return parse_u64(v, UINT64_MAX, &p->tx_bytes);
	} else if (!strcmp(k, "persistent_keepalive_interval")) {
		if (!parse_u64(v, 65535, &n))
			return false;
		p->persistent_keepalive = (uint16_t)n;
	} else if (!strcmp(k, "allowed_ip")) {
		return add_allowed_ip(p, v);
	}
	/* protocol_version and keys of later versions: nothing to show. */
	return true;
}

static bool device_line(struct uapi_device_info *dev, const char *k, const char *v)
{
	uint64_t n;

	if (!strcmp(k, "private_key")) {
		if (!key_from_hex(dev->private_key, v))
			return false;
		dev->has_private_key = !wg_key_is_zero(dev->private_key);
		if (dev->has_private_key)
			wg_public_key(dev->public_key, dev->private_key);
	} else if (!strcmp(k, "listen_port")) {
		if (!parse_u64(v, 65535, &n))
			return false;
		dev->listen_port = (uint16_t)n;
	} else if (!strcmp(k, "fwmark")) {
		if (!parse_u64(v, UINT32_MAX, &n))
			return false;
		dev->fwmark = (uint32_t)n;
	}
	return true;
}

int uapi_reply_parse(struct uapi_device_info *dev, const char *buf, size_t len, const char **why)
{
	char line[REPLY_MAX_LINE];
	int result = -EPROTO;

	memset(dev->private_key, 0, sizeof(dev->private_key));
	dev->has_private_key = false;
	dev->listen_port = 0;
	dev->fwmark = 0;
	dev->peers = NULL;
	dev->npeers = dev->peers_cap = 0;
	*why = "the answer ends without errno=";
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		if (!nl) {
			*why = "the answer is cut short";
			break;
		}
		if (n >= sizeof(line) || memchr(buf + pos, '\0', n)) {
			*why = "a line is too long or holds a NUL";
			break;
		}
		memcpy(line, buf + pos, n);
		line[n] = '\0';
		pos += n + 1;
		char *eq = strchr(line, '=');
		if (!eq) {
			*why = "a line is not key=value";
			break;
		}
		*eq = '\0';
		const char *k = line, *v = eq + 1;
		bool ok;
		if (!strcmp(k, "errno")) {
			uint64_t e;
			if (!parse_u64(v, 4095, &e) || pos >= len || buf[pos] != '\n') {
				*why = "a malformed errno= line";
				break;
			}
			result = (int)e;
			break;
		}
		if (!strcmp(k, "public_key"))
			ok = add_peer(dev, v);
		else if (dev->npeers)
			ok = peer_line(&dev->peers[dev->npeers - 1], k, v);
		else
			ok = device_line(dev, k, v);
		if (!ok) {
			*why = "a value is malformed";
			break;
		}
	}
	sodium_memzero(line, sizeof(line));
	return result;
}

int uapi_reply_errno(const char *buf, size_t len)
{
	struct uapi_device_info dev = {0};
	const char *why;
	int r = uapi_reply_parse(&dev, buf, len, &why);

	/* A set answer holds nothing but errno. */
	if (r >= 0 && (dev.npeers || dev.has_private_key || dev.listen_port))
		r = -EPROTO;
	uapi_device_info_free(&dev);
	return r;
}

void uapi_device_info_free(struct uapi_device_info *dev)
{
	for (size_t i = 0; i < dev->npeers; i++)
		free(dev->peers[i].allowed_ips);
	if (dev->peers) {
		sodium_memzero(dev->peers, dev->peers_cap * sizeof(*dev->peers));
		free(dev->peers);
	}
	sodium_memzero(dev->private_key, sizeof(dev->private_key));
	dev->peers = NULL;
	dev->npeers = dev->peers_cap = 0;
	dev->has_private_key = false;
}
