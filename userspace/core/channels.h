/* SPDX-License-Identifier: GPL-2.0 */
/*
 * channels.h - the hub's channels: a hash table from a name to the list of
 * its subscriptions (struct sub: one per client and channel), with a count
 * per transport.  A channel exists while it has subscribers.  Protected by
 * the hub lock, like the clients.
 *
 * The table doubles as channels come (keeping chains short), its hash is
 * seeded at random per process (names chosen to collide on one pushd do
 * not on another), and it holds at most --max-channels: a subscriber
 * naming a channel beyond that gets -ENOSPC.
 */
#ifndef PUSHD_CHANNELS_H
#define PUSHD_CHANNELS_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#include "core/client.h"
#include "protocol/chan.h"
#include "push/probe.h"		/* PUSH_TRANSPORT_MAX */

#define CHAN_BUCKETS_MIN	64

struct chan {
	struct chan *hnext;
	struct sub *subs;
	uint32_t nsubs[PUSH_TRANSPORT_MAX];	/* by the subscribers' t->kind */
	uint8_t len;
	char name[PUSH_CHANNEL_MAX + 1];
};

struct chan_table {
	struct chan **buckets;	/* nbuckets (a power of 2) chains */
	size_t nbuckets;
	size_t count;		/* channels in the table */
	uint64_t seed;
};

/* The channel named s[0..n), or NULL if it has no subscribers. */
struct chan *chan_find(struct chan_table *tab, const char *s, size_t n);

/*
 * Links @s (s->c set) into the list of channel @name, made if new; returns
 * 0, -ENOMEM, or -ENOSPC when a new channel would exceed --max-channels.
 */
int chan_sub_add(struct chan_table *tab, const struct chan_name *name, struct sub *s);

/* Unlinks @s from its channel, if linked; a channel left without subscribers goes. */
void chan_sub_del(struct chan_table *tab, struct sub *s);

/* Frees the bucket array (every channel must be gone). */
void chan_table_free(struct chan_table *tab);

#endif
