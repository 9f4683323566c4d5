/* SPDX-License-Identifier: ISC */
/*
 * What the tests of the registry's git side share (test_gitfetch.c,
 * test_registry.c): a shell command that must succeed, and a git:// server
 * that never answers. Included after cmocka.h.
 */
#ifndef ALAMESH_TESTS_UNIT_GIT_HELPERS_H
#define ALAMESH_TESTS_UNIT_GIT_HELPERS_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs a shell command (git(1), mostly); the test fails if it does. */
static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

/*
 * A TCP listener on loopback that accepts (the kernel does) and never
 * answers: a git:// URL to it in url, whose fetch ends only by its timeout.
 */
static int silent_listener(char url[256])
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(url, 256, "git://127.0.0.1:%u/registry.git", ntohs(sin.sin_port));
	return fd;
}

#endif
