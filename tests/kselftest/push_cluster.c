// SPDX-License-Identifier: GPL-2.0
/*
 * push_cluster - the kernel side of the cluster bridge (docs/CLUSTER.md):
 *
 *   - PUSH_IOC_SET_EPOCH sets the epoch seen by PUSH_IOC_INFO, sysfs and
 *     the mmap header, only while no id was given (EBUSY after), and
 *     repeating the same epoch always succeeds;
 *   - PUSH_IOC_PUBLISH_ID publishes with the caller's id and timestamp;
 *     ids must increase (EINVAL otherwise), and PUBLISH carries on after;
 *   - both need CAP_SYS_ADMIN (EPERM in a child that dropped it) and a
 *     file opened for writing (EBADF);
 *   - a jump in ids is one exact gap for read() readers, filtered or not,
 *     for lseek() into the skipped ids, and for mmap readers; a jump past
 *     the whole index leaves no stale entry a filter could count.
 *
 * /dev/push1 is kept for the epoch test (no message may be published on
 * it before); the rest uses /dev/push.  This boot's own parameters give
 * an index of 4096 entries (131072 / 40, rounded up to a power of two).
 *
 * vm-params: ring_size=131072 max_msg_size=4096 devices=3 ingress_size=16384
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "push_util.h"
#include "push_ring_reader.c"

#define PUSH1_DEV	"/dev/push1"
#define PUSH1_STATS	"/sys/class/misc/push1/stats/"
#define NDESCS		4096
#define BUF_SIZE	(64 << 10)

static int64_t pub_id(int fd, const char *chan, const char *data,
		      uint64_t id, uint64_t time_ns)
{
	struct push_publish p;
	size_t clen = strlen(chan);

	memset(&p, 0, sizeof(p));
	p.data = (uintptr_t)data;
	p.data_len = strlen(data);
	p.chan_len = clen;
	memcpy(p.channel, chan, clen);
	p.id = id;
	p.time_ns = time_ns;
	if (ioctl(fd, PUSH_IOC_PUBLISH_ID, &p))
		return -errno;
	return p.id;
}

static int set_epoch(int fd, uint64_t epoch)
{
	return ioctl(fd, PUSH_IOC_SET_EPOCH, &epoch) ? -errno : 0;
}

/* Reads what is ready into @m; returns the count or -errno. */
static int read_all(int fd, char *buf, struct push_msg *m, int max)
{
	return push_read_msgs(fd, buf, BUF_SIZE, m, max);
}

