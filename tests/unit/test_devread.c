// SPDX-License-Identifier: GPL-2.0
/*
 * test_devread.c - the hub's two device readers (userspace/core/devread.c)
 * on a ring in memory laid out as /dev/push's mapping is (docs/ABI.txt,
 * "mmap"), written by a writer that follows kmod/push_ring.c's order:
 * tail first, then the bytes, then head and next id.  Checked: every
 * message comes out once, in order, with its own bytes, across padding
 * records, the short skip at the ring's end and many laps; a reader
 * lapped by the writer gets one gap with the exact loss, then what is
 * retained; a span overwritten while it is being encoded (the writer runs
 * from inside the encoder) is dropped, never delivered torn, and its loss
 * is reported exactly; push_ring_seek_id() starts where asked; a batch
 * keeps to its budget; a corrupt ring is -EPROTO; the read() path's
 * parser keeps what came before a malformed record.  TAP; exit 1 on any
 * failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/devread.h"

#include "tap.h"

#define RING	4096
#define MAXID	100000

static struct {
	struct push_mmap_header hdr;
	_Alignas(8) unsigned char data[RING];
	uint64_t pos[MAXID];	/* position of each id's record */
	struct push_ring r;
} f;

static size_t rec_size(size_t chan_len, size_t data_len)
{
	return (32 + chan_len + data_len + 7) & ~(size_t)7;
}

/* The payload of message @id: its length varies, its bytes say its id. */
static size_t payload(uint64_t id, char *out)
{
	size_t len = 1 + (id * 37) % 150;
	char tag[24];
	int n = snprintf(tag, sizeof(tag), "%llu:", (unsigned long long)id);

	for (size_t i = 0; i < len; i++)
		out[i] = (char)('a' + (id + i) % 26);
	memcpy(out, tag, (size_t)n < len ? (size_t)n : len);
	return len;
}

static void store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* One publish, as push_publish() does it. */
static uint64_t publish(void)
{
	struct push_mmap_header *h = &f.hdr;
	uint64_t id = h->next_id, head = h->head_pos, pos;
	char data[200];
	size_t len = payload(id, data), size = rec_size(4, len);
	size_t off = head % RING, skip = RING - off < size ? RING - off : 0;
	struct push_record rec = {
		.id = id, .time_ns = id * 1000, .size = (uint32_t)size,
		.data_len = (uint32_t)len, .type = PUSH_REC_MSG, .chan_len = 4,
	};

	pos = head + skip;
	while (h->oldest_id < id && pos + size - h->tail_pos > RING) {
		h->oldest_id++;
		store((uint64_t *)&h->tail_pos, h->oldest_id == id ? head : f.pos[h->oldest_id]);
	}
	if (h->oldest_id == id)
		store((uint64_t *)&h->tail_pos, pos);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	if (skip >= 32) {
		struct push_record pad = { .id = id, .size = (uint32_t)skip, .type = PUSH_REC_PAD };

		memcpy(f.data + off, &pad, sizeof(pad));
	} else if (skip) {
		memset(f.data + off, 0xee, skip);	/* must not be read */
	}
	off = pos % RING;
	memset(f.data + off, 0, size);
	memcpy(f.data + off, &rec, sizeof(rec));
	memcpy(f.data + off + 32, "chan", 4);
	memcpy(f.data + off + 36, data, len);
	f.pos[id] = pos;
	store((uint64_t *)&h->head_pos, pos + size);
	store((uint64_t *)&h->next_id, id + 1);
	return id;
}

static void ring_reset(void)
{
	memset(&f.hdr, 0, sizeof(f.hdr));
	memset(f.data, 0, sizeof(f.data));
	f.hdr.magic = PUSH_MMAP_MAGIC;
	f.hdr.layout = PUSH_MMAP_LAYOUT;
	f.hdr.data_offset = 4096;
	f.hdr.data_size = RING;
	f.hdr.oldest_id = f.hdr.next_id = 1;
	memset(&f.r, 0, sizeof(f.r));
	f.r.fd = -1;
	f.r.hdr = &f.hdr;
	f.r.data = f.data;
	f.r.size = RING;
}

/* The JSON a message @id must have become. */
static int json_is(const struct item *it, uint64_t id)
{
	char data[200], want[400];
	size_t len = payload(id, data);
	int n = snprintf(want, sizeof(want), "{\"id\":%llu,\"channel\":\"chan\",",
			 (unsigned long long)id);

	if (it->type != ITEM_MSG || it->id != id || strcmp(it->chan, "chan"))
		return 0;
	if (it->json_len < (size_t)n || memcmp(it->json, want, (size_t)n))
		return 0;
	/* the payload is plain ASCII: in the JSON as it is */
	return memmem(it->json, it->json_len, data, len) != NULL;
}

/*
 * What a reader sees: its items checked against @next (the id it expects)
 * and consumed.  Returns the count of wrong items; *lost adds gap counts.
 */
