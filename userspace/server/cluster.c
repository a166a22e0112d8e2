// SPDX-License-Identifier: GPL-2.0
/*
 * cluster.c - the cluster section of /stats and /metrics (docs/CLUSTER.md,
 * "Stats").
 *
 * Two sources: the device's ingress queue (PUSH_IOC_INGRESS_INFO: cluster
 * mode, what waits to be forwarded, and the age of its oldest entry, the
 * forward lag), and, with --bridge-status FILE, the status file push-bridge
 * rewrites about once a second (stream sequence, apply lag, reconnects).
 * The file is read on each request: it is small, and /stats is not a hot
 * path.  A file older than BRIDGE_STALE_MS says the bridge is not running.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include <linux/push.h>

#include "core/config.h"
#include "core/replay.h"
#include "protocol/json.h"
#include "server/cluster.h"

#define BRIDGE_STALE_MS	5000

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t json_u64(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (json_is_integer(v) && json_integer_value(v) >= 0)
		return (uint64_t)json_integer_value(v);
	return 0;
}

/* Fills the bridge's half of @cs from the status file; false if unreadable. */
static bool read_bridge(const char *path, struct cluster_stats *cs)
{
	struct stat st;
	json_error_t jerr;
	json_t *o, *state;
	uint64_t mtime_ns, now;

	if (stat(path, &st))
		return false;
	o = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(o)) {
		json_decref(o);
		return false;
	}
	mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
	now = now_ns(CLOCK_REALTIME);
	cs->status_age_ms = now > mtime_ns ? (now - mtime_ns) / 1000000 : 0;
	state = json_object_get(o, "state");
	snprintf(cs->state, sizeof(cs->state), "%s",
		 json_is_string(state) ? json_string_value(state) : "unknown");
	cs->stream_seq = json_u64(o, "stream_seq");
	cs->applied_id = json_u64(o, "applied_id");
	cs->apply_lag = json_u64(o, "apply_lag");
	cs->forwarded = json_u64(o, "forwarded");
	cs->pubacked = json_u64(o, "pubacked");
	cs->publish_errors = json_u64(o, "publish_errors");
	cs->reconnects = json_u64(o, "reconnects");
	cs->resubscribes = json_u64(o, "resubscribes");
	cs->forward_ack_latency_us = json_u64(o, "forward_ack_latency_us");
	json_decref(o);
	cs->bridge = true;
	cs->bridge_up = cs->status_age_ms <= BRIDGE_STALE_MS && !strcmp(cs->state, "running");
	return true;
}

bool cluster_stats(struct cluster_stats *cs)
{
	struct push_ingress_info ii = { 0 };

	memset(cs, 0, sizeof(*cs));
	if (ioctl(hub_histfd(), PUSH_IOC_INGRESS_INFO, &ii) == 0) {
		uint64_t now = now_ns(CLOCK_REALTIME);

		cs->ingress = true;
		cs->mode = ii.cluster != 0;
		cs->queued = ii.queued;
		cs->bytes = ii.bytes;
		cs->max_bytes = ii.max_bytes;
		/* the oldest entry's write time (the kernel's real-time clock) */
		cs->forward_lag_ms = ii.oldest_ns && now > ii.oldest_ns ?
				     (now - ii.oldest_ns) / 1000000 : 0;
	}
	if (pushd_cfg.bridge_status && !read_bridge(pushd_cfg.bridge_status, cs))
		cs->bridge = cs->bridge_up = false;
	cs->wanted = cs->mode || pushd_cfg.bridge_status;
	return cs->wanted;
}

void cluster_stats_json(FILE *f)
{
	struct cluster_stats cs;

	if (!cluster_stats(&cs))
		return;
	fprintf(f, ",\"cluster\":{\"mode\":%s,\"ingress\":{\"queued\":%" PRIu64 ",\"bytes\":%" PRIu64
		",\"max_bytes\":%" PRIu64 ",\"forward_lag_ms\":%" PRIu64 "}",
		cs.mode ? "true" : "false", cs.queued, cs.bytes, cs.max_bytes, cs.forward_lag_ms);
	if (pushd_cfg.bridge_status && !cs.bridge) {
		fputs(",\"bridge\":{\"up\":false,\"state\":\"no status file\"}", f);
	} else if (cs.bridge) {
		char q[sizeof(cs.state) * 6 + 2];	/* a byte is at most 6 escaped */
		size_t qlen = json_quote(q, sizeof(q), cs.state, strlen(cs.state));

		fprintf(f, ",\"bridge\":{\"up\":%s,\"state\":%.*s,\"status_age_ms\":%" PRIu64
			",\"stream_seq\":%" PRIu64 ",\"applied_id\":%" PRIu64 ",\"apply_lag\":%" PRIu64
			",\"forwarded\":%" PRIu64 ",\"pubacked\":%" PRIu64 ",\"publish_errors\":%" PRIu64
			",\"reconnects\":%" PRIu64 ",\"resubscribes\":%" PRIu64
			",\"forward_ack_latency_us\":%" PRIu64 "}",
			cs.bridge_up ? "true" : "false", (int)qlen, q, cs.status_age_ms,
			cs.stream_seq, cs.applied_id, cs.apply_lag, cs.forwarded, cs.pubacked,
			cs.publish_errors, cs.reconnects, cs.resubscribes, cs.forward_ack_latency_us);
	}
	fputc('}', f);
}

void cluster_stats_prometheus(FILE *f)
{
	struct cluster_stats cs;

	if (!cluster_stats(&cs))
		return;
	const struct {
		const char *name, *type, *help;
		uint64_t v;
		bool bridge;	/* from the bridge's status file */
	} m[] = {
		{ "push_cluster_mode", "gauge", "1 while the device is in cluster mode.", cs.mode, false },
		{ "push_cluster_ingress_queued", "gauge", "Local publishes waiting to be forwarded.",
		  cs.queued, false },
		{ "push_cluster_ingress_bytes", "gauge", "Bytes in the ingress queue.", cs.bytes, false },
		{ "push_cluster_forward_lag_milliseconds", "gauge",
		  "Age of the oldest publish not yet acknowledged by JetStream.", cs.forward_lag_ms, false },
		{ "push_cluster_bridge_up", "gauge",
		  "1 while the bridge's status file is fresh and says running.", cs.bridge_up, false },
		{ "push_cluster_stream_seq", "gauge", "The stream's last sequence (the bridge's view).",
		  cs.stream_seq, true },
		{ "push_cluster_apply_lag", "gauge", "Stream messages not yet applied to this device.",
		  cs.apply_lag, true },
		{ "push_cluster_forwarded_total", "counter", "Publishes the bridge sent to JetStream.",
		  cs.forwarded, true },
		{ "push_cluster_publish_errors_total", "counter", "Forward publishes that failed.",
		  cs.publish_errors, true },
		{ "push_cluster_reconnects_total", "counter", "The bridge's NATS reconnections.",
		  cs.reconnects, true },
		{ "push_cluster_resubscribes_total", "counter", "Ordered consumers the bridge recreated.",
		  cs.resubscribes, true },
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		if (m[i].bridge && !cs.bridge)
			continue;
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", m[i].name, m[i].help,
			m[i].name, m[i].type, m[i].name, m[i].v);
	}
}
