// SPDX-License-Identifier: ISC
/*
 * The control socket server. Everything is non-blocking and bounded, and
 * runs on the control loop: a client that sends slowly, never reads its
 * answer or sends a flood is cut off by the size limit or the timeout, and
 * meanwhile the loop goes on serving timers, handshakes and other clients.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon/core/device.h"
#include "daemon/base/log.h"
#include "daemon/control/mesh.h"
#include "daemon/control/registry.h"
#include "daemon/uapi/server.h"
#include "daemon/uapi/apply.h"
#include "daemon/uapi/get.h"
#include "daemon/control/nat.h"
#include "daemon/base/clock.h"

#define UAPI_READ_CHUNK 4096

struct uapi_conn {
	int fd;
	uint64_t deadline;
	char *in;
	size_t inlen, incap, scanned;
	char *out; /* may hold the private key: wiped before it is freed */
	size_t outlen, outsent;
	bool closing;	   /* close once the answer is out */
	bool waiting_sync; /* sync=1: answered when the sync is done */
	uint64_t sync_gen; /* by a sync that started after this request */
};

static void wipe_free(char *buf, size_t len)
{
	if (!buf)
		return;
	sodium_memzero(buf, len);
	free(buf);
}

static void conn_close(struct uapi_server *srv, int i)
{
	struct uapi_conn *c = srv->conns[i];

	epoll_ctl(srv->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	wipe_free(c->in, c->incap);
	wipe_free(c->out, c->outlen);
	free(c);
	srv->conns[i] = NULL;
}

int uapi_listen(struct uapi_server *srv, const char *ifname)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, r;

	srv->fd = -1;
	r = snprintf(srv->path, sizeof(srv->path), "%s/%s.sock", UAPI_DIR, ifname);
	if (r < 0 || (size_t)r >= sizeof(srv->path) || (size_t)r >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	memcpy(sun.sun_path, srv->path, (size_t)r + 1);
	if (mkdir(UAPI_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Someone answers: a daemon runs for this interface. Refused: a crash left it. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 || errno == EAGAIN) {
		close(fd);
		return -EADDRINUSE;
	}
	if (errno == ECONNREFUSED) {
		log_info("%s: replacing a stale control socket", srv->path);
		if (unlink(srv->path) < 0 && errno != ENOENT) {
			r = -errno;
			close(fd);
			return r;
		}
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	mode_t old = umask(0077); /* 0600 from the first instant, not after a chmod */
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r < 0 || chmod(srv->path, 0600) < 0 || listen(fd, UAPI_MAX_CONNS) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	srv->fd = fd;
	return 0;
}

int uapi_attach(struct uapi_server *srv, int epoll_fd, struct device *dev)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = srv->fd};

	srv->epoll_fd = epoll_fd;
	srv->dev = dev;
	return epoll_ctl(epoll_fd, EPOLL_CTL_ADD, srv->fd, &ev) < 0 ? -errno : 0;
}

/*
 * A free slot, making one when all are taken by closing the client closest
 * to its timeout: idle clients holding every slot must not lock root out.
 */
static int free_slot(struct uapi_server *srv)
{
	int oldest = 0;

	for (int i = 0; i < UAPI_MAX_CONNS; i++) {
		if (!srv->conns[i])
			return i;
		if (srv->conns[i]->deadline < srv->conns[oldest]->deadline)
			oldest = i;
	}
	log_warn("control socket: %d clients at once, dropping the oldest", UAPI_MAX_CONNS);
	conn_close(srv, oldest);
	return oldest;
}

static void accept_all(struct uapi_server *srv)
{
	for (;;) {
		int fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("control socket: accept: %s", strerror(errno));
			return;
		}
		int i = free_slot(srv);
		struct uapi_conn *c = calloc(1, sizeof(*c));
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
		if (!c || epoll_ctl(srv->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			log_warn("control socket: cannot take a client: %s", strerror(errno));
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->deadline = now_mono() + UAPI_CONN_TIMEOUT;
		srv->conns[i] = c;
	}
}

static void reply_errno(struct uapi_conn *c, int err)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "errno=%d\n\n", err);

	c->out = malloc((size_t)n);
	if (!c->out) {
		c->closing = true;
		return;
	}
	memcpy(c->out, buf, (size_t)n);
	c->outlen = (size_t)n;
}

