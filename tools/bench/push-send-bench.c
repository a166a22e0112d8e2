// SPDX-License-Identifier: GPL-2.0
/*
 * push-send-bench - issue 10 item 4, measured before it is built: one
 * message to each of N subscribers, sent the way pushd's hub sends a
 * fan-out today (one sendmsg() per dirty client: a 2-byte frame header and
 * the shared payload, two iovecs) against one io_uring submission for all
 * of them (IORING_OP_SENDMSG per client, one io_uring_enter() to submit
 * and wait), on N TCP connections over loopback.
 *
 *   push-send-bench [-n CONNS] [-r ROUNDS] [-s SIZE]
 *
 * Each round sends one message to every connection with one method, then
 * drains the receivers (not timed), alternating the methods.  Prints
 * "name<TAB>value" lines: the median over the rounds of the sender's CPU
 * time (CLOCK_PROCESS_CPUTIME_ID: io_uring's inline issue and any io-wq
 * worker count too) and of the wall time per send, in ns, and the ratio
 * uring/sendmsg.  On loopback the sender's CPU includes the receiver's
 * TCP processing (softirq in the sender's context), as it does for pushd.
 * Defaults: -n 1000 -r 41 -s 100.
 */
#include <errno.h>
#include <getopt.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

/* N connected pairs on loopback: srv[i] sends, cli[i] receives. */
static int open_pairs(int n, int *srv, int *cli)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 4096) ||
	    getsockname(l, (struct sockaddr *)&sa, &len))
		return -1;
	for (int i = 0; i < n; i++) {
		cli[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (cli[i] < 0 || connect(cli[i], (struct sockaddr *)&sa, sizeof(sa)))
			return -1;
		srv[i] = accept(l, NULL, NULL);
		if (srv[i] < 0)
			return -1;
	}
	close(l);
	return 0;
}

static void drain(int n, const int *cli, size_t want)
{
	char buf[65536];

	for (int i = 0; i < n; i++) {
		size_t got = 0;

		while (got < want) {
			ssize_t r = recv(cli[i], buf, sizeof(buf), 0);

			if (r <= 0) {
				perror("recv");
				exit(1);
			}
			got += (size_t)r;
		}
	}
}

static void by_sendmsg(int n, const int *srv, struct iovec *iov)
{
	for (int i = 0; i < n; i++) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

		if (sendmsg(srv[i], &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			perror("sendmsg");
			exit(1);
		}
	}
}

static void by_uring(struct io_uring *ring, int n, const int *srv, struct msghdr *mh)
{
	for (int done = 0; done < n;) {
		int k = 0;

		while (done + k < n) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

			if (!sqe)
				break;
			io_uring_prep_sendmsg(sqe, srv[done + k], &mh[done + k], MSG_NOSIGNAL);
			k++;
		}
		if (io_uring_submit_and_wait(ring, (unsigned int)k) < 0) {
			perror("io_uring_submit_and_wait");
			exit(1);
		}
		for (int j = 0; j < k; j++) {
			struct io_uring_cqe *cqe;

			if (io_uring_wait_cqe(ring, &cqe) || cqe->res < 0) {
				fprintf(stderr, "send: %s\n", strerror(cqe ? -cqe->res : EIO));
				exit(1);
			}
			io_uring_cqe_seen(ring, cqe);
		}
		done += k;
	}
}

int main(int argc, char **argv)
{
	int n = 1000, rounds = 41, size = 100, opt;

	while ((opt = getopt(argc, argv, "n:r:s:")) != -1) {
		switch (opt) {
		case 'n': n = atoi(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		case 's': size = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: push-send-bench [-n CONNS] [-r ROUNDS] [-s SIZE]\n");
			return 2;
		}
	}
	if (n < 1 || rounds < 1 || size < 1 || size > 125) {
		fprintf(stderr, "push-send-bench: -n, -r >= 1, -s 1..125 (one short frame)\n");
		return 2;
	}
	struct rlimit rl = { (rlim_t)2 * n + 64, (rlim_t)2 * n + 64 };
	if (setrlimit(RLIMIT_NOFILE, &rl))
		perror("setrlimit");

	int *srv = calloc((size_t)n, sizeof(int)), *cli = calloc((size_t)n, sizeof(int));
	struct msghdr *mh = calloc((size_t)n, sizeof(*mh));
	uint64_t *cpu[2], *wall[2];
	unsigned char hdr[2] = { 0x81, (unsigned char)size };
	char *payload = malloc((size_t)size);
	struct iovec iov[2] = { { hdr, 2 }, { payload, (size_t)size } };
	struct io_uring ring;

	if (!srv || !cli || !mh || !payload || open_pairs(n, srv, cli)) {
		perror("push-send-bench: setup");
		return 1;
	}
	memset(payload, 'x', (size_t)size);
	for (int i = 0; i < n; i++) {
		mh[i].msg_iov = iov;
		mh[i].msg_iovlen = 2;
	}
	if (io_uring_queue_init(n < 4096 ? 1024 : 4096, &ring, 0)) {
		perror("io_uring_queue_init");
		return 1;
	}
	for (int m = 0; m < 2; m++) {
		cpu[m] = calloc((size_t)rounds, sizeof(uint64_t));
		wall[m] = calloc((size_t)rounds, sizeof(uint64_t));
	}
	for (int r = 0; r < rounds; r++) {
		for (int m = 0; m < 2; m++) {
			int which = (r & 1) ? 1 - m : m;	/* alternate which goes first */
			uint64_t c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID), w0 = clock_ns(CLOCK_MONOTONIC);

			if (which == 0)
				by_sendmsg(n, srv, iov);
			else
				by_uring(&ring, n, srv, mh);
			cpu[which][r] = (clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / (uint64_t)n;
			wall[which][r] = (clock_ns(CLOCK_MONOTONIC) - w0) / (uint64_t)n;
			drain(n, cli, (size_t)size + 2);
		}
	}
	uint64_t cs = median(cpu[0], rounds), cu = median(cpu[1], rounds);
	uint64_t ws = median(wall[0], rounds), wu = median(wall[1], rounds);

	printf("conns\t%d\nrounds\t%d\nsize\t%d\n", n, rounds, size);
	printf("sendmsg_cpu_ns\t%llu\nuring_cpu_ns\t%llu\n", (unsigned long long)cs,
	       (unsigned long long)cu);
	printf("sendmsg_wall_ns\t%llu\nuring_wall_ns\t%llu\n", (unsigned long long)ws,
	       (unsigned long long)wu);
	printf("uring_over_sendmsg_cpu\t%.2f\nuring_over_sendmsg_wall\t%.2f\n",
	       (double)cu / (double)cs, (double)wu / (double)ws);
	io_uring_queue_exit(&ring);
	return 0;
}
