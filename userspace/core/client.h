/* SPDX-License-Identifier: GPL-2.0 */
/*
 * client.h - one subscriber, whatever its transport: its channels, its
 * bounded queue of references to shared items, and the transport table
 * the hub calls it through.  The hub knows nothing else of transports.
 *
 * Every field below is protected by the hub lock (hub_lock()).
 */
#ifndef PUSHD_CLIENT_H
#define PUSHD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/item.h"
#include "core/timer.h"
#include "protocol/chan.h"

struct MHD_Connection;
struct client;
struct sub_request;

/* Why a client is cut off. */
enum client_close {
	CLOSE_SLOW = 1,		/* its queue went over --max-queue */
	CLOSE_SHUTDOWN,		/* SIGTERM */
	CLOSE_ABORT,		/* SIGTERM, and the goodbye did not get through in time */
	CLOSE_EXPIRED,		/* the token that let it subscribe expired */
};

/*
 * A transport.  The HTTP layer calls detect() then open(); the hub calls
 * the rest with its lock held:
 *   deliver()    items were queued (or the history arrived): send them
 *   heartbeat()  its deadline came (@now, monotonic seconds; a call
 *                early is harmless): returns the second it wants the
 *                next call at, 0 for none (hub_rearm() moves it)
 *   close()      cut the client off (it must still be reaped later)
 *   item_len()   bytes an item takes in this transport, for --max-queue
 * open() returns an enum MHD_Result.
 */
struct push_transport {
	const char *name;
	int kind;		/* PUSH_TRANSPORT_* of push/probe.h */
	bool (*detect)(struct MHD_Connection *conn);
	int (*open)(struct MHD_Connection *conn, const struct sub_request *req, void **con_cls);
	void (*deliver)(struct client *c);
	uint64_t (*heartbeat)(struct client *c, uint64_t now);
	void (*close)(struct client *c, enum client_close why);
	uint32_t (*item_len)(const struct item *it);
};

/* What /sub asked for. */
enum since_mode { SINCE_NONE, SINCE_OLDEST, SINCE_ID };

struct sub_request {
	struct chan_name chans[PUSH_FILTER_MAX];
	int nchans;
	enum since_mode since_mode;
	uint64_t since;
	uint64_t epoch;		/* the epoch since was given with ("EPOCH-ID"), 0: the current one */
	bool raw;		/* ?format=raw (SSE only): payloads as data: lines */
	bool http11;		/* an HTTP/1.1 request: a stream may be sent chunked */
	uint64_t expires;	/* monotonic second its token expires at; 0: never */
};

/* A client's subscription to one channel: a node in the channel's list. */
struct sub {
	struct client *c;
	struct chan *ch;
	struct sub *prev, *next;
};

/* client.flags */
#define CF_DIRTY	0x01	/* on the hub's dirty list */
#define CF_REPLAY	0x02	/* resuming from the device's history: no live items yet */
#define CF_CLOSING	0x04	/* cut off: accepts no more items */
#define CF_SUSPENDED	0x08	/* MHD connection suspended, waiting for items */
#define CF_REGISTERED	0x10	/* in the hub's lists */
#define CF_DONE		0x20	/* transport-specific end state */
#define CF_GONE		0x80	/* the peer left: end the connection without a word */

struct client {
	const struct push_transport *t;
	struct sub *subs;		/* nsubs nodes, one per channel */
	uint8_t nsubs;
	uint8_t flags;			/* CF_* */
	int fd;				/* socket, for probe tagging */
	uint64_t after_id;		/* skip live messages with id <= after_id */
	uint64_t last_id;		/* last id queued or sent (dedupe, long-poll "next") */
	uint64_t delivered;		/* items written */
	uint64_t expires;		/* cut off (CLOSE_EXPIRED) at this monotonic second; 0: never */
	struct timer tm;		/* in the hub's wheel: its next deadline (while registered) */

	/* Queue: a ring of item references, head first. */
	struct item **q;
	uint32_t qcap, qhead, qlen;
	uint32_t qoff;			/* bytes of the head item already written */
	size_t qbytes;			/* bytes queued, by t->item_len() */
	size_t hist_bytes;		/* of which history (exempt from --max-queue) */
	size_t batch_bytes;		/* of which queued since the last delivery (exempt) */
	uint32_t hist_items;		/* history items still at the head */

	struct replay *rp;		/* while CF_REPLAY: where its replay is (hub.c) */
	struct client *next_dirty;	/* hub's dirty list */
	struct client *prev_all, *next_all; /* hub's list of every client */
};

/* A replaying client's queue went down: its next replay step may come (hub.c, lock held). */
void hub_replay_drained(struct client *c);

/* Append (with a new reference); returns 0 or -ENOMEM. */
int client_push(struct client *c, struct item *it);

/* Head of the queue, or NULL. */
static inline struct item *client_head(const struct client *c)
{
	return c->qlen ? c->q[c->qhead] : NULL;
}

/* Item @i of the queue (0 = head). */
static inline struct item *client_at(const struct client *c, uint32_t i)
{
	return c->q[(c->qhead + i) % c->qcap];
}

/* Drops the head item (and its reference); resets qoff. */
void client_pop(struct client *c);

/* Drops every queued item. */
void client_drain(struct client *c);

/*
 * Drops every queued item but one half written (qoff > 0), which must be
 * finished or the stream is garbage: for cutting a client off.
 */
void client_drain_unsent(struct client *c);

/* Puts @items (already referenced, in order) before the queue's items. */
int client_prepend(struct client *c, struct item **items, uint32_t n);

/* Changes c->qbytes (and the total of /stats) by @delta. */
void client_qbytes_add(struct client *c, int64_t delta);

/* Frees the queue (after client_drain()). */
void client_queue_free(struct client *c);

#endif