TEST(epoch)
{
	uint64_t e = 0x53545245414d3031ULL;	/* "STREAM01" */
	struct push_mmap_header *hdr;
	struct push_info info;
	int fd, ro;

	fd = open(PUSH1_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		SKIP(return, "no %s (load with devices=3)", PUSH1_DEV);
	ASSERT_EQ(0, push_get_info(fd, &info));
	ASSERT_EQ(1, info.next_id);
	ASSERT_NE(0, info.features & PUSH_FEAT_PUBLISH_ID);
	ASSERT_NE(e, info.epoch);
	ro = open(PUSH1_DEV, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	ASSERT_EQ(-EBADF, set_epoch(ro, e));
	ASSERT_EQ(-EINVAL, set_epoch(fd, 0));
	ASSERT_EQ(-EFAULT, ioctl(fd, PUSH_IOC_SET_EPOCH, (void *)8) ? -errno : 0);

	ASSERT_EQ(0, set_epoch(fd, e));
	ASSERT_EQ(0, push_get_info(fd, &info));
	ASSERT_EQ(e, info.epoch);
	ASSERT_EQ((int64_t)e, push_read_u64(PUSH1_STATS "epoch"));
	hdr = mmap(NULL, 4096, PROT_READ, MAP_SHARED, ro, 0);
	ASSERT_NE(MAP_FAILED, hdr);
	ASSERT_EQ(e, hdr->epoch);
	/* Still empty: another epoch is allowed. */
	ASSERT_EQ(0, set_epoch(fd, e + 1));
	ASSERT_EQ(e + 1, hdr->epoch);
	ASSERT_EQ(0, set_epoch(fd, e));

	ASSERT_EQ(1, push_pub(fd, "c", "x", 1, NULL));
	ASSERT_EQ(-EBUSY, set_epoch(fd, e + 1));
	ASSERT_EQ(0, set_epoch(fd, e));		/* a restarted bridge */
	ASSERT_EQ(0, push_get_info(fd, &info));
	ASSERT_EQ(e, info.epoch);
	ASSERT_EQ(e, hdr->epoch);
	munmap(hdr, 4096);
	close(ro);
	close(fd);
}

TEST(publish_id_order)
{
	char buf[BUF_SIZE];
	struct push_msg m[8];
	struct push_info info;
	uint64_t n;
	int fd, rd;

	fd = push_open(O_NONBLOCK);
	rd = push_open(O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, rd);
	ASSERT_LT(0, push_seek(rd, 0, SEEK_END));
	n = push_next_id(fd);
	ASSERT_LT(0, n);

	ASSERT_EQ(n, pub_id(fd, "bus", "one", n, 1234567890123ULL));
	ASSERT_EQ(-EINVAL, pub_id(fd, "bus", "dup", n, 0));
	ASSERT_EQ(-EINVAL, pub_id(fd, "bus", "old", n - 1, 0));
	ASSERT_EQ(-EINVAL, pub_id(fd, "bus", "zero", 0, 0));
	ASSERT_EQ(-EINVAL, pub_id(fd, "bus", "huge", 1ULL << 63, 0));
	ASSERT_EQ(-EINVAL, pub_id(fd, "bus", "max", UINT64_MAX, 0));
	ASSERT_EQ(n + 1, pub_id(fd, "bus", "two", n + 1, 0));
	/* A plain publish takes the next id. */
	ASSERT_EQ((int64_t)n + 2, push_pub(fd, "bus", "three", 5, NULL));
	ASSERT_EQ(0, push_get_info(fd, &info));
	ASSERT_EQ(n + 3, info.next_id);

	ASSERT_EQ(3, read_all(rd, buf, m, 8));
	ASSERT_EQ(n, m[0].id);
	ASSERT_EQ(1234567890123ULL, m[0].time_ns);
	ASSERT_EQ(3, m[0].len);
	ASSERT_EQ(0, memcmp(m[0].data, "one", 3));
	ASSERT_STREQ("bus", m[0].chan);
	ASSERT_EQ(n + 1, m[1].id);
	ASSERT_LT(1234567890123ULL, m[1].time_ns);	/* 0: now */
	ASSERT_EQ(0, memcmp(m[1].data, "two", 3));
	ASSERT_EQ(n + 2, m[2].id);
	ASSERT_EQ(-EAGAIN, read_all(rd, buf, m, 8));
	close(rd);
	close(fd);
}

TEST(privileged)
{
	int fd, ro, status;
	uint64_t n;
	pid_t pid;

	fd = push_open(0);
	ro = open(PUSH_DEV, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, ro);
	n = push_next_id(fd);
	ASSERT_EQ(-EBADF, pub_id(ro, "p", "ro", n, 0));
	ASSERT_EQ(-EBADF, set_epoch(ro, 7));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* Not root any more: every capability goes. */
		if (push_drop_to_nobody())
			_exit(10);
		if (pub_id(fd, "p", "nobody", n, 0) != -EPERM)
			_exit(11);
		if (set_epoch(fd, 7) != -EPERM)
			_exit(12);
		/* The unprivileged calls are unchanged. */
		if (push_pub(fd, "p", "plain", 5, NULL) != (int64_t)n)
			_exit(13);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(n + 1, push_next_id(fd));
	close(ro);
	close(fd);
}

/*
 * Ids n, n+1 published, then n+10: the retained messages go, and every
 * reader gets one gap with exact bounds and count.
 */
TEST(jump_gap)
{
	char buf[BUF_SIZE];
	struct push_msg m[8];
	int fd, all, fa, fb, late;
	struct push_info info;
	int64_t lost0;
	uint64_t n;

	fd = push_open(O_NONBLOCK);
	all = push_open(O_NONBLOCK);
	fa = push_open(O_NONBLOCK);
	fb = push_open(O_NONBLOCK);
	late = push_open(O_NONBLOCK);
	ASSERT_LE(0, late);
	ASSERT_LT(0, push_seek(all, 0, SEEK_END));
	ASSERT_LT(0, push_seek(fa, 0, SEEK_END));
	ASSERT_LT(0, push_seek(fb, 0, SEEK_END));
	ASSERT_EQ(0, push_set_filter(fa, "ja"));
	ASSERT_EQ(0, push_set_filter(fb, "jb"));
	n = push_next_id(fd);
	ASSERT_EQ(n, pub_id(fd, "ja", "a0", n, 0));
	ASSERT_EQ(n + 1, pub_id(fd, "jb", "b1", n + 1, 0));
	ASSERT_EQ(n + 2, pub_id(fd, "ja", "a2", n + 2, 0));
	/* "all" has read n and n + 1 (two 40-byte records); fa, fb nothing. */
	ASSERT_EQ(2, push_read_msgs(all, buf, 80, m, 8));
	ASSERT_EQ(n + 1, m[1].id);
	lost0 = push_stat("lost");

	ASSERT_EQ(n + 10, pub_id(fd, "ja", "a10", n + 10, 0));
	ASSERT_EQ(0, push_get_info(fd, &info));
	ASSERT_EQ(n + 10, info.oldest_id);
	ASSERT_EQ(n + 11, info.next_id);
	ASSERT_EQ(1, info.retained);

	ASSERT_EQ(2, read_all(all, buf, m, 8));
	ASSERT_EQ(PUSH_REC_GAP, m[0].type);
	ASSERT_EQ(n + 2, m[0].id);
	ASSERT_EQ(n + 10, m[0].gap_next);
	ASSERT_EQ(8, m[0].gap_lost);
	ASSERT_EQ(PUSH_REC_MSG, m[1].type);
	ASSERT_EQ(n + 10, m[1].id);
	ASSERT_EQ(0, memcmp(m[1].data, "a10", 3));

	/* Its channel lost a0 and a2: two; the skipped ids were not its. */
	ASSERT_EQ(2, read_all(fa, buf, m, 8));
	ASSERT_EQ(PUSH_REC_GAP, m[0].type);
	ASSERT_EQ(n, m[0].id);
	ASSERT_EQ(n + 10, m[0].gap_next);
	ASSERT_EQ(2, m[0].gap_lost);
	ASSERT_EQ(n + 10, m[1].id);
	ASSERT_EQ(1, read_all(fb, buf, m, 8));
	ASSERT_EQ(PUSH_REC_GAP, m[0].type);
	ASSERT_EQ(1, m[0].gap_lost);
	ASSERT_EQ(-EAGAIN, read_all(fb, buf, m, 8));
	ASSERT_EQ(lost0 + 8 + 2 + 1, push_stat("lost"));

	/* lseek() into the skipped ids: a gap of exactly the rest. */
	ASSERT_EQ(n + 5, push_seek(late, n + 5, SEEK_SET));
	ASSERT_EQ(2, read_all(late, buf, m, 8));
	ASSERT_EQ(n + 5, m[0].id);
	ASSERT_EQ(5, m[0].gap_lost);
	ASSERT_EQ(n + 10, m[1].id);
	ASSERT_EQ(0, push_set_filter(late, "ja"));
	ASSERT_EQ(n + 5, push_seek(late, n + 5, SEEK_SET));
	ASSERT_EQ(1, read_all(late, buf, m, 8));
	ASSERT_EQ(PUSH_REC_MSG, m[0].type);
	ASSERT_EQ(n + 10, m[0].id);
	ASSERT_EQ(n + 1, push_seek(late, n + 1, SEEK_SET));
	ASSERT_EQ(2, read_all(late, buf, m, 8));
	ASSERT_EQ(PUSH_REC_GAP, m[0].type);
	ASSERT_EQ(1, m[0].gap_lost);		/* a2 */
	ASSERT_EQ(n + 10, m[1].id);

	/* Ids carry on after the jump, for plain publishes too. */
	ASSERT_EQ((int64_t)n + 11, push_pub(fd, "ja", "a11", 3, NULL));
	ASSERT_EQ(1, read_all(all, buf, m, 8));
	ASSERT_EQ(n + 11, m[0].id);
	close(late);
	close(fb);
	close(fa);
	close(all);
	close(fd);
}

/*
 * A jump past the whole index (more than NDESCS ids) clears every entry:
 * a filtered reader lseek()ing back counts none of the old channel's
 * entries as its own, and the index fills up again without a stale one.
 */
TEST(jump_past_index)
{
	char buf[BUF_SIZE];
	struct push_msg m[8];
	int fd, f, i;
	uint64_t n, j;

	fd = push_open(O_NONBLOCK);
	f = push_open(O_NONBLOCK);
	ASSERT_LE(0, f);
	ASSERT_EQ(0, push_set_filter(f, "big"));
	ASSERT_LT(0, push_seek(f, 0, SEEK_END));
	n = push_next_id(fd);
	/* Fill the index with "big" entries, whose ids get reused below. */
	for (i = 0; i < NDESCS; i++)
		ASSERT_EQ((int64_t)n + i, push_pub(fd, "big", "x", 1, NULL));
	j = n + NDESCS + 3 * NDESCS + 17;
	ASSERT_EQ(j, pub_id(fd, "small", "s", j, 0));
	/* Every "big" message is gone: all NDESCS of them are the loss. */
	ASSERT_EQ(1, read_all(f, buf, m, 8));
	ASSERT_EQ(PUSH_REC_GAP, m[0].type);
	ASSERT_EQ(n, m[0].id);
	ASSERT_EQ(j, m[0].gap_next);
	ASSERT_EQ(NDESCS, m[0].gap_lost);
	/* Seeking into the skipped ids: no "big" message there. */
	ASSERT_EQ(j - NDESCS + 1, push_seek(f, j - NDESCS + 1, SEEK_SET));
	ASSERT_EQ(-EAGAIN, read_all(f, buf, m, 8));
	ASSERT_EQ(j - 1, push_seek(f, j - 1, SEEK_SET));
	ASSERT_EQ(-EAGAIN, read_all(f, buf, m, 8));
	/* Plain publishes reuse the cleared entries. */
	for (i = 1; i <= 16; i++)
		ASSERT_EQ((int64_t)j + i, push_pub(fd, i % 2 ? "big" : "small",
						   "y", 1, NULL));
	ASSERT_EQ(j + 1, push_seek(f, j + 1, SEEK_SET));
	ASSERT_EQ(8, read_all(f, buf, m, 8));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(PUSH_REC_MSG, m[i].type);
		ASSERT_EQ(j + 1 + 2 * i, m[i].id);
	}
	close(f);
	close(fd);
}

/* An mmap reader sees published-with-id records and one exact gap. */
TEST(mmap_reader)
{
	static char out[BUF_SIZE];
	struct push_ring ring;
	struct push_msg m[8];
	uint64_t n;
	ssize_t len;
	int fd;

	fd = push_open(O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, push_ring_open(&ring, fd));
	push_ring_seek_end(&ring);
	n = push_next_id(fd);
	ASSERT_EQ(n, pub_id(fd, "mm", "m0", n, 42));
	len = push_ring_read(&ring, out, sizeof(out));
	ASSERT_LT(0, len);
	ASSERT_EQ(1, push_parse(out, len, m, 8));
	ASSERT_EQ(n, m[0].id);
	ASSERT_EQ(42, m[0].time_ns);

	ASSERT_EQ(n + 1, pub_id(fd, "mm", "m1", n + 1, 43));
	ASSERT_EQ(n + 7, pub_id(fd, "mm", "m7", n + 7, 44));
	ASSERT_EQ(n + 8, pub_id(fd, "mm", "m8", n + 8, 45));
	len = push_ring_read(&ring, out, sizeof(out));
	ASSERT_LT(0, len);
	ASSERT_EQ(3, push_parse(out, len, m, 8));
	ASSERT_EQ(PUSH_REC_GAP, m[0].type);
	ASSERT_EQ(n + 1, m[0].id);
	ASSERT_EQ(n + 7, m[0].gap_next);
	ASSERT_EQ(6, m[0].gap_lost);
	ASSERT_EQ(n + 7, m[1].id);
	ASSERT_EQ(44, m[1].time_ns);
	ASSERT_EQ(0, memcmp(m[1].data, "m7", 2));
	ASSERT_EQ(n + 8, m[2].id);
	ASSERT_EQ(0, push_ring_read(&ring, out, sizeof(out)));
	push_ring_close(&ring);
	close(fd);
}

TEST_HARNESS_MAIN
