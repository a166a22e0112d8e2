// SPDX-License-Identifier: GPL-2.0
/*
 * push_read - readers of /dev/push: own cursors, whole records only,
 * EINVAL without loss on a short buffer, batching, blocking and
 * non-blocking reads, poll/epoll readiness, EINTR, and channel filters.
 *
 * Run as root with the module loaded: build/tests/kselftest/push_read
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "kselftest_harness.h"
#include "push_util.h"

#define BUF_SIZE	(1 << 20)
#define MAX_MSGS	1024

/*
 * A thread that publishes one message once the reader thread @tid sleeps in
 * syscall @nr (a blocking read, poll or epoll_wait), and, if @after_signals
 * is set, once that many signals have been handled.  @asleep says the
 * reader was seen asleep first.  No fixed delay: a slow host only waits
 * longer.
 */
struct delayed_pub {
	pthread_t thread;
	int fd;
	pid_t tid;
	long nr;
	int after_signals;
	const char *chan;
	int asleep;
	int64_t id;
};

static volatile sig_atomic_t signals_seen;

static void *delayed_pub_fn(void *arg)
{
	struct delayed_pub *d = arg;
	int i;

	for (i = 0; i < 20000 && signals_seen < d->after_signals; i++)
		usleep(1000);
	d->asleep = push_wait_asleep(d->tid, d->nr) == 0;
	d->id = push_pub(d->fd, d->chan, "late", 4, NULL);
	return NULL;
}

/*
 * Publish on @chan once the calling thread sleeps in syscall @nr, after
 * @after_signals signals were handled.
 */
static int delayed_pub_start(struct delayed_pub *d, int fd, const char *chan,
			     long nr, int after_signals)
{
	d->fd = fd;
	d->chan = chan;
	d->tid = gettid();
	d->nr = nr;
	d->after_signals = after_signals;
	d->asleep = 0;
	d->id = 0;
	return pthread_create(&d->thread, NULL, delayed_pub_fn, d);
}

FIXTURE(reader) {
	int fd;			/* publisher */
	int rd;			/* reader at the end, per the variant */
	uint64_t start;		/* its cursor */
	char *buf;
	struct push_msg m[MAX_MSGS];
};

FIXTURE_VARIANT(reader) {
	int flags;
};

FIXTURE_VARIANT_ADD(reader, blocking) { 0 };
FIXTURE_VARIANT_ADD(reader, nonblocking) { O_NONBLOCK };

FIXTURE_SETUP(reader)
{
	int64_t c;

	self->fd = push_open(0);
	ASSERT_NE(-1, self->fd);
	self->rd = push_open(variant->flags);
	ASSERT_NE(-1, self->rd);
	c = push_seek(self->rd, 0, SEEK_END);
	ASSERT_LT(0, c);
	self->start = c;
	self->buf = malloc(BUF_SIZE);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(reader)
{
	close(self->rd);
	close(self->fd);
	free(self->buf);
}

/* Each open file has its own cursor: reading on one moves no other. */
TEST_F(reader, own_cursors)
{
	int other = push_open(variant->flags), i, n;
	struct push_info info;
	uint64_t id;

	ASSERT_NE(-1, other);
	ASSERT_EQ(self->start, push_seek(other, 0, SEEK_END));
	for (i = 0; i < 3; i++)
		ASSERT_LT(0, push_pub(self->fd, "own", "abc", 3, NULL));
	n = push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS);
	ASSERT_EQ(3, n);
	id = self->m[0].id;
	ASSERT_EQ(self->start, id);
	/* The other reader still starts at the same message. */
	ASSERT_EQ(self->start, push_seek(other, 0, SEEK_CUR));
	n = push_read_msgs(other, self->buf, BUF_SIZE, self->m, MAX_MSGS);
	ASSERT_EQ(3, n);
	ASSERT_EQ(id, self->m[0].id);
	ASSERT_EQ(id + 2, self->m[2].id);
	/* A fresh open starts at the oldest retained message. */
	close(other);
	other = push_open(O_NONBLOCK);
	ASSERT_NE(-1, other);
	ASSERT_EQ(0, push_get_info(self->fd, &info));
	ASSERT_EQ(info.oldest_id, push_seek(other, 0, SEEK_CUR));
	n = push_read_msgs(other, self->buf, BUF_SIZE, self->m, 1);
	ASSERT_EQ(1, n);
	ASSERT_EQ(info.oldest_id, self->m[0].id);
	close(other);
}

