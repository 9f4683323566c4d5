// SPDX-License-Identifier: ISC
/* Fetching the registry and reading its member blobs with libgit2 (see gitfetch.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <git2.h>

#include "peers-repo-sync/gitfetch.h"

struct gitfetch {
	git_repository *repo;
	char path[PATH_MAX];	/* CACHE_DIR/registry.git */
	char ssh_dir[PATH_MAX]; /* CACHE_DIR/ssh: the key and known_hosts for ssh:// */
	int cred_tries;
};

static int git_fail(char *err, size_t errlen, const char *what)
{
	const git_error *e = git_error_last();

	snprintf(err, errlen, "%s: %s", what, e && e->message ? e->message : "unknown error");
	return -1;
}

struct gitfetch *gitfetch_open(const char *cache_dir, const char *ca_file, char *err, size_t errlen)
{
	struct gitfetch *g = calloc(1, sizeof(*g));

	if (!g) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	git_libgit2_init();
	/*
	 * No global, XDG or system git configuration: the registry reads the same
	 * on every member, and a daemon that dropped root cannot read /root anyway.
	 */
	static const int levels[] = {GIT_CONFIG_LEVEL_GLOBAL, GIT_CONFIG_LEVEL_XDG,
				     GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_PROGRAMDATA};
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, levels[i], "");
	/*
	 * A file:// registry is often owned by another account than the one the
	 * daemon runs as. The ownership check guards against a repository's
	 * config running programs; libgit2 runs none here (no hooks, no
	 * filters: only objects are read), so it is off.
	 */
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
	if (ca_file && *ca_file &&
	    git_libgit2_opts(GIT_OPT_SET_SSL_CERT_LOCATIONS, ca_file, NULL) < 0) {
		git_fail(err, errlen, ca_file);
		goto fail;
	}
	if (mkdir(cache_dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", cache_dir, strerror(errno));
		goto fail;
	}
	snprintf(g->ssh_dir, sizeof(g->ssh_dir), "%s/ssh", cache_dir);
	snprintf(g->path, sizeof(g->path), "%s/registry.git", cache_dir);
	if (git_repository_open_bare(&g->repo, g->path) < 0 &&
	    git_repository_init(&g->repo, g->path, 1) < 0) {
		git_fail(err, errlen, g->path);
		goto fail;
	}
	return g;
fail:
	free(g);
	git_libgit2_shutdown();
	return NULL;
}

void gitfetch_close(struct gitfetch *g)
{
	if (!g)
		return;
	git_repository_free(g->repo);
	free(g);
	git_libgit2_shutdown();
}

/*
 * ssh:// logs in with CACHE_DIR/ssh/id_ed25519 (or id_ecdsa, id_rsa) when one
 * exists, else through ssh-agent. https:// needs no credentials: a registry
 * is public in what it says, and only members' public keys are in it.
 */
static int credentials(git_credential **out, const char *url, const char *user_from_url,
		       unsigned int allowed, void *payload)
{
	static const char *const keys[] = {"id_ed25519", "id_ecdsa", "id_rsa"};
	struct gitfetch *g = payload;
	const char *user = user_from_url && *user_from_url ? user_from_url : "git";
	char path[PATH_MAX + 16];

	(void)url;
	if (++g->cred_tries > 3) {
		git_error_set_str(GIT_ERROR_SSH, "authentication failed");
		return -1;
	}
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user);
	if (!(allowed & GIT_CREDENTIAL_SSH_KEY))
		return GIT_PASSTHROUGH;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", g->ssh_dir, keys[i]);
		if (access(path, R_OK) == 0)
			return git_credential_ssh_key_new(out, user, NULL, path, NULL);
	}
	return git_credential_ssh_key_from_agent(out, user);
}

