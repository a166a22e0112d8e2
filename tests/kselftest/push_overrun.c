// SPDX-License-Identifier: GPL-2.0
/*
 * push_overrun - readers whose cursor was overwritten: exact gap records,
 * poll's EPOLLERR|EPOLLPRI while a gap is pending, the overruns and lost
 * counters, seeking to an overwritten id, and the exact loss of a
 * filtered reader.
 *
 * The tests adapt to the ring: they publish until the history wraps, as
 * PUSH_IOC_INFO reports it.  They run with the default ring, and with a
 * small one as push_overrun_small (more wraps):
 *   tools/vm/run -- build/tests/kselftest/push_overrun
 *   tools/vm/run --param ring_size=65536 --param max_msg_size=4096 -- \
 *	build/tests/kselftest/push_overrun_small
 */
#include <poll.h>
#include <sys/epoll.h>

#include "kselftest_harness.h"
#include "push_util.h"

#define BUF_SIZE	(1 << 20)
#define MAX_MSGS	(BUF_SIZE / 40)
#define MAX_IDS		(1 << 20)

FIXTURE(overrun) {
	int fd;			/* publisher */
	int rd;			/* reader at the end, per the variant */
	uint64_t start;		/* its cursor */
	size_t payload;		/* bytes per filler message */
	char *buf;
	struct push_msg *m;
};

FIXTURE_VARIANT(overrun) {
	int flags;
};

FIXTURE_VARIANT_ADD(overrun, blocking) { 0 };
FIXTURE_VARIANT_ADD(overrun, nonblocking) { O_NONBLOCK };

FIXTURE_SETUP(overrun)
{
	struct push_info info;
	int64_t c;

	self->fd = push_open(0);
	ASSERT_NE(-1, self->fd);
	self->rd = push_open(variant->flags);
	ASSERT_NE(-1, self->rd);
	c = push_seek(self->rd, 0, SEEK_END);
	ASSERT_LT(0, c);
	self->start = c;
	ASSERT_EQ(0, push_get_info(self->fd, &info));
	/* About 64 messages per wrap of the ring, whatever its size. */
	self->payload = info.ring_size / 64;
	if (self->payload > info.max_msg_size)
		self->payload = info.max_msg_size;
	if (self->payload > 4000)
		self->payload = 4000;
	if (self->payload < 16)
		self->payload = 16;
	self->buf = malloc(BUF_SIZE);
	ASSERT_NE(NULL, self->buf);
	self->m = calloc(MAX_MSGS, sizeof(*self->m));
	ASSERT_NE(NULL, self->m);
}

FIXTURE_TEARDOWN(overrun)
{
	close(self->rd);
	close(self->fd);
	free(self->buf);
	free(self->m);
}

/*
 * Reads @fd until its cursor reaches @end, checking that ids run without a
 * hole from @from and that no further gap appears; returns messages read.
 */
static uint64_t drain_from(struct __test_metadata *_metadata,
			   FIXTURE_DATA(overrun) *self, int fd,
			   uint64_t from, uint64_t end)
{
	uint64_t expect = from, got = 0;
	int i, n;

	while (expect < end) {
		n = push_read_msgs(fd, self->buf, BUF_SIZE, self->m, MAX_MSGS);
		if (n < 0)
			TH_LOG("read: %s at id %llu", strerror(-n),
			       (unsigned long long)expect);
		ASSERT_LT(0, n);
		for (i = 0; i < n; i++, got++) {
			ASSERT_EQ(PUSH_REC_MSG, self->m[i].type);
			ASSERT_EQ(expect, self->m[i].id);
			expect++;
		}
	}
	ASSERT_EQ(end, expect);
	return got;
}

/*
 * An overwritten cursor: the next read starts with one gap record naming
 * exactly the lost ids, then the oldest retained message onwards.  poll
 * says EPOLLERR|EPOLLPRI until the gap is read; overruns and lost count it.
 */
