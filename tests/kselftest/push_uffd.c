// SPDX-License-Identifier: GPL-2.0
/*
 * push_uffd - a reader whose buffer never faults in cannot stall the bus.
 *
 * A reader thread read()s into a page registered with userfaultfd and
 * left missing, so its copy to user space sleeps in the fault for as long
 * as the test wants.  Meanwhile, from other threads, a publish, open(),
 * PUSH_IOC_INFO, poll() (of the stuck file and of another), the sysfs
 * counters and lseek()/SET_FILTER of another file must all complete within
 * 1 s.  Then the test serves the fault, and the reader must get its
 * records.  A module that copies to user space under a lock publishers
 * need fails here: the publish waits for the fault (the test then serves
 * it, so that nothing stays stuck, and reports the failure).
 *
 * Needs root (userfaultfd handling kernel-mode faults).
 * Run as root with the module loaded: build/tests/kselftest/push_uffd
 */
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "kselftest_harness.h"
#include "push_util.h"

#define STEP_NS	1000000000ull	/* every step must finish within 1 s */

enum step { STEP_PUBLISH, STEP_OPEN, STEP_INFO, STEP_POLL, STEP_STATS,
	    STEP_SEEK, STEP_FILTER, STEP_MAX };

static const char *const step_name[STEP_MAX] = {
	"publish", "open", "PUSH_IOC_INFO", "poll", "sysfs stats", "lseek",
	"SET_FILTER",
};

struct uffd_ctx {
	int rd;			/* the stuck reader's file */
	void *page;		/* its buffer: registered, missing */
	ssize_t got;		/* what its read() returned */
	int err;
	int step_fd[STEP_MAX];	/* eventfds: step i finished */
	int64_t published;
};

static void *reader_main(void *arg)
{
	struct uffd_ctx *c = arg;

	c->got = read(c->rd, c->page, 4096);
	c->err = c->got < 0 ? errno : 0;
	return NULL;
}

static void done(struct uffd_ctx *c, enum step s)
{
	uint64_t one = 1;

	if (write(c->step_fd[s], &one, sizeof(one)) != sizeof(one))
		abort();
}

/* Each operation the stuck reader must not hold up, one after another. */
static void *others_main(void *arg)
{
	struct uffd_ctx *c = arg;
	struct pollfd pfd[2];
	struct push_info info;
	int fd, fd2;

	fd = push_open(0);
	c->published = push_pub(fd, "uffd", "after", 5, NULL);
	done(c, STEP_PUBLISH);
	fd2 = push_open(O_NONBLOCK);
	done(c, STEP_OPEN);
	push_get_info(fd2, &info);
	done(c, STEP_INFO);
	pfd[0] = (struct pollfd){ .fd = c->rd, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = fd2, .events = POLLIN };
	poll(pfd, 2, 0);
	done(c, STEP_POLL);
	push_stat("next_id");
	push_stat("ring_used");
	push_stat("retained");
	done(c, STEP_STATS);
	push_seek(fd2, 0, SEEK_SET);
	done(c, STEP_SEEK);
	push_set_filter(fd2, "uffd,other");
	done(c, STEP_FILTER);
	close(fd2);
	close(fd);
	return NULL;
}

/* Waits for eventfd @fd until @deadline_ns (CLOCK_MONOTONIC); 0 or -1. */
static int wait_step(int fd, uint64_t deadline_ns)
{
	uint64_t now = push_now_ns(CLOCK_MONOTONIC), v;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ms;

	ms = now >= deadline_ns ? 0 : (int)((deadline_ns - now) / 1000000) + 1;
	if (poll(&p, 1, ms) != 1)
		return -1;
	return read(fd, &v, sizeof(v)) == sizeof(v) ? 0 : -1;
}

TEST(stuck_reader_stalls_nobody)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };
	struct uffdio_zeropage zp = { 0 };
	struct uffd_ctx c = { 0 };
	struct push_msg m[4];
	struct uffd_msg msg;
	struct pollfd p;
	pthread_t reader, others;
	int uffd, wr, i, n, late = -1;
	int64_t first;

	if (geteuid())
		SKIP(return, "needs root for userfaultfd of kernel faults");
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (uffd < 0)
		SKIP(return, "userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_API, &api));
	c.page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, c.page);
	reg.range.start = (uintptr_t)c.page;
	reg.range.len = 4096;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));
	for (i = 0; i < STEP_MAX; i++) {
		c.step_fd[i] = eventfd(0, EFD_CLOEXEC);
		ASSERT_LE(0, c.step_fd[i]);
	}

	/* A message for the reader to copy, so that its read() faults. */
	wr = push_open(0);
	ASSERT_LE(0, wr);
	c.rd = push_open(0);
	ASSERT_LE(0, c.rd);
	ASSERT_LT(0, push_seek(c.rd, 0, SEEK_END));
	first = push_pub(wr, "uffd", "before", 6, NULL);
	ASSERT_LT(0, first);
	ASSERT_EQ(0, pthread_create(&reader, NULL, reader_main, &c));

	/* The reader is in the fault once userfaultfd reports it. */
	p = (struct pollfd){ .fd = uffd, .events = POLLIN };
	ASSERT_EQ(1, poll(&p, 1, 20000));
	ASSERT_EQ(sizeof(msg), read(uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);

	ASSERT_EQ(0, pthread_create(&others, NULL, others_main, &c));
	for (i = 0; i < STEP_MAX; i++) {
		uint64_t deadline = push_now_ns(CLOCK_MONOTONIC) + STEP_NS;

		if (wait_step(c.step_fd[i], deadline)) {
			late = i;
			break;
		}
	}
	/* Serve the fault whatever happened, so that nothing stays stuck. */
	zp.range.start = msg.arg.pagefault.address & ~4095ull;
	zp.range.len = 4096;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_ZEROPAGE, &zp));
	ASSERT_EQ(0, pthread_join(others, NULL));
	ASSERT_EQ(0, pthread_join(reader, NULL));
	if (late >= 0)
		TH_LOG("%s took more than 1 s while a reader was stuck in a fault",
		       step_name[late]);
	ASSERT_EQ(-1, late);

	/* The reader got the records: "before" and perhaps "after". */
	ASSERT_EQ(0, c.err);
	n = push_parse(c.page, c.got, m, 4);
	ASSERT_LE(1, n);
	ASSERT_EQ(first, m[0].id);
	ASSERT_EQ(0, memcmp("before", m[0].data, 6));
	ASSERT_LT(first, c.published);
	for (i = 0; i < STEP_MAX; i++)
		close(c.step_fd[i]);
	close(c.rd);
	close(wr);
	close(uffd);
	munmap(c.page, 4096);
}

TEST_HARNESS_MAIN
