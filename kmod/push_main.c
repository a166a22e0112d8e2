// SPDX-License-Identifier: GPL-2.0
/*
 * push_main.c - /dev/push, a message bus with a bounded history.
 *
 * Any program publishes a message with one write(); every open file reads
 * all messages from its own cursor, as whole records:
 *
 *	fd = open("/dev/push", O_RDWR);
 *	write(fd, "@chat hello\n", 12);		// "hello" on channel "chat"
 *	n = read(fd, buf, sizeof(buf));		// whole struct push_record's
 *	for (p = buf; p < buf + n; p += rec->size)
 *		rec = (struct push_record *)p;	// channel, then data follow
 *
 * lseek() moves the cursor to a message id, PUSH_IOC_SET_FILTER restricts a
 * reader to some channels, and a reader whose cursor was overwritten gets a
 * PUSH_REC_GAP record saying how much it lost.  docs/ABI.txt is the
 * contract; include/uapi/linux/push.h its C form.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "push_dev.h"

#define CREATE_TRACE_POINTS
#include "push_trace.h"

static unsigned long ring_size = 4 << 20;
module_param(ring_size, ulong, 0444);
MODULE_PARM_DESC(ring_size, "Bytes of message history kept (4096..1073741824, default 4 MiB)");

static unsigned int max_msg_size = 65536;
module_param(max_msg_size, uint, 0444);
MODULE_PARM_DESC(max_msg_size, "Largest payload accepted, in bytes (default 65536)");

static ushort mode = 0660;
module_param(mode, ushort, 0444);
MODULE_PARM_DESC(mode, "Permissions of /dev/push (default 0660)");

static unsigned int max_channels = 4096;
module_param(max_channels, uint, 0444);
MODULE_PARM_DESC(max_channels, "Most channels; publishing to one more fails with ENOSPC (default 4096)");

/* Longest text-write header: '@', a name, a space. */
#define PUSH_TEXT_HDR_MAX	(PUSH_CHANNEL_MAX + 2)
/* Longest PUSH_IOC_SET_FILTER list: PUSH_FILTER_MAX names and commas. */
#define PUSH_FILTER_LEN_MAX	(PUSH_FILTER_MAX * (PUSH_CHANNEL_MAX + 1))

/**
 * struct push_filter_set - the channels a filtered reader reads
 * @nchans:   entries used in @chans.
 * @npending: entries used in @pending.
 * @chans:    channels of the filter that exist.
 * @pending:  names of the filter that have no channel yet; moved to @chans
 *            when the channel appears (push_reader_resolve()).
 */
struct push_filter_set {
	unsigned int nchans;
	unsigned int npending;
	struct push_chan *chans[PUSH_FILTER_MAX];
	struct {
		u32 len;
		char name[PUSH_CHANNEL_MAX];
	} pending[PUSH_FILTER_MAX];
};

/**
 * struct push_reader - per-open state, in file->private_data
 * @lock:   protects the fields below.  Taken before push_dev.lock, never
 *          held while sleeping for messages.
 * @cursor: id of the next message to read; below push_dev.oldest_id when
 *          messages were lost (a gap is pending).
 * @filter: NULL to read every channel.
 * @passed: with a filter, how many messages of @filter's channels have an
 *          id below @cursor; the loss at a gap is the channels' evicted
 *          count minus this.
 */
struct push_reader {
	struct mutex lock;	/* see above */
	u64 cursor;
	struct push_filter_set *filter;
	u64 passed;
};

static const u8 push_zero_pad[PUSH_RECORD_ALIGN];

static bool push_filter_match(const struct push_filter_set *f,
			      const struct push_chan *chan)
{
	unsigned int i;

	for (i = 0; i < f->nchans; i++)
		if (f->chans[i] == chan)
			return true;
	return false;
}

/*
 * Moves the filter's names whose channel now exists to f->chans.  Such a
 * channel was created after the cursor last moved, so none of its messages
 * is below the cursor and r->passed stays right.
 */
