/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * push.h - user ABI of /dev/push, the kernel message bus behind pushd.
 *
 * The plain-text contract is docs/ABI.txt; this header is its C form.
 *
 * Publishing:
 *   write(fd, "@chat hello\n", 12)	   one message "hello" on channel "chat"
 *   write(fd, "hello\n", 6)		   one message "hello" on channel "default"
 *   ioctl(fd, PUSH_IOC_PUBLISH, &pub)	   arbitrary bytes on any channel
 *
 * Reading: every open file has its own cursor, an id.  Each read() returns
 * as many whole records (struct push_record + channel + data + padding) as
 * fit in the buffer, never a partial one.  Or mmap() the history read-only:
 * struct push_mmap_header, then the data ring, whose records have the same
 * layout (lib/push_ring_reader.h reads it).
 */
#ifndef _UAPI_LINUX_PUSH_H
#define _UAPI_LINUX_PUSH_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Longest channel name; names are 1-64 characters of [A-Za-z0-9_.:-]. */
#define PUSH_CHANNEL_MAX	64
/* Channel of a text write that does not start with "@NAME ". */
#define PUSH_CHANNEL_DEFAULT	"default"
/* Most channels one reader may filter on. */
#define PUSH_FILTER_MAX		64
/* Records start on this alignment; push_record.size is a multiple of it. */
#define PUSH_RECORD_ALIGN	8

/* push_record.type */
#define PUSH_REC_MSG		1	/* a message */
#define PUSH_REC_GAP		2	/* messages this reader lost: see push_gap */
#define PUSH_REC_PAD		3	/* mmap ring only: skip to the ring's start */

/* ABI version (push_info.version) and features (push_info.features). */
#define PUSH_ABI_VERSION	2
#define PUSH_FEAT_EPOCH		0x1U	/* push_info.epoch is set */
#define PUSH_FEAT_MMAP		0x2U	/* mmap() of the history */
#define PUSH_FEAT_PUB_EBADF	0x4U	/* PUBLISH needs FMODE_WRITE */
#define PUSH_FEAT_PUBLISH_ID	0x8U	/* PUSH_IOC_PUBLISH_ID, PUSH_IOC_SET_EPOCH */
#define PUSH_FEAT_INGRESS	0x10U	/* cluster mode, the ingress node */

/**
 * struct push_record - header of each record returned by read()
 * @id:       for PUSH_REC_MSG, the message's sequence id: one counter across
 *            all channels, starting at 1, strictly increasing, never reused
 *            while the module is loaded.  For PUSH_REC_GAP, the first id
 *            that was lost.
 * @time_ns:  CLOCK_REALTIME of the publish, in nanoseconds (0 for a gap).
 * @size:     bytes from the start of this header to the next record:
 *            header, channel, data and padding, a multiple of
 *            PUSH_RECORD_ALIGN.  Step by @size; never compute it.
 * @data_len: bytes of data, which follow the channel name.
 * @type:     PUSH_REC_MSG or PUSH_REC_GAP; skip records of unknown types.
 * @chan_len: bytes of channel name right after the header, no NUL (0 for
 *            a gap).
 * @flags:    reserved, 0 for now; unknown flags must be ignored.
 * @reserved: 0 for now; must be ignored.
 */
struct push_record {
	__u64 id;
	__u64 time_ns;
	__u32 size;
	__u32 data_len;
	__u16 type;
	__u8 chan_len;
	__u8 flags;
	__u32 reserved;
};

/**
 * struct push_gap - data of a PUSH_REC_GAP record
 * @next_id: the id this reader resumes from (the oldest retained message
 *           at the time the loss was noticed); ids in [record.id, next_id)
 *           were overwritten before this reader read them.
 * @lost:    how many of those messages this reader would have read: all of
 *           them without a channel filter, only its channels' with one.
 */
struct push_gap {
	__u64 next_id;
	__u64 lost;
};

/**
 * struct push_publish - argument of PUSH_IOC_PUBLISH and PUSH_IOC_PUBLISH_ID
 * @data:     user address of the payload (any bytes), as a __u64.
 * @id:       out: the id the message was given.  PUBLISH_ID: in, the id
 *            to give it, at least PUSH_IOC_INFO's next_id, below 2^63.
 * @time_ns:  out: its CLOCK_REALTIME timestamp.  PUBLISH_ID: in, the
 *            timestamp to record (0: now).
 * @data_len: payload bytes, 1..max_msg_size.
 * @chan_len: bytes used in @channel, 1..PUSH_CHANNEL_MAX.
 * @flags:    must be 0.
 * @reserved: must be 0.
 * @channel:  the channel name, not NUL-terminated.
 */
