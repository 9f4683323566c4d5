/* SPDX-License-Identifier: ISC */
/* alamesh set: wg(8)'s grammar into the exact text of a set=1 request. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon/cli/set.h"

#define PUB "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="
#define KEY "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="

static char dir[] = "/tmp/test_cli_set.XXXXXX";
static char key_file[64], junk_file[64], long_file[64], empty_file[64], pub_hex[65];

/* set_request of a NULL-terminated argument list after "set wg0"; the body or NULL. */
static char *req(const char *first, ...)
{
	const char *argv[64] = {"set", "wg0"};
	int argc = 2;
	va_list ap;
	size_t len = 0;

	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *))
		argv[argc++] = a;
	va_end(ap);
	char *body = set_request(argc, argv, &len);
	if (body)
		assert_int_equal(strlen(body), len);
	return body;
}

static void expect(char *body, const char *want)
{
	assert_non_null(body);
	assert_string_equal(body, want);
	sodium_memzero(body, strlen(body));
	free(body);
}

static void write_file(char *path, const char *name, const char *text)
{
	snprintf(path, 64, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	static const uint8_t pub[32] = {0x1c, 0x88, 0x28, 0xf7, 0x13, 0x73, 0x24, 0xc5,
					0x8b, 0x28, 0x04, 0x92, 0x86, 0x24, 0xea, 0x23,
					0x26, 0xf1, 0x67, 0x45, 0x37, 0xc0, 0x62, 0xe2,
					0x51, 0xe2, 0x75, 0x3c, 0xa7, 0xfc, 0xca, 0x4c};
	char big[300];

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	for (int i = 0; i < 32; i++)
		snprintf(pub_hex + 2 * i, 3, "%02x", pub[i]);
	write_file(key_file, "key", KEY "\n \n");
	write_file(junk_file, "junk", KEY "x\n");
	write_file(empty_file, "empty", "");
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, KEY, strlen(KEY));
	write_file(long_file, "long", big);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *zero_hex = "0000000000000000000000000000000000000000000000000000000000000000";

/* "public_key=<PUB in hex>\n" followed by rest. */
static const char *peer(const char *rest)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf), "public_key=%s\n%.1024s", pub_hex, rest);
	return buf;
}

static void test_device(void **state)
{
	char want[256];

	(void)state;
	expect(req("listen-port", "51820", NULL), "listen_port=51820\n");
	/* wg's order whatever the order given; the last of a repeated option counts. */
	snprintf(want, sizeof(want), "private_key=%s\nlisten_port=2\nfwmark=16\n",
		 "c809f3e5317e9575c9b5ed78b638b7ce530dabe85ddab614220241801ddf0669");
	expect(req("fwmark", "0x10", "listen-port", "1", "private-key", key_file, "listen-port",
		   "2", NULL),
	       want);
	snprintf(want, sizeof(want), "private_key=%s\n", zero_hex);
	expect(req("private-key", "/dev/null", NULL), want);
	expect(req("private-key", empty_file, NULL), want);
	expect(req("listen-port", "0", NULL), "listen_port=0\n");
	expect(req("listen-port", "65535", NULL), "listen_port=65535\n");
	if (access("/etc/services", R_OK) == 0)
		expect(req("listen-port", "domain", NULL), "listen_port=53\n");
	/* Only the interface: an empty request, as wg sends. */
	expect(req(NULL), "");
}

static void test_fwmark(void **state)
{
	(void)state;
	expect(req("fwmark", "off", NULL), "fwmark=0\n");
	expect(req("fwmark", "OFF", NULL), "fwmark=0\n");
	expect(req("fwmark", "0", NULL), "fwmark=0\n");
	expect(req("fwmark", "010", NULL), "fwmark=10\n"); /* decimal, as wg: not octal */
	expect(req("fwmark", "0xffffffff", NULL), "fwmark=4294967295\n");
	expect(req("fwmark", "4294967295", NULL), "fwmark=4294967295\n");
	assert_null(req("fwmark", "4294967296", NULL));
	assert_null(req("fwmark", "0x100000000", NULL));
	assert_null(req("fwmark", "0X10", NULL));
	assert_null(req("fwmark", "0x", NULL));
	assert_null(req("fwmark", "-1", NULL));
	assert_null(req("fwmark", " 5", NULL));
	assert_null(req("fwmark", "", NULL));
	assert_null(req("fwmark", "x", NULL));
}

static void test_bad_device(void **state)
{
	(void)state;
	assert_null(req("listen-port", NULL));
	assert_null(req("listen-port", "65536", NULL));
	assert_null(req("listen-port", "-1", NULL));
	assert_null(req("listen-port", "0x10", NULL));
	assert_null(req("listen-port", "", NULL));
	assert_null(req("listen-port", "no-such-service-name", NULL));
	assert_null(req("bogus", "1", NULL));
	assert_null(req("private-key", "/nonexistent/key", NULL));
	assert_null(req("private-key", junk_file, NULL));
	assert_null(req("private-key", long_file, NULL));
	assert_null(req("peer", NULL));
}

