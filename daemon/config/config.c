/* SPDX-License-Identifier: ISC */
/*
 * alamesh.conf(5). inih splits "Key = Value" lines and calls us back, but
 * every line first goes through our own reader (config_reader), which:
 *  - counts lines, so every message can name FILE:LINE;
 *  - strips '#' and ';' comments wherever they start, as wg(8) does;
 *  - reports overlong lines instead of letting them be cut in two;
 *  - rejects malformed lines itself, so each one is reported (inih only
 *    returns the first);
 *  - trims leading blanks, which turns off inih's multi-line values;
 *  - tracks [Section] headers, so an empty [Peer] is still a peer;
 *  - keeps PrivateKey and PresharedKey values out of inih's line buffer,
 *    which lives on a stack we cannot wipe.
 */
#include "daemon/config/config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ini.h>
#include <net/if.h>
#include <netdb.h>
#include <pwd.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/base/log.h"
#include "wgproto/crypto.h"
#include "wgproto/encoding.h"

/* What the reader can hold of one line; longer lines are errors anyway. */
#define RAW_LINE_MAX 1024
/* Room for a key value ("44 characters of base64") and then some. */
#define SECRET_MAX 128
/* A key file holds 44 characters and a newline; more is not a key. */
#define KEY_FILE_MAX 64
#define HOST_MAX     256

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

static const char *const iface_keys[IK_COUNT] = {
    "Name", "PrivateKey", "PrivateKeyFile", "ListenPort", "MTU", "User", "Group"};
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
static const char *const registry_keys[RK_COUNT] = {
    "URL",	  "Branch", "Interval", "CacheDir",    "AllowEmpty", "RequireFastForward",
    "MaxMembers", "CAFile", "MaxPeers", "FetchTimeout"};

static const char *const peer_keys[PK_COUNT] = {"PublicKey", "PresharedKey", "Endpoint",
						"PersistentKeepalive"};

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

static void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->ifname, sizeof(cfg->ifname), "%s", ALAMESH_DEFAULT_IFNAME);
	cfg->listen_port = ALAMESH_DEFAULT_PORT;
	cfg->mtu = ALAMESH_DEFAULT_MTU;
	snprintf(cfg->registry_branch, sizeof(cfg->registry_branch), "main");
	snprintf(cfg->registry_cache_dir, sizeof(cfg->registry_cache_dir), "/var/lib/alamesh");
	cfg->registry_interval = 3600;
	cfg->registry_fetch_timeout = 120;
	cfg->registry_max_members = 65536;
	cfg->registry_max_peers = 64;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	if (cfg->peers) {
		sodium_memzero(cfg->peers, cfg->npeers * sizeof(*cfg->peers));
		free(cfg->peers);
	}
	sodium_memzero(cfg, sizeof(*cfg));
}

static bool is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/*
 * Messages repeat the values they refuse; one that is a key (43 base64
 * characters and '=') may be a private key pasted on the wrong line, and is
 * not shown. Keys are never needed to find the line at fault.
 */
static void redact_keys(char *msg)
{
	static const char hidden[] = "(a key, not shown)";

	for (char *s = msg; *s; s++) {
		if (!is_b64(*s) || (s > msg && is_b64(s[-1])))
			continue;
		size_t n = 0;
		while (is_b64(s[n]))
			n++;
		if (n != WG_KEY_B64_LEN - 1 || s[n] != '=' || is_b64(s[n + 1]) || s[n + 1] == '=')
			continue;
		sodium_memzero(s, n + 1);
		memmove(s + sizeof(hidden) - 1, s + n + 1, strlen(s + n + 1) + 1);
		memcpy(s, hidden, sizeof(hidden) - 1);
		s += sizeof(hidden) - 2;
	}
}

/*
 * A running daemon's messages go through its log, so that under systemd a
 * warning is filed as one (<4>) and an error as one (<3>); the text is what
 * -t prints.
 */
