/* SPDX-License-Identifier: ISC */
/*
 * The running interface's state: identity, the peer table, the TUN and UDP
 * descriptors and the queues the three threads share. The control thread
 * (the epoll loop in alameshd.c) owns handshakes, timers and configuration;
 * the transmit thread moves TUN -> UDP, the receive thread UDP -> TUN, each
 * in batches and each doing its own crypto, so neither waits on the other or
 * on the control loop. This file offers the state and its set-up without any
 * descriptor (device_init), so that tests build the same device the daemon
 * does; control/up.c opens the TUN and the socket and starts the threads.
 */
#ifndef ALAMESH_DEVICE_H
#define ALAMESH_DEVICE_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "routing/frame.h"
#include "routing/origin.h"
#include "routing/table.h"
#include "wgproto/cookie.h"
#include "wgproto/index.h"
#include "wgproto/keypair.h"
#include "wgproto/noise.h"
#include "wgproto/ratelimiter.h"
#include "wgproto/timers.h"
#include "daemon/base/qsbr.h"

struct router;
struct peer;
struct stage_buf;
struct device;

/*
 * What the layers above the peer table want to hear of its peers (the mesh
 * sets them in mesh_init()): called on the control thread, each may be NULL.
 */
struct peer_hooks {
	void (*linked)(struct device *dev, struct peer *p);   /* in the table and the key map */
	void (*unlinked)(struct device *dev, struct peer *p); /* out of them, not yet freed */
	void (*freed)(struct device *dev, struct peer *p);    /* about to be freed */
};

#define HS_QUEUE_SIZE  256		   /* handshake messages waiting for the control thread */
#define HS_UNDER_LOAD  (HS_QUEUE_SIZE / 8) /* queue depth that demands cookies */
#define RL_MAX_SOURCES 4096		   /* sources rate limited at once under load */
#define HS_LOAD_HOLD   (1 * NSEC_PER_SEC)  /* how long a deep queue counts as load */
#define RT_QUEUE_SIZE  1024		   /* routing frames waiting for the control thread */
/*
 * A packet buffer: room before the packet for the hop session's header, a
 * relay header and the end-to-end session's header (a relayed message is
 * sealed twice in place), and after it for two paddings and two tags.
 */
#define PACKET_HEADROOM (2 * sizeof(struct wg_msg_data) + RELAY_HDR_LEN)
#define PACKET_BUF_SIZE                                                                            \
	(PACKET_HEADROOM + ALAMESH_MAX_MTU + 2 * (WG_PADDING_MULTIPLE + WG_AEAD_TAG_LEN))

/* A routing frame from a peer, for the control thread (control/mesh.c). */
struct rt_item {
	uint8_t key[WG_KEY_LEN]; /* the sender's public key: the peer may be gone by then */
	uint32_t len;
	uint8_t data[RT_FRAME_MAX + WG_PADDING_MULTIPLE];
};

/* A handshake message past the receive thread's checks (datapath/hs_gate.h). */
struct hs_item {
	struct sockaddr_in6 src; /* the datagram's source: the relay's, for a relayed message */
	bool relayed;		 /* it came as a relayed message from the neighbour via */
	uint8_t via[WG_KEY_LEN];
	uint32_t len;
	uint8_t data[sizeof(struct wg_msg_initiation)];
};

struct device {
	char ifname[16];
	unsigned int ifindex;
	uint32_t mtu;
	uint16_t listen_port;
	uint32_t fwmark; /* SO_MARK of the UDP socket, 0 = none */
	/*
	 * Our derived address, read by the data threads in every batch. A new
	 * private key writes the other slot, flips addr_cur, and waits out the
	 * batches (qsbr) before that slot may be written again.
	 */
	struct in6_addr addr_slot[2];
	_Atomic unsigned int addr_cur;
	int tun_fd;
	int udp_fd;
	int wake_fd;	     /* eventfd: data threads -> control thread */
	int stop_fd;	     /* eventfd: control thread -> data threads */
	int rx_kick_fd;	     /* eventfd: the receive thread polls udp_fd afresh (rebound) */
	atomic_bool udp_gso; /* send trains of datagrams with UDP_SEGMENT (data threads) */
	atomic_bool failed;  /* a data thread died: the control loop stops */

