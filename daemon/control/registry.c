// SPDX-License-Identifier: ISC
/* Following the registry (see registry.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon/config/config.h"
#include "daemon/core/device.h"
#include "peers-repo-sync/gitfetch.h"
#include "daemon/base/log.h"
#include "daemon/control/mesh.h"
#include "daemon/control/registry.h"
#include "daemon/base/textbuf.h"
#include "daemon/platform/udp.h"
#include "peers-repo-sync/escape.h"
#include "wgproto/encoding.h"
#include "daemon/base/clock.h"
#include "daemon/core/peer.h"

#define ERR_MAX 256

struct sync_result {
	bool ok, forced, from_cache;
	bool checked; /* its member files were read and checked (reg.problems holds theirs) */
	uint64_t gen; /* the last request made before this sync started (0: none) */
	char error[ERR_MAX];
	char commit[GIT_OID_HEX_LEN + 1];
	uint64_t when;	  /* wall clock, seconds */
	uint64_t read_ns; /* reading and checking the member files, resolving endpoints */
	struct member_set reg;
	/* Member i's resolved endpoints: neps[i] of them from eps + ep_first[i]. */
	struct sockaddr_in6 *eps;
	uint32_t *ep_first;
	uint8_t *neps;
};

struct registry_sync {
	struct device *dev;
	char url[1024], branch[256], cache_dir[1024], ca_file[1024];
	uint64_t interval_ns;
	unsigned fetch_timeout; /* seconds */
	bool allow_empty, require_ff;
	uint32_t max_members;
	uint8_t own[WG_KEY_LEN];

	pthread_t thread;
	bool running;
	pthread_mutex_t lock; /* want, stop, requested, ready */
	pthread_cond_t cond;
	bool want, stop;
	uint64_t requested; /* requests for a sync so far (SIGHUP, alamesh sync) */
	/*
	 * Results not collected yet: the newest commit to apply, and the newest
	 * failure after it. A failure never displaces a commit still to be
	 * applied: a fetch refused at once at start-up must not lose the cached
	 * commit posted just before it.
	 */
	struct sync_result *ready, *ready_failed;
	/*
	 * Worker only: the last commit built for applying (the cached one at
	 * start-up), which a new one must descend from. Set here rather than
	 * when the control thread applies it, which may come after the next
	 * fetch.
	 */
	char base[GIT_OID_HEX_LEN + 1];
	int event_fd;
	int lock_fd;	      /* CacheDir/lock, held while the daemon runs */
	int stop_fd;	      /* readable once the daemon stops: a fetch under way is abandoned */
	struct gitfetch *git; /* worker only */

	/* Control thread. */
	char applied[GIT_OID_HEX_LEN + 1];
	uint64_t applied_when, last_attempt, last_success;
	char last_error[ERR_MAX];
	struct sync_result *current;
	char summary[ERR_MAX + 128];
	/*
	 * The problems of the last commit whose files were checked, whether it
	 * was applied or refused (a commit without a valid member): taken from
	 * its result, which is freed when refused.
	 */
	struct member_problem *problems;
	size_t nproblems, problems_rejected;
	char problems_commit[GIT_OID_HEX_LEN + 1];
	bool problems_applied;
};

static uint64_t wall_secs(void)
{
	return now_wall() / NSEC_PER_SEC;
}

static void result_free(struct sync_result *r)
{
	if (!r)
		return;
	member_set_free(&r->reg);
	free(r->eps);
	free(r->ep_first);
	free(r->neps);
	free(r);
}

