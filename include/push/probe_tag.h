/* SPDX-License-Identifier: GPL-2.0 */
/*
 * push/probe_tag.h - the user-space library of push-probe's maps
 * (bpf/probe_tag.c): pushd tags its connections with it, and push-probe
 * and pushd's /stats read the per-transport report with it.
 *
 * push-probe counts wire bytes, segments, retransmits and syscalls
 * per TCP connection, keyed by socket cookie.  Only pushd knows whether a
 * connection is long-poll, SSE or WebSocket, so it tags each one through
 * the pinned map /sys/fs/bpf/push/push_conn_tags:
 *
 *	probe_tag_conn(fd, PUSH_TRANSPORT_SSE);	  when a request is classified
 *	probe_count_delivered(fd, 1);		  optional, after each delivery
 *	probe_untag_conn(fd, delivered);	  before close(fd)
 *
 * Every call is a cheap no-op while the probes are not attached; the pin is
 * looked for again at most once per second, so attaching after pushd
 * started, or re-attaching (a new map), is picked up.  Thread-safe.
 */
#ifndef PUSH_PROBE_TAG_H
#define PUSH_PROBE_TAG_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#include "push/probe.h"		/* PUSH_TRANSPORT_*, PUSH_PROBE_PIN_DIR */

/* Mark connection @fd as @transport (PUSH_TRANSPORT_*); may be called again
 * on a keep-alive connection whose next request is another transport. */
void probe_tag_conn(int fd, int transport);

/* The connection on @fd is about to close after delivering @delivered
 * messages in total (those not already counted by probe_count_delivered). */
void probe_untag_conn(int fd, uint64_t delivered);

/* @n more messages were delivered on @fd. */
void probe_count_delivered(int fd, uint32_t n);

/* Write the per-transport report as one JSON object into @out (NUL
 * terminated); returns its length, or 0 when the probes are not pinned or
 * @cap is too small. */
size_t probe_stats_json(char *out, size_t cap);

/* Name of a transport id: "longpoll", "sse", "websocket" or "untagged". */
const char *probe_transport_name(int transport);

/* What the pinned maps hold, summed: closed and live connections. */
struct probe_row {
	uint64_t conns;		/* connections seen (closed + live) */
	uint64_t live;		/* of them, still open */
	uint64_t delivered;	/* messages pushd delivered on them */
	uint64_t timed;		/* closed ones whose opening we saw */
	uint64_t lifetime_ns;	/* their summed lifetime */
	uint64_t tx_bytes, tx_segs, tx_payload;	/* IP bytes, segments, TCP payload */
	uint64_t rx_bytes, rx_segs, rx_payload;
	uint64_t rx_dup_payload;	/* of rx_payload, resent by the peer */
	uint64_t retrans, retrans_bytes;	/* retransmissions, their payload */
	uint64_t syscalls, syscall_ns;	/* pushd's syscalls on their fds */
	double cpu_ns;		/* pushd's CPU apportioned by syscall time */
};

struct probe_lat {
	uint64_t count, sum_ns, max_ns;
	uint64_t p50_ns, p99_ns;	/* upper bounds of log2 buckets */
};

struct probe_report {
	struct probe_row tr[PUSH_TRANSPORT_MAX];	/* by PUSH_TRANSPORT_* */
	uint64_t cpu_ns;		/* pushd's threads on CPU */
	uint64_t syscalls, syscall_ns;	/* pushd's syscalls on no connection */
	uint64_t conns_opened;
	uint64_t dev_reads, dev_records, dev_bytes;
	uint64_t published, published_bytes;
	struct probe_lat lat[2];	/* publish->commit, commit->pushd */
};

/* Read the pinned maps into @r; returns 0, or -errno (-ENOENT: not
 * attached). */
int probe_report_read(struct probe_report *r);

/* Format @r as one JSON object into @out (NUL terminated); returns its
 * length, or 0 if @cap is too small. */
size_t probe_report_json(const struct probe_report *r, char *out, size_t cap);

#endif /* PUSH_PROBE_TAG_H */
