// SPDX-License-Identifier: GPL-2.0
/* load_conn.c - push-load's subscribers: connections, requests, response heads, reading (the bodies: load_parse.c). */
#include "load.h"

/* ---- items: one delivered message or gap -------------------------------- */

/* Parses the decimal number right after key in [p, p + n); false if none. */
bool find_u64(const char *p, size_t n, const char *key, uint64_t *out)
{
	const char *q = memmem(p, n, key, strlen(key));
	if (!q)
		return false;
	q += strlen(key);
	const char *end = p + n;
	if (q >= end || *q < '0' || *q > '9')
		return false;
	uint64_t v = 0;
	while (q < end && *q >= '0' && *q <= '9')
		v = v * 10 + (*q++ - '0');
	*out = v;
	return true;
}

void record_latency(uint64_t t_pub)
{
	uint64_t now = now_real_ns();
	uint64_t us = now > t_pub ? (now - t_pub) / 1000 : 0;
	int k = 0;

	if (pub.t0_real && t_pub >= pub.t0_real)
		k = step_at((t_pub - pub.t0_real) / 1e9);
	if (k >= o.nrates)
		k = o.nrates - 1;
	steps[k].hist[hist_bucket(us)]++;
	steps[k].lat_n++;
}

/*
 * One item as the server sent it: pushd's JSON object (a message or a gap)
 * or nchan's raw payload.  Checks ids and sequence numbers.
 */
void on_item(struct conn *c, const char *p, size_t n)
{
	uint64_t v;

	if (n && p[0] == '{' && memmem(p, n, "\"type\":\"gap\"", 12)) {
		st.gaps++;
		if (find_u64(p, n, "\"lost\":", &v))
			st.lost += v;
		return;
	}
	c->msgs++;
	st.msgs++;
	st.t_last_rx = now_mono();
	if (!st.t_first_rx)
		st.t_first_rx = st.t_last_rx;
	if (pub.started && st.t_last_rx >= pub.t0) {
		/* counted by arrival time, however late the main loop snaps steps */
		int k = step_at(st.t_last_rx - pub.t0);
		if (k < o.nrates)
			steps[k].rx++;
	}
	if (n && p[0] == '{' && find_u64(p, n, "\"id\":", &v)) {
		if (v <= c->last_id)
			st.id_errors++;
		c->last_id = v;
	}
	if (find_u64(p, n, "#s=", &v)) {
		if (c->last_seq && v <= c->last_seq)
			st.reorders++;
		else if (c->last_seq && v > c->last_seq + 1) {
			if (o.verbose > 1)
				fprintf(stderr, "push-load: conn %d: seq %" PRIu64 " after %" PRIu64
					" (id %" PRIu64 ", since %" PRIu64 ")\n", (int)(c - conns), v,
					c->last_seq, c->last_id, c->since);
			st.holes++;
			st.missed += v - c->last_seq - 1;
		}
		if (v > c->last_seq)
			c->last_seq = v;
	}
	if (find_u64(p, n, "#t=", &v))
		record_latency(v);
}

/* ---- connections ---------------------------------------------------------- */

void conn_want_write(struct conn *c, bool on)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0),
		.data.ptr = c,
	};
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

void conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	if (!c->established)
		st.inflight--;
	c->state = CS_DEAD;
	buf_free(&c->in);
	buf_free(&c->body);
	buf_free(&c->out);
	free(c->etag);
	free(c->lastmod);
	c->etag = c->lastmod = NULL;
}

/* Ends a connection: a failure before it was established, else a drop. */
void conn_fail(struct conn *c, enum why why, const char *fmt, ...)
{
	char msg[128];
	va_list ap;

	if (c->state == CS_DEAD)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	note_error(st.first_error, sizeof(st.first_error), "conn %d: %s",
		   (int)(c - conns), msg);
	if (o.verbose > 1)
		fprintf(stderr, "push-load: conn %d: %s\n", (int)(c - conns), msg);
	if (!c->established) {
		st.failed++;
		if (why == W_CONNECT)
			st.fail_connect++;
		else if (why == W_STATUS)
			st.fail_status++;
		else
			st.fail_closed++;
	} else {
		st.dropped++;
		switch (why) {
		case W_SLOW: st.drop_slow++; break;
		case W_SHUTDOWN: st.drop_shutdown++; break;
		case W_WSCLOSE: st.drop_ws_other++; break;
		case W_EOF: st.drop_eof++; break;
		default: st.drop_error++; break;
		}
	}
	conn_close(c);
}

void conn_established(struct conn *c)
{
	if (c->established)
		return;
	c->established = true;
	st.established++;
	st.inflight--;
}

/* Sends what is queued; false if the connection died. */
bool conn_flush(struct conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.p + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN) {
				conn_want_write(c, true);
				return true;
			}
			if (errno == EINTR)
				continue;
			conn_fail(c, W_ERROR, "send: %s", strerror(errno));
			return false;
		}
		c->out_off += n;
	}
	c->out.len = c->out_off = 0;
	conn_want_write(c, false);
	return true;
}