static bool fail(struct sync_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The reason a sync failed; it may quote a git server's own words, so it is
 * escaped before it reaches the log, last_error= or alamesh sync's result=.
 */
static bool fail(struct sync_result *r, const char *fmt, ...)
{
	char raw[ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	escape_text(r->error, sizeof(r->error), raw, strlen(raw));
	r->ok = false;
	return false;
}

/* ---- the worker thread ---- */

/*
 * CacheDir/last-good: the commit and, on the second line, when it was
 * applied. A file from before the time was kept gives its own mtime instead.
 */
static bool read_last_good(struct registry_sync *s, char commit[GIT_OID_HEX_LEN + 1],
			   uint64_t *when)
{
	char path[PATH_MAX], buf[64] = {0}, line[32] = {0};
	struct stat st;
	FILE *f;

	snprintf(path, sizeof(path), "%s/last-good", s->cache_dir);
	if (!(f = fopen(path, "re")))
		return false;
	bool ok = fgets(buf, sizeof(buf), f) && strlen(buf) >= GIT_OID_HEX_LEN &&
		  strspn(buf, "0123456789abcdef") == GIT_OID_HEX_LEN;
	*when = 0;
	if (ok && fgets(line, sizeof(line), f)) {
		char *end;
		errno = 0;
		unsigned long long t = strtoull(line, &end, 10);
		if (!errno && end != line && (*end == '\n' || !*end))
			*when = t;
	}
	if (ok && !*when && fstat(fileno(f), &st) == 0 && st.st_mtime > 0)
		*when = (uint64_t)st.st_mtime;
	fclose(f);
	if (ok)
		snprintf(commit, GIT_OID_HEX_LEN + 1, "%.40s", buf);
	return ok;
}

/* CacheDir/last-good: the commit and when it was taken; write, fsync, rename. */
static void write_last_good(struct registry_sync *s, const char *commit, uint64_t when)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], text[96];
	int n = snprintf(text, sizeof(text), "%s\n%llu\n", commit, (unsigned long long)when);

	snprintf(path, sizeof(path), "%s/last-good", s->cache_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		log_warn("registry: %s: %s", tmp, strerror(errno));
		return;
	}
	bool ok = write(fd, text, (size_t)n) == n && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) < 0) {
		log_warn("registry: cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
	}
}

/* Numeric endpoints resolve at once; names through the resolver, here, off the loop. */
static void resolve(struct sync_result *r)
{
	uint32_t next = 0;

	for (size_t i = 0; i < r->reg.nmembers; i++) {
		const struct member *m = &r->reg.members[i];
		r->ep_first[i] = next;
		for (size_t j = 0; j < m->nendpoints; j++) {
			const char *ep = member_endpoint(&r->reg, m, j);
			struct sockaddr_storage ss;
			socklen_t len;
			const char *why = NULL;
			if (!config_parse_endpoint(ep, &ss, &len, &why)) {
				log_warn("registry: member %s: endpoint %s: %s", m->name, ep,
					 why ? why : "cannot resolve");
				continue;
			}
			udp_to_v6(&ss, &r->eps[next++]);
			r->neps[i]++;
		}
	}
}

/* Reads commit into r: members checked, endpoints resolved. */
static bool build(struct registry_sync *s, struct sync_result *r, const char *commit)
{
	char err[GITFETCH_ERR_MAX];
	uint64_t start = now_mono();

	snprintf(r->commit, sizeof(r->commit), "%s", commit);
	member_set_init(&r->reg, s->max_members);
	int rc = gitfetch_read(s->git, commit, &r->reg, err, sizeof(err));
	/*
	 * Deleting the last member file deletes members/ itself (git keeps no
	 * empty directory): with AllowEmpty, that is a registry without members.
	 */
	if (rc == GITFETCH_NO_MEMBERS && s->allow_empty)
		log_info("registry: %s: read as no member (AllowEmpty = yes)", err);
	else if (rc < 0)
		return fail(r, "%s", err);
	member_set_finish(&r->reg, s->own);
	r->checked = true;
	if (!r->reg.nmembers && !s->allow_empty)
		return fail(r,
			    "commit %.12s has no valid member (%zu files rejected): keeping the "
			    "current members (AllowEmpty = no)",
			    commit, r->reg.nrejected);
	size_t n = r->reg.nmembers ? r->reg.nmembers : 1, neps = 1;
	for (size_t i = 0; i < r->reg.nmembers; i++)
		neps += r->reg.members[i].nendpoints;
	r->eps = calloc(neps, sizeof(*r->eps));
	r->ep_first = calloc(n, sizeof(*r->ep_first));
	r->neps = calloc(n, 1);
	if (!r->eps || !r->ep_first || !r->neps)
		return fail(r, "out of memory");
	resolve(r);
	r->read_ns = now_mono() - start;
	r->ok = true;
	return true;
}

