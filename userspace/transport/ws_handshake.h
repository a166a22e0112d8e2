/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ws_handshake.h - the HTTP side of a WebSocket's start (ws_handshake.c):
 * the request's checks and negotiation (version, key, push.v1,
 * permessage-deflate) and the 101; websocket.c takes the socket over in
 * ws_upgraded().
 */
#ifndef PUSHD_WS_HANDSHAKE_H
#define PUSHD_WS_HANDSHAKE_H

#include <stdbool.h>

#include "core/client.h"
#include "protocol/ws_ext.h"
#include "transport/mhd.h"

/*
 * The request between the 101 being queued and the upgrade: MHD keeps it in
 * con_cls and tells us when the request is over, so a client that leaves
 * before the upgrade leaks nothing.  The upgrade takes the channel list.
 */
struct ws_pending {
	struct http_ctx ctx;
	struct sub_request *req;
	bool v1;
	struct ws_deflate_params dp;
};

/* transport_ws.open(): answers the handshake (an enum MHD_Result). */
int ws_open(struct MHD_Connection *conn, const struct sub_request *req, void **con_cls);

/* MHD's upgrade callback (websocket.c): the socket is ours, subscribe it. */
void ws_upgraded(void *cls, struct MHD_Connection *conn, void *con_cls,
		 const char *extra_in, size_t extra_in_size, MHD_socket sock,
		 struct MHD_UpgradeResponseHandle *urh);

#endif
