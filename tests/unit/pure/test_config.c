/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/config/config.h"
#include "wgproto/encoding.h"

/* An arbitrary private key; its public key is computed where needed. */
#define PRIV  "oK56DE9Ue9zK76rAc8pBl6opph+1v36lm7cXXsQKrQM="
#define PUB_A "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="
#define PUB_B "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
#define PSK   "FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE="

static char tmpdir[] = "/tmp/alamesh-test-config-XXXXXX";
static char conf_path[64];

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(conf_path, sizeof(conf_path), "%s/alamesh.conf", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Loads text as a 0600 file; *msgs gets everything printed (free it). */
static int load(struct config *cfg, const char *text, bool strict, char **msgs)
{
	size_t len;
	FILE *errs = open_memstream(msgs, &len);
	int n;

	assert_non_null(errs);
	write_file(conf_path, text, 0600);
	n = config_load(cfg, conf_path, strict, errs);
	fclose(errs);
	return n;
}

/* Asserts exactly one error, reported as "PATH:LINE: what...". */
static void expect_error(const char *text, int line, const char *what)
{
	struct config cfg;
	char want[1024];
	char *msgs = NULL;
	int n = load(&cfg, text, true, &msgs);

	if (line > 0)
		snprintf(want, sizeof(want), "%s:%d: %s", conf_path, line, what);
	else
		snprintf(want, sizeof(want), "%s: %s", conf_path, what);
	if (n != 1 || strncmp(msgs, want, strlen(want)) != 0 || !strchr(msgs, '\n') ||
	    strchr(msgs, '\n')[1] != '\0')
		fail_msg("config:\n%s\nwanted one error '%s...', got %d:\n%s", text, want, n, msgs);
	free(msgs);
	config_free(&cfg);
}

static void key(uint8_t out[WG_KEY_LEN], const char *b64)
{
	assert_true(key_from_base64(out, b64));
}

static void test_full(void **state)
{
	const char *text = "# alamesh.conf\n"
			   "[Interface]\n"
			   "name = mesh7   ; inline comment\n"
			   "PrivateKey = " PRIV "\n"
			   "LISTENPORT=4242# another\n"
			   "  MTU = 1400  \n"
			   "\n"
			   "[Peer]\n"
			   "PublicKey = " PUB_A "\n"
			   "PresharedKey = " PSK "\n"
			   "Endpoint = 192.0.2.1:51820\n"
			   "PersistentKeepalive = 25\n"
			   "[peer]\n"
			   "PublicKey = " PUB_B "\n"
			   "Endpoint = [2001:db8::1]:7\n"
			   "PersistentKeepalive = off\n";
	struct config cfg;
	char *msgs = NULL;
	uint8_t k[WG_KEY_LEN];
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	struct in6_addr want6;

	(void)state;
	assert_int_equal(load(&cfg, text, true, &msgs), 0);
	assert_string_equal(msgs, "");
	assert_string_equal(cfg.path, conf_path);
	assert_string_equal(cfg.ifname, "mesh7");
	assert_true(cfg.has_private_key);
	key(k, PRIV);
	assert_memory_equal(cfg.private_key, k, WG_KEY_LEN);
	assert_int_equal(cfg.listen_port, 4242);
	assert_int_equal(cfg.mtu, 1400);
	assert_int_equal(cfg.npeers, 2);

	key(k, PUB_A);
	assert_memory_equal(cfg.peers[0].public_key, k, WG_KEY_LEN);
	assert_true(cfg.peers[0].has_preshared_key);
	key(k, PSK);
	assert_memory_equal(cfg.peers[0].preshared_key, k, WG_KEY_LEN);
	assert_int_equal(cfg.peers[0].endpoint.ss_family, AF_INET);
	assert_int_equal(cfg.peers[0].endpoint_len, sizeof(struct sockaddr_in));
	sin = (struct sockaddr_in *)&cfg.peers[0].endpoint;
	assert_int_equal(ntohs(sin->sin_port), 51820);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0xc0000201);
	assert_int_equal(cfg.peers[0].persistent_keepalive, 25);
	assert_int_equal(cfg.peers[0].line, 8);

	key(k, PUB_B);
	assert_memory_equal(cfg.peers[1].public_key, k, WG_KEY_LEN);
	assert_false(cfg.peers[1].has_preshared_key);
	assert_int_equal(cfg.peers[1].endpoint.ss_family, AF_INET6);
	sin6 = (struct sockaddr_in6 *)&cfg.peers[1].endpoint;
	assert_int_equal(ntohs(sin6->sin6_port), 7);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", &want6), 1);
	assert_memory_equal(&sin6->sin6_addr, &want6, sizeof(want6));
	assert_int_equal(cfg.peers[1].persistent_keepalive, 0);
	assert_int_equal(cfg.peers[1].line, 13);

	free(msgs);
	config_free(&cfg);
	assert_null(cfg.peers);
	assert_int_equal(cfg.npeers, 0);
	assert_false(cfg.has_private_key);
	assert_true(sodium_is_zero(cfg.private_key, WG_KEY_LEN));
}

