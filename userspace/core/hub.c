// SPDX-License-Identifier: GPL-2.0
/*
 * hub.c - the clients, their subscriptions and queues, and the fan-out:
 * each message read from /dev/push (by hub_thread.c) is queued by
 * reference on every subscriber of its channel (channels.c), and recorded
 * for cheap resumes (recent.c).  hub_unlock() then has each touched client
 * deliver everything it got in one write.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/channels.h"
#include "core/config.h"
#include "core/counters.h"
#include "core/history.h"
#include "core/hub.h"
#include "core/hub_thread.h"
#include "core/recent.h"

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
	int histfd;		/* the device reader for history (history.c) */
	uint64_t epoch;		/* the device's, from PUSH_IOC_INFO (0 before v2) */
} hub = { .lock = PTHREAD_MUTEX_INITIALIZER, .histfd = -1 };

/* What readers outside the lock see (/stats): written by the hub thread. */
static struct {
	_Atomic uint64_t last_id;
	_Atomic uint64_t q_max;		/* largest queue at the last tick */
} hub_pub;

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
static void replay_forget(struct client *c);
static int hub_reset(struct client *c, const struct sub_request *req, uint64_t first);

/*
 * Cuts @c off: its channels forget it at once (GET /pub counts drop, the
 * fan-out skips it), its transport says goodbye and reaps it later.
 */
static void hub_cut(struct client *c, enum client_close why)
{
	hub_unlink_subs(c);
	c->t->close(c, why);
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
	c->flags |= CF_REGISTERED;
	hub.nclients++;
	stat_add(&pushd_stats.t[c->t->kind].conns, 1);
	stat_add(&pushd_stats.t[c->t->kind].conns_total, 1);
	return 0;
}

/* The record's items for @c (lock held): all of them fit its queue. */
static void replay_land_recent(struct client *c, struct history *h)
{
	for (uint32_t i = 0; i < h->n; i++) {
		if (!client_push(c, h->items[i]) && item_last_id(h->items[i]) > c->last_id)
			c->last_id = item_last_id(h->items[i]);
	}
	history_free(h);
	if (c->qlen)
		hub_mark_dirty(c);
}

/*
 * A resume from beyond the last id the hub has seen.  Up to the device's
 * next id it is only ahead of the hub (just published): resume there.
 * Further is an id from another module load: the client gets an explicit
 * reset (a gap from its id to the device's oldest, then the whole
 * retained history), never a silent skip.  Lock held.
 */
static int hub_since_beyond(struct client *c, const struct sub_request *req)
{
	struct push_info info = { 0 };

	if (ioctl(hub.histfd, PUSH_IOC_INFO, &info) == 0 && req->since < info.next_id) {
		c->after_id = c->last_id = req->since;
		return 0;
	}
	return hub_reset(c, req, req->since + 1);
}

/* --- resumes: the replay thread ------------------------------------------ */

/*
 * A resume is replayed step by step by one thread of its own, off the HTTP
 * and hub threads: each step reads from the device what the client may
 * take now (half of --max-queue), and the next step comes when it has
 * drained to a quarter.  A replaying client gets no live messages (it
 * reads them from the device), so it is never cut as slow for traffic it
 * was not yet allowed to receive; once a step reaches the end of the
 * device's history and the hub has not fanned out past it, the client
 * goes live.  Memory per resume: what is in flight to that client.
 */
struct replay {
	struct client *c;
	struct sub_request req;
	struct history_step st;
	struct replay *next;	/* replay.todo */
	bool queued;		/* on replay.todo */
};

static struct {
	pthread_t thread;
	pthread_cond_t wake;	/* work for the thread, or stop */
	pthread_cond_t idle;	/* replay.busy changed */
	struct replay *todo, **todo_tail;
	struct client *busy;	/* the client a step is being read for (no lock held) */
	bool running, stopping;
} replay = { .wake = PTHREAD_COND_INITIALIZER, .idle = PTHREAD_COND_INITIALIZER,
	     .todo_tail = &replay.todo };

static size_t replay_high(void)
{
	return pushd_cfg.max_queue / 2;
}

/* Puts @c's next step on the thread's list (lock held). */
static void replay_kick(struct client *c)
{
	struct replay *rp = c->rp;

	if (!rp || rp->queued || (c->flags & CF_CLOSING))
		return;
	rp->queued = true;
	rp->next = NULL;
	*replay.todo_tail = rp;
	replay.todo_tail = &rp->next;
	pthread_cond_signal(&replay.wake);
}

void hub_replay_drained(struct client *c)
{
	if (c->rp && c->qbytes <= pushd_cfg.max_queue / 4)
		replay_kick(c);
}

