/* SPDX-License-Identifier: ISC */
/* The plain values of alamesh.conf(5) keys, and key names. */
#include "daemon/config/values.h"

#include <string.h>
#include <strings.h>

bool config_parse_uint(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

bool config_parse_port(const char *s, uint16_t *port)
{
	uint32_t v;

	if (!config_parse_uint(s, 65535, &v) || v == 0)
		return false;
	*port = (uint16_t)v;
	return true;
}

bool config_parse_duration(const char *s, uint32_t min, uint32_t max, uint32_t *secs)
{
	char num[16];
	size_t len = strlen(s);
	uint32_t mult = 1, v;

	if (len == 0 || len >= sizeof(num))
		return false;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 's':
		num[--len] = '\0';
		break;
	case 'm':
		mult = 60;
		num[--len] = '\0';
		break;
	case 'h':
		mult = 3600;
		num[--len] = '\0';
		break;
	}
	if (!config_parse_uint(num, max, &v) || (uint64_t)v * mult > max || v * mult < min)
		return false;
	*secs = v * mult;
	return true;
}

bool config_parse_bool(const char *s, bool *out)
{
	if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") || !strcmp(s, "1"))
		*out = true;
	else if (!strcasecmp(s, "no") || !strcasecmp(s, "false") || !strcmp(s, "0"))
		*out = false;
	else
		return false;
	return true;
}

int config_key_index(const char *const *keys, int count, const char *name)
{
	for (int i = 0; i < count; i++) {
		if (!strcasecmp(keys[i], name))
			return i;
	}
	return -1;
}
