/* SPDX-License-Identifier: GPL-2.0 */
/*
 * item.h - one delivered thing (a message, a gap, a heartbeat, a close),
 * encoded once for every transport and shared by reference by all the
 * clients it goes to.  Never copied per client: queues hold pointers.
 *
 * A transport writes an item as pieces of bytes:
 *   long-poll:  json
 *   SSE:        sse_pre, json, "\n\n"   ("id: N\ndata: " + object + blank line)
 *   WebSocket:  ws_hdr, json             (text frame header + object)
 *               or, permessage-deflate: wsz (the whole compressed frame,
 *               made once by the first such client, under the hub lock)
 *   SSE, ?format=raw: sse_raw           (messages: "id: N" and the payload
 *               split into "data:" lines; other items as in SSE)
 */
#ifndef PUSHD_ITEM_H
#define PUSHD_ITEM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/record.h"

enum item_type {
	ITEM_MSG,	/* a message: id, channel, data */
	ITEM_GAP,	/* lost messages: id = first lost, next_id */
	ITEM_CTRL,	/* transport-specific (heartbeat, close): static, not counted */
};

struct item {
	atomic_uint ref;	/* 0 for static items, never freed */
	uint8_t type;		/* enum item_type */
	uint8_t ws_hdr_len;
	uint8_t sse_pre_len;
	uint8_t end;		/* CTRL: the stream ends after this item */
	uint8_t chan_len;	/* MSG: channel name, for the fan-out */
	uint32_t json_len;
	uint64_t id;		/* MSG: id; GAP: first lost id */
	uint64_t next_id;	/* GAP: where the reader resumes */
	const char *json;	/* the object (or CTRL payload bytes) */
	const char *sse_raw;	/* MSG: the whole raw SSE event; else NULL */
	uint32_t sse_raw_len;
	uint8_t ws_hdr[10];
	uint8_t wsz_state;	/* 0 not tried, 1 wsz made, 2 not worth it */
	uint32_t wsz_len;
	uint8_t *wsz;		/* compressed WebSocket frame, or NULL; freed with the item */
	char sse_pre[44];
	char chan[PUSH_CHANNEL_MAX + 1];
	char buf[];		/* json of allocated items */
};

/* A new item (ref 1) for a decoded record (message or gap); NULL on ENOMEM. */
struct item *item_from_msg(const struct push_msg *m);

/* A new gap item (ref 1); NULL on ENOMEM. */
struct item *item_gap(uint64_t first_id, uint64_t next_id, uint64_t lost);

/*
 * A reset (ref 1): the client's id @first came from another module load
 * (epoch), so nothing can be said of what it missed; delivery restarts at
 * this load's @next_id.  A gap object with "reset":true and the epoch.
 */
struct item *item_reset(uint64_t first_id, uint64_t next_id, uint64_t epoch);

/* Bytes an allocated item takes in memory. */
size_t item_size(const struct item *it);

/* The id a client has seen once it got @it (gap: next_id - 1), 0 for CTRL. */
uint64_t item_last_id(const struct item *it);

static inline struct item *item_get(struct item *it)
{
	if (atomic_load_explicit(&it->ref, memory_order_relaxed))
		atomic_fetch_add_explicit(&it->ref, 1, memory_order_relaxed);
	return it;
}

/* Drops a reference; frees the item with the last one. */
void item_put(struct item *it);

/* Bytes of @it on the wire for each transport (queue accounting). */
static inline uint32_t item_sse_len(const struct item *it)
{
	return it->sse_pre_len + it->json_len + 2;
}

/* Bytes of @it for an SSE client of ?format=raw. */
static inline uint32_t item_sse_raw_len(const struct item *it)
{
	return it->sse_raw ? it->sse_raw_len : item_sse_len(it);
}

static inline uint32_t item_ws_len(const struct item *it)
{
	return it->ws_hdr_len + it->json_len;
}

#endif
