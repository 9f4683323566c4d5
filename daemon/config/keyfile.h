/* SPDX-License-Identifier: ISC */
/* PrivateKeyFile =: a private key read from its own file, as wg genkey writes it. */
#ifndef ALAMESH_CONFIG_KEYFILE_H
#define ALAMESH_CONFIG_KEYFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/config/parser.h"
#include "wgproto/constants.h"

/*
 * Reads the key in the file value names (relative to the config file's
 * directory) into key, reporting what is wrong on p's current line:
 * returns false after an error, warns of a file group or others can read.
 */
bool config_read_key_file(struct parser *p, const char *value, uint8_t key[WG_KEY_LEN]);

#endif
