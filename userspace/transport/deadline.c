// SPDX-License-Identifier: GPL-2.0
/*
 * deadline.c - request-head deadlines (deadline.h): a list, in order of
 * deadline (all have the same length, so appending keeps the order), of
 * the connections whose head is not complete yet.  MHD's thread adds and
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

struct deadline {
	struct deadline *prev, *next;
	int fd;
	bool armed;		/* in the list */
	uint64_t at;		/* monotonic seconds */
};

static pthread_mutex_t dl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct deadline *dl_head, *dl_tail;
static atomic_ullong dl_expired;

static uint64_t dl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

static void dl_unlink(struct deadline *d)
{
	if (!d->armed)
		return;
	if (d->prev)
		d->prev->next = d->next;
	else
		dl_head = d->next;
	if (d->next)
		d->next->prev = d->prev;
	else
		dl_tail = d->prev;
	d->prev = d->next = NULL;
	d->armed = false;
}

static void dl_arm(struct deadline *d)
{
	dl_unlink(d);
	d->at = dl_now() + pushd_cfg.header_timeout;
	d->prev = dl_tail;
	d->next = NULL;
	if (dl_tail)
		dl_tail->next = d;
	else
		dl_head = d;
	dl_tail = d;
	d->armed = true;
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
	dl_arm(d);
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
	dl_arm(d);
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

unsigned int deadline_sweep(uint64_t now)
{
	unsigned int n = 0;

	pthread_mutex_lock(&dl_lock);
	while (dl_head && dl_head->at <= now) {
		struct deadline *d = dl_head;

		/* MHD sees the end of the stream and closes the connection itself */
		shutdown(d->fd, SHUT_RDWR);
		dl_unlink(d);
		n++;
	}
	pthread_mutex_unlock(&dl_lock);
	if (n)
		atomic_fetch_add_explicit(&dl_expired, n, memory_order_relaxed);
	return n;
}

uint64_t deadline_expired_total(void)
{
	return atomic_load_explicit(&dl_expired, memory_order_relaxed);
}
