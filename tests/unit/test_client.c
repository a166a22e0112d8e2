// SPDX-License-Identifier: GPL-2.0
/*
 * test_client.c - a client's bounded queue (userspace/core/client.c): push,
 * pop, head, drain, drain_unsent, prepend and queue_free; the qlen,
 * qbytes, qoff and history accounting through the transport's item_len();
 * growth of the ring past its first 8 slots and wrap-around; and the
 * item references: every push takes one, pop and drain drop it, so every
 * item is back at ref 1 once the queue is empty.  No hub, no MHD.
 * TAP output; exit 1 on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/client.h"
#include "core/item.h"
#include "transport/transport.h"

#include "tap.h"

#define N 80

static struct item *items[N];

/* item_len() of a test transport: the item's id, so sums are exact. */
static uint32_t id_len(const struct item *it)
{
	return (uint32_t)it->id;
}

static const struct push_transport t_id = {
	.name = "test",
	.item_len = id_len,
};

static unsigned ref(const struct item *it)
{
	return atomic_load(&it->ref);
}

static struct item *msg(uint64_t id, const char *chan, const char *data)
{
	struct push_msg m = {
		.id = id,
		.time_ns = 1000000000ull * id,
		.chan = chan,
		.chan_len = strlen(chan),
		.data = (const uint8_t *)data,
		.data_len = strlen(data),
		.type = PUSH_REC_MSG,
	};

	return item_from_msg(&m);
}

/* items[i] has id i + 1 (so item_len() of t_id is i + 1). */
static void make_items(void)
{
	for (int i = 0; i < N; i++) {
		char data[32];

		snprintf(data, sizeof(data), "{\"n\":%d}", i);
		items[i] = msg((uint64_t)i + 1, "news", data);
		if (!items[i]) {
			printf("Bail out! item_from_msg failed\n");
			exit(1);
		}
	}
}

static void put_items(void)
{
	for (int i = 0; i < N; i++)
		item_put(items[i]);
}

/* Every items[from..to) has reference count @want. */
static int refs_are(int from, int to, unsigned want)
{
	for (int i = from; i < to; i++)
		if (ref(items[i]) != want) {
			printf("# items[%d] ref %u, want %u\n", i, ref(items[i]), want);
			return 0;
		}
	return 1;
}

/* The queue holds items[first..first+n) in order. */
static int queue_is(const struct client *c, int first, uint32_t n)
{
	if (c->qlen != n)
		return 0;
	for (uint32_t i = 0; i < n; i++)
		if (client_at(c, i) != items[first + (int)i])
			return 0;
	return 1;
}

/* Sum of ids first+1 .. first+n, the qbytes of items[first..first+n) under t_id. */
static size_t id_sum(int first, int n)
{
	size_t s = 0;

	for (int i = first; i < first + n; i++)
		s += (size_t)i + 1;
	return s;
}

static void test_items(void)
{
	struct item *g = item_gap(5, 9, 4);

	CHECK(ref(items[0]) == 1 && items[0]->type == ITEM_MSG && items[0]->id == 1,
	      "item_from_msg: ref 1, a message with its id");
	CHECK(items[0]->sse_pre_len == 12 && !memcmp(items[0]->sse_pre, "id: 1\ndata: ", 12),
	      "SSE prefix of id 1 is 12 bytes");
	CHECK(item_sse_len(items[0]) == 12 + items[0]->json_len + 2 &&
	      item_ws_len(items[0]) == 2 + items[0]->json_len,
	      "SSE and WebSocket lengths of a small message");
	CHECK(transport_sse.item_len(items[0]) == item_sse_len(items[0]) &&
	      transport_ws.item_len(items[0]) == item_ws_len(items[0]) &&
	      transport_sse.item_len(items[0]) != transport_ws.item_len(items[0]),
	      "transport_sse and transport_ws item_len");
	CHECK(g && ref(g) == 1 && g->type == ITEM_GAP && g->id == 5 && g->next_id == 9 &&
	      g->sse_pre_len == 23 && !memcmp(g->sse_pre, "id: 8\nevent: gap\ndata: ", 23) &&
	      item_last_id(g) == 8,
	      "item_gap: ref 1, \"id: next_id - 1\" and event: gap prefix, last id next_id - 1");
	CHECK(item_get(g) == g && ref(g) == 2, "item_get adds a reference");
	item_put(g);
	CHECK(ref(g) == 1, "item_put drops it");
	item_put(g);	/* freed: ASan would see a leak or a double free */
}

