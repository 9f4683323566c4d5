/* SPDX-License-Identifier: ISC */
/*
 * The registry sync (daemon/control/registry.c) against real repositories made with
 * git(1), with a device that has no TUN, no socket and no peer: the registry
 * lists only this node, so applying it touches nothing. The control thread's
 * part is played by the test, which collects results when it chooses (late,
 * to catch what the worker must not leave to it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/config/config.h"
#include "daemon/core/device.h"
#include "daemon/control/registry.h"
#include "peers-repo-sync/fetcher.h"
#include "wgproto/crypto.h"
#include "wgproto/encoding.h"
#include "tests/unit/system/git_helpers.h"

#define SELF_KEY "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="

static char top[] = "/tmp/alamesh-test-registry-XXXXXX";

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(top))
		return -1;
	sh("cd %s && git init -q -b main src && mkdir src/members && "
	   "printf '[Member]\\nPublicKey = " SELF_KEY "\\n' >src/members/self.conf && "
	   "git -C src add -A && git -C src -c user.email=t@e -c user.name=t commit -qm one && "
	   "git clone -q --bare src registry.git",
	   top);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf %s", top);
	return 0;
}

struct fixture {
	struct device *dev;
	struct config cfg;
	struct registry_sync *s;
};

/* url NULL: the test's repository. */
static void start(struct fixture *f, const char *cache, bool require_ff, const char *url)
{
	memset(&f->cfg, 0, sizeof(f->cfg));
	f->dev = calloc(1, sizeof(*f->dev));
	assert_non_null(f->dev);
	assert_true(key_from_base64(f->dev->identity.public_key, SELF_KEY));
	if (url)
		snprintf(f->cfg.registry_url, sizeof(f->cfg.registry_url), "%s", url);
	else
		snprintf(f->cfg.registry_url, sizeof(f->cfg.registry_url), "file://%s/registry.git",
			 top);
	snprintf(f->cfg.registry_branch, sizeof(f->cfg.registry_branch), "main");
	snprintf(f->cfg.registry_cache_dir, sizeof(f->cfg.registry_cache_dir), "%s/%s", top, cache);
	mkdir(f->cfg.registry_cache_dir, 0750); /* alameshd makes it first */
	f->cfg.registry_interval = 3600;
	f->cfg.registry_fetch_timeout = 30;
	f->cfg.registry_require_ff = require_ff;
	f->s = registry_sync_new(f->dev, &f->cfg);
	assert_non_null(f->s);
	assert_int_equal(registry_sync_start(f->s), 0);
}

static void stop(struct fixture *f)
{
	registry_sync_free(f->s);
	free(f->dev);
}

/* Waits until the worker has posted n results in all (the eventfd counts them). */
static void wait_posts(struct fixture *f, uint64_t n)
{
	uint64_t seen = 0, v;

	for (int i = 0; i < 300 && seen < n; i++) {
		struct pollfd p = {.fd = registry_sync_fd(f->s), .events = POLLIN};
		if (poll(&p, 1, 100) > 0 && read(p.fd, &v, sizeof(v)) == sizeof(v))
			seen += v;
	}
	assert_true(seen >= n);
}

static void collect(struct fixture *f, bool want_ok, const char *want)
{
	const char *summary;
	bool ok;
	uint64_t gen;

	assert_true(registry_sync_collect(f->s, &summary, &ok, &gen));
	if (ok != want_ok || !strstr(summary, want))
		fail_msg("wanted %s with '%s', got: %s", want_ok ? "ok" : "a failure", want,
			 summary);
}

/* A line of get=registry, e.g. "applied_time=" gives its value. */
static char *describe_field(struct fixture *f, const char *key, char *buf, size_t len)
{
	char *out, *line;
	size_t n;

	assert_int_equal(registry_sync_describe(f->s, false, &out, &n), 0);
	assert_non_null(line = strstr(out, key));
	line += strlen(key);
	snprintf(buf, len, "%.*s", (int)strcspn(line, "\n"), line);
	free(out);
	return buf;
}

/*
 * A force push while the daemon was down, with RequireFastForward: the first
 * fetch after the start must be checked against the cached commit, even if
 * the control thread has not applied that commit yet.
 */