/* read() returns whole records only: those that fit, never a partial one. */
TEST_F(reader, whole_records)
{
	size_t sizes[3], two;
	int i, peek;
	ssize_t n;

	ASSERT_LT(0, push_pub(self->fd, "w", "1", 1, NULL));
	ASSERT_LT(0, push_pub(self->fd, "w", "22222222222", 11, NULL));
	ASSERT_LT(0, push_pub(self->fd, "w", "333", 3, NULL));
	/* Learn the record sizes through a second reader. */
	peek = push_open(O_NONBLOCK);
	ASSERT_NE(-1, peek);
	ASSERT_EQ(self->start, push_seek(peek, self->start, SEEK_SET));
	n = read(peek, self->buf, BUF_SIZE);
	close(peek);
	ASSERT_EQ(3, push_parse(self->buf, n, self->m, MAX_MSGS));
	for (i = 0; i < 3; i++) {
		struct push_record r;

		memcpy(&r, self->m[i].data - self->m[i].chan_len - PUSH_HDR,
		       sizeof(r));
		sizes[i] = r.size;
		ASSERT_EQ(0, r.size % PUSH_RECORD_ALIGN);
	}
	ASSERT_EQ(sizes[0] + sizes[1] + sizes[2], n);
	/* A buffer one byte short of two records gets exactly one. */
	two = sizes[0] + sizes[1];
	n = read(self->rd, self->buf, two - 1);
	ASSERT_EQ(sizes[0], n);
	/* Exactly two records' worth of the rest gets both... */
	n = read(self->rd, self->buf, sizes[1] + sizes[2]);
	ASSERT_EQ(sizes[1] + sizes[2], n);
	ASSERT_EQ(2, push_parse(self->buf, n, self->m, MAX_MSGS));
	ASSERT_EQ(11, self->m[0].len);
	ASSERT_EQ(0, memcmp("22222222222", self->m[0].data, 11));
	ASSERT_EQ(self->start + 2, self->m[1].id);
}

/* A buffer too small for the next record: EINVAL, and the record is kept. */
TEST_F(reader, short_buffer_einval)
{
	static const char data[] = "a payload longer than a header";
	size_t tries[] = { 1, 8, PUSH_HDR, PUSH_HDR + 1 + sizeof(data) - 2 };
	unsigned int i;
	int n;

	ASSERT_LT(0, push_pub(self->fd, "s", data, sizeof(data) - 1, NULL));
	for (i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		errno = 0;
		ASSERT_EQ(-1, read(self->rd, self->buf, tries[i]));
		ASSERT_EQ(EINVAL, errno);
		ASSERT_EQ(self->start, push_seek(self->rd, 0, SEEK_CUR));
	}
	n = push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS);
	ASSERT_EQ(1, n);
	ASSERT_EQ(self->start, self->m[0].id);
	ASSERT_EQ(sizeof(data) - 1, self->m[0].len);
	ASSERT_EQ(0, memcmp(data, self->m[0].data, sizeof(data) - 1));
}

/* One read returns every ready record that fits, in id order. */
TEST_F(reader, batching)
{
	char payload[32];
	int i, n;

	for (i = 0; i < 200; i++) {
		snprintf(payload, sizeof(payload), "batch %d", i);
		ASSERT_LT(0, push_pub(self->fd, i % 2 ? "b1" : "b2", payload,
				      strlen(payload), NULL));
	}
	n = push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS);
	ASSERT_EQ(200, n);
	for (i = 0; i < 200; i++) {
		snprintf(payload, sizeof(payload), "batch %d", i);
		ASSERT_EQ(self->start + i, self->m[i].id);
		ASSERT_EQ(strlen(payload), self->m[i].len);
		ASSERT_EQ(0, memcmp(payload, self->m[i].data, self->m[i].len));
		ASSERT_STREQ(i % 2 ? "b1" : "b2", self->m[i].chan);
	}
	ASSERT_EQ(self->start + 200, push_seek(self->rd, 0, SEEK_CUR));
}

/*
 * With nothing to read: a blocking read sleeps until a write wakes it; a
 * non-blocking one fails with EAGAIN.
 */
