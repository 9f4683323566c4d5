/* SPDX-License-Identifier: ISC */
/*
 * The mesh, on the control thread: the router (routing/router.h) wired to
 * the device. Its neighbours are the peers whose sessions speak routing;
 * its frames travel inside their tunnels; the next hops it chooses are
 * written into the data path's route table. Peers that turn out to be
 * stock WireGuard (no routing frame comes back) are announced by us, so
 * the rest of the mesh reaches them through this node. Which members to
 * dial is chosen by peers-repo-sync/peering.h; the dialling is done here.
 */
#ifndef ALAMESH_MESH_H
#define ALAMESH_MESH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wgproto/constants.h"

struct device;
struct peer;

/* A peer left unheard this long after its session came up is taken for stock WireGuard. */
#define MESH_STOCK_PROBE (5 * NSEC_PER_SEC)
/* Dialling a member that does not answer backs off from this... */
#define MESH_DIAL_MIN (15 * NSEC_PER_SEC)
/* ...to this. */
#define MESH_DIAL_MAX	       (300 * NSEC_PER_SEC)
#define MESH_DEFAULT_MAX_PEERS 64

/*
 * The origin table with our own key, and the router; before any peer is
 * added. It sets the device's peer hooks, so that origin references and
 * neighbours follow the peers as they come and go.
 */
int mesh_init(struct device *dev);
void mesh_free(struct device *dev);

/* The private key changed (uapi/apply.c): a new origin for ourselves. */
void mesh_self_changed(struct device *dev);

/* Control thread, on every wake and tick: frames from the receive thread, timers, sessions. */
void mesh_process_queue(struct device *dev);
void mesh_tick(struct device *dev, uint64_t now);

/* The registry changed (control/registry.c): choose again which members this node dials. */
void mesh_choose_peers(struct device *dev);

/* The answer to get=routes: key=value lines (malloc'd). */
int mesh_describe_routes(struct device *dev, char **out, size_t *len);

#endif
