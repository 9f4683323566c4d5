// SPDX-License-Identifier: ISC
/*
 * The router's origins and frames: origins that fail validation and
 * malformed frames change nothing; proxies, members leaving and late
 * origins on small networks driven by hand (router_harness.h); the frame
 * codec and the origin table on their own.
 */
#include "tests/unit/pure/router_harness.h"

static uint16_t seqno_at(struct net *net, int a, uint32_t origin)
{
	struct find_ctx c = {.origin = origin, .metric = RT_METRIC_INF};

	router_foreach_route(net->nodes[a].r, net->now, find_cb, &c);
	assert_int_not_equal(c.metric, RT_METRIC_INF);
	return c.seqno;
}

/* Another node's key announced with our address, and a key that is no origin: both dropped. */
static void test_origin_validation(void **state)
{
	struct net *net = net_new(2);
	uint8_t buf[RT_FRAME_MAX];
	struct rt_frame_builder b;
	struct rt_tlv t = {.type = RT_TLV_UPDATE};
	const char *why;

	(void)state;
	link_ab(net, 0, 1);
	run(net, 5 * NSEC_PER_SEC);
	struct router *r = net->nodes[0].r;
	uint16_t nbr = net->nodes[0].nbr_to[1];
	uint64_t rejected = router_stats(r)->rejected_updates;

	/* Node 1's address under a key that is no member. */
	rt_frame_begin(&b, buf);
	t.update.seqno = 7;
	t.update.metric = 0;
	t.update.address = net->origins.v[net->nodes[1].origin].addr;
	memset(t.update.origin, 0x77, WG_KEY_LEN);
	assert_true(rt_frame_add(&b, &t));
	/* A member key with another member's address. */
	memcpy(t.update.origin, net->origins.v[net->nodes[1].origin].key, WG_KEY_LEN);
	t.update.address = net->origins.v[net->nodes[0].origin].addr;
	assert_true(rt_frame_add(&b, &t));
	size_t len = rt_frame_end(&b);
	assert_int_equal(router_receive(r, nbr, buf, len, net->now, &why), 0);
	assert_int_equal(router_stats(r)->rejected_updates, rejected + 2);
	assert_int_equal(router_next_hop(r, net->nodes[0].origin), RT_NBR_LOCAL);
	net_free(net);
}

static void test_malformed_refused_whole(void **state)
{
	struct net *net = net_new(2);
	uint8_t buf[RT_FRAME_MAX];
	struct rt_frame_builder b;
	struct rt_tlv t = {.type = RT_TLV_UPDATE};
	const char *why = NULL;

	(void)state;
	link_ab(net, 0, 1);
	run(net, 5 * NSEC_PER_SEC);
	struct router *r = net->nodes[0].r;
	uint16_t nbr = net->nodes[0].nbr_to[1];
	/* A good retraction of node 1's route, then a record cut short. */
	rt_frame_begin(&b, buf);
	t.update.seqno = router_own_seqno(net->nodes[1].r);
	t.update.metric = RT_METRIC_INF;
	t.update.address = net->origins.v[net->nodes[1].origin].addr;
	memcpy(t.update.origin, net->origins.v[net->nodes[1].origin].key, WG_KEY_LEN);
	assert_true(rt_frame_add(&b, &t));
	size_t len = rt_frame_end(&b);
	buf[len++] = RT_TLV_HELLO;
	buf[len++] = 14;
	buf[3] = (uint8_t)(buf[3] + 2);
	assert_int_equal(router_receive(r, nbr, buf, len, net->now, &why), -1);
	assert_non_null(why);
	assert_int_equal(router_stats(r)->rx_malformed, 1);
	/* Nothing of it applied: the route to node 1 is still there. */
	assert_int_equal(router_next_hop(r, net->nodes[1].origin), nbr);
	net_free(net);
}

