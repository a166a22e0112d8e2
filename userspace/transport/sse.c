// SPDX-License-Identifier: GPL-2.0
/*
 * sse.c - Server-Sent Events: a chunked text/event-stream response whose
 * content reader copies as many queued events as fit into MHD's buffer,
 * so a backlog goes out as one chunk.  With nothing queued it suspends the
 * connection, as long-poll waits (longpoll.c), and the hub resumes it.
 *
 * With --sse-path hub (the default without TLS) that is only how a stream
 * starts: once MHD has sent the head, the retry line and the first backlog
 * (it calls the reader again only when all it had is on the wire: in
 * libmicrohttpd 0.9.75 a connection leaves HEADERS_SENDING and
 * CHUNKED_BODY_READY for the state that calls the reader only once its
 * write buffer is empty, check_write_done() in connection.c), the
 * connection stays suspended for good and the hub sends each batch
 * straight to the socket, one sendmsg() of HTTP chunks (one per event,
 * nothing copied), waiting for EPOLLOUT on the watch it already has for
 * hang-ups when the socket is full.  A delivery then costs one system
 * call, not an eventfd write, MHD's epoll_ctl()s and its walk over every
 * suspended connection.  When the stream ends (close event sent, peer
 * gone) the hub resumes the connection and the reader ends it: MHD writes
 * the last chunk or drops the connection.  An HTTP/1.0 request gets no
 * chunks (its body ends with the connection): MHD writes all of it.
 *
 * ?format=raw uses transport_sse_raw, a copy of the table whose items are
 * the raw SSE events (payload split into data: lines, EventSource's
 * e.data is the payload itself); gaps, heartbeats and closes are the same.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include "core/config.h"
#include "core/counters.h"
#include "core/hub.h"
#include "protocol/sse.h"
#include "push/probe_tag.h"
#include "transport/mhd.h"
#include "transport/transport.h"

struct sse_client {
	struct client c;
	struct hup_watch hup;
	struct MHD_Connection *conn;
	uint64_t next_hb;	/* monotonic seconds */
	uint64_t close_last;	/* closing: when its socket is shut down, read or not */
	uint8_t preamble;	/* bytes of "retry: 2000\n\n" sent */
	bool chunked;		/* HTTP/1.1: MHD sends the body in chunks (else until close) */
	bool hub;		/* --sse-path hub: the hub writes the stream now */
	bool out_wait;		/* ...and waits for EPOLLOUT: the socket was full */
};

#define SSE_IOV_ITEMS	64	/* events (chunks) per sendmsg() */

/*
 * MHD gives every callback response a block of this size, which chunked
 * responses never use (the reader writes into the connection's own buffer):
 * keep it tiny, it is paid per subscriber.
 */
#define SSE_BLOCK	64

static const char sse_retry_line[] = "retry: 2000\n\n";

#define SSE_CTRL(pre, body, is_end) {				\
	.type = ITEM_CTRL, .end = (is_end),			\
	.sse_pre = pre, .sse_pre_len = sizeof(pre) - 1,		\
	.json = body, .json_len = sizeof(body) - 1,		\
}

/* ": hb" + "" + "\n\n" */
static struct item sse_hb = SSE_CTRL(": hb", "", 0);
static struct item sse_close_slow = SSE_CTRL("event: close\ndata: ", "{\"reason\":\"slow consumer\"}", 1);
static struct item sse_close_shutdown = SSE_CTRL("event: close\ndata: ", "{\"reason\":\"shutdown\"}", 1);
static struct item sse_close_expired = SSE_CTRL("event: close\ndata: ", "{\"reason\":\"token expired\"}", 1);

static uint64_t sse_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

static bool sse_detect(struct MHD_Connection *conn)
{
	return http_header_has(conn, MHD_HTTP_HEADER_ACCEPT, "text/event-stream");
}

static uint32_t sse_item_len(const struct item *it)
{
	return item_sse_len(it);
}

static uint32_t sse_raw_item_len(const struct item *it)
{
	return item_sse_raw_len(it);
}

