// SPDX-License-Identifier: GPL-2.0
/* load_parse.c - push-load's body parsers: SSE events, pushd's and nchan's long-poll answers, WebSocket frames. */
#include "load.h"

/* SSE: handles every complete event in c->body. */
void sse_parse(struct conn *c)
{
	char *p = c->body.p, *end = p + c->body.len;

	for (;;) {
		char *e = memmem(p, end - p, "\n\n", 2);
		if (!e)
			break;
		char *data = NULL, *event = NULL;
		size_t dlen = 0, elen = 0;
		for (char *l = p; l < e;) {
			char *eol = memchr(l, '\n', e - l);
			if (!eol)
				eol = e;
			size_t ll = eol - l;
			if (ll && l[ll - 1] == '\r')
				ll--;
			if (ll >= 5 && !memcmp(l, "data:", 5)) {
				data = l + 5 + (ll > 5 && l[5] == ' ');
				dlen = l + ll - data;
			} else if (ll >= 6 && !memcmp(l, "event:", 6)) {
				event = l + 6 + (ll > 6 && l[6] == ' ');
				elen = l + ll - event;
			}
			l = eol + 1;
		}
		p = e + 2;
		if (event && elen == 5 && !memcmp(event, "close", 5)) {
			bool slow = data && memmem(data, dlen, "slow", 4);
			conn_fail(c, slow ? W_SLOW : W_SHUTDOWN, "SSE close: %.*s",
				  (int)dlen, data ? data : "");
			return;
		}
		if (data)
			on_item(c, data, dlen);
	}
	buf_consume(&c->body, p - c->body.p);
}

/* pushd long-poll: {"messages":[...],"next":N}. */
void lp_pushd(struct conn *c)
{
	char *p = c->body.p, *end = p + c->body.len;
	char *m = memmem(p, end - p, "\"messages\":[", 12);
	uint64_t next;

	if (!m) {
		conn_fail(c, W_ERROR, "long-poll: no messages array");
		return;
	}
	p = m + 12;
	int depth = 0;
	bool str = false;
	char *start = NULL;
	for (; p < end; p++) {
		char ch = *p;
		if (str) {
			if (ch == '\\')
				p++;
			else if (ch == '"')
				str = false;
			continue;
		}
		if (ch == '"') {
			str = true;
		} else if (ch == '{') {
			if (depth++ == 0)
				start = p;
		} else if (ch == '}') {
			if (--depth == 0 && start)
				on_item(c, start, p + 1 - start);
		} else if (ch == ']' && depth == 0) {
			break;
		}
	}
	if (!find_u64(p, end - p, "\"next\":", &next)) {
		conn_fail(c, W_ERROR, "long-poll: no next");
		return;
	}
	c->since = next;
}

/* A complete long-poll response is in c->body: handle it, ask again. */
void lp_done(struct conn *c)
{
	if (o.flavor == F_PUSHD)
		lp_pushd(c);
	else if (c->status == 200 && c->body.len)
		on_item(c, c->body.p, c->body.len);
	if (c->state == CS_DEAD)
		return;
	c->body.len = 0;
	conn_request(c);
	conn_flush(c);
}

/* WebSocket: one server frame; returns bytes used, 0 if incomplete. */
size_t on_ws(struct conn *c, const char *p, size_t n)
{
	const uint8_t *u = (const uint8_t *)p;

	if (n < 2)
		return 0;
	bool fin = u[0] & 0x80, masked = u[1] & 0x80;
	int op = u[0] & 0x0f;
	uint64_t len = u[1] & 0x7f;
	size_t h = 2;
	if (len == 126) {
		if (n < 4)
			return 0;
		len = (uint64_t)u[2] << 8 | u[3];
		h = 4;
	} else if (len == 127) {
		if (n < 10)
			return 0;
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | u[2 + i];
		h = 10;
	}
	if (masked) {
		conn_fail(c, W_ERROR, "masked frame from the server");
		return n;
	}
	if (len > MAX_BUFFER) {
		conn_fail(c, W_ERROR, "frame too large");
		return n;
	}
	if (n < h + len)
		return 0;
	const char *pl = p + h;
	switch (op) {
	case 0x0:
	case 0x1:
	case 0x2:
		if (fin && op && !c->ws_frag) {
			on_item(c, pl, len);
			break;
		}
		if (op && c->ws_frag) {
			conn_fail(c, W_ERROR, "new message inside a fragmented one");
			return n;
		}
		buf_add(&c->body, pl, len);
		c->ws_frag = !fin;
		if (fin) {
			on_item(c, c->body.p, c->body.len);
			c->body.len = 0;
		}
		break;
	case 0x8: {
		unsigned code = len >= 2 ? (unsigned)u[h] << 8 | u[h + 1] : 1005;
		enum why why = code == 1008 ? W_SLOW : code == 1001 ? W_SHUTDOWN : W_WSCLOSE;
		conn_fail(c, why, "WebSocket close %u %.*s", code,
			  len > 2 ? (int)len - 2 : 0, pl + 2);
		return n;
	}
	case 0x9: {	/* ping: answer with a masked pong */
		uint8_t hdr[6] = { 0x8a, 0x80 | (uint8_t)(len & 0x7f), 0, 0, 0, 0 };
		st.ws_pings++;
		if (len > 125) {
			conn_fail(c, W_ERROR, "ping too long");
			return n;
		}
		buf_add(&c->out, hdr, 6);	/* zero mask: payload unchanged */
		buf_add(&c->out, pl, len);
		conn_flush(c);
		break;
	}
	case 0xa:
		break;
	default:
		conn_fail(c, W_ERROR, "WebSocket opcode %d", op);
		return n;
	}
	return h + len;
}
