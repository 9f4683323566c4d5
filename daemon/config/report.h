/* SPDX-License-Identifier: ISC */
/*
 * The messages of a reading of alamesh.conf(5): "FILE:LINE: message" to
 * the caller's stream, or through the log in a running daemon; keys in
 * them are never shown.
 */
#ifndef ALAMESH_CONFIG_REPORT_H
#define ALAMESH_CONFIG_REPORT_H

#include <stdbool.h>

#include "daemon/config/parser.h"

/*
 * Reports a problem on line (0 = the file as a whole): an error, counted in
 * p->errors, or a warning. A key in the text is replaced by
 * "(a key, not shown)".
 */
__attribute__((format(printf, 4, 5))) void config_report(struct parser *p, int line, bool error,
							 const char *fmt, ...);

/* Unknown names are errors when checking a file, warnings when running. */
#define config_report_unknown(p, ...) config_report((p), (p)->line, (p)->strict, __VA_ARGS__)

#endif
