// SPDX-License-Identifier: ISC
/* alamesh sync: pull the registry now, wait for the outcome and print it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/cli/ipc.h"
#include "daemon/cli/subcommands.h"

int sync_main(int argc, const char *argv[])
{
	char *reply;
	size_t len;

	if (argc == 2 && cli_is_help(argv[1])) {
		printf("Usage: %s %s <interface>\n", prog_name, argv[0]);
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "Usage: %s %s <interface>\n", prog_name, argv[0]);
		return 1;
	}
	ipc_timeout_ms = 310 * 1000; /* the daemon gives a sync 300 seconds */
	if (ipc_request(argv[1], "sync=1\n\n", 8, &reply, &len) < 0)
		return 1;
	reply[len - 1] = '\0';
	const char *result = strstr(reply, "result=");
	const char *err = strstr(reply, "errno=");
	int e = err ? atoi(err + 6) : -1;
	if (e == 95) {
		printf("%s: registry: not configured\n", argv[1]);
		free(reply);
		return 1;
	}
	if (result) {
		const char *end = strchr(result, '\n');
		printf("%s: %.*s\n", argv[1], (int)(end ? end - result - 7 : 0), result + 7);
	}
	free(reply);
	return e == 0 ? 0 : 1;
}
