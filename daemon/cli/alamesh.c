// SPDX-License-Identifier: ISC
/*
 * alamesh(8): the command-line tool, modelled on wg(8). main() only picks
 * the subcommand; each one lives in its own file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon/cli/subcommands.h"
#include "wgproto/crypto.h"
#include "wgproto/encoding.h"

/* Longest stdin accepted for a key: a key, a newline, a little slack. */
#define KEY_INPUT_MAX 128

const char *prog_name = "alamesh";

static const struct {
	const char *name;
	int (*run)(int argc, const char *argv[]);
	const char *description;
} subcommands[] = {
    {"show", show_main, "Shows the current configuration and device information"},
    {"showconf", showconf_main, "Shows the current configuration of a given interface"},
    {"set", set_main, "Changes the current configuration, adds or removes peers"},
    {"genkey", genkey_main, "Generates a new private key and writes it to stdout"},
    {"genpsk", genpsk_main, "Generates a new preshared key and writes it to stdout"},
    {"pubkey", pubkey_main, "Reads a private key from stdin and writes its public key to stdout"},
    {"addr", addr_main, "Writes the mesh address of a public key given or read from stdin"},
    {"sync", sync_main, "Pulls the registry now and waits for the outcome"},
    {"registry", registry_main, "Checks a registry checkout, or adds a member to one"},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s <cmd> [<args>]\n\n", prog_name);
	fprintf(f, "Available subcommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %s: %s\n", subcommands[i].name, subcommands[i].description);
	fprintf(f, "You may pass `--help' to any of these subcommands to view usage.\n");
}

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

int main(int argc, const char *argv[])
{
	prog_name = argv[0] ? argv[0] : "alamesh";
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (cli_is_help(argv[1])) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version")) {
		printf("alamesh v%s\n", ALAMESH_VERSION);
		return 0;
	}
	if (!wg_crypto_init()) {
		fprintf(stderr, "%s: cannot initialise libsodium\n", prog_name);
		return 1;
	}
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			return subcommands[i].run(argc - 1, argv + 1);

	fprintf(stderr, "Invalid subcommand: `%s'\n", argv[1]);
	usage(stderr);
	return 1;
}
