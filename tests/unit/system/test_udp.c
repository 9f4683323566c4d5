/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/platform/udp.h"

static struct sockaddr_in6 v6(const char *addr, uint16_t port)
{
	struct sockaddr_in6 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, addr, &sa.sin6_addr), 1);
	return sa;
}

static void test_open_flags(void **state)
{
	uint16_t port = 0;
	int fd = udp_open(&port);
	int v6only = -1, type = 0;
	socklen_t len = sizeof(v6only);

	(void)state;
	assert_true(fd >= 0);
	assert_int_not_equal(port, 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &len), 0);
	assert_int_equal(v6only, 0);
	len = sizeof(type);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len), 0);
	assert_int_equal(type, SOCK_DGRAM);
	close(fd);
}

static void test_buffers(void **state)
{
	uint16_t port = 0;
	int fd = udp_open(&port), probe, size = 1 << 20, got = 0;
	socklen_t len = sizeof(got);
	bool privileged;

	(void)state;
	assert_true(fd >= 0);
	/* Whether this process may use the FORCE variants at all. */
	probe = socket(AF_INET6, SOCK_DGRAM, 0);
	assert_true(probe >= 0);
	privileged = setsockopt(probe, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) == 0;
	close(probe);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len), 0);
	if (privileged)
		assert_true(got >= 4 * 1024 * 1024);
	else
		assert_true(got > 0);
	len = sizeof(got);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &len), 0);
	if (privileged)
		assert_true(got >= 4 * 1024 * 1024);
	close(fd);
}

static void test_port_in_use(void **state)
{
	uint16_t port = 0, again;
	int fd = udp_open(&port), fd2;

	(void)state;
	assert_true(fd >= 0);
	/* The same port is not shared: no SO_REUSEADDR. */
	again = port;
	fd2 = udp_open(&again);
	assert_int_equal(fd2, -EADDRINUSE);
	close(fd);
	assert_int_equal(udp_open(NULL), -EINVAL);
}

/* Sends "ping" from fd to dst and receives it on fd; returns the source. */
static struct sockaddr_in6 echo(int fd, const struct sockaddr_in6 *dst)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct sockaddr_in6 src;
	socklen_t len = sizeof(src);
	char buf[16];

	assert_int_equal(sendto(fd, "ping", 4, 0, (const struct sockaddr *)dst, sizeof(*dst)), 4);
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	memset(&src, 0, sizeof(src));
	assert_int_equal(recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&src, &len), 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(len, sizeof(src));
	return src;
}

static void test_loopback(void **state)
{
	uint16_t port = 0;
	int fd = udp_open(&port);
	struct sockaddr_in6 dst, src;
	struct sockaddr_in sin;
	struct sockaddr_storage ss;
	char buf[64], want[64];

	(void)state;
	assert_true(fd >= 0);

	dst = v6("::1", port);
	src = echo(fd, &dst);
	assert_true(udp_same(&src, &dst));
	snprintf(want, sizeof(want), "[::1]:%u", port);
	assert_string_equal(udp_format(&src, buf, sizeof(buf)), want);

	/* IPv4 through the same socket, as a v4-mapped address. */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, &sin, sizeof(sin));
	udp_to_v6(&ss, &dst);
	src = echo(fd, &dst);
	assert_true(IN6_IS_ADDR_V4MAPPED(&src.sin6_addr));
	assert_true(udp_same(&src, &dst));
	snprintf(want, sizeof(want), "127.0.0.1:%u", port);
	assert_string_equal(udp_format(&src, buf, sizeof(buf)), want);
	close(fd);
}

/* A plain IPv4 socket reaches the dual-stack one. */
static void test_from_ipv4_socket(void **state)
{
	uint16_t port = 0;
	int fd = udp_open(&port), fd4 = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sin;
	struct sockaddr_in6 src;
	socklen_t len = sizeof(src);
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char buf[8];

	(void)state;
	assert_true(fd >= 0 && fd4 >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(sendto(fd4, "v4", 2, 0, (struct sockaddr *)&sin, sizeof(sin)), 2);
	assert_int_equal(poll(&pfd, 1, 5000), 1);
	assert_int_equal(recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&src, &len), 2);
	assert_int_equal(src.sin6_family, AF_INET6);
	assert_true(IN6_IS_ADDR_V4MAPPED(&src.sin6_addr));
	assert_memory_equal(&src.sin6_addr.s6_addr[12], &sin.sin_addr, 4);
	close(fd4);
	close(fd);
}

