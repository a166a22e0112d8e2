// SPDX-License-Identifier: GPL-2.0
/*
 * ws_fuzz.c - libFuzzer target for userspace/protocol/ws.c.
 *
 * Input: 2 bytes of parameters, then bytes a client might send.  The
 * parser runs three ways (whole, in random chunks, without a message
 * buffer) and must report the same events; each event must keep its
 * promises (text is UTF-8, sizes within bounds, error codes from the
 * allowed set, errors sticky).  The same bytes are also used as a payload:
 * a server frame and a close frame built from them, masked as a client
 * would, must parse back to what went in.  And as a handshake key.
 */
#include <nettle/base64.h>

#include "fuzz.h"
#include "protocol/json.h"
#include "protocol/ws.h"

#define MAX_EVENTS 512

struct rec {
	int type;
	uint16_t code;
	size_t len;
	uint64_t hash;		/* FNV-1a of the data */
	int has_data;
};

static uint64_t fnv(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	while (n--)
		h = (h ^ *p++) * 1099511628211ull;
	return h;
}

/* Check one event's own promises. */
static void check_event(const struct ws_event *ev, size_t cap)
{
	switch (ev->type) {
	case WS_EV_TEXT:
		FUZZ_ASSERT(ev->len <= cap);
		if (ev->data)
			FUZZ_ASSERT(ref_utf8_valid(ev->data, ev->len));
		break;
	case WS_EV_BINARY:
		FUZZ_ASSERT(ev->len <= cap);
		break;
	case WS_EV_PING:
	case WS_EV_PONG:
		FUZZ_ASSERT(ev->len <= WS_CONTROL_MAX);
		FUZZ_ASSERT(ev->data || !ev->len);
		break;
	case WS_EV_CLOSE:
		FUZZ_ASSERT(ev->len <= WS_CONTROL_MAX - 2);
		FUZZ_ASSERT(ev->code == WS_CLOSE_NO_STATUS ?
			    ev->len == 0 : ws_close_code_valid(ev->code));
		FUZZ_ASSERT(ref_utf8_valid(ev->data, ev->len));
		break;
	case WS_EV_ERROR:
		FUZZ_ASSERT(ev->code == WS_CLOSE_PROTOCOL ||
			    ev->code == WS_CLOSE_BAD_DATA ||
			    ev->code == WS_CLOSE_TOO_BIG);
		FUZZ_ASSERT(ev->data && ev->len);
		break;
	default:
		FUZZ_ASSERT(0);
	}
}

/* Parse in[0..n) in chunks (chunk_seed 0: whole); record the events. */
static int run(const uint8_t *in, size_t n, size_t cap, int keep,
	       uint32_t chunk_seed, struct rec *out)
{
	struct ws_parser p;
	uint8_t *buf = keep ? malloc(cap ? cap : 1) : NULL;
	size_t off = 0;
	int k = 0;

	ws_parser_init(&p, buf, cap);
	while (off < n && k < MAX_EVENTS) {
		size_t end = n;

		if (chunk_seed) {
			size_t c = 1 + fuzz_rand(&chunk_seed) % 17;

			if (c < n - off)
				end = off + c;
		}
		/* Copy the chunk so ASan sees any read past its end. */
		size_t clen = end - off, pos = 0;
		uint8_t *chunk = malloc(clen);

		memcpy(chunk, in + off, clen);
		while (pos < clen && k < MAX_EVENTS) {
			struct ws_event ev;
			size_t used = 12345;
			int t = ws_parse(&p, chunk + pos, clen - pos, &used, &ev);

			FUZZ_ASSERT(t == ev.type);
			FUZZ_ASSERT(used <= clen - pos);
			pos += used;
			if (t == WS_EV_NONE) {
				FUZZ_ASSERT(pos == clen);
				break;
			}
			check_event(&ev, cap);
			out[k].type = t;
			out[k].code = ev.code;
			out[k].len = ev.len;
			out[k].has_data = ev.data != NULL;
			out[k].hash = ev.data ? fnv(ev.data, ev.len) : 0;
			k++;
			if (t == WS_EV_ERROR) {
				struct ws_event again;

				FUZZ_ASSERT(ws_parse(&p, chunk, clen, &used, &again) ==
					    WS_EV_ERROR && used == 0 &&
					    again.code == ev.code);
				free(chunk);
				free(buf);
				return k;
			}
		}
		free(chunk);
		off = end;
	}
	free(buf);
	return k;
}

