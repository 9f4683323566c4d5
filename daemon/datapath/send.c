// SPDX-License-Identifier: ISC
/*
 * Sending from the control thread (send.h): a datagram as it is, a
 * keepalive, a routing frame, a handshake message relayed, and what was
 * staged while a handshake ran. These go one by one through a buffer of
 * their own; the data threads' batches go through batch.c. A message of a
 * session whose path is relayed is sealed in that session, then once more
 * as a relayed message (relay.h) in the session with the hop.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/datapath/send.h"
#include "daemon/base/clock.h"
#include "daemon/core/keys.h"
#include "daemon/core/peer.h"
#include "daemon/datapath/relay.h"
#include "routing/frame.h"
#include "wgproto/messages.h"
#include "wgproto/transport.h"
#include "daemon/core/stage.h"

/*
 * The control thread's one buffer, laid out as a data thread's slot: the
 * hop's header, the relay header, the session's header, the plaintext.
 */
static uint8_t buf[PACKET_BUF_SIZE];
#define AT_FRAME (sizeof(struct wg_msg_data))
#define AT_MSG	 (AT_FRAME + RELAY_HDR_LEN)

int send_datagram(struct device *dev, const struct sockaddr_in6 *dst, const void *data, size_t len)
{
	ssize_t r;

	if (dst->sin6_family != AF_INET6)
		return -EDESTADDRREQ;
	do
		r = sendto(dev->udp_fd, data, len, 0, (const struct sockaddr *)dst, sizeof(*dst));
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

/*
 * Seals the len-byte plaintext at at + 16 in p's session, padded to at
 * most mtu. dst gets p's endpoint; NULL: relayed, none needed. 0 without
 * a usable session, which is then asked for.
 */
static size_t seal(struct peer *p, uint8_t *at, size_t len, bool data, uint32_t mtu,
		   struct sockaddr_in6 *dst, uint64_t now)
{
	struct wg_keypair *kp;
	uint64_t counter;

	kp = peer_begin_send(p, now, 1, data, &counter, dst);
	if (!kp) {
		peer_want_handshake(p);
		return 0;
	}
	size_t n = wg_transport_seal(at, (uint32_t)len, mtu, kp, counter);
	wg_keypair_put(kp);
	return n;
}

/* The m-byte message at buf + AT_MSG, of p's session, as a relayed message through hop. */
static bool send_relayed(struct peer *p, struct peer *hop, size_t m, uint8_t hop_limit,
			 uint64_t now)
{
	struct device *dev = p->dev;
	struct sockaddr_in6 dst;

	relay_write_hdr(buf + AT_FRAME, RELAY_MAGIC_MESSAGE, hop_limit, &p->addr, device_addr(dev),
			m);
	size_t n = seal(hop, buf, RELAY_HDR_LEN + m, true, dev->mtu, &dst, now);
	if (!n || send_datagram(dev, &dst, buf, n) != 0)
		return false;
	atomic_fetch_add(&hop->tx_bytes, n);
	return true;
}

/* Where p's session goes now: its path, or p itself when no route says otherwise. */
static struct peer *hop_of(struct peer *p, uint64_t now)
{
	struct peer *hop = peer_path(p, now);

	return hop ? hop : p;
}

int send_message_relayed(struct peer *p, struct peer *hop, const void *msg, size_t len)
{
	if (len > PACKET_BUF_SIZE - AT_MSG)
		return -EMSGSIZE;
	memcpy(buf + AT_MSG, msg, len);
	if (!send_relayed(p, hop, len, RELAY_HOP_LIMIT, now_mono()))
		return -EAGAIN;
	atomic_fetch_add(&p->tx_bytes, len);
	return 0;
}

/*
 * The plaintext at buf + PACKET_HEADROOM (len bytes) in p's session, along
 * its path, or straight to its endpoint when direct is set.
 */
static bool send_plain(struct peer *p, size_t len, bool data, bool direct, uint64_t now)
{
	struct device *dev = p->dev;
	struct peer *hop = direct ? p : hop_of(p, now);
	struct sockaddr_in6 dst;
	size_t n;

	if (hop == p) {
		n = seal(p, buf + AT_MSG, len, data, dev->mtu, &dst, now);
		if (!n || send_datagram(dev, &dst, buf + AT_MSG, n) != 0)
			return false;
		atomic_fetch_add(&p->tx_bytes, n);
		return true;
	}
	uint8_t hl = len >= 8 && (buf[PACKET_HEADROOM] >> 4) == 6 ? buf[PACKET_HEADROOM + 7]
								  : RELAY_HOP_LIMIT;
	n = seal(p, buf + AT_MSG, len, data, relay_mtu(dev->mtu), NULL, now);
	if (!n || !send_relayed(p, hop, n, hl, now))
		return false;
	atomic_fetch_add(&p->tx_bytes, n);
	return true;
}

void send_keepalive(struct peer *p, uint64_t now)
{
	send_plain(p, 0, false, false, now);
}

bool send_payload(struct peer *p, const uint8_t *payload, size_t len, uint64_t now)
{
	if (len > RT_FRAME_MAX)
		return false;
	memcpy(buf + PACKET_HEADROOM, payload, len);
	/* Routing is between neighbours: never relayed. */
	return send_plain(p, len, true, true, now);
}

bool send_session_payload(struct peer *p, const uint8_t *payload, size_t len, uint64_t now)
{
	if (len > PACKET_BUF_SIZE - PACKET_HEADROOM)
		return false;
	memcpy(buf + PACKET_HEADROOM, payload, len);
	return send_plain(p, len, true, false, now);
}

bool send_probe(struct peer *p, const struct sockaddr_in6 *to, uint64_t now)
{
	buf[PACKET_HEADROOM] = PROBE_MAGIC;
	buf[PACKET_HEADROOM + 1] = peer_hears(p, now);
	size_t n = seal(p, buf + AT_MSG, PROBE_LEN, false, p->dev->mtu, NULL, now);

	if (!n || send_datagram(p->dev, to, buf + AT_MSG, n) != 0)
		return false;
	atomic_fetch_add(&p->tx_bytes, n);
	return true;
}

/* After a handshake: what waited for it goes out, or a keepalive confirms the session. */
void send_staged(struct peer *p, uint64_t now, bool keepalive_if_none)
{
	struct stage_buf *list, *s;

	pthread_mutex_lock(&p->lock);
	bool session = p->keypairs.current != NULL;
	list = p->staged_head && session ? stage_take_all(p) : NULL;
	pthread_mutex_unlock(&p->lock);
	if (!session)
		return; /* they wait on */
	if (!list) {
		if (keepalive_if_none)
			send_keepalive(p, now);
		return;
	}
	/* One at a time, each along the path as it is now: a handful, once per handshake. */
	for (s = list; s; s = s->next) {
		if (s->len > PACKET_BUF_SIZE - PACKET_HEADROOM)
			continue;
		memcpy(buf + PACKET_HEADROOM, s->data, s->len);
		send_plain(p, s->len, true, false, now);
	}
	stage_release(p->dev, list);
}
