// SPDX-License-Identifier: ISC
/* Packets staged until a session exists (stage.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "daemon/core/stage.h"
#include "daemon/core/peer.h"

bool stage_pool_init(struct device *dev)
{
	dev->stage_pool = calloc(STAGE_POOL_SIZE, sizeof(*dev->stage_pool));
	if (!dev->stage_pool)
		return false;
	for (size_t i = 0; i < STAGE_POOL_SIZE; i++) {
		dev->stage_pool[i].next = dev->stage_free;
		dev->stage_free = &dev->stage_pool[i];
	}
	return pthread_mutex_init(&dev->stage_lock, NULL) == 0;
}

void stage_pool_free(struct device *dev)
{
	if (!dev->stage_pool)
		return;
	sodium_memzero(dev->stage_pool, STAGE_POOL_SIZE * sizeof(*dev->stage_pool));
	free(dev->stage_pool);
	pthread_mutex_destroy(&dev->stage_lock);
	dev->stage_pool = NULL;
}

bool stage_packet(struct device *dev, struct peer *p, const uint8_t *pkt, uint32_t len)
{
	struct stage_buf *s;

	if (len > sizeof(s->data))
		return false;
	pthread_mutex_lock(&dev->stage_lock);
	s = dev->stage_free;
	if (s)
		dev->stage_free = s->next;
	pthread_mutex_unlock(&dev->stage_lock);
	if (!s)
		return false;
	memcpy(s->data, pkt, len);
	s->len = len;
	s->next = NULL;
	/* Caller holds p->lock. When the queue is full the oldest packet goes. */
	if (p->nstaged >= PEER_STAGED_MAX) {
		struct stage_buf *old = p->staged_head;
		p->staged_head = old->next;
		p->nstaged--;
		pthread_mutex_lock(&dev->stage_lock);
		old->next = dev->stage_free;
		dev->stage_free = old;
		pthread_mutex_unlock(&dev->stage_lock);
	}
	if (p->staged_tail && p->staged_head)
		p->staged_tail->next = s;
	else
		p->staged_head = s;
	p->staged_tail = s;
	p->nstaged++;
	return true;
}

struct stage_buf *stage_take_all(struct peer *p)
{
	struct stage_buf *list = p->staged_head;

	p->staged_head = p->staged_tail = NULL;
	p->nstaged = 0;
	return list;
}

void stage_release(struct device *dev, struct stage_buf *list)
{
	pthread_mutex_lock(&dev->stage_lock);
	while (list) {
		struct stage_buf *next = list->next;
		list->next = dev->stage_free;
		dev->stage_free = list;
		list = next;
	}
	pthread_mutex_unlock(&dev->stage_lock);
}

void stage_drop_all(struct device *dev, struct peer *p)
{
	pthread_mutex_lock(&p->lock);
	struct stage_buf *list = stage_take_all(p);
	pthread_mutex_unlock(&p->lock);
	stage_release(dev, list);
}
