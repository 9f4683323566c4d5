// SPDX-License-Identifier: ISC
/* Fetching the registry and reading its member blobs with libgit2 (see gitfetch.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <git2.h>

#include "daemon/gitfetch.h"

struct gitfetch {
	git_repository *repo;
};

static int git_fail(char *err, size_t errlen, const char *what)
{
	const git_error *e = git_error_last();

	snprintf(err, errlen, "%s: %s", what, e && e->message ? e->message : "unknown error");
	return -1;
}

struct gitfetch *gitfetch_open(const char *cache_dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
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
	if (mkdir(cache_dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", cache_dir, strerror(errno));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/registry.git", cache_dir);
	if (git_repository_open_bare(&g->repo, path) < 0 &&
	    git_repository_init(&g->repo, path, 1) < 0) {
		git_fail(err, errlen, path);
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

int gitfetch_fetch(struct gitfetch *g, const char *url, const char *branch,
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

static void read_entry(struct gitfetch *g, const git_tree_entry *e, struct registry *r)
{
	const char *name = git_tree_entry_name(e);
	enum member_entry_kind kind = kind_of(git_tree_entry_filemode(e));
	git_blob *blob = NULL;

	if (kind != MEMBER_BLOB) {
		registry_add_entry(r, name, kind, NULL, 0);
		return;
	}
	if (git_blob_lookup(&blob, g->repo, git_tree_entry_id(e)) < 0) {
		registry_add_entry(r, name, MEMBER_OTHER, NULL, 0);
		return;
	}
	git_object_size_t size = git_blob_rawsize(blob);
	/* An oversized blob is refused on its size; its bytes are not looked at. */
	registry_add_entry(r, name, MEMBER_BLOB, git_blob_rawcontent(blob),
			   size > SIZE_MAX ? SIZE_MAX : (size_t)size);
	git_blob_free(blob);
}

int gitfetch_read(struct gitfetch *g, const char *oid, struct registry *r, char *err, size_t errlen)
{
	git_oid id;
	git_commit *commit = NULL;
	git_tree *tree = NULL, *members = NULL;
	git_tree_entry *entry = NULL;
	int rc = -1;

	if (git_oid_fromstr(&id, oid) < 0 || git_commit_lookup(&commit, g->repo, &id) < 0) {
		git_fail(err, errlen, "commit");
		goto out;
	}
	if (git_commit_tree(&tree, commit) < 0) {
		git_fail(err, errlen, "tree");
		goto out;
	}
	if (git_tree_entry_bypath(&entry, tree, "members") < 0 ||
	    git_tree_entry_type(entry) != GIT_OBJECT_TREE) {
		snprintf(err, errlen, "no members/ directory in commit %.12s", oid);
		goto out;
	}
	if (git_tree_lookup(&members, g->repo, git_tree_entry_id(entry)) < 0) {
		git_fail(err, errlen, "members/");
		goto out;
	}
	for (size_t i = 0; i < git_tree_entrycount(members); i++)
		read_entry(g, git_tree_entry_byindex(members, i), r);
	rc = 0;
out:
	git_tree_entry_free(entry);
	git_tree_free(members);
	git_tree_free(tree);
	git_commit_free(commit);
	return rc;
}

bool gitfetch_descends(struct gitfetch *g, const char *now, const char *before)
{
	git_oid a, b;

	if (git_oid_fromstr(&a, now) < 0 || git_oid_fromstr(&b, before) < 0)
		return false;
	return git_oid_equal(&a, &b) || git_graph_descendant_of(g->repo, &a, &b) == 1;
}
