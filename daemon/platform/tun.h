/* SPDX-License-Identifier: ISC */
/* The TUN device: opened non-blocking, no packet information header. */
#ifndef ALAMESH_TUN_H
#define ALAMESH_TUN_H

#include <stddef.h>
#include <stdint.h>

/*
 * Creates (or attaches to) TUN ifname with IFF_TUN | IFF_NO_PI |
 * IFF_VNET_HDR (every frame starts with a struct virtio_net_hdr), and
 * IFF_MULTI_QUEUE when queues > 1, filling fds[0..queues-1] with
 * non-blocking descriptors. Returns 0 or -errno.
 */
int tun_open(const char *ifname, int *fds, int queues);
/* Lets the kernel hand over TCP super-packets and unfinished checksums. 0 or -errno. */
int tun_enable_offload(int fd);
/*
 * Writes the len-byte packet at frame + VNET_HDR_LEN to the TUN as a plain
 * one: a zero virtio_net_hdr goes in the headroom before it. 0 or -errno.
 */
int tun_write_plain(int fd, uint8_t *frame, size_t len);

#endif
