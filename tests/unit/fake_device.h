/* SPDX-License-Identifier: ISC */
/*
 * A fake device for unit tests, as wireguard-go keeps tun/tuntest beside
 * tun/: the daemon's own device_init() (core/device.h), so every field is
 * what alameshd has, plus a UDP socket on an ephemeral port (what the
 * device sends can be read back from it, or from a second socket the test
 * points a peer's endpoint at) and the eventfds; no TUN, no netlink (ifindex
 * 0: any netlink call fails), no threads. device_down() takes it apart.
 */
#ifndef ALAMESH_TEST_FAKE_DEVICE_H
#define ALAMESH_TEST_FAKE_DEVICE_H

#include "daemon/control/up.h"
#include "daemon/core/device.h"
#include "daemon/platform/udp.h"
#include "wgproto/constants.h"

/* 0, or a negative errno; device_down() undoes even a partial one. */
static inline int fake_device_up(struct device *dev, const char *ifname,
				 const uint8_t private_key[WG_KEY_LEN])
{
	int r = device_init(dev, ifname, ALAMESH_DEFAULT_MTU, private_key);

	if (r < 0)
		return r;
	dev->listen_port = 0;
	if ((r = udp_open(&dev->listen_port)) < 0)
		return r;
	dev->udp_fd = r;
	return device_open_events(dev);
}

#endif
