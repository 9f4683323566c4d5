// SPDX-License-Identifier: ISC
/*
 * What alamesh show prints of a device, in wg(8)'s layouts (see
 * show_print.h); apart from the socket so that the fuzzer can feed it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/cli/format.h"
#include "daemon/cli/show_print.h"
#include "daemon/cli/subcommands.h"
#include "daemon/cli/terminal.h"
#include "wgproto/encoding.h"

/* A daemon's line, with control characters (a terminal's escapes) made harmless. */
static void print_clean(const char *s)
{
	for (; *s; s++)
		putchar((unsigned char)*s < 0x20 && *s != '\t' ? '?' : *s);
}

static const char *key(const uint8_t k[WG_KEY_LEN])
{
	static char buf[WG_KEY_B64_LEN + 1];

	key_to_base64(buf, k);
	return buf;
}

/* A secret, or "(none)"; "(hidden)" in the pretty form unless asked not to. */
static const char *maybe_key(const uint8_t k[WG_KEY_LEN], bool have)
{
	return have ? key(k) : "(none)";
}

static const char *masked_key(const uint8_t k[WG_KEY_LEN])
{
	const char *v = getenv("ALAMESH_HIDE_KEYS");

	if (!v)
		v = getenv("WG_HIDE_KEYS");
	return v && !strcmp(v, "never") ? key(k) : "(hidden)";
}

static const char *ago(uint64_t sec)
{
	static char buf[512];

	format_ago(buf, sizeof(buf), sec, (uint64_t)time(NULL));
	return buf;
}

static const char *every(uint16_t secs)
{
	static char buf[256];

	format_every(buf, sizeof(buf), secs);
	return buf;
}

static const char *bytes(uint64_t b)
{
	static char buf[64];

	format_bytes(buf, sizeof(buf), b);
	return buf;
}

static bool handshake_before(const struct uapi_peer_info *a, const struct uapi_peer_info *b)
{
	if (a->last_handshake_sec != b->last_handshake_sec)
		return a->last_handshake_sec < b->last_handshake_sec;
	return a->last_handshake_nsec < b->last_handshake_nsec;
}

/* Most recent handshake first, as wg lists them; stable, so ties keep the daemon's order. */
static void sort_peers(struct uapi_device_info *dev)
{
	for (size_t i = 1; i < dev->npeers; i++) {
		struct uapi_peer_info p = dev->peers[i];
		size_t j = i;
		for (; j > 0 && handshake_before(&dev->peers[j - 1], &p); j--)
			dev->peers[j] = dev->peers[j - 1];
		dev->peers[j] = p;
	}
}

static void pretty_peer(const struct uapi_peer_info *p)
{
	terminal_printf(TERM_YELLOW TERM_BOLD "peer" TERM_RESET ": " TERM_YELLOW "%s" TERM_RESET
					      "\n",
			key(p->public_key));
	if (p->has_preshared_key)
		terminal_printf("  " TERM_BOLD "preshared key" TERM_RESET ": %s\n",
				masked_key(p->preshared_key));
	if (p->endpoint[0])
		terminal_printf("  " TERM_BOLD "endpoint" TERM_RESET ": %s\n", p->endpoint);
	terminal_printf("  " TERM_BOLD "allowed ips" TERM_RESET ": ");
	for (size_t i = 0; i < p->nallowed; i++) {
		const char *slash = strchr(p->allowed_ips[i], '/');
		int alen =
		    slash ? (int)(slash - p->allowed_ips[i]) : (int)strlen(p->allowed_ips[i]);
		terminal_printf("%.*s" TERM_CYAN "/" TERM_RESET "%s%s", alen, p->allowed_ips[i],
				slash ? slash + 1 : "", i + 1 < p->nallowed ? ", " : "\n");
	}
	if (!p->nallowed)
		terminal_printf("(none)\n");
	if (p->last_handshake_sec)
		terminal_printf("  " TERM_BOLD "latest handshake" TERM_RESET ": %s\n",
				ago(p->last_handshake_sec));
	if (p->rx_bytes || p->tx_bytes) {
		terminal_printf("  " TERM_BOLD "transfer" TERM_RESET ": %s received, ",
				bytes(p->rx_bytes));
		terminal_printf("%s sent\n", bytes(p->tx_bytes));
	}
	if (p->persistent_keepalive)
		terminal_printf("  " TERM_BOLD "persistent keepalive" TERM_RESET ": %s\n",
				every(p->persistent_keepalive));
}

