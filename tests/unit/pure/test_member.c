/* SPDX-License-Identifier: ISC */
/* The registry's rules for member files, one hostile file at a time and as a set. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peers-repo-sync/member.h"
#include "wgproto/crypto.h"
#include "wgproto/encoding.h"

#define KEY_A "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="
#define KEY_B "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="

static void add(struct member_set *r, const char *name, const char *text)
{
	member_set_add_entry(r, name, MEMBER_BLOB, (const uint8_t *)text, strlen(text));
}

/* One file alone: accepted (1) or rejected (0), the problem containing want. */
static void expect(const char *name, const char *text, bool accepted, const char *want)
{
	struct member_set r;

	member_set_init(&r, 0);
	add(&r, name, text);
	member_set_finish(&r, NULL);
	if ((r.nmembers == 1) != accepted)
		fail_msg("%s: %s, wanted %s (%s)", name, r.nmembers ? "accepted" : "rejected",
			 accepted ? "accepted" : "rejected",
			 r.nproblems ? r.problems[0].why : "no problem recorded");
	if (want) {
		bool found = false;
		for (size_t i = 0; i < r.nproblems; i++)
			found |= strstr(r.problems[i].why, want) != NULL;
		if (!found)
			fail_msg("%s: no problem mentions '%s' (first: %s)", name, want,
				 r.nproblems ? r.problems[0].why : "none");
		char file[64];
		snprintf(file, sizeof(file), "members/%s", name);
		assert_string_equal(r.problems[0].file, file);
	}
	assert_int_equal(r.nrejected, accepted ? 0 : 1);
	member_set_free(&r);
}

static void test_good(void **state)
{
	struct member_set r;
	uint8_t a[WG_KEY_LEN];

	(void)state;
	member_set_init(&r, 0);
	add(&r, "zed.conf", "[Member]\nPublicKey = " KEY_B "\n");
	add(&r, "alice-1.conf",
	    "# a comment\n[Member]\n  PublicKey = " KEY_A "  \nEndpoint = alice.example.org:51820\n"
	    "endpoint = [2001:db8::1]:51820\nEndpoint = 192.0.2.1:1\nContact = "
	    "alice@example.org\n");
	assert_true(key_from_base64(a, KEY_A));
	member_set_finish(&r, a);
	assert_int_equal(r.nmembers, 2);
	assert_int_equal(r.nproblems, 0);
	assert_string_equal(r.members[0].name, "alice-1");
	assert_true(r.members[0].is_self);
	assert_false(r.members[1].is_self);
	assert_int_equal(r.members[0].nendpoints, 3);
	assert_string_equal(member_endpoint(&r, &r.members[0], 1), "[2001:db8::1]:51820");
	assert_string_equal(member_contact(&r, &r.members[0]), "alice@example.org");
	assert_string_equal(member_contact(&r, &r.members[1]), "");
	assert_memory_equal(r.members[0].public_key, a, WG_KEY_LEN);
	char text[64];
	inet_ntop(AF_INET6, &r.members[0].addr, text, sizeof(text));
	assert_string_equal(text, "fc3b:5bd6:826c:3e9c:d662:b3e0:d37e:6fe");
	member_set_free(&r);
}

