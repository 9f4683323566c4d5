/* SPDX-License-Identifier: ISC */
/*
 * Messages to one peer from the control thread, one at a time: datagrams
 * that are already made (handshake messages, cookie replies), the same
 * relayed through another member, keepalives, routing frames, and the
 * packets staged while a handshake ran. Keepalives and staged packets go
 * along the session's path (peer_path()): direct, or relayed.
 */
#ifndef ALAMESH_SEND_H
#define ALAMESH_SEND_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct device;
struct peer;

/* len bytes to dst through the device's UDP socket: 0, or a negative errno. */
int send_datagram(struct device *dev, const struct sockaddr_in6 *dst, const void *buf, size_t len);
/* A handshake message of p's session (len bytes) through hop, as a relayed message. */
int send_message_relayed(struct peer *p, struct peer *hop, const void *msg, size_t len);
void send_keepalive(struct peer *p, uint64_t now);
/* A routing frame through p's session, straight to its endpoint (never relayed). */
bool send_payload(struct peer *p, const uint8_t *buf, size_t len, uint64_t now);
/* A payload that is not an IP packet (candidates) in p's session, along its path. */
bool send_session_payload(struct peer *p, const uint8_t *payload, size_t len, uint64_t now);
/*
 * A probe of p's session straight to to, wherever p's path goes: whether
 * we hear p straight (PROBE_MAGIC), as a message of the session.
 */
bool send_probe(struct peer *p, const struct sockaddr_in6 *to, uint64_t now);
/* Sends what waited for a session; with keepalive_if_none, a keepalive if nothing did. */
void send_staged(struct peer *p, uint64_t now, bool keepalive_if_none);

#endif
