// SPDX-License-Identifier: ISC
/*
 * alamesh set: wg(8)'s grammar, turned into one set=1 request, which the
 * daemon applies whole or not at all. As wg does, the arguments are first
 * gathered (a repeated option: the last one counts) and then written in a
 * fixed order. Keys are read from files (never from the command line,
 * where every user could see them) and wiped after use.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon/cli/ipc.h"
#include "daemon/cli/set.h"
#include "daemon/cli/subcommands.h"
#include "daemon/config/config.h"
#include "daemon/base/textbuf.h"
#include "wgproto/encoding.h"

#define KEY_FILE_MAX 128
#define ENDPOINT_MAX 72 /* "[v6%scope]:port" */

/* What one "peer KEY ..." group asks for; NULL/false = not given. */
struct peer_req {
	const char *public_key;
	bool remove;
	const char *preshared_key_file;
	const char *endpoint;
	bool has_keepalive;
	unsigned long keepalive;
	const char *allowed_ips;
};

struct device_req {
	const char *private_key_file;
	bool has_port, has_fwmark;
	unsigned long port, fwmark;
};

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

/*
 * A key file as wg reads it: base64 and trailing whitespace, or nothing at
 * all (/dev/null), which means "no key" and is sent as all zeros.
 */
static bool read_key_file(const char *path, uint8_t key[WG_KEY_LEN])
{
	char buf[KEY_FILE_MAX + 1];
	ssize_t n = 0, r = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok = false;

	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog_name, path, strerror(errno));
		return false;
	}
	while (n <= KEY_FILE_MAX && (r = read(fd, buf + n, (size_t)(KEY_FILE_MAX + 1 - n))) > 0)
		n += r;
	close(fd);
	if (r < 0 || n > KEY_FILE_MAX) {
		fprintf(stderr, "%s: %s: %s\n", prog_name, path,
			r < 0 ? strerror(errno) : "too long for a key file");
		sodium_memzero(buf, sizeof(buf));
		return false;
	}
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	if (n == 0) {
		memset(key, 0, WG_KEY_LEN);
		ok = true;
	} else {
		ok = key_from_base64(key, buf);
	}
	if (!ok)
		fprintf(stderr, "%s: %s: Key is not the correct length or format\n", prog_name,
			path);
	sodium_memzero(buf, sizeof(buf));
	return ok;
}

/* Only digits (base 10, or 16 after "0x" when hex), at most max; no sign, no space. */
static bool parse_num(const char *s, bool hex, unsigned long max, unsigned long *out)
{
	int base = 10;

	if (hex && s[0] == '0' && s[1] == 'x') {
		base = 16;
		s += 2;
	}
	if (!*s || strspn(s, base == 16 ? "0123456789abcdefABCDEF" : "0123456789") != strlen(s))
		return false;
	errno = 0;
	*out = strtoul(s, NULL, base);
	return !errno && *out <= max;
}

/* A port number, or a service name as getaddrinfo knows it (wg accepts those too). */
static bool parse_port(const char *s, unsigned long *port)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_DGRAM,
				 .ai_protocol = IPPROTO_UDP,
				 .ai_flags = AI_PASSIVE},
			*res;

	if (parse_num(s, false, 65535, port))
		return true;
	if (!*s || isdigit((unsigned char)*s) || getaddrinfo(NULL, s, &hints, &res))
		return false;
	*port = res->ai_family == AF_INET6
		    ? ntohs(((const struct sockaddr_in6 *)res->ai_addr)->sin6_port)
		    : ntohs(((const struct sockaddr_in *)res->ai_addr)->sin_port);
	freeaddrinfo(res);
	return true;
}

static bool add_key(struct textbuf *b, const char *name, const char *path)
{
	uint8_t key[WG_KEY_LEN];
	char hex[WG_KEY_HEX_LEN + 1];

	if (!read_key_file(path, key))
		return false;
	key_to_hex(hex, key);
	textbuf_printf(b, "%s=%s\n", name, hex);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(hex, sizeof(hex));
	return true;
}

