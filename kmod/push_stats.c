// SPDX-License-Identifier: GPL-2.0
/*
 * push_stats.c - counters of /dev/push, per device.
 *
 *   /sys/class/misc/push/stats/{messages,bytes,readers,...}  one number each
 *   /sys/kernel/debug/push/channels    one line per live channel:
 *                                      name published retained bytes last_id
 *   (/dev/push1 ...: /sys/class/misc/push1/stats/, debugfs push1/channels)
 *
 * No file takes a lock a publisher takes.  docs/ABI.txt describes them.
 */

#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/seq_file.h>
#include <linux/sysfs.h>

#include "push_dev.h"

enum push_stat {
	PUSH_STAT_MESSAGES,
	PUSH_STAT_BYTES,
	PUSH_STAT_READERS,
	PUSH_STAT_OVERRUNS,
	PUSH_STAT_LOST,
	PUSH_STAT_REJECTED,
	PUSH_STAT_CHANNELS,
	PUSH_STAT_RING_USED,
	PUSH_STAT_RING_SIZE,
	PUSH_STAT_RETAINED,
	PUSH_STAT_OLDEST_ID,
	PUSH_STAT_NEXT_ID,
	PUSH_STAT_EPOCH,
	PUSH_STAT_VERSION,
	PUSH_STAT_CLUSTER,
	PUSH_STAT_INGRESS_QUEUED,
	PUSH_STAT_INGRESS_BYTES,
};

static u64 push_stat_value(struct push_dev *dev, enum push_stat which)
{
	struct push_mmap_header *hdr = dev->hdr;
	u64 a, b;
	unsigned int seq;

	switch (which) {
	case PUSH_STAT_MESSAGES:
		return READ_ONCE(dev->messages);
	case PUSH_STAT_BYTES:
		return READ_ONCE(dev->bytes);
	case PUSH_STAT_READERS:
		return atomic64_read(&dev->readers);
	case PUSH_STAT_OVERRUNS:
		return atomic64_read(&dev->overruns);
	case PUSH_STAT_LOST:
		return atomic64_read(&dev->lost);
	case PUSH_STAT_REJECTED:
		return atomic64_read(&dev->rejected);
	case PUSH_STAT_CHANNELS:
		return atomic_read(&dev->nchans);
	case PUSH_STAT_RING_SIZE:
		return dev->ring_size;
	case PUSH_STAT_OLDEST_ID:
		return READ_ONCE(hdr->oldest_id);
	case PUSH_STAT_NEXT_ID:
		return READ_ONCE(hdr->next_id);
	case PUSH_STAT_EPOCH:
		return READ_ONCE(dev->epoch);
	case PUSH_STAT_VERSION:
		return PUSH_ABI_VERSION;
	case PUSH_STAT_CLUSTER:
		return READ_ONCE(dev->ingress.cluster);
	case PUSH_STAT_INGRESS_QUEUED:
		return READ_ONCE(dev->ingress.queued);
	case PUSH_STAT_INGRESS_BYTES:
		return READ_ONCE(dev->ingress.bytes);
	case PUSH_STAT_RING_USED:
	case PUSH_STAT_RETAINED:
		do {
			seq = read_seqcount_begin(&dev->seq);
			if (which == PUSH_STAT_RING_USED) {
				a = READ_ONCE(hdr->head_pos);
				b = READ_ONCE(hdr->tail_pos);
			} else {
				a = READ_ONCE(hdr->next_id);
				b = READ_ONCE(hdr->oldest_id);
			}
		} while (read_seqcount_retry(&dev->seq, seq));
		return a - b;
	}
	return 0;
}

static ssize_t push_stat_show(struct device *d, struct device_attribute *attr,
			      char *buf)
{
	struct dev_ext_attribute *ea = container_of(attr, struct dev_ext_attribute, attr);
	struct miscdevice *misc = dev_get_drvdata(d);
	struct push_dev *dev = container_of(misc, struct push_dev, misc);

	return sysfs_emit(buf, "%llu\n",
			  push_stat_value(dev, (uintptr_t)ea->var));
}