	struct wg_identity identity;
	/*
	 * mac1 and mac2 of incoming handshakes: the receive thread checks them
	 * and makes cookie replies (datapath/hs_gate.h); a new private key
	 * re-keys it from the control thread. Both under cookie_lock.
	 */
	struct wg_cookie_checker cookie_checker;
	pthread_mutex_t cookie_lock;
	struct wg_index_table index;
	struct route_table routes; /* address -> the next hop: a neighbour, or the peer itself */
	/*
	 * Address -> the peer whose session it is: every peer, under its own
	 * address (peer.c). The end-to-end session a packet goes in; the route
	 * table then says whether that session's path is direct or relayed.
	 */
	struct route_table sessions;
	struct qsbr qsbr;

	struct peer_hooks hooks;
	struct peer **peers; /* control thread only */
	size_t npeers, peers_cap;
	struct peer **keymap; /* the same peers by public key (peer.c) */
	size_t keymap_size;

	/* Handshake messages from the receive thread (single producer/consumer ring). */
	struct wg_ratelimiter ratelimiter; /* receive thread: handshakes per source under load */
	uint64_t rx_last_deep;		   /* receive thread: when it last saw the queue deep */
	struct hs_item hs_queue[HS_QUEUE_SIZE];
	_Atomic uint32_t hs_head, hs_tail;
	/*
	 * What the receive thread's handshake gate dropped or answered
	 * (get=stats): initiations and responses with a wrong mac1, cookie
	 * replies to no handshake of ours, messages refused for their source's
	 * rate or a full queue, and the cookie replies it sent under load.
	 */
	_Atomic uint64_t hs_bad_mac1, hs_cookie_unmatched, hs_refused, hs_cookies_sent;

	/* Packets staged until a session exists (pool, under stage_lock). */
	pthread_mutex_t stage_lock;
	struct stage_buf *stage_pool, *stage_free;

	/* ICMPv6 errors are rate limited (token bucket, tx thread only). */
	uint64_t icmp_tokens_ns;
	/* Packets from the TUN not from our address, dropped (get=stats); the last warning. */
	_Atomic uint64_t tun_foreign_source;
	uint64_t tun_foreign_logged; /* tx thread only */
	/* Routing frames from peers that are no registry member, dropped (get=stats). */
	_Atomic uint64_t routing_from_outsider;
	/*
	 * Packets out of a session whose source that session's key may not send
	 * from (the cryptokey rule, end to end), and relayed frames refused or
	 * whose message did not open (get=stats).
	 */
	_Atomic uint64_t e2e_source_refused;
	_Atomic uint64_t relay_refused;
	/* Relayed messages we passed on, and notices we sent (get=stats). */
	_Atomic uint64_t relayed, relay_notices;

	pthread_t tx_thread, rx_thread;
	bool threads_running;

	struct registry_sync *sync; /* NULL without a [Registry] */
	char self_name[33];	    /* our member name in the applied commit, "" if none */

	/* The mesh: origins, the router and the frames it is sent (control/mesh.c). */
	struct rt_origins origins;
	uint32_t self_origin;
	struct router *router;
	struct peer **nbr_peer; /* router neighbour id -> peer */
	size_t nbr_peer_cap;
	uint64_t mesh_next;	  /* when the router next wants to run */
	uint64_t mesh_scan_next;  /* the next scan of the peers' sessions */
	struct rt_item *rt_queue; /* ring, RT_QUEUE_SIZE items: receive thread -> control */
	_Atomic uint32_t rt_head, rt_tail;
	bool
	    rx_rt_queued; /* receive thread: frames queued in this batch, wake the control thread */
	uint32_t max_peers; /* members dialled at most ([Registry] MaxPeers) */
};

/*
 * The state of an interface named ifname with this private key: identity,
 * address, cookie checker, index and route tables, rate limiter and the
 * staging pool; no descriptor is opened (all are -1) and no thread started.
 * 0, or a negative errno; device_release() undoes it either way.
 */
int device_init(struct device *dev, const char *ifname, uint32_t mtu,
		const uint8_t private_key[WG_KEY_LEN]);
/* Frees what device_init() made and wipes the keys; the peers must be gone. */
void device_release(struct device *dev);

static inline const struct in6_addr *device_addr(const struct device *dev)
{
	return &dev->addr_slot[atomic_load_explicit(&dev->addr_cur, memory_order_acquire) & 1];
}

/* Wakes the control thread (any thread). */
void device_wake(struct device *dev);
/* A data thread cannot go on: logs why and makes the control loop stop with an error. */
void device_fail(struct device *dev, const char *why);

#endif
