// SPDX-License-Identifier: GPL-2.0
/*
 * push_uring - Description: io_uring reads of /dev/push are poll-driven.
 *
 * The device sets FMODE_NOWAIT and its read_iter honours IOCB_NOWAIT, so
 * io_uring first tries a non-blocking read and, when nothing is ready,
 * arms a poll on the file instead of handing the read to an io-wq worker
 * thread ("iou-wrk-<pid>").  These tests read when data is ready, when it
 * arrives later, and with many reads pending, and check that no worker
 * thread ever appears in /proc/self/task, also while writers hammer the
 * device (so that a read's retry after a ready poll meets publishers
 * mid-commit: it must still not need a lock).  Needs CONFIG_IO_URING; skips
 * if io_uring is unavailable.
 *
 * Run as root with the module loaded: build/tests/kselftest/push_uring
 */
#include <dirent.h>
#include <liburing.h>
#include <pthread.h>

#include "kselftest_harness.h"
#include "push_util.h"

#define BUF_SIZE	(64 << 10)
#define MAX_MSGS	256
#define PENDING		8

/* Counts this process's io-wq worker threads. */
static int count_iou_workers(void)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir("/proc/self/task");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[300], comm[64] = "";
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;	/* the thread just exited */
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "iou-wrk", 7))
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

FIXTURE(uring) {
	struct io_uring ring;
	int ring_ok;
	int fd;			/* publisher */
	int rd[PENDING];	/* blocking readers, at the end */
	uint64_t start;
	char *buf[PENDING];
	struct push_msg m[MAX_MSGS];
};

FIXTURE_VARIANT(uring) {
	int64_t offset;		/* read offset: -1 file position, or 0 */
};

/* The cursor is the reader's own, whatever offset io_uring passes. */
FIXTURE_VARIANT_ADD(uring, offset_current) { -1 };
FIXTURE_VARIANT_ADD(uring, offset_zero) { 0 };

FIXTURE_SETUP(uring)
{
	int i, ret;

	self->fd = push_open(0);
	ASSERT_NE(-1, self->fd);
	for (i = 0; i < PENDING; i++) {
		self->rd[i] = push_open(0);
		ASSERT_NE(-1, self->rd[i]);
		self->start = push_seek(self->rd[i], 0, SEEK_END);
		ASSERT_LT(0, self->start);
		self->buf[i] = malloc(BUF_SIZE);
		ASSERT_NE(NULL, self->buf[i]);
	}
	ret = io_uring_queue_init(2 * PENDING, &self->ring, 0);
	if (ret == -ENOSYS || ret == -EPERM || ret == -EOPNOTSUPP)
		SKIP(return, "io_uring unavailable: %s", strerror(-ret));
	ASSERT_EQ(0, ret);
	self->ring_ok = 1;
}

FIXTURE_TEARDOWN(uring)
{
	int i;

	if (self->ring_ok)
		io_uring_queue_exit(&self->ring);
	for (i = 0; i < PENDING; i++) {
		close(self->rd[i]);
		free(self->buf[i]);
	}
	close(self->fd);
}

/* Queues a read of reader @i, user_data @i; returns 0 or -errno. */
static int queue_read(FIXTURE_DATA(uring) *self, int i, int64_t offset)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&self->ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_read(sqe, self->rd[i], self->buf[i], BUF_SIZE, offset);
	io_uring_sqe_set_data64(sqe, i);
	return 0;
}

/* Waits up to @ms for a completion; returns its result or -ETIME. */
static int wait_one(FIXTURE_DATA(uring) *self, int ms, uint64_t *data)
{
	struct __kernel_timespec ts = { .tv_sec = ms / 1000,
					.tv_nsec = (ms % 1000) * 1000000ll };
	struct io_uring_cqe *cqe;
	int ret;

	ret = io_uring_wait_cqe_timeout(&self->ring, &cqe, &ts);
	if (ret)
		return ret;
	ret = cqe->res;
	*data = io_uring_cqe_get_data64(cqe);
	io_uring_cqe_seen(&self->ring, cqe);
	return ret;
}