__attribute__((format(printf, 4, 0))) static void report_log(struct parser *p, int line, bool error,
							     const char *fmt, va_list ap)
{
	char where[32] = "", msg[LOG_LINE_MAX];

	if (line > 0)
		snprintf(where, sizeof(where), ":%d", line);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	redact_keys(msg);
	if (error)
		log_error("%s%s: %s", p->name, where, msg);
	else
		log_warn("%s%s: warning: %s", p->name, where, msg);
}

__attribute__((format(printf, 4, 5))) static void report(struct parser *p, int line, bool error,
							 const char *fmt, ...)
{
	va_list ap;

	if (error)
		p->errors++;
	if (!p->errs) {
		va_start(ap, fmt);
		report_log(p, line, error, fmt, ap);
		va_end(ap);
		return;
	}
	if (line > 0)
		fprintf(p->errs, "%s:%d: ", p->name, line);
	else
		fprintf(p->errs, "%s: ", p->name);
	if (!error)
		fputs("warning: ", p->errs);
	char msg[LOG_LINE_MAX];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	redact_keys(msg);
	fputs(msg, p->errs);
	fputc('\n', p->errs);
	sodium_memzero(msg, sizeof(msg));
}

/* Unknown names are errors when checking a file, warnings when running. */
#define report_unknown(p, ...) report((p), (p)->line, (p)->strict, __VA_ARGS__)

/* ---- values ---- */

/* Decimal digits only: no sign, no blanks, no hex; at most max. */
static bool parse_uint(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

/* What the kernel accepts (dev_valid_name), minus what is awkward in paths and logs. */
bool config_valid_ifname(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= IFNAMSIZ)
		return false;
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++) {
		if (!isgraph((unsigned char)*s) || *s == '/' || *s == ':')
			return false;
	}
	return true;
}

