// SPDX-License-Identifier: ISC
#include <string.h>

#include "crypto.h"
#include "transport.h"

uint32_t wg_transport_padded_len(uint32_t len, uint32_t mtu)
{
	uint32_t padded = (len + WG_PADDING_MULTIPLE - 1) & ~(uint32_t)(WG_PADDING_MULTIPLE - 1);

	/* Padding must not push a full-size packet past the MTU. */
	if (padded > mtu)
		padded = mtu > len ? mtu : len;
	return padded;
}

size_t wg_transport_seal(uint8_t *buf, uint32_t len, uint32_t mtu, const struct wg_keypair *kp,
			 uint64_t counter)
{
	struct wg_msg_data *hdr = (struct wg_msg_data *)buf;
	uint32_t plen = wg_transport_padded_len(len, mtu);

	memset(hdr->encrypted + len, 0, plen - len);
	hdr->type = WG_MSG_DATA;
	memset(hdr->reserved, 0, sizeof(hdr->reserved));
	wg_put_le32(hdr->receiver, kp->remote_index);
	wg_put_le64(hdr->counter, counter);
	wg_aead_encrypt(hdr->encrypted, hdr->encrypted, plen, NULL, 0, counter, kp->send_key);
	return sizeof(*hdr) + plen + WG_AEAD_TAG_LEN;
}

enum wg_open_result wg_transport_open(struct wg_keypair *kp, uint8_t *buf, size_t len,
				      uint64_t now_ns, size_t *plen)
{
	struct wg_msg_data *hdr = (struct wg_msg_data *)buf;
	uint64_t counter;

	if (len < WG_DATA_OVERHEAD)
		return WG_OPEN_AUTH;
	if (!wg_keypair_can_receive(kp, now_ns))
		return WG_OPEN_EXPIRED;
	counter = wg_le64(hdr->counter);
	if (!wg_aead_decrypt(hdr->encrypted, hdr->encrypted, len - sizeof(*hdr), NULL, 0, counter,
			     kp->recv_key))
		return WG_OPEN_AUTH;
	if (!wg_replay_accept(&kp->replay, counter))
		return WG_OPEN_REPLAY;
	*plen = len - WG_DATA_OVERHEAD;
	return WG_OPEN_OK;
}

bool wg_transport_open_sent(const struct wg_keypair *kp, uint8_t *buf, size_t len, size_t *plen)
{
	struct wg_msg_data *hdr = (struct wg_msg_data *)buf;

	if (len < WG_DATA_OVERHEAD || wg_le32(hdr->receiver) != kp->remote_index)
		return false;
	if (!wg_aead_decrypt(hdr->encrypted, hdr->encrypted, len - sizeof(*hdr), NULL, 0,
			     wg_le64(hdr->counter), kp->send_key))
		return false;
	*plen = len - WG_DATA_OVERHEAD;
	return true;
}
