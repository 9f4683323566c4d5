/* SPDX-License-Identifier: ISC */
/*
 * The running interface: identity, peers, the TUN and UDP descriptors and
 * the three threads that share them. The control thread (the epoll loop in
 * alameshd.c) owns handshakes, timers and configuration; the transmit thread
 * moves TUN -> UDP, the receive thread UDP -> TUN, each in batches and each
 * doing its own crypto, so neither waits on the other or on the control loop.
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

#define PEER_STAGED_MAX 128 /* packets held per peer while a handshake runs */
#define STAGE_POOL_SIZE 1024
#define HS_QUEUE_SIZE	256		    /* handshake messages waiting for the control thread */
#define HS_UNDER_LOAD	(HS_QUEUE_SIZE / 8) /* queue depth that demands cookies */
#define RL_MAX_SOURCES	4096		    /* sources rate limited at once under load */
#define HS_LOAD_HOLD	(1 * NSEC_PER_SEC)  /* how long a deep queue counts as load */
#define RT_QUEUE_SIZE	1024		    /* routing frames waiting for the control thread */
#define PACKET_BUF_SIZE                                                                            \
	(sizeof(struct wg_msg_data) + ALAMESH_MAX_MTU + WG_PADDING_MULTIPLE + WG_AEAD_TAG_LEN)

struct stage_buf {
	struct stage_buf *next;
	uint32_t len;
	uint8_t data[ALAMESH_MAX_MTU];
};

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

	/* The mesh (mesh.c, control thread unless marked). */
	uint32_t origin;       /* our reference on its key in dev->origins */
	uint16_t nbr;	       /* its id in dev->router, RT_NBR_NONE if not a neighbour */
	bool stock;	       /* this session speaks no routing: a stock WireGuard peer */
	bool proxied;	       /* we announce its address for it */
	bool held_back;	       /* a member with no direct route to it (mesh.c update_hold) */
	bool spoke_routing;    /* a hello has come from it, in this session or an earlier one */
	atomic_bool is_router; /* read by the receive thread: may relay others' packets */
	bool dial, dial_was;   /* chosen by the peering policy: we keep a session to it */
	uint64_t next_dial, dial_backoff;
};

/* A routing frame from a peer, for the control thread (mesh.c). */
struct rt_item {
	uint8_t key[WG_KEY_LEN]; /* the sender's public key: the peer may be gone by then */
	uint32_t len;
	uint8_t data[RT_FRAME_MAX + WG_PADDING_MULTIPLE];
};

struct hs_item {
	struct sockaddr_in6 src;
	bool under_load; /* queued under load: answer a missing mac2 with a cookie */
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
	struct wg_cookie_checker cookie_checker;
	struct wg_index_table index;
	struct route_table routes;
	struct qsbr qsbr;

	struct peer **peers; /* control thread only */
	size_t npeers, peers_cap;
	struct peer **keymap; /* the same peers by public key (device.c) */
	size_t keymap_size;

	/* Handshake messages from the receive thread (single producer/consumer ring). */
	struct wg_ratelimiter ratelimiter; /* receive thread: handshakes per source under load */
	uint64_t rx_last_deep;		   /* receive thread: when it last saw the queue deep */
	struct hs_item hs_queue[HS_QUEUE_SIZE];
	_Atomic uint32_t hs_head, hs_tail;

	/* Packets staged until a session exists (pool, under stage_lock). */
	pthread_mutex_t stage_lock;
	struct stage_buf *stage_pool, *stage_free;

	/* ICMPv6 errors are rate limited (token bucket, tx thread only). */
	uint64_t icmp_tokens_ns;

	pthread_t tx_thread, rx_thread;
	bool threads_running;

	struct registry_sync *sync; /* NULL without a [Registry] */

