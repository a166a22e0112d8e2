// SPDX-License-Identifier: GPL-2.0
/*
 * websocket.c - WebSocket.  MHD does the HTTP/1.1 101 handshake and hands
 * over the socket; from then on the hub thread drives it through its epoll
 * set: queued items go out as text frames, many per sendmsg() (the frame
 * header and the shared JSON are two iovecs per item, nothing is copied),
 * and what the client sends is parsed by protocol/ws.c, answered (ping,
 * close) and otherwise ignored.
 *
 * The handshake may agree on the push.v1 subprotocol (JSON heartbeats a
 * page can see, beside the pings) and on permessage-deflate (RFC 7692):
 * then each message is compressed once, by the first such client that
 * sends it, and that frame is shared by all of them (item.wsz); client
 * messages are inflated within WS_MAX_MESSAGE (protocol/deflate.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include "core/config.h"
#include "core/counters.h"
#include "core/hub.h"
#include "protocol/deflate.h"
#include "protocol/ws.h"
#include "protocol/ws_ext.h"
#include "push/probe_tag.h"
#include "transport/mhd.h"
#include "transport/transport.h"
#include "transport/ws_handshake.h"

#define WS_IOV_ITEMS	64		/* items per sendmsg() */
#define WS_MAX_MESSAGE	(64 * 1024)	/* largest client message (ignored anyway) */
#define WS_CLOSE_WAIT	10		/* seconds a closing client may stall; --close-timeout at all */
#define WS_READ_MAX	4		/* recv()s of 16 KiB per wakeup: others get their turn */

/* A control frame kept in the client itself (ref 0: never freed, costs nothing more). */
struct ws_ctrl_item {
	struct item it;
	uint8_t frame[WS_HEADER_MAX + WS_CONTROL_MAX];
};

struct ws_client {
	struct client c;
	struct hub_watch w;
	struct MHD_UpgradeResponseHandle *urh;
	uint64_t next_ping;		/* monotonic seconds */
	uint64_t hb_delivered;		/* c.delivered at the last heartbeat due */
	uint64_t close_by;		/* when closing: give up waiting at, unless... */
	uint64_t close_last;		/* ...it made progress: the latest deadline */
	int outq;			/* unacked bytes in the socket at the last check */
	uint64_t sent, sent_mark;	/* bytes written, and at the last check */
	bool watched;
	unsigned int unanswered;	/* pings sent since the last pong */
	bool out_blocked;		/* the socket is full: stop reading the peer */
	bool pong_queued;		/* pong is in the queue */
	bool pong_again;		/* a newer ping came while pong was half sent */
	uint8_t ping_len;		/* payload of that newer ping */
	uint8_t ping_data[WS_CONTROL_MAX];
	struct ws_ctrl_item pong;	/* the one pending pong (RFC 6455 5.5.3: the latest ping's) */
	bool v1;			/* subprotocol push.v1 */
	bool z;				/* permessage-deflate */
	struct ws_parser p;
	struct ws_inflater *zi;		/* with z: the client's compressed messages */
};

/* A close frame as a static item: the whole frame is its "json" bytes. */
struct ws_close_item {
	struct item it;
	uint8_t frame[WS_HEADER_MAX + WS_CONTROL_MAX];
};

static struct ws_close_item ws_close_slow, ws_close_shutdown, ws_close_nopong, ws_close_expired;
static struct item ws_ping = {
	.type = ITEM_CTRL, .ws_hdr = { 0x80 | WS_OP_PING, 0 }, .ws_hdr_len = 2, .json = "",
};
/* push.v1's heartbeat, a text frame a page script sees (a ping it cannot) */
#define WS_HB_JSON	"{\"type\":\"hb\"}"
static struct item ws_hb = {
	.type = ITEM_CTRL, .ws_hdr = { 0x80 | WS_OP_TEXT, sizeof(WS_HB_JSON) - 1 }, .ws_hdr_len = 2,
	.json = WS_HB_JSON, .json_len = sizeof(WS_HB_JSON) - 1,
};

