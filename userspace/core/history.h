/* SPDX-License-Identifier: GPL-2.0 */
/* history.h - what a resuming subscriber missed, read from the device's own history. */
#ifndef PUSHD_HISTORY_H
#define PUSHD_HISTORY_H

#include <stdint.h>

#include "core/client.h"

struct history {
	struct item **items;	/* referenced, in id order */
	uint32_t n;
};

/*
 * Reads, through @fd (a /dev/push reader of its own, used by one caller at
 * a time), the retained messages of req's channels after req->since (all
 * of them for SINCE_OLDEST) with ids up to @upto, gap records included.
 * Returns 0 or -errno; @h holds the items either way (maybe none).
 */
int history_read(int fd, const struct sub_request *req, uint64_t upto, struct history *h);

/* Drops the items' references and the array. */
void history_free(struct history *h);

#endif
