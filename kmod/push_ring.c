// SPDX-License-Identifier: GPL-2.0
/*
 * push_ring.c - the history of /dev/push: channels, publishing, eviction.
 *
 * A publisher allocates and fills a struct push_msg without any lock, then
 * push_publish() takes push_dev.lock for write, evicts the oldest messages
 * until the new one fits in ring_size bytes and in the slot array, and
 * gives it the next id.  Readers (push_main.c) walk the slots under the
 * lock taken for read.
 */

#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/stringhash.h>
#include <linux/timekeeping.h>

#include "push_dev.h"
#include "push_trace.h"

struct push_dev push_dev = {
	.lock = __RWSEM_INITIALIZER(push_dev.lock),
	.chan_list = LIST_HEAD_INIT(push_dev.chan_list),
	.wait = __WAIT_QUEUE_HEAD_INITIALIZER(push_dev.wait),
	.oldest_id = 1,
	.next_id = 1,
};

static bool push_chan_char_valid(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' ||
	       c == '-';
}

/* Returns true if @name is 1..PUSH_CHANNEL_MAX characters of [A-Za-z0-9_.:-]. */
bool push_chan_name_valid(const char *name, size_t len)
{
	size_t i;

	if (len < 1 || len > PUSH_CHANNEL_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!push_chan_char_valid(name[i]))
			return false;
	return true;
}

static struct hlist_head *push_chan_bucket(const char *name, size_t len)
{
	u32 h = full_name_hash(NULL, name, len);

	return &push_dev.chans[hash_32(h, ilog2(ARRAY_SIZE(push_dev.chans)))];
}

/* Returns the channel called @name, or NULL.  Caller holds push_dev.lock. */
struct push_chan *push_chan_find(const char *name, size_t len)
{
	struct push_chan *chan;

	lockdep_assert_held(&push_dev.lock);
	hlist_for_each_entry(chan, push_chan_bucket(name, len), hnode)
		if (chan->len == len && !memcmp(chan->name, name, len))
			return chan;
	return NULL;
}

/* Returns the channel @name, created if needed, or an ERR_PTR. */
static struct push_chan *push_chan_get(const char *name, size_t len)
{
	struct push_chan *chan;

	lockdep_assert_held_write(&push_dev.lock);
	chan = push_chan_find(name, len);
	if (chan)
		return chan;
	if (push_dev.nchans >= push_dev.max_channels)
		return ERR_PTR(-ENOSPC);
	chan = kzalloc(sizeof(*chan), GFP_KERNEL);
	if (!chan)
		return ERR_PTR(-ENOMEM);
	memcpy(chan->name, name, len);
	chan->len = len;
	hlist_add_head(&chan->hnode, push_chan_bucket(name, len));
	list_add_tail(&chan->lnode, &push_dev.chan_list);
	push_dev.nchans++;
	return chan;
}

/* Returns a message with room for @data_len payload bytes, or NULL. */
struct push_msg *push_msg_alloc(size_t data_len)
{
	struct push_msg *msg;

	return kvmalloc(struct_size(msg, data, data_len), GFP_KERNEL);
}

void push_msg_free(struct push_msg *msg)
{
	kvfree(msg);
}

/* Drops the oldest retained message.  Caller holds push_dev.lock for write. */
static void push_evict_oldest(void)
{
	struct push_slot *slot;
	struct push_msg *msg;

	lockdep_assert_held_write(&push_dev.lock);
	slot = &push_dev.slots[push_dev.oldest_id & push_dev.slot_mask];
	msg = slot->msg;
	slot->msg = NULL;
	push_dev.oldest_id++;
	if (WARN_ON_ONCE(!msg))
		return;
	msg->chan->retained--;
	msg->chan->evicted++;
	push_dev.ring_used -= msg->size;
	push_msg_free(msg);
}

/**
 * push_publish - commit one message to the history
 * @msg:      filled by the caller: data and data_len.  On success the
 *            history owns it and its id, time_ns and size are set; on
 *            error the caller still owns it.
 * @name:     channel name, already validated.
 * @len:      its length.
 * @write_ns: ktime_get_ns() when the write began, for the tracepoint.
 * @nowait:   fail with -EAGAIN instead of sleeping on the lock.
 *
 * Returns 0, -EAGAIN, -ENOSPC (too many channels) or -ENOMEM.  No id is
 * consumed on error.
 */
