// SPDX-License-Identifier: ISC
/* alamesh pubkey: private key on stdin, public key on stdout, as `wg pubkey`. */
#include <stdio.h>

#include <sodium.h>

#include "daemon/cli/subcommands.h"
#include "wgproto/crypto.h"
#include "wgproto/encoding.h"

int pubkey_main(int argc, const char *argv[])
{
	uint8_t private_key[WG_KEY_LEN], public_key[WG_KEY_LEN];
	char text[WG_KEY_B64_LEN + 1];

	if (argc == 2 && cli_is_help(argv[1])) {
		printf("Usage: %s %s < PRIVATE_KEY_FILE\n", prog_name, argv[0]);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "Usage: %s %s < PRIVATE_KEY_FILE\n", prog_name, argv[0]);
		return 1;
	}
	if (!cli_read_key_stdin(private_key)) {
		sodium_memzero(private_key, sizeof(private_key));
		fprintf(stderr, "%s %s: Key is not the correct length or format\n", prog_name,
			argv[0]);
		return 1;
	}
	wg_public_key(public_key, private_key);
	sodium_memzero(private_key, sizeof(private_key));
	key_to_base64(text, public_key);
	puts(text);
	return cli_flush_stdout(argv[0]) ? 0 : 1;
}