/* A stock peer that node 2 speaks for is reached by everyone, through node 2. */
static void test_proxy(void **state)
{
	struct net *net = net_new(4);

	(void)state;
	link_ab(net, 0, 1);
	link_ab(net, 1, 2);
	/* Node 3 is a phone on node 2: no router there, node 2 announces it. */
	run(net, 8 * NSEC_PER_SEC);
	router_proxy(net->nodes[2].r, net->nodes[3].origin, true, net->now);
	run(net, 12 * NSEC_PER_SEC);
	uint32_t phone = net->nodes[3].origin;
	assert_int_equal(router_next_hop(net->nodes[2].r, phone), RT_NBR_LOCAL);
	assert_int_equal(next_node(net, 0, 3), 1);
	assert_int_equal(next_node(net, 1, 3), 2);
	/* The phone leaves: the route is retracted everywhere. */
	router_proxy(net->nodes[2].r, phone, false, net->now);
	run(net, 16 * NSEC_PER_SEC);
	assert_int_equal(router_next_hop(net->nodes[0].r, phone), RT_NBR_NONE);
	assert_int_equal(router_next_hop(net->nodes[1].r, phone), RT_NBR_NONE);
	net_free(net);
}

/*
 * A phone with sessions to two members, both announcing it: each takes the
 * other's seqno when it is newer, but never goes past it, or the two would
 * outdo each other without end (frames and seqnos rising for ever).
 */
static void test_two_proxies(void **state)
{
	struct net *net = net_new(4);
	uint32_t phone = net->nodes[3].origin;

	(void)state;
	link_ab(net, 0, 1);
	link_ab(net, 1, 2);
	link_ab(net, 0, 2);
	run(net, 8 * NSEC_PER_SEC);
	router_proxy(net->nodes[0].r, phone, true, net->now);
	run(net, 10 * NSEC_PER_SEC);
	router_proxy(net->nodes[2].r, phone, true, net->now);
	run(net, 14 * NSEC_PER_SEC);
	uint16_t s0 = seqno_at(net, 1, phone);
	size_t sent = net->sent;
	run(net, 74 * NSEC_PER_SEC);
	uint16_t grew = (uint16_t)(seqno_at(net, 1, phone) - s0);
	/* Hellos and IHUs every 2 s and full tables every 30 s: about 2 frames/s per node. */
	double per_s = (double)(net->sent - sent) / 60;
	print_message("two proxies: the seqno rose by %u in 60 s, %.1f frames/s in all\n", grew,
		      per_s);
	assert_true(grew <= 2);
	assert_true(per_s < 4 * 4);
	int nh = next_node(net, 1, 3);
	assert_true(nh == 0 || nh == 2);
	/* The phone leaves node 0: node 1 still reaches it, through node 2. */
	router_proxy(net->nodes[0].r, phone, false, net->now);
	run(net, 80 * NSEC_PER_SEC);
	assert_int_equal(next_node(net, 1, 3), 2);
	assert_int_equal(next_node(net, 0, 3), 2);
	net_free(net);
}

/* A member leaves the registry: its routes go at once, and it cannot come back by update. */
static void test_forget_origin(void **state)
{
	struct net *net = net_new(3);
	uint8_t buf[RT_FRAME_MAX], key[WG_KEY_LEN];
	struct rt_frame_builder b;
	struct rt_tlv t = {.type = RT_TLV_UPDATE};
	const char *why;

	(void)state;
	link_ab(net, 0, 1);
	link_ab(net, 1, 2);
	run(net, 10 * NSEC_PER_SEC);
	uint32_t gone = net->nodes[2].origin;
	assert_int_not_equal(router_next_hop(net->nodes[0].r, gone), RT_NBR_NONE);
	memcpy(key, net->origins.v[gone].key, WG_KEY_LEN);
	struct in6_addr addr = net->origins.v[gone].addr;
	/* The shared table stands for every node's registry: the member is gone for all. */
	for (int i = 0; i < 3; i++)
		router_forget_origin(net->nodes[i].r, gone, net->now);
	assert_true(rt_origins_put(&net->origins, gone));
	assert_int_equal(net->nodes[0].nh[gone], RT_NBR_NONE);
	/* A node that has not synced yet still announces it: refused. */
	rt_frame_begin(&b, buf);
	t.update.seqno = 1000;
	t.update.metric = 0;
	t.update.address = addr;
	memcpy(t.update.origin, key, WG_KEY_LEN);
	assert_true(rt_frame_add(&b, &t));
	size_t len = rt_frame_end(&b);
	uint64_t rejected = router_stats(net->nodes[0].r)->rejected_updates;
	assert_int_equal(
	    router_receive(net->nodes[0].r, net->nodes[0].nbr_to[1], buf, len, net->now, &why), 0);
	assert_int_equal(router_stats(net->nodes[0].r)->rejected_updates, rejected + 1);
	run(net, 45 * NSEC_PER_SEC); /* past a full table from node 1 */
	for (int i = 0; i < 2; i++)
		assert_int_equal(router_next_hop(net->nodes[i].r, gone), RT_NBR_NONE);
	net_free(net);
}

