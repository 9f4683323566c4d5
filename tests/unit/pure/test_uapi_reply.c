/* SPDX-License-Identifier: ISC */
/* Reading get=1 answers as alamesh(8) does: good ones, daemon errors, garbage. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "daemon/cli/uapi_reply.h"
#include "wgproto/crypto.h"

static int parse(struct uapi_device_info *dev, const char *s)
{
	const char *why;

	memset(dev, 0, sizeof(*dev));
	return uapi_reply_parse(dev, s, strlen(s), &why);
}

static void test_good(void **state)
{
	struct uapi_device_info dev;
	const char *s =
	    "private_key=0100000000000000000000000000000000000000000000000000000000000040\n"
	    "listen_port=51820\nfwmark=66\n"
	    "public_key=0900000000000000000000000000000000000000000000000000000000000000\n"
	    "preshared_key=0000000000000000000000000000000000000000000000000000000000000000\n"
	    "protocol_version=1\nendpoint=[fd00::1]:51820\n"
	    "last_handshake_time_sec=1795514037\nlast_handshake_time_nsec=5\n"
	    "tx_bytes=236\nrx_bytes=324\npersistent_keepalive_interval=25\n"
	    "allowed_ip=fc00::1/128\nallowed_ip=10.99.0.0/16\nallowed_ip=10.1.0.0/16\n"
	    "future_key=whatever\nerrno=0\n\n";

	(void)state;
	assert_int_equal(parse(&dev, s), 0);
	assert_true(dev.has_private_key);
	assert_int_equal(dev.listen_port, 51820);
	assert_int_equal(dev.fwmark, 66);
	assert_int_equal(dev.npeers, 1);
	assert_false(dev.peers[0].has_preshared_key);
	assert_string_equal(dev.peers[0].endpoint, "[fd00::1]:51820");
	assert_int_equal(dev.peers[0].last_handshake_sec, 1795514037);
	assert_int_equal(dev.peers[0].rx_bytes, 324);
	assert_int_equal(dev.peers[0].tx_bytes, 236);
	assert_int_equal(dev.peers[0].persistent_keepalive, 25);
	assert_int_equal(dev.peers[0].nallowed, 3);
	assert_string_equal(dev.peers[0].allowed_ips[2], "10.1.0.0/16");
	uapi_device_info_free(&dev);
}

static void test_errors(void **state)
{
	struct uapi_device_info dev;
	static const char *const bad[] = {
	    "",
	    "listen_port=1\n",
	    "listen_port=1\nerrno=0\n",
	    "listen_port=65536\nerrno=0\n\n",
	    "listen_port=-1\nerrno=0\n\n",
	    "public_key=12\nerrno=0\n\n",
	    "nokeyvalue\nerrno=0\n\n",
	    "errno=x\n\n",
	    "errno=99999\n\n",
	    "public_key=0900000000000000000000000000000000000000000000000000000000000000\n"
	    "endpoint=<script>\nerrno=0\n\n",
	    "public_key=0900000000000000000000000000000000000000000000000000000000000000\n"
	    "rx_bytes=18446744073709551616\nerrno=0\n\n",
	};

	(void)state;
	assert_int_equal(parse(&dev, "errno=22\n\n"), 22);
	uapi_device_info_free(&dev);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(&dev, bad[i]), -EPROTO);
		uapi_device_info_free(&dev);
	}
	assert_int_equal(uapi_reply_errno("errno=0\n\n", 9), 0);
	assert_int_equal(uapi_reply_errno("errno=95\n\n", 10), 95);
	assert_int_equal(uapi_reply_errno("listen_port=1\nerrno=0\n\n", 23), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_errors),
	};

	if (!wg_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
