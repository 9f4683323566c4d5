// SPDX-License-Identifier: ISC
/* alamesh showconf: the running interface as a wg(8) configuration, for `wg setconf`. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "daemon/cli/ipc.h"
#include "daemon/cli/subcommands.h"
#include "wgproto/encoding.h"

int showconf_main(int argc, const char *argv[])
{
	struct uapi_device_info dev;
	char b64[WG_KEY_B64_LEN + 1];

	if (argc == 2 && cli_is_help(argv[1])) {
		printf("Usage: %s %s <interface>\n", prog_name, argv[0]);
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "Usage: %s %s <interface>\n", prog_name, argv[0]);
		return 1;
	}
	if (ipc_get(argv[1], &dev) < 0) {
		uapi_device_info_free(&dev);
		return 1;
	}
	printf("[Interface]\n");
	if (dev.listen_port)
		printf("ListenPort = %u\n", dev.listen_port);
	if (dev.fwmark)
		printf("FwMark = 0x%x\n", dev.fwmark);
	if (dev.has_private_key) {
		key_to_base64(b64, dev.private_key);
		printf("PrivateKey = %s\n", b64);
	}
	printf("\n");
	for (size_t i = 0; i < dev.npeers; i++) {
		const struct uapi_peer_info *p = &dev.peers[i];
		key_to_base64(b64, p->public_key);
		printf("[Peer]\nPublicKey = %s\n", b64);
		if (p->has_preshared_key) {
			key_to_base64(b64, p->preshared_key);
			printf("PresharedKey = %s\n", b64);
		}
		if (p->nallowed)
			printf("AllowedIPs = ");
		for (size_t j = 0; j < p->nallowed; j++)
			printf("%s%s", p->allowed_ips[j], j + 1 < p->nallowed ? ", " : "\n");
		if (p->endpoint[0])
			printf("Endpoint = %s\n", p->endpoint);
		if (p->persistent_keepalive)
			printf("PersistentKeepalive = %u\n", p->persistent_keepalive);
		if (i + 1 < dev.npeers)
			printf("\n");
	}
	sodium_memzero(b64, sizeof(b64));
	uapi_device_info_free(&dev);
	return cli_flush_stdout(argv[0]) ? 0 : 1;
}