static void push_reader_resolve(struct push_reader *r)
{
	struct push_filter_set *f = r->filter;
	unsigned int i = 0;

	lockdep_assert_held(&r->lock);
	lockdep_assert_held(&push_dev.lock);
	if (!f)
		return;
	while (i < f->npending) {
		struct push_chan *chan;

		chan = push_chan_find(f->pending[i].name, f->pending[i].len);
		if (!chan) {
			i++;
			continue;
		}
		f->chans[f->nchans++] = chan;
		f->pending[i] = f->pending[--f->npending];
	}
}

static u64 push_filter_evicted(const struct push_filter_set *f)
{
	u64 n = 0;
	unsigned int i;

	for (i = 0; i < f->nchans; i++)
		n += f->chans[i]->evicted;
	return n;
}

/* Returns how many messages the reader lost below oldest_id (0: no gap). */
static u64 push_reader_lost(struct push_reader *r)
{
	u64 evicted;

	lockdep_assert_held(&r->lock);
	lockdep_assert_held(&push_dev.lock);
	if (r->cursor >= push_dev.oldest_id)
		return 0;
	if (!r->filter)
		return push_dev.oldest_id - r->cursor;
	evicted = push_filter_evicted(r->filter);
	return evicted > r->passed ? evicted - r->passed : 0;
}

/* Moves the cursor to @id and recounts r->passed for a filtered reader. */
static void push_reader_set_cursor(struct push_reader *r, u64 id)
{
	struct push_filter_set *f = r->filter;
	u64 evicted, n;

	lockdep_assert_held(&r->lock);
	lockdep_assert_held(&push_dev.lock);
	r->cursor = id;
	if (!f)
		return;
	evicted = push_filter_evicted(f);
	if (id >= push_dev.oldest_id) {
		r->passed = evicted + push_count_chans(push_dev.oldest_id, id,
						       f->chans, f->nchans);
	} else {
		n = push_count_chans(id, push_dev.oldest_id, f->chans,
				     f->nchans);
		r->passed = evicted > n ? evicted - n : 0;
	}
}

/* Returns true if a read would return a record now. */
static bool push_reader_ready(struct push_reader *r)
{
	struct push_filter_set *f = r->filter;
	u64 from = max(r->cursor, push_dev.oldest_id);
	unsigned int i;

	if (push_reader_lost(r))
		return true;
	if (!f)
		return from < push_dev.next_id;
	for (i = 0; i < f->nchans; i++)
		if (f->chans[i]->last_id >= from)
			return true;
	return false;
}

static int push_reader_lock(struct push_reader *r, bool nowait)
{
	if (nowait) {
		if (!mutex_trylock(&r->lock))
			return -EAGAIN;
		if (!down_read_trylock(&push_dev.lock)) {
			mutex_unlock(&r->lock);
			return -EAGAIN;
		}
		return 0;
	}
	if (mutex_lock_interruptible(&r->lock))
		return -ERESTARTSYS;
	if (down_read_killable(&push_dev.lock)) {
		mutex_unlock(&r->lock);
		return -ERESTARTSYS;
	}
	return 0;
}

static void push_reader_unlock(struct push_reader *r)
{
	up_read(&push_dev.lock);
	mutex_unlock(&r->lock);
}

/* Copies the gap record for @lost messages; returns its size or -errno. */
static ssize_t push_copy_gap(struct push_reader *r, u64 lost,
			     struct iov_iter *to)
{
	struct {
		struct push_record rec;
		struct push_gap gap;
	} g = {
		.rec = {
			.id = r->cursor,
			.size = PUSH_GAP_RECORD,
			.data_len = sizeof(struct push_gap),
			.type = PUSH_REC_GAP,
		},
		.gap = {
			.next_id = push_dev.oldest_id,
			.lost = lost,
		},
	};

	BUILD_BUG_ON(sizeof(g) != PUSH_GAP_RECORD);
	BUILD_BUG_ON(PUSH_GAP_RECORD % PUSH_RECORD_ALIGN);
	if (iov_iter_count(to) < sizeof(g))
		return -EINVAL;
	if (copy_to_iter(&g, sizeof(g), to) != sizeof(g))
		return -EFAULT;
	atomic64_inc(&push_dev.overruns);
	atomic64_add(lost, &push_dev.lost);
	return sizeof(g);
}