static bool parse_port(const char *s, uint16_t *port)
{
	uint32_t v;

	if (!parse_uint(s, 65535, &v) || v == 0)
		return false;
	*port = (uint16_t)v;
	return true;
}

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
	if (!parse_port(colon + 1, &port)) {
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

/* ---- PrivateKeyFile ---- */

/* Relative paths are taken from the config file's directory, not the cwd. */
static bool key_file_path(const struct parser *p, const char *value, char *out, size_t size)
{
	const char *slash = strrchr(p->name, '/');
	int n;

	if (value[0] == '/' || !slash)
		n = snprintf(out, size, "%s", value);
	else
		n = snprintf(out, size, "%.*s/%s", (int)(slash - p->name), p->name, value);
	return n >= 0 && (size_t)n < size;
}

/* Reads up to size bytes; returns how many, or -1. */
static ssize_t read_all(int fd, char *buf, size_t size)
{
	size_t got = 0;

	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static bool read_key_file(struct parser *p, const char *value, uint8_t key[WG_KEY_LEN])
{
	char path[4096];
	char buf[KEY_FILE_MAX + 1];
	struct stat st;
	ssize_t n;
	bool ok;
	int fd;

	if (!key_file_path(p, value, path, sizeof(path))) {
		report(p, p->line, true, "PrivateKeyFile path too long");
		return false;
	}
#ifdef ALAMESH_FUZZING
	/* Fuzz inputs must not make the target open arbitrary files. */
	report(p, p->line, true, "cannot open PrivateKeyFile '%s': not in fuzzing builds", path);
	return false;
#endif
	/* O_NONBLOCK: a FIFO must not hang the daemon; it is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		report(p, p->line, true, "cannot open PrivateKeyFile '%s': %s", path,
		       strerror(errno));
		return false;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		report(p, p->line, true, "PrivateKeyFile '%s' is not a regular file", path);
		return false;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		report(p, p->line, false,
		       "PrivateKeyFile '%s' is accessible by group or others (chmod 600 it)", path);

	n = read_all(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		report(p, p->line, true, "cannot read PrivateKeyFile '%s': %s", path,
		       strerror(errno));
		return false;
	}
	buf[n] = '\0';
	if (n == WG_KEY_B64_LEN + 1 && buf[WG_KEY_B64_LEN] == '\n')
		buf[WG_KEY_B64_LEN] = '\0';
	ok = (size_t)n <= WG_KEY_B64_LEN + 1 && key_from_base64(key, buf);
	sodium_memzero(buf, sizeof(buf));
	if (!ok)
		report(p, p->line, true,
		       "PrivateKeyFile '%s' does not hold a base64 key as wg genkey writes it",
		       path);
	return ok;
}

/* ---- [Interface] ---- */

/* Index of name in keys, or -1. */
static int lookup(const char *const *keys, int count, const char *name)
{
	for (int i = 0; i < count; i++) {
		if (!strcasecmp(keys[i], name))
			return i;
	}
	return -1;
}

static void set_private_key(struct parser *p, enum iface_key k, const char *value)
{
	struct config *cfg = p->cfg;
	enum iface_key other = k == IK_PRIVATE_KEY ? IK_PRIVATE_KEY_FILE : IK_PRIVATE_KEY;
	uint8_t key[WG_KEY_LEN];
	bool ok;

	if (p->iface_lines[other]) {
		report(p, p->line, true, "PrivateKey and PrivateKeyFile are mutually exclusive");
		return;
	}
	if (k == IK_PRIVATE_KEY) {
		ok = !p->secret_overflow && key_from_base64(key, p->secret);
		if (!ok)
			report(p, p->line, true,
			       "invalid PrivateKey: expected 44 characters of base64 as wg genkey "
			       "prints");
		else if (p->group_readable)
			report(p, p->line, false,
			       "PrivateKey in a file accessible by group or others (chmod 600 it)");
	} else {
		ok = read_key_file(p, value, key);
	}
	if (ok) {
		memcpy(cfg->private_key, key, sizeof(key));
		cfg->has_private_key = true;
	}
	sodium_memzero(key, sizeof(key));
}

/* The account to drop to once the interface is up; resolved now, so -t finds a typo. */
static void set_user(struct parser *p, const char *value)
{
	struct passwd *pw = getpwnam(value);

	if (!pw) {
		report(p, p->line, true, "unknown User '%s': no such account", value);
		return;
	}
	if (pw->pw_uid == 0) {
		report(p, p->line, true, "User '%s' is root: name an unprivileged account", value);
		return;
	}
	p->cfg->has_user = true;
	p->cfg->uid = pw->pw_uid;
	if (!p->cfg->has_group) /* a Group = line, before or after, wins */
		p->cfg->gid = pw->pw_gid;
	snprintf(p->cfg->user, sizeof(p->cfg->user), "%s", value);
}

static void set_group(struct parser *p, const char *value)
{
	struct group *gr = getgrnam(value);

	if (!gr) {
		report(p, p->line, true, "unknown Group '%s': no such group", value);
		return;
	}
	if (gr->gr_gid == 0) {
		report(p, p->line, true, "Group '%s' is root's: name an unprivileged group", value);
		return;
	}
	p->cfg->has_group = true;
	p->cfg->gid = gr->gr_gid;
}

static void interface_key(struct parser *p, const char *name, const char *value)
{
	struct config *cfg = p->cfg;
	int k = lookup(iface_keys, IK_COUNT, name);
	uint32_t v;

	if (k < 0) {
		report_unknown(p, "unknown key '%s' in [Interface]", name);
		return;
	}
	if (p->iface_lines[k]) {
		report(p, p->line, true, "duplicate key %s (first on line %d)", iface_keys[k],
		       p->iface_lines[k]);
		return;
	}
	p->iface_lines[k] = p->line;
	if (k != IK_PRIVATE_KEY && !*value) {
		report(p, p->line, true, "missing value for %s", iface_keys[k]);
		return;
	}

	switch ((enum iface_key)k) {
	case IK_NAME:
		if (!config_valid_ifname(value)) {
			report(p, p->line, true, "invalid Name '%s': %s", value,
			       CONFIG_IFNAME_RULE);
		} else {
			snprintf(cfg->ifname, sizeof(cfg->ifname), "%s", value);
			cfg->name_line = p->line;
		}
		break;
	case IK_PRIVATE_KEY:
	case IK_PRIVATE_KEY_FILE:
		set_private_key(p, (enum iface_key)k, value);
		break;
	case IK_LISTEN_PORT:
		if (!parse_uint(value, 65535, &v))
			report(p, p->line, true, "invalid ListenPort '%s': 0 to 65535", value);
		else
			cfg->listen_port = (uint16_t)v;
		break;
	case IK_MTU:
		if (!parse_uint(value, ALAMESH_MAX_MTU, &v) || v < ALAMESH_MIN_MTU)
			report(p, p->line, true, "invalid MTU '%s': %d to %d", value,
			       ALAMESH_MIN_MTU, ALAMESH_MAX_MTU);
		else
			cfg->mtu = v;
		break;
	case IK_USER:
		set_user(p, value);
		break;
	case IK_GROUP:
		set_group(p, value);
		break;
	case IK_COUNT:
		break;
	}
}

/* ---- [Peer] ---- */

static bool add_peer(struct parser *p)
{
	struct config *cfg = p->cfg;

	if (cfg->npeers == CONFIG_MAX_PEERS) {
		if (!p->too_many_peers)
			report(p, p->line, true, "too many peers (at most %d)", CONFIG_MAX_PEERS);
		p->too_many_peers = true;
		return false;
	}
	if (cfg->npeers == p->peers_cap) {
		size_t cap = p->peers_cap ? p->peers_cap * 2 : 8;
		struct config_peer *peers = calloc(cap, sizeof(*peers));
		struct peer_lines *lines = calloc(cap, sizeof(*lines));

		if (!peers || !lines) {
			free(peers);
			free(lines);
			report(p, p->line, true, "out of memory");
			return false;
		}
		/* Copied by hand, not realloc()ed: the old block holds preshared keys. */
		if (cfg->npeers) {
			memcpy(peers, cfg->peers, cfg->npeers * sizeof(*peers));
			memcpy(lines, p->plines, cfg->npeers * sizeof(*lines));
			sodium_memzero(cfg->peers, cfg->npeers * sizeof(*peers));
		}
		free(cfg->peers);
		free(p->plines);
		cfg->peers = peers;
		p->plines = lines;
		p->peers_cap = cap;
	}
	memset(&cfg->peers[cfg->npeers], 0, sizeof(cfg->peers[0]));
	memset(&p->plines[cfg->npeers], 0, sizeof(p->plines[0]));
	cfg->peers[cfg->npeers].endpoint.ss_family = AF_UNSPEC;
	cfg->peers[cfg->npeers].line = p->line;
	cfg->npeers++;
	return true;
}

static void peer_key(struct parser *p, const char *name, const char *value)
{
	struct config_peer *peer = &p->cfg->peers[p->cfg->npeers - 1];
	struct peer_lines *lines = &p->plines[p->cfg->npeers - 1];
	int k = lookup(peer_keys, PK_COUNT, name);
	const char *why;
	uint32_t v;

	if (k < 0) {
		report_unknown(p, "unknown key '%s' in [Peer]", name);
		return;
	}
	if (lines->key[k]) {
		report(p, p->line, true, "duplicate key %s (first on line %d)", peer_keys[k],
		       lines->key[k]);
		return;
	}
	lines->key[k] = p->line;
	if (k != PK_PRESHARED_KEY && !*value) {
		report(p, p->line, true, "missing value for %s", peer_keys[k]);
		return;
	}

	switch ((enum peer_key)k) {
	case PK_PUBLIC_KEY:
		lines->valid_key = key_from_base64(peer->public_key, value);
		if (!lines->valid_key)
			report(p, p->line, true,
			       "invalid PublicKey: expected 44 characters of base64 as wg pubkey "
			       "prints");
		break;
	case PK_PRESHARED_KEY:
		if (p->secret_overflow || !key_from_base64(peer->preshared_key, p->secret))
			report(p, p->line, true,
			       "invalid PresharedKey: expected 44 characters of base64 as wg "
			       "genpsk prints");
		else
			peer->has_preshared_key = true;
		break;
	case PK_ENDPOINT:
		if (!config_parse_endpoint(value, &peer->endpoint, &peer->endpoint_len, &why)) {
			memset(&peer->endpoint, 0, sizeof(peer->endpoint));
			peer->endpoint_len = 0;
			report(p, p->line, true, "invalid Endpoint '%s': %s", value, why);
		}
		break;
	case PK_KEEPALIVE:
		if (!strcasecmp(value, "off"))
			v = 0;
		else if (!parse_uint(value, 65535, &v)) {
			report(p, p->line, true,
			       "invalid PersistentKeepalive '%s': 0 to 65535 or off", value);
			break;
		}
		peer->persistent_keepalive = (uint16_t)v;
		break;
	case PK_COUNT:
		break;
	}
}

/* ---- inih glue ---- */

/* "90", "90s", "15m", "1h": from min to max seconds. */
static bool parse_duration(const char *s, uint32_t min, uint32_t max, uint32_t *secs)
{
	char num[16];
	size_t len = strlen(s);
	uint32_t mult = 1, v;

	if (len == 0 || len >= sizeof(num))
		return false;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 's':
		num[--len] = '\0';
		break;
	case 'm':
		mult = 60;
		num[--len] = '\0';
		break;
	case 'h':
		mult = 3600;
		num[--len] = '\0';
		break;
	}
	if (!parse_uint(num, max, &v) || (uint64_t)v * mult > max || v * mult < min)
		return false;
	*secs = v * mult;
	return true;
}

static bool parse_bool(const char *s, bool *out)
{
	if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") || !strcmp(s, "1"))
		*out = true;
	else if (!strcasecmp(s, "no") || !strcasecmp(s, "false") || !strcmp(s, "0"))
		*out = false;
	else
		return false;
	return true;
}

/*
 * The remotes alamesh.conf(5) lists: an https://, ssh://, git:// or file://
 * URL with something after the scheme, or git's scp-like [user@]host:path
 * (ssh to port 22; as git tells it from a path, a colon with no slash
 * before it). libgit2 takes more (http://, a bare path), or refuses the rest
 * only at the first fetch, hours after -t passed the file.
 */
static bool registry_url_valid(const char *url)
{
	static const char *const schemes[] = {"https://", "ssh://", "git://", "file://"};
	const char *colon = strchr(url, ':');

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i]);
		if (!strncmp(url, schemes[i], n))
			return url[n] != '\0';
	}
	if (!colon || colon[1] == '\0' || strstr(url, "://") ||
	    memchr(url, '/', (size_t)(colon - url)))
		return false;
	const char *at = memchr(url, '@', (size_t)(colon - url));
	const char *host = at ? at + 1 : url;
	return host < colon && (!at || at > url);
}