void conn_queue(struct conn *c, const char *fmt, ...)
{
	char tmp[2048];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		die("request too long");
	buf_add(&c->out, tmp, n);
}

/* Queues the subscribe request for the transport and flavor. */
void conn_request(struct conn *c)
{
	const struct sub_url *u = &sub_urls[(c - conns) % nsub_urls];
	const char *sub_path = u->path, *sub_host = u->host;

	switch (o.transport) {
	case T_SSE:
		conn_queue(c, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n",
			   sub_path, sub_host);
		break;
	case T_WS:
		conn_queue(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
			   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
			   "Sec-WebSocket-Version: 13\r\n\r\n", sub_path, sub_host);
		break;
	case T_LONGPOLL:
		if (o.flavor == F_NCHAN) {
			conn_queue(c, "GET %s HTTP/1.1\r\nHost: %s\r\n", sub_path, sub_host);
			if (c->etag)
				conn_queue(c, "If-None-Match: %s\r\n", c->etag);
			if (c->lastmod)
				conn_queue(c, "If-Modified-Since: %s\r\n", c->lastmod);
			conn_queue(c, "\r\n");
		} else if (c->since) {
			conn_queue(c, "GET %s%csince=%" PRIu64 " HTTP/1.1\r\nHost: %s\r\n\r\n",
				   sub_path, strchr(sub_path, '?') ? '&' : '?', c->since, sub_host);
		} else {
			conn_queue(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", sub_path, sub_host);
		}
		break;
	}
	c->state = CS_HEADERS;
}

void conn_start(struct conn *c)
{
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	st.started++;
	st.inflight++;
	if (c->fd < 0) {
		c->state = CS_CONNECTING;
		conn_fail(c, W_CONNECT, "socket: %s", strerror(errno));
		return;
	}
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->state = CS_CONNECTING;
	if (bind_source(c->fd, c - conns) < 0) {
		conn_fail(c, W_CONNECT, "bind: %s", strerror(errno));
		return;
	}
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.ptr = c };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		conn_fail(c, W_CONNECT, "epoll_ctl: %s", strerror(errno));
		return;
	}
	const struct sub_url *u = &sub_urls[(c - conns) % nsub_urls];
	if (connect(c->fd, (struct sockaddr *)&u->addr, sizeof(u->addr)) < 0 &&
	    errno != EINPROGRESS)
		conn_fail(c, W_CONNECT, "connect: %s", strerror(errno));
}

/* The value of header name in [h, h + n) (a CRLF-separated block), or NULL. */
char *header_value(const char *h, size_t n, const char *name, size_t *len)
{
	size_t nl = strlen(name);
	const char *p = h, *end = h + n;

	while (p < end) {
		const char *eol = memmem(p, end - p, "\r\n", 2);
		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > nl && p[nl] == ':' && !strncasecmp(p, name, nl)) {
			const char *v = p + nl + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			*len = eol - v;
			return (char *)v;
		}
		p = eol + 2;
	}
	return NULL;
}

/* Parses the status line and headers; returns bytes used, 0 if incomplete. */
size_t on_headers(struct conn *c, const char *p, size_t n)
{
	const char *end = memmem(p, n, "\r\n\r\n", 4);
	size_t len;

	if (!end) {
		if (n > 65536)
			conn_fail(c, W_ERROR, "response headers too long");
		return 0;
	}
	size_t used = end + 4 - p;
	int status = 0;
	if (sscanf(p, "HTTP/1.%*d %d", &status) != 1) {
		conn_fail(c, W_STATUS, "bad status line");
		return used;
	}
	const char *hdr = memmem(p, n, "\r\n", 2) + 2;
	size_t hlen = end + 2 - hdr;

	if (o.transport == T_WS) {
		if (status != 101) {
			conn_fail(c, W_STATUS, "websocket handshake: HTTP %d", status);
			return used;
		}
		c->state = CS_WS;
		conn_established(c);
		return used;
	}
	if (o.transport == T_LONGPOLL && o.flavor == F_NCHAN && (status == 304 || status == 408)) {
		/* nchan: nothing new within its timeout; ask again */
	} else if (status != 200) {
		conn_fail(c, W_STATUS, "HTTP %d", status);
		return used;
	}
	if (o.transport == T_SSE)
		conn_established(c);
	if (o.transport == T_LONGPOLL && o.flavor == F_NCHAN && status == 200) {
		char *v = header_value(hdr, hlen, "Etag", &len);
		free(c->etag);
		c->etag = v ? strndup(v, len) : NULL;
		v = header_value(hdr, hlen, "Last-Modified", &len);
		free(c->lastmod);
		c->lastmod = v ? strndup(v, len) : NULL;
	}
	char *te = header_value(hdr, hlen, "Transfer-Encoding", &len);
	char *cl = header_value(hdr, hlen, "Content-Length", &len);
	if (te && memmem(te, len, "chunked", 7)) {
		c->framing = FR_CHUNKED;
		c->chunk_data = c->chunk_trailer = false;
	} else if (cl) {
		c->framing = FR_LENGTH;
		c->body_left = strtoull(cl, NULL, 10);
	} else {
		c->framing = FR_EOF;
	}
	c->body.len = 0;
	c->state = CS_BODY;
	c->status = status;
	return used;
}