static void test_defaults(void **state)
{
	struct config cfg;
	char *msgs = NULL;

	(void)state;
	assert_int_equal(load(&cfg, "[Interface]\nPrivateKey = " PRIV "\n", true, &msgs), 0);
	assert_string_equal(msgs, "");
	assert_string_equal(cfg.ifname, ALAMESH_DEFAULT_IFNAME);
	assert_string_equal(cfg.ifname, "alamesh0");
	assert_int_equal(cfg.listen_port, 51820);
	assert_int_equal(cfg.mtu, 1420);
	assert_int_equal(cfg.npeers, 0);
	assert_null(cfg.peers);
	free(msgs);
	config_free(&cfg);
}

#define IFACE "[Interface]\nPrivateKey = " PRIV "\n"

/* User = / Group =: resolved at load time, root refused, Group only with User. */
static void test_user(void **state)
{
	struct config cfg;
	char *msgs = NULL;

	(void)state;
	assert_int_equal(load(&cfg, IFACE "User = nobody\n", true, &msgs), 0);
	assert_true(cfg.has_user);
	assert_int_equal(cfg.uid, getpwnam("nobody")->pw_uid);
	assert_int_equal(cfg.gid, getpwnam("nobody")->pw_gid);
	assert_string_equal(cfg.user, "nobody");
	free(msgs);
	config_free(&cfg);
	/* A Group line wins over the primary group, before or after User. */
	assert_int_equal(load(&cfg, IFACE "Group = nogroup\nUser = nobody\n", true, &msgs), 0);
	assert_int_equal(cfg.gid, getgrnam("nogroup")->gr_gid);
	free(msgs);
	config_free(&cfg);
	assert_int_equal(load(&cfg, IFACE "User = nobody\nGroup = nogroup\n", true, &msgs), 0);
	assert_int_equal(cfg.gid, getgrnam("nogroup")->gr_gid);
	free(msgs);
	config_free(&cfg);
	assert_int_equal(load(&cfg, IFACE, true, &msgs), 0);
	assert_false(cfg.has_user);
	free(msgs);
	config_free(&cfg);
	expect_error(IFACE "User = no-such-user-x\n", 3, "unknown User 'no-such-user-x'");
	expect_error(IFACE "User = root\n", 3, "User 'root' is root");
	expect_error(IFACE "User = nobody\nGroup = no-such-group-x\n", 4,
		     "unknown Group 'no-such-group-x'");
	expect_error(IFACE "User = nobody\nGroup = root\n", 4, "Group 'root' is root's");
	expect_error(IFACE "Group = nogroup\n", 3, "Group without User");
}