static void handle_set(struct uapi_server *srv, struct uapi_conn *c, const char *body, size_t len)
{
	struct uapi_set set;
	char err[UAPI_ERRMSG_LEN];
	int r = uapi_set_parse(&set, body, len, err, sizeof(err));

	if (r == 0)
		r = uapi_apply(srv->dev, &set, err, sizeof(err));
	if (r < 0)
		log_warn("control socket: set refused, nothing changed: %s", err);
	else
		log_info("control socket: configuration changed (%zu peers named)", set.npeers);
	uapi_set_free(&set);
	reply_errno(c, r < 0 ? -r : 0);
}

/*
 * The requests answered from the device alone, each one line with nothing
 * after it: wg's get=1, and alamesh's own route table, counters and NAT.
 */
static const struct {
	const char *req;
	int (*answer)(struct device *dev, char **out, size_t *len);
} views[] = {
    {"get=1", uapi_get},
    {"get=routes", mesh_describe_routes},
    {"get=stats", uapi_get_stats},
    {"get=nat", nat_describe},
};

/* One request: its first line, then its body up to (not including) the empty line. */
static void handle_request(struct uapi_server *srv, struct uapi_conn *c, const char *req,
			   size_t len)
{
	const char *nl = memchr(req, '\n', len);
	size_t first = nl ? (size_t)(nl - req) : len;
	const char *body = nl ? nl + 1 : req + len;
	size_t blen = len - (size_t)(body - req);

	for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
		if (first != strlen(views[i].req) || memcmp(req, views[i].req, first))
			continue;
		if (blen)
			reply_errno(c, EINVAL);
		else if (views[i].answer(srv->dev, &c->out, &c->outlen) < 0)
			reply_errno(c, ENOMEM);
		return;
	}
	if (first == 5 && !memcmp(req, "set=1", 5)) {
		handle_set(srv, c, body, blen);
		return;
	}
	/* The registry's views need a [Registry]. */
	bool members = first == 11 && !memcmp(req, "get=members", 11);
	if (members || (first == 12 && !memcmp(req, "get=registry", 12))) {
		if (!srv->dev->sync)
			reply_errno(c, EOPNOTSUPP);
		else if (registry_sync_describe(srv->dev->sync, members, &c->out, &c->outlen) < 0)
			reply_errno(c, ENOMEM);
		return;
	}
	if (first == 6 && !memcmp(req, "sync=1", 6)) {
		if (!srv->dev->sync) {
			reply_errno(c, EOPNOTSUPP);
			return;
		}
		c->waiting_sync = true;
		c->deadline = now_mono() + UAPI_SYNC_TIMEOUT;
		c->sync_gen = registry_sync_trigger(srv->dev->sync);
		return;
	}
	log_warn("control socket: unknown request \"%.*s\"", (int)(first > 32 ? 32 : first), req);
	reply_errno(c, EINVAL);
}

/* Takes the next whole request from the input, if there is one. */
static void process_input(struct uapi_server *srv, struct uapi_conn *c)
{
	size_t from = c->scanned ? c->scanned - 1 : 0;
	char *end = NULL;

	for (size_t i = from; i + 1 < c->inlen; i++) {
		if (c->in[i] == '\n' && c->in[i + 1] == '\n') {
			end = c->in + i;
			break;
		}
	}
	if (!end) {
		c->scanned = c->inlen;
		/* A lone "\n" before anything: an empty request, which wg never sends. */
		return;
	}
	size_t reqlen = (size_t)(end - c->in); /* up to the first of the two newlines */
	handle_request(srv, c, c->in, reqlen);
	size_t used = reqlen + 2;
	sodium_memzero(c->in, used); /* a set may carry keys */
	memmove(c->in, c->in + used, c->inlen - used);
	c->inlen -= used;
	c->scanned = 0;
}

