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
	struct hup_watch hup;
	struct http_ctx ctx;
	struct MHD_Connection *conn;
	uint64_t deadline;	/* monotonic seconds */
};

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

void longpoll_hup_start(struct hup_watch *hw, struct client *c)
{
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

	hub_lock();
	longpoll_hup_stop(&lp->hup);
	hub_unsubscribe(&lp->c);
	hub_unlock();
	free(lp);
}

static int lp_open(struct MHD_Connection *conn, const struct sub_request *req, void **con_cls)
{
	struct lp_client *lp = calloc(1, sizeof(*lp));
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
	longpoll_hup_start(&lp->hup, &lp->c);
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
