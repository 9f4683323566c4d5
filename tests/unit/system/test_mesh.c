/* SPDX-License-Identifier: ISC */
/*
 * control/mesh.c on the fake device (tests/unit/fake_device.h): what
 * mesh_init() wires into the device and mesh_free() takes out again; the
 * peer hooks giving each peer an origin and a route to its address, and
 * taking both away with the peer; a new self origin when the private key
 * changes; the get=routes answer; and frames from the receive queue that
 * must not make anyone a router. The peering policy (mesh_choose_peers)
 * is not covered here. No threads, no sessions, no timing assertions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/base/log.h"
#include "daemon/control/mesh.h"
#include "daemon/control/up.h"
#include "daemon/core/device.h"
#include "daemon/core/peer.h"
#include "routing/address.h"
#include "routing/frame.h"
#include "routing/origin.h"
#include "routing/router.h"
#include "routing/table.h"
#include "tests/unit/fake_device.h"
#include "wgproto/crypto.h"
#include "wgproto/encoding.h"
#include "wgproto/noise.h"

struct node {
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	struct in6_addr addr;
	char addr_str[INET6_ADDRSTRLEN], b64[WG_KEY_B64_LEN + 1];
};

static void node_new(struct node *n)
{
	wg_generate_private_key(n->priv);
	wg_public_key(n->pub, n->priv);
	alamesh_addr(&n->addr, n->pub);
	inet_ntop(AF_INET6, &n->addr, n->addr_str, sizeof(n->addr_str));
	key_to_base64(n->b64, n->pub);
}

static void mesh_up(struct device *dev, const struct node *me)
{
	assert_int_equal(fake_device_up(dev, "mesh0", me->priv), 0);
	assert_int_equal(mesh_init(dev), 0);
}

/* The get=routes answer as a string. */
static char *describe(struct device *dev)
{
	char *out, *s;
	size_t len;

	assert_int_equal(mesh_describe_routes(dev, &out, &len), 0);
	/* Every answer ends as the control protocol requires. */
	assert_true(len >= 9);
	assert_memory_equal(out + len - 9, "errno=0\n\n", 9);
	s = malloc(len + 1);
	assert_non_null(s);
	memcpy(s, out, len);
	s[len] = '\0';
	free(out);
	return s;
}

static void test_init_free(void **state)
{
	struct node me;
	struct device dev;

	(void)state;
	node_new(&me);
	assert_int_equal(fake_device_up(&dev, "mesh0", me.priv), 0);
	/* The fake device is the bare device: no mesh until mesh_init(). */
	assert_null(dev.router);
	assert_null(dev.hooks.linked);

	assert_int_equal(mesh_init(&dev), 0);
	assert_non_null(dev.router);
	assert_non_null(dev.hooks.linked);
	assert_non_null(dev.hooks.unlinked);
	assert_non_null(dev.hooks.freed);
	assert_non_null(dev.rt_queue);
	assert_int_equal(dev.max_peers, MESH_DEFAULT_MAX_PEERS);
	/* Our own key is an origin from the start, the one the router announces. */
	assert_true(rt_origins_live(&dev.origins, dev.self_origin));
	assert_int_equal(rt_origins_find(&dev.origins, me.pub), dev.self_origin);
	assert_memory_equal(&dev.origins.v[dev.self_origin].addr, &me.addr, sizeof(me.addr));

	mesh_free(&dev);
	assert_null(dev.hooks.linked);
	assert_null(dev.hooks.unlinked);
	assert_null(dev.hooks.freed);
	assert_null(dev.router);
	assert_null(dev.rt_queue);
	assert_null(dev.nbr_peer);
	assert_int_equal(dev.origins.n, 0);
	/* device_down() frees the mesh again: a second mesh_free() must be harmless. */
	device_down(&dev);
}

/* Without the hooks a peer has no origin: only mesh_init() makes peers mesh members. */
static void test_no_hooks_no_origin(void **state)
{
	struct node me, a;
	struct device dev;

	(void)state;
	node_new(&me);
	node_new(&a);
	mesh_up(&dev, &me);
	mesh_free(&dev);
	struct peer *pa = device_add_peer(&dev, a.pub, NULL, NULL, 0);
	assert_non_null(pa);
	/* The table's own direct route is there; no origin was taken for it. */
	assert_ptr_equal(route_table_lookup(&dev.routes, &pa->addr), pa);
	assert_int_equal(dev.origins.n, 0);
	device_down(&dev);
}

