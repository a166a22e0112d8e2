// SPDX-License-Identifier: GPL-2.0
/*
 * test_ws_deflate.c - what a WebSocket handshake negotiates and
 * permessage-deflate (userspace/protocol/ws_ext.c, deflate.c, and the
 * parser's RSV1 path in ws.c): subprotocol lists; deflate offers accepted,
 * declined and answered (server_no_context_takeover always,
 * client_max_window_bits honoured); a server frame that any no-context
 * peer inflates back, sent once for all; compressed client messages
 * inflated in pieces, within the bound (a zip bomb stops at 1009), UTF-8
 * checked after inflating, RSV1 refused where it is not allowed.  TAP.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "protocol/deflate.h"
#include "protocol/ws.h"
#include "protocol/ws_ext.h"

#include "tap.h"

static void subprotocols(void)
{
	CHECK(ws_pick_subprotocol(NULL, "push.v1") == 0, "no header: nothing asked");
	CHECK(ws_pick_subprotocol("  ", "push.v1") == 0, "empty header: nothing asked");
	CHECK(ws_pick_subprotocol("push.v1", "push.v1") == 1, "push.v1 alone");
	CHECK(ws_pick_subprotocol("chat, push.v1 ,x", "push.v1") == 1, "push.v1 in a list");
	CHECK(ws_pick_subprotocol("chat", "push.v1") == -1, "unknown one: refuse");
	CHECK(ws_pick_subprotocol("push.v10, Push.v1", "push.v1") == -1,
	      "no prefix match, case-sensitive");
}

static int nego(const char *offer, char *resp, int *bits)
{
	struct ws_deflate_params p;
	int r = ws_deflate_negotiate(offer, &p, resp);

	*bits = p.client_bits;
	if (r != (int)p.on)
		return -9;
	return r;
}

static void negotiation(void)
{
	char resp[WS_EXT_RESPONSE_MAX];
	int bits;

	CHECK(nego(NULL, resp, &bits) == 0 && !resp[0], "no header: no compression");
	CHECK(nego("x-webkit-deflate-frame", resp, &bits) == 0, "other extension: declined");
	CHECK(nego("permessage-deflate", resp, &bits) == 1 && bits == 15 &&
	      !strcmp(resp, "permessage-deflate; server_no_context_takeover; "
		      "client_no_context_takeover"), "plain offer: no contexts (%s)", resp);
	CHECK(nego("permessage-deflate; client_max_window_bits", resp, &bits) == 1 &&
	      bits == WS_INFLATE_BITS && strstr(resp, "client_max_window_bits=12"),
	      "client_max_window_bits without value: we ask for 12 (%s)", resp);
	CHECK(nego("permessage-deflate; client_max_window_bits=9", resp, &bits) == 1 &&
	      bits == 9 && strstr(resp, "client_max_window_bits=9"),
	      "client_max_window_bits=9 honoured (%s)", resp);
	CHECK(nego("permessage-deflate; client_max_window_bits=\"10\"", resp, &bits) == 1 &&
	      bits == 10, "quoted value");
	CHECK(nego("permessage-deflate; server_max_window_bits=15; server_no_context_takeover;"
		   " client_no_context_takeover", resp, &bits) == 1, "every parameter, valid");
	CHECK(nego("permessage-deflate; server_max_window_bits=10", resp, &bits) == 0,
	      "a smaller server window: declined (one encoding for all)");
	CHECK(nego("permessage-deflate; server_max_window_bits=10, permessage-deflate", resp,
		   &bits) == 1 && bits == 15, "...but the next offer is taken");
	CHECK(nego("permessage-deflate; client_max_window_bits=16", resp, &bits) == 0,
	      "window bits out of range: declined");
	CHECK(nego("permessage-deflate; client_max_window_bits=08", resp, &bits) == 0,
	      "window bits with a leading zero: declined");
	CHECK(nego("permessage-deflate; server_max_window_bits", resp, &bits) == 0,
	      "server_max_window_bits needs a value");
	CHECK(nego("permessage-deflate; server_no_context_takeover=1", resp, &bits) == 0,
	      "a value where none is allowed");
	CHECK(nego("permessage-deflate; foo", resp, &bits) == 0, "unknown parameter: declined");
	CHECK(nego("permessage-deflate; client_max_window_bits; client_max_window_bits", resp,
		   &bits) == 0, "repeated parameter: declined");
	CHECK(nego("foo; bar=\"a,b\", permessage-deflate", resp, &bits) == 1,
	      "a comma inside a quoted string does not split");
	CHECK(nego("permessage-deflate; client_max_window_bits=\"9", resp, &bits) == 0,
	      "unterminated quote: declined");
}

/* Inflate a server payload as a client would: raw, with the tail added. */
static size_t client_inflate(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	static const uint8_t tail[4] = { 0, 0, 0xff, 0xff };
	z_stream z = { 0 };
	size_t got;

	if (inflateInit2(&z, -15) != Z_OK)
		return 0;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	inflate(&z, Z_SYNC_FLUSH);
	z.next_in = (Bytef *)tail;
	z.avail_in = 4;
	inflate(&z, Z_SYNC_FLUSH);
	got = cap - z.avail_out;
	inflateEnd(&z);
	return got;
}

