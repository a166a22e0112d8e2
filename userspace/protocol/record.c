// SPDX-License-Identifier: GPL-2.0
/*
 * record.c - decode the records of /dev/push (kmod/include/uapi/linux/push.h).
 *
 * Trusts nothing: every length is checked against the record's size and
 * the buffer, so a kernel bug shows up as -EBADMSG, not as a wild read.
 */
#include <errno.h>
#include <string.h>

#include "protocol/record.h"

int push_record_next(const uint8_t *buf, size_t len, size_t *off,
		     struct push_msg *m)
{
	struct push_record r;
	size_t left, body;

	if (*off >= len)
		return 0;
	left = len - *off;
	if (left < sizeof(r))
		return -EBADMSG;
	memcpy(&r, buf + *off, sizeof(r));	/* buf may be unaligned */
	if (r.size < sizeof(r) || r.size % PUSH_RECORD_ALIGN || r.size > left)
		return -EBADMSG;
	body = (size_t)r.chan_len + r.data_len;
	if (body > r.size - sizeof(r))
		return -EBADMSG;

	memset(m, 0, sizeof(*m));
	m->id = r.id;
	m->time_ns = r.time_ns;
	m->type = r.type;
	m->chan = (const char *)buf + *off + sizeof(r);
	m->chan_len = r.chan_len;
	m->data = buf + *off + sizeof(r) + r.chan_len;
	m->data_len = r.data_len;

	switch (r.type) {
	case PUSH_REC_MSG:
		if (r.chan_len == 0 || r.chan_len > PUSH_CHANNEL_MAX)
			return -EBADMSG;
		break;
	case PUSH_REC_GAP: {
		struct push_gap g;

		if (r.data_len < sizeof(g))
			return -EBADMSG;
		memcpy(&g, m->data, sizeof(g));
		m->gap_next_id = g.next_id;
		m->gap_lost = g.lost;
		break;
	}
	default:	/* unknown: the caller skips it */
		break;
	}
	*off += r.size;
	return 1;
}
