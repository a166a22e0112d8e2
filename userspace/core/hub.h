/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hub.h - the fan-out: one thread reads /dev/push through io_uring, encodes
 * each message once (item.h) and queues a reference to it on every client
 * subscribed to its channel, then lets each touched client's transport
 * deliver its whole backlog at once.  The same thread runs a 1 s tick
 * that visits the clients whose deadline came (heartbeats, long-poll
 * timeouts, pong deadlines, token expiry: a timer wheel, timer.h) and an
 * epoll set for sockets the transports drive themselves (WebSocket).
 *
 * hub.c holds the clients, their queues and the fan-out, hub_thread.c the
 * thread, channels.c the channel table, recent.c the record of the latest
 * messages for resumes.
 *
 * One lock, the hub lock, protects channels, clients and their queues.
 * hub_unlock() first lets every client that got items deliver them, then
 * frees the clients given to hub_reap(): code holding the lock never frees
 * a client under another's feet.
 */
#ifndef PUSHD_HUB_H
#define PUSHD_HUB_H

#include <stdbool.h>
#include <stdint.h>

#include "core/client.h"

/* Sets the hub up on an open /dev/push; returns 0 or -errno. */
int hub_init(int devfd, int histfd);

/* Starts the reader thread; returns 0 or -errno. */
int hub_start(void);

/*
 * Refuses new subscribers from now on (hub_subscribe() gives -ESHUTDOWN),
 * cuts every client off (CLOSE_SHUTDOWN), waits up to @ms for them to go,
 * then aborts the rest (CLOSE_ABORT) and waits 500 ms more at most.
 */
void hub_shutdown(unsigned int ms);

/* True once hub_shutdown() has begun. */
bool hub_closing(void);

/* Stops the reader thread and frees what is left. */
void hub_stop(void);

void hub_lock(void);
void hub_unlock(void);

/*
 * Registers @c (t, fd set; lock not held) on req's channels, then puts the
 * history req asks for at the head of its queue; live messages follow
 * without duplicates or holes.  Returns 0, or -errno (nothing registered;
 * -ESHUTDOWN once hub_shutdown() has begun).
 */
int hub_subscribe(struct client *c, const struct sub_request *req);

/*
 * Unregisters @c and drops its queue (lock held); idempotent.  Only @c's
 * owner (the thread that frees it after) may call it: it may wait for a
 * replay step of @c with the lock dropped, and another thread's
 * unsubscribe meanwhile would let the owner free @c under it.
 */
void hub_unsubscribe(struct client *c);

/* Queues @it on @c (lock held), cutting @c off if over --max-queue. */
void hub_queue(struct client *c, struct item *it);

/* Cuts @c off (lock held): it leaves its channels, its transport says why. */
void hub_cut_off(struct client *c, enum client_close why);

/*
 * The peer of @c left (lock held): it leaves its channels at once and is
 * marked gone; its owner ends the connection and unsubscribes it.  For
 * callers that do not own @c (the hub thread's epoll watch of an SSE or
 * long-poll socket): hub_unsubscribe() may wait for a replay step, with
 * the lock dropped, and the owner could free @c meanwhile.
 */
void hub_peer_gone(struct client *c);

/*
 * Moves @c's next heartbeat() call to second @when (lock held), or to its
 * token's expiry if that comes first; 0: none but the expiry.  A no-op for
 * a client no longer registered.
 */
void hub_rearm(struct client *c, uint64_t when);

/* Marks @c for delivery at hub_unlock() (lock held). */
void hub_mark_dirty(struct client *c);

/* Unsubscribes @c and calls @release(c) at hub_unlock() (lock held). */
void hub_reap(struct client *c, void (*release)(struct client *c));

/* Sockets driven by transports: @cb runs on the hub thread, lock held. */
struct hub_watch {
	int fd;
	uint32_t events;
	void (*cb)(struct hub_watch *w, uint32_t events);
};
int hub_watch_add(struct hub_watch *w);
int hub_watch_mod(struct hub_watch *w, uint32_t events);
void hub_watch_del(struct hub_watch *w);

/*
 * 0 when the device reads fine and the hub thread ticks; else -errno and
 * a short reason in *why (for /healthz).
 */
int hub_health(const char **why);

/* True once a read of the device said it is gone (pushd then exits 1). */
bool hub_device_gone(void);

/* @fn runs on the hub thread after every 1 s tick, lock not held. */
void hub_on_tick(unsigned int (*fn)(uint64_t now));

/* The device's epoch (this module load), 0 for a v1 device. */
uint64_t hub_epoch(void);

/* Last id the hub has fanned out. */
uint64_t hub_last_id(void);

/* Subscribers of channel @name per transport kind (lock not held). */
void hub_chan_subscribers(const char *name, uint64_t counts[4]);

/* Queue depths over all clients (lock not held). */
void hub_queue_stats(uint64_t *items, uint64_t *bytes, uint64_t *max_bytes);

#endif
