// SPDX-License-Identifier: ISC
/*
 * Handshakes and timers, on the control thread. Messages arrive from the
 * receive thread's queue, past its checks (datapath/hs_gate.h): mac1 right,
 * mac2 right under load (the rest got a cookie reply there), the source
 * within its rate, a cookie reply for a handshake of ours. What is left
 * here is the Diffie-Hellman work.
 */
#include <string.h>

#include "daemon/control/handshake.h"
#include "daemon/base/log.h"
#include "daemon/platform/udp.h"
#include "wgproto/crypto.h"
#include "daemon/base/clock.h"
#include "daemon/core/peer.h"
#include "daemon/core/keys.h"
#include "daemon/core/stage.h"
#include "daemon/datapath/send.h"

static struct wg_handshake *lookup_static(void *ctx, const uint8_t public_key[WG_KEY_LEN])
{
	struct peer *p = device_find_peer(ctx, public_key);

	return p ? &p->handshake : NULL;
}

static struct wg_handshake *lookup_index(void *ctx, uint32_t idx)
{
	struct device *dev = ctx;

	return wg_index_get_handshake(&dev->index, idx);
}

/* A fresh index whose handshake message could not be made (the handshake keeps its old one). */
static void forget_index(struct peer *p, uint32_t idx)
{
	wg_index_remove(&p->dev->index, idx);
	p->hs_registered = false;
}

/*
 * Turns the completed handshake into a keypair registered under the same
 * index the peer now addresses us by, and installs it.
 */
static struct wg_keypair *install_keypair(struct peer *p, bool relayed, uint64_t now)
{
	struct wg_keypair *dropped[3];
	struct wg_keypair *kp = wg_noise_derive_keypair(&p->handshake, now);

	if (!kp) {
		peer_unregister_handshake(p);
		return NULL;
	}
	kp->peer = p;
	wg_index_replace(&p->dev->index, kp->local_index, WG_INDEX_KEYPAIR, kp);
	p->hs_registered = false;
	pthread_mutex_lock(&p->lock);
	if (!relayed)
		p->cand_confirmed = true; /* whichever endpoint this came through, it answered */
	wg_keypairs_install(&p->keypairs, kp, dropped);
	wg_timers_session_derived(&p->timers, now);
	peer_timers_changed(p);
	pthread_mutex_unlock(&p->lock);
	peer_drop_keypairs(p->dev, dropped);
	return kp;
}

/*
 * Whether an initiation to p goes relayed through hop, the routes' next
 * hop, unless we dial p (the peering policy wants the direct session, which
 * only a direct handshake can find). A path found by punching carries data,
 * not handshakes: they stay on the relay, so that it makes no neighbour.
 */
static bool goes_relayed(struct peer *p, struct peer *hop, bool dial)
{
	return hop && hop != p && !dial;
}

static void initiate(struct peer *p, bool is_retry, bool dial)
{
	struct device *dev = p->dev;
	struct wg_msg_initiation msg;
	struct sockaddr_in6 dst;
	uint64_t now = now_mono();
	struct peer *hop = peer_hop(p);
	bool relayed = goes_relayed(p, hop, dial);
	uint32_t idx;

	if (!dev->identity.has_identity)
		return;
	pthread_mutex_lock(&p->lock);
	/*
	 * A member's registry endpoints: an unanswered try moves on to the next.
	 * The one that answered is kept only while it goes on answering: once a
	 * second retry to it goes unanswered too (the timers count the attempt
	 * before the retry is sent), the candidates are tried in turn again.
	 */
	if (is_retry && p->ncands && !relayed) {
		if (p->cand_confirmed && p->timers.handshake_attempts >= 2)
			p->cand_confirmed = false;
		if (!p->cand_confirmed) {
			p->cand_idx = (uint8_t)((p->cand_idx + 1) % p->ncands);
			p->endpoint = p->cands[p->cand_idx];
		}
	}
	dst = p->endpoint;
	bool may = (relayed || dst.sin6_family == AF_INET6) &&
		   wg_timers_may_initiate(&p->timers, now, is_retry);
	peer_timers_changed(p);
	if (!may) {
		pthread_mutex_unlock(&p->lock);
		return;
	}
	pthread_mutex_unlock(&p->lock);

	peer_unregister_handshake(p);
	if (!wg_index_add(&dev->index, WG_INDEX_HANDSHAKE, &p->handshake, &idx))
		return;
	p->hs_registered = true;
	if (!wg_noise_create_initiation(&msg, &p->handshake, &dev->identity, idx, now_wall())) {
		forget_index(p, idx);
		return;
	}
	wg_cookie_add_macs(&p->cookie, (uint8_t *)&msg, sizeof(msg), now);

	pthread_mutex_lock(&p->lock);
	wg_timers_handshake_initiated(&p->timers, now, random_jitter());
	wg_timers_any_authenticated_packet_sent(&p->timers, now);
	wg_timers_any_authenticated_packet_traversal(&p->timers, now);
	peer_timers_changed(p);
	pthread_mutex_unlock(&p->lock);

	char name[WG_KEY_B64_LEN + 1];
	peer_name(p, name);
	log_debug("peer %s: sending handshake initiation%s%s", name, is_retry ? " (retry)" : "",
		  relayed ? " (relayed)" : "");
	if (relayed)
		send_message_relayed(p, hop, &msg, sizeof(msg));
	else if (send_datagram(dev, &dst, &msg, sizeof(msg)) == 0)
		atomic_fetch_add(&p->tx_bytes, sizeof(msg));
}

