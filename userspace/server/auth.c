// SPDX-License-Identifier: GPL-2.0
/* auth.c - private channels and their tokens (auth.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/config.h"
#include "server/auth.h"
#include "server/guard.h"
#include "server/jwt.h"
#include "transport/mhd.h"

static struct jwt_keys auth_keys;

int auth_init(const char **why)
{
	int err;

	*why = NULL;
	if (pushd_cfg.jwt_secret &&
	    jwt_keys_set_secret(&auth_keys, pushd_cfg.jwt_secret, pushd_cfg.jwt_secret_len)) {
		*why = "--jwt-secret-file: the secret must be 32 bytes or more";
		return -EINVAL;
	}
	if (pushd_cfg.jwt_key_pem) {
		err = jwt_keys_set_pem(&auth_keys, pushd_cfg.jwt_key_pem, strlen(pushd_cfg.jwt_key_pem), why);
		if (err)
			return err;
	}
	auth_keys.iss = pushd_cfg.jwt_issuer;
	auth_keys.aud = pushd_cfg.jwt_audience;
	auth_keys.need_exp = pushd_cfg.jwt_require_exp;
	if ((auth_keys.iss || auth_keys.aud || auth_keys.need_exp) && !auth_keys.secret && !auth_keys.pub) {
		*why = "--jwt-issuer, --jwt-audience and --jwt-require-exp need --jwt-secret-file or --jwt-key-file";
		return -EINVAL;
	}
	if (pushd_cfg.nprivate && !auth_keys.secret && !auth_keys.pub) {
		*why = "--private needs --jwt-secret-file or --jwt-key-file";
		return -EINVAL;
	}
	return 0;
}

void auth_free(void)
{
	jwt_keys_free(&auth_keys);
}

bool auth_private(const char *name, size_t len)
{
	for (unsigned int i = 0; i < pushd_cfg.nprivate; i++) {
		const char *p = pushd_cfg.private_chans[i];
		size_t plen = strlen(p);

		if (p[plen - 1] == '*' ? len >= plen - 1 && !memcmp(name, p, plen - 1)
				       : len == plen && !memcmp(name, p, len))
			return true;
	}
	return false;
}

/* The request's token: Authorization: Bearer, else ?token=, else the push_token cookie. */
static const char *auth_token(struct MHD_Connection *conn)
{
	const char *origin, *v;

	v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);

	if (v && !strncasecmp(v, "Bearer ", 7)) {
		v += 7;
		while (*v == ' ')
			v++;
		return v;
	}
	v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "token");
	if (v && *v)
		return v;
	/*
	 * A browser sends the cookie with whatever page opens the connection
	 * (a WebSocket has no CORS to stop it reading): only from pages of
	 * this origin or the one --allow-origin names, never through "*".
	 */
	origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	if (origin && !guard_origin_named(&pushd_cfg, origin,
					  MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
								      MHD_HTTP_HEADER_HOST)))
		return NULL;
	v = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, "push_token");
	return v && *v ? v : NULL;
}

enum MHD_Result auth_unauthorized(struct MHD_Connection *conn, const char *msg)
{
	size_t len = strlen(msg);
	char *body = malloc(len + 1);
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!body)
		return MHD_NO;
	memcpy(body, msg, len);
	body[len] = '\n';
	r = MHD_create_response_from_buffer(len + 1, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"pushd\"");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	http_common_headers(r);
	ret = MHD_queue_response(conn, MHD_HTTP_UNAUTHORIZED, r);
	MHD_destroy_response(r);
	return ret;
}

/* Verifies the request's token now; returns 0 with @c filled, else -errno with *why. */
static int auth_verify(struct MHD_Connection *conn, struct jwt_claims *c, const char **why)
{
	const char *tok = auth_token(conn);

	if (!tok) {
		*why = "no token";
		return -ENOENT;
	}
	return jwt_verify(&auth_keys, tok, strlen(tok), (int64_t)time(NULL), c, why);
}

bool auth_sub(struct MHD_Connection *conn, struct sub_request *req, enum MHD_Result *ret)
{
	struct jwt_claims claims;
	const char *why;
	char msg[256];
	int i;

	for (i = 0; i < req->nchans; i++)
		if (auth_private(req->chans[i].s, req->chans[i].len))
			break;
	if (i == req->nchans)
		return true;	/* nothing private: no token needed, none looked at */
	if (auth_verify(conn, &claims, &why)) {
		snprintf(msg, sizeof(msg), "channel %s is private: %s (a JWT as Authorization: Bearer, "
			 "?token= or the cookie push_token)", req->chans[i].s, why);
		*ret = auth_unauthorized(conn, msg);
		return false;
	}
	for (; i < req->nchans; i++) {
		if (!auth_private(req->chans[i].s, req->chans[i].len) ||
		    jwt_grants(&claims, false, req->chans[i].s, req->chans[i].len))
			continue;
		jwt_claims_free(&claims);
		snprintf(msg, sizeof(msg), "the token does not grant channel %s", req->chans[i].s);
		*ret = http_text(conn, MHD_HTTP_FORBIDDEN, msg);
		return false;
	}
	if (claims.exp) {
		struct timespec ts;
		int64_t left = claims.exp - (int64_t)time(NULL);

		clock_gettime(CLOCK_MONOTONIC, &ts);
		req->expires = (uint64_t)ts.tv_sec + (uint64_t)(left > 0 ? left : 0);
	}
	jwt_claims_free(&claims);
	return true;
}

bool auth_pub(struct MHD_Connection *conn, const char *chan)
{
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_AUTHORIZATION);
	struct jwt_claims claims;
	const char *why;
	bool ok;

	/* only from the Authorization header: a cookie would make publishing CSRF-able */
	if ((!auth_keys.secret && !auth_keys.pub) || !auth || strncasecmp(auth, "Bearer ", 7))
		return false;
	if (auth_verify(conn, &claims, &why))
		return false;
	ok = jwt_grants(&claims, true, chan, strlen(chan));
	jwt_claims_free(&claims);
	return ok;
}
