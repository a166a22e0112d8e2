// SPDX-License-Identifier: GPL-2.0
/*
 * client.c - a client's queue: a ring of references to shared items.
 * An idle client holds no ring at all; it is allocated on the first item
 * and given back once drained, so idle subscribers stay cheap.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/client.h"
#include "core/counters.h"

#define QUEUE_MIN	8
#define QUEUE_KEEP	32	/* rings larger than this are freed when drained */

static int client_grow(struct client *c, uint32_t need)
{
	uint32_t cap = c->qcap ? c->qcap : QUEUE_MIN;
	struct item **q;

	while (cap < need)
		cap *= 2;
	if (cap == c->qcap)
		return 0;
	q = malloc(sizeof(*q) * cap);
	if (!q)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->qlen; i++)
		q[i] = client_at(c, i);
	free(c->q);
	c->q = q;
	c->qcap = cap;
	c->qhead = 0;
	return 0;
}

int client_push(struct client *c, struct item *it)
{
	if (c->qlen == c->qcap && client_grow(c, c->qlen + 1))
		return -ENOMEM;
	c->q[(c->qhead + c->qlen) % c->qcap] = item_get(it);
	c->qlen++;
	client_qbytes_add(c, c->t->item_len(it));
	stat_add(&pushd_stats.q_items, 1);
	return 0;
}

void client_pop(struct client *c)
{
	struct item *it = c->q[c->qhead];
	uint32_t len = c->t->item_len(it);

	client_qbytes_add(c, -(int64_t)len);
	stat_add(&pushd_stats.q_items, -1ULL);
	if (c->hist_items) {
		c->hist_items--;
		c->hist_bytes -= len < c->hist_bytes ? len : c->hist_bytes;
	}
	c->qhead = (c->qhead + 1) % c->qcap;
	c->qlen--;
	c->qoff = 0;
	item_put(it);
	if (!c->qlen) {
		c->qhead = 0;
		if (c->qcap > QUEUE_KEEP)
			client_queue_free(c);
	}
	if (c->flags & CF_REPLAY)
		hub_replay_drained(c);
}

void client_drain(struct client *c)
{
	while (c->qlen)
		client_pop(c);
	c->hist_items = 0;
	c->hist_bytes = 0;
	c->batch_bytes = 0;
}

void client_drain_unsent(struct client *c)
{
	uint32_t off = c->qoff;
	struct item *head = off ? item_get(client_head(c)) : NULL;

	client_drain(c);
	if (head) {
		/* out of memory: the rest of that frame is lost, never misread */
		if (!client_push(c, head))
			c->qoff = off;
		item_put(head);
	}
}

int client_prepend(struct client *c, struct item **items, uint32_t n)
{
	uint32_t old = c->qlen;
	struct item **q;
	uint32_t cap = QUEUE_MIN;

	if (!n)
		return 0;
	while (cap < old + n)
		cap *= 2;
	q = malloc(sizeof(*q) * cap);
	if (!q)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		q[i] = items[i];
		uint32_t len = c->t->item_len(items[i]);
		client_qbytes_add(c, len);
		c->hist_bytes += len;
	}
	for (uint32_t i = 0; i < old; i++)
		q[n + i] = client_at(c, i);
	free(c->q);
	c->q = q;
	c->qcap = cap;
	c->qhead = 0;
	c->qlen = old + n;
	c->hist_items += n;
	stat_add(&pushd_stats.q_items, n);
	return 0;
}

void client_qbytes_add(struct client *c, int64_t delta)
{
	c->qbytes = (size_t)((int64_t)c->qbytes + delta);
	stat_add(&pushd_stats.q_bytes, (unsigned long long)delta);
}

void client_queue_free(struct client *c)
{
	free(c->q);
	c->q = NULL;
	c->qcap = 0;
	c->qhead = 0;
}
