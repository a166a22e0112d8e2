// SPDX-License-Identifier: GPL-2.0
/* mhd.c - answering a request and reading its connection, for the transports and the router. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/config.h"
#include "transport/mhd.h"

void http_common_headers(struct MHD_Response *r)
{
	if (pushd_cfg.allow_origin)
		MHD_add_response_header(r, "Access-Control-Allow-Origin", pushd_cfg.allow_origin);
}

enum MHD_Result http_send(struct MHD_Connection *conn, unsigned int status, const char *type,
			  char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	http_common_headers(r);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result http_text(struct MHD_Connection *conn, unsigned int status, const char *text)
{
	size_t len = strlen(text);
	char *body = malloc(len + 1);

	if (!body)
		return MHD_NO;
	memcpy(body, text, len);
	body[len] = '\n';
	return http_send(conn, status, "text/plain; charset=utf-8", body, len + 1);
}

int http_conn_fd(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

	return ci ? ci->connect_fd : -1;
}

void http_abort_fd(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	shutdown(fd, SHUT_RDWR);
}

bool http_header_has(struct MHD_Connection *conn, const char *name, const char *token)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
	size_t tlen = strlen(token);

	while (v && *v) {
		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		size_t n = strcspn(v, ",");
		size_t m = n;
		while (m && (v[m - 1] == ' ' || v[m - 1] == '\t'))
			m--;
		if (m == tlen && !strncasecmp(v, token, tlen))
			return true;
		v += n;
	}
	return false;
}

struct http_join {
	char *buf;
	size_t cap, len;
	const char *name;
	bool seen, over;
};

static enum MHD_Result http_join_one(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct http_join *jn = cls;
	size_t vl = value ? strlen(value) : 0;

	(void)kind;
	if (!key || strcasecmp(key, jn->name))
		return MHD_YES;
	if (jn->len + vl + 3 > jn->cap) {
		jn->over = true;
		return MHD_NO;
	}
	if (jn->seen) {
		memcpy(jn->buf + jn->len, ", ", 2);
		jn->len += 2;
	}
	memcpy(jn->buf + jn->len, value, vl);
	jn->len += vl;
	jn->buf[jn->len] = '\0';
	jn->seen = true;
	return MHD_YES;
}

/*
 * Every @name header of the request as one comma-separated list (RFC 9110
 * 5.3) in buf; NULL if there is none, or if they overflow buf (*over).
 */
const char *http_header_list(struct MHD_Connection *conn, const char *name, char *buf,
				  size_t cap, bool *over)
{
	struct http_join jn = { buf, cap, 0, name, false, false };

	buf[0] = '\0';
	MHD_get_connection_values(conn, MHD_HEADER_KIND, http_join_one, &jn);
	*over = jn.over;
	return jn.seen && !jn.over ? buf : NULL;
}