static void test_conversions(void **state)
{
	struct sockaddr_storage ss, back;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 out, mapped;
	socklen_t len = 0;

	(void)state;
	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(51820);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.7", &sin->sin_addr), 1);
	udp_to_v6(&ss, &out);
	mapped = v6("::ffff:192.0.2.7", 51820);
	assert_int_equal(out.sin6_family, AF_INET6);
	assert_memory_equal(&out.sin6_addr, &mapped.sin6_addr, 16);
	assert_int_equal(out.sin6_port, htons(51820));
	assert_true(udp_same(&out, &mapped));

	udp_from_v6(&out, &back, &len);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(back.ss_family, AF_INET);
	assert_memory_equal(&((struct sockaddr_in *)&back)->sin_addr, &sin->sin_addr, 4);
	assert_int_equal(((struct sockaddr_in *)&back)->sin_port, htons(51820));

	/* A real IPv6 address passes both ways unchanged. */
	mapped = v6("2001:db8::5", 7);
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, &mapped, sizeof(mapped));
	udp_to_v6(&ss, &out);
	assert_true(udp_same(&out, &mapped));
	udp_from_v6(&out, &back, &len);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(back.ss_family, AF_INET6);
	assert_memory_equal(&back, &mapped, sizeof(mapped));

	/* Anything else is "no address". */
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	udp_to_v6(&ss, &out);
	assert_int_equal(out.sin6_family, AF_UNSPEC);
	udp_from_v6(&out, &back, &len);
	assert_int_equal(len, 0);
}

static void test_format(void **state)
{
	struct sockaddr_in6 sa = v6("fc00::1", 51820);
	char buf[64], tiny[6];

	(void)state;
	assert_string_equal(udp_format(&sa, buf, sizeof(buf)), "[fc00::1]:51820");
	sa = v6("::ffff:1.2.3.4", 51820);
	assert_string_equal(udp_format(&sa, buf, sizeof(buf)), "1.2.3.4:51820");
	sa = v6("fe80::1", 1);
	sa.sin6_scope_id = 3;
	assert_string_equal(udp_format(&sa, buf, sizeof(buf)), "[fe80::1%3]:1");
	/* Truncated, but always terminated. */
	sa = v6("2001:db8::1", 51820);
	assert_string_equal(udp_format(&sa, tiny, sizeof(tiny)), "[2001");
	memset(&sa, 0, sizeof(sa));
	assert_string_equal(udp_format(&sa, buf, sizeof(buf)), "(none)");
}

static void test_cookie_src(void **state)
{
	struct sockaddr_in6 sa = v6("2001:db8::1", 0x1234);
	uint8_t out[18];
	const uint8_t want6[18] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,	  0,
				   0,	 0,    0,    0,	   0, 0, 1, 0x12, 0x34};
	const uint8_t want4[18] = {0, 0,    0,	  0,  0, 0, 0, 0,    0,
				   0, 0xff, 0xff, 10, 0, 0, 1, 0xca, 0x6c};

	(void)state;
	assert_int_equal(udp_cookie_src(&sa, out), 18);
	assert_memory_equal(out, want6, 18);
	sa = v6("::ffff:10.0.0.1", 51820);
	assert_int_equal(udp_cookie_src(&sa, out), 18);
	/* ::ffff:10.0.0.1, then 51820 = 0xca6c. */
	assert_memory_equal(out, want4, 18);
}

static void test_same(void **state)
{
	struct sockaddr_in6 a = v6("2001:db8::1", 1), b = a;

	(void)state;
	assert_true(udp_same(&a, &b));
	b.sin6_port = htons(2);
	assert_false(udp_same(&a, &b));
	b = v6("2001:db8::2", 1);
	assert_false(udp_same(&a, &b));
	b = a;
	b.sin6_scope_id = 1;
	assert_false(udp_same(&a, &b));
	/* Fields that do not name the endpoint are ignored. */
	b = a;
	b.sin6_flowinfo = 5;
	assert_true(udp_same(&a, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_flags),
	    cmocka_unit_test(test_buffers),
	    cmocka_unit_test(test_port_in_use),
	    cmocka_unit_test(test_loopback),
	    cmocka_unit_test(test_from_ipv4_socket),
	    cmocka_unit_test(test_conversions),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_cookie_src),
	    cmocka_unit_test(test_same),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
