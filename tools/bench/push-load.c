// SPDX-License-Identifier: GPL-2.0
/*
 * push-load.c - load generator for pushd and nginx+nchan: N subscribers over
 * SSE, WebSocket or long-poll, and an optional publisher at fixed rates.
 *
 *   push-load -t sse -c 1000 --pub /dev/push -r 20,100,500 -d 4 \
 *             http://127.0.0.1:8080/sub/bench
 *   push-load --nchan -t ws -c 1000 --pub http://127.0.0.1:8090/pub/bench \
 *             -r 20,100,500 -d 4 http://127.0.0.1:8090/sub/bench
 *   push-load -c 0 --pub http://127.0.0.1:8080/pub/bench -r 100 -d 10
 *
 * One thread runs every subscriber on epoll; a second one publishes.  Each
 * payload carries "#s=SEQ #t=NS ": the publish sequence number, checked
 * per connection for holes and reordering whatever the server's ids look
 * like, and the CLOCK_REALTIME of the publish, for the latency histogram.
 * pushd's JSON ids are also checked to increase, and its gap objects
 * counted.  Loopback only; every run is bounded in count and time.
 *
 * The rates are steps of --duration seconds each; for every step the
 * summary gives the deliveries per second (messages received, summed over
 * the subscribers) measured while the step ran, the server's CPU use
 * (--server-pid) and the publish-to-receive latency of its messages.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_STEPS	16
#define MAX_PIDS	16
#define HIST_BUCKETS	(64 + 40 * 32)
#define READ_CHUNK	(64 * 1024)
#define MAX_BUFFER	(64u << 20)	/* one connection's unparsed bytes */

enum transport { T_SSE, T_WS, T_LONGPOLL };
enum flavor { F_PUSHD, F_NCHAN };
enum cstate { CS_IDLE, CS_CONNECTING, CS_HEADERS, CS_BODY, CS_WS, CS_DEAD };
enum framing { FR_LENGTH, FR_CHUNKED, FR_EOF };
enum phase { PH_CONNECT, PH_SETTLE, PH_RUN, PH_DRAIN, PH_HOLD, PH_DONE };

struct buf {
	char *p;
	uint32_t len, cap;
};

struct conn {
	int fd;
	uint8_t state;
	uint8_t framing;
	bool established;
	bool chunk_data;	/* inside a chunk's data (else at a size line) */
	bool chunk_trailer;	/* after the last chunk: skip to the blank line */
	bool ws_frag;		/* a fragmented WebSocket message is pending */
	uint64_t body_left;	/* content-length or chunk bytes still to come */
	struct buf in;		/* raw bytes not parsed yet */
	struct buf body;	/* de-chunked body not parsed yet; WS fragments */
	struct buf out;		/* bytes to send */
	uint32_t out_off;
	uint64_t msgs;
	uint64_t last_seq;	/* 0: none seen yet */
	uint64_t last_id;
	uint64_t since;		/* pushd long-poll: next ?since= (0: none) */
	int status;		/* HTTP status of the response being read */
	char *etag, *lastmod;	/* nchan long-poll */
};

struct step_stat {
	double t0, t1;		/* monotonic seconds of the window */
	uint64_t msgs0, msgs1;
	uint64_t bytes0, bytes1;
	uint64_t cpu0, cpu1;	/* server clock ticks */
	uint64_t hist[HIST_BUCKETS];
	uint64_t lat_n;
	atomic_uint_fast64_t published;	/* by the publisher thread */
	uint64_t rx;			/* messages received during the step */
};

static struct opts {
	enum transport transport;
	enum flavor flavor;
	int conns;
	int inflight;
	double ramp;
	const char *pub;
	const char *channel;
	double rates[MAX_STEPS];
	int nrates;
	double duration;
	uint64_t count;
	int size;
	unsigned pub_window;
	double drain;
	double settle;
	double hold;
	double connect_timeout;
	const char *ready_file;
	pid_t pids[MAX_PIDS];
	int npids;
	bool json;
	int verbose;
} o = {
	.transport = T_SSE, .flavor = F_PUSHD, .conns = 100, .inflight = 100,
	.channel = "bench", .rates = { 100 }, .nrates = 1, .duration = 5,
	.size = 64, .pub_window = 32, .drain = 5, .settle = 1, .connect_timeout = 120,
};

/* Where the subscribers connect. */
static struct sockaddr_in sub_addr;
static char sub_host[80], sub_path[512];

static struct conn *conns;
static int epfd;
static volatile sig_atomic_t stop_flag;

/* Publisher state, shared with its thread. */
static struct {
	pthread_t thread;
	bool started;
	double t0;			/* monotonic start of step 0 */
	uint64_t t0_real;		/* the same instant, CLOCK_REALTIME ns */
	atomic_uint_fast64_t published;
	atomic_uint_fast64_t errors;
	atomic_bool done;
	double t_end;			/* monotonic time the last publish ended */
	char err[160];
} pub;

/* Totals over all subscribers. */
static struct {
	int started, established, failed, dropped, inflight;
	uint64_t msgs, bytes, gaps, lost, holes, missed, reorders, id_errors;
	uint64_t fail_connect, fail_status, fail_closed;
	uint64_t drop_eof, drop_error, drop_slow, drop_shutdown, drop_ws_other;
	uint64_t ws_pings;
	double t_first_rx, t_last_rx;
	char first_error[160];
} st;

