// SPDX-License-Identifier: GPL-2.0
/* recent.c - the hub's record of its latest messages: a ring of item references. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/recent.h"

static void recent_drop_oldest(struct recent *r)
{
	struct item *it = r->ring[r->head];

	r->head = (r->head + 1) & (RECENT_MAX - 1);
	r->len--;
	r->bytes -= it->json_len;
	r->from = it->id;
	item_put(it);
}

void recent_add(struct recent *r, struct item *it)
{
	while (r->len == RECENT_MAX ||
	       (r->len && r->bytes + it->json_len > RECENT_BYTES))
		recent_drop_oldest(r);
	r->ring[(r->head + r->len) & (RECENT_MAX - 1)] = item_get(it);
	r->len++;
	r->bytes += it->json_len;
}

void recent_reset(struct recent *r, uint64_t id)
{
	while (r->len)
		recent_drop_oldest(r);
	r->from = id;
}

static bool recent_match(const struct item *it, const struct sub_request *req)
{
	for (int i = 0; i < req->nchans; i++)
		if (req->chans[i].len == it->chan_len && !memcmp(req->chans[i].s, it->chan, it->chan_len))
			return true;
	return false;
}

int recent_history(const struct recent *r, const struct sub_request *req, struct history *h)
{
	uint32_t cap = 0;

	h->items = NULL;
	h->n = 0;
	if (req->since_mode != SINCE_ID || req->since < r->from)
		return 0;
	/* ids go up along the ring: the first one after since, by bisection */
	uint32_t lo = 0, hi = r->len;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (r->ring[(r->head + mid) & (RECENT_MAX - 1)]->id <= req->since)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (uint32_t i = lo; i < r->len; i++) {
		struct item *it = r->ring[(r->head + i) & (RECENT_MAX - 1)];

		if (it->id <= req->since || !recent_match(it, req))
			continue;
		if (h->n == cap) {
			uint32_t ncap = cap ? cap * 2 : 16;
			struct item **more = realloc(h->items, sizeof(*more) * ncap);

			if (!more) {
				history_free(h);
				return -ENOMEM;
			}
			h->items = more;
			cap = ncap;
		}
		h->items[h->n++] = item_get(it);
	}
	return 1;
}
