// SPDX-License-Identifier: GPL-2.0
/*
 * hub.c - read /dev/push once, fan each message out to its subscribers.
 *
 * The reader thread's loop is an io_uring with four kinds of requests:
 *
 *   HUB_DEV    a read() of /dev/push into a 256 KiB buffer.  The module
 *              sets FMODE_NOWAIT, so io_uring tries the read without
 *              blocking and, when nothing is ready, arms poll on the file
 *              and retries when a message lands: no worker thread, no
 *              busy loop.  One read returns thousands of records.
 *   HUB_EPOLL  a one-shot poll of the epoll set holding the sockets that
 *              transports drive themselves; re-armed after each harvest.
 *   HUB_TICK   a 1 s timeout: heartbeats and long-poll deadlines.
 *   HUB_WAKE   a read of an eventfd, to stop the loop.
 *
 * A device read is handled in two passes: first every record is encoded
 * once (item.c) without the lock; then, with the lock, each item is queued
 * by reference on the subscribers of its channel.  hub_unlock() then has
 * each touched client deliver everything it got in one write.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/counters.h"
#include "core/history.h"
#include "core/hub.h"

#define HUB_BUF_MIN	(256 * 1024)
#define HUB_BUCKETS	4096
#define HUB_RECENT	8192		/* items kept for cheap resumes (power of 2) */
#define HUB_RECENT_BYTES (4 << 20)	/* ... and at most this much JSON */

enum { HUB_DEV = 1, HUB_EPOLL, HUB_TICK, HUB_WAKE };

struct chan {
	struct chan *hnext;
	struct sub *subs;
	uint32_t nsubs[PUSH_TRANSPORT_MAX];
	uint8_t len;
	char name[PUSH_CHANNEL_MAX + 1];
};

struct reap {
	struct reap *next;
	struct client *c;
	void (*release)(struct client *c);
};

static struct {
	pthread_mutex_t lock;	/* protects everything below and all clients */
	struct chan *buckets[HUB_BUCKETS];
	struct client *all;	/* every registered client */
	struct client *dirty;	/* clients with new items, until hub_unlock() */
	struct reap *reaps;	/* clients to free at hub_unlock() */
	uint64_t last_id;	/* last id fanned out */
	uint64_t nclients;

	/*
	 * The latest messages fanned out, all channels: every message with an
	 * id in (recent_from, last_id] is here, so a resume from such an id
	 * (a long-poll's next poll) needs no trip to the device.
	 */
	struct item *recent[HUB_RECENT];
	uint32_t recent_head, recent_len;
	size_t recent_bytes;
	uint64_t recent_from;

	/* reader thread only */
	int devfd, histfd, epfd, wakefd;
	uint8_t *buf;
	size_t buflen;
	struct io_uring ring;
	struct __kernel_timespec tick;
	uint64_t wakebuf;
	pthread_t thread;
	int running;
	_Atomic int stopping;
} hub = { .lock = PTHREAD_MUTEX_INITIALIZER, .devfd = -1, .histfd = -1,
	  .epfd = -1, .wakefd = -1 };

static uint64_t now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* --- channels ------------------------------------------------------------ */

static uint32_t chan_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

static struct chan **chan_slot(const char *s, size_t n)
{
	struct chan **pp = &hub.buckets[chan_hash(s, n) % HUB_BUCKETS];

	while (*pp && ((*pp)->len != n || memcmp((*pp)->name, s, n)))
		pp = &(*pp)->hnext;
	return pp;
}

static struct chan *chan_get(const struct chan_name *name)
{
	struct chan **pp = chan_slot(name->s, name->len);

	if (*pp)
		return *pp;
	struct chan *ch = calloc(1, sizeof(*ch));
	if (!ch)
		return NULL;
	ch->len = name->len;
	memcpy(ch->name, name->s, name->len + 1);
	*pp = ch;
	return ch;
}

static void chan_put(struct chan *ch)
{
	if (ch->subs)
		return;
	struct chan **pp = chan_slot(ch->name, ch->len);
	if (*pp == ch) {
		*pp = ch->hnext;
		free(ch);
	}
}

/* --- recent messages ------------------------------------------------------ */