static struct step_stat steps[MAX_STEPS];
static struct step_stat drain_stat;
static int cur_step = -1;

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t now_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("push-load: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void note_error(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (dst[0])
		return;
	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}

/* ---- buffers ------------------------------------------------------------ */

/* Makes room for n more bytes; returns false past MAX_BUFFER. */
static bool buf_reserve(struct buf *b, size_t n)
{
	size_t want = (size_t)b->len + n;

	if (want <= b->cap)
		return true;
	if (want > MAX_BUFFER)
		return false;
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < want)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p)
		die("out of memory");
	b->p = p;
	b->cap = cap;
	return true;
}

static bool buf_add(struct buf *b, const void *p, size_t n)
{
	if (!buf_reserve(b, n))
		return false;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return true;
}

static void buf_consume(struct buf *b, size_t n)
{
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

static void buf_free(struct buf *b)
{
	free(b->p);
	*b = (struct buf){ 0 };
}

/* ---- server process accounting ------------------------------------------- */

/* utime + stime of the --server-pid processes, in clock ticks. */
static uint64_t server_cpu(void)
{
	uint64_t sum = 0;

	for (int i = 0; i < o.npids; i++) {
		char path[64], line[1024];
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)o.pids[i]);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(line, 1, sizeof(line) - 1, f);
		fclose(f);
		line[n] = 0;
		char *p = strrchr(line, ')');
		if (!p)
			continue;
		unsigned long ut = 0, stm = 0;
		/* fields 3..15 after the comm: state ppid ... utime stime */
		if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			   &ut, &stm) == 2)
			sum += ut + stm;
	}
	return sum;
}

/* Proportional set size (or RSS) of the --server-pid processes, in KiB. */
static uint64_t server_mem_kb(void)
{
	uint64_t sum = 0;

	for (int i = 0; i < o.npids; i++) {
		char path[64], line[256];
		uint64_t pss = 0, rss = 0, v;
		snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)o.pids[i]);
		FILE *f = fopen(path, "r");
		if (f) {
			while (fgets(line, sizeof(line), f)) {
				if (sscanf(line, "Pss: %" SCNu64, &v) == 1)
					pss = v;
				else if (sscanf(line, "Rss: %" SCNu64, &v) == 1)
					rss = v;
			}
			fclose(f);
		}
		sum += pss ? pss : rss;
	}
	return sum;
}

/* ---- latency histogram: log-linear, 32 sub-buckets per power of two ------ */

static unsigned hist_bucket(uint64_t us)
{
	if (us < 64)
		return us;
	unsigned e = 63 - __builtin_clzll(us);
	if (e > 45)
		return HIST_BUCKETS - 1;
	unsigned b = 64 + (e - 6) * 32 + ((us >> (e - 5)) & 31);
	return b < HIST_BUCKETS ? b : HIST_BUCKETS - 1;
}

static uint64_t hist_value(unsigned b)
{
	if (b < 64)
		return b;
	unsigned e = (b - 64) / 32 + 6, sub = (b - 64) % 32;
	/* middle of the bucket */
	return ((32ull + sub) << (e - 5)) + (1ull << (e - 6));
}

/* The q-quantile in microseconds, or -1 without samples. */
static double hist_quantile(const uint64_t *h, uint64_t n, double q)
{
	if (!n)
		return -1;
	uint64_t want = (uint64_t)(q * (n - 1)) + 1, seen = 0;
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		seen += h[b];
		if (seen >= want)
			return hist_value(b);
	}
	return -1;
}

/* ---- items: one delivered message or gap -------------------------------- */

/* Parses the decimal number right after key in [p, p + n); false if none. */
static bool find_u64(const char *p, size_t n, const char *key, uint64_t *out)
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

static void record_latency(uint64_t t_pub)
{
	uint64_t now = now_real_ns();
	uint64_t us = now > t_pub ? (now - t_pub) / 1000 : 0;
	int k = 0;

	if (pub.t0_real && t_pub >= pub.t0_real && o.duration > 0)
		k = (int)((t_pub - pub.t0_real) / (o.duration * 1e9));
	if (k >= o.nrates)
		k = o.nrates - 1;
	steps[k].hist[hist_bucket(us)]++;
	steps[k].lat_n++;
}

/*
 * One item as the server sent it: pushd's JSON object (a message or a gap)
 * or nchan's raw payload.  Checks ids and sequence numbers.
 */
static void on_item(struct conn *c, const char *p, size_t n)
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
		int k = (int)((st.t_last_rx - pub.t0) / o.duration);
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

static void conn_want_write(struct conn *c, bool on)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0),
		.data.ptr = c,
	};
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_close(struct conn *c)
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

enum why { W_CONNECT, W_STATUS, W_EOF, W_ERROR, W_SLOW, W_SHUTDOWN, W_WSCLOSE };

/* Ends a connection: a failure before it was established, else a drop. */
static void conn_fail(struct conn *c, enum why why, const char *fmt, ...)
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

