// SPDX-License-Identifier: GPL-2.0
/*
 * push_ingress.c - cluster mode: the ingress queue and /dev/push-ingress.
 *
 * In cluster mode (PUSH_IOC_SET_CLUSTER) a local publish (write(),
 * writev(), io_uring, PUSH_IOC_PUBLISH) does not reach the readers'
 * history.  It gets the next local sequence number and is queued; the
 * bridge reads the queue from the device's ingress node (/dev/push-ingress,
 * /dev/push1-ingress, ...), forwards each message to the stream with the
 * Nats-Msg-Id "<ingress epoch>-<seq>", and acknowledges (PUSH_IOC_INGRESS_ACK)
 * once the stream has it.  The message comes back through
 * PUSH_IOC_PUBLISH_ID with its stream id, as everyone else's do.
 *
 * The queue is bounded in bytes (module parameter ingress_size): a writer
 * that finds it full sleeps until an acknowledgment frees room, or gets
 * EAGAIN with O_NONBLOCK (and through io_uring).  An accepted message stays
 * queued until acknowledged: closing the ingress node only rewinds its
 * read position to the oldest unacknowledged entry, so a restarted bridge
 * forwards again whatever it had not acknowledged (the stream drops the
 * duplicates by their Nats-Msg-Id).  While anything is queued the queue
 * holds a reference to the module, so rmmod fails (EBUSY) rather than
 * drop accepted messages.
 *
 * Locks: push_ingress.lock (a spinlock) guards the list, the counters and
 * the read position; it is held only for list operations, never while
 * copying to or from user space.  push_ingress.rlock (a mutex) serialises
 * read() and ACK of the one opener: only ACK frees entries, so a read()
 * holding rlock may copy an entry without the spinlock.
 */

#include <linux/fs.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "push_dev.h"

/* One queued message: its record as read() of the ingress node gives it. */
struct push_ingress_msg {
	struct list_head node;
	struct push_record rec;	/* then channel, data, zero padding */
};

static struct push_dev *push_ingress_dev(struct file *file)
{
	return file->private_data;
}

/* A writer may go on: room for @size bytes, or cluster mode is off. */
static bool push_ingress_room(struct push_ingress *in, u32 size)
{
	return !READ_ONCE(in->cluster) ||
	       READ_ONCE(in->bytes) + size <= in->max_bytes;
}

/**
 * push_ingress_publish - queue one local publish, in cluster mode
 * @dev:      the device.
 * @name:     channel name (validated).
 * @name_len: its length.
 * @data:     payload in kernel memory.
 * @len:      its length, 1..max_msg_size.
 * @nonblock: EAGAIN instead of sleeping when the queue is full; also
 *            allocate without sleeping (io_uring's IOCB_NOWAIT).
 * @out:      receives id 0 (the stream gives it later) and time_ns.
 *
 * Returns 1 if the device is not in cluster mode (nothing done: publish
 * directly), 0 once queued, or -EAGAIN, -ENOMEM, -ERESTARTSYS (a signal
 * while waiting for room: nothing queued).
 */
int push_ingress_publish(struct push_dev *dev, const char *name,
			 size_t name_len, const void *data, u32 len,
			 bool nonblock, struct push_publish *out)
{
	struct push_ingress *in = &dev->ingress;
	u32 size = push_record_size(name_len, len);
	struct push_ingress_msg *m;
	u8 *p;
	int ret;

	if (!READ_ONCE(in->cluster))
		return 1;
	m = kmalloc(sizeof(*m) - sizeof(m->rec) + size,
		    nonblock ? GFP_NOWAIT | __GFP_ACCOUNT | __GFP_NOWARN :
			       GFP_KERNEL_ACCOUNT);
	if (!m)
		return nonblock ? -EAGAIN : -ENOMEM;
	memset(&m->rec, 0, sizeof(m->rec));
	m->rec.size = size;
	m->rec.data_len = len;
	m->rec.type = PUSH_REC_MSG;
	m->rec.chan_len = name_len;
	m->rec.time_ns = ktime_get_real_ns();
	p = (u8 *)(&m->rec + 1);
	memcpy(p, name, name_len);
	memcpy(p + name_len, data, len);
	memset(p + name_len + len, 0, size - sizeof(m->rec) - name_len - len);

	spin_lock(&in->lock);
	while (in->cluster && in->bytes + size > in->max_bytes) {
		spin_unlock(&in->lock);
		if (nonblock) {
			ret = -EAGAIN;
			goto out_free;
		}
		ret = wait_event_interruptible(in->wait_space,
					       push_ingress_room(in, size));
		if (ret)
			goto out_free;
		spin_lock(&in->lock);
	}
	if (!in->cluster) {
		/* Switched off meanwhile: an ordinary publish after all. */
		spin_unlock(&in->lock);
		kfree(m);
		return 1;
	}
	m->rec.id = in->next_seq++;
	/* While anything is queued, rmmod would lose it: EBUSY instead. */
	if (!in->queued)
		__module_get(THIS_MODULE);
	list_add_tail(&m->node, &in->queue);
	if (!in->unread)
		in->unread = m;
	in->bytes += size;
	in->queued++;
	spin_unlock(&in->lock);
	wake_up_interruptible(&in->wait_data);
	out->id = 0;
	out->time_ns = m->rec.time_ns;
	return 0;

out_free:
	kfree(m);
	return ret;
}