TEST_F(overrun, gap_exact)
{
	struct pollfd p = { .fd = self->rd, .events = POLLIN | POLLRDNORM |
			    POLLOUT | POLLWRNORM | POLLPRI };
	int64_t overruns = push_stat("overruns"), lost = push_stat("lost");
	struct push_info info;
	int n;

	ASSERT_LE(0, overruns);
	ASSERT_LE(0, lost);
	ASSERT_LT(0, push_wrap_past(self->fd, self->start + 3, "ov",
				    self->payload, NULL, 0));
	ASSERT_EQ(0, push_get_info(self->fd, &info));
	ASSERT_LT(self->start + 3, info.oldest_id);

	/* Gap pending: readable, error and priority, always writable. */
	ASSERT_EQ(1, poll(&p, 1, 0));
	ASSERT_EQ(POLLIN | POLLRDNORM | POLLERR | POLLPRI | POLLOUT | POLLWRNORM,
		  p.revents);

	/* A buffer too small for the gap record: EINVAL, gap kept. */
	ASSERT_EQ(-1, read(self->rd, self->buf, PUSH_HDR));
	ASSERT_EQ(EINVAL, errno);

	/* Exactly the gap record's size returns the gap alone. */
	n = push_read_msgs(self->rd, self->buf,
			   PUSH_HDR + sizeof(struct push_gap), self->m, MAX_MSGS);
	ASSERT_EQ(1, n);
	ASSERT_EQ(PUSH_REC_GAP, self->m[0].type);
	ASSERT_EQ(self->start, self->m[0].id);
	ASSERT_EQ(info.oldest_id, self->m[0].gap_next);
	ASSERT_EQ(info.oldest_id - self->start, self->m[0].gap_lost);
	ASSERT_EQ(0, self->m[0].time_ns);
	ASSERT_EQ(0, self->m[0].chan_len);

	/* Gap consumed: no more error or priority. */
	ASSERT_EQ(1, poll(&p, 1, 0));
	ASSERT_EQ(0, p.revents & (POLLERR | POLLPRI));
	ASSERT_EQ(POLLIN | POLLRDNORM, p.revents & (POLLIN | POLLRDNORM));

	/* Then every retained message, in order, without another gap. */
	drain_from(_metadata, self, self->rd, info.oldest_id, info.next_id);
	ASSERT_EQ(info.next_id, push_seek(self->rd, 0, SEEK_CUR));

	/* One more gap delivered, with its exact loss. */
	ASSERT_EQ(overruns + 1, push_stat("overruns"));
	ASSERT_EQ(lost + (int64_t)(info.oldest_id - self->start), push_stat("lost"));
}

/* The gap and the messages after it come in the same read when they fit. */
TEST_F(overrun, gap_then_messages)
{
	struct push_info info;
	int n;

	/* Read a little first, so the cursor is mid-stream. */
	ASSERT_LT(0, push_pub(self->fd, "ov", "first", 5, NULL));
	n = push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS);
	ASSERT_EQ(1, n);
	ASSERT_LT(0, push_wrap_past(self->fd, self->start + 2, "ov",
				    self->payload, NULL, 0));
	ASSERT_EQ(0, push_get_info(self->fd, &info));
	n = push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS);
	ASSERT_LE(2, n);
	ASSERT_EQ(PUSH_REC_GAP, self->m[0].type);
	ASSERT_EQ(self->start + 1, self->m[0].id);
	ASSERT_EQ(info.oldest_id, self->m[0].gap_next);
	ASSERT_EQ(info.oldest_id - self->start - 1, self->m[0].gap_lost);
	ASSERT_EQ(PUSH_REC_MSG, self->m[1].type);
	ASSERT_EQ(info.oldest_id, self->m[1].id);
}

/* epoll reports EPOLLPRI|EPOLLERR for a pending gap, EPOLLIN for data. */
TEST_F(overrun, epoll_gap)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLPRI };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_NE(-1, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->rd, &ev));
	ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	ASSERT_LT(0, push_wrap_past(self->fd, self->start, "ov",
				    self->payload, NULL, 0));
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 0));
	ASSERT_EQ(EPOLLIN | EPOLLPRI | EPOLLERR, ev.events);
	close(ep);
}

