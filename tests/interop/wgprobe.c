/* SPDX-License-Identifier: ISC */
/*
 * wgprobe: a minimal WireGuard peer built on wgproto/ alone, to prove the
 * handshake and transport bytes against a stock implementation.
 *
 *   initiator: wgprobe -k KEYFILE -p PEERPUB -e HOST:PORT -a OURIP6 -d PEERIP6
 *     handshakes, sends one ICMPv6 echo request through the tunnel and waits
 *     for the echo reply.
 *   responder: wgprobe -r -k KEYFILE -p PEERPUB -l PORT -a OURIP6 [-n COUNT]
 *     answers the peer's handshake and replies to COUNT echo requests.
 *
 *   sender:    wgprobe -k KEYFILE -p PEERPUB -e HOST:PORT -s FILE [-n COUNT]
 *     handshakes, then sends FILE's bytes as the payload of COUNT transport
 *     messages, a second apart (to hand a daemon a crafted routing frame).
 *
 * Exit status 0 on success, 1 on failure or timeout (-t SECONDS, default 20).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "wgproto/cookie.h"
#include "wgproto/crypto.h"
#include "wgproto/encoding.h"
#include "wgproto/keypair.h"
#include "wgproto/messages.h"
#include "wgproto/noise.h"

#define IP6_HDR_LEN	   40
#define ICMP6_HDR_LEN	   8
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY   129
#define PROTO_ICMPV6	   58
#define PING_ID		   0x4e5a
#define PING_PAYLOAD	   "alamesh wgprobe"

struct probe {
	struct wg_identity id;
	struct wg_handshake hs;
	struct wg_cookie cookie;
	struct wg_cookie_checker checker;
	struct wg_keypair *kp;
	struct in6_addr our_ip, peer_ip;
	struct sockaddr_in6 peer_ep;
	bool have_ep;
	int fd;
	uint32_t local_index;
	uint64_t deadline;
};

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("wgprobe: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("wgprobe: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void read_key_file(uint8_t key[WG_KEY_LEN], const char *path)
{
	char buf[128] = {0};
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		die("%s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (!key_from_base64(key, buf))
		die("%s: not a base64 key", path);
	sodium_memzero(buf, sizeof(buf));
}

/* HOST:PORT or [HOST]:PORT, as a v4-mapped or native IPv6 socket address. */
static void parse_endpoint(struct sockaddr_in6 *sa, const char *s)
{
	char host[256], *port;
	struct addrinfo hints = {.ai_family = AF_INET6, .ai_flags = AI_V4MAPPED | AI_NUMERICHOST};
	struct addrinfo *res;

	if (strlen(s) >= sizeof(host))
		die("endpoint too long");
	strcpy(host, s);
	port = strrchr(host, ':');
	if (!port)
		die("endpoint %s has no port", s);
	*port++ = '\0';
	char *h = host;
	if (h[0] == '[' && h[strlen(h) - 1] == ']') {
		h[strlen(h) - 1] = '\0';
		h++;
	}
	if (getaddrinfo(h, port, &hints, &res) != 0)
		die("bad endpoint %s", s);
	memcpy(sa, res->ai_addr, sizeof(*sa));
	freeaddrinfo(res);
}

/* The cookie source of a datagram: 4 or 16 address bytes, then the port. */
static size_t source_bytes(uint8_t out[WG_COOKIE_SRC_MAX], const struct sockaddr_in6 *sa)
{
	size_t n = IN6_IS_ADDR_V4MAPPED(&sa->sin6_addr) ? 4 : 16;

	memcpy(out, sa->sin6_addr.s6_addr + 16 - n, n);
	memcpy(out + n, &sa->sin6_port, 2);
	return n + 2;
}

static void send_to(struct probe *p, const void *buf, size_t len)
{
	if (sendto(p->fd, buf, len, 0, (const struct sockaddr *)&p->peer_ep, sizeof(p->peer_ep)) !=
	    (ssize_t)len)
		die("sendto: %s", strerror(errno));
}