static void server_frames(void)
{
	struct ws_deflater d = { 0 };
	char msg[2000];
	uint8_t *f1, *f2, out[4096];
	size_t n1, n2, hl, plen, got;
	int i;

	for (i = 0; i < (int)sizeof(msg); i++)
		msg[i] = "{\"id\":1,\"channel\":\"chat\",\"data\":\"hello\"}"[i % 41];
	n1 = ws_deflate_frame(&d, WS_OP_TEXT, msg, sizeof(msg), &f1);
	CHECK(n1 > 0 && n1 < 400, "a repetitive 2000-byte message compresses (%zu bytes)", n1);
	CHECK(f1 && f1[0] == (0x80 | 0x40 | WS_OP_TEXT), "FIN, RSV1, text");
	hl = (f1[1] & 0x7f) == 126 ? 4 : 2;
	plen = (f1[1] & 0x7f) == 126 ? (size_t)f1[2] << 8 | f1[3] : f1[1] & 0x7fu;
	CHECK(!(f1[1] & 0x80) && hl + plen == n1, "unmasked, length matches (%zu+%zu, %zu)", hl,
	      plen, n1);
	got = client_inflate(f1 + hl, plen, out, sizeof(out));
	CHECK(got == sizeof(msg) && !memcmp(out, msg, got), "a fresh inflater gets it back");
	n2 = ws_deflate_frame(&d, WS_OP_TEXT, msg, sizeof(msg), &f2);
	CHECK(n2 == n1 && !memcmp(f1, f2, n1),
	      "the same message again: the same bytes (no context carried over)");
	free(f1);
	free(f2);
	n1 = ws_deflate_frame(&d, WS_OP_TEXT, "{\"a\":1}", 7, &f1);
	CHECK(n1 == 0 && !f1, "a tiny message that would grow is left plain");
	ws_deflater_free(&d);
}

/* A compressed client frame: deflate with @bits, strip the tail, mask. */
static size_t client_frame(uint8_t *out, int opcode, int fin, int rsv1, const void *in,
			   size_t len, int bits, z_stream *keep)
{
	static const uint8_t mask[4] = { 1, 2, 3, 4 };
	uint8_t tmp[70000];
	z_stream z0 = { 0 }, *z = keep ? keep : &z0;
	size_t n = 0, pl, i;

	if (!keep)
		deflateInit2(z, 9, Z_DEFLATED, -bits, 8, Z_DEFAULT_STRATEGY);
	z->next_in = (Bytef *)in;
	z->avail_in = (uInt)len;
	z->next_out = tmp;
	z->avail_out = sizeof(tmp);
	deflate(z, Z_SYNC_FLUSH);
	/* the flush marker goes only at the end of the message */
	pl = sizeof(tmp) - z->avail_out - (fin ? 4 : 0);
	if (!keep)
		deflateEnd(z);
	out[n++] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
	if (pl < 126) {
		out[n++] = 0x80 | pl;
	} else {
		out[n++] = 0x80 | 126;
		out[n++] = pl >> 8;
		out[n++] = pl;
	}
	memcpy(out + n, mask, 4);
	n += 4;
	for (i = 0; i < pl; i++)
		out[n + i] = tmp[i] ^ mask[i & 3];
	return n + pl;
}

/* Feeds in[0..n) one byte at a time; returns the last event's type. */
static int feed(struct ws_parser *p, const uint8_t *in, size_t n, struct ws_event *ev)
{
	int last = WS_EV_NONE;

	for (size_t i = 0; i < n; i++) {
		size_t used;
		int t = ws_parse(p, in + i, 1, &used, ev);

		if (t != WS_EV_NONE)
			last = t;
		if (t == WS_EV_ERROR)
			return t;
	}
	return last;
}