static void recent_drop_oldest(void)
{
	struct item *it = hub.recent[hub.recent_head];

	hub.recent_head = (hub.recent_head + 1) & (HUB_RECENT - 1);
	hub.recent_len--;
	hub.recent_bytes -= it->json_len;
	hub.recent_from = it->id;
	item_put(it);
}

/* Records a message fanned out (lock held). */
static void recent_add(struct item *it)
{
	while (hub.recent_len == HUB_RECENT ||
	       (hub.recent_len && hub.recent_bytes + it->json_len > HUB_RECENT_BYTES))
		recent_drop_oldest();
	hub.recent[(hub.recent_head + hub.recent_len) & (HUB_RECENT - 1)] = item_get(it);
	hub.recent_len++;
	hub.recent_bytes += it->json_len;
}

/* Forgets everything up to @id: after a loss, the record has holes (lock held). */
static void recent_reset(uint64_t id)
{
	while (hub.recent_len)
		recent_drop_oldest();
	hub.recent_from = id;
}

static bool recent_match(const struct item *it, const struct sub_request *req)
{
	for (int i = 0; i < req->nchans; i++)
		if (req->chans[i].len == it->chan_len && !memcmp(req->chans[i].s, it->chan, it->chan_len))
			return true;
	return false;
}

/*
 * The history of req's channels after req->since, from the recent record
 * (lock held).  Returns 1 with @h filled (maybe empty), 0 if the record does
 * not reach back that far, -ENOMEM.
 */
static int recent_history(const struct sub_request *req, struct history *h)
{
	uint32_t cap = 0;

	h->items = NULL;
	h->n = 0;
	if (req->since_mode != SINCE_ID || req->since < hub.recent_from)
		return 0;
	for (uint32_t i = 0; i < hub.recent_len; i++) {
		struct item *it = hub.recent[(hub.recent_head + i) & (HUB_RECENT - 1)];

		if (it->id <= req->since || !recent_match(it, req))
			continue;
		if (h->n == cap) {
			uint32_t ncap = cap ? cap * 2 : 16;
			struct item **more = realloc(h->items, sizeof(*more) * ncap);

			if (!more) {
				history_free(h);
				return -ENOMEM;
			}
			h->items = more;
			cap = ncap;
		}
		h->items[h->n++] = item_get(it);
	}
	return 1;
}

/* --- clients ------------------------------------------------------------- */

void hub_lock(void)
{
	pthread_mutex_lock(&hub.lock);
}

void hub_mark_dirty(struct client *c)
{
	if (c->flags & CF_DIRTY)
		return;
	c->flags |= CF_DIRTY;
	c->next_dirty = hub.dirty;
	hub.dirty = c;
}

void hub_unlock(void)
{
	/* deliver() may queue (a close frame) or reap; loop until quiet */
	while (hub.dirty || hub.reaps) {
		while (hub.dirty) {
			struct client *c = hub.dirty;

			hub.dirty = c->next_dirty;
			c->flags &= (uint8_t)~CF_DIRTY;
			c->batch_bytes = 0;
			if (!(c->flags & CF_PENDING))
				c->t->deliver(c);
		}
		while (hub.reaps && !hub.dirty) {
			struct reap *r = hub.reaps;

			hub.reaps = r->next;
			hub_unsubscribe(r->c);
			r->release(r->c);
			free(r);
		}
	}
	pthread_mutex_unlock(&hub.lock);
}

void hub_reap(struct client *c, void (*release)(struct client *c))
{
	struct reap *r = malloc(sizeof(*r));

	/* without memory, leak the client rather than free it under a caller */
	if (!r)
		return;
	c->flags |= CF_CLOSING;
	r->c = c;
	r->release = release;
	r->next = hub.reaps;
	hub.reaps = r;
}

static void hub_unlink_subs(struct client *c);

/*
 * Cuts @c off: its channels forget it at once (GET /pub counts drop, the
 * fan-out skips it), its transport says goodbye and reaps it later.
 */
static void hub_cut(struct client *c, enum client_close why)
{
	hub_unlink_subs(c);
	c->t->close(c, why);
}