static bool ensure_git(struct registry_sync *s, struct sync_result *r)
{
	char err[GITFETCH_ERR_MAX];

	if (!s->git && !(s->git = gitfetch_open(s->cache_dir, s->ca_file, err, sizeof(err))))
		return fail(r, "cache: %s", err);
	return true;
}

static struct sync_result *sync_cached(struct registry_sync *s)
{
	char commit[GIT_OID_HEX_LEN + 1];
	struct sync_result *r;
	uint64_t when;

	if (!read_last_good(s, commit, &when) || !(r = calloc(1, sizeof(*r))))
		return NULL;
	r->when = when; /* when it was applied, before the restart */
	r->from_cache = true;
	if (ensure_git(s, r) && build(s, r, commit))
		memcpy(s->base, commit, sizeof(s->base));
	return r;
}

static struct sync_result *sync_remote(struct registry_sync *s)
{
	char commit[GIT_OID_HEX_LEN + 1], err[GITFETCH_ERR_MAX];
	const char *base = s->base;
	struct sync_result *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->when = wall_secs();
	if (!ensure_git(s, r))
		return r;
	if (gitfetch_fetch(s->git, s->url, s->branch, s->fetch_timeout, s->stop_fd, commit, err,
			   sizeof(err)) < 0) {
		fail(r, "%s", err);
		return r;
	}
	if (base[0] && strcmp(base, commit) && !gitfetch_descends(s->git, commit, base)) {
		if (s->require_ff) {
			fail(
			    r,
			    "%s now points at %.12s, which does not descend from the applied %.12s "
			    "(a force push): refused (RequireFastForward = yes)",
			    s->branch, commit, base);
			return r;
		}
		r->forced = true;
	}
	if (build(s, r, commit)) {
		write_last_good(s, commit, r->when);
		memcpy(s->base, commit, sizeof(s->base));
	}
	return r;
}

static void post(struct registry_sync *s, struct sync_result *r)
{
	uint64_t one = 1;

	if (!r)
		return;
	pthread_mutex_lock(&s->lock);
	/* Not collected yet: the newer one wins, except over a commit to apply. */
	result_free(s->ready_failed);
	s->ready_failed = NULL;
	if (r->ok) {
		result_free(s->ready);
		s->ready = r;
	} else {
		s->ready_failed = r;
	}
	pthread_mutex_unlock(&s->lock);
	if (write(s->event_fd, &one, sizeof(one)) < 0)
		log_warn("registry: eventfd: %s", strerror(errno));
}

uint64_t registry_jittered(uint64_t interval_ns)
{
	uint64_t jitter = randombytes_uniform(1001);

	return interval_ns / 10 * 9 + interval_ns / 5 * jitter / 1000;
}

/* The next sync: Interval, give or take 10 %, so members do not all fetch at once. */
static struct timespec next_deadline(const struct registry_sync *s)
{
	struct timespec ts;
	uint64_t wait = registry_jittered(s->interval_ns);

	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t ns = (uint64_t)ts.tv_nsec + wait % NSEC_PER_SEC;
	ts.tv_sec += (time_t)(wait / NSEC_PER_SEC + ns / NSEC_PER_SEC);
	ts.tv_nsec = (long)(ns % NSEC_PER_SEC);
	return ts;
}

