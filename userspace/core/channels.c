// SPDX-License-Identifier: GPL-2.0
/*
 * channels.c - the hub's channel table: chained buckets of a seeded FNV-1a
 * hash (with a final mix, so the seed reaches every bit of the bucket
 * index), doubled at a load of one channel per bucket, capped at
 * --max-channels.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/channels.h"
#include "core/config.h"

static uint64_t chan_hash(const struct chan_table *tab, const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ull ^ tab->seed;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
	/* murmur3's finaliser */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static int chan_table_init(struct chan_table *tab)
{
	tab->buckets = calloc(CHAN_BUCKETS_MIN, sizeof(*tab->buckets));
	if (!tab->buckets)
		return -ENOMEM;
	tab->nbuckets = CHAN_BUCKETS_MIN;
	if (getrandom(&tab->seed, sizeof(tab->seed), GRND_NONBLOCK) != sizeof(tab->seed))
		tab->seed = (uint64_t)(uintptr_t)tab ^ (uint64_t)random() << 32;
	return 0;
}

static struct chan **chan_slot(struct chan_table *tab, const char *s, size_t n)
{
	struct chan **pp = &tab->buckets[chan_hash(tab, s, n) & (tab->nbuckets - 1)];

	while (*pp && ((*pp)->len != n || memcmp((*pp)->name, s, n)))
		pp = &(*pp)->hnext;
	return pp;
}

struct chan *chan_find(struct chan_table *tab, const char *s, size_t n)
{
	if (!tab->buckets)
		return NULL;
	return *chan_slot(tab, s, n);
}

/* Doubles the buckets; without memory the chains just get longer. */
static void chan_grow(struct chan_table *tab)
{
	size_t nb = tab->nbuckets * 2;
	struct chan **b = calloc(nb, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < tab->nbuckets; i++) {
		struct chan *ch = tab->buckets[i], *next;

		for (; ch; ch = next) {
			size_t j = chan_hash(tab, ch->name, ch->len) & (nb - 1);

			next = ch->hnext;
			ch->hnext = b[j];
			b[j] = ch;
		}
	}
	free(tab->buckets);
	tab->buckets = b;
	tab->nbuckets = nb;
}

static int chan_get(struct chan_table *tab, const struct chan_name *name, struct chan **out)
{
	struct chan **pp;

	if (!tab->buckets && chan_table_init(tab))
		return -ENOMEM;
	pp = chan_slot(tab, name->s, name->len);
	if (*pp) {
		*out = *pp;
		return 0;
	}
	if (pushd_cfg.max_channels && tab->count >= pushd_cfg.max_channels)
		return -ENOSPC;
	struct chan *ch = calloc(1, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	ch->len = name->len;
	memcpy(ch->name, name->s, name->len + 1);
	*pp = ch;
	tab->count++;
	if (tab->count > tab->nbuckets)
		chan_grow(tab);
	*out = ch;
	return 0;
}

static void chan_put(struct chan_table *tab, struct chan *ch)
{
	if (ch->subs)
		return;
	struct chan **pp = chan_slot(tab, ch->name, ch->len);
	if (*pp == ch) {
		*pp = ch->hnext;
		free(ch);
		tab->count--;
	}
}

int chan_sub_add(struct chan_table *tab, const struct chan_name *name, struct sub *s)
{
	struct chan *ch;
	int err = chan_get(tab, name, &ch);

	if (err)
		return err;
	s->ch = ch;
	s->prev = NULL;
	s->next = ch->subs;
	if (ch->subs)
		ch->subs->prev = s;
	ch->subs = s;
	ch->nsubs[s->c->t->kind]++;
	return 0;
}

void chan_sub_del(struct chan_table *tab, struct sub *s)
{
	struct chan *ch = s->ch;

	if (!ch)
		return;
	if (s->prev)
		s->prev->next = s->next;
	else
		ch->subs = s->next;
	if (s->next)
		s->next->prev = s->prev;
	ch->nsubs[s->c->t->kind]--;
	s->ch = NULL;
	chan_put(tab, ch);
}

void chan_table_free(struct chan_table *tab)
{
	free(tab->buckets);
	tab->buckets = NULL;
	tab->nbuckets = 0;
}
