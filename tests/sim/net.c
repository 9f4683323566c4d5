// SPDX-License-Identifier: ISC
/*
 * Nodes and links: the routers, the frames between them, their timers, and
 * the tunnels coming and going. A tunnel comes up as WireGuard's would: the
 * initiating end adds the neighbour a one-way delay after both ends run
 * (its handshake initiation has arrived and been answered), the responder
 * a one-way delay later (the first data has arrived).
 */
#include <stdlib.h>
#include <string.h>

#include "routing/frame.h"
#include "tests/sim/sim.h"

static uint8_t *pool_get(struct sim *s)
{
	if (s->npool)
		return s->pool[--s->npool];
	return malloc(RT_FRAME_MAX);
}

static void pool_put(struct sim *s, uint8_t *buf)
{
	if (s->npool == s->pool_cap) {
		size_t cap = s->pool_cap ? s->pool_cap * 2 : 1024;
		uint8_t **v = realloc(s->pool, cap * sizeof(*v));
		if (!v) {
			free(buf);
			return;
		}
		s->pool = v;
		s->pool_cap = cap;
	}
	s->pool[s->npool++] = buf;
}

static void push(struct sim *s, struct sim_event ev)
{
	if (!heap_push(&s->heap, ev))
		sim_fail(s, "out of memory for events");
}

/* The port of node x that the router calls nbr, or -1. */
static int port_of(const struct sim_node *x, uint16_t nbr)
{
	if (nbr >= x->nbr_cap || !x->nbr_port[nbr])
		return -1;
	return x->nbr_port[nbr] - 1;
}

static void on_send(void *ctx, uint16_t nbr, const uint8_t *frame, size_t len)
{
	struct sim_node *x = ctx;
	struct sim *s = x->sim;
	int port = port_of(x, nbr);

	if (port < 0) {
		sim_fail(s, "node %u sent a frame to neighbour id %u, which it does not have",
			 x->id, nbr);
		return;
	}
	if (!len || len > RT_FRAME_MAX) {
		sim_fail(s, "node %u sent a frame of %zu bytes", x->id, len);
		return;
	}
	s->tx_frames++;
	s->tx_bytes += len;
	uint32_t id = x->links[port];
	struct sim_link *l = &s->links[id];
	if (!l->up || (s->opt->loss > 0 && sim_rng_unit(&s->loss_rng) < s->opt->loss)) {
		s->dropped++;
		return;
	}
	uint8_t *copy = pool_get(s);
	if (!copy) {
		sim_fail(s, "out of memory for frames");
		return;
	}
	memcpy(copy, frame, len);
	push(s, (struct sim_event){.at = s->now + l->delay,
				   .kind = EV_DELIVER,
				   .end = (uint8_t)(1 - sim_end_of(l, x->id)),
				   .len = (uint16_t)len,
				   .a = id,
				   .gen = l->gen,
				   .data = copy});
}

static void on_route(void *ctx, uint32_t origin, uint16_t nbr)
{
	struct sim_node *x = ctx;
	struct sim *s = x->sim;
	uint16_t h = NH_NONE;

	if (origin >= s->n) {
		sim_fail(s, "node %u: route for origin %u, which is not in the table", x->id,
			 origin);
		return;
	}
	if (nbr == RT_NBR_LOCAL) {
		h = NH_LOCAL;
	} else if (nbr != RT_NBR_NONE) {
		int port = port_of(x, nbr);
		if (port < 0) {
			sim_fail(s,
				 "node %u: route to %u via neighbour id %u, which it does not have",
				 x->id, origin, nbr);
			return;
		}
		h = (uint16_t)(port + 1);
	}
	sim_set_route(s, x->id, origin, h);
}

static void on_rejected(void *ctx, uint16_t nbr, const uint8_t key[WG_KEY_LEN],
			const struct in6_addr *addr)
{
	struct sim_node *x = ctx;

	(void)key;
	(void)addr;
	sim_fail(x->sim, "node %u rejected an update from neighbour id %u: every origin is valid",
		 x->id, nbr);
}

