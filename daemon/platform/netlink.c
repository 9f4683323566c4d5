/* SPDX-License-Identifier: ISC */
#include "daemon/platform/netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <limits.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/*
 * Room for any request built here and for the kernel's answer: an ACK
 * echoes at most our own (small) request. Fixed rather than
 * MNL_SOCKET_BUFFER_SIZE, which expands to a sysconf() call.
 */
#define NL_BUF_SIZE 8192

/*
 * Sends one request with NLM_F_ACK on a socket of its own and waits for the
 * kernel's answer. A socket per request keeps callers independent of each
 * other (no shared sequence numbers or pending replies); configuration
 * changes are rare enough for the extra syscalls not to matter.
 */
static int nl_request(struct nlmsghdr *nlh, char *buf)
{
	struct mnl_socket *nl;
	unsigned int portid, seq;
	int ret;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	seq = (unsigned int)time(NULL);
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, NL_BUF_SIZE);

		if (n < 0) {
			ret = -errno;
			break;
		}
		/* The ACK is an NLMSG_ERROR: error 0 stops, anything else sets errno. */
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);
		if (ret < 0) {
			ret = errno ? -errno : -EIO;
			break;
		}
		if (ret == MNL_CB_STOP) {
			ret = 0;
			break;
		}
	}
out:
	mnl_socket_close(nl);
	return ret;
}

static int valid_ifindex(unsigned int ifindex)
{
	return ifindex != 0 && ifindex <= INT_MAX;
}

static struct ifinfomsg *link_msg(char *buf, unsigned int ifindex, uint16_t type)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = type;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)ifindex;
	return ifi;
}

int nl_link_set_mtu(unsigned int ifindex, uint32_t mtu)
{
	char buf[NL_BUF_SIZE];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;

	if (!valid_ifindex(ifindex))
		return -ENODEV;
	link_msg(buf, ifindex, RTM_NEWLINK);
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nl_request(nlh, buf);
}

int nl_link_set_up(unsigned int ifindex, int up)
{
	char buf[NL_BUF_SIZE];
	struct ifinfomsg *ifi;

	if (!valid_ifindex(ifindex))
		return -ENODEV;
	ifi = link_msg(buf, ifindex, RTM_NEWLINK);
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = up ? IFF_UP : 0;
	return nl_request((struct nlmsghdr *)buf, buf);
}

int nl_link_del(unsigned int ifindex)
{
	char buf[NL_BUF_SIZE];

	if (!valid_ifindex(ifindex))
		return -ENODEV;
	link_msg(buf, ifindex, RTM_DELLINK);
	return nl_request((struct nlmsghdr *)buf, buf);
}

static int addr_msg6(uint16_t type, uint16_t flags, unsigned int ifindex,
		     const struct in6_addr *addr, uint8_t prefixlen)
{
	char buf[NL_BUF_SIZE];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	if (!valid_ifindex(ifindex))
		return -ENODEV;
	if (!addr || prefixlen > 128)
		return -EINVAL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET6;
	ifa->ifa_prefixlen = prefixlen;
	ifa->ifa_flags = IFA_F_NODAD;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, sizeof(*addr), addr);
	mnl_attr_put(nlh, IFA_ADDRESS, sizeof(*addr), addr);
	mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	return nl_request(nlh, buf);
}

int nl_addr_add6(unsigned int ifindex, const struct in6_addr *addr, uint8_t prefixlen)
{
	/* Replace, so a restart that finds its address still there succeeds. */
	return addr_msg6(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, ifindex, addr, prefixlen);
}

int nl_addr_del6(unsigned int ifindex, const struct in6_addr *addr, uint8_t prefixlen)
{
	return addr_msg6(RTM_DELADDR, 0, ifindex, addr, prefixlen);
}

int nl_route_add6(unsigned int ifindex, const struct in6_addr *dst, uint8_t prefixlen)
{
	char buf[NL_BUF_SIZE];
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;

	if (!valid_ifindex(ifindex))
		return -ENODEV;
	if (!dst || prefixlen > 128)
		return -EINVAL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	/*
	 * Exclusive: an equal route through another interface (another mesh
	 * on fc00::/7) is reported as -EEXIST instead of being taken over.
	 */
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET6;
	rtm->rtm_dst_len = prefixlen;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, sizeof(*dst), dst);
	mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
	return nl_request(nlh, buf);
}