static void conn_established(struct conn *c)
{
	if (c->established)
		return;
	c->established = true;
	st.established++;
	st.inflight--;
}

/* Sends what is queued; false if the connection died. */
static bool conn_flush(struct conn *c)
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

static void conn_queue(struct conn *c, const char *fmt, ...)
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
static void conn_request(struct conn *c)
{
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

static void conn_start(struct conn *c)
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
	struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN | EPOLLRDHUP, .data.ptr = c };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
		conn_fail(c, W_CONNECT, "epoll_ctl: %s", strerror(errno));
		return;
	}
	if (connect(c->fd, (struct sockaddr *)&sub_addr, sizeof(sub_addr)) < 0 &&
	    errno != EINPROGRESS)
		conn_fail(c, W_CONNECT, "connect: %s", strerror(errno));
}

/* The value of header name in [h, h + n) (a CRLF-separated block), or NULL. */
static char *header_value(const char *h, size_t n, const char *name, size_t *len)
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
static size_t on_headers(struct conn *c, const char *p, size_t n)
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

/* SSE: handles every complete event in c->body. */
static void sse_parse(struct conn *c)
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
static void lp_pushd(struct conn *c)
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
static void lp_done(struct conn *c)
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

/* Body bytes: de-chunks them into c->body; returns bytes used. */
static size_t on_body(struct conn *c, const char *p, size_t n)
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

/* WebSocket: one server frame; returns bytes used, 0 if incomplete. */
static size_t on_ws(struct conn *c, const char *p, size_t n)
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

/* Parses what it can of [p, p + n); returns bytes used. */
static size_t conn_feed(struct conn *c, const char *p, size_t n)
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

static void conn_readable(struct conn *c)
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

static void conn_event(struct conn *c, uint32_t ev)
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

/* ---- publisher ------------------------------------------------------------- */

struct pubconn {
	int fd;
	bool device;
	struct sockaddr_in addr;
	char host[80], path[512];
	unsigned outstanding;	/* POSTs sent, not answered yet */
	double deadline;	/* give up waiting for answers then (0: never) */
	size_t rlen;
	char buf[65536];	/* responses read, not parsed yet */
};

static int pub_connect(struct pubconn *pc)
{
	pc->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (pc->fd < 0)
		return -errno;
	int one = 1;
	struct timeval tv = { 0, 100000 };
	setsockopt(pc->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(pc->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(pc->fd, (struct sockaddr *)&pc->addr, sizeof(pc->addr)) < 0) {
		int e = errno;
		close(pc->fd);
		pc->fd = -1;
		return -e;
	}
	return 0;
}

/* The publisher's error for one failed request or response. */
static void pub_error(const char *fmt, ...)
{
	va_list ap;
	char msg[160];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	note_error(pub.err, sizeof(pub.err), "%s", msg);
	atomic_fetch_add(&pub.errors, 1);
}

/* The connection broke: every request still unanswered counts as failed. */
static void pub_broken(struct pubconn *pc, const char *why)
{
	if (pc->outstanding)
		pub_error("POST: %s with %u requests unanswered", why, pc->outstanding);
	for (unsigned i = 1; i < pc->outstanding; i++)
		atomic_fetch_add(&pub.errors, 1);
	pc->outstanding = 0;
	pc->rlen = 0;
	if (pc->fd >= 0)
		close(pc->fd);
	pc->fd = -1;
}

/*
 * Reads responses to pipelined POSTs: blocks until at most max remain
 * unanswered.  A 2xx answer counts a message as published.
 */
static void pub_collect(struct pubconn *pc, unsigned max)
{
	while (pc->fd >= 0 && pc->outstanding) {
		/* parse every complete response buffered */
		for (;;) {
			char *end = memmem(pc->buf, pc->rlen, "\r\n\r\n", 4);
			if (!end)
				break;
			size_t hl = end + 4 - pc->buf, vl;
			int status = 0;
			sscanf(pc->buf, "HTTP/1.%*d %d", &status);
			char *cl = header_value(pc->buf, hl - 2, "Content-Length", &vl);
			size_t body = cl ? strtoull(cl, NULL, 10) : 0;
			if (!cl && status != 204 && status != 304) {
				pub_broken(pc, "response without Content-Length");
				return;
			}
			if (hl + body > pc->rlen) {
				if (hl + body > sizeof(pc->buf)) {
					pub_broken(pc, "response too large");
					return;
				}
				break;
			}
			memmove(pc->buf, pc->buf + hl + body, pc->rlen - hl - body);
			pc->rlen -= hl + body;
			pc->outstanding--;
			if (status < 200 || status > 299)
				pub_error("POST: HTTP %d", status);
		}
		if (pc->outstanding <= max)
			return;
		ssize_t n = recv(pc->fd, pc->buf + pc->rlen, sizeof(pc->buf) - pc->rlen, 0);
		if (n <= 0) {
			if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
				if (pc->deadline && now_mono() > pc->deadline) {
					pub_broken(pc, "no answer in time");
					return;
				}
				continue;
			}
			pub_broken(pc, n ? strerror(errno) : "connection closed");
			return;
		}
		pc->rlen += n;
	}
}

