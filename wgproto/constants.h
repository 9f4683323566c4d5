/* SPDX-License-Identifier: ISC */
/*
 * Every protocol constant of alamesh in one place. The WireGuard values come
 * from the WireGuard paper (section 6) and the wire format of wireguard.com;
 * changing one of them breaks interoperability with stock WireGuard.
 */
#ifndef ALAMESH_CONSTANTS_H
#define ALAMESH_CONSTANTS_H

#include <stdint.h>

#define NSEC_PER_SEC  1000000000ULL
#define NSEC_PER_MSEC 1000000ULL

/* Sizes of keys and primitives. */
#define WG_KEY_LEN	32 /* X25519 private/public keys, symmetric keys */
#define WG_HASH_LEN	32 /* BLAKE2s-256 */
#define WG_MAC_LEN	16 /* mac1, mac2: keyed BLAKE2s-128 */
#define WG_COOKIE_LEN	16
#define WG_AEAD_TAG_LEN 16 /* Poly1305 */
#define WG_TAI64N_LEN	12
#define WG_XNONCE_LEN	24 /* XChaCha20-Poly1305 nonce of cookie replies */
#define WG_KEY_B64_LEN	44 /* base64 of 32 bytes, with one '=' of padding */

/* Message types, first byte of every datagram (little-endian u32 on the wire). */
#define WG_MSG_INITIATION 1
#define WG_MSG_RESPONSE	  2
#define WG_MSG_COOKIE	  3
#define WG_MSG_DATA	  4

/* Noise identifiers, hashed into the initial chaining key and hash. */
#define WG_CONSTRUCTION "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
#define WG_IDENTIFIER	"WireGuard v1 zx2c4 Jason@zx2c4.com"
#define WG_LABEL_MAC1	"mac1----"
#define WG_LABEL_COOKIE "cookie--"

/* Message counters (WireGuard paper, 6.1). */
#define WG_REKEY_AFTER_MESSAGES	 (1ULL << 60)
#define WG_REJECT_AFTER_MESSAGES (UINT64_MAX - (1ULL << 13))

/* Timers (WireGuard paper, 6.1), in nanoseconds. */
#define WG_REKEY_AFTER_TIME	 (120 * NSEC_PER_SEC)
#define WG_REJECT_AFTER_TIME	 (180 * NSEC_PER_SEC)
#define WG_REKEY_ATTEMPT_TIME	 (90 * NSEC_PER_SEC)
#define WG_REKEY_TIMEOUT	 (5 * NSEC_PER_SEC)
#define WG_REKEY_TIMEOUT_JITTER	 (334 * NSEC_PER_MSEC) /* max random extra, exclusive */
#define WG_KEEPALIVE_TIMEOUT	 (10 * NSEC_PER_SEC)
#define WG_COOKIE_SECRET_MAX_AGE (120 * NSEC_PER_SEC)
#define WG_COOKIE_MAX_AGE	 (120 - 5) * NSEC_PER_SEC /* a received cookie, minus latency margin */
#define WG_MAX_TIMER_HANDSHAKES	 (WG_REKEY_ATTEMPT_TIME / WG_REKEY_TIMEOUT) /* 18 tries */
/* An initiation is accepted at most this often per peer (flood protection). */
#define WG_INITIATIONS_PER_SECOND  50
#define WG_MIN_INITIATION_INTERVAL (NSEC_PER_SEC / WG_INITIATIONS_PER_SECOND)

/* Sliding replay window: bits of history kept per keypair (>= 2048). */
#define WG_REPLAY_WINDOW_BITS 8192

/* Data messages: payloads are padded to a multiple of this. */
#define WG_PADDING_MULTIPLE 16

/* Interface defaults. */
#define ALAMESH_DEFAULT_IFNAME "alamesh0"
#define ALAMESH_DEFAULT_PORT   51820
#define ALAMESH_DEFAULT_MTU    1420
#define ALAMESH_MAX_MTU	       9000
#define ALAMESH_MIN_MTU	       1280 /* IPv6 minimum link MTU */

/* The derived address: "alamesh address" (15 bytes, no terminator). */
#define ALAMESH_ADDR_LABEL     "alamesh address"
#define ALAMESH_ADDR_LABEL_LEN 15
#define ALAMESH_ADDR_PREFIX    0xfc

/*
 * Relayed messages (alamesh-protocol(7), "Relayed messages"): a frame in the
 * session with the next hop that carries a WireGuard message of the session
 * between two members, byte for byte. High nibble 0xA: not IP, and beside
 * the routing frame's 0xa1.
 */
#define RELAY_MAGIC_MESSAGE 0xa2 /* an end-to-end message on its way */
#define RELAY_MAGIC_EXPIRED 0xa3 /* notice: its hop limit ran out at the relay named */
#define RELAY_MAGIC_NOROUTE 0xa4 /* notice: the relay named has no route on */
#define RELAY_HDR_LEN	    36	 /* magic, hop limit, length, destination, source */
#define RELAY_HOP_LIMIT	    64	 /* of handshakes and keepalives, which carry no IP header */
/* What a relayed message costs over a direct one: its header and the hop session's. */
#define RELAY_OVERHEAD (RELAY_HDR_LEN + 32)

/* A member's candidate endpoints, told over the session (daemon/control/candidates.h). */
#define CAND_MAGIC 0xa5
#define CAND_MAX   8 /* candidates in one message */
/*
 * A probe: sent straight to a candidate endpoint in the session, it says
 * whether the sender hears us straight (byte 1: 1 yes, 0 no); a punched
 * path counts only while both ends do.
 */
#define PROBE_MAGIC 0xa6
#define PROBE_LEN   2

/* UDP GSO trains: the kernel's segment limit and a payload that fits 64 KiB. */
#define UDP_GSO_MAX_SEGS  64
#define UDP_GSO_MAX_BYTES 65000

#endif