/*
 * For poll() on the device: false in cluster mode while a message of
 * max_msg_size on the longest channel name would not fit the queue, so
 * that EPOLLOUT promises that a write will not get EAGAIN (unless another
 * writer takes the room first).  Registers on wait_space, which ACK wakes.
 */
bool push_ingress_poll_room(struct push_dev *dev, struct file *file,
			    poll_table *wait)
{
	struct push_ingress *in = &dev->ingress;
	u32 max = push_record_size(PUSH_CHANNEL_MAX, dev->max_msg_size);

	if (!READ_ONCE(in->cluster))
		return true;
	poll_wait(file, &in->wait_space, wait);
	return READ_ONCE(in->bytes) + max <= in->max_bytes;
}

/* PUSH_IOC_SET_CLUSTER: 1 on, 0 off (only while nothing is queued). */
int push_ingress_set_cluster(struct push_dev *dev, u32 on)
{
	struct push_ingress *in = &dev->ingress;
	int ret = 0;

	if (on > 1)
		return -EINVAL;
	spin_lock(&in->lock);
	if (!on && in->queued)
		ret = -EBUSY;
	else
		WRITE_ONCE(in->cluster, on);
	spin_unlock(&in->lock);
	wake_up_interruptible_all(&in->wait_space);
	return ret;
}

/* PUSH_IOC_INGRESS_INFO, on /dev/push or the ingress node. */
long push_ingress_info(struct push_dev *dev,
		       struct push_ingress_info __user *argp)
{
	struct push_ingress *in = &dev->ingress;
	struct push_ingress_info ii = {};
	struct push_ingress_msg *m;

	spin_lock(&in->lock);
	ii.epoch = in->epoch;
	ii.next_seq = in->next_seq;
	ii.acked = in->acked;
	ii.queued = in->queued;
	ii.bytes = in->bytes;
	ii.max_bytes = in->max_bytes;
	m = list_first_entry_or_null(&in->queue, struct push_ingress_msg, node);
	ii.oldest_ns = m ? m->rec.time_ns : 0;
	ii.cluster = in->cluster;
	ii.opened = in->opened;
	spin_unlock(&in->lock);
	return copy_to_user(argp, &ii, sizeof(ii)) ? -EFAULT : 0;
}

/* Frees the entries up to @seq, which the opener has read. */
static long push_ingress_ack(struct push_dev *dev, u64 __user *argp)
{
	struct push_ingress *in = &dev->ingress;
	struct push_ingress_msg *m, *tmp;
	LIST_HEAD(done);
	bool had, put = false;
	u64 seq;
	int ret = 0;

	if (get_user(seq, argp))
		return -EFAULT;
	mutex_lock(&in->rlock);
	spin_lock(&in->lock);
	/* Only what was read: next unread entry's seq, or next_seq. */
	if (seq >= (in->unread ? in->unread->rec.id : in->next_seq)) {
		ret = -EINVAL;
	} else {
		had = in->queued;
		list_for_each_entry_safe(m, tmp, &in->queue, node) {
			if (m->rec.id > seq)
				break;
			list_move_tail(&m->node, &done);
			in->bytes -= m->rec.size;
			in->queued--;
		}
		if (seq > in->acked)
			in->acked = seq;
		put = had && !in->queued;
	}
	spin_unlock(&in->lock);
	if (put)
		module_put(THIS_MODULE);
	mutex_unlock(&in->rlock);
	list_for_each_entry_safe(m, tmp, &done, node)
		kfree(m);
	if (!ret)
		wake_up_interruptible_all(&in->wait_space);
	return ret;
}

static bool push_ingress_ready(struct push_ingress *in)
{
	return READ_ONCE(in->unread);
}

