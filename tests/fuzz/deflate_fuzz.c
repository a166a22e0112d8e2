// SPDX-License-Identifier: GPL-2.0
/*
 * deflate_fuzz.c - libFuzzer target for userspace/protocol/ws_ext.c and
 * deflate.c.
 *
 * Input: a window-bits byte, a Sec-WebSocket-Extensions value up to a NUL,
 * then bytes a client might send as a compressed message.  The negotiation
 * must answer within its rules or not at all; the inflater, fed the rest
 * in random pieces, must end in success or one of its close codes, never
 * inflate more than one buffer past its bound, and keep no state after the
 * message; and the bytes compressed as a server frame must inflate back to
 * themselves through the parser.
 */
#include "fuzz.h"
#include "protocol/deflate.h"
#include "protocol/json.h"
#include "protocol/ws.h"
#include "protocol/ws_ext.h"

static void negotiate(const uint8_t *d, size_t n)
{
	char *offer = malloc(n + 1), resp[WS_EXT_RESPONSE_MAX];
	struct ws_deflate_params p;
	int r;

	memcpy(offer, d, n);
	offer[n] = '\0';
	r = ws_deflate_negotiate(offer, &p, resp);
	FUZZ_ASSERT(r == (int)p.on);
	if (r) {
		FUZZ_ASSERT(p.client_bits >= 8 && p.client_bits <= 15);
		FUZZ_ASSERT(!strncmp(resp, "permessage-deflate; server_no_context_takeover", 46));
		FUZZ_ASSERT(strlen(resp) < WS_EXT_RESPONSE_MAX);
	} else {
		FUZZ_ASSERT(!resp[0]);
	}
	ws_pick_subprotocol(offer, WS_SUBPROTOCOL);
	free(offer);
}

static void inflate_pieces(int bits, const uint8_t *d, size_t n, uint32_t seed)
{
	struct ws_inflater zi;
	const char *why = NULL;
	size_t off = 0, max = 1 + seed % 3000;
	uint16_t code = 0;

	ws_inflater_init(&zi, bits, max);
	while (!code) {
		size_t c = 1 + fuzz_rand(&seed) % 64;
		int end = c >= n - off;
		uint8_t *piece;

		if (end)
			c = n - off;
		piece = malloc(c ? c : 1);	/* a copy: ASan sees reads past it */
		memcpy(piece, d + off, c);
		code = ws_inflate_sink(&zi, piece, c, (seed & 1 ? WS_Z_TEXT : 0) |
				       (end ? WS_Z_END : 0), &why);
		free(piece);
		off += c;
		FUZZ_ASSERT(zi.total <= max + 4096);
		if (end)
			break;
	}
	FUZZ_ASSERT(!code || code == WS_CLOSE_BAD_DATA || code == WS_CLOSE_TOO_BIG ||
		    code == WS_CLOSE_INTERNAL);
	FUZZ_ASSERT(!code || (why && *why));
	FUZZ_ASSERT(!zi.active);
	if (!code && (seed & 1))
		FUZZ_ASSERT(zi.utf8 == UTF8_ACCEPT);
}

static void roundtrip(const uint8_t *d, size_t n)
{
	struct ws_deflater z = { 0 };
	struct ws_inflater zi;
	struct ws_parser p;
	struct ws_event ev;
	uint8_t *f, *c;
	size_t len = ws_deflate_frame(&z, WS_OP_BINARY, d, n, &f), h, i, used;
	static const uint8_t mask[4] = { 9, 8, 7, 6 };

	ws_deflater_free(&z);
	if (!len)
		return;	/* not shorter: sent plain */
	FUZZ_ASSERT(f[0] == (0x80 | 0x40 | WS_OP_BINARY));
	h = 2 + ((f[1] & 0x7f) == 126 ? 2 : (f[1] & 0x7f) == 127 ? 8 : 0);
	c = malloc(len + 4);
	memcpy(c, f, h);
	c[1] |= 0x80;
	memcpy(c + h, mask, 4);
	for (i = h; i < len; i++)
		c[i + 4] = f[i] ^ mask[(i - h) & 3];
	ws_parser_init(&p, NULL, 1 << 20);
	ws_inflater_init(&zi, 15, n);
	ws_parser_compressed(&p, ws_inflate_sink, &zi);
	FUZZ_ASSERT(ws_parse(&p, c, len + 4, &used, &ev) == WS_EV_BINARY);
	FUZZ_ASSERT(used == len + 4 && zi.total == n);
	free(c);
	free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul;
	size_t hl;
	uint32_t seed;

	if (size < 1)
		return 0;
	nul = memchr(data + 1, 0, size - 1);
	hl = nul ? (size_t)(nul - data - 1) : size - 1;
	negotiate(data + 1, hl);
	if (!nul)
		return 0;
	seed = (uint32_t)size * 2654435761u ^ data[0];
	inflate_pieces(8 + data[0] % 8, nul + 1, size - hl - 2, seed);
	roundtrip(nul + 1, size - hl - 2);
	return 0;
}
