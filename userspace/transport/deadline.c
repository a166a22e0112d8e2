// SPDX-License-Identifier: GPL-2.0
/*
 * deadline.c - request-head deadlines (deadline.h): a list, in order of
 * deadline (all have the same length, so appending keeps the order), of
 * the connections whose head is not complete yet; two lists, new connections
 * and keep-alive ones (whose deadline is longer), each in order of
 * deadline since every entry of one list has the same length.  MHD's thread adds and
 * removes, the hub's tick sweeps the front; one mutex between them, and
 * the socket is only touched under it, before MHD can close it.
 */
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
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
	uint64_t at;		/* monotonic seconds */
};

static pthread_mutex_t dl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dl_list dl_new, dl_keepalive;
static atomic_ullong dl_expired;

static uint64_t dl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
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
	d->at = dl_now() + pushd_cfg.header_timeout + extra;
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

void deadline_start(struct MHD_Connection *conn, void **socket_context)
{
	struct deadline *d = calloc(1, sizeof(*d));

	*socket_context = d;
	if (!d)
		return;		/* no memory: MHD's inactivity timeout still applies */
	d->fd = http_conn_fd(conn);
	pthread_mutex_lock(&dl_lock);
	dl_arm(d, &dl_new, 0);
	pthread_mutex_unlock(&dl_lock);
}

void deadline_stop(struct MHD_Connection *conn)
{
	struct deadline *d = dl_of(conn);

	if (!d)
		return;
	pthread_mutex_lock(&dl_lock);
	dl_unlink(d);
	pthread_mutex_unlock(&dl_lock);
}

void deadline_restart(struct MHD_Connection *conn)
{
	struct deadline *d = dl_of(conn);

	if (!d)
		return;
	pthread_mutex_lock(&dl_lock);
	dl_arm(d, &dl_keepalive, DL_KEEPALIVE_IDLE);
	pthread_mutex_unlock(&dl_lock);
}

void deadline_closed(void **socket_context)
{
	struct deadline *d = *socket_context;

	if (!d)
		return;
	pthread_mutex_lock(&dl_lock);
	dl_unlink(d);
	pthread_mutex_unlock(&dl_lock);
	*socket_context = NULL;
	free(d);
}

static unsigned int dl_sweep(struct dl_list *l, uint64_t now)
{
	unsigned int n = 0;

	while (l->head && l->head->at <= now) {
		struct deadline *d = l->head;

		/* MHD sees the end of the stream and closes the connection itself */
		shutdown(d->fd, SHUT_RDWR);
		dl_unlink(d);
		n++;
	}
	return n;
}

unsigned int deadline_sweep(uint64_t now)
{
	unsigned int n;

	pthread_mutex_lock(&dl_lock);
	n = dl_sweep(&dl_new, now) + dl_sweep(&dl_keepalive, now);
	pthread_mutex_unlock(&dl_lock);
	if (n)
		atomic_fetch_add_explicit(&dl_expired, n, memory_order_relaxed);
	return n;
}

uint64_t deadline_expired_total(void)
{
	return atomic_load_explicit(&dl_expired, memory_order_relaxed);
}
