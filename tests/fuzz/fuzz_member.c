/* SPDX-License-Identifier: ISC */
/*
 * Member files as a merged pull request could make them: the first byte
 * picks an entry name, the rest is the blob. Two entries per input, so the
 * duplicate rules run too.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "peers-repo-sync/member.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"a.conf", "B.conf", "x-1.conf", "..conf", "readme"};
	struct registry r;

	if (size < 1)
		return 0;
	registry_init(&r, 4);
	size_t half = (size - 1) / 2;
	registry_add_entry(&r, names[data[0] % 5], MEMBER_BLOB, data + 1, half);
	registry_add_entry(&r, "second.conf", MEMBER_BLOB, data + 1 + half, size - 1 - half);
	registry_finish(&r, data);
	if (r.nmembers > 2 || r.nmembers + r.nrejected > 2)
		__builtin_trap();
	for (size_t i = 0; i < r.nmembers; i++)
		if (r.members[i].nendpoints > MEMBER_MAX_ENDPOINTS || !r.members[i].name[0])
			__builtin_trap();
	registry_free(&r);
	return 0;
}
