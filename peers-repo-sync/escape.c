// SPDX-License-Identifier: ISC
/* Escaping untrusted text for one line of output (see escape.h). */
#include <stdio.h>

#include "peers-repo-sync/escape.h"

size_t escape_text(char *out, size_t outlen, const char *in, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		char esc[5];
		size_t elen;
		if (c == '\\') {
			esc[0] = esc[1] = '\\';
			elen = 2;
		} else if (c < 0x20 || c > 0x7e) {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			elen = 4;
		} else {
			esc[0] = (char)c;
			elen = 1;
		}
		if (n + elen >= outlen)
			break;
		for (size_t j = 0; j < elen; j++)
			out[n++] = esc[j];
	}
	out[n] = '\0';
	return n;
}
