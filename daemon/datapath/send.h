/* SPDX-License-Identifier: ISC */
/*
 * Messages to one peer from the control thread, one at a time: datagrams
 * that are already made (handshake messages, cookie replies), keepalives,
 * routing frames, and the packets staged while a handshake ran.
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
void send_keepalive(struct peer *p, uint64_t now);
/* A payload that is not an IP packet (a routing frame) through p's tunnel. */
bool send_payload(struct peer *p, const uint8_t *buf, size_t len, uint64_t now);
/* Sends what waited for a session; with keepalive_if_none, a keepalive if nothing did. */
void send_staged(struct peer *p, uint64_t now, bool keepalive_if_none);

#endif
