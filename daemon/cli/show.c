// SPDX-License-Identifier: ISC
/*
 * alamesh show: every form of `wg show`, in the same layout, so that what a
 * WireGuard user reads and what their scripts parse stays the same; plus
 * alamesh's own views (routes, members, registry), asked of the daemon.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/cli/ipc.h"
#include "daemon/cli/show_print.h"
#include "daemon/cli/subcommands.h"

#define SHOW_FIELDS                                                                                \
	"public-key | private-key | listen-port | fwmark | peers | preshared-keys | endpoints | "  \
	"allowed-ips | latest-handshakes | transfer | persistent-keepalive | dump | "              \
	"routes [dump] | members | registry | stats | nat"

static void show_usage(FILE *f)
{
	fprintf(f, "Usage: %s show { <interface> | all | interfaces } [%s]\n", prog_name,
		SHOW_FIELDS);
}

/* alamesh's own views: asked with get=VIEW; errno 95 (EOPNOTSUPP) means not configured. */
static int show_view(const char *ifname, const char *view, bool dump, bool with_interface)
{
	char req[32], *reply;
	size_t len;
	int n = snprintf(req, sizeof(req), "get=%s\n\n", view);

	if (ipc_request(ifname, req, (size_t)n, &reply, &len) < 0)
		return 1;
	int rc = show_view_reply(ifname, view, dump, with_interface, reply, len);
	free(reply);
	return rc;
}

static int show_one(const char *ifname, const char *field, bool dump, bool with_interface)
{
	struct uapi_device_info dev;

	if (field && show_is_view(field))
		return show_view(ifname, field, dump, with_interface);
	if (ipc_get(ifname, &dev) < 0) {
		uapi_device_info_free(&dev);
		return 1;
	}
	if (field)
		show_field(&dev, field, with_interface);
	else
		show_pretty(&dev);
	uapi_device_info_free(&dev);
	return 0;
}

int show_main(int argc, const char *argv[])
{
	char(*names)[16];
	const char *field = argc >= 3 ? argv[2] : NULL;
	/* `routes dump`: the routes one tab-separated line each, for scripts. */
	bool dump = argc == 4 && field && !strcmp(field, "routes") && !strcmp(argv[3], "dump");
	int rc = 0;

	if (argc == 2 && cli_is_help(argv[1])) {
		show_usage(stdout);
		return 0;
	}
	if ((argc > 3 && !dump) || (field && !show_valid_field(field))) {
		if (field && !show_valid_field(field))
			fprintf(stderr, "Invalid parameter: `%s'\n", field);
		show_usage(stderr);
		return 1;
	}
	if (argc >= 2 && !strcmp(argv[1], "interfaces")) {
		if (field) {
			show_usage(stderr);
			return 1;
		}
		size_t n = ipc_list(&names);
		for (size_t i = 0; i < n; i++)
			printf("%s%c", names[i], i + 1 < n ? ' ' : '\n');
		free(names);
		return cli_flush_stdout(argv[0]) ? 0 : 1;
	}
	if (argc == 1 || !strcmp(argv[1], "all")) {
		size_t n = ipc_list(&names);
		for (size_t i = 0; i < n; i++) {
			if (show_one(names[i], field, dump, true))
				rc = 1;
			else if (!field && i + 1 < n)
				printf("\n");
		}
		free(names);
	} else {
		rc = show_one(argv[1], field, dump, false);
	}
	if (!cli_flush_stdout(argv[0]))
		rc = 1;
	return rc;
}