TEST_F(reader, empty_read)
{
	struct delayed_pub d;
	int n, b;

	if (variant->flags & O_NONBLOCK) {
		ASSERT_EQ(-1, read(self->rd, self->buf, BUF_SIZE));
		ASSERT_EQ(EAGAIN, errno);
		/* Setting O_NONBLOCK later on a blocking fd works the same. */
		b = push_open(0);
		ASSERT_NE(-1, b);
		ASSERT_LT(0, push_seek(b, 0, SEEK_END));
		ASSERT_EQ(0, fcntl(b, F_SETFL, O_NONBLOCK));
		ASSERT_EQ(-1, read(b, self->buf, BUF_SIZE));
		ASSERT_EQ(EAGAIN, errno);
		close(b);
		ASSERT_LT(0, push_pub(self->fd, "e", "now", 3, NULL));
		n = push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS);
		ASSERT_EQ(1, n);
		return;
	}
	ASSERT_EQ(0, delayed_pub_start(&d, self->fd, "e", SYS_read, 0));
	n = push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS);
	pthread_join(d.thread, NULL);
	/* It really slept in read() until the write. */
	ASSERT_EQ(1, d.asleep);
	ASSERT_EQ(1, n);
	ASSERT_LT(0, d.id);
	ASSERT_EQ(d.id, self->m[0].id);
	ASSERT_EQ(0, memcmp("late", self->m[0].data, 4));
}

/* poll: always writable; readable exactly while a record is ready. */
TEST_F(reader, poll_readiness)
{
	struct pollfd p = { .fd = self->rd };
	struct delayed_pub d;

	p.events = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLPRI;
	ASSERT_EQ(1, poll(&p, 1, 0));
	ASSERT_EQ(POLLOUT | POLLWRNORM, p.revents);

	ASSERT_LT(0, push_pub(self->fd, "p", "x", 1, NULL));
	ASSERT_EQ(1, poll(&p, 1, 0));
	ASSERT_EQ(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM, p.revents);

	ASSERT_EQ(1, push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS));
	p.events = POLLIN;
	ASSERT_EQ(0, poll(&p, 1, 0));

	/* A write from another thread wakes a sleeping poll. */
	ASSERT_EQ(0, delayed_pub_start(&d, self->fd, "p", SYS_poll, 0));
	ASSERT_EQ(1, poll(&p, 1, 30000));
	pthread_join(d.thread, NULL);
	ASSERT_EQ(1, d.asleep);
	ASSERT_EQ(POLLIN, p.revents);
}

/* epoll: the same readiness, and a write wakes epoll_wait. */
TEST_F(reader, epoll_wakeup)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 42 };
	struct delayed_pub d;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_NE(-1, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->rd, &ev));
	ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));

	ASSERT_EQ(0, delayed_pub_start(&d, self->fd, "ep", SYS_epoll_wait, 0));
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 30000));
	pthread_join(d.thread, NULL);
	ASSERT_EQ(1, d.asleep);
	ASSERT_EQ(42, ev.data.u64);
	ASSERT_EQ(EPOLLIN, ev.events & (EPOLLIN | EPOLLERR | EPOLLPRI));
	/* Level-triggered: still ready until read. */
	ASSERT_EQ(1, epoll_wait(ep, &ev, 1, 0));
	ASSERT_EQ(1, push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS));
	ASSERT_EQ(0, epoll_wait(ep, &ev, 1, 0));
	close(ep);
}

/* Tests with one reader whose blocking mode they set themselves. */
FIXTURE(one) {
	int fd;
	int rd;			/* blocking reader, at the end */
	uint64_t start;
	char *buf;
};