/* Sends one POST without waiting for its answer (HTTP pipelining). */
static void pub_post(struct pubconn *pc, const char *data, size_t len)
{
	char req[1024];
	int hl = snprintf(req, sizeof(req),
			  "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\n"
			  "Content-Length: %zu\r\n\r\n", pc->path, pc->host, len);
	struct iovec iov[2] = { { req, hl }, { (void *)data, len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

	if (pc->fd < 0) {
		int r = pub_connect(pc);
		if (r < 0) {
			pub_error("connect to %s: %s", o.pub, strerror(-r));
			return;
		}
	}
	if (sendmsg(pc->fd, &mh, MSG_NOSIGNAL) != (ssize_t)(hl + len)) {
		pub_error("POST: send: %s", strerror(errno));
		pub_broken(pc, "send failed");
		return;
	}
	/* counted when sent: a slow answer must not hold the count back */
	atomic_fetch_add(&pub.published, 1);
	pc->outstanding++;
	pub_collect(pc, o.pub_window - 1);
}

static void sleep_until(double t)
{
	double d = t - now_mono();
	if (d <= 0)
		return;
	struct timespec ts = { (time_t)d, (long)((d - (time_t)d) * 1e9) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stop_flag)
		;
}

static int parse_url(const char *url, struct sockaddr_in *sa, char *host, size_t hn,
		     char *path, size_t pn);

static void *pub_thread(void *arg)
{
	struct pubconn *pc = arg;
	size_t hdr = pc->device ? strlen(o.channel) + 2 : 0;
	size_t cap = hdr + o.size + 64;
	char *msg = malloc(cap);
	uint64_t seq = 0;

	if (!msg)
		die("out of memory");
	if (pc->device)
		snprintf(msg, cap, "@%s ", o.channel);
	for (int k = 0; k < o.nrates && !stop_flag; k++) {
		double t_step = pub.t0 + k * o.duration, t_end = t_step + o.duration;
		double rate = o.rates[k];
		uint64_t i = 0;
		for (;;) {
			/* a publisher that falls behind skips, it does not catch up late */
			double t = rate > 0 ? t_step + i / rate : now_mono();
			if (t >= t_end || now_mono() >= t_end || stop_flag ||
			    (o.count && seq >= o.count))
				break;
			sleep_until(t);
			i++;
			seq++;
			int n = snprintf(msg + hdr, cap - hdr, "#s=%" PRIu64 " #t=%" PRIu64 " ",
					 seq, now_real_ns());
			size_t len = hdr + n;
			while (len < hdr + (size_t)o.size)
				msg[len++] = 'x';
			if (pc->device) {
				ssize_t w = write(pc->fd, msg, len);
				if (w != (ssize_t)len) {
					note_error(pub.err, sizeof(pub.err), "write %s: %s", o.pub,
						   w < 0 ? strerror(errno) : "short write");
					atomic_fetch_add(&pub.errors, 1);
					continue;
				}
				atomic_fetch_add(&pub.published, 1);
			} else {
				pub_post(pc, msg, len);
			}
			atomic_fetch_add(&steps[k].published, 1);
		}
	}
	pub.t_end = now_mono();
	atomic_store(&pub.done, true);
	/* the last answers, while the subscribers drain */
	pc->deadline = pub.t_end + o.drain;
	if (!pc->device)
		pub_collect(pc, 0);
	free(msg);
	return NULL;
}

static struct pubconn pubc = { .fd = -1 };

static void pub_open(void)
{
	if (!strncmp(o.pub, "http://", 7)) {
		if (parse_url(o.pub, &pubc.addr, pubc.host, sizeof(pubc.host),
			      pubc.path, sizeof(pubc.path)) < 0)
			die("bad --pub URL %s (http://127.x.x.x:PORT/path only)", o.pub);
		int r = pub_connect(&pubc);
		if (r < 0)
			die("connect to %s: %s", o.pub, strerror(-r));
	} else {
		pubc.device = true;
		pubc.fd = open(o.pub, O_WRONLY | O_CLOEXEC);
		if (pubc.fd < 0)
			die("open %s: %s", o.pub, strerror(errno));
	}
}

static void pub_start(void)
{
	pub.t0 = now_mono() + 0.01;
	pub.t0_real = now_real_ns() + 10000000ull;
	if (pthread_create(&pub.thread, NULL, pub_thread, &pubc))
		die("pthread_create failed");
	pub.started = true;
}

/* ---- command line ------------------------------------------------------------ */

/* http://HOST:PORT/path with HOST a loopback address; returns 0 or -1. */
static int parse_url(const char *url, struct sockaddr_in *sa, char *host, size_t hn,
		     char *path, size_t pn)
{
	char h[48];
	unsigned port = 80;

	if (strncmp(url, "http://", 7))
		return -1;
	url += 7;
	size_t l = strcspn(url, ":/");
	if (!l || l >= sizeof(h))
		return -1;
	memcpy(h, url, l);
	h[l] = 0;
	url += l;
	if (*url == ':') {
		char *e;
		port = strtoul(url + 1, &e, 10);
		if (e == url + 1 || !port || port > 65535)
			return -1;
		url = e;
	}
	if (*url != '/' || strlen(url) >= pn)
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	if (!strcmp(h, "localhost"))
		sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, h, &sa->sin_addr) != 1)
		return -1;
	if ((ntohl(sa->sin_addr.s_addr) >> 24) != 127)
		return -1;	/* loopback only */
	snprintf(host, hn, "%s:%u", h, port);
	snprintf(path, pn, "%s", url);
	return 0;
}