void show_pretty(struct uapi_device_info *dev)
{
	terminal_printf(TERM_RESET); /* as wg: whatever the terminal was left in */
	terminal_printf(TERM_GREEN TERM_BOLD "interface" TERM_RESET ": " TERM_GREEN "%s" TERM_RESET
					     "\n",
			dev->name);
	if (dev->has_private_key) {
		terminal_printf("  " TERM_BOLD "public key" TERM_RESET ": %s\n",
				key(dev->public_key));
		terminal_printf("  " TERM_BOLD "private key" TERM_RESET ": %s\n",
				masked_key(dev->private_key));
	}
	if (dev->listen_port)
		terminal_printf("  " TERM_BOLD "listening port" TERM_RESET ": %u\n",
				dev->listen_port);
	if (dev->fwmark)
		terminal_printf("  " TERM_BOLD "fwmark" TERM_RESET ": 0x%x\n", dev->fwmark);
	if (dev->npeers) {
		sort_peers(dev);
		terminal_printf("\n");
	}
	for (size_t i = 0; i < dev->npeers; i++) {
		pretty_peer(&dev->peers[i]);
		if (i + 1 < dev->npeers)
			terminal_printf("\n");
	}
}

static void prefix(const struct uapi_device_info *dev, bool with_interface)
{
	if (with_interface)
		printf("%s\t", dev->name);
}

static void dump_print(const struct uapi_device_info *dev, bool with_interface)
{
	prefix(dev, with_interface);
	printf("%s\t", maybe_key(dev->private_key, dev->has_private_key));
	printf("%s\t%u\t", maybe_key(dev->public_key, dev->has_private_key), dev->listen_port);
	if (dev->fwmark)
		printf("0x%x\n", dev->fwmark);
	else
		printf("off\n");
	for (size_t i = 0; i < dev->npeers; i++) {
		const struct uapi_peer_info *p = &dev->peers[i];
		prefix(dev, with_interface);
		printf("%s\t", key(p->public_key));
		printf("%s\t", maybe_key(p->preshared_key, p->has_preshared_key));
		printf("%s\t", p->endpoint[0] ? p->endpoint : "(none)");
		for (size_t j = 0; j < p->nallowed; j++)
			printf("%s%c", p->allowed_ips[j], j + 1 < p->nallowed ? ',' : '\t');
		if (!p->nallowed)
			printf("(none)\t");
		printf("%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t", p->last_handshake_sec,
		       p->rx_bytes, p->tx_bytes);
		if (p->persistent_keepalive)
			printf("%u\n", p->persistent_keepalive);
		else
			printf("off\n");
	}
}

/*
 * One line per peer: its key, a tab, then what field prints. With several
 * interfaces each line starts with the interface's name, except for
 * endpoints: wg(8) writes that name once, before the first peer's line (and
 * alone, without a newline, for an interface without peers). The same
 * bytes here, for the scripts written against wg.
 */
static void per_peer(const struct uapi_device_info *dev, bool with_interface, const char *field)
{
	bool name_once = !strcmp(field, "endpoints");

	if (name_once)
		prefix(dev, with_interface);
	for (size_t i = 0; i < dev->npeers; i++) {
		const struct uapi_peer_info *p = &dev->peers[i];
		if (!name_once)
			prefix(dev, with_interface);
		if (!strcmp(field, "peers")) {
			printf("%s\n", key(p->public_key));
			continue;
		}
		printf("%s\t", key(p->public_key));
		if (!strcmp(field, "preshared-keys")) {
			printf("%s\n", maybe_key(p->preshared_key, p->has_preshared_key));
		} else if (!strcmp(field, "endpoints")) {
			printf("%s\n", p->endpoint[0] ? p->endpoint : "(none)");
		} else if (!strcmp(field, "allowed-ips")) {
			for (size_t j = 0; j < p->nallowed; j++)
				printf("%s%c", p->allowed_ips[j], j + 1 < p->nallowed ? ' ' : '\n');
			if (!p->nallowed)
				printf("(none)\n");
		} else if (!strcmp(field, "latest-handshakes")) {
			printf("%" PRIu64 "\n", p->last_handshake_sec);
		} else if (!strcmp(field, "transfer")) {
			printf("%" PRIu64 "\t%" PRIu64 "\n", p->rx_bytes, p->tx_bytes);
		} else if (!strcmp(field, "persistent-keepalive")) {
			if (p->persistent_keepalive)
				printf("%u\n", p->persistent_keepalive);
			else
				printf("off\n");
		}
	}
}

