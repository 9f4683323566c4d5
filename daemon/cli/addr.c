// SPDX-License-Identifier: ISC
/* alamesh addr [PUBKEY]: the mesh address of a public key (DESIGN.md, "Address"). */
#include <arpa/inet.h>
#include <stdio.h>

#include "daemon/cli/subcommands.h"
#include "routing/address.h"
#include "wgproto/encoding.h"

static void addr_usage(FILE *f, const char *name)
{
	fprintf(f, "Usage: %s %s [PUBLIC_KEY]\n", prog_name, name);
	fprintf(f, "Without an argument the public key is read from stdin.\n");
}

int addr_main(int argc, const char *argv[])
{
	uint8_t key[WG_KEY_LEN];
	struct in6_addr a;
	char text[INET6_ADDRSTRLEN];
	bool ok;

	if (argc == 2 && cli_is_help(argv[1])) {
		addr_usage(stdout, argv[0]);
		return 0;
	}
	if (argc > 2) {
		addr_usage(stderr, argv[0]);
		return 1;
	}
	ok = argc == 2 ? key_from_base64(key, argv[1]) : cli_read_key_stdin(key);
	if (!ok) {
		fprintf(stderr, "%s %s: Key is not the correct length or format\n", prog_name,
			argv[0]);
		return 1;
	}
	alamesh_addr(&a, key);
	if (!inet_ntop(AF_INET6, &a, text, sizeof(text)))
		return 1;
	puts(text);
	return cli_flush_stdout(argv[0]) ? 0 : 1;
}