/* [Registry]: defaults, each key, and a message naming each bad value. */
static void test_registry(void **state)
{
	struct config cfg;
	char *msgs = NULL;

	(void)state;
	assert_int_equal(
	    load(&cfg, IFACE "[Registry]\nURL = https://git.example.org/r.git\n", true, &msgs), 0);
	assert_true(cfg.has_registry);
	assert_string_equal(cfg.registry_url, "https://git.example.org/r.git");
	assert_string_equal(cfg.registry_branch, "main");
	assert_int_equal(cfg.registry_interval, 3600);
	assert_string_equal(cfg.registry_cache_dir, "/var/lib/alamesh");
	assert_false(cfg.registry_allow_empty);
	assert_false(cfg.registry_require_ff);
	assert_int_equal(cfg.registry_max_members, 65536);
	assert_int_equal(cfg.registry_fetch_timeout, 120);
	free(msgs);
	config_free(&cfg);
	assert_int_equal(load(&cfg,
			      IFACE
			      "[Registry]\nURL = file:///r\nBranch = members/v2\nInterval = 15m\n"
			      "CacheDir = /tmp/c\nAllowEmpty = yes\nRequireFastForward = true\n"
			      "MaxMembers = 10\nFetchTimeout = 3\n",
			      true, &msgs),
			 0);
	assert_int_equal(cfg.registry_fetch_timeout, 3);
	assert_string_equal(cfg.registry_branch, "members/v2");
	assert_int_equal(cfg.registry_interval, 900);
	assert_string_equal(cfg.registry_cache_dir, "/tmp/c");
	assert_true(cfg.registry_allow_empty);
	assert_true(cfg.registry_require_ff);
	assert_int_equal(cfg.registry_max_members, 10);
	free(msgs);
	config_free(&cfg);
	assert_int_equal(
	    load(&cfg, IFACE "[Registry]\nURL = file:///r\nInterval = 2h\n", true, &msgs), 0);
	assert_int_equal(cfg.registry_interval, 7200);
	free(msgs);
	config_free(&cfg);
	assert_int_equal(
	    load(&cfg, IFACE "[Registry]\nURL = file:///r\nFetchTimeout = 10m\n", true, &msgs), 0);
	assert_int_equal(cfg.registry_fetch_timeout, 600);
	free(msgs);
	config_free(&cfg);
	expect_error(IFACE "[Registry]\nURL = file:///r\nFetchTimeout = 0\n", 5,
		     "invalid FetchTimeout '0'");
	expect_error(IFACE "[Registry]\nURL = file:///r\nFetchTimeout = 11m\n", 5,
		     "invalid FetchTimeout");
	expect_error(IFACE "[Registry]\nBranch = main\n", 3, "[Registry] without URL");
	expect_error(IFACE "[Registry]\nURL = file:///r\nInterval = 5s\n", 5,
		     "invalid Interval '5s'");
	expect_error(IFACE "[Registry]\nURL = file:///r\nInterval = 8d\n", 5, "invalid Interval");
	expect_error(IFACE "[Registry]\nURL = file:///r\nInterval = 200h\n", 5, "invalid Interval");
	expect_error(IFACE "[Registry]\nURL = file:///r\nBranch = a..b\n", 5, "invalid Branch");
	expect_error(IFACE "[Registry]\nURL = file:///r\nCacheDir = rel\n", 5, "invalid CacheDir");
	expect_error(IFACE "[Registry]\nURL = file:///r\nAllowEmpty = maybe\n", 5,
		     "invalid AllowEmpty");
	expect_error(IFACE "[Registry]\nURL = file:///r\nMaxMembers = 0\n", 5,
		     "invalid MaxMembers");
	expect_error(IFACE "[Registry]\nURL = file:///r\nURL = y\n", 5, "duplicate key URL");
	expect_error(IFACE "[Registry]\nURL = file:///r\n[Registry]\n", 5, "duplicate [Registry]");
	expect_error(IFACE "[Registry]\nURL = file:///r\nColour = 1\n", 5,
		     "unknown key 'Colour' in");
}

