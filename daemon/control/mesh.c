// SPDX-License-Identifier: ISC
/* The mesh on the control thread (see mesh.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "daemon/core/device.h"
#include "daemon/base/log.h"
#include "daemon/control/mesh.h"
#include "peers-repo-sync/peering.h"
#include "daemon/base/textbuf.h"
#include "routing/frame.h"
#include "routing/router.h"
#include "wgproto/encoding.h"
#include "daemon/base/clock.h"
#include "daemon/core/peer.h"
#include "daemon/datapath/send.h"
#include "daemon/control/handshake.h"
#include "daemon/control/nat.h"
#include "daemon/control/candidates.h"
#include "daemon/control/punch.h"

#define SCAN_INTERVAL	 (250 * NSEC_PER_MSEC) /* sessions looked at this often */
#define REJECT_LOG_EVERY (10 * NSEC_PER_SEC)   /* one log line per this for bad announcements */

/* ---- the data path's view: one route table entry per origin ---- */

/*
 * Where packets to an origin go: the router's next hop; else, for an
 * origin we have a peer for, that peer directly (a stock peer, or one the
 * router has not heard yet); else none, and the sender is told at once
 * (ICMPv6 Destination Unreachable). A static peer keeps WireGuard's rule,
 * a packet to it starts a handshake; a registry member with no session is
 * held back: sessions to members are the peering policy's to make, and
 * its packets would wait for a handshake nobody may start.
 */
static void install(struct device *dev, uint32_t o, uint16_t nbr)
{
	const struct rt_origin *e = &dev->origins.v[o];
	struct peer *to = NULL;

	if (o == dev->self_origin)
		return;
	if (nbr < dev->nbr_peer_cap && nbr != RT_NBR_LOCAL)
		to = dev->nbr_peer[nbr];
	if (!to && (to = device_find_peer(dev, e->key)) && to->held_back)
		to = NULL;
	if (to && !route_table_replace(&dev->routes, &e->addr, to, NULL))
		log_error("mesh: out of memory installing a route");
	else if (!to)
		route_table_remove(&dev->routes, &e->addr);
}

static void reinstall(struct device *dev, uint32_t o)
{
	if (rt_origins_live(&dev->origins, o))
		install(dev, o, dev->router ? router_next_hop(dev->router, o) : RT_NBR_NONE);
}

/* ---- the router's callbacks ---- */

static void op_send(void *ctx, uint16_t nbr, const uint8_t *frame, size_t len)
{
	struct device *dev = ctx;

	if (nbr < dev->nbr_peer_cap && dev->nbr_peer[nbr])
		send_payload(dev->nbr_peer[nbr], frame, len, now_mono());
}

static void op_route(void *ctx, uint32_t origin, uint16_t nbr)
{
	install(ctx, origin, nbr);
}

static void op_rejected(void *ctx, uint16_t nbr, const uint8_t key[WG_KEY_LEN],
			const struct in6_addr *addr)
{
	static uint64_t last;
	struct device *dev = ctx;
	uint64_t now = now_mono();
	char b64[WG_KEY_B64_LEN + 1], a[INET6_ADDRSTRLEN], from[WG_KEY_B64_LEN + 1] = "?";

	/* A lying member could flood the log: one line now and then says enough. */
	if (last && now - last < REJECT_LOG_EVERY)
		return;
	last = now;
	if (nbr < dev->nbr_peer_cap && dev->nbr_peer[nbr])
		peer_name(dev->nbr_peer[nbr], from);
	key_to_base64(b64, key);
	inet_ntop(AF_INET6, addr, a, sizeof(a));
	bool member = rt_origins_find(&dev->origins, key) != RT_ORIGIN_NONE;
	log_warn("mesh: peer %s announced %s for key %s, %s: ignored", from, a, b64,
		 member ? "whose address it is not" : "which is no member or peer");
}

static const struct rt_ops ops = {.send = op_send,
				  .route = op_route,
				  .rejected = op_rejected,
				  .endpoint_of = nat_endpoint_of,
				  .seen = nat_seen};

/* ---- set-up ---- */

static void peer_linked(struct device *dev, struct peer *p);
static void peer_unlinked(struct device *dev, struct peer *p);
static void peer_freed(struct device *dev, struct peer *p);

