/* SPDX-License-Identifier: GPL-2.0 */
/*
 * channels.h - the hub's channels: a hash table from a name to the list of
 * its subscriptions (struct sub: one per client and channel), with a count
 * per transport.  A channel exists while it has subscribers.  Protected by
 * the hub lock, like the clients.
 */
#ifndef PUSHD_CHANNELS_H
#define PUSHD_CHANNELS_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#include "core/client.h"
#include "protocol/chan.h"
#include "push/probe.h"		/* PUSH_TRANSPORT_MAX */

#define CHAN_BUCKETS	4096

struct chan {
	struct chan *hnext;
	struct sub *subs;
	uint32_t nsubs[PUSH_TRANSPORT_MAX];	/* by the subscribers' t->kind */
	uint8_t len;
	char name[PUSH_CHANNEL_MAX + 1];
};

struct chan_table {
	struct chan *buckets[CHAN_BUCKETS];
};

/* The channel named s[0..n), or NULL if it has no subscribers. */
struct chan *chan_find(struct chan_table *tab, const char *s, size_t n);

/* Links @s (s->c set) into the list of channel @name, made if new; returns 0 or -ENOMEM. */
int chan_sub_add(struct chan_table *tab, const struct chan_name *name, struct sub *s);

/* Unlinks @s from its channel, if linked; a channel left without subscribers goes. */
void chan_sub_del(struct chan_table *tab, struct sub *s);

#endif