static void client_messages(void)
{
	static uint8_t big[60000], frame[70000];
	struct ws_parser p;
	struct ws_inflater zi;
	struct ws_event ev;
	size_t n, used;
	z_stream keep = { 0 };

	ws_parser_init(&p, NULL, 65536);
	ws_inflater_init(&zi, 15, 65536);
	ws_parser_compressed(&p, ws_inflate_sink, &zi);
	n = client_frame(frame, WS_OP_TEXT, 1, 1, "caf\xc3\xa9 hello hello hello", 24, 15, NULL);
	CHECK(feed(&p, frame, n, &ev) == WS_EV_TEXT && !zi.active,
	      "a compressed text message, byte by byte: accepted, inflater freed");
	n = client_frame(frame, WS_OP_TEXT, 1, 0, "plain", 5, 15, NULL);
	frame[0] = 0x81;	/* not compressed: a raw masked text frame */
	frame[1] = 0x85;
	memcpy(frame + 2, "\0\0\0\0plain", 9);
	CHECK(ws_parse(&p, frame, 11, &used, &ev) == WS_EV_TEXT && ev.len == 5,
	      "an uncompressed message on the same connection");

	/* windows: a 9-bit client is inflated with the window it agreed to */
	ws_inflater_init(&zi, 9, 65536);
	memset(big, 'a', 20000);
	n = client_frame(frame, WS_OP_BINARY, 1, 1, big, 20000, 9, NULL);
	CHECK(ws_parse(&p, frame, n, &used, &ev) == WS_EV_BINARY && zi.total == 20000,
	      "a 9-bit window message inflates in full (%zu)", zi.total);

	/* a zip bomb: 60000 zeros fit the frame bound compressed, not inflated */
	ws_parser_init(&p, NULL, 65536);
	ws_inflater_init(&zi, 15, 1000);
	ws_parser_compressed(&p, ws_inflate_sink, &zi);
	memset(big, 0, sizeof(big));
	n = client_frame(frame, WS_OP_BINARY, 1, 1, big, sizeof(big), 15, NULL);
	CHECK(n < 200 && ws_parse(&p, frame, n, &used, &ev) == WS_EV_ERROR &&
	      ev.code == WS_CLOSE_TOO_BIG && zi.total <= 1000 + 4096 && !zi.active,
	      "a zip bomb stops at 1009 within one buffer of the bound (%zu inflated of %zu)",
	      zi.total, sizeof(big));

	/* invalid UTF-8 is seen after inflating */
	ws_parser_init(&p, NULL, 65536);
	ws_inflater_init(&zi, 15, 65536);
	ws_parser_compressed(&p, ws_inflate_sink, &zi);
	n = client_frame(frame, WS_OP_TEXT, 1, 1, "ok \xff\xfe", 5, 15, NULL);
	CHECK(ws_parse(&p, frame, n, &used, &ev) == WS_EV_ERROR && ev.code == WS_CLOSE_BAD_DATA,
	      "compressed text that is not UTF-8: 1007");

	/* fragmented: RSV1 on the first frame only */
	ws_parser_init(&p, NULL, 65536);
	ws_inflater_init(&zi, 15, 65536);
	ws_parser_compressed(&p, ws_inflate_sink, &zi);
	deflateInit2(&keep, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
	n = client_frame(frame, WS_OP_TEXT, 0, 1, "first half, ", 12, 15, &keep);
	n += client_frame(frame + n, WS_OP_CONT, 1, 0, "second half", 11, 15, &keep);
	deflateEnd(&keep);
	CHECK(ws_parse(&p, frame, n, &used, &ev) == WS_EV_TEXT && used == n,
	      "a compressed message in two fragments");
	ws_parser_init(&p, NULL, 65536);
	ws_parser_compressed(&p, ws_inflate_sink, &zi);
	n = client_frame(frame, WS_OP_TEXT, 0, 1, "x", 1, 15, NULL);
	n += client_frame(frame + n, WS_OP_CONT, 1, 1, "y", 1, 15, NULL);
	CHECK(ws_parse(&p, frame, n, &used, &ev) == WS_EV_ERROR && ev.code == WS_CLOSE_PROTOCOL,
	      "RSV1 on a continuation: 1002");
	ws_inflater_free(&zi);

	/* corrupt data */
	ws_parser_init(&p, NULL, 65536);
	ws_inflater_init(&zi, 15, 65536);
	ws_parser_compressed(&p, ws_inflate_sink, &zi);
	memcpy(frame, "\xc1\x84\0\0\0\0\xff\xff\xff\xff", 10);
	CHECK(ws_parse(&p, frame, 10, &used, &ev) == WS_EV_ERROR && ev.code == WS_CLOSE_BAD_DATA &&
	      !zi.active, "corrupt deflate data: 1007, state freed");

	/* not negotiated: RSV1 is a protocol error, as before */
	ws_parser_init(&p, NULL, 65536);
	n = client_frame(frame, WS_OP_TEXT, 1, 1, "hello", 5, 15, NULL);
	CHECK(ws_parse(&p, frame, n, &used, &ev) == WS_EV_ERROR && ev.code == WS_CLOSE_PROTOCOL,
	      "RSV1 without permessage-deflate: 1002");
	ws_parser_init(&p, NULL, 65536);
	ws_parser_compressed(&p, ws_inflate_sink, &zi);
	memcpy(frame, "\xc9\x80\0\0\0\0", 6);
	CHECK(ws_parse(&p, frame, 6, &used, &ev) == WS_EV_ERROR && ev.code == WS_CLOSE_PROTOCOL,
	      "RSV1 on a ping: 1002");
}

int main(void)
{
	subprotocols();
	negotiation();
	server_frames();
	client_messages();
	return tap_done();
}