/*
 * URL: the remotes alamesh.conf(5) lists, and nothing else, each refusal
 * naming the value; libgit2 would take http:// and a bare path, and refuse
 * ftp:// only at the first fetch.
 */
static void test_registry_url(void **state)
{
	static const char *const good[] = {
	    "https://git.example.org/community/registry.git",
	    "ssh://git@git.example.org:2222/srv/registry.git",
	    "git://192.0.2.1:9418/registry.git",
	    "file:///srv/registry.git",
	    "git@git.example.org:community/registry.git",
	    "git.example.org:/srv/registry.git",
	};
	static const char *const bad[] = {
	    "ftp://x",
	    "http://git.example.org/registry.git",
	    "HTTPS://git.example.org/registry.git",
	    "git+ssh://git.example.org/registry.git",
	    "https://",
	    "file://",
	    "/srv/registry.git",
	    "registry.git",
	    "./dir:x",
	    "git@git.example.org:",
	    ":registry.git",
	    "git@:registry.git",
	    "@git.example.org:registry.git",
	};
	struct config cfg;
	char text[512], want[128];
	char *msgs = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), IFACE "[Registry]\nURL = %s\n", good[i]);
		if (load(&cfg, text, true, &msgs) != 0)
			fail_msg("URL = %s refused: %s", good[i], msgs);
		assert_string_equal(cfg.registry_url, good[i]);
		free(msgs);
		config_free(&cfg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), IFACE "[Registry]\nURL = %s\n", bad[i]);
		snprintf(want, sizeof(want), "invalid URL '%s': https://, ssh://, git://, file://",
			 bad[i]);
		expect_error(text, 4, want);
	}
}

static void test_interface_errors(void **state)
{
	(void)state;
	expect_error(IFACE "ListenPort = 65536\n", 3, "invalid ListenPort '65536'");
	expect_error(IFACE "ListenPort = -1\n", 3, "invalid ListenPort");
	expect_error(IFACE "ListenPort = 0x10\n", 3, "invalid ListenPort");
	expect_error(IFACE "\n\nMTU = 1279\n", 5, "invalid MTU '1279': 1280 to 9000");
	expect_error(IFACE "MTU = 9001\n", 3, "invalid MTU");
	expect_error(IFACE "MTU =\n", 3, "missing value for MTU");
	expect_error(IFACE "Name = abcdefghijklmnop\n", 3, "invalid Name");
	expect_error(IFACE "Name = a/b\n", 3, "invalid Name");
	expect_error(IFACE "Name = a:b\n", 3, "invalid Name");
	expect_error(IFACE "Name = a b\n", 3, "invalid Name");
	expect_error(IFACE "Name = ..\n", 3, "invalid Name");
	expect_error("[Interface]\nPrivateKey = abc=\n", 2, "invalid PrivateKey");
	expect_error("[Interface]\nPrivateKey =\n", 2, "invalid PrivateKey");
	expect_error(IFACE "PrivateKeyFile = /nonexistent\n", 3,
		     "PrivateKey and PrivateKeyFile are mutually exclusive");
	expect_error(IFACE "MTU = 1400\nmtu = 1500\n", 4, "duplicate key MTU (first on line 3)");
	expect_error(IFACE "[Interface]\n", 3, "duplicate [Interface] section (first on line 1)");
	expect_error("[Interface]\nName = x\n", 0,
		     "no PrivateKey or PrivateKeyFile in [Interface]");
	expect_error("", 0, "no PrivateKey or PrivateKeyFile in [Interface]");
}

