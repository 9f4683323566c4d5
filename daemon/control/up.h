/* SPDX-License-Identifier: ISC */
/*
 * The interface comes up and goes down: the device's state (core/device.h),
 * then the TUN with its offloads, its address and the fc00::/7 route over
 * netlink, the UDP socket and the eventfds; then the two data threads.
 */
#ifndef ALAMESH_UP_H
#define ALAMESH_UP_H

#include <stdint.h>

#include "wgproto/constants.h"

struct device;

/* 0, or a negative errno (logged); device_down() undoes a partial one too. */
int device_up(struct device *dev, const char *ifname, uint32_t mtu, uint16_t port,
	      const uint8_t private_key[WG_KEY_LEN]);
/* The eventfds between the threads (wake, stop, rx kick): 0, or a negative errno. */
int device_open_events(struct device *dev);
/* Starts the transmit and receive threads. */
int device_start(struct device *dev);
/* Stops the threads, removes every peer, closes the descriptors and frees the state. */
void device_down(struct device *dev);

#endif
