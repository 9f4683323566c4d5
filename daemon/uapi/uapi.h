/* SPDX-License-Identifier: ISC */
/*
 * The control socket: WireGuard's cross-platform userspace API
 * (https://www.wireguard.com/xplatform/) on /var/run/wireguard/<ifname>.sock,
 * so that the real wg(8) and alamesh(8) administer alameshd alike.
 *
 * A request is "get=1\n\n" or "set=1\n" followed by key=value lines and an
 * empty line; the answer ends with "errno=N\n\n". A set request is parsed
 * and checked whole (uapi_set.c) before anything is applied
 * (uapi_apply.c), so one bad line changes nothing.
 */
#ifndef ALAMESH_UAPI_H
#define ALAMESH_UAPI_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wgproto/constants.h"

#define UAPI_DIR	  "/var/run/wireguard"
#define UAPI_MAX_PEERS	  65536		       /* peers named in one set request */
#define UAPI_MAX_CONNS	  16		       /* clients served at once */
#define UAPI_CONN_TIMEOUT (5 * NSEC_PER_SEC)   /* to send a request or read an answer */
#define UAPI_SYNC_TIMEOUT (300 * NSEC_PER_SEC) /* alamesh sync waits that long at most */
#define UAPI_ERRMSG_LEN	  256

/*
 * The bytes one peer takes in a set request at most, as wg setconf sends
 * it: public_key= (76), preshared_key= (79), the longest endpoint= (a
 * scoped IPv6 with a port, 79), persistent_keepalive_interval= (36),
 * replace_allowed_ips, update_only, remove and protocol_version (73), and
 * its allowed_ip= (55): under 400. The bytes buffered for one request
 * follow from it, plus room for the interface's own lines, so that a
 * setconf of UAPI_MAX_PEERS peers fits. A client's buffer grows only as its
 * bytes arrive (and it has UAPI_CONN_TIMEOUT to send them); only root may
 * connect.
 */
#define UAPI_PEER_REQUEST_MAX 512
#define UAPI_MAX_REQUEST      (UAPI_MAX_PEERS * UAPI_PEER_REQUEST_MAX + 4096)

struct device;

/* One public_key= block of a set request, after validation. */
struct uapi_peer {
	uint8_t public_key[WG_KEY_LEN];
	bool remove, update_only;
	bool has_psk;
	uint8_t psk[WG_KEY_LEN]; /* all zero = none */
	bool has_endpoint;
	struct sockaddr_in6 endpoint;
	bool has_keepalive;
	uint16_t keepalive;
	int line; /* of its public_key=, for messages */
};

struct uapi_set {
	bool has_private_key;
	uint8_t private_key[WG_KEY_LEN];
	bool has_listen_port;
	uint16_t listen_port;
	bool has_fwmark;
	uint32_t fwmark;
	bool replace_peers;
	struct uapi_peer *peers;
	size_t npeers, peers_cap;
};

/*
 * Parses the key=value lines of a set request (after "set=1", without the
 * final empty line). Returns 0, or a negative errno with a message naming
 * the line in err. Keys and pre-shared keys in *set are wiped by
 * uapi_set_free(), which must be called either way.
 */
int uapi_set_parse(struct uapi_set *set, const char *body, size_t len, char *err, size_t errlen);
void uapi_set_free(struct uapi_set *set);

/* Applies a parsed request to the running device: all of it, or nothing and a negative errno. */
int uapi_apply(struct device *dev, const struct uapi_set *set, char *err, size_t errlen);

/*
 * Writes the answer to get=1 into a malloc'd buffer (*out, *outlen). Returns
 * 0 or -ENOMEM.
 */
int uapi_get(struct device *dev, char **out, size_t *outlen);

/* The listening socket and its clients, served from the control loop. */
struct uapi_conn;
struct uapi_server {
	int fd;
	int epoll_fd;
	char path[108]; /* sun_path */
	struct device *dev;
	struct uapi_conn *conns[UAPI_MAX_CONNS];
};

/*
 * Binds UAPI_DIR/<ifname>.sock (mode 0600), replacing a stale socket left by
 * a crash; fails with -EADDRINUSE when a daemon answers on it already.
 * Call before the interface is created, so a second daemon changes nothing.
 */
int uapi_listen(struct uapi_server *srv, const char *ifname);
/* Registers the listening socket with the control loop's epoll. */
int uapi_attach(struct uapi_server *srv, int epoll_fd, struct device *dev);
/* Handles an epoll event; returns false if fd is not one of the server's. */
bool uapi_event(struct uapi_server *srv, int fd, uint32_t events);
/*
 * A registry sync finished: answers every client waiting in sync=1 whose
 * request it answers (gen, from registry_sync_collect()).
 */
void uapi_sync_done(struct uapi_server *srv, const char *summary, bool ok, uint64_t gen);
/* Drops clients that overran UAPI_CONN_TIMEOUT. */
void uapi_tick(struct uapi_server *srv, uint64_t now);
/* Closes every client and the socket, and removes the socket file. */
void uapi_close(struct uapi_server *srv);

#endif