static void registry_key(struct parser *p, const char *name, const char *value)
{
	struct config *cfg = p->cfg;
	int k = lookup(registry_keys, RK_COUNT, name);
	uint32_t v;

	if (k < 0) {
		report_unknown(p, "unknown key '%s' in [Registry]", name);
		return;
	}
	if (p->registry_lines[k]) {
		report(p, p->line, true, "duplicate key %s (first on line %d)", registry_keys[k],
		       p->registry_lines[k]);
		return;
	}
	p->registry_lines[k] = p->line;
	if (!*value) {
		report(p, p->line, true, "missing value for %s", registry_keys[k]);
		return;
	}
	switch ((enum registry_key)k) {
	case RK_URL:
		if (strlen(value) >= sizeof(cfg->registry_url) || strchr(value, ' '))
			report(p, p->line, true, "invalid URL: no blanks, under %zu bytes",
			       sizeof(cfg->registry_url));
		else if (!registry_url_valid(value))
			report(p, p->line, true,
			       "invalid URL '%s': https://, ssh://, git://, file:// or "
			       "[user@]host:path",
			       value);
		else
			snprintf(cfg->registry_url, sizeof(cfg->registry_url), "%s", value);
		break;
	case RK_BRANCH:
		if (strlen(value) >= sizeof(cfg->registry_branch) || strstr(value, "..") ||
		    strpbrk(value, " ~^:?*[\\") || value[0] == '-' || value[0] == '/')
			report(p, p->line, true, "invalid Branch '%s'", value);
		else
			snprintf(cfg->registry_branch, sizeof(cfg->registry_branch), "%s", value);
		break;
	case RK_INTERVAL:
		if (!parse_duration(value, 10, 7 * 24 * 3600, &v))
			report(p, p->line, true,
			       "invalid Interval '%s': seconds, or with s, m or h; 10s to 7 days",
			       value);
		else
			cfg->registry_interval = v;
		break;
	case RK_CACHE_DIR:
		if (value[0] != '/' || strlen(value) >= sizeof(cfg->registry_cache_dir))
			report(p, p->line, true, "invalid CacheDir '%s': an absolute path", value);
		else
			snprintf(cfg->registry_cache_dir, sizeof(cfg->registry_cache_dir), "%s",
				 value);
		break;
	case RK_ALLOW_EMPTY:
		if (!parse_bool(value, &cfg->registry_allow_empty))
			report(p, p->line, true, "invalid AllowEmpty '%s': yes or no", value);
		break;
	case RK_REQUIRE_FF:
		if (!parse_bool(value, &cfg->registry_require_ff))
			report(p, p->line, true, "invalid RequireFastForward '%s': yes or no",
			       value);
		break;
	case RK_MAX_MEMBERS:
		if (!parse_uint(value, 1 << 20, &v) || v == 0)
			report(p, p->line, true, "invalid MaxMembers '%s': 1 to 1048576", value);
		else
			cfg->registry_max_members = v;
		break;
	case RK_CA_FILE:
		if (value[0] != '/' || strlen(value) >= sizeof(cfg->registry_ca_file))
			report(p, p->line, true, "invalid CAFile '%s': an absolute path", value);
		else if (access(value, R_OK) < 0)
			report(p, p->line, true, "CAFile %s: %s", value, strerror(errno));
		else
			snprintf(cfg->registry_ca_file, sizeof(cfg->registry_ca_file), "%s", value);
		break;
	case RK_MAX_PEERS:
		if (!parse_uint(value, 65536, &v) || v == 0)
			report(p, p->line, true, "invalid MaxPeers '%s': 1 to 65536", value);
		else
			cfg->registry_max_peers = v;
		break;
	case RK_FETCH_TIMEOUT:
		if (!parse_duration(value, 1, 600, &v))
			report(p, p->line, true,
			       "invalid FetchTimeout '%s': seconds, or with s or m; 1s to 10m",
			       value);
		else
			cfg->registry_fetch_timeout = v;
		break;
	case RK_COUNT:
		break;
	}
}

