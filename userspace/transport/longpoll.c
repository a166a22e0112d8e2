// SPDX-License-Identifier: GPL-2.0
/*
 * longpoll.c - long-polling: GET /sub/CH?since=N answers
 * {"messages":[...],"next":ID} as soon as anything is queued, or an empty
 * list after --poll-timeout.  While it waits the MHD connection is
 * suspended: no timer, no polling, no buffer; the hub resumes it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "core/config.h"
#include "core/counters.h"
#include "core/hub.h"
#include "push/probe_tag.h"
#include "transport/mhd.h"
#include "transport/transport.h"

struct lp_client {
	struct client c;
	struct http_ctx ctx;
	struct MHD_Connection *conn;
	uint64_t deadline;	/* monotonic seconds */
};

/*
 * One hang-up watch per connection, not per request: a keep-alive client
 * long-polls again and again on one socket, and adding its fd to the hub's
 * epoll set for each wait and deleting it after was two epoll_ctl()s per
 * delivery.  So the first wait adds it, edge-triggered, and it stays until
 * MHD closes the connection (longpoll_conn_closed()) or another transport
 * takes the socket (longpoll_conn_release()).  A hang-up while no request
 * waits is remembered, and the next one ends at once.  The table by fd is
 * only touched on MHD's thread; a watch is freed under the hub lock, which
 * the hub holds while it handles the events of one epoll_wait().
 */
struct lp_watch {
	struct hub_watch w;
	struct client *c;	/* the waiting request's, or NULL */
	bool hup;		/* the peer has hung up */
};

static struct lp_watch **lp_watches;	/* by fd */
static size_t lp_nwatches;

static uint64_t lp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

void longpoll_wait(struct client *c, struct MHD_Connection *conn)
{
	c->flags |= CF_SUSPENDED;
	MHD_suspend_connection(conn);
}

void longpoll_wake(struct client *c, struct MHD_Connection *conn)
{
	if (c->flags & CF_SUSPENDED) {
		c->flags &= (uint8_t)~CF_SUSPENDED;
		MHD_resume_connection(conn);
	}
}

