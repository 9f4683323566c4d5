/* SPDX-License-Identifier: ISC */
/* The [Registry] section of alamesh.conf(5). */
#include "daemon/config/registry.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/config/report.h"
#include "daemon/config/values.h"

static const char *const registry_keys[RK_COUNT] = {
    "URL",	  "Branch", "Interval", "CacheDir",    "AllowEmpty", "RequireFastForward",
    "MaxMembers", "CAFile", "MaxPeers", "FetchTimeout"};

/*
 * The remotes alamesh.conf(5) lists: an https://, ssh://, git:// or file://
 * URL with something after the scheme, or git's scp-like [user@]host:path
 * (ssh to port 22; as git tells it from a path, a colon with no slash
 * before it). libgit2 takes more (http://, a bare path), or refuses the rest
 * only at the first fetch, hours after -t passed the file.
 */
static bool registry_url_valid(const char *url)
{
	static const char *const schemes[] = {"https://", "ssh://", "git://", "file://"};
	const char *colon = strchr(url, ':');

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i]);
		if (!strncmp(url, schemes[i], n))
			return url[n] != '\0';
	}
	if (!colon || colon[1] == '\0' || strstr(url, "://") ||
	    memchr(url, '/', (size_t)(colon - url)))
		return false;
	const char *at = memchr(url, '@', (size_t)(colon - url));
	const char *host = at ? at + 1 : url;
	return host < colon && (!at || at > url);
}

void config_registry_key(struct parser *p, const char *name, const char *value)
{
	struct config *cfg = p->cfg;
	int k = config_key_index(registry_keys, RK_COUNT, name);
	uint32_t v;

	if (k < 0) {
		config_report_unknown(p, "unknown key '%s' in [Registry]", name);
		return;
	}
	if (p->registry_lines[k]) {
		config_report(p, p->line, true, "duplicate key %s (first on line %d)",
			      registry_keys[k], p->registry_lines[k]);
		return;
	}
	p->registry_lines[k] = p->line;
	if (!*value) {
		config_report(p, p->line, true, "missing value for %s", registry_keys[k]);
		return;
	}
	switch ((enum registry_key)k) {
	case RK_URL:
		if (strlen(value) >= sizeof(cfg->registry_url) || strchr(value, ' '))
			config_report(p, p->line, true, "invalid URL: no blanks, under %zu bytes",
				      sizeof(cfg->registry_url));
		else if (!registry_url_valid(value))
			config_report(p, p->line, true,
				      "invalid URL '%s': https://, ssh://, git://, file:// or "
				      "[user@]host:path",
				      value);
		else
			snprintf(cfg->registry_url, sizeof(cfg->registry_url), "%s", value);
		break;
	case RK_BRANCH:
		if (strlen(value) >= sizeof(cfg->registry_branch) || strstr(value, "..") ||
		    strpbrk(value, " ~^:?*[\\") || value[0] == '-' || value[0] == '/')
			config_report(p, p->line, true, "invalid Branch '%s'", value);
		else
			snprintf(cfg->registry_branch, sizeof(cfg->registry_branch), "%s", value);
		break;
	case RK_INTERVAL:
		if (!config_parse_duration(value, 10, 7 * 24 * 3600, &v))
			config_report(
			    p, p->line, true,
			    "invalid Interval '%s': seconds, or with s, m or h; 10s to 7 days",
			    value);
		else
			cfg->registry_interval = v;
		break;
	case RK_CACHE_DIR:
		if (value[0] != '/' || strlen(value) >= sizeof(cfg->registry_cache_dir))
			config_report(p, p->line, true, "invalid CacheDir '%s': an absolute path",
				      value);
		else
			snprintf(cfg->registry_cache_dir, sizeof(cfg->registry_cache_dir), "%s",
				 value);
		break;
	case RK_ALLOW_EMPTY:
		if (!config_parse_bool(value, &cfg->registry_allow_empty))
			config_report(p, p->line, true, "invalid AllowEmpty '%s': yes or no",
				      value);
		break;
	case RK_REQUIRE_FF:
		if (!config_parse_bool(value, &cfg->registry_require_ff))
			config_report(p, p->line, true,
				      "invalid RequireFastForward '%s': yes or no", value);
		break;
	case RK_MAX_MEMBERS:
		if (!config_parse_uint(value, 1 << 20, &v) || v == 0)
			config_report(p, p->line, true, "invalid MaxMembers '%s': 1 to 1048576",
				      value);
		else
			cfg->registry_max_members = v;
		break;
	case RK_CA_FILE:
		if (value[0] != '/' || strlen(value) >= sizeof(cfg->registry_ca_file))
			config_report(p, p->line, true, "invalid CAFile '%s': an absolute path",
				      value);
		else if (access(value, R_OK) < 0)
			config_report(p, p->line, true, "CAFile %s: %s", value, strerror(errno));
		else
			snprintf(cfg->registry_ca_file, sizeof(cfg->registry_ca_file), "%s", value);
		break;
	case RK_MAX_PEERS:
		if (!config_parse_uint(value, 65536, &v) || v == 0)
			config_report(p, p->line, true, "invalid MaxPeers '%s': 1 to 65536", value);
		else
			cfg->registry_max_peers = v;
		break;
	case RK_FETCH_TIMEOUT:
		if (!config_parse_duration(value, 1, 600, &v))
			config_report(
			    p, p->line, true,
			    "invalid FetchTimeout '%s': seconds, or with s or m; 1s to 10m", value);
		else
			cfg->registry_fetch_timeout = v;
		break;
	case RK_COUNT:
		break;
	}
}
