/* SPDX-License-Identifier: ISC */
/*
 * The control socket's set parser, the all-or-nothing apply and the get
 * answer, on the fake device (tests/unit/fake_device.h: no TUN or threads,
 * ifindex 0: any netlink call fails, which is how a failure late in a
 * request is provoked).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon/core/device.h"
#include "daemon/base/log.h"
#include "daemon/uapi/apply.h"
#include "daemon/uapi/get.h"
#include "daemon/platform/udp.h"
#include "routing/address.h"
#include "wgproto/crypto.h"
#include "wgproto/encoding.h"
#include "daemon/core/peer.h"
#include "daemon/control/up.h"
#include "tests/unit/fake_device.h"

struct node {
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	char priv_hex[WG_KEY_HEX_LEN + 1], pub_hex[WG_KEY_HEX_LEN + 1];
	char addr[INET6_ADDRSTRLEN];
};

static void node_new(struct node *n)
{
	struct in6_addr a;

	wg_generate_private_key(n->priv);
	wg_public_key(n->pub, n->priv);
	key_to_hex(n->priv_hex, n->priv);
	key_to_hex(n->pub_hex, n->pub);
	alamesh_addr(&a, n->pub);
	inet_ntop(AF_INET6, &a, n->addr, sizeof(n->addr));
}

static int parse(struct uapi_set *set, const char *body, char *err)
{
	return uapi_set_parse(set, body, strlen(body), err, UAPI_ERRMSG_LEN);
}

static void test_parse_full(void **state)
{
	struct node me, p;
	struct uapi_set set;
	char body[2048], err[UAPI_ERRMSG_LEN];

	(void)state;
	node_new(&me);
	node_new(&p);
	snprintf(body, sizeof(body),
		 "private_key=%s\nlisten_port=51821\nfwmark=7\nreplace_peers=true\n"
		 "public_key=%s\npreshared_key=%s\nendpoint=[fd00::1]:51820\n"
		 "persistent_keepalive_interval=25\nreplace_allowed_ips=true\n"
		 "allowed_ip=%s/128\nprotocol_version=1\n"
		 "public_key=%s\nremove=true\nupdate_only=true\nendpoint=10.0.0.1:9",
		 me.priv_hex, p.pub_hex, me.priv_hex, p.addr, me.pub_hex);
	assert_int_equal(parse(&set, body, err), 0);
	assert_true(set.has_private_key);
	assert_memory_equal(set.private_key, me.priv, WG_KEY_LEN);
	assert_true(set.has_listen_port);
	assert_int_equal(set.listen_port, 51821);
	assert_true(set.has_fwmark);
	assert_int_equal(set.fwmark, 7);
	assert_true(set.replace_peers);
	assert_int_equal(set.npeers, 2);
	assert_memory_equal(set.peers[0].public_key, p.pub, WG_KEY_LEN);
	assert_true(set.peers[0].has_psk);
	assert_true(set.peers[0].has_endpoint);
	assert_int_equal(ntohs(set.peers[0].endpoint.sin6_port), 51820);
	assert_true(set.peers[0].has_keepalive);
	assert_int_equal(set.peers[0].keepalive, 25);
	assert_false(set.peers[0].remove);
	assert_true(set.peers[1].remove);
	assert_true(set.peers[1].update_only);
	assert_true(IN6_IS_ADDR_V4MAPPED(&set.peers[1].endpoint.sin6_addr));
	uapi_set_free(&set);
}

/* Each bad line is refused with its line number (line 1 is "set=1"). */
static void test_parse_refusals(void **state)
{
	struct node p;
	struct uapi_set set;
	char body[1024], err[UAPI_ERRMSG_LEN];
	static const char *const bad_device[] = {
	    "listen_port=65536",
	    "listen_port=-1",
	    "listen_port=",
	    "fwmark=4294967296",
	    "fwmark=0x10",
	    "replace_peers=false",
	    "private_key=00",
	    "private_key=0000000000000000000000000000000000000000000000000000000000000000",
	    "public_key=zz",
	    "nonsense=1",
	    "noequals",
	    "=1",
	};
	static const char *const bad_peer[] = {
	    "endpoint=10.0.0.1",
	    "endpoint=10.0.0.1:0",
	    "endpoint=10.0.0.1:70000",
	    "endpoint=host.example:51820",
	    "endpoint=[fd00::1:51820",
	    "endpoint=fd00::1:51820",
	    "persistent_keepalive_interval=65536",
	    "preshared_key=abc",
	    "allowed_ip=0.0.0.0/0",
	    "allowed_ip=fc00::/7",
	    "allowed_ip=fc00::1/128",
	    "allowed_ip=garbage",
	    "protocol_version=2",
	    "remove=yes",
	    "listen_port=1",
	};

	(void)state;
	node_new(&p);
	for (size_t i = 0; i < sizeof(bad_device) / sizeof(*bad_device); i++) {
		snprintf(body, sizeof(body), "listen_port=1\n%s\n", bad_device[i]);
		assert_true(parse(&set, body, err) < 0);
		assert_non_null(strstr(err, "line 3: "));
		uapi_set_free(&set);
	}
	for (size_t i = 0; i < sizeof(bad_peer) / sizeof(*bad_peer); i++) {
		snprintf(body, sizeof(body), "public_key=%s\n%s", p.pub_hex, bad_peer[i]);
		assert_true(parse(&set, body, err) < 0);
		assert_non_null(strstr(err, "line 3: "));
		uapi_set_free(&set);
	}
	/* The zero key is a low-order point. */
	snprintf(body, sizeof(body), "public_key=%064d", 0);
	assert_int_equal(parse(&set, body, err), -EINVAL);
	assert_non_null(strstr(err, "low-order"));
	uapi_set_free(&set);
	/* A NUL inside a line, an overlong line. */
	assert_int_equal(uapi_set_parse(&set, "fwmark=1\0", 9, err, sizeof(err)), -EINVAL);
	uapi_set_free(&set);
	char *longline = malloc(4096);
	memset(longline, 'a', 4095);
	longline[4095] = '\0';
	assert_int_equal(parse(&set, longline, err), -EINVAL);
	uapi_set_free(&set);
	free(longline);
	/* A refused secret is never echoed. */
	snprintf(body, sizeof(body), "private_key=%.62sxy", p.pub_hex);
	assert_true(parse(&set, body, err) < 0);
	assert_null(strstr(err, "xy"));
	uapi_set_free(&set);
}