/*
 * Makes sure the router runs at its deadline. After an input that is
 * router_deadline(), which may be now (a neighbour just added: the tick
 * runs right after this event); after a tick, what it returned, which
 * must be later than now or the router would spin.
 */
static void reschedule(struct sim *s, struct sim_node *x, bool ticked, uint64_t at)
{
	if (!ticked)
		at = router_deadline(x->r);
	if (at < s->now || (ticked && at == s->now)) {
		s->tick_spins++;
		at = s->now + (ticked ? 1 : 0);
	}
	if (at < x->wake) {
		x->wake = at;
		push(s, (struct sim_event){
			    .at = at, .kind = EV_TIMER, .a = x->id, .gen = x->incarnation});
	}
}

static void start_router(struct sim *s, struct sim_node *x)
{
	/* The node's wall clock at its start, as the daemon passes it: virtual time. */
	struct rt_params p = s->params;

	p.start_clock = (uint32_t)(s->now / NSEC_PER_SEC);
	x->incarnation++;
	x->wake = SIM_NEVER;
	x->r = router_new(&p, &s->ops, x, &s->origins, x->id,
			  sim_seed_of(s->opt->seed, x->id, x->incarnation), s->now);
	if (!x->r) {
		sim_fail(s, "router_new failed for node %u", x->id);
		return;
	}
	reschedule(s, x, false, 0);
}

void sim_verify_next_hops(struct sim *s)
{
	for (uint32_t u = 0; u < s->n && !s->failed; u++) {
		const struct sim_node *x = &s->nodes[u];
		for (uint32_t d = 0; x->r && d < s->n; d++) {
			uint16_t nbr = router_next_hop(x->r, d), h = NH_NONE;
			if (nbr == RT_NBR_LOCAL)
				h = NH_LOCAL;
			else if (nbr != RT_NBR_NONE)
				h = (uint16_t)(port_of(x, nbr) + 1); /* 0 (none) if unknown */
			if (h != s->nh[sim_pair(s, u, d)] && u != d) {
				sim_fail(s,
					 "node %u: router_next_hop(%u) is neighbour id %u, but "
					 "ops->route "
					 "said otherwise",
					 u, d, nbr);
				return;
			}
		}
	}
}

static bool map_neighbour(struct sim *s, struct sim_node *x, uint16_t nbr, uint16_t port)
{
	if (nbr >= x->nbr_cap) {
		uint32_t cap = x->nbr_cap ? x->nbr_cap : 8;
		while (cap <= nbr)
			cap *= 2;
		uint16_t *v = realloc(x->nbr_port, cap * sizeof(*v));
		if (!v) {
			sim_fail(s, "out of memory");
			return false;
		}
		memset(v + x->nbr_cap, 0, (cap - x->nbr_cap) * sizeof(*v));
		x->nbr_port = v;
		x->nbr_cap = cap;
	}
	if (x->nbr_port[nbr]) {
		sim_fail(s, "node %u: router_add_neighbour returned id %u, which is in use", x->id,
			 nbr);
		return false;
	}
	x->nbr_port[nbr] = (uint16_t)(port + 1);
	return true;
}

static void add_end(struct sim *s, uint32_t id, int e)
{
	struct sim_link *l = &s->links[id];
	struct sim_node *x = &s->nodes[l->end[e]];

	if (!x->r || l->nbr[e] != RT_NBR_NONE)
		return;
	uint16_t nbr = router_add_neighbour(x->r, l->end[1 - e], s->now);
	if (nbr == RT_NBR_NONE) {
		sim_fail(s, "node %u: router_add_neighbour failed", x->id);
		return;
	}
	if (!map_neighbour(s, x, nbr, l->port[e]))
		return;
	l->nbr[e] = nbr;
	sim_trace(s, "node %u adds neighbour %u (id %u)", x->id, l->end[1 - e], nbr);
	sim_update_working(s, id);
	reschedule(s, x, false, 0);
}

