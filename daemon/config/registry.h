/* SPDX-License-Identifier: ISC */
/*
 * The [Registry] section of alamesh.conf(5): the git repository of members
 * to follow (URL, Branch, CAFile), how often and how long to fetch it
 * (Interval, FetchTimeout), where to keep it (CacheDir), and what to take
 * from it (AllowEmpty, RequireFastForward, MaxMembers, MaxPeers).
 */
#ifndef ALAMESH_CONFIG_REGISTRY_H
#define ALAMESH_CONFIG_REGISTRY_H

#include "daemon/config/parser.h"

/* One "name = value" line of [Registry] into p->cfg, its line noted in p->registry_lines. */
void config_registry_key(struct parser *p, const char *name, const char *value);

#endif
