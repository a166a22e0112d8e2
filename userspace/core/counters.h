/* SPDX-License-Identifier: GPL-2.0 */
/*
 * counters.h - pushd's counters: bumped by the hub, the transports and the
 * HTTP front as things happen (relaxed atomics, no lock), rendered by
 * server/stats.c as /stats and /metrics.
 */
#ifndef PUSHD_COUNTERS_H
#define PUSHD_COUNTERS_H

#include <linux/types.h>
#include <stdatomic.h>

#include "push/probe.h"		/* PUSH_TRANSPORT_*: the index of t[] */

struct transport_stats {
	atomic_ullong conns;		/* open now */
	atomic_ullong conns_total;	/* ever opened */
	atomic_ullong items_out;	/* messages and gaps written */
	atomic_ullong bytes_out;	/* bytes written (payload of the transport) */
	atomic_ullong slow;		/* cut off for being slow */
	atomic_ullong close_timeouts;	/* closing, and shut down before taking the close */
};

struct pushd_stats {
	atomic_ullong msgs_in;		/* messages read from the device */
	atomic_ullong gaps_in;		/* gap records read from the device */
	atomic_ullong bytes_in;		/* bytes read from the device */
	atomic_ullong reads;		/* read() completions on the device */
	atomic_ullong published;	/* POST /pub accepted */
	atomic_ullong history_reads;	/* resumes served from the device's history */
	atomic_ullong requests;		/* HTTP requests */
	atomic_ullong peer_gone;	/* suspended subscribers whose peer left (RDHUP/HUP) */
	atomic_ullong resets;		/* resumes from another epoch: reset gap */
	atomic_ullong oom_drops;	/* records lost to ENOMEM, reported as gaps */
	atomic_ullong ws_no_pong;	/* WebSockets closed for unanswered pings */
	atomic_ullong q_items;		/* items queued over all clients (client.c) */
	atomic_ullong q_bytes;		/* their bytes, by each client's t->item_len() */
	struct transport_stats t[PUSH_TRANSPORT_MAX];
};

extern struct pushd_stats pushd_stats;

static inline void stat_add(atomic_ullong *c, unsigned long long n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

#endif