/* Takes @rp off the thread's list, frees it and ends @c's replay (lock held). */
static void replay_end(struct client *c, struct replay *rp)
{
	if (rp->queued) {
		struct replay **pp = &replay.todo, *prev = NULL;

		while (*pp && *pp != rp) {
			prev = *pp;
			pp = &(*pp)->next;
		}
		if (*pp) {
			*pp = rp->next;
			if (!rp->next)
				replay.todo_tail = prev ? &prev->next : &replay.todo;
		}
	}
	free(rp);
	c->rp = NULL;
	c->flags &= (uint8_t)~CF_REPLAY;
}

/* Takes @c off the replay (lock held); waits for a step under way to end. */
static void replay_forget(struct client *c)
{
	while (c->rp && replay.busy == c)
		pthread_cond_wait(&replay.idle, &hub.lock);
	/* the step that landed meanwhile may have ended the replay */
	if (c->rp)
		replay_end(c, c->rp);
}

/* A step's items reach the client (lock held); it goes live once caught up. */
static void replay_land(struct client *c, struct history *h, int err, uint64_t dev_last)
{
	struct replay *rp = c->rp;

	for (uint32_t i = 0; !err && i < h->n; i++) {
		struct item *it = h->items[i];

		if (it->type == ITEM_MSG && it->id <= c->last_id)
			continue;
		if (client_push(c, it))
			err = -ENOMEM;
		else if (item_last_id(it) > c->last_id)
			c->last_id = item_last_id(it);
	}
	history_free(h);
	if (err) {
		/* the rest cannot be read: say so, and go live */
		struct item *gap = item_gap(rp->st.pos, hub.last_id + 1, 0);

		if (gap) {
			client_push(c, gap);
			item_put(gap);
		}
		rp->st.done = true;
		dev_last = hub.last_id;
		c->last_id = c->last_id > hub.last_id ? c->last_id : hub.last_id;
	}
	if (rp->st.done && dev_last >= hub.last_id) {
		/* the fan-out queues ids above hub.last_id; those up to dev_last are deduped */
		if (c->last_id < hub.last_id)
			c->last_id = hub.last_id;
		c->after_id = c->last_id;
		replay_end(c, rp);	/* it may have been queued again while the step was read */
	} else if (rp->st.done || c->qbytes <= pushd_cfg.max_queue / 4) {
		replay_kick(c);	/* the hub moved on meanwhile, or room for more */
	}
	if (c->qlen || !c->rp)
		hub_mark_dirty(c);
}

static void *replay_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&hub.lock);
	for (;;) {
		while (!replay.todo && !replay.stopping)
			pthread_cond_wait(&replay.wake, &hub.lock);
		if (replay.stopping)
			break;
		struct replay *rp = replay.todo;
		struct client *c = NULL;

		replay.todo = rp->next;
		if (!replay.todo)
			replay.todo_tail = &replay.todo;
		rp->queued = false;
		c = rp->c;
		struct sub_request req = rp->req;
		struct history_step st = rp->st;
		struct push_info info = { 0 };
		struct history h;
		int err;

		st.budget = replay_high() > c->qbytes ? replay_high() - c->qbytes : 1;
		st.len = c->t->item_len;
		replay.busy = c;
		pthread_mutex_unlock(&hub.lock);

		/* where the device ends before the read: reaching it means caught up to there */
		ioctl(hub.histfd, PUSH_IOC_INFO, &info);
		err = history_step(hub.histfd, &req, &st, &h);
		stat_add(&pushd_stats.history_reads, 1);

		hub_lock();
		replay.busy = NULL;
		pthread_cond_broadcast(&replay.idle);
		if (c->rp == rp && !(c->flags & CF_CLOSING)) {
			rp->st.pos = st.pos;
			rp->st.done = st.done;
			replay_land(c, &h, err, info.next_id ? info.next_id - 1 : 0);
		} else {
			history_free(&h);
		}
		/* delivers what landed; the lock is taken again at the top */
		hub_unlock();
		pthread_mutex_lock(&hub.lock);
	}
	pthread_mutex_unlock(&hub.lock);
	return NULL;
}

static struct replay *replay_new(struct client *c, const struct sub_request *req, uint64_t pos)
{
	struct replay *rp = calloc(1, sizeof(*rp));

	if (rp) {
		rp->c = c;
		rp->req = *req;
		rp->st.pos = pos;
	}
	return rp;
}

