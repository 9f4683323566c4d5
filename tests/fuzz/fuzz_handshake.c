/* SPDX-License-Identifier: ISC */
/*
 * Feeds arbitrary datagrams to the handshake and cookie code, by message
 * type: initiations to a responder, responses to an initiator waiting for
 * one, cookie replies to an initiator that sent a mac1.
 *
 * Randomness is made deterministic and every input starts from the same
 * state, so the seeds in tests/fuzz/corpus/fuzz_handshake (valid messages,
 * written by building this file with -DFUZZ_SEED_MAIN and running it with
 * the corpus directory) pass every check and mutations explore each step.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "wgproto/cookie.h"
#include "wgproto/crypto.h"
#include "wgproto/keypair.h"
#include "wgproto/messages.h"
#include "wgproto/noise.h"

#define INITIATOR_INDEX 0x01020304u
#define RESPONDER_INDEX 0x0a0b0c0du
#define WALL		(1700000000ULL * NSEC_PER_SEC)
#define MONO		(1000ULL * NSEC_PER_SEC)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng_state;

/* SplitMix64: reproducible "randomness", so recorded seeds stay valid. */
static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static const char *rng_name(void)
{
	return "fuzz-deterministic";
}

static uint32_t rng_random(void)
{
	return (uint32_t)rng_next();
}

static void rng_buf(void *const buf, const size_t size)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < size; i++)
		p[i] = (uint8_t)rng_next();
}

static randombytes_implementation deterministic_rng = {
    .implementation_name = rng_name,
    .random = rng_random,
    .buf = rng_buf,
};

struct world {
	struct wg_identity ini_id, resp_id;
	struct wg_handshake ini_hs, resp_hs;
	struct wg_cookie ini_cookie; /* the initiator's view of the responder */
	struct wg_cookie_checker ini_checker, resp_checker;
	struct wg_msg_initiation init; /* what the initiator sent */
	uint8_t src[6];
};

static struct wg_handshake *by_static(void *ctx, const uint8_t key[WG_KEY_LEN])
{
	struct world *w = ctx;

	return sodium_memcmp(key, w->resp_hs.remote_static, WG_KEY_LEN) == 0 ? &w->resp_hs : NULL;
}

static struct wg_handshake *by_index(void *ctx, uint32_t idx)
{
	struct world *w = ctx;

	return idx == w->ini_hs.local_index ? &w->ini_hs : NULL;
}

/* The same two peers, and the initiator's outstanding initiation, for every input. */
static void world_setup(struct world *w)
{
	uint8_t priv[WG_KEY_LEN];

	rng_state = 0;
	memset(w, 0, sizeof(*w));
	memset(priv, 0x11, sizeof(priv));
	wg_identity_set(&w->ini_id, priv);
	memset(priv, 0x22, sizeof(priv));
	wg_identity_set(&w->resp_id, priv);
	wg_handshake_init(&w->ini_hs, &w->ini_id, w->resp_id.public_key, NULL);
	wg_handshake_init(&w->resp_hs, &w->resp_id, w->ini_id.public_key, NULL);
	wg_cookie_init(&w->ini_cookie, w->resp_id.public_key);
	wg_cookie_checker_init(&w->ini_checker, w->ini_id.public_key);
	wg_cookie_checker_init(&w->resp_checker, w->resp_id.public_key);
	memcpy(w->src, (const uint8_t[]){198, 51, 100, 1, 0xca, 0x6c}, 6);

	wg_noise_create_initiation(&w->init, &w->ini_hs, &w->ini_id, INITIATOR_INDEX, WALL);
	wg_cookie_add_macs(&w->ini_cookie, (uint8_t *)&w->init, sizeof(w->init), MONO);
}

static bool put_keypair(struct wg_keypair *kp)
{
	wg_keypair_put(kp);
	return kp != NULL;
}

/* Each returns whether the message made it through every step. */
static bool fuzz_initiation(struct world *w, const uint8_t *data)
{
	struct wg_msg_initiation msg;
	struct wg_msg_response resp;
	struct wg_handshake *hs;

	memcpy(&msg, data, sizeof(msg));
	wg_cookie_validate(&w->resp_checker, data, sizeof(msg), w->src, sizeof(w->src), MONO);
	hs = wg_noise_consume_initiation(&msg, &w->resp_id, MONO, by_static, w);
	if (!hs || !wg_noise_create_response(&resp, hs, &w->resp_id, RESPONDER_INDEX))
		return false;
	return put_keypair(wg_noise_derive_keypair(hs, MONO));
}

