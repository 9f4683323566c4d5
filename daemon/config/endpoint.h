/* SPDX-License-Identifier: ISC */
/*
 * A peer's endpoint as people write it (Endpoint = in alamesh.conf(5),
 * alamesh set ... endpoint, the registry's members): host and UDP port.
 */
#ifndef ALAMESH_CONFIG_ENDPOINT_H
#define ALAMESH_CONFIG_ENDPOINT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

/*
 * Parses "host:port", "[v6]:port" or "v4:port" (numeric hosts, or a name
 * resolved with getaddrinfo). Returns false with a reason in *why.
 */
bool config_parse_endpoint(const char *s, struct sockaddr_storage *ss, socklen_t *len,
			   const char **why);

#endif
