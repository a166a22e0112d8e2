// SPDX-License-Identifier: GPL-2.0
/*
 * ws.c - WebSocket (RFC 6455) handshake, server frames and client-frame
 * parser.  No I/O and no allocation; see ws.h for the contracts and
 * docs/WEBSOCKET.md for why this is not libwslay.
 *
 * The parser is a two-state machine (header, payload) that takes input in
 * pieces of any size: a header is gathered in p->hdr until whole, payload
 * bytes are unmasked straight into their destination (the control buffer,
 * the caller's message buffer, or nowhere) and text is UTF-8-checked as it
 * arrives, so a bad byte fails the connection at once (RFC 6455 8.1).
 */
#include <errno.h>
#include <string.h>

#include <nettle/base64.h>
#include <nettle/sha1.h>

#include "protocol/json.h"
#include "protocol/ws.h"

#define WS_GUID		"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

enum { ST_HEADER, ST_PAYLOAD, ST_CLOSED, ST_ERROR };

/* A Sec-WebSocket-Key is the base64 of 16 bytes: 22 digits and "==". */
#define WS_KEY_LEN	24
_Static_assert(BASE64_ENCODE_RAW_LENGTH(16) == WS_KEY_LEN, "key length");
_Static_assert(BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE) == WS_ACCEPT_LEN, "accept length");