int mesh_init(struct device *dev)
{
	uint8_t seed[16];
	struct rt_params params;
	uint64_t rseed;

	randombytes_buf(seed, sizeof(seed));
	randombytes_buf(&rseed, sizeof(rseed));
	if (!rt_origins_init(&dev->origins, seed))
		return -ENOMEM;
	dev->self_origin = rt_origins_add(&dev->origins, dev->identity.public_key);
	dev->rt_queue = calloc(RT_QUEUE_SIZE, sizeof(*dev->rt_queue));
	if (dev->self_origin == RT_ORIGIN_NONE || !dev->rt_queue)
		return -ENOMEM;
	rt_params_default(&params);
	params.start_clock = (uint32_t)(now_wall() / NSEC_PER_SEC);
	dev->router =
	    router_new(&params, &ops, dev, &dev->origins, dev->self_origin, rseed, now_mono());
	if (!dev->max_peers)
		dev->max_peers = MESH_DEFAULT_MAX_PEERS;
	if (!dev->router)
		return -ENOMEM;
	/* From now on the peer table tells us of its peers (core/peer.c calls these). */
	dev->hooks = (struct peer_hooks){
	    .linked = peer_linked, .unlinked = peer_unlinked, .freed = peer_freed};
	return 0;
}

void mesh_free(struct device *dev)
{
	dev->hooks = (struct peer_hooks){0};
	router_free(dev->router);
	dev->router = NULL;
	free(dev->nbr_peer);
	dev->nbr_peer = NULL;
	dev->nbr_peer_cap = 0;
	free(dev->rt_queue);
	dev->rt_queue = NULL;
	rt_origins_free(&dev->origins);
}

/* ---- peers ---- */

static void put_origin(struct device *dev, uint32_t o)
{
	if (!rt_origins_live(&dev->origins, o))
		return;
	/* The last reference: the router forgets it before its id can be reused. */
	if (dev->origins.v[o].refs == 1 && dev->router)
		router_forget_origin(dev->router, o, now_mono());
	rt_origins_put(&dev->origins, o);
}

static void peer_linked(struct device *dev, struct peer *p)
{
	p->nbr = RT_NBR_NONE;
	p->origin = rt_origins_add(&dev->origins, p->handshake.remote_static);
	if (p->origin == RT_ORIGIN_NONE) {
		log_error("mesh: out of memory: routes to a new peer will be refused");
		return;
	}
	/* A new origin: neighbours may have told us of it already, in vain. */
	if (dev->origins.v[p->origin].refs == 1)
		router_request_tables(dev->router, now_mono());
	reinstall(dev, p->origin);
}

static void drop_neighbour(struct device *dev, struct peer *p)
{
	if (p->nbr == RT_NBR_NONE)
		return;
	uint16_t nbr = p->nbr;
	/* First: the router's reselection must not install routes through p. */
	dev->nbr_peer[nbr] = NULL;
	p->nbr = RT_NBR_NONE;
	atomic_store(&p->is_router, false);
	router_remove_neighbour(dev->router, nbr, now_mono());
}

/* We announce p's address for it (a stock peer, or one no registry lists). */
static void start_proxy(struct device *dev, struct peer *p, uint64_t now)
{
	if (p->proxied)
		return;
	p->proxied = true;
	router_proxy(dev->router, p->origin, true, now);
}

static void stop_proxy(struct device *dev, struct peer *p)
{
	if (!p->proxied)
		return;
	p->proxied = false;
	if (p->origin != RT_ORIGIN_NONE)
		router_proxy(dev->router, p->origin, false, now_mono());
}

/* Whether p speaks no routing (a stock device, or an outsider), for the data threads too. */
static void set_stock(struct peer *p, bool stock)
{
	atomic_store(&p->stock, stock);
	peer_update_carry(p);
}

/* It is neither stock nor an outsider any more, as far as we know: we stop speaking for it. */
static void forget_stock(struct device *dev, struct peer *p)
{
	stop_proxy(dev, p);
	p->outsider = false;
	set_stock(p, false);
}

static void peer_unlinked(struct device *dev, struct peer *p)
{
	/* No device may name it as its carrier once it is freed. */
	for (size_t i = 0; i < dev->npeers; i++) {
		struct peer *d = dev->peers[i];
		if (atomic_load(&d->carrier) == p)
			atomic_store(&d->carrier, NULL);
	}
	if (!dev->router)
		return;
	drop_neighbour(dev, p);
	forget_stock(dev, p);
	/* p is out of the key map: its address now goes by the router alone. */
	if (p->origin != RT_ORIGIN_NONE)
		reinstall(dev, p->origin);
}

static void peer_freed(struct device *dev, struct peer *p)
{
	if (p->origin != RT_ORIGIN_NONE && dev->router)
		put_origin(dev, p->origin);
	p->origin = RT_ORIGIN_NONE;
}

