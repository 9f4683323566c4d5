/* SPDX-License-Identifier: ISC */
/*
 * The control socket: WireGuard's cross-platform userspace API
 * (https://www.wireguard.com/xplatform/) on /var/run/wireguard/<ifname>.sock,
 * so that the real wg(8) and alamesh(8) administer alameshd alike.
 *
 * A request is "get=1\n\n" or "set=1\n" followed by key=value lines and an
 * empty line; the answer ends with "errno=N\n\n". A set request is parsed
 * and checked whole (set.c) before anything is applied (apply.c), so one
 * bad line changes nothing. This header holds the protocol's constants and
 * limits; each file of uapi/ has its own header for what it offers.
 */
#ifndef ALAMESH_UAPI_H
#define ALAMESH_UAPI_H

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

#endif
