/* SPDX-License-Identifier: ISC */
/*
 * TUN and rtnetlink, in a private network namespace of this process so
 * nothing on the host is touched. Needs CAP_SYS_ADMIN and CAP_NET_ADMIN;
 * without them every test is skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "daemon/platform/netlink.h"
#include "daemon/platform/tun.h"

#define NL_BUF 8192

static bool have_netns;

/* ---- reading state back ---- */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n++;
	closedir(d);
	return n;
}

static short if_flags(const char *name)
{
	struct ifreq ifr;
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	assert_int_equal(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	close(fd);
	return ifr.ifr_flags;
}

static int if_mtu(const char *name)
{
	struct ifreq ifr;
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	assert_int_equal(ioctl(fd, SIOCGIFMTU, &ifr), 0);
	close(fd);
	return ifr.ifr_mtu;
}

/* Runs an NLM_F_DUMP request, calling cb for every answer. */
static void dump(uint16_t type, mnl_cb_t cb, void *data)
{
	char buf[NL_BUF];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtgenmsg *g;
	unsigned int seq = (unsigned int)time(NULL), portid;
	ssize_t n;
	int ret;

	assert_non_null(nl);
	assert_int_equal(mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID), 0);
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->rtgen_family = AF_INET6;
	assert_true(mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) > 0);
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		assert_true(n > 0);
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, cb, data);
		assert_true(ret >= 0);
	} while (ret > MNL_CB_STOP);
	mnl_socket_close(nl);
}

struct want {
	unsigned int ifindex;
	struct in6_addr addr;
	uint8_t len;
	int found;
	uint32_t flags;	  /* IFA_FLAGS of an address */
	uint8_t protocol; /* of a route */
	uint8_t table;
};

static const void *attr_data(const struct nlmsghdr *nlh, size_t hdrlen, uint16_t type, size_t len)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, hdrlen)
	{
		if (mnl_attr_get_type(a) == type && mnl_attr_get_payload_len(a) == len)
			return mnl_attr_get_payload(a);
	}
	return NULL;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct want *w = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const void *addr = attr_data(nlh, sizeof(*ifa), IFA_ADDRESS, 16);
	const uint32_t *flags = attr_data(nlh, sizeof(*ifa), IFA_FLAGS, 4);

	if (ifa->ifa_family != AF_INET6 || ifa->ifa_index != w->ifindex || !addr ||
	    ifa->ifa_prefixlen != w->len || memcmp(addr, &w->addr, 16) != 0)
		return MNL_CB_OK;
	w->found++;
	w->flags = flags ? *flags : ifa->ifa_flags;
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct want *w = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const void *dst = attr_data(nlh, sizeof(*rtm), RTA_DST, 16);
	const uint32_t *oif = attr_data(nlh, sizeof(*rtm), RTA_OIF, 4);

	if (rtm->rtm_family != AF_INET6 || rtm->rtm_dst_len != w->len || !dst || !oif ||
	    *oif != w->ifindex || memcmp(dst, &w->addr, 16) != 0)
		return MNL_CB_OK;
	w->found++;
	w->protocol = rtm->rtm_protocol;
	w->table = rtm->rtm_table;
	return MNL_CB_OK;
}

static struct want want(unsigned int ifindex, const char *addr, uint8_t len)
{
	struct want w;

	memset(&w, 0, sizeof(w));
	w.ifindex = ifindex;
	w.len = len;
	assert_int_equal(inet_pton(AF_INET6, addr, &w.addr), 1);
	return w;
}

/* ---- tests ---- */

#define NEED_NETNS()                                                                               \
	do {                                                                                       \
		(void)state;                                                                       \
		if (!have_netns)                                                                   \
			skip();                                                                    \
	} while (0)

static void test_tun_open(void **state)
{
	int fd = -1, flags;
	struct ifreq ifr;

	NEED_NETNS();
	assert_int_equal(tun_open("alatst0", &fd, 1), 0);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	memset(&ifr, 0, sizeof(ifr));
	assert_int_equal(ioctl(fd, TUNGETIFF, &ifr), 0);
	assert_string_equal(ifr.ifr_name, "alatst0");
	flags = ifr.ifr_flags;
	assert_true(flags & IFF_TUN);
	assert_true(flags & IFF_NO_PI);
	assert_false(flags & IFF_MULTI_QUEUE);
	assert_int_not_equal(if_nametoindex("alatst0"), 0);
	close(fd);
	/* Not persistent: it goes away with its last descriptor. */
	assert_int_equal(if_nametoindex("alatst0"), 0);
}

static void test_tun_multiqueue(void **state)
{
	int fds[3] = {-1, -1, -1};
	struct ifreq ifr;

	NEED_NETNS();
	assert_int_equal(tun_open("alatst1", fds, 3), 0);
	for (int i = 0; i < 3; i++) {
		assert_true(fds[i] >= 0);
		memset(&ifr, 0, sizeof(ifr));
		assert_int_equal(ioctl(fds[i], TUNGETIFF, &ifr), 0);
		assert_true(ifr.ifr_flags & IFF_MULTI_QUEUE);
		assert_string_equal(ifr.ifr_name, "alatst1");
	}
	for (int i = 0; i < 3; i++)
		close(fds[i]);
}