int push_publish(struct push_msg *msg, const char *name, size_t len,
		 u64 write_ns, bool nowait)
{
	struct push_slot *slot;
	struct push_chan *chan;

	msg->size = ALIGN(sizeof(struct push_record) + len + msg->data_len,
			  PUSH_RECORD_ALIGN);
	if (nowait) {
		if (!down_write_trylock(&push_dev.lock))
			return -EAGAIN;
	} else {
		down_write(&push_dev.lock);
	}
	chan = push_chan_get(name, len);
	if (IS_ERR(chan)) {
		up_write(&push_dev.lock);
		return PTR_ERR(chan);
	}
	while (push_dev.oldest_id < push_dev.next_id &&
	       (push_dev.ring_used + msg->size > push_dev.ring_size ||
		push_dev.next_id - push_dev.oldest_id > push_dev.slot_mask))
		push_evict_oldest();

	msg->id = push_dev.next_id;
	msg->chan = chan;
	msg->time_ns = ktime_get_real_ns();
	msg->commit_ns = ktime_get_ns();
	slot = &push_dev.slots[msg->id & push_dev.slot_mask];
	slot->msg = msg;
	slot->chan = chan;
	push_dev.ring_used += msg->size;
	chan->published++;
	chan->retained++;
	chan->bytes += msg->data_len;
	chan->last_id = msg->id;
	/* Lockless waiters (push_main.c) read next_id. */
	WRITE_ONCE(push_dev.next_id, msg->id + 1);
	atomic64_inc(&push_dev.messages);
	atomic64_add(msg->data_len, &push_dev.bytes);
	trace_push_publish(msg->id, msg->data_len, write_ns, msg->commit_ns,
			   chan->name);
	up_write(&push_dev.lock);

	wake_up_interruptible_all(&push_dev.wait);
	return 0;
}

/**
 * push_count_chans - count messages of some channels in a range of ids
 * @lo:     first id.
 * @hi:     id after the last.
 * @chans:  the channels.
 * @nchans: entries in @chans.
 *
 * Ids older than the slot array (next_id - nslots) are unknown and not
 * counted.  Caller holds push_dev.lock.  Returns the count.
 */
u64 push_count_chans(u64 lo, u64 hi, struct push_chan *const *chans,
		     unsigned int nchans)
{
	u64 nslots = push_dev.slot_mask + 1;
	u64 id, n = 0;
	unsigned int i;

	lockdep_assert_held(&push_dev.lock);
	if (push_dev.next_id > nslots && lo < push_dev.next_id - nslots)
		lo = push_dev.next_id - nslots;
	for (id = lo; id < hi; id++) {
		struct push_chan *chan = push_dev.slots[id & push_dev.slot_mask].chan;

		for (i = 0; i < nchans; i++) {
			if (chans[i] == chan) {
				n++;
				break;
			}
		}
		if (!((id - lo) & 4095))
			cond_resched();
	}
	return n;
}

/**
 * push_ring_init - allocate the history
 * @ring_size:    bytes of records to keep.
 * @max_msg_size: largest payload; its record must fit in @ring_size.
 * @max_channels: most channels.
 *
 * Returns 0 or -ENOMEM.  The caller validated the parameters.
 */
int push_ring_init(u64 ring_size, u32 max_msg_size, u32 max_channels)
{
	u64 nslots = roundup_pow_of_two(div_u64(ring_size, PUSH_MIN_RECORD));
	unsigned int i;

	nslots = min_t(u64, nslots, PUSH_MAX_SLOTS);
	push_dev.slots = kvcalloc(nslots, sizeof(*push_dev.slots), GFP_KERNEL);
	if (!push_dev.slots)
		return -ENOMEM;
	push_dev.slot_mask = nslots - 1;
	push_dev.ring_size = ring_size;
	push_dev.max_msg_size = max_msg_size;
	push_dev.max_channels = max_channels;
	for (i = 0; i < ARRAY_SIZE(push_dev.chans); i++)
		INIT_HLIST_HEAD(&push_dev.chans[i]);
	return 0;
}

/* Frees every message and channel.  No file is open any more. */
void push_ring_exit(void)
{
	struct push_chan *chan, *tmp;

	down_write(&push_dev.lock);
	while (push_dev.oldest_id < push_dev.next_id)
		push_evict_oldest();
	list_for_each_entry_safe(chan, tmp, &push_dev.chan_list, lnode) {
		list_del(&chan->lnode);
		kfree(chan);
	}
	up_write(&push_dev.lock);
	kvfree(push_dev.slots);
}
