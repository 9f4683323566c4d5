/* SPDX-License-Identifier: ISC */
/*
 * Transport data messages (WireGuard paper 5.4.6): the 16-byte header, the
 * plaintext padded to a multiple of 16, ChaCha20-Poly1305 under the
 * keypair's send key with the counter as nonce. Both directions work in
 * place so the data path never copies a packet.
 */
#ifndef ALAMESH_TRANSPORT_H
#define ALAMESH_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keypair.h"
#include "messages.h"

/* Length of the padded plaintext for len bytes of packet, never past mtu. */
uint32_t wg_transport_padded_len(uint32_t len, uint32_t mtu);
/*
 * Seals the len-byte plaintext already at buf + sizeof(struct wg_msg_data):
 * pads it, writes the header and encrypts in place. buf must have room for
 * the header, wg_transport_padded_len() bytes and the tag. Returns the
 * datagram length.
 */
size_t wg_transport_seal(uint8_t *buf, uint32_t len, uint32_t mtu, const struct wg_keypair *kp,
			 uint64_t counter);

enum wg_open_result {
	WG_OPEN_OK,
	WG_OPEN_EXPIRED, /* keypair older than REJECT_AFTER_TIME */
	WG_OPEN_AUTH,	 /* forged, corrupted or under another key */
	WG_OPEN_REPLAY,	 /* seen before, or older than the window */
};

/*
 * Opens the data message of len bytes (wg_msg_type() said WG_MSG_DATA and
 * its receiver index found kp) in place: the padded plaintext is then at
 * buf + sizeof(struct wg_msg_data), *plen bytes. The replay window moves
 * only for authentic packets. Only the receiving thread may call this.
 */
enum wg_open_result wg_transport_open(struct wg_keypair *kp, uint8_t *buf, size_t len,
				      uint64_t now_ns, size_t *plen);

/*
 * Opens, in place, a data message that we sealed under kp ourselves and
 * that came back to us (a relay's notice): its receiver must be kp's
 * remote index, and it must be authentic under our send key. No replay
 * window: nothing is delivered, the caller only reads what it sent.
 */
bool wg_transport_open_sent(const struct wg_keypair *kp, uint8_t *buf, size_t len, size_t *plen);

#endif