static bool fuzz_response(struct world *w, const uint8_t *data)
{
	struct wg_msg_response msg;
	struct wg_handshake *hs;

	memcpy(&msg, data, sizeof(msg));
	wg_cookie_validate(&w->ini_checker, data, sizeof(msg), w->src, sizeof(w->src), MONO);
	hs = wg_noise_consume_response(&msg, &w->ini_id, by_index, w);
	return hs && put_keypair(wg_noise_derive_keypair(hs, MONO));
}

static bool fuzz_cookie(struct world *w, const uint8_t *data)
{
	struct wg_msg_cookie msg;

	memcpy(&msg, data, sizeof(msg));
	if (!wg_cookie_consume_reply(&w->ini_cookie, &msg, MONO))
		return false;
	wg_cookie_add_macs(&w->ini_cookie, (uint8_t *)&w->init, sizeof(w->init), MONO);
	return wg_cookie_validate(&w->resp_checker, (const uint8_t *)&w->init, sizeof(w->init),
				  w->src, sizeof(w->src), MONO) == WG_MAC_VALID_COOKIE;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	randombytes_set_implementation(&deterministic_rng);
	return wg_crypto_init() ? 0 : 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct world w;

	world_setup(&w);
	/* Arbitrary lengths must be refused by the length checks, not crash. */
	wg_cookie_validate(&w.resp_checker, data, size, w.src, sizeof(w.src), MONO);

	switch (wg_msg_type(data, size)) {
	case WG_MSG_INITIATION:
		fuzz_initiation(&w, data);
		break;
	case WG_MSG_RESPONSE:
		fuzz_response(&w, data);
		break;
	case WG_MSG_COOKIE:
		fuzz_cookie(&w, data);
		break;
	}
	return 0;
}

#ifdef FUZZ_SEED_MAIN
static void write_seed(const char *dir, const char *name, const void *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len) {
		perror(path);
		return;
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	static struct world w;
	struct wg_msg_initiation init;
	struct wg_msg_response resp;
	struct wg_msg_cookie reply;
	struct wg_cookie to_initiator;
	bool ok = true;

	if (argc != 2 || LLVMFuzzerInitialize(&argc, &argv) != 0)
		return 2;

	/*
	 * The responder checks the initiation (making its cookie secret) as the
	 * first thing after setup, as fuzz_cookie does, so the secrets match.
	 */
	world_setup(&w);
	wg_cookie_validate(&w.resp_checker, (const uint8_t *)&w.init, sizeof(w.init), w.src,
			   sizeof(w.src), MONO);
	wg_cookie_reply_create(&reply, &w.resp_checker, (const uint8_t *)&w.init, sizeof(w.init),
			       w.src, sizeof(w.src), MONO);
	write_seed(argv[1], "cookie", &reply, sizeof(reply));

	world_setup(&w);
	init = w.init;
	write_seed(argv[1], "initiation", &init, sizeof(init));
	if (!wg_noise_consume_initiation(&w.init, &w.resp_id, MONO, by_static, &w) ||
	    !wg_noise_create_response(&resp, &w.resp_hs, &w.resp_id, RESPONDER_INDEX))
		return 1;
	wg_cookie_init(&to_initiator, w.ini_id.public_key);
	wg_cookie_add_macs(&to_initiator, (uint8_t *)&resp, sizeof(resp), MONO);
	write_seed(argv[1], "response", &resp, sizeof(resp));
	static const char data_msg[WG_DATA_OVERHEAD] = "\x04\0\0\0 not a real data packet";
	write_seed(argv[1], "data", data_msg, sizeof(data_msg));

	/* The seeds must get all the way through in a fresh world, or they are useless. */
	world_setup(&w);
	ok &= fuzz_initiation(&w, (const uint8_t *)&init);
	world_setup(&w);
	ok &= fuzz_response(&w, (const uint8_t *)&resp);
	world_setup(&w);
	ok &= fuzz_cookie(&w, (const uint8_t *)&reply);
	fprintf(stderr, "seeds %s\n", ok ? "verified" : "DO NOT pass");
	return ok ? 0 : 1;
}
#endif
