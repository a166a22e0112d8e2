// SPDX-License-Identifier: GPL-2.0
/*
 * test_ws.c - WebSocket handshake, server frames and the client-frame
 * parser (userspace/protocol/ws.c): every length class, masking, fragmentation,
 * control frames between fragments, each protocol error with its close
 * code, and that feeding byte by byte gives the same events as feeding
 * everything at once.  TAP output; exit 1 on any failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/ws.h"

#include "tap.h"

/* --- building client frames ---------------------------------------------- */

struct frame_opts {
	int fin;		/* 1 unless said otherwise */
	int rsv;		/* bits 0x70 of byte 0 */
	int unmasked;
	int long_len;		/* force the 127 length form */
	int mid_len;		/* force the 126 length form */
};

static const uint8_t test_mask[4] = { 0x37, 0xfa, 0x21, 0x3d };

/* Append a client frame to out at *n; returns the new length. */
static size_t put_frame_opts(uint8_t *out, size_t n, int opcode,
			     const void *payload, size_t len,
			     struct frame_opts o)
{
	const uint8_t *pl = payload;
	size_t i;

	out[n++] = (o.fin ? 0x80 : 0) | (o.rsv & 0x70) | opcode;
	if (len < 126 && !o.long_len && !o.mid_len) {
		out[n++] = (o.unmasked ? 0 : 0x80) | len;
	} else if (len <= 0xffff && !o.long_len) {
		out[n++] = (o.unmasked ? 0 : 0x80) | 126;
		out[n++] = len >> 8;
		out[n++] = len;
	} else {
		out[n++] = (o.unmasked ? 0 : 0x80) | 127;
		for (i = 0; i < 8; i++)
			out[n++] = (uint64_t)len >> (56 - 8 * i);
	}
	if (!o.unmasked) {
		memcpy(out + n, test_mask, 4);
		n += 4;
	}
	for (i = 0; i < len; i++)
		out[n + i] = pl[i] ^ (o.unmasked ? 0 : test_mask[i & 3]);
	return n + len;
}

static size_t put_frame(uint8_t *out, size_t n, int opcode, int fin,
			const void *payload, size_t len)
{
	struct frame_opts o = { .fin = fin };

	return put_frame_opts(out, n, opcode, payload, len, o);
}

/* --- running the parser ---------------------------------------------------- */

#define MAX_EVENTS 64

struct seen {
	int type;
	uint16_t code;
	size_t len;
	uint8_t *data;		/* copy (malloc) */
};

struct run {
	int n;
	struct seen ev[MAX_EVENTS];
	size_t consumed;	/* bytes consumed until the error, if any */
};

static void run_free(struct run *r)
{
	int i;

	for (i = 0; i < r->n; i++)
		free(r->ev[i].data);
	r->n = 0;
}

/*
 * Feed in[0..len) in chunks of chunk bytes (0: all at once) to a parser
 * with a buffer of cap bytes (buf NULL when keep is 0); record events.
 */
static void run_parser(struct run *r, const uint8_t *in, size_t len,
		       size_t chunk, size_t cap, int keep)
{
	struct ws_parser p;
	uint8_t *buf = keep ? malloc(cap ? cap : 1) : NULL;
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	ws_parser_init(&p, buf, cap);
	while (off < len && r->n < MAX_EVENTS) {
		size_t n = chunk && chunk < len - off ? chunk : len - off;
		size_t pos = 0;

		while (pos < n && r->n < MAX_EVENTS) {
			struct ws_event ev;
			size_t used = 0;
			int t = ws_parse(&p, in + off + pos, n - pos, &used, &ev);

			if (t != ev.type)
				t = -1;	/* return value must match ev.type */
			pos += used;
			if (t == WS_EV_NONE) {
				if (pos != n)
					t = -2;	/* NONE must consume everything */
				else
					break;
			}
			r->ev[r->n].type = t;
			r->ev[r->n].code = ev.code;
			r->ev[r->n].len = ev.len;
			r->ev[r->n].data = malloc(ev.len + 1);
			if (ev.len && ev.data)
				memcpy(r->ev[r->n].data, ev.data, ev.len);
			else if (ev.len && t != WS_EV_TEXT && t != WS_EV_BINARY)
				r->ev[r->n].type = -3;	/* len without data */
			r->n++;
			if (t == WS_EV_ERROR) {
				r->consumed = off + pos;
				/* sticky: consumes nothing, same code */
				if (ws_parse(&p, in, len, &used, &ev) != WS_EV_ERROR ||
				    used != 0 || ev.code != r->ev[r->n - 1].code)
					r->ev[r->n - 1].type = -4;
				free(buf);
				return;
			}
		}
		off += n;
	}
	free(buf);
}