int ws_accept_key(const char *client_key, char out[WS_ACCEPT_LEN + 1])
{
	const char *k = client_key, *end;
	uint8_t nonce[BASE64_DECODE_LENGTH(WS_KEY_LEN)], digest[SHA1_DIGEST_SIZE];
	struct base64_decode_ctx b64;
	struct sha1_ctx c;
	size_t n = sizeof(nonce);

	if (!k)
		return -EINVAL;
	while (*k == ' ' || *k == '\t')
		k++;
	end = k + strlen(k);
	while (end > k && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	/*
	 * Nettle skips whitespace and takes any bits left over; but 24
	 * characters that decode to exactly 16 bytes, with final() accepting
	 * the padding, leave room for neither: 22 digits, the last with its
	 * unused bits zero (the decoder checks), then "==".
	 */
	if (end - k != WS_KEY_LEN)
		return -EINVAL;
	base64_decode_init(&b64);
	if (!base64_decode_update(&b64, &n, nonce, WS_KEY_LEN, k) ||
	    !base64_decode_final(&b64) || n != 16)
		return -EINVAL;
	sha1_init(&c);
	sha1_update(&c, WS_KEY_LEN, (const uint8_t *)k);
	sha1_update(&c, sizeof(WS_GUID) - 1, (const uint8_t *)WS_GUID);
	sha1_digest(&c, sizeof(digest), digest);
	base64_encode_raw(out, sizeof(digest), digest);
	out[WS_ACCEPT_LEN] = '\0';
	return 0;
}

size_t ws_frame_header(uint8_t out[WS_HEADER_MAX], int opcode,
		       uint64_t payload_len)
{
	int i;

	out[0] = 0x80 | (opcode & 0x0f);
	if (payload_len < 126) {
		out[1] = payload_len;
		return 2;
	}
	if (payload_len <= 0xffff) {
		out[1] = 126;
		out[2] = payload_len >> 8;
		out[3] = payload_len;
		return 4;
	}
	out[1] = 127;
	for (i = 0; i < 8; i++)
		out[2 + i] = payload_len >> (56 - 8 * i);
	return 10;
}

size_t ws_frame(uint8_t *out, size_t cap, int opcode, const void *payload,
		size_t len)
{
	uint8_t hdr[WS_HEADER_MAX];
	size_t h = ws_frame_header(hdr, opcode, len);

	if (h + len <= cap && h + len >= len) {
		memcpy(out, hdr, h);
		if (len)
			memcpy(out + h, payload, len);
	}
	return h + len;
}

size_t ws_close_frame(uint8_t *out, size_t cap, uint16_t code,
		      const char *reason)
{
	uint8_t payload[WS_CONTROL_MAX];
	size_t n = 0;

	if (code) {
		size_t r = reason ? strlen(reason) : 0;

		/* Cut the reason before the character that would not fit. */
		if (r > WS_CONTROL_MAX - 2) {
			r = WS_CONTROL_MAX - 2;
			while (r && ((uint8_t)reason[r] & 0xc0) == 0x80)
				r--;
		}
		payload[0] = code >> 8;
		payload[1] = code;
		if (r)
			memcpy(payload + 2, reason, r);
		n = 2 + r;
	}
	return ws_frame(out, cap, WS_OP_CLOSE, payload, n);
}

int ws_close_code_valid(uint16_t code)
{
	if (code >= 1000 && code <= 1015)
		return code != 1004 && code != 1005 && code != 1006 &&
		       code != 1015;
	return code >= 3000 && code <= 4999;
}

void ws_parser_init(struct ws_parser *p, uint8_t *buf, size_t cap)
{
	memset(p, 0, sizeof(*p));
	p->buf = buf;
	p->cap = cap;
	p->state = ST_HEADER;
	p->hdr_need = 2;
	p->utf8 = UTF8_ACCEPT;
}

void ws_parser_compressed(struct ws_parser *p, ws_zsink *sink, void *ctx)
{
	p->zsink = sink;
	p->zctx = ctx;
}

/* Fail the connection: every later call returns the same error. */
static int ws_fail(struct ws_parser *p, struct ws_event *ev, uint16_t code,
		   const char *why)
{
	p->state = ST_ERROR;
	p->err.type = WS_EV_ERROR;
	p->err.code = code;
	p->err.data = (const uint8_t *)why;
	p->err.len = strlen(why);
	*ev = p->err;
	return WS_EV_ERROR;
}

static inline int ws_is_control(int opcode)
{
	return opcode & 0x08;
}

/* Checks that need only the first two header bytes; 0 or a close code. */
static uint16_t ws_check_start(struct ws_parser *p, const char **why)
{
	uint8_t b0 = p->hdr[0], b1 = p->hdr[1], op = b0 & 0x0f;
	/* RFC 7692 6: RSV1 marks a compressed message, on its first frame */
	uint8_t rsv = b0 & 0x70, z = p->zsink && (op == WS_OP_TEXT || op == WS_OP_BINARY);

	if (rsv && (rsv != 0x40 || !z))
		return *why = "reserved bits set", WS_CLOSE_PROTOCOL;
	if (!(b1 & 0x80))
		return *why = "unmasked client frame", WS_CLOSE_PROTOCOL;
	switch (op) {
	case WS_OP_CONT:
		if (!p->msg_op)
			return *why = "continuation without a message",
			       WS_CLOSE_PROTOCOL;
		break;
	case WS_OP_TEXT:
	case WS_OP_BINARY:
		if (p->msg_op)
			return *why = "new message inside a fragmented one",
			       WS_CLOSE_PROTOCOL;
		break;
	case WS_OP_CLOSE:
	case WS_OP_PING:
	case WS_OP_PONG:
		if (!(b0 & 0x80))
			return *why = "fragmented control frame",
			       WS_CLOSE_PROTOCOL;
		if ((b1 & 0x7f) > WS_CONTROL_MAX)
			return *why = "control frame too long",
			       WS_CLOSE_PROTOCOL;
		break;
	default:
		return *why = "unknown opcode", WS_CLOSE_PROTOCOL;
	}
	return 0;
}

/* The header is whole: decode length and mask; 0 or a close code. */
static uint16_t ws_header_done(struct ws_parser *p, const char **why)
{
	uint8_t len7 = p->hdr[1] & 0x7f, *m = p->hdr + 2;
	uint64_t len = len7;
	int i;

	if (len7 == 126) {
		len = (uint64_t)p->hdr[2] << 8 | p->hdr[3];
		if (len < 126)
			return *why = "length not minimally encoded",
			       WS_CLOSE_PROTOCOL;
		m = p->hdr + 4;
	} else if (len7 == 127) {
		for (len = 0, i = 0; i < 8; i++)
			len = len << 8 | p->hdr[2 + i];
		if (len >> 63)
			return *why = "length with the top bit set",
			       WS_CLOSE_PROTOCOL;
		if (len <= 0xffff)
			return *why = "length not minimally encoded",
			       WS_CLOSE_PROTOCOL;
		m = p->hdr + 10;
	}
	p->opcode = p->hdr[0] & 0x0f;
	p->fin = p->hdr[0] >> 7;
	p->frame_len = p->remaining = len;
	memcpy(p->mask, m, 4);
	p->mask_pos = 0;
	if (ws_is_control(p->opcode)) {
		p->ctl_len = 0;
		return 0;
	}
	if (len > p->cap - p->msg_len)
		return *why = "message too big", WS_CLOSE_TOO_BIG;
	if (p->opcode != WS_OP_CONT) {
		p->msg_op = p->opcode;
		p->msg_z = !!(p->hdr[0] & 0x40);
	}
	return 0;
}

/* dst[i] = src[i] ^ mask, mask continuing at p->mask_pos. */
static void ws_unmask(struct ws_parser *p, uint8_t *dst, const uint8_t *src,
		      size_t n)
{
	size_t i = 0;
	unsigned int k = p->mask_pos;

	if (n >= 16) {
		uint8_t mb[8];
		uint64_t m8, w;
		int j;

		for (j = 0; j < 8; j++)
			mb[j] = p->mask[(k + j) & 3];
		memcpy(&m8, mb, 8);
		for (; i + 8 <= n; i += 8) {
			memcpy(&w, src + i, 8);
			w ^= m8;
			memcpy(dst + i, &w, 8);
		}
	}
	for (; i < n; i++)
		dst[i] = src[i] ^ p->mask[(k + i) & 3];
	p->mask_pos = (k + n) & 3;
}

/* Take payload bytes of a data frame; 0 or a close code (and *why). */
static uint16_t ws_data_bytes(struct ws_parser *p, const uint8_t *in,
			      size_t n, const char **why)
{
	int text = p->msg_op == WS_OP_TEXT;

	if (p->msg_z) {
		uint8_t tmp[512];
		size_t left = n, c;
		uint16_t code;

		/* Compressed: the sink inflates and checks what it unmasks. */
		for (; left; in += c, left -= c) {
			c = left < sizeof(tmp) ? left : sizeof(tmp);
			ws_unmask(p, tmp, in, c);
			code = p->zsink(p->zctx, tmp, c, text ? WS_Z_TEXT : 0, why);
			if (code)
				return code;
		}
		p->msg_len += n;
		return 0;
	}
	if (p->buf) {
		uint8_t *dst = p->buf + p->msg_len;

		ws_unmask(p, dst, in, n);
		if (text)
			p->utf8 = utf8_feed(p->utf8, dst, n);
	} else if (text) {
		uint8_t tmp[512];
		size_t left = n, c;

		/* Nothing kept: unmask in chunks only to validate. */
		for (; left; in += c, left -= c) {
			c = left < sizeof(tmp) ? left : sizeof(tmp);
			ws_unmask(p, tmp, in, c);
			p->utf8 = utf8_feed(p->utf8, tmp, c);
		}
	} else {
		p->mask_pos = (p->mask_pos + n) & 3;
	}
	p->msg_len += n;
	if (text && p->utf8 == UTF8_REJECT)
		return *why = "text not UTF-8", WS_CLOSE_BAD_DATA;
	return 0;
}

/* The current frame is complete; returns the event type it makes. */
static int ws_frame_done(struct ws_parser *p, struct ws_event *ev)
{
	p->state = ST_HEADER;
	p->hdr_len = 0;
	p->hdr_need = 2;
	switch (p->opcode) {
	case WS_OP_PING:
	case WS_OP_PONG:
		ev->type = p->opcode == WS_OP_PING ? WS_EV_PING : WS_EV_PONG;
		ev->data = p->ctl;
		ev->len = p->ctl_len;
		return ev->type;
	case WS_OP_CLOSE:
		ev->type = WS_EV_CLOSE;
		ev->code = WS_CLOSE_NO_STATUS;
		ev->data = p->ctl + 2;
		ev->len = 0;
		if (p->ctl_len == 1)
			return ws_fail(p, ev, WS_CLOSE_PROTOCOL,
				       "close payload of one byte");
		if (p->ctl_len >= 2) {
			ev->code = (uint16_t)(p->ctl[0] << 8 | p->ctl[1]);
			ev->len = p->ctl_len - 2;
			if (!ws_close_code_valid(ev->code))
				return ws_fail(p, ev, WS_CLOSE_PROTOCOL,
					       "invalid close code");
			if (!utf8_valid(ev->data, ev->len))
				return ws_fail(p, ev, WS_CLOSE_BAD_DATA,
					       "close reason not UTF-8");
		}
		p->state = ST_CLOSED;
		return WS_EV_CLOSE;
	}
	if (!p->fin)
		return WS_EV_NONE;
	ev->type = p->msg_op == WS_OP_TEXT ? WS_EV_TEXT : WS_EV_BINARY;
	ev->data = p->buf;
	ev->len = p->msg_len;
	if (p->msg_z) {
		const char *why = NULL;
		uint16_t code = p->zsink(p->zctx, NULL, 0, WS_Z_END |
					 (ev->type == WS_EV_TEXT ? WS_Z_TEXT : 0), &why);

		if (code)
			return ws_fail(p, ev, code, why);
		ev->data = NULL;	/* inflated by the sink, not kept here */
	} else if (p->msg_op == WS_OP_TEXT && p->utf8 != UTF8_ACCEPT) {
		return ws_fail(p, ev, WS_CLOSE_BAD_DATA, "text not UTF-8");
	}
	p->msg_op = 0;
	p->msg_z = 0;
	p->msg_len = 0;
	p->utf8 = UTF8_ACCEPT;
	return ev->type;
}

int ws_parse(struct ws_parser *p, const uint8_t *in, size_t len,
	     size_t *consumed, struct ws_event *ev)
{
	size_t i = 0;
	const char *why = NULL;
	uint16_t code;
	int r;

	memset(ev, 0, sizeof(*ev));
	if (p->state == ST_ERROR) {
		*consumed = 0;
		*ev = p->err;
		return WS_EV_ERROR;
	}
	if (p->state == ST_CLOSED) {
		*consumed = len;
		return WS_EV_NONE;
	}
	while (i < len) {
		if (p->state == ST_HEADER) {
			size_t n = p->hdr_need - p->hdr_len;

			if (n > len - i)
				n = len - i;
			memcpy(p->hdr + p->hdr_len, in + i, n);
			p->hdr_len += n;
			i += n;
			if (p->hdr_len < p->hdr_need)
				break;
			if (p->hdr_need == 2) {
				uint8_t len7 = p->hdr[1] & 0x7f;

				code = ws_check_start(p, &why);
				if (code)
					goto fail;
				p->hdr_need = 2 + 4 + (len7 == 126 ? 2 :
						       len7 == 127 ? 8 : 0);
				continue;
			}
			code = ws_header_done(p, &why);
			if (code)
				goto fail;
			p->state = ST_PAYLOAD;
			if (p->remaining)
				continue;
		} else {
			size_t n = len - i;

			if (n > p->remaining)
				n = p->remaining;
			if (ws_is_control(p->opcode)) {
				ws_unmask(p, p->ctl + p->ctl_len, in + i, n);
				p->ctl_len += n;
			} else {
				code = ws_data_bytes(p, in + i, n, &why);
				if (code) {
					i += n;
					goto fail;
				}
			}
			i += n;
			p->remaining -= n;
			if (p->remaining)
				break;
		}
		/* A frame is complete. */
		r = ws_frame_done(p, ev);
		if (r != WS_EV_NONE) {
			*consumed = i;
			return r;
		}
	}
	*consumed = i;
	return WS_EV_NONE;
fail:
	*consumed = i;
	return ws_fail(p, ev, code, why);
}
