/* SPDX-License-Identifier: ISC */
/*
 * The privilege drop, in a child process (the test runner keeps root): uid,
 * gid and groups changed, exactly the two capabilities left in every set,
 * the bounding set emptied of the rest, no_new_privs, and no way back.
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
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/privs.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_drop),
	    cmocka_unit_test(test_refuses_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