static void test_syntax_errors(void **state)
{
	char longline[400];

	(void)state;
	expect_error(IFACE "garbage\n", 3, "expected 'Key = Value' or '[Section]'");
	expect_error(IFACE "= value\n", 3, "expected 'Key = Value'");
	expect_error(IFACE "Listen Port = 1\n", 3, "expected 'Key = Value'");
	expect_error(IFACE "ListenPort: 1\n", 3, "expected 'Key = Value'");
	expect_error(IFACE "[Peer\n", 3, "malformed section header");
	expect_error(IFACE "[]\n", 3, "malformed section header");
	expect_error("MTU = 1400\n" IFACE, 1, "key 'MTU' outside of any section");
	expect_error(IFACE "MTU = 14\x01"
			   "00\n",
		     3, "control character in line");
	/* A long comment is fine; a long value is reported, not cut in two. */
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "# ", 2);
	longline[sizeof(longline) - 1] = '\0';
	{
		char text[1024];
		struct config cfg;
		char *msgs = NULL;

		snprintf(text, sizeof(text), IFACE "%s\n", longline);
		assert_int_equal(load(&cfg, text, true, &msgs), 0);
		free(msgs);
		config_free(&cfg);

		memcpy(longline, "A=", 2);
		snprintf(text, sizeof(text), IFACE "%s\nMTU = 1300\n", longline);
		expect_error(text, 3, "line too long (at most 197 characters)");
	}
}

#define PEER "[Peer]\nPublicKey = " PUB_A "\n"

static void test_peer_errors(void **state)
{
	(void)state;
	expect_error(IFACE "[Peer]\nEndpoint = 192.0.2.1:1\n", 3, "[Peer] without PublicKey");
	expect_error(IFACE "[Peer]\n", 3, "[Peer] without PublicKey");
	expect_error(IFACE "[Peer]\nPublicKey = nope\n", 4, "invalid PublicKey");
	expect_error(IFACE PEER "PresharedKey = short\n", 5, "invalid PresharedKey");
	expect_error(IFACE PEER "Endpoint = 192.0.2.1\n", 5,
		     "invalid Endpoint '192.0.2.1': missing port");
	expect_error(IFACE PEER "Endpoint = 192.0.2.1:0\n", 5, "invalid Endpoint '192.0.2.1:0'");
	expect_error(IFACE PEER "Endpoint = 192.0.2.1:65536\n", 5, "invalid Endpoint");
	expect_error(IFACE PEER "Endpoint = 192.0.2.1:http\n", 5, "invalid Endpoint");
	expect_error(IFACE PEER "Endpoint = ::1:51820\n", 5, "invalid Endpoint");
	expect_error(IFACE PEER "Endpoint = [::1]\n", 5, "invalid Endpoint '[::1]': missing port");
	expect_error(IFACE PEER "Endpoint = [::1:51820\n", 5, "invalid Endpoint");
	expect_error(IFACE PEER "Endpoint = [192.0.2.1]:51820\n", 5, "invalid Endpoint");
	expect_error(IFACE PEER "Endpoint = :51820\n", 5,
		     "invalid Endpoint ':51820': missing host");
	expect_error(IFACE PEER "PersistentKeepalive = 65536\n", 5, "invalid PersistentKeepalive");
	expect_error(IFACE PEER "PersistentKeepalive = on\n", 5, "invalid PersistentKeepalive");
	expect_error(IFACE PEER "PublicKey = " PUB_B "\n", 5,
		     "duplicate key PublicKey (first on line 4)");
	expect_error(IFACE PEER "\n" PEER, 7, "duplicate peer PublicKey (first on line 4)");
}

/* A private key pasted on the wrong line is refused without being repeated. */
static void test_key_not_repeated(void **state)
{
	struct config cfg;
	char *msgs = NULL;

	(void)state;
	expect_error(IFACE PEER "Endpoint = " PSK "\n", 5, "invalid Endpoint '(a key, not shown)'");
	expect_error(IFACE "MTU = " PSK "x\n", 3, "invalid MTU '" PSK "x'"); /* no key: shown */
	assert_int_equal(load(&cfg, IFACE PEER "Endpoint = " PSK "\n" PSK " = 1\n", true, &msgs),
			 2);
	if (strstr(msgs, PSK) || strstr(msgs, PSK + 1))
		fail_msg("a key was repeated: %s", msgs);
	free(msgs);
	config_free(&cfg);
}