static int config_handler(void *user, const char *section, const char *name, const char *value)
{
	struct parser *p = user;

	(void)section; /* tracked by the reader, which also sees empty sections */
	switch (p->section) {
	case SEC_NONE:
		report(p, p->line, true, "key '%s' outside of any section", name);
		break;
	case SEC_INTERFACE:
		interface_key(p, name, value);
		break;
	case SEC_PEER:
		peer_key(p, name, value);
		break;
	case SEC_REGISTRY:
		registry_key(p, name, value);
		break;
	case SEC_IGNORED:
		break;
	}
	/* Always go on: every problem in the file is reported, not just the first. */
	return 1;
}

static void begin_section(struct parser *p, const char *name)
{
	if (!strcasecmp(name, "Interface")) {
		if (p->interface_line)
			report(p, p->line, true, "duplicate [Interface] section (first on line %d)",
			       p->interface_line);
		else
			p->interface_line = p->line;
		p->section = SEC_INTERFACE;
	} else if (!strcasecmp(name, "Peer")) {
		p->section = add_peer(p) ? SEC_PEER : SEC_IGNORED;
	} else if (!strcasecmp(name, "Registry")) {
		if (p->registry_line)
			report(p, p->line, true, "duplicate [Registry] section (first on line %d)",
			       p->registry_line);
		else
			p->registry_line = p->line;
		p->cfg->has_registry = true;
		p->section = SEC_REGISTRY;
	} else {
		report_unknown(p, "unknown section [%s]", name);
		p->section = SEC_IGNORED;
	}
}

