// SPDX-License-Identifier: GPL-2.0
/*
 * deadline.c - request-head deadlines (deadline.h): a list, in order of
 * deadline (all have the same length, so appending keeps the order), of
 * the connections whose head is not complete yet; two lists, new connections
 * and keep-alive ones (whose deadline is longer), each in order of
 * deadline since every entry of one list has the same length.  MHD's thread adds and
 * removes, the hub's tick sweeps the front; one mutex between them, and
 * the socket is only touched under it, before MHD can close it.
 *
 * The deadline bounds the client, not pushd: a connection past it whose
 * socket has held bytes MHD has not read for DL_BEHIND_MS or more (pushd's
 * MHD thread was busy or starved: heads read 8 s after accept were seen in
 * a loaded emulator) gets the deadline again, up to DL_MAX_EXTEND times.  A
 * client that trickles its head is read as it sends: its socket is empty
 * when the sweep looks, or holds a byte that arrived a moment ago (the
 * kernel's tcpi_last_data_recv says when), and it is cut on time.
 */
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "core/config.h"
#include "transport/deadline.h"
#include "transport/mhd.h"

struct dl_list {
	struct deadline *head, *tail;
};

struct deadline {
	struct deadline *prev, *next;
	struct dl_list *list;	/* the list it is in, or NULL */
	int fd;
	uint64_t at;		/* monotonic milliseconds */
	unsigned int extended;	/* times given again for unread bytes */
};

static pthread_mutex_t dl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dl_list dl_new, dl_keepalive;
static atomic_ullong dl_expired, dl_extended;

/* At most this many more deadlines for a head that arrived but is unread. */
#define DL_MAX_EXTEND	3

/*
 * Unread bytes that arrived less than this long ago say nothing about
 * pushd: a client trickling a byte a second has one in its socket now and
 * then, just sent.  Older ones mean MHD has not looked at the socket.
 */
#define DL_BEHIND_MS	1000

static uint64_t dl_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t (*dl_now)(void) = dl_clock_ms;

void deadline_test_clock(uint64_t (*now_ms)(void))
{
	dl_now = now_ms ? now_ms : dl_clock_ms;
}

static void dl_unlink(struct deadline *d)
{
	struct dl_list *l = d->list;

	if (!l)
		return;
	if (d->prev)
		d->prev->next = d->next;
	else
		l->head = d->next;
	if (d->next)
		d->next->prev = d->prev;
	else
		l->tail = d->prev;
	d->prev = d->next = NULL;
	d->list = NULL;
}

/*
 * An idle keep-alive connection may wait as long as MHD's inactivity timeout
 * (30 s) for its next request; its head then has --header-timeout more.
 */
#define DL_KEEPALIVE_IDLE	30

static void dl_arm(struct deadline *d, struct dl_list *l, unsigned int extra)
{
	dl_unlink(d);
	d->at = dl_now() + 1000ull * (pushd_cfg.header_timeout + extra);
	d->prev = l->tail;
	d->next = NULL;
	if (l->tail)
		l->tail->next = d;
	else
		l->head = d;
	l->tail = d;
	d->list = l;
}

static struct deadline *dl_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

struct deadline *deadline_new_fd(int fd)
{
	struct deadline *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->fd = fd;
	pthread_mutex_lock(&dl_lock);
	dl_arm(d, &dl_new, 0);
	pthread_mutex_unlock(&dl_lock);
	return d;
}

void deadline_stop_fd(struct deadline *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&dl_lock);
	dl_unlink(d);
	pthread_mutex_unlock(&dl_lock);
}

void deadline_restart_fd(struct deadline *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&dl_lock);
	d->extended = 0;
	dl_arm(d, &dl_keepalive, DL_KEEPALIVE_IDLE);
	pthread_mutex_unlock(&dl_lock);
}

void deadline_free_fd(struct deadline *d)
{
	deadline_stop_fd(d);
	free(d);
}

void deadline_start(struct MHD_Connection *conn, void **socket_context)
{
	/* no memory: MHD's inactivity timeout still applies */
	*socket_context = deadline_new_fd(http_conn_fd(conn));
}

void deadline_stop(struct MHD_Connection *conn)
{
	deadline_stop_fd(dl_of(conn));
}

void deadline_restart(struct MHD_Connection *conn)
{
	deadline_restart_fd(dl_of(conn));
}

void deadline_closed(void **socket_context)
{
	deadline_free_fd(*socket_context);
	*socket_context = NULL;
}

/*
 * The socket holds bytes the client sent DL_BEHIND_MS or more ago that MHD
 * has not read yet.  A socket that is not TCP (tests' socketpairs) has no
 * arrival time: unread bytes count however new.
 */
static bool dl_unread(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int n = 0;

	if (ioctl(fd, FIONREAD, &n) != 0 || n <= 0)
		return false;
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
	    len < offsetof(struct tcp_info, tcpi_last_data_recv) + sizeof(ti.tcpi_last_data_recv))
		return true;
	return ti.tcpi_last_data_recv >= DL_BEHIND_MS;
}

static unsigned int dl_sweep(struct dl_list *l, uint64_t now, unsigned int extra)
{
	unsigned int n = 0;

	while (l->head && l->head->at <= now) {
		struct deadline *d = l->head;

		if (d->extended < DL_MAX_EXTEND && dl_unread(d->fd)) {
			/* pushd is behind, not the client: its head waits in the socket */
			d->extended++;
			dl_arm(d, l, extra);
			atomic_fetch_add_explicit(&dl_extended, 1, memory_order_relaxed);
			continue;
		}
		/* MHD sees the end of the stream and closes the connection itself */
		shutdown(d->fd, SHUT_RDWR);
		dl_unlink(d);
		n++;
	}
	return n;
}

unsigned int deadline_sweep(uint64_t now_s)
{
	uint64_t now = dl_now();
	unsigned int n;

	(void)now_s;	/* the tick's second is too coarse: a 1 s deadline could end at once */
	pthread_mutex_lock(&dl_lock);
	n = dl_sweep(&dl_new, now, 0) + dl_sweep(&dl_keepalive, now, DL_KEEPALIVE_IDLE);
	pthread_mutex_unlock(&dl_lock);
	if (n)
		atomic_fetch_add_explicit(&dl_expired, n, memory_order_relaxed);
	return n;
}

uint64_t deadline_expired_total(void)
{
	return atomic_load_explicit(&dl_expired, memory_order_relaxed);
}

uint64_t deadline_extended_total(void)
{
	return atomic_load_explicit(&dl_extended, memory_order_relaxed);
}