/* One compressor for every message, used under the hub lock. */
static struct ws_deflater ws_z;

static uint64_t ws_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* Fills a close item (ref 0: static) for @code and @reason. */
static struct item *ws_close_init(struct ws_close_item *ci, uint16_t code, const char *reason)
{
	if (!ci->it.json_len) {
		ci->it.type = ITEM_CTRL;
		ci->it.end = 1;
		ci->it.json = (const char *)ci->frame;
		ci->it.json_len = (uint32_t)ws_close_frame(ci->frame, sizeof(ci->frame), code, reason);
	}
	return &ci->it;
}

/* A control frame (pong, close) built for one client: ref 1. */
static struct item *ws_ctrl_item(int opcode, uint16_t code, const uint8_t *data, size_t len)
{
	struct item *it = calloc(1, sizeof(*it) + WS_HEADER_MAX + WS_CONTROL_MAX);
	uint8_t *frame;

	if (!it)
		return NULL;
	atomic_init(&it->ref, 1);
	it->type = ITEM_CTRL;
	frame = (uint8_t *)it->buf;
	if (len > WS_CONTROL_MAX)
		len = WS_CONTROL_MAX;
	if (opcode == WS_OP_CLOSE) {
		char reason[WS_CONTROL_MAX + 1];
		size_t rl = len < WS_CONTROL_MAX - 2 ? len : WS_CONTROL_MAX - 2;

		if (rl)
			memcpy(reason, data, rl);
		reason[rl] = '\0';
		it->end = 1;
		it->json_len = (uint32_t)ws_close_frame(frame, WS_HEADER_MAX + WS_CONTROL_MAX, code,
							len ? reason : NULL);
	} else {
		it->json_len = (uint32_t)ws_frame(frame, WS_HEADER_MAX + WS_CONTROL_MAX, opcode, data, len);
	}
	it->json = it->buf;
	return it;
}

static bool ws_detect(struct MHD_Connection *conn)
{
	return http_header_has(conn, MHD_HTTP_HEADER_UPGRADE, "websocket");
}

static uint32_t ws_item_len(const struct item *it)
{
	return item_ws_len(it);
}

static void ws_release(struct client *c)
{
	struct ws_client *wc = (struct ws_client *)c;

	if (wc->watched)
		hub_watch_del(&wc->w);
	if (wc->zi)
		ws_inflater_free(wc->zi);
	free(wc->zi);
	probe_untag_conn(c->fd, 0);	/* its deliveries were counted as they went out */
	shutdown(c->fd, SHUT_RDWR);
	MHD_upgrade_action(wc->urh, MHD_UPGRADE_ACTION_CLOSE);
	free(wc);
}

static void ws_kill(struct ws_client *wc)
{
	if (!(wc->c.flags & CF_DONE)) {
		wc->c.flags |= CF_DONE | CF_CLOSING;
		hub_reap(&wc->c, ws_release);
	}
}

/*
 * While the socket is full, the peer is not read: what it sends waits in
 * its own socket buffers (TCP flow control), not in pushd's memory.
 */
static void ws_want_out(struct ws_client *wc, bool on)
{
	uint32_t ev = EPOLLRDHUP | (on ? EPOLLOUT : EPOLLIN);

	wc->out_blocked = on;

	if (wc->watched)
		hub_watch_mod(&wc->w, ev);
	else
		wc->w.events = ev;
}

static void ws_pong_sent(struct ws_client *wc);

/*
 * What @it is on this client's wire: a header and a body, or for a
 * permessage-deflate client the shared compressed frame, made by the first
 * client that needs it (hub lock held).  Returns the total length.
 */
