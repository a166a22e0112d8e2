// SPDX-License-Identifier: GPL-2.0
/* load_pub.c - push-load's publisher thread: /dev/push writes or HTTP POSTs at fixed rates. */
#include "load.h"

/* ---- publisher ------------------------------------------------------------- */

int pub_connect(struct pubconn *pc)
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
void pub_error(const char *fmt, ...)
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
void pub_broken(struct pubconn *pc, const char *why)
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
void pub_collect(struct pubconn *pc, unsigned max)
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
void pub_post(struct pubconn *pc, const char *data, size_t len)
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

void sleep_until(double t)
{
	double d = t - now_mono();
	if (d <= 0)
		return;
	struct timespec ts = { (time_t)d, (long)((d - (time_t)d) * 1e9) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stop_flag)
		;
}

int parse_url(const char *url, struct sockaddr_in *sa, char *host, size_t hn,
		     char *path, size_t pn);

void *pub_thread(void *arg)
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
		double t_step = pub.t0 + step_start(k), t_end = t_step + step_len(k);
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

void pub_open(void)
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

void pub_start(void)
{
	pub.t0 = now_mono() + 0.01;
	pub.t0_real = now_real_ns() + 10000000ull;
	if (pthread_create(&pub.thread, NULL, pub_thread, &pubc))
		die("pthread_create failed");
	pub.started = true;
}