static void test_peer(void **state)
{
	char want[1024];

	(void)state;
	expect(req("peer", PUB, NULL), peer(""));
	snprintf(want, sizeof(want),
		 "preshared_key=%s\nendpoint=192.0.2.1:51820\npersistent_keepalive_interval=25\n"
		 "replace_allowed_ips=true\nallowed_ip=fc00::1/128\nallowed_ip=10.0.0.0/8\n",
		 "c809f3e5317e9575c9b5ed78b638b7ce530dabe85ddab614220241801ddf0669");
	expect(req("peer", PUB, "allowed-ips", "fc00::1/128,10.0.0.0/8", "persistent-keepalive",
		   "25", "endpoint", "192.0.2.1:51820", "preshared-key", key_file, NULL),
	       peer(want));
	/* A removed peer: nothing else is sent for it. */
	expect(req("peer", PUB, "endpoint", "192.0.2.1:1", "remove", NULL), peer("remove=true\n"));
	expect(req("peer", PUB, "remove", "remove", NULL), peer("remove=true\n"));
	snprintf(want, sizeof(want), "preshared_key=%s\n", zero_hex);
	expect(req("peer", PUB, "preshared-key", "/dev/null", NULL), peer(want));
	expect(req("peer", PUB, "persistent-keepalive", "off", NULL),
	       peer("persistent_keepalive_interval=0\n"));
	expect(req("peer", PUB, "persistent-keepalive", "Off", NULL),
	       peer("persistent_keepalive_interval=0\n"));
	expect(req("peer", PUB, "persistent-keepalive", "010", NULL),
	       peer("persistent_keepalive_interval=10\n"));
	expect(req("peer", PUB, "persistent-keepalive", "65535", NULL),
	       peer("persistent_keepalive_interval=65535\n"));
	expect(req("peer", PUB, "endpoint", "[fd00::1]:51820", NULL),
	       peer("endpoint=[fd00::1]:51820\n"));
	expect(req("peer", PUB, "endpoint", "[FD00:0::1]:7", NULL), peer("endpoint=[fd00::1]:7\n"));
}

static void test_two_peers(void **state)
{
	char want[1024];

	(void)state;
	snprintf(want, sizeof(want),
		 "listen_port=7\npublic_key=%s\nremove=true\npublic_key=%s\n"
		 "persistent_keepalive_interval=1\n",
		 pub_hex, pub_hex);
	expect(req("listen-port", "7", "peer", PUB, "remove", "peer", PUB, "persistent-keepalive",
		   "1", NULL),
	       want);
}

static void test_allowed_ips(void **state)
{
	(void)state;
	expect(req("peer", PUB, "allowed-ips", "", NULL), peer("replace_allowed_ips=true\n"));
	expect(req("peer", PUB, "allowed-ips", " ", NULL), peer("replace_allowed_ips=true\n"));
	expect(req("peer", PUB, "allowed-ips", " 10.1.2.3/8 , fd00::1/64", NULL),
	       peer("replace_allowed_ips=true\nallowed_ip=10.1.2.3/8\nallowed_ip=fd00::1/64\n"));
	expect(req("peer", PUB, "allowed-ips", "10.0.0.1,FD00:0:0::2", NULL),
	       peer("replace_allowed_ips=true\nallowed_ip=10.0.0.1/32\nallowed_ip=fd00::2/128\n"));
	expect(req("peer", PUB, "allowed-ips", "10.0.0.1/08,::/0,0.0.0.0/0", NULL),
	       peer("replace_allowed_ips=true\nallowed_ip=10.0.0.1/8\nallowed_ip=::/0\n"
		    "allowed_ip=0.0.0.0/0\n"));
	assert_null(req("peer", PUB, "allowed-ips", "10.0.0.1/8,", NULL));
	assert_null(req("peer", PUB, "allowed-ips", ",10.0.0.1/8", NULL));
	assert_null(req("peer", PUB, "allowed-ips", "10.0.0.1/33", NULL));
	assert_null(req("peer", PUB, "allowed-ips", "fd00::/129", NULL));
	assert_null(req("peer", PUB, "allowed-ips", "10.0.0.1/", NULL));
	assert_null(req("peer", PUB, "allowed-ips", "10.0.0.1/-1", NULL));
	assert_null(req("peer", PUB, "allowed-ips", "+10.0.0.1/8", NULL));
	assert_null(req("peer", PUB, "allowed-ips", "10.0.0/8", NULL));
	assert_null(req("peer", PUB, "allowed-ips", "host.example/8", NULL));
}

static void test_bad_peer(void **state)
{
	(void)state;
	assert_null(req("peer", "notakey", NULL));
	assert_null(req("peer", PUB "x", NULL));
	assert_null(req("peer", PUB, "endpoint", NULL));
	assert_null(req("peer", PUB, "endpoint", "192.0.2.1", NULL));
	assert_null(req("peer", PUB, "endpoint", "[fd00::1]", NULL));
	assert_null(req("peer", PUB, "endpoint", "192.0.2.1:70000", NULL));
	assert_null(req("peer", PUB, "persistent-keepalive", "65536", NULL));
	assert_null(req("peer", PUB, "persistent-keepalive", "-0", NULL));
	assert_null(req("peer", PUB, "persistent-keepalive", " 7", NULL));
	assert_null(req("peer", PUB, "preshared-key", junk_file, NULL));
	assert_null(req("peer", PUB, "preshared-key", "/nonexistent", NULL));
	assert_null(req("peer", PUB, "bogus", "1", NULL));
	/* Interface options come before the first peer, as in wg. */
	assert_null(req("peer", PUB, "listen-port", "1", NULL));
	assert_null(req("peer", PUB, "peer", NULL));
	/* A bad second peer spoils the whole request. */
	assert_null(req("peer", PUB, "peer", "bad", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_device),     cmocka_unit_test(test_fwmark),
	    cmocka_unit_test(test_bad_device), cmocka_unit_test(test_peer),
	    cmocka_unit_test(test_two_peers),  cmocka_unit_test(test_allowed_ips),
	    cmocka_unit_test(test_bad_peer),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