/* Turn a server frame into the client frame with the same payload. */
static size_t mask_frame(uint8_t *dst, const uint8_t *src, size_t n,
			 const uint8_t mask[4])
{
	size_t h = 2 + ((src[1] & 0x7f) == 126 ? 2 : (src[1] & 0x7f) == 127 ? 8 : 0);
	size_t i;

	memcpy(dst, src, h);
	dst[1] |= 0x80;
	memcpy(dst + h, mask, 4);
	for (i = h; i < n; i++)
		dst[i + 4] = src[i] ^ mask[(i - h) & 3];
	return n + 4;
}

/* A server frame of these bytes, masked, parses back to them. */
static void roundtrip_frame(const uint8_t *pl, size_t n, int text,
			    const uint8_t mask[4])
{
	size_t flen = ws_frame(NULL, 0, text ? WS_OP_TEXT : WS_OP_BINARY, pl, n);
	uint8_t *f = malloc(flen), *c = malloc(flen + 4), *buf = malloc(n + 1);
	struct ws_parser p;
	struct ws_event ev;
	size_t used;
	int t;

	FUZZ_ASSERT(ws_frame(f, flen, text ? WS_OP_TEXT : WS_OP_BINARY, pl, n) == flen);
	mask_frame(c, f, flen, mask);
	ws_parser_init(&p, buf, n);
	t = ws_parse(&p, c, flen + 4, &used, &ev);
	if (text && !ref_utf8_valid(pl, n)) {
		FUZZ_ASSERT(t == WS_EV_ERROR && ev.code == WS_CLOSE_BAD_DATA);
	} else {
		FUZZ_ASSERT(t == (text ? WS_EV_TEXT : WS_EV_BINARY));
		FUZZ_ASSERT(used == flen + 4 && ev.len == n);
		FUZZ_ASSERT(!n || !memcmp(ev.data, pl, n));
	}
	free(f);
	free(c);
	free(buf);
}

/* A close frame we build parses back (or is refused for a bad code). */
static void roundtrip_close(const uint8_t *pl, size_t n, uint16_t code,
			    const uint8_t mask[4])
{
	char reason[200];
	uint8_t f[WS_HEADER_MAX + WS_CONTROL_MAX], c[sizeof(f) + 4];
	size_t rl = n < sizeof(reason) - 1 ? n : sizeof(reason) - 1, flen, used;
	struct ws_parser p;
	struct ws_event ev;
	int t;

	memcpy(reason, pl, rl);
	reason[rl] = 0;
	rl = strlen(reason);
	flen = ws_close_frame(f, sizeof(f), code, reason);
	FUZZ_ASSERT(flen <= 2 + WS_CONTROL_MAX);
	mask_frame(c, f, flen, mask);
	ws_parser_init(&p, NULL, 0);
	t = ws_parse(&p, c, flen + 4, &used, &ev);
	if (code == 0) {
		FUZZ_ASSERT(t == WS_EV_CLOSE && ev.code == WS_CLOSE_NO_STATUS);
	} else if (!ws_close_code_valid(code)) {
		FUZZ_ASSERT(t == WS_EV_ERROR && ev.code == WS_CLOSE_PROTOCOL);
	} else if (ref_utf8_valid((const uint8_t *)reason, rl)) {
		/* Cut at a character boundary: still UTF-8, a prefix. */
		FUZZ_ASSERT(t == WS_EV_CLOSE && ev.code == code);
		FUZZ_ASSERT(ev.len <= rl && !memcmp(ev.data, reason, ev.len));
		FUZZ_ASSERT(ev.len == rl || ev.len > WS_CONTROL_MAX - 2 - 4);
	}
}

