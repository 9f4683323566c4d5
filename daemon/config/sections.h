/* SPDX-License-Identifier: ISC */
/*
 * The sections of alamesh.conf(5): a [Section] header starts one, and each
 * "Key = Value" line goes to the handler of the section it is in
 * ([Interface], [Peer], [Registry]).
 */
#ifndef ALAMESH_CONFIG_SECTIONS_H
#define ALAMESH_CONFIG_SECTIONS_H

#include "daemon/config/parser.h"

/* A "[name]" header on p's current line: the section its keys go to from now on. */
void config_begin_section(struct parser *p, const char *name);
/* An ini_handler (user is the struct parser): one key of the current section. */
int config_handler(void *user, const char *section, const char *name, const char *value);

#endif
