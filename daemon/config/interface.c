/* SPDX-License-Identifier: ISC */
/* The [Interface] section of alamesh.conf(5). */
#include "daemon/config/interface.h"

#include <grp.h>
#include <pwd.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "daemon/config/ifname.h"
#include "daemon/config/keyfile.h"
#include "daemon/config/report.h"
#include "daemon/config/values.h"
#include "wgproto/encoding.h"

static const char *const iface_keys[IK_COUNT] = {
    "Name", "PrivateKey", "PrivateKeyFile", "ListenPort", "MTU", "User", "Group"};

static void set_private_key(struct parser *p, enum iface_key k, const char *value)
{
	struct config *cfg = p->cfg;
	enum iface_key other = k == IK_PRIVATE_KEY ? IK_PRIVATE_KEY_FILE : IK_PRIVATE_KEY;
	uint8_t key[WG_KEY_LEN];
	bool ok;

	if (p->iface_lines[other]) {
		config_report(p, p->line, true,
			      "PrivateKey and PrivateKeyFile are mutually exclusive");
		return;
	}
	if (k == IK_PRIVATE_KEY) {
		ok = !p->secret_overflow && key_from_base64(key, p->secret);
		if (!ok)
			config_report(p, p->line, true,
				      "invalid PrivateKey: expected 44 characters of base64 as wg "
				      "genkey prints");
		else if (p->group_readable)
			config_report(
			    p, p->line, false,
			    "PrivateKey in a file accessible by group or others (chmod 600 it)");
	} else {
		ok = config_read_key_file(p, value, key);
	}
	if (ok) {
		memcpy(cfg->private_key, key, sizeof(key));
		cfg->has_private_key = true;
	}
	sodium_memzero(key, sizeof(key));
}

/* The account to drop to once the interface is up; resolved now, so -t finds a typo. */
static void set_user(struct parser *p, const char *value)
{
	struct passwd *pw = getpwnam(value);

	if (!pw) {
		config_report(p, p->line, true, "unknown User '%s': no such account", value);
		return;
	}
	if (pw->pw_uid == 0) {
		config_report(p, p->line, true, "User '%s' is root: name an unprivileged account",
			      value);
		return;
	}
	p->cfg->has_user = true;
	p->cfg->uid = pw->pw_uid;
	if (!p->cfg->has_group) /* a Group = line, before or after, wins */
		p->cfg->gid = pw->pw_gid;
	snprintf(p->cfg->user, sizeof(p->cfg->user), "%s", value);
}

static void set_group(struct parser *p, const char *value)
{
	struct group *gr = getgrnam(value);

	if (!gr) {
		config_report(p, p->line, true, "unknown Group '%s': no such group", value);
		return;
	}
	if (gr->gr_gid == 0) {
		config_report(p, p->line, true, "Group '%s' is root's: name an unprivileged group",
			      value);
		return;
	}
	p->cfg->has_group = true;
	p->cfg->gid = gr->gr_gid;
}

void config_interface_key(struct parser *p, const char *name, const char *value)
{
	struct config *cfg = p->cfg;
	int k = config_key_index(iface_keys, IK_COUNT, name);
	uint32_t v;

	if (k < 0) {
		config_report_unknown(p, "unknown key '%s' in [Interface]", name);
		return;
	}
	if (p->iface_lines[k]) {
		config_report(p, p->line, true, "duplicate key %s (first on line %d)",
			      iface_keys[k], p->iface_lines[k]);
		return;
	}
	p->iface_lines[k] = p->line;
	if (k != IK_PRIVATE_KEY && !*value) {
		config_report(p, p->line, true, "missing value for %s", iface_keys[k]);
		return;
	}

	switch ((enum iface_key)k) {
	case IK_NAME:
		if (!config_valid_ifname(value)) {
			config_report(p, p->line, true, "invalid Name '%s': %s", value,
				      CONFIG_IFNAME_RULE);
		} else {
			snprintf(cfg->ifname, sizeof(cfg->ifname), "%s", value);
			cfg->name_line = p->line;
		}
		break;
	case IK_PRIVATE_KEY:
	case IK_PRIVATE_KEY_FILE:
		set_private_key(p, (enum iface_key)k, value);
		break;
	case IK_LISTEN_PORT:
		if (!config_parse_uint(value, 65535, &v))
			config_report(p, p->line, true, "invalid ListenPort '%s': 0 to 65535",
				      value);
		else
			cfg->listen_port = (uint16_t)v;
		break;
	case IK_MTU:
		if (!config_parse_uint(value, ALAMESH_MAX_MTU, &v) || v < ALAMESH_MIN_MTU)
			config_report(p, p->line, true, "invalid MTU '%s': %d to %d", value,
				      ALAMESH_MIN_MTU, ALAMESH_MAX_MTU);
		else
			cfg->mtu = v;
		break;
	case IK_USER:
		set_user(p, value);
		break;
	case IK_GROUP:
		set_group(p, value);
		break;
	case IK_COUNT:
		break;
	}
}
