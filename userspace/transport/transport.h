/* SPDX-License-Identifier: GPL-2.0 */
/*
 * transport.h - the transports: one file each (longpoll.c, sse.c,
 * websocket.c), each a table of the type core/client.h defines, which is
 * all the hub knows of them.  A new transport is a new file here, a line
 * below and one in transport.c's list.
 */
#ifndef PUSHD_TRANSPORT_H
#define PUSHD_TRANSPORT_H

#include "core/client.h"
#include "core/hub.h"

struct MHD_Connection;

extern const struct push_transport transport_ws;
extern const struct push_transport transport_sse;
extern const struct push_transport transport_sse_raw;	/* SSE with ?format=raw */
extern const struct push_transport transport_longpoll;

/* The transport of a /sub request: the first whose detect() takes it (long-poll takes any). */
const struct push_transport *transport_detect(struct MHD_Connection *conn);

struct iovec;

/*
 * A queue's next bytes for one sendmsg() (SSE and WebSocket, written by the
 * hub): appends @piece[0..np) to @iov from index @k, leaving out the first
 * *@skip bytes (what an earlier partial write sent), adding to *@total;
 * returns the new count.  Empty pieces are left out.
 */
int iov_append(struct iovec *iov, int k, const struct iovec *piece, int np, size_t *skip,
	       size_t *total);

/* Pieces long-poll and SSE share (longpoll.c). */

/* Suspends @conn until hub delivers to @c (lock held). */
void longpoll_wait(struct client *c, struct MHD_Connection *conn);

/* deliver() of MHD-driven transports: resume @conn if it waits (lock held). */
void longpoll_wake(struct client *c, struct MHD_Connection *conn);

/*
 * Peer close while suspended: MHD does not watch a suspended connection,
 * so the hub's epoll set watches its socket for RDHUP/HUP instead; a peer
 * that left is unsubscribed at once and its connection resumed to end.
 */
struct hup_watch {
	struct hub_watch w;
	struct client *c;
	bool on;
};

/* Starts watching c->fd (lock held); without it the peer is noticed at the next write. */
void longpoll_hup_start(struct hup_watch *hw, struct client *c);

/* The watch's callback: on a hang-up, the client is gone and its connection resumed to end. */
void longpoll_hup_event(struct hub_watch *w, uint32_t events);

/* Stops watching (lock held); before the client is freed. */
void longpoll_hup_stop(struct hup_watch *hw);

/*
 * Long-poll keeps one hang-up watch per connection across its requests.
 * longpoll_conn_release(): another transport takes @fd's socket into the
 * hub's epoll set (lock held); longpoll_conn_closed(): MHD is about to
 * close @fd (MHD's thread, lock not held).
 */
void longpoll_conn_release(int fd);
void longpoll_conn_closed(int fd);

/* Answers a subscribe that failed with -errno (-ESHUTDOWN: closes the connection). */
int longpoll_open_error(struct MHD_Connection *conn, int err);

#endif
