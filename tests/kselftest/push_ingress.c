// SPDX-License-Identifier: GPL-2.0
/*
 * push_ingress - cluster mode and the ingress queue (docs/CLUSTER.md):
 *
 *   - cluster mode off (the default): publishes reach readers as always
 *     and nothing is queued;
 *   - on: write(), writev() and PUSH_IOC_PUBLISH are queued in order with
 *     local seqs, readers see nothing until the bridge applies them with
 *     PUSH_IOC_PUBLISH_ID (allowed on the ingress node without caps);
 *   - the ingress node: one opener (EBUSY), records in seq order,
 *     ACK only of what was read (EINVAL), unacknowledged entries read
 *     again after a reopen; SET_CLUSTER 0 is EBUSY while entries wait;
 *   - bounded: a full queue gives EAGAIN with O_NONBLOCK (write and
 *     PUBLISH), poll() stops reporting POLLOUT, and a blocking write
 *     sleeps until an ACK makes room, then is queued after the others;
 *     nothing accepted is lost; sysfs cluster, ingress_queued/bytes;
 *   - a signal ends a writer's wait with EINTR, queues nothing, and is
 *     not counted as rejected;
 *   - while entries are queued the module cannot be unloaded (refcnt);
 *   - unprivileged: SET_CLUSTER EPERM, the ingress node EACCES.
 *
 * Uses /dev/push2 only (push_cluster shares this boot: same vm-params).
 * ingress_size=16384 holds four records of a 4000-byte payload on a
 * one-letter channel (4040 bytes each).
 *
 * vm-params: ring_size=131072 max_msg_size=4096 devices=3 ingress_size=16384
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "push_util.h"

#define DEV2		"/dev/push2"
#define ING2		"/dev/push2-ingress"
#define BUF_SIZE	(64 << 10)
#define BIG		4000
#define BIG_REC		4040
#define STATS2		"/sys/class/misc/push2/stats/"

/* poll() of @fd for writing, without waiting: 1 writable, 0 not. */
static int writable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLOUT);
}

static int ingress_info(int fd, struct push_ingress_info *ii)
{
	memset(ii, 0, sizeof(*ii));
	return ioctl(fd, PUSH_IOC_INGRESS_INFO, ii) ? -errno : 0;
}

static int set_cluster(int fd, uint32_t on)
{
	return ioctl(fd, PUSH_IOC_SET_CLUSTER, &on) ? -errno : 0;
}

static int ack(int fd, uint64_t seq)
{
	return ioctl(fd, PUSH_IOC_INGRESS_ACK, &seq) ? -errno : 0;
}

static int64_t pub_id(int fd, const char *chan, const void *data,
		      size_t len, uint64_t id)
{
	struct push_publish p;

	memset(&p, 0, sizeof(p));
	p.data = (uintptr_t)data;
	p.data_len = len;
	p.chan_len = strlen(chan);
	memcpy(p.channel, chan, p.chan_len);
	p.id = id;
	if (ioctl(fd, PUSH_IOC_PUBLISH_ID, &p))
		return -errno;
	return p.id;
}

static int open2(int flags)
{
	return open(DEV2, O_RDWR | O_CLOEXEC | flags);
}

TEST(off_unchanged)
{
	struct push_ingress_info ii;
	char buf[BUF_SIZE];
	struct push_msg m[4];
	int fd, rd, ing;
	uint64_t n;

	fd = open2(O_NONBLOCK);
	if (fd < 0)
		SKIP(return, "no %s (load with devices=3)", DEV2);
	rd = open2(O_NONBLOCK);
	ing = open(ING2, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, ing);
	ASSERT_EQ(0, ingress_info(fd, &ii));
	ASSERT_EQ(0, ii.cluster);
	ASSERT_EQ(1, ii.opened);
	ASSERT_NE(0, ii.epoch);
	ASSERT_EQ(16384, ii.max_bytes);
	ASSERT_LT(0, push_seek(rd, 0, SEEK_END));
	n = push_next_id(fd);
	ASSERT_EQ(7, push_write_str(fd, "@c off\n"));
	ASSERT_EQ(1, push_read_msgs(rd, buf, sizeof(buf), m, 4));
	ASSERT_EQ(n, m[0].id);
	ASSERT_EQ(-1, read(ing, buf, sizeof(buf)));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, ingress_info(fd, &ii));
	ASSERT_EQ(0, ii.queued);
	ASSERT_EQ(1, ii.next_seq);
	ASSERT_EQ(-ENOTTY, ack(fd, 1));
	close(ing);
	close(rd);
	close(fd);
}