struct push_publish {
	__u64 data;
	__u64 id;
	__u64 time_ns;
	__u32 data_len;
	__u32 chan_len;
	__u32 flags;
	__u32 reserved;
	__u8 channel[PUSH_CHANNEL_MAX];
};

/**
 * struct push_filter - argument of PUSH_IOC_SET_FILTER
 * @names:    user address of a comma-separated list of channel names,
 *            e.g. "a,b,c" (no NUL needed), as a __u64.
 * @len:      bytes at @names; 0 removes the filter (read every channel).
 * @flags:    must be 0.
 */
struct push_filter {
	__u64 names;
	__u32 len;
	__u32 flags;
};

/**
 * struct push_info - result of PUSH_IOC_INFO: the device's state
 * @oldest_id:    id of the oldest retained message (== @next_id when empty).
 * @next_id:      id the next message will get.
 * @ring_size:    history budget in bytes (module parameter ring_size), also
 *                the size of the data ring.
 * @ring_used:    bytes of it in use (records and padding between the oldest
 *                retained record and the next one's place).
 * @retained:     messages retained.
 * @max_msg_size: largest payload accepted (module parameter max_msg_size).
 * @channels:     channels that exist (see docs/ABI.txt, "Channels").
 * @epoch:        random, nonzero, chosen at module load: ids of two loads
 *                are comparable only if their epochs are equal.
 * @version:      PUSH_ABI_VERSION (0 from modules before the epoch).
 * @features:     PUSH_FEAT_* bits.
 * @mmap_size:    bytes mmap() maps: the header page and the data ring.
 * @reserved:     0.
 */
struct push_info {
	__u64 oldest_id;
	__u64 next_id;
	__u64 ring_size;
	__u64 ring_used;
	__u64 retained;
	__u32 max_msg_size;
	__u32 channels;
	__u64 epoch;
	__u32 version;
	__u32 features;
	__u64 mmap_size;
	__u64 reserved;
};

/* push_mmap_header.magic: "PUSH" read as a little-endian __u32. */
#define PUSH_MMAP_MAGIC		0x48535550
/* push_mmap_header.layout */
#define PUSH_MMAP_LAYOUT	1

/**
 * struct push_mmap_header - first page of an mmap() of /dev/push
 * @magic:       PUSH_MMAP_MAGIC.
 * @layout:      PUSH_MMAP_LAYOUT; a reader refuses a layout it does not know.
 * @data_offset: bytes from the start of the mapping to the data ring (one
 *               page).
 * @reserved0:   0.
 * @data_size:   bytes of the data ring (== ring_size).
 * @epoch:       as push_info.epoch.
 * @tail_pos:    ring position of the oldest retained record (or of a padding
 *               record before it).  Positions are byte counts since load;
 *               a position's byte is at data_offset + pos % data_size.
 *               Moved forward, before the bytes are overwritten.
 * @oldest_id:   id of the oldest retained message.
 * @head_pos:    ring position where the next record will start; records in
 *               [tail_pos, head_pos) are complete.  Stored with release
 *               order after the record's bytes.
 * @next_id:     id the next message will get.
 *
 * Writers update the header; a reader only reads it.  docs/ABI.txt
 * ("mmap") gives the reading rules; lib/push_ring_reader.c follows them.
 */
struct push_mmap_header {
	__u32 magic;
	__u32 layout;
	__u32 data_offset;
	__u32 reserved0;
	__u64 data_size;
	__u64 epoch;
	__u64 reserved1[4];
	/* offset 64: moved by eviction */
	__u64 tail_pos;
	__u64 oldest_id;
	__u64 reserved2[6];
	/* offset 128: moved by each commit */
	__u64 head_pos;
	__u64 next_id;
	__u64 reserved3[6];
};

/**
 * struct push_chan_info - argument of PUSH_IOC_CHAN_INFO: one channel's state
 * @last_id:   in: ignored; out: id of its newest message (0 if none yet).
 * @published: out: messages ever published on it.
 * @retained:  out: its messages still in the history.
 * @bytes:     out: payload bytes ever published on it.
 * @chan_len:  in: bytes used in @channel.
 * @reserved:  0.
 * @channel:   in: the channel name, not NUL-terminated.
 */