/* "host", "[host]:port" or a comma-separated list of them names host. */
static bool names_host(char *patterns, const char *host)
{
	char *save = NULL;

	for (char *p = strtok_r(patterns, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		size_t hl = strlen(host);
		if (!strcmp(p, host))
			return true;
		if (p[0] == '[' && !strncmp(p + 1, host, hl) && p[hl + 1] == ']')
			return true;
	}
	return false;
}

/*
 * An ssh host key must be listed in CACHE_DIR/ssh/known_hosts (plain, not
 * hashed, entries): a registry fetched from an impostor would name the
 * members. TLS certificates are libgit2's to verify, against the system's
 * authorities.
 */
static int check_certificate(git_cert *cert, int valid, const char *host, void *payload)
{
	struct gitfetch *g = payload;
	const git_cert_hostkey *hk = (const git_cert_hostkey *)cert;
	char path[PATH_MAX + 16], line[16384];
	unsigned char key[8192];
	size_t keylen;
	bool known = false;

	(void)valid;
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return GIT_PASSTHROUGH;
	snprintf(path, sizeof(path), "%s/known_hosts", g->ssh_dir);
	FILE *f = fopen(path, "re");
	if (f && (hk->type & GIT_CERT_SSH_RAW)) {
		while (!known && fgets(line, sizeof(line), f)) {
			char *save = NULL;
			char *hosts = strtok_r(line, " \t\n", &save);
			char *type = strtok_r(NULL, " \t\n", &save);
			char *b64 = strtok_r(NULL, " \t\n", &save);
			if (!hosts || !type || !b64 || hosts[0] == '#' || !names_host(hosts, host))
				continue;
			if (sodium_base642bin(key, sizeof(key), b64, strlen(b64), NULL, &keylen,
					      NULL, sodium_base64_VARIANT_ORIGINAL) == 0 &&
			    keylen == hk->hostkey_len && !memcmp(key, hk->hostkey, keylen))
				known = true;
		}
	}
	if (f)
		fclose(f);
	if (known)
		return 0;
	git_error_set_str(GIT_ERROR_SSH, "host key not in known_hosts");
	return -1;
}

/* The fetch itself, with libgit2; run in the child process of gitfetch_fetch(). */
static int fetch_here(struct gitfetch *g, const char *url, const char *branch,
		      char oid[GIT_OID_HEX_LEN + 1], char *err, size_t errlen)
{
	git_remote *remote = NULL;
	git_fetch_options opts;
	char spec[600], ref[400];
	char *specs[] = {spec};
	git_strarray refspecs = {specs, 1};
	git_oid id;
	int rc = -1;

	snprintf(spec, sizeof(spec), "+refs/heads/%s:refs/remotes/origin/%s", branch, branch);
	snprintf(ref, sizeof(ref), "refs/remotes/origin/%s", branch);
	/* The branch as the remote has it now, not what an earlier fetch left. */
	git_reference *stale = NULL;
	if (git_reference_lookup(&stale, g->repo, ref) == 0) {
		git_reference_delete(stale);
		git_reference_free(stale);
	}
	git_fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION);
	opts.prune = GIT_FETCH_NO_PRUNE;
	opts.update_fetchhead = 0;
	opts.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	opts.callbacks.credentials = credentials;
	opts.callbacks.certificate_check = check_certificate;
	opts.callbacks.payload = g;
	g->cred_tries = 0;
	/*
	 * Anonymous, and without url.*.insteadOf: that lookup runs a regular
	 * expression over the configuration, which leaks in libgit2 1.5 (a match
	 * that fails does not free its match data) once per sync.
	 */
	git_remote_create_options ropts;
	git_remote_create_options_init(&ropts, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	ropts.repository = g->repo;
	ropts.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF | GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(&remote, url, &ropts) < 0) {
		git_fail(err, errlen, "remote");
		goto out;
	}
	if (git_remote_fetch(remote, &refspecs, &opts, NULL) < 0) {
		git_fail(err, errlen, "fetch");
		goto out;
	}
	if (git_reference_name_to_id(&id, g->repo, ref) < 0) {
		snprintf(err, errlen, "branch '%s' not found on the remote", branch);
		goto out;
	}
	git_oid_tostr(oid, GIT_OID_HEX_LEN + 1, &id);
	rc = 0;
out:
	git_remote_free(remote);
	return rc;
}

/* Whether a name in the cache is one a fetch cut short leaves behind. */
static bool is_leftover(const char *name, bool in_pack_dir)
{
	size_t len = strlen(name);

	if (len > 5 && !strcmp(name + len - 5, ".lock"))
		return true;
	/* libgit2 downloads a pack into pack_git2_XXXXXX, renamed when complete. */
	return in_pack_dir && !strncmp(name, "pack_git2_", 10);
}

/* Removes the leftovers in dir (and, to a few levels, under it); never follows a link. */
static void remove_leftovers(int dirfd, bool in_pack_dir, int depth)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *e;

	if (!d) {
		close(dirfd);
		return;
	}
	while ((e = readdir(d))) {
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode) && is_leftover(e->d_name, in_pack_dir)) {
			unlinkat(dirfd, e->d_name, 0);
		} else if (S_ISDIR(st.st_mode) && depth > 0) {
			int sub = openat(dirfd, e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				remove_leftovers(sub, in_pack_dir, depth - 1);
		}
	}
	closedir(d);
}