TEST(queue_order)
{
	struct push_ingress_info ii;
	char buf[BUF_SIZE];
	struct push_msg m[8];
	struct push_publish p;
	struct iovec iov[2] = {
		{ .iov_base = "@c wr", .iov_len = 5 },
		{ .iov_base = "itev", .iov_len = 4 },
	};
	int fd, rd, ing, ing2;
	uint64_t n, s;

	fd = open2(O_NONBLOCK);
	rd = open2(O_NONBLOCK);
	ing = open(ING2, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, ing);
	ASSERT_EQ(-1, open(ING2, O_RDWR | O_CLOEXEC));
	ASSERT_EQ(EBUSY, errno);
	ASSERT_EQ(0, set_cluster(fd, 1));
	ASSERT_EQ(-EINVAL, set_cluster(fd, 2));
	ASSERT_LT(0, push_seek(rd, 0, SEEK_END));
	n = push_next_id(fd);
	ASSERT_EQ(0, ingress_info(ing, &ii));
	ASSERT_EQ(1, ii.cluster);
	s = ii.next_seq;

	ASSERT_EQ(8, push_write_str(fd, "@c first"));
	ASSERT_EQ(9, writev(fd, iov, 2));
	ASSERT_EQ(0, push_pub(fd, "d", "third", 5, &p));
	ASSERT_LT(0, p.time_ns);
	/* Readers see nothing, and no id was used. */
	ASSERT_EQ(-EAGAIN, push_read_msgs(rd, buf, sizeof(buf), m, 8));
	ASSERT_EQ(n, push_next_id(fd));
	ASSERT_EQ(0, ingress_info(ing, &ii));
	ASSERT_EQ(3, ii.queued);
	ASSERT_EQ(s + 3, ii.next_seq);
	ASSERT_EQ(40 + 40 + 40, ii.bytes);
	ASSERT_LT(0, ii.oldest_ns);

	ASSERT_EQ(-EINVAL, ack(ing, s));	/* not read yet */
	ASSERT_EQ(3, push_read_msgs(ing, buf, sizeof(buf), m, 8));
	ASSERT_EQ(s, m[0].id);
	ASSERT_STREQ("c", m[0].chan);
	ASSERT_EQ(0, memcmp(m[0].data, "first", 5));
	ASSERT_EQ(s + 1, m[1].id);
	ASSERT_EQ(0, memcmp(m[1].data, "writev", 6));
	ASSERT_EQ(s + 2, m[2].id);
	ASSERT_STREQ("d", m[2].chan);
	ASSERT_EQ(p.time_ns, m[2].time_ns);
	ASSERT_EQ(-EAGAIN, push_read_msgs(ing, buf, sizeof(buf), m, 8));

	ASSERT_EQ(-EINVAL, ack(ing, s + 3));
	ASSERT_EQ(0, ack(ing, s + 1));
	ASSERT_EQ(0, ingress_info(ing, &ii));
	ASSERT_EQ(1, ii.queued);
	ASSERT_EQ(s + 1, ii.acked);
	ASSERT_EQ(-EBUSY, set_cluster(fd, 0));

	/* A restarted bridge reads again what it had not acknowledged. */
	close(ing);
	ing2 = open(ING2, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, ing2);
	ASSERT_EQ(1, push_read_msgs(ing2, buf, sizeof(buf), m, 8));
	ASSERT_EQ(s + 2, m[0].id);

	/* The bridge applies it with the stream's id, no caps needed here. */
	ASSERT_EQ(n + 5, pub_id(ing2, "d", "third", 5, n + 5));
	ASSERT_EQ(0, ack(ing2, s + 2));
	ASSERT_EQ(2, push_read_msgs(rd, buf, sizeof(buf), m, 8));
	ASSERT_EQ(PUSH_REC_GAP, m[0].type);
	ASSERT_EQ(n + 5, m[1].id);
	ASSERT_EQ(0, memcmp(m[1].data, "third", 5));
	ASSERT_EQ(0, set_cluster(ing2, 0));
	ASSERT_EQ((int64_t)n + 6, push_pub(fd, "d", "direct", 6, NULL));
	close(ing2);
	close(rd);
	close(fd);
}

struct writer {
	int fd;
	pid_t tid;
	ssize_t ret;
	char *buf;
};

