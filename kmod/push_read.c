// SPDX-License-Identifier: GPL-2.0
/*
 * push_read.c - reading /dev/push: read(), lseek(), poll(), filters.
 *
 * A reader takes no lock a publisher takes.  read() holds only its own
 * file's mutex (push_reader.lock) while it copies records straight from
 * the data ring to user space, and checks afterwards that they were not
 * overwritten meanwhile (push_ring.c, "Readers").  poll() takes no lock at
 * all: it reads the reader's state in a push_reader.seq read section and
 * the ring's in a push_dev.seq one.
 */

#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "push_dev.h"
#include "push_trace.h"

/* Longest PUSH_IOC_SET_FILTER list: PUSH_FILTER_MAX names and commas. */
#define PUSH_FILTER_LEN_MAX	(PUSH_FILTER_MAX * (PUSH_CHANNEL_MAX + 1))

/* Moves the cursor (and passed) under r->lock, for poll()'s view too. */
static void push_reader_move(struct push_reader *r, u64 cursor, u64 passed)
{
	lockdep_assert_held(&r->lock);
	preempt_disable();
	write_seqcount_begin(&r->seq);
	WRITE_ONCE(r->cursor, cursor);
	WRITE_ONCE(r->passed, passed);
	write_seqcount_end(&r->seq);
	preempt_enable();
}

static struct push_filter_set *push_reader_filter(struct push_reader *r)
{
	return rcu_dereference_protected(r->filter, lockdep_is_held(&r->lock));
}

static bool push_filter_has(const struct push_filter_set *f,
			    const struct push_desc *d)
{
	struct push_chan *chan = READ_ONCE(d->chan);
	unsigned int i;

	for (i = 0; i < f->n; i++)
		if (f->chans[i] == chan)
			return true;
	return false;
}

/* Copies the gap record for @lost messages; returns its size or -errno. */
static ssize_t push_copy_gap(struct push_dev *dev, u64 from, u64 next,
			     u64 lost, struct iov_iter *to)
{
	struct {
		struct push_record rec;
		struct push_gap gap;
	} g = {
		.rec = {
			.id = from,
			.size = PUSH_GAP_RECORD,
			.data_len = sizeof(struct push_gap),
			.type = PUSH_REC_GAP,
		},
		.gap = {
			.next_id = next,
			.lost = lost,
		},
	};

	BUILD_BUG_ON(sizeof(g) != PUSH_GAP_RECORD);
	BUILD_BUG_ON(PUSH_GAP_RECORD % PUSH_RECORD_ALIGN);
	if (iov_iter_count(to) < sizeof(g))
		return -EINVAL;
	if (copy_to_iter(&g, sizeof(g), to) != sizeof(g))
		return -EFAULT;
	atomic64_inc(&dev->overruns);
	atomic64_add(lost, &dev->lost);
	return sizeof(g);
}

/* Per-read() totals, for the push_read tracepoint. */
struct push_read_stats {
	u64 first_id;
	u64 last_id;
	u32 count;
	u64 now_real;
};

/*
 * Copies the record of id @id (retained when its index entry was read) to
 * @to.  Returns its size, 0 if it was overwritten meanwhile (nothing
 * copied), or -EINVAL (does not fit) / -EFAULT.
 */
static ssize_t push_copy_msg(struct push_dev *dev, u64 id,
			     const struct push_desc *d, struct iov_iter *to)
{
	u32 off = READ_ONCE(d->off);
	const struct push_record *rec;
	u64 max = push_record_size(PUSH_CHANNEL_MAX, dev->max_msg_size);
	size_t size, n;

	if (off > dev->ring_size - PUSH_MIN_RECORD)
		goto check;
	rec = (const struct push_record *)(dev->data + off);
	size = READ_ONCE(rec->size);
	if (size < PUSH_MIN_RECORD || size > max ||
	    size > dev->ring_size - off)
		goto check;
	if (iov_iter_count(to) < size)
		return -EINVAL;
	n = copy_to_iter(rec, size, to);
	/* Pairs with write_seqcount_end() before the bytes are overwritten. */
	smp_rmb();
	if (READ_ONCE(dev->hdr->oldest_id) > id) {
		iov_iter_revert(to, n);
		return 0;
	}
	if (n != size) {
		iov_iter_revert(to, n);
		return -EFAULT;
	}
	return size;

check:
	/* An index entry or header torn by a writer: the id must be gone. */
	smp_rmb();
	if (WARN_ON_ONCE(READ_ONCE(dev->hdr->oldest_id) <= id))
		return -EIO;
	return 0;
}

/*
 * Copies whole records from the cursor, up to id @head: a gap record
 * whenever messages were lost, then messages.  Returns bytes copied, 0 if
 * nothing is ready, or -EINVAL (next record does not fit) / -EFAULT when
 * nothing was copied.
 */
