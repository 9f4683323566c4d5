// SPDX-License-Identifier: ISC
/* The interface's state without its descriptors (device.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon/core/device.h"
#include "daemon/base/log.h"
#include "daemon/core/stage.h"
#include "routing/address.h"

int device_init(struct device *dev, const char *ifname, uint32_t mtu,
		const uint8_t private_key[WG_KEY_LEN])
{
	*dev = (struct device){
	    .tun_fd = -1, .udp_fd = -1, .wake_fd = -1, .stop_fd = -1, .rx_kick_fd = -1};
	if (pthread_mutex_init(&dev->cookie_lock, NULL))
		return -ENOMEM;
	snprintf(dev->ifname, sizeof(dev->ifname), "%s", ifname);
	dev->mtu = mtu;
	if (!wg_identity_set(&dev->identity, private_key))
		return -EINVAL;
	alamesh_addr(&dev->addr_slot[0], dev->identity.public_key);
	wg_cookie_checker_init(&dev->cookie_checker, dev->identity.public_key);
	qsbr_init(&dev->qsbr, 2);
	if (!wg_index_init(&dev->index) || !route_table_init(&dev->routes) ||
	    !route_table_init(&dev->sessions) ||
	    !wg_ratelimiter_init(&dev->ratelimiter, RL_MAX_SOURCES) || !stage_pool_init(dev))
		return -ENOMEM;
	return 0;
}

void device_release(struct device *dev)
{
	stage_pool_free(dev);
	route_table_destroy(&dev->routes);
	route_table_destroy(&dev->sessions);
	wg_index_destroy(&dev->index);
	wg_ratelimiter_destroy(&dev->ratelimiter);
	wg_identity_clear(&dev->identity);
	sodium_memzero(&dev->cookie_checker, sizeof(dev->cookie_checker));
	pthread_mutex_destroy(&dev->cookie_lock);
}

void device_wake(struct device *dev)
{
	uint64_t one = 1;

	if (write(dev->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("wake: %s", strerror(errno));
}

void device_fail(struct device *dev, const char *why)
{
	log_error("%s", why);
	atomic_store(&dev->failed, true);
	device_wake(dev);
}