static int runs_equal(const struct run *a, const struct run *b, int keep)
{
	int i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		if (a->ev[i].type != b->ev[i].type ||
		    a->ev[i].code != b->ev[i].code ||
		    a->ev[i].len != b->ev[i].len)
			return 0;
		if ((keep || (a->ev[i].type != WS_EV_TEXT &&
			      a->ev[i].type != WS_EV_BINARY)) &&
		    memcmp(a->ev[i].data, b->ev[i].data, a->ev[i].len))
			return 0;
	}
	return 1;
}

/* Parse whole, byte by byte, in 3- and 7-byte chunks; all must agree. */
static int parse_all_ways(struct run *r, const uint8_t *in, size_t len,
			  size_t cap)
{
	static const size_t chunks[] = { 1, 3, 7, 4096 };
	struct run other;
	size_t i;
	int keep, same = 1;

	run_parser(r, in, len, 0, cap, 1);
	for (keep = 0; keep <= 1; keep++) {
		for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
			run_parser(&other, in, len, chunks[i], cap, keep);
			if (!runs_equal(r, &other, keep))
				same = 0;
			run_free(&other);
		}
	}
	return same;
}

/* Expect exactly one error event with this close code. */
static void expect_error(const char *name, const uint8_t *in, size_t len,
			 size_t cap, uint16_t code)
{
	struct run r;
	int same = parse_all_ways(&r, in, len, cap);
	struct seen *last = r.n ? &r.ev[r.n - 1] : NULL;

	CHECK(same && last && last->type == WS_EV_ERROR && last->code == code,
	      "%s -> error %u", name, code);
	if (last && (last->type != WS_EV_ERROR || last->code != code))
		printf("# got type %d code %u after %d events\n",
		       last->type, last->code, r.n);
	run_free(&r);
}

/* --- tests ----------------------------------------------------------------- */

static void test_accept_key(void)
{
	char out[WS_ACCEPT_LEN + 1];

	/* RFC 6455 section 1.3 sample. */
	CHECK(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out) == 0 &&
	      !strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
	      "RFC 6455 sample handshake");
	CHECK(ws_accept_key(" \tdGhlIHNhbXBsZSBub25jZQ== ", out) == 0 &&
	      !strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
	      "key with surrounding whitespace");
	/* Key from RFC 6455 section 4.1 example request. */
	CHECK(ws_accept_key("x3JJHMbDL1EzLkh9GBhXDw==", out) == 0 &&
	      !strcmp(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk="),
	      "second known key");
	CHECK(ws_accept_key("", out) == -EINVAL, "empty key rejected");
	CHECK(ws_accept_key(NULL, out) == -EINVAL, "NULL key rejected");
	CHECK(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ=", out) == -EINVAL,
	      "23-character key rejected");
	CHECK(ws_accept_key("dGhlIHNhbXBsZSBub25jZXg=", out) == -EINVAL,
	      "key of 17 bytes rejected");
	CHECK(ws_accept_key("dGhlIHNhbXBsZSBub25j!Q==", out) == -EINVAL,
	      "key with a non-base64 character rejected");
	CHECK(ws_accept_key("dGhlIHNhbXBsZSBub25jZR==", out) == -EINVAL,
	      "non-canonical base64 key rejected");
	CHECK(ws_accept_key("dGhlIHNhbXBs ZSBub25jZQ==", out) == -EINVAL,
	      "key with inner space rejected");
	/* 24 characters, 22 of them base64 digits: whitespace where the padding goes. */
	CHECK(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ\r\n", out) == -EINVAL,
	      "key with CRLF for its padding rejected");
	CHECK(ws_accept_key("dGhlIHNh\nbXBsZSBub25jZQ=", out) == -EINVAL,
	      "key with a newline inside and one '=' rejected");
	/* Keys of every digit value, computed with Python's base64 and hashlib. */
	CHECK(ws_accept_key("/////////////////////w==", out) == 0 &&
	      !strcmp(out, "XXpj4jYzLM2yUE0C7TIgMwTQh2g="),
	      "key of 0xff bytes ('/' digits)");
	CHECK(ws_accept_key("+/+/+/+/+/+/+/+/+/+/+w==", out) == 0 &&
	      !strcmp(out, "M0DUs3om0SqzerhOhYSMM7WQuBQ="),
	      "key with '+' digits");
	CHECK(ws_accept_key("AQIDBAUGBwgJCgsMDQ4PEA==", out) == 0 &&
	      !strcmp(out, "C/0nmHhBztSRGR1CwL6Tf4ZjwpY="),
	      "key of bytes 1..16");
	CHECK(ws_accept_key("_____________________w==", out) == -EINVAL,
	      "key in the URL-safe alphabet rejected");
}

