// SPDX-License-Identifier: GPL-2.0
/*
 * hub.c - the clients, their subscriptions and queues, and the fan-out:
 * each message read from /dev/push (by hub_thread.c) is queued by
 * reference on every subscriber of its channel (channels.c), and recorded
 * for cheap resumes (recent.c).  hub_unlock() then has each touched client
 * deliver everything it got in one write.  Every client's next deadline
 * (heartbeat, long-poll timeout, pong, token expiry) is a timer in one
 * wheel (timer.c): the 1 s tick visits only the clients due.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "core/channels.h"
#include "core/config.h"
#include "core/counters.h"
#include "core/history.h"
#include "core/hub.h"
#include "core/hub_thread.h"
#include "core/recent.h"
#include "core/replay.h"
#include "core/timer.h"

/* Slots beyond the longest interval armed often (--heartbeat, --poll-timeout, a WebSocket's close). */
#define HUB_WHEEL_MIN	64

struct reap {
	struct reap *next;
	struct client *c;
	void (*release)(struct client *c);
};

static struct {
	pthread_mutex_t lock;	/* protects everything below and all clients */
	struct chan_table chans;
	struct client *all;	/* every registered client */
	struct client *dirty;	/* clients with new items, until hub_unlock() */
	struct reap *reaps;	/* clients to free at hub_unlock() */
	uint64_t last_id;	/* last id fanned out */
	uint64_t nclients;
	struct recent recent;	/* the latest messages fanned out */
	struct timer_wheel wheel; /* every registered client's next deadline */
	int histfd;		/* the device reader for history (history.c) */
	bool closing;		/* hub_shutdown() began: no new subscriber */
} hub = { .lock = PTHREAD_MUTEX_INITIALIZER, .histfd = -1 };

/* What readers outside the lock see (/stats): written by the hub thread. */
static struct {
	_Atomic uint64_t last_id;
	_Atomic uint64_t q_max;		/* largest queue at the last tick */
} hub_pub;

/*
 * The device's epoch (PUSH_IOC_INFO; 0 before v2).  It can change until the
 * device gives its first id: a cluster bridge started after pushd sets the
 * stream's (PUSH_IOC_SET_EPOCH).  So it is read again on each use while the
 * device has no id, and kept once the hub thread has seen a record (read
 * there once, hub_fanout()), or once the device says it has no
 * PUSH_IOC_INFO (a FIFO standing in for it: tools/bench/hostprof).
 */
static struct {
	_Atomic uint64_t value;
	atomic_bool fixed;
} hub_ep;

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

void hub_peer_gone(struct client *c)
{
	hub_unlink_subs(c);
	c->flags |= CF_CLOSING | CF_GONE;
}

void hub_cut_off(struct client *c, enum client_close why)
{
	if (c->flags & CF_CLOSING)
		return;
	if (why == CLOSE_SLOW)
		stat_add(&pushd_stats.t[c->t->kind].slow, 1);
	hub_cut(c, why);
}

void hub_queue(struct client *c, struct item *it)
{
	if (c->flags & CF_CLOSING)
		return;
	/* replaying: it reads live messages from the device in its turn */
	if ((c->flags & CF_REPLAY) && it->type != ITEM_CTRL)
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
	for (int i = 0; i < c->nsubs; i++)
		chan_sub_del(&hub.chans, &c->subs[i]);
}

/* Only @c's owner may call this: replay_forget() may drop the lock (hub.h). */
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
	replay_forget(c);
	timer_disarm(&hub.wheel, &c->tm);
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

int hub_register(struct client *c, const struct sub_request *req)
{
	/* hub_shutdown() began: a client coming back is refused, so its passes end */
	if (hub.closing)
		return -ESHUTDOWN;
	c->subs = calloc((size_t)req->nchans, sizeof(*c->subs));
	if (!c->subs)
		return -ENOMEM;
	c->nsubs = (uint8_t)req->nchans;
	for (int i = 0; i < req->nchans; i++) {
		struct sub *s = &c->subs[i];

		s->c = c;
		int err = chan_sub_add(&hub.chans, &req->chans[i], s);
		if (err) {
			hub_unlink_subs(c);
			free(c->subs);
			c->subs = NULL;
			c->nsubs = 0;
			return err;
		}
	}
	c->next_all = hub.all;
	c->prev_all = NULL;
	if (hub.all)
		hub.all->prev_all = c;
	hub.all = c;
	c->expires = req->expires;
	c->flags |= CF_REGISTERED;
	/* a first visit at the next tick: heartbeat() says when it wants the next */
	timer_arm(&hub.wheel, &c->tm, hub.wheel.now + 1);
	hub.nclients++;
	stat_add(&pushd_stats.t[c->t->kind].conns, 1);
	stat_add(&pushd_stats.t[c->t->kind].conns_total, 1);
	return 0;
}

