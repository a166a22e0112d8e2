/* SPDX-License-Identifier: GPL-2.0 */
/*
 * request.h - what the routes of http.c and publish.c read off a request.
 */
#ifndef PUSHD_REQUEST_H
#define PUSHD_REQUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <microhttpd.h>

/* Queues a JSON answer built by printf from @fmt. */
enum MHD_Result http_json(struct MHD_Connection *conn, unsigned int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The request header @name (the first line, if it came more than once), or NULL. */
const char *http_header(struct MHD_Connection *conn, const char *name);

/* A decimal u64 with nothing around it into *out: 0, or -EINVAL. */
int http_parse_id(const char *s, uint64_t *out);

/*
 * May this request publish on @chan (a JWT granting it, --token-file's
 * bearer token, or, without --token-file, a same-site client on this
 * machine)?  True, or false with the refusal queued in *ret.  The same
 * authority lets GET /pub/CH show a private channel.
 */
bool http_publisher(struct MHD_Connection *conn, const char *chan, enum MHD_Result *ret);

#endif