static void test_frame_header(void)
{
	static const struct {
		uint64_t len;
		size_t hlen;
		uint8_t hdr[10];
	} cases[] = {
		{ 0, 2, { 0x81, 0 } },
		{ 125, 2, { 0x81, 125 } },
		{ 126, 4, { 0x81, 126, 0, 126 } },
		{ 65535, 4, { 0x81, 126, 0xff, 0xff } },
		{ 65536, 10, { 0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0 } },
		{ 0x123456789aull, 10,
		  { 0x81, 127, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0x9a } },
	};
	uint8_t h[WS_HEADER_MAX], buf[200];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(h, 0xee, sizeof(h));
		n = ws_frame_header(h, WS_OP_TEXT, cases[i].len);
		CHECK(n == cases[i].hlen && !memcmp(h, cases[i].hdr, n),
		      "server header for length %llu",
		      (unsigned long long)cases[i].len);
	}
	n = ws_frame_header(h, WS_OP_PING, 0);
	CHECK(n == 2 && h[0] == 0x89 && h[1] == 0, "ping header");

	/* Whole frames, and nothing written when they do not fit. */
	n = ws_frame(buf, sizeof(buf), WS_OP_TEXT, "hello", 5);
	CHECK(n == 7 && !memcmp(buf, "\x81\x05hello", 7), "text frame");
	memset(buf, 0, sizeof(buf));
	n = ws_frame(buf, 6, WS_OP_TEXT, "hello", 5);
	CHECK(n == 7 && buf[0] == 0, "frame not written when too big");
	n = ws_frame(buf, sizeof(buf), WS_OP_PONG, NULL, 0);
	CHECK(n == 2 && buf[0] == 0x8a && buf[1] == 0, "empty pong frame");

	/* Close frames. */
	n = ws_close_frame(buf, sizeof(buf), WS_CLOSE_POLICY, "slow consumer");
	CHECK(n == 17 && !memcmp(buf, "\x88\x0f\x03\xf0slow consumer", 17),
	      "close 1008 slow consumer");
	n = ws_close_frame(buf, sizeof(buf), WS_CLOSE_GOING_AWAY, NULL);
	CHECK(n == 4 && !memcmp(buf, "\x88\x02\x03\xe9", 4), "close 1001");
	n = ws_close_frame(buf, sizeof(buf), 0, "ignored");
	CHECK(n == 2 && !memcmp(buf, "\x88\x00", 2), "close without code");
	{
		char r[200];

		memset(r, 'x', 122);	/* 122 ASCII then a 2-byte char */
		memcpy(r + 122, "\xc3\xa9tail", 6);
		r[128] = 0;
		n = ws_close_frame(buf, sizeof(buf), 1000, r);
		CHECK(n == 2 + 2 + 122 && buf[1] == 124,
		      "long close reason cut before a split character");
		memset(r, 'y', 150);
		r[150] = 0;
		n = ws_close_frame(buf, sizeof(buf), 1000, r);
		CHECK(n == 2 + 125 && buf[1] == 125,
		      "long close reason cut at 123 bytes");
	}
}