void hub_queue(struct client *c, struct item *it)
{
	if (c->flags & CF_CLOSING)
		return;
	if (it->type == ITEM_MSG && (it->id <= c->after_id || it->id <= c->last_id))
		return;
	if (client_push(c, it)) {
		hub_cut(c, CLOSE_SLOW);
		return;
	}
	if (it->type != ITEM_CTRL && item_last_id(it) > c->last_id)
		c->last_id = item_last_id(it);
	/*
	 * Slow is a backlog older than this batch over --max-queue: one device
	 * read may queue more than that at once, and the client gets its chance
	 * to take it at hub_unlock().
	 */
	c->batch_bytes += c->t->item_len(it);
	if (c->qbytes > c->hist_bytes + c->batch_bytes + pushd_cfg.max_queue) {
		stat_add(&pushd_stats.t[c->t->kind].slow, 1);
		hub_cut(c, CLOSE_SLOW);
		return;
	}
	hub_mark_dirty(c);
}

static void hub_unlink_subs(struct client *c)
{
	for (int i = 0; i < c->nsubs; i++) {
		struct sub *s = &c->subs[i];
		struct chan *ch = s->ch;

		if (!ch)
			continue;
		if (s->prev)
			s->prev->next = s->next;
		else
			ch->subs = s->next;
		if (s->next)
			s->next->prev = s->prev;
		ch->nsubs[c->t->kind]--;
		s->ch = NULL;
		chan_put(ch);
	}
}

void hub_unsubscribe(struct client *c)
{
	if (!(c->flags & CF_REGISTERED))
		return;
	hub_unlink_subs(c);
	free(c->subs);
	c->subs = NULL;
	c->nsubs = 0;
	if (c->prev_all)
		c->prev_all->next_all = c->next_all;
	else
		hub.all = c->next_all;
	if (c->next_all)
		c->next_all->prev_all = c->prev_all;
	c->prev_all = c->next_all = NULL;
	/* a client still on the dirty list is skipped: CF_PENDING keeps deliver() away */
	if (c->flags & CF_DIRTY) {
		for (struct client **pp = &hub.dirty; *pp; pp = &(*pp)->next_dirty)
			if (*pp == c) {
				*pp = c->next_dirty;
				break;
			}
		c->flags &= (uint8_t)~CF_DIRTY;
	}
	client_drain(c);
	client_queue_free(c);
	c->flags &= (uint8_t)~CF_REGISTERED;
	hub.nclients--;
	stat_add(&pushd_stats.t[c->t->kind].conns, -1ULL);
}

static int hub_register(struct client *c, const struct sub_request *req)
{
	c->subs = calloc((size_t)req->nchans, sizeof(*c->subs));
	if (!c->subs)
		return -ENOMEM;
	c->nsubs = (uint8_t)req->nchans;
	for (int i = 0; i < req->nchans; i++) {
		struct chan *ch = chan_get(&req->chans[i]);
		struct sub *s = &c->subs[i];

		if (!ch) {
			hub_unlink_subs(c);
			free(c->subs);
			c->subs = NULL;
			c->nsubs = 0;
			return -ENOMEM;
		}
		s->c = c;
		s->ch = ch;
		s->prev = NULL;
		s->next = ch->subs;
		if (ch->subs)
			ch->subs->prev = s;
		ch->subs = s;
		ch->nsubs[c->t->kind]++;
	}
	c->next_all = hub.all;
	c->prev_all = NULL;
	if (hub.all)
		hub.all->prev_all = c;
	hub.all = c;
	c->flags |= CF_REGISTERED;
	hub.nclients++;
	stat_add(&pushd_stats.t[c->t->kind].conns, 1);
	stat_add(&pushd_stats.t[c->t->kind].conns_total, 1);
	return 0;
}

