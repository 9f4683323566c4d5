// SPDX-License-Identifier: ISC
/*
 * The privilege drop, with the raw capget/capset system calls (no libcap):
 * keep-caps across setuid, then the two capabilities alameshd still uses.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/privs.h"

static const int kept[] = {CAP_NET_ADMIN, CAP_NET_BIND_SERVICE};

uint64_t privs_kept_mask(void)
{
	uint64_t m = 0;

	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		m |= 1ULL << kept[i];
	return m;
}

static int capset_mask(uint64_t mask)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {0};

	data[0].effective = data[0].permitted = (uint32_t)mask;
	data[1].effective = data[1].permitted = (uint32_t)(mask >> 32);
	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

static int capget_mask(uint64_t *eff, uint64_t *prm)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {0};

	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	*eff = data[0].effective | (uint64_t)data[1].effective << 32;
	*prm = data[0].permitted | (uint64_t)data[1].permitted << 32;
	return 0;
}

/* Everything else leaves the bounding set, so not even an exec could regain it. */
static int drop_bounding(uint64_t keep)
{
	for (int cap = 0; cap <= 63; cap++) {
		if (keep & (1ULL << cap))
			continue;
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0)
			break; /* past the kernel's last capability */
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
			return -errno;
	}
	return 0;
}

int privs_drop(uid_t uid, gid_t gid)
{
	uint64_t keep = privs_kept_mask(), eff = 0, prm = 0;
	int r;

	if (uid == 0)
		return -EINVAL;
	/* Bounding set first: dropping from it needs CAP_SETPCAP, gone after setuid. */
	if ((r = drop_bounding(keep)) < 0)
		return r;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return -errno;
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return -errno;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return -errno;
	if ((r = capset_mask(keep)) < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	/* Trust, but verify: no way back to root, and exactly the kept capabilities. */
	if (setuid(0) == 0 || setgid(0) == 0 || getuid() != uid || geteuid() != uid)
		return -EPERM;
	if ((r = capget_mask(&eff, &prm)) < 0)
		return r;
	return eff == keep && prm == keep ? 0 : -EPERM;
}
