/* SPDX-License-Identifier: GPL-2.0 */
/*
 * devread.h - turn what the hub reads from /dev/push into items, one batch
 * at a time, by either of its two readers:
 *
 *   read()  devread_parse(): the records one read() copied into a buffer.
 *   mmap    devread_ring(): the records in place in the read-only mapping
 *           of the history (lib/push_ring_reader.h): each is encoded
 *           straight from the mapped bytes, then kept only if no writer
 *           overwrote it meanwhile (docs/ABI.txt, "mmap", rule 4); what
 *           was torn is dropped and comes back as a gap record with the
 *           exact loss, as read() reports it.
 *
 * No I/O, no lock: hub_thread.c calls these and hands the batch to
 * hub_fanout().  The unit test drives devread_ring() on a ring in memory.
 */
#ifndef PUSHD_DEVREAD_H
#define PUSHD_DEVREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <push_ring_reader.h>

#include "core/item.h"

/**
 * struct devread - one batch
 * @items:  the encoded records (messages and gaps), in id order.
 * @lost:   records of this batch are missing from @items and no gap says
 *          so (out of memory, a malformed record): recent.c must not
 *          vouch for the ids around them.
 * @msgs, @gaps, @bytes: counters of what was taken (torn spans not counted).
 * @torn:   spans dropped because writers overwrote them while encoded.
 * @encode: item_from_msg(), or a test's stand-in.
 */
struct devread {
	struct item **items;
	size_t n, cap;
	bool lost;
	uint64_t msgs, gaps, bytes, torn;
	struct item *(*encode)(const struct push_msg *m);
};

void devread_init(struct devread *b);
/* Drops the batch's references and frees the array. */
void devread_free(struct devread *b);

/*
 * Adds the records of @buf (@len bytes, read()'s layout).  Returns 0, or
 * -EBADMSG at a malformed record (@lost is set, the records before it are
 * kept); *@bad_off is its offset.
 */
int devread_parse(struct devread *b, const void *buf, size_t len, size_t *bad_off);

/*
 * Adds the records @r holds from its position on, about @budget bytes at
 * most (at least one record; @budget must hold the largest record).
 * Returns the bytes of the ring it moved past (0: nothing new), or -EPROTO
 * if the ring is corrupt (a bug of the kernel's: the caller logs it and
 * moves on with push_ring_seek_id()).
 */
ssize_t devread_ring(struct devread *b, struct push_ring *r, size_t budget);

/*
 * After devread_ring() gave -EPROTO: moves @r past everything the ring
 * holds now and adds one gap for the ids skipped, [*@from, *@to), so that
 * the next batch starts after the corrupt record instead of failing on it
 * again, and subscribers are told what they lost.  @lost is set.
 */
void devread_ring_skip(struct devread *b, struct push_ring *r, uint64_t *from, uint64_t *to);

/* The id @r's reader expects next: where the fd's cursor goes before poll(). */
uint64_t devread_ring_next(const struct push_ring *r);

#endif
