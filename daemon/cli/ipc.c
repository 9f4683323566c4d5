// SPDX-License-Identifier: ISC
/* The control-socket client of alamesh(8). */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon/cli/ipc.h"
#include "daemon/cli/subcommands.h"
#include "daemon/uapi/uapi.h"

int ipc_timeout_ms = 10000;

static bool sock_path(const char *ifname, struct sockaddr_un *sun)
{
	int n = snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%s.sock", UAPI_DIR, ifname);

	sun->sun_family = AF_UNIX;
	return n > 0 && (size_t)n < sizeof(sun->sun_path) && *ifname && !strchr(ifname, '/');
}

/*
 * A refused connection means no process listens: the socket was left by a
 * daemon that crashed or could not remove it (User =). It is removed, as
 * wg(8) does, so that it stops breaking `show all`; but only if it is still
 * the file that refused (seen), not one a daemon starting meanwhile bound
 * in its place. Not being allowed to remove it (not root) is no error.
 */
static void remove_stale(const char *path, const struct stat *seen)
{
	struct stat now;

	if (lstat(path, &now) == 0 && now.st_dev == seen->st_dev && now.st_ino == seen->st_ino)
		(void)unlink(path);
}

static int ipc_connect(const char *ifname, char path[108])
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, e;

	if (!sock_path(ifname, &sun)) {
		fprintf(stderr, "%s: invalid interface name `%s'\n", prog_name, ifname);
		return -1;
	}
	memcpy(path, sun.sun_path, sizeof(sun.sun_path));
	bool have_st = lstat(path, &st) == 0;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	e = errno;
	if (fd >= 0 && e == ECONNREFUSED && have_st && S_ISSOCK(st.st_mode))
		remove_stale(path, &st);
	fprintf(stderr, "%s: cannot connect to %s: %s: %s (is alameshd running?)\n", prog_name,
		ifname, path, strerror(e));
	if (fd >= 0)
		close(fd);
	return -1;
}

/*
 * Whether ifname has a daemon, as wg(8) decides it when it lists
 * interfaces: its .sock is a socket and a connection to it is not refused
 * (a busy daemon, EAGAIN, or one we may not talk to, EACCES, still counts).
 * A socket that refuses is stale and removed.
 */
static bool ipc_alive(const char *ifname)
{
	struct sockaddr_un sun;
	struct stat st;
	bool alive = true;

	if (!sock_path(ifname, &sun) || stat(sun.sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true; /* cannot tell: let the request itself report it */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 && errno == ECONNREFUSED) {
		remove_stale(sun.sun_path, &st);
		alive = false;
	}
	close(fd);
	return alive;
}

static bool wait_fd(int fd, short events)
{
	struct pollfd pfd = {.fd = fd, .events = events};

	return poll(&pfd, 1, ipc_timeout_ms) > 0;
}

static bool ends_request(const char *buf, size_t len)
{
	return len >= 2 && buf[len - 1] == '\n' && buf[len - 2] == '\n';
}

int ipc_request(const char *ifname, const char *req, size_t len, char **reply, size_t *rlen)
{
	char path[108];
	int fd = ipc_connect(ifname, path);
	char *buf = NULL;
	size_t have = 0, cap = 0;

	if (fd < 0)
		return -1;
	for (size_t sent = 0; sent < len;) {
		ssize_t n = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "%s: %s: %s\n", prog_name, path, strerror(errno));
			goto fail;
		}
		sent += (size_t)n;
	}
	while (!ends_request(buf, have)) {
		if (cap - have < 4096) {
			if (cap >= UAPI_REPLY_MAX) {
				fprintf(stderr, "%s: %s: the answer is too long\n", prog_name,
					path);
				goto fail;
			}
			cap = cap ? cap * 2 : 8192;
			char *n = malloc(cap);
			if (!n)
				goto fail;
			if (buf) {
				memcpy(n, buf, have);
				sodium_memzero(buf, have);
				free(buf);
			}
			buf = n;
		}
		if (!wait_fd(fd, POLLIN)) {
			fprintf(stderr, "%s: %s: no answer\n", prog_name, path);
			goto fail;
		}
		ssize_t n = recv(fd, buf + have, cap - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "%s: %s: %s\n", prog_name, path,
				n < 0 ? strerror(errno) : "the daemon closed the connection");
			goto fail;
		}
		have += (size_t)n;
	}
	close(fd);
	*reply = buf;
	*rlen = have;
	return 0;
fail:
	if (buf) {
		sodium_memzero(buf, have);
		free(buf);
	}
	close(fd);
	return -1;
}

int ipc_get(const char *ifname, struct uapi_device_info *dev)
{
	char *reply;
	size_t len;
	const char *why;
	int r;

	memset(dev, 0, sizeof(*dev));
	snprintf(dev->name, sizeof(dev->name), "%s", ifname);
	if (ipc_request(ifname, "get=1\n\n", 7, &reply, &len) < 0)
		return -1;
	r = uapi_reply_parse(dev, reply, len, &why);
	sodium_memzero(reply, len); /* it held the private key */
	free(reply);
	if (r < 0) {
		fprintf(stderr, "%s: %s: unreadable answer: %s\n", prog_name, ifname, why);
		return -1;
	}
	if (r > 0) {
		fprintf(stderr, "%s: %s: %s\n", prog_name, ifname, strerror(r));
		return -1;
	}
	return 0;
}

int ipc_set(const char *ifname, const char *body, size_t len)
{
	char *req = malloc(len + 8), *reply;
	size_t rlen;
	int r;

	if (!req)
		return -1;
	memcpy(req, "set=1\n", 6);
	memcpy(req + 6, body, len);
	req[6 + len] = '\n';
	r = ipc_request(ifname, req, len + 7, &reply, &rlen);
	sodium_memzero(req, len + 7); /* private or preshared keys */
	free(req);
	if (r < 0)
		return -1;
	r = uapi_reply_errno(reply, rlen);
	free(reply);
	if (r < 0) {
		fprintf(stderr, "%s: %s: unreadable answer\n", prog_name, ifname);
		return -1;
	}
	return r;
}

size_t ipc_list(char (**names)[16])
{
	DIR *d = opendir(UAPI_DIR);
	struct dirent *e;
	size_t n = 0, cap = 0;

	*names = NULL;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len <= 5 || len - 5 >= 16 || strcmp(e->d_name + len - 5, ".sock"))
			continue;
		char name[16];
		memcpy(name, e->d_name, len - 5);
		name[len - 5] = '\0';
		if (!ipc_alive(name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			void *m = realloc(*names, cap * sizeof(**names));
			if (!m)
				break;
			*names = m;
		}
		memcpy((*names)[n], name, sizeof(name));
		n++;
	}
	closedir(d);
	return n;
}
