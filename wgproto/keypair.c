// SPDX-License-Identifier: ISC
/*
 * Transport keypairs and their current/previous/next rotation (WireGuard
 * paper 5.4.6). The rotation functions only move pointers: keypairs that
 * fall out are handed back to the caller, who still has to unregister their
 * receiver indices before dropping the table's reference.
 */
#include <sodium.h>
#include <stdlib.h>

#include "keypair.h"

struct wg_keypair *wg_keypair_new(void)
{
	struct wg_keypair *kp = calloc(1, sizeof(*kp));

	if (!kp)
		return NULL;
	atomic_init(&kp->send_counter, 0);
	atomic_init(&kp->refcount, 1);
	wg_replay_init(&kp->replay);
	return kp;
}

void wg_keypair_get(struct wg_keypair *kp)
{
	atomic_fetch_add_explicit(&kp->refcount, 1, memory_order_relaxed);
}

void wg_keypair_put(struct wg_keypair *kp)
{
	if (!kp)
		return;
	/* acq_rel: every use by other threads happens before the wipe. */
	if (atomic_fetch_sub_explicit(&kp->refcount, 1, memory_order_acq_rel) != 1)
		return;
	sodium_memzero(kp, sizeof(*kp));
	free(kp);
}

static void clear_dropped(struct wg_keypair *dropped[3])
{
	dropped[0] = dropped[1] = dropped[2] = NULL;
}

void wg_keypairs_install(struct wg_keypairs *kps, struct wg_keypair *kp,
			 struct wg_keypair *dropped[3])
{
	clear_dropped(dropped);
	if (!kp->initiator) {
		/* Unconfirmed until the initiator sends data with it. */
		dropped[0] = kps->next;
		kps->next = kp;
		return;
	}
	dropped[0] = kps->previous;
	dropped[1] = kps->next;
	kps->previous = kps->current;
	kps->current = kp;
	kps->next = NULL;
}

bool wg_keypairs_received_with(struct wg_keypairs *kps, struct wg_keypair *kp,
			       struct wg_keypair **dropped)
{
	*dropped = NULL;
	if (!kp || kps->next != kp)
		return false;
	*dropped = kps->previous;
	kps->previous = kps->current;
	kps->current = kp;
	kps->next = NULL;
	return true;
}

void wg_keypairs_clear(struct wg_keypairs *kps, struct wg_keypair *dropped[3])
{
	dropped[0] = kps->current;
	dropped[1] = kps->previous;
	dropped[2] = kps->next;
	kps->current = kps->previous = kps->next = NULL;
}

static uint64_t age(const struct wg_keypair *kp, uint64_t now_ns)
{
	return now_ns > kp->birth_ns ? now_ns - kp->birth_ns : 0;
}

bool wg_keypair_reserve(struct wg_keypair *kp, uint64_t now_ns, uint32_t n, uint64_t *first)
{
	if (n == 0 || age(kp, now_ns) >= WG_REJECT_AFTER_TIME)
		return false;
	/*
	 * A compare-and-swap loop rather than a bare fetch-add: a failed
	 * reservation must not move the counter, or enough concurrent failures
	 * near the limit could wrap it around and reuse nonces.
	 */
	uint64_t old = atomic_load_explicit(&kp->send_counter, memory_order_relaxed);
	do {
		if (old >= WG_REJECT_AFTER_MESSAGES || n > WG_REJECT_AFTER_MESSAGES - old)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(
	    &kp->send_counter, &old, old + n, memory_order_relaxed, memory_order_relaxed));
	*first = old;
	return true;
}

bool wg_keypair_can_receive(const struct wg_keypair *kp, uint64_t now_ns)
{
	return age(kp, now_ns) < WG_REJECT_AFTER_TIME;
}

bool wg_keypair_needs_rekey_on_send(struct wg_keypair *kp, uint64_t now_ns)
{
	uint64_t counter = atomic_load_explicit(&kp->send_counter, memory_order_relaxed);

	if (counter > WG_REKEY_AFTER_MESSAGES)
		return true;
	return kp->initiator && age(kp, now_ns) >= WG_REKEY_AFTER_TIME;
}

bool wg_keypair_needs_rekey_on_receive(const struct wg_keypair *kp, uint64_t now_ns)
{
	return kp->initiator &&
	       age(kp, now_ns) >= WG_REJECT_AFTER_TIME - WG_KEEPALIVE_TIMEOUT - WG_REKEY_TIMEOUT;
}
