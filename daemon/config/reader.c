/* SPDX-License-Identifier: ISC */
/* alamesh.conf(5) line by line, checked before inih sees it (reader.h). */
#include "daemon/config/reader.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "daemon/config/parser.h"
#include "daemon/config/report.h"
#include "daemon/config/sections.h"

/*
 * Reads one raw line into p->raw. Returns its length, or -1 at the end of
 * the input. Sets *overlong when the line did not fit (the rest is
 * consumed) and *bad when it holds a NUL or control character.
 */
static int read_raw_line(struct parser *p, bool *overlong, bool *bad)
{
	size_t len = 0;
	int c = EOF;

	*overlong = *bad = false;
	while ((c = getc(p->in)) != EOF && c != '\n') {
		if (c == '\r')
			continue; /* CRLF files; a stray CR is harmless */
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			*bad = true;
		if (len < sizeof(p->raw) - 1)
			p->raw[len++] = (char)c;
		else
			*overlong = true;
	}
	if (c == EOF && len == 0 && !*overlong && !*bad)
		return -1;
	p->raw[len] = '\0';
	return (int)len;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	return s;
}

/* A header "[Name]": handled here, inih gets an empty line. */
static void reader_section(struct parser *p, char *s)
{
	size_t len = strlen(s);
	char *name;

	if (s[len - 1] != ']') {
		config_report(p, p->line, true, "malformed section header, expected [Name]");
		p->section = SEC_IGNORED;
		return;
	}
	s[len - 1] = '\0';
	name = trim(s + 1);
	if (!*name || strpbrk(name, "[]")) {
		config_report(p, p->line, true, "malformed section header, expected [Name]");
		p->section = SEC_IGNORED;
		return;
	}
	config_begin_section(p, name);
}

static bool is_secret_key(const char *key, size_t len)
{
	return (len == 10 && !strncasecmp(key, "PrivateKey", len)) ||
	       (len == 12 && !strncasecmp(key, "PresharedKey", len));
}

/* "Key = Value": normalized into out as "Key=Value", or false if malformed. */
static bool reader_pair(struct parser *p, char *s, char *out, size_t size)
{
	char *eq = strchr(s, '=');
	char *key, *value;
	size_t klen;

	if (!eq) {
		config_report(p, p->line, true, "expected 'Key = Value' or '[Section]'");
		return false;
	}
	*eq = '\0';
	key = trim(s);
	value = trim(eq + 1);
	klen = strlen(key);
	for (size_t i = 0; i < klen; i++) {
		if (!isalnum((unsigned char)key[i]))
			klen = 0;
	}
	if (klen == 0) {
		config_report(p, p->line, true, "expected 'Key = Value' or '[Section]'");
		return false;
	}
	if (is_secret_key(key, klen)) {
		p->secret_overflow = strlen(value) >= sizeof(p->secret);
		snprintf(p->secret, sizeof(p->secret), "%s", p->secret_overflow ? "" : value);
		value = ""; /* the handler reads p->secret */
	}
	snprintf(out, size, "%s=%s", key, value);
	return true;
}

/* An ini_reader: hands inih one checked, normalized line per call. */
char *config_reader(char *str, int num, void *stream)
{
	struct parser *p = stream;
	size_t max = (size_t)num > 3 ? (size_t)num - 3 : 0;
	bool overlong, bad;
	char *s, *hash;
	int len;

	len = read_raw_line(p, &overlong, &bad);
	if (len < 0) {
		if (ferror(p->in))
			config_report(p, 0, true, "read error");
		return NULL;
	}
	p->line++;
	str[0] = '\0';
	s = p->raw;
	if (p->line == 1 && !strncmp(s, "\xef\xbb\xbf", 3))
		s += 3; /* a UTF-8 byte order mark */
	if (bad) {
		config_report(p, p->line, true, "control character in line");
		return str;
	}
	hash = strpbrk(s, "#;");
	if (hash)
		*hash = '\0';
	s = trim(s);
	if (!*s)
		return str;
	if (overlong || strlen(s) > max) {
		config_report(p, p->line, true, "line too long (at most %zu characters)", max);
		return str;
	}
	if (*s == '[')
		reader_section(p, s);
	else if (!reader_pair(p, s, str, (size_t)num))
		str[0] = '\0';
	return str;
}
