// SPDX-License-Identifier: GPL-2.0
/*
 * devread.c - records of /dev/push to items, from a read() buffer or in
 * place in the mapped ring (devread.h).
 *
 * The mapped ring is walked with push_ring_peek(), which gives a span of
 * message records of consecutive ids lying back to back in the mapping.
 * Each is encoded (item.c) straight from the mapped bytes; the encoders
 * never write past their bounds whatever the bytes are, so a record a
 * writer overwrites meanwhile yields garbage, never a wild access.  Then
 * push_ring_release() checks the position rule (tail_pos still <= the
 * span's start, after an acquire fence): if writers passed it, every item
 * of the span is dropped and the reader stays where it was; the next
 * push_ring_read() jumps to the oldest retained record and reports what is
 * gone as a gap record with the exact count, which becomes the same gap
 * item the read() path makes.  Padding, gaps and the wrap-around, the
 * cases peek leaves alone, go through push_ring_read() with a buffer that
 * holds one gap record.
 */
#include <errno.h>
#include <stdlib.h>

#include "core/counters.h"
#include "core/devread.h"
#include "protocol/record.h"

/* A gap record: struct push_record + struct push_gap. */
#define DEVREAD_GAP_SIZE	(sizeof(struct push_record) + sizeof(struct push_gap))
/* Torn spans in one batch before it ends anyway. */
#define DEVREAD_TORN_MAX	16

void devread_init(struct devread *b)
{
	b->items = NULL;
	b->n = b->cap = 0;
	b->lost = false;
	b->msgs = b->gaps = b->bytes = b->torn = 0;
	b->encode = item_from_msg;
}

void devread_free(struct devread *b)
{
	for (size_t i = 0; i < b->n; i++)
		item_put(b->items[i]);
	free(b->items);
	b->items = NULL;
	b->n = b->cap = 0;
}

static bool devread_push(struct devread *b, struct item *it)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		struct item **more = realloc(b->items, sizeof(*more) * cap);

		if (!more)
			return false;
		b->items = more;
		b->cap = cap;
	}
	b->items[b->n++] = it;
	return true;
}

/* Encodes one decoded record (others than messages and gaps are skipped). */
static void devread_add(struct devread *b, const struct push_msg *m)
{
	struct item *it;

	if (m->type != PUSH_REC_MSG && m->type != PUSH_REC_GAP)
		return;
	if (m->type == PUSH_REC_GAP)
		b->gaps++;
	else
		b->msgs++;
	it = b->encode(m);
	if (!it) {
		/*
		 * Out of memory: the subscribers miss it, and are told so with
		 * a gap (small, so likelier to be had than the item); the
		 * recent record must not claim it either.
		 */
		b->lost = true;
		stat_add(&pushd_stats.oom_drops, 1);
		if (m->type == PUSH_REC_MSG)
			it = item_gap(m->id, m->id + 1, 1);
		if (!it)
			return;
	}
	if (!devread_push(b, it)) {
		b->lost = true;
		item_put(it);
	}
}

int devread_parse(struct devread *b, const void *buf, size_t len, size_t *bad_off)
{
	struct push_msg m;
	size_t off = 0;
	int r;

	while ((r = push_record_next(buf, len, &off, &m)) > 0)
		devread_add(b, &m);
	if (r < 0) {
		b->lost = true;
		*bad_off = off;
		return -EBADMSG;
	}
	return 0;
}

/* Encodes the span push_ring_peek() gave; drops it again if it was torn. */
static int devread_span(struct devread *b, struct push_ring *r, const void *recs, size_t len)
{
	size_t n0 = b->n, bad;
	uint64_t msgs = b->msgs, gaps = b->gaps;
	bool lost = b->lost;
	int err = devread_parse(b, recs, len, &bad);

	if (push_ring_release(r, len)) {
		while (b->n > n0)
			item_put(b->items[--b->n]);
		b->msgs = msgs;
		b->gaps = gaps;
		b->lost = lost;
		b->torn++;
		return -ESTALE;
	}
	b->bytes += len;
	/* whole when parsed, yet malformed: the kernel wrote garbage */
	return err ? -EPROTO : 0;
}

ssize_t devread_ring(struct devread *b, struct push_ring *r, size_t budget)
{
	unsigned char small[DEVREAD_GAP_SIZE];
	size_t done = 0, bad;
	bool stuck = false;
	unsigned int torn = 0;

	/* a writer that laps us faster than we encode: others get their turn */
	while (done < budget && torn < DEVREAD_TORN_MAX) {
		const void *recs;
		ssize_t n = push_ring_peek(r, &recs, budget - done);

		if (n > 0) {
			int err = devread_span(b, r, recs, (size_t)n);

			if (err == -EPROTO)
				return -EPROTO;
			if (!err) {
				done += (size_t)n;
				stuck = false;
			} else {
				torn++;
			}
			continue;
		}
		if (!push_ring_ready(r))
			break;
		/* not a span: padding, the end of the ring, a gap, or torn */
		n = push_ring_read(r, small, sizeof(small));
		if (n > 0) {
			if (devread_parse(b, small, (size_t)n, &bad))
				return -EPROTO;
			b->bytes += (size_t)n;
			done += (size_t)n;
			stuck = false;
			continue;
		}
		if (n == 0)
			break;
		if (n != -EINVAL)
			return -EPROTO;
		/*
		 * A message that does not fit @small: after padding or a gap,
		 * the next peek takes it.  If that fails again, it is larger
		 * than what is left of @budget (the next batch takes it), or,
		 * in a batch of its own, its id goes backwards: corrupt.
		 */
		if (stuck) {
			if (done)
				break;
			return -EPROTO;
		}
		stuck = true;
	}
	return (ssize_t)done;
}

void devread_ring_skip(struct devread *b, struct push_ring *r, uint64_t *from, uint64_t *to)
{
	uint64_t first = devread_ring_next(r);
	/*
	 * The next id is read before the head position: a record written in
	 * between is then read, or reported by the reader's own gap when it
	 * lies beyond, never lost unsaid.
	 */
	uint64_t next = __atomic_load_n(&r->hdr->next_id, __ATOMIC_ACQUIRE);
	struct item *it;

	push_ring_seek_end(r);
	r->next_id = next;
	*from = first;
	*to = next;
	b->lost = true;
	if (next <= first)
		return;
	it = item_gap(first, next, next - first);
	if (!it)
		return;
	if (devread_push(b, it))
		b->gaps++;
	else
		item_put(it);
}

uint64_t devread_ring_next(const struct push_ring *r)
{
	if (r->next_id)
		return r->next_id;
	return __atomic_load_n(&r->hdr->next_id, __ATOMIC_ACQUIRE);
}