#define PUSH_STAT(n, what) \
	{ __ATTR(n, 0444, push_stat_show, NULL), (void *)(uintptr_t)(what) }

static struct dev_ext_attribute push_stats[] = {
	PUSH_STAT(messages, PUSH_STAT_MESSAGES),
	PUSH_STAT(bytes, PUSH_STAT_BYTES),
	PUSH_STAT(readers, PUSH_STAT_READERS),
	PUSH_STAT(overruns, PUSH_STAT_OVERRUNS),
	PUSH_STAT(lost, PUSH_STAT_LOST),
	PUSH_STAT(rejected, PUSH_STAT_REJECTED),
	PUSH_STAT(channels, PUSH_STAT_CHANNELS),
	PUSH_STAT(ring_used, PUSH_STAT_RING_USED),
	PUSH_STAT(ring_size, PUSH_STAT_RING_SIZE),
	PUSH_STAT(retained, PUSH_STAT_RETAINED),
	PUSH_STAT(oldest_id, PUSH_STAT_OLDEST_ID),
	PUSH_STAT(next_id, PUSH_STAT_NEXT_ID),
	PUSH_STAT(epoch, PUSH_STAT_EPOCH),
	PUSH_STAT(version, PUSH_STAT_VERSION),
	PUSH_STAT(cluster, PUSH_STAT_CLUSTER),
	PUSH_STAT(ingress_queued, PUSH_STAT_INGRESS_QUEUED),
	PUSH_STAT(ingress_bytes, PUSH_STAT_INGRESS_BYTES),
};

static struct attribute *push_stats_attrs[] = {
	&push_stats[0].attr.attr,
	&push_stats[1].attr.attr,
	&push_stats[2].attr.attr,
	&push_stats[3].attr.attr,
	&push_stats[4].attr.attr,
	&push_stats[5].attr.attr,
	&push_stats[6].attr.attr,
	&push_stats[7].attr.attr,
	&push_stats[8].attr.attr,
	&push_stats[9].attr.attr,
	&push_stats[10].attr.attr,
	&push_stats[11].attr.attr,
	&push_stats[12].attr.attr,
	&push_stats[13].attr.attr,
	&push_stats[14].attr.attr,
	&push_stats[15].attr.attr,
	&push_stats[16].attr.attr,
	NULL,
};

static const struct attribute_group push_stats_group = {
	.name = "stats",
	.attrs = push_stats_attrs,
};

const struct attribute_group *push_groups[] = {
	&push_stats_group,
	NULL,
};

static int push_channels_show(struct seq_file *m, void *v)
{
	struct push_dev *dev = m->private;
	struct push_chan *chan;

	mutex_lock(&dev->chan_lock);
	list_for_each_entry(chan, &dev->chan_list, lnode) {
		if (!refcount_read(&chan->refs))
			continue;	/* dead, not reaped yet */
		seq_printf(m, "%s %llu %llu %llu %llu\n", chan->key.name,
			   READ_ONCE(chan->published), READ_ONCE(chan->retained),
			   READ_ONCE(chan->bytes), READ_ONCE(chan->last_id));
	}
	mutex_unlock(&dev->chan_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(push_channels);

/* Creates /sys/kernel/debug/NAME/channels; failure only loses the file. */
void push_debugfs_init(struct push_dev *dev)
{
	BUILD_BUG_ON(ARRAY_SIZE(push_stats) + 1 != ARRAY_SIZE(push_stats_attrs));
	dev->debugfs = debugfs_create_dir(dev->name, NULL);
	debugfs_create_file("channels", 0444, dev->debugfs, dev,
			    &push_channels_fops);
}

void push_debugfs_exit(struct push_dev *dev)
{
	debugfs_remove_recursive(dev->debugfs);
}
