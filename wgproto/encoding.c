/* SPDX-License-Identifier: ISC */
/*
 * Keys as base64 and hex without table lookups or branches on key material:
 * private keys pass through here, and a table indexed by secret bytes would
 * leak them through the cache.
 */
#include "encoding.h"

#include <sodium.h>
#include <string.h>

/* All ones if a < b, else zero; a and b are small ints. */
static unsigned ct_lt(int a, int b)
{
	return 0u - ((unsigned)(a - b) >> 31);
}

/* All ones if lo <= c <= hi. */
static unsigned ct_in(int c, int lo, int hi)
{
	return ct_lt(c, hi + 1) & ~ct_lt(c, lo);
}

static unsigned ct_eq(int a, int b)
{
	return ct_in(a, b, b);
}

static char b64_char(unsigned v)
{
	int c = (int)v;
	unsigned out = 0;

	out |= ct_in(c, 0, 25) & (unsigned)('A' + c);
	out |= ct_in(c, 26, 51) & (unsigned)('a' + c - 26);
	out |= ct_in(c, 52, 61) & (unsigned)('0' + c - 52);
	out |= ct_eq(c, 62) & '+';
	out |= ct_eq(c, 63) & '/';
	return (char)out;
}

/* The 6-bit value of a base64 character, or -1 (as all ones in *bad). */
static unsigned b64_value(unsigned char ch, unsigned *bad)
{
	int c = ch;
	unsigned v = 0, valid;

	valid = ct_in(c, 'A', 'Z') | ct_in(c, 'a', 'z') | ct_in(c, '0', '9') | ct_eq(c, '+') |
		ct_eq(c, '/');
	v |= ct_in(c, 'A', 'Z') & (unsigned)(c - 'A');
	v |= ct_in(c, 'a', 'z') & (unsigned)(c - 'a' + 26);
	v |= ct_in(c, '0', '9') & (unsigned)(c - '0' + 52);
	v |= ct_eq(c, '+') & 62;
	v |= ct_eq(c, '/') & 63;
	*bad |= ~valid;
	return v;
}

void key_to_base64(char out[WG_KEY_B64_LEN + 1], const uint8_t key[WG_KEY_LEN])
{
	size_t o = 0;
	unsigned v;

	for (size_t i = 0; i + 3 <= WG_KEY_LEN; i += 3) {
		v = (unsigned)key[i] << 16 | (unsigned)key[i + 1] << 8 | key[i + 2];
		out[o++] = b64_char((v >> 18) & 63);
		out[o++] = b64_char((v >> 12) & 63);
		out[o++] = b64_char((v >> 6) & 63);
		out[o++] = b64_char(v & 63);
	}
	/* 32 = 10 * 3 + 2: the last two bytes make three characters and one '='. */
	v = (unsigned)key[30] << 16 | (unsigned)key[31] << 8;
	out[o++] = b64_char((v >> 18) & 63);
	out[o++] = b64_char((v >> 12) & 63);
	out[o++] = b64_char((v >> 6) & 63);
	out[o++] = '=';
	out[o] = '\0';
	sodium_memzero(&v, sizeof(v));
}

bool key_from_base64(uint8_t key[WG_KEY_LEN], const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint8_t tmp[WG_KEY_LEN];
	unsigned v, bad = 0;
	size_t o = 0;

	if (!s || strnlen(s, WG_KEY_B64_LEN + 1) != WG_KEY_B64_LEN || s[WG_KEY_B64_LEN - 1] != '=')
		return false;

	for (size_t i = 0; i < 40; i += 4) {
		v = b64_value(p[i], &bad) << 18 | b64_value(p[i + 1], &bad) << 12 |
		    b64_value(p[i + 2], &bad) << 6 | b64_value(p[i + 3], &bad);
		tmp[o++] = (uint8_t)(v >> 16);
		tmp[o++] = (uint8_t)(v >> 8);
		tmp[o++] = (uint8_t)v;
	}
	v = b64_value(p[40], &bad) << 18 | b64_value(p[41], &bad) << 12 |
	    b64_value(p[42], &bad) << 6;
	tmp[o++] = (uint8_t)(v >> 16);
	tmp[o++] = (uint8_t)(v >> 8);
	/* Canonical form: the two bits below the last byte must be zero. */
	bad |= v & 0xff;

	if (!bad)
		memcpy(key, tmp, sizeof(tmp));
	sodium_memzero(tmp, sizeof(tmp));
	sodium_memzero(&v, sizeof(v));
	return !bad;
}

static char hex_char(unsigned n)
{
	return (char)('0' + n + (ct_lt(9, (int)n) & ('a' - '0' - 10)));
}

/* The value of a hex digit (either case), flagging anything else in *bad. */
static unsigned hex_value(unsigned char ch, unsigned *bad)
{
	int c = ch;
	unsigned digit = ct_in(c, '0', '9'), lower = ct_in(c, 'a', 'f'), upper = ct_in(c, 'A', 'F');

	*bad |= ~(digit | lower | upper);
	return (digit & (unsigned)(c - '0')) | (lower & (unsigned)(c - 'a' + 10)) |
	       (upper & (unsigned)(c - 'A' + 10));
}

void key_to_hex(char out[WG_KEY_HEX_LEN + 1], const uint8_t key[WG_KEY_LEN])
{
	for (size_t i = 0; i < WG_KEY_LEN; i++) {
		out[2 * i] = hex_char(key[i] >> 4);
		out[2 * i + 1] = hex_char(key[i] & 15);
	}
	out[WG_KEY_HEX_LEN] = '\0';
}

bool key_from_hex(uint8_t key[WG_KEY_LEN], const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint8_t tmp[WG_KEY_LEN];
	unsigned bad = 0;

	if (!s || strnlen(s, WG_KEY_HEX_LEN + 1) != WG_KEY_HEX_LEN)
		return false;
	for (size_t i = 0; i < WG_KEY_LEN; i++)
		tmp[i] = (uint8_t)(hex_value(p[2 * i], &bad) << 4 | hex_value(p[2 * i + 1], &bad));
	if (!bad)
		memcpy(key, tmp, sizeof(tmp));
	sodium_memzero(tmp, sizeof(tmp));
	return !bad;
}
