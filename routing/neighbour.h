/* SPDX-License-Identifier: ISC */
/*
 * Neighbours (neighbour.c): hellos and IHUs, out and in, and the link cost
 * they measure. Called by router.c only; a change of cost goes down to
 * selection.h's rt_link_changed(), and nothing here is called back.
 */
#ifndef ALAMESH_NEIGHBOUR_H
#define ALAMESH_NEIGHBOUR_H

#include "routing/rt_state.h"

void rt_nbr_hello(struct router *r, uint16_t id, struct rt_nbr *n, const struct rt_tlv *t,
		  uint64_t now);
void rt_nbr_ihu(struct router *r, uint16_t id, struct rt_nbr *n, const struct rt_tlv *t,
		uint64_t now);
/* Hellos due, hellos missed, IHUs timed out. */
void rt_nbr_tick(struct router *r, uint16_t id, struct rt_nbr *n, uint64_t now);
/* When rt_nbr_tick() next has something to do for n. */
uint64_t rt_nbr_deadline(const struct rt_nbr *n);
/* Heard lately, and heard by it. */
bool rt_nbr_up(const struct rt_nbr *n);
/* The share (of 256) of the hello slots so far that were heard. */
uint16_t rt_nbr_rx_quality(const struct rt_nbr *n);

#endif
