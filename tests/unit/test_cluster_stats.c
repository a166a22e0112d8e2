// SPDX-License-Identifier: GPL-2.0
/*
 * test_cluster_stats.c - the cluster section of /stats and /metrics
 * (userspace/server/cluster.c) from a push-bridge status file: fields
 * parsed, "up" only while the file is fresh and says running, a missing,
 * malformed or future-dated file, and output that is valid JSON.  No
 * device here: the ingress half is absent (its ioctl fails).  TAP output;
 * exit 1 on any failure.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/config.h"
#include "server/cluster.h"

#include "tap.h"

static char path[64];

static void write_status(const char *text, long age_s)
{
	FILE *f = fopen(path, "w");
	struct timespec ts[2];

	fputs(text, f);
	fclose(f);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= age_s;
	ts[1] = ts[0];
	utimensat(AT_FDCWD, path, ts, 0);
}

static const char running[] =
	"{\"state\":\"running\",\"stream_seq\":42,\"applied_id\":40,\"apply_lag\":2,"
	"\"forwarded\":7,\"pubacked\":6,\"publish_errors\":1,\"reconnects\":3,"
	"\"resubscribes\":4,\"forward_ack_latency_us\":900,\"epoch\":\"123\"}";

/* cluster_stats_json()'s output, parsed inside an object: NULL if invalid. */
static json_t *section(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_t *o, *c;

	fputs("{\"x\":0", f);
	cluster_stats_json(f);
	fputc('}', f);
	fclose(f);
	o = json_loads(buf, 0, NULL);
	free(buf);
	c = json_incref(json_object_get(o, "cluster"));
	json_decref(o);
	return c;
}

static char *metrics(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cluster_stats_prometheus(f);
	fclose(f);
	return buf;
}

int main(void)
{
	struct cluster_stats cs;
	json_t *c;
	char *m;
	int fd;

	config_defaults(&pushd_cfg);
	CHECK(!cluster_stats(&cs), "no device in cluster mode, no --bridge-status: no section");
	m = metrics();
	CHECK(!strstr(m, "push_cluster_"), "... and no push_cluster_ metrics");
	free(m);

	snprintf(path, sizeof(path), "/tmp/test_cluster_stats.XXXXXX");
	fd = mkstemp(path);
	close(fd);
	pushd_cfg.bridge_status = path;

	write_status(running, 0);
	CHECK(cluster_stats(&cs) && cs.bridge && cs.bridge_up, "a fresh running status: up");
	CHECK(cs.stream_seq == 42 && cs.applied_id == 40 && cs.apply_lag == 2 && cs.forwarded == 7 &&
	      cs.pubacked == 6 && cs.publish_errors == 1 && cs.reconnects == 3 &&
	      cs.resubscribes == 4 && cs.forward_ack_latency_us == 900 && !strcmp(cs.state, "running"),
	      "every field read");
	CHECK(!cs.ingress && !cs.mode, "no device: no ingress half");
	c = section();
	CHECK(c && json_is_false(json_object_get(c, "mode")) &&
	      json_is_true(json_object_get(json_object_get(c, "bridge"), "up")) &&
	      json_integer_value(json_object_get(json_object_get(c, "bridge"), "stream_seq")) == 42,
	      "/stats section: valid JSON, mode false, bridge up, stream_seq 42");
	json_decref(c);
	m = metrics();
	CHECK(strstr(m, "\npush_cluster_stream_seq 42\n") && strstr(m, "\npush_cluster_bridge_up 1\n") &&
	      strstr(m, "\npush_cluster_reconnects_total 3\n"),
	      "/metrics: stream seq, bridge up, reconnects");
	free(m);

	write_status(running, 10);
	CHECK(cluster_stats(&cs) && cs.bridge && !cs.bridge_up && cs.status_age_ms >= 9000,
	      "a status 10 s old: not up (age %llu ms)", (unsigned long long)cs.status_age_ms);

	write_status(running, -3600);
	CHECK(cluster_stats(&cs) && cs.bridge_up && cs.status_age_ms == 0,
	      "a status dated in the future: age 0, up (age %llu ms)",
	      (unsigned long long)cs.status_age_ms);

	write_status("{\"state\":\"disconnected\",\"stream_seq\":5}", 0);
	CHECK(cluster_stats(&cs) && cs.bridge && !cs.bridge_up && cs.stream_seq == 5,
	      "state disconnected: not up, figures kept");

	write_status("{\"state\":\"run", 0);
	CHECK(cluster_stats(&cs) && !cs.bridge && !cs.bridge_up, "a torn file: no bridge figures");

	write_status("{\"state\":\"running\\\"},\"x\":1}", 0);
	c = section();
	CHECK(c && json_is_string(json_object_get(json_object_get(c, "bridge"), "state")),
	      "a state with a quote in it stays one JSON string");
	json_decref(c);

	unlink(path);
	CHECK(cluster_stats(&cs) && !cs.bridge, "a missing file: no bridge figures");
	c = section();
	CHECK(c && json_is_false(json_object_get(json_object_get(c, "bridge"), "up")),
	      "/stats says the bridge is not up");
	json_decref(c);
	m = metrics();
	CHECK(strstr(m, "\npush_cluster_bridge_up 0\n") && !strstr(m, "push_cluster_stream_seq"),
	      "/metrics: bridge_up 0, no bridge figures");
	free(m);
	return tap_done();
}
