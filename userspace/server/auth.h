/* SPDX-License-Identifier: GPL-2.0 */
/*
 * auth.h - private channels (--private): a subscription to one needs a
 * JSON Web Token (jwt.h) that grants it, given as "Authorization: Bearer",
 * "?token=" or the cookie "push_token" (EventSource and WebSocket cannot
 * set headers).  The token is checked at subscribe; a connection is cut
 * off (CLOSE_EXPIRED) when the token's "exp" passes.  A token that grants
 * "publish" on a channel lets its bearer POST /pub there as well.
 */
#ifndef PUSHD_AUTH_H
#define PUSHD_AUTH_H

#include <microhttpd.h>
#include <stdbool.h>

#include "core/client.h"

/* Loads the keys of pushd_cfg; returns 0, or -EINVAL with *why set. */
int auth_init(const char **why);

/* True if channel @name (@len bytes) is private (--private). */
bool auth_private(const char *name, size_t len);

/*
 * Checks a /sub request: every private channel of @req must be granted by
 * the request's token; sets req->expires from its "exp".  Returns true, or
 * false with a 401/403 queued in *ret.
 */
bool auth_sub(struct MHD_Connection *conn, struct sub_request *req, enum MHD_Result *ret);

/* True if the request's bearer token is a JWT that grants publishing on @chan. */
bool auth_pub(struct MHD_Connection *conn, const char *chan);

/* Queues 401 with WWW-Authenticate: Bearer and @msg; for /pub as well. */
enum MHD_Result auth_unauthorized(struct MHD_Connection *conn, const char *msg);

void auth_free(void);

#endif
