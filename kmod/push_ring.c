// SPDX-License-Identifier: GPL-2.0
/*
 * push_ring.c - the history of /dev/push: a data ring and an index.
 *
 * DESIGN
 *
 * The history is two arrays, allocated at load and never resized:
 *
 *   data ring  ring_size bytes of records, laid out exactly as read()
 *              returns them (struct push_record, channel, data, zero
 *              padding), one after the other.  A record never wraps: if it
 *              does not fit before the end, the rest of the ring is skipped
 *              (with a PUSH_REC_PAD record when 32 bytes or more are left)
 *              and the record starts at offset 0.  The ring is preceded by
 *              one page, struct push_mmap_header, and both are one
 *              vmalloc_user() area that mmap() maps read-only.
 *   index      one struct push_desc per id modulo a power of two: the
 *              record's offset and its channel (for filters and eviction).
 *
 * Ring positions (head_pos, tail_pos) are byte counts since load: the
 * byte of position p is data[p % ring_size].  The retained messages are
 * ids [oldest_id, next_id), whose records lie in [tail_pos, head_pos).
 *
 * Writers.  A publisher first copies the payload from user space into a
 * kernel buffer (push_main.c) and looks its channel up (push_chan.c), both
 * without any lock of the ring, so no fault and no allocation can happen
 * while ring space is held.  push_publish() then takes dev->wlock, a
 * spinlock only publishers take, and:
 *   1. evicts the oldest messages until the record fits behind the tail
 *      and the index has a free entry: in a dev->seq write section, it
 *      moves oldest_id/tail_pos and the channels' counters, and raises
 *      desc_low.  write_seqcount_end() is a write barrier: every reader
 *      that sees a byte written in step 2 sees the moved tail too.
 *   2. writes the record's bytes (and a padding record) and its index
 *      entry;
 *   3. in a second dev->seq write section, counts the message in its
 *      channel and stores head_pos, then next_id, with release order:
 *      whoever loads next_id (or head_pos) with acquire order sees the
 *      record and its index entry whole.
 * Publishers never wait for readers: nothing a reader holds is needed
 * here, and readers take no lock a writer takes.
 *
 * Given ids (PUSH_IOC_PUBLISH_ID, the cluster bridge).  Everything here
 * assumes that the retained ids are contiguous: the index is addressed by
 * id modulo its size, eviction steps from one id to the next.  An id above
 * next_id is therefore applied as a flush (push_jump()): in step 1 the
 * retained messages are evicted, the entries of the skipped ids emptied,
 * and oldest_id and next_id moved to the new id, so that readers see an
 * ordinary gap and no index walker ever meets a hole.
 *
 * Readers (push_read.c, and user space through mmap).  A reader never
 * holds anything a writer needs while it touches user memory; it checks
 * instead that what it copied was not overwritten, as printk's lockless
 * ringbuffer does:
 *   - load next_id with acquire order: ids below it are complete;
 *   - read the index entry of its id; smp_rmb(); check oldest_id <= id
 *     (the entry is reused only after the id was evicted);
 *   - copy the record to user space (this may fault and sleep);
 *   - smp_rmb(); check oldest_id <= id again.  If the id was evicted in
 *     the meantime the bytes copied may be torn: they are taken back
 *     (iov_iter_revert) and the reader reports a gap instead.
 * An mmap reader does the same with positions: a record read at position
 * p is valid if tail_pos <= p after the copy (lib/push_ring_reader.c).
 * Gap counts for filtered readers need oldest_id together with the
 * channels' evicted counters: push_snapshot() reads them in a dev->seq
 * read section, which retries (never sleeps) if a writer moved them.
 *
 * Memory: ring_size bytes of data, one header page, and
 * roundup_pow_of_two(ring_size / 40) (at most 4194304) 16-byte index
 * entries, all allocated at load.  Channels are allocated when they come
 * into being and freed when nothing refers to them (push_chan.c): the
 * index refers to a channel while one of its messages is among the last
 * ndescs ids, so that the channel of every id in the index can be
 * compared (for exact filtered loss counts) and is never a freed one.
 */

#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>

#include "push_dev.h"
#include "push_trace.h"

static struct push_record *push_rec_at(struct push_dev *dev, u32 off)
{
	return (struct push_record *)(dev->data + off);
}