static void test_tun_errors(void **state)
{
	int fds[2] = {-1, -1}, fd = -1, before;

	NEED_NETNS();
	before = count_fds();
	assert_int_equal(tun_open("alatst_name_too_long", fds, 1), -EINVAL);
	assert_int_equal(tun_open("", fds, 1), -EINVAL);
	assert_int_equal(tun_open("alatst2", fds, 0), -EINVAL);
	assert_int_equal(tun_open(NULL, fds, 1), -EINVAL);
	assert_int_equal(fds[0], -1);

	/* A single-queue device cannot take more queues: both fds are released. */
	assert_int_equal(tun_open("alatst2", &fd, 1), 0);
	assert_true(tun_open("alatst2", fds, 2) < 0);
	close(fd);
	assert_int_equal(count_fds(), before);
}

static void test_configure(void **state)
{
	int fd = -1;
	unsigned int ifindex;
	struct in6_addr addr, net;
	struct want w;

	NEED_NETNS();
	assert_int_equal(tun_open("alatst3", &fd, 1), 0);
	ifindex = if_nametoindex("alatst3");
	assert_int_not_equal(ifindex, 0);

	assert_int_equal(nl_link_set_mtu(ifindex, 1380), 0);
	assert_int_equal(if_mtu("alatst3"), 1380);
	assert_false(if_flags("alatst3") & IFF_UP);
	assert_int_equal(nl_link_set_up(ifindex, 1), 0);
	assert_true(if_flags("alatst3") & IFF_UP);

	assert_int_equal(inet_pton(AF_INET6, "fc3b:5bd6:826c:3e9c:d662:b3e0:d37e:6fe", &addr), 1);
	assert_int_equal(nl_addr_add6(ifindex, &addr, 128), 0);
	w = want(ifindex, "fc3b:5bd6:826c:3e9c:d662:b3e0:d37e:6fe", 128);
	dump(RTM_GETADDR, addr_cb, &w);
	assert_int_equal(w.found, 1);
	assert_true(w.flags & IFA_F_NODAD);
	assert_false(w.flags & IFA_F_TENTATIVE);
	/* Again: replaced, not duplicated, so a restart does not fail. */
	assert_int_equal(nl_addr_add6(ifindex, &addr, 128), 0);
	w.found = 0;
	dump(RTM_GETADDR, addr_cb, &w);
	assert_int_equal(w.found, 1);

	assert_int_equal(inet_pton(AF_INET6, "fc00::", &net), 1);
	assert_int_equal(nl_route_add6(ifindex, &net, 7), 0);
	w = want(ifindex, "fc00::", 7);
	dump(RTM_GETROUTE, route_cb, &w);
	assert_int_equal(w.found, 1);
	assert_int_equal(w.table, RT_TABLE_MAIN);
	assert_int_equal(w.protocol, RTPROT_STATIC);
	assert_int_equal(nl_route_add6(ifindex, &net, 7), -EEXIST);

	/* Out of range for a TUN: the kernel's answer comes back as -errno. */
	assert_int_equal(nl_link_set_mtu(ifindex, 70000), -EINVAL);
	assert_int_equal(if_mtu("alatst3"), 1380);

	assert_int_equal(nl_link_set_up(ifindex, 0), 0);
	assert_false(if_flags("alatst3") & IFF_UP);

	assert_int_equal(nl_link_del(ifindex), 0);
	assert_int_equal(if_nametoindex("alatst3"), 0);
	close(fd);
}

static void test_bad_ifindex(void **state)
{
	struct in6_addr addr;

	NEED_NETNS();
	assert_int_equal(inet_pton(AF_INET6, "fc00::1", &addr), 1);
	/* Rejected by the kernel... */
	assert_int_equal(nl_link_set_mtu(999999, 1420), -ENODEV);
	assert_int_equal(nl_link_set_up(999999, 1), -ENODEV);
	assert_int_equal(nl_addr_add6(999999, &addr, 128), -ENODEV);
	assert_int_equal(nl_route_add6(999999, &addr, 7), -ENODEV);
	assert_int_equal(nl_link_del(999999), -ENODEV);
	/* ...or before a request is sent. */
	assert_int_equal(nl_link_set_mtu(0, 1420), -ENODEV);
	assert_int_equal(nl_link_del(0), -ENODEV);
	assert_int_equal(nl_addr_add6(1, &addr, 129), -EINVAL);
	assert_int_equal(nl_route_add6(1, &addr, 129), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tun_open),	cmocka_unit_test(test_tun_multiqueue),
	    cmocka_unit_test(test_tun_errors),	cmocka_unit_test(test_configure),
	    cmocka_unit_test(test_bad_ifindex),
	};

	/* A namespace of our own: the interfaces vanish with the process. */
	have_netns = unshare(CLONE_NEWNET) == 0;
	if (!have_netns)
		fprintf(stderr, "unshare(CLONE_NEWNET): %s: skipping\n", strerror(errno));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
