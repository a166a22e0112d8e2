// SPDX-License-Identifier: GPL-2.0
/*
 * http.c - pushd's HTTP front: one libmicrohttpd daemon with its own
 * epoll thread.  Connections are cheap: MHD's per-connection pool is
 * --conn-memory bytes (3 KiB), which bounds headers and URL as well;
 * waiting subscribers are suspended (no timeout, no polling), woken by the
 * hub through MHD_resume_connection().
 *
 *   GET  /sub/CH[,CH...]   subscribe: WebSocket, SSE or long-poll (transport.h)
 *   POST /pub/CH           publish the body (PUSH_IOC_PUBLISH)
 *   GET  /pub/CH           the channel's state
 *   GET  /stats, /metrics  counters (stats.c)
 *   GET  /                 the demo page (www/index.html, built in)
 *   GET  /push.js          the browser client library (www.c)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/config.h"
#include "core/counters.h"
#include "core/hub.h"
#include "protocol/chan.h"
#include "protocol/json.h"
#include "push/probe_tag.h"
#include "server/auth.h"
#include "server/guard.h"
#include "server/http.h"
#include "server/publish.h"
#include "server/request.h"
#include "server/stats.h"
#include "server/www.h"
#include "transport/deadline.h"
#include "transport/mhd.h"
#include "transport/transport.h"

/* The demo page, embedded by userspace/build.mk. */
extern const char www_index_html[];
extern const size_t www_index_html_len;

static struct MHD_Daemon *http_daemon;
/* --pub-listen: its own daemon and thread; its handler's cls is non-NULL */
static struct MHD_Daemon *pub_daemon;
static int pub_only = 1;
static struct http_ctx http_headers_only;	/* con_cls between the first and second call */

/* --- /sub ---------------------------------------------------------------- */

/* "N" (this module load) or "EPOCH-N" (EPOCH: the load's, 1-16 hex digits). */
static int http_parse_since(const char *s, struct sub_request *req)
{
	const char *dash = strchr(s, '-');
	char hex[17], *end;

	req->epoch = 0;
	if (dash) {
		size_t n = (size_t)(dash - s);

		if (!n || n >= sizeof(hex) || strspn(s, "0123456789abcdefABCDEF") != n)
			return -EINVAL;
		memcpy(hex, s, n);
		hex[n] = '\0';
		req->epoch = strtoull(hex, &end, 16);
		if (!req->epoch)
			return -EINVAL;
		s = dash + 1;
	}
	return http_parse_id(s, &req->since);
}

static enum MHD_Result http_sub(struct MHD_Connection *conn, const char *chans, const char *version,
				 void **con_cls)
{
	struct sub_request *req = calloc(1, sizeof(*req));
	const char *since = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "since");
	const char *leid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Last-Event-ID");
	const char *format = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "format");
	const struct push_transport *t;
	enum MHD_Result ret;
	int n;

	if (!req)
		return MHD_NO;
	n = chan_list_parse(chans, strlen(chans), req->chans);
	if (n == -E2BIG) {
		free(req);
		return http_text(conn, MHD_HTTP_BAD_REQUEST, "too many channels (at most 64)");
	}
	if (n <= 0) {
		free(req);
		return http_text(conn, MHD_HTTP_BAD_REQUEST,
				 "bad channel list: names are 1-64 characters of [A-Za-z0-9_.:-], comma-separated");
	}
	req->nchans = n;
	/* HTTP/1.1 or a later 1.x: what libmicrohttpd answers with chunks */
	req->http11 = !strncmp(version, "HTTP/1.", 7) && version[7] >= '1' && version[7] <= '9';
	/* Last-Event-ID (an EventSource reconnecting) wins over ?since= */
	if (leid && *leid) {
		since = leid;
	}
	if (since) {
		if (!strcmp(since, "oldest")) {
			req->since_mode = SINCE_OLDEST;
		} else if (http_parse_since(since, req) == 0) {
			req->since_mode = SINCE_ID;
		} else {
			free(req);
			return http_text(conn, MHD_HTTP_BAD_REQUEST,
					 "bad since: a message id (digits), EPOCH-ID (hex epoch) or \"oldest\"");
		}
	}
	if (format && strcmp(format, "json")) {
		if (strcmp(format, "raw")) {
			free(req);
			return http_text(conn, MHD_HTTP_BAD_REQUEST, "bad format: \"json\" or \"raw\"");
		}
		req->raw = true;
	}
	if (!auth_sub(conn, req, &ret)) {
		free(req);
		return ret;
	}
	t = transport_detect(conn);
	if (!t) {
		free(req);
		return MHD_NO;
	}
	if (req->raw && t != &transport_sse) {
		free(req);
		return http_text(conn, MHD_HTTP_BAD_REQUEST,
				 "format=raw is for Server-Sent Events (Accept: text/event-stream)");
	}
	/* no CORS for WebSocket: a page of any site may open one unless refused here */
	if (t == &transport_ws) {
		const char *origin = http_header(conn, "Origin");

		if (origin && !guard_origin_ok(&pushd_cfg, origin, http_header(conn, MHD_HTTP_HEADER_HOST))) {
			free(req);
			return http_text(conn, MHD_HTTP_FORBIDDEN,
					 "websocket: origin not allowed (same-origin only, unless --allow-origin)");
		}
	}
	probe_tag_conn(http_conn_fd(conn), t->kind);
	ret = (enum MHD_Result)t->open(conn, req, con_cls);
	free(req);
	return ret;
}

