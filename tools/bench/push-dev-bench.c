// SPDX-License-Identifier: GPL-2.0
/*
 * push-dev-bench - how fast /dev/push moves 100-byte messages, beside an
 * AF_UNIX SOCK_SEQPACKET pair and a pipe carrying the same messages.
 * Run in the test VM by tools/bench/device, which also loads the module of
 * the commit before the v2 ring and runs this again; see docs/DEVICE.md.
 *
 *   push-dev-bench [-n MSGS] [-d DEVICE]
 *
 * Prints one line per figure, "name<TAB>value" (rates per second):
 *   pub_wN          publishes/s with N = 1, 2, 4 writer threads, no reader
 *   pair_read       messages/s through 1 writer -> 1 read() reader, counted
 *                   when the reader has them (lost ones not counted:
 *                   pair_read_lost says how many were)
 *   pair_mmap       the same with the mmap reader (lib/push_ring_reader.c)
 *   drain_read      records/s one reader gets draining a full history with
 *                   read() (256 KiB buffer), no writer running
 *   drain_mmap      the same through the mapping
 *   fan4_pub        the writer's publishes/s while 4 read() readers follow
 *   fan4_read       messages/s each of those readers got (the slowest)
 *   wcpu_0, wcpu_4  the writer thread's CPU time per publish (ns) with no
 *                   reader and with 4 read() readers following (each
 *                   publish wakes the readers that sleep)
 *   wcpu_4spin      the same with 4 mmap readers that never sleep in the
 *                   kernel (sched_yield() when caught up): what reading
 *                   itself costs the writer
 *   drain_mmap_zc   records/s draining through push_ring_peek() (parsed in
 *                   place, no copy)
 *   seqpacket_pair  messages/s through a SOCK_SEQPACKET pair (send/recv)
 *   seqpacket_fan4  the writer's messages/s sending each to 4 pairs
 *   spcpu_1, spcpu_4  the SEQPACKET sender's CPU ns per message, 1 and 4
 *                   receivers
 *   pipe_pair       messages/s of 100-byte writes through a pipe, read in
 *                   256 KiB reads
 * A figure the device cannot give (mmap on a module without it) is "-".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/push.h>

#include "push_ring_reader.h"

#define PAYLOAD		100
#define RBUF		(256 << 10)
#define CHAN		"bench"

static const char *device = "/dev/push";
static long nmsgs = 100000;
static char msg[PAYLOAD + 8];	/* "@bench " + payload */
static size_t msg_len;

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dev_open(int flags)
{
	int fd = open(device, flags | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "push-dev-bench: %s: %s\n", device, strerror(errno));
		exit(1);
	}
	return fd;
}

static void publish_n(int fd, long n)
{
	for (long i = 0; i < n; i++) {
		if (write(fd, msg, msg_len) != (ssize_t)msg_len) {
			perror("push-dev-bench: write");
			exit(1);
		}
	}
}

static void *writer_main(void *arg)
{
	long n = (long)arg;
	int fd = dev_open(O_WRONLY);

	publish_n(fd, n);
	close(fd);
	return NULL;
}

/* Publishes/s of @w writers, each publishing nmsgs / w. */
static double bench_pub(int w)
{
	pthread_t t[8];
	double t0 = now();

	for (int i = 0; i < w; i++)
		pthread_create(&t[i], NULL, writer_main, (void *)(nmsgs / w));
	for (int i = 0; i < w; i++)
		pthread_join(t[i], NULL);
	return (nmsgs / w) * w / (now() - t0);
}

/* Counts the records of one batch: messages into *got, gaps into *lost. */
static void count(const char *buf, ssize_t n, long *got, long *lost)
{
	for (ssize_t off = 0; off < n;) {
		struct push_record r;

		memcpy(&r, buf + off, sizeof(r));
		if (r.type == PUSH_REC_MSG) {
			(*got)++;
		} else if (r.type == PUSH_REC_GAP) {
			struct push_gap g;

			memcpy(&g, buf + off + sizeof(r), sizeof(g));
			*lost += g.lost;
		}
		off += r.size;
	}
}

struct follower {
	int fd;
	int use_mmap;
	struct push_ring ring;
	long want;		/* messages to account for */
	long got, lost;
	double t_end;
};

