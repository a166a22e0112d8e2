// SPDX-License-Identifier: GPL-2.0
/*
 * push_counters - the device's state as user space sees it: the global
 * counters in /sys/class/misc/push/stats/, PUSH_IOC_INFO,
 * PUSH_IOC_CHAN_INFO, the debugfs channel list and the tracepoints.
 *
 * Nothing else may use /dev/push while this runs (counters are global).
 * Run as root with the module loaded: build/tests/kselftest/push_counters
 */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "kselftest_harness.h"
#include "push_util.h"

#define DEBUGFS		"/sys/kernel/debug"
#define DEBUGFS_MAGIC_NR 0x64626720	/* from linux/magic.h */
#define TRACEFS		"/sys/kernel/tracing"
#define TRACEFS_MAGIC_NR 0x74726163
#define PUSH_EVENTS	TRACEFS "/events/push"

FIXTURE(counters) {
	int fd;
};

FIXTURE_SETUP(counters)
{
	struct stat st;

	self->fd = push_open(0);
	ASSERT_NE(-1, self->fd);
	if (stat(PUSH_STATS "messages", &st))
		SKIP(return, "no " PUSH_STATS);
}

FIXTURE_TEARDOWN(counters)
{
	close(self->fd);
}

/* messages and bytes count every accepted publish and its payload bytes. */
TEST_F(counters, messages_and_bytes)
{
	int64_t msgs = push_stat("messages"), bytes = push_stat("bytes");

	ASSERT_LE(0, msgs);
	ASSERT_LE(0, bytes);
	ASSERT_LT(0, push_pub(self->fd, "cnt", "12345", 5, NULL));
	ASSERT_EQ(strlen("@cnt abc\n"), push_write_str(self->fd, "@cnt abc\n"));
	ASSERT_EQ(strlen("default!"), push_write_str(self->fd, "default!"));
	ASSERT_EQ(msgs + 3, push_stat("messages"));
	ASSERT_EQ(bytes + 5 + 3 + 8, push_stat("bytes"));
	/* Rejected publishes count in neither. */
	ASSERT_EQ(-1, write(self->fd, "\n", 1));
	ASSERT_EQ(msgs + 3, push_stat("messages"));
	ASSERT_EQ(bytes + 16, push_stat("bytes"));
}

/* rejected counts every refused publish, by write or ioctl. */
TEST_F(counters, rejected)
{
	int64_t rej = push_stat("rejected");

	ASSERT_LE(0, rej);
	ASSERT_EQ(-1, write(self->fd, "", 0));
	ASSERT_EQ(-1, write(self->fd, "@bad/name x", 11));
	ASSERT_EQ(-EINVAL, push_pub(self->fd, "a b", "x", 1, NULL));
	ASSERT_EQ(rej + 3, push_stat("rejected"));
	/* A good publish leaves it alone. */
	ASSERT_LT(0, push_pub(self->fd, "cnt", "x", 1, NULL));
	ASSERT_EQ(rej + 3, push_stat("rejected"));
}

/* readers is the number of open files of the device. */
TEST_F(counters, readers_open)
{
	int64_t base = push_stat("readers");
	int a, b;

	ASSERT_LE(1, base);
	a = push_open(0);
	ASSERT_NE(-1, a);
	b = push_open(O_NONBLOCK);
	ASSERT_NE(-1, b);
	ASSERT_EQ(base + 2, push_stat("readers"));
	close(a);
	ASSERT_EQ(base + 1, push_stat("readers"));
	close(b);
	ASSERT_EQ(base, push_stat("readers"));
}

