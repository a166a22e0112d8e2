/* SPDX-License-Identifier: GPL-2.0 */
/*
 * deflate.h - permessage-deflate (RFC 7692) messages, with zlib: compress
 * one server message on its own (no context taken over, so the frame can
 * go to every subscriber as it is), and inflate a client's message within
 * a bound.  No I/O; zlib allocates its state.
 */
#ifndef PUSH_DEFLATE_H
#define PUSH_DEFLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#define WS_DEFLATE_BITS		15	/* our LZ77 window (server_max_window_bits) */

/* A compressor for server messages, reused message after message. */
struct ws_deflater {
	z_stream z;
	bool ready;
};

/*
 * A whole compressed server frame for a message: header (FIN, RSV1,
 * opcode) then the deflated payload without its final 00 00 ff ff
 * (RFC 7692 7.2.1), in a new malloc'd buffer at *out.  Each message is
 * compressed from an empty window, so any peer that agreed to
 * server_no_context_takeover can take the frame.  Returns its length; 0
 * when compressing would not make the frame shorter (send it as it is), or
 * on ENOMEM (*out NULL either way).
 */
size_t ws_deflate_frame(struct ws_deflater *d, int opcode, const void *in, size_t len,
			uint8_t **out);

/* Frees the compressor's state. */
void ws_deflater_free(struct ws_deflater *d);

/*
 * An inflater for one client's messages: the peer compresses each message
 * on its own (client_no_context_takeover), with a window of at most 2^bits
 * bytes.  zlib's state exists only while a compressed message is arriving,
 * and a message may inflate to at most max bytes: more (a zip bomb) is
 * refused with 1009 as soon as it is seen.
 */
struct ws_inflater {
	z_stream z;
	bool active;		/* z holds state: a message is under way */
	uint8_t bits;		/* the window the peer agreed to, 8..15 */
	uint32_t utf8;		/* UTF-8 state of a text message */
	size_t max, total;	/* bound, and bytes inflated so far */
};

/* Sets zi up (nothing allocated yet). */
void ws_inflater_init(struct ws_inflater *zi, int bits, size_t max);

/*
 * The parser's sink (ws_zsink of ws.h; ctx is the inflater): inflates and
 * discards, checking size and, for text, UTF-8.  Returns 0 or a close code:
 * 1009 over max, 1007 corrupt data or invalid UTF-8, 1011 out of memory.
 */
uint16_t ws_inflate_sink(void *ctx, const uint8_t *in, size_t len, int flags,
			 const char **why);

/* Frees what a message cut short left behind. */
void ws_inflater_free(struct ws_inflater *zi);

#endif /* PUSH_DEFLATE_H */