/* Seeking to an overwritten id reports a gap from that id, exactly. */
TEST_F(overrun, seek_overwritten)
{
	int other = push_open(O_NONBLOCK);
	struct push_info info;
	uint64_t old;
	int n;

	ASSERT_NE(-1, other);
	ASSERT_LT(0, push_pub(self->fd, "ov", "old", 3, NULL));
	old = self->start;
	ASSERT_LT(0, push_wrap_past(self->fd, old + 5, "ov", self->payload,
				    NULL, 0));
	ASSERT_EQ(0, push_get_info(self->fd, &info));
	ASSERT_LT(old, info.oldest_id);

	/* The cursor is the id asked for; the read reports the loss first. */
	ASSERT_EQ(old, push_seek(other, old, SEEK_SET));
	n = push_read_msgs(other, self->buf, BUF_SIZE, self->m, MAX_MSGS);
	ASSERT_LE(2, n);
	ASSERT_EQ(PUSH_REC_GAP, self->m[0].type);
	ASSERT_EQ(old, self->m[0].id);
	ASSERT_EQ(info.oldest_id, self->m[0].gap_next);
	ASSERT_EQ(info.oldest_id - old, self->m[0].gap_lost);
	ASSERT_EQ(info.oldest_id, self->m[1].id);

	/* SEEK_SET 0 instead: the oldest retained, no gap. */
	ASSERT_EQ(info.oldest_id, push_seek(other, 0, SEEK_SET));
	n = push_read_msgs(other, self->buf, BUF_SIZE, self->m, MAX_MSGS);
	ASSERT_LE(1, n);
	ASSERT_EQ(PUSH_REC_MSG, self->m[0].type);
	ASSERT_EQ(info.oldest_id, self->m[0].id);
	close(other);

	/* A reader opened now starts at the oldest retained, no gap either. */
	other = push_open(O_NONBLOCK);
	ASSERT_NE(-1, other);
	ASSERT_EQ(info.oldest_id, push_seek(other, 0, SEEK_CUR));
	n = push_read_msgs(other, self->buf, BUF_SIZE, self->m, MAX_MSGS);
	ASSERT_LE(1, n);
	ASSERT_EQ(PUSH_REC_MSG, self->m[0].type);
	ASSERT_EQ(info.oldest_id, self->m[0].id);
	close(other);
}

/*
 * A filtered reader's gap counts only the lost messages of its channels;
 * it resumes from the oldest retained and reads its next own message.
 */
TEST_F(overrun, filtered_lost_exact)
{
	uint64_t *ids_a, lost_a = 0, first_lost = 0, next_a = 0;
	struct push_info info;
	char *data;
	size_t na = 0, i;
	int n;

	ids_a = calloc(MAX_IDS, sizeof(*ids_a));
	data = calloc(1, self->payload);
	ASSERT_NE(NULL, ids_a);
	ASSERT_NE(NULL, data);
	ASSERT_EQ(0, push_set_filter(self->rd, "ovA,ovC"));
	/* One message in three on ovA, the rest on ovB, until it wraps. */
	for (i = 0;; i++) {
		int64_t id = push_pub(self->fd, i % 3 ? "ovB" : "ovA", data,
				      self->payload, NULL);

		ASSERT_LT(0, id);
		if (i % 3 == 0) {
			ASSERT_GT(MAX_IDS, na);
			ids_a[na++] = id;
		}
		ASSERT_EQ(0, push_get_info(self->fd, &info));
		/* Wrapped past several ovA messages, and one ovA retained. */
		if (info.oldest_id > self->start + 7 && i % 3 == 0)
			break;
	}
	for (i = 0; i < na; i++) {
		if (ids_a[i] < info.oldest_id) {
			if (!lost_a)
				first_lost = ids_a[i];
			lost_a++;
		} else if (!next_a) {
			next_a = ids_a[i];
		}
	}
	ASSERT_LE(2, lost_a);
	ASSERT_NE(0, next_a);

	n = push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS);
	ASSERT_LE(2, n);
	ASSERT_EQ(PUSH_REC_GAP, self->m[0].type);
	ASSERT_EQ(lost_a, self->m[0].gap_lost);
	ASSERT_EQ(info.oldest_id, self->m[0].gap_next);
	/* The gap starts at the cursor, at or before the first lost own message. */
	ASSERT_EQ(self->start, self->m[0].id);
	ASSERT_GE(first_lost, self->m[0].id);
	ASSERT_EQ(PUSH_REC_MSG, self->m[1].type);
	ASSERT_EQ(next_a, self->m[1].id);
	ASSERT_STREQ("ovA", self->m[1].chan);
	free(ids_a);
	free(data);
}

/* A filtered reader whose channels lost nothing gets no gap record. */
TEST_F(overrun, filtered_nothing_lost)
{
	int64_t overruns = push_stat("overruns"), mine;
	int n;

	ASSERT_EQ(0, push_set_filter(self->rd, "ovQuiet"));
	ASSERT_LT(0, push_wrap_past(self->fd, self->start + 2, "ovLoud",
				    self->payload, NULL, 0));
	mine = push_pub(self->fd, "ovQuiet", "q", 1, NULL);
	ASSERT_LT(0, mine);
	n = push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS);
	ASSERT_EQ(1, n);
	ASSERT_EQ(PUSH_REC_MSG, self->m[0].type);
	ASSERT_EQ(mine, self->m[0].id);
	ASSERT_EQ(overruns, push_stat("overruns"));
}

TEST_HARNESS_MAIN