FIXTURE_SETUP(one)
{
	int64_t c;

	self->fd = push_open(0);
	ASSERT_NE(-1, self->fd);
	self->rd = push_open(0);
	ASSERT_NE(-1, self->rd);
	c = push_seek(self->rd, 0, SEEK_END);
	ASSERT_LT(0, c);
	self->start = c;
	self->buf = malloc(BUF_SIZE);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(one)
{
	close(self->rd);
	close(self->fd);
	free(self->buf);
}

static void on_signal(int sig)
{
	(void)sig;
	signals_seen++;
}

/* A thread that sends SIGUSR1 to @target once it sleeps in read(). */
struct kicker {
	pthread_t target;
	pid_t tid;
	int asleep;
};

static void *kick_fn(void *arg)
{
	struct kicker *k = arg;

	k->asleep = push_wait_asleep(k->tid, SYS_read) == 0;
	pthread_kill(k->target, SIGUSR1);
	return NULL;
}

struct hammer {
	volatile int stop;
	int fd;
};

static void *hammer_fn(void *arg)
{
	struct hammer *h = arg;
	int i;

	for (i = 0; i < 200000 && !h->stop; i++)
		if (push_write_str(h->fd, "@nb.hammer x") < 0)
			break;
	return NULL;
}

/*
 * O_NONBLOCK only means "do not wait for a message": while records are
 * ready, a non-blocking read returns them even when publishers keep the
 * device lock busy; it never fails with EAGAIN.
 */
TEST_F(one, nonblock_ready_never_eagain)
{
	struct hammer h[2] = { { 0, -1 }, { 0, -1 } };
	pthread_t th[2];
	uint64_t cursor = self->start, deadline;
	int nb, i, reads = 0, eagain = 0;

	nb = push_open(O_NONBLOCK);
	ASSERT_NE(-1, nb);
	ASSERT_EQ((int64_t)cursor, push_seek(nb, 0, SEEK_END));
	for (i = 0; i < 2; i++) {
		h[i].fd = push_open(0);
		ASSERT_NE(-1, h[i].fd);
		ASSERT_EQ(0, pthread_create(&th[i], NULL, hammer_fn, &h[i]));
	}
	deadline = push_now_ns(CLOCK_MONOTONIC) + 2000000000ull;
	while (push_now_ns(CLOCK_MONOTONIC) < deadline && reads < 20000) {
		ssize_t n;

		/* Records past the cursor exist now, and stay (big ring). */
		if (push_next_id(nb) <= cursor)
			continue;
		n = read(nb, self->buf, 4096);
		if (n < 0 && errno == EAGAIN) {
			eagain++;
			continue;
		}
		ASSERT_LT(0, n);
		cursor = push_seek(nb, 0, SEEK_CUR);
		reads++;
	}
	for (i = 0; i < 2; i++) {
		h[i].stop = 1;
		pthread_join(th[i], NULL);
		close(h[i].fd);
	}
	close(nb);
	/* Every read of ready records returned them. */
	ASSERT_EQ(0, eagain);
	ASSERT_LT(100, reads);
}

/* A signal (no SA_RESTART) interrupts a blocking read with EINTR. */
TEST_F(one, interrupted_read)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	struct kicker k = { .target = pthread_self(), .tid = gettid() };
	pthread_t t;
	ssize_t n;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, pthread_create(&t, NULL, kick_fn, &k));
	n = read(self->rd, self->buf, BUF_SIZE);
	ASSERT_EQ(-1, n);
	ASSERT_EQ(EINTR, errno);
	ASSERT_EQ(1, signals_seen);
	pthread_join(t, NULL);
	/* The signal came while read() slept. */
	ASSERT_EQ(1, k.asleep);
	/* Nothing was consumed: the cursor has not moved. */
	ASSERT_EQ(self->start, push_seek(self->rd, 0, SEEK_CUR));
}

/* With SA_RESTART, the signal is handled and the read goes on waiting. */
TEST_F(one, restarted_read)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	struct kicker k = { .target = pthread_self(), .tid = gettid() };
	struct push_msg m[4];
	struct delayed_pub d;
	pthread_t t;
	int n;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, pthread_create(&t, NULL, kick_fn, &k));
	/* The message comes only after the signal, to the restarted read. */
	ASSERT_EQ(0, delayed_pub_start(&d, self->fd, "rs", SYS_read, 1));
	n = push_read_msgs(self->rd, self->buf, BUF_SIZE, m, 4);
	pthread_join(t, NULL);
	pthread_join(d.thread, NULL);
	ASSERT_EQ(1, k.asleep);
	ASSERT_EQ(1, signals_seen);
	ASSERT_EQ(1, d.asleep);
	ASSERT_EQ(1, n);
	ASSERT_EQ(d.id, m[0].id);
}