static void remove_end(struct sim *s, uint32_t id, int e)
{
	struct sim_link *l = &s->links[id];
	struct sim_node *x = &s->nodes[l->end[e]];
	uint16_t nbr = l->nbr[e];

	if (!x->r || nbr == RT_NBR_NONE)
		return;
	l->nbr[e] = RT_NBR_NONE;
	sim_trace(s, "node %u removes neighbour %u", x->id, l->end[1 - e]);
	sim_update_working(s, id); /* before: its routes are broken until the router moves them */
	router_remove_neighbour(x->r, nbr, s->now);
	x->nbr_port[nbr] = 0;
	if (l->usage[e])
		sim_fail(s, "node %u kept %u routes through neighbour %u after removing it", x->id,
			 l->usage[e], l->end[1 - e]);
	reschedule(s, x, false, 0);
}

static void deliver(struct sim *s, const struct sim_event *ev)
{
	struct sim_link *l = &s->links[ev->a];
	struct sim_node *x = &s->nodes[l->end[ev->end]];
	uint16_t nbr = l->nbr[ev->end];
	const char *why = NULL;

	if (ev->gen != l->gen || !x->r || nbr == RT_NBR_NONE) {
		s->dropped++;
		return;
	}
	if (router_receive(x->r, nbr, ev->data, ev->len, s->now, &why) < 0) {
		sim_fail(s, "node %u refused a frame of %u bytes from node %u: %s", x->id, ev->len,
			 l->end[1 - ev->end], why ? why : "?");
		return;
	}
	reschedule(s, x, false, 0);
}

/* The tunnel of link id is up at end e: e adds its neighbour now, the other end later. */
static void link_up(struct sim *s, uint32_t id, int e)
{
	struct sim_link *l = &s->links[id];

	add_end(s, id, e);
	s->pending++;
	push(s, (struct sim_event){.at = s->now + l->delay,
				   .kind = EV_ADD,
				   .end = (uint8_t)(1 - e),
				   .a = id,
				   .gen = l->gen});
}

static void schedule_link_up(struct sim *s, uint32_t id, int initiator)
{
	struct sim_link *l = &s->links[id];

	s->pending++;
	push(s, (struct sim_event){.at = s->now + l->delay,
				   .kind = EV_LINKUP,
				   .end = (uint8_t)initiator,
				   .a = id,
				   .gen = l->gen});
}

static void node_start(struct sim *s, struct sim_node *x)
{
	start_router(s, x);
	for (uint16_t p = 0; p < x->nports && !s->failed; p++) {
		uint32_t id = x->links[p];
		if (s->nodes[sim_peer(s, x->id, p)].r)
			schedule_link_up(s, id, sim_end_of(&s->links[id], x->id));
	}
}

static void dispatch(struct sim *s, struct sim_event *ev)
{
	struct sim_link *l = &s->links[ev->a];
	struct sim_node *x;

	switch ((enum sim_ev_kind)ev->kind) {
	case EV_DELIVER:
		deliver(s, ev);
		pool_put(s, ev->data);
		break;
	case EV_TIMER:
		x = &s->nodes[ev->a];
		if (!x->r || ev->gen != x->incarnation || ev->at != x->wake)
			break; /* superseded */
		x->wake = SIM_NEVER;
		reschedule(s, x, true, router_tick(x->r, s->now));
		break;
	case EV_START:
		s->pending--;
		node_start(s, &s->nodes[ev->a]);
		break;
	case EV_LINKUP:
		s->pending--;
		if (ev->gen == l->gen && l->up)
			link_up(s, ev->a, ev->end);
		break;
	case EV_ADD:
		s->pending--;
		if (ev->gen == l->gen && l->up)
			add_end(s, ev->a, ev->end);
		break;
	case EV_DEAD:
		if (ev->gen == l->gen)
			remove_end(s, ev->a, ev->end);
		break;
	}
}

