// SPDX-License-Identifier: GPL-2.0
/*
 * test_record.c - decoding /dev/push records (userspace/protocol/record.c): messages,
 * gaps, unknown types skipped by size, an unaligned buffer, and every kind
 * of malformed or truncated record rejected with -EBADMSG without moving
 * the offset.  TAP output; exit 1 on any failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/record.h"

#include "tap.h"

/* Append a record as the device lays it out; returns the new length. */
static size_t put_rec(uint8_t *buf, size_t n, uint16_t type, uint64_t id,
		      uint64_t time_ns, const char *chan, const void *data,
		      size_t data_len)
{
	struct push_record r = { 0 };
	size_t cl = chan ? strlen(chan) : 0;

	r.id = id;
	r.time_ns = time_ns;
	r.type = type;
	r.chan_len = cl;
	r.data_len = data_len;
	r.size = (sizeof(r) + cl + data_len + PUSH_RECORD_ALIGN - 1) &
		 ~(PUSH_RECORD_ALIGN - 1);
	memset(buf + n, 0xaa, r.size);
	memcpy(buf + n, &r, sizeof(r));
	if (cl)
		memcpy(buf + n + sizeof(r), chan, cl);
	if (data_len)
		memcpy(buf + n + sizeof(r) + cl, data, data_len);
	return n + r.size;
}

static size_t put_gap(uint8_t *buf, size_t n, uint64_t first, uint64_t next,
		      uint64_t lost)
{
	struct push_gap g = { .next_id = next, .lost = lost };

	return put_rec(buf, n, PUSH_REC_GAP, first, 0, NULL, &g, sizeof(g));
}

/* Overwrite a field of the record header at buf. */
#define SET_FIELD(buf, field, val) do {					\
	struct push_record r_;						\
	memcpy(&r_, (buf), sizeof(r_));					\
	r_.field = (val);						\
	memcpy((buf), &r_, sizeof(r_));					\
} while (0)

static void expect_bad(const uint8_t *buf, size_t len, const char *name)
{
	struct push_msg m;
	size_t off = 0;

	CHECK(push_record_next(buf, len, &off, &m) == -EBADMSG && off == 0,
	      "%s -> -EBADMSG, offset kept", name);
}

int main(void)
{
	static uint8_t mem[8192];
	uint8_t *buf = mem + 8;
	struct push_msg m;
	size_t n = 0, off = 0;
	int r;

	n = put_rec(buf, n, PUSH_REC_MSG, 7, 1234567890, "chat", "hello", 5);
	n = put_gap(buf, n, 8, 20, 11);
	n = put_rec(buf, n, 99, 21, 1, "x", "future", 6);
	n = put_rec(buf, n, PUSH_REC_MSG, 22, 5, "a.b:c-d_e", "\x00\xff", 2);

	r = push_record_next(buf, n, &off, &m);
	CHECK(r == 1 && m.type == PUSH_REC_MSG && m.id == 7 &&
	      m.time_ns == 1234567890 && m.chan_len == 4 &&
	      !memcmp(m.chan, "chat", 4) && m.data_len == 5 &&
	      !memcmp(m.data, "hello", 5) && off == 48,
	      "message record");
	r = push_record_next(buf, n, &off, &m);
	CHECK(r == 1 && m.type == PUSH_REC_GAP && m.id == 8 &&
	      m.gap_next_id == 20 && m.gap_lost == 11 && m.chan_len == 0,
	      "gap record");
	r = push_record_next(buf, n, &off, &m);
	CHECK(r == 1 && m.type == 99 && m.id == 21 && m.data_len == 6,
	      "unknown type returned for the caller to skip");
	r = push_record_next(buf, n, &off, &m);
	CHECK(r == 1 && m.type == PUSH_REC_MSG && m.id == 22 &&
	      m.chan_len == 9 && m.data_len == 2 && !memcmp(m.data, "\x00\xff", 2),
	      "binary message after it");
	r = push_record_next(buf, n, &off, &m);
	CHECK(r == 0 && off == n, "end of buffer");
	off = 0;
	CHECK(push_record_next(buf, 0, &off, &m) == 0, "empty buffer");

	/* Unaligned buffer: records copied one byte off. */
	{
		uint8_t *u = mem + 4096 + 1;

		memcpy(u, buf, n);
		off = 0;
		r = push_record_next(u, n, &off, &m);
		r += push_record_next(u, n, &off, &m);
		CHECK(r == 2 && m.type == PUSH_REC_GAP && m.gap_next_id == 20,
		      "unaligned buffer");
	}

	/* A record with trailing bytes beyond channel+data (size larger). */
	n = put_rec(buf, 0, PUSH_REC_MSG, 1, 1, "c", "d", 1);
	SET_FIELD(buf, size, 64);
	memset(buf + 40, 0, 24);
	n = 64;
	off = 0;
	CHECK(push_record_next(buf, n, &off, &m) == 1 && off == 64 &&
	      m.data_len == 1, "extra padding is stepped over by size");

	/* Malformed records. */
	n = put_rec(buf, 0, PUSH_REC_MSG, 1, 1, "chat", "hello", 5);
	expect_bad(buf, sizeof(struct push_record) - 1, "short header");
	expect_bad(buf, n - 8, "record cut short");
	SET_FIELD(buf, size, 36);
	expect_bad(buf, n, "size not a multiple of 8");
	SET_FIELD(buf, size, 16);
	expect_bad(buf, n, "size smaller than the header");
	SET_FIELD(buf, size, 0);
	expect_bad(buf, n, "size 0");
	SET_FIELD(buf, size, 0xfffffff8u);
	expect_bad(buf, n, "huge size");
	SET_FIELD(buf, size, 40);
	SET_FIELD(buf, data_len, 100);
	expect_bad(buf, n, "data longer than the record");
	SET_FIELD(buf, data_len, 0xffffffffu);
	expect_bad(buf, n, "data_len 2^32-1");
	SET_FIELD(buf, data_len, 5);
	SET_FIELD(buf, chan_len, 20);
	expect_bad(buf, n, "channel longer than the record");
	SET_FIELD(buf, chan_len, 0);
	expect_bad(buf, n, "message without channel");
	n = put_gap(buf, 0, 1, 2, 1);
	SET_FIELD(buf, data_len, 8);
	expect_bad(buf, n, "gap without its push_gap");

	/* A bad record after good ones: the good ones come out first. */
	n = put_rec(buf, 0, PUSH_REC_MSG, 1, 1, "a", "b", 1);
	n = put_rec(buf, n, PUSH_REC_MSG, 2, 1, "a", "b", 1);
	SET_FIELD(buf + 40, size, 8);
	off = 0;
	r = push_record_next(buf, n, &off, &m);
	CHECK(r == 1 && m.id == 1 && push_record_next(buf, n, &off, &m) == -EBADMSG &&
	      off == 40, "good record, then the bad one stops at its offset");

	return tap_done();
}