static void test_push_pop(void)
{
	struct client c = { .t = &t_id };
	int ok;

	CHECK(client_head(&c) == NULL && c.qlen == 0 && c.q == NULL && c.qcap == 0,
	      "idle client: no ring, no head");

	CHECK(client_push(&c, items[0]) == 0, "push returns 0");
	CHECK(c.qcap == 8 && c.qlen == 1 && c.qhead == 0 && c.q != NULL,
	      "first push allocates an 8-slot ring (qcap %u)", c.qcap);
	CHECK(client_head(&c) == items[0] && ref(items[0]) == 2,
	      "pushed item is the head, with one more reference");
	CHECK(c.qbytes == 1, "qbytes counts item_len (%zu)", c.qbytes);

	for (int i = 1; i < 8; i++)
		client_push(&c, items[i]);
	CHECK(c.qcap == 8 && queue_is(&c, 0, 8) && c.qbytes == id_sum(0, 8),
	      "8 items fill the ring without growth");
	client_push(&c, items[8]);
	CHECK(c.qcap == 16 && c.qhead == 0 && queue_is(&c, 0, 9) && c.qbytes == id_sum(0, 9),
	      "9th item doubles the ring to 16, order kept");
	for (int i = 9; i < 20; i++)
		client_push(&c, items[i]);
	CHECK(c.qcap == 32 && queue_is(&c, 0, 20) && c.qbytes == id_sum(0, 20),
	      "20 items: ring of 32 (qcap %u)", c.qcap);
	CHECK(refs_are(0, 20, 2) && refs_are(20, N, 1), "each queued item holds exactly one more reference");

	c.qoff = 3;
	client_pop(&c);
	CHECK(client_head(&c) == items[1] && c.qlen == 19 && c.qhead == 1 &&
	      c.qoff == 0 && c.qbytes == id_sum(1, 19) && ref(items[0]) == 1,
	      "pop: next head, qoff reset, qbytes less its item_len, reference dropped");

	client_drain(&c);
	CHECK(c.qlen == 0 && c.qbytes == 0 && c.qhead == 0 && client_head(&c) == NULL,
	      "drain: empty, qbytes 0");
	CHECK(refs_are(0, N, 1), "drain: every reference dropped (refs back to 1)");
	CHECK(c.q != NULL && c.qcap == 32, "a drained ring of 32 is kept (QUEUE_KEEP)");

	/* Wrap-around in a ring of 8, then growth of a wrapped ring. */
	client_queue_free(&c);
	CHECK(c.q == NULL && c.qcap == 0 && c.qhead == 0, "queue_free: no ring left");
	for (int i = 0; i < 8; i++)
		client_push(&c, items[i]);
	for (int i = 0; i < 5; i++)
		client_pop(&c);
	for (int i = 8; i < 13; i++)
		client_push(&c, items[i]);
	CHECK(c.qcap == 8 && c.qhead == 5 && queue_is(&c, 5, 8) && c.qbytes == id_sum(5, 8),
	      "wrap-around: 8 items from slot 5 in a ring of 8");
	CHECK(c.q[0] == items[8] && c.q[4] == items[12] && c.q[5] == items[5],
	      "wrap-around: slots 0.. hold the newest items");
	client_push(&c, items[13]);
	CHECK(c.qcap == 16 && c.qhead == 0 && queue_is(&c, 5, 9) && c.qbytes == id_sum(5, 9),
	      "growth of a wrapped ring unrolls it to slot 0, order kept");
	CHECK(refs_are(0, 5, 1) && refs_are(5, 14, 2) && refs_are(14, N, 1),
	      "wrap-around: references of queued items only");

	/* Popping to empty resets qhead; a ring of 16 stays. */
	while (c.qlen)
		client_pop(&c);
	CHECK(c.qhead == 0 && c.qbytes == 0 && c.qcap == 16 && c.q != NULL && refs_are(0, N, 1),
	      "pop to empty: qhead 0, ring of 16 kept, refs 1");

	/* Past QUEUE_KEEP: the ring is given back when empty. */
	for (int i = 0; i < 40; i++)
		client_push(&c, items[i]);
	CHECK(c.qcap == 64 && queue_is(&c, 0, 40), "40 items: ring of 64");
	client_drain(&c);
	CHECK(c.q == NULL && c.qcap == 0 && c.qlen == 0 && c.qbytes == 0 && refs_are(0, N, 1),
	      "drain of a ring over 32 frees it");
	CHECK(client_push(&c, items[2]) == 0 && c.qcap == 8 && client_head(&c) == items[2] &&
	      c.qbytes == 3,
	      "push after the ring was freed: a new ring of 8");
	client_pop(&c);
	CHECK(c.qcap == 8 && c.q != NULL && ref(items[2]) == 1, "pop to empty keeps a ring of 8");

	/* All N at once: 8 -> 16 -> 32 -> 64 -> 128. */
	for (int i = 0; i < N; i++)
		if (client_push(&c, items[i]))
			break;
	ok = c.qcap == 128 && queue_is(&c, 0, N) && c.qbytes == id_sum(0, N) && refs_are(0, N, 2);
	CHECK(ok, "80 items: ring of 128, in order, qbytes %zu", c.qbytes);
	client_drain(&c);
	CHECK(c.q == NULL && c.qbytes == 0 && refs_are(0, N, 1), "drain of 80: refs 1, ring freed");
	client_queue_free(&c);
	CHECK(c.q == NULL && c.qcap == 0, "queue_free of no ring is harmless");
}

