/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ws_ext.h - what a WebSocket handshake negotiates beyond RFC 6455's
 * basics: the subprotocol (Sec-WebSocket-Protocol) and permessage-deflate
 * (Sec-WebSocket-Extensions, RFC 7692).  Header values in, choices out.
 */
#ifndef PUSH_WS_EXT_H
#define PUSH_WS_EXT_H

#include <stdbool.h>
#include <stddef.h>

#define WS_SUBPROTOCOL		"push.v1"	/* the one pushd speaks */
#define WS_INFLATE_BITS		12	/* window we ask clients to keep within */

/*
 * Picks @want from a Sec-WebSocket-Protocol value (a comma-separated list
 * of tokens, compared exactly; NULL or empty: none asked for).  Returns 1
 * if it was offered, 0 if nothing was asked for, -1 if others were asked
 * for and not it (the handshake must be refused: RFC 6455 4.2.2).
 */
int ws_pick_subprotocol(const char *offer, const char *want);

/* What permessage-deflate negotiation agreed. */
struct ws_deflate_params {
	bool on;		/* compress; the peer takes server_no_context_takeover */
	int client_bits;	/* window the client compresses with, 8..15 */
};

#define WS_EXT_RESPONSE_MAX	128

/*
 * Reads a Sec-WebSocket-Extensions value (NULL: none) and takes the first
 * permessage-deflate offer that pushd can honour: any offer whose
 * parameters are valid, unless it limits server_max_window_bits below
 * WS_DEFLATE_BITS (pushd compresses each message once for everyone, with
 * one window).  The answer always says server_no_context_takeover and
 * client_no_context_takeover, and client_max_window_bits (at most
 * WS_INFLATE_BITS) when the offer allowed it.  Offers with unknown,
 * repeated or invalid parameters are declined, as are other extensions.
 * Returns 1 and fills *p and resp (a NUL-terminated header value), or 0:
 * no compression, no header.
 */
int ws_deflate_negotiate(const char *offer, struct ws_deflate_params *p,
			 char resp[WS_EXT_RESPONSE_MAX]);

#endif /* PUSH_WS_EXT_H */
