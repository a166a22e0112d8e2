// SPDX-License-Identifier: GPL-2.0
/*
 * replay.c - resumes: a subscriber with since/Last-Event-ID is replayed
 * from the device's history (history.c) by a thread of its own, a step at
 * a time, then goes live (docs/PUSHD.md, "Resume without holes or
 * duplicates").  Everything here runs under the hub lock but the device
 * reads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "core/config.h"
#include "core/counters.h"
#include "core/history.h"
#include "core/hub.h"
#include "core/recent.h"
#include "core/replay.h"

static int hub_reset(struct client *c, const struct sub_request *req, uint64_t first);

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
 * next id it is only ahead of the hub (just published): resume there; in
 * cluster mode any id is (one the node has not applied yet).
 * Further is an id from another module load: the client gets an explicit
 * reset (a gap from its id to the device's oldest, then the whole
 * retained history), never a silent skip.  Lock held.
 */
static int hub_since_beyond(struct client *c, const struct sub_request *req)
{
	struct push_info info = { 0 };
	struct push_ingress_info ii = { 0 };

	if (ioctl(hub_histfd(), PUSH_IOC_INFO, &info) == 0 && req->since < info.next_id) {
		c->after_id = c->last_id = req->since;
		return 0;
	}
	/*
	 * In cluster mode ids are the stream's (docs/CLUSTER.md): an id past
	 * this node's was given on another node and is not applied here yet,
	 * e.g. a client moving from a node that is ahead.  It waits for the
	 * ids above it.  (An id of another stream comes as EPOCH-ID and was
	 * reset above.)
	 */
	if (ioctl(hub_histfd(), PUSH_IOC_INGRESS_INFO, &ii) == 0 && ii.cluster) {
		c->after_id = c->last_id = req->since;
		return 0;
	}
	return hub_reset(c, req, req->since + 1);
}

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
void replay_forget(struct client *c)
{
	while (c->rp && replay.busy == c)
		pthread_cond_wait(&replay.idle, hub_mutex());
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
		struct item *gap = item_gap(rp->st.pos, hub_last_locked() + 1, 0);

		if (gap) {
			client_push(c, gap);
			item_put(gap);
		}
		rp->st.done = true;
		dev_last = hub_last_locked();
		c->last_id = c->last_id > hub_last_locked() ? c->last_id : hub_last_locked();
	}
	if (rp->st.done && dev_last < hub_last_locked()) {
		/*
		 * The hub fanned out past where the step's read began while it
		 * was read: what it fanned out meanwhile is in its recent record
		 * (unless a loss reset it), so take ours from there and catch up
		 * now; under steady traffic another step would never end level.
		 */
		struct sub_request r = rp->req;
		struct history rh;

		r.since_mode = SINCE_ID;
		r.since = dev_last;
		if (recent_history(hub_recent(), &r, &rh) > 0) {
			bool ok = true;

			for (uint32_t i = 0; ok && i < rh.n; i++) {
				struct item *it = rh.items[i];

				if (it->id <= c->last_id)
					continue;
				ok = !client_push(c, it);
				if (ok)
					c->last_id = it->id;
			}
			history_free(&rh);
			if (ok)
				dev_last = hub_last_locked();	/* else another step reads the rest */
		}
	}
	if (rp->st.done && dev_last >= hub_last_locked()) {
		/* the fan-out queues ids above hub_last_locked(); those up to dev_last are deduped */
		if (c->last_id < hub_last_locked())
			c->last_id = hub_last_locked();
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
	pthread_mutex_lock(hub_mutex());
	for (;;) {
		while (!replay.todo && !replay.stopping)
			pthread_cond_wait(&replay.wake, hub_mutex());
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
		pthread_mutex_unlock(hub_mutex());

		/* where the device ends before the read: reaching it means caught up to there */
		ioctl(hub_histfd(), PUSH_IOC_INFO, &info);
		err = history_step(hub_histfd(), &req, &st, &h);
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
		pthread_mutex_lock(hub_mutex());
	}
	pthread_mutex_unlock(hub_mutex());
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

	ioctl(hub_histfd(), PUSH_IOC_INFO, &info);
	gap = item_reset(first, info.oldest_id ? info.oldest_id : 1, hub_epoch());
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
		pthread_mutex_unlock(hub_mutex());
		return err;
	}
	live = hub_last_locked();
	c->after_id = live;
	c->last_id = live;
	if (req->since_mode == SINCE_ID && req->epoch && req->epoch != hub_epoch()) {
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
	if (recent_history(hub_recent(), req, &h) > 0) {
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

int replay_start(void)
{
	int err = pthread_create(&replay.thread, NULL, replay_thread, NULL);

	if (err)
		return -err;
	replay.running = true;
	return 0;
}

void replay_stop(void)
{
	if (!replay.running)
		return;
	pthread_mutex_lock(hub_mutex());
	replay.stopping = true;
	pthread_cond_signal(&replay.wake);
	pthread_mutex_unlock(hub_mutex());
	pthread_join(replay.thread, NULL);
	replay.running = false;
}