/* A device with keys, a route table and a UDP socket, but no TUN and no threads. */
static void dev_init(struct device *dev, const struct node *me)
{
	assert_int_equal(fake_device_up(dev, "test0", me->priv), 0);
}
static int apply(struct device *dev, const char *body)
{
	struct uapi_set set;
	char err[UAPI_ERRMSG_LEN];
	int r = parse(&set, body, err);

	if (r == 0)
		r = uapi_apply(dev, &set, err, sizeof(err));
	if (r < 0)
		assert_true(err[0] != '\0');
	uapi_set_free(&set);
	return r;
}

static char *get(struct device *dev)
{
	char *out;
	size_t len;

	assert_int_equal(uapi_get(dev, &out, &len), 0);
	assert_true(len >= 9);
	assert_memory_equal(out + len - 9, "errno=0\n\n", 9);
	char *s = malloc(len + 1);
	memcpy(s, out, len);
	s[len] = '\0';
	sodium_memzero(out, len);
	free(out);
	return s;
}

static void test_apply_peers(void **state)
{
	struct node me, a, b, c;
	struct device dev;
	char body[2048], line[256];

	(void)state;
	node_new(&me);
	node_new(&a);
	node_new(&b);
	node_new(&c);
	dev_init(&dev, &me);

	/* Add a and b; our own key is skipped silently, as wg does. */
	snprintf(body, sizeof(body),
		 "public_key=%s\nendpoint=10.0.0.1:1\nallowed_ip=%s/128\n"
		 "public_key=%s\npersistent_keepalive_interval=0\npublic_key=%s\n",
		 a.pub_hex, a.addr, b.pub_hex, me.pub_hex);
	assert_int_equal(apply(&dev, body), 0);
	assert_int_equal(dev.npeers, 2);
	struct peer *pa = device_find_peer(&dev, a.pub), *pb = device_find_peer(&dev, b.pub);
	assert_non_null(pa);
	assert_non_null(pb);
	assert_ptr_equal(route_table_lookup(&dev.routes, &pa->addr), pa);

	/* Update a in place: same object, new endpoint and keepalive. */
	snprintf(body, sizeof(body),
		 "public_key=%s\nupdate_only=true\nendpoint=[fd00::2]:2\n"
		 "persistent_keepalive_interval=9\n",
		 a.pub_hex);
	assert_int_equal(apply(&dev, body), 0);
	assert_ptr_equal(device_find_peer(&dev, a.pub), pa);
	assert_int_equal(ntohs(pa->endpoint.sin6_port), 2);
	assert_int_equal(pa->timers.persistent_keepalive_interval, 9);

	/* update_only for a key we do not have adds nothing. */
	snprintf(body, sizeof(body), "public_key=%s\nupdate_only=true\nendpoint=10.0.0.3:3\n",
		 c.pub_hex);
	assert_int_equal(apply(&dev, body), 0);
	assert_null(device_find_peer(&dev, c.pub));

	char *out = get(&dev);
	snprintf(line, sizeof(line), "private_key=%s\n", me.priv_hex);
	assert_non_null(strstr(out, line));
	snprintf(line, sizeof(line), "public_key=%s\npreshared_key=%064d\nprotocol_version=1\n",
		 a.pub_hex, 0);
	assert_non_null(strstr(out, line));
	assert_non_null(strstr(out, "endpoint=[fd00::2]:2\n"));
	assert_non_null(strstr(out, "persistent_keepalive_interval=9\n"));
	snprintf(line, sizeof(line), "allowed_ip=%s/128\n", b.addr);
	assert_non_null(strstr(out, line));
	assert_null(strstr(out, "fwmark="));
	free(out);

	/* Remove b, add c. */
	snprintf(body, sizeof(body), "public_key=%s\nremove=true\npublic_key=%s\n", b.pub_hex,
		 c.pub_hex);
	assert_int_equal(apply(&dev, body), 0);
	assert_null(device_find_peer(&dev, b.pub));
	assert_null(route_table_lookup(&dev.routes, &(struct in6_addr){0}));
	assert_non_null(device_find_peer(&dev, c.pub));
	assert_int_equal(dev.npeers, 2);

	/* replace_peers: only c remains, as a new peer (wg recreates it). */
	snprintf(body, sizeof(body), "replace_peers=true\npublic_key=%s\nendpoint=10.0.0.4:4\n",
		 c.pub_hex);
	assert_int_equal(apply(&dev, body), 0);
	assert_int_equal(dev.npeers, 1);
	struct peer *pc = device_find_peer(&dev, c.pub);
	assert_non_null(pc);
	assert_ptr_equal(route_table_lookup(&dev.routes, &pc->addr), pc);
	assert_int_equal(ntohs(pc->endpoint.sin6_port), 4);
	assert_int_equal(route_table_count(&dev.routes), 1);

	/* Named twice: removed, then added again with what follows. */
	snprintf(body, sizeof(body),
		 "public_key=%s\nremove=true\npublic_key=%s\npersistent_keepalive_interval=3\n",
		 c.pub_hex, c.pub_hex);
	assert_int_equal(apply(&dev, body), 0);
	pc = device_find_peer(&dev, c.pub);
	assert_non_null(pc);
	assert_int_equal(pc->timers.persistent_keepalive_interval, 3);
	assert_int_equal(pc->endpoint.sin6_family, 0);
	assert_int_equal(route_table_count(&dev.routes), 1);
	device_down(&dev);
}

