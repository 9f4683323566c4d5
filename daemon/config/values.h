/* SPDX-License-Identifier: ISC */
/*
 * The plain values of alamesh.conf(5) keys: numbers, ports, durations and
 * booleans, each as strict as the file format is; and a key's name looked
 * up in its section's table.
 */
#ifndef ALAMESH_CONFIG_VALUES_H
#define ALAMESH_CONFIG_VALUES_H

#include <stdbool.h>
#include <stdint.h>

/* Decimal digits only: no sign, no blanks, no hex; at most max. */
bool config_parse_uint(const char *s, uint32_t max, uint32_t *out);
/* 1 to 65535. */
bool config_parse_port(const char *s, uint16_t *port);
/* "90", "90s", "15m", "1h": from min to max seconds. */
bool config_parse_duration(const char *s, uint32_t min, uint32_t max, uint32_t *secs);
/* yes, true or 1; no, false or 0. */
bool config_parse_bool(const char *s, bool *out);

/* Index of name in keys (count of them, any case), or -1. */
int config_key_index(const char *const *keys, int count, const char *name);

#endif
