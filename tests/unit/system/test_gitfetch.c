/* SPDX-License-Identifier: ISC */
/*
 * The registry's git side against a real repository made with git(1): a
 * fetch over file:// into a fresh bare cache, the member blobs of a commit,
 * a missing branch, a missing members/ directory, and fast-forward checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "peers-repo-sync/gitfetch.h"
#include "wgproto/crypto.h"
#include "tests/unit/system/git_helpers.h"

static char top[] = "/tmp/alamesh-test-gitfetch-XXXXXX";

static void head(const char *repo, char oid[GIT_OID_HEX_LEN + 1])
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "git -C %s rev-parse HEAD", repo);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(oid, GIT_OID_HEX_LEN + 1, p));
	pclose(p);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(top))
		return -1;
	sh("cd %s && git init -q -b main src && mkdir src/members && "
	   "printf '[Member]\\nPublicKey = HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=\\n' "
	   ">src/members/alice.conf && "
	   "printf '[Member]\\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\\n"
	   "Endpoint = b.example:1\\n' >src/members/bob.conf && "
	   "printf 'not a key' >src/members/bad.conf && ln -s alice.conf src/members/l.conf && "
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

static void test_fetch_and_read(void **state)
{
	char err[GITFETCH_ERR_MAX], cache[256], url[256], oid[GIT_OID_HEX_LEN + 1],
	    want[GIT_OID_HEX_LEN + 1];
	struct member_set r;

	(void)state;
	snprintf(cache, sizeof(cache), "%s/cache", top);
	snprintf(url, sizeof(url), "file://%s/registry.git", top);
	struct gitfetch *g = gitfetch_open(cache, NULL, err, sizeof(err));
	assert_non_null(g);
	/* A bare repository, never a work tree. */
	char path[300];
	snprintf(path, sizeof(path), "%s/registry.git/HEAD", cache);
	assert_int_equal(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/registry.git/members", cache);
	assert_int_not_equal(access(path, F_OK), 0);

	assert_int_equal(gitfetch_fetch(g, url, "main", 30, -1, oid, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/src", top);
	head(path, want);
	assert_string_equal(oid, want);
	member_set_init(&r, 0);
	assert_int_equal(gitfetch_read(g, oid, &r, err, sizeof(err)), 0);
	member_set_finish(&r, NULL);
	assert_int_equal(r.nmembers, 2);
	assert_string_equal(r.members[0].name, "alice");
	assert_string_equal(member_endpoint(&r, &r.members[1], 0), "b.example:1");
	assert_int_equal(r.nrejected, 1); /* bad.conf */
	assert_int_equal(r.nproblems, 2); /* and the symlink, ignored */
	member_set_free(&r);

	/* A branch the remote does not have. */
	assert_int_equal(gitfetch_fetch(g, url, "nope", 30, -1, oid, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "branch 'nope' not found"));
	/* A remote that does not exist. */
	assert_int_equal(
	    gitfetch_fetch(g, "file:///nonexistent/x.git", "main", 30, -1, oid, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "fetch"));

	/* A second commit descends from the first; the first does not from the second. */
	char first[GIT_OID_HEX_LEN + 1];
	memcpy(first, want, sizeof(first));
	sh("cd %s/src && git rm -rq members && git -c user.email=t@e -c user.name=t commit -qm "
	   "two && git push -q ../registry.git main",
	   top);
	assert_int_equal(gitfetch_fetch(g, url, "main", 30, -1, oid, err, sizeof(err)), 0);
	assert_true(gitfetch_descends(g, oid, first));
	assert_false(gitfetch_descends(g, first, oid));
	assert_true(gitfetch_descends(g, oid, oid));
	member_set_init(&r, 0);
	assert_int_equal(gitfetch_read(g, oid, &r, err, sizeof(err)), GITFETCH_NO_MEMBERS);
	assert_non_null(strstr(err, "no members/ directory"));
	member_set_free(&r);
	/* The first commit is still in the cache, for the last good set. */
	member_set_init(&r, 0);
	assert_int_equal(gitfetch_read(g, first, &r, err, sizeof(err)), 0);
	member_set_free(&r);
	assert_int_equal(gitfetch_read(g, "0123", &r, err, sizeof(err)), -1);
	/* An empty repository: no branch at all. */
	sh("git init -q --bare %s/empty.git", top);
	snprintf(url, sizeof(url), "file://%s/empty.git", top);
	assert_int_equal(gitfetch_fetch(g, url, "main", 30, -1, oid, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "branch 'main' not found"));
	gitfetch_close(g);
	/* The transports the registry's URL may name are built into libgit2 here. */
	int features = git_libgit2_features();
	assert_true(features & GIT_FEATURE_HTTPS);
	assert_true(features & GIT_FEATURE_SSH);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_fetch_bounded(void **state)
{
	char err[GITFETCH_ERR_MAX], cache[256], url[256], good[256], oid[GIT_OID_HEX_LEN + 1];
	struct timespec t0;

	(void)state;
	snprintf(cache, sizeof(cache), "%s/cache-bounded", top);
	snprintf(good, sizeof(good), "file://%s/registry.git", top);
	struct gitfetch *g = gitfetch_open(cache, NULL, err, sizeof(err));
	assert_non_null(g);
	int lfd = silent_listener(url);

	/* A server that accepts and never answers: abandoned after the timeout. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(gitfetch_fetch(g, url, "main", 1, -1, oid, err, sizeof(err)), -1);
	double took = seconds_since(&t0);
	assert_true(took >= 0.9 && took < 5);
	assert_non_null(strstr(err, "no answer within 1 s (FetchTimeout)"));

	/* Cancelled: abandoned at once, however long the timeout. */
	int efd = eventfd(1, EFD_CLOEXEC);
	assert_true(efd >= 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(gitfetch_fetch(g, url, "main", 60, efd, oid, err, sizeof(err)), -1);
	assert_true(seconds_since(&t0) < 5);
	assert_non_null(strstr(err, "abandoned (shutting down)"));
	close(efd);
	close(lfd);

	/* What a killed fetch leaves (a ref's lock, a partial pack) does not stop the next. */
	char path[400];
	sh("mkdir -p %s/registry.git/refs/remotes/origin && "
	   ": >%s/registry.git/refs/remotes/origin/main.lock && "
	   ": >%s/registry.git/packed-refs.lock && : >%s/registry.git/objects/pack/pack_git2_x",
	   cache, cache, cache, cache);
	assert_int_equal(gitfetch_fetch(g, good, "main", 30, -1, oid, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/registry.git/objects/pack/pack_git2_x", cache);
	assert_int_not_equal(access(path, F_OK), 0);
	/* The commit the child fetched (the second, without members/) is readable here. */
	struct member_set r;
	member_set_init(&r, 0);
	assert_int_equal(gitfetch_read(g, oid, &r, err, sizeof(err)), GITFETCH_NO_MEMBERS);
	assert_non_null(strstr(err, "no members/ directory"));
	member_set_free(&r);
	gitfetch_close(g);
}

/* A tree of more entries than the registry reads: the rest are counted, not looked up. */
static void test_read_bounded(void **state)
{
	char err[GITFETCH_ERR_MAX], cache[256], url[256], oid[GIT_OID_HEX_LEN + 1];
	struct member_set r;

	(void)state;
	sh("cd %s && git init -q -b main many && mkdir many/members && "
	   "printf '[Member]\\nPublicKey = HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=\\n' "
	   ">many/members/alice.conf && for i in $(seq 1100); do : >many/members/m$i.md; done && "
	   "git -C many add -A && git -C many -c user.email=t@e -c user.name=t commit -qm many",
	   top);
	snprintf(cache, sizeof(cache), "%s/cache-many", top);
	snprintf(url, sizeof(url), "file://%s/many", top);
	struct gitfetch *g = gitfetch_open(cache, NULL, err, sizeof(err));
	assert_non_null(g);
	assert_int_equal(gitfetch_fetch(g, url, "main", 30, -1, oid, err, sizeof(err)), 0);
	member_set_init(&r, 1);
	assert_int_equal(gitfetch_read(g, oid, &r, err, sizeof(err)), 0);
	member_set_finish(&r, NULL);
	assert_int_equal(r.nmembers, 1);
	assert_int_equal(r.nentries, 1 + REGISTRY_ENTRY_MARGIN);
	assert_int_equal(r.nskipped, 1101 - 1 - REGISTRY_ENTRY_MARGIN);
	assert_non_null(strstr(r.problems[r.nproblems - 1].why, "76 more entries not read"));
	member_set_free(&r);
	gitfetch_close(g);
}

static long max_rss_kib(void)
{
	struct rusage ru;

	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

/* A 64 MiB blob is refused on the size in its header: never inflated here. */
static void test_oversized_blob(void **state)
{
	char err[GITFETCH_ERR_MAX], cache[256], url[256], oid[GIT_OID_HEX_LEN + 1];
	struct member_set r;

	(void)state;
	sh("cd %s && git init -q -b main big && mkdir big/members && "
	   "head -c 64M /dev/zero >big/members/huge.conf && git -C big add -A && "
	   "git -C big -c user.email=t@e -c user.name=t commit -qm big",
	   top);
	snprintf(cache, sizeof(cache), "%s/cache-big", top);
	snprintf(url, sizeof(url), "file://%s/big", top);
	struct gitfetch *g = gitfetch_open(cache, NULL, err, sizeof(err));
	assert_non_null(g);
	/* The fetch (in its own process) does read it all. */
	assert_int_equal(gitfetch_fetch(g, url, "main", 60, -1, oid, err, sizeof(err)), 0);
	long before = max_rss_kib();
	member_set_init(&r, 0);
	assert_int_equal(gitfetch_read(g, oid, &r, err, sizeof(err)), 0);
	long grew = max_rss_kib() - before;
	assert_int_equal(r.nrejected, 1);
	assert_string_equal(r.problems[0].why, "67108864 bytes, over the limit of 4096");
	member_set_free(&r);
	gitfetch_close(g);
	if (grew > 16 * 1024)
		fail_msg("reading the tree grew the resident set by %ld KiB", grew);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fetch_and_read),
	    cmocka_unit_test(test_fetch_bounded),
	    cmocka_unit_test(test_read_bounded),
	    cmocka_unit_test(test_oversized_blob),
	};

	if (!wg_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
