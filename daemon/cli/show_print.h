/* SPDX-License-Identifier: ISC */
/*
 * The printing half of alamesh show: a device read from the control socket
 * in each of wg(8)'s layouts, and the answers to alamesh's own views. Its
 * input comes from the socket, so it must hold up against anything the
 * parser lets through (tests/fuzz/fuzz_cli_get.c).
 */
#ifndef ALAMESH_CLI_SHOW_PRINT_H
#define ALAMESH_CLI_SHOW_PRINT_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/cli/uapi_reply.h"

/* A field of `show IFACE FIELD`: wg's, or one of alamesh's views. */
bool show_valid_field(const char *f);
/* routes, members, registry: answered by the daemon, not by get=1. */
bool show_is_view(const char *f);
/* The pretty form; sorts the peers, latest handshake first, as wg does. */
void show_pretty(struct uapi_device_info *dev);
/* One of wg's tab-separated forms (or dump); the interface first with `all`. */
void show_field(const struct uapi_device_info *dev, const char *field, bool with_interface);
/*
 * Prints the daemon's answer (reply, len bytes, a whole answer as
 * ipc_request returns it, modified in place) to get=VIEW; routes in a table
 * for people, or with dump one tab-separated line each. With
 * with_interface (show all) every line of members, registry and the routes
 * dump starts with ifname and a tab, and the routes table has an
 * "interface:" heading. Returns the exit status: errno=95 is "not
 * configured" and 0.
 */
int show_view_reply(const char *ifname, const char *view, bool dump, bool with_interface,
		    char *reply, size_t len);

#endif
