// SPDX-License-Identifier: GPL-2.0
/*
 * mkseeds.c - write the seed corpus of each fuzz target into DIR/<target>/
 * (ws, json, sse, record): valid and near-valid inputs that get the
 * fuzzers past the first length and mask checks at once.  Generated at
 * build time by tests/fuzz/smoke, never committed.
 *
 *   mkseeds DIR
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <linux/push.h>

static const char *root;
static int seq;

static void emit(const char *target, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, target);
	if (mkdir(path, 0755) && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/seed-%03d", root, target, seq++);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* Append a masked client frame. */
static size_t frame(uint8_t *o, size_t n, int b0, const void *pl, size_t len)
{
	static const uint8_t mask[4] = { 0xa1, 0x02, 0x7f, 0x10 };
	const uint8_t *p = pl;
	size_t i;

	o[n++] = b0;
	if (len < 126) {
		o[n++] = 0x80 | len;
	} else if (len <= 0xffff) {
		o[n++] = 0x80 | 126;
		o[n++] = len >> 8;
		o[n++] = len;
	} else {
		o[n++] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			o[n++] = (uint64_t)len >> (56 - 8 * i);
	}
	memcpy(o + n, mask, 4);
	n += 4;
	for (i = 0; i < len; i++)
		o[n + i] = p[i] ^ mask[i & 3];
	return n + len;
}

static void ws_seeds(void)
{
	static uint8_t b[80000], big[70000];
	size_t n;

	memset(big, 'x', sizeof(big));
	/* Two parameter bytes (cap 4096), then frames. */
	b[0] = 0x00;
	b[1] = 0x10;
	n = frame(b, 2, 0x81, "hello", 5);
	emit("ws", b, n);
	n = frame(b, 2, 0x01, "Hel", 3);
	n = frame(b, n, 0x89, "ping", 4);
	n = frame(b, n, 0x00, "lo \xc3", 4);
	n = frame(b, n, 0x8a, "", 0);
	n = frame(b, n, 0x80, "\xa9", 1);
	n = frame(b, n, 0x82, "\x00\x01\x02", 3);
	n = frame(b, n, 0x88, "\x03\xe8" "bye", 5);
	emit("ws", b, n);
	n = frame(b, 2, 0x82, big, 300);
	emit("ws", b, n);
	n = frame(b, 2, 0x81, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", 11);
	n = frame(b, n, 0x81, "\xed\xa0\x80", 3);
	emit("ws", b, n);
	n = frame(b, 2, 0x88, "\x03\xe8", 2);
	emit("ws", b, n);
	n = frame(b, 2, 0x88, "\x03", 1);
	emit("ws", b, n);
	n = frame(b, 2, 0xc1, "rsv", 3);
	emit("ws", b, n);
	b[0] = 0xff;
	b[1] = 0xff;
	n = frame(b, 2, 0x82, big, 65536);
	emit("ws", b, n);
	/* A handshake key in front, for the key check. */
	memcpy(b, "dGhlIHNhbXBsZSBub25jZQ==", 24);
	emit("ws", b, 24);
}

static void json_seeds(void)
{
	static const char *const payloads[] = {
		"hello", "line1\nline2\t\"q\" \\", "caf\xc3\xa9 \xf0\x9f\x98\x80",
		"\xe2\x80\xa8\xe2\x80\xa9", "\xff\xfe\x00\x01", "\x01\x02\x1f",
		"", "\xed\xa0\x80", "Zm9vYmFy",
	};
	uint8_t b[256];
	size_t i;

	for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		uint64_t id = 1000 + i * 7919;
		size_t l = strlen(payloads[i]) + (i == 4 ? 2 : 0);

		memcpy(b, &id, 8);
		b[8] = 4;
		memcpy(b + 9, "chat", 4);
		memcpy(b + 13, payloads[i], l);
		emit("json", b, 13 + l);
	}
}

static void sse_seeds(void)
{
	static const char *const data[] = {
		"{\"id\":1}", "a\nb", "a\r\nb", "a\rb", "a\n\rb\r\r\n", "\n",
		"", " lead: colon",
	};
	uint8_t b[256];
	size_t i;

	for (i = 0; i < sizeof(data) / sizeof(data[0]); i++) {
		uint64_t id = i * 1000003;
		size_t l = strlen(data[i]);

		memcpy(b, &id, 8);
		b[8] = i % 2 ? 3 : 0x85;
		memcpy(b + 9, i % 3 ? "gap" : "a\rb", 3);
		memcpy(b + 12, data[i], l);
		emit("sse", b, 12 + l);
	}
}

static size_t rec(uint8_t *b, size_t n, uint16_t type, uint64_t id,
		  const char *chan, const void *data, size_t dl)
{
	struct push_record r = { 0 };
	size_t cl = chan ? strlen(chan) : 0;

	r.id = id;
	r.time_ns = id * 1000000007ull;
	r.type = type;
	r.chan_len = cl;
	r.data_len = dl;
	r.size = (sizeof(r) + cl + dl + PUSH_RECORD_ALIGN - 1) &
		 ~(PUSH_RECORD_ALIGN - 1);
	memset(b + n, 0, r.size);
	memcpy(b + n, &r, sizeof(r));
	memcpy(b + n + sizeof(r), chan, cl);
	memcpy(b + n + sizeof(r) + cl, data, dl);
	return n + r.size;
}

static void record_seeds(void)
{
	struct push_gap g = { .next_id = 40, .lost = 12 };
	uint8_t b[1024];
	size_t n;

	n = rec(b, 0, PUSH_REC_MSG, 1, "chat", "hello", 5);
	emit("record", b, n);
	n = rec(b, n, PUSH_REC_GAP, 2, NULL, &g, sizeof(g));
	n = rec(b, n, PUSH_REC_MSG, 40, "default", "\xff\x00", 2);
	n = rec(b, n, 7, 41, "x", "unknown", 7);
	n = rec(b, n, PUSH_REC_MSG, 42, "a.b:c-d_e", "caf\xc3\xa9\n", 6);
	emit("record", b, n);
	emit("record", b, n - 5);
}

/*
 * deflate: byte 0 picks the window, then a permessage-deflate offer up to
 * a NUL, then a raw deflate stream (these: "hello" stored, fixed-Huffman
 * "aaaa...", and a truncated block).
 */
static void deflate_seeds(void)
{
	static const char a[] = "\x0fpermessage-deflate; client_max_window_bits\0"
				"\x00\x05\x00\xfa\xffhello";
	static const char b[] = "\x09permessage-deflate; server_max_window_bits=15, x\0"
				"\x4a\x4c\x44\x05\x00";
	static const char c[] = "\x0cfoo; a=\"b,c\", permessage-deflate\0\x4a\x4c";

	emit("deflate", a, sizeof(a) - 1);
	emit("deflate", b, sizeof(b) - 1);
	emit("deflate", c, sizeof(c) - 1);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	root = argv[1];
	if (mkdir(root, 0755) && errno != EEXIST) {
		perror(root);
		return 1;
	}
	ws_seeds();
	deflate_seeds();
	json_seeds();
	sse_seeds();
	record_seeds();
	return 0;
}