/* --- the rest ------------------------------------------------------------ */

static enum MHD_Result http_static(struct MHD_Connection *conn)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(www_index_html_len,
								 (void *)www_index_html,
								 MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self' ws: wss:");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result http_preflight(struct MHD_Connection *conn)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	http_common_headers(r);
	MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
	MHD_add_response_header(r, "Access-Control-Allow-Headers",
				"Authorization, Content-Type, Last-Event-ID");
	MHD_add_response_header(r, "Access-Control-Max-Age", "600");
	ret = MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result http_handler(void *cls, struct MHD_Connection *conn, const char *url,
				    const char *method, const char *version, const char *upload,
				    size_t *upload_size, void **con_cls)
{
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
	char *body;
	size_t len;

	if (*con_cls == &http_headers_only) {
		/* second call: the request is complete, a response keeps the connection */
		*con_cls = NULL;
	} else if (*con_cls) {
		struct http_ctx *ctx = *con_cls;

		return ctx->again(ctx, conn, upload, upload_size);
	} else {
		/*
		 * First call, headers only.  MHD closes the connection after a
		 * response queued now, so answer on the next call (POST /pub
		 * sets up its body collector now, and answers at the end).
		 */
		stat_add(&pushd_stats.requests, 1);
		deadline_stop(conn);
		/* a DNS-rebinding page reaches us under its own name: refuse that name */
		if (!guard_host_ok(&pushd_cfg, http_header(conn, MHD_HTTP_HEADER_HOST)))
			return http_text(conn, MHD_HTTP_FORBIDDEN,
					 "Host not allowed: pushd answers to its --listen address, localhost "
					 "and --allow-host names");
		if (!strncmp(url, "/pub/", 5) && !strcmp(method, MHD_HTTP_METHOD_POST))
			return http_pub_post(conn, url + 5, con_cls);
		*con_cls = &http_headers_only;
		return MHD_YES;
	}

	if (!strcmp(method, MHD_HTTP_METHOD_OPTIONS))
		return http_preflight(conn);
	/* the publishing address: POST /pub/CH (above), its state and pushd's */
	if (cls && strncmp(url, "/pub/", 5) && strcmp(url, "/stats") && strcmp(url, "/metrics") &&
	    strcmp(url, "/healthz"))
		return http_text(conn, MHD_HTTP_NOT_FOUND,
				 "not found: this is pushd's --pub-listen address, for POST /pub/CHANNEL, "
				 "/stats, /metrics and /healthz; subscribe on its --listen address");
	if (!strncmp(url, "/sub/", 5)) {
		/* shutting down: close, so that the client retries elsewhere or later */
		if (hub_closing())
			return MHD_NO;
		if (!get)
			return http_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET to subscribe");
		return http_sub(conn, url + 5, version, con_cls);
	}
	if (!strncmp(url, "/pub/", 5)) {
		if (get)
			return http_pub_get(conn, url + 5);
		return http_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST to publish, GET for state");
	}
	if (!get)
		return http_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
	if (!strcmp(url, "/"))
		return http_static(conn);
	if (www_lib_has(url))
		return www_lib_serve(conn, url);
	if (!strcmp(url, "/stats")) {
		len = stats_json(&body);
		return body ? http_send(conn, MHD_HTTP_OK, "application/json", body, len) : MHD_NO;
	}
	if (!strcmp(url, "/healthz")) {
		const char *why;
		int bad = hub_health(&why);

		return http_json(conn, bad ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK,
				 "{\"healthy\":%s,\"status\":\"%s\",\"last_id\":%" PRIu64
				 ",\"epoch\":\"%016" PRIx64 "\"}",
				 bad ? "false" : "true", why, hub_last_id(), hub_epoch());
	}
	if (!strcmp(url, "/metrics")) {
		len = stats_prometheus(&body);
		return body ? http_send(conn, MHD_HTTP_OK, "text/plain; version=0.0.4", body, len) : MHD_NO;
	}
	return http_text(conn, MHD_HTTP_NOT_FOUND,
			 "not found: try /sub/CHANNEL, /pub/CHANNEL, /stats, /metrics, /healthz or /");
}

static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			   enum MHD_RequestTerminationCode toe)
{
	struct http_ctx *ctx = *con_cls;

	(void)cls;
	/* keep-alive: the next request's head has a deadline too */
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK && !(ctx && ctx->upgrade))
		deadline_restart(conn);
	if (ctx && ctx != &http_headers_only) {
		*con_cls = NULL;
		ctx->done(ctx);
	}
}

