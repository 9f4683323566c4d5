/* SPDX-License-Identifier: ISC */
/*
 * The privilege drop, in a child process (the test runner keeps root): uid,
 * gid and groups changed, exactly the two capabilities left in every set,
 * the bounding set emptied of the rest, no_new_privs, and no way back; and
 * a root-made cache handed to the new owner without following any link.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/platform/privs.h"

static uint64_t status_hex(const char *field)
{
	char line[256];
	unsigned long long v = ~0ULL;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return v;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			sscanf(line + strlen(field), "%llx", &v);
	fclose(f);
	return v;
}

/* Runs in the child: each failed check is its own exit status. */
static int child(uid_t uid, gid_t gid)
{
	uint64_t keep = (1ULL << CAP_NET_ADMIN) | (1ULL << CAP_NET_BIND_SERVICE);

	if (privs_kept_mask() != keep)
		return 10;
	if (privs_drop(uid, gid) != 0)
		return 11;
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid)
		return 12;
	if (getgroups(0, NULL) != 0)
		return 13;
	if (status_hex("CapEff:") != keep || status_hex("CapPrm:") != keep ||
	    status_hex("CapBnd:") != keep || status_hex("CapInh:") != 0)
		return 14;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 15;
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0)
		return 16;
	if (access("/etc/shadow", R_OK) == 0)
		return 17; /* no CAP_DAC_OVERRIDE any more */
	return 0;
}

static void test_drop(void **state)
{
	struct passwd *pw = getpwnam("nobody");
	int status;

	(void)state;
	if (geteuid() != 0)
		fail_msg("this test needs root (it drops privileges in a child)");
	assert_non_null(pw);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child(pw->pw_uid, pw->pw_gid));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_refuses_root(void **state)
{
	int status;

	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(privs_drop(0, 0) == -EINVAL && geteuid() == 0 ? 0 : 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static uid_t owner(const char *dir, const char *name)
{
	char p[128];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return lstat(p, &st) == 0 ? st.st_uid : (uid_t)-1;
}

static void touch(const char *dir, const char *name)
{
	char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_non_null(f = fopen(p, "w"));
	fclose(f);
}

/*
 * A cache left by a root run: what is root's becomes the new owner's, and
 * nothing reached through a symlink, a second hard link or a directory others
 * may write to.
 */
static void test_give_tree(void **state)
{
	char base[] = "/tmp/test_privs.XXXXXX", top[64], out[64], p[128];

	(void)state;
	if (geteuid() != 0)
		fail_msg("this test needs root (it changes owners)");
	assert_non_null(mkdtemp(base));
	snprintf(top, sizeof(top), "%s/cache", base);
	assert_int_equal(mkdir(top, 0750), 0);
	touch(base, "outside");
	touch(top, "a");
	snprintf(p, sizeof(p), "%s/sub", top);
	assert_int_equal(mkdir(p, 0755), 0);
	touch(top, "sub/b");
	snprintf(p, sizeof(p), "%s/open", top);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(chmod(p, 0777), 0);
	touch(top, "open/c");
	snprintf(p, sizeof(p), "%s/link", top);
	assert_int_equal(symlink("../outside", p), 0);
	snprintf(out, sizeof(out), "%s/outside", base);
	snprintf(p, sizeof(p), "%s/hard", top);
	assert_int_equal(link(out, p), 0);

	assert_int_equal(privs_give_tree(top, 65534, 65534), 0);
	assert_int_equal(owner(top, "."), 65534);
	assert_int_equal(owner(top, "a"), 65534);
	assert_int_equal(owner(top, "sub"), 65534);
	assert_int_equal(owner(top, "sub/b"), 65534);
	assert_int_equal(owner(top, "link"), 65534);
	assert_int_equal(owner(base, "outside"),
			 0); /* neither the symlink's target nor the hard link */
	assert_int_equal(owner(top, "open"), 0);
	assert_int_equal(owner(top, "open/c"), 0);
	/* Handed over already, then a run as root wrote into it: given again. */
	touch(top, "sub/rooted");
	touch(top, "rooted");
	assert_int_equal(owner(top, "sub/rooted"), 0);
	assert_int_equal(privs_give_tree(top, 65534, 65534), 0);
	assert_int_equal(owner(top, "sub/rooted"), 65534);
	assert_int_equal(owner(top, "rooted"), 65534);
	assert_int_equal(owner(top, "open/c"), 0);
	assert_int_equal(owner(base, "outside"), 0);
	/* Someone else's top: left as it is. */
	snprintf(p, sizeof(p), "%s/a", top);
	assert_int_equal(chown(p, 0, 0), 0);
	assert_int_equal(chown(top, 1234, 1234), 0);
	assert_int_equal(privs_give_tree(top, 65534, 65534), 1);
	assert_int_equal(owner(top, "a"), 0);
	/* Root's but writable by others: not walked either. */
	assert_int_equal(chown(top, 0, 0), 0);
	assert_int_equal(chmod(top, 0770), 0);
	assert_int_equal(privs_give_tree(top, 65534, 65534), 1);
	assert_int_equal(owner(top, "a"), 0);
	/* Missing: nothing to give. */
	snprintf(p, sizeof(p), "%s/none", base);
	assert_int_equal(privs_give_tree(p, 65534, 65534), 0);

	snprintf(p, sizeof(p), "rm -rf '%s'", base);
	assert_int_equal(system(p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_drop),
	    cmocka_unit_test(test_refuses_root),
	    cmocka_unit_test(test_give_tree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
