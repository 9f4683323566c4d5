/* SPDX-License-Identifier: ISC */
/* A peer's endpoint as people write it: "host:port", "[v6]:port". */
#include "daemon/config/endpoint.h"

#include <netdb.h>
#include <stdint.h>
#include <string.h>

#include "daemon/config/values.h"

#define HOST_MAX 256

static bool resolve(const char *host, bool bracketed, struct sockaddr_storage *ss, socklen_t *len,
		    const char **why)
{
	struct addrinfo hints, *res = NULL;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = bracketed ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	/* Numeric first: no resolver round trip for the common case. */
	hints.ai_flags = AI_NUMERICHOST;
	rc = getaddrinfo(host, NULL, &hints, &res);
#ifndef ALAMESH_FUZZING
	if (rc == EAI_NONAME && !bracketed) {
		hints.ai_flags = 0;
		rc = getaddrinfo(host, NULL, &hints, &res);
	}
#endif
	if (rc != 0) {
		*why = bracketed && rc == EAI_NONAME ? "not an IPv6 address" : gai_strerror(rc);
		return false;
	}
	if (!res || res->ai_addrlen > sizeof(*ss) ||
	    (res->ai_family != AF_INET && res->ai_family != AF_INET6)) {
		freeaddrinfo(res);
		*why = "no usable address";
		return false;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return true;
}

bool config_parse_endpoint(const char *s, struct sockaddr_storage *ss, socklen_t *len,
			   const char **why)
{
	char host[HOST_MAX];
	const char *h, *colon;
	size_t hlen;
	bool bracketed = s[0] == '[';
	uint16_t port;

	if (bracketed) {
		const char *end = strchr(s, ']');

		if (!end) {
			*why = "missing ']'";
			return false;
		}
		h = s + 1;
		hlen = (size_t)(end - h);
		colon = end + 1;
		if (*colon != ':') {
			*why = "missing port";
			return false;
		}
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			*why = "missing port";
			return false;
		}
		h = s;
		hlen = (size_t)(colon - s);
		if (memchr(h, ':', hlen)) {
			*why = "an IPv6 address needs brackets, as in [2001:db8::1]:51820";
			return false;
		}
	}
	if (hlen == 0) {
		*why = "missing host";
		return false;
	}
	if (hlen >= sizeof(host)) {
		*why = "host name too long";
		return false;
	}
	if (!config_parse_port(colon + 1, &port)) {
		*why = "port must be a number from 1 to 65535";
		return false;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';

	memset(ss, 0, sizeof(*ss));
	if (!resolve(host, bracketed, ss, len, why))
		return false;
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	return true;
}