static size_t ws_wire(const struct ws_client *wc, struct item *it, const uint8_t **h, size_t *hl,
		      const char **j, size_t *jl)
{
	if (wc->z && it->type != ITEM_CTRL) {
		if (!it->wsz_state) {
			it->wsz_len = (uint32_t)ws_deflate_frame(&ws_z, WS_OP_TEXT, it->json,
								 it->json_len, &it->wsz);
			it->wsz_state = it->wsz ? 1 : 2;
		}
		if (it->wsz) {
			*h = it->wsz;
			*hl = it->wsz_len;
			*j = "";
			*jl = 0;
			return *hl;
		}
	}
	*h = it->ws_hdr;
	*hl = it->ws_hdr_len;
	*j = it->json;
	*jl = it->json_len;
	return *hl + *jl;
}

/* Sends what is queued, many frames per call, until done or the socket is full. */
static void ws_deliver(struct client *c)
{
	struct ws_client *wc = (struct ws_client *)c;
	struct iovec iov[WS_IOV_ITEMS * 2];

	if (c->flags & CF_DONE)
		return;
	while (c->qlen) {
		uint32_t n = c->qlen < WS_IOV_ITEMS ? c->qlen : WS_IOV_ITEMS;
		struct msghdr mh = { .msg_iov = iov };
		size_t total = 0, skip = c->qoff;
		int k = 0;

		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *h;
			const char *j;
			size_t hl, jl;

			ws_wire(wc, client_at(c, i), &h, &hl, &j, &jl);
			k = iov_append(iov, k, (struct iovec[]){ { (void *)h, hl }, { (void *)j, jl } },
				       2, &skip, &total);
		}
		mh.msg_iovlen = (size_t)k;
		ssize_t sent = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (sent < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				ws_want_out(wc, true);
				return;
			}
			ws_kill(wc);
			return;
		}
		stat_add(&pushd_stats.t[PUSH_TRANSPORT_WEBSOCKET].bytes_out, (unsigned long long)sent);
		wc->sent += (uint64_t)sent;

		/* retire whole items; remember how far into the next one we got */
		size_t left = (size_t)sent;
		uint32_t items = 0;
		while (c->qlen) {
			struct item *it = client_head(c);
			const uint8_t *h;
			const char *j;
			size_t hl, jl, rest = ws_wire(wc, it, &h, &hl, &j, &jl) - c->qoff;

			if (left < rest) {
				c->qoff += (uint32_t)left;
				break;
			}
			left -= rest;
			if (it->type != ITEM_CTRL)
				items++;
			if (it->end) {
				client_pop(c);
				c->delivered += items;
				stat_add(&pushd_stats.t[PUSH_TRANSPORT_WEBSOCKET].items_out, items);
				probe_count_delivered(c->fd, items);
				ws_kill(wc);	/* the close frame is out */
				return;
			}
			client_pop(c);
			if (it == &wc->pong.it)
				ws_pong_sent(wc);
		}
		c->delivered += items;
		stat_add(&pushd_stats.t[PUSH_TRANSPORT_WEBSOCKET].items_out, items);
		probe_count_delivered(c->fd, items);
		if ((size_t)sent < total) {
			ws_want_out(wc, true);
			return;
		}
	}
	ws_want_out(wc, false);
}

/* Queues a control frame for this client only, even when closing. */
static void ws_send_ctrl(struct ws_client *wc, struct item *it)
{
	if (!it) {
		ws_kill(wc);
		return;
	}
	if (client_push(&wc->c, it))
		ws_kill(wc);
	item_put(it);
	hub_mark_dirty(&wc->c);
}

/* Writes the pong frame for @data into wc->pong, fixing the queue's byte count. */
static void ws_pong_fill(struct ws_client *wc, const uint8_t *data, size_t len)
{
	struct item *it = &wc->pong.it;
	uint32_t old = it->json_len;

	it->type = ITEM_CTRL;
	it->json = (const char *)wc->pong.frame;
	it->json_len = (uint32_t)ws_frame(wc->pong.frame, sizeof(wc->pong.frame), WS_OP_PONG,
					  data, len);
	if (wc->pong_queued)
		client_qbytes_add(&wc->c, (int64_t)it->json_len - (int64_t)old);
}