static void test_hostile_files(void **state)
{
	(void)state;
	expect("a.conf", "[Member]\nPublicKey = notbase64!\n", false, "base64 of 32 bytes");
	/* 31 bytes in base64. */
	expect("a.conf", "[Member]\nPublicKey = AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n",
	       false, "base64 of 32 bytes");
	expect("a.conf", "[Member]\nPublicKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	       false, "zero key or a low-order point");
	/* A point of order 8 on Curve25519. */
	expect("a.conf", "[Member]\nPublicKey = X5yVvKNQjCSx0LFVnIPvWwREXMRYHI6G2CJO3dCfEVc=\n",
	       false, "low-order");
	expect("Alice.conf", "[Member]\nPublicKey = " KEY_A "\n", false, "the name must be");
	expect("-a.conf", "[Member]\nPublicKey = " KEY_A "\n", false, "the name must be");
	expect("a_b.conf", "[Member]\nPublicKey = " KEY_A "\n", false, "the name must be");
	expect("abcdefghijklmnopqrstuvwxyz0123456.conf", "[Member]\nPublicKey = " KEY_A "\n", false,
	       "the name must be");
	expect("..conf", "[Member]\nPublicKey = " KEY_A "\n", false, "the name must be");
	expect("a.conf", "PublicKey = " KEY_A "\n", false, "before [Member]");
	expect("a.conf", "[Member]\n", false, "no PublicKey");
	expect("a.conf", "", false, "no [Member]");
	expect("a.conf", "[Member]\n[Member]\nPublicKey = " KEY_A "\n", false, "second [Member]");
	expect("a.conf", "[Peer]\nPublicKey = " KEY_A "\n", false, "is not [Member]");
	expect("a.conf", "[Member]\nPublicKey = " KEY_A "\nPublicKey = " KEY_B "\n", false,
	       "twice");
	expect("a.conf", "[Member]\nPublicKey = " KEY_A "\nEndpoint = nohostport\n", false,
	       "not host:port");
	expect("a.conf", "[Member]\nPublicKey = " KEY_A "\nEndpoint = h:0\n", false, "host:port");
	expect("a.conf", "[Member]\nPublicKey = " KEY_A "\nEndpoint = h:65536\n", false,
	       "host:port");
	expect("a.conf", "[Member]\nPublicKey = " KEY_A "\nEndpoint = [::1:51820\n", false,
	       "host:port");
	expect("a.conf", "[Member]\nPublicKey = " KEY_A "\nEndpoint = ev/il:1\n", false,
	       "host:port");
	expect("a.conf", "[Member]\nPublicKey = " KEY_A "\njunk\n", false, "not key = value");
	expect("a.conf", "[Member]\nPublicKey = " KEY_A "\nColour = red\n", true,
	       "unknown key 'Colour'");
	char many[2048] = "[Member]\nPublicKey = " KEY_A "\n";
	for (int i = 0; i < MEMBER_MAX_ENDPOINTS + 1; i++)
		strcat(many, "Endpoint = h.example:1\n");
	expect("a.conf", many, false, "more than");
	/* Binary garbage, an overlong line. */
	struct member_set r;
	member_set_init(&r, 0);
	uint8_t bin[64];
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(i * 37);
	member_set_add_entry(&r, "bin.conf", MEMBER_BLOB, bin, sizeof(bin));
	char *longline = calloc(1, 2000);
	memset(longline, 'x', 1999);
	add(&r, "long.conf", longline);
	free(longline);
	/* 10 MiB: refused on its size, before a byte is read. */
	member_set_add_entry(&r, "big.conf", MEMBER_BLOB, NULL, 10 << 20);
	member_set_finish(&r, NULL);
	assert_int_equal(r.nmembers, 0);
	assert_int_equal(r.nrejected, 3);
	assert_non_null(strstr(r.problems[0].why, "NUL"));
	assert_non_null(strstr(r.problems[1].why, "longer than"));
	assert_non_null(strstr(r.problems[2].why, "over the limit of 4096"));
	member_set_free(&r);
}

static void test_entries_ignored(void **state)
{
	struct member_set r;

	(void)state;
	member_set_init(&r, 0);
	member_set_add_entry(&r, "link.conf", MEMBER_SYMLINK, NULL, 0);
	member_set_add_entry(&r, "sub.conf", MEMBER_TREE, NULL, 0);
	member_set_add_entry(&r, "mod.conf", MEMBER_SUBMODULE, NULL, 0);
	add(&r, "README.md", "hello");
	add(&r, "ok.conf", "[Member]\nPublicKey = " KEY_A "\n");
	member_set_finish(&r, NULL);
	assert_int_equal(r.nmembers, 1);
	assert_int_equal(r.nrejected, 0);
	assert_int_equal(r.nproblems, 4);
	for (size_t i = 0; i < 4; i++)
		assert_true(r.problems[i].warning);
	member_set_free(&r);
}

static void test_duplicates_and_cap(void **state)
{
	struct member_set r;

	(void)state;
	member_set_init(&r, 0);
	add(&r, "a.conf", "[Member]\nPublicKey = " KEY_A "\n");
	add(&r, "b.conf", "[Member]\nPublicKey = " KEY_B "\n");
	add(&r, "c.conf", "[Member]\nPublicKey = " KEY_A "\n");
	member_set_finish(&r, NULL);
	assert_int_equal(r.nmembers, 1);
	assert_string_equal(r.members[0].name, "b");
	assert_int_equal(r.nrejected, 2);
	for (size_t i = 0; i < r.nproblems; i++)
		assert_non_null(strstr(r.problems[i].why, "shared by 2 files"));
	member_set_free(&r);

	member_set_init(&r, 1);
	add(&r, "a.conf", "[Member]\nPublicKey = " KEY_A "\n");
	add(&r, "b.conf", "[Member]\nPublicKey = " KEY_B "\n");
	member_set_finish(&r, NULL);
	assert_int_equal(r.nmembers, 1);
	assert_non_null(strstr(r.problems[0].why, "over the limit of 1 members"));
	member_set_free(&r);
}

/* Each byte of a problem is printable ASCII: nothing a committer wrote can end a line. */
static void assert_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			fail_msg("byte 0x%02x in a problem", (unsigned char)*s);
}