/* Body bytes: de-chunks them into c->body; returns bytes used. */
size_t on_body(struct conn *c, const char *p, size_t n)
{
	size_t used = 0;
	bool complete = false;

	if (c->framing == FR_LENGTH) {
		size_t k = n < c->body_left ? n : c->body_left;
		if (!buf_add(&c->body, p, k)) {
			conn_fail(c, W_ERROR, "body too large");
			return n;
		}
		c->body_left -= k;
		used = k;
		complete = c->body_left == 0;
	} else if (c->framing == FR_EOF) {
		if (!buf_add(&c->body, p, n)) {
			conn_fail(c, W_ERROR, "body too large");
			return n;
		}
		used = n;
	} else {
		while (used < n && !complete) {
			if (c->chunk_data) {
				size_t k = n - used < c->body_left ? n - used : c->body_left;
				if (!buf_add(&c->body, p + used, k)) {
					conn_fail(c, W_ERROR, "body too large");
					return n;
				}
				used += k;
				c->body_left -= k;
				if (!c->body_left)
					c->chunk_data = false;
				continue;
			}
			const char *eol = memmem(p + used, n - used, "\r\n", 2);
			if (!eol)
				break;
			size_t ll = eol - (p + used);
			if (c->chunk_trailer) {
				used += ll + 2;
				if (ll == 0)
					complete = true;
				continue;
			}
			if (ll == 0) {	/* the CRLF after a chunk's data */
				used += 2;
				continue;
			}
			char *e;
			unsigned long long sz = strtoull(p + used, &e, 16);
			if (e == p + used) {
				conn_fail(c, W_ERROR, "bad chunk size");
				return n;
			}
			used += ll + 2;
			if (sz == 0) {
				c->chunk_trailer = true;
			} else {
				c->body_left = sz;
				c->chunk_data = true;
			}
		}
	}
	if (o.transport == T_SSE) {
		sse_parse(c);
		if (complete && c->state != CS_DEAD)
			conn_fail(c, W_EOF, "SSE response ended");
	} else if (complete) {
		lp_done(c);
	}
	return used;
}

/* Parses what it can of [p, p + n); returns bytes used. */
size_t conn_feed(struct conn *c, const char *p, size_t n)
{
	size_t off = 0;

	while (off < n && c->state != CS_DEAD) {
		size_t used = 0;
		switch (c->state) {
		case CS_HEADERS:
			used = on_headers(c, p + off, n - off);
			break;
		case CS_BODY:
			used = on_body(c, p + off, n - off);
			break;
		case CS_WS:
			used = on_ws(c, p + off, n - off);
			break;
		default:
			return n;
		}
		if (!used)
			break;
		off += used;
	}
	return off;
}

static char rbuf[READ_CHUNK];

void conn_readable(struct conn *c)
{
	for (int rounds = 0; rounds < 2 && c->state != CS_DEAD; rounds++) {
		ssize_t n = recv(c->fd, rbuf, sizeof(rbuf), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			conn_fail(c, W_ERROR, "recv: %s", strerror(errno));
			return;
		}
		if (n == 0) {
			if (c->state == CS_BODY && c->framing == FR_EOF && o.transport == T_LONGPOLL) {
				lp_done(c);
				if (c->state == CS_DEAD)
					return;
			}
			conn_fail(c, W_EOF, "closed by the server");
			return;
		}
		st.bytes += n;
		if (c->in.len) {
			if (!buf_add(&c->in, rbuf, n)) {
				conn_fail(c, W_ERROR, "too much unparsed input");
				return;
			}
			size_t used = conn_feed(c, c->in.p, c->in.len);
			if (c->state != CS_DEAD)
				buf_consume(&c->in, used);
		} else {
			size_t used = conn_feed(c, rbuf, n);
			if (c->state != CS_DEAD && used < (size_t)n &&
			    !buf_add(&c->in, rbuf + used, n - used))
				conn_fail(c, W_ERROR, "too much unparsed input");
		}
		if (n < (ssize_t)sizeof(rbuf))
			return;
	}
}

void conn_event(struct conn *c, uint32_t ev)
{
	if (c->state == CS_CONNECTING) {
		int err = 0;
		socklen_t sl = sizeof(err);
		if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
		if (err) {
			conn_fail(c, W_CONNECT, "connect: %s", strerror(err));
			return;
		}
		conn_request(c);
		if (!conn_flush(c))
			return;
		if (o.transport == T_LONGPOLL)
			conn_established(c);
		return;
	}
	if (ev & EPOLLOUT && !conn_flush(c))
		return;
	if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP))
		conn_readable(c);
}