void longpoll_hup_event(struct hub_watch *w, uint32_t events)
{
	struct hup_watch *hw = (struct hup_watch *)w;
	struct client *c = hw->c;

	if (!(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	longpoll_hup_stop(hw);
	stat_add(&pushd_stats.peer_gone, 1);
	/*
	 * Not hub_unsubscribe(): this runs in the hub thread, and while it
	 * waited for a replay step of @c (the lock dropped) the MHD thread
	 * could end the connection, unsubscribe and free @c under it.  The
	 * owner's free callback unsubscribes.
	 */
	hub_peer_gone(c);
	c->t->deliver(c);	/* resumes the connection, which then ends unanswered */
}

static void lp_watch_event(struct hub_watch *w, uint32_t events)
{
	struct lp_watch *lw = (struct lp_watch *)w;
	struct client *c = lw->c;

	if (!(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		return;
	lw->hup = true;
	if (!c)
		return;	/* between requests: MHD sees the end itself, or the next wait does */
	lw->c = NULL;
	stat_add(&pushd_stats.peer_gone, 1);
	/* as longpoll_hup_event() */
	hub_peer_gone(c);
	c->t->deliver(c);
}

/* The watch of @fd's connection, made and added if need be (lock held). */
static struct lp_watch *lp_watch_get(int fd)
{
	struct lp_watch *lw;

	if (fd < 0)
		return NULL;
	if ((size_t)fd >= lp_nwatches) {
		size_t n = lp_nwatches ? lp_nwatches : 256;
		struct lp_watch **t;

		while (n <= (size_t)fd)
			n *= 2;
		t = realloc(lp_watches, n * sizeof(*t));
		if (!t)
			return NULL;
		memset(t + lp_nwatches, 0, (n - lp_nwatches) * sizeof(*t));
		lp_watches = t;
		lp_nwatches = n;
	}
	lw = lp_watches[fd];
	if (lw)
		return lw;
	lw = calloc(1, sizeof(*lw));
	if (!lw)
		return NULL;
	lw->w.fd = fd;
	lw->w.events = EPOLLRDHUP | EPOLLET;
	lw->w.cb = lp_watch_event;
	if (hub_watch_add(&lw->w)) {
		free(lw);
		return NULL;
	}
	lp_watches[fd] = lw;
	return lw;
}

void longpoll_conn_release(int fd)
{
	struct lp_watch *lw;

	if (fd < 0 || (size_t)fd >= lp_nwatches || !(lw = lp_watches[fd]))
		return;
	hub_watch_del(&lw->w);
	lp_watches[fd] = NULL;
	free(lw);
}

void longpoll_conn_closed(int fd)
{
	if (fd < 0 || (size_t)fd >= lp_nwatches || !lp_watches[fd])
		return;	/* most connections: no lock taken */
	hub_lock();
	longpoll_conn_release(fd);
	hub_unlock();
}

void longpoll_hup_start(struct hup_watch *hw, struct client *c)
{
	/* one watch per socket in an epoll set: long-poll's goes first */
	longpoll_conn_release(c->fd);
	hw->c = c;
	hw->w.fd = c->fd;
	hw->w.events = EPOLLRDHUP;
	hw->w.cb = longpoll_hup_event;
	hw->on = c->fd >= 0 && hub_watch_add(&hw->w) == 0;
}

void longpoll_hup_stop(struct hup_watch *hw)
{
	if (hw->on) {
		hub_watch_del(&hw->w);
		hw->on = false;
	}
}

int longpoll_open_error(struct MHD_Connection *conn, int err)
{
	char msg[128];

	/* shutting down: no answer, so that clients retry as after any network error */
	if (err == -ESHUTDOWN)
		return MHD_NO;
	if (err == -ENOSPC)
		return http_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				 "cannot subscribe: too many channels (--max-channels)");
	snprintf(msg, sizeof(msg), "cannot subscribe: %s", strerror(-err));
	return http_text(conn, err == -ENOMEM ? MHD_HTTP_SERVICE_UNAVAILABLE
					      : MHD_HTTP_INTERNAL_SERVER_ERROR, msg);
}

static bool lp_detect(struct MHD_Connection *conn)
{
	(void)conn;
	return true;	/* the fallback */
}

static uint32_t lp_item_len(const struct item *it)
{
	return it->json_len + 1;
}

/* Renders and unregisters (lock held); returns the body, or NULL on ENOMEM. */
static char *lp_render(struct lp_client *lp, size_t *len)
{
	struct client *c = &lp->c;
	size_t cap = c->qbytes + 96, off;
	char *body = malloc(cap);
	uint32_t n = 0;

	if (!body)
		return NULL;
	off = (size_t)snprintf(body, cap, "{\"messages\":[");
	while (c->qlen) {
		struct item *it = client_head(c);

		if (it->type != ITEM_CTRL) {
			if (n++)
				body[off++] = ',';
			memcpy(body + off, it->json, it->json_len);
			off += it->json_len;
		}
		client_pop(c);
	}
	off += (size_t)snprintf(body + off, cap - off, "],\"next\":%" PRIu64 ",\"epoch\":\"%016" PRIx64 "\"}",
				c->last_id, hub_epoch());
	c->delivered += n;
	stat_add(&pushd_stats.t[PUSH_TRANSPORT_LONGPOLL].items_out, n);
	stat_add(&pushd_stats.t[PUSH_TRANSPORT_LONGPOLL].bytes_out, off);
	if (n)
		probe_count_delivered(c->fd, n);
	hub_unsubscribe(c);
	*len = off;
	return body;
}

static enum MHD_Result lp_answer(struct lp_client *lp)
{
	size_t len = 0;
	char *body;

	hub_lock();
	lp->c.flags &= (uint8_t)~CF_SUSPENDED;
	body = lp_render(lp, &len);
	hub_unlock();
	if (!body)
		return MHD_NO;
	return http_send(lp->conn, MHD_HTTP_OK, "application/json", body, len);
}

static enum MHD_Result lp_again(struct http_ctx *ctx, struct MHD_Connection *conn,
				const char *upload, size_t *upload_size)
{
	struct lp_client *lp = (struct lp_client *)((char *)ctx - offsetof(struct lp_client, ctx));

	(void)conn;
	(void)upload;
	*upload_size = 0;
	if (lp->c.flags & CF_GONE)
		return MHD_NO;	/* nobody reads an answer: MHD closes the connection */
	return lp_answer(lp);
}

static void lp_done(struct http_ctx *ctx)
{
	struct lp_client *lp = (struct lp_client *)((char *)ctx - offsetof(struct lp_client, ctx));
	int fd = lp->c.fd;

	hub_lock();
	/* by the table: the watch goes when the connection does */
	if (fd >= 0 && (size_t)fd < lp_nwatches && lp_watches[fd] && lp_watches[fd]->c == &lp->c)
		lp_watches[fd]->c = NULL;
	hub_unsubscribe(&lp->c);
	hub_unlock();
	free(lp);
}

static int lp_open(struct MHD_Connection *conn, const struct sub_request *req, void **con_cls)
{
	struct lp_client *lp = calloc(1, sizeof(*lp));
	struct lp_watch *lw;
	int err;

	if (!lp)
		return MHD_NO;
	lp->c.t = &transport_longpoll;
	lp->c.fd = http_conn_fd(conn);
	lp->conn = conn;
	lp->ctx.again = lp_again;
	lp->ctx.done = lp_done;
	lp->deadline = lp_now() + pushd_cfg.poll_timeout;
	err = hub_subscribe(&lp->c, req);
	if (err) {
		free(lp);
		return longpoll_open_error(conn, err);
	}
	*con_cls = &lp->ctx;

	hub_lock();
	if (lp->c.qlen || (lp->c.flags & CF_CLOSING)) {
		hub_unlock();
		return lp_answer(lp);
	}
	lw = lp_watch_get(lp->c.fd);
	if (lw && lw->hup) {
		/* hung up after its request, before this wait: as if while waiting */
		stat_add(&pushd_stats.peer_gone, 1);
		hub_peer_gone(&lp->c);
		hub_unlock();
		return MHD_NO;
	}
	if (lw)
		lw->c = &lp->c;
	longpoll_wait(&lp->c, conn);
	hub_unlock();
	return MHD_YES;
}

static void lp_deliver(struct client *c)
{
	struct lp_client *lp = (struct lp_client *)c;

	longpoll_wake(c, lp->conn);
}

static uint64_t lp_heartbeat(struct client *c, uint64_t now)
{
	struct lp_client *lp = (struct lp_client *)c;

	if (now < lp->deadline)
		return lp->deadline;
	longpoll_wake(c, lp->conn);
	return now + 1;	/* until it has answered and left */
}

static void lp_close(struct client *c, enum client_close why)
{
	struct lp_client *lp = (struct lp_client *)c;

	/* over --max-queue or shutting down: answer with what is queued */
	(void)why;
	c->flags |= CF_CLOSING;
	longpoll_wake(c, lp->conn);
}

const struct push_transport transport_longpoll = {
	.name = "longpoll",
	.kind = PUSH_TRANSPORT_LONGPOLL,
	.detect = lp_detect,
	.open = lp_open,
	.deliver = lp_deliver,
	.heartbeat = lp_heartbeat,
	.close = lp_close,
	.item_len = lp_item_len,
};
