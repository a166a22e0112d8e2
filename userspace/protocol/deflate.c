// SPDX-License-Identifier: GPL-2.0
/*
 * deflate.c - permessage-deflate (RFC 7692) messages with zlib's raw
 * deflate: one server message compressed once, from an empty window, for
 * every subscriber; client messages inflated in pieces into a scratch
 * buffer (pushd ignores what clients say, but must still check it), with a
 * bound on the inflated size that stops a zip bomb at its first excess.
 */
#include <stdlib.h>
#include <string.h>

#include "protocol/deflate.h"
#include "protocol/json.h"
#include "protocol/ws.h"

static const uint8_t ws_tail[4] = { 0x00, 0x00, 0xff, 0xff };

size_t ws_deflate_frame(struct ws_deflater *d, int opcode, const void *in, size_t len,
			uint8_t **out)
{
	size_t cap, hl, n;
	uint8_t *buf;

	*out = NULL;
	if (!d->ready) {
		memset(&d->z, 0, sizeof(d->z));
		if (deflateInit2(&d->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -WS_DEFLATE_BITS, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK)
			return 0;
		d->ready = true;
	} else if (deflateReset(&d->z) != Z_OK) {
		return 0;
	}
	/* a sync flush adds at most 5 bytes (an empty stored block) to the bound */
	cap = WS_HEADER_MAX + deflateBound(&d->z, len) + 6;
	buf = malloc(cap);
	if (!buf)
		return 0;
	d->z.next_in = (Bytef *)in;
	d->z.avail_in = (uInt)len;
	d->z.next_out = buf + WS_HEADER_MAX;
	d->z.avail_out = (uInt)(cap - WS_HEADER_MAX);
	if (deflate(&d->z, Z_SYNC_FLUSH) != Z_OK || d->z.avail_in || !d->z.avail_out)
		goto none;
	n = cap - WS_HEADER_MAX - d->z.avail_out;
	if (n < 4 || memcmp(buf + WS_HEADER_MAX + n - 4, ws_tail, 4))
		goto none;
	n -= 4;
	{
		uint8_t hdr[WS_HEADER_MAX], plain[WS_HEADER_MAX];

		hl = ws_frame_header(hdr, opcode, n);
		if (hl + n >= ws_frame_header(plain, opcode, len) + len)
			goto none;	/* not worth it: RFC 7692 6.1 lets us send it plain */
		hdr[0] |= 0x40;	/* RSV1: compressed */
		memmove(buf + hl, buf + WS_HEADER_MAX, n);
		memcpy(buf, hdr, hl);
	}
	*out = realloc(buf, hl + n);
	if (!*out)
		*out = buf;
	return hl + n;
none:
	free(buf);
	return 0;
}

void ws_deflater_free(struct ws_deflater *d)
{
	if (d->ready)
		deflateEnd(&d->z);
	d->ready = false;
}

void ws_inflater_init(struct ws_inflater *zi, int bits, size_t max)
{
	memset(zi, 0, sizeof(*zi));
	zi->bits = (uint8_t)(bits < 8 ? 8 : bits > 15 ? 15 : bits);
	zi->max = max;
}

void ws_inflater_free(struct ws_inflater *zi)
{
	if (zi->active)
		inflateEnd(&zi->z);
	zi->active = false;
}

/* Inflates in[0..len), discarding the output; 0 or a close code. */
static uint16_t ws_inflate_some(struct ws_inflater *zi, const uint8_t *in, size_t len,
				int text, const char **why)
{
	uint8_t out[4096];

	zi->z.next_in = (Bytef *)in;
	zi->z.avail_in = (uInt)len;
	for (;;) {
		size_t got;
		int r;

		zi->z.next_out = out;
		zi->z.avail_out = sizeof(out);
		r = inflate(&zi->z, Z_NO_FLUSH);
		got = sizeof(out) - zi->z.avail_out;
		if (r == Z_MEM_ERROR)
			return *why = "out of memory", WS_CLOSE_INTERNAL;
		if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
			return *why = "corrupt compressed data", WS_CLOSE_BAD_DATA;
		zi->total += got;
		if (zi->total > zi->max)
			return *why = "message too big", WS_CLOSE_TOO_BIG;
		if (text) {
			zi->utf8 = utf8_feed(zi->utf8, out, got);
			if (zi->utf8 == UTF8_REJECT)
				return *why = "text not UTF-8", WS_CLOSE_BAD_DATA;
		}
		/* a final block (BFINAL) ends the stream; what follows starts anew */
		if (r == Z_STREAM_END && inflateReset(&zi->z) != Z_OK)
			return *why = "corrupt compressed data", WS_CLOSE_BAD_DATA;
		/* output space left: the input is used up */
		if (zi->z.avail_out && (r != Z_STREAM_END || !zi->z.avail_in))
			break;
	}
	return 0;
}

uint16_t ws_inflate_sink(void *ctx, const uint8_t *in, size_t len, int flags,
			 const char **why)
{
	struct ws_inflater *zi = ctx;
	int text = flags & WS_Z_TEXT;
	uint16_t code;

	if (!zi->active) {
		memset(&zi->z, 0, sizeof(zi->z));
		if (inflateInit2(&zi->z, -(int)zi->bits) != Z_OK)
			return *why = "out of memory", WS_CLOSE_INTERNAL;
		zi->active = true;
		zi->total = 0;
		zi->utf8 = UTF8_ACCEPT;
	}
	code = len ? ws_inflate_some(zi, in, len, text, why) : 0;
	if (!code && (flags & WS_Z_END)) {
		code = ws_inflate_some(zi, ws_tail, sizeof(ws_tail), text, why);
		if (!code && text && zi->utf8 != UTF8_ACCEPT)
			code = (*why = "text not UTF-8", WS_CLOSE_BAD_DATA);
	}
	if (code || (flags & WS_Z_END))
		ws_inflater_free(zi);	/* client_no_context_takeover: nothing to keep */
	return code;
}