/* Copies the record of @msg; returns its size or -errno. */
static ssize_t push_copy_msg(const struct push_msg *msg, struct iov_iter *to)
{
	struct push_record rec = {
		.id = msg->id,
		.time_ns = msg->time_ns,
		.size = msg->size,
		.data_len = msg->data_len,
		.type = PUSH_REC_MSG,
		.chan_len = msg->chan->len,
	};
	size_t pad = msg->size - sizeof(rec) - rec.chan_len - rec.data_len;

	if (iov_iter_count(to) < msg->size)
		return -EINVAL;
	if (copy_to_iter(&rec, sizeof(rec), to) != sizeof(rec) ||
	    copy_to_iter(msg->chan->name, rec.chan_len, to) != rec.chan_len ||
	    copy_to_iter(msg->data, rec.data_len, to) != rec.data_len ||
	    copy_to_iter(push_zero_pad, pad, to) != pad)
		return -EFAULT;
	return msg->size;
}

/*
 * Copies whole records from the cursor: first a gap record if messages were
 * lost, then messages.  Returns bytes copied, 0 if nothing is ready, or
 * -EINVAL (next record does not fit) / -EFAULT when nothing was copied.
 */
static ssize_t push_read_records(struct push_reader *r, struct iov_iter *to)
{
	struct push_filter_set *f = r->filter;
	u64 first_id = 0, last_id = 0, now = ktime_get_ns();
	ssize_t copied = 0, ret = 0;
	u32 count = 0;
	u64 lost;

	lockdep_assert_held(&r->lock);
	lockdep_assert_held(&push_dev.lock);
	push_reader_resolve(r);
	if (r->cursor < push_dev.oldest_id) {
		lost = push_reader_lost(r);
		if (lost) {
			ret = push_copy_gap(r, lost, to);
			if (ret < 0)
				return ret;
			copied += ret;
		}
		r->cursor = push_dev.oldest_id;
		if (f)
			r->passed = push_filter_evicted(f);
	}
	while (r->cursor < push_dev.next_id) {
		const struct push_msg *msg;

		msg = push_dev.slots[r->cursor & push_dev.slot_mask].msg;
		if (f && !push_filter_match(f, msg->chan)) {
			r->cursor++;
			if (!(r->cursor & 4095))
				cond_resched();
			continue;
		}
		ret = push_copy_msg(msg, to);
		if (ret < 0)
			break;
		copied += ret;
		r->cursor++;
		if (f)
			r->passed++;
		if (!count++)
			first_id = msg->id;
		last_id = msg->id;
		trace_push_record_read(msg->id, now - msg->commit_ns);
	}
	if (count)
		trace_push_read(first_id, last_id, count, copied);
	if (copied)
		return copied;
	return ret;
}

static ssize_t push_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct push_reader *r = iocb->ki_filp->private_data;
	/*
	 * IOCB_NOWAIT (io_uring's first try) must not sleep at all, not even
	 * on the locks; O_NONBLOCK only means "do not wait for a message", as
	 * for /dev/kmsg, so a reader never sees EAGAIN while records are
	 * ready just because a publisher holds the lock for a moment.
	 */
	bool lock_nowait = iocb->ki_flags & IOCB_NOWAIT;
	bool nowait = lock_nowait || (iocb->ki_filp->f_flags & O_NONBLOCK);
	ssize_t ret;
	u64 seen;

	if (!iov_iter_count(to))
		return 0;
	for (;;) {
		ret = push_reader_lock(r, lock_nowait);
		if (ret)
			return ret;
		ret = push_read_records(r, to);
		seen = push_dev.next_id;
		push_reader_unlock(r);
		if (ret)
			return ret;
		if (nowait)
			return -EAGAIN;
		if (wait_event_interruptible(push_dev.wait,
					     READ_ONCE(push_dev.next_id) != seen))
			return -ERESTARTSYS;
	}
}