static void test_close_codes(void)
{
	static const uint16_t valid[] = { 1000, 1001, 1002, 1003, 1007, 1008,
		1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999 };
	static const uint16_t invalid[] = { 0, 999, 1004, 1005, 1006, 1015,
		1016, 1100, 2000, 2999, 5000, 65535 };
	size_t i;
	int ok = 1;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		ok &= ws_close_code_valid(valid[i]) == 1;
	CHECK(ok, "valid close codes accepted");
	ok = 1;
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		ok &= ws_close_code_valid(invalid[i]) == 0;
	CHECK(ok, "invalid close codes rejected");
}

static void test_length_classes(void)
{
	static const size_t lens[] = { 0, 1, 125, 126, 127, 65535, 65536,
				       70000 };
	size_t i, big = 70000 + 16;
	uint8_t *pl = malloc(big), *in = malloc(big + 32);

	for (i = 0; i < big; i++)
		pl[i] = 'a' + i % 26;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct run r;
		size_t n = put_frame(in, 0, WS_OP_BINARY, 1, pl, lens[i]);
		int same = parse_all_ways(&r, in, n, 70000);

		CHECK(same && r.n == 1 && r.ev[0].type == WS_EV_BINARY &&
		      r.ev[0].len == lens[i] && !memcmp(r.ev[0].data, pl, lens[i]),
		      "masked binary frame of %zu bytes", lens[i]);
		run_free(&r);
	}
	/* The same text message at the size limit, and one byte over it. */
	{
		struct run r;
		size_t n = put_frame(in, 0, WS_OP_TEXT, 1, pl, 1000);

		parse_all_ways(&r, in, n, 1000);
		CHECK(r.n == 1 && r.ev[0].type == WS_EV_TEXT && r.ev[0].len == 1000,
		      "text message exactly at the cap");
		run_free(&r);
		expect_error("text message one byte over the cap", in, n, 999,
			     WS_CLOSE_TOO_BIG);
	}
	free(pl);
	free(in);
}

