/* SPDX-License-Identifier: ISC */
/*
 * Routing frames as a neighbour could send them, into a router with two
 * known origins: the frame checker must refuse what it cannot walk, and
 * the router must survive whatever it accepts (hellos, IHUs, updates for
 * members and strangers, requests, Seen records) without a crash, a leak or a loop in
 * its own state.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "routing/frame.h"
#include "routing/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t sent;

static void op_send(void *ctx, uint16_t nbr, const uint8_t *frame, size_t len)
{
	const char *why;

	(void)ctx;
	(void)nbr;
	/* What the router sends must pass its own checker. */
	if (len > RT_FRAME_MAX || rt_frame_check(frame, len, &why) < 0)
		__builtin_trap();
	sent += len;
}

static void op_route(void *ctx, uint32_t origin, uint16_t nbr)
{
	(void)ctx;
	(void)origin;
	(void)nbr;
}

static bool op_endpoint_of(void *ctx, uint16_t nbr, struct in6_addr *addr, uint16_t *port)
{
	(void)ctx;
	(void)nbr;
	memset(addr, 0, sizeof(*addr));
	*port = 51820;
	return true;
}

/* A Seen record: whatever it says is only stored, never acted on here. */
static void op_seen(void *ctx, uint16_t nbr, const struct in6_addr *addr, uint16_t port)
{
	(void)ctx;
	(void)nbr;
	sent += addr->s6_addr[15] + port;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct rt_ops ops = {
	    .send = op_send, .route = op_route, .endpoint_of = op_endpoint_of, .seen = op_seen};
	uint8_t seed[16] = {0}, key[WG_KEY_LEN];
	struct rt_origins o;
	struct rt_params p;
	const char *why;
	uint64_t now = 1000 * NSEC_PER_SEC;

	if (!rt_origins_init(&o, seed))
		return 0;
	memset(key, 1, sizeof(key));
	uint32_t self = rt_origins_add(&o, key);
	memset(key, 2, sizeof(key));
	uint32_t other = rt_origins_add(&o, key);
	rt_params_default(&p);
	struct router *r = router_new(&p, &ops, NULL, &o, self, 1, now);
	if (!r) {
		rt_origins_free(&o);
		return 0;
	}
	uint16_t nbr = router_add_neighbour(r, other, now);
	/* The input is cut into frames at 0xA1 0xFF markers, each delivered a second apart. */
	size_t start = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i < size && !(i + 1 < size && data[i] == 0xa1 && data[i + 1] == 0xff))
			continue;
		int rc = router_receive(r, nbr, data + start, i - start, now, &why);
		int chk = rt_frame_check(data + start, i - start, &why);
		if ((rc < 0) != (chk < 0))
			__builtin_trap();
		router_tick(r, now);
		now += NSEC_PER_SEC;
		start = i + 2;
		i++;
	}
	router_tick(r, now + 60 * NSEC_PER_SEC);
	router_remove_neighbour(r, nbr, now);
	router_free(r);
	rt_origins_free(&o);
	return 0;
}