void mesh_self_changed(struct device *dev)
{
	uint32_t old = dev->self_origin;
	uint32_t o = rt_origins_add(&dev->origins, dev->identity.public_key);

	if (o == RT_ORIGIN_NONE) {
		log_error("mesh: out of memory: the new address is not announced");
		return;
	}
	dev->self_origin = o;
	router_set_self(dev->router, o, now_mono());
	put_origin(dev, old);
}

static bool grow_nbr_peer(struct device *dev, uint16_t nbr)
{
	if (nbr < dev->nbr_peer_cap)
		return true;
	size_t cap = dev->nbr_peer_cap ? dev->nbr_peer_cap : 64;
	while (cap <= nbr)
		cap *= 2;
	struct peer **v = realloc(dev->nbr_peer, cap * sizeof(*v));
	if (!v)
		return false;
	memset(v + dev->nbr_peer_cap, 0, (cap - dev->nbr_peer_cap) * sizeof(*v));
	dev->nbr_peer = v;
	dev->nbr_peer_cap = cap;
	return true;
}

static void add_neighbour(struct device *dev, struct peer *p, uint64_t now)
{
	uint16_t nbr = router_add_neighbour(dev->router, p->origin, now);

	if (nbr == RT_NBR_NONE)
		return;
	if (!grow_nbr_peer(dev, nbr)) {
		router_remove_neighbour(dev->router, nbr, now);
		return;
	}
	dev->nbr_peer[nbr] = p;
	p->nbr = nbr;
}

/*
 * A session with p made and kept straight over UDP: one neighbours and
 * stock devices have with us. A relayed session makes no neighbour, nor
 * does one that went direct by punching (its handshakes stay on the
 * relay): its direct path is its own, so that when it stops answering the
 * relay takes over at once, with no routing to wait for.
 */
static bool has_session(struct peer *p, uint64_t now)
{
	pthread_mutex_lock(&p->lock);
	struct wg_keypair *kp = p->keypairs.current;
	bool up = kp && now - kp->birth_ns < WG_REJECT_AFTER_TIME;
	pthread_mutex_unlock(&p->lock);
	return up && p->hs_direct && peer_direct(p, now);
}

/* ---- frames from the receive thread ---- */

static void malformed(const struct peer *p, const char *why)
{
	char name[WG_KEY_B64_LEN + 1];

	peer_name(p, name);
	log_debug("mesh: malformed routing frame from peer %s: %s", name, why);
}

static void receive_frame(struct device *dev, struct rt_item *it, uint64_t now)
{
	struct peer *p = device_find_peer(dev, it->key);
	const char *why;

	/* Its membership may have gone since the receive thread queued the frame. */
	if (!p || p->origin == RT_ORIGIN_NONE || !atomic_load(&p->is_member))
		return;
	if (cand_msg_is(it->data, it->len)) {
		punch_receive(dev, p, it->data, it->len, now);
		return;
	}
	if (p->nbr == RT_NBR_NONE) {
		/*
		 * It speaks routing after all (or again): a neighbour, and no longer
		 * ours to announce; but only for a frame that is whole (the router
		 * checks the frames of neighbours itself).
		 */
		if (rt_frame_check(it->data, it->len, &why) < 0) {
			malformed(p, why);
			return;
		}
		forget_stock(dev, p);
		add_neighbour(dev, p, now);
		if (p->nbr == RT_NBR_NONE)
			return;
	}
	if (router_receive(dev->router, p->nbr, it->data, it->len, now, &why) < 0) {
		malformed(p, why);
		return;
	}
	atomic_store(&p->is_router, true);
}

void mesh_process_queue(struct device *dev)
{
	uint32_t head = atomic_load_explicit(&dev->rt_head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&dev->rt_tail, memory_order_acquire);
	uint64_t now = now_mono();

	if (!dev->router)
		return;
	for (; head != tail; head++) {
		receive_frame(dev, &dev->rt_queue[head % RT_QUEUE_SIZE], now);
		atomic_store_explicit(&dev->rt_head, head + 1, memory_order_release);
	}
}

/* ---- sessions, stock peers, dialling ---- */

static void dial(struct peer *p, uint64_t now)
{
	if (!p->dial || p->endpoint.sin6_family != AF_INET6 || now < p->next_dial)
		return;
	p->dial_backoff = p->dial_backoff ? p->dial_backoff * 2 : MESH_DIAL_MIN;
	if (p->dial_backoff > MESH_DIAL_MAX)
		p->dial_backoff = MESH_DIAL_MAX;
	p->next_dial = now + p->dial_backoff;
	handshake_dial(p);
}

