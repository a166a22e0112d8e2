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
 * fit in the buffer, never a partial one.
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
 * struct push_publish - argument of PUSH_IOC_PUBLISH
 * @data:     user address of the payload (any bytes), as a __u64.
 * @id:       out: the id the message was given.
 * @time_ns:  out: its CLOCK_REALTIME timestamp.
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
 * @ring_size:    history budget in bytes (module parameter ring_size).
 * @ring_used:    bytes of it in use.
 * @retained:     messages retained.
 * @max_msg_size: largest payload accepted (module parameter max_msg_size).
 * @channels:     channels known.
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
	__u64 reserved[4];
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

#define PUSH_IOC_MAGIC		'P'
/*
 * Publish one message.
 * Errors: EINVAL (bad channel, flags, empty), EMSGSIZE, EFAULT,
 * ENOSPC (too many channels).
 */
#define PUSH_IOC_PUBLISH	_IOWR(PUSH_IOC_MAGIC, 1, struct push_publish)
/*
 * Restrict this reader to some channels.
 * Errors: EINVAL, E2BIG (more than PUSH_FILTER_MAX), EFAULT.
 */
#define PUSH_IOC_SET_FILTER	_IOW(PUSH_IOC_MAGIC, 2, struct push_filter)
/* Read the device's state. Errors: EFAULT. */
#define PUSH_IOC_INFO		_IOR(PUSH_IOC_MAGIC, 3, struct push_info)
/* Read one channel's state. Errors: EINVAL (bad name), ENOENT (never published), EFAULT. */
#define PUSH_IOC_CHAN_INFO	_IOWR(PUSH_IOC_MAGIC, 4, struct push_chan_info)

#endif /* _UAPI_LINUX_PUSH_H */
