// SPDX-License-Identifier: GPL-2.0
/*
 * test_deadline.c - request-head deadlines (userspace/transport/deadline.c)
 * on socketpairs with a test clock: a socket past its deadline is shut
 * down (its peer reads EOF), one stopped in time is not; a deadline of
 * 1 s is at least 1 s, whatever the phase of the tick; a socket holding a
 * head pushd has not read yet gets the deadline again, at most three
 * times, and is cut once it is read; on TCP only bytes that have waited
 * 1 s or more count, so a client trickling a byte a second is cut on time;
 * keep-alive gets 30 s more.  TAP output; exit 1 on any failure.
 */
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "transport/deadline.h"

#include "tap.h"

static uint64_t clock_ms;

static uint64_t test_now(void)
{
	return clock_ms;
}

struct pair {
	int srv, cli;	/* pushd's end (watched), the client's */
	struct deadline *d;
};

static void pair_open(struct pair *p)
{
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	p->srv = sv[0];
	p->cli = sv[1];
	p->d = deadline_new_fd(p->srv);
}

static void pair_close(struct pair *p)
{
	deadline_free_fd(p->d);
	close(p->srv);
	close(p->cli);
}

/* The same over TCP on loopback, where the kernel says when bytes arrived. */
static void tcp_open(struct pair *p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, 0);

	bind(l, (struct sockaddr *)&sa, sizeof(sa));
	listen(l, 1);
	getsockname(l, (struct sockaddr *)&sa, &len);
	p->cli = socket(AF_INET, SOCK_STREAM, 0);
	connect(p->cli, (struct sockaddr *)&sa, sizeof(sa));
	p->srv = accept(l, NULL, NULL);
	close(l);
	p->d = deadline_new_fd(p->srv);
}

/* The client's end sees EOF: pushd's end was shut down. */
static bool cut(const struct pair *p)
{
	char c;

	return recv(p->cli, &c, 1, MSG_DONTWAIT) == 0;
}

static unsigned int sweep_at(uint64_t ms)
{
	clock_ms = ms;
	return deadline_sweep(ms / 1000);
}

int main(void)
{
	struct pair a, b, c;
	uint64_t ext0;
	char buf[64];

	config_defaults(&pushd_cfg);
	pushd_cfg.header_timeout = 1;
	deadline_test_clock(test_now);

	/* accepted late in a second: the deadline is 1 s from then, not the next tick */
	clock_ms = 10900;
	pair_open(&a);
	CHECK(sweep_at(11000) == 0 && !cut(&a), "1 s deadline: not cut 0.1 s after accept");
	CHECK(sweep_at(11899) == 0 && !cut(&a), "... nor 0.999 s after");
	CHECK(sweep_at(11900) == 1 && cut(&a), "cut at 1 s: the client reads EOF");
	pair_close(&a);

	/* stopped in time (the head came whole): never cut */
	clock_ms = 20000;
	pair_open(&a);
	deadline_stop_fd(a.d);
	CHECK(sweep_at(25000) == 0 && !cut(&a), "a head complete in time: not cut");
	pair_close(&a);

	/* a head that arrived but pushd has not read: the deadline again, 3 times at most */
	clock_ms = 30000;
	pair_open(&a);
	pair_open(&b);
	CHECK(write(b.cli, "GET / HTTP/1.1\r\n", 16) == 16, "client b sends its head; pushd does not read it");
	ext0 = deadline_extended_total();
	CHECK(sweep_at(31000) == 1 && cut(&a) && !cut(&b),
	      "one sweep: a (nothing sent) cut, b (unread head) given more time");
	CHECK(sweep_at(32000) == 0 && !cut(&b), "b: a second time");
	CHECK(sweep_at(33000) == 0 && !cut(&b), "b: a third time");
	CHECK(sweep_at(34000) == 1 && cut(&b), "b: cut after three more deadlines, unread or not");
	CHECK(deadline_extended_total() - ext0 == 3, "three extensions counted (%llu)",
	      (unsigned long long)(deadline_extended_total() - ext0));
	pair_close(&a);
	pair_close(&b);

	/* once pushd reads what was there, a client that sends no more is cut */
	clock_ms = 40000;
	pair_open(&c);
	CHECK(write(c.cli, "GET", 3) == 3, "client c sends part of a head");
	CHECK(sweep_at(41000) == 0 && !cut(&c), "c: unread at the deadline, more time");
	CHECK(read(c.srv, buf, sizeof(buf)) == 3, "pushd reads the 3 bytes");
	CHECK(sweep_at(42000) == 1 && cut(&c), "c: nothing unread at the next deadline: cut");
	pair_close(&c);

	/*
	 * TCP: a trickler's byte sent a moment before the sweep is not pushd
	 * being behind (CI saw five tricklers held to 20.7 s by it); a head
	 * that has waited unread for 1.2 s is.
	 */
	clock_ms = 45000;
	tcp_open(&a);
	tcp_open(&b);
	CHECK(a.srv >= 0 && b.srv >= 0, "two TCP connections on loopback");
	CHECK(write(b.cli, "GET / HTTP/1.1\r\n", 16) == 16, "client b sends its head");
	nanosleep(&(struct timespec){ .tv_nsec = 200000000 }, NULL);
	nanosleep(&(struct timespec){ .tv_sec = 1 }, NULL);
	CHECK(write(a.cli, "x", 1) == 1, "client a trickles a byte; neither is read");
	ext0 = deadline_extended_total();
	CHECK(sweep_at(46000) == 1 && cut(&a) && !cut(&b),
	      "one sweep: a (a byte just sent) cut, b (unread for 1.2 s) given more time");
	CHECK(sweep_at(47000) == 0 && !cut(&b), "b: a second time");
	CHECK(sweep_at(48000) == 0 && !cut(&b), "b: a third time");
	CHECK(sweep_at(49000) == 1 && cut(&b), "b: cut after three more deadlines");
	CHECK(deadline_extended_total() - ext0 == 3, "three extensions counted");
	pair_close(&a);
	pair_close(&b);

	/* keep-alive: the next head may come 30 s after the request, then 1 s more */
	clock_ms = 50000;
	pair_open(&a);
	deadline_stop_fd(a.d);
	deadline_restart_fd(a.d);
	CHECK(sweep_at(80999) == 0 && !cut(&a), "keep-alive: not cut at 30.999 s");
	CHECK(sweep_at(81000) == 1 && cut(&a), "keep-alive: cut at 31 s");
	pair_close(&a);

	deadline_test_clock(NULL);
	return tap_done();
}
