// SPDX-License-Identifier: GPL-2.0
/* mhd.c - answering a request and reading its connection, for the transports and the router. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
