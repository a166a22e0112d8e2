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
 * reader to some channels, a reader whose cursor was overwritten gets a
 * PUSH_REC_GAP record saying how much it lost, and mmap() shares the whole
 * history read-only.  docs/ABI.txt is the contract; include/uapi/linux/
 * push.h its C form; push_ring.c describes the design.
 *
 * This file: module parameters, devices, publishing (write(), ioctl) and
 * the other ioctls, mmap(), open and release.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/vmalloc.h>

#include "push_dev.h"

#define CREATE_TRACE_POINTS
#include "push_trace.h"

static unsigned long ring_size = 4 << 20;
module_param(ring_size, ulong, 0444);
MODULE_PARM_DESC(ring_size, "Bytes of message history kept, a multiple of 4096 (4096..1073741824, default 4 MiB)");

static unsigned int max_msg_size = 65536;
module_param(max_msg_size, uint, 0444);
MODULE_PARM_DESC(max_msg_size, "Largest payload accepted, in bytes (default 65536)");

static ushort mode = 0660;
module_param(mode, ushort, 0444);
MODULE_PARM_DESC(mode, "Permissions of /dev/push (1..0777, default 0660)");

static unsigned int max_channels = 4096;
module_param(max_channels, uint, 0444);
MODULE_PARM_DESC(max_channels, "Most channels; publishing to one more fails with ENOSPC (default 4096)");

static unsigned long ingress_size = 1 << 20;
module_param(ingress_size, ulong, 0444);
MODULE_PARM_DESC(ingress_size, "Bytes of local publishes queued in cluster mode, at least one largest record (default 1 MiB)");

static unsigned int devices = 1;
module_param(devices, uint, 0444);
MODULE_PARM_DESC(devices, "Independent devices: /dev/push, /dev/push1, ... (1..16, default 1)");

static struct push_dev *push_devs[PUSH_MAX_DEVICES];

/* Longest text-write header: '@', a name, a space. */
#define PUSH_TEXT_HDR_MAX	(PUSH_CHANNEL_MAX + 2)
/* Payloads up to this size are copied through the stack, not kmalloc. */
#define PUSH_STACK_PAYLOAD	256

static struct push_dev *push_file_dev(struct file *file)
{
	return ((struct push_reader *)file->private_data)->dev;
}

/*
 * A buffer for @len payload bytes: @stack if it is large enough, else
 * kvmalloc'd and charged to the caller (GFP_NOWAIT under @nowait).
 */
static void *push_payload_buf(size_t len, void *stack, bool nowait)
{
	if (len <= PUSH_STACK_PAYLOAD)
		return stack;
	if (nowait)
		return kmalloc(len, GFP_NOWAIT | __GFP_ACCOUNT | __GFP_NOWARN);
	return kvmalloc(len, GFP_KERNEL_ACCOUNT);
}

static void push_payload_free(void *buf, void *stack)
{
	if (buf != stack)
		kvfree(buf);
}

/* Publishes @len bytes at @data (kernel memory) on channel @name. */
static int push_publish_kernel(struct push_dev *dev, const char *name,
			       size_t name_len, const void *data, u32 len,
			       u64 write_ns, bool nowait, u64 want,
			       struct push_publish *out)
{
	struct push_chan *chan;
	int ret;

	chan = push_chan_get(dev, name, name_len, true, nowait);
	if (IS_ERR(chan))
		return PTR_ERR(chan);
	ret = push_publish(dev, chan, data, len, write_ns, want, out);
	push_chan_put(dev, chan);
	return ret;
}

/*
 * A text write: "@NAME payload" or "payload" for channel "default", one
 * trailing newline dropped.  The whole payload is copied from user space
 * before the ring is touched.
 */
