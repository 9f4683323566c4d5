/* SPDX-License-Identifier: ISC */
/*
 * The daemon's logger: one line per message on stderr. When stderr is the
 * journal's stream (JOURNAL_STREAM names its device and inode) each line
 * starts with a "<N>" syslog priority so the journal files it at the right
 * level; otherwise with "alameshd: ".
 */
#ifndef ALAMESH_LOG_H
#define ALAMESH_LOG_H

#include <stdbool.h>

/* The longest line written, newline included; longer messages are cut. */
#define LOG_LINE_MAX 1024

/* Reads JOURNAL_STREAM and stats stderr; call once before any thread starts. */
void log_init(bool verbose);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Printed only when log_init() was given verbose. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
