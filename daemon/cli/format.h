/* SPDX-License-Identifier: ISC */
/*
 * How alamesh show words durations and byte counts: exactly as wg(8) does,
 * so that people and scripts reading one read the other. The strings carry
 * the colour escapes; terminal_printf() removes them when colour is off.
 * Pure (the clock is passed in), for the unit tests.
 */
#ifndef ALAMESH_CLI_FORMAT_H
#define ALAMESH_CLI_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* "1 year, 2 days, 1 minute, 3 seconds" (empty for 0); returns its length. */
size_t format_duration(char *buf, size_t len, uint64_t secs);
/* "1 minute, 3 seconds ago", "Now", or a warning when then is in the future. */
void format_ago(char *buf, size_t len, uint64_t then, uint64_t now);
/* "every 25 seconds". */
void format_every(char *buf, size_t len, uint64_t secs);
/* "512 B", "1.23 KiB", ... up to TiB, two decimals from KiB on. */
void format_bytes(char *buf, size_t len, uint64_t bytes);

#endif
