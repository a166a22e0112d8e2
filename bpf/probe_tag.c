// SPDX-License-Identifier: GPL-2.0
/*
 * probe_tag.c - pushd's side of push-probe: tag connections with their
 * transport, count deliveries, and read the per-transport report.
 *
 * The maps are found by their pins under PUSH_PROBE_PIN_DIR.  While they
 * are missing every call costs one clock read; the pins are looked for
 * again at most once per second, and a re-attach (a new push_conn_tags,
 * told apart by its map id) replaces the old fds.  Per-transport delivery
 * counts go to push_delivered through a shared mapping (an atomic add, no
 * syscall); the per-connection count goes into the tag at untag time.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/types.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "push/probe_tag.h"
#include "push/probe.h"

/* fds above this are tagged in the map but not remembered locally. */
#define PROBE_MAX_FD	65536

/* Per fd: its transport, deliveries since it was tagged, and the id of
 * the push_conn_tags map it was tagged in (0: not tagged). */
struct probe_fd {
	uint32_t transport;
	uint32_t delivered;
	uint32_t map_id;
};

/* Everything below is protected by probe_lock. */
static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;
static int tags_fd = -1;		/* push_conn_tags, or -1 */
static __u32 tags_id;			/* its map id */
static struct push_delivery *delivered;	/* push_delivered, mmapped */
static size_t delivered_len;
static time_t checked;			/* CLOCK_MONOTONIC s of last look */
static struct probe_fd *fds;		/* PROBE_MAX_FD entries, or NULL */

static const char *const transport_names[PUSH_TRANSPORT_MAX] = {
	[PUSH_TRANSPORT_NONE] = "untagged",
	[PUSH_TRANSPORT_LONGPOLL] = "longpoll",
	[PUSH_TRANSPORT_SSE] = "sse",
	[PUSH_TRANSPORT_WEBSOCKET] = "websocket",
};

const char *probe_transport_name(int transport)
{
	if (transport < 0 || transport >= PUSH_TRANSPORT_MAX)
		return "unknown";
	return transport_names[transport];
}

