// SPDX-License-Identifier: GPL-2.0
/*
 * hub_thread.c - the hub's thread: read /dev/push, tick, drive the sockets
 * transports hand over.  One io_uring with four kinds of requests:
 *
 *   HUB_DEV    how the device is waited for, by one of two readers
 *              (--reader):
 *              mmap: a one-shot poll of the device fd.  The records are
 *              read in place from the read-only mapping of the history
 *              (devread.c), with no system call while any are new; once
 *              caught up, the fd's cursor is moved to the next id expected
 *              (lseek) and polled: POLLIN then says exactly that newer
 *              records exist (docs/ABI.txt, "poll()").
 *              read: a read() into a 256 KiB buffer.  The module sets
 *              FMODE_NOWAIT, so io_uring tries the read without blocking
 *              and, when nothing is ready, arms poll on the file and
 *              retries when a message lands.  One read returns thousands
 *              of records.
 *              Neither needs a worker thread or a busy loop.
 *   HUB_EPOLL  a one-shot poll of the epoll set holding the sockets that
 *              transports drive themselves; re-armed after each harvest.
 *   HUB_TICK   a 1 s timeout: heartbeats and long-poll deadlines.
 *   HUB_WAKE   a read of an eventfd, to stop the loop.
 *
 * A batch is handled in two passes: first every record is encoded once
 * (devread.c, item.c) without the lock; then hub_fanout() (hub.c) queues
 * each item by reference on the subscribers of its channel.
 */
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/counters.h"
#include "core/devread.h"
#include "core/hub.h"
#include "core/hub_thread.h"
#include "protocol/record.h"

#define HUB_BUF_MIN	(256 * 1024)

enum { HUB_DEV = 1, HUB_EPOLL, HUB_TICK, HUB_WAKE };

/* The thread's own state: only it (and init/stop, before and after it) touch it. */
static struct {
	int devfd, epfd, wakefd;
	uint8_t *buf;			/* read: the buffer */
	size_t buflen;			/* its size, and the mmap reader's batch */
	bool mmap;			/* the mmap reader */
	bool polling;			/* mmap: the poll of the device is armed */
	uint64_t sought;		/* mmap: the id the fd's cursor was moved to */
	struct push_ring map;		/* mmap: the mapping */
	struct io_uring ring;
	struct __kernel_timespec tick;
	uint64_t wakebuf;
	pthread_t thread;
	int running;
	_Atomic int stopping;
	_Atomic int dev_err;		/* errno of the failing device read, 0 when fine */
	_Atomic int dev_gone;		/* the device ended: pushd exits non-zero */
	_Atomic uint64_t last_tick;	/* monotonic seconds of the last tick */
} loop = { .devfd = -1, .epfd = -1, .wakefd = -1 };

static uint64_t now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* --- sockets of the transports ------------------------------------------ */

int hub_watch_add(struct hub_watch *w)
{
	struct epoll_event ev = { .events = w->events, .data.ptr = w };

	return epoll_ctl(loop.epfd, EPOLL_CTL_ADD, w->fd, &ev) ? -errno : 0;
}

int hub_watch_mod(struct hub_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (w->events == events)
		return 0;
	w->events = events;
	return epoll_ctl(loop.epfd, EPOLL_CTL_MOD, w->fd, &ev) ? -errno : 0;
}

