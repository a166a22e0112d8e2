/* SPDX-License-Identifier: GPL-2.0 */
/*
 * deadline.h - an absolute deadline for a request's head.  libmicrohttpd's
 * own timeout is for inactivity, so a client sending one byte every 29 s
 * would hold a connection forever; here every connection must finish its
 * request line and headers within --header-timeout seconds of being
 * accepted (or of its previous request ending, for keep-alive), or its
 * socket is shut down and MHD closes it.  A head that arrived in time but
 * that pushd has not read yet (its socket has held unread bytes for 1 s or
 * more) gets the deadline again, up to three times: the deadline bounds the
 * client, and one trickling a byte a second is cut on time.  Called from the router's MHD
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

/* Shuts down every socket past its deadline; returns how many.  @now_s
 * (the hub tick's second) is not used: deadlines are kept in ms. */
unsigned int deadline_sweep(uint64_t now_s);

/* Sockets shut down by the sweep so far, and deadlines given again. */
uint64_t deadline_expired_total(void);
uint64_t deadline_extended_total(void);

/* The same on a bare socket (tests/unit/test_deadline.c; the MHD calls
 * above wrap these). */
struct deadline;
struct deadline *deadline_new_fd(int fd);
void deadline_stop_fd(struct deadline *d);
void deadline_restart_fd(struct deadline *d);
void deadline_free_fd(struct deadline *d);

/* Tests: the clock in monotonic milliseconds (NULL: the real one). */
void deadline_test_clock(uint64_t (*now_ms)(void));

#endif
