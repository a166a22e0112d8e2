// SPDX-License-Identifier: GPL-2.0
/* stats.c - /stats and /metrics from pushd's counters, the hub's queues and the probes. */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/counters.h"
#include "core/hub.h"
#include "push/probe_tag.h"
#include "server/cluster.h"
#include "server/stats.h"
#include "transport/deadline.h"

#define LOAD(x) ((unsigned long long)atomic_load_explicit(&(x), memory_order_relaxed))

static const char *const tnames[PUSH_TRANSPORT_MAX] = {
	[PUSH_TRANSPORT_LONGPOLL] = "longpoll",
	[PUSH_TRANSPORT_SSE] = "sse",
	[PUSH_TRANSPORT_WEBSOCKET] = "websocket",
};

/*
 * One table drives both /stats and /metrics, so a counter cannot be in one
 * and not the other: its /stats key, its metric name, type and help, and
 * where its value is (a counter of struct pushd_stats, or a function).
 */
struct stat_row {
	const char *key, *metric, *type, *help;
	size_t off;			/* in struct pushd_stats, unless get */
	unsigned long long (*get)(void);
	bool sum;			/* per transport: /stats sums it over them too */
};

static unsigned long long row_last_id(void)
{
	return hub_last_id();
}

static unsigned long long row_header_timeouts(void)
{
	return deadline_expired_total();
}

static unsigned long long row_header_waits(void)
{
	return deadline_extended_total();
}

#define C(field) .off = offsetof(struct pushd_stats, field)
#define COUNTER "counter"
#define GAUGE "gauge"

static const struct stat_row rows[] = {
	{ "last_id", "push_last_id", GAUGE, "Last message id fanned out.", .get = row_last_id },
	{ "messages_in", "push_messages_in_total", COUNTER, "Messages read from /dev/push.",
	  C(msgs_in) },
	{ "gaps_in", "push_gaps_in_total", COUNTER,
	  "Gap records read from /dev/push (the hub fell behind).", C(gaps_in) },
	{ "bytes_in", "push_bytes_in_total", COUNTER, "Bytes read from /dev/push.", C(bytes_in) },
	{ "device_reads", "push_device_reads_total", COUNTER, "read() completions on /dev/push.",
	  C(reads) },
	{ "published", "push_published_total", COUNTER, "Messages published through POST /pub.",
	  C(published) },
	{ "history_reads", "push_history_reads_total", COUNTER,
	  "Resumes served from the device history.", C(history_reads) },
	{ "requests", "push_http_requests_total", COUNTER, "HTTP requests.", C(requests) },
	{ "header_timeouts", "push_header_timeouts_total", COUNTER,
	  "Connections shut down for a request head not complete in --header-timeout.",
	  .get = row_header_timeouts },
	{ "header_waits", "push_header_waits_total", COUNTER,
	  "Head deadlines given again: the head had arrived, pushd had not read it yet.",
	  .get = row_header_waits },
	{ "peer_gone", "push_peer_gone_total", COUNTER, "Waiting subscribers whose peer hung up.",
	  C(peer_gone) },
	{ "resets", "push_resets_total", COUNTER,
	  "Resumes from another epoch, answered with a reset.", C(resets) },
	{ "oom_drops", "push_oom_drops_total", COUNTER,
	  "Messages lost to a lack of memory, sent as gaps.", C(oom_drops) },
	{ "ws_no_pong", "push_ws_no_pong_total", COUNTER, "WebSockets closed for unanswered pings.",
	  C(ws_no_pong) },
};

/* Per transport: /stats "transports":{"sse":{KEY:...}}, /metrics METRIC{transport="sse"}. */
static const struct stat_row per_rows[] = {
	{ "connections", "push_connections", GAUGE, "Open subscriber connections.",
	  .off = offsetof(struct transport_stats, conns), .sum = true },
	{ "connections_total", "push_connections_total", COUNTER,
	  "Subscriber connections ever opened.", .off = offsetof(struct transport_stats, conns_total) },
	{ "messages_out", "push_messages_out_total", COUNTER, "Messages and gaps delivered.",
	  .off = offsetof(struct transport_stats, items_out), .sum = true },
	{ "bytes_out", "push_bytes_out_total", COUNTER, "Bytes written to subscribers.",
	  .off = offsetof(struct transport_stats, bytes_out), .sum = true },
	{ "slow_disconnects", "push_slow_disconnects_total", COUNTER,
	  "Subscribers cut off for a full queue.",
	  .off = offsetof(struct transport_stats, slow), .sum = true },
	{ "close_timeouts", "push_close_timeouts_total", COUNTER,
	  "Streams being closed that were shut down before they took the close (--close-timeout, "
	  "or a WebSocket stalled for 10 s).", .off = offsetof(struct transport_stats, close_timeouts) },
};

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