static void test_peer_origin_and_route(void **state)
{
	struct node me, a, b;
	struct device dev;

	(void)state;
	node_new(&me);
	node_new(&a);
	node_new(&b);
	mesh_up(&dev, &me);

	struct peer *pa = device_add_peer(&dev, a.pub, NULL, NULL, 0);
	struct peer *pb = device_add_peer(&dev, b.pub, NULL, NULL, 0);
	assert_non_null(pa);
	assert_non_null(pb);
	/* Each peer holds one reference on an origin of its own key and address. */
	assert_int_not_equal(pa->origin, RT_ORIGIN_NONE);
	assert_int_not_equal(pb->origin, RT_ORIGIN_NONE);
	assert_int_not_equal(pa->origin, pb->origin);
	assert_int_not_equal(pa->origin, dev.self_origin);
	assert_int_equal(rt_origins_find(&dev.origins, a.pub), pa->origin);
	assert_int_equal(dev.origins.v[pa->origin].refs, 1);
	assert_memory_equal(&dev.origins.v[pa->origin].addr, &a.addr, sizeof(a.addr));
	/* No session yet, so no neighbour: the router knows nothing of them. */
	assert_int_equal(pa->nbr, RT_NBR_NONE);
	assert_int_equal(pb->nbr, RT_NBR_NONE);
	/* A static peer the router has no way to is still reached directly, as in WireGuard. */
	assert_ptr_equal(route_table_lookup(&dev.routes, &a.addr), pa);
	assert_ptr_equal(route_table_lookup(&dev.routes, &b.addr), pb);
	/* Our own address is never a route to a peer. */
	assert_null(route_table_lookup(&dev.routes, &me.addr));

	uint32_t oa = pa->origin;
	device_remove_peer(&dev, pa);
	/* The route and the origin go with the peer; the other peer keeps both. */
	assert_null(route_table_lookup(&dev.routes, &a.addr));
	assert_int_equal(rt_origins_find(&dev.origins, a.pub), RT_ORIGIN_NONE);
	assert_false(rt_origins_live(&dev.origins, oa));
	assert_ptr_equal(route_table_lookup(&dev.routes, &b.addr), pb);
	assert_int_equal(rt_origins_find(&dev.origins, b.pub), pb->origin);

	/* The same key added again is a member again. */
	pa = device_add_peer(&dev, a.pub, NULL, NULL, 0);
	assert_non_null(pa);
	assert_int_equal(rt_origins_find(&dev.origins, a.pub), pa->origin);
	assert_ptr_equal(route_table_lookup(&dev.routes, &a.addr), pa);
	device_down(&dev);
}

/* The private key changes (uapi/apply.c commit_identity): the router announces the new key. */
static void test_self_changed(void **state)
{
	struct node me, next;
	struct device dev;

	(void)state;
	node_new(&me);
	node_new(&next);
	mesh_up(&dev, &me);
	uint32_t old = dev.self_origin;

	/* What commit_identity() does before it calls us. */
	assert_true(wg_identity_set(&dev.identity, next.priv));
	mesh_self_changed(&dev);
	assert_int_not_equal(dev.self_origin, RT_ORIGIN_NONE);
	assert_int_not_equal(dev.self_origin, old);
	assert_int_equal(rt_origins_find(&dev.origins, next.pub), dev.self_origin);
	assert_memory_equal(&dev.origins.v[dev.self_origin].addr, &next.addr, sizeof(next.addr));
	/* The old key was ours alone: its origin is gone. */
	assert_int_equal(rt_origins_find(&dev.origins, me.pub), RT_ORIGIN_NONE);

	char *s = describe(&dev);
	char line[256];
	snprintf(line, sizeof(line), "route=%s\norigin=%s\nnext_hop=self\n", next.addr_str,
		 next.b64);
	assert_non_null(strstr(s, line));
	assert_null(strstr(s, me.addr_str));
	free(s);
	device_down(&dev);
}

static void test_describe_routes(void **state)
{
	struct node me, a;
	struct device dev;
	char line[256];

	(void)state;
	node_new(&me);
	node_new(&a);
	assert_int_equal(fake_device_up(&dev, "mesh0", me.priv), 0);
	/* No router: an empty answer, not a failure. */
	char *s = describe(&dev);
	assert_string_equal(s, "errno=0\n\n");
	free(s);

	assert_int_equal(mesh_init(&dev), 0);
	assert_non_null(device_add_peer(&dev, a.pub, NULL, NULL, 0));
	s = describe(&dev);
	/* Our own route: our address and key, reached locally; no registry, so no member name. */
	snprintf(line, sizeof(line), "route=%s\norigin=%s\nnext_hop=self\nmetric=", me.addr_str,
		 me.b64);
	assert_non_null(strstr(s, line));
	assert_null(strstr(s, "member="));
	/* A peer no neighbour has announced is no route of the router's. */
	assert_null(strstr(s, a.addr_str));
	free(s);
	device_down(&dev);
}