bool sim_step(struct sim *s)
{
	struct sim_event ev;

	if (s->failed || !heap_pop(&s->heap, &ev))
		return false;
	s->now = ev.at;
	s->events++;
	dispatch(s, &ev);
	sim_after_event(s, true);
	if (s->opt->verbose && s->now >= s->next_progress) {
		fprintf(stderr,
			"alamesh-sim: t=%.0fs events=%llu route_changes=%llu missing=%llu "
			"broken=%llu stale=%llu pending=%u\n",
			(double)s->now / SIM_NSEC, (unsigned long long)s->events,
			(unsigned long long)s->route_changes, (unsigned long long)s->missing,
			(unsigned long long)s->broken, (unsigned long long)s->stale, s->pending);
		s->next_progress = s->now + 10 * SIM_NSEC;
	}
	return !s->failed;
}

void sim_run_until(struct sim *s, uint64_t t)
{
	while (!s->failed && heap_next_at(&s->heap) <= t)
		sim_step(s);
	if (!s->failed && s->now < t)
		s->now = t;
}

bool sim_run_until_converged(struct sim *s, uint64_t deadline)
{
	while (!s->failed && !s->converged && heap_next_at(&s->heap) <= deadline)
		sim_step(s);
	if (!s->failed && !s->converged && s->now < deadline)
		s->now = deadline;
	return s->converged && !s->failed;
}

void sim_cold_start(struct sim *s, struct sim_rng *rng, uint64_t spread)
{
	for (uint32_t u = 0; u < s->n; u++) {
		s->pending++;
		push(s, (struct sim_event){
			    .at = s->now + sim_rng_below(rng, spread), .kind = EV_START, .a = u});
	}
	sim_after_event(s, false);
}

/* The link stops (or starts) carrying frames; those in flight are lost. */
static void set_up(struct sim *s, uint32_t id, bool up)
{
	sim_trace(s, "link %u-%u %s", s->links[id].end[0], s->links[id].end[1],
		  up ? "carries frames" : "stops carrying frames");
	s->links[id].up = up;
	s->links[id].gen++;
	sim_update_working(s, id);
}

void sim_link_fail(struct sim *s, uint32_t id, bool declared)
{
	set_up(s, id, false);
	if (declared) {
		remove_end(s, id, 0);
		remove_end(s, id, 1);
	}
	sim_after_event(s, false);
}

void sim_link_recover(struct sim *s, uint32_t id, bool declared, struct sim_rng *rng)
{
	set_up(s, id, true);
	if (declared)
		schedule_link_up(s, id, (int)sim_rng_below(rng, 2));
	sim_after_event(s, false);
}

void sim_node_down(struct sim *s, uint32_t u, bool declare, struct sim_rng *rng)
{
	struct sim_node *x = &s->nodes[u];

	if (!x->r)
		return;
	sim_trace(s, "node %u goes down", u);
	router_free(x->r);
	x->r = NULL;
	for (uint32_t d = 0; d < s->n; d++)
		sim_set_route(s, u, d, NH_NONE);
	for (uint16_t p = 0; p < x->nports; p++) {
		uint32_t id = x->links[p];
		struct sim_link *l = &s->links[id];
		l->nbr[sim_end_of(l, u)] = RT_NBR_NONE;
		set_up(s, id, false);
		if (declare)
			push(s, (struct sim_event){
				    .at = s->now + sim_rng_range(rng, 5 * SIM_NSEC, 30 * SIM_NSEC),
				    .kind = EV_DEAD,
				    .end = (uint8_t)(1 - sim_end_of(l, u)),
				    .a = id,
				    .gen = l->gen});
	}
	memset(x->nbr_port, 0, x->nbr_cap * sizeof(*x->nbr_port));
	sim_after_event(s, false);
}

void sim_node_up(struct sim *s, uint32_t u)
{
	struct sim_node *x = &s->nodes[u];

	sim_trace(s, "node %u comes back", u);
	start_router(s, x);
	for (uint16_t p = 0; p < x->nports && !s->failed; p++) {
		uint32_t id = x->links[p];
		set_up(s, id, true);
		schedule_link_up(s, id, sim_end_of(&s->links[id], u));
	}
	sim_after_event(s, false);
}

