/* SPDX-License-Identifier: ISC */
/*
 * Dropping root once the TUN, the UDP socket and the control socket are
 * open: to the User = of the configuration, keeping only CAP_NET_ADMIN
 * (a new address when the private key changes, SO_MARK) and
 * CAP_NET_BIND_SERVICE (a new listen port below 1024).
 */
#ifndef ALAMESH_PRIVS_H
#define ALAMESH_PRIVS_H

#include <stdint.h>
#include <sys/types.h>

/* The capabilities kept, as a bit mask of the capability numbers. */
uint64_t privs_kept_mask(void);
/*
 * Switches every credential to uid/gid (no supplementary groups), keeps the
 * capabilities above in the permitted and effective sets, empties the
 * bounding set of all others and sets no_new_privs. Must run before any
 * thread is created: capabilities belong to threads, and new ones inherit
 * them. Returns 0, or a negative errno (the process must then exit).
 */
int privs_drop(uid_t uid, gid_t gid);
/*
 * Hands what runs as root left in a directory (the registry's cache, from
 * before User = was set or from a run without it since) to uid/gid, so the
 * unprivileged daemon can write there again. The directory must be root's or
 * uid's already, and writable by its owner alone. Only root's entries change
 * owner; symlinks are neither followed nor walked into; files with several
 * hard links and directories others may write to are left alone. Returns 0
 * (also when the path is missing), 1 when the directory is someone else's or
 * open to others (left as it is), or a negative errno.
 */
int privs_give_tree(const char *path, uid_t uid, gid_t gid);

#endif