static void queue_frame(struct device *dev, const uint8_t key[WG_KEY_LEN], const uint8_t *data,
			size_t len)
{
	uint32_t tail = atomic_load(&dev->rt_tail);
	struct rt_item *it = &dev->rt_queue[tail % RT_QUEUE_SIZE];

	memcpy(it->key, key, WG_KEY_LEN);
	memcpy(it->data, data, len);
	it->len = (uint32_t)len;
	atomic_store(&dev->rt_tail, tail + 1);
}

/*
 * Frames queued by the receive thread: one from a key that is no peer (it
 * left since) is dropped; a malformed one from a member makes it neither a
 * neighbour nor a router, the flag that lets the receive thread relay its
 * packets.
 */
static void test_process_queue_refuses(void **state)
{
	struct node me, a, gone;
	struct device dev;
	uint8_t junk[64];

	(void)state;
	node_new(&me);
	node_new(&a);
	node_new(&gone);
	mesh_up(&dev, &me);
	struct peer *pa = device_add_peer(&dev, a.pub, NULL, NULL, 0);
	assert_non_null(pa);
	memset(junk, 0xa5, sizeof(junk));

	queue_frame(&dev, gone.pub, junk, sizeof(junk));
	mesh_process_queue(&dev);
	assert_int_equal(atomic_load(&dev.rt_head), atomic_load(&dev.rt_tail));
	assert_int_equal(pa->nbr, RT_NBR_NONE);
	assert_null(dev.nbr_peer);

	/* A member's malformed frame: checked whole before it makes a neighbour. */
	atomic_store(&pa->is_member, true);
	queue_frame(&dev, a.pub, junk, sizeof(junk));
	mesh_process_queue(&dev);
	assert_int_equal(atomic_load(&dev.rt_head), atomic_load(&dev.rt_tail));
	assert_false(atomic_load(&pa->is_router));
	assert_int_equal(pa->nbr, RT_NBR_NONE);
	/* Still the direct route: nothing was learned from the frame. */
	assert_ptr_equal(route_table_lookup(&dev.routes, &a.addr), pa);
	device_down(&dev);
}

/* A well-formed hello, as a neighbour sends it. */
static size_t hello_frame(uint8_t *buf)
{
	struct rt_frame_builder b;
	struct rt_tlv t = {
	    .type = RT_TLV_HELLO,
	    .hello = {.seqno = 1, .interval_cs = 200, .timestamp = 1, .instance = 7}};

	rt_frame_begin(&b, buf);
	assert_true(rt_frame_add(&b, &t));
	return rt_frame_end(&b);
}

/*
 * Routing is spoken with registry members only: the same good hello makes
 * no neighbour of a peer that is no member (a static [Peer] the registry
 * does not list), and makes a neighbour and a router of one that is.
 */
static void test_frames_from_members_only(void **state)
{
	struct node me, a;
	struct device dev;
	uint8_t frame[RT_FRAME_MAX];
	size_t len = hello_frame(frame);

	(void)state;
	assert_true(len > 0);
	node_new(&me);
	node_new(&a);
	mesh_up(&dev, &me);
	struct peer *pa = device_add_peer(&dev, a.pub, NULL, NULL, 0);
	assert_non_null(pa);

	queue_frame(&dev, a.pub, frame, len);
	mesh_process_queue(&dev);
	assert_int_equal(pa->nbr, RT_NBR_NONE);
	assert_false(atomic_load(&pa->is_router));

	atomic_store(&pa->is_member, true);
	queue_frame(&dev, a.pub, frame, len);
	mesh_process_queue(&dev);
	assert_int_not_equal(pa->nbr, RT_NBR_NONE);
	assert_true(atomic_load(&pa->is_router));
	assert_ptr_equal(dev.nbr_peer[pa->nbr], pa);
	device_down(&dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_free),
	    cmocka_unit_test(test_no_hooks_no_origin),
	    cmocka_unit_test(test_peer_origin_and_route),
	    cmocka_unit_test(test_self_changed),
	    cmocka_unit_test(test_describe_routes),
	    cmocka_unit_test(test_process_queue_refuses),
	    cmocka_unit_test(test_frames_from_members_only),
	};

	log_init(false);
	if (!wg_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
