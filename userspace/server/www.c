// SPDX-License-Identifier: GPL-2.0
/*
 * www.c - the browser client library at a stable path: /push.js, and the
 * modules it imports relative to itself, /push/NAME.js.  The path never
 * changes with the version, so the answer says "no-cache" with an ETag: a
 * browser revalidates on each load and gets a 304 of no body while the file
 * is the one it has, and never runs a push.js of one pushd with an
 * engine.js of another.
 */
#include <string.h>

#include "server/www.h"
#include "transport/mhd.h"

static const struct www_file *www_find(const char *url)
{
	for (const struct www_file *f = www_lib; f->path; f++)
		if (!strcmp(url, f->path))
			return f;
	return NULL;
}

int www_lib_has(const char *url)
{
	return www_find(url) != NULL;
}

int www_lib_serve(struct MHD_Connection *conn, const char *url)
{
	const struct www_file *f = www_find(url);
	const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						      MHD_HTTP_HEADER_IF_NONE_MATCH);
	struct MHD_Response *r;
	unsigned int status = MHD_HTTP_OK;
	enum MHD_Result ret;

	if (!f)
		return http_text(conn, MHD_HTTP_NOT_FOUND, "not found");
	if (inm && (strstr(inm, f->etag) || !strcmp(inm, "*"))) {
		status = MHD_HTTP_NOT_MODIFIED;
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	} else {
		r = MHD_create_response_from_buffer(f->len, (void *)f->data,
						    MHD_RESPMEM_PERSISTENT);
	}
	if (!r)
		return MHD_NO;
	http_common_headers(r);
	if (status == MHD_HTTP_OK)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
					"text/javascript; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, f->etag);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}
