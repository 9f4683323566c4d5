/* SPDX-License-Identifier: ISC */
/* The names an alamesh interface may have. */
#include "daemon/config/ifname.h"

#include <ctype.h>
#include <net/if.h>
#include <string.h>

/* What the kernel accepts (dev_valid_name), minus what is awkward in paths and logs. */
bool config_valid_ifname(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= IFNAMSIZ)
		return false;
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++) {
		if (!isgraph((unsigned char)*s) || *s == '/' || *s == ':')
			return false;
	}
	return true;
}