/*
 * Reads one raw line into p->raw. Returns its length, or -1 at the end of
 * the input. Sets *overlong when the line did not fit (the rest is
 * consumed) and *bad when it holds a NUL or control character.
 */
static int read_raw_line(struct parser *p, bool *overlong, bool *bad)
{
	size_t len = 0;
	int c = EOF;

	*overlong = *bad = false;
	while ((c = getc(p->in)) != EOF && c != '\n') {
		if (c == '\r')
			continue; /* CRLF files; a stray CR is harmless */
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			*bad = true;
		if (len < sizeof(p->raw) - 1)
			p->raw[len++] = (char)c;
		else
			*overlong = true;
	}
	if (c == EOF && len == 0 && !*overlong && !*bad)
		return -1;
	p->raw[len] = '\0';
	return (int)len;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	return s;
}

/* A header "[Name]": handled here, inih gets an empty line. */
static void reader_section(struct parser *p, char *s)
{
	size_t len = strlen(s);
	char *name;

	if (s[len - 1] != ']') {
		report(p, p->line, true, "malformed section header, expected [Name]");
		p->section = SEC_IGNORED;
		return;
	}
	s[len - 1] = '\0';
	name = trim(s + 1);
	if (!*name || strpbrk(name, "[]")) {
		report(p, p->line, true, "malformed section header, expected [Name]");
		p->section = SEC_IGNORED;
		return;
	}
	begin_section(p, name);
}

