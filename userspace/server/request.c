// SPDX-License-Identifier: GPL-2.0
/*
 * request.c - what pushd reads off a request before it routes it: its
 * headers, whether it comes from this machine (through a --trusted-proxy
 * too), whether it carries --token-file's bearer token, and so whether it
 * may publish on a channel.  Plus the JSON answer the routes share.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "server/auth.h"
#include "server/guard.h"
#include "server/request.h"
#include "transport/mhd.h"

enum MHD_Result http_json(struct MHD_Connection *conn, unsigned int status, const char *fmt, ...)
{
	va_list ap;
	char *body;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (n < 0)
		return MHD_NO;
	return http_send(conn, status, "application/json", body, (size_t)n);
}

const char *http_header(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

struct http_last_value {
	const char *name;
	const char *value;
};

static enum MHD_Result http_last_value_cb(void *cls, enum MHD_ValueKind kind,
					  const char *key, const char *value)
{
	struct http_last_value *lv = cls;

	(void)kind;
	if (key && !strcasecmp(key, lv->name))
		lv->value = value;
	return MHD_YES;
}

/*
 * The last line of a header a request may carry more than once: a proxy
 * that adds its own X-Forwarded-For line (HAProxy) puts it after any the
 * client sent, and MHD_lookup_connection_value() would give the client's.
 */
static const char *http_header_last(struct MHD_Connection *conn, const char *name)
{
	struct http_last_value lv = { name, NULL };

	MHD_get_connection_values(conn, MHD_HEADER_KIND, http_last_value_cb, &lv);
	return lv.value;
}

/*
 * True if the client is on this machine: the peer's address, or behind a
 * --trusted-proxy the address it forwards (guard_client_addr()).
 */
static bool http_loopback(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	struct in6_addr peer, client;

	if (!sa)
		return false;
	if (sa->sa_family == AF_INET) {
		memset(&peer, 0, sizeof(peer));
		peer.s6_addr[10] = peer.s6_addr[11] = 0xff;
		memcpy(&peer.s6_addr[12], &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		peer = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	} else {
		return false;
	}
	if (!guard_client_addr(&pushd_cfg, &peer, http_header_last(conn, "X-Forwarded-For"),
			       http_header(conn, "X-Real-IP"), http_header(conn, "Forwarded"),
			       &client))
		return false;
	return guard_addr_loopback(&client);
}

/*
 * The bearer token against --token-file's, in constant time: both are
 * hashed first, so neither their bytes nor their lengths show in the time.
 */
static bool http_token_ok(struct MHD_Connection *conn)
{
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_AUTHORIZATION);
	uint8_t want[SHA256_DIGEST_SIZE], got[SHA256_DIGEST_SIZE];
	struct sha256_ctx ctx;
	size_t alen;

	if (!auth || strncasecmp(auth, "Bearer ", 7))
		return false;
	auth += 7;
	while (*auth == ' ')
		auth++;
	alen = strlen(auth);
	while (alen && auth[alen - 1] == ' ')
		alen--;
	sha256_init(&ctx);
	sha256_update(&ctx, strlen(pushd_cfg.token), (const uint8_t *)pushd_cfg.token);
	sha256_digest(&ctx, sizeof(want), want);
	sha256_init(&ctx);
	sha256_update(&ctx, alen, (const uint8_t *)auth);
	sha256_digest(&ctx, sizeof(got), got);
	return memeql_sec(want, got, sizeof(want));
}

int http_parse_id(const char *s, uint64_t *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

/*
 * May this request publish on @chan?  True, or false with the refusal queued
 * in *ret.  The same authority lets GET /pub/CH show a private channel.
 */
bool http_publisher(struct MHD_Connection *conn, const char *chan, enum MHD_Result *ret)
{
	if (auth_pub(conn, chan))
		return true; /* a JWT that grants publishing on this channel: from anywhere */
	if (pushd_cfg.token) {
		if (http_token_ok(conn))
			return true;
		*ret = auth_unauthorized(conn, "missing or wrong bearer token");
	} else if (!http_loopback(conn)) {
		*ret = http_text(conn, MHD_HTTP_FORBIDDEN,
				 "publishing is allowed from loopback only (start pushd with --token-file)");
	} else if (guard_cross_site(&pushd_cfg, http_header(conn, "Origin"),
				    http_header(conn, "Sec-Fetch-Site"),
				    http_header(conn, MHD_HTTP_HEADER_HOST))) {
		/* a page of another site in a local browser: never a loopback publisher */
		*ret = http_text(conn, MHD_HTTP_FORBIDDEN,
				 "cross-site publishing refused: the page's Origin is neither this server's "
				 "nor --allow-origin (with --token-file, a request with the token may)");
	} else {
		return true;
	}
	return false;
}