static ssize_t push_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct push_dev *dev = push_file_dev(iocb->ki_filp);
	bool nowait = iocb->ki_flags & IOCB_NOWAIT;
	size_t count = iov_iter_count(from);
	size_t hdr_len = min_t(size_t, count, PUSH_TEXT_HDR_MAX);
	u8 stack[PUSH_STACK_PAYLOAD] __aligned(8);
	u64 write_ns = ktime_get_ns();
	char hdr[PUSH_TEXT_HDR_MAX];
	const char *name = PUSH_CHANNEL_DEFAULT;
	size_t name_len = strlen(PUSH_CHANNEL_DEFAULT);
	struct push_publish out;
	size_t off = 0, len;
	u8 *buf;
	int ret;
	char *sp;

	ret = -EINVAL;
	if (!count)
		goto out_reject;
	ret = -EFAULT;
	if (copy_from_iter(hdr, hdr_len, from) != hdr_len)
		goto out_reject;
	ret = -EINVAL;
	if (hdr[0] == '@') {
		sp = memchr(hdr + 1, ' ', hdr_len - 1);
		if (!sp || !push_chan_name_valid(hdr + 1, sp - hdr - 1))
			goto out_reject;
		name = hdr + 1;
		name_len = sp - hdr - 1;
		off = sp - hdr + 1;
	}
	/* A payload of max_msg_size + 1 may still end in the newline. */
	len = count - off;
	ret = -EMSGSIZE;
	if (len > (size_t)dev->max_msg_size + 1)
		goto out_reject;
	ret = -EINVAL;
	if (!len)
		goto out_reject;
	ret = nowait ? -EAGAIN : -ENOMEM;
	buf = push_payload_buf(len, stack, nowait);
	if (!buf)
		goto out_reject;
	memcpy(buf, hdr + off, hdr_len - off);
	ret = -EFAULT;
	if (copy_from_iter(buf + hdr_len - off, count - hdr_len, from) !=
	    count - hdr_len)
		goto out_free;
	if (buf[len - 1] == '\n')
		len--;
	ret = len ? -EMSGSIZE : -EINVAL;
	if (!len || len > dev->max_msg_size)
		goto out_free;
	ret = push_ingress_publish(dev, name, name_len, buf, len,
				   nowait || iocb->ki_filp->f_flags & O_NONBLOCK,
				   &out);
	if (ret > 0)
		ret = push_publish_kernel(dev, name, name_len, buf, len,
					  write_ns, nowait, 0, &out);
	if (ret)
		goto out_free;
	push_payload_free(buf, stack);
	return count;

out_free:
	push_payload_free(buf, stack);
out_reject:
	/* A full ingress queue or a signal refuses nothing for good. */
	if (ret != -EAGAIN && ret != -ERESTARTSYS)
		atomic64_inc(&dev->rejected);
	return ret;
}

/*
 * PUSH_IOC_PUBLISH, and PUSH_IOC_PUBLISH_ID (@with_id): the id (and a
 * nonzero time_ns) come from the caller, the cluster bridge.
 */
static long push_ioctl_publish(struct push_dev *dev,
			       struct push_publish __user *argp, bool with_id,
			       bool nonblock)
{
	u8 stack[PUSH_STACK_PAYLOAD] __aligned(8);
	u64 write_ns = ktime_get_ns();
	struct push_publish pub;
	void *buf;
	int ret;

	if (copy_from_user(&pub, argp, sizeof(pub))) {
		ret = -EFAULT;
		goto out_reject;
	}
	ret = -EINVAL;
	if (pub.flags || pub.reserved || !pub.data_len ||
	    !push_chan_name_valid(pub.channel, pub.chan_len))
		goto out_reject;
	if (with_id && (!pub.id || pub.id >= PUSH_ID_MAX))
		goto out_reject;
	ret = -EMSGSIZE;
	if (pub.data_len > dev->max_msg_size)
		goto out_reject;
	ret = -ENOMEM;
	buf = push_payload_buf(pub.data_len, stack, false);
	if (!buf)
		goto out_reject;
	ret = -EFAULT;
	if (copy_from_user(buf, u64_to_user_ptr(pub.data), pub.data_len))
		goto out_free;
	ret = with_id ? 1 : push_ingress_publish(dev, pub.channel,
						  pub.chan_len, buf,
						  pub.data_len, nonblock, &pub);
	if (ret > 0)
		ret = push_publish_kernel(dev, pub.channel, pub.chan_len, buf,
					  pub.data_len, write_ns, false,
					  with_id ? pub.id : 0, &pub);
	if (ret)
		goto out_free;
	push_payload_free(buf, stack);
	/* Published: a fault now only loses the caller its id. */
	if (copy_to_user(argp, &pub, sizeof(pub)))
		return -EFAULT;
	return 0;

out_free:
	push_payload_free(buf, stack);
out_reject:
	/* A full ingress queue or a signal refuses nothing for good. */
	if (ret != -EAGAIN && ret != -ERESTARTSYS)
		atomic64_inc(&dev->rejected);
	return ret;
}