static bool is_peer_field(const char *f)
{
	static const char *const fields[] = {
	    "peers",	"preshared-keys",      "endpoints", "allowed-ips", "latest-handshakes",
	    "transfer", "persistent-keepalive"};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!strcmp(f, fields[i]))
			return true;
	return false;
}

bool show_is_view(const char *f)
{
	return !strcmp(f, "routes") || !strcmp(f, "members") || !strcmp(f, "registry") ||
	       !strcmp(f, "stats") || !strcmp(f, "nat");
}

bool show_valid_field(const char *f)
{
	return !strcmp(f, "public-key") || !strcmp(f, "private-key") || !strcmp(f, "listen-port") ||
	       !strcmp(f, "fwmark") || !strcmp(f, "dump") || is_peer_field(f) || show_is_view(f);
}

void show_field(const struct uapi_device_info *dev, const char *field, bool with_interface)
{
	if (!strcmp(field, "public-key") || !strcmp(field, "private-key")) {
		bool pub = field[1] == 'u';
		prefix(dev, with_interface);
		printf("%s\n",
		       maybe_key(pub ? dev->public_key : dev->private_key, dev->has_private_key));
	} else if (!strcmp(field, "listen-port")) {
		prefix(dev, with_interface);
		printf("%u\n", dev->listen_port);
	} else if (!strcmp(field, "fwmark")) {
		prefix(dev, with_interface);
		if (dev->fwmark)
			printf("0x%x\n", dev->fwmark);
		else
			printf("off\n");
	} else if (!strcmp(field, "dump")) {
		dump_print(dev, with_interface);
	} else {
		per_peer(dev, with_interface, field);
	}
}

/* The daemon's errno= line of an answer of alamesh's own queries, or -1. */
static int answer_errno(const char *reply, size_t len)
{
	const char *p = len >= 2 ? reply + len - 2 : reply;

	while (p > reply && p[-1] != '\n')
		p--;
	if (strncmp(p, "errno=", 6))
		return -1;
	return atoi(p + 6);
}

/* One tab-separated line of a dump form, after the interface's name under `all`. */
static void print_row(const char *ifname, bool with_interface, const char *const *cols, size_t n)
{
	if (with_interface)
		printf("%s\t", ifname);
	for (size_t i = 0; i < n; i++) {
		print_clean(cols[i]);
		putchar(i + 1 < n ? '\t' : '\n');
	}
}

/*
 * get=members: one line per member, tab-separated, like the dump forms; with
 * `all` the interface first, as wg's field forms have it, so that a script
 * reading several interfaces' members can tell them apart.
 */
static void print_members(const char *ifname, char *text, bool with_interface)
{
	char *save = NULL, eps[1024] = "";
	const char *name = NULL, *key = "", *addr = "", *session = "", *path = "";

	for (char *l = strtok_r(text, "\n", &save);; l = strtok_r(NULL, "\n", &save)) {
		bool last = !l || !strncmp(l, "errno=", 6);
		if (name && (last || !strncmp(l, "member=", 7))) {
			const char *cols[] = {name,    key,
					      addr,    eps[0] ? eps : "(none)",
					      session, path[0] ? path : "(none)"};
			print_row(ifname, with_interface, cols, 6);
			eps[0] = '\0';
			session = path = ""; /* an older daemon's answer has no path */
		}
		if (last)
			break;
		char *v = strchr(l, '=');
		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(l, "member"))
			name = v;
		else if (!strcmp(l, "public_key"))
			key = v;
		else if (!strcmp(l, "address"))
			addr = v;
		else if (!strcmp(l, "session"))
			session = v;
		else if (!strcmp(l, "path"))
			path = v;
		else if (!strcmp(l, "endpoint"))
			snprintf(eps + strlen(eps), sizeof(eps) - strlen(eps), "%s%s",
				 eps[0] ? "," : "", v);
	}
}

/* One route of a get=routes answer. */
struct route_row {
	const char *dest, *member, *next_hop, *next_member, *metric, *seqno, *age;
};

static const char *or_none(const char *s)
{
	return s && *s ? s : "(none)";
}

/*
 * What a user reads as the next hop: the member it is, else its key cut
 * short the way wireguard-go's logs do (the dump form has it whole).
 */
static const char *next_hop_name(const struct route_row *r)
{
	static char shortkey[16];
	const char *k = or_none(r->next_hop);
	size_t n = strlen(k);

	if (!strcmp(k, "self"))
		return "(self)";
	if (!strcmp(k, "direct"))
		return "(direct)";
	if (r->next_member && *r->next_member)
		return r->next_member;
	if (n == WG_KEY_B64_LEN && k[n - 1] == '=')
		snprintf(shortkey, sizeof(shortkey), "%.4s\u2026%.4s", k, k + n - 5);
	else
		return k;
	return shortkey;
}