/* --- what replay.c needs of the hub ---------------------------------------- */

pthread_mutex_t *hub_mutex(void)
{
	return &hub.lock;
}

uint64_t hub_last_locked(void)
{
	return hub.last_id;
}

struct recent *hub_recent(void)
{
	return &hub.recent;
}

int hub_histfd(void)
{
	return hub.histfd;
}

uint64_t hub_last_id(void)
{
	return atomic_load_explicit(&hub_pub.last_id, memory_order_relaxed);
}

void hub_chan_subscribers(const char *name, uint64_t counts[4])
{
	size_t n = strlen(name);

	memset(counts, 0, sizeof(uint64_t) * 4);
	pthread_mutex_lock(&hub.lock);
	struct chan *ch = chan_find(&hub.chans, name, n);
	if (ch)
		for (int i = 0; i < PUSH_TRANSPORT_MAX; i++)
			counts[i] = ch->nsubs[i];
	pthread_mutex_unlock(&hub.lock);
}

/* No walk, no lock: totals kept as queues change, the largest as of the last tick. */
void hub_queue_stats(uint64_t *items, uint64_t *bytes, uint64_t *max_bytes)
{
	*items = atomic_load_explicit(&pushd_stats.q_items, memory_order_relaxed);
	*bytes = atomic_load_explicit(&pushd_stats.q_bytes, memory_order_relaxed);
	*max_bytes = atomic_load_explicit(&hub_pub.q_max, memory_order_relaxed);
}

/* --- fan-out, on the hub's thread ---------------------------------------- */

/* Broadcast a loss of the hub's own reader: every client may have lost some. */
static void hub_fan_gap(struct item *it)
{
	for (struct client *c = hub.all; c; c = c->next_all)
		hub_queue(c, it);
}

static void hub_epoch_read(bool seen_id);

void hub_fanout(struct item **items, size_t n, bool lost)
{
	if (n)
		hub_epoch_read(true);	/* once: the first record fixes it */
	hub_lock();
	for (size_t i = 0; i < n; i++) {
		struct item *it = items[i];

		if (it->type == ITEM_GAP) {
			hub_fan_gap(it);
		} else {
			struct chan *ch = chan_find(&hub.chans, it->chan, it->chan_len);

			for (struct sub *s = ch ? ch->subs : NULL; s; s = s->next)
				hub_queue(s->c, it);
		}
		if (item_last_id(it) > hub.last_id) {
			hub.last_id = item_last_id(it);
			atomic_store_explicit(&hub_pub.last_id, hub.last_id, memory_order_relaxed);
		}
		if (it->type == ITEM_GAP)
			recent_reset(&hub.recent, hub.last_id);
		else
			recent_add(&hub.recent, it);
	}
	if (lost)
		recent_reset(&hub.recent, hub.last_id);
	hub_unlock();
}

static unsigned int (*hub_tick_hook)(uint64_t now);

/* A token's expiry comes first, unless the client is already on its way out. */
static uint64_t hub_deadline(const struct client *c, uint64_t when)
{
	if (c->expires && !(c->flags & CF_CLOSING) && (!when || c->expires < when))
		return c->expires;
	return when;
}

void hub_rearm(struct client *c, uint64_t when)
{
	if (!(c->flags & CF_REGISTERED))
		return;
	when = hub_deadline(c, when);
	if (!when)
		timer_disarm(&hub.wheel, &c->tm);
	else if (!timer_armed(&c->tm) || c->tm.when != when)
		timer_arm(&hub.wheel, &c->tm, when);
}

/* A client's deadline came (lock held): cut it off if its token expired, else its heartbeat(). */
static void hub_due(struct timer *t, void *arg)
{
	struct client *c = (struct client *)((char *)t - offsetof(struct client, tm));
	uint64_t now = hub.wheel.now, next;

	(void)arg;
	if (c->expires && now >= c->expires && !(c->flags & CF_CLOSING)) {
		hub_cut(c, CLOSE_EXPIRED);
		next = now + 1;	/* its transport's heartbeat() sees the goodbye through */
	} else {
		next = c->t->heartbeat(c, now);
	}
	hub_rearm(c, next);
}

