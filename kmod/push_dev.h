/* SPDX-License-Identifier: GPL-2.0 */
/*
 * push_dev.h - state shared by the files of the /dev/push module.
 *
 * One struct push_dev per device (/dev/push, /dev/push1, ...: module
 * parameter devices).  The design, and the role of every lock and barrier,
 * is described at the top of push_ring.c; docs/ABI.txt is the contract.
 */
#ifndef _PUSH_DEV_H
#define _PUSH_DEV_H

#include <linux/bits.h>
#include <linux/llist.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/refcount.h>
#include <linux/rhashtable-types.h>
#include <linux/seqlock.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <linux/push.h>

/* Smallest record: header, one channel byte, one data byte, padded. */
#define PUSH_MIN_RECORD	ALIGN(sizeof(struct push_record) + 2, PUSH_RECORD_ALIGN)
/* Bytes of a gap record: header and struct push_gap. */
#define PUSH_GAP_RECORD	(sizeof(struct push_record) + sizeof(struct push_gap))
/* Upper bound of the descriptor array, whatever ring_size says. */
#define PUSH_MAX_DESCS	BIT(22)
/* Ids stay below this (lseek() takes an id as a loff_t). */
#define PUSH_ID_MAX	((u64)S64_MAX)
/* Most devices (module parameter devices). */
#define PUSH_MAX_DEVICES	16

/* Key of the channel table: the name's length and bytes (NUL after them). */
struct push_chan_key {
	u32 len;
	char name[PUSH_CHANNEL_MAX + 4];	/* NUL-terminated, padded */
};

/**
 * struct push_chan - one channel
 * @node:      entry in push_dev.chans (RCU lookups; changed under chan_lock).
 * @lnode:     entry in push_dev.chan_list, under chan_lock (debugfs order).
 * @dead_node: entry in push_dev.dead, waiting for push_chan_reap().
 * @rcu:       frees it after a grace period: poll() and lookups read it
 *             under rcu_read_lock() without a reference.
 * @refs:      one while @indexed, one per open file whose filter names
 *             it, one per publisher between its lookup and its commit.
 *             At zero the channel is dead: no lookup revives it, and it
 *             leaves the table and the list in push_chan_reap().
 * @indexed:   under push_dev.wlock: one of its messages is among the last
 *             ndescs ids (the index), so index entries refer to it.  Its
 *             retained messages are a subset of those.
 * @unlinked:  under chan_lock: already removed from the table.
 * @serial:    unique per device and load; descriptors keep its low 32 bits
 *             so that a freed channel's address, reused, is not mistaken
 *             for it.
 * @published: messages published on it since it came into being.
 * @retained:  its messages in the history.
 * @evicted:   its messages evicted (published - retained).
 * @bytes:     payload bytes published on it.
 * @last_id:   id of its newest message (0 if none).
 * @key:       its name.
 *
 * @published .. @last_id change only under push_dev.wlock, inside
 * push_dev.seq write sections; lockless readers use READ_ONCE() and, where
 * they need them consistent with the ring's ids, push_dev.seq.
 */
struct push_chan {
	struct rhash_head node;
	struct list_head lnode;
	struct llist_node dead_node;
	struct rcu_head rcu;
	refcount_t refs;
	bool indexed;
	bool unlinked;
	u64 serial;
	u64 published;
	u64 retained;
	u64 evicted;
	u64 bytes;
	u64 last_id;
	struct push_chan_key key;
};

/**
 * struct push_desc - the index entry of one id: descs[id & desc_mask]
 * @chan:   its channel, alive while the entry is (push_chan.indexed);
 *          readers only compare it (with @serial), the writer uses it.
 * @off:    byte offset of its record in the data ring.
 * @serial: low 32 bits of @chan->serial.
 *
 * Written before the id is committed; overwritten when id + ndescs is
 * published, which comes after push_dev.desc_low has passed the id.
 */
struct push_desc {
	struct push_chan *chan;
	u32 off;
	u32 serial;
};

struct push_ingress_msg;