static void *follower_main(void *arg)
{
	struct follower *f = arg;
	char *buf = malloc(RBUF);
	struct push_ring *ring = &f->ring;

	while (f->got + f->lost < f->want) {
		ssize_t n;

		if (f->use_mmap) {
			n = push_ring_read(ring, buf, RBUF);
			if (!n) {
				if (f->use_mmap == 2)
					sched_yield();
				else
					push_ring_wait(ring, 1000);
				continue;
			}
		} else {
			n = read(f->fd, buf, RBUF);
		}
		if (n < 0) {
			perror("push-dev-bench: read");
			exit(1);
		}
		count(buf, n, &f->got, &f->lost);
	}
	f->t_end = now();
	if (f->use_mmap)
		push_ring_close(ring);
	free(buf);
	return NULL;
}

/*
 * One writer, @nr followers (read() or mmap).  Returns the writer's
 * publishes/s; *rate gets the slowest follower's messages/s, *lost its
 * losses.
 */
static double last_wcpu;	/* the last writer's CPU ns per message */

static double bench_follow(int nr, int use_mmap, double *rate, long *lost)
{
	struct follower f[4];
	pthread_t t[4];
	int wfd = dev_open(O_WRONLY);
	double t0, t_pub, c0, worst = 1e30;

	for (int i = 0; i < nr; i++) {
		f[i] = (struct follower){ .use_mmap = use_mmap, .want = nmsgs };
		f[i].fd = dev_open(O_RDONLY);
		lseek(f[i].fd, 0, SEEK_END);
		if (use_mmap) {
			if (push_ring_open(&f[i].ring, f[i].fd))
				exit(1);
			push_ring_seek_end(&f[i].ring);
			/* No writer yet: the next id is known, losses count. */
			f[i].ring.next_id = f[i].ring.hdr->next_id;
		}
	}
	t0 = now();
	for (int i = 0; i < nr; i++)
		pthread_create(&t[i], NULL, follower_main, &f[i]);
	c0 = cpu_now();
	publish_n(wfd, nmsgs);
	last_wcpu = (cpu_now() - c0) * 1e9 / nmsgs;
	t_pub = now();
	*lost = 0;
	for (int i = 0; i < nr; i++) {
		double r;

		pthread_join(t[i], NULL);
		r = f[i].got / (f[i].t_end - t0);
		if (r < worst)
			worst = r;
		if (f[i].lost > *lost)
			*lost = f[i].lost;
		close(f[i].fd);
	}
	close(wfd);
	*rate = nr ? worst : 0;
	return nmsgs / (t_pub - t0);
}

/* Records/s parsing the history in place (push_ring_peek), @rounds times. */
static double bench_drain_zc(int rounds)
{
	int fd = dev_open(O_RDONLY | O_NONBLOCK);
	char *buf = malloc(RBUF);
	struct push_ring ring;
	long got = 0, lost = 0;
	double t0;

	if (push_ring_open(&ring, fd)) {
		close(fd);
		free(buf);
		return -1;
	}
	t0 = now();
	for (int r = 0; r < rounds; r++) {
		push_ring_seek_oldest(&ring);
		for (;;) {
			const void *p;
			long g = 0, l = 0;
			ssize_t n = push_ring_peek(&ring, &p, RBUF);

			if (n > 0) {
				count(p, n, &g, &l);
				if (!push_ring_release(&ring, n))
					got += g;
				continue;
			}
			/* Padding, a gap or the end: the copying reader. */
			n = push_ring_read(&ring, buf, RBUF);
			if (n <= 0)
				break;
			count(buf, n, &got, &lost);
		}
	}
	t0 = now() - t0;
	push_ring_close(&ring);
	close(fd);
	free(buf);
	return got / t0;
}

/* Records/s draining the history from the oldest, @rounds times. */
static double bench_drain(int use_mmap, int rounds)
{
	int fd = dev_open(O_RDONLY | O_NONBLOCK);
	char *buf = malloc(RBUF);
	struct push_ring ring;
	long got = 0, lost = 0;
	double t0;

	if (use_mmap && push_ring_open(&ring, fd)) {
		close(fd);
		free(buf);
		return -1;
	}
	t0 = now();
	for (int r = 0; r < rounds; r++) {
		ssize_t n;

		if (use_mmap)
			push_ring_seek_oldest(&ring);
		else
			lseek(fd, 0, SEEK_SET);
		for (;;) {
			n = use_mmap ? push_ring_read(&ring, buf, RBUF) :
				       read(fd, buf, RBUF);
			if (n <= 0)
				break;
			count(buf, n, &got, &lost);
		}
		if (n < 0 && (use_mmap || errno != EAGAIN)) {
			perror("push-dev-bench: drain");
			exit(1);
		}
	}
	t0 = now() - t0;
	if (use_mmap)
		push_ring_close(&ring);
	close(fd);
	free(buf);
	return got / t0;
}

