// SPDX-License-Identifier: ISC
/* Bringing the interface up and down (up.h). */
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon/control/up.h"
#include "daemon/base/log.h"
#include "daemon/control/mesh.h"
#include "daemon/core/peer.h"
#include "daemon/datapath/rx.h"
#include "daemon/datapath/tx.h"
#include "daemon/platform/netlink.h"
#include "daemon/platform/tun.h"
#include "daemon/platform/udp.h"

static int setup_interface(struct device *dev)
{
	int r;

	dev->ifindex = if_nametoindex(dev->ifname);
	if (!dev->ifindex)
		return -errno;
	if ((r = nl_link_set_mtu(dev->ifindex, dev->mtu)) < 0)
		return r;
	if ((r = nl_link_set_up(dev->ifindex, 1)) < 0)
		return r;
	if ((r = nl_addr_add6(dev->ifindex, device_addr(dev), 128)) < 0)
		return r;
	struct in6_addr mesh = {.s6_addr = {ALAMESH_ADDR_PREFIX & 0xfe}};
	return nl_route_add6(dev->ifindex, &mesh, 7);
}

int device_open_events(struct device *dev)
{
	dev->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	dev->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	dev->rx_kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dev->wake_fd < 0 || dev->stop_fd < 0 || dev->rx_kick_fd < 0)
		return -errno;
	return 0;
}

int device_up(struct device *dev, const char *ifname, uint32_t mtu, uint16_t port,
	      const uint8_t private_key[WG_KEY_LEN])
{
	int r;

	if ((r = device_init(dev, ifname, mtu, private_key)) < 0)
		return r;

	if ((r = tun_open(ifname, &dev->tun_fd, 1)) < 0) {
		log_error("cannot create TUN %s: %s", ifname, strerror(-r));
		return r;
	}
	if ((r = tun_enable_offload(dev->tun_fd)) < 0)
		log_warn("%s: no TUN offloads (%s); packets go one by one", ifname, strerror(-r));
	if ((r = setup_interface(dev)) < 0) {
		log_error("cannot configure %s: %s", ifname, strerror(-r));
		return r;
	}
	dev->listen_port = port;
	if ((r = udp_open(&dev->listen_port)) < 0) {
		log_error("cannot listen on UDP port %u: %s", port, strerror(-r));
		return r;
	}
	dev->udp_fd = r;
	dev->udp_gso = true; /* until the kernel refuses a train */
	return device_open_events(dev);
}

int device_start(struct device *dev)
{
	int r = pthread_create(&dev->tx_thread, NULL, tx_thread_main, dev);

	if (r)
		return -r;
	r = pthread_create(&dev->rx_thread, NULL, rx_thread_main, dev);
	if (r) {
		uint64_t one = 1;
		if (write(dev->stop_fd, &one, sizeof(one)) < 0)
			log_error("stop: %s", strerror(errno));
		pthread_join(dev->tx_thread, NULL);
		return -r;
	}
	dev->threads_running = true;
	return 0;
}

void device_down(struct device *dev)
{
	if (dev->threads_running) {
		uint64_t one = 1;
		if (write(dev->stop_fd, &one, sizeof(one)) < 0)
			log_error("stop: %s", strerror(errno));
		pthread_join(dev->tx_thread, NULL);
		pthread_join(dev->rx_thread, NULL);
		dev->threads_running = false;
	}
	device_remove_all_peers(dev);
	/* Closing the TUN removes the (non-persistent) interface. */
	if (dev->tun_fd >= 0)
		close(dev->tun_fd);
	if (dev->udp_fd >= 0)
		close(dev->udp_fd);
	if (dev->wake_fd >= 0)
		close(dev->wake_fd);
	if (dev->stop_fd >= 0)
		close(dev->stop_fd);
	if (dev->rx_kick_fd >= 0)
		close(dev->rx_kick_fd);
	dev->tun_fd = dev->udp_fd = dev->wake_fd = dev->stop_fd = dev->rx_kick_fd = -1;
	mesh_free(dev);
	device_release(dev);
}