void hub_on_tick(unsigned int (*fn)(uint64_t now))
{
	hub_tick_hook = fn;
}

void hub_tick(uint64_t now)
{
	uint64_t qmax = 0;

	hub_lock();
	timer_advance(&hub.wheel, now, hub_due, NULL);
	/* the largest queue: a walk only while something is queued at all */
	if (atomic_load_explicit(&pushd_stats.q_items, memory_order_relaxed))
		for (struct client *c = hub.all; c; c = c->next_all)
			if (c->qbytes > qmax)
				qmax = c->qbytes;
	atomic_store_explicit(&hub_pub.q_max, qmax, memory_order_relaxed);
	hub_unlock();
	if (hub_tick_hook)
		hub_tick_hook(now);
}

/* --- start and stop -------------------------------------------------------- */

int hub_init(int devfd, int histfd)
{
	struct push_info info = { 0 };
	unsigned int span = pushd_cfg.heartbeat > pushd_cfg.poll_timeout ? pushd_cfg.heartbeat
									 : pushd_cfg.poll_timeout;
	struct timespec ts;
	off_t pos;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (timer_wheel_init(&hub.wheel, span + 2 > HUB_WHEEL_MIN ? span + 2 : HUB_WHEEL_MIN,
			     (uint64_t)ts.tv_sec))
		return -ENOMEM;
	hub.histfd = histfd;
	if (ioctl(devfd, PUSH_IOC_INFO, &info) == 0 && info.max_msg_size)
		pushd_cfg.max_msg_size = info.max_msg_size;
	atomic_store(&hub_ep.value, info.epoch);
	atomic_store(&hub_ep.fixed, info.next_id > 1);
	/* only new messages: history is read per client from its own cursor */
	pos = lseek(devfd, 0, SEEK_END);
	if (pos > 0)
		hub.last_id = (uint64_t)pos - 1;
	atomic_store_explicit(&hub_pub.last_id, hub.last_id, memory_order_relaxed);
	recent_reset(&hub.recent, hub.last_id);
	int err = hub_thread_init(devfd);
	if (err)
		return err;
	return replay_start();
}

/* Reads the epoch again unless it is fixed; @seen_id: the device has given an id. */
static void hub_epoch_read(bool seen_id)
{
	struct push_info info = { 0 };

	if (atomic_load(&hub_ep.fixed) || hub.histfd < 0)
		return;
	if (ioctl(hub.histfd, PUSH_IOC_INFO, &info) == 0) {
		atomic_store(&hub_ep.value, info.epoch);
		if (info.next_id > 1 || seen_id)
			atomic_store(&hub_ep.fixed, true);
	} else if (errno == ENOTTY || errno == EINVAL || seen_id) {
		atomic_store(&hub_ep.fixed, true);	/* no epoch to be had: 0 */
	}
}

uint64_t hub_epoch(void)
{
	hub_epoch_read(false);
	return atomic_load(&hub_ep.value);
}

/*
 * Cuts every client off, and keeps cutting until none is left: a client
 * that subscribes after the first pass (a long-poll coming straight back)
 * is refused by hub_subscribe() once hub.closing is set, so the passes end.
 */
void hub_shutdown(unsigned int ms)
{
	for (unsigned int waited = 0;; waited += 10) {
		uint64_t left;

		hub_lock();
		hub.closing = true;
		for (struct client *c = hub.all; c; c = c->next_all)
			if (waited >= ms)
				c->t->close(c, CLOSE_ABORT);	/* could not take its goodbye */
			else if (!(c->flags & CF_CLOSING))
				hub_cut(c, CLOSE_SHUTDOWN);
		left = hub.nclients;
		hub_unlock();
		if (!left || waited >= ms + 500)
			break;
		usleep(10000);
	}
}

bool hub_closing(void)
{
	bool closing;

	pthread_mutex_lock(&hub.lock);
	closing = hub.closing;
	pthread_mutex_unlock(&hub.lock);
	return closing;
}

void hub_stop(void)
{
	replay_stop();
	hub_thread_stop();
	recent_reset(&hub.recent, 0);
	chan_table_free(&hub.chans);
	history_cache_clear();
	timer_wheel_free(&hub.wheel);
}