static bool is_secret_key(const char *key, size_t len)
{
	return (len == 10 && !strncasecmp(key, "PrivateKey", len)) ||
	       (len == 12 && !strncasecmp(key, "PresharedKey", len));
}

/* "Key = Value": normalized into out as "Key=Value", or false if malformed. */
static bool reader_pair(struct parser *p, char *s, char *out, size_t size)
{
	char *eq = strchr(s, '=');
	char *key, *value;
	size_t klen;

	if (!eq) {
		report(p, p->line, true, "expected 'Key = Value' or '[Section]'");
		return false;
	}
	*eq = '\0';
	key = trim(s);
	value = trim(eq + 1);
	klen = strlen(key);
	for (size_t i = 0; i < klen; i++) {
		if (!isalnum((unsigned char)key[i]))
			klen = 0;
	}
	if (klen == 0) {
		report(p, p->line, true, "expected 'Key = Value' or '[Section]'");
		return false;
	}
	if (is_secret_key(key, klen)) {
		p->secret_overflow = strlen(value) >= sizeof(p->secret);
		snprintf(p->secret, sizeof(p->secret), "%s", p->secret_overflow ? "" : value);
		value = ""; /* the handler reads p->secret */
	}
	snprintf(out, size, "%s=%s", key, value);
	return true;
}

/* An ini_reader: hands inih one checked, normalized line per call. */
static char *config_reader(char *str, int num, void *stream)
{
	struct parser *p = stream;
	size_t max = (size_t)num > 3 ? (size_t)num - 3 : 0;
	bool overlong, bad;
	char *s, *hash;
	int len;

	len = read_raw_line(p, &overlong, &bad);
	if (len < 0) {
		if (ferror(p->in))
			report(p, 0, true, "read error");
		return NULL;
	}
	p->line++;
	str[0] = '\0';
	s = p->raw;
	if (p->line == 1 && !strncmp(s, "\xef\xbb\xbf", 3))
		s += 3; /* a UTF-8 byte order mark */
	if (bad) {
		report(p, p->line, true, "control character in line");
		return str;
	}
	hash = strpbrk(s, "#;");
	if (hash)
		*hash = '\0';
	s = trim(s);
	if (!*s)
		return str;
	if (overlong || strlen(s) > max) {
		report(p, p->line, true, "line too long (at most %zu characters)", max);
		return str;
	}
	if (*s == '[')
		reader_section(p, s);
	else if (!reader_pair(p, s, str, (size_t)num))
		str[0] = '\0';
	return str;
}

