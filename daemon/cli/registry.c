// SPDX-License-Identifier: ISC
/*
 * alamesh registry: the member's side of the registry.
 *   check [DIR]   every rule alameshd applies to the member files (the same
 *                 code, peers-repo-sync/member.c), for a checkout and for
 *                 the registry's own CI; exit 1 with one line per problem.
 *   add NAME      a key pair, members/NAME.conf for the pull request, and the
 *                 private key in a 0600 file outside the repository.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon/cli/subcommands.h"
#include "peers-repo-sync/member.h"
#include "routing/address.h"
#include "wgproto/crypto.h"
#include "wgproto/encoding.h"

static void registry_usage(FILE *f)
{
	fprintf(f,
		"Usage: %s registry check [DIR]\n"
		"       %s registry add NAME [--endpoint HOST:PORT]... [--dir DIR]\n",
		prog_name, prog_name);
}

/*
 * -h or --help, but not cli_is_help's bare "help": that is a directory for
 * check and a valid member name for add.
 */
static bool is_help_flag(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

static enum member_entry_kind kind_of(mode_t mode)
{
	if (S_ISREG(mode))
		return MEMBER_BLOB;
	if (S_ISLNK(mode))
		return MEMBER_SYMLINK;
	if (S_ISDIR(mode))
		return MEMBER_TREE;
	return MEMBER_OTHER;
}

/* Feeds one entry of DIR/members to the registry, as the daemon feeds a git tree entry. */
static void add_file(struct member_set *r, int dirfd, const char *name)
{
	uint8_t buf[MEMBER_FILE_MAX + 1];
	struct stat st;
	ssize_t n = 0, got;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		member_set_add_entry(r, name, MEMBER_OTHER, NULL, 0);
		return;
	}
	enum member_entry_kind kind = kind_of(st.st_mode);
	if (kind != MEMBER_BLOB || st.st_size > MEMBER_FILE_MAX) {
		/* Rejected on kind or size alone: the content is never read. */
		member_set_add_entry(r, name, kind, buf, (size_t)st.st_size);
		return;
	}
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		member_set_add_entry(r, name, MEMBER_OTHER, NULL, 0);
		return;
	}
	while (n < (ssize_t)sizeof(buf) && (got = read(fd, buf + n, sizeof(buf) - (size_t)n)) > 0)
		n += got;
	close(fd);
	member_set_add_entry(r, name, MEMBER_BLOB, buf, (size_t)n);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads DIR/members into r; false (with a message) if there is no such directory. */
static bool read_checkout(struct member_set *r, const char *dir)
{
	char path[PATH_MAX];
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;

	snprintf(path, sizeof(path), "%s/members", dir);
	/*
	 * Not through a symbolic link: git stores members/ as a link then, which
	 * the daemon does not follow (the commit has no members/ directory).
	 */
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			fprintf(stderr,
				"%s: a symbolic link, not a directory: alameshd reads no member "
				"from it\n",
				path);
		else
			fprintf(stderr, "%s: %s: %s\n", prog_name, path, strerror(errno));
		return false;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		fprintf(stderr, "%s: %s: %s\n", prog_name, path, strerror(errno));
		close(fd);
		return false;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **m = realloc(names, cap * sizeof(*m));
			if (!m)
				break;
			names = m;
		}
		if (!(names[n] = strdup(e->d_name)))
			break;
		n++;
	}
	/* In name order, so the report reads the same on every machine. */
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (member_set_entries_left(r))
			add_file(r, dirfd(d), names[i]);
		else
			member_set_skip_entries(r, 1);
		free(names[i]);
	}
	free(names);
	closedir(d);
	return true;
}

static int check_main(int argc, const char *argv[])
{
	const char *dir = argc > 2 ? argv[2] : ".";
	struct member_set r;

	if (argc == 3 && is_help_flag(argv[2])) {
		registry_usage(stdout);
		return 0;
	}
	if (argc > 3) {
		registry_usage(stderr);
		return 1;
	}
	member_set_init(&r, 0);
	if (!read_checkout(&r, dir)) {
		member_set_free(&r);
		return 1;
	}
	member_set_finish(&r, NULL);
	for (size_t i = 0; i < r.nproblems; i++)
		fprintf(stderr, "%s: %s%s\n", r.problems[i].file,
			r.problems[i].warning ? "warning: " : "", r.problems[i].why);
	printf("%zu members accepted, %zu files rejected\n", r.nmembers, r.nrejected);
	int rc = r.nrejected || !r.nmembers ? 1 : 0;
	if (!r.nmembers && !r.nrejected)
		fprintf(stderr, "%s/members: no member file\n", dir);
	member_set_free(&r);
	return cli_flush_stdout("registry") ? rc : 1;
}

/* Writes text to path, never over an existing file: write, fsync, then link into place. */
static bool write_new(const char *path, const char *text, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, n = snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid());
	size_t len = strlen(text);

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return false;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog_name, tmp, strerror(errno));
		return false;
	}
	bool ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (ok && link(tmp, path) < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog_name, path, strerror(errno));
		ok = false;
	}
	unlink(tmp);
	return ok;
}