/* The sysfs view of the ring agrees with PUSH_IOC_INFO. */
TEST_F(counters, info_matches_sysfs)
{
	struct push_info info;
	int64_t id;

	id = push_pub(self->fd, "cnt", "i", 1, NULL);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, push_get_info(self->fd, &info));
	ASSERT_EQ(id + 1, info.next_id);
	ASSERT_LE(info.oldest_id, id);
	ASSERT_EQ(info.next_id - info.oldest_id, info.retained);
	ASSERT_LE(info.ring_used, info.ring_size);
	ASSERT_LT(0, info.ring_used);
	ASSERT_LE(1, info.channels);
	ASSERT_EQ(push_param("max_msg_size"), info.max_msg_size);
	ASSERT_EQ(info.next_id, push_stat("next_id"));
	ASSERT_EQ(info.oldest_id, push_stat("oldest_id"));
	ASSERT_EQ(info.retained, push_stat("retained"));
	ASSERT_EQ(info.ring_used, push_stat("ring_used"));
	ASSERT_EQ(info.ring_size, push_stat("ring_size"));
	ASSERT_EQ(info.channels, push_stat("channels"));
	ASSERT_EQ(0, info.reserved);
	/* The epoch: random, nonzero, the same in sysfs. */
	ASSERT_NE(0, info.epoch);
	ASSERT_EQ((int64_t)info.epoch, push_stat("epoch"));
	ASSERT_EQ(PUSH_ABI_VERSION, info.version);
	ASSERT_EQ(PUSH_ABI_VERSION, push_stat("version"));
	ASSERT_NE(0, info.features & PUSH_FEAT_EPOCH);
	ASSERT_NE(0, info.features & PUSH_FEAT_MMAP);
	ASSERT_EQ(info.ring_size + 4096, info.mmap_size);
}

/* PUSH_IOC_CHAN_INFO counts one channel's messages and bytes. */
TEST_F(counters, chan_info)
{
	struct push_chan_info ci = { 0 };
	char name[32];
	int64_t id;

	snprintf(name, sizeof(name), "ci%d", getpid());
	ci.chan_len = strlen(name);
	memcpy(ci.channel, name, ci.chan_len);
	/* Never published: ENOENT. */
	ASSERT_EQ(-1, ioctl(self->fd, PUSH_IOC_CHAN_INFO, &ci));
	ASSERT_EQ(ENOENT, errno);

	ASSERT_LT(0, push_pub(self->fd, name, "abc", 3, NULL));
	id = push_pub(self->fd, name, "defgh", 5, NULL);
	ASSERT_LT(0, id);
	ASSERT_LT(0, push_pub(self->fd, "cnt_other", "zz", 2, NULL));
	ASSERT_EQ(0, ioctl(self->fd, PUSH_IOC_CHAN_INFO, &ci));
	ASSERT_EQ(id, ci.last_id);
	ASSERT_EQ(2, ci.published);
	ASSERT_EQ(8, ci.bytes);
	/* Both still retained: the ring holds far more than three. */
	ASSERT_EQ(2, ci.retained);

	/* Bad names: EINVAL. */
	ci.chan_len = 3;
	memcpy(ci.channel, "a/b", 3);
	ASSERT_EQ(-1, ioctl(self->fd, PUSH_IOC_CHAN_INFO, &ci));
	ASSERT_EQ(EINVAL, errno);
	ci.chan_len = 0;
	ASSERT_EQ(-1, ioctl(self->fd, PUSH_IOC_CHAN_INFO, &ci));
	ASSERT_EQ(EINVAL, errno);
	ci.chan_len = PUSH_CHANNEL_MAX + 1;
	ASSERT_EQ(-1, ioctl(self->fd, PUSH_IOC_CHAN_INFO, &ci));
	ASSERT_EQ(EINVAL, errno);
}

/* debugfs lists every channel with its counters. */
TEST_F(counters, debugfs_channels)
{
	char name[32], line[256], chan[80];
	unsigned long long pub, ret, bytes, last;
	struct statfs sfs;
	int64_t id;
	int found = 0;
	FILE *f;

	if (statfs(DEBUGFS, &sfs) || sfs.f_type != DEBUGFS_MAGIC_NR) {
		if (mount("debugfs", DEBUGFS, "debugfs", 0, NULL))
			SKIP(return, "debugfs not mounted: %s", strerror(errno));
	}
	snprintf(name, sizeof(name), "dbg%d", getpid());
	id = push_pub(self->fd, name, "1234", 4, NULL);
	ASSERT_LT(0, id);
	f = fopen(DEBUGFS "/push/channels", "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%79s %llu %llu %llu %llu", chan, &pub, &ret,
			   &bytes, &last) != 5)
			continue;
		if (strcmp(chan, name))
			continue;
		found++;
		ASSERT_EQ(1, pub);
		ASSERT_EQ(4, bytes);
		ASSERT_EQ(id, last);
		/* Its one message is still in the (default, large) ring. */
		ASSERT_EQ(1, ret);
	}
	fclose(f);
	ASSERT_EQ(1, found);
}

/* The push tracepoints: their fields, and one event per publish/read. */
FIXTURE(trace) {
	int fd;
	int ok;
};

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Returns 1 if @event's format file declares @field. */
static int has_field(const char *event, const char *field)
{
	char path[256], line[256], want[80];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), PUSH_EVENTS "/%s/format", event);
	f = fopen(path, "re");
	if (!f)
		return 0;
	snprintf(want, sizeof(want), " %s;", field);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "field:") && strstr(line, want);
	fclose(f);
	return found;
}