static bool build(struct sim *s, const struct sim_topo *t)
{
	s->n = t->n;
	s->nlinks = (uint32_t)t->nedges;
	s->nodes = calloc(s->n, sizeof(*s->nodes));
	s->links = calloc(s->nlinks, sizeof(*s->links));
	if (!s->nodes || !s->links)
		return false;
	for (uint32_t i = 0; i < s->nlinks; i++) {
		struct sim_link *l = &s->links[i];
		l->end[0] = t->e[i].a;
		l->end[1] = t->e[i].b;
		l->delay = t->e[i].delay;
		l->nbr[0] = l->nbr[1] = RT_NBR_NONE;
		l->up = true;
		s->nodes[l->end[0]].nports++;
		s->nodes[l->end[1]].nports++;
	}
	for (uint32_t u = 0; u < s->n; u++) {
		struct sim_node *x = &s->nodes[u];
		x->sim = s;
		x->id = u;
		x->wake = SIM_NEVER;
		x->links = calloc(x->nports ? x->nports : 1, sizeof(*x->links));
		if (!x->links)
			return false;
		x->nports = 0;
	}
	for (uint32_t i = 0; i < s->nlinks; i++)
		for (int e = 0; e < 2; e++) {
			struct sim_node *x = &s->nodes[s->links[i].end[e]];
			s->links[i].port[e] = x->nports;
			x->links[x->nports++] = i;
		}
	s->adj_off = malloc((s->n + 1) * sizeof(*s->adj_off));
	s->adj_peer = malloc((2 * (size_t)s->nlinks + 1) * sizeof(*s->adj_peer));
	if (!s->adj_off || !s->adj_peer)
		return false;
	s->adj_off[0] = 0;
	for (uint32_t u = 0; u < s->n; u++) {
		s->adj_off[u + 1] = s->adj_off[u] + s->nodes[u].nports;
		for (uint16_t p = 0; p < s->nodes[u].nports; p++) {
			const struct sim_link *l = &s->links[s->nodes[u].links[p]];
			s->adj_peer[s->adj_off[u] + p] = l->end[0] == u ? l->end[1] : l->end[0];
		}
	}
	return true;
}

bool sim_init(struct sim *s, const struct sim_opts *opt, const struct sim_topo *t)
{
	struct sim_rng keys;
	uint8_t seed[16], key[WG_KEY_LEN];

	memset(s, 0, sizeof(*s));
	s->opt = opt;
	heap_init(&s->heap);
	sim_rng_seed(&s->loss_rng, sim_seed_of(opt->seed, 2, 0));
	sim_rng_seed(&keys, sim_seed_of(opt->seed, 4, 0));
	rt_params_default(&s->params);
	s->ops = (struct rt_ops){.send = on_send, .route = on_route, .rejected = on_rejected};
	if (t->n > SIM_MAX_NODES || !build(s, t) || !sim_routes_init(s))
		return false;
	for (size_t i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)sim_rng_next(&keys);
	if (!rt_origins_init(&s->origins, seed))
		return false;
	/* The registry: one random key per node, whose origin id is the node's id. */
	for (uint32_t u = 0; u < s->n; u++) {
		for (size_t i = 0; i < sizeof(key); i += 8) {
			uint64_t r = sim_rng_next(&keys);
			memcpy(key + i, &r, 8);
		}
		if (rt_origins_add(&s->origins, key) != u)
			return false;
	}
	return true;
}

void sim_destroy(struct sim *s)
{
	struct sim_event ev;

	while (heap_pop(&s->heap, &ev))
		if (ev.kind == EV_DELIVER)
			free(ev.data);
	heap_free(&s->heap);
	for (uint32_t u = 0; s->nodes && u < s->n; u++) {
		if (s->nodes[u].r)
			router_free(s->nodes[u].r);
		free(s->nodes[u].links);
		free(s->nodes[u].nbr_port);
	}
	for (size_t i = 0; i < s->npool; i++)
		free(s->pool[i]);
	free(s->pool);
	free(s->nodes);
	free(s->links);
	free(s->adj_off);
	free(s->adj_peer);
	sim_routes_free(s);
	rt_origins_free(&s->origins);
}
