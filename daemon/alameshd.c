// SPDX-License-Identifier: ISC
/*
 * alameshd: reads its configuration, brings the interface up, starts the
 * data threads and runs the control loop (epoll over signals, a timer tick
 * and the data threads' wake-ups) until SIGTERM or SIGINT.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon/config/config.h"
#include "daemon/core/device.h"
#include "daemon/base/log.h"
#include "daemon/control/mesh.h"
#include "daemon/platform/notify.h"
#include "daemon/platform/privs.h"
#include "daemon/control/registry.h"
#include "daemon/uapi/server.h"
#include "daemon/platform/udp.h"
#include "wgproto/crypto.h"
#include "daemon/base/clock.h"
#include "daemon/core/peer.h"
#include "daemon/control/handshake.h"
#include "daemon/control/up.h"

#define TICK_NS (100 * NSEC_PER_MSEC)
/* Where alamesh.conf(5) says the configuration lives, read when -c is not given. */
#define DEFAULT_CONFIG "/etc/alamesh/alamesh.conf"

static void usage(FILE *f)
{
	fprintf(f, "Usage: alameshd [-v] [-i IFNAME] [-c FILE]\n"
		   "       alameshd -t [-i IFNAME] [-c FILE]\n"
		   "  -c FILE   configuration file (alamesh.conf(5)), by default\n"
		   "            " DEFAULT_CONFIG "\n"
		   "  -i IFNAME the interface's name, whatever Name = says\n"
		   "  -t        check the configuration and exit: 0 if good, else 1 with\n"
		   "            one line per problem\n"
		   "  -v        log debug messages\n"
		   "  -h, --help  this help\n");
}

/*
 * -i names the interface, as the instance of alameshd@.service does: the
 * command line wins over Name =, and a different Name = is pointed out (a
 * copied file, most likely) but does not stop the start.
 */
static void name_from_command_line(struct config *cfg, const char *ifname, bool check_only)
{
	if (cfg->name_line && strcmp(cfg->ifname, ifname)) {
		if (check_only)
			fprintf(stderr, "%s:%d: warning: Name = %s is overridden by -i %s\n",
				cfg->path, cfg->name_line, cfg->ifname, ifname);
		else
			log_warn("%s:%d: warning: Name = %s is overridden by -i %s", cfg->path,
				 cfg->name_line, cfg->ifname, ifname);
	}
	snprintf(cfg->ifname, sizeof(cfg->ifname), "%s", ifname);
}

static int add_peers(struct device *dev, const struct config *cfg)
{
	for (size_t i = 0; i < cfg->npeers; i++) {
		const struct config_peer *cp = &cfg->peers[i];
		struct sockaddr_in6 ep = {0};

		if (cp->endpoint.ss_family != AF_UNSPEC)
			udp_to_v6(&cp->endpoint, &ep);
		if (!device_add_peer(dev, cp->public_key,
				     cp->has_preshared_key ? cp->preshared_key : NULL,
				     ep.sin6_family ? &ep : NULL, cp->persistent_keepalive)) {
			log_error("%s:%d: cannot add peer", cfg->path, cp->line);
			return -ENOMEM;
		}
	}
	return 0;
}

static int drop_privileges(const struct config *cfg)
{
	int r = privs_drop(cfg->uid, cfg->gid);

	if (r == 0)
		log_info("running as %s (uid %u, gid %u), keeping CAP_NET_ADMIN and "
			 "CAP_NET_BIND_SERVICE only",
			 cfg->user, (unsigned)cfg->uid, (unsigned)cfg->gid);
	return r;
}

/*
 * The signals the control loop reads from a signalfd. Blocked before any
 * thread exists, so every thread inherits the mask and none can be killed
 * by a SIGTERM meant for a clean shutdown.
 */
static int block_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGHUP);
	return pthread_sigmask(SIG_BLOCK, mask, NULL) ? -1 : 0;
}

static int setup_fds(int ep, const sigset_t *mask, int *sfd, int *tfd, int wake_fd)
{
	struct itimerspec tick = {.it_interval = {.tv_nsec = TICK_NS},
				  .it_value = {.tv_nsec = TICK_NS}};

	*sfd = signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC);
	*tfd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (*sfd < 0 || *tfd < 0 || timerfd_settime(*tfd, 0, &tick, NULL) < 0)
		return -1;
	int fds[3] = {*sfd, *tfd, wake_fd};
	for (int i = 0; i < 3; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[i]};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0)
			return -1;
	}
	return 0;
}