/* ---- whole-file checks ---- */

static void check_peers(struct parser *p)
{
	const struct config *cfg = p->cfg;
	uint8_t own[WG_KEY_LEN];
	bool have_own = cfg->has_private_key && crypto_scalarmult_base(own, cfg->private_key) == 0;

	for (size_t i = 0; i < cfg->npeers; i++) {
		int line = p->plines[i].key[PK_PUBLIC_KEY];

		if (!line)
			report(p, cfg->peers[i].line, true, "[Peer] without PublicKey");
		if (!p->plines[i].valid_key)
			continue;
		if (have_own && !memcmp(own, cfg->peers[i].public_key, WG_KEY_LEN))
			report(p, line, true, "PublicKey is this interface's own public key");
		/* A low-order point (the zero key among them) can never complete a handshake. */
		uint8_t shared[WG_KEY_LEN];
		if (cfg->has_private_key &&
		    !wg_dh(shared, cfg->private_key, cfg->peers[i].public_key))
			report(p, line, true, "PublicKey is a low-order point, not a usable key");
		sodium_memzero(shared, sizeof(shared));
		for (size_t j = 0; j < i; j++) {
			if (p->plines[j].valid_key &&
			    !memcmp(cfg->peers[j].public_key, cfg->peers[i].public_key,
				    WG_KEY_LEN)) {
				report(p, line, true, "duplicate peer PublicKey (first on line %d)",
				       p->plines[j].key[PK_PUBLIC_KEY]);
				break;
			}
		}
	}
}

static int parse(struct parser *p)
{
	int rc = ini_parse_stream(config_reader, p, config_handler, p);

	if (rc < 0)
		report(p, 0, true, "out of memory");
	/* rc > 0 cannot happen: the reader hands inih only well-formed lines. */
	if (!p->cfg->has_private_key && !p->iface_lines[IK_PRIVATE_KEY] &&
	    !p->iface_lines[IK_PRIVATE_KEY_FILE])
		report(p, 0, true, "no PrivateKey or PrivateKeyFile in [Interface]");
	if (p->registry_line && !p->registry_lines[RK_URL])
		report(p, p->registry_line, true, "[Registry] without URL");
	if (p->iface_lines[IK_GROUP] && !p->iface_lines[IK_USER])
		report(p, p->iface_lines[IK_GROUP], true, "Group without User");
	check_peers(p);
	free(p->plines);
	p->plines = NULL;
	sodium_memzero(p->raw, sizeof(p->raw));
	sodium_memzero(p->secret, sizeof(p->secret));
	return p->errors;
}

static void parser_init(struct parser *p, struct config *cfg, FILE *in, bool strict, FILE *errs)
{
	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	p->in = in;
	p->name = cfg->path;
	p->strict = strict;
	p->errs = errs;
}

int config_load_file(struct config *cfg, FILE *f, const char *name, bool strict, FILE *errs)
{
	struct parser p;

	config_init(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", name);
	parser_init(&p, cfg, f, strict, errs);
	return parse(&p);
}

int config_load(struct config *cfg, const char *path, bool strict, FILE *errs)
{
	/* Our own stdio buffer, so the file's secrets can be wiped after fclose(). */
	char iobuf[4096];
	struct parser p;
	struct stat st;
	FILE *f;
	int n;

	config_init(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	parser_init(&p, cfg, NULL, strict, errs);
	if (strlen(path) >= sizeof(cfg->path)) {
		report(&p, 0, true, "path too long");
		return p.errors;
	}
	f = fopen(path, "re");
	if (!f) {
		report(&p, 0, true, "%s", strerror(errno));
		return p.errors;
	}
	setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));
	if (fstat(fileno(f), &st) == 0)
		p.group_readable = (st.st_mode & (S_IRWXG | S_IRWXO)) != 0;
	p.in = f;
	n = parse(&p);
	fclose(f);
	sodium_memzero(iobuf, sizeof(iobuf));
	return n;
}
