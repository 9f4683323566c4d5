// SPDX-License-Identifier: ISC
/* Fetching the registry on a worker thread (fetcher.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
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

#include "peers-repo-sync/fetcher.h"
#include "daemon/base/clock.h"
#include "daemon/base/log.h"
#include "peers-repo-sync/escape.h"

struct fetcher {
	char url[1024], branch[256], cache_dir[1024], ca_file[1024];
	uint64_t interval_ns;
	unsigned fetch_timeout; /* seconds */
	bool allow_empty, require_ff;
	uint32_t max_members;
	uint8_t own[WG_KEY_LEN];
	fetch_resolve_fn *resolve;

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
	struct fetch_result *ready, *ready_failed;
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
};

static uint64_t wall_secs(void)
{
	return now_wall() / NSEC_PER_SEC;
}

void fetch_result_free(struct fetch_result *r)
{
	if (!r)
		return;
	member_set_free(&r->set);
	free(r->eps);
	free(r->ep_first);
	free(r->neps);
	free(r);
}

static bool fail(struct fetch_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * The reason a sync failed; it may quote a git server's own words, so it is
 * escaped before it reaches the log, last_error= or alamesh sync's result=.
 */
static bool fail(struct fetch_result *r, const char *fmt, ...)
{
	char raw[FETCH_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	escape_text(r->error, sizeof(r->error), raw, strlen(raw));
	r->ok = false;
	return false;
}

/*
 * CacheDir/last-good: the commit and, on the second line, when it was
 * applied. A file from before the time was kept gives its own mtime instead.
 */
static bool read_last_good(struct fetcher *s, char commit[GIT_OID_HEX_LEN + 1], uint64_t *when)
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
static void write_last_good(struct fetcher *s, const char *commit, uint64_t when)
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
static void resolve(struct fetcher *s, struct fetch_result *r)
{
	uint32_t next = 0;

	for (size_t i = 0; i < r->set.nmembers; i++) {
		const struct member *m = &r->set.members[i];
		r->ep_first[i] = next;
		for (size_t j = 0; j < m->nendpoints; j++) {
			const char *ep = member_endpoint(&r->set, m, j);
			const char *why = NULL;
			if (!s->resolve(ep, &r->eps[next], &why)) {
				log_warn("registry: member %s: endpoint %s: %s", m->name, ep,
					 why ? why : "cannot resolve");
				continue;
			}
			next++;
			r->neps[i]++;
		}
	}
}

/* Reads commit into r: members checked, endpoints resolved. */
static bool build(struct fetcher *s, struct fetch_result *r, const char *commit)
{
	char err[GITFETCH_ERR_MAX];
	uint64_t start = now_mono();

	snprintf(r->commit, sizeof(r->commit), "%s", commit);
	member_set_init(&r->set, s->max_members);
	int rc = gitfetch_read(s->git, commit, &r->set, err, sizeof(err));
	/*
	 * Deleting the last member file deletes members/ itself (git keeps no
	 * empty directory): with AllowEmpty, that is a registry without members.
	 */
	if (rc == GITFETCH_NO_MEMBERS && s->allow_empty)
		log_info("registry: %s: read as no member (AllowEmpty = yes)", err);
	else if (rc < 0)
		return fail(r, "%s", err);
	member_set_finish(&r->set, s->own);
	r->checked = true;
	if (!r->set.nmembers && !s->allow_empty)
		return fail(r,
			    "commit %.12s has no valid member (%zu files rejected): keeping the "
			    "current members (AllowEmpty = no)",
			    commit, r->set.nrejected);
	size_t n = r->set.nmembers ? r->set.nmembers : 1, neps = 1;
	for (size_t i = 0; i < r->set.nmembers; i++)
		neps += r->set.members[i].nendpoints;
	r->eps = calloc(neps, sizeof(*r->eps));
	r->ep_first = calloc(n, sizeof(*r->ep_first));
	r->neps = calloc(n, 1);
	if (!r->eps || !r->ep_first || !r->neps)
		return fail(r, "out of memory");
	resolve(s, r);
	r->read_ns = now_mono() - start;
	r->ok = true;
	return true;
}

static bool ensure_git(struct fetcher *s, struct fetch_result *r)
{
	char err[GITFETCH_ERR_MAX];

	if (!s->git && !(s->git = gitfetch_open(s->cache_dir, s->ca_file, err, sizeof(err))))
		return fail(r, "cache: %s", err);
	return true;
}

static struct fetch_result *sync_cached(struct fetcher *s)
{
	char commit[GIT_OID_HEX_LEN + 1];
	struct fetch_result *r;
	uint64_t when;

	if (!read_last_good(s, commit, &when) || !(r = calloc(1, sizeof(*r))))
		return NULL;
	r->when = when; /* when it was applied, before the restart */
	r->from_cache = true;
	if (ensure_git(s, r) && build(s, r, commit))
		memcpy(s->base, commit, sizeof(s->base));
	return r;
}

static struct fetch_result *sync_remote(struct fetcher *s)
{
	char commit[GIT_OID_HEX_LEN + 1], err[GITFETCH_ERR_MAX];
	const char *base = s->base;
	struct fetch_result *r = calloc(1, sizeof(*r));

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

static void post(struct fetcher *s, struct fetch_result *r)
{
	uint64_t one = 1;

	if (!r)
		return;
	pthread_mutex_lock(&s->lock);
	/* Not collected yet: the newer one wins, except over a commit to apply. */
	fetch_result_free(s->ready_failed);
	s->ready_failed = NULL;
	if (r->ok) {
		fetch_result_free(s->ready);
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
static struct timespec next_deadline(const struct fetcher *s)
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
	struct fetcher *s = arg;

	/* What was applied before: at once, with no network. */
	post(s, sync_cached(s));
	for (;;) {
		/* The requests this sync answers: those made before it starts. */
		pthread_mutex_lock(&s->lock);
		uint64_t gen = s->requested;
		s->want = false;
		pthread_mutex_unlock(&s->lock);
		struct fetch_result *r = sync_remote(s);
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

struct fetcher *fetcher_new(const struct fetch_params *p)
{
	struct fetcher *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;

	if (!s)
		return NULL;
	s->lock_fd = -1;
	snprintf(s->url, sizeof(s->url), "%s", p->url);
	snprintf(s->branch, sizeof(s->branch), "%s", p->branch);
	snprintf(s->cache_dir, sizeof(s->cache_dir), "%s", p->cache_dir);
	snprintf(s->ca_file, sizeof(s->ca_file), "%s", p->ca_file);
	s->interval_ns = p->interval_ns;
	s->fetch_timeout = p->fetch_timeout;
	s->allow_empty = p->allow_empty;
	s->require_ff = p->require_ff;
	s->max_members = p->max_members;
	memcpy(s->own, p->own, WG_KEY_LEN);
	s->resolve = p->resolve;
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

int fetcher_start(struct fetcher *s)
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

void fetcher_free(struct fetcher *s)
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
	fetch_result_free(s->ready);
	fetch_result_free(s->ready_failed);
	close(s->event_fd);
	close(s->stop_fd);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int fetcher_fd(const struct fetcher *s)
{
	return s->event_fd;
}

uint64_t fetcher_trigger(struct fetcher *s)
{
	pthread_mutex_lock(&s->lock);
	uint64_t gen = ++s->requested;
	s->want = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	return gen;
}

void fetcher_take(struct fetcher *s, struct fetch_result **ok, struct fetch_result **failed)
{
	uint64_t v;

	while (read(s->event_fd, &v, sizeof(v)) > 0)
		;
	pthread_mutex_lock(&s->lock);
	*ok = s->ready;
	*failed = s->ready_failed;
	s->ready = s->ready_failed = NULL;
	pthread_mutex_unlock(&s->lock);
}
