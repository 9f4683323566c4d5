/* SPDX-License-Identifier: ISC */
/*
 * Text that came from the registry or from a git remote (file names, values
 * of member files, a server's error message) on its way to a log line or a
 * key=value line of the control socket. A name may hold any byte git
 * allows, a newline included: unescaped, it would forge reply lines.
 */
#ifndef ALAMESH_ESCAPE_H
#define ALAMESH_ESCAPE_H

#include <stddef.h>

/*
 * Copies len bytes of in to out (size outlen > 0, always NUL-terminated),
 * with every byte outside printable ASCII written as \xNN and a backslash
 * as \\, so the result is one line that reads back unambiguously. A result
 * that does not fit is cut before an escape, never inside one. Returns the
 * length written.
 */
size_t escape_text(char *out, size_t outlen, const char *in, size_t len);

#endif
