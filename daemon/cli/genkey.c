// SPDX-License-Identifier: ISC
/* alamesh genkey: a clamped random private key in base64, as `wg genkey` makes. */
#include "daemon/cli/subcommands.h"
#include "wgproto/crypto.h"

int genkey_main(int argc, const char *argv[])
{
	return cli_new_key_main(argc, argv, wg_generate_private_key);
}