/* A zero-length read returns 0 and moves nothing. */
TEST_F(reader, zero_length)
{
	ASSERT_LT(0, push_pub(self->fd, "z", "x", 1, NULL));
	ASSERT_EQ(0, read(self->rd, self->buf, 0));
	ASSERT_EQ(self->start, push_seek(self->rd, 0, SEEK_CUR));
}

/* dup()ed descriptors share one cursor; pread's offset is ignored. */
TEST_F(reader, dup_shares_cursor)
{
	int d = dup(self->rd);
	ssize_t n;

	ASSERT_NE(-1, d);
	ASSERT_LT(0, push_pub(self->fd, "d", "1", 1, NULL));
	ASSERT_LT(0, push_pub(self->fd, "d", "2", 1, NULL));
	ASSERT_EQ(1, push_read_msgs(d, self->buf, PUSH_HDR + 8, self->m, MAX_MSGS));
	ASSERT_EQ(self->start, self->m[0].id);
	ASSERT_EQ(self->start + 1, push_seek(self->rd, 0, SEEK_CUR));
	n = pread(self->rd, self->buf, BUF_SIZE, 0);
	ASSERT_EQ(1, push_parse(self->buf, n, self->m, MAX_MSGS));
	ASSERT_EQ(self->start + 1, self->m[0].id);
	close(d);
}

/* readv() fills its vectors in order as one buffer of whole records. */
TEST_F(reader, readv_whole_records)
{
	char a[PUSH_HDR + 4], b[PUSH_HDR + 12 + 3];	/* the 1st record straddles them */
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	char joined[sizeof(a) + sizeof(b)];
	ssize_t n;

	ASSERT_LT(0, push_pub(self->fd, "v", "1", 1, NULL));
	ASSERT_LT(0, push_pub(self->fd, "v", "2", 1, NULL));
	ASSERT_LT(0, push_pub(self->fd, "v", "3", 1, NULL));
	n = readv(self->rd, iov, 2);
	ASSERT_EQ(2 * (PUSH_HDR + 8), n);
	memcpy(joined, a, sizeof(a));
	memcpy(joined + sizeof(a), b, sizeof(b));
	ASSERT_EQ(2, push_parse(joined, n, self->m, MAX_MSGS));
	ASSERT_EQ(self->start, self->m[0].id);
	ASSERT_EQ('2', self->m[1].data[0]);
	ASSERT_EQ(self->start + 2, push_seek(self->rd, 0, SEEK_CUR));
}

/*
 * A bad buffer: EFAULT when no record could be copied, else the whole
 * records copied before the fault; nothing is lost either way.
 */
TEST_F(reader, bad_buffer)
{
	long psz = sysconf(_SC_PAGESIZE);
	char *page = mmap(NULL, 2 * psz, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t rec = PUSH_HDR + 8;
	ssize_t n;

	ASSERT_NE(MAP_FAILED, page);
	ASSERT_EQ(0, munmap(page + psz, psz));
	ASSERT_LT(0, push_pub(self->fd, "f", "1", 1, NULL));
	ASSERT_LT(0, push_pub(self->fd, "f", "2", 1, NULL));
	ASSERT_EQ(-1, read(self->rd, page + psz, BUF_SIZE));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(self->start, push_seek(self->rd, 0, SEEK_CUR));
	/* Room for one record before the hole: that one is returned. */
	n = read(self->rd, page + psz - rec - rec / 2, 4 * rec);
	ASSERT_EQ(rec, n);
	ASSERT_EQ(1, push_parse(page + psz - rec - rec / 2, n, self->m, MAX_MSGS));
	ASSERT_EQ(self->start, self->m[0].id);
	ASSERT_EQ(1, push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS));
	ASSERT_EQ(self->start + 1, self->m[0].id);
	munmap(page, psz);
}

struct shared_reader {
	pthread_t thread;
	int fd;
	int count;
	uint64_t ids[64];
};

static void *shared_reader_fn(void *arg)
{
	struct shared_reader *s = arg;
	char buf[PUSH_HDR + 16];
	struct push_msg m;

	/* One record per read; stop at EAGAIN. */
	while (s->count < 64) {
		ssize_t n = read(s->fd, buf, sizeof(buf));

		if (n <= 0 || push_parse(buf, n, &m, 1) != 1)
			break;
		s->ids[s->count++] = m.id;
	}
	return NULL;
}