static ssize_t push_read_records(struct push_reader *r, u64 head,
				 struct iov_iter *to)
{
	struct push_filter_set *f = push_reader_filter(r);
	struct push_dev *dev = r->dev;
	u64 cursor = r->cursor, passed = r->passed;
	struct push_read_stats st = {};
	ssize_t copied = 0, ret = 0;
	u64 oldest, next, evicted, lost;
	unsigned int n = 0;

	if (trace_push_record_read_enabled())
		st.now_real = ktime_get_real_ns();
	while (cursor < head) {
		const struct push_desc *d;

		push_snapshot(dev, f, &oldest, &next, &evicted);
		if (cursor < oldest) {
			lost = f ? (evicted > passed ? evicted - passed : 0) :
				   oldest - cursor;
			if (lost) {
				ret = push_copy_gap(dev, cursor, oldest, lost, to);
				if (ret < 0)
					break;
				copied += ret;
			}
			cursor = oldest;
			passed = evicted;
			continue;
		}
		d = &dev->descs[cursor & dev->desc_mask];
		if (f) {
			bool match = push_filter_has(f, d);

			/* The entry is reused only after the id is evicted. */
			smp_rmb();
			if (READ_ONCE(dev->hdr->oldest_id) > cursor)
				continue;
			if (!match) {
				cursor++;
				goto next;
			}
		}
		ret = push_copy_msg(dev, cursor, d, to);
		if (ret < 0)
			break;
		if (!ret)
			continue;	/* overwritten: a gap now */
		if (!st.count++)
			st.first_id = cursor;
		st.last_id = cursor;
		if (st.now_real) {
			const struct push_record *rec =
				(const void *)(dev->data + READ_ONCE(d->off));

			trace_push_record_read(cursor, st.now_real -
					       READ_ONCE(rec->time_ns));
		}
		copied += ret;
		cursor++;
		passed++;
next:
		if (!(++n & 1023))
			cond_resched();
	}
	push_reader_move(r, cursor, passed);
	if (st.count)
		trace_push_read(st.first_id, st.last_id, st.count, copied);
	return copied ? copied : ret;
}

ssize_t push_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct push_reader *r = iocb->ki_filp->private_data;
	struct push_dev *dev = r->dev;
	/*
	 * IOCB_NOWAIT (io_uring's first try) must not sleep: it only trylocks
	 * this file's own mutex, which no publisher or other file holds.
	 * O_NONBLOCK only means "do not wait for a message".
	 */
	bool lock_nowait = iocb->ki_flags & IOCB_NOWAIT;
	bool nowait = lock_nowait || (iocb->ki_filp->f_flags & O_NONBLOCK);
	unsigned int gen;
	ssize_t ret;
	u64 head;

	if (!iov_iter_count(to))
		return 0;
	for (;;) {
		if (lock_nowait) {
			if (!mutex_trylock(&r->lock))
				return -EAGAIN;
		} else if (mutex_lock_interruptible(&r->lock)) {
			return -ERESTARTSYS;
		}
		/* Pairs with the release store of next_id in push_publish(). */
		head = smp_load_acquire(&dev->hdr->next_id);
		gen = r->gen;
		ret = push_read_records(r, head, to);
		mutex_unlock(&r->lock);
		if (ret)
			return ret;
		if (nowait)
			return -EAGAIN;
		if (wait_event_interruptible(dev->wait,
					     READ_ONCE(dev->hdr->next_id) != head ||
					     READ_ONCE(r->gen) != gen))
			return -ERESTARTSYS;
	}
}

/*
 * Sets the filter to @f, the cursor to @id (<= next_id) and recounts
 * passed; under r->lock.  Wakes a read() or poll() of this file waiting
 * on the old cursor.
 */
static int push_reader_seek(struct push_reader *r,
			    struct push_filter_set *f, u64 id)
{
	u64 passed = 0;
	int ret;

	lockdep_assert_held(&r->lock);
	if (f) {
		ret = push_count_before(r->dev, f, id, &passed);
		if (ret)
			return ret;
	}
	preempt_disable();
	write_seqcount_begin(&r->seq);
	rcu_assign_pointer(r->filter, f);
	WRITE_ONCE(r->cursor, id);
	WRITE_ONCE(r->passed, passed);
	write_seqcount_end(&r->seq);
	preempt_enable();
	WRITE_ONCE(r->gen, r->gen + 1);
	wake_up_interruptible_all(&r->dev->wait);
	return 0;
}

/*
 * SEEK_SET 0: oldest retained; SEEK_SET id: that message (a gap first if it
 * is gone); SEEK_END 0: only new messages; SEEK_CUR 0: where we are.
 * Returns the cursor, an id.
 */
