/* SPDX-License-Identifier: ISC */
/*
 * Talking to a daemon over its control socket, /var/run/wireguard/<if>.sock:
 * alameshd, or any WireGuard userspace implementation, since the protocol
 * is WireGuard's own.
 */
#ifndef ALAMESH_CLI_IPC_H
#define ALAMESH_CLI_IPC_H

#include <stddef.h>

#include "daemon/cli/uapi_reply.h"

/* How long to wait for an answer (alamesh sync waits for a whole fetch). */
extern int ipc_timeout_ms;
/*
 * Sends req and reads the answer up to its final empty line into a
 * malloc'd buffer. Returns 0, or -1 after printing why (naming the socket).
 */
int ipc_request(const char *ifname, const char *req, size_t len, char **reply, size_t *rlen);
/* get=1 into dev (freed with uapi_device_info_free); 0, or -1 after a message. */
int ipc_get(const char *ifname, struct uapi_device_info *dev);
/* set=1 with body; returns the daemon's errno (0 = applied), or -1 after a message. */
int ipc_set(const char *ifname, const char *body, size_t len);
/*
 * The interfaces with a control socket, in directory order as wg lists them;
 * *names is malloc'd. Returns how many. As with wg, a socket that refuses a
 * connection (its daemon is gone) is left out and removed, and a file
 * that is not a socket is left out.
 */
size_t ipc_list(char (**names)[16]);

#endif
