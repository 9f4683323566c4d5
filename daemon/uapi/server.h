/* SPDX-License-Identifier: ISC */
/*
 * The control socket's server: the listening socket and its clients, served
 * from the control loop; requests go to set/apply, get, and the alamesh
 * extensions (routes, members, registry, sync).
 */
#ifndef ALAMESH_UAPI_SERVER_H
#define ALAMESH_UAPI_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/uapi/uapi.h"

struct device;

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