/*
 * An origin that becomes valid later (a member the registry just added):
 * the neighbours' tables are asked for again, and its route comes at once
 * instead of with the next full table, 30 s later.
 */
static void test_late_origin(void **state)
{
	struct net *net = net_new(3);
	uint8_t key[WG_KEY_LEN];

	(void)state;
	link_ab(net, 0, 1);
	link_ab(net, 1, 2);
	run(net, 10 * NSEC_PER_SEC);
	uint32_t o = net->nodes[2].origin;
	memcpy(key, net->origins.v[o].key, WG_KEY_LEN);
	for (int i = 0; i < 2; i++)
		router_forget_origin(net->nodes[i].r, o, net->now);
	net->origins.v[o].refs = 1;
	assert_true(rt_origins_put(&net->origins, o));
	run(net, 12 * NSEC_PER_SEC); /* what node 2 says of itself now is refused */
	assert_int_equal(router_next_hop(net->nodes[0].r, o), RT_NBR_NONE);
	assert_int_equal(rt_origins_add(&net->origins, key), o); /* the freed id again */
	for (int i = 0; i < 2; i++)
		router_request_tables(net->nodes[i].r, net->now);
	run(net, 14 * NSEC_PER_SEC);
	assert_int_equal(next_node(net, 1, 2), 2);
	assert_int_equal(follow(net, 0, 2), 2);
	net_free(net);
}

static void test_frame_roundtrip(void **state)
{
	uint8_t buf[RT_FRAME_MAX];
	struct rt_frame_builder b;
	struct rt_tlv in[3] = {
	    {.type = RT_TLV_HELLO}, {.type = RT_TLV_IHU}, {.type = RT_TLV_SEQNO_REQ}};
	struct rt_tlv out;
	struct rt_frame_iter it;
	const char *why;

	(void)state;
	in[0].hello.seqno = 0xbeef;
	in[0].hello.interval_cs = 200;
	in[0].hello.timestamp = 0x01020304;
	in[0].hello.instance = 0xa5a5a5a5;
	in[1].ihu.rx_quality = 256;
	in[1].ihu.echo = 42;
	in[1].ihu.delay = 7;
	in[2].seqno_req.seqno = 9;
	in[2].seqno_req.hop_count = 300;
	memset(in[2].seqno_req.origin, 3, WG_KEY_LEN);
	rt_frame_begin(&b, buf);
	for (int i = 0; i < 3; i++)
		assert_true(rt_frame_add(&b, &in[i]));
	size_t len = rt_frame_end(&b);
	assert_int_equal(len, RT_FRAME_HDR_LEN + 16 + 14 + 54);
	assert_int_equal(buf[0], RT_FRAME_MAGIC);
	assert_int_not_equal(buf[0] >> 4, 4);
	assert_int_not_equal(buf[0] >> 4, 6);
	/* The tunnel pads with zeros: still the same frame. */
	memset(buf + len, 0, 12);
	assert_int_equal(rt_frame_check(buf, len + 12, &why), (int)len - RT_FRAME_HDR_LEN);
	rt_frame_iter_init(&it, buf);
	assert_true(rt_frame_next(&it, &out));
	assert_int_equal(out.hello.seqno, 0xbeef);
	assert_int_equal(out.hello.timestamp, 0x01020304);
	assert_int_equal(out.hello.instance, 0xa5a5a5a5);
	assert_true(rt_frame_next(&it, &out));
	assert_int_equal(out.ihu.rx_quality, 256);
	assert_int_equal(out.ihu.delay, 7);
	assert_true(rt_frame_next(&it, &out));
	assert_int_equal(out.type, RT_TLV_SEQNO_REQ);
	assert_int_equal(out.seqno_req.hop_count, 300);
	assert_memory_equal(out.seqno_req.origin, in[2].seqno_req.origin, WG_KEY_LEN);
	assert_false(rt_frame_next(&it, &out));
	/* A frame fills up at RT_FRAME_MAX. */
	rt_frame_begin(&b, buf);
	struct rt_tlv u = {.type = RT_TLV_UPDATE};
	int n = 0;
	while (rt_frame_add(&b, &u))
		n++;
	assert_int_equal(n, (RT_FRAME_MAX - RT_FRAME_HDR_LEN) / 60);
}