static long push_ioctl_info(struct push_dev *dev, struct push_info __user *argp)
{
	struct push_info info = {};
	unsigned int seq;

	do {
		seq = read_seqcount_begin(&dev->seq);
		info.oldest_id = READ_ONCE(dev->hdr->oldest_id);
		info.next_id = READ_ONCE(dev->hdr->next_id);
		info.ring_used = READ_ONCE(dev->hdr->head_pos) -
				 READ_ONCE(dev->hdr->tail_pos);
	} while (read_seqcount_retry(&dev->seq, seq));
	info.retained = info.next_id - info.oldest_id;
	info.ring_size = dev->ring_size;
	info.max_msg_size = dev->max_msg_size;
	info.channels = atomic_read(&dev->nchans);
	info.epoch = READ_ONCE(dev->epoch);
	info.version = PUSH_ABI_VERSION;
	info.features = PUSH_FEAT_EPOCH | PUSH_FEAT_MMAP | PUSH_FEAT_PUB_EBADF |
			PUSH_FEAT_PUBLISH_ID | PUSH_FEAT_INGRESS;
	info.mmap_size = PAGE_SIZE + dev->ring_size;
	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

static long push_ioctl_chan_info(struct push_dev *dev,
				 struct push_chan_info __user *argp)
{
	struct push_chan_info ci;
	struct push_chan *chan;
	unsigned int seq;

	if (copy_from_user(&ci, argp, sizeof(ci)))
		return -EFAULT;
	if (ci.reserved || !push_chan_name_valid(ci.channel, ci.chan_len))
		return -EINVAL;
	chan = push_chan_get(dev, ci.channel, ci.chan_len, false, false);
	if (!chan)
		return -ENOENT;
	do {
		seq = read_seqcount_begin(&dev->seq);
		ci.last_id = READ_ONCE(chan->last_id);
		ci.published = READ_ONCE(chan->published);
		ci.retained = READ_ONCE(chan->retained);
		ci.bytes = READ_ONCE(chan->bytes);
	} while (read_seqcount_retry(&dev->seq, seq));
	push_chan_put(dev, chan);
	/* A channel only a filter names has no message yet. */
	if (!ci.published)
		return -ENOENT;
	return copy_to_user(argp, &ci, sizeof(ci)) ? -EFAULT : 0;
}

/*
 * The ioctls of the cluster bridge, once the caller was found allowed:
 * CAP_SYS_ADMIN on a file opened for writing, or the ingress node.
 */
long push_cluster_ioctl(struct push_dev *dev, unsigned int cmd,
			void __user *argp)
{
	u64 epoch;
	u32 on;

	switch (cmd) {
	case PUSH_IOC_PUBLISH_ID:
		return push_ioctl_publish(dev, argp, true, false);
	case PUSH_IOC_SET_EPOCH:
		if (get_user(epoch, (u64 __user *)argp))
			return -EFAULT;
		if (!epoch)
			return -EINVAL;
		return push_set_epoch(dev, epoch);
	case PUSH_IOC_SET_CLUSTER:
		if (get_user(on, (u32 __user *)argp))
			return -EFAULT;
		return push_ingress_set_cluster(dev, on);
	case PUSH_IOC_INGRESS_INFO:
		return push_ingress_info(dev, argp);
	case PUSH_IOC_INFO:
		return push_ioctl_info(dev, argp);
	default:
		return -ENOTTY;
	}
}

static long push_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct push_dev *dev = push_file_dev(file);
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case PUSH_IOC_PUBLISH:
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		return push_ioctl_publish(dev, argp, false,
					  file->f_flags & O_NONBLOCK);
	case PUSH_IOC_PUBLISH_ID:
	case PUSH_IOC_SET_EPOCH:
	case PUSH_IOC_SET_CLUSTER:
		if (!(file->f_mode & FMODE_WRITE))
			return -EBADF;
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		return push_cluster_ioctl(dev, cmd, argp);
	case PUSH_IOC_SET_FILTER:
		if (!(file->f_mode & FMODE_READ))
			return -EBADF;
		return push_set_filter(file->private_data, argp);
	case PUSH_IOC_INFO:
		return push_ioctl_info(dev, argp);
	case PUSH_IOC_INGRESS_INFO:
		return push_ingress_info(dev, argp);
	case PUSH_IOC_CHAN_INFO:
		return push_ioctl_chan_info(dev, argp);
	default:
		return -ENOTTY;
	}
}

/* The header page and the data ring, read-only, from offset 0. */
static int push_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct push_dev *dev = push_file_dev(file);

	if (vma->vm_pgoff)
		return -EINVAL;
	if (vma->vm_end - vma->vm_start > PAGE_SIZE + dev->ring_size)
		return -EINVAL;
	if (vma->vm_flags & VM_WRITE)
		return -EPERM;
	vma->vm_flags &= ~VM_MAYWRITE;
	return remap_vmalloc_range(vma, dev->hdr, 0);
}

static int push_open(struct inode *inode, struct file *file)
{
	struct miscdevice *misc = file->private_data;
	struct push_dev *dev = container_of(misc, struct push_dev, misc);
	struct push_reader *r;

	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r)
		return -ENOMEM;
	r->dev = dev;
	mutex_init(&r->lock);
	seqcount_init(&r->seq);
	r->cursor = READ_ONCE(dev->hdr->oldest_id);
	file->private_data = r;
	/* Reads and writes honour IOCB_NOWAIT: io_uring polls, never punts. */
	file->f_mode |= FMODE_NOWAIT;
	atomic64_inc(&dev->readers);
	return 0;
}

