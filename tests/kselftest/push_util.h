/* SPDX-License-Identifier: GPL-2.0 */
/*
 * push_util.h - helpers shared by the /dev/push kselftests.
 *
 * Every helper returns a value or -errno and never asserts, so tests keep
 * ASSERT_EQ(expected, seen) in their own bodies and threads can use them.
 * The device is shared by all tests of a boot: a test that counts messages
 * first moves its reader to the end (lseek SEEK_END) or compares ids.
 */
#ifndef PUSH_UTIL_H
#define PUSH_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/push.h>

#define PUSH_DEV	"/dev/push"
#define PUSH_PARAMS	"/sys/module/push/parameters/"
#define PUSH_STATS	"/sys/class/misc/push/stats/"
#define PUSH_HDR	((size_t)sizeof(struct push_record))

/* One parsed record; data points into the read buffer. */
struct push_msg {
	uint64_t id;
	uint64_t time_ns;
	uint16_t type;
	uint8_t chan_len;
	char chan[PUSH_CHANNEL_MAX + 1];
	const unsigned char *data;
	size_t len;
	uint64_t gap_next;	/* PUSH_REC_GAP only */
	uint64_t gap_lost;	/* PUSH_REC_GAP only */
};

static inline int push_open(int flags)
{
	return open(PUSH_DEV, O_RDWR | O_CLOEXEC | flags);
}

/* Fills @info; returns 0 or -errno. */
static inline int push_get_info(int fd, struct push_info *info)
{
	memset(info, 0, sizeof(*info));
	return ioctl(fd, PUSH_IOC_INFO, info) ? -errno : 0;
}

/* Next id the device will give, or 0 on error. */
static inline uint64_t push_next_id(int fd)
{
	struct push_info info;

	return push_get_info(fd, &info) ? 0 : info.next_id;
}

/* Binary publish; returns the new id (> 0) or -errno.  @out may be NULL. */
static inline int64_t push_pub(int fd, const char *chan, const void *data,
			       size_t len, struct push_publish *out)
{
	struct push_publish pub, *p = out ? out : &pub;
	size_t clen = strlen(chan);

	memset(p, 0, sizeof(*p));
	if (clen > sizeof(p->channel))
		return -ENAMETOOLONG;
	p->data = (uintptr_t)data;
	p->data_len = len;
	p->chan_len = clen;
	memcpy(p->channel, chan, clen);
	if (ioctl(fd, PUSH_IOC_PUBLISH, p))
		return -errno;
	return p->id;
}

/* write() of a NUL-terminated string; returns bytes written or -errno. */
static inline ssize_t push_write_str(int fd, const char *s)
{
	ssize_t n = write(fd, s, strlen(s));

	return n < 0 ? -errno : n;
}

/* Sets the channel filter from a comma-separated list; 0 or -errno. */
static inline int push_set_filter(int fd, const char *names)
{
	struct push_filter f = {
		.names = (uintptr_t)names,
		.len = names ? strlen(names) : 0,
	};

	return ioctl(fd, PUSH_IOC_SET_FILTER, &f) ? -errno : 0;
}

/* Moves the cursor; returns the new cursor id or -errno. */
static inline int64_t push_seek(int fd, int64_t id, int whence)
{
	off_t r = lseek(fd, id, whence);

	return r < 0 ? -errno : r;
}

/*
 * Parses the records of one read() result into @m, stopping after @max.
 * Returns the number parsed, or -EPROTO if a record is malformed: a size
 * not a multiple of PUSH_RECORD_ALIGN, too small for its contents, or
 * reaching past @n; flags, reserved or padding bytes not zero; a gap with
 * a time or a channel; a PUSH_REC_PAD record (only inside the mmap'd ring,
 * never in what read() or push_ring_read() returns).  Records of unknown
 * types are skipped, as the ABI asks.
 */
