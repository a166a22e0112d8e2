// SPDX-License-Identifier: GPL-2.0
/*
 * push_modes - what each open mode allows, and lseek() waking waiters.
 *
 *   - PUSH_IOC_PUBLISH on a file opened O_RDONLY fails with EBADF (a 0640
 *     node must not let its group publish); SET_FILTER on O_WRONLY too.
 *   - lseek() back to retained messages wakes a read() and an
 *     epoll_wait() already blocked on the same file at the end.
 *   - writev() of 0 bytes returns 0 and publishes nothing (the VFS answers
 *     it before the driver, see docs/ABI.txt); write() of 0 bytes EINVAL.
 *
 * Run as root with the module loaded: build/tests/kselftest/push_modes
 */
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "kselftest_harness.h"
#include "push_util.h"

#define WAKE_MS	2000	/* a woken waiter returns well within this */

TEST(publish_needs_write_mode)
{
	int ro = open(PUSH_DEV, O_RDONLY | O_CLOEXEC);
	int wo = open(PUSH_DEV, O_WRONLY | O_CLOEXEC);
	uint64_t before;

	ASSERT_LE(0, ro);
	ASSERT_LE(0, wo);
	before = push_next_id(ro);
	ASSERT_EQ(-EBADF, push_pub(ro, "modes", "x", 1, NULL));
	ASSERT_EQ(before, push_next_id(ro));
	/* A filter is for reading. */
	ASSERT_EQ(-EBADF, push_set_filter(wo, "modes"));
	/* What each mode does allow. */
	ASSERT_LT(0, push_pub(wo, "modes", "x", 1, NULL));
	ASSERT_EQ(0, push_set_filter(ro, "modes"));
	ASSERT_LT(0, push_seek(wo, 0, SEEK_END));
	ASSERT_NE(0, push_next_id(wo));
	close(ro);
	close(wo);
}

struct waiter {
	int fd;
	int ep;			/* epoll instance, or -1 to read() */
	pid_t tid;
	ssize_t ret;
	int done;		/* eventfd-free flag, set at the end */
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	struct epoll_event ev;
	char buf[4096];

	w->tid = syscall(SYS_gettid);
	if (w->ep < 0)
		w->ret = read(w->fd, buf, sizeof(buf));
	else
		w->ret = epoll_wait(w->ep, &ev, 1, -1);
	pthread_mutex_lock(&w->lock);
	w->done = 1;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* 1 if the waiter finished within @ms. */
static int waiter_wait(struct waiter *w, int ms)
{
	struct timespec ts;
	int done;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	while (!w->done)
		if (pthread_cond_timedwait(&w->cond, &w->lock, &ts))
			break;
	done = w->done;
	pthread_mutex_unlock(&w->lock);
	return done;
}

/* A waiter blocked at the end wakes when its file seeks back. */
static void seek_wakes(struct __test_metadata *_metadata, int use_epoll)
{
	struct waiter w = { .ep = -1, .lock = PTHREAD_MUTEX_INITIALIZER,
			    .cond = PTHREAD_COND_INITIALIZER };
	struct epoll_event ev = { .events = EPOLLIN };
	pthread_t t;
	int wr, woke;
	int64_t id;

	wr = push_open(0);
	ASSERT_LE(0, wr);
	id = push_pub(wr, "modes", "old", 3, NULL);
	ASSERT_LT(0, id);
	w.fd = push_open(0);
	ASSERT_LE(0, w.fd);
	ASSERT_LT(0, push_seek(w.fd, 0, SEEK_END));
	if (use_epoll) {
		w.ep = epoll_create1(EPOLL_CLOEXEC);
		ASSERT_LE(0, w.ep);
		ASSERT_EQ(0, epoll_ctl(w.ep, EPOLL_CTL_ADD, w.fd, &ev));
	}
	ASSERT_EQ(0, pthread_create(&t, NULL, waiter_main, &w));
	while (!__atomic_load_n(&w.tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	ASSERT_EQ(0, push_wait_asleep(w.tid, use_epoll ? SYS_epoll_wait : SYS_read));
	ASSERT_EQ(id, push_seek(w.fd, id, SEEK_SET));
	woke = waiter_wait(&w, WAKE_MS);
	if (!woke) {
		/* Unblock it with a message, then fail. */
		ASSERT_LT(0, push_pub(wr, "modes", "unblock", 7, NULL));
		ASSERT_EQ(1, waiter_wait(&w, 20000));
	}
	pthread_join(t, NULL);
	ASSERT_EQ(1, woke);
	if (use_epoll) {
		ASSERT_EQ(1, w.ret);
		close(w.ep);
	} else {
		ASSERT_LT(0, w.ret);
	}
	close(w.fd);
	close(wr);
}

TEST(lseek_wakes_read)
{
	seek_wakes(_metadata, 0);
}

TEST(lseek_wakes_epoll)
{
	seek_wakes(_metadata, 1);
}

TEST(zero_length_writes)
{
	struct iovec iov[2] = { { "", 0 }, { "", 0 } };
	uint64_t before;
	int fd = push_open(0);

	ASSERT_LE(0, fd);
	before = push_next_id(fd);
	ASSERT_EQ(-1, write(fd, "", 0));
	ASSERT_EQ(EINVAL, errno);
	/* fs/read_write.c returns 0 for an empty vector, before the driver. */
	ASSERT_EQ(0, writev(fd, iov, 2));
	ASSERT_EQ(before, push_next_id(fd));
	close(fd);
}

TEST_HARNESS_MAIN