/*
 * Answers a ping.  At most one pong is ever queued: a ping arriving while
 * one waits replaces its payload (only the latest ping needs an answer), so
 * a client flooding pings costs no memory at all.
 */
static void ws_pong(struct ws_client *wc, const uint8_t *data, size_t len)
{
	struct client *c = &wc->c;

	if (len > WS_CONTROL_MAX)
		len = WS_CONTROL_MAX;
	if (!wc->pong_queued) {
		ws_pong_fill(wc, data, len);
		if (client_push(c, &wc->pong.it)) {
			ws_kill(wc);
			return;
		}
		wc->pong_queued = true;
		hub_mark_dirty(c);
	} else if (client_head(c) == &wc->pong.it && c->qoff) {
		/* half sent: answer this one once it is out */
		memcpy(wc->ping_data, data, len);
		wc->ping_len = (uint8_t)len;
		wc->pong_again = true;
	} else {
		ws_pong_fill(wc, data, len);
	}
}

/* The pong left the queue; a ping that came meanwhile gets its own. */
static void ws_pong_sent(struct ws_client *wc)
{
	wc->pong_queued = false;
	if (wc->pong_again) {
		wc->pong_again = false;
		ws_pong(wc, wc->ping_data, wc->ping_len);
	}
}

/* Ends the session with a close frame: drops what was queued but a frame half sent. */
/* The next stall check of a closing client: WS_CLOSE_WAIT from @now, never past close_last. */
static uint64_t ws_close_wait(const struct ws_client *wc, uint64_t now)
{
	return now + WS_CLOSE_WAIT < wc->close_last ? now + WS_CLOSE_WAIT : wc->close_last;
}

static void ws_begin_close(struct ws_client *wc, struct item *close_item)
{
	struct client *c = &wc->c;

	if (c->flags & CF_CLOSING) {
		item_put(close_item);
		return;
	}
	client_drain_unsent(c);
	wc->pong_queued = client_head(c) == &wc->pong.it;
	wc->pong_again = false;
	c->flags |= CF_CLOSING;
	wc->close_last = ws_now() + pushd_cfg.close_timeout;
	wc->close_by = ws_close_wait(wc, ws_now());
	if (ioctl(c->fd, SIOCOUTQ, &wc->outq) < 0)
		wc->outq = 0;
	wc->sent_mark = wc->sent;
	ws_send_ctrl(wc, close_item);
	hub_rearm(c, wc->close_by);
}

static void ws_feed(struct ws_client *wc, const uint8_t *in, size_t len)
{
	while (len && !(wc->c.flags & CF_DONE)) {
		struct ws_event ev;
		size_t used = 0;
		int type = ws_parse(&wc->p, in, len, &used, &ev);

		in += used;
		len -= used;
		switch (type) {
		case WS_EV_NONE:
			return;
		case WS_EV_PING:
			if (!(wc->c.flags & CF_CLOSING))
				ws_pong(wc, ev.data, ev.len);
			break;
		case WS_EV_CLOSE:
			if (wc->c.flags & CF_CLOSING) {
				ws_kill(wc);	/* the answer to our close */
				return;
			}
			ws_begin_close(wc, ws_ctrl_item(WS_OP_CLOSE,
							ev.code == WS_CLOSE_NO_STATUS ? 0 : ev.code,
							NULL, 0));
			return;
		case WS_EV_ERROR:
			ws_begin_close(wc, ws_ctrl_item(WS_OP_CLOSE, ev.code, ev.data, ev.len));
			return;
		case WS_EV_PONG:
			wc->unanswered = 0;
			break;
		default:
			break;	/* text, binary (validated by the parser): ignored */
		}
		if (!used)
			return;
	}
}

