// SPDX-License-Identifier: ISC
/* Following the registry, the applying half (see registry.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/control/registry.h"
#include "daemon/base/clock.h"
#include "daemon/base/log.h"
#include "daemon/base/textbuf.h"
#include "daemon/config/config.h"
#include "daemon/control/mesh.h"
#include "daemon/core/peer.h"
#include "daemon/platform/udp.h"
#include "peers-repo-sync/diff.h"
#include "peers-repo-sync/fetcher.h"
#include "wgproto/encoding.h"

struct registry_sync {
	struct device *dev;
	struct fetcher *fetcher;
	char url[1024], branch[256]; /* for get=registry and the log */

	/* Control thread. */
	char applied[GIT_OID_HEX_LEN + 1];
	uint64_t applied_when, last_attempt, last_success;
	char last_error[FETCH_ERR_MAX];
	struct fetch_result *current;
	char summary[FETCH_ERR_MAX + 128];
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

/* Numeric endpoints at once, names through the resolver (on the fetcher's thread). */
static bool resolve_endpoint(const char *endpoint, struct sockaddr_in6 *out, const char **why)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (!config_parse_endpoint(endpoint, &ss, &len, why))
		return false;
	udp_to_v6(&ss, out);
	return true;
}

struct registry_sync *registry_sync_new(struct device *dev, const struct config *cfg)
{
	struct registry_sync *s = calloc(1, sizeof(*s));
	struct fetch_params p = {
	    .url = cfg->registry_url,
	    .branch = cfg->registry_branch,
	    .cache_dir = cfg->registry_cache_dir,
	    .ca_file = cfg->registry_ca_file,
	    .interval_ns = (uint64_t)cfg->registry_interval * NSEC_PER_SEC,
	    .fetch_timeout = cfg->registry_fetch_timeout,
	    .allow_empty = cfg->registry_allow_empty,
	    .require_ff = cfg->registry_require_ff,
	    .max_members = cfg->registry_max_members,
	    .resolve = resolve_endpoint,
	};

	if (!s)
		return NULL;
	memcpy(p.own, dev->identity.public_key, WG_KEY_LEN);
	if (!(s->fetcher = fetcher_new(&p))) {
		free(s);
		return NULL;
	}
	s->dev = dev;
	snprintf(s->url, sizeof(s->url), "%s", cfg->registry_url);
	snprintf(s->branch, sizeof(s->branch), "%s", cfg->registry_branch);
	return s;
}

int registry_sync_start(struct registry_sync *s)
{
	return fetcher_start(s->fetcher);
}

void registry_sync_free(struct registry_sync *s)
{
	if (!s)
		return;
	fetcher_free(s->fetcher);
	fetch_result_free(s->current);
	free(s->problems);
	free(s);
}

int registry_sync_fd(const struct registry_sync *s)
{
	return fetcher_fd(s->fetcher);
}