static void want_write(struct uapi_server *srv, struct uapi_conn *c, bool on)
{
	/* While a sync runs only a hang-up matters: reading more would spin. */
	uint32_t idle = c->waiting_sync ? EPOLLRDHUP : EPOLLIN;
	struct epoll_event ev = {.events = on ? EPOLLOUT : idle, .data.fd = c->fd};

	epoll_ctl(srv->epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Returns false when the connection is done with. */
static bool conn_read(struct uapi_server *srv, struct uapi_conn *c)
{
	for (;;) {
		/* Doubled as bytes arrive, never past the bound: a slow client holds little. */
		if (c->incap - c->inlen < UAPI_READ_CHUNK && c->incap < UAPI_MAX_REQUEST) {
			size_t cap = c->incap ? c->incap * 2 : UAPI_READ_CHUNK * 2;
			if (cap > UAPI_MAX_REQUEST)
				cap = UAPI_MAX_REQUEST;
			char *n = malloc(cap);
			if (!n)
				return false;
			if (c->in)
				memcpy(n, c->in, c->inlen);
			wipe_free(c->in, c->incap);
			c->in = n;
			c->incap = cap;
		}
		if (c->inlen == c->incap) {
			log_warn("control socket: request over %d bytes, refused",
				 UAPI_MAX_REQUEST);
			reply_errno(c, EMSGSIZE);
			c->closing = true;
			return true;
		}
		ssize_t r = read(c->fd, c->in + c->inlen, c->incap - c->inlen);
		if (r == 0)
			return false; /* the client is gone; a half request is dropped */
		if (r < 0)
			return errno == EAGAIN || errno == EINTR;
		c->inlen += (size_t)r;
		process_input(srv, c);
		if (c->out || c->waiting_sync)
			return true;
	}
}

static bool conn_write(struct uapi_server *srv, struct uapi_conn *c)
{
	while (c->outsent < c->outlen) {
		ssize_t r = send(c->fd, c->out + c->outsent, c->outlen - c->outsent, MSG_NOSIGNAL);
		if (r < 0)
			return errno == EAGAIN || errno == EINTR;
		c->outsent += (size_t)r;
	}
	wipe_free(c->out, c->outlen);
	c->out = NULL;
	c->outlen = c->outsent = 0;
	if (c->closing)
		return false;
	c->deadline = now_mono() + UAPI_CONN_TIMEOUT;
	/* Requests may be queued behind the one just answered. */
	process_input(srv, c);
	return true;
}

static bool conn_service(struct uapi_server *srv, struct uapi_conn *c, uint32_t events)
{
	if (c->waiting_sync && (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return false; /* the client gave up waiting */
	if ((events & EPOLLIN) && !c->out && !c->waiting_sync && !conn_read(srv, c))
		return false;
	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN))
		return false;
	while (c->out) {
		size_t before = c->outsent;
		if (!conn_write(srv, c))
			return false;
		if (c->out && c->outsent == before)
			break; /* the socket is full: wait for EPOLLOUT */
	}
	want_write(srv, c, c->out != NULL);
	return true;
}

bool uapi_event(struct uapi_server *srv, int fd, uint32_t events)
{
	if (fd == srv->fd) {
		accept_all(srv);
		return true;
	}
	for (int i = 0; i < UAPI_MAX_CONNS; i++) {
		struct uapi_conn *c = srv->conns[i];
		if (!c || c->fd != fd)
			continue;
		if (!conn_service(srv, c, events))
			conn_close(srv, i);
		return true;
	}
	return false;
}

void uapi_sync_done(struct uapi_server *srv, const char *summary, bool ok, uint64_t gen)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "result=%s\nerrno=%d\n\n", summary, ok ? 0 : EIO);

	if (n < 0 || (size_t)n >= sizeof(buf))
		n = snprintf(buf, sizeof(buf), "errno=%d\n\n", ok ? 0 : EIO);
	for (int i = 0; i < UAPI_MAX_CONNS; i++) {
		struct uapi_conn *c = srv->conns[i];
		/* A sync already under way when the client asked reports what it fetched before. */
		if (!c || !c->waiting_sync || c->out || c->sync_gen > gen)
			continue;
		c->waiting_sync = false;
		if (!(c->out = malloc((size_t)n))) {
			conn_close(srv, i);
			continue;
		}
		memcpy(c->out, buf, (size_t)n);
		c->outlen = (size_t)n;
		c->deadline = now_mono() + UAPI_CONN_TIMEOUT;
		want_write(srv, c, true);
	}
}

void uapi_tick(struct uapi_server *srv, uint64_t now)
{
	for (int i = 0; i < UAPI_MAX_CONNS; i++) {
		struct uapi_conn *c = srv->conns[i];
		if (c && now > c->deadline) {
			log_debug("control socket: client timed out");
			conn_close(srv, i);
		}
	}
}

void uapi_close(struct uapi_server *srv)
{
	for (int i = 0; i < UAPI_MAX_CONNS; i++)
		if (srv->conns[i])
			conn_close(srv, i);
	if (srv->fd < 0)
		return;
	close(srv->fd);
	srv->fd = -1;
	/* After dropping privileges this may be refused; the next start replaces it. */
	if (unlink(srv->path) < 0 && errno != ENOENT)
		log_debug("%s: %s", srv->path, strerror(errno));
}