void hub_watch_del(struct hub_watch *w)
{
	epoll_ctl(loop.epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

/* --- the loop --------------------------------------------------------------- */

/* Get an SQE, submitting what is queued if the ring is full. */
static struct io_uring_sqe *hub_sqe(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&loop.ring);

	if (!sqe) {
		io_uring_submit(&loop.ring);
		sqe = io_uring_get_sqe(&loop.ring);
	}
	return sqe;
}

static void hub_arm(int op)
{
	struct io_uring_sqe *sqe = hub_sqe();

	if (!sqe)
		return;
	switch (op) {
	case HUB_DEV:
		if (loop.mmap) {
			io_uring_prep_poll_add(sqe, loop.devfd, POLLIN);
			loop.polling = true;
			break;
		}
		/* offset -1: the file's own position, i.e. the reader's cursor */
		io_uring_prep_read(sqe, loop.devfd, loop.buf, (unsigned int)loop.buflen, (__u64)-1);
		break;
	case HUB_EPOLL:
		io_uring_prep_poll_add(sqe, loop.epfd, POLLIN);
		break;
	case HUB_TICK:
		io_uring_prep_timeout(sqe, &loop.tick, 0, 0);
		break;
	case HUB_WAKE:
		io_uring_prep_read(sqe, loop.wakefd, &loop.wakebuf, sizeof(loop.wakebuf), 0);
		break;
	}
	io_uring_sqe_set_data64(sqe, (__u64)op);
}

/* A failed wait or read of the device: said once; a device that is gone ends pushd. */
static void hub_dev_error(int res)
{
	/* once, not every retry: /healthz says it as long as it lasts */
	if (!loop.dev_err)
		fprintf(stderr, "pushd: read %s: %s\n", pushd_cfg.device,
			res ? strerror(-res) : "end of file");
	loop.dev_err = res ? -res : ENODEV;
	if (res == 0 || res == -ENODEV || res == -EBADF || res == -ENXIO) {
		fprintf(stderr, "pushd: %s is gone, exiting\n", pushd_cfg.device);
		loop.dev_gone = 1;
		kill(getpid(), SIGTERM);
	}
}

static void hub_dev_ok(void)
{
	if (loop.dev_err) {
		fprintf(stderr, "pushd: read %s: working again\n", pushd_cfg.device);
		loop.dev_err = 0;
	}
}

/* Counts a batch, then fans it out (pass 2, locked: references on the subscribers). */
static void hub_batch_done(struct devread *b)
{
	stat_add(&pushd_stats.reads, 1);
	stat_add(&pushd_stats.bytes_in, b->bytes);
	stat_add(&pushd_stats.msgs_in, b->msgs);
	stat_add(&pushd_stats.gaps_in, b->gaps);
	if (b->n || b->lost)
		hub_fanout(b->items, b->n, b->lost);
	devread_free(b);
}

static void hub_read_done(int res)
{
	struct devread b;
	size_t bad;

	if (res == -EAGAIN || res == -EINTR)
		return;
	if (res <= 0) {
		hub_dev_error(res);
		return;
	}
	hub_dev_ok();
	devread_init(&b);
	b.bytes = (uint64_t)res;
	/* pass 1, no lock: encode every record once */
	if (devread_parse(&b, loop.buf, (size_t)res, &bad))
		fprintf(stderr, "pushd: malformed record from %s at offset %zu\n",
			pushd_cfg.device, bad);
	hub_batch_done(&b);
}

/* The mmap reader: one batch of what the ring holds, encoded in place. */
static void hub_ring_batch(void)
{
	struct devread b;
	ssize_t n;

	devread_init(&b);
	n = devread_ring(&b, &loop.map, loop.buflen);
	if (n > 0)
		hub_dev_ok();
	if (n < 0) {
		static unsigned int said;
		uint64_t pos = loop.map.pos, from, to;

		/* a kernel bug: say it (not a line per batch), skip it, say what was lost */
		devread_ring_skip(&b, &loop.map, &from, &to);
		if (said++ < 10)
			fprintf(stderr, "pushd: malformed record in the mapping of %s at position %llu:"
				" ids %llu-%llu skipped, subscribers told\n", pushd_cfg.device,
				(unsigned long long)pos, (unsigned long long)from,
				(unsigned long long)to - 1);
	}
	hub_batch_done(&b);
}

/*
 * The mmap reader, before the loop waits: true if records are new (no
 * wait then), else the fd's cursor is at the next id expected and its poll
 * armed, so that POLLIN means exactly "newer records".
 */
static bool hub_ring_ready(void)
{
	uint64_t next;

	if (push_ring_ready(&loop.map))
		return true;
	next = devread_ring_next(&loop.map);
	if (next != loop.sought) {
		if (lseek(loop.devfd, (off_t)next, SEEK_SET) < 0) {
			hub_dev_error(-errno);
			return false;
		}
		loop.sought = next;
		hub_dev_ok();
		/* one may have landed before the cursor moved: poll would see it too */
		if (push_ring_ready(&loop.map))
			return true;
	}
	if (!loop.polling)
		hub_arm(HUB_DEV);
	return false;
}

static void hub_epoll(void)
{
	struct epoll_event evs[256];
	int n;

	/* one harvest per lock: a killed client's socket stays readable until reaped */
	do {
		hub_lock();
		n = epoll_wait(loop.epfd, evs, 256, 0);
		for (int i = 0; i < n; i++) {
			struct hub_watch *w = evs[i].data.ptr;

			w->cb(w, evs[i].events);
		}
		hub_unlock();
	} while (n == 256);
}

static void *hub_thread(void *arg)
{
	(void)arg;
	if (!loop.mmap)
		hub_arm(HUB_DEV);
	hub_arm(HUB_EPOLL);
	hub_arm(HUB_TICK);
	hub_arm(HUB_WAKE);

	while (!loop.stopping) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;
		int rearm[HUB_WAKE + 1] = { 0 };
		unsigned int wait = 1;
		int ret = 0;

		if (loop.mmap && !loop.dev_gone) {
			/* batches back to back while records come; the CQ is in memory */
			if (push_ring_ready(&loop.map))
				hub_ring_batch();
			if (hub_ring_ready())
				wait = 0;
		}
		if (wait || io_uring_sq_ready(&loop.ring))
			ret = io_uring_submit_and_wait(&loop.ring, wait);

		if (ret < 0 && ret != -EINTR) {
			fprintf(stderr, "pushd: io_uring: %s\n", strerror(-ret));
			break;
		}
		io_uring_for_each_cqe(&loop.ring, head, cqe) {
			int op = (int)io_uring_cqe_get_data64(cqe);
			int res = cqe->res;

			seen++;
			switch (op) {
			case HUB_DEV:
				if (loop.mmap) {
					/* the batch comes at the top of the loop */
					loop.polling = false;
					if (res < 0 && res != -EINTR) {
						hub_dev_error(res);
						usleep(100000);
					} else if (res & (POLLNVAL | POLLHUP)) {
						hub_dev_error(-ENODEV);
					}
					continue;
				}
				hub_read_done(res);
				if (loop.dev_gone)
					continue;	/* not re-armed: nothing more will come */
				if (res < 0 && res != -EAGAIN && res != -EINTR)
					usleep(100000);	/* do not spin on a persistent error */
				break;
			case HUB_EPOLL:
				hub_epoll();
				break;
			case HUB_TICK:
				loop.last_tick = now_sec();
				hub_tick(loop.last_tick);
				if (pushd_cfg.watchdog)	/* the loop is alive: tell systemd */
					sd_notify(0, "WATCHDOG=1");
				break;
			case HUB_WAKE:
				break;
			default:
				continue;
			}
			rearm[op] = 1;
		}
		io_uring_cq_advance(&loop.ring, seen);
		for (int op = HUB_DEV; op <= HUB_WAKE; op++)
			if (rearm[op])
				hub_arm(op);
	}
	return NULL;
}

