/* SPDX-License-Identifier: ISC */
/* The one UDP socket: dual-stack IPv6 (v4-mapped), non-blocking, big buffers. */
#ifndef ALAMESH_UDP_H
#define ALAMESH_UDP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * Binds [::]:port with IPV6_V6ONLY off, SO_RCVBUF/SO_SNDBUF raised (FORCE
 * variants when permitted). port 0 picks one; the bound port is written
 * back. Returns the fd or -errno.
 */
int udp_open(uint16_t *port);
/* IPv4 addresses become v4-mapped IPv6 so one socket serves both families. */
void udp_to_v6(const struct sockaddr_storage *in, struct sockaddr_in6 *out);
/* The inverse for display: v4-mapped becomes AF_INET. */
void udp_from_v6(const struct sockaddr_in6 *in, struct sockaddr_storage *out, socklen_t *len);
/* "1.2.3.4:51820" or "[fc00::1]:51820" into buf. */
const char *udp_format(const struct sockaddr_in6 *sa, char *buf, size_t len);
/* Address and port as bytes for the cookie MAC (16 + 2). */
size_t udp_cookie_src(const struct sockaddr_in6 *sa, uint8_t out[18]);
bool udp_same(const struct sockaddr_in6 *a, const struct sockaddr_in6 *b);

#endif
