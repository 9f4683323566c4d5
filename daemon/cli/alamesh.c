// SPDX-License-Identifier: ISC
/*
 * alamesh(8): the command-line tool, modelled on wg(8). main() only picks
 * the subcommand; each one lives in its own file.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/cli/subcommands.h"
#include "wgproto/crypto.h"

static const struct {
	const char *name;
	int (*run)(int argc, const char *argv[]);
	const char *description;
} subcommands[] = {
    {"show", show_main, "Shows the current configuration and device information"},
    {"showconf", showconf_main, "Shows the current configuration of a given interface"},
    {"set", set_main, "Changes the current configuration, adds or removes peers"},
    {"genkey", genkey_main, "Generates a new private key and writes it to stdout"},
    {"genpsk", genpsk_main, "Generates a new preshared key and writes it to stdout"},
    {"pubkey", pubkey_main, "Reads a private key from stdin and writes its public key to stdout"},
    {"addr", addr_main, "Writes the mesh address of a public key given or read from stdin"},
    {"sync", sync_main, "Pulls the registry now and waits for the outcome"},
    {"registry", registry_main, "Checks a registry checkout, or adds a member to one"},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s <cmd> [<args>]\n\n", prog_name);
	fprintf(f, "Available subcommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %s: %s\n", subcommands[i].name, subcommands[i].description);
	fprintf(f, "You may pass `--help' to any of these subcommands to view usage.\n");
}

int main(int argc, const char *argv[])
{
	prog_name = argv[0] ? argv[0] : "alamesh";
	if (argc < 2) {
		/* As `wg` alone does: what a user typing the bare command wants to see. */
		static const char *show_argv[] = {"show", NULL};
		return show_main(1, show_argv);
	}
	if (cli_is_help(argv[1])) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version")) {
		printf("alamesh v%s\n", ALAMESH_VERSION);
		return 0;
	}
	if (!wg_crypto_init()) {
		fprintf(stderr, "%s: cannot initialise libsodium\n", prog_name);
		return 1;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].run(argc - 1, argv + 1);

	fprintf(stderr, "Invalid subcommand: `%s'\n", argv[1]);
	usage(stderr);
	return 1;
}