/**
 * struct push_ingress - cluster mode's queue of local publishes
 * @lock:       guards everything below but @rlock and @misc.
 * @rlock:      serialises the opener's read() and ACK (push_ingress.c).
 * @queue:      struct push_ingress_msg, oldest (lowest seq) first.
 * @unread:     the opener's next entry to read, NULL if none.
 * @bytes:      record bytes queued; at most @max_bytes.
 * @max_bytes:  module parameter ingress_size.
 * @queued:     entries queued (read or not, not acknowledged).
 * @next_seq:   local sequence number of the next entry (from 1).
 * @acked:      highest seq acknowledged.
 * @epoch:      random, nonzero, this load's: Nats-Msg-Id's node part.
 * @cluster:    publishes go to the queue.
 * @opened:     the ingress node is open (one opener at most).
 * @wait_data:  the opener, waiting for an entry.
 * @wait_space: writers, waiting for room.
 * @misc:       /dev/<name>-ingress.
 */
struct push_ingress {
	spinlock_t lock;	/* see above */
	struct mutex rlock;	/* see above */
	struct list_head queue;
	struct push_ingress_msg *unread;
	u64 bytes;
	u64 max_bytes;
	u64 queued;
	u64 next_seq;
	u64 acked;
	u64 epoch;
	bool cluster;
	bool opened;
	wait_queue_head_t wait_data;
	wait_queue_head_t wait_space;
	char name[24];
	struct miscdevice misc;
};

/**
 * struct push_dev - one device, an independent bus
 * @wlock:     serialises publishers (and eviction).  A spinlock: the
 *             critical section copies an already-copied payload into the
 *             ring and never faults, sleeps or waits for a reader.
 * @seq:       write sections (under @wlock) around every change of the ids,
 *             the ring positions and the channel counters; lets a reader
 *             take a consistent snapshot (oldest_id with the channels'
 *             evicted counts) without any lock.  Its write_seqcount_end()
 *             also orders the moved tail before the bytes overwritten.
 * @hdr:       the mmap header page: tail_pos/oldest_id and
 *             head_pos/next_id live there, for kernel and mmap readers
 *             alike.  Only writers store to it.
 * @data:      the data ring, @ring_size bytes, right after @hdr.
 * @descs:     the index, @desc_mask + 1 entries.
 * @desc_mask: entries minus one (a power of two minus one).
 * @desc_low:  lowest id whose descriptor is still intact; raised (and
 *             ordered by a write barrier) before a descriptor is reused.
 * @head_off:  hdr->head_pos % ring_size, kept by the writer.
 * @tail_off:  hdr->tail_pos % ring_size, kept by the writer.
 * @messages:  messages published; @bytes their payload bytes.  Under
 *             @wlock; read with READ_ONCE().
 * @wait:      readers and pollers waiting for next_id to move, or for
 *             their own cursor to be moved (lseek, SET_FILTER).
 * @chans:     channels by name (rhashtable, random seed).
 * @chan_lock: a mutex serialising channel creation and removal from
 *             @chans and @chan_list.  Never taken by readers, by poll(),
 *             or under @wlock.
 * @chan_list: channels in creation order, for debugfs.
 * @nchans:    live channels (refs > 0); creation fails with ENOSPC at
 *             @max_channels.
 * @chan_serial: last serial given, under @chan_lock.
 * @dead:      dead channels, pushed locklessly by whoever dropped the last
 *             reference; @reap frees them.
 * @reap:      work item running push_chan_reap().
 */
struct push_dev {
	spinlock_t wlock;	/* see above */
	seqcount_spinlock_t seq;
	struct push_mmap_header *hdr;
	u8 *data;
	struct push_desc *descs;
	u64 desc_mask;
	u64 desc_low;
	u32 head_off;
	u32 tail_off;
	u64 ring_size;
	u32 max_msg_size;
	u32 max_channels;
	u64 epoch;
	u64 messages;
	u64 bytes;

	wait_queue_head_t wait;

	struct rhashtable chans;
	struct mutex chan_lock;	/* see above */
	struct list_head chan_list;
	atomic_t nchans;
	u64 chan_serial;
	struct llist_head dead;
	struct work_struct reap;

	atomic64_t readers;
	atomic64_t overruns;
	atomic64_t lost;
	atomic64_t rejected;

	int index;
	char name[16];
	struct miscdevice misc;
	struct dentry *debugfs;
	struct push_ingress ingress;
};

