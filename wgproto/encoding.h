/* SPDX-License-Identifier: ISC */
/* Keys as text: base64 (files, commands) and hex (the control socket). */
#ifndef ALAMESH_ENCODING_H
#define ALAMESH_ENCODING_H

#include <stdbool.h>
#include <stdint.h>

#include "constants.h"

#define WG_KEY_HEX_LEN 64

/* out gets 44 characters and a NUL. */
void key_to_base64(char out[WG_KEY_B64_LEN + 1], const uint8_t key[WG_KEY_LEN]);
/* Exactly 44 characters, last '=', canonical; no partial writes on failure. Constant time. */
bool key_from_base64(uint8_t key[WG_KEY_LEN], const char *s);
void key_to_hex(char out[WG_KEY_HEX_LEN + 1], const uint8_t key[WG_KEY_LEN]);
bool key_from_hex(uint8_t key[WG_KEY_LEN], const char *s);

#endif
