/* SPDX-License-Identifier: ISC */
/* The names an alamesh interface may have: Name = in alamesh.conf(5), alameshd -i. */
#ifndef ALAMESH_CONFIG_IFNAME_H
#define ALAMESH_CONFIG_IFNAME_H

#include <stdbool.h>

/* Whether s may name the interface (Name =, alameshd -i); the rule in words. */
bool config_valid_ifname(const char *s);
#define CONFIG_IFNAME_RULE "1 to 15 characters, no '/', ':' or blanks"

#endif