static void drain(int fd)
{
	uint64_t v;

	while (read(fd, &v, sizeof(v)) > 0)
		;
}

static void tick(struct device *dev)
{
	uint64_t now = now_mono();

	for (size_t i = 0; i < dev->npeers; i++)
		peer_tick(dev->peers[i], now);
	mesh_tick(dev, now);
}

/* Peers with a persistent keepalive are dialled at once, as wg(8) does. */
static void initial_contact(struct device *dev)
{
	for (size_t i = 0; i < dev->npeers; i++) {
		struct peer *p = dev->peers[i];
		if (p->timers.persistent_keepalive_interval && p->endpoint.sin6_family)
			handshake_send_initiation(p, false);
	}
}

static int watch_registry(int ep, struct device *dev)
{
	struct epoll_event ev = {.events = EPOLLIN};

	if (!dev->sync)
		return 0;
	ev.data.fd = registry_sync_fd(dev->sync);
	return epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
}

/*
 * The registry's cache directory, made before privileges go, and given to the
 * account the daemon runs as, which fetches into it.
 */
static int prepare_registry(struct device *dev, const struct config *cfg)
{
	if (mkdir(cfg->registry_cache_dir, 0750) < 0 && errno != EEXIST) {
		log_error("CacheDir %s: %s", cfg->registry_cache_dir, strerror(errno));
		return -errno;
	}
	struct stat st;
	/* Only root's (just made, or from a root run) is ours to give; another account's stays. */
	if (cfg->has_user && lstat(cfg->registry_cache_dir, &st) == 0 && st.st_uid == 0 &&
	    S_ISDIR(st.st_mode) && chown(cfg->registry_cache_dir, cfg->uid, cfg->gid) < 0) {
		log_error("CacheDir %s: %s", cfg->registry_cache_dir, strerror(errno));
		return -errno;
	}
	dev->sync = registry_sync_new(dev, cfg);
	return dev->sync ? 0 : -ENOMEM;
}

static int run(struct device *dev, struct uapi_server *uapi, const sigset_t *mask)
{
	int ep = epoll_create1(EPOLL_CLOEXEC), sfd = -1, tfd = -1, rc = 0;

	if (ep < 0 || setup_fds(ep, mask, &sfd, &tfd, dev->wake_fd) < 0 ||
	    uapi_attach(uapi, ep, dev) < 0 || watch_registry(ep, dev) < 0) {
		log_error("cannot set up the event loop: %s", strerror(errno));
		rc = 1;
		goto out;
	}
	initial_contact(dev);
	for (bool running = true; running;) {
		struct epoll_event evs[8];
		int n = epoll_wait(ep, evs, 8, -1);
		if (n < 0 && errno != EINTR) {
			log_error("epoll_wait: %s", strerror(errno));
			rc = 1;
			break;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == sfd) {
				struct signalfd_siginfo si;
				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo != SIGHUP)
						running = false;
					else if (dev->sync)
						registry_sync_trigger(dev->sync);
				}
			} else if (fd == tfd) {
				drain(tfd);
				tick(dev);
				uapi_tick(uapi, now_mono());
			} else if (fd == dev->wake_fd) {
				drain(dev->wake_fd);
				handshake_process_queue(dev);
				mesh_process_queue(dev);
				tick(dev);
			} else if (dev->sync && fd == registry_sync_fd(dev->sync)) {
				const char *summary;
				bool ok;
				uint64_t gen;
				if (registry_sync_collect(dev->sync, &summary, &ok, &gen))
					uapi_sync_done(uapi, summary, ok, gen);
			} else {
				uapi_event(uapi, fd, evs[i].events);
			}
			if (atomic_load(&dev->failed)) {
				rc = 1;
				running = false;
			}
		}
	}
out:
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	if (ep >= 0)
		close(ep);
	return rc;
}

