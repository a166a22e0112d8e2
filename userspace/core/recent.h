/* SPDX-License-Identifier: GPL-2.0 */
/*
 * recent.h - the latest messages the hub fanned out, all channels: every
 * message with an id in (from, the hub's last id] is here, so a resume
 * from such an id (a long-poll's next poll) needs no trip to the device.
 * Holds references to the shared items.  Protected by the hub lock.
 */
#ifndef PUSHD_RECENT_H
#define PUSHD_RECENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/client.h"
#include "core/history.h"
#include "core/item.h"

#define RECENT_MAX	8192		/* items kept (power of 2) */
#define RECENT_BYTES	(4 << 20)	/* ... and at most this much JSON */

struct recent {
	struct item *ring[RECENT_MAX];
	uint32_t head, len;
	size_t bytes;
	uint64_t from;		/* every message after this id is in ring */
};

/* Records a message fanned out, dropping the oldest to stay in bounds. */
void recent_add(struct recent *r, struct item *it);

/* Forgets every item: the record starts after @id (a loss would leave holes in it). */
void recent_reset(struct recent *r, uint64_t id);

/*
 * The history of req's channels after req->since, from the record.
 * Returns 1 with @h filled (maybe empty), 0 if the record does not reach
 * back that far, -ENOMEM.
 */
int recent_history(const struct recent *r, const struct sub_request *req, struct history *h);

#endif