static bool add_endpoint(struct textbuf *b, const char *s)
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
		textbuf_printf(b, "endpoint=%s:%u\n", host, ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		if (in6->sin6_scope_id)
			textbuf_printf(b, "endpoint=[%s%%%u]:%u\n", host,
				       (unsigned)in6->sin6_scope_id, ntohs(in6->sin6_port));
		else
			textbuf_printf(b, "endpoint=[%s]:%u\n", host, ntohs(in6->sin6_port));
	}
	return true;
}

static char *trim(char *s)
{
	char *e = s + strlen(s);

	while (isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* True when the address has bits set past its prefix (wg warns about it, the daemon masks). */
static bool host_bits(const uint8_t *a, size_t alen, unsigned long cidr)
{
	for (size_t bit = cidr; bit < alen * 8; bit++)
		if (a[bit / 8] & (0x80 >> (bit % 8)))
			return true;
	return false;
}

/* "a/n,b/m": the whole list replaces the peer's; "" (only) removes them all. */
static bool add_allowed_ips(struct textbuf *b, const char *list)
{
	char *copy = strdup(list);
	bool ok = copy != NULL;

	textbuf_printf(b, "replace_allowed_ips=true\n");
	if (!copy || !*trim(copy)) {
		free(copy);
		return ok;
	}
	for (char *t = copy, *next; ok && t; t = next) {
		next = strchr(t, ',');
		if (next)
			*next++ = '\0';
		t = trim(t);
		char *slash = strchr(t, '/');
		if (slash)
			*slash = '\0';
		uint8_t a[16];
		char norm[INET6_ADDRSTRLEN];
		int fam = strchr(t, ':') ? AF_INET6 : AF_INET;
		unsigned long max = fam == AF_INET6 ? 128 : 32, cidr = max;
		if (inet_pton(fam, t, a) != 1 ||
		    (slash && !parse_num(slash + 1, false, max, &cidr))) {
			fprintf(stderr, "%s: allowed-ips: `%s%s%s' is not an address/cidr\n",
				prog_name, t, slash ? "/" : "", slash ? slash + 1 : "");
			ok = false;
			break;
		}
		inet_ntop(fam, a, norm, sizeof(norm));
		if (host_bits(a, fam == AF_INET6 ? 16 : 4, cidr))
			fprintf(stderr, "%s: warning: allowed ip %s/%lu has a nonzero host part\n",
				prog_name, norm, cidr);
		textbuf_printf(b, "allowed_ip=%s/%lu\n", norm, cidr);
	}
	free(copy);
	return ok;
}

static bool add_peer(struct textbuf *b, const struct peer_req *p)
{
	uint8_t pub[WG_KEY_LEN];
	char hex[WG_KEY_HEX_LEN + 1];

	if (!key_from_base64(pub, p->public_key)) {
		fprintf(stderr, "%s: peer: `%s' is not a base64 public key\n", prog_name,
			p->public_key);
		return false;
	}
	key_to_hex(hex, pub);
	textbuf_printf(b, "public_key=%s\n", hex);
	if (p->remove) {
		/* wg sends nothing else for a peer being removed. */
		textbuf_printf(b, "remove=true\n");
		return true;
	}
	if (p->preshared_key_file && !add_key(b, "preshared_key", p->preshared_key_file))
		return false;
	if (p->endpoint && !add_endpoint(b, p->endpoint))
		return false;
	if (p->has_keepalive)
		textbuf_printf(b, "persistent_keepalive_interval=%lu\n", p->keepalive);
	if (p->allowed_ips && !add_allowed_ips(b, p->allowed_ips))
		return false;
	return true;
}

static bool add_device(struct textbuf *b, const struct device_req *d)
{
	if (d->private_key_file && !add_key(b, "private_key", d->private_key_file))
		return false;
	if (d->has_port)
		textbuf_printf(b, "listen_port=%lu\n", d->port);
	if (d->has_fwmark)
		textbuf_printf(b, "fwmark=%lu\n", d->fwmark);
	return true;
}

/* Always 0, the "arguments taken" of an option whose value is wrong. */
static int bad_value(const char *what, const char *v)
{
	fprintf(stderr, "%s: %s: `%s' is not valid\n", prog_name, what, v);
	return 0;
}

/* One option of a peer group: how many arguments it took, or 0 after a message. */
static int peer_option(struct peer_req *p, int argc, const char *argv[])
{
	const char *k = argv[0], *v = argc > 1 ? argv[1] : NULL;

	if (!strcmp(k, "remove")) {
		p->remove = true;
		return 1;
	}
	if (!v) {
		fprintf(stderr, "%s: `%s' needs a value\n", prog_name, k);
		return 0;
	}
	if (!strcmp(k, "preshared-key")) {
		p->preshared_key_file = v;
	} else if (!strcmp(k, "endpoint")) {
		p->endpoint = v;
	} else if (!strcmp(k, "persistent-keepalive")) {
		p->keepalive = 0;
		if (strcasecmp(v, "off") && !parse_num(v, false, 65535, &p->keepalive))
			return bad_value("persistent-keepalive (0-65535 or off)", v);
		p->has_keepalive = true;
	} else if (!strcmp(k, "allowed-ips")) {
		p->allowed_ips = v;
	} else {
		fprintf(stderr, "%s: invalid argument `%s'\n", prog_name, k);
		return 0;
	}
	return 2;
}

/* One option before the first peer: how many arguments it took, or 0 after a message. */
static int device_option(struct device_req *d, int argc, const char *argv[])
{
	const char *k = argv[0], *v = argc > 1 ? argv[1] : NULL;

	if (strcmp(k, "listen-port") && strcmp(k, "fwmark") && strcmp(k, "private-key")) {
		fprintf(stderr, "%s: invalid argument `%s'\n", prog_name, k);
		return 0;
	}
	if (!v) {
		fprintf(stderr, "%s: `%s' needs a value\n", prog_name, k);
		return 0;
	}
	if (!strcmp(k, "listen-port")) {
		if (!parse_port(v, &d->port))
			return bad_value("listen-port", v);
		d->has_port = true;
	} else if (!strcmp(k, "fwmark")) {
		d->fwmark = 0;
		if (strcasecmp(v, "off") && !parse_num(v, true, 0xffffffffUL, &d->fwmark))
			return bad_value("fwmark (0-0xffffffff or off)", v);
		d->has_fwmark = true;
	} else {
		d->private_key_file = v;
	}
	return 2;
}

char *set_request(int argc, const char *argv[], size_t *len)
{
	struct textbuf b = {0};
	struct device_req d = {0};
	struct peer_req p = {0};
	bool in_peer = false, ok = true;

	for (int i = 2; ok && i < argc;) {
		if (!strcmp(argv[i], "peer")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "%s: `peer' needs a public key\n", prog_name);
				ok = false;
				break;
			}
			ok = in_peer ? add_peer(&b, &p) : add_device(&b, &d);
			p = (struct peer_req){.public_key = argv[i + 1]};
			in_peer = true;
			i += 2;
			continue;
		}
		int used = in_peer ? peer_option(&p, argc - i, argv + i)
				   : device_option(&d, argc - i, argv + i);
		ok = used > 0;
		i += used;
	}
	if (ok)
		ok = in_peer ? add_peer(&b, &p) : add_device(&b, &d);
	if (ok && !b.buf)
		textbuf_printf(&b, "%s", "");
	if (!ok || b.failed) {
		if (b.failed && ok)
			fprintf(stderr, "%s: out of memory\n", prog_name);
		textbuf_free(&b);
		return NULL;
	}
	*len = b.len;
	return b.buf;
}

int set_main(int argc, const char *argv[])
{
	char *body;
	size_t len;

	if (argc == 2 && cli_is_help(argv[1])) {
		set_usage(stdout);
		return 0;
	}
	if (argc < 3) {
		set_usage(stderr);
		return 1;
	}
	body = set_request(argc, argv, &len);
	if (!body) {
		set_usage(stderr);
		return 1;
	}
	int e = ipc_set(argv[1], body, len);
	sodium_memzero(body, len);
	free(body);
	if (e > 0)
		fprintf(stderr, "%s: unable to modify interface: %s\n", prog_name, strerror(e));
	return e == 0 ? 0 : 1;
}
