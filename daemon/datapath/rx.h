/* SPDX-License-Identifier: ISC */
/*
 * The receive thread: UDP -> decrypt -> TUN or onward, a batch at a time;
 * handshake messages and routing frames are queued for the control thread.
 */
#ifndef ALAMESH_RX_H
#define ALAMESH_RX_H

/* The thread's body; arg is the struct device. Returns when dev->stop_fd is written. */
void *rx_thread_main(void *arg);

#endif
