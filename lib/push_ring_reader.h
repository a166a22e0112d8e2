/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * push_ring_reader.h - read /dev/push's history through mmap(), with no
 * system call per batch.
 *
 *	struct push_ring r;
 *	int fd = open("/dev/push", O_RDONLY);
 *
 *	push_ring_open(&r, fd);			// maps it; starts at the oldest
 *	for (;;) {
 *		ssize_t n = push_ring_read(&r, buf, sizeof(buf));
 *		if (n > 0)			// whole records, as read() gives
 *			parse(buf, n);
 *		else if (n == 0)
 *			push_ring_wait(&r, -1);	// poll()s the fd when caught up
 *	}
 *
 * push_ring_read() fills a buffer exactly as read() would for a reader
 * without a filter: struct push_record, channel, data, padding, and a
 * PUSH_REC_GAP record (exact lost) where records were overwritten before
 * this reader copied them, so one parser serves both.  It hides the
 * memory-ordering rules of docs/ABI.txt ("mmap"); the ring's writers
 * never wait for it, and it never blocks them.  Not thread-safe: one
 * struct push_ring per thread.
 */
#ifndef PUSH_RING_READER_H
#define PUSH_RING_READER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/push.h>

/**
 * struct push_ring - one mmap reader
 * @fd:      the device, as passed to push_ring_open() (not owned).
 * @map:     the mapping, @map_len bytes.
 * @hdr:     its header page.
 * @data:    its data ring, @size bytes.
 * @epoch:   the device's epoch.
 * @pos:     ring position of the next record to read.
 * @next_id: id of the next message expected; 0 until a record was read
 *           (a loss before the first record read is not reported).
 * @gaps:    gap records returned; @lost their lost counts.
 * @peek_next: after push_ring_peek(), the id after its span.
 */
struct push_ring {
	int fd;
	void *map;
	size_t map_len;
	const struct push_mmap_header *hdr;
	const unsigned char *data;
	uint64_t size;
	uint64_t epoch;
	uint64_t pos;
	uint64_t next_id;
	uint64_t gaps;
	uint64_t lost;
	uint64_t peek_next;
};

/* Maps @fd's history (fd open for reading); starts at the oldest record.
 * Returns 0 or -errno (-EPROTO: a layout this reader does not know). */
int push_ring_open(struct push_ring *r, int fd);
void push_ring_close(struct push_ring *r);

/* Moves to the oldest retained record. */
void push_ring_seek_oldest(struct push_ring *r);
/* Moves past the newest record: only messages published from now on. */
void push_ring_seek_end(struct push_ring *r);

/*
 * Moves to message @id (>= 1): to its record, or to the first record after
 * it, or past the newest if none is newer, walking from the oldest record.
 * Unlike the seeks above it expects @id: if records from @id on are lost
 * (already, or before they are read) the next push_ring_read() reports
 * them as a gap, as read() does after lseek(fd, id, SEEK_SET).
 */
void push_ring_seek_id(struct push_ring *r, uint64_t id);

/*
 * Copies whole records into @buf (at most @len bytes) and moves past them.
 * Returns bytes (a multiple of 8), 0 when nothing is new, -EINVAL when the
 * next record does not fit in @len, or -EPROTO if the ring is corrupt.
 */
ssize_t push_ring_read(struct push_ring *r, void *buf, size_t len);

/*
 * Zero copy: points *recs at the next records inside the mapping itself,
 * message records of consecutive ids only, and returns their bytes (0 if
 * the next thing is not such a record: nothing new, a gap or padding, which
 * push_ring_read() deals with).  Writers may overwrite these bytes at any
 * moment: parse them, copy what you keep, then push_ring_release().
 */
ssize_t push_ring_peek(struct push_ring *r, const void **recs, size_t max);

/*
 * Moves past the @len bytes push_ring_peek() gave.  Returns 0 if they were
 * whole when parsed, or -ESTALE if writers may have overwritten them
 * meanwhile: discard what was parsed; the next push_ring_read() reports
 * the loss as a gap.
 */
int push_ring_release(struct push_ring *r, size_t len);

/* 1 if push_ring_read() has something to return now, else 0. */
int push_ring_ready(const struct push_ring *r);

/*
 * Waits until push_ring_ready(), at most @timeout_ms (-1: forever): moves
 * the fd's cursor to the next id (lseek) and poll()s it.  Returns 1
 * (ready), 0 (timed out) or -errno.
 */
int push_ring_wait(struct push_ring *r, int timeout_ms);

#endif /* PUSH_RING_READER_H */
