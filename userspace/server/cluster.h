/* SPDX-License-Identifier: GPL-2.0 */
/* cluster.h - the cluster section of /stats and /metrics (cluster.c). */
#ifndef PUSHD_SERVER_CLUSTER_H
#define PUSHD_SERVER_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct cluster_stats {
	bool wanted;		/* cluster mode on, or --bridge-status given */
	bool ingress;		/* PUSH_IOC_INGRESS_INFO answered */
	bool mode;		/* the device is in cluster mode */
	uint64_t queued, bytes, max_bytes;	/* the ingress queue */
	uint64_t forward_lag_ms;	/* age of its oldest entry */
	bool bridge;		/* the status file was read */
	bool bridge_up;		/* ... is fresh and says "running" */
	char state[32];
	uint64_t status_age_ms;
	uint64_t stream_seq, applied_id, apply_lag;
	uint64_t forwarded, pubacked, publish_errors, reconnects, resubscribes;
	uint64_t forward_ack_latency_us;
};

/* Fills @cs; true if there is a cluster section to show. */
bool cluster_stats(struct cluster_stats *cs);

/* Appends ,"cluster":{...} to /stats, if there is one. */
void cluster_stats_json(FILE *f);

/* Appends the push_cluster_* metrics, if there are any. */
void cluster_stats_prometheus(FILE *f);

#endif