static unsigned long long row_value(const struct stat_row *r)
{
	return r->get ? r->get() : LOAD(*(atomic_ullong *)((char *)&pushd_stats + r->off));
}

static unsigned long long per_value(const struct stat_row *r, int t)
{
	return LOAD(*(atomic_ullong *)((char *)&pushd_stats.t[t] + r->off));
}

size_t stats_json(char **out)
{
	uint64_t q[3];
	char *probes = malloc(65536);
	size_t plen = probes ? probe_stats_json(probes, 65536) : 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*out = NULL;
	if (!f) {
		free(probes);
		return 0;
	}
	hub_queue_stats(&q[0], &q[1], &q[2]);
	fputc('{', f);
	for (size_t i = 0; i < NROWS(rows); i++)
		fprintf(f, "\"%s\":%llu,", rows[i].key, row_value(&rows[i]));
	fputs("\"transports\":{", f);
	for (int t = PUSH_TRANSPORT_LONGPOLL; t < PUSH_TRANSPORT_MAX; t++) {
		fprintf(f, "%s\"%s\":{", t == PUSH_TRANSPORT_LONGPOLL ? "" : ",", tnames[t]);
		for (size_t i = 0; i < NROWS(per_rows); i++)
			fprintf(f, "%s\"%s\":%llu", i ? "," : "", per_rows[i].key,
				per_value(&per_rows[i], t));
		fputc('}', f);
	}
	fputc('}', f);
	for (size_t i = 0; i < NROWS(per_rows); i++) {
		unsigned long long sum = 0;

		if (!per_rows[i].sum)
			continue;
		for (int t = PUSH_TRANSPORT_LONGPOLL; t < PUSH_TRANSPORT_MAX; t++)
			sum += per_value(&per_rows[i], t);
		fprintf(f, ",\"%s\":%llu", per_rows[i].key, sum);
	}
	fprintf(f, ",\"queues\":{\"items\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"max_bytes\":%" PRIu64
		"}", q[0], q[1], q[2]);
	cluster_stats_json(f);
	if (plen)
		fprintf(f, ",\"probes\":%.*s", (int)plen, probes);
	fputs("}\n", f);
	fclose(f);
	free(probes);
	*out = buf;
	return len;
}

static void prom_head(FILE *f, const struct stat_row *r)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", r->metric, r->help, r->metric, r->type);
}

size_t stats_prometheus(char **out)
{
	uint64_t q[3];
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	static const struct stat_row queue_rows[] = {
		{ "items", "push_queue_items", GAUGE, "Items queued over all subscribers.", .off = 0 },
		{ "bytes", "push_queue_bytes", GAUGE, "Bytes queued over all subscribers.", .off = 0 },
		{ "max_bytes", "push_queue_max_bytes", GAUGE,
		  "Largest queue of one subscriber, in bytes.", .off = 0 },
	};

	*out = NULL;
	if (!f)
		return 0;
	hub_queue_stats(&q[0], &q[1], &q[2]);
	for (size_t i = 0; i < NROWS(rows); i++) {
		prom_head(f, &rows[i]);
		fprintf(f, "%s %llu\n", rows[i].metric, row_value(&rows[i]));
	}
	for (size_t i = 0; i < NROWS(queue_rows); i++) {
		prom_head(f, &queue_rows[i]);
		fprintf(f, "%s %" PRIu64 "\n", queue_rows[i].metric, q[i]);
	}
	for (size_t i = 0; i < NROWS(per_rows); i++) {
		prom_head(f, &per_rows[i]);
		for (int t = PUSH_TRANSPORT_LONGPOLL; t < PUSH_TRANSPORT_MAX; t++)
			fprintf(f, "%s{transport=\"%s\"} %llu\n", per_rows[i].metric, tnames[t],
				per_value(&per_rows[i], t));
	}
	cluster_stats_prometheus(f);
	fclose(f);
	*out = buf;
	return len;
}