static int take(struct devread *b, uint64_t *next, uint64_t *lost, uint64_t *gaps)
{
	int bad = 0;

	for (size_t i = 0; i < b->n; i++) {
		struct item *it = b->items[i];

		if (it->type == ITEM_GAP) {
			if (it->id != *next || it->next_id <= *next)
				bad++;
			*lost += it->next_id - it->id;
			(*gaps)++;
			*next = it->next_id;
		} else {
			if (!json_is(it, *next))
				bad++;
			*next = it->id + 1;
		}
	}
	devread_free(b);
	return bad;
}

static ssize_t batch(struct devread *b, size_t budget)
{
	devread_init(b);
	return devread_ring(b, &f.r, budget);
}

/* Messages across padding, skips and laps, read as they come: all, in order. */
static void test_laps(void)
{
	uint64_t next = 1, lost = 0, gaps = 0, pads = 0, skips = 0;
	int bad = 0, errs = 0;
	struct devread b;

	ring_reset();
	push_ring_seek_id(&f.r, 1);
	for (int round = 0; round < 3000; round++) {
		uint64_t before = f.hdr.head_pos;
		int k = 1 + round % 5;

		for (int i = 0; i < k; i++) {
			uint64_t id = publish();

			if (f.pos[id] != before)
				*(RING - before % RING >= 32 ? &pads : &skips) += 1;
			before = f.hdr.head_pos;
		}
		if (batch(&b, 1 << 16) < 0)
			errs++;
		bad += take(&b, &next, &lost, &gaps);
	}
	CHECK(!errs && !bad, "3000 rounds: every item the message it should be (%d wrong, %d errors)",
	      bad, errs);
	CHECK(next == f.hdr.next_id && !gaps, "all %llu messages, no gap",
	      (unsigned long long)(next - 1));
	CHECK(pads > 10 && skips > 10, "across %llu padding records and %llu short skips",
	      (unsigned long long)pads, (unsigned long long)skips);
	CHECK(!push_ring_ready(&f.r), "caught up");
}

/* A reader lapped by the writer: one gap, exact, then the retained messages. */
static void test_lapped(void)
{
	uint64_t next = 1, lost = 0, gaps = 0, oldest;
	struct devread b;
	int bad;

	ring_reset();
	push_ring_seek_id(&f.r, 1);
	for (int i = 0; i < 10; i++)
		publish();
	batch(&b, 1 << 16);
	bad = take(&b, &next, &lost, &gaps);
	CHECK(!bad && next == 11, "10 messages read");
	for (int i = 0; i < 200; i++)
		publish();
	oldest = f.hdr.oldest_id;
	CHECK(oldest > 11, "the writer evicted ids 11..%llu", (unsigned long long)oldest - 1);
	batch(&b, 1 << 16);
	CHECK(b.n > 0 && b.items[0]->type == ITEM_GAP && b.items[0]->id == 11 &&
	      b.items[0]->next_id == oldest, "a gap first: 11 to the oldest retained");
	CHECK(b.gaps == 1, "counted as one gap record");
	bad = take(&b, &next, &lost, &gaps);
	CHECK(!bad && lost == oldest - 11 && gaps == 1, "lost exactly %llu, once",
	      (unsigned long long)(oldest - 11));
	CHECK(next == f.hdr.next_id, "then every retained message, in order");
}

/*
 * The writer runs inside the encoder: on the @torn_at-th record it
 * publishes until the record being encoded is overwritten.
 */
static int enc_calls, torn_at;

static struct item *encode_lapping(const struct push_msg *m)
{
	struct item *it = item_from_msg(m);

	if (++enc_calls == torn_at) {
		uint64_t id = m->id;

		while (f.hdr.oldest_id <= id + 2)
			publish();
	}
	return it;
}

static void test_torn(void)
{
	uint64_t next = 1, lost = 0, gaps = 0, oldest;
	struct devread b;
	ssize_t n;
	int bad;

	ring_reset();
	push_ring_seek_id(&f.r, 1);
	for (int i = 0; i < 20; i++)
		publish();
	devread_init(&b);
	enc_calls = 0;
	torn_at = 5;
	b.encode = encode_lapping;
	n = devread_ring(&b, &f.r, 1 << 16);
	oldest = f.hdr.oldest_id;
	CHECK(n > 0 && b.torn == 1, "the span being encoded was found torn (%llu)",
	      (unsigned long long)b.torn);
	CHECK(b.n > 0 && b.items[0]->type == ITEM_GAP && b.items[0]->id == 1,
	      "nothing of it delivered: a gap from id 1 comes first");
	CHECK(b.n > 0 && b.items[0]->next_id >= oldest - 1,
	      "up to where the retained messages start");
	bad = take(&b, &next, &lost, &gaps);
	CHECK(!bad, "no item torn: every message has its own bytes");
	CHECK(gaps == 1 && next == f.hdr.next_id, "one gap, then every retained message");
	CHECK(lost == f.hdr.oldest_id - 1,
	      "lost exactly the ids no longer there (%llu)", (unsigned long long)lost);
}

