/* SPDX-License-Identifier: ISC */
/* PrivateKeyFile =: a private key read from its own file. */
#include "daemon/config/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "daemon/config/report.h"
#include "wgproto/encoding.h"

/* A key file holds 44 characters and a newline; more is not a key. */
#define KEY_FILE_MAX 64

/* Relative paths are taken from the config file's directory, not the cwd. */
static bool key_file_path(const struct parser *p, const char *value, char *out, size_t size)
{
	const char *slash = strrchr(p->name, '/');
	int n;

	if (value[0] == '/' || !slash)
		n = snprintf(out, size, "%s", value);
	else
		n = snprintf(out, size, "%.*s/%s", (int)(slash - p->name), p->name, value);
	return n >= 0 && (size_t)n < size;
}

/* Reads up to size bytes; returns how many, or -1. */
static ssize_t read_all(int fd, char *buf, size_t size)
{
	size_t got = 0;

	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

bool config_read_key_file(struct parser *p, const char *value, uint8_t key[WG_KEY_LEN])
{
	char path[4096];
	char buf[KEY_FILE_MAX + 1];
	struct stat st;
	ssize_t n;
	bool ok;
	int fd;

	if (!key_file_path(p, value, path, sizeof(path))) {
		config_report(p, p->line, true, "PrivateKeyFile path too long");
		return false;
	}
#ifdef ALAMESH_FUZZING
	/* Fuzz inputs must not make the target open arbitrary files. */
	config_report(p, p->line, true, "cannot open PrivateKeyFile '%s': not in fuzzing builds",
		      path);
	return false;
#endif
	/* O_NONBLOCK: a FIFO must not hang the daemon; it is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		config_report(p, p->line, true, "cannot open PrivateKeyFile '%s': %s", path,
			      strerror(errno));
		return false;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		config_report(p, p->line, true, "PrivateKeyFile '%s' is not a regular file", path);
		return false;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		config_report(p, p->line, false,
			      "PrivateKeyFile '%s' is accessible by group or others (chmod 600 it)",
			      path);

	n = read_all(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		config_report(p, p->line, true, "cannot read PrivateKeyFile '%s': %s", path,
			      strerror(errno));
		return false;
	}
	buf[n] = '\0';
	if (n == WG_KEY_B64_LEN + 1 && buf[WG_KEY_B64_LEN] == '\n')
		buf[WG_KEY_B64_LEN] = '\0';
	ok = (size_t)n <= WG_KEY_B64_LEN + 1 && key_from_base64(key, buf);
	sodium_memzero(buf, sizeof(buf));
	if (!ok)
		config_report(
		    p, p->line, true,
		    "PrivateKeyFile '%s' does not hold a base64 key as wg genkey writes it", path);
	return ok;
}