void handshake_send_initiation(struct peer *p, bool is_retry)
{
	initiate(p, is_retry, false);
}

void handshake_dial(struct peer *p)
{
	initiate(p, false, true);
}

/* The handshake message came straight from p's endpoint: its direct path is alive. */
static void heard_directly(struct peer *p, const struct hs_item *it, uint64_t now)
{
	p->hs_direct = !it->relayed;
	if (it->relayed)
		return;
	pthread_mutex_lock(&p->lock);
	p->endpoint = it->src;
	pthread_mutex_unlock(&p->lock);
	atomic_store(&p->direct_rx_ns, now);
}

/* Sends our handshake message back the way p's came: to its source, or relayed. */
static void answer(struct device *dev, struct peer *p, const struct hs_item *it, const void *msg,
		   size_t len)
{
	if (it->relayed) {
		struct peer *via = device_find_peer(dev, it->via);
		if (via)
			send_message_relayed(p, via, msg, len);
		return;
	}
	if (send_datagram(dev, &it->src, msg, len) == 0)
		atomic_fetch_add(&p->tx_bytes, len);
}

static void consume_initiation(struct device *dev, const struct hs_item *it, uint64_t now)
{
	const struct wg_msg_initiation *msg = (const void *)it->data;
	struct wg_msg_response resp;
	struct wg_handshake *hs;
	struct peer *p;
	uint32_t idx;

	hs = wg_noise_consume_initiation(msg, &dev->identity, now, lookup_static, dev);
	if (!hs) {
		log_debug("invalid handshake initiation from %s",
			  udp_format(&it->src, (char[64]){0}, 64));
		return;
	}
	p = hs->peer;
	heard_directly(p, it, now);
	pthread_mutex_lock(&p->lock);
	wg_timers_any_authenticated_packet_received(&p->timers, now);
	peer_timers_changed(p);
	pthread_mutex_unlock(&p->lock);

	peer_unregister_handshake(p);
	if (!wg_index_add(&dev->index, WG_INDEX_HANDSHAKE, &p->handshake, &idx))
		return;
	p->hs_registered = true;
	if (!wg_noise_create_response(&resp, hs, &dev->identity, idx)) {
		forget_index(p, idx);
		return;
	}
	wg_cookie_add_macs(&p->cookie, (uint8_t *)&resp, sizeof(resp), now);
	if (!install_keypair(p, it->relayed, now))
		return;
	pthread_mutex_lock(&p->lock);
	wg_timers_any_authenticated_packet_sent(&p->timers, now);
	wg_timers_any_authenticated_packet_traversal(&p->timers, now);
	peer_timers_changed(p);
	pthread_mutex_unlock(&p->lock);

	char name[WG_KEY_B64_LEN + 1];
	peer_name(p, name);
	log_debug("peer %s: answered handshake initiation from %s%s", name,
		  udp_format(&it->src, (char[64]){0}, 64), it->relayed ? " (relayed)" : "");
	answer(dev, p, it, &resp, sizeof(resp));
}

