// SPDX-License-Identifier: GPL-2.0
/*
 * push_stats.c - counters of /dev/push.
 *
 *   /sys/class/misc/push/stats/{messages,bytes,readers,...}  one number each
 *   /sys/kernel/debug/push/channels    one line per channel:
 *                                      name published retained bytes last_id
 *
 * docs/ABI.txt describes every file.
 */

#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/seq_file.h>
#include <linux/sysfs.h>

#include "push_dev.h"

static struct dentry *push_debugfs_dir;

/* Counters kept as atomic64_t; attr->var points to one. */
static ssize_t push_atomic_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct dev_ext_attribute *ea = container_of(attr, struct dev_ext_attribute, attr);

	return sysfs_emit(buf, "%lld\n", (long long)atomic64_read(ea->var));
}

/* Values under push_dev.lock; attr->var holds an enum push_locked_stat. */
enum push_locked_stat {
	PUSH_STAT_CHANNELS,
	PUSH_STAT_RING_USED,
	PUSH_STAT_RING_SIZE,
	PUSH_STAT_RETAINED,
	PUSH_STAT_OLDEST_ID,
	PUSH_STAT_NEXT_ID,
};

static ssize_t push_locked_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct dev_ext_attribute *ea = container_of(attr, struct dev_ext_attribute, attr);
	u64 val = 0;

	down_read(&push_dev.lock);
	switch ((uintptr_t)ea->var) {
	case PUSH_STAT_CHANNELS:
		val = push_dev.nchans;
		break;
	case PUSH_STAT_RING_USED:
		val = push_dev.ring_used;
		break;
	case PUSH_STAT_RING_SIZE:
		val = push_dev.ring_size;
		break;
	case PUSH_STAT_RETAINED:
		val = push_dev.next_id - push_dev.oldest_id;
		break;
	case PUSH_STAT_OLDEST_ID:
		val = push_dev.oldest_id;
		break;
	case PUSH_STAT_NEXT_ID:
		val = push_dev.next_id;
		break;
	}
	up_read(&push_dev.lock);
	return sysfs_emit(buf, "%llu\n", val);
}

#define PUSH_ATOMIC(n, counter) \
	{ __ATTR(n, 0444, push_atomic_show, NULL), &push_dev.counter }
#define PUSH_LOCKED(n, what) \
	{ __ATTR(n, 0444, push_locked_show, NULL), (void *)(uintptr_t)(what) }

static struct dev_ext_attribute push_stats[] = {
	PUSH_ATOMIC(messages, messages),
	PUSH_ATOMIC(bytes, bytes),
	PUSH_ATOMIC(readers, readers),
	PUSH_ATOMIC(overruns, overruns),
	PUSH_ATOMIC(lost, lost),
	PUSH_ATOMIC(rejected, rejected),
	PUSH_LOCKED(channels, PUSH_STAT_CHANNELS),
	PUSH_LOCKED(ring_used, PUSH_STAT_RING_USED),
	PUSH_LOCKED(ring_size, PUSH_STAT_RING_SIZE),
	PUSH_LOCKED(retained, PUSH_STAT_RETAINED),
	PUSH_LOCKED(oldest_id, PUSH_STAT_OLDEST_ID),
	PUSH_LOCKED(next_id, PUSH_STAT_NEXT_ID),
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
	struct push_chan *chan;

	down_read(&push_dev.lock);
	list_for_each_entry(chan, &push_dev.chan_list, lnode)
		seq_printf(m, "%s %llu %llu %llu %llu\n", chan->name,
			   chan->published, chan->retained, chan->bytes,
			   chan->last_id);
	up_read(&push_dev.lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(push_channels);

/* Creates /sys/kernel/debug/push/channels; failure only loses the file. */
void push_debugfs_init(void)
{
	push_debugfs_dir = debugfs_create_dir("push", NULL);
	debugfs_create_file("channels", 0444, push_debugfs_dir, NULL,
			    &push_channels_fops);
}

void push_debugfs_exit(void)
{
	debugfs_remove_recursive(push_debugfs_dir);
}
