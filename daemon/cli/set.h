/* SPDX-License-Identifier: ISC */
/* The grammar of alamesh set (wg(8)'s), apart from the socket, for the unit tests. */
#ifndef ALAMESH_CLI_SET_H
#define ALAMESH_CLI_SET_H

#include <stddef.h>

/*
 * Turns `set IFACE ARGS...` (argv[0] is "set", argv[1] the interface) into
 * the body of a set=1 request: the key=value lines between "set=1\n" and
 * the final empty line, in the order wg(8) sends them. Returns a malloc'd
 * string (it may hold keys: sodium_memzero it before free), or NULL after
 * printing why on stderr.
 */
char *set_request(int argc, const char *argv[], size_t *len);

#endif
