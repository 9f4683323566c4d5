/* SPDX-License-Identifier: ISC */
/* The transmit thread: TUN -> route lookup -> encrypt -> UDP, a batch at a time. */
#ifndef ALAMESH_TX_H
#define ALAMESH_TX_H

/* The thread's body; arg is the struct device. Returns when dev->stop_fd is written. */
void *tx_thread_main(void *arg);

#endif