static void test_fast_forward_at_start(void **state)
{
	struct fixture f;
	char buf[64];

	(void)state;
	start(&f, "cache-ff", true, NULL);
	wait_posts(&f, 1); /* nothing cached yet: the fetch */
	collect(&f, true, "applied");
	stop(&f);
	sh("cd %s/src && git -c user.email=t@e -c user.name=t commit -q --amend -m rewritten && "
	   "git push -qf ../registry.git main",
	   top);
	start(&f, "cache-ff", true, NULL);
	/* The cached commit and the fetch, both posted before anything is collected. */
	wait_posts(&f, 2);
	collect(&f, false, "refused (RequireFastForward = yes)");
	/* The refusal keeps the cached commit, which was applied first. */
	assert_string_not_equal(describe_field(&f, "\ncommit=", buf, sizeof(buf)), "(none)");
	stop(&f);
}

/*
 * A remote that fails at once at start-up (here a path with no repository):
 * its failure, posted before the control thread collects anything, must not
 * displace the cached commit posted before it.
 */
static void test_cached_survives_fast_failure(void **state)
{
	struct fixture f;
	char url[256], commit[64], buf[64];

	(void)state;
	start(&f, "cache-fast", false, NULL);
	wait_posts(&f, 1);
	collect(&f, true, "applied");
	snprintf(commit, sizeof(commit), "%s", describe_field(&f, "\ncommit=", buf, sizeof(buf)));
	stop(&f);
	snprintf(url, sizeof(url), "file://%s/no-such.git", top);
	start(&f, "cache-fast", false, url);
	wait_posts(&f, 2);
	collect(&f, false, "sync failed");
	assert_string_equal(describe_field(&f, "\ncommit=", buf, sizeof(buf)), commit);
	assert_string_not_equal(describe_field(&f, "last_error=", buf, sizeof(buf)), "(none)");
	stop(&f);
}

/* After a restart, the time the cached commit was applied, not the restart's. */
static void test_last_good_time(void **state)
{
	struct fixture f;
	char commit[64], buf[64], silent[256];
	int lfd = silent_listener(silent);

	(void)state;
	start(&f, "cache-time", false, NULL);
	wait_posts(&f, 1);
	collect(&f, true, "applied");
	snprintf(commit, sizeof(commit), "%s", describe_field(&f, "\ncommit=", buf, sizeof(buf)));
	stop(&f);
	sh("printf '%s\\n1234567890\\n' >%s/cache-time/last-good", commit, top);
	start(&f, "cache-time", false, silent);
	wait_posts(&f, 1);
	collect(&f, true, "(cached)");
	assert_string_equal(describe_field(&f, "applied_time=", buf, sizeof(buf)), "1234567890");
	assert_string_equal(describe_field(&f, "last_success=", buf, sizeof(buf)), "1234567890");
	assert_string_equal(describe_field(&f, "last_attempt=", buf, sizeof(buf)), "0");
	stop(&f);
	/* A file from before the time was kept: its mtime. */
	sh("printf '%s\\n' >%s/cache-time/last-good && touch -d @1500000000 "
	   "%s/cache-time/last-good",
	   commit, top, top);
	start(&f, "cache-time", false, silent);
	wait_posts(&f, 1);
	collect(&f, true, "(cached)");
	assert_string_equal(describe_field(&f, "applied_time=", buf, sizeof(buf)), "1500000000");
	stop(&f);
	close(lfd);
}

/* Syncs every Interval give or take 10 %: the whole range is used, and nothing outside it. */
static void test_interval_jitter(void **state)
{
	const uint64_t iv = 3600ull * 1000000000ull;
	uint64_t lo = UINT64_MAX, hi = 0, sum = 0;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		uint64_t w = registry_jittered(iv);
		assert_in_range(w, iv / 10 * 9, iv / 10 * 11);
		lo = w < lo ? w : lo;
		hi = w > hi ? w : hi;
		sum += w / 1000;
	}
	assert_true(lo < iv / 100 * 91);
	assert_true(hi > iv / 100 * 109);
	/* The mean is Interval itself, within half a percent. */
	assert_in_range(sum / 10000, iv / 1000 / 200 * 199, iv / 1000 / 200 * 201);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fast_forward_at_start),
	    cmocka_unit_test(test_cached_survives_fast_failure),
	    cmocka_unit_test(test_last_good_time),
	    cmocka_unit_test(test_interval_jitter),
	};

	if (!wg_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