/* A copy of a daemon's string with control characters made harmless, for printf widths. */
static const char *clean(char *buf, size_t cap, const char *s)
{
	size_t i = 0;

	for (; s[i] && i + 1 < cap; i++)
		buf[i] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

static void print_route(const char *ifname, const struct route_row *r, bool dump,
			bool with_interface)
{
	char b[6][128];

	if (dump) {
		const char *cols[] = {r->dest,
				      or_none(r->member),
				      or_none(r->next_hop),
				      or_none(r->next_member),
				      or_none(r->metric),
				      or_none(r->seqno),
				      or_none(r->age)};
		print_row(ifname, with_interface, cols, 7);
		return;
	}
	terminal_printf(TERM_GREEN "%-39s" TERM_RESET "  %-16s  %-16s  %8s  %5s  %5ss\n",
			clean(b[0], sizeof(b[0]), r->dest),
			clean(b[1], sizeof(b[1]), or_none(r->member)),
			clean(b[2], sizeof(b[2]), next_hop_name(r)),
			clean(b[3], sizeof(b[3]), or_none(r->metric)),
			clean(b[4], sizeof(b[4]), or_none(r->seqno)),
			clean(b[5], sizeof(b[5]), or_none(r->age)));
}

/*
 * get=routes: with dump, one tab-separated line per route (destination,
 * member, next-hop key, next-hop member, metric, seqno, age in seconds);
 * else a table with a header, for people.
 */
static void print_routes(const char *ifname, char *text, bool dump, bool with_interface)
{
	char *save = NULL;
	struct route_row r = {0};
	bool header = false;

	for (char *l = strtok_r(text, "\n", &save);; l = strtok_r(NULL, "\n", &save)) {
		bool last = !l || !strncmp(l, "errno=", 6);
		if (r.dest && (last || !strncmp(l, "route=", 6))) {
			if (dump) {
				print_route(ifname, &r, true, with_interface);
			} else {
				if (!header) {
					if (with_interface)
						terminal_printf(TERM_BOLD "interface" TERM_RESET
									  ": " TERM_GREEN
									  "%s" TERM_RESET "\n",
								ifname);
					terminal_printf(
					    TERM_BOLD
					    "%-39s  %-16s  %-16s  %8s  %5s  %6s" TERM_RESET "\n",
					    "destination", "member", "next hop", "metric", "seqno",
					    "age");
					header = true;
				}
				print_route(ifname, &r, false, with_interface);
			}
			r = (struct route_row){0};
		}
		if (last)
			break;
		char *v = strchr(l, '=');
		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(l, "route"))
			r.dest = v;
		else if (!strcmp(l, "member"))
			r.member = v;
		else if (!strcmp(l, "next_hop"))
			r.next_hop = v;
		else if (!strcmp(l, "next_hop_member"))
			r.next_member = v;
		else if (!strcmp(l, "metric"))
			r.metric = v;
		else if (!strcmp(l, "seqno"))
			r.seqno = v;
		else if (!strcmp(l, "age"))
			r.age = v;
	}
}

int show_view_reply(const char *ifname, const char *view, bool dump, bool with_interface,
		    char *reply, size_t len)
{
	int e = len ? answer_errno(reply, len) : -1;

	if (e == 95) {
		printf("%s: %s: not configured\n", ifname, view);
		return 0;
	}
	if (e != 0) {
		fprintf(stderr, "%s: %s: %s: %s\n", prog_name, ifname, view,
			e < 0 ? "unreadable answer" : strerror(e));
		return 1;
	}
	reply[len - 1] = '\0';
	if (!strcmp(view, "members")) {
		print_members(ifname, reply, with_interface);
		return 0;
	}
	if (!strcmp(view, "routes")) {
		print_routes(ifname, reply, dump, with_interface);
		return 0;
	}
	/* get=registry and get=stats: "key: value" lines, each after the interface with `all`. */
	char *save = NULL;
	for (char *l = strtok_r(reply, "\n", &save); l && strncmp(l, "errno=", 6);
	     l = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(l, '=');
		if (v)
			*v++ = '\0';
		if (with_interface)
			printf("%s\t", ifname);
		print_clean(l);
		printf(": ");
		print_clean(v ? v : "");
		printf("\n");
	}
	return 0;
}
