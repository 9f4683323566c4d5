/* SPDX-License-Identifier: ISC */
/*
 * Candidates: where a member may be reached straight over UDP, told to the
 * other end of a session so that both can punch through their NATs at once
 * (alamesh-protocol(7), "Direct paths"). A candidates message is the
 * plaintext of a transport message in the end-to-end session, whatever its
 * path:
 *
 *   0  magic     0xa5
 *   1  count     of the candidates that follow, 1 to CAND_MAX
 *   2  reserved  0 when sent, ignored when received
 *   4  count x { address (16, IPv4 mapped), port (2, big-endian) }
 *
 * Pure: building and checking, no device.
 */
#ifndef ALAMESH_CANDIDATES_H
#define ALAMESH_CANDIDATES_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wgproto/constants.h"

#define CAND_HDR_LEN   4
#define CAND_ENTRY_LEN 18
#define CAND_MSG_MAX   (CAND_HDR_LEN + CAND_MAX * CAND_ENTRY_LEN)

/* Whether the plaintext buf of len bytes is a candidates message, to be checked. */
static inline bool cand_msg_is(const uint8_t *buf, size_t len)
{
	return len >= 1 && buf[0] == CAND_MAGIC;
}

/*
 * Whether a is an address a candidate may have: not unspecified, loopback,
 * multicast, link-local, or in fc00::/7 (the mesh's own addresses).
 */
bool cand_addr_ok(const struct in6_addr *a);

/*
 * Writes a message of the n candidates c (at most CAND_MAX; those whose
 * address or port may not be candidates are left out) into out, which has
 * room for CAND_MSG_MAX bytes: its length, or 0 when none was left.
 */
size_t cand_build(uint8_t *out, const struct sockaddr_in6 *c, size_t n);

/*
 * Checks a received message (len may include the tunnel's zero padding):
 * the magic, a count of 1 to CAND_MAX within the buffer, and every
 * candidate's address and port usable. The candidates go to out (room for
 * CAND_MAX), their number is returned; or -1 with *why set, and out holds
 * nothing of use.
 */
int cand_parse(const uint8_t *buf, size_t len, struct sockaddr_in6 *out, const char **why);

#endif