static void test_frame_rejects(void **state)
{
	const char *why;
	uint8_t f[64] = {RT_FRAME_MAGIC, 0, 0, 2, RT_TLV_ROUTE_REQ, 0};

	(void)state;
	assert_int_equal(rt_frame_check(f, 6, &why), 2);
	f[0] = 0x60; /* an IPv6 packet */
	assert_int_equal(rt_frame_check(f, 6, &why), -1);
	f[0] = RT_FRAME_MAGIC;
	f[3] = 40; /* longer than the datagram */
	assert_int_equal(rt_frame_check(f, 6, &why), -1);
	f[3] = 2;
	f[5] = 3; /* a route request must be empty */
	assert_int_equal(rt_frame_check(f, 64, &why), -1);
	f[5] = 0;
	f[3] = 4;
	f[6] = 99; /* an unknown record is skipped... */
	f[7] = 0;
	assert_int_equal(rt_frame_check(f, 8, &why), 4);
	f[7] = 5; /* ...unless it runs past the end */
	assert_int_equal(rt_frame_check(f, 8, &why), -1);
	f[3] = 1; /* half a record header */
	assert_int_equal(rt_frame_check(f, 8, &why), -1);
}

static void test_origins(void **state)
{
	struct rt_origins o;
	uint8_t seed[16] = {9}, k[WG_KEY_LEN];

	(void)state;
	assert_true(rt_origins_init(&o, seed));
	uint32_t ids[500];
	for (int i = 0; i < 500; i++) {
		memset(k, 0, sizeof(k));
		memcpy(k, &i, sizeof(i));
		ids[i] = rt_origins_add(&o, k);
		assert_int_not_equal(ids[i], RT_ORIGIN_NONE);
	}
	memset(k, 0, sizeof(k));
	assert_int_equal(rt_origins_add(&o, k), ids[0]); /* a second reference */
	assert_false(rt_origins_put(&o, ids[0]));
	assert_true(rt_origins_put(&o, ids[0]));
	assert_int_equal(rt_origins_find(&o, k), RT_ORIGIN_NONE);
	for (int i = 1; i < 500; i++) {
		memset(k, 0, sizeof(k));
		memcpy(k, &i, sizeof(i));
		assert_int_equal(rt_origins_find(&o, k), ids[i]);
		assert_int_equal(rt_origins_validate(&o, k, &o.v[ids[i]].addr), ids[i]);
		assert_int_equal(rt_origins_validate(&o, k, &o.v[ids[(i + 1) % 500]].addr),
				 RT_ORIGIN_NONE);
	}
	/* The freed id is reused. */
	memset(k, 0xee, sizeof(k));
	assert_int_equal(rt_origins_add(&o, k), ids[0]);
	rt_origins_free(&o);
}

/* The Seen record: what the daemon says of a neighbour's endpoint, and what it is told back. */
static struct in6_addr seen_told;
static uint16_t seen_told_port;
static int seen_calls, seen_sent;

