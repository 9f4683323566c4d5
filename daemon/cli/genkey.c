// SPDX-License-Identifier: ISC
/* alamesh genkey: a clamped random private key in base64, as `wg genkey` makes. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "daemon/cli/subcommands.h"
#include "wgproto/crypto.h"
#include "wgproto/encoding.h"

int genkey_main(int argc, const char *argv[])
{
	uint8_t key[WG_KEY_LEN];
	char text[WG_KEY_B64_LEN + 1];

	if (argc == 2 && cli_is_help(argv[1])) {
		printf("Usage: %s %s\n", prog_name, argv[0]);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "Usage: %s %s\n", prog_name, argv[0]);
		return 1;
	}
	cli_warn_if_world_accessible();
	wg_generate_private_key(key);
	key_to_base64(text, key);
	puts(text);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(text, sizeof(text));
	return cli_flush_stdout(argv[0]) ? 0 : 1;
}