static inline int push_parse(const void *buf, size_t n, struct push_msg *m,
			     int max)
{
	const unsigned char *p = buf;
	size_t off = 0;
	int cnt = 0;

	while (off < n) {
		struct push_record r;
		const unsigned char *body;

		if (n - off < PUSH_HDR)
			return -EPROTO;
		memcpy(&r, p + off, sizeof(r));
		if (r.size % PUSH_RECORD_ALIGN || r.size > n - off ||
		    r.size < PUSH_HDR + r.chan_len + r.data_len)
			return -EPROTO;
		/* Padding must be whole: nothing more than alignment needs. */
		if (r.size - (PUSH_HDR + r.chan_len + r.data_len) >=
		    PUSH_RECORD_ALIGN)
			return -EPROTO;
		body = p + off + PUSH_HDR;
		if (r.flags || r.reserved || r.type == PUSH_REC_PAD)
			return -EPROTO;
		for (size_t i = PUSH_HDR + r.chan_len + r.data_len; i < r.size; i++)
			if (p[off + i])
				return -EPROTO;
		if (r.type == PUSH_REC_MSG || r.type == PUSH_REC_GAP) {
			struct push_msg *o;

			if (cnt >= max)
				break;
			o = &m[cnt++];
			memset(o, 0, sizeof(*o));
			o->id = r.id;
			o->time_ns = r.time_ns;
			o->type = r.type;
			o->chan_len = r.chan_len;
			if (r.chan_len > PUSH_CHANNEL_MAX)
				return -EPROTO;
			memcpy(o->chan, body, r.chan_len);
			o->data = body + r.chan_len;
			o->len = r.data_len;
			if (r.type == PUSH_REC_GAP) {
				struct push_gap g;

				if (r.data_len != sizeof(g) || r.chan_len ||
				    r.time_ns)
					return -EPROTO;
				memcpy(&g, o->data, sizeof(g));
				o->gap_next = g.next_id;
				o->gap_lost = g.lost;
			}
		}
		off += r.size;
	}
	return cnt;
}

/* One read() parsed into @m; returns records or -errno. */
static inline int push_read_msgs(int fd, void *buf, size_t size,
				 struct push_msg *m, int max)
{
	ssize_t n = read(fd, buf, size);

	if (n < 0)
		return -errno;
	if (n == 0)
		return -ENODATA;
	return push_parse(buf, n, m, max);
}

/* Reads an unsigned decimal from a sysfs file; returns it or -errno. */
static inline int64_t push_read_u64(const char *path)
{
	char buf[64], *end;
	unsigned long long v;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -ENODATA;
	buf[n] = '\0';
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n'))
		return -EINVAL;
	return (int64_t)v;
}

/* A module parameter (e.g. "ring_size"), or -errno. */
static inline int64_t push_param(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), PUSH_PARAMS "%s", name);
	return push_read_u64(path);
}

/* A global counter of /sys/class/misc/push/stats/, or -errno. */
static inline int64_t push_stat(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), PUSH_STATS "%s", name);
	return push_read_u64(path);
}

static inline uint64_t push_now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* The text of /proc/self/task/@tid/@what into @buf (@len): its length, or -1 (gone). */
static inline ssize_t push_task_file(pid_t tid, const char *what, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/%s", (int)tid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n > 0 ? n : 0;
}

/*
 * push_wait_asleep(tid, nr): wait (20 s at most) until thread @tid of this
 * process sleeps inside syscall @nr, as /proc/self/task/TID/syscall and
 * stat tell.  Returns 0 once it does, -1 on timeout.  Lets a test act on a
 * blocked read(), poll() or epoll_wait() without guessing how long getting
 * there takes on a slow host.
 */
static inline int push_wait_asleep(pid_t tid, long nr)
{
	char buf[256], *p;
	ssize_t n;
	int i;

	for (i = 0; i < 20000; i++, usleep(1000)) {
		n = push_task_file(tid, "syscall", buf, sizeof(buf));
		if (n < 0)
			return -1;
		if (buf[0] < '0' || buf[0] > '9' || strtol(buf, NULL, 10) != nr)
			continue;
		n = push_task_file(tid, "stat", buf, sizeof(buf));
		if (n < 0)
			return -1;
		/* "pid (comm) S ...": the state follows the last ')'. */
		p = strrchr(buf, ')');
		if (p && p[1] == ' ' && p[2] == 'S')
			return 0;
	}
	return -1;
}

/*
 * push_drop_to_nobody(): this process becomes uid and gid 65534, losing
 * every capability (call it in a forked child).  Returns 0, or -1.
 */
static inline int push_drop_to_nobody(void)
{
	return setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534) ? -1 : 0;
}

/*
 * Publishes @len-byte messages on @chan until the oldest retained id is
 * past @id, i.e. until message @id has been overwritten.  Ids published
 * are stored in @ids (if not NULL, up to @max).  Returns how many were
 * published, or -errno.  Nothing else may publish meanwhile.
 */
static inline int64_t push_wrap_past(int fd, uint64_t id, const char *chan,
				     size_t len, uint64_t *ids, size_t max)
{
	struct push_info info;
	int64_t n = 0, r;
	char *data;

	data = malloc(len);
	if (!data)
		return -ENOMEM;
	memset(data, 'w', len);
	for (;;) {
		r = push_get_info(fd, &info);
		if (r)
			break;
		if (info.oldest_id > id) {
			r = n;
			break;
		}
		r = push_pub(fd, chan, data, len, NULL);
		if (r < 0)
			break;
		if (ids && (size_t)n < max)
			ids[n] = r;
		n++;
	}
	free(data);
	return r;
}

/* FNV-1a, the payload checksum of the stress tests. */
static inline uint32_t push_fnv1a(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *c++) * 16777619u;
	return h;
}

#endif /* PUSH_UTIL_H */
