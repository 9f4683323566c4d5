/* SPDX-License-Identifier: ISC */
/*
 * The systemd readiness protocol, spoken directly (no libsystemd): one
 * datagram of "KEY=value" lines to the AF_UNIX socket named by
 * $NOTIFY_SOCKET (a path, or "@name" in the abstract namespace).
 */
#ifndef ALAMESH_NOTIFY_H
#define ALAMESH_NOTIFY_H

/* Sends state; 0 when sent or when not run by systemd, else a negative errno. */
int notify_send(const char *state);

#endif