/* A failure after the first changes were prepared leaves everything as it was. */
static void test_apply_all_or_nothing(void **state)
{
	struct node me, a, b, next;
	struct device dev;
	char body[2048];
	uint16_t busy_port = 0;
	int busy = udp_open(&busy_port);

	(void)state;
	assert_true(busy >= 0);
	node_new(&me);
	node_new(&a);
	node_new(&b);
	node_new(&next);
	dev_init(&dev, &me);
	snprintf(body, sizeof(body), "public_key=%s\nendpoint=10.0.0.1:1\n", a.pub_hex);
	assert_int_equal(apply(&dev, body), 0);
	struct peer *pa = device_find_peer(&dev, a.pub);
	uint16_t port = dev.listen_port;

	/* A new port and peer, then a private key whose address cannot be added (no TUN). */
	snprintf(body, sizeof(body),
		 "listen_port=0\nfwmark=5\nprivate_key=%s\nreplace_peers=true\npublic_key=%s\n",
		 next.priv_hex, b.pub_hex);
	assert_int_equal(apply(&dev, body), -ENODEV);
	assert_int_equal(dev.listen_port, port);
	assert_int_equal(dev.fwmark, 0);
	uint32_t mark = 1;
	socklen_t len = sizeof(mark);
	assert_int_equal(getsockopt(dev.udp_fd, SOL_SOCKET, SO_MARK, &mark, &len), 0);
	assert_int_equal(mark, 0);
	assert_memory_equal(dev.identity.public_key, me.pub, WG_KEY_LEN);
	assert_int_equal(dev.npeers, 1);
	assert_ptr_equal(device_find_peer(&dev, a.pub), pa);
	assert_null(device_find_peer(&dev, b.pub));
	assert_int_equal(route_table_count(&dev.routes), 1);

	/* A port already taken: refused, nothing else applied. */
	snprintf(body, sizeof(body), "listen_port=%u\npublic_key=%s\nremove=true\n", busy_port,
		 a.pub_hex);
	assert_int_equal(apply(&dev, body), -EADDRINUSE);
	assert_ptr_equal(device_find_peer(&dev, a.pub), pa);

	/* The same port and fwmark with nothing failing are applied. */
	snprintf(body, sizeof(body), "listen_port=0\nfwmark=5\n");
	assert_int_equal(apply(&dev, body), 0);
	assert_int_equal(dev.fwmark, 5);
	assert_int_not_equal(dev.listen_port, port);
	len = sizeof(mark);
	assert_int_equal(getsockopt(dev.udp_fd, SOL_SOCKET, SO_MARK, &mark, &len), 0);
	assert_int_equal(mark, 5);
	uint64_t kicked = 0;
	assert_int_equal(read(dev.rx_kick_fd, &kicked, sizeof(kicked)), sizeof(kicked));
	assert_int_equal(kicked, 1);
	char *out = get(&dev);
	assert_non_null(strstr(out, "fwmark=5\n"));
	free(out);
	close(busy);
	device_down(&dev);
}