int hub_subscribe(struct client *c, const struct sub_request *req)
{
	struct push_info info = { 0 };
	struct history h = { 0 };
	uint64_t live;
	int err;

	hub_lock();
	err = hub_register(c, req);
	if (err) {
		pthread_mutex_unlock(&hub.lock);
		return err;
	}
	live = hub.last_id;
	c->after_id = live;
	c->last_id = live;
	bool want = req->since_mode == SINCE_OLDEST ||
		    (req->since_mode == SINCE_ID && req->since < live);
	if (want) {
		/* recent enough: the hub's own record has it, no device read */
		err = recent_history(req, &h);
		if (err) {
			if (err > 0 && h.n) {
				if (client_prepend(c, h.items, h.n)) {
					history_free(&h);
					hub_unsubscribe(c);
					hub_unlock();
					return -ENOMEM;
				} else {
					uint64_t last = item_last_id(h.items[h.n - 1]);

					if (last > c->last_id)
						c->last_id = last;
					free(h.items);
					hub_mark_dirty(c);
				}
			}
			if (err > 0) {
				hub_unlock();
				return 0;
			}
		}
		c->flags |= CF_PENDING;
	}
	hub_unlock();
	if (!want) {
		/* a since beyond the device (module reloaded) means "new only" */
		if (req->since_mode == SINCE_ID && req->since > live &&
		    ioctl(hub.histfd, PUSH_IOC_INFO, &info) == 0 && req->since < info.next_id) {
			hub_lock();
			c->after_id = c->last_id = req->since;
			hub_unlock();
		}
		return 0;
	}

	/* history up to the live position: the fan-out queues only ids above it */
	err = history_read(hub.histfd, req, live, &h);
	stat_add(&pushd_stats.history_reads, 1);

	hub_lock();
	c->flags &= (uint8_t)~CF_PENDING;
	if (!err && h.n) {
		if (client_prepend(c, h.items, h.n)) {
			history_free(&h);
			err = -ENOMEM;
		} else {
			uint64_t last = item_last_id(h.items[h.n - 1]);

			if (last > c->last_id)
				c->last_id = last;
			free(h.items);
		}
	} else {
		history_free(&h);
	}
	if (c->qlen)
		hub_mark_dirty(c);
	if (err) {
		hub_unsubscribe(c);
		hub_unlock();
		return err;
	}
	hub_unlock();
	return 0;
}

uint64_t hub_last_id(void)
{
	uint64_t id;

	pthread_mutex_lock(&hub.lock);
	id = hub.last_id;
	pthread_mutex_unlock(&hub.lock);
	return id;
}

void hub_chan_subscribers(const char *name, uint64_t counts[4])
{
	size_t n = strlen(name);

	memset(counts, 0, sizeof(uint64_t) * 4);
	pthread_mutex_lock(&hub.lock);
	struct chan *ch = *chan_slot(name, n);
	if (ch)
		for (int i = 0; i < PUSH_TRANSPORT_MAX; i++)
			counts[i] = ch->nsubs[i];
	pthread_mutex_unlock(&hub.lock);
}

void hub_queue_stats(uint64_t *items, uint64_t *bytes, uint64_t *max_bytes)
{
	*items = *bytes = *max_bytes = 0;
	pthread_mutex_lock(&hub.lock);
	for (struct client *c = hub.all; c; c = c->next_all) {
		*items += c->qlen;
		*bytes += c->qbytes;
		if (c->qbytes > *max_bytes)
			*max_bytes = c->qbytes;
	}
	pthread_mutex_unlock(&hub.lock);
}

/* --- sockets of the transports ------------------------------------------ */

int hub_watch_add(struct hub_watch *w)
{
	struct epoll_event ev = { .events = w->events, .data.ptr = w };

	return epoll_ctl(hub.epfd, EPOLL_CTL_ADD, w->fd, &ev) ? -errno : 0;
}

int hub_watch_mod(struct hub_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (w->events == events)
		return 0;
	w->events = events;
	return epoll_ctl(hub.epfd, EPOLL_CTL_MOD, w->fd, &ev) ? -errno : 0;
}

