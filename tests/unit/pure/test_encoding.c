/* SPDX-License-Identifier: ISC */
/* Keys as base64 and hex, checked against libsodium's encoders. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "wgproto/encoding.h"

#define KEY_B64 "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="

/* A failed decode must leave the output untouched. */
static void assert_b64_rejected(const char *s)
{
	uint8_t key[WG_KEY_LEN], before[WG_KEY_LEN];

	memset(key, 0xa5, sizeof(key));
	memcpy(before, key, sizeof(key));
	assert_false(key_from_base64(key, s));
	assert_memory_equal(key, before, sizeof(key));
}

static void assert_hex_rejected(const char *s)
{
	uint8_t key[WG_KEY_LEN], before[WG_KEY_LEN];

	memset(key, 0x5a, sizeof(key));
	memcpy(before, key, sizeof(key));
	assert_false(key_from_hex(key, s));
	assert_memory_equal(key, before, sizeof(key));
}

static void test_base64_round_trip(void **state)
{
	uint8_t key[WG_KEY_LEN], back[WG_KEY_LEN];
	char ours[WG_KEY_B64_LEN + 1], theirs[WG_KEY_B64_LEN + 1];
	(void)state;

	for (int i = 0; i < 2000; i++) {
		randombytes_buf(key, sizeof(key));
		if (i < 256)
			memset(key, i, sizeof(key)); /* every byte value in every position */
		key_to_base64(ours, key);
		sodium_bin2base64(theirs, sizeof(theirs), key, sizeof(key),
				  sodium_base64_VARIANT_ORIGINAL);
		assert_string_equal(ours, theirs);
		assert_int_equal(strlen(ours), WG_KEY_B64_LEN);
		assert_true(key_from_base64(back, ours));
		assert_memory_equal(back, key, sizeof(key));
	}

	assert_true(key_from_base64(key, KEY_B64));
	key_to_base64(ours, key);
	assert_string_equal(ours, KEY_B64);
	assert_int_equal(key[0], 0x1c);
	assert_int_equal(key[31], 0x4c);
}

static void test_base64_rejects(void **state)
{
	char s[64];
	const char bad[] = {'-', '_', ' ', '.', '=', '\n', '\x80', '\xff', '@', '[', '`', '{'};
	(void)state;

	/* 43 and 45 characters, missing padding, double padding. */
	assert_b64_rejected("HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw");
	assert_b64_rejected(KEY_B64 "=");
	assert_b64_rejected(KEY_B64 "A");
	assert_b64_rejected("HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykwA");
	assert_b64_rejected("HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8yk==");
	assert_b64_rejected("");
	assert_b64_rejected(NULL);

	/* A bad character at every position. */
	for (size_t i = 0; i < WG_KEY_B64_LEN - 1; i++) {
		for (size_t b = 0; b < sizeof(bad); b++) {
			strcpy(s, KEY_B64);
			s[i] = bad[b];
			assert_b64_rejected(s);
		}
	}

	/* Non-canonical: 'w' (48) carries no bits below the last byte; x, y, z do. */
	strcpy(s, KEY_B64);
	s[42] = 'x';
	assert_b64_rejected(s);
	s[42] = 'z';
	assert_b64_rejected(s);
	s[42] = '/';
	assert_b64_rejected(s);
	s[42] = 's'; /* 44: low bits zero, a different but canonical key */
	{
		uint8_t key[WG_KEY_LEN];
		assert_true(key_from_base64(key, s));
	}
}

static void test_hex(void **state)
{
	uint8_t key[WG_KEY_LEN], back[WG_KEY_LEN];
	char ours[WG_KEY_HEX_LEN + 1], theirs[WG_KEY_HEX_LEN + 1], s[80];
	(void)state;

	for (int i = 0; i < 1000; i++) {
		randombytes_buf(key, sizeof(key));
		if (i < 256)
			memset(key, i, sizeof(key));
		key_to_hex(ours, key);
		sodium_bin2hex(theirs, sizeof(theirs), key, sizeof(key));
		assert_string_equal(ours, theirs); /* lowercase, like wg */
		assert_true(key_from_hex(back, ours));
		assert_memory_equal(back, key, sizeof(key));
	}

	/* Upper case is read too (wireguard-go accepts it). */
	memset(s, 0, sizeof(s));
	for (size_t i = 0; i < WG_KEY_HEX_LEN; i++)
		s[i] = "0123456789ABCDEF"[i % 16];
	assert_true(key_from_hex(back, s));
	assert_int_equal(back[0], 0x01);
	assert_int_equal(back[5], 0xab);
	assert_int_equal(back[7], 0xef);
	key_to_hex(ours, back);
	assert_string_equal(ours,
			    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");

	/* Lengths 63 and 65, and characters outside [0-9a-fA-F]. */
	strcpy(s, ours);
	s[63] = '\0';
	assert_hex_rejected(s);
	strcpy(s, ours);
	strcat(s, "0");
	assert_hex_rejected(s);
	assert_hex_rejected("");
	assert_hex_rejected(NULL);
	for (size_t i = 0; i < WG_KEY_HEX_LEN; i++) {
		const char bad[] = {'g', 'G', '/', ':', '@', '`', ' ', '\xc3'};
		for (size_t b = 0; b < sizeof(bad); b++) {
			strcpy(s, ours);
			s[i] = bad[b];
			assert_hex_rejected(s);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_base64_round_trip),
	    cmocka_unit_test(test_base64_rejects),
	    cmocka_unit_test(test_hex),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