/*
 * Drops the oldest retained message.  Caller holds dev->wlock, inside a
 * dev->seq write section.
 */
static void push_evict_oldest(struct push_dev *dev)
{
	struct push_mmap_header *hdr = dev->hdr;
	u64 id = hdr->oldest_id;
	struct push_desc *d = &dev->descs[id & dev->desc_mask];
	u32 size = push_rec_at(dev, d->off)->size;
	struct push_chan *chan = d->chan;
	u64 tail = hdr->tail_pos + size;
	u32 toff = d->off + size;

	lockdep_assert_held(&dev->wlock);
	WRITE_ONCE(chan->retained, chan->retained - 1);
	WRITE_ONCE(chan->evicted, chan->evicted + 1);
	if (toff == dev->ring_size)
		toff = 0;
	id++;
	if (id == hdr->next_id) {
		tail = hdr->head_pos;
		toff = dev->head_off;
	} else if (dev->descs[id & dev->desc_mask].off != toff) {
		/* The next record starts the next lap. */
		tail += dev->ring_size - toff;
		toff = 0;
	}
	WRITE_ONCE(hdr->oldest_id, id);
	WRITE_ONCE(hdr->tail_pos, tail);
	dev->tail_off = toff;
}

/*
 * The index entry @d is about to be reused for a new id: if it was its
 * channel's last one (the channel's newest message leaves the window of
 * the last ndescs ids), the index's reference to the channel goes.  A
 * channel whose last reference this was goes on the chain @dead, for
 * push_free_dead() after unlocking.  Caller holds dev->wlock.
 */
static void push_desc_reuse(struct push_dev *dev, struct push_desc *d,
			    u64 old_id, struct llist_node **dead)
{
	struct push_chan *chan = d->chan;

	lockdep_assert_held(&dev->wlock);
	if (!chan || !chan->indexed || chan->last_id != old_id)
		return;
	chan->indexed = false;
	if (refcount_dec_and_test(&chan->refs)) {
		chan->dead_node.next = *dead;
		*dead = &chan->dead_node;
	}
}

/* Hands the channels push_desc_reuse() found dead to push_chan_dead(). */
static void push_free_dead(struct push_dev *dev, struct llist_node *dead)
{
	struct push_chan *chan, *tmp;

	llist_for_each_entry_safe(chan, tmp, dead, dead_node)
		push_chan_dead(dev, chan);
}

/* Writes the header, channel, data and zero padding of a record at @off. */
static void push_write_record(struct push_dev *dev, u32 off, u64 id,
			      u64 time_ns, u32 size, const struct push_chan *chan,
			      const void *data, u32 data_len)
{
	struct push_record *rec = push_rec_at(dev, off);
	u8 *p = (u8 *)(rec + 1);
	u32 pad = size - sizeof(*rec) - chan->key.len - data_len;

	rec->id = id;
	rec->time_ns = time_ns;
	rec->size = size;
	rec->data_len = data_len;
	rec->type = PUSH_REC_MSG;
	rec->chan_len = chan->key.len;
	rec->flags = 0;
	rec->reserved = 0;
	memcpy(p, chan->key.name, chan->key.len);
	memcpy(p + chan->key.len, data, data_len);
	memset(p + chan->key.len + data_len, 0, pad);
}

/* Fills the skipped end of the ring, @len bytes at @off, with a PAD record. */
static void push_write_pad(struct push_dev *dev, u32 off, u32 len, u64 next)
{
	struct push_record *rec = push_rec_at(dev, off);

	if (len < sizeof(*rec))
		return;	/* readers skip < 32 bytes at the end by rule */
	memset(rec, 0, sizeof(*rec));
	rec->id = next;
	rec->size = len;
	rec->type = PUSH_REC_PAD;
}

/*
 * A publish with a given id @id > next_id (PUSH_IOC_PUBLISH_ID: the ids
 * [next_id, @id) were dropped by the stream's retention before this node
 * got them).  The index assumes contiguous ids, so the jump is a flush:
 * every retained message is evicted, oldest_id and next_id both become
 * @id, and the index entries the skipped ids map to are cleared (no
 * channel), so that no filter ever matches a stale entry there.  Readers
 * then see one exact gap, [cursor, @id), as for any eviction.  At most
 * ndescs entries are cleared, whatever the jump.  Caller holds dev->wlock,
 * inside a dev->seq write section.
 */
