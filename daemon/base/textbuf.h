/* SPDX-License-Identifier: ISC */
/*
 * A growing text buffer written with printf: the answers of the control
 * socket and the set requests of alamesh(8). The text may hold keys, so a
 * buffer left behind by growth is wiped, and so is the last one on free.
 */
#ifndef ALAMESH_TEXTBUF_H
#define ALAMESH_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>

struct textbuf {
	char *buf; /* NUL-terminated once anything was written */
	size_t len, cap;
	bool failed; /* out of memory: later calls do nothing */
};

/* Appends the formatted text, growing the buffer as needed. */
void textbuf_printf(struct textbuf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Wipes the buffer and frees it. */
void textbuf_free(struct textbuf *t);
/*
 * Ends an answer of the control socket (errno=0 and the empty line) and
 * hands the buffer to *out and *len: 0; or, if any line did not fit in
 * memory, frees it: -ENOMEM.
 */
int textbuf_answer(struct textbuf *t, char **out, size_t *len);

#endif