int main(int argc, char **argv)
{
	const char *path = DEFAULT_CONFIG, *ifname = NULL;
	bool verbose = false, check_only = false;
	struct config cfg = {0};
	struct device dev = {
	    .tun_fd = -1, .udp_fd = -1, .wake_fd = -1, .stop_fd = -1, .rx_kick_fd = -1};
	struct uapi_server uapi = {.fd = -1};
	sigset_t mask;
	int opt, rc;

	/* --help as every GNU tool takes it: the usage on stdout, exit 0. */
	static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {0}};

	while ((opt = getopt_long(argc, argv, "c:i:tvh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'i':
			ifname = optarg;
			break;
		case 't':
			check_only = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	if (ifname && !config_valid_ifname(ifname)) {
		fprintf(stderr, "alameshd: invalid interface name '%s' for -i: %s\n", ifname,
			CONFIG_IFNAME_RULE);
		return 1;
	}
	log_init(verbose);
	if (!wg_crypto_init()) {
		log_error("cannot initialise libsodium");
		return 1;
	}
	/*
	 * With -t unknown keys are errors, printed as they are for the admin
	 * at the terminal; a running daemon only warns of them, in its log.
	 */
	rc = config_load(&cfg, path, check_only, check_only ? stderr : NULL);
	if (ifname)
		name_from_command_line(&cfg, ifname, check_only);
	if (rc > 0 || check_only) {
		config_free(&cfg);
		return rc > 0 ? 1 : 0;
	}
	signal(SIGPIPE, SIG_IGN);
	if (block_signals(&mask) < 0) {
		log_error("cannot block signals: %s", strerror(errno));
		config_free(&cfg);
		return 1;
	}
	/* The control socket first: a second daemon for the interface must change nothing. */
	if ((rc = uapi_listen(&uapi, cfg.ifname)) < 0) {
		if (rc == -EADDRINUSE)
			log_error("%s: another alameshd already runs this interface (%s answers)",
				  cfg.ifname, uapi.path);
		else
			log_error("cannot create the control socket %s: %s", uapi.path,
				  strerror(-rc));
		config_free(&cfg);
		return 1;
	}
	rc = device_up(&dev, cfg.ifname, cfg.mtu, cfg.listen_port, cfg.private_key);
	dev.max_peers = cfg.registry_max_peers;
	if (rc == 0 && (rc = mesh_init(&dev)) < 0)
		log_error("cannot set up routing: %s", strerror(-rc));
	if (rc == 0)
		rc = add_peers(&dev, &cfg);
	/* What runs as root left in the cache goes to User = too, not just its top. */
	if (rc == 0 && cfg.has_registry && cfg.has_user) {
		int gr = privs_give_tree(cfg.registry_cache_dir, cfg.uid, cfg.gid);
		if (gr > 0)
			log_warn("CacheDir %s is another account's or writable by others: left as "
				 "it is (chown -R it to %s)",
				 cfg.registry_cache_dir, cfg.user);
		else if (gr < 0)
			log_warn("CacheDir %s: cannot hand it to %s: %s", cfg.registry_cache_dir,
				 cfg.user, strerror(-gr));
	}
	if (rc == 0 && cfg.has_registry)
		rc = prepare_registry(&dev, &cfg);
	/* Everything privileged is open: drop root before any thread exists. */
	if (rc == 0 && cfg.has_user && (rc = drop_privileges(&cfg)) != 0)
		log_error("cannot drop privileges to %s: %s", cfg.user, strerror(-rc));
	config_free(&cfg); /* the private key now lives only in the device */
	if (rc == 0 && (rc = device_start(&dev)) != 0)
		log_error("cannot start the data threads: %s", strerror(-rc));
	if (rc == 0 && dev.sync && (rc = registry_sync_start(dev.sync)) != 0)
		log_error("cannot start the registry worker: %s", strerror(-rc));
	if (rc == 0) {
		char addr[INET6_ADDRSTRLEN], status[160];
		inet_ntop(AF_INET6, device_addr(&dev), addr, sizeof(addr));
		log_info("interface %s up: address %s, UDP port %u, %zu peers", dev.ifname, addr,
			 dev.listen_port, dev.npeers);
		snprintf(status, sizeof(status), "READY=1\nSTATUS=%s up: %s, UDP port %u\n",
			 dev.ifname, addr, dev.listen_port);
		int nr = notify_send(status);
		if (nr < 0)
			log_warn("cannot notify systemd: %s", strerror(-nr));
		rc = run(&dev, &uapi, &mask);
		log_info("shutting down");
		(void)notify_send("STOPPING=1\n");
	}
	uapi_close(&uapi);
	registry_sync_free(dev.sync);
	dev.sync = NULL;
	device_down(&dev);
	return rc ? 1 : 0;
}
