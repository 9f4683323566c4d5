// SPDX-License-Identifier: ISC
/* Key-derived addresses: the DESIGN.md vectors and the fc00::/7 test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "routing/address.h"
#include "wgproto/encoding.h"

static void check_vector(const char *pub_b64, const char *want)
{
	uint8_t pub[WG_KEY_LEN];
	struct in6_addr a, expect;
	char text[INET6_ADDRSTRLEN];

	assert_true(key_from_base64(pub, pub_b64));
	alamesh_addr(&a, pub);
	assert_non_null(inet_ntop(AF_INET6, &a, text, sizeof(text)));
	assert_string_equal(text, want);
	assert_int_equal(inet_pton(AF_INET6, want, &expect), 1);
	assert_memory_equal(&a, &expect, sizeof(a));
	assert_true(alamesh_in_mesh(&a));
}

static void test_vector_1(void **state)
{
	(void)state;
	check_vector("HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=",
		     "fc3b:5bd6:826c:3e9c:d662:b3e0:d37e:6fe");
}

static void test_vector_2(void **state)
{
	(void)state;
	check_vector("xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=",
		     "fcb6:c89d:4f1f:4a2a:2972:73a0:5a38:53f1");
}

/* Every key lands in fc00::/8 and one bit of key changes the address. */
static void test_prefix_and_sensitivity(void **state)
{
	(void)state;
	uint8_t pub[WG_KEY_LEN] = {0};
	struct in6_addr a, b;

	alamesh_addr(&a, pub);
	assert_int_equal(a.s6_addr[0], 0xfc);
	for (int i = 0; i < WG_KEY_LEN * 8; i += 37) {
		pub[i / 8] ^= (uint8_t)(1u << (i % 8));
		alamesh_addr(&b, pub);
		pub[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_equal(b.s6_addr[0], 0xfc);
		assert_memory_not_equal(&a, &b, sizeof(a));
	}
}

static bool in_mesh(const char *text)
{
	struct in6_addr a;
	assert_int_equal(inet_pton(AF_INET6, text, &a), 1);
	return alamesh_in_mesh(&a);
}

static void test_in_mesh(void **state)
{
	(void)state;
	assert_true(in_mesh("fc00::"));
	assert_true(in_mesh("fc00::1"));
	assert_true(in_mesh("fd12:3456::1"));
	assert_true(in_mesh("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	assert_false(in_mesh("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	assert_false(in_mesh("fe00::"));
	assert_false(in_mesh("fe80::1"));
	assert_false(in_mesh("::1"));
	assert_false(in_mesh("::"));
	assert_false(in_mesh("2001:db8::1"));
	assert_false(in_mesh("ff02::1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vector_1),
	    cmocka_unit_test(test_vector_2),
	    cmocka_unit_test(test_prefix_and_sensitivity),
	    cmocka_unit_test(test_in_mesh),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
