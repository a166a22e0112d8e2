/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hub_thread.h - between hub.c (clients, queues, fan-out) and
 * hub_thread.c (the thread that reads the device and drives the sockets).
 * Nothing outside the hub includes it.
 */
#ifndef PUSHD_HUB_THREAD_H
#define PUSHD_HUB_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/item.h"

/* hub_thread.c: the read buffer, epoll set, eventfd and ring for @devfd; returns 0 or -errno. */
int hub_thread_init(int devfd);

/* hub_thread.c: stops the thread if it runs, frees the buffer. */
void hub_thread_stop(void);

/*
 * hub.c, on the hub's thread, lock not held: queues each of @items (in id
 * order) on its subscribers and records it as recent; @lost says records
 * of this read could not be encoded.
 */
void hub_fanout(struct item **items, size_t n, bool lost);

/* hub.c, on the hub's thread, lock not held: the heartbeat() of every client due by @now (seconds). */
void hub_tick(uint64_t now);

#endif