/* Copies whole unread records; returns bytes, 0, or -EINVAL / -EFAULT. */
static ssize_t push_ingress_copy(struct push_ingress *in, struct iov_iter *to)
{
	struct push_ingress_msg *m;
	ssize_t copied = 0;

	for (;;) {
		spin_lock(&in->lock);
		m = in->unread;
		spin_unlock(&in->lock);
		if (!m)
			break;
		if (iov_iter_count(to) < m->rec.size)
			return copied ? copied : -EINVAL;
		/* Only ACK frees entries, and it waits for rlock. */
		if (copy_to_iter(&m->rec, m->rec.size, to) != m->rec.size)
			return copied ? copied : -EFAULT;
		copied += m->rec.size;
		spin_lock(&in->lock);
		in->unread = list_is_last(&m->node, &in->queue) ? NULL :
			     list_next_entry(m, node);
		spin_unlock(&in->lock);
	}
	return copied;
}

static ssize_t push_ingress_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct file *file = iocb->ki_filp;
	struct push_ingress *in = &push_ingress_dev(file)->ingress;
	bool nonblock = (file->f_flags & O_NONBLOCK) ||
			(iocb->ki_flags & IOCB_NOWAIT);
	ssize_t ret;

	for (;;) {
		if (mutex_lock_interruptible(&in->rlock))
			return -ERESTARTSYS;
		ret = push_ingress_copy(in, to);
		mutex_unlock(&in->rlock);
		if (ret)
			return ret;
		if (nonblock)
			return -EAGAIN;
		if (wait_event_interruptible(in->wait_data,
					     push_ingress_ready(in)))
			return -ERESTARTSYS;
	}
}

static __poll_t push_ingress_poll(struct file *file, poll_table *wait)
{
	struct push_ingress *in = &push_ingress_dev(file)->ingress;

	poll_wait(file, &in->wait_data, wait);
	return push_ingress_ready(in) ? EPOLLIN | EPOLLRDNORM : 0;
}

static long push_ingress_ioctl(struct file *file, unsigned int cmd,
			       unsigned long arg)
{
	struct push_dev *dev = push_ingress_dev(file);
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case PUSH_IOC_INGRESS_ACK:
		return push_ingress_ack(dev, argp);
	default:
		/* The opener may do what CAP_SYS_ADMIN may on /dev/push. */
		return push_cluster_ioctl(dev, cmd, argp);
	}
}

static int push_ingress_open(struct inode *inode, struct file *file)
{
	struct miscdevice *misc = file->private_data;
	struct push_dev *dev = container_of(misc, struct push_dev,
					    ingress.misc);
	struct push_ingress *in = &dev->ingress;
	int ret = 0;

	mutex_lock(&in->rlock);
	spin_lock(&in->lock);
	if (in->opened) {
		ret = -EBUSY;
	} else {
		in->opened = true;
		/* Everything not acknowledged is read again. */
		in->unread = list_first_entry_or_null(&in->queue,
						      struct push_ingress_msg,
						      node);
	}
	spin_unlock(&in->lock);
	mutex_unlock(&in->rlock);
	if (ret)
		return ret;
	file->private_data = dev;
	file->f_mode |= FMODE_NOWAIT;
	return 0;
}

static int push_ingress_release(struct inode *inode, struct file *file)
{
	struct push_ingress *in = &push_ingress_dev(file)->ingress;

	spin_lock(&in->lock);
	in->opened = false;
	spin_unlock(&in->lock);
	return 0;
}

static const struct file_operations push_ingress_fops = {
	.owner = THIS_MODULE,
	.open = push_ingress_open,
	.release = push_ingress_release,
	.read_iter = push_ingress_read_iter,
	.poll = push_ingress_poll,
	.llseek = noop_llseek,
	.unlocked_ioctl = push_ingress_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/* Sets up the queue and registers /dev/<name>-ingress (mode 0600). */
int push_ingress_init(struct push_dev *dev, u64 max_bytes)
{
	struct push_ingress *in = &dev->ingress;

	spin_lock_init(&in->lock);
	mutex_init(&in->rlock);
	INIT_LIST_HEAD(&in->queue);
	init_waitqueue_head(&in->wait_data);
	init_waitqueue_head(&in->wait_space);
	in->max_bytes = max_bytes;
	in->next_seq = 1;
	do {
		in->epoch = get_random_u64();
	} while (!in->epoch);
	snprintf(in->name, sizeof(in->name), "%s-ingress", dev->name);
	in->misc.minor = MISC_DYNAMIC_MINOR;
	in->misc.name = in->name;
	in->misc.fops = &push_ingress_fops;
	in->misc.mode = 0600;
	return misc_register(&in->misc);
}

/* Deregisters the node and frees what is queued (no opener is left). */
void push_ingress_exit(struct push_dev *dev)
{
	struct push_ingress *in = &dev->ingress;
	struct push_ingress_msg *m, *tmp;

	misc_deregister(&in->misc);
	list_for_each_entry_safe(m, tmp, &in->queue, node)
		kfree(m);
	INIT_LIST_HEAD(&in->queue);
	mutex_destroy(&in->rlock);
}