/*
 * Whether packets to a member may go to it directly when the router knows
 * no way there, or are answered Destination Unreachable at once. A member
 * that speaks routing is reachable when the router says so: a session
 * whose hellos stopped (its daemon is gone) outlives it by minutes. One not
 * heard yet may be sent to while a session is up (a stock WireGuard peer,
 * or the first moments of a session), or while our first dial to it is
 * under way, as WireGuard would; not once that has failed, nor when we do
 * not dial it (it has no endpoint, or MaxPeers left it out).
 */
static void update_hold(struct device *dev, struct peer *p, bool session)
{
	struct rt_nbr_info ni;

	if (p->nbr != RT_NBR_NONE && router_neighbour_info(dev->router, p->nbr, &ni) && ni.heard)
		p->spoke_routing = true;
	bool first_dial = p->dial && p->dial_backoff <= MESH_DIAL_MIN;
	bool hold =
	    p->from_registry && !p->stock && (p->spoke_routing || (!session && !first_dial));

	if (hold == p->held_back)
		return;
	p->held_back = hold;
	if (p->origin != RT_ORIGIN_NONE)
		reinstall(dev, p->origin);
}

/*
 * A session with a peer the registry does not list: no routing with it
 * (routes are taken from members only), and we announce its address for
 * it, as for a stock WireGuard peer, while the session lasts. Only nodes
 * that know its key (a static peer of theirs) take that announcement, and
 * no member takes packets from its address in our session: only a device
 * whose member file's Via names us may speak through us.
 */
static void speak_for_outsider(struct device *dev, struct peer *p, uint64_t now)
{
	char name[WG_KEY_B64_LEN + 1];

	drop_neighbour(dev, p);
	if (p->outsider)
		return;
	p->outsider = true;
	set_stock(p, true);
	start_proxy(dev, p, now);
	peer_name(p, name);
	log_info("mesh: peer %s is no registry member: no routing with it; announcing its "
		 "address for it",
		 name);
}

static void scan_session(struct device *dev, struct peer *p, bool session, uint64_t now)
{
	struct rt_nbr_info ni;

	if (!session) {
		/* No session any more: no neighbour, nothing to announce; try again later. */
		drop_neighbour(dev, p);
		forget_stock(dev, p);
		dial(p, now);
		return;
	}
	p->dial_backoff = 0;
	if (p->origin == RT_ORIGIN_NONE)
		return;
	if (!atomic_load(&p->is_member)) {
		speak_for_outsider(dev, p, now);
		return;
	}
	if (p->outsider) {
		/* A member now: routing may start (its hello, or ours below at the next scan). */
		forget_stock(dev, p);
	}
	if (p->stock) {
		/* The registry may have named us in its Via lines, or stopped naming us. */
		if (atomic_load(&p->own_only))
			stop_proxy(dev, p);
		else
			start_proxy(dev, p, now);
	}
	if (p->nbr == RT_NBR_NONE && !p->stock) {
		/* A session: say hello, and see whether it answers in kind. */
		add_neighbour(dev, p, now);
		return;
	}
	if (p->nbr != RT_NBR_NONE && router_neighbour_info(dev->router, p->nbr, &ni) && !ni.heard &&
	    now - ni.added > MESH_STOCK_PROBE) {
		/*
		 * Nothing came back: stock WireGuard. We speak for it while its
		 * session lasts, if the registry lets us: a member device's Via
		 * lines must name us.
		 */
		char name[WG_KEY_B64_LEN + 1];
		drop_neighbour(dev, p);
		set_stock(p, true);
		peer_name(p, name);
		if (atomic_load(&p->own_only)) {
			log_info("mesh: peer %s (%s) speaks no routing, and its Via does not name "
				 "us: only its packets for us are taken",
				 name, p->member);
			return;
		}
		start_proxy(dev, p, now);
		log_info("mesh: peer %s speaks no routing: announcing its address for it", name);
	}
}

/*
 * A stock device another member connects: our packets for it go in the
 * session with the first of its Via members that we have a path to.
 */
static void choose_carrier(struct device *dev, struct peer *p)
{
	struct peer *c = NULL;

	if (!atomic_load(&p->remote_device)) {
		if (atomic_load(&p->carrier))
			atomic_store(&p->carrier, NULL);
		return;
	}
	pthread_mutex_lock(&p->lock);
	for (unsigned int i = 0; i < p->nvia_addr && !c; i++) {
		struct peer *v = route_table_lookup(&dev->sessions, &p->via_addr[i]);
		if (v && v != p && peer_path(v, now_mono()))
			c = v;
	}
	pthread_mutex_unlock(&p->lock);
	atomic_store_explicit(&p->carrier, c, memory_order_release);
}