static void push_jump(struct push_dev *dev, u64 id, struct llist_node **dead)
{
	struct push_mmap_header *hdr = dev->hdr;
	u64 x, from = hdr->next_id;
	u64 to = min(id, from + dev->desc_mask + 1);

	lockdep_assert_held(&dev->wlock);
	while (hdr->oldest_id < from)
		push_evict_oldest(dev);
	/*
	 * Lockless index scans (push_count_before()) retry when desc_low
	 * passes their range: raise it before an entry is touched.
	 */
	if (id > dev->desc_mask)
		WRITE_ONCE(dev->desc_low, id - dev->desc_mask);
	/* Pairs with push_count_before()'s smp_rmb() before it checks it. */
	smp_wmb();
	for (x = from; x < to; x++) {
		struct push_desc *d = &dev->descs[x & dev->desc_mask];

		push_desc_reuse(dev, d, x - dev->desc_mask - 1, dead);
		WRITE_ONCE(d->chan, NULL);
		WRITE_ONCE(d->off, 0);
		WRITE_ONCE(d->serial, 0);
	}
	WRITE_ONCE(hdr->oldest_id, id);
	WRITE_ONCE(hdr->next_id, id);
}

/**
 * push_publish - commit one message to the history
 * @dev:      the device.
 * @chan:     its channel; the caller holds a reference.
 * @data:     the payload, in kernel memory.
 * @data_len: its length, 1..max_msg_size.
 * @write_ns: ktime_get_ns() when the write began, for the tracepoint.
 * @want:     0, or the id to give it (PUSH_IOC_PUBLISH_ID): at least
 *            next_id, below PUSH_ID_MAX.
 * @out:      receives id and time_ns.  With @want, a nonzero time_ns in
 *            it is the record's timestamp (the original publish's).
 *
 * Never sleeps: eviction always makes room, because a record of
 * max_msg_size fits in an empty ring (checked at load).  Returns 0, or
 * -EINVAL if @want is below next_id (ids only increase).
 */
int push_publish(struct push_dev *dev, struct push_chan *chan,
		 const void *data, u32 data_len, u64 write_ns, u64 want,
		 struct push_publish *out)
{
	struct push_mmap_header *hdr = dev->hdr;
	u32 size = push_record_size(chan->key.len, data_len);
	struct llist_node *dead = NULL;
	u64 id, pos, time_ns, commit_ns;
	struct push_desc *d;
	u32 off, skip;

	spin_lock(&dev->wlock);
	if (want && want < hdr->next_id) {
		spin_unlock(&dev->wlock);
		return -EINVAL;
	}
	off = dev->head_off;
	skip = dev->ring_size - off < size ? dev->ring_size - off : 0;
	pos = hdr->head_pos + skip;

	/* 1. Make room, and move the tail before any byte is overwritten. */
	write_seqcount_begin(&dev->seq);
	if (want > hdr->next_id)
		push_jump(dev, want, &dead);
	id = hdr->next_id;
	while (hdr->oldest_id < id &&
	       (pos + size - hdr->tail_pos > dev->ring_size ||
		id - hdr->oldest_id > dev->desc_mask))
		push_evict_oldest(dev);
	if (hdr->oldest_id == id) {
		/* Empty: everything before the new record is free. */
		WRITE_ONCE(hdr->tail_pos, pos);
		dev->tail_off = skip ? 0 : off;
	}
	/* The entry of id - ndescs (evicted) is reused below. */
	if (id > dev->desc_mask)
		WRITE_ONCE(dev->desc_low, id - dev->desc_mask);
	write_seqcount_end(&dev->seq);

	/* 2. The record, after a padding record if it starts a new lap. */
	if (skip) {
		push_write_pad(dev, off, skip, id);
		off = 0;
	}
	time_ns = want && out->time_ns ? out->time_ns : ktime_get_real_ns();
	commit_ns = ktime_get_ns();
	push_write_record(dev, off, id, time_ns, size, chan, data, data_len);
	d = &dev->descs[id & dev->desc_mask];
	push_desc_reuse(dev, d, id - dev->desc_mask - 1, &dead);
	d->chan = chan;
	d->off = off;
	d->serial = (u32)chan->serial;