int hub_health(const char **why)
{
	uint64_t now = now_sec();

	if (loop.dev_gone) {
		*why = "device gone";
		return -ENODEV;
	}
	if (loop.dev_err) {
		*why = strerror(loop.dev_err);
		return -loop.dev_err;
	}
	if (!loop.running || now > loop.last_tick + 5) {
		*why = "hub thread not ticking";
		return -ETIMEDOUT;
	}
	*why = "ok";
	return 0;
}

bool hub_device_gone(void)
{
	return loop.dev_gone;
}

int hub_thread_init(int devfd)
{
	int ret;

	loop.devfd = devfd;
	/* a record is header + channel + data + padding: a batch must hold the largest */
	loop.buflen = HUB_BUF_MIN;
	if (loop.buflen < (size_t)pushd_cfg.max_msg_size + 256)
		loop.buflen = (size_t)pushd_cfg.max_msg_size + 256;
	if (pushd_cfg.reader != PUSHD_READER_READ) {
		ret = push_ring_open(&loop.map, devfd);
		if (!ret) {
			loop.mmap = true;
			/* from where hub_init()'s lseek(SEEK_END) put the hub: a loss since is a gap */
			push_ring_seek_id(&loop.map, hub_last_id() + 1);
			if (pushd_cfg.verbose)
				fprintf(stderr, "pushd: reading %s through its mapping (%llu bytes)\n",
					pushd_cfg.device, (unsigned long long)loop.map.size);
		} else if (pushd_cfg.reader == PUSHD_READER_MMAP) {
			fprintf(stderr, "pushd: --reader mmap: cannot map %s: %s\n",
				pushd_cfg.device, ret == -EPROTO ? "unknown layout" : strerror(-ret));
			return ret;
		} else if (pushd_cfg.verbose) {
			fprintf(stderr, "pushd: %s has no mapping (%s): using read()\n",
				pushd_cfg.device, strerror(-ret));
		}
	}
	if (!loop.mmap) {
		loop.buf = malloc(loop.buflen);
		if (!loop.buf)
			return -ENOMEM;
	}
	loop.tick.tv_sec = 1;
	loop.epfd = epoll_create1(EPOLL_CLOEXEC);
	loop.wakefd = eventfd(0, EFD_CLOEXEC);
	if (loop.epfd < 0 || loop.wakefd < 0)
		return -errno;
	ret = io_uring_queue_init(64, &loop.ring, 0);
	if (ret < 0)
		return ret;
	return 0;
}

int hub_start(void)
{
	int ret;

	loop.last_tick = now_sec();
	ret = pthread_create(&loop.thread, NULL, hub_thread, NULL);

	if (ret)
		return -ret;
	loop.running = 1;
	return 0;
}

void hub_thread_stop(void)
{
	uint64_t one = 1;

	if (loop.running) {
		loop.stopping = 1;
		if (write(loop.wakefd, &one, sizeof(one)) < 0)
			perror("pushd: eventfd");
		pthread_join(loop.thread, NULL);
		loop.running = 0;
		io_uring_queue_exit(&loop.ring);
	}
	if (loop.mmap)
		push_ring_close(&loop.map);
	loop.mmap = false;
	free(loop.buf);
	loop.buf = NULL;
}