/* With records ready, the read completes at once with whole records. */
TEST_F(uring, read_ready)
{
	uint64_t data = ~0ull;
	int i, res;

	if (!self->ring_ok)
		return;
	for (i = 0; i < 5; i++)
		ASSERT_LT(0, push_pub(self->fd, "ur", "ready", 5, NULL));
	ASSERT_EQ(0, queue_read(self, 0, variant->offset));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	res = wait_one(self, 5000, &data);
	ASSERT_LT(0, res);
	ASSERT_EQ(0, data);
	ASSERT_EQ(5, push_parse(self->buf[0], res, self->m, MAX_MSGS));
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(self->start + i, self->m[i].id);
		ASSERT_STREQ("ur", self->m[i].chan);
		ASSERT_EQ(0, memcmp("ready", self->m[i].data, 5));
	}
	ASSERT_EQ(self->start + 5, push_seek(self->rd[0], 0, SEEK_CUR));
	ASSERT_EQ(0, count_iou_workers());
}

/*
 * With nothing ready, the read stays pending without a worker thread and
 * completes when a message is published.
 */
TEST_F(uring, read_later)
{
	struct io_uring_cqe *cqe;
	uint64_t data = ~0ull;
	int64_t id;
	int res;

	if (!self->ring_ok)
		return;
	ASSERT_EQ(0, queue_read(self, 0, variant->offset));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	usleep(200000);
	/* Still pending, and parked on a poll rather than in io-wq. */
	ASSERT_EQ(-EAGAIN, io_uring_peek_cqe(&self->ring, &cqe));
	ASSERT_EQ(0, count_iou_workers());

	id = push_pub(self->fd, "ur", "later", 5, NULL);
	ASSERT_LT(0, id);
	res = wait_one(self, 5000, &data);
	ASSERT_LT(0, res);
	ASSERT_EQ(1, push_parse(self->buf[0], res, self->m, MAX_MSGS));
	ASSERT_EQ(id, self->m[0].id);
	ASSERT_EQ(0, memcmp("later", self->m[0].data, 5));
	ASSERT_EQ(0, count_iou_workers());
}

/*
 * Many pending reads on many readers: one publish completes them all, and
 * re-armed reads of a stream keep working, with no worker ever.
 */
TEST_F(uring, many_pending)
{
	int seen[PENDING] = { 0 }, round, i, res;
	struct io_uring_cqe *cqe;
	uint64_t data = ~0ull;
	int64_t id;

	if (!self->ring_ok)
		return;
	for (round = 0; round < 3; round++) {
		for (i = 0; i < PENDING; i++)
			ASSERT_EQ(0, queue_read(self, i, variant->offset));
		ASSERT_EQ(PENDING, io_uring_submit(&self->ring));
		usleep(100000);
		ASSERT_EQ(-EAGAIN, io_uring_peek_cqe(&self->ring, &cqe));
		ASSERT_EQ(0, count_iou_workers());

		id = push_pub(self->fd, "many", "x", 1, NULL);
		ASSERT_LT(0, id);
		memset(seen, 0, sizeof(seen));
		for (i = 0; i < PENDING; i++) {
			res = wait_one(self, 5000, &data);
			ASSERT_LT(0, res);
			ASSERT_GT(PENDING, data);
			ASSERT_EQ(0, seen[data]);
			seen[data] = 1;
			ASSERT_EQ(1, push_parse(self->buf[data], res, self->m,
						MAX_MSGS));
			ASSERT_EQ(id, self->m[0].id);
		}
		ASSERT_EQ(0, count_iou_workers());
	}
}