/*
 * Parses a text write: "@NAME payload" or "payload" for channel "default",
 * one trailing newline dropped.  Returns 0 and the message, or -errno.
 */
static int push_parse_text(struct iov_iter *from, struct push_msg **msgp,
			   char *name, size_t *name_len)
{
	size_t count = iov_iter_count(from);
	size_t hdr_len = min_t(size_t, count, PUSH_TEXT_HDR_MAX);
	char hdr[PUSH_TEXT_HDR_MAX];
	struct push_msg *msg;
	size_t off = 0, len;
	char *sp;

	if (!count)
		return -EINVAL;
	if (copy_from_iter(hdr, hdr_len, from) != hdr_len)
		return -EFAULT;
	if (hdr[0] == '@') {
		sp = memchr(hdr + 1, ' ', hdr_len - 1);
		if (!sp || !push_chan_name_valid(hdr + 1, sp - hdr - 1))
			return -EINVAL;
		*name_len = sp - hdr - 1;
		memcpy(name, hdr + 1, *name_len);
		off = sp - hdr + 1;
	} else {
		*name_len = strlen(PUSH_CHANNEL_DEFAULT);
		memcpy(name, PUSH_CHANNEL_DEFAULT, *name_len);
	}
	/* A payload of max_msg_size + 1 may still end in the newline. */
	len = count - off;
	if (len > (size_t)push_dev.max_msg_size + 1)
		return -EMSGSIZE;
	if (!len)
		return -EINVAL;
	msg = push_msg_alloc(len);
	if (!msg)
		return -ENOMEM;
	memcpy(msg->data, hdr + off, hdr_len - off);
	if (copy_from_iter(msg->data + hdr_len - off, count - hdr_len, from) !=
	    count - hdr_len)
		goto out_fault;
	if (msg->data[len - 1] == '\n')
		len--;
	if (!len || len > push_dev.max_msg_size) {
		push_msg_free(msg);
		return len ? -EMSGSIZE : -EINVAL;
	}
	msg->data_len = len;
	*msgp = msg;
	return 0;

out_fault:
	push_msg_free(msg);
	return -EFAULT;
}

static ssize_t push_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	size_t count = iov_iter_count(from);
	u64 write_ns = ktime_get_ns();
	char name[PUSH_CHANNEL_MAX];
	struct push_msg *msg;
	size_t name_len;
	int ret;

	ret = push_parse_text(from, &msg, name, &name_len);
	if (ret)
		goto out_reject;
	ret = push_publish(msg, name, name_len, write_ns,
			   iocb->ki_flags & IOCB_NOWAIT);
	if (ret)
		goto out_free_msg;
	return count;

out_free_msg:
	push_msg_free(msg);
out_reject:
	if (ret != -EAGAIN)
		atomic64_inc(&push_dev.rejected);
	return ret;
}

static long push_ioctl_publish(struct push_publish __user *argp)
{
	u64 write_ns = ktime_get_ns();
	struct push_publish pub;
	struct push_msg *msg;
	int ret;

	if (copy_from_user(&pub, argp, sizeof(pub))) {
		ret = -EFAULT;
		goto out_reject;
	}
	ret = -EINVAL;
	if (pub.flags || pub.reserved || !pub.data_len ||
	    !push_chan_name_valid(pub.channel, pub.chan_len))
		goto out_reject;
	ret = -EMSGSIZE;
	if (pub.data_len > push_dev.max_msg_size)
		goto out_reject;
	ret = -ENOMEM;
	msg = push_msg_alloc(pub.data_len);
	if (!msg)
		goto out_reject;
	ret = -EFAULT;
	if (copy_from_user(msg->data, u64_to_user_ptr(pub.data), pub.data_len))
		goto out_free_msg;
	msg->data_len = pub.data_len;
	ret = push_publish(msg, pub.channel, pub.chan_len, write_ns, false);
	if (ret)
		goto out_free_msg;
	/* Published: a fault now only loses the caller its id. */
	pub.id = msg->id;
	pub.time_ns = msg->time_ns;
	if (copy_to_user(argp, &pub, sizeof(pub)))
		return -EFAULT;
	return 0;

out_free_msg:
	push_msg_free(msg);
out_reject:
	atomic64_inc(&push_dev.rejected);
	return ret;
}

