/* SPDX-License-Identifier: ISC */
/*
 * Member files as a merged pull request could make them: the first byte
 * gives the length of the first entry's name (any bytes, as a git tree
 * allows) and its kind, the next bytes are that name, the rest the two
 * blobs. Two entries per input, so the duplicate rules run too. Every
 * problem must come out as one line of printable text.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "peers-repo-sync/member.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const suffixes[] = {".conf", "", ".conf", ".md"};
	char name[64 + 8];
	struct member_set r;

	if (size < 1)
		return 0;
	size_t nlen = data[0] % 64;
	enum member_entry_kind kind = (data[0] >> 6) == 3 ? MEMBER_SYMLINK : MEMBER_BLOB;
	if (nlen > size - 1)
		nlen = size - 1;
	/* A name is a C string: a NUL byte in it ends it, as a git tree's does. */
	memcpy(name, data + 1, nlen);
	name[nlen] = '\0';
	strcat(name, suffixes[data[0] >> 6]);
	data += 1 + nlen;
	size -= 1 + nlen;
	member_set_init(&r, 4);
	size_t half = size / 2;
	member_set_add_entry(&r, name, kind, data, half);
	member_set_add_entry(&r, "second.conf", MEMBER_BLOB, data + half, size - half);
	member_set_finish(&r, data);
	if (r.nmembers > 2 || r.nmembers + r.nrejected > 2)
		__builtin_trap();
	for (size_t i = 0; i < r.nmembers; i++) {
		const struct member *m = &r.members[i];
		if (m->nendpoints > MEMBER_MAX_ENDPOINTS || !m->name[0])
			__builtin_trap();
		for (size_t j = 0; j < m->nendpoints; j++)
			if (!member_endpoint_valid(member_endpoint(&r, m, j)))
				__builtin_trap();
		if (strlen(member_contact(&r, m)) > MEMBER_CONTACT_MAX)
			__builtin_trap();
	}
	for (size_t i = 0; i < r.nproblems; i++) {
		check_printable(r.problems[i].file);
		check_printable(r.problems[i].why);
	}
	member_set_free(&r);
	return 0;
}
