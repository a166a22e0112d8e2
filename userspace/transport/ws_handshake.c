// SPDX-License-Identifier: GPL-2.0
/*
 * ws_handshake.c - the HTTP side of a WebSocket's start: check the
 * request (RFC 6455 4.2.1), agree on the push.v1 subprotocol and on
 * permessage-deflate (RFC 7692), queue the 101 and keep the request's
 * channels until MHD hands the socket to ws_upgraded() (websocket.c).
 */
#include <stdlib.h>
#include <string.h>

#include "protocol/ws.h"
#include "protocol/ws_ext.h"
#include "transport/ws_handshake.h"

/* Nothing to do until the upgrade: MHD calls again only to finish the request. */
static enum MHD_Result ws_pending_again(struct http_ctx *ctx, struct MHD_Connection *conn,
					const char *upload, size_t *upload_size)
{
	(void)ctx;
	(void)conn;
	(void)upload;
	*upload_size = 0;
	return MHD_YES;
}

static void ws_pending_done(struct http_ctx *ctx)
{
	struct ws_pending *p = (struct ws_pending *)ctx;

	free(p->req);
	free(p);
}

int ws_open(struct MHD_Connection *conn, const struct sub_request *req, void **con_cls)
{
	const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Key");
	const char *ver = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Version");
	char accept[WS_ACCEPT_LEN + 1], list[1024], ext_resp[WS_EXT_RESPONSE_MAX];
	struct ws_deflate_params dp;
	struct ws_pending *pending;
	const char *protos;
	bool over;
	int v1;
	struct sub_request *copy;
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!http_header_has(conn, MHD_HTTP_HEADER_CONNECTION, "upgrade"))
		return http_text(conn, MHD_HTTP_BAD_REQUEST, "websocket: Connection: Upgrade missing");
	if (!ver || strcmp(ver, "13")) {
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		if (!r)
			return MHD_NO;
		MHD_add_response_header(r, "Sec-WebSocket-Version", "13");
		ret = MHD_queue_response(conn, MHD_HTTP_UPGRADE_REQUIRED, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (!key || ws_accept_key(key, accept))
		return http_text(conn, MHD_HTTP_BAD_REQUEST, "websocket: bad Sec-WebSocket-Key");

	/* A subprotocol asked for and not echoed fails the handshake anyway: say why. */
	protos = http_header_list(conn, "Sec-WebSocket-Protocol", list, sizeof(list), &over);
	v1 = over ? -1 : ws_pick_subprotocol(protos, WS_SUBPROTOCOL);
	if (v1 < 0)
		return http_text(conn, MHD_HTTP_BAD_REQUEST,
				 "websocket: unknown subprotocol in Sec-WebSocket-Protocol: "
				 "pushd speaks " WS_SUBPROTOCOL " (or none)");
	ws_deflate_negotiate(http_header_list(conn, "Sec-WebSocket-Extensions", list, sizeof(list),
					      &over), &dp, ext_resp);

	pending = calloc(1, sizeof(*pending));
	copy = malloc(sizeof(*copy));
	if (!pending || !copy) {
		free(pending);
		free(copy);
		return MHD_NO;
	}
	*copy = *req;
	pending->ctx.again = ws_pending_again;
	pending->ctx.done = ws_pending_done;
	pending->ctx.upgrade = true;
	pending->req = copy;
	pending->v1 = v1 > 0;
	pending->dp = dp;
	*con_cls = &pending->ctx;
	r = MHD_create_response_for_upgrade(ws_upgraded, NULL);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_UPGRADE, "websocket");
	MHD_add_response_header(r, "Sec-WebSocket-Accept", accept);
	if (v1 > 0)
		MHD_add_response_header(r, "Sec-WebSocket-Protocol", WS_SUBPROTOCOL);
	if (dp.on)
		MHD_add_response_header(r, "Sec-WebSocket-Extensions", ext_resp);
	ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, r);
	MHD_destroy_response(r);
	return ret;
}