static void test_own_key(void **state)
{
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	char pub64[WG_KEY_B64_LEN + 1];
	char text[256];

	(void)state;
	key(priv, PRIV);
	assert_int_equal(crypto_scalarmult_base(pub, priv), 0);
	key_to_base64(pub64, pub);
	/* The peer comes first: the check must not depend on the order. */
	snprintf(text, sizeof(text), "[Peer]\nPublicKey = %s\n" IFACE, pub64);
	expect_error(text, 2, "PublicKey is this interface's own public key");
}

static void test_low_order_key(void **state)
{
	(void)state;
	/* The zero key and another point of small order: no DH with them works. */
	expect_error(IFACE "[Peer]\nPublicKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 4,
		     "PublicKey is a low-order point, not a usable key");
	expect_error(IFACE "[Peer]\nPublicKey = AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", 4,
		     "PublicKey is a low-order point, not a usable key");
}

static void test_all_errors_reported(void **state)
{
	struct config cfg;
	char *msgs = NULL;
	char want[1024];

	(void)state;
	assert_int_equal(
	    load(&cfg, IFACE "MTU = 1\nListenPort = x\n" PEER "Endpoint = x\n", true, &msgs), 3);
	snprintf(want, sizeof(want),
		 "%s:3: invalid MTU '1': 1280 to 9000\n"
		 "%s:4: invalid ListenPort 'x': 0 to 65535\n",
		 conf_path, conf_path);
	assert_memory_equal(msgs, want, strlen(want));
	snprintf(want, sizeof(want), "%s:7: invalid Endpoint 'x': missing port\n", conf_path);
	assert_non_null(strstr(msgs, want));
	free(msgs);
	config_free(&cfg);
}

static void test_unknown(void **state)
{
	const char *text = IFACE "Colour = blue\n[Routing]\nURL = x\n" PEER "Foo = 1\n";
	struct config cfg;
	char *msgs = NULL;
	char want[1024];

	(void)state;
	assert_int_equal(load(&cfg, text, true, &msgs), 3);
	snprintf(want, sizeof(want),
		 "%s:3: unknown key 'Colour' in [Interface]\n"
		 "%s:4: unknown section [Routing]\n"
		 "%s:8: unknown key 'Foo' in [Peer]\n",
		 conf_path, conf_path, conf_path);
	assert_string_equal(msgs, want);
	free(msgs);
	config_free(&cfg);

	/* Warnings only: the file is usable, the known parts are applied. */
	assert_int_equal(load(&cfg, text, false, &msgs), 0);
	snprintf(want, sizeof(want),
		 "%s:3: warning: unknown key 'Colour' in [Interface]\n"
		 "%s:4: warning: unknown section [Routing]\n"
		 "%s:8: warning: unknown key 'Foo' in [Peer]\n",
		 conf_path, conf_path, conf_path);
	assert_string_equal(msgs, want);
	assert_true(cfg.has_private_key);
	assert_int_equal(cfg.npeers, 1);
	free(msgs);
	config_free(&cfg);
}

