// SPDX-License-Identifier: GPL-2.0
/*
 * The status file (--status FILE): one JSON object, rewritten about once a
 * second through a temporary file and rename(), so a reader never sees a
 * half-written one.  docs/CLUSTER.md ("Stats") lists the fields.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "bridge.h"

#include <linux/push.h>

static const char *const state_names[] = {
	[BS_CONNECTING] = "connecting",
	[BS_SETUP] = "setup",
	[BS_RUNNING] = "running",
	[BS_DISCONNECTED] = "disconnected",
	[BS_STOPPING] = "stopping",
};

const char *bridge_state_name(int s)
{
	return s >= 0 && s <= BS_STOPPING ? state_names[s] : "?";
}

#define U(x) json_integer((json_int_t)atomic_load(&b->st.x))

void bridge_status_write(struct bridge *b)
{
	struct push_ingress_info ii;
	struct push_info info;
	struct timespec ts;
	char tmp[512];
	json_t *o;
	int64_t now, age = 0;
	uint64_t seq;

	if (!b->o.status)
		return;
	memset(&ii, 0, sizeof(ii));
	memset(&info, 0, sizeof(info));
	pthread_mutex_lock(&b->fd_lock);
	ioctl(b->ing_fd, PUSH_IOC_INGRESS_INFO, &ii);
	ioctl(b->ing_fd, PUSH_IOC_INFO, &info);
	pthread_mutex_unlock(&b->fd_lock);
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	if (ii.oldest_ns && now > (int64_t)ii.oldest_ns)
		age = now - (int64_t)ii.oldest_ns;
	seq = atomic_load(&b->st.stream_seq);
	o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}",
		      "state", bridge_state_name(atomic_load(&b->state)),
		      "device", b->o.device, "stream", b->o.stream,
		      "stream_seq", (json_int_t)seq,
		      "applied_id", (json_int_t)(info.next_id - 1),
		      "apply_lag", (json_int_t)(seq > info.next_id - 1 ? seq - (info.next_id - 1) : 0));
	if (!o)
		return;
	snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)info.epoch);
	json_object_set_new(o, "epoch", json_string(tmp)); /* a u64: as a string */
	json_object_set_new(o, "ingress_queued", json_integer((json_int_t)ii.queued));
	json_object_set_new(o, "ingress_bytes", json_integer((json_int_t)ii.bytes));
	json_object_set_new(o, "ingress_oldest_age_ms", json_integer(age / 1000000));
	json_object_set_new(o, "ingress_acked", json_integer((json_int_t)ii.acked));
	json_object_set_new(o, "forward_ack_latency_us",
			    json_integer(atomic_load(&b->st.ack_latency_ns) / 1000));
	json_object_set_new(o, "forwarded", U(forwarded));
	json_object_set_new(o, "pubacked", U(pubacked));
	json_object_set_new(o, "duplicates", U(duplicates));
	json_object_set_new(o, "publish_errors", U(pub_errors));
	json_object_set_new(o, "rewinds", U(rewinds));
	json_object_set_new(o, "reconnects", U(reconnects));
	json_object_set_new(o, "applied", U(applied));
	json_object_set_new(o, "apply_skipped", U(skipped));
	json_object_set_new(o, "apply_invalid", U(invalid));
	json_object_set_new(o, "apply_jumps", U(jumps));
	json_object_set_new(o, "apply_deleted", U(deleted));
	json_object_set_new(o, "resubscribes", U(resubscribes));
	json_object_set_new(o, "stream_polls", json_integer((json_int_t)atomic_load(&b->polls)));
	snprintf(tmp, sizeof(tmp), "%s.tmp", b->o.status);
	if (json_dump_file(o, tmp, JSON_COMPACT) == 0 && rename(tmp, b->o.status))
		remove(tmp);
	json_decref(o);
}
