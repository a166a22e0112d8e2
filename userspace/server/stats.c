// SPDX-License-Identifier: GPL-2.0
/* stats.c - /stats and /metrics from pushd's counters, the hub's queues and the probes. */
#include <inttypes.h>
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

size_t stats_json(char **out)
{
	struct pushd_stats *s = &pushd_stats;
	uint64_t qitems, qbytes, qmax;
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
	hub_queue_stats(&qitems, &qbytes, &qmax);
	fprintf(f, "{\"last_id\":%" PRIu64 ",\"messages_in\":%llu,\"gaps_in\":%llu,"
		"\"bytes_in\":%llu,\"device_reads\":%llu,\"published\":%llu,"
		"\"history_reads\":%llu,\"requests\":%llu,\"header_timeouts\":%llu,\"header_waits\":%llu,"
		"\"peer_gone\":%llu,\"resets\":%llu,\"oom_drops\":%llu,\"ws_no_pong\":%llu,",
		hub_last_id(), LOAD(s->msgs_in), LOAD(s->gaps_in), LOAD(s->bytes_in),
		LOAD(s->reads), LOAD(s->published), LOAD(s->history_reads), LOAD(s->requests),
		(unsigned long long)deadline_expired_total(),
		(unsigned long long)deadline_extended_total(), LOAD(s->peer_gone), LOAD(s->resets),
		LOAD(s->oom_drops), LOAD(s->ws_no_pong));
	unsigned long long conns = 0, out_items = 0, out_bytes = 0, slow = 0;
	fputs("\"transports\":{", f);
	for (int t = PUSH_TRANSPORT_LONGPOLL; t < PUSH_TRANSPORT_MAX; t++) {
		struct transport_stats *ts = &s->t[t];

		fprintf(f, "%s\"%s\":{\"connections\":%llu,\"connections_total\":%llu,"
			"\"messages_out\":%llu,\"bytes_out\":%llu,\"slow_disconnects\":%llu,"
			"\"close_timeouts\":%llu}",
			t == PUSH_TRANSPORT_LONGPOLL ? "" : ",", tnames[t], LOAD(ts->conns),
			LOAD(ts->conns_total), LOAD(ts->items_out), LOAD(ts->bytes_out), LOAD(ts->slow),
			LOAD(ts->close_timeouts));
		conns += LOAD(ts->conns);
		out_items += LOAD(ts->items_out);
		out_bytes += LOAD(ts->bytes_out);
		slow += LOAD(ts->slow);
	}
	fprintf(f, "},\"connections\":%llu,\"messages_out\":%llu,\"bytes_out\":%llu,"
		"\"slow_disconnects\":%llu,\"queues\":{\"items\":%" PRIu64 ",\"bytes\":%" PRIu64
		",\"max_bytes\":%" PRIu64 "}",
		conns, out_items, out_bytes, slow, qitems, qbytes, qmax);
	cluster_stats_json(f);
	if (plen)
		fprintf(f, ",\"probes\":%.*s", (int)plen, probes);
	fputs("}\n", f);
	fclose(f);
	free(probes);
	*out = buf;
	return len;
}

size_t stats_prometheus(char **out)
{
	struct pushd_stats *s = &pushd_stats;
	uint64_t qitems, qbytes, qmax;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*out = NULL;
	if (!f)
		return 0;
	hub_queue_stats(&qitems, &qbytes, &qmax);
	const struct {
		const char *name, *type, *help;
		unsigned long long v;
	} one[] = {
		{ "push_last_id", "gauge", "Last message id fanned out.", hub_last_id() },
		{ "push_messages_in_total", "counter", "Messages read from /dev/push.", LOAD(s->msgs_in) },
		{ "push_gaps_in_total", "counter",
		  "Gap records read from /dev/push (the hub fell behind).", LOAD(s->gaps_in) },
		{ "push_bytes_in_total", "counter", "Bytes read from /dev/push.", LOAD(s->bytes_in) },
		{ "push_device_reads_total", "counter", "read() completions on /dev/push.", LOAD(s->reads) },
		{ "push_published_total", "counter", "Messages published through POST /pub.",
		  LOAD(s->published) },
		{ "push_history_reads_total", "counter", "Resumes served from the device history.",
		  LOAD(s->history_reads) },
		{ "push_http_requests_total", "counter", "HTTP requests.", LOAD(s->requests) },
		{ "push_header_timeouts_total", "counter",
		  "Connections shut down for a request head not complete in --header-timeout.",
		  (unsigned long long)deadline_expired_total() },
		{ "push_header_waits_total", "counter",
		  "Head deadlines given again: the head had arrived, pushd had not read it yet.",
		  (unsigned long long)deadline_extended_total() },
		{ "push_peer_gone_total", "counter", "Waiting subscribers whose peer hung up.",
		  LOAD(s->peer_gone) },
		{ "push_resets_total", "counter", "Resumes from another epoch, answered with a reset.",
		  LOAD(s->resets) },
		{ "push_oom_drops_total", "counter", "Messages lost to a lack of memory, sent as gaps.",
		  LOAD(s->oom_drops) },
		{ "push_ws_no_pong_total", "counter", "WebSockets closed for unanswered pings.",
		  LOAD(s->ws_no_pong) },
		{ "push_queue_items", "gauge", "Items queued over all subscribers.", qitems },
		{ "push_queue_bytes", "gauge", "Bytes queued over all subscribers.", qbytes },
		{ "push_queue_max_bytes", "gauge", "Largest queue of one subscriber, in bytes.", qmax },
	};
	for (size_t i = 0; i < sizeof(one) / sizeof(one[0]); i++)
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", one[i].name, one[i].help,
			one[i].name, one[i].type, one[i].name, one[i].v);

	static const struct {
		const char *name, *type, *help;
		size_t off;
	} per[] = {
		{ "push_connections", "gauge", "Open subscriber connections.",
		  offsetof(struct transport_stats, conns) },
		{ "push_connections_total", "counter", "Subscriber connections ever opened.",
		  offsetof(struct transport_stats, conns_total) },
		{ "push_messages_out_total", "counter", "Messages and gaps delivered.",
		  offsetof(struct transport_stats, items_out) },
		{ "push_bytes_out_total", "counter", "Bytes written to subscribers.",
		  offsetof(struct transport_stats, bytes_out) },
		{ "push_slow_disconnects_total", "counter", "Subscribers cut off for a full queue.",
		  offsetof(struct transport_stats, slow) },
		{ "push_close_timeouts_total", "counter",
		  "Streams being closed that were shut down before they took the close (--close-timeout, "
		  "or a WebSocket stalled for 10 s).", offsetof(struct transport_stats, close_timeouts) },
	};
	for (size_t i = 0; i < sizeof(per) / sizeof(per[0]); i++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", per[i].name, per[i].help, per[i].name, per[i].type);
		for (int t = PUSH_TRANSPORT_LONGPOLL; t < PUSH_TRANSPORT_MAX; t++) {
			atomic_ullong *v = (atomic_ullong *)((char *)&s->t[t] + per[i].off);

			fprintf(f, "%s{transport=\"%s\"} %llu\n", per[i].name, tnames[t], LOAD(*v));
		}
	}
	cluster_stats_prometheus(f);
	fclose(f);
	*out = buf;
	return len;
}