static void test_names_escaped(void **state)
{
	struct member_set r;

	(void)state;
	member_set_init(&r, 0);
	/* git allows any byte but NUL and '/' in a tree entry's name. */
	add(&r, "evil\nproblem=forged: x\n.conf", "[Member]\nPublicKey = " KEY_A "\n");
	member_set_add_entry(&r, "\x1b[2J\r.conf", MEMBER_SYMLINK, NULL, 0);
	add(&r, "tab\t\\.md", "");
	add(&r, "ep.conf", "[Member]\nPublicKey = " KEY_B "\nEndpoint = \x1b[31mred\r:1\n");
	add(&r, "key.conf", "[Member]\nPublicKey = " KEY_B "\n\x7f\xff = 1\n");
	member_set_finish(&r, NULL);
	assert_int_equal(r.nmembers, 1);
	assert_int_equal(r.nproblems, 5);
	for (size_t i = 0; i < r.nproblems; i++) {
		assert_printable(r.problems[i].file);
		assert_printable(r.problems[i].why);
	}
	assert_string_equal(r.problems[0].file, "members/evil\\x0aproblem=forged: x\\x0a.conf");
	assert_string_equal(r.problems[1].file, "members/\\x1b[2J\\x0d.conf");
	assert_string_equal(r.problems[2].file, "members/tab\\x09\\\\.md");
	assert_non_null(strstr(r.problems[3].why, "'\\x1b[31mred\\x0d:1'"));
	assert_non_null(strstr(r.problems[4].why, "'\\x7f\\xff'"));
	member_set_free(&r);
}

/* members/ may hold any number of entries: only so many are read, and so many problems listed. */
static void test_bounds(void **state)
{
	struct member_set r;
	char name[32];

	(void)state;
	member_set_init(&r, 1);
	add(&r, "a.conf", "[Member]\nPublicKey = " KEY_A "\n");
	for (int i = 0; i < REGISTRY_ENTRY_MARGIN + 9; i++) {
		snprintf(name, sizeof(name), "x%d.md", i);
		add(&r, name, "");
	}
	assert_int_equal(member_set_entries_left(&r), 0);
	member_set_skip_entries(&r, 100); /* what a caller did not hand over */
	member_set_finish(&r, NULL);
	assert_int_equal(r.nmembers, 1);
	assert_int_equal(r.nentries, 1 + REGISTRY_ENTRY_MARGIN);
	assert_int_equal(r.nrejected, 109);
	assert_int_equal(r.nproblems, REGISTRY_ENTRY_MARGIN + 1);
	const struct member_problem *last = &r.problems[r.nproblems - 1];
	assert_string_equal(last->file, "members/");
	assert_false(last->warning);
	assert_string_equal(last->why,
			    "109 more entries not read: at most 1025 are (MaxMembers + 1024)");
	member_set_free(&r);

	/* Past REGISTRY_PROBLEMS_MAX, problems are counted, not kept. */
	member_set_init(&r, 0);
	for (int i = 0; i < REGISTRY_PROBLEMS_MAX + 50; i++) {
		snprintf(name, sizeof(name), "b%d.conf", i);
		add(&r, name, "junk");
	}
	member_set_finish(&r, NULL);
	assert_int_equal(r.nrejected, REGISTRY_PROBLEMS_MAX + 50);
	assert_int_equal(r.nproblems, REGISTRY_PROBLEMS_MAX + 1);
	assert_string_equal(r.problems[r.nproblems - 1].why,
			    "50 more problems not listed: at most 4096 are");
	member_set_free(&r);
}

/* Members are small; their strings live once in the registry's text, a rejected file's not at all.
 */
