/* SPDX-License-Identifier: GPL-2.0 */
/*
 * http.h - the HTTP side of pushd on libmicrohttpd: routing (/sub, /pub,
 * /stats, /metrics, /) and limits.  What the transports share with it is
 * transport/mhd.h.
 */
#ifndef PUSHD_HTTP_H
#define PUSHD_HTTP_H

/* Starts the daemon on pushd_cfg.listen with @pubfd for POST /pub; returns 0 or -errno. */
int http_start(int pubfd, int infofd);

/* Stops accepting new connections (the listening socket is closed); open ones go on. */
void http_quiesce(void);

/*
 * Closes every connection and stops the daemon.  No connection may be
 * suspended: call it once the hub has no client left (hub_shutdown()).
 */
void http_stop(void);

#endif