/**
 * struct push_filter_set - the channels a filtered reader reads
 * @rcu:    freed after a grace period (poll() reads it locklessly).
 * @n:      entries in @chans.
 * @chans:  the channels, each holding a reference.
 */
struct push_filter_set {
	struct rcu_head rcu;
	unsigned int n;
	struct push_chan *chans[];
};

/**
 * struct push_reader - per-open state, in file->private_data
 * @dev:    the device.
 * @lock:   serialises read(), lseek() and SET_FILTER of this open file, so
 *          that concurrent reads get distinct records.  May be held while
 *          copying to user space: only this file's own calls wait for it,
 *          never a publisher, poll() or another file.  IOCB_NOWAIT reads
 *          only trylock it.
 * @seq:    write sections (under @lock, preemption off) around changes of
 *          @cursor, @passed and @filter, for poll()'s lockless view.
 * @cursor: id of the next message to read; below oldest_id when messages
 *          were lost (a gap is pending).
 * @passed: with a filter, how many messages of its channels have an id
 *          below @cursor; at a gap the loss is the channels' evicted
 *          count minus this.
 * @gen:    bumped by lseek() and SET_FILTER; a blocked read() wakes on it.
 * @filter: NULL to read every channel.  RCU-protected.
 */
struct push_reader {
	struct push_dev *dev;
	struct mutex lock;	/* see above */
	seqcount_t seq;
	u64 cursor;
	u64 passed;
	unsigned int gen;
	struct push_filter_set __rcu *filter;
};

static inline u64 push_record_size(size_t chan_len, size_t data_len)
{
	return ALIGN(sizeof(struct push_record) + chan_len + data_len,
		     PUSH_RECORD_ALIGN);
}

/* push_chan.c */
bool push_chan_name_valid(const char *name, size_t len);
struct push_chan *push_chan_get(struct push_dev *dev, const char *name,
				size_t len, bool create, bool nowait);
void push_chan_put(struct push_dev *dev, struct push_chan *chan);
void push_chan_dead(struct push_dev *dev, struct push_chan *chan);
void push_chan_reap(struct work_struct *work);
int push_chan_init(struct push_dev *dev);
void push_chan_exit(struct push_dev *dev);

/* push_ring.c */
int push_publish(struct push_dev *dev, struct push_chan *chan,
		 const void *data, u32 data_len, u64 write_ns, u64 want,
		 struct push_publish *out);
int push_set_epoch(struct push_dev *dev, u64 epoch);
void push_snapshot(struct push_dev *dev, const struct push_filter_set *f,
		   u64 *oldest, u64 *next, u64 *evicted);
int push_count_before(struct push_dev *dev, const struct push_filter_set *f,
		      u64 id, u64 *passed);
int push_ring_init(struct push_dev *dev, u64 ring_size, u32 max_msg_size,
		   u32 max_channels);
void push_ring_exit(struct push_dev *dev);

/* push_main.c */
long push_cluster_ioctl(struct push_dev *dev, unsigned int cmd,
			void __user *argp);

/* push_ingress.c */
int push_ingress_publish(struct push_dev *dev, const char *name,
			 size_t name_len, const void *data, u32 len,
			 bool nonblock, struct push_publish *out);
bool push_ingress_poll_room(struct push_dev *dev, struct file *file,
			    poll_table *wait);
int push_ingress_set_cluster(struct push_dev *dev, u32 on);
long push_ingress_info(struct push_dev *dev,
		       struct push_ingress_info __user *argp);
int push_ingress_init(struct push_dev *dev, u64 max_bytes);
void push_ingress_exit(struct push_dev *dev);

/* push_read.c */
extern const struct file_operations push_fops;
ssize_t push_read_iter(struct kiocb *iocb, struct iov_iter *to);
loff_t push_llseek(struct file *file, loff_t offset, int whence);
__poll_t push_poll(struct file *file, poll_table *wait);
long push_set_filter(struct push_reader *r, struct push_filter __user *argp);
void push_reader_free_filter(struct push_reader *r);

/* push_stats.c */
extern const struct attribute_group *push_groups[];
void push_debugfs_init(struct push_dev *dev);
void push_debugfs_exit(struct push_dev *dev);

#endif /* _PUSH_DEV_H */