static void consume_response(struct device *dev, const struct hs_item *it, uint64_t now)
{
	const struct wg_msg_response *msg = (const void *)it->data;
	struct wg_handshake *hs;
	struct peer *p;

	hs = wg_noise_consume_response(msg, &dev->identity, lookup_index, dev);
	if (!hs) {
		log_debug("invalid handshake response from %s",
			  udp_format(&it->src, (char[64]){0}, 64));
		return;
	}
	p = hs->peer;
	if (!install_keypair(p, it->relayed, now))
		return;
	heard_directly(p, it, now);
	pthread_mutex_lock(&p->lock);
	wg_timers_handshake_complete(&p->timers, now);
	wg_timers_any_authenticated_packet_received(&p->timers, now);
	wg_timers_any_authenticated_packet_traversal(&p->timers, now);
	peer_timers_changed(p);
	pthread_mutex_unlock(&p->lock);
	atomic_store(&p->last_handshake_ns, now_wall());
	atomic_fetch_add(&p->rx_bytes, it->len);

	char name[WG_KEY_B64_LEN + 1];
	peer_name(p, name);
	log_info("peer %s: handshake complete with %s%s", name,
		 udp_format(&it->src, (char[64]){0}, 64), it->relayed ? " (relayed)" : "");
	send_staged(p, now, true);
}

static void consume_cookie(struct device *dev, const struct hs_item *it, uint64_t now)
{
	const struct wg_msg_cookie *msg = (const void *)it->data;
	struct wg_handshake *hs = wg_index_get_handshake(&dev->index, wg_le32(msg->receiver));

	if (!hs) {
		/* The reply may answer a response whose index is now a keypair's. */
		struct wg_keypair *kp = wg_index_get_keypair(&dev->index, wg_le32(msg->receiver));
		if (kp) {
			hs = &((struct peer *)kp->peer)->handshake;
			wg_keypair_put(kp);
		}
	}
	if (!hs)
		return;
	struct peer *p = hs->peer;
	char name[WG_KEY_B64_LEN + 1];
	peer_name(p, name);
	if (wg_cookie_consume_reply(&p->cookie, msg, now))
		log_debug(
		    "peer %s: cookie reply from %s taken: the next handshake message carries mac2",
		    name, udp_format(&it->src, (char[64]){0}, 64));
	else
		log_debug("peer %s: invalid cookie reply from %s", name,
			  udp_format(&it->src, (char[64]){0}, 64));
}

static void process_one(struct device *dev, const struct hs_item *it)
{
	uint64_t now = now_mono();

	switch (wg_msg_type(it->data, it->len)) {
	case WG_MSG_COOKIE:
		consume_cookie(dev, it, now);
		break;
	case WG_MSG_INITIATION:
		consume_initiation(dev, it, now);
		break;
	case WG_MSG_RESPONSE:
		consume_response(dev, it, now);
		break;
	}
}

void handshake_process_queue(struct device *dev)
{
	uint32_t head = atomic_load_explicit(&dev->hs_head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&dev->hs_tail, memory_order_acquire);

	for (; head != tail; head++) {
		process_one(dev, &dev->hs_queue[head % HS_QUEUE_SIZE]);
		atomic_store_explicit(&dev->hs_head, head + 1, memory_order_release);
	}
}

void peer_tick(struct peer *p, uint64_t now)
{
	uint32_t due;

	if (now < atomic_load_explicit(&p->next_deadline, memory_order_relaxed) &&
	    !atomic_load(&p->handshake_wanted))
		return;
	pthread_mutex_lock(&p->lock);
	due = wg_timers_expired(&p->timers, now, random_jitter());
	bool retry = p->timers.handshake_attempts > 0;
	pthread_mutex_unlock(&p->lock);

	if (due & WG_TIMER_ZERO_KEYS)
		peer_clear_keys(p);
	if (due & WG_TIMER_GIVE_UP)
		stage_drop_all(p->dev, p);
	if (due & WG_TIMER_SEND_INITIATION)
		handshake_send_initiation(p, retry);
	if (atomic_exchange(&p->handshake_wanted, false))
		handshake_send_initiation(p, false);
	if (atomic_exchange(&p->staged_wanted, false))
		send_staged(p, now, false);
	if (due & WG_TIMER_SEND_KEEPALIVE)
		send_keepalive(p, now);

	pthread_mutex_lock(&p->lock);
	peer_timers_changed(p);
	pthread_mutex_unlock(&p->lock);
}