static void test_private_key_file(void **state)
{
	char keypath[64], text[1024], want[1024];
	struct config cfg;
	char *msgs = NULL;
	uint8_t k[WG_KEY_LEN];

	(void)state;
	key(k, PRIV);
	snprintf(keypath, sizeof(keypath), "%s/private.key", tmpdir);

	/* With a trailing newline, as wg genkey > file writes it. */
	write_file(keypath, PRIV "\n", 0600);
	snprintf(text, sizeof(text), "[Interface]\nPrivateKeyFile = %s\n", keypath);
	assert_int_equal(load(&cfg, text, true, &msgs), 0);
	assert_string_equal(msgs, "");
	assert_true(cfg.has_private_key);
	assert_memory_equal(cfg.private_key, k, WG_KEY_LEN);
	free(msgs);
	config_free(&cfg);

	/* Without one, and relative to the config file's directory. */
	write_file(keypath, PRIV, 0400);
	assert_int_equal(load(&cfg, "[Interface]\nPrivateKeyFile = private.key\n", true, &msgs), 0);
	assert_string_equal(msgs, "");
	assert_memory_equal(cfg.private_key, k, WG_KEY_LEN);
	free(msgs);
	config_free(&cfg);

	/* Readable by others: used, with a warning. */
	write_file(keypath, PRIV "\n", 0644);
	assert_int_equal(load(&cfg, text, true, &msgs), 0);
	snprintf(want, sizeof(want), "%s:2: warning: PrivateKeyFile '%s' is accessible", conf_path,
		 keypath);
	assert_memory_equal(msgs, want, strlen(want));
	assert_true(cfg.has_private_key);
	free(msgs);
	config_free(&cfg);

	write_file(keypath, PRIV "\n\n", 0600);
	expect_error(text, 2, "PrivateKeyFile");
	write_file(keypath, "not a key\n", 0600);
	expect_error(text, 2, "PrivateKeyFile");
	write_file(keypath, "", 0600);
	expect_error(text, 2, "PrivateKeyFile");
	unlink(keypath);
	snprintf(want, sizeof(want), "cannot open PrivateKeyFile '%s'", keypath);
	expect_error(text, 2, want);
	snprintf(text, sizeof(text), "[Interface]\nPrivateKeyFile = %s\n", tmpdir);
	expect_error(text, 2, "PrivateKeyFile");
}

static void test_inline_key_permissions(void **state)
{
	struct config cfg;
	char *msgs = NULL;
	size_t len;
	FILE *errs = open_memstream(&msgs, &len);

	(void)state;
	write_file(conf_path, IFACE, 0644);
	assert_int_equal(config_load(&cfg, conf_path, true, errs), 0);
	fclose(errs);
	assert_non_null(strstr(msgs, ":2: warning: PrivateKey in a file accessible"));
	free(msgs);
	config_free(&cfg);
}

static void test_endpoints(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const char *why = NULL;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	(void)state;
	assert_true(config_parse_endpoint("[::1]:51820", &ss, &len, &why));
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(ntohs(sin6->sin6_port), 51820);
	assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));

	assert_true(config_parse_endpoint("192.0.2.1:51820", &ss, &len, &why));
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(sin->sin_port), 51820);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0xc0000201);

	assert_true(config_parse_endpoint("127.0.0.1:65535", &ss, &len, &why));
	assert_int_equal(ntohs(sin->sin_port), 65535);

	/* A name, resolved through /etc/hosts. */
	assert_true(config_parse_endpoint("localhost:1", &ss, &len, &why));
	assert_true(ss.ss_family == AF_INET || ss.ss_family == AF_INET6);

	assert_false(config_parse_endpoint("192.0.2.1", &ss, &len, &why));
	assert_string_equal(why, "missing port");
	assert_false(config_parse_endpoint("192.0.2.1:", &ss, &len, &why));
	assert_false(config_parse_endpoint("192.0.2.1:0", &ss, &len, &why));
	assert_false(config_parse_endpoint("192.0.2.1:99999", &ss, &len, &why));
	assert_false(config_parse_endpoint("192.0.2.1:+1", &ss, &len, &why));
	assert_false(config_parse_endpoint("[::1]", &ss, &len, &why));
	assert_false(config_parse_endpoint("[::1]x51820", &ss, &len, &why));
	assert_false(config_parse_endpoint("::1:51820", &ss, &len, &why));
	assert_false(config_parse_endpoint("[]:1", &ss, &len, &why));
	assert_false(config_parse_endpoint("[not-v6]:1", &ss, &len, &why));
	assert_false(config_parse_endpoint("", &ss, &len, &why));
}

