/* SPDX-License-Identifier: ISC */
#include "daemon/platform/tun.h"
#include "daemon/platform/offload.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define TUN_DEVICE "/dev/net/tun"

static int tun_open_queue(struct ifreq *ifr)
{
	int fd = open(TUN_DEVICE, O_RDWR | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (ioctl(fd, TUNSETIFF, ifr) < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

int tun_open(const char *ifname, int *fds, int queues)
{
	struct ifreq ifr;
	size_t len;

	if (!ifname || !fds || queues < 1)
		return -EINVAL;
	len = strlen(ifname);
	if (len == 0 || len >= IFNAMSIZ)
		return -EINVAL;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, len);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
	if (queues > 1)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;

	for (int i = 0; i < queues; i++) {
		int fd = tun_open_queue(&ifr);

		if (fd < 0) {
			while (i-- > 0) {
				close(fds[i]);
				fds[i] = -1;
			}
			return fd;
		}
		fds[i] = fd;
	}
	return 0;
}

int tun_enable_offload(int fd)
{
	/* Checksums and IPv6 TSO: the kernel may hand us unsegmented TCP. */
	unsigned int features = TUN_F_CSUM | TUN_F_TSO6;

	return ioctl(fd, TUNSETOFFLOAD, features) < 0 ? -errno : 0;
}

int tun_write_plain(int fd, uint8_t *frame, size_t len)
{
	memset(frame, 0, VNET_HDR_LEN); /* no offload: a packet as it is */
	return write(fd, frame, VNET_HDR_LEN + len) < 0 ? -errno : 0;
}
