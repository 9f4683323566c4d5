/* SPDX-License-Identifier: ISC */
/*
 * Route selection (selection.c): for each origin, the best feasible route
 * the neighbours offer, and what a link's coming, going or changing cost
 * does to the routes through it. Below update.c and neighbour.c, which
 * call it when what they heard changes a route; it uses request.h (to ask
 * for a seqno when starving) and rt_state.h only.
 */
#ifndef ALAMESH_SELECTION_H
#define ALAMESH_SELECTION_H

#include "routing/rt_state.h"

/* True if a route advertised with (seqno, metric) may be selected: better than d's FD. */
bool rt_feasible(const struct rt_dest *d, uint16_t seqno, uint32_t metric);
/* Selects the route to o again, telling ops->route and the neighbours of a change. */
void rt_select_route(struct router *r, uint32_t o, uint64_t now);
/* Forgets every route n told us, reselecting where one was in use. */
void rt_drop_routes_of(struct router *r, uint16_t id, struct rt_nbr *n, uint64_t now);
/* n's cost changed from old_cost (up, down, or by more than noise). */
void rt_link_changed(struct router *r, uint16_t id, struct rt_nbr *n, uint32_t old_cost,
		     uint64_t now);

#endif
