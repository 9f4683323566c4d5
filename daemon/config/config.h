/* SPDX-License-Identifier: ISC */
/* The alamesh.conf(5) file: [Interface] and repeatable [Peer], read with inih. */
#ifndef ALAMESH_CONFIG_H
#define ALAMESH_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

/*
 * Part of the public face of the config module too, so that a caller
 * needs this header alone: config_valid_ifname() and CONFIG_IFNAME_RULE,
 * config_parse_endpoint().
 */
#include "daemon/config/endpoint.h"
#include "daemon/config/ifname.h"
#include "wgproto/constants.h"

#define CONFIG_MAX_PEERS 4096

struct config_peer {
	uint8_t public_key[WG_KEY_LEN];
	uint8_t preshared_key[WG_KEY_LEN];
	bool has_preshared_key;
	struct sockaddr_storage endpoint; /* ss_family AF_UNSPEC when absent */
	socklen_t endpoint_len;
	uint16_t persistent_keepalive; /* seconds, 0 = off */
	int line;		       /* where its [Peer] section starts */
};

struct config {
	char path[4096];
	char ifname[16];		 /* IFNAMSIZ */
	int name_line;			 /* of Name =, 0 if the default */
	uint8_t private_key[WG_KEY_LEN]; /* wiped by config_free */
	bool has_private_key;
	uint16_t listen_port; /* 0 = pick one */
	uint32_t mtu;
	/* User = / Group =: the account alameshd drops to once the interface is up. */
	bool has_user, has_group;
	uid_t uid;
	gid_t gid;
	char user[64];
	/* [Registry] */
	bool has_registry;
	char registry_url[1024];
	char registry_branch[256];
	uint32_t registry_interval;	 /* seconds */
	uint32_t registry_fetch_timeout; /* seconds one fetch may take */
	char registry_cache_dir[1024];
	bool registry_allow_empty, registry_require_ff;
	uint32_t registry_max_members;
	uint32_t registry_max_peers; /* members dialled at most */
	char registry_ca_file[1024]; /* "" = the system's authorities */
	struct config_peer *peers;
	size_t npeers;
};

/*
 * Reads path into cfg. Every problem is printed to errs as
 * "FILE:LINE: message" (one per line; warnings as "FILE:LINE: warning:
 * message"), or with errs NULL logged with that text through log_error()
 * and log_warn(), as a running daemon does. With strict, unknown keys and
 * sections are errors; otherwise they are warnings. Returns the number of
 * errors (0 = usable); cfg must be config_free()d either way.
 */
int config_load(struct config *cfg, const char *path, bool strict, FILE *errs);
/*
 * The same for an already open stream (a string through fmemopen, a fuzz
 * input); name stands for the file in messages and relative
 * PrivateKeyFile paths. The stream is not closed.
 */
int config_load_file(struct config *cfg, FILE *f, const char *name, bool strict, FILE *errs);
/* Wipes the private key and frees the peers. */
void config_free(struct config *cfg);

#endif
