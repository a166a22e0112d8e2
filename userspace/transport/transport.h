/* SPDX-License-Identifier: GPL-2.0 */
/* transport.h - the three transports' tables, in the order requests are matched. */
#ifndef PUSHD_TRANSPORT_H
#define PUSHD_TRANSPORT_H

#include "core/client.h"

extern const struct push_transport transport_ws;
extern const struct push_transport transport_sse;
extern const struct push_transport transport_sse_raw;	/* SSE with ?format=raw */
extern const struct push_transport transport_longpoll;

/* Pieces long-poll and SSE share (t_longpoll.c). */
struct MHD_Connection;

/* Suspends @conn until hub delivers to @c (lock held). */
void longpoll_wait(struct client *c, struct MHD_Connection *conn);

/* deliver() of MHD-driven transports: resume @conn if it waits (lock held). */
void longpoll_wake(struct client *c, struct MHD_Connection *conn);

/* Answers a subscribe that failed with -errno. */
int longpoll_open_error(struct MHD_Connection *conn, int err);

#endif