static void scan_peer(struct device *dev, struct peer *p, uint64_t now)
{
	bool session = has_session(p, now);

	choose_carrier(dev, p);
	punch_tick(dev, p, now);
	scan_session(dev, p, session, now);
	update_hold(dev, p, session);
}

void mesh_tick(struct device *dev, uint64_t now)
{
	if (!dev->router)
		return;
	if (now >= dev->mesh_scan_next) {
		for (size_t i = 0; i < dev->npeers; i++)
			scan_peer(dev, dev->peers[i], now);
		dev->mesh_scan_next = now + SCAN_INTERVAL;
	}
	if (now >= router_deadline(dev->router))
		router_tick(dev->router, now);
}

/* ---- the peering policy ---- */

/*
 * The score of a pair of keys, the same seen from either end: members keep
 * the MaxPeers others with the lowest scores, so most choices are mutual,
 * the resulting graph is a random one (short paths, no hubs), and a member
 * joining or leaving moves only the choices that involved it.
 */
void mesh_choose_peers(struct device *dev)
{
	size_t cap = dev->npeers ? dev->npeers : 1, n = 0;
	const uint8_t **keys = calloc(cap, sizeof(*keys));
	struct peer **cand = malloc(cap * sizeof(*cand));
	bool *chosen = malloc(cap * sizeof(*chosen));

	if (!keys || !cand || !chosen) {
		log_error("mesh: out of memory choosing peers");
		goto out;
	}
	for (size_t i = 0; i < dev->npeers; i++) {
		struct peer *p = dev->peers[i];
		bool was = p->dial;
		p->dial = false;
		p->dial_was = was;
		if (!p->from_registry || !p->ncands)
			continue; /* static peers keep WireGuard's rules; no endpoint, no dialling
				   */
		keys[n] = p->handshake.remote_static;
		cand[n++] = p;
	}
	/* The choice itself is the registry subsystem's (peers-repo-sync/peering.h). */
	if (peering_choose(dev->identity.public_key, keys, n, dev->max_peers, chosen) < 0) {
		log_error("mesh: out of memory choosing peers");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!chosen[i])
			continue;
		if (!cand[i]->dial_was)
			cand[i]->next_dial = 0; /* newly chosen: at the next scan */
		cand[i]->dial = true;
	}
out:
	free(keys);
	free(cand);
	free(chosen);
}

/* ---- get=routes ---- */

struct describe_ctx {
	struct device *dev;
	struct textbuf *t;
};

static int describe_one(const struct rt_route_info *ri, void *ctx)
{
	struct describe_ctx *c = ctx;
	struct device *dev = c->dev;
	const struct rt_origin *e = &dev->origins.v[ri->origin];
	char addr[INET6_ADDRSTRLEN], b64[WG_KEY_B64_LEN + 1];
	struct peer *dest = device_find_peer(dev, e->key);

	inet_ntop(AF_INET6, &e->addr, addr, sizeof(addr));
	key_to_base64(b64, e->key);
	textbuf_printf(c->t, "route=%s\norigin=%s\n", addr, b64);
	const char *self =
	    ri->origin == dev->self_origin && dev->self_name[0] ? dev->self_name : NULL;
	if (dest && dest->member[0])
		textbuf_printf(c->t, "member=%s\n", dest->member);
	else if (self)
		textbuf_printf(c->t, "member=%s\n", self);
	if (ri->origin == dev->self_origin) {
		textbuf_printf(c->t, "next_hop=self\n");
	} else if (ri->nbr == RT_NBR_LOCAL) {
		textbuf_printf(c->t, "next_hop=direct\n");
	} else if (ri->nbr < dev->nbr_peer_cap && dev->nbr_peer[ri->nbr]) {
		const struct peer *via = dev->nbr_peer[ri->nbr];
		char nh[WG_KEY_B64_LEN + 1];
		peer_name(via, nh);
		textbuf_printf(c->t, "next_hop=%s\n", nh);
		if (via->member[0])
			textbuf_printf(c->t, "next_hop_member=%s\n", via->member);
	}
	textbuf_printf(c->t, "metric=%u\nseqno=%u\nage=%llu\n", ri->metric, ri->seqno,
		       (unsigned long long)(ri->age / NSEC_PER_SEC));
	return 0;
}

int mesh_describe_routes(struct device *dev, char **out, size_t *len)
{
	struct textbuf t = {0};
	struct describe_ctx c = {dev, &t};

	if (dev->router)
		router_foreach_route(dev->router, now_mono(), describe_one, &c);
	return textbuf_answer(&t, out, len);
}