/* Concurrent reads of one open file get distinct records, none twice. */
TEST_F(one, shared_file_distinct)
{
	struct shared_reader s[2] = { { .fd = self->rd }, { .fd = self->rd } };
	uint64_t seen[64] = { 0 };
	int i, j, total;

	/* Non-blocking, so each thread stops once the records run out. */
	ASSERT_EQ(0, fcntl(self->rd, F_SETFL, O_NONBLOCK));
	for (i = 0; i < 60; i++)
		ASSERT_LT(0, push_pub(self->fd, "sh", "x", 1, NULL));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&s[i].thread, NULL,
					    shared_reader_fn, &s[i]));
	for (i = 0; i < 2; i++)
		pthread_join(s[i].thread, NULL);
	total = s[0].count + s[1].count;
	ASSERT_EQ(60, total);
	for (i = 0; i < 2; i++)
		for (j = 0; j < s[i].count; j++) {
			uint64_t k = s[i].ids[j] - self->start;

			ASSERT_GT(60, k);
			ASSERT_EQ(0, seen[k]);
			seen[k] = 1;
		}
}

/* Channel filters: a reader sees only its channels, up to 64 of them. */
FIXTURE(filter) {
	int fd;
	int rd;
	char *buf;
	struct push_msg m[MAX_MSGS];
};

FIXTURE_SETUP(filter)
{
	self->fd = push_open(0);
	ASSERT_NE(-1, self->fd);
	self->rd = push_open(O_NONBLOCK);
	ASSERT_NE(-1, self->rd);
	ASSERT_LT(0, push_seek(self->rd, 0, SEEK_END));
	self->buf = malloc(BUF_SIZE);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(filter)
{
	close(self->rd);
	close(self->fd);
	free(self->buf);
}

/* Only messages of the filter's channels reach the reader, in order. */
TEST_F(filter, only_own_channels)
{
	static const char *const chans[] = { "fa", "fc", "fb", "fab", "f", "default" };
	struct pollfd p = { .fd = self->rd, .events = POLLIN };
	int64_t ids[12];
	int i, n;

	ASSERT_EQ(0, push_set_filter(self->rd, "fa,fb"));
	for (i = 0; i < 12; i++) {
		ids[i] = push_pub(self->fd, chans[i % 6], "m", 1, NULL);
		ASSERT_LT(0, ids[i]);
	}
	n = push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS);
	ASSERT_EQ(4, n);
	ASSERT_EQ(ids[0], self->m[0].id);
	ASSERT_STREQ("fa", self->m[0].chan);
	ASSERT_EQ(ids[2], self->m[1].id);
	ASSERT_STREQ("fb", self->m[1].chan);
	ASSERT_EQ(ids[6], self->m[2].id);
	ASSERT_EQ(ids[8], self->m[3].id);
	/* Other channels do not make it readable. */
	ASSERT_LT(0, push_pub(self->fd, "fc", "m", 1, NULL));
	ASSERT_EQ(0, poll(&p, 1, 0));
	ASSERT_EQ(-1, read(self->rd, self->buf, BUF_SIZE));
	ASSERT_EQ(EAGAIN, errno);
}

/* A blocking filtered reader sleeps through other channels' messages. */
TEST_F(filter, blocking_ignores_others)
{
	struct delayed_pub d;
	int b = push_open(0), n;

	ASSERT_NE(-1, b);
	ASSERT_LT(0, push_seek(b, 0, SEEK_END));
	ASSERT_EQ(0, push_set_filter(b, "mine"));
	ASSERT_LT(0, push_pub(self->fd, "theirs", "no", 2, NULL));
	ASSERT_EQ(0, delayed_pub_start(&d, self->fd, "mine", SYS_read, 0));
	n = push_read_msgs(b, self->buf, BUF_SIZE, self->m, MAX_MSGS);
	pthread_join(d.thread, NULL);
	ASSERT_EQ(1, d.asleep);
	ASSERT_EQ(1, n);
	ASSERT_EQ(d.id, self->m[0].id);
	ASSERT_STREQ("mine", self->m[0].chan);
	close(b);
}