struct sp_reader {
	int fd;
	long n;
	int stream;	/* pipe: read in big chunks */
};

static void *sp_reader_main(void *arg)
{
	struct sp_reader *s = arg;
	char *buf = malloc(RBUF);
	long got = 0;

	while (got < s->n) {
		ssize_t n = read(s->fd, buf, s->stream ? RBUF : PAYLOAD);

		if (n <= 0) {
			perror("push-dev-bench: socket read");
			exit(1);
		}
		got += s->stream ? n / PAYLOAD : 1;
	}
	free(buf);
	return NULL;
}

/* Messages/s through @nr SEQPACKET pairs (or one pipe), one sender. */
static double bench_ipc(int nr, int use_pipe)
{
	int fds[4][2];
	struct sp_reader r[4];
	pthread_t t[4];
	double t0, c0;

	for (int i = 0; i < nr; i++) {
		if (use_pipe ? pipe(fds[i]) :
		    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds[i])) {
			perror("push-dev-bench: socketpair");
			exit(1);
		}
		r[i] = (struct sp_reader){ .fd = fds[i][0], .n = nmsgs,
					   .stream = use_pipe };
	}
	t0 = now();
	for (int i = 0; i < nr; i++)
		pthread_create(&t[i], NULL, sp_reader_main, &r[i]);
	c0 = cpu_now();
	for (long m = 0; m < nmsgs; m++)
		for (int i = 0; i < nr; i++)
			if (write(fds[i][1], msg + 7, PAYLOAD) != PAYLOAD) {
				perror("push-dev-bench: send");
				exit(1);
			}
	last_wcpu = (cpu_now() - c0) * 1e9 / nmsgs;
	for (int i = 0; i < nr; i++)
		pthread_join(t[i], NULL);
	t0 = now() - t0;
	for (int i = 0; i < nr; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
	return nmsgs / t0;
}

static void put(const char *name, double v)
{
	if (v < 0)
		printf("%s\t-\n", name);
	else
		printf("%s\t%.0f\n", name, v);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct push_info info = { 0 };
	double rate;
	long lost;
	int c, fd, has_mmap;

	while ((c = getopt(argc, argv, "n:d:")) != -1) {
		if (c == 'n')
			nmsgs = atol(optarg);
		else if (c == 'd')
			device = optarg;
		else
			return 2;
	}
	if (nmsgs < 1000)
		nmsgs = 1000;
	memcpy(msg, "@" CHAN " ", strlen(CHAN) + 2);
	memset(msg + strlen(CHAN) + 2, 'x', PAYLOAD);
	msg_len = strlen(CHAN) + 2 + PAYLOAD;
	fd = dev_open(O_RDONLY);
	ioctl(fd, PUSH_IOC_INFO, &info);
	close(fd);
	has_mmap = !!(info.features & PUSH_FEAT_MMAP);

	put("pub_w1", bench_pub(1));
	put("pub_w2", bench_pub(2));
	put("pub_w4", bench_pub(4));
	bench_follow(1, 0, &rate, &lost);
	put("pair_read", rate);
	put("pair_read_lost", lost);
	if (has_mmap) {
		bench_follow(1, 1, &rate, &lost);
		put("pair_mmap", rate);
		put("pair_mmap_lost", lost);
	} else {
		put("pair_mmap", -1);
		put("pair_mmap_lost", -1);
	}
	/* The history is full of 100-byte messages now. */
	put("drain_read", bench_drain(0, 5));
	put("drain_mmap", has_mmap ? bench_drain(1, 5) : -1);
	put("drain_mmap_zc", has_mmap ? bench_drain_zc(5) : -1);
	bench_follow(0, 0, &rate, &lost);
	put("wcpu_0", last_wcpu);
	put("fan4_pub", bench_follow(4, 0, &rate, &lost));
	put("wcpu_4", last_wcpu);
	put("fan4_read", rate);
	put("fan4_lost", lost);
	if (has_mmap) {
		bench_follow(4, 2, &rate, &lost);
		put("wcpu_4spin", last_wcpu);
	} else {
		put("wcpu_4spin", -1);
	}
	put("seqpacket_pair", bench_ipc(1, 0));
	put("spcpu_1", last_wcpu);
	put("seqpacket_fan4", bench_ipc(4, 0));
	put("spcpu_4", last_wcpu);
	put("pipe_pair", bench_ipc(1, 1));
	return 0;
}