static void test_same_item_twice(void)
{
	struct client c = { .t = &t_id };

	client_push(&c, items[4]);
	client_push(&c, items[4]);
	client_push(&c, items[4]);
	CHECK(ref(items[4]) == 4 && c.qlen == 3 && c.qbytes == 15,
	      "the same item pushed 3 times: 3 references, 3 x item_len");
	client_pop(&c);
	CHECK(ref(items[4]) == 3 && c.qbytes == 10, "pop drops one of them");
	client_drain(&c);
	CHECK(ref(items[4]) == 1 && c.qbytes == 0, "drain drops the rest");
	client_queue_free(&c);
}

static void test_transports(void)
{
	struct client c = { .t = &transport_sse };
	struct item *g = item_gap(100, 110, 10);
	size_t want = 0;

	for (int i = 0; i < 10; i++) {
		client_push(&c, items[i]);
		want += item_sse_len(items[i]);
	}
	client_push(&c, g);
	want += item_sse_len(g);
	CHECK(c.qlen == 11 && c.qbytes == want && ref(g) == 2,
	      "transport_sse: qbytes is the sum of SSE lengths (%zu)", c.qbytes);
	/* "id: 1\ndata: " + {"n":0}-message json + "\n\n" */
	CHECK(item_sse_len(items[0]) == 12 + items[0]->json_len + 2 && c.qbytes > 11 * 14,
	      "transport_sse: SSE framing counted");
	client_pop(&c);
	want -= item_sse_len(items[0]);
	CHECK(c.qbytes == want, "transport_sse: pop subtracts the SSE length");
	client_drain(&c);
	CHECK(c.qbytes == 0 && ref(g) == 1 && refs_are(0, N, 1), "transport_sse: drain, refs 1");
	client_queue_free(&c);

	c = (struct client){ .t = &transport_ws };
	want = 0;
	for (int i = 0; i < 10; i++) {
		client_push(&c, items[i]);
		want += item_ws_len(items[i]);
	}
	client_push(&c, g);
	want += item_ws_len(g);
	CHECK(c.qlen == 11 && c.qbytes == want, "transport_ws: qbytes is the sum of frame lengths (%zu)",
	      c.qbytes);
	client_drain(&c);
	CHECK(c.qbytes == 0 && ref(g) == 1 && refs_are(0, N, 1), "transport_ws: drain, refs 1");
	client_queue_free(&c);
	item_put(g);
}

static void test_static_item(void)
{
	static struct item hb = { .type = ITEM_CTRL, .json = ":\n\n", .json_len = 3 };
	struct client c = { .t = &t_id };

	client_push(&c, &hb);
	client_push(&c, items[0]);
	CHECK(ref(&hb) == 0 && c.qlen == 2 && client_head(&c) == &hb,
	      "a static item (ref 0) is queued without a reference");
	client_drain(&c);
	CHECK(ref(&hb) == 0 && ref(items[0]) == 1, "drain leaves the static item at ref 0");
	client_queue_free(&c);
}