static void probe_forget(void)
{
	if (delivered)
		munmap(delivered, delivered_len);
	delivered = NULL;
	if (tags_fd >= 0)
		close(tags_fd);
	tags_fd = -1;
	tags_id = 0;
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* Look for the pins again if a second has passed; called locked.  Returns
 * 1 when the maps are usable. */
static int probe_refresh(void)
{
	struct timespec now;
	int fd, dfd;
	__u32 id;
	void *mem;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if (now.tv_sec == checked)
		return tags_fd >= 0;
	checked = now.tv_sec;

	fd = bpf_obj_get(PUSH_PROBE_PIN_DIR "/push_conn_tags");
	if (fd < 0) {
		probe_forget();
		return 0;
	}
	id = map_id(fd);
	if (id && id == tags_id) {
		close(fd);
		return 1;
	}
	/* New maps (first attach or re-attach): drop the old ones. */
	probe_forget();
	dfd = bpf_obj_get(PUSH_PROBE_PIN_DIR "/push_delivered");
	if (dfd < 0)
		goto out_close;
	delivered_len = (PUSH_TRANSPORT_MAX * sizeof(*delivered) + 4095) & ~(size_t)4095;
	mem = mmap(NULL, delivered_len, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	close(dfd);
	if (mem == MAP_FAILED)
		goto out_close;
	if (!fds)
		fds = calloc(PROBE_MAX_FD, sizeof(*fds));
	if (!fds) {
		munmap(mem, delivered_len);
		goto out_close;
	}
	delivered = mem;
	tags_fd = fd;
	tags_id = id;
	return 1;

out_close:
	close(fd);
	return 0;
}

static int fd_cookie(int fd, __u64 *cookie)
{
	socklen_t len = sizeof(*cookie);

	return getsockopt(fd, SOL_SOCKET, SO_COOKIE, cookie, &len);
}

void probe_tag_conn(int fd, int transport)
{
	struct push_conn_tag tag = { .transport = (__u32)transport };
	__u64 cookie;

	if (transport < 0 || transport >= PUSH_TRANSPORT_MAX || fd < 0)
		return;
	pthread_mutex_lock(&probe_lock);
	if (!probe_refresh())
		goto out;
	/* Already tagged so in these maps (the next request of a keep-alive
	 * connection): nothing to do, no syscall. */
	if (fd < PROBE_MAX_FD && fds[fd].map_id == tags_id &&
	    fds[fd].transport == (uint32_t)transport)
		goto out;
	if (fd_cookie(fd, &cookie))
		goto out;
	tag.tgid = (__u32)getpid();
	if (fd < PROBE_MAX_FD)
		tag.delivered = fds[fd].delivered;
	if (bpf_map_update_elem(tags_fd, &cookie, &tag, BPF_ANY))
		goto out;
	if (fd < PROBE_MAX_FD) {
		fds[fd].transport = (uint32_t)transport;
		fds[fd].map_id = tags_id;
	}
out:
	pthread_mutex_unlock(&probe_lock);
}

/* Add @n deliveries on @fd to its transport's counter; called locked. */
static void add_delivered(int fd, uint64_t n)
{
	uint32_t t = PUSH_TRANSPORT_NONE;

	if (fd < PROBE_MAX_FD) {
		t = fds[fd].transport;
		fds[fd].delivered += (uint32_t)n;
	}
	__atomic_fetch_add(&delivered[t].messages, n, __ATOMIC_RELAXED);
}

void probe_count_delivered(int fd, uint32_t n)
{
	if (fd < 0 || !n)
		return;
	pthread_mutex_lock(&probe_lock);
	if (probe_refresh())
		add_delivered(fd, n);
	pthread_mutex_unlock(&probe_lock);
}

void probe_untag_conn(int fd, uint64_t n)
{
	struct push_conn_tag tag;
	__u64 cookie;

	if (fd < 0)
		return;
	pthread_mutex_lock(&probe_lock);
	if (!probe_refresh())
		goto out;
	add_delivered(fd, n);
	/* The socket may be gone from the maps already (reset): then the
	 * per-connection count is lost, the per-transport one is not. */
	if (!fd_cookie(fd, &cookie) &&
	    !bpf_map_lookup_elem(tags_fd, &cookie, &tag)) {
		tag.delivered = fd < PROBE_MAX_FD ? fds[fd].delivered : tag.delivered + n;
		bpf_map_update_elem(tags_fd, &cookie, &tag, BPF_EXIST);
	}
	if (fd < PROBE_MAX_FD)
		memset(&fds[fd], 0, sizeof(fds[fd]));
out:
	pthread_mutex_unlock(&probe_lock);
}

static int pin_fd(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), PUSH_PROBE_PIN_DIR "/%s", name);
	return bpf_obj_get(path);
}

static void add_traffic(struct probe_row *row, const struct push_traffic *t)
{
	row->tx_bytes += t->tx_bytes;
	row->tx_segs += t->tx_segs;
	row->tx_payload += t->tx_payload;
	row->rx_bytes += t->rx_bytes;
	row->rx_segs += t->rx_segs;
	row->rx_payload += t->rx_payload;
	row->rx_dup_payload += t->rx_dup_payload;
	row->retrans += t->retrans;
	row->retrans_bytes += t->retrans_bytes;
	row->syscalls += t->syscalls;
	row->syscall_ns += t->syscall_ns;
}

/* Upper bound of the bucket holding the @q-quantile of @l. */
static uint64_t lat_quantile(const struct push_lat *l, double q)
{
	uint64_t seen = 0, want = (uint64_t)(q * (double)l->count + 0.5);
	int i;

	if (!l->count)
		return 0;
	if (want < 1)
		want = 1;
	for (i = 0; i < PUSH_LAT_SLOTS; i++) {
		seen += l->slots[i];
		if (seen >= want)
			return i + 1 >= 64 ? UINT64_MAX : (uint64_t)1 << (i + 1);
	}
	return l->max_ns;
}

/* Live connections: add each to its tag's transport. */
static int read_live(struct probe_report *r, int conns_fd, int tags)
{
	__u64 key, next, *prev = NULL;
	struct push_conn conn;
	struct push_conn_tag tag;
	uint32_t t;

	while (!bpf_map_get_next_key(conns_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(conns_fd, &key, &conn))
			continue;	/* closed meanwhile */
		t = PUSH_TRANSPORT_NONE;
		if (!bpf_map_lookup_elem(tags, &key, &tag) &&
		    tag.transport < PUSH_TRANSPORT_MAX)
			t = tag.transport;
		r->tr[t].conns++;
		r->tr[t].live++;
		add_traffic(&r->tr[t], &conn.t);
	}
	return errno == ENOENT ? 0 : -errno;
}