static void test_sequences(void)
{
	uint8_t in[4096];
	size_t n = 0;
	struct run r;
	int same;

	/* Fragmented text with a ping and a pong between the fragments. */
	n = put_frame(in, n, WS_OP_TEXT, 0, "Hel", 3);
	n = put_frame(in, n, WS_OP_PING, 1, "p1", 2);
	n = put_frame(in, n, WS_OP_CONT, 0, "lo, ", 4);
	n = put_frame(in, n, WS_OP_PONG, 1, "", 0);
	n = put_frame(in, n, WS_OP_CONT, 0, "", 0);
	n = put_frame(in, n, WS_OP_CONT, 1, "w\xc3\xb6rld", 6);
	n = put_frame(in, n, WS_OP_BINARY, 1, "\x00\xff", 2);
	n = put_frame(in, n, WS_OP_TEXT, 1, "", 0);
	n = put_frame(in, n, WS_OP_CLOSE, 1, "\x03\xe8" "bye", 5);
	n = put_frame(in, n, WS_OP_TEXT, 1, "after close", 11);
	same = parse_all_ways(&r, in, n, 100);
	CHECK(same, "every chunking gives the same events");
	CHECK(r.n == 6, "six events (got %d)", r.n);
	CHECK(r.n > 0 && r.ev[0].type == WS_EV_PING && r.ev[0].len == 2 &&
	      !memcmp(r.ev[0].data, "p1", 2), "ping inside a fragmented message");
	CHECK(r.n > 1 && r.ev[1].type == WS_EV_PONG && r.ev[1].len == 0,
	      "empty pong inside a fragmented message");
	CHECK(r.n > 2 && r.ev[2].type == WS_EV_TEXT && r.ev[2].len == 13 &&
	      !memcmp(r.ev[2].data, "Hello, w\xc3\xb6rld", 13),
	      "fragments reassembled, UTF-8 split across fragments");
	CHECK(r.n > 3 && r.ev[3].type == WS_EV_BINARY && r.ev[3].len == 2 &&
	      !memcmp(r.ev[3].data, "\x00\xff", 2), "binary message");
	CHECK(r.n > 4 && r.ev[4].type == WS_EV_TEXT && r.ev[4].len == 0,
	      "empty text message");
	CHECK(r.n > 5 && r.ev[5].type == WS_EV_CLOSE && r.ev[5].code == 1000 &&
	      r.ev[5].len == 3 && !memcmp(r.ev[5].data, "bye", 3),
	      "close with code and reason; later frames ignored");
	run_free(&r);

	/* A close may come in the middle of a fragmented message. */
	n = put_frame(in, 0, WS_OP_BINARY, 0, "part", 4);
	n = put_frame(in, n, WS_OP_CLOSE, 1, "\x0f\xa0", 2);
	n = put_frame(in, n, WS_OP_CONT, 1, "rest", 4);
	same = parse_all_ways(&r, in, n, 100);
	CHECK(same && r.n == 1 && r.ev[0].type == WS_EV_CLOSE &&
	      r.ev[0].code == 4000 && r.ev[0].len == 0,
	      "close inside a fragmented message; the rest ignored");
	run_free(&r);

	/* A close without payload reports 1005. */
	n = put_frame(in, 0, WS_OP_CLOSE, 1, "", 0);
	parse_all_ways(&r, in, n, 100);
	CHECK(r.n == 1 && r.ev[0].type == WS_EV_CLOSE &&
	      r.ev[0].code == WS_CLOSE_NO_STATUS && r.ev[0].len == 0,
	      "empty close reports 1005");
	run_free(&r);

	/* Control frame of 125 bytes is fine. */
	{
		uint8_t pl[125];

		memset(pl, 'z', sizeof(pl));
		n = put_frame(in, 0, WS_OP_PING, 1, pl, 125);
		parse_all_ways(&r, in, n, 10);
		CHECK(r.n == 1 && r.ev[0].type == WS_EV_PING && r.ev[0].len == 125 &&
		      !memcmp(r.ev[0].data, pl, 125), "ping of 125 bytes");
		run_free(&r);
	}

	/* ws_parse stops right after an event; the rest is left. */
	{
		struct ws_parser p;
		struct ws_event ev;
		uint8_t buf[64];
		size_t used, a;

		n = put_frame(in, 0, WS_OP_TEXT, 1, "one", 3);
		a = n;
		n = put_frame(in, n, WS_OP_TEXT, 1, "two", 3);
		ws_parser_init(&p, buf, sizeof(buf));
		CHECK(ws_parse(&p, in, n, &used, &ev) == WS_EV_TEXT && used == a &&
		      ev.len == 3 && !memcmp(ev.data, "one", 3),
		      "first event consumes only its frame");
		CHECK(ws_parse(&p, in + a, n - a, &used, &ev) == WS_EV_TEXT &&
		      used == n - a && !memcmp(ev.data, "two", 3),
		      "second call yields the next frame");
		CHECK(ws_parse(&p, in, 0, &used, &ev) == WS_EV_NONE && used == 0,
		      "empty input yields nothing");
	}

	/* Without a buffer, messages are validated and counted only. */
	{
		struct ws_parser p;
		struct ws_event ev;
		size_t used;

		n = put_frame(in, 0, WS_OP_TEXT, 1, "abc\xe2\x82\xac", 6);
		ws_parser_init(&p, NULL, 10);
		CHECK(ws_parse(&p, in, n, &used, &ev) == WS_EV_TEXT &&
		      ev.data == NULL && ev.len == 6,
		      "message without buffer: NULL data, its length");
		n = put_frame(in, 0, WS_OP_BINARY, 1, "\xff\xfe", 2);
		CHECK(ws_parse(&p, in, n, &used, &ev) == WS_EV_BINARY &&
		      ev.data == NULL && ev.len == 2 && used == n,
		      "binary without buffer: skipped, counted");
		n = put_frame(in, 0, WS_OP_BINARY, 1, "0123456789a", 11);
		CHECK(ws_parse(&p, in, n, &used, &ev) == WS_EV_ERROR &&
		      ev.code == WS_CLOSE_TOO_BIG,
		      "the cap applies without a buffer too");
	}
}

