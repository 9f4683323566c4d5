/* SPDX-License-Identifier: ISC */
/*
 * A peer, and the control thread's table of them: the array, the key map
 * (open addressing by public key), and the route to each peer's own
 * address. Adding and removing tell the layers above through dev->hooks.
 */
#ifndef ALAMESH_PEER_H
#define ALAMESH_PEER_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon/core/device.h"
#include "daemon/core/stage.h"

struct peer {
	pthread_mutex_t lock; /* keypairs, timers, endpoint, staged */
	struct device *dev;
	struct in6_addr addr;	       /* derived from the public key */
	struct wg_handshake handshake; /* control thread only */
	struct wg_cookie cookie;       /* control thread only */
	struct wg_keypairs keypairs;
	struct wg_timers timers;
	struct sockaddr_in6 endpoint; /* sin6_family 0 = unknown */
	struct stage_buf *staged_head, *staged_tail;
	uint32_t nstaged;
	atomic_bool handshake_wanted; /* set by data threads, served by control */
	atomic_bool staged_wanted;    /* a session is up: staged packets may go */
	_Atomic uint64_t rx_bytes, tx_bytes;
	_Atomic uint64_t last_handshake_ns; /* wall clock of the last completed handshake */
	_Atomic uint64_t next_deadline;	    /* kept by peer_timers_changed() */
	bool hs_registered;		    /* handshake.local_index is in the index table */
	size_t index;			    /* in dev->peers (control thread) */

	/* Registry members (control thread): the member's name and its endpoints. */
	bool from_registry;
	char member[33];
	struct sockaddr_in6 cands[8]; /* tried in turn until a handshake completes */
	uint8_t ncands, cand_idx;
	bool cand_confirmed; /* a handshake completed: keep the endpoint that answered */
	/*
	 * Its key is a member of the applied commit, whether the peer came from
	 * the registry or is a static [Peer] (registry.c, at each sync): only
	 * members speak routing with us (read by the receive thread).
	 */
	atomic_bool is_member;
	bool has_via; /* its member file has Via lines: a stock device (registry.c) */
	bool via_us;  /* ... one of which names this node: we may speak for it */
	/* The addresses of the members its Via lines name (under lock; registry.c). */
	struct in6_addr via_addr[4];
	uint8_t nvia_addr;
	/*
	 * A stock device that another member connects to the mesh: our packets
	 * for it go in the session with carrier, one of its Via members, which
	 * passes them on (mesh.c chooses it; NULL: none reachable).
	 */
	atomic_bool remote_device;
	_Atomic(struct peer *) carrier;
	/* When an authenticated message last came from it straight over UDP (monotonic). */
	_Atomic uint64_t direct_rx_ns;
	/* When a probe straight from it last said it hears us straight (monotonic). */
	_Atomic uint64_t direct_ack_ns;

	/* The mesh (control/mesh.c, control thread unless marked). */
	uint32_t origin;    /* our reference on its key in dev->origins */
	uint16_t nbr;	    /* its id in dev->router, RT_NBR_NONE if not a neighbour */
	atomic_bool stock;  /* this session speaks no routing: a stock WireGuard peer (read by the
			       data threads) */
	bool outsider;	    /* ... or it is no registry member, so we route nothing with it */
	bool proxied;	    /* we announce its address for it */
	bool held_back;	    /* a member with no direct route to it (mesh.c update_hold) */
	bool spoke_routing; /* a hello has come from it, in this session or an earlier one */
	atomic_bool is_router; /* read by the receive thread: speaks routing, relays frames */
	atomic_bool own_only;  /* its packets may come to us, not through us (peer_update_carry) */
	atomic_bool gateway;   /* its packets may go on through us: no member, or a device */
	bool dial, dial_was;   /* chosen by the peering policy: we keep a session to it */
	uint64_t next_dial, dial_backoff;
	/* Direct paths through NATs (control/punch.c, control thread). */
	struct sockaddr_in6 punch[16]; /* where probes go: its candidates, its registry endpoints */
	uint8_t npunch;
	uint64_t punch_until, punch_next;	/* probes until, next round or keepalive */
	uint64_t punch_told_at, punch_heard_at; /* candidates last sent it, last taken from it */
	uint64_t punch_active_at, punch_bytes;	/* traffic last seen, and the counters then */
	/*
	 * Its last handshake came straight from its endpoint (handshake.c). A
	 * session whose handshakes are relayed (one that went direct by
	 * punching, its path its own) makes no routing neighbour (mesh.c).
	 */
	bool hs_direct;
	/* Its last Seen record: where our datagrams reach it from (control/nat.c). */
	struct in6_addr seen_addr;
	uint16_t seen_port;
	uint64_t seen_at; /* 0: none */
};

struct peer *device_add_peer(struct device *dev, const uint8_t public_key[WG_KEY_LEN],
			     const uint8_t *psk, const struct sockaddr_in6 *endpoint,
			     uint16_t persistent_keepalive);