int probe_report_read(struct probe_report *r)
{
	int conns_fd, tags, trs, dlv, proc, lat, err = 0;
	struct push_closed_conns tr;
	struct push_delivery d;
	struct push_proc p;
	struct push_lat l;
	__u32 i, zero = 0;
	uint64_t sys_ns = 0;

	memset(r, 0, sizeof(*r));
	conns_fd = pin_fd("push_conns");
	tags = pin_fd("push_conn_tags");
	trs = pin_fd("push_transports");
	dlv = pin_fd("push_delivered");
	proc = pin_fd("push_proc");
	lat = pin_fd("push_latency");
	if (conns_fd < 0 || tags < 0 || trs < 0 || dlv < 0 || proc < 0 || lat < 0) {
		err = -ENOENT;
		goto out;
	}
	for (i = 0; i < PUSH_TRANSPORT_MAX; i++) {
		if (bpf_map_lookup_elem(trs, &i, &tr) ||
		    bpf_map_lookup_elem(dlv, &i, &d)) {
			err = -errno;
			goto out;
		}
		r->tr[i].conns = tr.conns;
		r->tr[i].timed = tr.timed;
		r->tr[i].lifetime_ns = tr.lifetime_ns;
		r->tr[i].delivered = d.messages;
		add_traffic(&r->tr[i], &tr.t);
	}
	err = read_live(r, conns_fd, tags);
	if (err)
		goto out;
	if (bpf_map_lookup_elem(proc, &zero, &p)) {
		err = -errno;
		goto out;
	}
	r->cpu_ns = p.cpu_ns;
	r->syscalls = p.syscalls;
	r->syscall_ns = p.syscall_ns;
	r->conns_opened = p.conns_opened;
	r->dev_reads = p.dev_reads;
	r->dev_records = p.dev_records;
	r->dev_bytes = p.dev_bytes;
	r->published = p.published;
	r->published_bytes = p.published_bytes;
	for (i = 0; i < PUSH_LAT_MAX; i++) {
		if (bpf_map_lookup_elem(lat, &i, &l)) {
			err = -errno;
			goto out;
		}
		r->lat[i].count = l.count;
		r->lat[i].sum_ns = l.sum_ns;
		r->lat[i].max_ns = l.max_ns;
		r->lat[i].p50_ns = lat_quantile(&l, 0.50);
		r->lat[i].p99_ns = lat_quantile(&l, 0.99);
	}
	/* Apportion pushd's CPU time by each transport's syscall time: exact
	 * when one transport carries all the traffic. */
	for (i = 0; i < PUSH_TRANSPORT_MAX; i++)
		sys_ns += r->tr[i].syscall_ns;
	for (i = 0; i < PUSH_TRANSPORT_MAX && sys_ns; i++)
		r->tr[i].cpu_ns = (double)r->cpu_ns * (double)r->tr[i].syscall_ns / (double)sys_ns;
out:
	for (i = 0; i < 6; i++) {
		int fd = (int[]){ conns_fd, tags, trs, dlv, proc, lat }[i];

		if (fd >= 0)
			close(fd);
	}
	return err;
}

/* A JSON number, or null when @den is 0. */
static int jratio(char *buf, size_t cap, double num, double den)
{
	if (den == 0)
		return snprintf(buf, cap, "null");
	return snprintf(buf, cap, "%.6g", num / den);
}

struct jbuf {
	char *p;
	size_t cap, len;
};

