/* SPDX-License-Identifier: ISC */
/* The messages of a reading of alamesh.conf(5), keys redacted. */
#include "daemon/config/report.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "daemon/base/log.h"
#include "wgproto/constants.h"

static bool is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/*
 * Messages repeat the values they refuse; one that is a key (43 base64
 * characters and '=') may be a private key pasted on the wrong line, and is
 * not shown. Keys are never needed to find the line at fault.
 */
static void redact_keys(char *msg)
{
	static const char hidden[] = "(a key, not shown)";

	for (char *s = msg; *s; s++) {
		if (!is_b64(*s) || (s > msg && is_b64(s[-1])))
			continue;
		size_t n = 0;
		while (is_b64(s[n]))
			n++;
		if (n != WG_KEY_B64_LEN - 1 || s[n] != '=' || is_b64(s[n + 1]) || s[n + 1] == '=')
			continue;
		sodium_memzero(s, n + 1);
		memmove(s + sizeof(hidden) - 1, s + n + 1, strlen(s + n + 1) + 1);
		memcpy(s, hidden, sizeof(hidden) - 1);
		s += sizeof(hidden) - 2;
	}
}

/*
 * A running daemon's messages go through its log, so that under systemd a
 * warning is filed as one (<4>) and an error as one (<3>); the text is what
 * -t prints.
 */
__attribute__((format(printf, 4, 0))) static void report_log(struct parser *p, int line, bool error,
							     const char *fmt, va_list ap)
{
	char where[32] = "", msg[LOG_LINE_MAX];

	if (line > 0)
		snprintf(where, sizeof(where), ":%d", line);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	redact_keys(msg);
	if (error)
		log_error("%s%s: %s", p->name, where, msg);
	else
		log_warn("%s%s: warning: %s", p->name, where, msg);
}

void config_report(struct parser *p, int line, bool error, const char *fmt, ...)
{
	va_list ap;

	if (error)
		p->errors++;
	if (!p->errs) {
		va_start(ap, fmt);
		report_log(p, line, error, fmt, ap);
		va_end(ap);
		return;
	}
	if (line > 0)
		fprintf(p->errs, "%s:%d: ", p->name, line);
	else
		fprintf(p->errs, "%s: ", p->name);
	if (!error)
		fputs("warning: ", p->errs);
	char msg[LOG_LINE_MAX];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	redact_keys(msg);
	fputs(msg, p->errs);
	fputc('\n', p->errs);
	sodium_memzero(msg, sizeof(msg));
}
