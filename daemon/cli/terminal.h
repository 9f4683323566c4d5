/* SPDX-License-Identifier: ISC */
/* ANSI colour for alamesh show, only when it is wanted (see terminal.c). */
#ifndef ALAMESH_CLI_TERMINAL_H
#define ALAMESH_CLI_TERMINAL_H

#include <stdbool.h>

#define TERM_RESET  "\x1b[0m"
#define TERM_BOLD   "\x1b[1m"
#define TERM_RED    "\x1b[31m"
#define TERM_GREEN  "\x1b[32m"
#define TERM_YELLOW "\x1b[33m"
#define TERM_CYAN   "\x1b[36m"

bool terminal_colour(void);
/* printf to stdout, with the escape sequences removed when colour is off. */
void terminal_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