static bool seen_endpoint_of(void *ctx, uint16_t nbr, struct in6_addr *addr, uint16_t *port)
{
	(void)ctx;
	(void)nbr;
	memset(addr, 0, sizeof(*addr));
	addr->s6_addr[10] = addr->s6_addr[11] = 0xff;
	addr->s6_addr[12] = 203;
	addr->s6_addr[15] = 7;
	*port = 40123;
	return true;
}

static void seen_cb(void *ctx, uint16_t nbr, const struct in6_addr *addr, uint16_t port)
{
	(void)ctx;
	(void)nbr;
	seen_told = *addr;
	seen_told_port = port;
	seen_calls++;
}

static void seen_send(void *ctx, uint16_t nbr, const uint8_t *frame, size_t len)
{
	struct rt_frame_iter it;
	struct rt_tlv t;
	const char *why;

	(void)ctx;
	(void)nbr;
	assert_true(rt_frame_check(frame, len, &why) >= 0);
	rt_frame_iter_init(&it, frame);
	while (rt_frame_next(&it, &t)) {
		if (t.type != RT_TLV_SEEN)
			continue;
		assert_int_equal(t.seen.port, 40123);
		assert_int_equal(t.seen.address.s6_addr[12], 203);
		assert_int_equal(t.seen.address.s6_addr[15], 7);
		seen_sent++;
	}
}

static void seen_route(void *ctx, uint32_t origin, uint16_t nbr)
{
	(void)ctx;
	(void)origin;
	(void)nbr;
}

static void test_seen_record(void **state)
{
	static const struct rt_ops seen_ops = {.send = seen_send,
					       .route = seen_route,
					       .endpoint_of = seen_endpoint_of,
					       .seen = seen_cb};
	uint8_t seed[16] = {4}, key[WG_KEY_LEN], buf[RT_FRAME_MAX];
	struct rt_origins o;
	struct rt_params p;
	struct rt_frame_builder b;
	const char *why;
	uint64_t now = 100 * NSEC_PER_SEC;

	(void)state;
	assert_true(rt_origins_init(&o, seed));
	memset(key, 1, sizeof(key));
	uint32_t self = rt_origins_add(&o, key);
	memset(key, 2, sizeof(key));
	uint32_t other = rt_origins_add(&o, key);
	rt_params_default(&p);
	struct router *r = router_new(&p, &seen_ops, NULL, &o, self, 1, now);
	assert_non_null(r);
	uint16_t nbr = router_add_neighbour(r, other, now);
	/* Each hello tells the neighbour where its datagrams come from. */
	router_tick(r, now + 3 * NSEC_PER_SEC);
	assert_true(seen_sent >= 1);

	struct rt_tlv t = {.type = RT_TLV_SEEN, .seen = {.port = 51820}};
	t.seen.address.s6_addr[0] = 0x20;
	t.seen.address.s6_addr[15] = 9;
	rt_frame_begin(&b, buf);
	assert_true(rt_frame_add(&b, &t));
	size_t len = rt_frame_end(&b);
	assert_int_equal(len, RT_FRAME_HDR_LEN + 20);
	assert_int_equal(router_receive(r, nbr, buf, len, now + 4 * NSEC_PER_SEC, &why), 0);
	assert_int_equal(seen_calls, 1);
	assert_int_equal(seen_told_port, 51820);
	assert_memory_equal(&seen_told, &t.seen.address, 16);
	/* A Seen record of the wrong length refuses the whole frame. */
	buf[RT_FRAME_HDR_LEN + 1] = 17;
	assert_int_equal(router_receive(r, nbr, buf, len, now + 5 * NSEC_PER_SEC, &why), -1);
	assert_int_equal(seen_calls, 1);
	router_free(r);
	rt_origins_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_frame_roundtrip),
	    cmocka_unit_test(test_frame_rejects),
	    cmocka_unit_test(test_seen_record),
	    cmocka_unit_test(test_origins),
	    cmocka_unit_test(test_origin_validation),
	    cmocka_unit_test(test_malformed_refused_whole),
	    cmocka_unit_test(test_proxy),
	    cmocka_unit_test(test_two_proxies),
	    cmocka_unit_test(test_forget_origin),
	    cmocka_unit_test(test_late_origin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