static double parse_num(const char *s, const char *what, double min, double max)
{
	char *e;
	errno = 0;
	double v = strtod(s, &e);
	if (errno || e == s || *e || v < min || v > max)
		die("bad %s '%s' (%g..%g)", what, s, min, max);
	return v;
}

static void usage(FILE *f)
{
	fputs("Usage: push-load [OPTION]... URL\n"
	      "Open subscribers to URL (http://127.x.x.x:PORT/path), publish at fixed rates,\n"
	      "count deliveries, check sequence numbers, measure latency.\n\n"
	      "  -t, --transport T     sse | ws | longpoll (sse)\n"
	      "      --nchan           talk to nginx+nchan (its long-poll: Etag/If-Modified-Since)\n"
	      "  -c, --conns N         subscribers (100); 0: publish only\n"
	      "      --inflight N      connections handshaking at once (100)\n"
	      "      --ramp R          at most R new connections per second (unlimited)\n"
	      "      --pub TARGET      publish to TARGET: a device path (/dev/push) or an\n"
	      "                        http://127.x.x.x:PORT/pub/CH URL (POST)\n"
	      "      --channel CH      channel for device publishing (bench)\n"
	      "      --pub-window N    POSTs in flight at once, pipelined (32)\n"
	      "  -r, --rate R[,R...]   messages per second for each step (100); 0: flat out\n"
	      "  -d, --duration S      seconds per step (5)\n"
	      "  -n, --count N         stop publishing after N messages\n"
	      "  -s, --size B          payload bytes (64, at least the #s= #t= stamp)\n"
	      "      --settle S        wait S s after connecting before publishing (1)\n"
	      "      --drain S         after publishing, wait up to S s for deliveries (5)\n"
	      "      --hold S          without --pub: keep the subscribers S s, then report\n"
	      "      --connect-timeout S  give up connecting after S s (120)\n"
	      "      --ready-file F    create F once every subscriber is connected\n"
	      "      --server-pid P[,P...]  measure these processes' CPU and memory\n"
	      "      --json            print the summary as one JSON object\n"
	      "  -v                    a line per second on stderr (-vv: connection errors)\n"
	      "  -h, --help            this text\n\n"
	      "Examples:\n"
	      "  push-load -t ws -c 1000 --pub /dev/push -r 20,100 -d 4 http://127.0.0.1:8080/sub/bench\n"
	      "  push-load --nchan -t sse -c 1000 --pub http://127.0.0.1:8090/pub/bench \\\n"
	      "            -r 20,100 -d 4 http://127.0.0.1:8090/sub/bench\n"
	      "  push-load -c 10000 --hold 5 --ready-file /tmp/r http://127.0.0.1:8080/sub/idle\n"
	      "Exit status: 0; 1 if a subscriber failed or lost messages; 2 on bad usage.\n", f);
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "transport", 1, 0, 't' }, { "nchan", 0, 0, 'N' },
		{ "conns", 1, 0, 'c' }, { "inflight", 1, 0, 'I' }, { "ramp", 1, 0, 'R' },
		{ "pub", 1, 0, 'P' }, { "channel", 1, 0, 'C' }, { "rate", 1, 0, 'r' },
		{ "duration", 1, 0, 'd' }, { "count", 1, 0, 'n' }, { "size", 1, 0, 's' },
		{ "settle", 1, 0, 'S' }, { "drain", 1, 0, 'D' }, { "hold", 1, 0, 'H' },
		{ "connect-timeout", 1, 0, 'T' }, { "pub-window", 1, 0, 'W' }, { "ready-file", 1, 0, 'F' },
		{ "server-pid", 1, 0, 'p' }, { "json", 0, 0, 'j' }, { "help", 0, 0, 'h' },
		{ 0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "t:c:r:d:n:s:vh", lo, NULL)) != -1) {
		switch (ch) {
		case 't':
			if (!strcmp(optarg, "sse"))
				o.transport = T_SSE;
			else if (!strcmp(optarg, "ws"))
				o.transport = T_WS;
			else if (!strcmp(optarg, "longpoll"))
				o.transport = T_LONGPOLL;
			else
				die("bad transport '%s' (sse, ws, longpoll)", optarg);
			break;
		case 'N': o.flavor = F_NCHAN; break;
		case 'c': o.conns = parse_num(optarg, "--conns", 0, 1000000); break;
		case 'I': o.inflight = parse_num(optarg, "--inflight", 1, 100000); break;
		case 'R': o.ramp = parse_num(optarg, "--ramp", 0, 1e7); break;
		case 'P': o.pub = optarg; break;
		case 'C':
			if (!*optarg || strlen(optarg) > 64 || strspn(optarg,
			    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") !=
			    strlen(optarg))
				die("bad channel '%s'", optarg);
			o.channel = optarg;
			break;
		case 'r': {
			char *s = strdup(optarg), *save = NULL;
			o.nrates = 0;
			for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				if (o.nrates == MAX_STEPS)
					die("at most %d rates", MAX_STEPS);
				o.rates[o.nrates++] = parse_num(t, "--rate", 0, 1e7);
			}
			free(s);
			if (!o.nrates)
				die("empty --rate");
			break;
		}
		case 'd': o.duration = parse_num(optarg, "--duration", 0.1, 3600); break;
		case 'n': o.count = parse_num(optarg, "--count", 1, 1e12); break;
		case 's': o.size = parse_num(optarg, "--size", 1, 1 << 20); break;
		case 'S': o.settle = parse_num(optarg, "--settle", 0, 3600); break;
		case 'D': o.drain = parse_num(optarg, "--drain", 0, 3600); break;
		case 'H': o.hold = parse_num(optarg, "--hold", 0, 86400); break;
		case 'T': o.connect_timeout = parse_num(optarg, "--connect-timeout", 1, 3600); break;
		case 'F': o.ready_file = optarg; break;
		case 'W': o.pub_window = parse_num(optarg, "--pub-window", 1, 1024); break;
		case 'p': {
			char *s = strdup(optarg), *save = NULL;
			for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				if (o.npids == MAX_PIDS)
					die("at most %d pids", MAX_PIDS);
				o.pids[o.npids++] = parse_num(t, "--server-pid", 1, 1 << 30);
			}
			free(s);
			break;
		}
		case 'j': o.json = true; break;
		case 'v': o.verbose++; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (o.conns > 0) {
		if (optind != argc - 1)
			die("one subscriber URL needed (see --help)");
		if (parse_url(argv[optind], &sub_addr, sub_host, sizeof(sub_host),
			      sub_path, sizeof(sub_path)) < 0)
			die("bad URL %s (http://127.x.x.x:PORT/path only)", argv[optind]);
	} else if (!o.pub) {
		die("nothing to do: no subscribers and no --pub");
	}
	if (o.pub && o.hold)
		die("--hold is for idle subscribers, without --pub");
}

