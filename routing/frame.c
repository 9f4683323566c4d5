// SPDX-License-Identifier: ISC
/* Routing frames: validation, decoding and building (see frame.h). */
#include <string.h>

#include "routing/frame.h"

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

size_t rt_tlv_wire_len(enum rt_tlv_type type)
{
	switch (type) {
	case RT_TLV_HELLO:
		return sizeof(struct rt_tlv_hello);
	case RT_TLV_IHU:
		return sizeof(struct rt_tlv_ihu);
	case RT_TLV_UPDATE:
		return sizeof(struct rt_tlv_update);
	case RT_TLV_ROUTE_REQ:
		return sizeof(struct rt_tlv_route_req);
	case RT_TLV_SEQNO_REQ:
		return sizeof(struct rt_tlv_seqno_req);
	case RT_TLV_SEEN:
		return sizeof(struct rt_tlv_seen);
	case RT_TLV_PAD:
		break;
	}
	return 0;
}

int rt_frame_check(const uint8_t *buf, size_t len, const char **why)
{
	if (len < RT_FRAME_HDR_LEN || buf[0] != RT_FRAME_MAGIC) {
		*why = "not a routing frame";
		return -1;
	}
	size_t body = get16(buf + 2);
	if (body > len - RT_FRAME_HDR_LEN || body > RT_FRAME_MAX - RT_FRAME_HDR_LEN) {
		*why = "length past the end of the datagram";
		return -1;
	}
	const uint8_t *p = buf + RT_FRAME_HDR_LEN, *end = p + body;
	while (p < end) {
		if (end - p < 2) {
			*why = "record header cut short";
			return -1;
		}
		size_t rlen = 2 + (size_t)p[1];
		if (rlen > (size_t)(end - p)) {
			*why = "record cut short";
			return -1;
		}
		/* Known records have one size each: anything else is a broken sender. */
		size_t want = rt_tlv_wire_len((enum rt_tlv_type)p[0]);
		if (p[0] <= RT_TLV_LAST && p[0] != RT_TLV_PAD && rlen != want) {
			*why = "record of the wrong size";
			return -1;
		}
		if (p[0] == RT_TLV_UPDATE && p[2] != 0) {
			*why = "update with unknown flags";
			return -1;
		}
		p += rlen;
	}
	return (int)body;
}

void rt_frame_iter_init(struct rt_frame_iter *it, const uint8_t *buf)
{
	it->p = buf + RT_FRAME_HDR_LEN;
	it->end = it->p + get16(buf + 2);
}

static void decode(const uint8_t *p, struct rt_tlv *t)
{
	t->type = (enum rt_tlv_type)p[0];
	switch (t->type) {
	case RT_TLV_HELLO: {
		const struct rt_tlv_hello *h = (const void *)p;
		t->hello.seqno = get16(h->seqno);
		t->hello.interval_cs = get16(h->interval);
		t->hello.timestamp = get32(h->timestamp);
		t->hello.instance = get32(h->instance);
		break;
	}
	case RT_TLV_IHU: {
		const struct rt_tlv_ihu *h = (const void *)p;
		t->ihu.rx_quality = get16(h->rx_quality);
		t->ihu.interval_cs = get16(h->interval);
		t->ihu.echo = get32(h->echo);
		t->ihu.delay = get32(h->delay);
		break;
	}
	case RT_TLV_UPDATE: {
		const struct rt_tlv_update *u = (const void *)p;
		t->update.interval_cs = get16(u->interval);
		t->update.seqno = get16(u->seqno);
		t->update.metric = get32(u->metric);
		memcpy(&t->update.address, u->address, 16);
		memcpy(t->update.origin, u->origin, WG_KEY_LEN);
		break;
	}
	case RT_TLV_SEQNO_REQ: {
		const struct rt_tlv_seqno_req *s = (const void *)p;
		t->seqno_req.seqno = get16(s->seqno);
		t->seqno_req.hop_count = get16(s->hop_count);
		memcpy(&t->seqno_req.address, s->address, 16);
		memcpy(t->seqno_req.origin, s->origin, WG_KEY_LEN);
		break;
	}
	case RT_TLV_SEEN: {
		const struct rt_tlv_seen *s = (const void *)p;
		t->seen.port = get16(s->port);
		memcpy(&t->seen.address, s->address, 16);
		break;
	}
	case RT_TLV_ROUTE_REQ:
	case RT_TLV_PAD:
		break;
	}
}

bool rt_frame_next(struct rt_frame_iter *it, struct rt_tlv *out)
{
	while (it->end - it->p >= 2) {
		const uint8_t *p = it->p;
		it->p += 2 + (size_t)p[1];
		if (p[0] == RT_TLV_PAD || p[0] > RT_TLV_LAST)
			continue; /* padding, or a record of a later version */
		decode(p, out);
		return true;
	}
	return false;
}

void rt_frame_begin(struct rt_frame_builder *b, uint8_t *buf)
{
	b->buf = buf;
	b->len = RT_FRAME_HDR_LEN;
	memset(buf, 0, RT_FRAME_HDR_LEN);
	buf[0] = RT_FRAME_MAGIC;
}

static void encode(uint8_t *p, const struct rt_tlv *t, size_t len)
{
	memset(p, 0, len);
	p[0] = (uint8_t)t->type;
	p[1] = (uint8_t)(len - 2);
	switch (t->type) {
	case RT_TLV_HELLO: {
		struct rt_tlv_hello *h = (void *)p;
		put16(h->seqno, t->hello.seqno);
		put16(h->interval, t->hello.interval_cs);
		put32(h->timestamp, t->hello.timestamp);
		put32(h->instance, t->hello.instance);
		break;
	}
	case RT_TLV_IHU: {
		struct rt_tlv_ihu *h = (void *)p;
		put16(h->rx_quality, t->ihu.rx_quality);
		put16(h->interval, t->ihu.interval_cs);
		put32(h->echo, t->ihu.echo);
		put32(h->delay, t->ihu.delay);
		break;
	}
	case RT_TLV_UPDATE: {
		struct rt_tlv_update *u = (void *)p;
		put16(u->interval, t->update.interval_cs);
		put16(u->seqno, t->update.seqno);
		put32(u->metric, t->update.metric);
		memcpy(u->address, &t->update.address, 16);
		memcpy(u->origin, t->update.origin, WG_KEY_LEN);
		break;
	}
	case RT_TLV_SEQNO_REQ: {
		struct rt_tlv_seqno_req *s = (void *)p;
		put16(s->seqno, t->seqno_req.seqno);
		put16(s->hop_count, t->seqno_req.hop_count);
		memcpy(s->address, &t->seqno_req.address, 16);
		memcpy(s->origin, t->seqno_req.origin, WG_KEY_LEN);
		break;
	}
	case RT_TLV_SEEN: {
		struct rt_tlv_seen *s = (void *)p;
		put16(s->port, t->seen.port);
		memcpy(s->address, &t->seen.address, 16);
		break;
	}
	case RT_TLV_ROUTE_REQ:
	case RT_TLV_PAD:
		break;
	}
}

bool rt_frame_add(struct rt_frame_builder *b, const struct rt_tlv *t)
{
	size_t len = rt_tlv_wire_len(t->type);

	if (!len || b->len + len > RT_FRAME_MAX)
		return false;
	encode(b->buf + b->len, t, len);
	b->len += len;
	return true;
}

size_t rt_frame_end(struct rt_frame_builder *b)
{
	if (b->len == RT_FRAME_HDR_LEN)
		return 0;
	put16(b->buf + 2, (uint16_t)(b->len - RT_FRAME_HDR_LEN));
	return b->len;
}
