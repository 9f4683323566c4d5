// SPDX-License-Identifier: ISC
/* alamesh genpsk: 32 random bytes in base64, a pre-shared key as `wg genpsk` makes. */
#include <sodium.h>

#include "daemon/cli/subcommands.h"

static void random_key(uint8_t key[WG_KEY_LEN])
{
	randombytes_buf(key, WG_KEY_LEN);
}

int genpsk_main(int argc, const char *argv[])
{
	return cli_new_key_main(argc, argv, random_key);
}