static void test_load_file_variants(void **state)
{
	/* CRLF line ends and a UTF-8 byte order mark, as Windows editors write. */
	const char text[] = "\xef\xbb\xbf[Interface]\r\nPrivateKey = " PRIV "\r\nMTU=1300\r\n"
			    "[Peer]\r\nPublicKey = " PUB_A "\r\n";
	struct config cfg;
	char *msgs = NULL;
	size_t len;
	FILE *errs = open_memstream(&msgs, &len);
	FILE *in = fmemopen((void *)text, sizeof(text) - 1, "r");

	(void)state;
	assert_non_null(in);
	assert_int_equal(config_load_file(&cfg, in, "mem.conf", true, errs), 0);
	fclose(in);
	fflush(errs);
	assert_string_equal(msgs, "");
	assert_string_equal(cfg.path, "mem.conf");
	assert_int_equal(cfg.mtu, 1300);
	assert_int_equal(cfg.npeers, 1);
	assert_int_equal(cfg.peers[0].line, 4);
	config_free(&cfg);

	in = fmemopen((void *)"[Interface]\nMTU = 1\n", 20, "r");
	assert_non_null(in);
	assert_int_equal(config_load_file(&cfg, in, "mem.conf", true, errs), 2);
	fclose(in);
	fclose(errs);
	assert_string_equal(msgs, "mem.conf:2: invalid MTU '1': 1280 to 9000\n"
				  "mem.conf: no PrivateKey or PrivateKeyFile in [Interface]\n");
	free(msgs);
	config_free(&cfg);
}

static void test_missing_file(void **state)
{
	struct config cfg;
	char *msgs = NULL;
	size_t len;
	FILE *errs = open_memstream(&msgs, &len);

	(void)state;
	assert_int_equal(config_load(&cfg, "/nonexistent/alamesh.conf", false, errs), 1);
	fclose(errs);
	assert_string_equal(msgs, "/nonexistent/alamesh.conf: No such file or directory\n");
	free(msgs);
	config_free(&cfg);
}

static void test_too_many_peers(void **state)
{
	size_t cap = (CONFIG_MAX_PEERS + 2) * 80 + 128, off;
	char *text = malloc(cap);
	uint8_t pub[WG_KEY_LEN] = {0};
	char b64[WG_KEY_B64_LEN + 1];
	struct config cfg;
	char *msgs = NULL;
	char want[1024];

	(void)state;
	assert_non_null(text);
	off = (size_t)snprintf(text, cap, IFACE);
	for (unsigned i = 0; i <= CONFIG_MAX_PEERS; i++) {
		pub[0] = (uint8_t)i;
		pub[1] = (uint8_t)(i >> 8);
		pub[2] = 1;
		key_to_base64(b64, pub);
		off += (size_t)snprintf(text + off, cap - off, "[Peer]\nPublicKey = %s\n", b64);
	}
	assert_true(off < cap);
	assert_int_equal(load(&cfg, text, true, &msgs), 1);
	snprintf(want, sizeof(want), "%s:%d: too many peers (at most %d)\n", conf_path,
		 3 + 2 * CONFIG_MAX_PEERS, CONFIG_MAX_PEERS);
	assert_string_equal(msgs, want);
	assert_int_equal(cfg.npeers, CONFIG_MAX_PEERS);
	free(msgs);
	free(text);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_interface_errors),
	    cmocka_unit_test(test_user),
	    cmocka_unit_test(test_registry),
	    cmocka_unit_test(test_registry_url),
	    cmocka_unit_test(test_syntax_errors),
	    cmocka_unit_test(test_peer_errors),
	    cmocka_unit_test(test_key_not_repeated),
	    cmocka_unit_test(test_own_key),
	    cmocka_unit_test(test_low_order_key),
	    cmocka_unit_test(test_all_errors_reported),
	    cmocka_unit_test(test_unknown),
	    cmocka_unit_test(test_private_key_file),
	    cmocka_unit_test(test_inline_key_permissions),
	    cmocka_unit_test(test_endpoints),
	    cmocka_unit_test(test_load_file_variants),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_too_many_peers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
