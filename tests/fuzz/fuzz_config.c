/* SPDX-License-Identifier: ISC */
/* alamesh.conf(5) parsing: arbitrary bytes as a config file, strict and not. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "daemon/config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct config cfg;
	FILE *f;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	/* fmemopen() refuses an empty buffer; an empty file is covered by a seed. */
	if (size == 0 || !devnull)
		return 0;
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	/* The first byte picks the mode, so both paths get explored. */
	config_load_file(&cfg, f, "fuzz.conf", data[0] & 1, devnull);
	fclose(f);
	if (cfg.npeers > CONFIG_MAX_PEERS || cfg.mtu < ALAMESH_MIN_MTU || cfg.mtu > ALAMESH_MAX_MTU)
		__builtin_trap();
	config_free(&cfg);
	return 0;
}
