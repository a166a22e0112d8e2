// SPDX-License-Identifier: GPL-2.0
/*
 * test_recent.c - the hub's record of its latest messages
 * (userspace/core/recent.c): a resume from inside it gets exactly the
 * messages of its channels after since, in order; from before it (or
 * "oldest") it answers "not here"; the record stays within RECENT_MAX
 * items and RECENT_BYTES of JSON, dropping the oldest and moving its
 * start; a reset empties it; and it holds one reference per item, given
 * back when dropped.  No hub, no lock.  TAP output; exit 1 on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/recent.h"

#include "tap.h"

static struct recent rec;

static struct item *msg(uint64_t id, const char *chan, size_t data_len)
{
	static char data[65536];
	struct push_msg m = {
		.id = id, .time_ns = id, .chan = chan, .chan_len = strlen(chan),
		.data = (const uint8_t *)data, .data_len = data_len, .type = PUSH_REC_MSG,
	};
	struct item *it;

	memset(data, 'x', data_len);
	it = item_from_msg(&m);
	if (!it) {
		printf("Bail out! item_from_msg failed\n");
		exit(1);
	}
	return it;
}

static struct sub_request req_of(enum since_mode mode, uint64_t since, const char *a, const char *b)
{
	struct sub_request r = { .since_mode = mode, .since = since };
	const char *names[2] = { a, b };

	for (int i = 0; i < 2 && names[i]; i++) {
		r.chans[i].len = (unsigned char)strlen(names[i]);
		memcpy(r.chans[i].s, names[i], r.chans[i].len + 1);
		r.nchans++;
	}
	return r;
}

/* @h holds exactly the ids want[] (0 ends), in order. */
static int ids_are(const struct history *h, const uint64_t *want)
{
	uint32_t i = 0;

	for (; want[i]; i++)
		if (i >= h->n || h->items[i]->id != want[i])
			return 0;
	return i == h->n;
}

static void test_history(void)
{
	struct item *it[10];
	struct sub_request r;
	struct history h;

	recent_reset(&rec, 100);
	/* ids 101..110 on a, b, a, b, ... */
	for (int i = 0; i < 10; i++) {
		it[i] = msg(101 + (uint64_t)i, i % 2 ? "b" : "a", 10);
		recent_add(&rec, it[i]);
	}
	CHECK(atomic_load(&it[0]->ref) == 2, "the record holds a reference");

	r = req_of(SINCE_ID, 104, "a", NULL);
	CHECK(recent_history(&rec, &r, &h) == 1 &&
	      ids_are(&h, (const uint64_t[]){ 105, 107, 109, 0 }),
	      "since 104 on a: 105, 107, 109");
	CHECK(atomic_load(&it[4]->ref) == 3, "each item given out is referenced");
	history_free(&h);
	r = req_of(SINCE_ID, 100, "b", "a");
	CHECK(recent_history(&rec, &r, &h) == 1 && h.n == 10 && h.items[0]->id == 101 &&
	      h.items[9]->id == 110, "since the start, two channels: all ten, in id order");
	history_free(&h);
	r = req_of(SINCE_ID, 110, "a", NULL);
	CHECK(recent_history(&rec, &r, &h) == 1 && h.n == 0, "up to date: here, and empty");
	history_free(&h);
	r = req_of(SINCE_ID, 105, "c", NULL);
	CHECK(recent_history(&rec, &r, &h) == 1 && h.n == 0, "another channel: here, and empty");
	history_free(&h);
	r = req_of(SINCE_ID, 99, "a", NULL);
	CHECK(recent_history(&rec, &r, &h) == 0 && h.n == 0, "since before the record: not here");
	r = req_of(SINCE_OLDEST, 0, "a", NULL);
	CHECK(recent_history(&rec, &r, &h) == 0, "oldest: not here");

	recent_reset(&rec, 110);
	CHECK(rec.len == 0 && rec.bytes == 0 && rec.from == 110, "reset empties it");
	CHECK(atomic_load(&it[0]->ref) == 1 && atomic_load(&it[9]->ref) == 1,
	      "and gives its references back");
	r = req_of(SINCE_ID, 105, "a", NULL);
	CHECK(recent_history(&rec, &r, &h) == 0, "after a reset, what came before is not here");
	for (int i = 0; i < 10; i++)
		item_put(it[i]);
}

static void test_bounds(void)
{
	struct sub_request r;
	struct history h;
	uint64_t id = 1000;
	int ok = 1;

	recent_reset(&rec, id);
	for (int i = 0; i < RECENT_MAX + 10; i++) {
		struct item *it = msg(++id, "a", 1);

		recent_add(&rec, it);
		item_put(it);
		ok &= rec.len <= RECENT_MAX;
	}
	CHECK(ok && rec.len == RECENT_MAX, "never more than RECENT_MAX items");
	CHECK(rec.from == id - RECENT_MAX, "its start moves to the last id dropped");
	r = req_of(SINCE_ID, rec.from, "a", NULL);
	CHECK(recent_history(&rec, &r, &h) == 1 && h.n == RECENT_MAX &&
	      h.items[0]->id == rec.from + 1, "a resume from its start gets everything after it");
	history_free(&h);
	r = req_of(SINCE_ID, rec.from - 1, "a", NULL);
	CHECK(recent_history(&rec, &r, &h) == 0, "one before its start: not here");

	/* 64 KiB payloads: the JSON bound, not the count, decides */
	ok = 1;
	for (int i = 0; i < 200; i++) {
		struct item *it = msg(++id, "a", 65536);

		recent_add(&rec, it);
		item_put(it);
		ok &= rec.bytes <= RECENT_BYTES;
	}
	CHECK(ok && rec.len < 200 && rec.len > 10, "never more than RECENT_BYTES of JSON (%u kept)",
	      rec.len);
	recent_reset(&rec, 0);
	CHECK(rec.len == 0 && rec.bytes == 0, "reset at the end");
}

int main(void)
{
	test_history();
	test_bounds();
	return tap_done();
}