/* Parses "a,b,c" into @f (names deduplicated); returns 0 or -errno. */
static int push_filter_parse(struct push_filter_set *f, const char *s,
			     size_t len)
{
	size_t start = 0, end, i;

	while (start <= len) {
		for (end = start; end < len && s[end] != ','; end++)
			;
		if (!push_chan_name_valid(s + start, end - start))
			return -EINVAL;
		for (i = 0; i < f->npending; i++)
			if (f->pending[i].len == end - start &&
			    !memcmp(f->pending[i].name, s + start, end - start))
				break;
		if (i == f->npending) {
			if (f->npending == PUSH_FILTER_MAX)
				return -E2BIG;
			f->pending[i].len = end - start;
			memcpy(f->pending[i].name, s + start, end - start);
			f->npending++;
		}
		start = end + 1;
	}
	return 0;
}

static long push_ioctl_set_filter(struct push_reader *r,
				  struct push_filter __user *argp)
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
		f = kzalloc(sizeof(*f), GFP_KERNEL);
		if (!f) {
			ret = -ENOMEM;
			goto out_free_names;
		}
		ret = push_filter_parse(f, names, pf.len);
		if (ret)
			goto out_free_filter;
		kfree(names);
	}

	ret = push_reader_lock(r, false);
	if (ret) {
		kfree(f);
		return ret;
	}
	old = r->filter;
	r->filter = f;
	push_reader_resolve(r);
	push_reader_set_cursor(r, r->cursor);
	push_reader_unlock(r);
	kfree(old);
	return 0;

out_free_filter:
	kfree(f);
out_free_names:
	kfree(names);
	return ret;
}

static long push_ioctl_info(struct push_info __user *argp)
{
	struct push_info info = {};

	down_read(&push_dev.lock);
	info.oldest_id = push_dev.oldest_id;
	info.next_id = push_dev.next_id;
	info.ring_size = push_dev.ring_size;
	info.ring_used = push_dev.ring_used;
	info.retained = push_dev.next_id - push_dev.oldest_id;
	info.max_msg_size = push_dev.max_msg_size;
	info.channels = push_dev.nchans;
	up_read(&push_dev.lock);
	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

static long push_ioctl_chan_info(struct push_chan_info __user *argp)
{
	struct push_chan_info ci;
	struct push_chan *chan;

	if (copy_from_user(&ci, argp, sizeof(ci)))
		return -EFAULT;
	if (ci.reserved || !push_chan_name_valid(ci.channel, ci.chan_len))
		return -EINVAL;
	down_read(&push_dev.lock);
	chan = push_chan_find(ci.channel, ci.chan_len);
	if (chan) {
		ci.last_id = chan->last_id;
		ci.published = chan->published;
		ci.retained = chan->retained;
		ci.bytes = chan->bytes;
	}
	up_read(&push_dev.lock);
	if (!chan)
		return -ENOENT;
	return copy_to_user(argp, &ci, sizeof(ci)) ? -EFAULT : 0;
}

static long push_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case PUSH_IOC_PUBLISH:
		return push_ioctl_publish(argp);
	case PUSH_IOC_SET_FILTER:
		return push_ioctl_set_filter(file->private_data, argp);
	case PUSH_IOC_INFO:
		return push_ioctl_info(argp);
	case PUSH_IOC_CHAN_INFO:
		return push_ioctl_chan_info(argp);
	default:
		return -ENOTTY;
	}
}

/*
 * SEEK_SET 0: oldest retained; SEEK_SET id: that message (a gap first if it
 * is gone); SEEK_END 0: only new messages; SEEK_CUR 0: where we are.
 * Returns the cursor, an id.
 */