/* Waits for one datagram until the deadline; 0 on timeout. */
static ssize_t receive(struct probe *p, uint8_t *buf, size_t size, struct sockaddr_in6 *from,
		       uint64_t until)
{
	struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
	socklen_t fromlen = sizeof(*from);
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	ssize_t n;

	if (until > p->deadline)
		until = p->deadline;
	if (now >= until)
		return 0;
	if (poll(&pfd, 1, (int)((until - now) / NSEC_PER_MSEC) + 1) <= 0)
		return 0;
	n = recvfrom(p->fd, buf, size, 0, (struct sockaddr *)from, &fromlen);
	return n < 0 ? 0 : n;
}

static uint16_t icmp6_checksum(const uint8_t *ip6)
{
	size_t len = (size_t)ip6[4] << 8 | ip6[5];
	uint32_t sum = 0;

	/* Pseudo-header: addresses, upper-layer length, next header. */
	for (size_t i = 8; i < 40; i += 2)
		sum += (uint32_t)ip6[i] << 8 | ip6[i + 1];
	sum += (uint32_t)len;
	sum += PROTO_ICMPV6;
	for (size_t i = 0; i < len; i += 2) {
		uint32_t hi = ip6[IP6_HDR_LEN + i];
		uint32_t lo = i + 1 < len ? ip6[IP6_HDR_LEN + i + 1] : 0;
		sum += hi << 8 | lo;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An ICMPv6 echo packet; the checksum field must be zero on entry. */
static size_t build_echo(uint8_t *pkt, uint8_t type, const struct in6_addr *src,
			 const struct in6_addr *dst, const uint8_t *body, size_t bodylen)
{
	size_t icmplen = ICMP6_HDR_LEN - 4 + bodylen; /* id and seq are part of body */
	uint16_t csum;

	memset(pkt, 0, IP6_HDR_LEN + icmplen);
	pkt[0] = 0x60;
	pkt[4] = (uint8_t)(icmplen >> 8);
	pkt[5] = (uint8_t)icmplen;
	pkt[6] = PROTO_ICMPV6;
	pkt[7] = 64;
	memcpy(pkt + 8, src, 16);
	memcpy(pkt + 24, dst, 16);
	pkt[IP6_HDR_LEN] = type;
	memcpy(pkt + IP6_HDR_LEN + 4, body, bodylen);
	csum = icmp6_checksum(pkt);
	pkt[IP6_HDR_LEN + 2] = (uint8_t)(csum >> 8);
	pkt[IP6_HDR_LEN + 3] = (uint8_t)csum;
	return IP6_HDR_LEN + icmplen;
}

static void send_data(struct probe *p, const uint8_t *pkt, size_t len)
{
	uint8_t buf[2048];
	size_t padded = (len + WG_PADDING_MULTIPLE - 1) / WG_PADDING_MULTIPLE * WG_PADDING_MULTIPLE;
	struct wg_msg_data *hdr = (struct wg_msg_data *)buf;
	uint64_t counter;

	if (sizeof(*hdr) + padded + WG_AEAD_TAG_LEN > sizeof(buf))
		die("packet too big");
	if (!wg_keypair_reserve(p->kp, clock_ns(CLOCK_MONOTONIC), 1, &counter))
		die("keypair exhausted");
	memset(buf, 0, sizeof(buf));
	hdr->type = WG_MSG_DATA;
	wg_put_le32(hdr->receiver, p->kp->remote_index);
	wg_put_le64(hdr->counter, counter);
	memcpy(hdr->encrypted, pkt, len);
	wg_aead_encrypt(hdr->encrypted, hdr->encrypted, padded, NULL, 0, counter, p->kp->send_key);
	send_to(p, buf, sizeof(*hdr) + padded + WG_AEAD_TAG_LEN);
}

/* Decrypts a data message in place; returns the IPv6 packet length, 0 for keepalives. */
static ssize_t open_data(struct probe *p, uint8_t *buf, size_t len, uint8_t **pkt)
{
	struct wg_msg_data *hdr = (struct wg_msg_data *)buf;
	size_t ctlen = len - sizeof(*hdr), ptlen = ctlen - WG_AEAD_TAG_LEN, iplen;
	uint64_t counter = wg_le64(hdr->counter);

	if (!p->kp || wg_le32(hdr->receiver) != p->kp->local_index)
		return -1;
	if (!wg_aead_decrypt(hdr->encrypted, hdr->encrypted, ctlen, NULL, 0, counter,
			     p->kp->recv_key))
		return -1;
	if (!wg_replay_accept(&p->kp->replay, counter))
		return -1;
	*pkt = hdr->encrypted;
	if (ptlen == 0)
		return 0;
	if (ptlen < IP6_HDR_LEN || (hdr->encrypted[0] >> 4) != 6)
		return -1;
	iplen = IP6_HDR_LEN + ((size_t)hdr->encrypted[4] << 8 | hdr->encrypted[5]);
	return iplen <= ptlen ? (ssize_t)iplen : -1;
}

static bool is_echo(const uint8_t *pkt, size_t len, uint8_t type)
{
	return len >= IP6_HDR_LEN + ICMP6_HDR_LEN && pkt[6] == PROTO_ICMPV6 &&
	       pkt[IP6_HDR_LEN] == type && icmp6_checksum(pkt) == 0;
}

static void install_keypair(struct probe *p)
{
	wg_keypair_put(p->kp);
	p->kp = wg_noise_derive_keypair(&p->hs, clock_ns(CLOCK_MONOTONIC));
	if (!p->kp)
		die("deriving keys failed");
}

static void send_initiation(struct probe *p)
{
	struct wg_msg_initiation init;

	randombytes_buf(&p->local_index, sizeof(p->local_index));
	if (!wg_noise_create_initiation(&init, &p->hs, &p->id, p->local_index,
					clock_ns(CLOCK_REALTIME)))
		die("cannot create an initiation");
	wg_cookie_add_macs(&p->cookie, (uint8_t *)&init, sizeof(init), clock_ns(CLOCK_MONOTONIC));
	send_to(p, &init, sizeof(init));
	say("sent handshake initiation (index %08x)", p->local_index);
}

static struct wg_handshake *by_index(void *ctx, uint32_t idx)
{
	struct probe *p = ctx;

	return p->hs.state == WG_HS_CREATED_INITIATION && p->local_index == idx ? &p->hs : NULL;
}

static struct wg_handshake *by_static(void *ctx, const uint8_t key[WG_KEY_LEN])
{
	struct probe *p = ctx;

	return sodium_memcmp(key, p->hs.remote_static, WG_KEY_LEN) == 0 ? &p->hs : NULL;
}

/* Initiates until a handshake completes (or the deadline passes: then it exits). */
static void handshake(struct probe *p)
{
	uint8_t buf[2048];
	struct sockaddr_in6 from;
	uint64_t retry = 0;
	ssize_t n;

	while (!p->kp) {
		if (clock_ns(CLOCK_MONOTONIC) >= p->deadline)
			die("timed out waiting for a handshake response");
		if (clock_ns(CLOCK_MONOTONIC) >= retry) {
			send_initiation(p);
			retry = clock_ns(CLOCK_MONOTONIC) + WG_REKEY_TIMEOUT;
		}
		n = receive(p, buf, sizeof(buf), &from, retry);
		switch (wg_msg_type(buf, (size_t)(n > 0 ? n : 0))) {
		case WG_MSG_RESPONSE:
			if (wg_cookie_validate(&p->checker, buf, (size_t)n, NULL, 0,
					       clock_ns(CLOCK_MONOTONIC)) == WG_MAC_INVALID ||
			    !wg_noise_consume_response((struct wg_msg_response *)buf, &p->id,
						       by_index, p)) {
				say("dropped an invalid response");
				break;
			}
			install_keypair(p);
			say("handshake complete");
			break;
		case WG_MSG_COOKIE:
			if (wg_cookie_consume_reply(&p->cookie, (struct wg_msg_cookie *)buf,
						    clock_ns(CLOCK_MONOTONIC))) {
				say("got a cookie reply, retrying");
				retry = 0;
			}
			break;
		}
	}
}

static int run_initiator(struct probe *p)
{
	uint8_t buf[2048], pkt[256], body[4 + sizeof(PING_PAYLOAD)], *in;
	struct sockaddr_in6 from;
	ssize_t n, iplen;

	handshake(p);
	body[0] = PING_ID >> 8;
	body[1] = PING_ID & 0xff;
	body[2] = 0;
	body[3] = 1;
	memcpy(body + 4, PING_PAYLOAD, sizeof(PING_PAYLOAD));
	send_data(p, pkt,
		  build_echo(pkt, ICMP6_ECHO_REQUEST, &p->our_ip, &p->peer_ip, body, sizeof(body)));
	say("sent echo request");

	for (;;) {
		n = receive(p, buf, sizeof(buf), &from, p->deadline);
		if (n == 0)
			die("timed out waiting for the echo reply");
		if (wg_msg_type(buf, (size_t)n) != WG_MSG_DATA)
			continue;
		iplen = open_data(p, buf, (size_t)n, &in);
		if (iplen < 0) {
			say("dropped an undecryptable data packet");
			continue;
		}
		if (iplen == 0) {
			say("got a keepalive");
			continue;
		}
		if (is_echo(in, (size_t)iplen, ICMP6_ECHO_REPLY) &&
		    memcmp(in + 8, &p->peer_ip, 16) == 0 && memcmp(in + 24, &p->our_ip, 16) == 0 &&
		    memcmp(in + IP6_HDR_LEN + 4, body, sizeof(body)) == 0) {
			say("got the echo reply");
			return 0;
		}
		say("ignored a packet of %zd bytes", iplen);
	}
}

static int run_sender(struct probe *p, const char *path, int count)
{
	uint8_t payload[1400];
	FILE *f = fopen(path, "rb");

	if (!f)
		die("%s: %s", path, strerror(errno));
	size_t len = fread(payload, 1, sizeof(payload), f);
	fclose(f);
	if (!len)
		die("%s: empty", path);
	handshake(p);
	for (int i = 0; i < count; i++) {
		if (i)
			sleep(1);
		send_data(p, payload, len);
		say("sent %zu bytes of payload", len);
	}
	return 0;
}

static void answer_initiation(struct probe *p, uint8_t *buf, size_t len,
			      const struct sockaddr_in6 *from)
{
	struct wg_msg_response resp;
	uint8_t src[WG_COOKIE_SRC_MAX];
	size_t srclen = source_bytes(src, from);
	uint64_t now = clock_ns(CLOCK_MONOTONIC);

	if (wg_cookie_validate(&p->checker, buf, len, src, srclen, now) == WG_MAC_INVALID) {
		say("dropped an initiation with a bad mac1");
		return;
	}
	if (!wg_noise_consume_initiation((struct wg_msg_initiation *)buf, &p->id, now, by_static,
					 p)) {
		say("dropped an invalid initiation");
		return;
	}
	randombytes_buf(&p->local_index, sizeof(p->local_index));
	if (!wg_noise_create_response(&resp, &p->hs, &p->id, p->local_index))
		die("cannot create a response");
	wg_cookie_add_macs(&p->cookie, (uint8_t *)&resp, sizeof(resp), now);
	p->peer_ep = *from;
	p->have_ep = true;
	send_to(p, &resp, sizeof(resp));
	install_keypair(p);
	say("answered an initiation (index %08x)", p->local_index);
}

static int run_responder(struct probe *p, int count)
{
	uint8_t buf[2048], reply[2048], *in;
	struct sockaddr_in6 from;
	ssize_t n, iplen;

	while (count > 0) {
		n = receive(p, buf, sizeof(buf), &from, p->deadline);
		if (n == 0)
			die("timed out with %d echo requests unanswered", count);
		switch (wg_msg_type(buf, (size_t)n)) {
		case WG_MSG_INITIATION:
			answer_initiation(p, buf, (size_t)n, &from);
			break;
		case WG_MSG_DATA:
			iplen = open_data(p, buf, (size_t)n, &in);
			if (iplen <= 0 || !is_echo(in, (size_t)iplen, ICMP6_ECHO_REQUEST) ||
			    memcmp(in + 24, &p->our_ip, 16) != 0) {
				say("ignored a data packet");
				break;
			}
			/* Roaming: replies go where the latest authenticated packet came from. */
			p->peer_ep = from;
			send_data(p, reply,
				  build_echo(reply, ICMP6_ECHO_REPLY, &p->our_ip,
					     (const struct in6_addr *)(in + 8),
					     in + IP6_HDR_LEN + 4,
					     (size_t)iplen - IP6_HDR_LEN - 4));
			say("answered an echo request");
			count--;
			break;
		}
	}
	return 0;
}

static void usage(void)
{
	fputs("usage: wgprobe [-r] -k KEYFILE -p PEERPUB [-P PSKFILE] [-e HOST:PORT] "
	      "[-l PORT] [-a OURIP6] [-d PEERIP6] [-s PAYLOAD] [-n COUNT] [-t SECONDS]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static struct probe p;
	uint8_t priv[WG_KEY_LEN], peer[WG_KEY_LEN], psk[WG_KEY_LEN] = {0};
	const char *keyfile = NULL, *peerpub = NULL, *endpoint = NULL, *payload = NULL;
	struct sockaddr_in6 bind_sa = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
	bool responder = false, have_peer_ip = false;
	int c, count = 1, timeout = 20, off = 0, rc;

	if (!wg_crypto_init())
		die("libsodium failed to initialise");
	while ((c = getopt(argc, argv, "rk:p:P:e:l:a:d:n:t:s:")) != -1) {
		switch (c) {
		case 'r':
			responder = true;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'p':
			peerpub = optarg;
			break;
		case 'P':
			read_key_file(psk, optarg);
			break;
		case 'e':
			endpoint = optarg;
			break;
		case 'l':
			bind_sa.sin6_port = htons((uint16_t)atoi(optarg));
			break;
		case 'a':
			if (inet_pton(AF_INET6, optarg, &p.our_ip) != 1)
				die("bad address %s", optarg);
			break;
		case 'd':
			if (inet_pton(AF_INET6, optarg, &p.peer_ip) != 1)
				die("bad address %s", optarg);
			have_peer_ip = true;
			break;
		case 'n':
			count = atoi(optarg);
			break;
		case 't':
			timeout = atoi(optarg);
			break;
		case 's':
			payload = optarg;
			break;
		default:
			usage();
		}
	}
	if (!keyfile || !peerpub || (!responder && (!endpoint || (!have_peer_ip && !payload))))
		usage();
	read_key_file(priv, keyfile);
	if (!key_from_base64(peer, peerpub))
		die("bad peer public key");
	if (!wg_identity_set(&p.id, priv))
		die("bad private key");
	sodium_memzero(priv, sizeof(priv));
	wg_handshake_init(&p.hs, &p.id, peer, psk);
	sodium_memzero(psk, sizeof(psk));
	wg_cookie_init(&p.cookie, peer);
	wg_cookie_checker_init(&p.checker, p.id.public_key);
	if (endpoint) {
		parse_endpoint(&p.peer_ep, endpoint);
		p.have_ep = true;
	}

	p.fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (p.fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(p.fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (bind(p.fd, (struct sockaddr *)&bind_sa, sizeof(bind_sa)) < 0)
		die("bind: %s", strerror(errno));
	p.deadline = clock_ns(CLOCK_MONOTONIC) + (uint64_t)timeout * NSEC_PER_SEC;

	rc = responder ? run_responder(&p, count)
	     : payload ? run_sender(&p, payload, count)
		       : run_initiator(&p);
	wg_keypair_put(p.kp);
	wg_identity_clear(&p.id);
	close(p.fd);
	return rc;
}
