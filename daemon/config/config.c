/* SPDX-License-Identifier: ISC */
/*
 * alamesh.conf(5): a whole file read into a struct config. Its lines come
 * through our own reader (reader.c) to inih, which hands each key to its
 * section's handler (sections.c); what needs the whole file is checked
 * here once it is read.
 */
#include "daemon/config/config.h"

#include <errno.h>
#include <ini.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon/config/parser.h"
#include "daemon/config/peer.h"
#include "daemon/config/reader.h"
#include "daemon/config/report.h"
#include "daemon/config/sections.h"

static void config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->ifname, sizeof(cfg->ifname), "%s", ALAMESH_DEFAULT_IFNAME);
	cfg->listen_port = ALAMESH_DEFAULT_PORT;
	cfg->mtu = ALAMESH_DEFAULT_MTU;
	snprintf(cfg->registry_branch, sizeof(cfg->registry_branch), "main");
	snprintf(cfg->registry_cache_dir, sizeof(cfg->registry_cache_dir), "/var/lib/alamesh");
	cfg->registry_interval = 3600;
	cfg->registry_fetch_timeout = 120;
	cfg->registry_max_members = 65536;
	cfg->registry_max_peers = 64;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	if (cfg->peers) {
		sodium_memzero(cfg->peers, cfg->npeers * sizeof(*cfg->peers));
		free(cfg->peers);
	}
	sodium_memzero(cfg, sizeof(*cfg));
}

static int parse(struct parser *p)
{
	int rc = ini_parse_stream(config_reader, p, config_handler, p);

	if (rc < 0)
		config_report(p, 0, true, "out of memory");
	/* rc > 0 cannot happen: the reader hands inih only well-formed lines. */
	if (!p->cfg->has_private_key && !p->iface_lines[IK_PRIVATE_KEY] &&
	    !p->iface_lines[IK_PRIVATE_KEY_FILE])
		config_report(p, 0, true, "no PrivateKey or PrivateKeyFile in [Interface]");
	if (p->registry_line && !p->registry_lines[RK_URL])
		config_report(p, p->registry_line, true, "[Registry] without URL");
	if (p->iface_lines[IK_GROUP] && !p->iface_lines[IK_USER])
		config_report(p, p->iface_lines[IK_GROUP], true, "Group without User");
	config_check_peers(p);
	free(p->plines);
	p->plines = NULL;
	sodium_memzero(p->raw, sizeof(p->raw));
	sodium_memzero(p->secret, sizeof(p->secret));
	return p->errors;
}

static void parser_init(struct parser *p, struct config *cfg, FILE *in, bool strict, FILE *errs)
{
	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	p->in = in;
	p->name = cfg->path;
	p->strict = strict;
	p->errs = errs;
}

int config_load_file(struct config *cfg, FILE *f, const char *name, bool strict, FILE *errs)
{
	struct parser p;

	config_init(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", name);
	parser_init(&p, cfg, f, strict, errs);
	return parse(&p);
}

int config_load(struct config *cfg, const char *path, bool strict, FILE *errs)
{
	/* Our own stdio buffer, so the file's secrets can be wiped after fclose(). */
	char iobuf[4096];
	struct parser p;
	struct stat st;
	FILE *f;
	int n;

	config_init(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	parser_init(&p, cfg, NULL, strict, errs);
	if (strlen(path) >= sizeof(cfg->path)) {
		config_report(&p, 0, true, "path too long");
		return p.errors;
	}
	f = fopen(path, "re");
	if (!f) {
		config_report(&p, 0, true, "%s", strerror(errno));
		return p.errors;
	}
	setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));
	if (fstat(fileno(f), &st) == 0)
		p.group_readable = (st.st_mode & (S_IRWXG | S_IRWXO)) != 0;
	p.in = f;
	n = parse(&p);
	fclose(f);
	sodium_memzero(iobuf, sizeof(iobuf));
	return n;
}
