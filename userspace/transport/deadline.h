/* SPDX-License-Identifier: GPL-2.0 */
/*
 * deadline.h - an absolute deadline for a request's head.  libmicrohttpd's
 * own timeout is for inactivity, so a client sending one byte every 29 s
 * would hold a connection forever; here every connection must finish its
 * request line and headers within --header-timeout seconds of being
 * accepted (or of its previous request ending, for keep-alive), or its
 * socket is shut down and MHD closes it.  Called from the router's MHD
 * callbacks (server/http.c); swept once a second from the hub's tick.
 */
#ifndef PUSHD_DEADLINE_H
#define PUSHD_DEADLINE_H

#include <stdint.h>

struct MHD_Connection;

/* A connection was accepted (MHD_CONNECTION_NOTIFY_STARTED): its clock starts. */
void deadline_start(struct MHD_Connection *conn, void **socket_context);

/* Its request head is complete (the first call of the access handler). */
void deadline_stop(struct MHD_Connection *conn);

/* Its request ended: a keep-alive connection gets a new deadline for the next head. */
void deadline_restart(struct MHD_Connection *conn);

/* It closed (MHD_CONNECTION_NOTIFY_CLOSED), before MHD closes its socket. */
void deadline_closed(void **socket_context);

/* Shuts down every socket past its deadline; returns how many. */
unsigned int deadline_sweep(uint64_t now);

/* Sockets shut down by the sweep so far. */
uint64_t deadline_expired_total(void);

#endif