static void *worker(void *arg)
{
	struct registry_sync *s = arg;

	/* What was applied before: at once, with no network. */
	post(s, sync_cached(s));
	for (;;) {
		/* The requests this sync answers: those made before it starts. */
		pthread_mutex_lock(&s->lock);
		uint64_t gen = s->requested;
		s->want = false;
		pthread_mutex_unlock(&s->lock);
		struct sync_result *r = sync_remote(s);
		if (r)
			r->gen = gen;
		post(s, r);
		struct timespec until = next_deadline(s);
		pthread_mutex_lock(&s->lock);
		while (!s->want && !s->stop &&
		       pthread_cond_timedwait(&s->cond, &s->lock, &until) != ETIMEDOUT)
			;
		bool stop = s->stop;
		pthread_mutex_unlock(&s->lock);
		if (stop)
			break;
	}
	gitfetch_close(s->git);
	s->git = NULL;
	return NULL;
}

/* ---- the control thread ---- */

/*
 * CacheDir/lock, locked for as long as the daemon runs: two daemons sharing
 * a cache would fetch into one repository at once, each taking the other's
 * lock files for stale ones, and overwrite each other's last-good.
 */
static int lock_cache(const char *cache_dir)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/lock", cache_dir);
	if ((fd = open(path, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0) {
		log_error("registry: %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			log_error("registry: CacheDir %s is in use by another alameshd (it holds "
				  "%s); each daemon needs a CacheDir of its own",
				  cache_dir, path);
		else
			log_error("registry: %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct registry_sync *registry_sync_new(struct device *dev, const struct config *cfg)
{
	struct registry_sync *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;

	if (!s)
		return NULL;
	s->lock_fd = -1;
	s->dev = dev;
	snprintf(s->url, sizeof(s->url), "%s", cfg->registry_url);
	snprintf(s->branch, sizeof(s->branch), "%s", cfg->registry_branch);
	snprintf(s->cache_dir, sizeof(s->cache_dir), "%s", cfg->registry_cache_dir);
	snprintf(s->ca_file, sizeof(s->ca_file), "%s", cfg->registry_ca_file);
	s->interval_ns = (uint64_t)cfg->registry_interval * NSEC_PER_SEC;
	s->fetch_timeout = cfg->registry_fetch_timeout;
	s->allow_empty = cfg->registry_allow_empty;
	s->require_ff = cfg->registry_require_ff;
	s->max_members = cfg->registry_max_members;
	memcpy(s->own, dev->identity.public_key, WG_KEY_LEN);
	s->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (s->event_fd < 0 || s->stop_fd < 0 || pthread_mutex_init(&s->lock, NULL) ||
	    pthread_cond_init(&s->cond, &ca)) {
		pthread_condattr_destroy(&ca);
		log_error("registry: cannot set up: %s", strerror(errno));
		if (s->event_fd >= 0)
			close(s->event_fd);
		if (s->stop_fd >= 0)
			close(s->stop_fd);
		free(s);
		return NULL;
	}
	pthread_condattr_destroy(&ca);
	return s;
}

int registry_sync_start(struct registry_sync *s)
{
	/*
	 * Locked as the account that fetches into the cache: root may have given
	 * CacheDir to User = already, and with no CAP_DAC_OVERRIDE (the systemd
	 * unit keeps none) could not create a file in it.
	 */
	if ((s->lock_fd = lock_cache(s->cache_dir)) < 0)
		return -EBUSY;
	int r = pthread_create(&s->thread, NULL, worker, s);

	s->running = r == 0;
	return -r;
}

void registry_sync_free(struct registry_sync *s)
{
	if (!s)
		return;
	if (s->running) {
		struct timespec until;
		uint64_t one = 1;
		pthread_mutex_lock(&s->lock);
		s->stop = true;
		pthread_cond_signal(&s->cond);
		pthread_mutex_unlock(&s->lock);
		/* A fetch under way is killed at once. */
		if (write(s->stop_fd, &one, sizeof(one)) < 0)
			log_warn("registry: eventfd: %s", strerror(errno));
		/*
		 * Resolving a member's endpoint can still take a while (the resolver's
		 * own timeouts); shutting down must not. The worker touches nothing
		 * but s, which is then left to it.
		 */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 3;
		if (pthread_timedjoin_np(s->thread, NULL, &until) != 0) {
			log_warn("registry: a fetch is still running; not waiting for it");
			return;
		}
	}
	result_free(s->ready);
	result_free(s->ready_failed);
	result_free(s->current);
	free(s->problems);
	close(s->event_fd);
	close(s->stop_fd);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int registry_sync_fd(const struct registry_sync *s)
{
	return s->event_fd;
}

uint64_t registry_sync_trigger(struct registry_sync *s)
{
	pthread_mutex_lock(&s->lock);
	uint64_t gen = ++s->requested;
	s->want = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	return gen;
}

static int cmp_member_key(const void *a, const void *b)
{
	return memcmp((*(const struct member *const *)a)->public_key,
		      (*(const struct member *const *)b)->public_key, WG_KEY_LEN);
}

static int cmp_key_member(const void *key, const void *m)
{
	return memcmp(key, (*(const struct member *const *)m)->public_key, WG_KEY_LEN);
}

static int cmp_peer_key(const void *a, const void *b)
{
	return memcmp((*(struct peer *const *)a)->handshake.remote_static,
		      (*(struct peer *const *)b)->handshake.remote_static, WG_KEY_LEN);
}

static int cmp_key_peer(const void *key, const void *p)
{
	return memcmp(key, (*(struct peer *const *)p)->handshake.remote_static, WG_KEY_LEN);
}

/* New endpoints for a member's peer; the one that answered stays if it is still listed. */
static bool set_cands(struct peer *p, const struct sockaddr_in6 *eps, uint8_t n)
{
	bool same = n == p->ncands;

	for (uint8_t i = 0; same && i < n; i++)
		same = udp_same(&eps[i], &p->cands[i]);
	if (same)
		return false;
	pthread_mutex_lock(&p->lock);
	bool keep = false;
	for (uint8_t i = 0; i < n; i++)
		if (p->cand_confirmed && udp_same(&eps[i], &p->endpoint)) {
			keep = true;
			p->cand_idx = i;
		}
	memcpy(p->cands, eps, n * sizeof(*eps));
	p->ncands = n;
	if (!keep) {
		p->cand_confirmed = false;
		p->cand_idx = 0;
		if (n)
			p->endpoint = eps[0];
	}
	pthread_mutex_unlock(&p->lock);
	return true;
}

struct diff {
	size_t added, removed, changed;
};

static void apply(struct registry_sync *s, struct sync_result *r, struct diff *d)
{
	struct device *dev = s->dev;
	size_t n = r->reg.nmembers;
	const struct member **byk = malloc((n ? n : 1) * sizeof(*byk));

	if (!byk) {
		log_error("registry: out of memory applying %.12s", r->commit);
		return;
	}
	for (size_t i = 0; i < n; i++)
		byk[i] = &r->reg.members[i];
	if (n > 1)
		qsort(byk, n, sizeof(*byk), cmp_member_key);

	/* Gone from the registry: disconnected, keys wiped, no handshake any more. */
	for (size_t i = dev->npeers; i-- > 0;) {
		struct peer *p = dev->peers[i];
		if (!p->from_registry || (n && bsearch(p->handshake.remote_static, byk, n,
						       sizeof(*byk), cmp_key_member)))
			continue;
		log_info("registry: member %s removed: disconnected", p->member);
		device_remove_peer(dev, p);
		d->removed++;
	}

	size_t np = dev->npeers;
	struct peer **byp = malloc((np ? np : 1) * sizeof(*byp));
	if (!byp) {
		free(byk);
		log_error("registry: out of memory applying %.12s", r->commit);
		return;
	}
	if (np)
		memcpy(byp, dev->peers, np * sizeof(*byp));
	if (np > 1)
		qsort(byp, np, sizeof(*byp), cmp_peer_key);
	for (size_t i = 0; i < n; i++) {
		const struct member *m = &r->reg.members[i];
		/* This node, under the key it started with or one set since by wg set. */
		if (m->is_self || !memcmp(m->public_key, dev->identity.public_key, WG_KEY_LEN))
			continue;
		struct peer **found =
		    np ? bsearch(m->public_key, byp, np, sizeof(*byp), cmp_key_peer) : NULL;
		struct peer *p = found ? *found : NULL;
		if (p && !p->from_registry)
			continue; /* a static [Peer] keeps its own configuration */
		if (p) {
			snprintf(p->member, sizeof(p->member), "%s", m->name);
			if (set_cands(p, r->eps + r->ep_first[i], r->neps[i]))
				d->changed++;
			continue;
		}
		p = device_add_peer(dev, m->public_key, NULL,
				    r->neps[i] ? r->eps + r->ep_first[i] : NULL, 0);
		if (!p) {
			log_error("registry: member %s: cannot add a peer", m->name);
			continue;
		}
		p->from_registry = true;
		snprintf(p->member, sizeof(p->member), "%s", m->name);
		set_cands(p, r->eps + r->ep_first[i], r->neps[i]);
		d->added++;
	}
	free(byp);
	free(byk);
	mesh_choose_peers(dev);
}

/*
 * A commit whose files were checked: its problems are logged, the first time
 * that commit is seen, and kept for get=registry in place of the last ones.
 */
static void take_problems(struct registry_sync *s, struct sync_result *r)
{
	if (!r->checked)
		return;
	if (strcmp(r->commit, s->problems_commit))
		for (size_t i = 0; i < r->reg.nproblems; i++)
			log_warn(
			    "registry: %s: %s%s", r->reg.problems[i].file,
			    r->reg.problems[i].warning ? "" : "rejected: ", r->reg.problems[i].why);
	free(s->problems);
	s->problems = r->reg.problems;
	s->nproblems = r->reg.nproblems;
	s->problems_rejected = r->reg.nrejected;
	r->reg.problems = NULL;
	r->reg.nproblems = r->reg.problems_cap = 0;
	snprintf(s->problems_commit, sizeof(s->problems_commit), "%s", r->commit);
	s->problems_applied = r->ok;
}

/* One result: applied if it is a commit, recorded (and freed) if a failure. */
static bool collect_one(struct registry_sync *s, struct sync_result *r)
{
	struct diff d = {0};

	/* The cached commit is no attempt: it says when the last success was. */
	if (!r->from_cache)
		s->last_attempt = r->when;
	take_problems(s, r);
	if (!r->ok) {
		snprintf(s->last_error, sizeof(s->last_error), "%s", r->error);
		snprintf(s->summary, sizeof(s->summary), "sync failed: %s (keeping %s)", r->error,
			 s->applied[0] ? "the applied commit" : "no members");
		log_warn("registry: %s", s->summary);
		result_free(r);
		return false;
	}
	bool new_commit = strcmp(r->commit, s->applied) != 0;
	if (r->forced)
		log_warn("registry: %s was force-pushed to %.12s, not a descendant of %.12s: "
			 "applied anyway",
			 s->branch, r->commit, s->applied);
	uint64_t start = now_mono();
	apply(s, r, &d);
	uint64_t apply_ns = now_mono() - start;
	snprintf(s->applied, sizeof(s->applied), "%s", r->commit);
	s->applied_when = r->when;
	if (!r->from_cache) {
		s->last_success = r->when;
		s->last_error[0] = '\0';
	} else if (!s->last_success) {
		s->last_success = r->when;
	}
	snprintf(s->summary, sizeof(s->summary),
		 "applied %.12s%s: %zu members, %zu files rejected; %zu added, %zu removed, "
		 "%zu changed (read and checked in %llu ms, applied in %llu ms)",
		 r->commit, r->from_cache ? " (cached)" : "", r->reg.nmembers, r->reg.nrejected,
		 d.added, d.removed, d.changed, (unsigned long long)(r->read_ns / NSEC_PER_MSEC),
		 (unsigned long long)(apply_ns / NSEC_PER_MSEC));
	if (new_commit || d.added || d.removed || d.changed)
		log_info("registry: %s", s->summary);
	result_free(s->current);
	s->current = r;
	return true;
}

bool registry_sync_collect(struct registry_sync *s, const char **summary, bool *ok, uint64_t *gen)
{
	uint64_t v;
	struct sync_result *r, *failed;

	while (read(s->event_fd, &v, sizeof(v)) > 0)
		;
	pthread_mutex_lock(&s->lock);
	r = s->ready;
	failed = s->ready_failed;
	s->ready = s->ready_failed = NULL;
	pthread_mutex_unlock(&s->lock);
	if (!r && !failed)
		return false;
	*summary = s->summary;
	/* The failure came after the commit: its outcome is the newest. */
	*gen = failed ? failed->gen : r->gen;
	if (r)
		*ok = collect_one(s, r);
	if (failed)
		*ok = collect_one(s, failed);
	return true;
}

/* ---- get=registry, get=members ---- */

static bool has_session(struct peer *p)
{
	pthread_mutex_lock(&p->lock);
	bool up = p->keypairs.current != NULL;
	pthread_mutex_unlock(&p->lock);
	return up;
}

static void describe_members(struct registry_sync *s, struct textbuf *t)
{
	const struct sync_result *r = s->current;
	char b64[WG_KEY_B64_LEN + 1], addr[INET6_ADDRSTRLEN];

	for (size_t i = 0; r && i < r->reg.nmembers; i++) {
		const struct member *m = &r->reg.members[i];
		struct peer *p = m->is_self ? NULL : device_find_peer(s->dev, m->public_key);
		key_to_base64(b64, m->public_key);
		inet_ntop(AF_INET6, &m->addr, addr, sizeof(addr));
		textbuf_printf(t, "member=%s\npublic_key=%s\naddress=%s\n", m->name, b64, addr);
		for (size_t j = 0; j < m->nendpoints; j++)
			textbuf_printf(t, "endpoint=%s\n", member_endpoint(&r->reg, m, j));
		textbuf_printf(t, "session=%s\n",
			       m->is_self	     ? "self"
			       : p && has_session(p) ? "up"
						     : "down");
	}
}

const char *registry_sync_self_name(const struct registry_sync *s)
{
	const struct sync_result *r = s ? s->current : NULL;

	for (size_t i = 0; r && i < r->reg.nmembers; i++)
		if (r->reg.members[i].is_self)
			return r->reg.members[i].name;
	return NULL;
}

int registry_sync_describe(struct registry_sync *s, bool members, char **out, size_t *len)
{
	struct textbuf t = {0};

	if (members) {
		describe_members(s, &t);
	} else {
		textbuf_printf(&t, "url=%s\nbranch=%s\n", s->url, s->branch);
		textbuf_printf(&t, "commit=%s\napplied_time=%llu\n",
			       s->applied[0] ? s->applied : "(none)",
			       (unsigned long long)s->applied_when);
		textbuf_printf(&t, "last_attempt=%llu\nlast_success=%llu\n",
			       (unsigned long long)s->last_attempt,
			       (unsigned long long)s->last_success);
		textbuf_printf(&t, "last_error=%s\n", s->last_error[0] ? s->last_error : "(none)");
		const struct sync_result *r = s->current;
		textbuf_printf(&t, "accepted=%zu\nrejected=%zu\n", r ? r->reg.nmembers : 0,
			       r ? r->reg.nrejected : 0);
		/* The problems that follow are those of this commit, which may not be the applied
		 * one. */
		if (!s->problems_commit[0])
			textbuf_printf(&t, "problems_commit=(none)\n");
		else if (s->problems_applied)
			textbuf_printf(&t, "problems_commit=%s (applied)\n", s->problems_commit);
		else
			textbuf_printf(&t,
				       "problems_commit=%s (refused, not applied: %zu files "
				       "rejected)\n",
				       s->problems_commit, s->problems_rejected);
		for (size_t i = 0; i < s->nproblems; i++)
			textbuf_printf(&t, "problem=%s: %s%s\n", s->problems[i].file,
				       s->problems[i].warning ? "warning: " : "",
				       s->problems[i].why);
	}
	textbuf_printf(&t, "errno=0\n\n");
	if (t.failed) {
		textbuf_free(&t);
		return -ENOMEM;
	}
	*out = t.buf;
	*len = t.len;
	return 0;
}
