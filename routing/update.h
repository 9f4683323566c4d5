/* SPDX-License-Identifier: ISC */
/*
 * Updates (update.c): the triggered ones rt_trigger() queued, whole tables,
 * and those that come in; and the expiry of routes not refreshed. Called
 * by router.c only; it uses selection.h, request.h and rt_state.h.
 */
#ifndef ALAMESH_UPDATE_H
#define ALAMESH_UPDATE_H

#include "routing/rt_state.h"

/* Sends what rt_trigger() queued, and queues the urgent ones for repeating. */
void rt_flush(struct router *r, uint64_t now);
/* The urgent updates due for a repeat go out again. */
void rt_repeat_urgent(struct router *r, uint64_t now);
/* The whole table to one neighbour. */
void rt_dump(struct router *r, uint16_t id, struct rt_nbr *n, uint64_t now);
void rt_on_update(struct router *r, uint16_t id, struct rt_nbr *n, const struct rt_tlv *t,
		  uint64_t now);
/* Neighbour id asked for our table: it gets one soon. */
void rt_on_route_request(struct router *r, uint16_t id, struct rt_nbr *n, uint64_t now);
/* Routes not refreshed for 3.5 update intervals are gone; so are FDs of long-dead routes. */
void rt_sweep(struct router *r, uint64_t now);

#endif
