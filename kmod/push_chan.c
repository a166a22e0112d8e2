// SPDX-License-Identifier: GPL-2.0
/*
 * push_chan.c - the channels of one device.
 *
 * A channel comes into being with its first message, or when an open
 * file's filter names it, and is freed as soon as nothing refers to it:
 * none of its messages is among the last ndescs ids (the index, which
 * holds every retained message and the channels of recently evicted ones)
 * and no open file's filter names it (push_chan.refs).  It then disappears
 * from PUSH_IOC_CHAN_INFO (ENOENT), from the channels count and from
 * /sys/kernel/debug/push/channels at once (push_chan_dead()); its memory
 * follows in push_chan_reap(), after an RCU grace period.  A channel
 * that comes into being again starts its counters at 0.
 *
 * Lookups are lockless: rhashtable under rcu_read_lock(), then
 * refcount_inc_not_zero().  rhashtable hashes the name with jhash and a
 * random per-table seed, and rehashes on long chains, so crafted names
 * cannot pile up in one bucket.  dev->chan_lock, a mutex, serialises creation
 * and removal; publishers take it only to create a channel, never with
 * dev->wlock held.
 */

#include <linux/jhash.h>
#include <linux/rculist.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>

#include "push_dev.h"

/* The name's bytes only, with the table's random seed. */
static u32 push_chan_hash(const void *data, u32 len, u32 seed)
{
	const struct push_chan_key *key = data;

	return jhash(key->name, key->len, seed);
}

static int push_chan_cmp(struct rhashtable_compare_arg *arg, const void *obj)
{
	const struct push_chan_key *key = arg->key;
	const struct push_chan *chan = obj;

	return chan->key.len != key->len ||
	       memcmp(chan->key.name, key->name, key->len);
}

static const struct rhashtable_params push_chan_params = {
	.key_len = sizeof(struct push_chan_key),
	.key_offset = offsetof(struct push_chan, key),
	.head_offset = offsetof(struct push_chan, node),
	/* Objects hash through their key (no obj_hashfn: see
	 * rhashtable_lookup_get_insert_fast()).
	 */
	.hashfn = push_chan_hash,
	.obj_cmpfn = push_chan_cmp,
	.automatic_shrinking = true,
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

static void push_chan_key_init(struct push_chan_key *key, const char *name,
			       size_t len)
{
	key->len = len;
	memcpy(key->name, name, len);
	key->name[len] = '\0';
}

/* A live channel called @key with a new reference, or NULL. */
static struct push_chan *push_chan_lookup(struct push_dev *dev,
					  const struct push_chan_key *key)
{
	struct push_chan *chan;

	rcu_read_lock();
	chan = rhashtable_lookup(&dev->chans, key, push_chan_params);
	if (chan && !refcount_inc_not_zero(&chan->refs))
		chan = NULL;
	rcu_read_unlock();
	return chan;
}

/* Takes a dead channel out of the table and the list.  Under chan_lock. */
static void push_chan_unlink(struct push_dev *dev, struct push_chan *chan)
{
	lockdep_assert_held(&dev->chan_lock);
	if (chan->unlinked)
		return;
	chan->unlinked = true;
	rhashtable_remove_fast(&dev->chans, &chan->node, push_chan_params);
	list_del_rcu(&chan->lnode);
}

/* Creates the channel @key with one reference.  Under chan_lock. */
static struct push_chan *push_chan_create(struct push_dev *dev,
					  const struct push_chan_key *key)
{
	struct push_chan *chan, *old;

	lockdep_assert_held(&dev->chan_lock);
	if (atomic_read(&dev->nchans) >= dev->max_channels)
		return ERR_PTR(-ENOSPC);
	chan = kzalloc(sizeof(*chan), GFP_KERNEL_ACCOUNT);
	if (!chan)
		return ERR_PTR(-ENOMEM);
	chan->key = *key;
	refcount_set(&chan->refs, 1);
	chan->serial = ++dev->chan_serial;
	for (;;) {
		old = rhashtable_lookup_get_insert_fast(&dev->chans, &chan->node,
							push_chan_params);
		if (!old)
			break;
		if (IS_ERR(old)) {
			kfree(chan);
			return old;
		}
		/* A dead namesake not reaped yet: it goes now. */
		push_chan_unlink(dev, old);
	}
	list_add_tail_rcu(&chan->lnode, &dev->chan_list);
	atomic_inc(&dev->nchans);
	return chan;
}

/**
 * push_chan_get - the channel called @name, with a reference
 * @dev:    the device.
 * @name:   a valid name.
 * @len:    its length.
 * @create: create it if it does not exist.
 * @nowait: do not sleep: -EAGAIN where creating it would.
 *
 * Returns the channel, NULL (not found, !@create), or an ERR_PTR:
 * -ENOSPC (max_channels live channels), -ENOMEM, -EAGAIN.
 */
struct push_chan *push_chan_get(struct push_dev *dev, const char *name,
				size_t len, bool create, bool nowait)
{
	struct push_chan_key key;
	struct push_chan *chan;

	push_chan_key_init(&key, name, len);
	chan = push_chan_lookup(dev, &key);
	if (chan || !create)
		return chan;
	if (nowait)
		return ERR_PTR(-EAGAIN);
	mutex_lock(&dev->chan_lock);
	chan = push_chan_lookup(dev, &key);
	if (!chan)
		chan = push_chan_create(dev, &key);
	mutex_unlock(&dev->chan_lock);
	return chan;
}

/* Drops a reference; the last one makes the channel dead. */
void push_chan_put(struct push_dev *dev, struct push_chan *chan)
{
	if (refcount_dec_and_test(&chan->refs))
		push_chan_dead(dev, chan);
}

/*
 * The channel's last reference is gone: it stops counting now, and is
 * unlinked and freed by the work item.  Never sleeps.
 */
void push_chan_dead(struct push_dev *dev, struct push_chan *chan)
{
	atomic_dec(&dev->nchans);
	llist_add(&chan->dead_node, &dev->dead);
	schedule_work(&dev->reap);
}

/* Work item: unlinks and frees the dead channels. */
void push_chan_reap(struct work_struct *work)
{
	struct push_dev *dev = container_of(work, struct push_dev, reap);
	struct push_chan *chan, *tmp;
	struct llist_node *list;

	mutex_lock(&dev->chan_lock);
	list = llist_del_all(&dev->dead);
	llist_for_each_entry_safe(chan, tmp, list, dead_node) {
		push_chan_unlink(dev, chan);
		kfree_rcu(chan, rcu);
	}
	mutex_unlock(&dev->chan_lock);
}

int push_chan_init(struct push_dev *dev)
{
	mutex_init(&dev->chan_lock);
	INIT_LIST_HEAD(&dev->chan_list);
	init_llist_head(&dev->dead);
	INIT_WORK(&dev->reap, push_chan_reap);
	return rhashtable_init(&dev->chans, &push_chan_params);
}

/* After push_ring_exit(): every channel is dead. */
void push_chan_exit(struct push_dev *dev)
{
	flush_work(&dev->reap);
	push_chan_reap(&dev->reap);
	WARN_ON_ONCE(!list_empty(&dev->chan_list));
	rhashtable_destroy(&dev->chans);
	mutex_destroy(&dev->chan_lock);
}