/* Many peers: the key map finds each one, and loses each removed one, through growth and removals.
 */
static void test_many_peers(void **state)
{
	enum { N = 3000 };
	struct node me;
	struct device dev;
	static uint8_t keys[N][WG_KEY_LEN];

	(void)state;
	node_new(&me);
	dev_init(&dev, &me);
	for (int i = 0; i < N; i++) {
		randombytes_buf(keys[i], WG_KEY_LEN);
		keys[i][0] = (uint8_t)i; /* spread, and some shared low bits */
		keys[i][1] = 0;
		assert_non_null(device_add_peer(&dev, keys[i], NULL, NULL, 0));
	}
	assert_int_equal(dev.npeers, N);
	/* Remove every third, in an order unlike the insertion. */
	for (int i = N - 1; i >= 0; i -= 3)
		device_remove_peer(&dev, device_find_peer(&dev, keys[i]));
	for (int i = 0; i < N; i++) {
		struct peer *p = device_find_peer(&dev, keys[i]);
		if ((N - 1 - i) % 3 == 0) {
			assert_null(p);
		} else {
			assert_non_null(p);
			assert_memory_equal(p->handshake.remote_static, keys[i], WG_KEY_LEN);
			assert_ptr_equal(dev.peers[p->index], p);
		}
	}
	assert_int_equal(dev.npeers, N - N / 3);
	device_down(&dev);
}

/* get=stats: the counter as the data path leaves it, in a well-formed answer. */
static void test_stats(void **state)
{
	struct node me;
	struct device dev;
	char *out;
	size_t len;

	(void)state;
	node_new(&me);
	dev_init(&dev, &me);
	assert_int_equal(uapi_get_stats(&dev, &out, &len), 0);
	assert_string_equal(out, "tun_foreign_source=0\nrouting_from_outsider=0\n"
				 "e2e_source_refused=0\nrelay_refused=0\nrelayed=0\n"
				 "relay_notices=0\nhandshake_bad_mac1=0\ncookie_unmatched=0\n"
				 "handshake_refused=0\ncookie_replies_sent=0\nerrno=0\n\n");
	assert_int_equal(len, strlen(out));
	free(out);
	atomic_store(&dev.tun_foreign_source, 12345678901ULL);
	atomic_store(&dev.routing_from_outsider, 7);
	atomic_store(&dev.e2e_source_refused, 3);
	atomic_store(&dev.relay_refused, 4);
	atomic_store(&dev.relayed, 5);
	atomic_store(&dev.relay_notices, 6);
	atomic_store(&dev.hs_bad_mac1, 8);
	atomic_store(&dev.hs_cookie_unmatched, 9);
	atomic_store(&dev.hs_refused, 10);
	atomic_store(&dev.hs_cookies_sent, 11);
	assert_int_equal(uapi_get_stats(&dev, &out, &len), 0);
	assert_string_equal(out, "tun_foreign_source=12345678901\nrouting_from_outsider=7\n"
				 "e2e_source_refused=3\nrelay_refused=4\nrelayed=5\n"
				 "relay_notices=6\nhandshake_bad_mac1=8\ncookie_unmatched=9\n"
				 "handshake_refused=10\ncookie_replies_sent=11\nerrno=0\n\n");
	free(out);
	device_down(&dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_full),	cmocka_unit_test(test_parse_refusals),
	    cmocka_unit_test(test_apply_peers), cmocka_unit_test(test_apply_all_or_nothing),
	    cmocka_unit_test(test_many_peers),	cmocka_unit_test(test_stats),
	};

	log_init(false);
	if (!wg_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
