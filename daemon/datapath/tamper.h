/* SPDX-License-Identifier: ISC */
/*
 * A relay that misbehaves, for tests only: built into alameshd-tamper
 * (make tamper, with ALAMESH_TEST_TAMPER), never into alameshd. The file
 * the environment variable ALAMESH_TAMPER names holds a word, read again
 * every 100 ms, that chooses what the receive thread does to each relayed
 * data message it passes on: "flip" flips a bit of the
 * end-to-end message, "replay" sends it twice, "inject" sends, beside it,
 * an ICMPv6 echo request from the message's source to its destination in
 * this relay's own session with the next hop (a forgery in the source's
 * name); anything else, nothing. tests/integration/test_relay_tamper.sh checks that none of it
 * reaches the destination's TUN.
 */
#ifndef ALAMESH_TAMPER_H
#define ALAMESH_TAMPER_H

#include "daemon/datapath/batch.h"

struct peer;

/* Tampers with the relayed message just put in slot i of b for next (see above). */
void tamper_relayed(struct device *dev, struct batch *b, unsigned int i, struct peer *next);

#endif
