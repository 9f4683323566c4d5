/* SPDX-License-Identifier: ISC */
/*
 * The state of one reading of alamesh.conf(5), shared by the files that
 * read it: the line reader (reader.c), the section handlers (sections.c,
 * interface.c, peer.c, registry.c) and the whole-file checks (config.c).
 * Types only; each key table lives with its section's handler.
 */
#ifndef ALAMESH_CONFIG_PARSER_H
#define ALAMESH_CONFIG_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "daemon/config/config.h"

/* What the reader can hold of one line; longer lines are errors anyway. */
#define RAW_LINE_MAX 1024
/* Room for a key value ("44 characters of base64") and then some. */
#define SECRET_MAX 128

enum section { SEC_NONE, SEC_INTERFACE, SEC_PEER, SEC_REGISTRY, SEC_IGNORED };

enum iface_key {
	IK_NAME,
	IK_PRIVATE_KEY,
	IK_PRIVATE_KEY_FILE,
	IK_LISTEN_PORT,
	IK_MTU,
	IK_USER,
	IK_GROUP,
	IK_COUNT
};
enum peer_key { PK_PUBLIC_KEY, PK_PRESHARED_KEY, PK_ENDPOINT, PK_KEEPALIVE, PK_COUNT };
enum registry_key {
	RK_URL,
	RK_BRANCH,
	RK_INTERVAL,
	RK_CACHE_DIR,
	RK_ALLOW_EMPTY,
	RK_REQUIRE_FF,
	RK_MAX_MEMBERS,
	RK_CA_FILE,
	RK_MAX_PEERS,
	RK_FETCH_TIMEOUT,
	RK_COUNT
};

/* The line each key was set on (0 = not set), for duplicates and later checks. */
struct peer_lines {
	int key[PK_COUNT];
	bool valid_key; /* PublicKey parsed */
};

struct parser {
	struct config *cfg;
	FILE *in;
	FILE *errs;
	const char *name;
	bool strict;
	bool group_readable; /* the config file itself */
	int line;
	int errors;
	enum section section;
	int interface_line;
	int iface_lines[IK_COUNT];
	int registry_line;
	int registry_lines[RK_COUNT];
	struct peer_lines *plines;
	size_t peers_cap;
	bool too_many_peers;
	char raw[RAW_LINE_MAX];
	char secret[SECRET_MAX];
	bool secret_overflow;
};

#endif