loff_t push_llseek(struct file *file, loff_t offset, int whence)
{
	struct push_reader *r = file->private_data;
	struct push_mmap_header *hdr = r->dev->hdr;
	loff_t ret = -EINVAL;
	u64 next;
	int err;

	if (mutex_lock_interruptible(&r->lock))
		return -ERESTARTSYS;
	/* Pairs with push_publish()'s release: ids below are committed. */
	next = smp_load_acquire(&hdr->next_id);
	switch (whence) {
	case SEEK_SET:
		if (offset < 0 || offset > next)
			break;
		ret = offset ? offset : READ_ONCE(hdr->oldest_id);
		break;
	case SEEK_END:
		if (!offset)
			ret = next;
		break;
	case SEEK_CUR:
		if (!offset)
			ret = r->cursor;
		goto out;
	}
	if (ret >= 0) {
		err = push_reader_seek(r, push_reader_filter(r), ret);
		if (err)
			ret = err;
	}
out:
	mutex_unlock(&r->lock);
	return ret;
}

__poll_t push_poll(struct file *file, poll_table *wait)
{
	struct push_reader *r = file->private_data;
	struct push_dev *dev = r->dev;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;
	u64 cursor, passed, oldest, next, evicted, from;
	struct push_filter_set *f;
	unsigned int seq, i;

	poll_wait(file, &dev->wait, wait);
	rcu_read_lock();
	do {
		seq = read_seqcount_begin(&r->seq);
		cursor = READ_ONCE(r->cursor);
		passed = READ_ONCE(r->passed);
		f = rcu_dereference(r->filter);
	} while (read_seqcount_retry(&r->seq, seq));
	push_snapshot(dev, f, &oldest, &next, &evicted);
	if (cursor < oldest && (f ? evicted > passed : true)) {
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLERR | EPOLLPRI;
	} else if (!f) {
		if (max(cursor, oldest) < next)
			mask |= EPOLLIN | EPOLLRDNORM;
	} else {
		from = max(cursor, oldest);
		for (i = 0; i < f->n; i++) {
			if (READ_ONCE(f->chans[i]->last_id) >= from) {
				mask |= EPOLLIN | EPOLLRDNORM;
				break;
			}
		}
	}
	rcu_read_unlock();
	/* Cluster mode: writable while the largest message fits the queue. */
	if (!push_ingress_poll_room(dev, file, wait))
		mask &= ~(EPOLLOUT | EPOLLWRNORM);
	return mask;
}

static void push_filter_free(struct push_dev *dev, struct push_filter_set *f)
{
	unsigned int i;

	if (!f)
		return;
	for (i = 0; i < f->n; i++)
		push_chan_put(dev, f->chans[i]);
	/* poll() may still read it, and the channels, under RCU. */
	kfree_rcu(f, rcu);
}

/*
 * Parses "a,b,c" into @f: each distinct name's channel, created if needed
 * and held by the filter.  Returns 0 or -errno (@f then holds what it got).
 */
static int push_filter_parse(struct push_dev *dev, struct push_filter_set *f,
			     const char *s, size_t len)
{
	size_t start = 0, end;
	unsigned int i;

	while (start <= len) {
		struct push_chan *chan;

		for (end = start; end < len && s[end] != ','; end++)
			;
		if (!push_chan_name_valid(s + start, end - start))
			return -EINVAL;
		for (i = 0; i < f->n; i++)
			if (f->chans[i]->key.len == end - start &&
			    !memcmp(f->chans[i]->key.name, s + start, end - start))
				break;
		if (i == f->n) {
			if (f->n == PUSH_FILTER_MAX)
				return -E2BIG;
			chan = push_chan_get(dev, s + start, end - start, true,
					     false);
			if (IS_ERR(chan))
				return PTR_ERR(chan);
			f->chans[f->n++] = chan;
		}
		start = end + 1;
	}
	return 0;
}

long push_set_filter(struct push_reader *r, struct push_filter __user *argp)
{
	struct push_filter_set *f = NULL, *old;
	struct push_filter pf;
	char *names;
	int ret;

	if (copy_from_user(&pf, argp, sizeof(pf)))
		return -EFAULT;
	if (pf.flags)
		return -EINVAL;
	if (pf.len > PUSH_FILTER_LEN_MAX)
		return -E2BIG;
	if (pf.len) {
		names = memdup_user(u64_to_user_ptr(pf.names), pf.len);
		if (IS_ERR(names))
			return PTR_ERR(names);
		f = kzalloc(struct_size(f, chans, PUSH_FILTER_MAX),
			    GFP_KERNEL_ACCOUNT);
		if (!f) {
			kfree(names);
			return -ENOMEM;
		}
		ret = push_filter_parse(r->dev, f, names, pf.len);
		kfree(names);
		if (ret)
			goto out_free;
	}
	ret = -ERESTARTSYS;
	if (mutex_lock_interruptible(&r->lock))
		goto out_free;
	old = push_reader_filter(r);
	ret = push_reader_seek(r, f, r->cursor);
	mutex_unlock(&r->lock);
	if (ret)
		goto out_free;
	push_filter_free(r->dev, old);
	return 0;

out_free:
	push_filter_free(r->dev, f);
	return ret;
}

/* At release: no other call on the file is running. */
void push_reader_free_filter(struct push_reader *r)
{
	push_filter_free(r->dev, rcu_dereference_protected(r->filter, 1));
}
