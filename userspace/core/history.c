// SPDX-License-Identifier: GPL-2.0
/*
 * history.c - replay from the kernel, one step at a time.  The device
 * keeps every reader's cursor and channel filter, so a step is: set the
 * filter to the client's channels, lseek() to the position (0 = oldest
 * retained), read what the client may take now.  If the position was
 * already overwritten, the first record is a gap that says exactly how
 * many of this filter's messages were lost.
 *
 * Encoded messages are shared through a direct-mapped cache keyed by id
 * (bounded by --replay-cache bytes): many clients resuming over the same
 * history, the usual case after a restart or with ?since=oldest, hold
 * references to one item each instead of one copy per client.
 *
 * One reader fd serves every step in turn (the replay thread, hub.c); it
 * is opened at start, before pushd drops root.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/config.h"
#include "core/history.h"
#include "protocol/record.h"

#define HISTORY_BUF	(256 * 1024)
#define CACHE_SLOTS	65536		/* power of 2 */

static pthread_mutex_t history_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *history_buf;
static size_t history_len;
static struct item **cache;
static size_t cache_bytes;

static int history_add(struct history *h, uint32_t *cap, struct item *it)
{
	if (h->n == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 64;
		struct item **more = realloc(h->items, sizeof(*more) * ncap);

		if (!more)
			return -ENOMEM;
		h->items = more;
		*cap = ncap;
	}
	h->items[h->n++] = it;
	return 0;
}

/* The shared item for message @m (a new reference), or NULL on ENOMEM. */
static struct item *history_item(const struct push_msg *m)
{
	struct item **slot, *it;

	if (m->type != PUSH_REC_MSG || !cache)
		return item_from_msg(m);	/* gaps are per filter: never shared */
	slot = &cache[m->id & (CACHE_SLOTS - 1)];
	if (*slot && (*slot)->id == m->id)
		return item_get(*slot);
	it = item_from_msg(m);
	if (!it)
		return NULL;
	if (*slot) {
		cache_bytes -= item_size(*slot);
		item_put(*slot);
		*slot = NULL;
	}
	if (cache_bytes + item_size(it) <= pushd_cfg.replay_cache) {
		*slot = item_get(it);
		cache_bytes += item_size(it);
	}
	return it;
}

static int history_fill(int fd, const struct sub_request *req, struct history_step *st,
			struct history *h)
{
	char names[PUSH_FILTER_MAX * (PUSH_CHANNEL_MAX + 1)];
	struct push_filter f = { .names = (uintptr_t)names };
	uint32_t cap = 0;
	size_t taken = 0;
	size_t want = st->budget + (size_t)pushd_cfg.max_msg_size + 256;

	if (want > history_len)
		want = history_len;
	st->done = false;
	f.len = (uint32_t)chan_list_join(req->chans, req->nchans, names, sizeof(names));
	if (ioctl(fd, PUSH_IOC_SET_FILTER, &f) < 0)
		return -errno;
	if (lseek(fd, (off_t)st->pos, SEEK_SET) < 0) {
		st->done = true;
		return errno == EINVAL ? 0 : -errno;	/* beyond the device: nothing to replay */
	}

	for (;;) {
		ssize_t got = read(fd, history_buf, want);
		struct push_msg m;
		size_t off = 0;

		/* O_NONBLOCK: EAGAIN means nothing is left (docs/ABI.txt) */
		if (got <= 0) {
			st->done = true;
			return got < 0 && errno != EAGAIN ? -errno : 0;
		}
		while (push_record_next(history_buf, (size_t)got, &off, &m) > 0) {
			struct item *it;

			if (m.type != PUSH_REC_MSG && m.type != PUSH_REC_GAP)
				continue;
			if (taken >= st->budget && h->n) {
				st->pos = m.id;	/* the next step starts here (a gap again, if lost) */
				return 0;
			}
			it = history_item(&m);
			if (!it || history_add(h, &cap, it)) {
				if (it)
					item_put(it);
				return -ENOMEM;
			}
			taken += st->len(it);
			st->pos = m.type == PUSH_REC_GAP ? m.gap_next_id : m.id + 1;
		}
	}
}

int history_step(int fd, const struct sub_request *req, struct history_step *st, struct history *h)
{
	int err;

	h->items = NULL;
	h->n = 0;
	pthread_mutex_lock(&history_lock);
	if (!history_buf) {
		history_len = HISTORY_BUF;
		if (history_len < (size_t)pushd_cfg.max_msg_size + 256)
			history_len = (size_t)pushd_cfg.max_msg_size + 256;
		history_buf = malloc(history_len);
	}
	if (!cache && pushd_cfg.replay_cache)
		cache = calloc(CACHE_SLOTS, sizeof(*cache));	/* without it, no sharing */
	err = history_buf ? history_fill(fd, req, st, h) : -ENOMEM;
	pthread_mutex_unlock(&history_lock);
	return err;
}

size_t history_cache_bytes(void)
{
	size_t n;

	pthread_mutex_lock(&history_lock);
	n = cache_bytes;
	pthread_mutex_unlock(&history_lock);
	return n;
}

void history_cache_clear(void)
{
	pthread_mutex_lock(&history_lock);
	for (size_t i = 0; cache && i < CACHE_SLOTS; i++)
		if (cache[i])
			item_put(cache[i]);
	free(cache);
	cache = NULL;
	cache_bytes = 0;
	free(history_buf);
	history_buf = NULL;
	pthread_mutex_unlock(&history_lock);
}

void history_free(struct history *h)
{
	for (uint32_t i = 0; i < h->n; i++)
		item_put(h->items[i]);
	free(h->items);
	h->items = NULL;
	h->n = 0;
}
