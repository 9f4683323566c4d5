// SPDX-License-Identifier: ISC
/*
 * What every subcommand of alamesh(8) shares: the program name for
 * messages, help detection, reading a key from stdin, writing stdout. Apart
 * from main() so the unit tests can link the subcommands.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon/cli/subcommands.h"
#include "wgproto/encoding.h"

/* Longest stdin accepted for a key: a key, a newline, a little slack. */
#define KEY_INPUT_MAX 128

const char *prog_name = "alamesh";

bool cli_is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help") || !strcmp(arg, "help");
}

static bool read_all(int fd, char *buf, size_t cap, size_t *len)
{
	*len = 0;
	while (*len < cap) {
		ssize_t n = read(fd, buf + *len, cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		if (n == 0)
			return true;
		*len += (size_t)n;
	}
	/* Full: only acceptable if nothing follows. */
	char extra;
	ssize_t n;
	do
		n = read(fd, &extra, 1);
	while (n < 0 && errno == EINTR);
	return n == 0;
}

bool cli_read_key_stdin(uint8_t key[WG_KEY_LEN])
{
	/* read(2), not stdio, so no copy of a private key stays in a FILE buffer. */
	char buf[KEY_INPUT_MAX + 1];
	size_t len;
	bool ok = read_all(STDIN_FILENO, buf, KEY_INPUT_MAX, &len);

	while (ok && len && isspace((unsigned char)buf[len - 1]))
		len--;
	buf[len] = '\0';
	ok = ok && len == WG_KEY_B64_LEN && key_from_base64(key, buf);
	sodium_memzero(buf, sizeof(buf));
	return ok;
}

void cli_warn_if_world_accessible(void)
{
	struct stat st;

	/* The key is about to land in a file others can read: say so, like wg does. */
	if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IRWXO))
		fputs("Warning: writing to world accessible file.\n"
		      "Consider setting the umask to 077 and trying again.\n",
		      stderr);
}

bool cli_flush_stdout(const char *subcommand)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return true;
	fprintf(stderr, "%s %s: cannot write to stdout: %s\n", prog_name, subcommand,
		strerror(errno));
	return false;
}

int cli_new_key_main(int argc, const char *argv[], void (*make)(uint8_t key[WG_KEY_LEN]))
{
	uint8_t key[WG_KEY_LEN];
	char text[WG_KEY_B64_LEN + 1];

	if (argc == 2 && cli_is_help(argv[1])) {
		printf("Usage: %s %s\n", prog_name, argv[0]);
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "Usage: %s %s\n", prog_name, argv[0]);
		return 1;
	}
	cli_warn_if_world_accessible();
	make(key);
	key_to_base64(text, key);
	puts(text);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(text, sizeof(text));
	return cli_flush_stdout(argv[0]) ? 0 : 1;
}
