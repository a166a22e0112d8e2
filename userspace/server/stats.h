/* SPDX-License-Identifier: GPL-2.0 */
/* stats.h - pushd's counters, and their /stats (JSON) and /metrics (Prometheus) forms. */
#ifndef PUSHD_STATS_H
#define PUSHD_STATS_H

#include <stdatomic.h>
#include <stddef.h>

#include "push/probe_tag.h"

struct transport_stats {
	atomic_ullong conns;		/* open now */
	atomic_ullong conns_total;	/* ever opened */
	atomic_ullong items_out;	/* messages and gaps written */
	atomic_ullong bytes_out;	/* bytes written (payload of the transport) */
	atomic_ullong slow;		/* cut off for being slow */
};

struct pushd_stats {
	atomic_ullong msgs_in;		/* messages read from the device */
	atomic_ullong gaps_in;		/* gap records read from the device */
	atomic_ullong bytes_in;		/* bytes read from the device */
	atomic_ullong reads;		/* read() completions on the device */
	atomic_ullong published;	/* POST /pub accepted */
	atomic_ullong history_reads;	/* resumes served from the device's history */
	atomic_ullong requests;		/* HTTP requests */
	struct transport_stats t[PUSH_TRANSPORT_MAX];
};

extern struct pushd_stats pushd_stats;

static inline void stat_add(atomic_ullong *c, unsigned long long n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* Renders /stats into a malloc'd buffer; returns its length, *out NULL on ENOMEM. */
size_t stats_json(char **out);

/* Renders /metrics into a malloc'd buffer; returns its length, *out NULL on ENOMEM. */
size_t stats_prometheus(char **out);

#endif