	/* 3. Commit: counters, then head_pos and next_id with release. */
	write_seqcount_begin(&dev->seq);
	if (!chan->indexed) {
		/* The index refers to it now (see push_desc_reuse()). */
		refcount_inc(&chan->refs);
		chan->indexed = true;
	}
	WRITE_ONCE(chan->retained, chan->retained + 1);
	WRITE_ONCE(chan->published, chan->published + 1);
	WRITE_ONCE(chan->bytes, chan->bytes + data_len);
	WRITE_ONCE(chan->last_id, id);
	WRITE_ONCE(dev->messages, dev->messages + 1);
	WRITE_ONCE(dev->bytes, dev->bytes + data_len);
	off += size;
	dev->head_off = off == dev->ring_size ? 0 : off;
	/* Release: the record and its entry before the new head and id. */
	smp_store_release(&hdr->head_pos, pos + size);
	/* Release: kernel readers load next_id with acquire (push_read.c). */
	smp_store_release(&hdr->next_id, id + 1);
	write_seqcount_end(&dev->seq);
	spin_unlock(&dev->wlock);

	/* wq_has_sleeper()'s barrier pairs with the waiters' (push_read.c). */
	if (wq_has_sleeper(&dev->wait))
		wake_up_interruptible_all(&dev->wait);
	trace_push_publish(id, data_len, write_ns, commit_ns, chan->key.name);
	push_free_dead(dev, dead);
	out->id = id;
	out->time_ns = time_ns;
	return 0;
}

/**
 * push_snapshot - consistent ids and evicted counts, without a lock
 * @dev:     the device.
 * @f:       a filter (may be NULL).
 * @oldest:  out: oldest_id.
 * @next:    out: next_id.
 * @evicted: out: the sum of @f's channels' evicted counters at @oldest
 *           (0 without a filter).
 *
 * The caller keeps @f alive (its reader's lock, or rcu_read_lock()).
 */
void push_snapshot(struct push_dev *dev, const struct push_filter_set *f,
		   u64 *oldest, u64 *next, u64 *evicted)
{
	unsigned int seq, i;
	u64 e;

	do {
		seq = read_seqcount_begin(&dev->seq);
		*oldest = READ_ONCE(dev->hdr->oldest_id);
		*next = READ_ONCE(dev->hdr->next_id);
		e = 0;
		for (i = 0; f && i < f->n; i++)
			e += READ_ONCE(f->chans[i]->evicted);
	} while (read_seqcount_retry(&dev->seq, seq));
	*evicted = e;
}

static bool push_desc_match(const struct push_filter_set *f,
			    const struct push_desc *d)
{
	struct push_chan *chan = READ_ONCE(d->chan);
	u32 serial = READ_ONCE(d->serial);
	unsigned int i;

	for (i = 0; i < f->n; i++)
		if (f->chans[i] == chan && (u32)f->chans[i]->serial == serial)
			return true;
	return false;
}

/* Counts @f's messages with ids in [lo, hi) from the index. */
static u64 push_count_range(struct push_dev *dev,
			    const struct push_filter_set *f, u64 lo, u64 hi)
{
	u64 id, n = 0;

	for (id = lo; id < hi; id++) {
		if (push_desc_match(f, &dev->descs[id & dev->desc_mask]))
			n++;
		if (!((id - lo + 1) & 4095))
			cond_resched();
	}
	return n;
}

/**
 * push_count_before - how many of @f's messages have an id below @id
 * @dev:    the device.
 * @f:      the filter.
 * @id:     an id, at most next_id.
 * @passed: out: the count.
 *
 * The channels' evicted counters count everything below oldest_id; the
 * index tells the channel of the ids around it, for the last ndescs ids
 * (older ones are not counted, as docs/ABI.txt says).  Scans the index
 * without a lock and retries if a writer reused an entry it read.
 * Returns 0, or -EINTR on a fatal signal.
 */