/*
 * A fetch that was killed may leave a lock (refs/remotes/origin/BRANCH.lock,
 * packed-refs.lock) that would fail every later fetch, and a partial pack.
 * Only this daemon uses the cache (it holds CacheDir/lock), its fetches run
 * one at a time, and none is running now: whatever is there is stale.
 */
static void clear_leftovers(struct gitfetch *g)
{
	static const struct {
		const char *dir;
		bool pack;
		int depth;
	} where[] = {{"", false, 0}, {"/refs", false, 8}, {"/objects/pack", true, 0}};
	char path[PATH_MAX + 16];

	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", g->path, where[i].dir);
		int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			remove_leftovers(fd, where[i].pack, where[i].depth);
	}
}

/* What the fetching child reports, in one write (under PIPE_BUF, so it is never torn). */
struct fetch_report {
	int rc;
	char oid[GIT_OID_HEX_LEN + 1];
	char err[GITFETCH_ERR_MAX];
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

enum wait_outcome { WAIT_REPORTED, WAIT_DIED, WAIT_TIMED_OUT, WAIT_CANCELLED };

/* Reads the child's report from fd, until it is whole, the child dies, time is up or cancel_fd. */
static enum wait_outcome wait_report(int fd, int cancel_fd, unsigned timeout_secs,
				     struct fetch_report *rep)
{
	uint64_t deadline = mono_ms() + (uint64_t)timeout_secs * 1000;
	size_t got = 0;

	for (;;) {
		uint64_t now = mono_ms();
		if (now >= deadline)
			return WAIT_TIMED_OUT;
		struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
				      {.fd = cancel_fd, .events = POLLIN}};
		int n = poll(p, cancel_fd >= 0 ? 2 : 1, (int)(deadline - now));
		if (n < 0 && errno != EINTR)
			return WAIT_DIED;
		if (n <= 0)
			continue;
		if (cancel_fd >= 0 && p[1].revents)
			return WAIT_CANCELLED;
		ssize_t r = read(fd, (char *)rep + got, sizeof(*rep) - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return WAIT_DIED;
		got += (size_t)r;
		if (got == sizeof(*rep))
			return WAIT_REPORTED;
	}
}

/*
 * libgit2 1.5 has no timeout of its own: a server that accepts and then
 * says nothing (or a name server that never answers) holds a fetch for
 * ever. So the fetch runs in a child process, which is killed when its time
 * is up: that bounds every transport alike (https, ssh, git://, file://),
 * DNS included, and frees whatever the fetch held. The child is a fork of
 * this worker thread and touches nothing but libgit2 and the pipe; it
 * writes into the cache's repository, which this process then reads (libgit2
 * rescans the packs for an object it does not know yet).
 */
int gitfetch_fetch(struct gitfetch *g, const char *url, const char *branch, unsigned timeout_secs,
		   int cancel_fd, char oid[GIT_OID_HEX_LEN + 1], char *err, size_t errlen)
{
	struct fetch_report rep = {.rc = -1};
	pid_t parent = getpid(), pid;
	int fds[2], status = 0;

	clear_leftovers(g);
	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "fetch: pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) < 0) {
		snprintf(err, errlen, "fetch: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		/* Dies with the daemon; _exit, so no atexit handler or stdio buffer runs twice. */
		close(fds[0]);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(1);
		rep.rc = fetch_here(g, url, branch, rep.oid, rep.err, sizeof(rep.err));
		_exit(write(fds[1], &rep, sizeof(rep)) == (ssize_t)sizeof(rep) ? 0 : 1);
	}
	close(fds[1]);
	enum wait_outcome w = wait_report(fds[0], cancel_fd, timeout_secs, &rep);
	close(fds[0]);
	if (w != WAIT_REPORTED)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	switch (w) {
	case WAIT_REPORTED:
		if (rep.rc < 0) {
			snprintf(err, errlen, "%s", rep.err);
			return -1;
		}
		memcpy(oid, rep.oid, GIT_OID_HEX_LEN);
		oid[GIT_OID_HEX_LEN] = '\0';
		return 0;
	case WAIT_TIMED_OUT:
		snprintf(err, errlen, "fetch: no answer within %u s (FetchTimeout): abandoned",
			 timeout_secs);
		break;
	case WAIT_CANCELLED:
		snprintf(err, errlen, "fetch: abandoned (shutting down)");
		break;
	case WAIT_DIED:
		if (WIFSIGNALED(status))
			snprintf(err, errlen, "fetch: the fetching process died of signal %d",
				 WTERMSIG(status));
		else
			snprintf(err, errlen, "fetch: the fetching process exited with %d",
				 WEXITSTATUS(status));
		break;
	}
	return -1;
}

static enum member_entry_kind kind_of(git_filemode_t mode)
{
	switch (mode) {
	case GIT_FILEMODE_BLOB:
	case GIT_FILEMODE_BLOB_EXECUTABLE:
		return MEMBER_BLOB;
	case GIT_FILEMODE_LINK:
		return MEMBER_SYMLINK;
	case GIT_FILEMODE_TREE:
		return MEMBER_TREE;
	case GIT_FILEMODE_COMMIT:
		return MEMBER_SUBMODULE;
	default:
		return MEMBER_OTHER;
	}
}

static void read_entry(struct gitfetch *g, git_odb *odb, const git_tree_entry *e,
		       struct member_set *r)
{
	const char *name = git_tree_entry_name(e);
	enum member_entry_kind kind = kind_of(git_tree_entry_filemode(e));
	git_blob *blob = NULL;
	size_t size;
	git_object_t type;