static loff_t push_llseek(struct file *file, loff_t offset, int whence)
{
	struct push_reader *r = file->private_data;
	loff_t ret;

	ret = push_reader_lock(r, false);
	if (ret)
		return ret;
	push_reader_resolve(r);
	ret = -EINVAL;
	switch (whence) {
	case SEEK_SET:
		if (offset < 0 || offset > push_dev.next_id)
			break;
		ret = offset ? offset : push_dev.oldest_id;
		push_reader_set_cursor(r, ret);
		break;
	case SEEK_END:
		if (offset)
			break;
		ret = push_dev.next_id;
		push_reader_set_cursor(r, ret);
		break;
	case SEEK_CUR:
		if (offset)
			break;
		ret = r->cursor;
		break;
	}
	push_reader_unlock(r);
	return ret;
}

static __poll_t push_poll(struct file *file, poll_table *wait)
{
	struct push_reader *r = file->private_data;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, &push_dev.wait, wait);
	if (push_reader_lock(r, false))
		return mask;
	push_reader_resolve(r);
	if (push_reader_lost(r))
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLERR | EPOLLPRI;
	else if (push_reader_ready(r))
		mask |= EPOLLIN | EPOLLRDNORM;
	push_reader_unlock(r);
	return mask;
}

static int push_open(struct inode *inode, struct file *file)
{
	struct push_reader *r;

	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	mutex_init(&r->lock);
	down_read(&push_dev.lock);
	r->cursor = push_dev.oldest_id;
	up_read(&push_dev.lock);
	file->private_data = r;
	/* Reads and writes honour IOCB_NOWAIT: io_uring polls, never punts. */
	file->f_mode |= FMODE_NOWAIT;
	atomic64_inc(&push_dev.readers);
	return 0;
}

static int push_release(struct inode *inode, struct file *file)
{
	struct push_reader *r = file->private_data;

	atomic64_dec(&push_dev.readers);
	kfree(r->filter);
	mutex_destroy(&r->lock);
	kfree(r);
	return 0;
}

static const struct file_operations push_fops = {
	.owner = THIS_MODULE,
	.open = push_open,
	.release = push_release,
	.read_iter = push_read_iter,
	.write_iter = push_write_iter,
	.llseek = push_llseek,
	.poll = push_poll,
	.unlocked_ioctl = push_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice push_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "push",
	.fops = &push_fops,
	.groups = push_groups,
};

static int push_check_params(void)
{
	u64 max_rec = ALIGN((u64)sizeof(struct push_record) + PUSH_CHANNEL_MAX +
			    max_msg_size, PUSH_RECORD_ALIGN);

	if (ring_size < 4096 || ring_size > (1UL << 30)) {
		pr_err("ring_size=%lu: must be 4096..1073741824\n", ring_size);
		return -EINVAL;
	}
	if (!max_msg_size || max_rec > ring_size) {
		pr_err("max_msg_size=%u: must be 1..%lu for ring_size=%lu\n",
		       max_msg_size,
		       ring_size - sizeof(struct push_record) - PUSH_CHANNEL_MAX,
		       ring_size);
		return -EINVAL;
	}
	if (!max_channels || max_channels > (1U << 20)) {
		pr_err("max_channels=%u: must be 1..1048576\n", max_channels);
		return -EINVAL;
	}
	if (mode & ~0777) {
		pr_err("mode=%#o: only permission bits (0..0777) allowed\n", mode);
		return -EINVAL;
	}
	return 0;
}

static int __init push_init(void)
{
	int ret;

	ret = push_check_params();
	if (ret)
		return ret;
	ret = push_ring_init(ring_size, max_msg_size, max_channels);
	if (ret)
		return ret;
	push_debugfs_init();
	push_misc.mode = mode;
	ret = misc_register(&push_misc);
	if (ret)
		goto out_debugfs_exit;
	return 0;

out_debugfs_exit:
	push_debugfs_exit();
	push_ring_exit();
	return ret;
}

static void __exit push_exit(void)
{
	misc_deregister(&push_misc);
	push_debugfs_exit();
	push_ring_exit();
}

module_init(push_init);
module_exit(push_exit);

MODULE_AUTHOR("push project");
MODULE_DESCRIPTION("/dev/push: message bus with history, for pushd");
MODULE_LICENSE("GPL");