void hub_watch_del(struct hub_watch *w)
{
	epoll_ctl(hub.epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

/* --- the reader thread ---------------------------------------------------- */

/* Get an SQE, submitting what is queued if the ring is full. */
static struct io_uring_sqe *hub_sqe(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&hub.ring);

	if (!sqe) {
		io_uring_submit(&hub.ring);
		sqe = io_uring_get_sqe(&hub.ring);
	}
	return sqe;
}

static void hub_arm(int op)
{
	struct io_uring_sqe *sqe = hub_sqe();

	if (!sqe)
		return;
	switch (op) {
	case HUB_DEV:
		/* offset -1: the file's own position, i.e. the reader's cursor */
		io_uring_prep_read(sqe, hub.devfd, hub.buf, (unsigned int)hub.buflen, (__u64)-1);
		break;
	case HUB_EPOLL:
		io_uring_prep_poll_add(sqe, hub.epfd, POLLIN);
		break;
	case HUB_TICK:
		io_uring_prep_timeout(sqe, &hub.tick, 0, 0);
		break;
	case HUB_WAKE:
		io_uring_prep_read(sqe, hub.wakefd, &hub.wakebuf, sizeof(hub.wakebuf), 0);
		break;
	}
	io_uring_sqe_set_data64(sqe, (__u64)op);
}

/* Broadcast a loss of the hub's own reader: every client may have lost some. */
static void hub_fan_gap(struct item *it)
{
	for (struct client *c = hub.all; c; c = c->next_all)
		hub_queue(c, it);
}

static void hub_read_done(int res)
{
	struct push_msg m;
	size_t off = 0;
	size_t n = 0, cap = 256;
	struct item **items;
	bool lost = false;
	int r;

	if (res < 0) {
		if (res != -EAGAIN && res != -EINTR)
			fprintf(stderr, "pushd: read %s: %s\n", pushd_cfg.device, strerror(-res));
		return;
	}
	stat_add(&pushd_stats.reads, 1);
	stat_add(&pushd_stats.bytes_in, (unsigned long long)res);
	items = malloc(sizeof(*items) * cap);
	if (!items)
		return;

	/* pass 1, no lock: encode every record once */
	while ((r = push_record_next(hub.buf, (size_t)res, &off, &m)) > 0) {
		struct item *it;

		if (m.type != PUSH_REC_MSG && m.type != PUSH_REC_GAP)
			continue;
		if (m.type == PUSH_REC_GAP)
			stat_add(&pushd_stats.gaps_in, 1);
		else
			stat_add(&pushd_stats.msgs_in, 1);
		it = item_from_msg(&m);
		if (!it) {
			lost = true;	/* subscribers miss it; the recent record must not claim it */
			continue;
		}
		if (n == cap) {
			struct item **more = realloc(items, sizeof(*items) * cap * 2);
			if (!more) {
				item_put(it);
				break;
			}
			items = more;
			cap *= 2;
		}
		items[n++] = it;
	}
	if (r < 0) {
		fprintf(stderr, "pushd: malformed record from %s at offset %zu\n",
			pushd_cfg.device, off);
		lost = true;
	}

	/* pass 2, locked: queue references on the subscribers */
	hub_lock();
	for (size_t i = 0; i < n; i++) {
		struct item *it = items[i];

		if (it->type == ITEM_GAP) {
			hub_fan_gap(it);
		} else {
			struct chan *ch = *chan_slot(it->chan, it->chan_len);

			for (struct sub *s = ch ? ch->subs : NULL; s; s = s->next)
				hub_queue(s->c, it);
		}
		if (item_last_id(it) > hub.last_id)
			hub.last_id = item_last_id(it);
		if (it->type == ITEM_GAP)
			recent_reset(hub.last_id);
		else
			recent_add(it);
	}
	if (lost)
		recent_reset(hub.last_id);
	hub_unlock();
	for (size_t i = 0; i < n; i++)
		item_put(items[i]);
	free(items);
}

static void hub_tick(void)
{
	uint64_t now = now_sec();

	hub_lock();
	for (struct client *c = hub.all; c; c = c->next_all)
		c->t->heartbeat(c, now);
	hub_unlock();
}

static void hub_epoll(void)
{
	struct epoll_event evs[256];
	int n;

	/* one harvest per lock: a killed client's socket stays readable until reaped */
	do {
		hub_lock();
		n = epoll_wait(hub.epfd, evs, 256, 0);
		for (int i = 0; i < n; i++) {
			struct hub_watch *w = evs[i].data.ptr;

			w->cb(w, evs[i].events);
		}
		hub_unlock();
	} while (n == 256);
}

static void *hub_thread(void *arg)
{
	(void)arg;
	hub_arm(HUB_DEV);
	hub_arm(HUB_EPOLL);
	hub_arm(HUB_TICK);
	hub_arm(HUB_WAKE);

	while (!hub.stopping) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;
		int rearm[HUB_WAKE + 1] = { 0 };
		int ret = io_uring_submit_and_wait(&hub.ring, 1);

		if (ret < 0 && ret != -EINTR) {
			fprintf(stderr, "pushd: io_uring: %s\n", strerror(-ret));
			break;
		}
		io_uring_for_each_cqe(&hub.ring, head, cqe) {
			int op = (int)io_uring_cqe_get_data64(cqe);
			int res = cqe->res;

			seen++;
			switch (op) {
			case HUB_DEV:
				hub_read_done(res);
				if (res < 0 && res != -EAGAIN && res != -EINTR)
					usleep(100000);	/* do not spin on a persistent error */
				break;
			case HUB_EPOLL:
				hub_epoll();
				break;
			case HUB_TICK:
				hub_tick();
				break;
			case HUB_WAKE:
				break;
			default:
				continue;
			}
			rearm[op] = 1;
		}
		io_uring_cq_advance(&hub.ring, seen);
		for (int op = HUB_DEV; op <= HUB_WAKE; op++)
			if (rearm[op])
				hub_arm(op);
	}
	return NULL;
}