/*
 * The top level of the git repository that holds dir (a real path): the
 * nearest directory up from it with a .git entry (a directory, or the file
 * of a worktree or submodule); dir itself if there is none. The key is put
 * next to that, as a --dir of a subdirectory (repo/members) would otherwise
 * put it inside the repository, one git add -A from being published.
 */
static void repository_top(char out[PATH_MAX], const char *dir)
{
	char probe[PATH_MAX + 8];
	struct stat st;

	snprintf(out, PATH_MAX, "%s", dir);
	for (;;) {
		bool root = !strcmp(out, "/");
		snprintf(probe, sizeof(probe), "%s/.git", root ? "" : out);
		if (lstat(probe, &st) == 0)
			return;
		char *slash = strrchr(out, '/');
		if (root || !slash)
			break;
		slash[slash == out ? 1 : 0] = '\0'; /* "/a" goes up to "/" */
	}
	snprintf(out, PATH_MAX, "%s", dir);
}

static int add_main(int argc, const char *argv[])
{
	const char *name = NULL, *dir = ".";
	const char *endpoints[MEMBER_MAX_ENDPOINTS];
	size_t nep = 0;
	char conf[MEMBER_FILE_MAX], path[PATH_MAX + 64], keypath[PATH_MAX + 64], top[PATH_MAX];
	char repo[PATH_MAX];
	char b64[WG_KEY_B64_LEN + 1], addr[INET6_ADDRSTRLEN], keytext[WG_KEY_B64_LEN + 2];
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	struct in6_addr a;
	int rc = 1;

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--endpoint") && i + 1 < argc && nep < MEMBER_MAX_ENDPOINTS) {
			endpoints[nep++] = argv[++i];
		} else if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
			dir = argv[++i];
		} else if (is_help_flag(argv[i])) {
			registry_usage(stdout);
			return 0;
		} else if (!name && argv[i][0] != '-') {
			name = argv[i];
		} else {
			registry_usage(stderr);
			return 1;
		}
	}
	if (!name) {
		registry_usage(stderr);
		return 1;
	}
	if (!member_name_valid(name, strlen(name))) {
		fprintf(stderr, "%s: `%s': a name is 1-32 of a-z, 0-9 and '-' (not first)\n",
			prog_name, name);
		return 1;
	}
	for (size_t i = 0; i < nep; i++)
		if (!member_endpoint_valid(endpoints[i])) {
			fprintf(stderr, "%s: endpoint `%s' is not host:port or [IPv6]:port\n",
				prog_name, endpoints[i]);
			return 1;
		}
	if (!realpath(dir, top)) {
		fprintf(stderr, "%s: %s: %s\n", prog_name, dir, strerror(errno));
		return 1;
	}
	repository_top(repo, top);
	if (!strcmp(repo, "/")) {
		/* Nowhere is outside it. */
		fprintf(stderr, "%s: %s: no directory outside it for the private key\n", prog_name,
			repo);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/members", top);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "%s: %s: %s\n", prog_name, path, strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/members/%s.conf", top, name);
	/* The private key goes next to the repository, never into it. */
	char *slash = strrchr(repo, '/');
	int plen = slash && slash != repo ? (int)(slash - repo) : 0;
	snprintf(keypath, sizeof(keypath), "%.*s/%s.key", plen, repo, name);
	if (!access(path, F_OK) || !access(keypath, F_OK)) {
		fprintf(stderr, "%s: %s or %s exists already; nothing written\n", prog_name, path,
			keypath);
		return 1;
	}
	wg_generate_private_key(priv);
	wg_public_key(pub, priv);
	key_to_base64(b64, priv);
	snprintf(keytext, sizeof(keytext), "%s\n", b64);
	if (!write_new(keypath, keytext, 0600))
		goto out;
	key_to_base64(b64, pub);
	int n = snprintf(conf, sizeof(conf), "[Member]\nPublicKey = %s\n", b64);
	for (size_t i = 0; i < nep; i++)
		n += snprintf(conf + n, sizeof(conf) - (size_t)n, "Endpoint = %s\n", endpoints[i]);
	if (!write_new(path, conf, 0644)) {
		unlink(keypath);
		goto out;
	}
	alamesh_addr(&a, pub);
	inet_ntop(AF_INET6, &a, addr, sizeof(addr));
	printf("member:      %s\n"
	       "public key:  %s\n"
	       "address:     %s\n"
	       "wrote:       %s\n"
	       "private key: %s (mode 0600; keep it, never commit it)\n\n"
	       "Open the pull request:\n"
	       "  cd %s\n"
	       "  git checkout -b add-%s\n"
	       "  git add members/%s.conf\n"
	       "  git commit -m 'Add member %s'\n"
	       "  git push origin add-%s\n",
	       name, b64, addr, path, keypath, top, name, name, name, name);
	rc = cli_flush_stdout("registry") ? 0 : 1;
out:
	sodium_memzero(priv, sizeof(priv));
	sodium_memzero(keytext, sizeof(keytext));
	sodium_memzero(b64, sizeof(b64));
	return rc;
}

int registry_main(int argc, const char *argv[])
{
	if (argc == 2 && cli_is_help(argv[1])) {
		registry_usage(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return check_main(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "add"))
		return add_main(argc, argv);
	registry_usage(stderr);
	return 1;
}
