/* SPDX-License-Identifier: ISC */
/*
 * The alamesh CLI: one file per subcommand, like wg(8). Each *_main gets the
 * arguments from the subcommand name on (argv[0] is "genkey", ...) and
 * returns the exit status.
 */
#ifndef ALAMESH_SUBCOMMANDS_H
#define ALAMESH_SUBCOMMANDS_H

#include <stdbool.h>
#include <stdint.h>

#include "wgproto/constants.h"

#ifndef ALAMESH_VERSION
#define ALAMESH_VERSION "0.1.0"
#endif

/* argv[0] of the alamesh process, for messages. */
extern const char *prog_name;

int genkey_main(int argc, const char *argv[]);
int pubkey_main(int argc, const char *argv[]);
int addr_main(int argc, const char *argv[]);
int genpsk_main(int argc, const char *argv[]);
int show_main(int argc, const char *argv[]);
int showconf_main(int argc, const char *argv[]);
int set_main(int argc, const char *argv[]);
int registry_main(int argc, const char *argv[]);
int sync_main(int argc, const char *argv[]);

/* True for "-h", "--help" and "help". */
bool cli_is_help(const char *arg);
/*
 * Reads one base64 key from stdin: 44 characters, then only whitespace, at
 * most a small amount of input. The buffer is wiped since it may hold a
 * private key. False on a read error or a malformed key.
 */
bool cli_read_key_stdin(uint8_t key[WG_KEY_LEN]);
/* Warns on stderr when stdout is a file others can read (a key is coming). */
void cli_warn_if_world_accessible(void);
/*
 * genkey and genpsk: takes no argument, warns if stdout is a file others can
 * read, writes make()'s key in base64, and wipes it.
 */
int cli_new_key_main(int argc, const char *argv[], void (*make)(uint8_t key[WG_KEY_LEN]));
/* Writes everything buffered on stdout; false (with a message) on error. */
bool cli_flush_stdout(const char *subcommand);

#endif