static void http_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
			enum MHD_ConnectionNotificationCode toe)
{
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		deadline_start(conn, socket_context);
	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		deadline_closed(socket_context);
		/* subscribers' state: the main daemon's thread only */
		if (!cls) {
			longpoll_conn_closed(http_conn_fd(conn));
			probe_untag_conn(http_conn_fd(conn), 0);
		}
	}
}

/*
 * MHD's URL unescaping turns "%00" into a NUL that cuts "a%00b" to "a".
 * Nothing pushd takes needs escapes (channel names, ids, "oldest"), so
 * nothing is unescaped and a '%' is simply an invalid character.
 */
static size_t http_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	return strlen(s);
}

static void http_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("pushd: mhd: ", stderr);
	vfprintf(stderr, fmt, ap);
}

/*
 * One libmicrohttpd daemon: the main one (--listen, every route, @pub NULL)
 * or the publishing one (--pub-listen, its own thread, @pub non-NULL).
 */
static struct MHD_Daemon *http_daemon_start(struct sockaddr_storage *addr, int fd, void *pub)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC;
	struct MHD_OptionItem opts[16];
	int n = 0;

	if (!pub)
		flags |= MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE;
	if (addr->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (pushd_cfg.cert_pem)
		flags |= MHD_USE_TLS;
	if (pushd_cfg.verbose)
		flags |= MHD_USE_ERROR_LOG;

#define OPT(o, v, p) (opts[n++] = (struct MHD_OptionItem){ (o), (intptr_t)(v), (p) })
	OPT(MHD_OPTION_EXTERNAL_LOGGER, http_log, NULL);
	if (fd >= 0)	/* socket activation: systemd's socket */
		OPT(MHD_OPTION_LISTEN_SOCKET, fd, NULL);
	else
		OPT(MHD_OPTION_SOCK_ADDR, 0, addr);
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, pushd_cfg.conn_memory, NULL);
	OPT(MHD_OPTION_CONNECTION_MEMORY_INCREMENT, 512, NULL);
	OPT(MHD_OPTION_CONNECTION_LIMIT, pushd_cfg.max_conns, NULL);
	if (pushd_cfg.max_conns_per_ip)
		OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, pushd_cfg.max_conns_per_ip, NULL);
	/* idle or slow-header connections go after this; suspended ones never */
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, 30, NULL);
	OPT(MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096, NULL);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, http_notify, pub);
	OPT(MHD_OPTION_UNESCAPE_CALLBACK, http_unescape, NULL);
	if (pushd_cfg.cert_pem) {
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, pushd_cfg.cert_pem);
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, pushd_cfg.key_pem);
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT

	return MHD_start_daemon(flags, 0, NULL, NULL, http_handler, pub,
				MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
}

int http_start(int pubfd, int infofd)
{
	publish_init(pubfd, infofd);
	hub_on_tick(deadline_sweep);
	http_daemon = http_daemon_start(&pushd_cfg.listen, pushd_cfg.listen_fd, NULL);
	if (!http_daemon)
		return -EADDRNOTAVAIL;
	if (pushd_cfg.pub_listen_len) {
		pub_daemon = http_daemon_start(&pushd_cfg.pub_listen, -1, &pub_only);
		if (!pub_daemon) {
			http_stop();
			return -EADDRINUSE;
		}
	}
	return 0;
}

static void http_quiesce_one(struct MHD_Daemon *d)
{
	MHD_socket fd;

	if (!d)
		return;
	/* new connections are refused from now on; open ones go on */
	fd = MHD_quiesce_daemon(d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

void http_quiesce(void)
{
	http_quiesce_one(http_daemon);
	http_quiesce_one(pub_daemon);
}

void http_stop(void)
{
	if (pub_daemon) {
		MHD_stop_daemon(pub_daemon);
		pub_daemon = NULL;
	}
	if (http_daemon) {
		MHD_stop_daemon(http_daemon);
		http_daemon = NULL;
	}
}