static int b64_digit(char ch)
{
	const char *digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = ch ? strchr(digits, ch) : NULL;

	return p ? (int)(p - digits) : -1;
}

/*
 * Accepted iff, spaces and tabs around it dropped, the key is the
 * canonical base64 of 16 bytes: 22 digits, the last a multiple of 16
 * (its 4 unused bits zero), then "==".
 */
static void check_key(const uint8_t *d, size_t n)
{
	char key[48], out[WS_ACCEPT_LEN + 1];
	uint8_t raw[32];
	size_t l = n < sizeof(key) - 1 ? n : sizeof(key) - 1, a = 0, b, i;
	int want;

	memcpy(key, d, l);
	key[l] = 0;
	l = strlen(key);
	while (a < l && (key[a] == ' ' || key[a] == '\t'))
		a++;
	for (b = l; b > a && (key[b - 1] == ' ' || key[b - 1] == '\t'); b--)
		;
	want = b - a == 24 && key[a + 22] == '=' && key[a + 23] == '=' &&
	       b64_digit(key[a + 21]) >= 0 && b64_digit(key[a + 21]) % 16 == 0;
	for (i = 0; want && i < 21; i++)
		want = b64_digit(key[a + i]) >= 0;
	if (ws_accept_key(key, out) == 0) {
		struct base64_decode_ctx c;
		size_t rl = sizeof(raw);

		FUZZ_ASSERT(want);
		FUZZ_ASSERT(strlen(out) == WS_ACCEPT_LEN);
		base64_decode_init(&c);
		FUZZ_ASSERT(base64_decode_update(&c, &rl, raw, WS_ACCEPT_LEN, out));
		FUZZ_ASSERT(base64_decode_final(&c) && rl == 20);
	} else {
		FUZZ_ASSERT(!want);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static struct rec a[MAX_EVENTS], b[MAX_EVENTS], c[MAX_EVENTS];
	size_t cap;
	uint32_t seed;
	int na, nb, nc, i;

	if (n < 2)
		return 0;
	cap = (d[0] | (size_t)d[1] << 8) % 70000;
	seed = (uint32_t)n * 2654435761u ^ d[0] ^ (uint32_t)d[1] << 8;
	if (!seed)
		seed = 1;

	na = run(d + 2, n - 2, cap, 1, 0, a);
	nb = run(d + 2, n - 2, cap, 1, seed, b);
	nc = run(d + 2, n - 2, cap, 0, seed ^ 0x9e3779b9u, c);
	FUZZ_ASSERT(na == nb && na == nc);
	for (i = 0; i < na; i++) {
		FUZZ_ASSERT(a[i].type == b[i].type && a[i].type == c[i].type);
		FUZZ_ASSERT(a[i].code == b[i].code && a[i].code == c[i].code);
		FUZZ_ASSERT(a[i].len == b[i].len && a[i].len == c[i].len);
		FUZZ_ASSERT(a[i].hash == b[i].hash);
		if (a[i].type != WS_EV_TEXT && a[i].type != WS_EV_BINARY)
			FUZZ_ASSERT(a[i].hash == c[i].hash);
		else
			FUZZ_ASSERT(a[i].has_data && !c[i].has_data);
	}

	{
		uint8_t mask[4] = { d[0], d[1], (uint8_t)n, d[n - 1] };

		roundtrip_frame(d + 2, n - 2, d[0] & 1, mask);
		roundtrip_close(d + 2, n - 2, (uint16_t)(d[0] << 8 | d[1]), mask);
	}
	check_key(d, n);
	return 0;
}
