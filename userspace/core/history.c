// SPDX-License-Identifier: GPL-2.0
/*
 * history.c - replay from the kernel.  The device keeps every reader's
 * cursor and channel filter, so a resume is: set the filter to the
 * client's channels, lseek() to since + 1 (0 = oldest retained), read.
 * If since + 1 was already overwritten, the first record is a gap that
 * says exactly how many of this filter's messages were lost.
 *
 * One reader fd serves every resume in turn (all of them come from the
 * HTTP thread); it is opened at start, before pushd drops root.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/config.h"
#include "core/history.h"
#include "protocol/record.h"

#define HISTORY_BUF	(256 * 1024)

static pthread_mutex_t history_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *history_buf;
static size_t history_len;

static int history_add(struct history *h, uint32_t *cap, struct item *it)
{
	if (h->n == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 64;
		struct item **more = realloc(h->items, sizeof(*more) * ncap);

		if (!more)
			return -ENOMEM;
		h->items = more;
		*cap = ncap;
	}
	h->items[h->n++] = it;
	return 0;
}

static int history_fill(int fd, const struct sub_request *req, uint64_t upto, struct history *h)
{
	char names[PUSH_FILTER_MAX * (PUSH_CHANNEL_MAX + 1)];
	struct push_filter f = { .names = (uintptr_t)names };
	uint32_t cap = 0;
	off_t to = req->since_mode == SINCE_OLDEST ? 0 : (off_t)(req->since + 1);

	f.len = (uint32_t)chan_list_join(req->chans, req->nchans, names, sizeof(names));
	if (ioctl(fd, PUSH_IOC_SET_FILTER, &f) < 0)
		return -errno;
	if (lseek(fd, to, SEEK_SET) < 0)
		return errno == EINVAL ? 0 : -errno;	/* beyond the device: nothing to replay */

	for (;;) {
		ssize_t got = read(fd, history_buf, history_len);
		struct push_msg m;
		size_t off = 0;

		/* O_NONBLOCK: EAGAIN means nothing is left (docs/ABI.txt) */
		if (got < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (got == 0)
			return 0;
		while (push_record_next(history_buf, (size_t)got, &off, &m) > 0) {
			struct item *it;

			if (m.type != PUSH_REC_MSG && m.type != PUSH_REC_GAP)
				continue;
			/* ids above upto reach the client through the live fan-out */
			if (m.type == PUSH_REC_MSG && m.id > upto)
				return 0;
			it = item_from_msg(&m);
			if (!it || history_add(h, &cap, it)) {
				if (it)
					item_put(it);
				return -ENOMEM;
			}
			if (m.type == PUSH_REC_GAP && m.gap_next_id > upto)
				return 0;
		}
	}
}

int history_read(int fd, const struct sub_request *req, uint64_t upto, struct history *h)
{
	int err;

	h->items = NULL;
	h->n = 0;
	pthread_mutex_lock(&history_lock);
	if (!history_buf) {
		history_len = HISTORY_BUF;
		if (history_len < (size_t)pushd_cfg.max_msg_size + 256)
			history_len = (size_t)pushd_cfg.max_msg_size + 256;
		history_buf = malloc(history_len);
	}
	err = history_buf ? history_fill(fd, req, upto, h) : -ENOMEM;
	pthread_mutex_unlock(&history_lock);
	return err;
}

void history_free(struct history *h)
{
	for (uint32_t i = 0; i < h->n; i++)
		item_put(h->items[i]);
	free(h->items);
	h->items = NULL;
	h->n = 0;
}
