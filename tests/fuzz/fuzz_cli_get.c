/* SPDX-License-Identifier: ISC */
/*
 * alamesh show on whatever a control socket answers: the get=1 parser, then
 * every layout printed from what it accepted (pretty, each field, dump,
 * with and without the interface column), and the same bytes read as the
 * answer to one of alamesh's views. No crash, no overflow, bounded output.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/cli/show_print.h"
#include "daemon/cli/uapi_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fields[] = {
    "public-key",
    "private-key",
    "listen-port",
    "fwmark",
    "peers",
    "preshared-keys",
    "endpoints",
    "allowed-ips",
    "latest-handshakes",
    "transfer",
    "persistent-keepalive",
    "dump",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	struct uapi_device_info dev = {.name = "fuzz0"};
	const char *why;

	if (!quiet) {
		/*
		 * The layouts are exercised, not read: stdout goes nowhere, and so
		 * do the CLI's messages (through stdio's stderr only: fd 2 stays,
		 * for libFuzzer's and the sanitizers' reports).
		 */
		FILE *null = fopen("/dev/null", "w");
		if (!null || !freopen("/dev/null", "w", stdout))
			abort();
		stderr = null;
		setenv("ALAMESH_COLOR_MODE", "always", 1);
		setenv("ALAMESH_HIDE_KEYS", "never", 1);
		quiet = true;
	}
	if (uapi_reply_parse(&dev, (const char *)data, size, &why) == 0) {
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			show_field(&dev, fields[i], false);
			show_field(&dev, fields[i], true);
		}
		show_pretty(&dev);
	}
	uapi_device_info_free(&dev);

	/* The view answers are read in place: a copy, as ipc_request hands them over. */
	char *copy = malloc(size + 1);
	if (!copy)
		return 0;
	static const char *const views[] = {"routes", "members", "registry"};
	for (size_t i = 0; i < 3; i++) {
		memcpy(copy, data, size);
		copy[size] = '\0';
		(void)show_view_reply("fuzz0", views[i], false, false, copy, size);
		memcpy(copy, data, size);
		(void)show_view_reply("fuzz0", views[i], true, true, copy, size);
	}
	free(copy);
	return 0;
}
