/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mhd.h - what the transports and the HTTP router (server/http.c) share of
 * libmicrohttpd: the per-request state kept in con_cls, and helpers to
 * answer a request and to read its connection.
 */
#ifndef PUSHD_MHD_H
#define PUSHD_MHD_H

#include <microhttpd.h>
#include <stdbool.h>

/*
 * State of one request kept in MHD's con_cls.  again() runs when MHD calls
 * the access handler once more for the request (after a resume, or with
 * upload data); done() when the request is over, however it ended.
 */
struct http_ctx {
	enum MHD_Result (*again)(struct http_ctx *ctx, struct MHD_Connection *conn,
				 const char *upload, size_t *upload_size);
	void (*done)(struct http_ctx *ctx);
	bool upgrade;	/* the connection becomes a WebSocket: no header deadline after */
};

/* Queues a text/plain response. */
enum MHD_Result http_text(struct MHD_Connection *conn, unsigned int status, const char *text);

/* Queues a response of @len bytes at @body, which it frees. */
enum MHD_Result http_send(struct MHD_Connection *conn, unsigned int status, const char *type,
			  char *body, size_t len);

/* Adds the headers every response gets (CORS when --allow-origin is set). */
void http_common_headers(struct MHD_Response *r);

/* The connection's socket. */
int http_conn_fd(struct MHD_Connection *conn);

/*
 * Aborts the TCP connection on socket @fd: both ways shut down, and the
 * close that follows (whoever owns the socket) sends a RST and drops what
 * the socket still holds instead of sending it on.
 */
void http_abort_fd(int fd);

/* True if header @name's comma-separated value list holds @token (any case). */
bool http_header_has(struct MHD_Connection *conn, const char *name, const char *token);

/*
 * Every @name header of the request as one comma-separated list (RFC 9110
 * 5.3) in buf[0..cap); NULL if there is none, or if they overflow buf
 * (*over set).
 */
const char *http_header_list(struct MHD_Connection *conn, const char *name, char *buf,
			     size_t cap, bool *over);

#endif