static void test_errors(void)
{
	uint8_t in[512], pl[200];
	struct frame_opts o = { .fin = 1 };
	size_t n;

	memset(pl, 'a', sizeof(pl));

	o.unmasked = 1;
	n = put_frame_opts(in, 0, WS_OP_TEXT, "hi", 2, o);
	expect_error("unmasked client frame", in, n, 100, WS_CLOSE_PROTOCOL);
	o.unmasked = 0;

	for (int rsv = 0x10; rsv <= 0x40; rsv <<= 1) {
		o.rsv = rsv;
		n = put_frame_opts(in, 0, WS_OP_TEXT, "hi", 2, o);
		expect_error(rsv == 0x40 ? "RSV1 set" : rsv == 0x20 ?
			     "RSV2 set" : "RSV3 set", in, n, 100,
			     WS_CLOSE_PROTOCOL);
	}
	o.rsv = 0;

	for (int op = 3; op <= 15; op++) {
		char name[40];

		if (op == 8 || op == 9 || op == 10)
			continue;
		snprintf(name, sizeof(name), "reserved opcode %d", op);
		n = put_frame(in, 0, op, 1, "x", 1);
		expect_error(name, in, n, 100, WS_CLOSE_PROTOCOL);
	}

	n = put_frame(in, 0, WS_OP_PING, 0, "x", 1);
	expect_error("fragmented ping", in, n, 100, WS_CLOSE_PROTOCOL);
	n = put_frame(in, 0, WS_OP_CLOSE, 0, "", 0);
	expect_error("fragmented close", in, n, 100, WS_CLOSE_PROTOCOL);
	n = put_frame(in, 0, WS_OP_PING, 1, pl, 126);
	expect_error("ping of 126 bytes", in, n, 1000, WS_CLOSE_PROTOCOL);
	n = put_frame(in, 0, WS_OP_PONG, 1, pl, 126);
	expect_error("pong of 126 bytes", in, n, 1000, WS_CLOSE_PROTOCOL);

	n = put_frame(in, 0, WS_OP_CONT, 1, "x", 1);
	expect_error("continuation without a message", in, n, 100,
		     WS_CLOSE_PROTOCOL);
	n = put_frame(in, 0, WS_OP_TEXT, 1, "x", 1);
	n = put_frame(in, n, WS_OP_CONT, 1, "x", 1);
	expect_error("continuation after a finished message", in, n, 100,
		     WS_CLOSE_PROTOCOL);
	n = put_frame(in, 0, WS_OP_TEXT, 0, "x", 1);
	n = put_frame(in, n, WS_OP_TEXT, 1, "y", 1);
	expect_error("text frame inside a fragmented message", in, n, 100,
		     WS_CLOSE_PROTOCOL);
	n = put_frame(in, 0, WS_OP_BINARY, 0, "x", 1);
	n = put_frame(in, n, WS_OP_BINARY, 1, "y", 1);
	expect_error("binary frame inside a fragmented message", in, n, 100,
		     WS_CLOSE_PROTOCOL);

	n = put_frame(in, 0, WS_OP_CLOSE, 1, "\x03", 1);
	expect_error("close payload of 1 byte", in, n, 100, WS_CLOSE_PROTOCOL);
	{
		static const uint16_t bad[] = { 0, 999, 1004, 1005, 1006, 1015,
						1016, 2999, 5000, 65535 };
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			uint8_t c[2] = { bad[i] >> 8, bad[i] & 0xff };
			char name[40];

			snprintf(name, sizeof(name), "close code %u", bad[i]);
			n = put_frame(in, 0, WS_OP_CLOSE, 1, c, 2);
			expect_error(name, in, n, 100, WS_CLOSE_PROTOCOL);
		}
	}
	n = put_frame(in, 0, WS_OP_CLOSE, 1, "\x03\xe8\xff", 3);
	expect_error("close reason not UTF-8", in, n, 100, WS_CLOSE_BAD_DATA);
	n = put_frame(in, 0, WS_OP_CLOSE, 1, "\x03\xe8\xc3", 3);
	expect_error("close reason with a truncated character", in, n, 100,
		     WS_CLOSE_BAD_DATA);

	n = put_frame(in, 0, WS_OP_TEXT, 1, "a\xc0\xaf", 3);
	expect_error("overlong in text", in, n, 100, WS_CLOSE_BAD_DATA);
	n = put_frame(in, 0, WS_OP_TEXT, 1, "a\xe2\x82", 3);
	expect_error("text ending inside a character", in, n, 100,
		     WS_CLOSE_BAD_DATA);
	n = put_frame(in, 0, WS_OP_TEXT, 0, "a\xe2", 2);
	n = put_frame(in, n, WS_OP_CONT, 1, "\x82", 1);
	expect_error("fragments ending inside a character", in, n, 100,
		     WS_CLOSE_BAD_DATA);

	/* Fail fast: an invalid byte is reported before the message ends. */
	{
		struct ws_parser p;
		struct ws_event ev;
		uint8_t buf[100];
		size_t used;

		n = put_frame(in, 0, WS_OP_TEXT, 0, "ok\xed\xa0\x80", 5);
		ws_parser_init(&p, buf, sizeof(buf));
		CHECK(ws_parse(&p, in, n, &used, &ev) == WS_EV_ERROR &&
		      ev.code == WS_CLOSE_BAD_DATA && ev.len > 0,
		      "surrogate in a first fragment fails at once");
		ws_parser_init(&p, NULL, 100);
		CHECK(ws_parse(&p, in, n, &used, &ev) == WS_EV_ERROR &&
		      ev.code == WS_CLOSE_BAD_DATA,
		      "same without a message buffer");
	}

	/* Sizes: over the cap across fragments, and length encodings. */
	n = put_frame(in, 0, WS_OP_BINARY, 0, pl, 60);
	n = put_frame(in, n, WS_OP_CONT, 1, pl, 60);
	expect_error("fragments adding up over the cap", in, n, 100,
		     WS_CLOSE_TOO_BIG);
	{
		uint8_t h[16] = { 0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0,
				  1, 2, 3, 4 };

		expect_error("64-bit length with the top bit set", h, 14,
			     100, WS_CLOSE_PROTOCOL);
		memcpy(h, "\x82\xff\x00\x00\x00\x01\x00\x00\x00\x00", 10);
		expect_error("4 GiB frame", h, 14, 1 << 20, WS_CLOSE_TOO_BIG);
	}
	o.long_len = 1;
	n = put_frame_opts(in, 0, WS_OP_TEXT, "hi", 2, o);
	expect_error("64-bit length not minimally encoded", in, n, 100,
		     WS_CLOSE_PROTOCOL);
	o.long_len = 0;
	o.mid_len = 1;
	n = put_frame_opts(in, 0, WS_OP_TEXT, pl, 125, o);
	expect_error("16-bit length not minimally encoded", in, n, 1000,
		     WS_CLOSE_PROTOCOL);
	o.mid_len = 0;

	/* A good frame before the bad one still comes out first. */
	{
		struct run r;

		size_t a = put_frame(in, 0, WS_OP_TEXT, 1, "fine", 4);

		/* The bad opcode is seen in the first two header bytes. */
		n = put_frame(in, a, 5, 1, "", 0);
		parse_all_ways(&r, in, n, 100);
		CHECK(r.n == 2 && r.ev[0].type == WS_EV_TEXT &&
		      r.ev[1].type == WS_EV_ERROR && r.consumed == a + 2,
		      "events before an error are delivered");
		run_free(&r);
	}
}