static void test_drain_unsent(void)
{
	struct client c = { .t = &t_id };

	/* Nothing half written: everything goes. */
	for (int i = 0; i < 5; i++)
		client_push(&c, items[i]);
	c.batch_bytes = 7;
	client_drain_unsent(&c);
	CHECK(c.qlen == 0 && c.qbytes == 0 && c.qoff == 0 && c.batch_bytes == 0 &&
	      refs_are(0, N, 1),
	      "drain_unsent, qoff 0: queue empty, refs 1");

	/* Head half written: it alone stays, with its qoff. */
	for (int i = 0; i < 5; i++)
		client_push(&c, items[i]);
	c.qoff = 7;
	client_drain_unsent(&c);
	CHECK(c.qlen == 1 && client_head(&c) == items[0] && c.qoff == 7 && c.qbytes == 1,
	      "drain_unsent, qoff 7: the half-written head stays, qoff kept, qbytes its length");
	CHECK(ref(items[0]) == 2 && refs_are(1, N, 1),
	      "drain_unsent: the head keeps exactly its one queue reference, the rest dropped");
	client_pop(&c);
	CHECK(c.qlen == 0 && c.qoff == 0 && refs_are(0, N, 1), "finishing the head: refs 1");

	/* Wrapped ring: the head is not in slot 0. */
	for (int i = 0; i < 8; i++)
		client_push(&c, items[i]);
	for (int i = 0; i < 6; i++)
		client_pop(&c);
	for (int i = 8; i < 12; i++)
		client_push(&c, items[i]);
	c.qoff = 1;
	client_drain_unsent(&c);
	CHECK(c.qlen == 1 && client_head(&c) == items[6] && c.qoff == 1 && c.qbytes == 7 &&
	      ref(items[6]) == 2 && refs_are(0, 6, 1) && refs_are(7, N, 1),
	      "drain_unsent of a wrapped ring keeps the head, qoff 1");
	client_drain(&c);

	/* Ring over QUEUE_KEEP: freed by the drain, the head pushed back into a new one. */
	for (int i = 0; i < 40; i++)
		client_push(&c, items[i]);
	c.qoff = 2;
	client_drain_unsent(&c);
	CHECK(c.qcap == 8 && c.qlen == 1 && client_head(&c) == items[0] && c.qoff == 2 &&
	      c.qbytes == 1 && ref(items[0]) == 2 && refs_are(1, N, 1),
	      "drain_unsent of a 64-slot ring: head survives into a ring of 8");
	client_drain(&c);

	/* Sole item, the only reference being the queue's: it must not be freed. */
	{
		struct item *own = msg(1000, "solo", "x");

		client_push(&c, own);
		item_put(own);	/* now the queue holds the only reference */
		c.qoff = 5;
		client_drain_unsent(&c);
		CHECK(c.qlen == 1 && client_head(&c) == own && ref(own) == 1 && c.qoff == 5 &&
		      c.qbytes == 1000,
		      "drain_unsent: a head only the queue references survives (ref 1)");
		client_drain(&c);	/* frees it: ASan checks */
	}

	/* History accounting is reset: the kept head now counts as live. */
	{
		struct item *h[2] = { item_get(items[0]), item_get(items[1]) };

		client_prepend(&c, h, 2);
		client_push(&c, items[2]);
		c.qoff = 4;
		client_drain_unsent(&c);
		CHECK(c.qlen == 1 && client_head(&c) == items[0] && c.qoff == 4 &&
		      c.hist_items == 0 && c.hist_bytes == 0 && c.qbytes == 1,
		      "drain_unsent of a history head: kept, hist_items/hist_bytes 0");
		client_drain(&c);
		CHECK(refs_are(0, N, 1), "drain_unsent with history: refs 1");
	}
	client_queue_free(&c);
}