/* A reset gap, then every retained message of this load (lock held). */
static int hub_reset(struct client *c, const struct sub_request *req, uint64_t first)
{
	struct push_info info = { 0 };
	struct item *gap;

	ioctl(hub.histfd, PUSH_IOC_INFO, &info);
	gap = item_reset(first, info.oldest_id ? info.oldest_id : 1, hub.epoch);
	c->rp = replay_new(c, req, 0);
	if (!gap || !c->rp || client_push(c, gap)) {
		if (gap)
			item_put(gap);
		free(c->rp);
		c->rp = NULL;
		return -ENOMEM;
	}
	/* everything of this load is new to it */
	c->after_id = c->last_id = item_last_id(gap);
	item_put(gap);
	stat_add(&pushd_stats.resets, 1);
	c->flags |= CF_REPLAY;
	replay_kick(c);
	hub_mark_dirty(c);
	return 0;
}

int hub_subscribe(struct client *c, const struct sub_request *req)
{
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
	if (req->since_mode == SINCE_ID && req->epoch && req->epoch != hub.epoch) {
		/* an id of another module load: explicit reset, never a silent skip */
		err = hub_reset(c, req, req->since + 1);
		if (err)
			hub_unsubscribe(c);
		hub_unlock();
		return err;
	}
	if (req->since_mode == SINCE_NONE || (req->since_mode == SINCE_ID && req->since == live)) {
		hub_unlock();
		return 0;
	}
	if (req->since_mode == SINCE_ID && req->since > live) {
		/* beyond the hub: an id of another module load (or a client's guess) */
		err = hub_since_beyond(c, req);
		if (err)
			hub_unsubscribe(c);
		hub_unlock();
		return err;
	}
	/* recent enough, and small: the hub's own record has it, no device read */
	if (recent_history(&hub.recent, req, &h) > 0) {
		size_t bytes = 0;

		for (uint32_t i = 0; i < h.n; i++)
			bytes += c->t->item_len(h.items[i]);
		if (bytes <= replay_high()) {
			replay_land_recent(c, &h);
			hub_unlock();
			return 0;
		}
	}
	history_free(&h);
	c->rp = replay_new(c, req, req->since_mode == SINCE_OLDEST ? 0 : req->since + 1);
	if (!c->rp) {
		hub_unsubscribe(c);
		hub_unlock();
		return -ENOMEM;
	}
	/* replayed ids count from the resume point; live ones wait until it catches up */
	c->after_id = c->last_id = req->since_mode == SINCE_OLDEST ? 0 : req->since;
	c->flags |= CF_REPLAY;
	replay_kick(c);
	hub_unlock();
	return 0;
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

void hub_fanout(struct item **items, size_t n, bool lost)
{
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

void hub_on_tick(unsigned int (*fn)(uint64_t now))
{
	hub_tick_hook = fn;
}

void hub_tick(uint64_t now)
{
	uint64_t qmax = 0;

	hub_lock();
	for (struct client *c = hub.all; c; c = c->next_all) {
		c->t->heartbeat(c, now);
		if (c->qbytes > qmax)
			qmax = c->qbytes;
	}
	atomic_store_explicit(&hub_pub.q_max, qmax, memory_order_relaxed);
	hub_unlock();
	if (hub_tick_hook)
		hub_tick_hook(now);
}

/* --- start and stop -------------------------------------------------------- */

int hub_init(int devfd, int histfd)
{
	struct push_info info = { 0 };
	off_t pos;

	hub.histfd = histfd;
	if (ioctl(devfd, PUSH_IOC_INFO, &info) == 0 && info.max_msg_size)
		pushd_cfg.max_msg_size = info.max_msg_size;
	hub.epoch = info.epoch;
	/* only new messages: history is read per client from its own cursor */
	pos = lseek(devfd, 0, SEEK_END);
	if (pos > 0)
		hub.last_id = (uint64_t)pos - 1;
	atomic_store_explicit(&hub_pub.last_id, hub.last_id, memory_order_relaxed);
	recent_reset(&hub.recent, hub.last_id);
	int err = hub_thread_init(devfd);
	if (err)
		return err;
	err = pthread_create(&replay.thread, NULL, replay_thread, NULL);
	if (err)
		return -err;
	replay.running = true;
	return 0;
}

uint64_t hub_epoch(void)
{
	return hub.epoch;
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
	if (replay.running) {
		pthread_mutex_lock(&hub.lock);
		replay.stopping = true;
		pthread_cond_signal(&replay.wake);
		pthread_mutex_unlock(&hub.lock);
		pthread_join(replay.thread, NULL);
		replay.running = false;
	}
	hub_thread_stop();
	recent_reset(&hub.recent, 0);
	chan_table_free(&hub.chans);
	history_cache_clear();
}