static void test_compact(void **state)
{
	struct member_set r;
	char text[MEMBER_FILE_MAX], name[32];
	uint8_t key[WG_KEY_LEN];
	char b64[WG_KEY_B64_LEN + 1];

	(void)state;
	assert_true(sizeof(struct member) <= 128);
	member_set_init(&r, 0);
	add(&r, "a.conf", "[Member]\nPublicKey = " KEY_A "\nEndpoint = a.example:1\n");
	size_t used = r.textlen;
	add(&r, "b.conf",
	    "[Member]\nPublicKey = " KEY_B "\nEndpoint = b.example:1\nContact = me\njunk\n");
	assert_int_equal(r.nrejected, 1);
	assert_int_equal(r.textlen, used);
	/* Enough long endpoints for the text to move as it grows: every one reads back. */
	for (int i = 0; i < 300; i++) {
		memset(key, 0, sizeof(key));
		key[0] = (uint8_t)i;
		key[1] = (uint8_t)(i >> 8);
		key[31] = 0x40;
		key_to_base64(b64, key);
		int n = snprintf(text, sizeof(text), "[Member]\nPublicKey = %s\n", b64);
		for (int j = 0; j < MEMBER_MAX_ENDPOINTS; j++)
			n += snprintf(text + n, sizeof(text) - (size_t)n,
				      "Endpoint = h%d-%d.%0200d:%d\n", i, j, 0, j + 1);
		snprintf(name, sizeof(name), "m%03d.conf", i);
		add(&r, name, text);
	}
	member_set_finish(&r, NULL);
	assert_int_equal(r.nmembers, 301);
	assert_string_equal(member_endpoint(&r, &r.members[0], 0), "a.example:1");
	for (size_t i = 1; i < r.nmembers; i++) {
		const struct member *m = &r.members[i];
		assert_int_equal(m->nendpoints, MEMBER_MAX_ENDPOINTS);
		for (size_t j = 0; j < m->nendpoints; j++) {
			char want[300];
			snprintf(want, sizeof(want), "h%d-%zu.%0200d:%zu", atoi(m->name + 1), j, 0,
				 j + 1);
			assert_string_equal(member_endpoint(&r, m, j), want);
		}
	}
	assert_string_equal(member_endpoint(&r, &r.members[0], 5), "");
	member_set_free(&r);
}

/*
 * Via: a stock device names the members it connects through. Kept in
 * order; a bad name or a fifth line rejects the file; a Via naming no
 * member, or the device itself, is a warning.
 */
static void test_via(void **state)
{
	struct member_set r;

	(void)state;
	member_set_init(&r, 0);
	add(&r, "bob.conf", "[Member]\nPublicKey = " KEY_B "\n");
	add(&r, "phone.conf",
	    "[Member]\nPublicKey = " KEY_A "\nVia = bob\nvia = carol\nVia = phone\n");
	member_set_finish(&r, NULL);
	assert_int_equal(r.nmembers, 2);
	const struct member *ph = &r.members[1];
	assert_string_equal(ph->name, "phone");
	assert_int_equal(ph->nvia, 3);
	assert_string_equal(member_via(&r, ph), "bob,carol,phone");
	assert_true(member_via_names(&r, ph, "carol"));
	assert_false(member_via_names(&r, ph, "bo"));
	assert_false(member_via_names(&r, ph, "carol,"));
	assert_true(member_via_names(&r, ph, "bob"));
	assert_false(member_via_names(&r, ph, "alice"));
	assert_int_equal(r.members[0].nvia, 0);
	assert_string_equal(member_via(&r, &r.members[0]), "");
	assert_false(member_via_names(&r, &r.members[0], "bob"));
	assert_int_equal(r.nrejected, 0);
	bool carol = false, itself = false;
	for (size_t i = 0; i < r.nproblems; i++) {
		assert_true(r.problems[i].warning);
		assert_string_equal(r.problems[i].file, "members/phone.conf");
		carol |= strstr(r.problems[i].why, "Via names no member: 'carol'") != NULL;
		itself |= strstr(r.problems[i].why, "Via names the device itself") != NULL;
	}
	assert_true(carol && itself);
	member_set_free(&r);

	expect("p.conf", "[Member]\nPublicKey = " KEY_A "\nVia = Bob\n", false,
	       "line 3: Via 'Bob' is not a member name");
	expect("p.conf",
	       "[Member]\nPublicKey = " KEY_A "\nVia = a\nVia = b\nVia = c\nVia = d\nVia = e\n",
	       false, "line 7: more than 4 Via lines");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_hostile_files),
	    cmocka_unit_test(test_entries_ignored),
	    cmocka_unit_test(test_duplicates_and_cap),
	    cmocka_unit_test(test_names_escaped),
	    cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_compact),
	    cmocka_unit_test(test_via),
	};

	if (!wg_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