static int push_release(struct inode *inode, struct file *file)
{
	struct push_reader *r = file->private_data;

	atomic64_dec(&r->dev->readers);
	push_reader_free_filter(r);
	mutex_destroy(&r->lock);
	kfree(r);
	return 0;
}

const struct file_operations push_fops = {
	.owner = THIS_MODULE,
	.open = push_open,
	.release = push_release,
	.read_iter = push_read_iter,
	.write_iter = push_write_iter,
	.llseek = push_llseek,
	.poll = push_poll,
	.mmap = push_mmap,
	.unlocked_ioctl = push_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static int push_check_params(void)
{
	u64 max_rec = push_record_size(PUSH_CHANNEL_MAX, max_msg_size);

	if (ring_size < 4096 || ring_size > (1UL << 30) || ring_size % 4096) {
		pr_err("ring_size=%lu: must be a multiple of 4096 in 4096..1073741824\n",
		       ring_size);
		return -EINVAL;
	}
	if (!max_msg_size || max_rec > ring_size) {
		pr_err("max_msg_size=%u: must be 1..%lu for ring_size=%lu\n",
		       max_msg_size,
		       ring_size - sizeof(struct push_record) - PUSH_CHANNEL_MAX,
		       ring_size);
		return -EINVAL;
	}
	if (ingress_size < max_rec || ingress_size > (1UL << 30)) {
		pr_err("ingress_size=%lu: must be %llu..1073741824 for max_msg_size=%u\n",
		       ingress_size, max_rec, max_msg_size);
		return -EINVAL;
	}
	if (!max_channels || max_channels > (1U << 20)) {
		pr_err("max_channels=%u: must be 1..1048576\n", max_channels);
		return -EINVAL;
	}
	if (!mode || mode & ~0777) {
		pr_err("mode=%#o: must be permission bits 1..0777\n", mode);
		return -EINVAL;
	}
	if (!devices || devices > PUSH_MAX_DEVICES) {
		pr_err("devices=%u: must be 1..%d\n", devices, PUSH_MAX_DEVICES);
		return -EINVAL;
	}
	return 0;
}

static void push_dev_destroy(struct push_dev *dev)
{
	push_ingress_exit(dev);
	misc_deregister(&dev->misc);
	push_debugfs_exit(dev);
	push_ring_exit(dev);
	push_chan_exit(dev);
	kfree(dev);
}

static int push_dev_create(int index)
{
	struct push_dev *dev;
	int ret;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	dev->index = index;
	if (index)
		snprintf(dev->name, sizeof(dev->name), "push%d", index);
	else
		strscpy(dev->name, "push", sizeof(dev->name));
	ret = push_chan_init(dev);
	if (ret)
		goto out_free;
	ret = push_ring_init(dev, ring_size, max_msg_size, max_channels);
	if (ret)
		goto out_chan;
	push_debugfs_init(dev);
	dev->misc.minor = MISC_DYNAMIC_MINOR;
	dev->misc.name = dev->name;
	dev->misc.fops = &push_fops;
	dev->misc.groups = push_groups;
	dev->misc.mode = mode;
	ret = misc_register(&dev->misc);
	if (ret)
		goto out_ring;
	ret = push_ingress_init(dev, ingress_size);
	if (ret)
		goto out_misc;
	push_devs[index] = dev;
	return 0;

out_misc:
	misc_deregister(&dev->misc);
out_ring:
	push_debugfs_exit(dev);
	push_ring_exit(dev);
out_chan:
	push_chan_exit(dev);
out_free:
	kfree(dev);
	return ret;
}

static void push_destroy_all(void)
{
	int i;

	for (i = PUSH_MAX_DEVICES - 1; i >= 0; i--) {
		if (push_devs[i])
			push_dev_destroy(push_devs[i]);
		push_devs[i] = NULL;
	}
}

static int __init push_init(void)
{
	unsigned int i;
	int ret;

	ret = push_check_params();
	if (ret)
		return ret;
	for (i = 0; i < devices; i++) {
		ret = push_dev_create(i);
		if (ret) {
			push_destroy_all();
			return ret;
		}
	}
	return 0;
}

static void __exit push_exit(void)
{
	push_destroy_all();
}

module_init(push_init);
module_exit(push_exit);

MODULE_AUTHOR("push project");
MODULE_DESCRIPTION("/dev/push: message bus with history, for pushd");
MODULE_LICENSE("GPL");