/* Autobahn-style UTF-8 cases, each sent whole and as 1-byte fragments. */
static void test_utf8_text(void)
{
	static const struct {
		const char *s;
		size_t len;
		int valid;
		const char *name;
	} cases[] = {
#define U(s, v, name) { s, sizeof(s) - 1, v, name }
		U("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", 1, "kosme"),
		U("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80" "edited", 0,
		  "kosme then surrogate"),
		U("\x7f", 1, "U+007F"),
		U("\xc2\x80", 1, "U+0080"),
		U("\xdf\xbf", 1, "U+07FF"),
		U("\xe0\xa0\x80", 1, "U+0800"),
		U("\xef\xbf\xbf", 1, "U+FFFF"),
		U("\xf0\x90\x80\x80", 1, "U+10000"),
		U("\xf4\x8f\xbf\xbf", 1, "U+10FFFF"),
		U("\xed\x9f\xbf", 1, "U+D7FF"),
		U("\xee\x80\x80", 1, "U+E000"),
		U("\xef\xbf\xbe", 1, "U+FFFE"),
		U("\xf4\x90\x80\x80", 0, "U+110000"),
		U("\xf7\xbf\xbf\xbf", 0, "4-byte beyond U+10FFFF"),
		U("\xf8\x88\x80\x80\x80", 0, "5-byte sequence"),
		U("\xfc\x84\x80\x80\x80\x80", 0, "6-byte sequence"),
		U("\x80", 0, "lone continuation 80"),
		U("\xbf", 0, "lone continuation bf"),
		U("\xc0\x20", 0, "lonely start c0"),
		U("\xe0\x20", 0, "lonely start e0"),
		U("\xc2", 0, "truncated 2-byte"),
		U("\xe0\xa0", 0, "truncated 3-byte"),
		U("\xf0\x90\x80", 0, "truncated 4-byte"),
		U("\xc0\xaf", 0, "overlong / in 2 bytes"),
		U("\xe0\x80\xaf", 0, "overlong / in 3 bytes"),
		U("\xf0\x80\x80\xaf", 0, "overlong / in 4 bytes"),
		U("\xc1\xbf", 0, "overlong U+007F"),
		U("\xe0\x9f\xbf", 0, "overlong U+07FF"),
		U("\xf0\x8f\xbf\xbf", 0, "overlong U+FFFF"),
		U("\xed\xa0\x80", 0, "surrogate U+D800"),
		U("\xed\xad\xbf", 0, "surrogate U+DB7F"),
		U("\xed\xbf\xbf", 0, "surrogate U+DFFF"),
		U("\xed\xa0\x80\xed\xb0\x80", 0, "surrogate pair"),
		U("\xfe", 0, "byte fe"),
		U("\xff", 0, "byte ff"),
		U("\xfe\xfe\xff\xff", 0, "bytes fe fe ff ff"),
		U("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!",
		  1, "Hello-UTF-8"),
#undef U
	};
	size_t i, j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t in[1024];
		size_t n = 0, len = cases[i].len;
		struct run r1, r2;
		int ok1, ok2;

		n = put_frame(in, 0, WS_OP_TEXT, 1, cases[i].s, len);
		parse_all_ways(&r1, in, n, 100);
		n = 0;
		for (j = 0; j < len; j++)
			n = put_frame(in, n, j ? WS_OP_CONT : WS_OP_TEXT,
				      j + 1 == len, cases[i].s + j, 1);
		parse_all_ways(&r2, in, n, 100);
		if (cases[i].valid) {
			ok1 = r1.n == 1 && r1.ev[0].type == WS_EV_TEXT;
			ok2 = r2.n == 1 && r2.ev[0].type == WS_EV_TEXT &&
			      r2.ev[0].len == len;
		} else {
			ok1 = r1.n == 1 && r1.ev[0].type == WS_EV_ERROR &&
			      r1.ev[0].code == WS_CLOSE_BAD_DATA;
			ok2 = r2.n == 1 && r2.ev[0].type == WS_EV_ERROR &&
			      r2.ev[0].code == WS_CLOSE_BAD_DATA;
		}
		CHECK(ok1 && ok2, "UTF-8 %s: %s", cases[i].name,
		      cases[i].valid ? "accepted" : "1007");
		run_free(&r1);
		run_free(&r2);
	}
}

int main(void)
{
	test_accept_key();
	test_frame_header();
	test_close_codes();
	test_length_classes();
	test_sequences();
	test_errors();
	test_utf8_text();
	return tap_done();
}