	/* The mesh: origins, the router and the frames it is sent (mesh.c). */
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

int device_up(struct device *dev, const char *ifname, uint32_t mtu, uint16_t port,
	      const uint8_t private_key[WG_KEY_LEN]);
int device_start(struct device *dev);
void device_down(struct device *dev);
struct peer *device_add_peer(struct device *dev, const uint8_t public_key[WG_KEY_LEN],
			     const uint8_t *psk, const struct sockaddr_in6 *endpoint,
			     uint16_t persistent_keepalive);
void device_remove_peer(struct device *dev, struct peer *p);
/*
 * The parts of adding and removing, for a change that must apply whole
 * (uapi_apply.c): a peer made but not yet linked anywhere, room in the
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
void device_wake(struct device *dev);

static inline const struct in6_addr *device_addr(const struct device *dev)
{
	return &dev->addr_slot[atomic_load_explicit(&dev->addr_cur, memory_order_acquire) & 1];
}

/* A data thread cannot go on: logs why and makes the control loop stop with an error. */
void device_fail(struct device *dev, const char *why);

/*
 * Call with p->lock held after any change to p->timers: the control loop
 * reads the cached deadline without the lock to skip idle peers.
 */
static inline void peer_timers_changed(struct peer *p)
{
	atomic_store_explicit(&p->next_deadline, wg_timers_next_deadline(&p->timers),
			      memory_order_relaxed);
}

/* Monotonic and wall clocks in nanoseconds: the only clock reads of the daemon. */
uint64_t now_mono(void);
uint64_t now_wall(void);
uint64_t random_jitter(void);

/* send.c */
void *tx_thread_main(void *arg);
/*
 * Takes the current keypair and n counters for a run of packets to p (call
 * with p->lock held), and records the send with the timers. Returns the
 * keypair with a reference, or NULL when there is no usable session (the
 * caller stages the packets). Any thread may send to any peer this way.
 */
struct wg_keypair *peer_begin_send(struct peer *p, uint64_t now, uint32_t n, bool data,
				   uint64_t *first, struct sockaddr_in6 *dst);
/* Asks the control thread for a handshake with p, waking it once. */
void peer_want_handshake(struct peer *p);
void send_keepalive(struct peer *p, uint64_t now);
/* Sends what waited for a session; with keepalive_if_none, a keepalive if nothing did. */
void send_staged(struct peer *p, uint64_t now, bool keepalive_if_none);
int send_datagram(struct device *dev, const struct sockaddr_in6 *dst, const void *buf, size_t len);
bool stage_packet(struct device *dev, struct peer *p, const uint8_t *pkt, uint32_t len);
void stage_drop_all(struct device *dev, struct peer *p);

/* receive.c */
void *rx_thread_main(void *arg);

/* send.c: a payload that is not an IP packet (a routing frame) through p's tunnel. */
bool send_payload(struct peer *p, const uint8_t *buf, size_t len, uint64_t now);

/* handshake.c (control thread) */
void handshake_process_queue(struct device *dev);
void handshake_send_initiation(struct peer *p, bool is_retry);
void peer_tick(struct peer *p, uint64_t now);
void peer_clear_keys(struct peer *p);

/*
 * icmp6.c: the ICMPv6 error of type and code (RFC 4443) about the packet pkt
 * (len bytes, possibly with padding after it), from `from` back to pkt's
 * source, built into out (cap bytes, not overlapping pkt); param fills the
 * 32 bits after the checksum (the MTU of a Packet Too Big, else 0). Returns
 * its length, or 0 when no error is due: pkt is malformed, is itself an
 * ICMPv6 error, comes from an unspecified or multicast source or went to a
 * multicast group (RFC 4443 2.4(e)); or out is too small.
 */
size_t icmp6_error(uint8_t *out, size_t cap, const uint8_t *pkt, size_t len,
		   const struct in6_addr *from, uint8_t type, uint8_t code, uint32_t param);
/* Destination Unreachable with code (0: no route to destination). */
size_t icmp6_unreachable(uint8_t *out, size_t cap, const uint8_t *pkt, size_t len,
			 const struct in6_addr *from, uint8_t code);
/* Time Exceeded, code 0: the hop limit ran out in transit (RFC 4443 3.3). */
size_t icmp6_time_exceeded(uint8_t *out, size_t cap, const uint8_t *pkt, size_t len,
			   const struct in6_addr *from);
/* Packet Too Big: the next link takes at most mtu bytes (RFC 4443 3.2). */
size_t icmp6_too_big(uint8_t *out, size_t cap, const uint8_t *pkt, size_t len,
		     const struct in6_addr *from, uint32_t mtu);
/*
 * The rate limit of ICMPv6 errors (RFC 4443 2.4(f)), a token bucket kept as
 * a time in *tokens_ns (start it at 0; one per thread, no lock): true if an
 * error may go at now, which it then pays for.
 */
bool icmp6_rate_allow(uint64_t *tokens_ns, uint64_t now);

#endif