/* 64 channels are accepted, 65 are E2BIG; bad names are EINVAL. */
TEST_F(filter, limits)
{
	char list[PUSH_FILTER_MAX * 8 + 16];
	int i, len = 0;

	for (i = 0; i < PUSH_FILTER_MAX; i++)
		len += sprintf(list + len, "%sc%d", i ? "," : "", i);
	ASSERT_EQ(0, push_set_filter(self->rd, list));
	ASSERT_LT(0, push_pub(self->fd, "c63", "last", 4, NULL));
	ASSERT_LT(0, push_pub(self->fd, "c64", "out", 3, NULL));
	ASSERT_EQ(1, push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS));
	ASSERT_STREQ("c63", self->m[0].chan);

	sprintf(list + len, ",c%d", PUSH_FILTER_MAX);
	ASSERT_EQ(-E2BIG, push_set_filter(self->rd, list));
	ASSERT_EQ(-EINVAL, push_set_filter(self->rd, "ok,bad/name"));
	ASSERT_EQ(-EINVAL, push_set_filter(self->rd, "a b"));
	ASSERT_EQ(-EINVAL, push_set_filter(self->rd, "a,,b"));
	ASSERT_EQ(-EINVAL, push_set_filter(self->rd, "a,"));
	ASSERT_EQ(-EINVAL, push_set_filter(self->rd, ",a"));
	ASSERT_EQ(-EINVAL, push_set_filter(self->rd, ","));
	ASSERT_EQ(-EINVAL, push_set_filter(self->rd,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:"));
	/* A failed call leaves the previous filter in place. */
	ASSERT_LT(0, push_pub(self->fd, "c0", "in", 2, NULL));
	ASSERT_LT(0, push_pub(self->fd, "zz", "out", 3, NULL));
	ASSERT_EQ(1, push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS));
	ASSERT_STREQ("c0", self->m[0].chan);
}

/* Duplicate names are merged: 64 distinct names plus repeats are fine. */
TEST_F(filter, duplicates_merged)
{
	char list[PUSH_FILTER_MAX * 16 + 16];
	struct push_filter f = { 0 };
	int i, len = 0;

	for (i = 0; i < PUSH_FILTER_MAX; i++)
		len += sprintf(list + len, "%sd%d", i ? "," : "", i);
	for (i = 0; i < 10; i++)
		len += sprintf(list + len, ",d%d", i);
	ASSERT_EQ(0, push_set_filter(self->rd, list));
	/* Flags must be 0. */
	f.names = (uintptr_t)"d1";
	f.len = 2;
	f.flags = 1;
	ASSERT_EQ(-1, ioctl(self->rd, PUSH_IOC_SET_FILTER, &f));
	ASSERT_EQ(EINVAL, errno);
	/* A bad address. */
	f.flags = 0;
	f.names = 8;
	ASSERT_EQ(-1, ioctl(self->rd, PUSH_IOC_SET_FILTER, &f));
	ASSERT_EQ(EFAULT, errno);
}

/* Setting a filter does not move the cursor. */
TEST_F(filter, keeps_cursor)
{
	int64_t c = push_seek(self->rd, 0, SEEK_CUR), id;

	ASSERT_LT(0, c);
	id = push_pub(self->fd, "kc", "1", 1, NULL);
	ASSERT_EQ(c, id);
	ASSERT_EQ(0, push_set_filter(self->rd, "kc"));
	ASSERT_EQ(c, push_seek(self->rd, 0, SEEK_CUR));
	ASSERT_EQ(1, push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS));
	ASSERT_EQ(id, self->m[0].id);
}

/* A filter of length 0 clears it: every channel again. */
TEST_F(filter, clear)
{
	ASSERT_EQ(0, push_set_filter(self->rd, "only"));
	ASSERT_LT(0, push_pub(self->fd, "other", "1", 1, NULL));
	ASSERT_EQ(-1, read(self->rd, self->buf, BUF_SIZE));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, push_set_filter(self->rd, NULL));
	ASSERT_LT(0, push_pub(self->fd, "other", "2", 1, NULL));
	ASSERT_LT(0, push_pub(self->fd, "only", "3", 1, NULL));
	ASSERT_EQ(2, push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS));
	ASSERT_STREQ("other", self->m[0].chan);
	ASSERT_EQ('2', self->m[0].data[0]);
	ASSERT_STREQ("only", self->m[1].chan);
}

TEST_HARNESS_MAIN