static void ws_io(struct hub_watch *w, uint32_t events)
{
	struct ws_client *wc = (struct ws_client *)((char *)w - offsetof(struct ws_client, w));
	uint8_t buf[16384];

	if (wc->c.flags & CF_DONE)
		return;
	if (events & EPOLLIN) {
		for (int reads = 0; reads < WS_READ_MAX && !wc->out_blocked; reads++) {
			ssize_t n = recv(wc->c.fd, buf, sizeof(buf), MSG_DONTWAIT);

			if (n > 0) {
				ws_feed(wc, buf, (size_t)n);
				if ((size_t)n < sizeof(buf) || (wc->c.flags & CF_DONE))
					break;
				continue;
			}
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			ws_kill(wc);	/* EOF or error */
			return;
		}
	}
	/* a peer gone while we do not read it (its output blocked) is noticed here */
	if ((events & (EPOLLERR | EPOLLHUP)) || ((events & EPOLLRDHUP) && wc->out_blocked)) {
		ws_kill(wc);
		return;
	}
	if (events & EPOLLOUT)
		hub_mark_dirty(&wc->c);
}

void ws_upgraded(void *cls, struct MHD_Connection *conn, void *con_cls,
			const char *extra_in, size_t extra_in_size, MHD_socket sock,
			struct MHD_UpgradeResponseHandle *urh)
{
	struct ws_pending *pending = con_cls;
	struct sub_request *req = pending ? pending->req : NULL;
	struct ws_client *wc = req ? calloc(1, sizeof(*wc)) : NULL;
	int err;

	(void)cls;
	(void)conn;
	if (pending)
		pending->req = NULL;
	if (!wc) {
		free(req);
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		return;
	}
	wc->c.t = &transport_ws;
	wc->c.fd = sock;
	wc->urh = urh;
	wc->next_ping = ws_now() + pushd_cfg.heartbeat;
	wc->w.fd = sock;
	wc->w.events = EPOLLIN | EPOLLRDHUP;
	wc->w.cb = ws_io;
	ws_parser_init(&wc->p, NULL, WS_MAX_MESSAGE);
	wc->v1 = pending->v1;
	wc->z = pending->dp.on;
	if (wc->z) {
		/* apart, so that a subscriber without deflate pays nothing for it */
		wc->zi = malloc(sizeof(*wc->zi));
		if (!wc->zi) {
			free(req);
			free(wc);
			MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
			return;
		}
		ws_inflater_init(wc->zi, pending->dp.client_bits, WS_MAX_MESSAGE);
		ws_parser_compressed(&wc->p, ws_inflate_sink, wc->zi);
	}
	probe_tag_conn(sock, PUSH_TRANSPORT_WEBSOCKET);