/* Copies bytes [from, from + n) of the item's SSE form (@raw: ?format=raw) to out. */
static void sse_copy(const struct item *it, bool raw, uint32_t from, char *out, uint32_t n)
{
	const char *piece[3] = { it->sse_pre, it->json, "\n\n" };
	uint32_t plen[3] = { it->sse_pre_len, it->json_len, 2 };

	if (raw && it->sse_raw) {
		piece[0] = it->sse_raw;
		plen[0] = it->sse_raw_len;
		plen[1] = plen[2] = 0;
	}

	for (int i = 0; i < 3 && n; i++) {
		if (from >= plen[i]) {
			from -= plen[i];
			continue;
		}
		uint32_t k = plen[i] - from < n ? plen[i] - from : n;
		memcpy(out, piece[i] + from, k);
		out += k;
		n -= k;
		from = 0;
	}
}

static ssize_t sse_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse_client *s = cls;
	struct client *c = &s->c;
	size_t off = 0;
	uint32_t items = 0;
	bool raw = c->t == &transport_sse_raw;

	(void)pos;
	hub_lock();
	if (c->flags & CF_GONE) {
		/* the peer left (RDHUP/HUP): no last chunk for nobody */
		hub_unlock();
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if (s->hub) {
		/* the hub writes this stream: MHD only ends it */
		if (c->flags & CF_DONE) {
			hub_unlock();
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		longpoll_wait(c, s->conn);
		hub_unlock();
		return 0;
	}
	while (s->preamble < sizeof(sse_retry_line) - 1 && off < max) {
		buf[off++] = sse_retry_line[s->preamble++];
	}
	while (c->qlen && off < max && !(c->flags & CF_DONE)) {
		struct item *it = client_head(c);
		uint32_t len = c->t->item_len(it);
		uint32_t n = len - c->qoff;

		if (n > max - off)
			n = (uint32_t)(max - off);
		sse_copy(it, raw, c->qoff, buf + off, n);
		off += n;
		c->qoff += n;
		if (c->qoff < len)
			break;
		if (it->end)
			c->flags |= CF_DONE;
		if (it->type != ITEM_CTRL)
			items++;
		client_pop(c);
	}
	if (items) {
		c->delivered += items;
		stat_add(&pushd_stats.t[PUSH_TRANSPORT_SSE].items_out, items);
		probe_count_delivered(c->fd, items);
	}
	stat_add(&pushd_stats.t[PUSH_TRANSPORT_SSE].bytes_out, off);
	if (off && !(c->flags & CF_CLOSING)) {
		/* it sent something: no heartbeat before another interval without */
		s->next_hb = sse_now() + pushd_cfg.heartbeat;
		hub_rearm(c, s->next_hb);
	} else if (!off) {
		if ((c->flags & CF_DONE) || ((c->flags & CF_CLOSING) && !c->qlen)) {
			hub_unlock();
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		/* all MHD had is on the wire: the hub may write from here on */
		if (pushd_cfg.sse_path == PUSHD_SSE_HUB && s->hup.on && s->chunked)
			s->hub = true;
		longpoll_wait(c, s->conn);
	}
	hub_unlock();
	return (ssize_t)off;
}

/*
 * Item @it as one HTTP chunk: its size line (written into @sz), its SSE
 * form and the CRLF, as at most four pieces; returns how many.
 */
static int sse_chunk(const struct item *it, bool raw, char sz[12], struct iovec *piece)
{
	uint32_t len = raw ? item_sse_raw_len(it) : item_sse_len(it);
	int n = 0;

	piece[n++] = (struct iovec){ sz, (size_t)snprintf(sz, 12, "%x\r\n", len) };
	if (raw && it->sse_raw) {
		piece[n++] = (struct iovec){ (void *)it->sse_raw, it->sse_raw_len };
		piece[n++] = (struct iovec){ "\r\n", 2 };
		return n;
	}
	if (it->sse_pre_len)
		piece[n++] = (struct iovec){ (void *)it->sse_pre, it->sse_pre_len };
	if (it->json_len)
		piece[n++] = (struct iovec){ (void *)it->json, it->json_len };
	piece[n++] = (struct iovec){ "\n\n\r\n", 4 };
	return n;
}

static size_t sse_chunk_len(const struct item *it, bool raw)
{
	struct iovec piece[4];
	char sz[12];
	size_t len = 0;
	int n = sse_chunk(it, raw, sz, piece);

	for (int i = 0; i < n; i++)
		len += piece[i].iov_len;
	return len;
}

static void sse_want_out(struct sse_client *s, bool on)
{
	if (s->out_wait == on)
		return;
	s->out_wait = on;
	if (s->hup.on)	/* not after a hang-up took the watch away */
		hub_watch_mod(&s->hup.w, EPOLLRDHUP | (on ? EPOLLOUT : 0));
}

/* The stream is over (close event out, or peer gone): MHD ends it (lock held). */
static void sse_end(struct sse_client *s)
{
	if (s->out_wait)
		sse_want_out(s, false);
	longpoll_wake(&s->c, s->conn);
}

/*
 * --sse-path hub: sends what is queued, many chunks per sendmsg(), until
 * done or the socket is full (lock held; from whichever thread unlocks).
 */
static void sse_send(struct sse_client *s)
{
	struct client *c = &s->c;
	bool raw = c->t == &transport_sse_raw;
	struct iovec iov[SSE_IOV_ITEMS * 4];
	char sz[SSE_IOV_ITEMS][12];
	bool sent_any = false;

	while (c->qlen) {
		uint32_t n = c->qlen < SSE_IOV_ITEMS ? c->qlen : SSE_IOV_ITEMS;
		struct msghdr mh = { .msg_iov = iov };
		size_t total = 0, skip = c->qoff;
		int k = 0;

		for (uint32_t i = 0; i < n; i++) {
			struct iovec piece[4];
			int np = sse_chunk(client_at(c, i), raw, sz[i], piece);

			k = iov_append(iov, k, piece, np, &skip, &total);
		}
		mh.msg_iovlen = (size_t)k;
		ssize_t sent = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (sent < 0) {
			if (errno == EAGAIN || errno == EINTR) {
				sse_want_out(s, true);
				break;
			}
			/* reset or broken pipe: as a hang-up */
			longpoll_hup_stop(&s->hup);
			stat_add(&pushd_stats.peer_gone, 1);
			hub_peer_gone(c);
			sse_end(s);
			return;
		}
		sent_any = sent_any || sent > 0;
		stat_add(&pushd_stats.t[PUSH_TRANSPORT_SSE].bytes_out, (unsigned long long)sent);

		/* retire whole chunks; remember how far into the next one we got */
		size_t left = (size_t)sent;
		uint32_t items = 0;
		bool end = false;

		while (c->qlen) {
			struct item *it = client_head(c);
			size_t rest = sse_chunk_len(it, raw) - c->qoff;

			if (left < rest) {
				c->qoff += (uint32_t)left;
				break;
			}
			left -= rest;
			if (it->type != ITEM_CTRL)
				items++;
			end = it->end;
			client_pop(c);
			if (end)
				break;
		}
		if (items) {
			c->delivered += items;
			stat_add(&pushd_stats.t[PUSH_TRANSPORT_SSE].items_out, items);
			probe_count_delivered(c->fd, items);
		}
		if (end) {
			c->flags |= CF_DONE;
			sse_end(s);
			return;
		}
		if ((size_t)sent < total) {
			sse_want_out(s, true);
			break;
		}
	}
	if (!c->qlen)
		sse_want_out(s, false);
	if (sent_any && !(c->flags & CF_CLOSING)) {
		/* it sent something: no heartbeat before another interval without */
		s->next_hb = sse_now() + pushd_cfg.heartbeat;
		hub_rearm(c, s->next_hb);
	}
}

/* The watch of a hub-written stream: hang-ups as for long-poll, and room to write. */
static void sse_io(struct hub_watch *w, uint32_t events)
{
	struct sse_client *s = (struct sse_client *)((char *)w - offsetof(struct sse_client, hup.w));

	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		longpoll_hup_event(w, events);
		return;
	}
	if ((events & EPOLLOUT) && s->hub && !(s->c.flags & (CF_GONE | CF_DONE)))
		sse_send(s);
}

static void sse_free(void *cls)
{
	struct sse_client *s = cls;

	hub_lock();
	longpoll_hup_stop(&s->hup);
	hub_unsubscribe(&s->c);
	hub_unlock();
	free(s);
}

static int sse_open(struct MHD_Connection *conn, const struct sub_request *req, void **con_cls)
{
	struct sse_client *s = calloc(1, sizeof(*s));
	struct MHD_Response *r;
	enum MHD_Result ret;
	int err;

	(void)con_cls;
	if (!s)
		return MHD_NO;
	s->c.t = req->raw ? &transport_sse_raw : &transport_sse;
	s->c.fd = http_conn_fd(conn);
	s->conn = conn;
	s->chunked = req->http11;
	s->next_hb = sse_now() + pushd_cfg.heartbeat;
	err = hub_subscribe(&s->c, req);
	if (err) {
		free(s);
		return longpoll_open_error(conn, err);
	}
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, SSE_BLOCK, sse_reader, s, sse_free);
	if (!r) {
		sse_free(s);
		return MHD_NO;
	}
	hub_lock();
	longpoll_hup_start(&s->hup, &s->c);
	s->hup.w.cb = sse_io;
	hub_unlock();
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	http_common_headers(r);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static void sse_deliver(struct client *c)
{
	struct sse_client *s = (struct sse_client *)c;

	if (s->hub && !(c->flags & (CF_GONE | CF_DONE)))
		sse_send(s);
	else
		longpoll_wake(c, s->conn);
}

static uint64_t sse_heartbeat(struct client *c, uint64_t now)
{
	struct sse_client *s = (struct sse_client *)c;

	if (c->flags & CF_CLOSING) {
		if (now < s->close_last)
			return s->close_last;
		/*
		 * --close-timeout is over and the close event is still not
		 * taken: a reader that trickles would keep MHD's inactivity
		 * timeout from ever firing.  Abort the connection: what its
		 * socket still holds is dropped (an orphaned socket would keep
		 * sending it), MHD, woken by the hang-up, closes it with a RST.
		 */
		http_abort_fd(c->fd);
		c->flags |= CF_GONE;
		stat_add(&pushd_stats.t[PUSH_TRANSPORT_SSE].close_timeouts, 1);
		longpoll_wake(c, s->conn);
		return 0;
	}
	if (now < s->next_hb)
		return s->next_hb;
	s->next_hb = now + pushd_cfg.heartbeat;
	hub_queue(c, &sse_hb);
	return s->next_hb;
}

static void sse_close(struct client *c, enum client_close why)
{
	if (c->flags & CF_CLOSING)
		return;
	client_drain_unsent(c);
	client_push(c, why == CLOSE_SLOW ? &sse_close_slow :
		       why == CLOSE_EXPIRED ? &sse_close_expired : &sse_close_shutdown);
	c->flags |= CF_CLOSING;
	((struct sse_client *)c)->close_last = sse_now() + pushd_cfg.close_timeout;
	hub_rearm(c, ((struct sse_client *)c)->close_last);
	hub_mark_dirty(c);
}

const struct push_transport transport_sse = {
	.name = "sse",
	.kind = PUSH_TRANSPORT_SSE,
	.detect = sse_detect,
	.open = sse_open,
	.deliver = sse_deliver,
	.heartbeat = sse_heartbeat,
	.close = sse_close,
	.item_len = sse_item_len,
};

/* ?format=raw: the same transport with the raw form of each message. */
const struct push_transport transport_sse_raw = {
	.name = "sse",
	.kind = PUSH_TRANSPORT_SSE,
	.detect = sse_detect,
	.open = sse_open,
	.deliver = sse_deliver,
	.heartbeat = sse_heartbeat,
	.close = sse_close,
	.item_len = sse_raw_item_len,
};
