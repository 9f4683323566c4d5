/* SPDX-License-Identifier: ISC */
/*
 * The [Interface] section of alamesh.conf(5): Name, PrivateKey or
 * PrivateKeyFile, ListenPort, MTU, User and Group.
 */
#ifndef ALAMESH_CONFIG_INTERFACE_H
#define ALAMESH_CONFIG_INTERFACE_H

#include "daemon/config/parser.h"

/*
 * One "name = value" line of [Interface] into p->cfg, its line noted in
 * p->iface_lines; PrivateKey's value is in p->secret, not in value.
 */
void config_interface_key(struct parser *p, const char *name, const char *value);

#endif
