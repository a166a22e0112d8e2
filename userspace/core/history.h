/* SPDX-License-Identifier: GPL-2.0 */
/* history.h - what a resuming subscriber missed, read from the device's own history. */
#ifndef PUSHD_HISTORY_H
#define PUSHD_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/client.h"

struct history {
	struct item **items;	/* referenced, in id order */
	uint32_t n;
};

/* Where one step of a replay starts and how much it may take. */
struct history_step {
	uint64_t pos;		/* in: the id to read from (0: the oldest); out: where to go on */
	size_t budget;		/* in: bytes (by @len) to read at most, one item more if needed */
	uint32_t (*len)(const struct item *it);	/* the transport's item_len() */
	bool done;		/* out: nothing more is retained after pos (for now) */
};

/*
 * Reads, through @fd (a /dev/push reader of its own), the next retained
 * records of req's channels from st->pos, gap records included, until
 * st->budget bytes are read or the history ends.  Messages are shared:
 * one cache of --replay-cache bytes, keyed by id, gives every resuming
 * client the same encoded item.  Returns 0 or -errno; @h holds the items
 * either way (maybe none).
 */
int history_step(int fd, const struct sub_request *req, struct history_step *st, struct history *h);

/* Bytes the shared cache holds now. */
size_t history_cache_bytes(void);

/* Drops the items' references and the array. */
void history_free(struct history *h);

/* Empties the cache. */
void history_cache_clear(void);

#endif
