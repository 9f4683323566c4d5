// SPDX-License-Identifier: ISC
/*
 * alamesh set: wg(8)'s grammar, turned into one set=1 request, which the
 * daemon applies whole or not at all. Keys are read from files (never from
 * the command line, where every user could see them) and wiped after use.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon/cli/ipc.h"
#include "daemon/cli/subcommands.h"
#include "daemon/config.h"
#include "wgproto/encoding.h"

#define KEY_FILE_MAX 128

struct body {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void add(struct body *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct body *b, const char *fmt, ...)
{
	va_list ap;
	char line[256];

	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) || b->oom) {
		b->oom = true;
		return;
	}
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = (b->cap + (size_t)n + 1) * 2;
		char *m = malloc(cap);
		if (!m) {
			b->oom = true;
			return;
		}
		if (b->buf) {
			memcpy(m, b->buf, b->len);
			sodium_memzero(b->buf, b->cap);
			free(b->buf);
		}
		b->buf = m;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, line, (size_t)n);
	b->len += (size_t)n;
	sodium_memzero(line, sizeof(line));
}

static void set_usage(FILE *f)
{
	fprintf(f,
		"Usage: %s set <interface> [listen-port <port>] [fwmark <mark>] "
		"[private-key <file path>] [peer <base64 public key> [remove] "
		"[preshared-key <file path>] [endpoint <ip>:<port>] "
		"[persistent-keepalive <interval seconds>] "
		"[allowed-ips <ip1>/<cidr1>[,<ip2>/<cidr2>]...] ]...\n",
		prog_name);
}

/* A key file as wg reads it: base64, surrounding whitespace; empty means "none" (all zero). */
static bool read_key_file(const char *path, uint8_t key[WG_KEY_LEN])
{
	char buf[KEY_FILE_MAX + 1];
	ssize_t n = 0, r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok = false;

	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog_name, path, strerror(errno));
		return false;
	}
	while (n < KEY_FILE_MAX && (r = read(fd, buf + n, (size_t)(KEY_FILE_MAX - n))) > 0)
		n += r;
	close(fd);
	buf[n] = '\0';
	char *s = buf, *e = buf + n;
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	if (s == e) {
		memset(key, 0, WG_KEY_LEN);
		ok = true;
	} else {
		ok = key_from_base64(key, s);
	}
	if (!ok)
		fprintf(stderr, "%s: %s: not a base64 key\n", prog_name, path);
	sodium_memzero(buf, sizeof(buf));
	return ok;
}

static bool parse_num(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!*s || *s == '-' || isspace((unsigned char)*s))
		return false;
	errno = 0;
	*out = strtoul(s, &end, 0);
	return !*end && !errno && *out <= max;
}

static bool add_key(struct body *b, const char *name, const char *path)
{
	uint8_t key[WG_KEY_LEN];
	char hex[WG_KEY_HEX_LEN + 1];

	if (!read_key_file(path, key))
		return false;
	key_to_hex(hex, key);
	add(b, "%s=%s\n", name, hex);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(hex, sizeof(hex));
	return true;
}

static bool add_endpoint(struct body *b, const char *s)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const char *why = NULL;
	char host[INET6_ADDRSTRLEN];

	if (!config_parse_endpoint(s, &ss, &len, &why)) {
		fprintf(stderr, "%s: endpoint `%s': %s\n", prog_name, s, why ? why : "invalid");
		return false;
	}
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		add(b, "endpoint=%s:%u\n", host, ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		if (in6->sin6_scope_id)
			add(b, "endpoint=[%s%%%u]:%u\n", host, (unsigned)in6->sin6_scope_id,
			    ntohs(in6->sin6_port));
		else
			add(b, "endpoint=[%s]:%u\n", host, ntohs(in6->sin6_port));
	}
	return true;
}

static bool add_allowed_ips(struct body *b, const char *list)
{
	char *copy = strdup(list), *save = NULL;
	bool ok = copy != NULL;

	add(b, "replace_allowed_ips=true\n");
	for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; ok && t;
	     t = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*t))
			t++;
		char *e = t + strlen(t);
		while (e > t && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (!*t)
			continue;
		char *slash = strchr(t, '/');
		unsigned long cidr = 0;
		if (slash)
			*slash = '\0';
		uint8_t a[16];
		char norm[INET6_ADDRSTRLEN];
		int fam = strchr(t, ':') ? AF_INET6 : AF_INET;
		unsigned long max = fam == AF_INET6 ? 128 : 32;
		if (inet_pton(fam, t, a) != 1 || (slash && !parse_num(slash + 1, max, &cidr))) {
			fprintf(stderr, "%s: allowed-ips: `%s' is not an address/cidr\n", prog_name,
				t);
			ok = false;
			break;
		}
		inet_ntop(fam, a, norm, sizeof(norm));
		add(b, "allowed_ip=%s/%lu\n", norm, slash ? cidr : max);
	}
	free(copy);
	return ok;
}