FIXTURE_SETUP(trace)
{
	struct statfs sfs;
	struct stat st;

	self->fd = push_open(O_NONBLOCK);
	ASSERT_NE(-1, self->fd);
	if (statfs(TRACEFS, &sfs) || sfs.f_type != TRACEFS_MAGIC_NR) {
		if (mount("tracefs", TRACEFS, "tracefs", 0, NULL))
			SKIP(return, "tracefs not mounted: %s", strerror(errno));
	}
	if (stat(PUSH_EVENTS, &st))
		SKIP(return, "no " PUSH_EVENTS);
	self->ok = 1;
}

FIXTURE_TEARDOWN(trace)
{
	if (self->ok) {
		write_file(PUSH_EVENTS "/enable", "0");
		write_file(TRACEFS "/trace", "");
	}
	close(self->fd);
}

/* Each tracepoint declares the fields docs/ABI.txt promises. */
TEST_F(trace, fields)
{
	static const char *const want[][2] = {
		{ "push_publish", "id" }, { "push_publish", "write_ns" },
		{ "push_publish", "commit_ns" }, { "push_publish", "len" },
		{ "push_publish", "chan" },
		{ "push_read", "first_id" }, { "push_read", "last_id" },
		{ "push_read", "bytes" }, { "push_read", "count" },
		{ "push_record_read", "id" }, { "push_record_read", "age_ns" },
	};
	unsigned int i;

	if (!self->ok)
		return;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		int found = has_field(want[i][0], want[i][1]);

		if (!found)
			TH_LOG("event %s has no field %s", want[i][0], want[i][1]);
		ASSERT_EQ(1, found);
	}
}

/* A publish and a read of two records fire the events with their values. */
TEST_F(trace, events_fire)
{
	unsigned long long a, b, c, d, wns = 0, cns = 0;
	int pubs = 0, reads = 0, recs = 0;
	char line[512], chan[80], buf[4096];
	int64_t cur, id;
	unsigned int len;
	FILE *f;
	char *p;

	if (!self->ok)
		return;
	ASSERT_EQ(0, write_file(TRACEFS "/trace", ""));
	ASSERT_EQ(0, write_file(PUSH_EVENTS "/enable", "1"));
	cur = push_seek(self->fd, 0, SEEK_END);
	ASSERT_LT(0, cur);
	id = push_pub(self->fd, "trc", "abc", 3, NULL);
	ASSERT_EQ(cur, id);
	ASSERT_EQ(6, push_write_str(self->fd, "@trc d"));
	ASSERT_EQ(2 * (PUSH_HDR + 8), read(self->fd, buf, sizeof(buf)));
	ASSERT_EQ(0, write_file(PUSH_EVENTS "/enable", "0"));

	f = fopen(TRACEFS "/trace", "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if ((p = strstr(line, "push_publish: "))) {
			ASSERT_EQ(5, sscanf(p, "push_publish: id=%llu len=%u chan=%79s write_ns=%llu commit_ns=%llu",
					    &a, &len, chan, &wns, &cns));
			ASSERT_EQ(id + pubs, a);
			ASSERT_EQ(pubs ? 1 : 3, len);
			ASSERT_STREQ("trc", chan);
			ASSERT_LE(wns, cns);
			pubs++;
		} else if ((p = strstr(line, "push_read: "))) {
			ASSERT_EQ(4, sscanf(p, "push_read: first_id=%llu last_id=%llu count=%llu bytes=%llu",
					    &a, &b, &c, &d));
			ASSERT_EQ(id, a);
			ASSERT_EQ(id + 1, b);
			ASSERT_EQ(2, c);
			ASSERT_EQ(2 * (PUSH_HDR + 8), d);
			reads++;
		} else if ((p = strstr(line, "push_record_read: "))) {
			ASSERT_EQ(2, sscanf(p, "push_record_read: id=%llu age_ns=%llu",
					    &a, &b));
			ASSERT_EQ(id + recs, a);
			ASSERT_LT(0, b);
			recs++;
		}
	}
	fclose(f);
	ASSERT_EQ(2, pubs);
	ASSERT_EQ(1, reads);
	ASSERT_EQ(2, recs);
}

TEST_HARNESS_MAIN