static void test_prepend(void)
{
	struct client c = { .t = &t_id };
	struct item *h[N];

	CHECK(client_prepend(&c, h, 0) == 0 && c.q == NULL && c.qlen == 0,
	      "prepend of 0 items: 0, no ring");

	/* History (ids 1..3) before two live items (ids 11, 12). */
	client_push(&c, items[10]);
	client_push(&c, items[11]);
	for (int i = 0; i < 3; i++)
		h[i] = item_get(items[i]);
	CHECK(client_prepend(&c, h, 3) == 0, "prepend returns 0");
	CHECK(c.qlen == 5 && client_at(&c, 0) == items[0] && client_at(&c, 1) == items[1] &&
	      client_at(&c, 2) == items[2] && client_at(&c, 3) == items[10] &&
	      client_at(&c, 4) == items[11],
	      "prepend: history first, in order, then the queue");
	CHECK(c.qcap == 8 && c.qhead == 0 && c.qbytes == 6 + 11 + 12 &&
	      c.hist_items == 3 && c.hist_bytes == 6,
	      "prepend: qbytes %zu, hist_items %u, hist_bytes %zu", c.qbytes, c.hist_items,
	      c.hist_bytes);
	CHECK(refs_are(0, 3, 2) && refs_are(10, 12, 2),
	      "prepend takes over the caller's references (no extra one)");
	client_pop(&c);
	CHECK(c.hist_items == 2 && c.hist_bytes == 5 && c.qbytes == 5 + 23 && ref(items[0]) == 1,
	      "pop of a history item: hist_items and hist_bytes go down");
	client_pop(&c);
	client_pop(&c);
	CHECK(c.hist_items == 0 && c.hist_bytes == 0 && c.qbytes == 23 &&
	      client_head(&c) == items[10],
	      "all history popped: hist 0, live items left");
	client_pop(&c);
	CHECK(c.hist_items == 0 && c.hist_bytes == 0 && c.qbytes == 12,
	      "pop of a live item leaves hist at 0");
	client_drain(&c);
	CHECK(refs_are(0, N, 1), "prepend then drain: refs 1");

	/* Onto a wrapped ring. */
	for (int i = 0; i < 8; i++)
		client_push(&c, items[20 + i]);
	for (int i = 0; i < 6; i++)
		client_pop(&c);
	for (int i = 8; i < 11; i++)
		client_push(&c, items[20 + i]);
	CHECK(c.qhead == 6 && c.qlen == 5, "ring wrapped before prepend (qhead %u)", c.qhead);
	for (int i = 0; i < 4; i++)
		h[i] = item_get(items[i]);
	client_prepend(&c, h, 4);
	{
		int ok = c.qlen == 9 && c.qcap == 16 && c.qhead == 0;

		for (int i = 0; ok && i < 4; i++)
			ok = client_at(&c, (uint32_t)i) == items[i];
		for (int i = 0; ok && i < 5; i++)
			ok = client_at(&c, 4 + (uint32_t)i) == items[26 + i];
		CHECK(ok && c.qbytes == id_sum(0, 4) + id_sum(26, 5) && c.hist_bytes == 10,
		      "prepend onto a wrapped ring: 4 + 5 in order, ring of 16");
	}
	client_drain(&c);
	CHECK(refs_are(0, N, 1) && c.hist_items == 0 && c.hist_bytes == 0,
	      "drain resets history accounting, refs 1");

	/* A big history: the ring is sized to it. */
	for (int i = 0; i < 40; i++)
		h[i] = item_get(items[i]);
	client_prepend(&c, h, 40);
	CHECK(c.qcap == 64 && queue_is(&c, 0, 40) && c.hist_items == 40 &&
	      c.hist_bytes == id_sum(0, 40) && c.qbytes == id_sum(0, 40),
	      "prepend of 40 onto an empty client: ring of 64");
	client_push(&c, items[40]);
	CHECK(c.qlen == 41 && client_at(&c, 40) == items[40] && c.hist_items == 40 &&
	      c.qbytes == id_sum(0, 41),
	      "push after prepend: live item after the history");
	client_drain(&c);
	CHECK(c.q == NULL && refs_are(0, N, 1), "drain after a big prepend: ring freed, refs 1");

	/* A ring larger than needed is replaced by one just big enough. */
	for (int i = 0; i < 20; i++)
		client_push(&c, items[i]);
	while (c.qlen > 2)
		client_pop(&c);
	CHECK(c.qcap == 32, "ring of 32 with 2 items left");
	h[0] = item_get(items[0]);
	client_prepend(&c, h, 1);
	CHECK(c.qcap == 8 && c.qlen == 3 && client_at(&c, 0) == items[0] &&
	      client_at(&c, 1) == items[18] && client_at(&c, 2) == items[19],
	      "prepend reallocates to the smallest ring that fits (32 -> 8)");
	client_drain(&c);

	/* hist_bytes is clamped, never wraps below 0. */
	h[0] = item_get(items[9]);
	client_prepend(&c, h, 1);
	c.hist_bytes = 4;	/* less than the item's length of 10 */
	client_pop(&c);
	CHECK(c.hist_bytes == 0 && c.hist_items == 0 && c.qbytes == 0,
	      "pop clamps hist_bytes at 0 when it is below the item's length");
	CHECK(refs_are(0, N, 1), "refs 1 at the end");
	client_queue_free(&c);
}

int main(void)
{
	make_items();
	test_items();
	test_push_pop();
	test_same_item_twice();
	test_transports();
	test_static_item();
	test_drain_unsent();
	test_prepend();
	CHECK(refs_are(0, N, 1), "every item at ref 1 before the last put");
	put_items();
	return tap_done();
}
