// SPDX-License-Identifier: ISC
/*
 * The privilege drop, with the raw capget/capset system calls (no libcap):
 * keep-caps across setuid, then the two capabilities alameshd still uses;
 * and, before it, handing a cache made by a root run to the new owner.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/platform/privs.h"

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

#define GIVE_MAX_DEPTH 64 /* a bare git repository nests far less (refs/heads/a/b) */

/*
 * The entries below dfd that are root's become uid's, depth first, through
 * every directory that is root's or uid's and writable by its owner only.
 * Each one is
 * pinned by an O_PATH descriptor before it is looked at, and changed through
 * it: renaming things about in a directory the user may write to cannot make
 * us follow a symlink or change any inode but the one checked. A regular file
 * with a single link is the cache's own; one with more could be anyone's.
 */
static int give_below(int dfd, uid_t uid, gid_t gid, unsigned depth);

/* A directory pinned by efd: what is below it, then itself. */
static int give_dir(int efd, uid_t uid, gid_t gid, unsigned depth)
{
	int sub, r;

	if (depth > GIVE_MAX_DEPTH)
		return -ELOOP;
	sub = openat(efd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sub < 0)
		return -errno;
	r = give_below(sub, uid, gid, depth);
	if (r == 0 && fchown(sub, uid, gid) < 0)
		r = -errno;
	close(sub);
	return r;
}

static int give_below(int dfd, uid_t uid, gid_t gid, unsigned depth)
{
	int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0), r = 0;
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;

	if (!d) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		return r;
	}
	for (errno = 0; r == 0 && (e = readdir(d)); errno = 0) {
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		int efd = openat(dfd, e->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (efd < 0) {
			r = errno == ENOENT ? 0 : -errno; /* gone meanwhile */
			continue;
		}
		if (fstat(efd, &st) < 0) {
			r = -errno;
		} else if (st.st_uid != 0 && st.st_uid != uid) {
			/* neither a root run's nor ours: not ours to give */
		} else if (S_ISDIR(st.st_mode)) {
			/* a directory of ours may hold what a later root run put there */
			if (!(st.st_mode & (S_IWGRP | S_IWOTH)))
				r = give_dir(efd, uid, gid, depth + 1);
		} else if (st.st_uid != 0) {
			/* ours already */
		} else if ((S_ISREG(st.st_mode) && st.st_nlink == 1) || S_ISLNK(st.st_mode)) {
			if (fchownat(efd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
				r = -errno;
		}
		close(efd);
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	return r;
}

int privs_give_tree(const char *path, uid_t uid, gid_t gid)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), r;
	struct stat st;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
	} else if ((st.st_uid != 0 && st.st_uid != uid) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		r = 1; /* someone else's, or open to others: not ours to sort out */
	} else {
		r = give_dir(fd, uid, gid, 0); /* root's, or uid's with root's files in it */
	}
	close(fd);
	return r;
}