void device_remove_peer(struct device *dev, struct peer *p);
/* Removes every peer and frees the table (the interface is going down). */
void device_remove_all_peers(struct device *dev);
/*
 * The parts of adding and removing, for a change that must apply whole
 * (uapi/apply.c): a peer made but not yet linked anywhere, room in the
 * array, the append that cannot fail, and an unlink that leaves the
 * freeing to the caller after qsbr_synchronize().
 */
struct peer *peer_create(struct device *dev, const uint8_t public_key[WG_KEY_LEN],
			 const uint8_t *psk, const struct sockaddr_in6 *endpoint,
			 uint16_t persistent_keepalive);
void peer_destroy(struct peer *p);
bool device_reserve_peers(struct device *dev, size_t more);
void device_append_peer(struct device *dev, struct peer *p);
bool device_unlink_peer(struct device *dev, struct peer *p);
/* The peer's public key in base64, for logs. */
void peer_name(const struct peer *p, char out[WG_KEY_B64_LEN + 1]);
struct peer *device_find_peer(struct device *dev, const uint8_t public_key[WG_KEY_LEN]);

/*
 * The peer whose session carries packets to address a: the peer with that
 * address, or for a stock device another member hosts, its carrier; NULL
 * if none. Any thread, inside a batch (qsbr keeps the peer).
 */
struct peer *device_session_for(struct device *dev, const struct in6_addr *a);
/*
 * Whether p's session may carry packets from src: src is p's own address,
 * or a stock device's whose Via lines name p's member (the cryptokey rule,
 * end to end). Any thread.
 */
bool peer_carries(struct peer *p, const struct in6_addr *src);

/*
 * Where the datagrams of p's session go now: to p itself (its path is
 * direct), to a neighbour that relays them (the route table's next hop for
 * p's address), or nowhere (NULL). Any thread, inside a batch.
 */
static inline struct peer *peer_hop(struct peer *p)
{
	return route_table_lookup(&p->dev->routes, &p->addr);
}

/* A direct path the routes do not know counts while datagrams come straight this recently. */
#define PEER_DIRECT_ALIVE (3 * NSEC_PER_SEC)

/* Whether the time t (monotonic, 0: never) is within window of now. */
static inline bool peer_fresh(uint64_t t, uint64_t now, uint64_t window)
{
	/* Another thread's clock may be ahead of ours (now < t): that is fresh too. */
	return t && (now < t || now - t < window);
}

/* Whether something authenticated came straight from p lately. */
static inline bool peer_hears(struct peer *p, uint64_t now)
{
	return peer_fresh(atomic_load_explicit(&p->direct_rx_ns, memory_order_relaxed), now,
			  PEER_DIRECT_ALIVE);
}

/*
 * Whether p's session has a direct path by hole punching, both ways: an
 * authenticated datagram came straight from p within PEER_DIRECT_ALIVE, and
 * so did a probe saying p hears us straight. One way alone (a NAT or a
 * firewall that drops only our side) is no path.
 */
static inline bool peer_punched(struct peer *p, uint64_t now)
{
	return peer_hears(p, now) &&
	       peer_fresh(atomic_load_explicit(&p->direct_ack_ns, memory_order_relaxed), now,
			  PEER_DIRECT_ALIVE);
}

/*
 * The path of p's session now: p itself (direct) when the routes say so or
 * a punched path is alive, else the routes' next hop (relayed), or NULL.
 */
static inline struct peer *peer_path(struct peer *p, uint64_t now)
{
	struct peer *hop = peer_hop(p);

	return hop != p && peer_punched(p, now) ? p : hop;
}

/*
 * Whether p's session has a live direct path: an authenticated message came
 * straight from its endpoint within a session's lifetime.
 */
static inline bool peer_direct(struct peer *p, uint64_t now)
{
	return peer_fresh(atomic_load_explicit(&p->direct_rx_ns, memory_order_relaxed), now,
			  WG_REJECT_AFTER_TIME);
}

/* p's endpoint, read under its lock (sin6_family 0: unknown). */
static inline struct sockaddr_in6 peer_endpoint(struct peer *p)
{
	pthread_mutex_lock(&p->lock);
	struct sockaddr_in6 e = p->endpoint;
	pthread_mutex_unlock(&p->lock);
	return e;
}

/*
 * Whether we may carry a peer's packets on into the mesh, from what the
 * registry says (its Via lines) and what the mesh saw (it speaks no
 * routing): a stock device only when its member file names us in Via, as
 * the member it connects through. A member that routes sends end to end
 * and has nothing to go on through us; a peer no registry lists (a static
 * peer, WireGuard's hub) does, though no member takes it from us (the
 * cryptokey rule). Control thread; read by the receive one.
 */
static inline void peer_update_carry(struct peer *p)
{
	bool member = atomic_load(&p->is_member);
	bool device = p->has_via || p->stock;
	bool refuse = member && !p->via_us && device;

	atomic_store(&p->own_only, refuse);
	atomic_store(&p->gateway, !member || device);
}

/*
 * Call with p->lock held after any change to p->timers: the control loop
 * reads the cached deadline without the lock to skip idle peers.
 */
static inline void peer_timers_changed(struct peer *p)
{
	atomic_store_explicit(&p->next_deadline, wg_timers_next_deadline(&p->timers),
			      memory_order_relaxed);
}

#endif
