/* SPDX-License-Identifier: GPL-2.0 */
/*
 * push_dev.h - state shared by the files of the /dev/push module.
 *
 * The history is an array of slots indexed by (id & slot_mask); each slot
 * points to one kmalloc'd message.  Ids in [oldest_id, next_id) are the
 * retained messages.  A slot keeps the channel of its id after the message
 * is evicted, until the id is reused, so the loss of a filtered reader can
 * be counted exactly for ids in the last nslots.
 */
#ifndef _PUSH_DEV_H
#define _PUSH_DEV_H

#include <linux/bits.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/wait.h>

#include <linux/push.h>

/* Smallest record: header, one channel byte, one data byte, padded. */
#define PUSH_MIN_RECORD	ALIGN(sizeof(struct push_record) + 2, PUSH_RECORD_ALIGN)
/* Bytes of a gap record: header and struct push_gap. */
#define PUSH_GAP_RECORD	(sizeof(struct push_record) + sizeof(struct push_gap))
/* Upper bound of the slot array, whatever ring_size says. */
#define PUSH_MAX_SLOTS	BIT(22)

/**
 * struct push_chan - one channel, created by its first message, freed at
 * module unload.  Every field but the name is protected by push_dev.lock.
 * @hnode:     entry in push_dev.chans.
 * @lnode:     entry in push_dev.chan_list (creation order, for debugfs).
 * @published: messages ever published on it.
 * @retained:  its messages still in the history.
 * @evicted:   its messages evicted from the history (published - retained).
 * @bytes:     payload bytes ever published on it.
 * @last_id:   id of its newest message.
 * @len:       bytes of @name.
 * @name:      the name, NUL-terminated for printing.
 */
struct push_chan {
	struct hlist_node hnode;
	struct list_head lnode;
	u64 published;
	u64 retained;
	u64 evicted;
	u64 bytes;
	u64 last_id;
	u32 len;
	char name[PUSH_CHANNEL_MAX + 1];
};

/**
 * struct push_msg - one message in the history
 * @id:        its id.
 * @time_ns:   CLOCK_REALTIME at commit.
 * @commit_ns: ktime_get_ns() at commit, for the age in push_record_read.
 * @chan:      its channel.
 * @data_len:  payload bytes.
 * @size:      bytes of its record as read() returns it (push_record.size),
 *             also what it costs against ring_size.
 * @data:      the payload.
 */
struct push_msg {
	u64 id;
	u64 time_ns;
	u64 commit_ns;
	struct push_chan *chan;
	u32 data_len;
	u32 size;
	u8 data[];
};

/**
 * struct push_slot - one entry of the history array
 * @msg:  the message of this slot's id, NULL once evicted.
 * @chan: its channel; stays after eviction until the slot is reused.
 */
struct push_slot {
	struct push_msg *msg;
	struct push_chan *chan;
};

/**
 * struct push_dev - the device, a single global instance
 * @lock:         protects everything below it up to @wait.  Publishers
 *                take it for write; readers for read, and copy records to
 *                user space under it (never under a spinlock).
 * @slots:        the history, @slot_mask + 1 entries.
 * @slot_mask:    number of slots minus one (a power of two minus one).
 * @oldest_id:    id of the oldest retained message (== @next_id if none).
 * @next_id:      id the next message gets.  Read locklessly by waiters.
 * @ring_used:    bytes of retained records.
 * @chans:        channels by name hash.
 * @chan_list:    channels in creation order.
 * @nchans:       number of channels.
 * @wait:         readers and pollers waiting for @next_id to move.
 * @ring_size:    module parameter ring_size, fixed at load.
 * @max_msg_size: module parameter max_msg_size.
 * @max_channels: module parameter max_channels.
 * @messages:     counters, atomic so sysfs reads them without the lock:
 *                messages and payload @bytes published, open @readers,
 *                gap records delivered (@overruns), messages those gaps
 *                reported @lost, @rejected publishes.
 */
struct push_dev {
	struct rw_semaphore lock;
	struct push_slot *slots;
	u64 slot_mask;
	u64 oldest_id;
	u64 next_id;
	u64 ring_used;
	struct hlist_head chans[256];
	struct list_head chan_list;
	u32 nchans;

	wait_queue_head_t wait;
	u64 ring_size;
	u32 max_msg_size;
	u32 max_channels;
	atomic64_t messages;
	atomic64_t bytes;
	atomic64_t readers;
	atomic64_t overruns;
	atomic64_t lost;
	atomic64_t rejected;
};

extern struct push_dev push_dev;

/* push_ring.c */
bool push_chan_name_valid(const char *name, size_t len);
struct push_chan *push_chan_find(const char *name, size_t len);
struct push_msg *push_msg_alloc(size_t data_len);
void push_msg_free(struct push_msg *msg);
int push_publish(struct push_msg *msg, const char *chan, size_t chan_len,
		 u64 write_ns, bool nowait);
u64 push_count_chans(u64 lo, u64 hi, struct push_chan *const *chans,
		     unsigned int nchans);
int push_ring_init(u64 ring_size, u32 max_msg_size, u32 max_channels);
void push_ring_exit(void);

/* push_stats.c */
extern const struct attribute_group *push_groups[];
void push_debugfs_init(void);
void push_debugfs_exit(void);

#endif /* _PUSH_DEV_H */
