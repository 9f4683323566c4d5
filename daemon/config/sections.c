/* SPDX-License-Identifier: ISC */
/* The sections of alamesh.conf(5), and which handler takes each key. */
#include "daemon/config/sections.h"

#include <strings.h>

#include "daemon/config/interface.h"
#include "daemon/config/peer.h"
#include "daemon/config/registry.h"
#include "daemon/config/report.h"

int config_handler(void *user, const char *section, const char *name, const char *value)
{
	struct parser *p = user;

	(void)section; /* tracked by the reader, which also sees empty sections */
	switch (p->section) {
	case SEC_NONE:
		config_report(p, p->line, true, "key '%s' outside of any section", name);
		break;
	case SEC_INTERFACE:
		config_interface_key(p, name, value);
		break;
	case SEC_PEER:
		config_peer_key(p, name, value);
		break;
	case SEC_REGISTRY:
		config_registry_key(p, name, value);
		break;
	case SEC_IGNORED:
		break;
	}
	/* Always go on: every problem in the file is reported, not just the first. */
	return 1;
}

void config_begin_section(struct parser *p, const char *name)
{
	if (!strcasecmp(name, "Interface")) {
		if (p->interface_line)
			config_report(p, p->line, true,
				      "duplicate [Interface] section (first on line %d)",
				      p->interface_line);
		else
			p->interface_line = p->line;
		p->section = SEC_INTERFACE;
	} else if (!strcasecmp(name, "Peer")) {
		p->section = config_add_peer(p) ? SEC_PEER : SEC_IGNORED;
	} else if (!strcasecmp(name, "Registry")) {
		if (p->registry_line)
			config_report(p, p->line, true,
				      "duplicate [Registry] section (first on line %d)",
				      p->registry_line);
		else
			p->registry_line = p->line;
		p->cfg->has_registry = true;
		p->section = SEC_REGISTRY;
	} else {
		config_report_unknown(p, "unknown section [%s]", name);
		p->section = SEC_IGNORED;
	}
}