	err = hub_subscribe(&wc->c, req);
	free(req);
	if (err) {
		uint8_t frame[WS_HEADER_MAX + WS_CONTROL_MAX];
		size_t n = err == -ESHUTDOWN
			   ? ws_close_frame(frame, sizeof(frame), WS_CLOSE_GOING_AWAY, "shutdown")
			   : ws_close_frame(frame, sizeof(frame), WS_CLOSE_INTERNAL, "cannot subscribe");

		if (send(sock, frame, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			err = -errno;
		free(wc->zi);
		free(wc);
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		return;
	}
	hub_lock();
	longpoll_conn_release(wc->w.fd);	/* after long-polls on this connection */
	if (hub_watch_add(&wc->w) == 0)
		wc->watched = true;
	else
		ws_kill(wc);
	if (extra_in_size)
		ws_feed(wc, (const uint8_t *)extra_in, extra_in_size);
	hub_mark_dirty(&wc->c);
	hub_unlock();
}

/* The next second ws_heartbeat() is due at: 0 once dead. */
static uint64_t ws_next_due(const struct ws_client *wc)
{
	if (wc->c.flags & CF_DONE)
		return 0;
	return wc->c.flags & CF_CLOSING ? wc->close_by : wc->next_ping;
}

/*
 * Due every --heartbeat: a ping (and push.v1's hb), unless messages went
 * out since the last one and the peer's TCP took them all (nothing left
 * in the socket) with no ping outstanding: traffic proves the connection.
 * Data it does not take keeps the pings, and --ping-misses, going.
 */
static uint64_t ws_heartbeat(struct client *c, uint64_t now)
{
	struct ws_client *wc = (struct ws_client *)c;
	int outq = 0;

	if (c->flags & CF_CLOSING) {
		if (now < wc->close_by)
			return ws_next_due(wc);
		/*
		 * The close frame waits behind what the socket holds; a client
		 * still draining that (a slow reader told to stop: the socket's
		 * backlog shrank, or took more of ours) gets more time to see
		 * the frame, one that stalls is dropped.
		 */
		if (ioctl(c->fd, SIOCOUTQ, &outq) < 0)
			outq = wc->outq;
		if (now < wc->close_last && (outq < wc->outq || wc->sent != wc->sent_mark)) {
			wc->outq = outq;
			wc->sent_mark = wc->sent;
			wc->close_by = ws_close_wait(wc, now);
			return ws_next_due(wc);
		}
		stat_add(&pushd_stats.t[PUSH_TRANSPORT_WEBSOCKET].close_timeouts, 1);
		http_abort_fd(c->fd);
		ws_kill(wc);
		return 0;
	}
	if (now < wc->next_ping)
		return wc->next_ping;
	wc->next_ping = now + pushd_cfg.heartbeat;
	bool active = c->delivered != wc->hb_delivered && !wc->unanswered && !c->qlen;

	wc->hb_delivered = c->delivered;
	if ((active || wc->unanswered >= pushd_cfg.pong_misses) && ioctl(c->fd, SIOCOUTQ, &outq) < 0)
		outq = 0;
	if (active && !outq)
		return wc->next_ping;
	/* a peer that answers no ping for --ping-misses heartbeats is dead or stalled */
	if (wc->unanswered >= pushd_cfg.pong_misses) {
		if (wc->out_blocked || c->qlen || outq > 0) {
			/* what we sent is not taken: it does not read, a slow consumer */
			hub_cut_off(c, CLOSE_SLOW);
			return ws_next_due(wc);
		}
		stat_add(&pushd_stats.ws_no_pong, 1);
		ws_begin_close(wc, ws_close_init(&ws_close_nopong, WS_CLOSE_POLICY, "no pong"));
		return ws_next_due(wc);
	}
	wc->unanswered++;
	hub_queue(c, &ws_ping);
	if (wc->v1)
		hub_queue(c, &ws_hb);
	return ws_next_due(wc);
}

static void ws_close(struct client *c, enum client_close why)
{
	struct ws_client *wc = (struct ws_client *)c;

	if (why == CLOSE_ABORT) {
		ws_kill(wc);
	} else if (why == CLOSE_EXPIRED) {
		/* 4001: an application code (RFC 6455 7.4.2); the client re-authenticates */
		ws_begin_close(wc, ws_close_init(&ws_close_expired, 4001, "token expired"));
	} else if (why == CLOSE_SLOW) {
		/* its socket is full: the close frame goes out if it drains in time */
		ws_begin_close(wc, ws_close_init(&ws_close_slow, WS_CLOSE_POLICY, "slow consumer"));
	} else {
		ws_begin_close(wc, ws_close_init(&ws_close_shutdown, WS_CLOSE_GOING_AWAY, "shutdown"));
	}
}

const struct push_transport transport_ws = {
	.name = "websocket",
	.kind = PUSH_TRANSPORT_WEBSOCKET,
	.detect = ws_detect,
	.open = ws_open,
	.deliver = ws_deliver,
	.heartbeat = ws_heartbeat,
	.close = ws_close,
	.item_len = ws_item_len,
};
