/* SPDX-License-Identifier: GPL-2.0 */
/*
 * record.h - parse the records read() returns from /dev/push.
 *
 * No I/O, no allocation: the caller reads into its own buffer, then
 *
 *	size_t off = 0;
 *	struct push_msg m;
 *	while ((r = push_record_next(buf, n, &off, &m)) > 0)
 *		if (m.type == PUSH_REC_MSG || m.type == PUSH_REC_GAP)
 *			deliver(&m);
 *	if (r < 0) ... the device returned garbage: a bug, not a runtime case
 *
 * The pointers in struct push_msg point into the caller's buffer.
 */
#ifndef PUSH_RECORD_H
#define PUSH_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <linux/push.h>

/* One record, decoded.  For a gap, id is the first lost id. */
struct push_msg {
	uint64_t id;		/* message id (PUSH_REC_GAP: first id lost) */
	uint64_t time_ns;	/* CLOCK_REALTIME of the publish, 0 for a gap */
	const char *chan;	/* channel name, not NUL-terminated */
	size_t chan_len;	/* 1..PUSH_CHANNEL_MAX for a message, 0 for a gap */
	const uint8_t *data;	/* payload bytes (any bytes) */
	size_t data_len;
	int type;		/* PUSH_REC_MSG, PUSH_REC_GAP, or unknown: skip */
	uint64_t gap_next_id;	/* PUSH_REC_GAP: id the reader resumes from */
	uint64_t gap_lost;	/* PUSH_REC_GAP: messages this reader lost */
};

/*
 * Decode the record at buf[*off] and advance *off past it (by its size
 * field).  Returns 1 with *m filled, 0 when *off == len (no more records),
 * -EBADMSG if the bytes left are not one whole well-formed record (short
 * header, size not a multiple of PUSH_RECORD_ALIGN or beyond len, channel
 * plus data larger than size, a message without channel, a gap without its
 * struct push_gap); *off is then left unchanged.  Records of unknown types
 * are returned as they are (type set, chan/data as their lengths say) so
 * that the caller skips them.  buf needs no particular alignment.
 */
int push_record_next(const uint8_t *buf, size_t len, size_t *off,
		     struct push_msg *m);

#endif /* PUSH_RECORD_H */
