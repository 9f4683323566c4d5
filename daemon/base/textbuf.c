// SPDX-License-Identifier: ISC
/* A growing printf buffer that leaves no copy of its text behind (see textbuf.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "daemon/base/textbuf.h"

static bool grow(struct textbuf *t, size_t need)
{
	size_t cap = t->cap ? t->cap : 256;

	while (cap < need)
		cap *= 2;
	char *b = malloc(cap);
	if (!b)
		return false;
	if (t->buf) {
		memcpy(b, t->buf, t->len + 1);
		sodium_memzero(t->buf, t->cap);
		free(t->buf);
	}
	t->buf = b;
	t->cap = cap;
	return true;
}

void textbuf_printf(struct textbuf *t, const char *fmt, ...)
{
	va_list ap;

	if (t->failed)
		return;
	if (!t->buf && !grow(t, 1)) {
		t->failed = true;
		return;
	}
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = true;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		/* Cut short: the partial text goes with the old buffer, wiped. */
		t->buf[t->len] = '\0';
		if (!grow(t, t->len + (size_t)n + 1)) {
			t->failed = true;
			return;
		}
	}
}

void textbuf_free(struct textbuf *t)
{
	if (t->buf) {
		sodium_memzero(t->buf, t->cap);
		free(t->buf);
	}
	*t = (struct textbuf){0};
}

int textbuf_answer(struct textbuf *t, char **out, size_t *len)
{
	textbuf_printf(t, "errno=0\n\n");
	if (t->failed) {
		textbuf_free(t);
		return -ENOMEM;
	}
	*out = t->buf;
	*len = t->len;
	return 0;
}