	if (kind != MEMBER_BLOB) {
		member_set_add_entry(r, name, kind, NULL, 0);
		return;
	}
	/*
	 * An oversized blob is refused on the size its header gives, before it is
	 * inflated: git_blob_lookup() would hold all of it in memory first.
	 */
	if (git_odb_read_header(&size, &type, odb, git_tree_entry_id(e)) < 0 ||
	    type != GIT_OBJECT_BLOB) {
		member_set_add_entry(r, name, MEMBER_OTHER, NULL, 0);
		return;
	}
	if (size > MEMBER_FILE_MAX) {
		member_set_add_entry(r, name, MEMBER_BLOB, NULL, size);
		return;
	}
	if (git_blob_lookup(&blob, g->repo, git_tree_entry_id(e)) < 0) {
		member_set_add_entry(r, name, MEMBER_OTHER, NULL, 0);
		return;
	}
	git_object_size_t len = git_blob_rawsize(blob);
	member_set_add_entry(r, name, MEMBER_BLOB, git_blob_rawcontent(blob),
			     len > SIZE_MAX ? SIZE_MAX : (size_t)len);
	git_blob_free(blob);
}

int gitfetch_read(struct gitfetch *g, const char *oid, struct member_set *r, char *err,
		  size_t errlen)
{
	git_oid id;
	git_commit *commit = NULL;
	git_tree *tree = NULL, *members = NULL;
	git_tree_entry *entry = NULL;
	git_odb *odb = NULL;
	int rc = -1;

	if (git_repository_odb(&odb, g->repo) < 0) {
		git_fail(err, errlen, "objects");
		goto out;
	}
	if (git_oid_fromstr(&id, oid) < 0 || git_commit_lookup(&commit, g->repo, &id) < 0) {
		git_fail(err, errlen, "commit");
		goto out;
	}
	if (git_commit_tree(&tree, commit) < 0) {
		git_fail(err, errlen, "tree");
		goto out;
	}
	if (git_tree_entry_bypath(&entry, tree, "members") < 0) {
		snprintf(err, errlen, "no members/ directory in commit %.12s", oid);
		rc = GITFETCH_NO_MEMBERS;
		goto out;
	}
	if (git_tree_entry_type(entry) != GIT_OBJECT_TREE) {
		snprintf(err, errlen, "no members/ directory in commit %.12s (not a directory)",
			 oid);
		goto out;
	}
	if (git_tree_lookup(&members, g->repo, git_tree_entry_id(entry)) < 0) {
		git_fail(err, errlen, "members/");
		goto out;
	}
	size_t n = git_tree_entrycount(members), left = member_set_entries_left(r);
	for (size_t i = 0; i < n && i < left; i++)
		read_entry(g, odb, git_tree_entry_byindex(members, i), r);
	if (n > left)
		member_set_skip_entries(r, n - left);
	rc = 0;
out:
	git_tree_entry_free(entry);
	git_tree_free(members);
	git_tree_free(tree);
	git_commit_free(commit);
	git_odb_free(odb);
	return rc;
}

bool gitfetch_descends(struct gitfetch *g, const char *now, const char *before)
{
	git_oid a, b;

	if (git_oid_fromstr(&a, now) < 0 || git_oid_fromstr(&b, before) < 0)
		return false;
	return git_oid_equal(&a, &b) || git_graph_descendant_of(g->repo, &a, &b) == 1;
}
