/* SPDX-License-Identifier: ISC */
#include "daemon/platform/udp.h"

#include <arpa/inet.h>
#include <netinet/udp.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Room for a burst of full batches while the event loop is busy elsewhere. */
#define UDP_SOCKET_BUFFER (4 * 1024 * 1024)

/*
 * The FORCE variants ignore net.core.[rw]mem_max but need CAP_NET_ADMIN;
 * without it the plain ones give what the sysctl allows. Either way a
 * small buffer only costs throughput, so failures are not fatal.
 */
static void raise_buffer(int fd, int force_opt, int opt)
{
	int size = UDP_SOCKET_BUFFER;

	if (setsockopt(fd, SOL_SOCKET, force_opt, &size, sizeof(size)) == 0)
		return;
	(void)setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size));
}

int udp_open(uint16_t *port)
{
	struct sockaddr_in6 sin6;
	socklen_t len = sizeof(sin6);
	int off = 0;
	int fd, err;

	if (!port)
		return -EINVAL;
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0)
		goto fail;
	raise_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF);
	raise_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF);
	/* Trains of datagrams arrive whole (a kernel without UDP GRO just says no). */
	int on = 1;
	(void)setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof(on));

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_any;
	sin6.sin6_port = htons(*port);
	if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0)
		goto fail;
	if (getsockname(fd, (struct sockaddr *)&sin6, &len) < 0)
		goto fail;
	*port = ntohs(sin6.sin6_port);
	return fd;
fail:
	err = errno;
	close(fd);
	return -err;
}

void udp_to_v6(const struct sockaddr_storage *in, struct sockaddr_in6 *out)
{
	memset(out, 0, sizeof(*out));
	if (in->ss_family == AF_INET6) {
		memcpy(out, in, sizeof(*out));
		return;
	}
	if (in->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)in;

		out->sin6_family = AF_INET6;
		out->sin6_port = sin->sin_port;
		out->sin6_addr.s6_addr[10] = 0xff;
		out->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&out->sin6_addr.s6_addr[12], &sin->sin_addr, 4);
	}
	/* Any other family stays AF_UNSPEC: "no address". */
}

void udp_from_v6(const struct sockaddr_in6 *in, struct sockaddr_storage *out, socklen_t *len)
{
	memset(out, 0, sizeof(*out));
	if (in->sin6_family != AF_INET6) {
		*len = 0;
		return;
	}
	if (IN6_IS_ADDR_V4MAPPED(&in->sin6_addr)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)out;

		sin->sin_family = AF_INET;
		sin->sin_port = in->sin6_port;
		memcpy(&sin->sin_addr, &in->sin6_addr.s6_addr[12], 4);
		*len = sizeof(*sin);
		return;
	}
	memcpy(out, in, sizeof(*in));
	*len = sizeof(*in);
}

const char *udp_format(const struct sockaddr_in6 *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	unsigned int port = ntohs(sa->sin6_port);

	if (!buf || len == 0)
		return "";
	if (sa->sin6_family != AF_INET6) {
		snprintf(buf, len, "(none)");
		return buf;
	}
	if (IN6_IS_ADDR_V4MAPPED(&sa->sin6_addr)) {
		inet_ntop(AF_INET, &sa->sin6_addr.s6_addr[12], host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, port);
		return buf;
	}
	inet_ntop(AF_INET6, &sa->sin6_addr, host, sizeof(host));
	if (sa->sin6_scope_id)
		snprintf(buf, len, "[%s%%%u]:%u", host, (unsigned int)sa->sin6_scope_id, port);
	else
		snprintf(buf, len, "[%s]:%u", host, port);
	return buf;
}

size_t udp_cookie_src(const struct sockaddr_in6 *sa, uint8_t out[18])
{
	memcpy(out, sa->sin6_addr.s6_addr, 16);
	/* sin6_port is already big-endian. */
	memcpy(out + 16, &sa->sin6_port, 2);
	return 18;
}

bool udp_same(const struct sockaddr_in6 *a, const struct sockaddr_in6 *b)
{
	return a->sin6_family == b->sin6_family && a->sin6_port == b->sin6_port &&
	       a->sin6_scope_id == b->sin6_scope_id &&
	       memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0;
}
