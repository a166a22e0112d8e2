// SPDX-License-Identifier: GPL-2.0
/*
 * test_channels.c - the hub's channel table (userspace/core/channels.c):
 * a subscription links into its channel's list, made on first use, with a
 * count per transport kind; unlinking is idempotent and the last one takes
 * the channel away; thousands of names (more than the buckets, so chains)
 * all found and all gone again.  No hub, no lock.  TAP output; exit 1 on
 * any failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/channels.h"
#include "core/config.h"

#include "tap.h"

#define MANY	12288	/* many times CHAN_BUCKETS_MIN: the table grows */

static const struct push_transport t_lp = { .name = "lp", .kind = PUSH_TRANSPORT_LONGPOLL };
static const struct push_transport t_ws = { .name = "ws", .kind = PUSH_TRANSPORT_WEBSOCKET };

static struct chan_table tab;

static struct chan_name name(const char *s)
{
	struct chan_name n = { .len = (unsigned char)strlen(s) };

	memcpy(n.s, s, n.len + 1);
	return n;
}

/* The subscriptions of @ch, head first, as indexes into subs[] (-1 ends). */
static int list_is(const struct chan *ch, const struct sub *subs, const int *want)
{
	const struct sub *s = ch ? ch->subs : NULL;
	const struct sub *prev = NULL;

	for (; *want >= 0; want++, prev = s, s = s->next)
		if (s != &subs[*want] || s->prev != prev || s->ch != ch)
			return 0;
	return s == NULL;
}

static void test_one_channel(void)
{
	struct client a = { .t = &t_lp }, b = { .t = &t_ws }, c = { .t = &t_ws };
	struct sub subs[3] = { { .c = &a }, { .c = &b }, { .c = &c } };
	struct chan_name news = name("news");
	struct chan *ch;

	CHECK(!chan_find(&tab, "news", 4), "no channel before a subscriber");
	CHECK(chan_sub_add(&tab, &news, &subs[0]) == 0 &&
	      chan_sub_add(&tab, &news, &subs[1]) == 0 &&
	      chan_sub_add(&tab, &news, &subs[2]) == 0, "three subscriptions added");
	ch = chan_find(&tab, "news", 4);
	CHECK(ch && ch->len == 4 && !strcmp(ch->name, "news"), "the channel is found by name");
	CHECK(!chan_find(&tab, "new", 3) && !chan_find(&tab, "newsx", 5),
	      "a prefix or a longer name is another channel");
	CHECK(list_is(ch, subs, (const int[]){ 2, 1, 0, -1 }), "newest first, links consistent");
	CHECK(ch->nsubs[PUSH_TRANSPORT_LONGPOLL] == 1 && ch->nsubs[PUSH_TRANSPORT_WEBSOCKET] == 2 &&
	      ch->nsubs[PUSH_TRANSPORT_SSE] == 0, "counted by transport kind");

	chan_sub_del(&tab, &subs[1]);
	CHECK(list_is(ch, subs, (const int[]){ 2, 0, -1 }) && !subs[1].ch,
	      "unlinking from the middle");
	CHECK(ch->nsubs[PUSH_TRANSPORT_WEBSOCKET] == 1, "its count drops");
	chan_sub_del(&tab, &subs[1]);
	CHECK(list_is(ch, subs, (const int[]){ 2, 0, -1 }) &&
	      ch->nsubs[PUSH_TRANSPORT_WEBSOCKET] == 1, "unlinking again changes nothing");
	chan_sub_del(&tab, &subs[2]);
	CHECK(list_is(ch, subs, (const int[]){ 0, -1 }), "unlinking the head");
	chan_sub_del(&tab, &subs[0]);
	CHECK(!chan_find(&tab, "news", 4), "the last one takes the channel away");
	CHECK(chan_sub_add(&tab, &news, &subs[1]) == 0 &&
	      (ch = chan_find(&tab, "news", 4)) && ch->nsubs[PUSH_TRANSPORT_WEBSOCKET] == 1 &&
	      ch->nsubs[PUSH_TRANSPORT_LONGPOLL] == 0, "made again from zero");
	chan_sub_del(&tab, &subs[1]);
}

static void test_many_channels(void)
{
	static struct sub subs[MANY];
	struct client a = { .t = &t_lp };
	char s[PUSH_CHANNEL_MAX + 1];
	int ok = 1;

	for (int i = 0; i < MANY; i++) {
		struct chan_name n;

		snprintf(s, sizeof(s), "ch.%d", i);
		n = name(s);
		subs[i].c = &a;
		ok &= chan_sub_add(&tab, &n, &subs[i]) == 0;
	}
	CHECK(ok, "%d channels added", MANY);
	ok = 1;
	for (int i = 0; i < MANY; i++) {
		struct chan *ch;

		snprintf(s, sizeof(s), "ch.%d", i);
		ch = chan_find(&tab, s, strlen(s));
		ok &= ch && ch == subs[i].ch && ch->subs == &subs[i] && !ch->subs->next;
	}
	CHECK(ok, "each found, with its one subscriber");
	/* every other one, then the rest backwards: chains unlinked from anywhere */
	for (int i = 0; i < MANY; i += 2)
		chan_sub_del(&tab, &subs[i]);
	ok = 1;
	for (int i = 0; i < MANY; i++) {
		snprintf(s, sizeof(s), "ch.%d", i);
		ok &= !chan_find(&tab, s, strlen(s)) == !(i % 2);
	}
	CHECK(ok, "half removed, the other half still found");
	for (int i = MANY - 1; i > 0; i -= 2)
		chan_sub_del(&tab, &subs[i]);
	CHECK(tab.nbuckets >= MANY, "the table grew to %zu buckets", tab.nbuckets);
	ok = tab.count == 0;
	for (size_t i = 0; i < tab.nbuckets; i++)
		ok &= !tab.buckets[i];
	CHECK(ok, "all removed: every bucket empty");
}

/* --max-channels: a new channel past the cap is refused, existing ones still take subscribers. */
static void test_cap(void)
{
	static struct sub subs[12];
	struct client a = { .t = &t_lp };
	char s[PUSH_CHANNEL_MAX + 1];
	int ok = 1;

	pushd_cfg.max_channels = 10;
	for (int i = 0; i < 10; i++) {
		struct chan_name n;

		snprintf(s, sizeof(s), "cap.%d", i);
		n = name(s);
		subs[i].c = &a;
		ok &= chan_sub_add(&tab, &n, &subs[i]) == 0;
	}
	CHECK(ok, "10 channels under a cap of 10");
	struct chan_name extra = name("cap.extra"), again = name("cap.3");
	subs[10].c = subs[11].c = &a;
	CHECK(chan_sub_add(&tab, &extra, &subs[10]) == -ENOSPC && !subs[10].ch &&
	      !chan_find(&tab, "cap.extra", 9), "the 11th is refused with ENOSPC");
	CHECK(chan_sub_add(&tab, &again, &subs[11]) == 0, "an existing one still takes a subscriber");
	chan_sub_del(&tab, &subs[11]);
	chan_sub_del(&tab, &subs[0]);
	CHECK(chan_sub_add(&tab, &extra, &subs[10]) == 0, "room again once one went");
	chan_sub_del(&tab, &subs[10]);
	for (int i = 1; i < 10; i++)
		chan_sub_del(&tab, &subs[i]);
	CHECK(tab.count == 0, "all gone");
	pushd_cfg.max_channels = 0;
}

int main(void)
{
	test_one_channel();
	test_many_channels();
	test_cap();
	return tap_done();
}