int hub_init(int devfd, int histfd)
{
	struct push_info info = { 0 };
	off_t pos;
	int ret;

	hub.devfd = devfd;
	hub.histfd = histfd;
	if (ioctl(devfd, PUSH_IOC_INFO, &info) == 0 && info.max_msg_size)
		pushd_cfg.max_msg_size = info.max_msg_size;
	/* a record is header + channel + data + padding: the buffer must hold the largest */
	hub.buflen = HUB_BUF_MIN;
	if (hub.buflen < (size_t)pushd_cfg.max_msg_size + 256)
		hub.buflen = (size_t)pushd_cfg.max_msg_size + 256;
	hub.buf = malloc(hub.buflen);
	if (!hub.buf)
		return -ENOMEM;
	/* only new messages: history is read per client from its own cursor */
	pos = lseek(devfd, 0, SEEK_END);
	if (pos > 0)
		hub.last_id = (uint64_t)pos - 1;
	hub.recent_from = hub.last_id;
	hub.tick.tv_sec = 1;
	hub.epfd = epoll_create1(EPOLL_CLOEXEC);
	hub.wakefd = eventfd(0, EFD_CLOEXEC);
	if (hub.epfd < 0 || hub.wakefd < 0)
		return -errno;
	ret = io_uring_queue_init(64, &hub.ring, 0);
	if (ret < 0)
		return ret;
	return 0;
}

int hub_start(void)
{
	int ret = pthread_create(&hub.thread, NULL, hub_thread, NULL);

	if (ret)
		return -ret;
	hub.running = 1;
	return 0;
}

void hub_shutdown(unsigned int ms)
{
	hub_lock();
	for (struct client *c = hub.all; c; c = c->next_all)
		hub_cut(c, CLOSE_SHUTDOWN);
	hub_unlock();
	for (unsigned int waited = 0; waited < ms + 500; waited += 10) {
		uint64_t left;

		pthread_mutex_lock(&hub.lock);
		left = hub.nclients;
		pthread_mutex_unlock(&hub.lock);
		if (!left)
			break;
		/* clients that could not take their goodbye (sockets full) go now */
		if (waited == ms) {
			hub_lock();
			for (struct client *c = hub.all; c; c = c->next_all)
				c->t->close(c, CLOSE_ABORT);
			hub_unlock();
		}
		usleep(10000);
	}
}

void hub_stop(void)
{
	uint64_t one = 1;

	if (hub.running) {
		hub.stopping = 1;
		if (write(hub.wakefd, &one, sizeof(one)) < 0)
			perror("pushd: eventfd");
		pthread_join(hub.thread, NULL);
		hub.running = 0;
		io_uring_queue_exit(&hub.ring);
	}
	free(hub.buf);
	hub.buf = NULL;
	recent_reset(0);
}