/* One "peer KEY ..." group; returns how many arguments it took, or -1. */
static int peer_args(struct body *b, int argc, const char *argv[])
{
	uint8_t pub[WG_KEY_LEN];
	char hex[WG_KEY_HEX_LEN + 1];
	unsigned long n;
	int i = 1;

	if (argc < 2 || !key_from_base64(pub, argv[1])) {
		fprintf(stderr, "%s: peer: `%s' is not a base64 public key\n", prog_name,
			argc < 2 ? "" : argv[1]);
		return -1;
	}
	key_to_hex(hex, pub);
	add(b, "public_key=%s\n", hex);
	for (i = 2; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(k, "remove")) {
			add(b, "remove=true\n");
			continue;
		}
		if (!strcmp(k, "peer"))
			break;
		if (!v) {
			fprintf(stderr, "%s: `%s' needs a value\n", prog_name, k);
			return -1;
		}
		if (!strcmp(k, "preshared-key")) {
			if (!add_key(b, "preshared_key", v))
				return -1;
		} else if (!strcmp(k, "endpoint")) {
			if (!add_endpoint(b, v))
				return -1;
		} else if (!strcmp(k, "persistent-keepalive")) {
			if (!strcmp(v, "off"))
				n = 0;
			else if (!parse_num(v, 65535, &n)) {
				fprintf(stderr,
					"%s: persistent-keepalive: `%s' is not 0-65535 or off\n",
					prog_name, v);
				return -1;
			}
			add(b, "persistent_keepalive_interval=%lu\n", n);
		} else if (!strcmp(k, "allowed-ips")) {
			if (!add_allowed_ips(b, v))
				return -1;
		} else {
			fprintf(stderr, "%s: invalid argument `%s'\n", prog_name, k);
			return -1;
		}
		i++;
	}
	return i;
}

/* Builds the request body from argv[2..]; false (with a message) on bad arguments. */
static bool build(struct body *b, int argc, const char *argv[])
{
	unsigned long n;

	for (int i = 2; i < argc;) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(k, "peer")) {
			int used = peer_args(b, argc - i, argv + i);
			if (used < 0)
				return false;
			i += used;
			continue;
		}
		if (!v) {
			fprintf(stderr, "%s: `%s' needs a value\n", prog_name, k);
			return false;
		}
		if (!strcmp(k, "listen-port")) {
			if (!parse_num(v, 65535, &n)) {
				fprintf(stderr, "%s: listen-port: `%s' is not a port\n", prog_name,
					v);
				return false;
			}
			add(b, "listen_port=%lu\n", n);
		} else if (!strcmp(k, "fwmark")) {
			if (!strcmp(v, "off"))
				n = 0;
			else if (!parse_num(v, 0xffffffffUL, &n)) {
				fprintf(stderr, "%s: fwmark: `%s' is not a 32-bit number or off\n",
					prog_name, v);
				return false;
			}
			add(b, "fwmark=%lu\n", n);
		} else if (!strcmp(k, "private-key")) {
			if (!add_key(b, "private_key", v))
				return false;
		} else {
			fprintf(stderr, "%s: invalid argument `%s'\n", prog_name, k);
			return false;
		}
		i += 2;
	}
	return !b->oom;
}

int set_main(int argc, const char *argv[])
{
	struct body b = {0};
	int rc = 1;

	if (argc == 2 && cli_is_help(argv[1])) {
		set_usage(stdout);
		return 0;
	}
	if (argc < 3) {
		set_usage(stderr);
		return 1;
	}
	if (!build(&b, argc, argv)) {
		set_usage(stderr);
		goto out;
	}
	int e = ipc_set(argv[1], b.buf ? b.buf : "", b.len);
	if (e > 0)
		fprintf(stderr, "%s: unable to modify interface: %s\n", prog_name, strerror(e));
	rc = e == 0 ? 0 : 1;
out:
	if (b.buf) {
		sodium_memzero(b.buf, b.cap);
		free(b.buf);
	}
	return rc;
}