int push_count_before(struct push_dev *dev, const struct push_filter_set *f,
		      u64 id, u64 *passed)
{
	u64 oldest, next, evicted, lo, n;

	for (;;) {
		push_snapshot(dev, f, &oldest, &next, &evicted);
		if (id >= oldest) {
			lo = oldest;
			n = push_count_range(dev, f, oldest, min(id, next));
		} else {
			lo = next > dev->desc_mask ? next - dev->desc_mask : 1;
			lo = max(lo, id);
			n = push_count_range(dev, f, lo, oldest);
		}
		/* Pairs with the write barrier before an entry is reused. */
		smp_rmb();
		if (lo >= READ_ONCE(dev->desc_low))
			break;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	if (id >= oldest)
		*passed = evicted + n;
	else
		*passed = evicted > n ? evicted - n : 0;
	return 0;
}

/**
 * push_set_epoch - PUSH_IOC_SET_EPOCH: give the device a chosen epoch
 * @dev:   the device.
 * @epoch: nonzero.
 *
 * Allowed while no id was ever given (next_id is 1): ids already handed
 * out belong to the old epoch.  Setting the epoch it already has always
 * succeeds, so a restarted bridge can repeat it.  Returns 0 or -EBUSY.
 */
int push_set_epoch(struct push_dev *dev, u64 epoch)
{
	int ret = 0;

	spin_lock(&dev->wlock);
	if (epoch != dev->epoch) {
		if (dev->hdr->next_id != 1) {
			ret = -EBUSY;
		} else {
			WRITE_ONCE(dev->epoch, epoch);
			WRITE_ONCE(dev->hdr->epoch, epoch);
		}
	}
	spin_unlock(&dev->wlock);
	return ret;
}

/**
 * push_ring_init - allocate the history of one device
 * @dev:          the device.
 * @ring_size:    bytes of the data ring (a multiple of PAGE_SIZE).
 * @max_msg_size: largest payload; its record must fit in @ring_size.
 * @max_channels: most channels.
 *
 * Returns 0 or -ENOMEM.  The caller validated the parameters.
 */
int push_ring_init(struct push_dev *dev, u64 ring_size, u32 max_msg_size,
		   u32 max_channels)
{
	u64 ndescs = roundup_pow_of_two(div_u64(ring_size, PUSH_MIN_RECORD));
	void *area;

	BUILD_BUG_ON(sizeof(struct push_mmap_header) > PAGE_SIZE);
	BUILD_BUG_ON(sizeof(struct push_desc) != 16);
	ndescs = min_t(u64, ndescs, PUSH_MAX_DESCS);
	area = vmalloc_user(PAGE_SIZE + ring_size);
	if (!area)
		return -ENOMEM;
	dev->descs = kvcalloc(ndescs, sizeof(*dev->descs), GFP_KERNEL);
	if (!dev->descs) {
		vfree(area);
		return -ENOMEM;
	}
	spin_lock_init(&dev->wlock);
	seqcount_spinlock_init(&dev->seq, &dev->wlock);
	init_waitqueue_head(&dev->wait);
	dev->hdr = area;
	dev->data = (u8 *)area + PAGE_SIZE;
	dev->desc_mask = ndescs - 1;
	dev->desc_low = 1;
	dev->ring_size = ring_size;
	dev->max_msg_size = max_msg_size;
	dev->max_channels = max_channels;
	do {
		dev->epoch = get_random_u64();
	} while (!dev->epoch);
	dev->hdr->magic = PUSH_MMAP_MAGIC;
	dev->hdr->layout = PUSH_MMAP_LAYOUT;
	dev->hdr->data_offset = PAGE_SIZE;
	dev->hdr->data_size = ring_size;
	dev->hdr->epoch = dev->epoch;
	dev->hdr->oldest_id = 1;
	dev->hdr->next_id = 1;
	return 0;
}

/* Frees the history.  No file is open and no mapping exists any more. */
void push_ring_exit(struct push_dev *dev)
{
	struct llist_node *dead = NULL;
	u64 i;

	spin_lock(&dev->wlock);
	write_seqcount_begin(&dev->seq);
	while (dev->hdr->oldest_id < dev->hdr->next_id)
		push_evict_oldest(dev);
	write_seqcount_end(&dev->seq);
	/* Every entry's channel loses the index's reference. */
	for (i = 0; i <= dev->desc_mask; i++) {
		struct push_desc *d = &dev->descs[i];

		if (d->chan && d->chan->indexed)
			push_desc_reuse(dev, d, d->chan->last_id, &dead);
	}
	spin_unlock(&dev->wlock);
	push_free_dead(dev, dead);
	kvfree(dev->descs);
	vfree(dev->hdr);
}