static void jput(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jput(struct jbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->len < b->cap ? b->p + b->len : NULL,
		      b->len < b->cap ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len += (size_t)n;
}

static void jnum(struct jbuf *b, const char *key, double num, double den)
{
	char v[32];

	jratio(v, sizeof(v), num, den);
	jput(b, ",\"%s\":%s", key, v);
}

size_t probe_report_json(const struct probe_report *r, char *out, size_t cap)
{
	struct jbuf b = { .p = out, .cap = cap };
	double payload = r->published ? (double)r->published_bytes / (double)r->published : 0;
	int i, first = 1;

	jput(&b, "{\"transports\":{");
	for (i = 0; i < PUSH_TRANSPORT_MAX; i++) {
		const struct probe_row *w = &r->tr[i];
		double d = (double)w->delivered;

		if (i == PUSH_TRANSPORT_NONE && !w->conns && !w->delivered)
			continue;
		jput(&b, "%s\"%s\":{\"connections\":%llu,\"live\":%llu,\"delivered\":%llu",
		     first ? "" : ",", probe_transport_name(i),
		     (unsigned long long)w->conns, (unsigned long long)w->live,
		     (unsigned long long)w->delivered);
		first = 0;
		jnum(&b, "wire_bytes_per_msg", (double)(w->tx_bytes + w->rx_bytes), d);
		jnum(&b, "tx_bytes_per_msg", (double)w->tx_bytes, d);
		jnum(&b, "overhead_ratio", (double)(w->tx_bytes + w->rx_bytes), d * payload);
		jnum(&b, "segments_per_msg", (double)(w->tx_segs + w->rx_segs), d);
		jnum(&b, "syscalls_per_msg", (double)w->syscalls, d);
		jnum(&b, "cpu_us_per_msg", w->cpu_ns / 1e3, d);
		jnum(&b, "new_conns_per_msg", (double)w->conns, d);
		jnum(&b, "mean_lifetime_s", (double)w->lifetime_ns / 1e9, (double)w->timed);
		jput(&b, ",\"tx_bytes\":%llu,\"tx_segs\":%llu,\"tx_payload\":%llu,"
		     "\"rx_bytes\":%llu,\"rx_segs\":%llu,\"rx_payload\":%llu,\"rx_dup_payload\":%llu,"
		     "\"retransmits\":%llu,\"retransmit_bytes\":%llu,"
		     "\"syscalls\":%llu,\"syscall_ns\":%llu}",
		     (unsigned long long)w->tx_bytes, (unsigned long long)w->tx_segs,
		     (unsigned long long)w->tx_payload, (unsigned long long)w->rx_bytes,
		     (unsigned long long)w->rx_segs, (unsigned long long)w->rx_payload,
		     (unsigned long long)w->rx_dup_payload,
		     (unsigned long long)w->retrans, (unsigned long long)w->retrans_bytes,
		     (unsigned long long)w->syscalls,
		     (unsigned long long)w->syscall_ns);
	}
	jput(&b, "},\"process\":{\"cpu_ns\":%llu,\"syscalls\":%llu,\"syscall_ns\":%llu,"
	     "\"connections_opened\":%llu,\"device_reads\":%llu,\"device_records\":%llu,"
	     "\"device_bytes\":%llu,\"published\":%llu,\"published_bytes\":%llu}",
	     (unsigned long long)r->cpu_ns, (unsigned long long)r->syscalls,
	     (unsigned long long)r->syscall_ns, (unsigned long long)r->conns_opened,
	     (unsigned long long)r->dev_reads, (unsigned long long)r->dev_records,
	     (unsigned long long)r->dev_bytes, (unsigned long long)r->published,
	     (unsigned long long)r->published_bytes);
	jput(&b, ",\"latency_ns\":{");
	for (i = 0; i < PUSH_LAT_MAX; i++) {
		const struct probe_lat *l = &r->lat[i];

		jput(&b, "%s\"%s\":{\"count\":%llu", i ? "," : "",
		     i == PUSH_LAT_PUBLISH ? "publish" : "device", (unsigned long long)l->count);
		jnum(&b, "mean", (double)l->sum_ns, (double)l->count);
		jput(&b, ",\"p50_le\":%llu,\"p99_le\":%llu,\"max\":%llu}",
		     (unsigned long long)l->p50_ns, (unsigned long long)l->p99_ns,
		     (unsigned long long)l->max_ns);
	}
	jput(&b, "}}");
	if (b.len >= cap)
		return 0;
	return b.len;
}

size_t probe_stats_json(char *out, size_t cap)
{
	struct probe_report r;

	if (probe_report_read(&r))
		return 0;
	return probe_report_json(&r, out, cap);
}