struct push_chan_info {
	__u64 last_id;
	__u64 published;
	__u64 retained;
	__u64 bytes;
	__u32 chan_len;
	__u32 reserved;
	__u8 channel[PUSH_CHANNEL_MAX];
};

/**
 * struct push_ingress_info - result of PUSH_IOC_INGRESS_INFO (cluster mode)
 * @epoch:     random, nonzero, chosen at load: with a seq, the
 *             Nats-Msg-Id "<epoch>-<seq>" of a queued message.
 * @next_seq:  local sequence number the next queued publish gets (from 1).
 * @acked:     highest seq acknowledged (PUSH_IOC_INGRESS_ACK).
 * @queued:    entries queued and not acknowledged.
 * @bytes:     their record bytes.
 * @max_bytes: the bound (module parameter ingress_size).
 * @oldest_ns: CLOCK_REALTIME of the oldest queued entry, 0 if none.
 * @cluster:   1 in cluster mode.
 * @opened:    1 while the ingress node is open.
 */
struct push_ingress_info {
	__u64 epoch;
	__u64 next_seq;
	__u64 acked;
	__u64 queued;
	__u64 bytes;
	__u64 max_bytes;
	__u64 oldest_ns;
	__u32 cluster;
	__u32 opened;
};

#define PUSH_IOC_MAGIC		'P'
/*
 * Publish one message.  Needs a file opened for writing.
 * Errors: EBADF (not open for writing), EINVAL (bad channel, flags, empty),
 * EMSGSIZE, EFAULT, ENOSPC (too many channels).
 */
#define PUSH_IOC_PUBLISH	_IOWR(PUSH_IOC_MAGIC, 1, struct push_publish)
/*
 * Restrict this reader to some channels.  Needs a file opened for reading.
 * Errors: EBADF, EINVAL, E2BIG (more than PUSH_FILTER_MAX), EFAULT, ENOSPC.
 */
#define PUSH_IOC_SET_FILTER	_IOW(PUSH_IOC_MAGIC, 2, struct push_filter)
/* Read the device's state. Errors: EFAULT. */
#define PUSH_IOC_INFO		_IOR(PUSH_IOC_MAGIC, 3, struct push_info)
/* Read one channel's state. Errors: EINVAL (bad name), ENOENT (never published), EFAULT. */
#define PUSH_IOC_CHAN_INFO	_IOWR(PUSH_IOC_MAGIC, 4, struct push_chan_info)

/*
 * Publish one message with a given id (the cluster bridge: the stream's
 * sequence).  Ids skipped are lost: retained messages are evicted and
 * readers get one gap (docs/ABI.txt, "Cluster").  Needs CAP_SYS_ADMIN and
 * a file opened for writing, or the ingress node.  Errors: as PUBLISH,
 * EPERM, and EINVAL also
 * for an id of 0, of 2^63 or more, or below next_id.
 */
#define PUSH_IOC_PUBLISH_ID	_IOWR(PUSH_IOC_MAGIC, 5, struct push_publish)
/*
 * Set the epoch (a __u64, nonzero), while no id was ever given.  Needs
 * CAP_SYS_ADMIN and a file opened for writing, or the ingress node.
 * Errors: EBADF, EPERM,
 * EINVAL (0), EBUSY (ids given and a different epoch), EFAULT.
 */
#define PUSH_IOC_SET_EPOCH	_IOW(PUSH_IOC_MAGIC, 6, __u64)

/*
 * Cluster mode on (1) or off (0): local publishes go to the ingress queue.
 * Needs CAP_SYS_ADMIN and a file opened for writing, or the ingress node.
 * Errors: EBADF, EPERM, EINVAL (not 0 or 1), EBUSY (off while entries are
 * queued), EFAULT.
 */
#define PUSH_IOC_SET_CLUSTER	_IOW(PUSH_IOC_MAGIC, 7, __u32)
/*
 * Ingress node only: release the queued entries up to this seq (a __u64).
 * Errors: EINVAL (a seq not read yet), EFAULT.
 */
#define PUSH_IOC_INGRESS_ACK	_IOW(PUSH_IOC_MAGIC, 8, __u64)
/* The ingress queue's state, on /dev/push or its ingress node. */
#define PUSH_IOC_INGRESS_INFO	_IOR(PUSH_IOC_MAGIC, 9, struct push_ingress_info)

#endif /* _UAPI_LINUX_PUSH_H */