/* ---- main loop and report ------------------------------------------------------- */

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void raise_nofile(void)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)o.conns + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < want)
		rl.rlim_max = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < want)
			fprintf(stderr, "push-load: only %lu file descriptors\n",
				(unsigned long)rl.rlim_cur);
	}
}

static void snap(struct step_stat *s, bool start)
{
	double t = now_mono();
	uint64_t cpu = server_cpu();

	if (start) {
		s->t0 = t;
		s->msgs0 = st.msgs;
		s->bytes0 = st.bytes;
		s->cpu0 = cpu;
	} else {
		s->t1 = t;
		s->msgs1 = st.msgs;
		s->bytes1 = st.bytes;
		s->cpu1 = cpu;
	}
}

static int alive(void)
{
	return st.established - st.dropped;
}

static void report(double t_connect, uint64_t mem_before, uint64_t mem_after)
{
	uint64_t published = atomic_load(&pub.published);
	uint64_t expected = published * (uint64_t)st.established;
	double hz = sysconf(_SC_CLK_TCK);
	struct rusage ru;
	const char *tn[] = { "sse", "ws", "longpoll" };
	uint64_t minm = UINT64_MAX, maxm = 0;
	uint64_t all_hist[HIST_BUCKETS] = { 0 }, all_n = 0;

	for (int i = 0; i < o.conns; i++) {
		if (!conns[i].established)
			continue;
		if (conns[i].msgs < minm)
			minm = conns[i].msgs;
		if (conns[i].msgs > maxm)
			maxm = conns[i].msgs;
	}
	if (minm == UINT64_MAX)
		minm = 0;
	for (int k = 0; k < o.nrates; k++) {
		for (int b = 0; b < HIST_BUCKETS; b++)
			all_hist[b] += steps[k].hist[b];
		all_n += steps[k].lat_n;
	}
	getrusage(RUSAGE_SELF, &ru);
	double self_cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
			  ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	double span = st.t_last_rx > pub.t0 ? st.t_last_rx - pub.t0 : 0;
	double dps = span > 0 ? st.msgs / span : 0;
	double peak = 0;
	for (int k = 0; k < o.nrates && pub.started; k++) {
		if (steps[k].rx / o.duration > peak)
			peak = steps[k].rx / o.duration;
	}

	if (!o.json && !o.conns) {
		double d = pub.t_end - pub.t0;
		printf("sent %" PRIu64 " messages in %.2fs (%.0f/s), %" PRIu64 " errors%s%s\n",
		       published, d, d > 0 ? published / d : 0, (uint64_t)atomic_load(&pub.errors),
		       pub.err[0] ? ": " : "", pub.err);
	} else if (!o.json) {
		printf("%s %s: %d/%d subscribers (%d failed, %d dropped) in %.1fs; "
		       "published %" PRIu64 " (%" PRIu64 " errors); received %" PRIu64
		       "/%" PRIu64 " (%.1f%%), %.0f deliveries/s, peak %.0f/s; "
		       "holes %" PRIu64 " gaps %" PRIu64 "; latency p50 %.0fus p99 %.0fus\n",
		       o.flavor == F_NCHAN ? "nchan" : "pushd", tn[o.transport],
		       st.established, o.conns, st.failed, st.dropped, t_connect,
		       published, (uint64_t)atomic_load(&pub.errors), st.msgs, expected,
		       expected ? 100.0 * st.msgs / expected : 0, dps, peak, st.holes, st.gaps,
		       hist_quantile(all_hist, all_n, 0.5), hist_quantile(all_hist, all_n, 0.99));
		for (int k = 0; k < o.nrates && pub.started && o.conns; k++) {
			struct step_stat *s = &steps[k];
			double d = s->t1 - s->t0;
			printf("  step %d: rate %g/s (published %.0f/s) offered %.0f/s delivered %.0f/s server cpu %.0f%%"
			       " latency p50 %.0fus p99 %.0fus\n", k, o.rates[k],
			       (double)atomic_load(&s->published) / o.duration,
			       (double)atomic_load(&s->published) / o.duration * st.established,
			       s->rx / o.duration,
			       d > 0 ? 100.0 * (s->cpu1 - s->cpu0) / hz / d : 0,
			       hist_quantile(s->hist, s->lat_n, 0.5),
			       hist_quantile(s->hist, s->lat_n, 0.99));
		}
		if (o.npids && o.hold)
			printf("  server memory %" PRIu64 " KiB -> %" PRIu64 " KiB: %.0f bytes per subscriber\n",
			       mem_before, mem_after, st.established ?
			       1024.0 * ((double)mem_after - mem_before) / st.established : 0);
		if (st.first_error[0])
			printf("  first error: %s\n", st.first_error);
		if (pub.err[0])
			printf("  publisher: %s\n", pub.err);
	} else {
		printf("{\"server\":\"%s\",\"transport\":\"%s\",\"conns\":%d,\"established\":%d,"
		       "\"failed\":%d,\"fail_connect\":%" PRIu64 ",\"fail_status\":%" PRIu64
		       ",\"fail_closed\":%" PRIu64 ",\"dropped\":%d,\"drop_slow\":%" PRIu64
		       ",\"drop_shutdown\":%" PRIu64 ",\"drop_eof\":%" PRIu64 ",\"drop_error\":%"
		       PRIu64 ",\"drop_ws\":%" PRIu64 ",\"connect_s\":%.3f,",
		       o.flavor == F_NCHAN ? "nchan" : "pushd", tn[o.transport], o.conns,
		       st.established, st.failed, st.fail_connect, st.fail_status, st.fail_closed,
		       st.dropped, st.drop_slow, st.drop_shutdown, st.drop_eof, st.drop_error,
		       st.drop_ws_other, t_connect);
		printf("\"published\":%" PRIu64 ",\"pub_errors\":%" PRIu64 ",\"pub_s\":%.3f,"
		       "\"received\":%" PRIu64 ",\"expected\":%" PRIu64 ",\"bytes\":%" PRIu64
		       ",\"gaps\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"holes\":%" PRIu64
		       ",\"missed\":%" PRIu64 ",\"reorders\":%" PRIu64 ",\"id_errors\":%" PRIu64
		       ",\"per_conn_min\":%" PRIu64 ",\"per_conn_max\":%" PRIu64
		       ",\"deliveries_per_s\":%.1f,\"peak_per_s\":%.1f,\"ws_pings\":%" PRIu64
		       ",\"lat_p50_us\":%.0f,\"lat_p99_us\":%.0f,\"lat_max_us\":%.0f,"
		       "\"self_cpu_s\":%.2f,\"mem_before_kb\":%" PRIu64 ",\"mem_after_kb\":%" PRIu64
		       ",\"steps\":[",
		       published, (uint64_t)atomic_load(&pub.errors),
		       pub.started ? pub.t_end - pub.t0 : 0, st.msgs, expected, st.bytes, st.gaps,
		       st.lost, st.holes, st.missed, st.reorders, st.id_errors, minm, maxm, dps,
		       peak, st.ws_pings, hist_quantile(all_hist, all_n, 0.5),
		       hist_quantile(all_hist, all_n, 0.99), hist_quantile(all_hist, all_n, 1.0),
		       self_cpu, mem_before, mem_after);
		for (int k = 0; k < o.nrates && pub.started; k++) {
			struct step_stat *s = &steps[k];
			double d = s->t1 - s->t0;
			printf("%s{\"rate\":%g,\"published\":%" PRIu64 ",\"offered_per_s\":%.1f,\"delivered_per_s\":%.1f,"
			       "\"server_cpu\":%.3f,\"window_s\":%.3f,\"lat_p50_us\":%.0f,\"lat_p99_us\":%.0f}",
			       k ? "," : "", o.rates[k], (uint64_t)atomic_load(&s->published),
			       (double)atomic_load(&s->published) / o.duration * st.established,
			       s->rx / o.duration,
			       d > 0 ? (s->cpu1 - s->cpu0) / hz / d : 0, d,
			       hist_quantile(s->hist, s->lat_n, 0.5),
			       hist_quantile(s->hist, s->lat_n, 0.99));
		}
		printf("],\"drain_server_cpu_s\":%.3f,\"drain_s\":%.3f,\"rx_span_s\":%.3f,\"error\":\"",
	       (drain_stat.cpu1 - drain_stat.cpu0) / hz, drain_stat.t1 - drain_stat.t0, span);
		for (const char *p = st.first_error[0] ? st.first_error : pub.err; *p; p++)
			if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
				putchar(*p);
		printf("\"}\n");
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	conns = calloc(o.conns ? o.conns : 1, sizeof(*conns));
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!conns || epfd < 0)
		die("setup: %s", strerror(errno));
	for (int i = 0; i < o.conns; i++)
		conns[i].fd = -1;
	if (o.pub)
		pub_open();

	enum phase ph = o.conns ? PH_CONNECT : PH_SETTLE;
	double t_start = now_mono(), t_phase = t_start, t_connect = 0, t_tick = t_start;
	uint64_t tick_msgs = 0, tick_bytes = 0, mem_before = server_mem_kb(), mem_after = 0;
	int next = 0;
	struct epoll_event evs[128];

	while (ph != PH_DONE) {
		double now = now_mono();

		if (stop_flag && ph != PH_DRAIN) {
			if (ph == PH_RUN || ph == PH_HOLD || !pub.started)
				ph = PH_DONE;
		}
		switch (ph) {
		case PH_CONNECT: {
			int budget = o.inflight - st.inflight;
			if (o.ramp > 0) {
				int allowed = (int)((now - t_start) * o.ramp) + 1 - st.started;
				if (allowed < budget)
					budget = allowed;
			}
			while (budget-- > 0 && next < o.conns)
				conn_start(&conns[next++]);
			if (st.established + st.failed == o.conns ||
			    now - t_start > o.connect_timeout) {
				t_connect = now - t_start;
				ph = PH_SETTLE;
				t_phase = now;
				if (o.verbose)
					fprintf(stderr, "push-load: %d connected, %d failed in %.2fs\n",
						st.established, st.failed, t_connect);
			}
			break;
		}
		case PH_SETTLE:
			if (now - t_phase < o.settle && o.conns)
				break;
			if (o.ready_file) {
				FILE *f = fopen(o.ready_file, "w");
				if (f) {
					fprintf(f, "%d\n", st.established);
					fclose(f);
				}
			}
			if (o.pub) {
				pub_start();
				cur_step = 0;
				snap(&steps[0], true);
				ph = PH_RUN;
			} else {
				snap(&drain_stat, true);	/* idle CPU while holding */
				ph = PH_HOLD;
			}
			t_phase = now;
			break;
		case PH_RUN: {
			int k = (int)((now - pub.t0) / o.duration);
			bool done = atomic_load(&pub.done);
			while (cur_step < o.nrates && (k > cur_step || done)) {
				snap(&steps[cur_step], false);
				if (++cur_step < o.nrates)
					snap(&steps[cur_step], true);
			}
			if (done) {
				snap(&drain_stat, true);
				ph = PH_DRAIN;
				t_phase = now;
			}
			break;
		}
		case PH_DRAIN:
			if (st.msgs >= atomic_load(&pub.published) * (uint64_t)alive() ||
			    now - t_phase >= o.drain || stop_flag || !alive()) {
				snap(&drain_stat, false);
				ph = PH_DONE;
			}
			break;
		case PH_HOLD:
			if (now - t_phase >= o.hold) {
				snap(&drain_stat, false);
				mem_after = server_mem_kb();
				ph = PH_DONE;
			}
			break;
		default:
			break;
		}
		if (ph == PH_DONE)
			break;
		if (now - t_tick >= 1.0) {
			if (o.verbose)
				fprintf(stderr, "push-load: %.0fs %d up %d failed %d dropped: "
					"%.0f msgs/s %.0f KB/s published %" PRIu64 "\n",
					now - t_start, st.established, st.failed, st.dropped,
					(st.msgs - tick_msgs) / (now - t_tick),
					(st.bytes - tick_bytes) / (now - t_tick) / 1024,
					(uint64_t)atomic_load(&pub.published));
			tick_msgs = st.msgs;
			tick_bytes = st.bytes;
			t_tick = now;
		}
		int n = epoll_wait(epfd, evs, 128, ph == PH_CONNECT ? 5 : 20);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (c->state != CS_DEAD)
				conn_event(c, evs[i].events);
		}
	}
	if (!mem_after)
		mem_after = server_mem_kb();
	stop_flag = 1;
	if (pub.started)
		pthread_join(pub.thread, NULL);
	report(t_connect, mem_before, mem_after);
	if (o.verbose)
		fprintf(stderr, "push-load: %d subscribers, %" PRIu64 " messages, %" PRIu64 " bytes\n",
			st.established, st.msgs, st.bytes);
	for (int i = 0; i < o.conns; i++)
		if (conns[i].state != CS_DEAD && conns[i].state != CS_IDLE)
			conn_close(&conns[i]);
	free(conns);
	bool bad = st.failed || st.dropped || st.holes || st.reorders || st.id_errors ||
		   st.gaps || atomic_load(&pub.errors) ||
		   (o.pub && o.conns && st.msgs < atomic_load(&pub.published) * (uint64_t)st.established);
	return bad ? 1 : 0;
}
