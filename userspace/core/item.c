// SPDX-License-Identifier: GPL-2.0
/*
 * item.c - encode a record once: its JSON object, the SSE prefix
 * "id: N\ndata: " (the object is one line: JSON escapes every LF), and the
 * WebSocket text frame header; for messages also the raw SSE event of
 * ?format=raw.  json.c, sse.c and ws.c do the encoding.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/item.h"
#include "protocol/json.h"
#include "protocol/sse.h"
#include "protocol/ws.h"

static struct item *item_alloc(size_t json_max)
{
	struct item *it = malloc(sizeof(*it) + json_max);

	if (!it)
		return NULL;
	atomic_init(&it->ref, 1);
	it->end = 0;
	it->chan_len = 0;
	it->next_id = 0;
	it->json = it->buf;
	it->sse_raw = NULL;
	it->sse_raw_len = 0;
	it->wsz_state = 0;
	it->wsz_len = 0;
	it->wsz = NULL;
	return it;
}

static void item_finish(struct item *it, size_t json_len, const char *event)
{
	int n;

	it->json_len = (uint32_t)json_len;
	it->ws_hdr_len = (uint8_t)ws_frame_header(it->ws_hdr, WS_OP_TEXT, json_len);
	/* a gap moves Last-Event-ID past it too: "id: next_id - 1" */
	if (event)
		n = snprintf(it->sse_pre, sizeof(it->sse_pre), "id: %llu\nevent: %s\ndata: ",
			     (unsigned long long)(it->next_id ? it->next_id - 1 : 0), event);
	else
		n = snprintf(it->sse_pre, sizeof(it->sse_pre), "id: %llu\ndata: ",
			     (unsigned long long)it->id);
	it->sse_pre_len = (uint8_t)n;
}

struct item *item_gap(uint64_t first_id, uint64_t next_id, uint64_t lost)
{
	size_t max = json_gap(NULL, 0, first_id, next_id, lost);
	struct item *it = item_alloc(max);

	if (!it)
		return NULL;
	it->type = ITEM_GAP;
	it->id = first_id;
	it->next_id = next_id;
	item_finish(it, json_gap(it->buf, max, first_id, next_id, lost), "gap");
	return it;
}

/*
 * The encodings go to a per-thread scratch buffer sized for the worst case
 * (every byte escaped), then into an item of exactly their size: a message
 * costs its encoded bytes plus the header, never the worst case.
 */
static __thread char *item_scratch;
static __thread size_t item_scratch_len;

/* Frees a thread's buffer when the thread ends (the hub's, at SIGTERM). */
static pthread_key_t item_scratch_key;
static pthread_once_t item_scratch_once = PTHREAD_ONCE_INIT;

static void item_scratch_key_make(void)
{
	pthread_key_create(&item_scratch_key, free);
}

static char *item_scratch_get(size_t need)
{
	if (need > item_scratch_len) {
		char *b = realloc(item_scratch, need);

		if (!b)
			return NULL;
		pthread_once(&item_scratch_once, item_scratch_key_make);
		pthread_setspecific(item_scratch_key, b);
		item_scratch = b;
		item_scratch_len = need;
	}
	return item_scratch;
}

struct item *item_reset(uint64_t first_id, uint64_t next_id, uint64_t epoch)
{
	char json[160];
	int n = snprintf(json, sizeof(json),
			 "{\"type\":\"gap\",\"first_id\":%llu,\"next_id\":%llu,\"lost\":0,"
			 "\"reset\":true,\"epoch\":\"%016llx\"}",
			 (unsigned long long)first_id, (unsigned long long)next_id,
			 (unsigned long long)epoch);
	struct item *it = item_alloc((size_t)n);

	if (!it)
		return NULL;
	memcpy(it->buf, json, (size_t)n);
	it->type = ITEM_GAP;
	it->id = first_id;
	it->next_id = next_id;
	item_finish(it, (size_t)n, "gap");
	return it;
}

struct item *item_from_msg(const struct push_msg *m)
{
	if (m->type == PUSH_REC_GAP)
		return item_gap(m->id, m->gap_next_id, m->gap_lost);

	size_t max = json_message_max(m->chan_len, m->data_len);
	size_t raw_max = sse_event_max(m->data_len, NULL);
	char *tmp = item_scratch_get(max + raw_max);
	struct item *it;
	size_t len, raw_len;

	if (!tmp)
		return NULL;
	len = json_message(tmp, max, m);
	if (len > max)
		len = max;	/* cannot happen: json_message_max() is an upper bound */
	raw_len = sse_event(tmp + len, raw_max, m->id, NULL, (const char *)m->data, m->data_len);
	if (raw_len > raw_max)
		raw_len = raw_max;
	it = item_alloc(len + raw_len);
	if (!it)
		return NULL;
	memcpy(it->buf, tmp, len + raw_len);
	it->type = ITEM_MSG;
	it->id = m->id;
	it->chan_len = (uint8_t)(m->chan_len <= PUSH_CHANNEL_MAX ? m->chan_len : PUSH_CHANNEL_MAX);
	memcpy(it->chan, m->chan, it->chan_len);
	it->chan[it->chan_len] = '\0';
	item_finish(it, len, NULL);
	it->sse_raw = it->buf + len;
	it->sse_raw_len = (uint32_t)raw_len;
	return it;
}

size_t item_size(const struct item *it)
{
	return sizeof(*it) + it->json_len + it->sse_raw_len;
}

uint64_t item_last_id(const struct item *it)
{
	switch (it->type) {
	case ITEM_MSG:
		return it->id;
	case ITEM_GAP:
		return it->next_id ? it->next_id - 1 : 0;
	default:
		return 0;
	}
}

void item_put(struct item *it)
{
	if (!atomic_load_explicit(&it->ref, memory_order_relaxed))
		return;
	if (atomic_fetch_sub_explicit(&it->ref, 1, memory_order_acq_rel) == 1) {
		free(it->wsz);
		free(it);
	}
}
