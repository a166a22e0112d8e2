// SPDX-License-Identifier: GPL-2.0
/* channels.c - the hub's channel table: FNV-1a hash, chained buckets. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/channels.h"

static uint32_t chan_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

static struct chan **chan_slot(struct chan_table *tab, const char *s, size_t n)
{
	struct chan **pp = &tab->buckets[chan_hash(s, n) % CHAN_BUCKETS];

	while (*pp && ((*pp)->len != n || memcmp((*pp)->name, s, n)))
		pp = &(*pp)->hnext;
	return pp;
}

struct chan *chan_find(struct chan_table *tab, const char *s, size_t n)
{
	return *chan_slot(tab, s, n);
}

static struct chan *chan_get(struct chan_table *tab, const struct chan_name *name)
{
	struct chan **pp = chan_slot(tab, name->s, name->len);

	if (*pp)
		return *pp;
	struct chan *ch = calloc(1, sizeof(*ch));
	if (!ch)
		return NULL;
	ch->len = name->len;
	memcpy(ch->name, name->s, name->len + 1);
	*pp = ch;
	return ch;
}

static void chan_put(struct chan_table *tab, struct chan *ch)
{
	if (ch->subs)
		return;
	struct chan **pp = chan_slot(tab, ch->name, ch->len);
	if (*pp == ch) {
		*pp = ch->hnext;
		free(ch);
	}
}

int chan_sub_add(struct chan_table *tab, const struct chan_name *name, struct sub *s)
{
	struct chan *ch = chan_get(tab, name);

	if (!ch)
		return -ENOMEM;
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