static void *blocking_write(void *arg)
{
	struct writer *w = arg;

	__atomic_store_n(&w->tid, syscall(SYS_gettid), __ATOMIC_RELEASE);
	w->ret = write(w->fd, w->buf, 2 + BIG);
	if (w->ret < 0)
		w->ret = -errno;
	return NULL;
}

/*
 * Starts a thread writing "@CHAN x..." (2 + BIG bytes, in @buf) to @fd and
 * waits until it sleeps in write(): the queue is full.  0, or -1.
 */
static int start_blocked_writer(struct writer *w, pthread_t *t, int fd, char *buf, char chan)
{
	w->fd = fd;
	w->buf = buf;
	buf[0] = '@';
	buf[1] = chan;
	buf[2] = ' ';
	if (pthread_create(t, NULL, blocking_write, w))
		return -1;
	while (!__atomic_load_n(&w->tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	return push_wait_asleep(w->tid, SYS_write);
}

TEST(bounded)
{
	static char big[3 + BIG], buf[BUF_SIZE];
	struct push_ingress_info ii;
	struct push_publish p;
	struct push_msg m[8];
	struct writer w = {};
	pthread_t t;
	int fd, blk, ing, i;
	int64_t rejected;
	uint64_t s;

	fd = open2(O_NONBLOCK);
	blk = open2(0);
	ing = open(ING2, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, ing);
	memset(big, 'x', sizeof(big));
	memcpy(big, "@f ", 3);
	ASSERT_EQ(1, writable(fd));
	ASSERT_EQ(0, set_cluster(fd, 1));
	ASSERT_EQ(1, push_read_u64(STATS2 "cluster"));
	ASSERT_EQ(0, ingress_info(ing, &ii));
	s = ii.next_seq;
	ASSERT_EQ(1, writable(fd));
	for (i = 0; i < 3; i++) {
		big[3] = 'a' + i;
		ASSERT_EQ(3 + BIG, write(fd, big, 3 + BIG));
	}
	/* 3 * 4040 + 4192 (the largest record) <= 16384: writable. */
	ASSERT_EQ(1, writable(fd));
	ASSERT_EQ(3, push_read_u64(STATS2 "ingress_queued"));
	ASSERT_EQ(3 * BIG_REC, push_read_u64(STATS2 "ingress_bytes"));
	rejected = push_read_u64("/sys/class/misc/push2/stats/rejected");
	for (i = 3; i < 4; i++) {
		big[3] = 'a' + i;
		ASSERT_EQ(3 + BIG, write(fd, big, 3 + BIG));
	}
	/* 4 * 4040 + 4192 > 16384: no longer. */
	ASSERT_EQ(0, writable(fd));
	ASSERT_EQ(-1, write(fd, big, 3 + BIG));
	ASSERT_EQ(EAGAIN, errno);
	memset(&p, 0, sizeof(p));
	p.data = (uintptr_t)big;
	p.data_len = BIG;
	p.chan_len = 1;
	p.channel[0] = 'f';
	ASSERT_EQ(-1, ioctl(fd, PUSH_IOC_PUBLISH, &p));
	ASSERT_EQ(EAGAIN, errno);
	/* A small one still fits. */
	ASSERT_EQ(4, push_write_str(fd, "@f s"));
	ASSERT_EQ(0, ingress_info(ing, &ii));
	ASSERT_EQ(5, ii.queued);
	ASSERT_EQ(4 * BIG_REC + 40, ii.bytes);
	ASSERT_EQ(rejected,
		  push_read_u64("/sys/class/misc/push2/stats/rejected"));

	/* Without O_NONBLOCK the writer sleeps until an ACK makes room. */
	/* "@g x...": BIG - 1 bytes on channel g */
	ASSERT_EQ(0, start_blocked_writer(&w, &t, blk, big + 1, 'g'));
	ASSERT_EQ(0, ingress_info(ing, &ii));
	ASSERT_EQ(5, ii.queued);
	ASSERT_EQ(1, push_read_msgs(ing, buf, BIG_REC, m, 8));
	ASSERT_EQ(s, m[0].id);
	ASSERT_EQ('a', m[0].data[0]);
	/* 16200 - 4040 + 4032 <= 16384: this ACK makes room for it. */
	ASSERT_EQ(0, ack(ing, s));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(2 + BIG, w.ret);

	/* Everything accepted, in order, the late writer last. */
	ASSERT_EQ(5, push_read_msgs(ing, buf, sizeof(buf), m, 8));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(s + 1 + i, m[i].id);
		ASSERT_EQ('b' + i, m[i].data[0]);
	}
	ASSERT_EQ(s + 4, m[3].id);
	ASSERT_EQ(1, m[3].len);
	ASSERT_EQ(s + 5, m[4].id);
	ASSERT_STREQ("g", m[4].chan);
	ASSERT_EQ(BIG - 1, m[4].len);
	ASSERT_EQ(0, writable(fd));
	ASSERT_EQ(0, ack(ing, s + 5));
	ASSERT_EQ(1, writable(fd));
	ASSERT_EQ(0, ingress_info(ing, &ii));
	ASSERT_EQ(0, ii.queued);
	ASSERT_EQ(0, ii.bytes);
	ASSERT_EQ(0, push_read_u64(STATS2 "ingress_queued"));
	ASSERT_EQ(0, set_cluster(fd, 0));
	ASSERT_EQ(0, push_read_u64(STATS2 "cluster"));
	close(ing);
	close(blk);
	close(fd);
}

static void on_signal(int sig)
{
	(void)sig;
}

/* A signal ends a writer's wait: EINTR, nothing queued, not "rejected". */
TEST(signal_while_full)
{
	static char big[3 + BIG], buf[BUF_SIZE];
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	struct push_ingress_info ii;
	struct push_msg m[8];
	struct writer w = {};
	int64_t rejected;
	int fd, blk, ing, i;
	pthread_t t;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	fd = open2(O_NONBLOCK);
	blk = open2(0);
	ing = open(ING2, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, ing);
	memset(big, 'x', sizeof(big));
	memcpy(big, "@h ", 3);
	ASSERT_EQ(0, set_cluster(fd, 1));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(3 + BIG, write(fd, big, 3 + BIG));
	rejected = push_read_u64(STATS2 "rejected");
	ASSERT_EQ(0, start_blocked_writer(&w, &t, blk, big + 1, 'h'));
	ASSERT_EQ(0, pthread_kill(t, SIGUSR1));
	ASSERT_EQ(0, pthread_join(t, NULL));
	ASSERT_EQ(-EINTR, w.ret);
	ASSERT_EQ(rejected, push_read_u64(STATS2 "rejected"));
	ASSERT_EQ(0, ingress_info(ing, &ii));
	ASSERT_EQ(4, ii.queued);
	ASSERT_EQ(4, push_read_msgs(ing, buf, sizeof(buf), m, 8));
	ASSERT_EQ(0, ack(ing, m[3].id));
	ASSERT_EQ(-EAGAIN, push_read_msgs(ing, buf, sizeof(buf), m, 8));
	ASSERT_EQ(0, set_cluster(fd, 0));
	close(ing);
	close(blk);
	close(fd);
}

/* Queued entries keep the module loaded: rmmod would drop them. */
TEST(pins_module)
{
	char buf[BUF_SIZE];
	struct push_msg m[4];
	int64_t base, seq;
	int fd, ing;

	base = push_read_u64("/sys/module/push/refcnt");
	ASSERT_LE(0, base);
	fd = open2(O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, set_cluster(fd, 1));
	ASSERT_EQ(6, push_write_str(fd, "@p pin"));
	ASSERT_EQ(6, push_write_str(fd, "@p two"));
	close(fd);
	ASSERT_EQ(base + 1, push_read_u64("/sys/module/push/refcnt"));
	ing = open(ING2, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, ing);
	ASSERT_EQ(2, push_read_msgs(ing, buf, sizeof(buf), m, 4));
	seq = m[0].id;
	ASSERT_EQ(0, ack(ing, seq));
	ASSERT_EQ(base + 2, push_read_u64("/sys/module/push/refcnt"));
	ASSERT_EQ(0, ack(ing, seq + 1));
	ASSERT_EQ(base + 1, push_read_u64("/sys/module/push/refcnt"));
	ASSERT_EQ(0, set_cluster(ing, 0));
	close(ing);
	ASSERT_EQ(base, push_read_u64("/sys/module/push/refcnt"));
}

TEST(unprivileged)
{
	int fd, status;
	pid_t pid;

	fd = open2(0);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (push_drop_to_nobody())
			_exit(10);
		if (set_cluster(fd, 1) != -EPERM)
			_exit(11);
		if (open(ING2, O_RDWR) != -1 || errno != EACCES)
			_exit(12);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	close(fd);
}

TEST_HARNESS_MAIN
