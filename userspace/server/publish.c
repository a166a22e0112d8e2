// SPDX-License-Identifier: GPL-2.0
/*
 * publish.c - POST /pub/CH (the body, collected up to --max-msg-size, is
 * one PUSH_IOC_PUBLISH) and GET /pub/CH (the channel's state: the
 * device's counts and the hub's subscribers).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/config.h"
#include "core/counters.h"
#include "core/hub.h"
#include "protocol/chan.h"
#include "protocol/json.h"
#include "server/auth.h"
#include "server/publish.h"
#include "server/request.h"
#include "transport/mhd.h"
#include "transport/transport.h"

static int pub_fd = -1, pub_infofd = -1;

void publish_init(int pubfd, int infofd)
{
	pub_fd = pubfd;
	pub_infofd = infofd;
}

struct pub_ctx {
	struct http_ctx ctx;
	struct chan_name chan;
	char *body;
	size_t len;
	bool too_big;
};

static void pub_done(struct http_ctx *ctx)
{
	struct pub_ctx *p = (struct pub_ctx *)ctx;

	free(p->body);
	free(p);
}

static enum MHD_Result pub_finish(struct pub_ctx *p, struct MHD_Connection *conn)
{
	struct push_publish pub = { 0 };
	char tbuf[JSON_TIME_LEN + 1];

	if (p->too_big)
		return http_text(conn, MHD_HTTP_CONTENT_TOO_LARGE, "message too large");
	if (!p->len)
		return http_text(conn, MHD_HTTP_BAD_REQUEST, "empty message");
	pub.data = (uintptr_t)p->body;
	pub.data_len = (uint32_t)p->len;
	pub.chan_len = p->chan.len;
	memcpy(pub.channel, p->chan.s, p->chan.len);
	if (ioctl(pub_fd, PUSH_IOC_PUBLISH, &pub) < 0) {
		switch (errno) {
		case EMSGSIZE:
			return http_text(conn, MHD_HTTP_CONTENT_TOO_LARGE, "message too large");
		case EINVAL:
			return http_text(conn, MHD_HTTP_BAD_REQUEST, "rejected by the device");
		case ENOSPC:
			return http_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "too many channels");
		case EAGAIN:
			return http_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
					 "cluster ingress queue full (NATS unreachable?): retry later");
		default:
			return http_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, strerror(errno));
		}
	}
	stat_add(&pushd_stats.published, 1);
	json_time(tbuf, sizeof(tbuf), pub.time_ns);
	tbuf[JSON_TIME_LEN] = '\0';
	return http_json(conn, MHD_HTTP_CREATED, "{\"id\":%" PRIu64 ",\"channel\":\"%s\",\"time\":\"%s\"}",
			 (uint64_t)pub.id, p->chan.s, tbuf);
}

static enum MHD_Result pub_again(struct http_ctx *ctx, struct MHD_Connection *conn,
				 const char *upload, size_t *upload_size)
{
	struct pub_ctx *p = (struct pub_ctx *)ctx;

	if (!*upload_size)
		return pub_finish(p, conn);
	if (!p->too_big) {
		if (p->len + *upload_size > pushd_cfg.max_msg_size) {
			p->too_big = true;
		} else {
			char *more = realloc(p->body, p->len + *upload_size);

			if (!more)
				return MHD_NO;
			memcpy(more + p->len, upload, *upload_size);
			p->body = more;
			p->len += *upload_size;
		}
	}
	*upload_size = 0;
	return MHD_YES;
}

enum MHD_Result http_pub_post(struct MHD_Connection *conn, const char *chan, void **con_cls)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	struct pub_ctx *p;
	enum MHD_Result ret;
	uint64_t len;

	if (!http_publisher(conn, chan, &ret))
		return ret;
	if (!chan_name_valid(chan, strlen(chan)))
		return http_text(conn, MHD_HTTP_BAD_REQUEST,
				 "bad channel: 1-64 characters of [A-Za-z0-9_.:-]");
	if (cl && http_parse_id(cl, &len) == 0 && len > pushd_cfg.max_msg_size)
		return http_text(conn, MHD_HTTP_CONTENT_TOO_LARGE, "message too large");
	p = calloc(1, sizeof(*p));
	if (!p)
		return MHD_NO;
	p->ctx.again = pub_again;
	p->ctx.done = pub_done;
	p->chan.len = (unsigned char)strlen(chan);
	memcpy(p->chan.s, chan, p->chan.len + 1);
	*con_cls = p;
	return MHD_YES;
}

enum MHD_Result http_pub_get(struct MHD_Connection *conn, const char *chan)
{
	struct push_chan_info ci = { 0 };
	enum MHD_Result ret;
	uint64_t subs[4];

	if (!chan_name_valid(chan, strlen(chan)))
		return http_text(conn, MHD_HTTP_BAD_REQUEST,
				 "bad channel: 1-64 characters of [A-Za-z0-9_.:-]");
	/* a private channel's counts are its publishers' business, not the world's */
	if (auth_private(chan, strlen(chan)) && !http_publisher(conn, chan, &ret))
		return ret;
	ci.chan_len = (uint32_t)strlen(chan);
	memcpy(ci.channel, chan, ci.chan_len);
	if (ioctl(pub_infofd, PUSH_IOC_CHAN_INFO, &ci) < 0 && errno != ENOENT)
		return http_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, strerror(errno));
	hub_chan_subscribers(chan, subs);
	return http_json(conn, MHD_HTTP_OK,
			 "{\"channel\":\"%s\",\"last_id\":%" PRIu64 ",\"published\":%" PRIu64
			 ",\"retained\":%" PRIu64 ",\"subscribers\":{\"longpoll\":%" PRIu64
			 ",\"sse\":%" PRIu64 ",\"websocket\":%" PRIu64 "}}",
			 chan, (uint64_t)ci.last_id, (uint64_t)ci.published, (uint64_t)ci.retained,
			 subs[PUSH_TRANSPORT_LONGPOLL], subs[PUSH_TRANSPORT_SSE],
			 subs[PUSH_TRANSPORT_WEBSOCKET]);
}
