// SPDX-License-Identifier: ISC
/*
 * The answer to get=1: the device, then each peer, as key=value lines in
 * the order of the cross-platform API, ending with errno=0. Runs on the
 * control thread, which owns the peer list; per-peer state the data
 * threads change is read under the peer's lock or atomically.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "daemon/device.h"
#include "daemon/uapi.h"
#include "daemon/udp.h"
#include "wgproto/encoding.h"

struct outbuf {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void put(struct outbuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct outbuf *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->oom = true;
			return;
		}
		if ((size_t)n < o->cap - o->len)
			break;
		size_t cap = o->cap * 2 + (size_t)n;
		char *b = malloc(cap);
		if (!b) {
			o->oom = true;
			return;
		}
		memcpy(b, o->buf, o->len);
		sodium_memzero(o->buf, o->cap); /* it held the private key */
		free(o->buf);
		o->buf = b;
		o->cap = cap;
	}
	o->len += (size_t)n;
}

static void put_peer(struct outbuf *o, struct peer *p)
{
	char hex[WG_KEY_HEX_LEN + 1], ep[INET6_ADDRSTRLEN + 32], addr[INET6_ADDRSTRLEN];
	struct sockaddr_in6 endpoint;
	uint16_t keepalive;
	uint64_t hs_ns = atomic_load(&p->last_handshake_ns);

	pthread_mutex_lock(&p->lock);
	endpoint = p->endpoint;
	keepalive = p->timers.persistent_keepalive_interval;
	pthread_mutex_unlock(&p->lock);

	key_to_hex(hex, p->handshake.remote_static);
	put(o, "public_key=%s\n", hex);
	key_to_hex(hex, p->handshake.preshared_key);
	put(o, "preshared_key=%s\n", hex);
	sodium_memzero(hex, sizeof(hex));
	put(o, "protocol_version=1\n");
	if (endpoint.sin6_family == AF_INET6)
		put(o, "endpoint=%s\n", udp_format(&endpoint, ep, sizeof(ep)));
	put(o, "last_handshake_time_sec=%llu\n", (unsigned long long)(hs_ns / NSEC_PER_SEC));
	put(o, "last_handshake_time_nsec=%llu\n", (unsigned long long)(hs_ns % NSEC_PER_SEC));
	put(o, "tx_bytes=%llu\n", (unsigned long long)atomic_load(&p->tx_bytes));
	put(o, "rx_bytes=%llu\n", (unsigned long long)atomic_load(&p->rx_bytes));
	put(o, "persistent_keepalive_interval=%u\n", keepalive);
	inet_ntop(AF_INET6, &p->addr, addr, sizeof(addr));
	put(o, "allowed_ip=%s/128\n", addr);
}

int uapi_get(struct device *dev, char **out, size_t *outlen)
{
	struct outbuf o = {.cap = 4096};
	char hex[WG_KEY_HEX_LEN + 1];

	if (!(o.buf = malloc(o.cap)))
		return -ENOMEM;
	key_to_hex(hex, dev->identity.private_key);
	put(&o, "private_key=%s\n", hex);
	sodium_memzero(hex, sizeof(hex));
	put(&o, "listen_port=%u\n", dev->listen_port);
	if (dev->fwmark)
		put(&o, "fwmark=%u\n", dev->fwmark);
	for (size_t i = 0; i < dev->npeers; i++)
		put_peer(&o, dev->peers[i]);
	put(&o, "errno=0\n\n");
	if (o.oom) {
		sodium_memzero(o.buf, o.cap);
		free(o.buf);
		return -ENOMEM;
	}
	*out = o.buf;
	*outlen = o.len;
	return 0;
}
