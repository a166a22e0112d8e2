/* SPDX-License-Identifier: GPL-2.0 */
/* stats.h - /stats (JSON) and /metrics (Prometheus) from pushd's counters, the hub's queues and the probes. */
#ifndef PUSHD_STATS_H
#define PUSHD_STATS_H

#include <stddef.h>

/* Renders /stats into a malloc'd buffer; returns its length, *out NULL on ENOMEM. */
size_t stats_json(char **out);

/* Renders /metrics into a malloc'd buffer; returns its length, *out NULL on ENOMEM. */
size_t stats_prometheus(char **out);

#endif