uint64_t registry_sync_trigger(struct registry_sync *s)
{
	return fetcher_trigger(s->fetcher);
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

/*
 * Which peers' keys are members of set, static peers included: they alone
 * may speak routing with us; and which stock devices' Via lines name us. Each flag is written once,
 * with its new value, so that the receive thread never sees a member that stays one flicker. Out of
 * memory, the flags stay as they were.
 */
static void mark_members(struct device *dev, const struct member_set *set)
{
	bool *member = calloc(dev->npeers ? dev->npeers : 1, sizeof(*member));

	if (!member) {
		log_error("registry: out of memory marking the members");
		return;
	}
	const char *self = NULL;
	for (size_t i = 0; i < set->nmembers; i++)
		if (set->members[i].is_self)
			self = set->members[i].name;
	for (size_t i = 0; i < dev->npeers; i++) {
		struct peer *p = dev->peers[i];
		p->has_via = p->via_us = false;
		pthread_mutex_lock(&p->lock);
		p->nvia_addr = 0;
		pthread_mutex_unlock(&p->lock);
	}
	for (size_t i = 0; i < set->nmembers; i++) {
		const struct member *m = &set->members[i];
		struct peer *p = device_find_peer(dev, m->public_key);
		if (!p)
			continue;
		member[p->index] = true;
		p->has_via = m->nvia > 0;
		p->via_us = self && member_via_names(set, m, self);
		pthread_mutex_lock(&p->lock);
		p->nvia_addr = (uint8_t)member_via_addrs(
		    set, m, p->via_addr, sizeof(p->via_addr) / sizeof(p->via_addr[0]));
		pthread_mutex_unlock(&p->lock);
	}
	for (size_t i = 0; i < dev->npeers; i++) {
		struct peer *p = dev->peers[i];
		atomic_store(&p->is_member, member[i]);
		atomic_store(&p->remote_device, p->has_via && !p->via_us);
		peer_update_carry(p);
	}
	free(member);
}

static void apply(struct registry_sync *s, struct fetch_result *r, struct diff *d)
{
	struct device *dev = s->dev;
	size_t n = r->set.nmembers, np = dev->npeers;
	struct diff_peer *view = malloc((np ? np : 1) * sizeof(*view));
	struct peer **peers = malloc((np ? np : 1) * sizeof(*peers));
	struct member_diff md = {0};

	if (!view || !peers)
		goto oom;
	/* The peers as they are now: the removals below reorder dev->peers. */
	for (size_t i = 0; i < np; i++) {
		peers[i] = dev->peers[i];
		view[i] =
		    (struct diff_peer){peers[i]->handshake.remote_static, peers[i]->from_registry};
	}
	if (member_diff(&r->set, dev->identity.public_key, view, np, &md) < 0)
		goto oom;

	/* Gone from the registry: disconnected, keys wiped, no handshake any more. */
	for (size_t i = 0; i < md.nremove; i++) {
		struct peer *p = peers[md.remove[i]];
		log_info("registry: member %s removed: disconnected", p->member);
		device_remove_peer(dev, p);
		d->removed++;
	}
	for (size_t i = 0; i < n; i++) {
		const struct member *m = &r->set.members[i];
		struct peer *p;
		if (md.action[i] == DIFF_UPDATE) {
			p = peers[md.peer[i]];
			snprintf(p->member, sizeof(p->member), "%s", m->name);
			if (set_cands(p, r->eps + r->ep_first[i], r->neps[i]))
				d->changed++;
			continue;
		}
		if (md.action[i] != DIFF_ADD)
			continue;
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
	member_diff_free(&md);
	free(view);
	free(peers);
	mark_members(dev, &r->set);
	mesh_choose_peers(dev);
	return;
oom:
	member_diff_free(&md);
	free(view);
	free(peers);
	log_error("registry: out of memory applying %.12s", r->commit);
}

/*
 * A commit whose files were checked: its problems are logged, the first time
 * that commit is seen, and kept for get=registry in place of the last ones.
 */
static void take_problems(struct registry_sync *s, struct fetch_result *r)
{
	if (!r->checked)
		return;
	if (strcmp(r->commit, s->problems_commit))
		for (size_t i = 0; i < r->set.nproblems; i++)
			log_warn(
			    "registry: %s: %s%s", r->set.problems[i].file,
			    r->set.problems[i].warning ? "" : "rejected: ", r->set.problems[i].why);
	free(s->problems);
	s->problems = r->set.problems;
	s->nproblems = r->set.nproblems;
	s->problems_rejected = r->set.nrejected;
	r->set.problems = NULL;
	r->set.nproblems = r->set.problems_cap = 0;
	snprintf(s->problems_commit, sizeof(s->problems_commit), "%s", r->commit);
	s->problems_applied = r->ok;
}

/* One result: applied if it is a commit, recorded (and freed) if a failure. */
static bool collect_one(struct registry_sync *s, struct fetch_result *r)
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
		fetch_result_free(r);
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
		 r->commit, r->from_cache ? " (cached)" : "", r->set.nmembers, r->set.nrejected,
		 d.added, d.removed, d.changed, (unsigned long long)(r->read_ns / NSEC_PER_MSEC),
		 (unsigned long long)(apply_ns / NSEC_PER_MSEC));
	if (new_commit || d.added || d.removed || d.changed)
		log_info("registry: %s", s->summary);
	fetch_result_free(s->current);
	s->current = r;
	/* For the mesh's get=routes, which names our own route by it. */
	s->dev->self_name[0] = '\0';
	for (size_t i = 0; i < r->set.nmembers; i++)
		if (r->set.members[i].is_self)
			snprintf(s->dev->self_name, sizeof(s->dev->self_name), "%s",
				 r->set.members[i].name);
	return true;
}

bool registry_sync_collect(struct registry_sync *s, const char **summary, bool *ok, uint64_t *gen)
{
	struct fetch_result *r, *failed;

	fetcher_take(s->fetcher, &r, &failed);
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

/*
 * How packets to member m go: "self"; "direct HOST:PORT" over its own
 * session; "via NAME" (or the neighbour's key) when its session's path is
 * relayed by that member first (or a device's goes through that member);
 * "none".
 */
static void describe_path(const struct member *m, struct peer *p, bool session, struct textbuf *t)
{
	if (m->is_self) {
		textbuf_printf(t, "path=self\n");
		return;
	}
	/* The session our packets to it go in, as the data path chooses it. */
	struct peer *to = p ? device_session_for(p->dev, &p->addr) : NULL;
	struct peer *hop = to ? peer_path(to, now_mono()) : NULL;
	if (hop == p && session) {
		char ep[64] = "";
		struct sockaddr_in6 e = peer_endpoint(p);
		if (e.sin6_family == AF_INET6)
			udp_format(&e, ep, sizeof(ep));
		textbuf_printf(t, "path=direct%s%s\n", ep[0] ? " " : "", ep);
		return;
	}
	if (!hop || hop == p) {
		textbuf_printf(t, "path=none\n");
		return;
	}
	char name[WG_KEY_B64_LEN + 1];
	peer_name(hop, name);
	textbuf_printf(t, "path=via %s\n", hop->member[0] ? hop->member : name);
}

static void describe_members(struct registry_sync *s, struct textbuf *t)
{
	const struct fetch_result *r = s->current;
	char b64[WG_KEY_B64_LEN + 1], addr[INET6_ADDRSTRLEN];

	for (size_t i = 0; r && i < r->set.nmembers; i++) {
		const struct member *m = &r->set.members[i];
		struct peer *p = m->is_self ? NULL : device_find_peer(s->dev, m->public_key);
		key_to_base64(b64, m->public_key);
		inet_ntop(AF_INET6, &m->addr, addr, sizeof(addr));
		textbuf_printf(t, "member=%s\npublic_key=%s\naddress=%s\n", m->name, b64, addr);
		for (size_t j = 0; j < m->nendpoints; j++)
			textbuf_printf(t, "endpoint=%s\n", member_endpoint(&r->set, m, j));
		bool session = p && has_session(p);
		textbuf_printf(t, "session=%s\n", m->is_self ? "self" : session ? "up" : "down");
		describe_path(m, p, session, t);
	}
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
		const struct fetch_result *r = s->current;
		textbuf_printf(&t, "accepted=%zu\nrejected=%zu\n", r ? r->set.nmembers : 0,
			       r ? r->set.nrejected : 0);
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
	return textbuf_answer(&t, out, len);
}