/* A pending read is cancelled cleanly, consuming nothing. */
TEST_F(uring, cancel_pending)
{
	struct io_uring_sqe *sqe;
	int i, res, got_read = 0;
	uint64_t data = ~0ull;

	if (!self->ring_ok)
		return;
	ASSERT_EQ(0, queue_read(self, 0, variant->offset));
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	usleep(100000);
	sqe = io_uring_get_sqe(&self->ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_cancel64(sqe, 0, 0);
	io_uring_sqe_set_data64(sqe, 100);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	for (i = 0; i < 2; i++) {
		res = wait_one(self, 5000, &data);
		if (data == 0) {
			ASSERT_EQ(-ECANCELED, res);
			got_read = 1;
		} else {
			ASSERT_EQ(100, data);
			ASSERT_EQ(0, res);
		}
	}
	ASSERT_EQ(1, got_read);
	ASSERT_EQ(self->start, push_seek(self->rd[0], 0, SEEK_CUR));
	ASSERT_EQ(0, count_iou_workers());
}

#define HAMMER_WRITERS	2
#define HAMMER_READERS	4
#define HAMMER_MSGS	20000	/* per writer */

static void *hammer_main(void *arg)
{
	int fd = push_open(0), i;

	(void)arg;
	for (i = 0; i < HAMMER_MSGS; i++)
		if (push_write_str(fd, "@hammer 0123456789abcdefghij") < 0)
			break;
	close(fd);
	return NULL;
}

/*
 * Writers publish as fast as they can while io_uring reads of four readers
 * run: every read completes without an io-wq worker, and each reader gets
 * every message or a gap counting it.
 */
TEST(contended_no_worker)
{
	uint64_t got[HAMMER_READERS] = { 0 }, lost[HAMMER_READERS] = { 0 };
	uint64_t start, end = 0, last[HAMMER_READERS];
	pthread_t w[HAMMER_WRITERS];
	struct push_msg *m;
	struct io_uring ring;
	int rd[HAMMER_READERS], i, ret, done = 0, fd, workers = 0;
	char *buf[HAMMER_READERS];

	m = calloc(MAX_MSGS * 8, sizeof(*m));
	ASSERT_NE(NULL, m);
	ret = io_uring_queue_init(2 * HAMMER_READERS, &ring, 0);
	if (ret == -ENOSYS || ret == -EPERM || ret == -EOPNOTSUPP)
		SKIP(return, "io_uring unavailable: %s", strerror(-ret));
	ASSERT_EQ(0, ret);
	fd = push_open(0);
	ASSERT_LE(0, fd);
	for (i = 0; i < HAMMER_READERS; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		rd[i] = push_open(0);
		ASSERT_LE(0, rd[i]);
		ASSERT_EQ(0, push_set_filter(rd[i], "hammer"));
		start = push_seek(rd[i], 0, SEEK_END);
		last[i] = start - 1;
		buf[i] = malloc(BUF_SIZE);
		ASSERT_NE(NULL, buf[i]);
		io_uring_prep_read(sqe, rd[i], buf[i], BUF_SIZE, -1);
		io_uring_sqe_set_data64(sqe, i);
	}
	ASSERT_EQ(HAMMER_READERS, io_uring_submit(&ring));
	for (i = 0; i < HAMMER_WRITERS; i++)
		ASSERT_EQ(0, pthread_create(&w[i], NULL, hammer_main, NULL));
	/* Until the writers are done and every reader has caught up. */
	while (done < HAMMER_READERS) {
		struct __kernel_timespec ts = { .tv_sec = 20 };
		struct io_uring_cqe *cqe;
		struct io_uring_sqe *sqe;
		uint64_t r;
		int n, k;

		ret = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
		ASSERT_EQ(0, ret);
		r = io_uring_cqe_get_data64(cqe);
		ASSERT_GT(HAMMER_READERS, r);
		n = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		ASSERT_LT(0, n);
		n = push_parse(buf[r], n, m, MAX_MSGS * 8);
		ASSERT_LT(0, n);
		for (k = 0; k < n; k++) {
			if (m[k].type == PUSH_REC_GAP) {
				ASSERT_EQ(last[r] + 1, m[k].id);
				lost[r] += m[k].gap_lost;
				last[r] = m[k].gap_next - 1;
				continue;
			}
			ASSERT_LT(last[r], m[k].id);
			ASSERT_STREQ("hammer", m[k].chan);
			got[r]++;
			last[r] = m[k].id;
		}
		workers += count_iou_workers() > 0;
		if (!end && got[r] + lost[r] >= HAMMER_WRITERS * HAMMER_MSGS) {
			end = 1;
			for (i = 0; i < HAMMER_WRITERS; i++)
				pthread_join(w[i], NULL);
		}
		if (got[r] + lost[r] >= HAMMER_WRITERS * HAMMER_MSGS) {
			done++;
			continue;
		}
		sqe = io_uring_get_sqe(&ring);
		ASSERT_NE(NULL, sqe);
		io_uring_prep_read(sqe, rd[r], buf[r], BUF_SIZE, -1);
		io_uring_sqe_set_data64(sqe, r);
		ASSERT_EQ(1, io_uring_submit(&ring));
	}
	for (i = 0; i < HAMMER_READERS; i++) {
		ASSERT_EQ(HAMMER_WRITERS * HAMMER_MSGS, got[i] + lost[i]);
		close(rd[i]);
		free(buf[i]);
	}
	TH_LOG("io-wq workers seen after %d of the completions", workers);
	ASSERT_EQ(0, workers);
	ASSERT_EQ(0, count_iou_workers());
	io_uring_queue_exit(&ring);
	close(fd);
	free(m);
}

TEST_HARNESS_MAIN