/* Where a reader starts, and a batch's budget. */
static void test_seek_budget(void)
{
	uint64_t next, lost = 0, gaps = 0;
	struct devread b;
	ssize_t n;
	int bad;

	ring_reset();
	for (int i = 0; i < 12; i++)
		publish();
	push_ring_seek_id(&f.r, 7);
	next = 7;
	batch(&b, 1 << 16);
	bad = take(&b, &next, &lost, &gaps);
	CHECK(!bad && !gaps && next == 13, "seek to 7: 7..12, no gap");

	push_ring_seek_id(&f.r, 13);
	CHECK(!push_ring_ready(&f.r), "seek to the next id: nothing yet");
	publish();
	next = 13;
	batch(&b, 1 << 16);
	bad = take(&b, &next, &lost, &gaps);
	CHECK(!bad && next == 14, "then the next message");

	for (int i = 0; i < 20; i++)
		publish();
	n = batch(&b, 300);
	CHECK(n > 0 && n < 300 + 200 && b.n >= 1 && b.n < 20,
	      "a budget of 300 bytes: %zd bytes, %zu items", n, b.n);
	bad = take(&b, &next, &lost, &gaps);
	batch(&b, 1 << 16);
	bad += take(&b, &next, &lost, &gaps);
	CHECK(!bad && !gaps && next == 34, "the next batch goes on from there");

	/* a reader told to expect an id already evicted: a gap from it */
	for (int i = 0; i < 200; i++)
		publish();
	push_ring_seek_id(&f.r, 20);
	next = 20;
	lost = gaps = 0;
	batch(&b, 1 << 16);
	bad = take(&b, &next, &lost, &gaps);
	CHECK(!bad && gaps == 1 && lost == f.hdr.oldest_id - 20 && next == f.hdr.next_id,
	      "seek to an evicted id: gap of exactly %llu, then the rest",
	      (unsigned long long)(f.hdr.oldest_id - 20));
}

static void test_corrupt(void)
{
	struct devread b;
	struct push_record rec = { .id = 2, .size = 12, .type = PUSH_REC_MSG };
	uint64_t from, to;
	ssize_t n;

	ring_reset();
	publish();
	push_ring_seek_id(&f.r, 1);
	/* a record of size 12 (not a multiple of 8) where id 2 claims to be */
	memcpy(f.data + f.hdr.head_pos, &rec, sizeof(rec));
	store((uint64_t *)&f.hdr.head_pos, f.hdr.head_pos + 40);
	n = batch(&b, 1 << 16);
	CHECK(n == -EPROTO, "a corrupt ring: -EPROTO (%zd)", n);
	CHECK(b.n == 1 && b.items[0]->id == 1, "what came before it is kept");
	devread_free(&b);

	/* pushd's recovery: past it, one gap for the id it held, then on as before */
	store((uint64_t *)&f.hdr.next_id, 3);
	devread_init(&b);
	devread_ring_skip(&b, &f.r, &from, &to);
	CHECK(from == 2 && to == 3 && b.n == 1 && b.items[0]->type == ITEM_GAP && b.lost,
	      "skipped: one gap for id 2 (ids %llu-%llu, %zu items)", (unsigned long long)from,
	      (unsigned long long)to, b.n);
	devread_free(&b);
	publish();
	n = batch(&b, 1 << 16);
	CHECK(n > 0 && b.n == 1 && b.items[0]->id == 3 && b.items[0]->type == ITEM_MSG,
	      "the next message is read, the corrupt record not met again (%zd, %zu items)", n, b.n);
	devread_free(&b);
}

/* The read() path: a buffer of records, a gap, garbage at the end. */
static void test_parse(void)
{
	_Alignas(8) unsigned char buf[256] = { 0 };
	struct push_record m = { .id = 5, .size = 40, .data_len = 2, .type = PUSH_REC_MSG, .chan_len = 4 };
	struct push_record g = { .id = 6, .size = 48, .data_len = 16, .type = PUSH_REC_GAP };
	struct push_gap gap = { .next_id = 9, .lost = 3 };
	struct push_record u = { .id = 0, .size = 32, .type = 77 };
	struct devread b;
	size_t bad = 0;
	int r;

	memcpy(buf, &m, 32);
	memcpy(buf + 32, "chanhi", 6);
	memcpy(buf + 40, &g, 32);
	memcpy(buf + 72, &gap, 16);
	memcpy(buf + 88, &u, 32);
	devread_init(&b);
	r = devread_parse(&b, buf, 120, &bad);
	CHECK(!r && b.n == 2 && b.msgs == 1 && b.gaps == 1 && !b.lost,
	      "a message, a gap, an unknown type skipped");
	CHECK(b.n == 2 && b.items[1]->type == ITEM_GAP && b.items[1]->next_id == 9,
	      "the gap item resumes at 9");
	devread_free(&b);
	devread_init(&b);
	r = devread_parse(&b, buf, 100, &bad);
	CHECK(r == -EBADMSG && bad == 88 && b.lost && b.n == 2,
	      "a record cut short: -EBADMSG at 88, lost set, the two before kept");
	devread_free(&b);
}

int main(void)
{
	test_laps();
	test_lapped();
	test_torn();
	test_seek_budget();
	test_corrupt();
	test_parse();
	return tap_done();
}
