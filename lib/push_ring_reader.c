// SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note
/*
 * push_ring_reader.c - the mmap reader of /dev/push (see the header).
 *
 * The rules it follows (docs/ABI.txt, "mmap"):
 *   1. Load head_pos with acquire order: bytes before it are complete.
 *   2. Positions below tail_pos are gone.  A record read at position p is
 *      valid only if, after copying it and an acquire fence, tail_pos is
 *      still <= p: writers move tail_pos before they overwrite, with a
 *      write barrier between.  Otherwise it is treated as a gap.
 *   3. Where fewer than 32 bytes are left before the end of the ring the
 *      next record is at the start; a PUSH_REC_PAD record says the same.
 *   4. Ids of message records go up by one; a jump is a loss, reported as
 *      a PUSH_REC_GAP record with exact lost.
 */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "push_ring_reader.h"

#define HDR_SIZE	sizeof(struct push_record)
#define GAP_SIZE	(sizeof(struct push_record) + sizeof(struct push_gap))

static uint64_t load_acquire(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static uint64_t head_pos(const struct push_ring *r)
{
	return load_acquire((const uint64_t *)&r->hdr->head_pos);
}

static uint64_t tail_pos(const struct push_ring *r)
{
	return load_acquire((const uint64_t *)&r->hdr->tail_pos);
}

/* True if the bytes copied from position @pos may have been overwritten. */
static int overwritten(const struct push_ring *r, uint64_t pos)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return tail_pos(r) > pos;
}

int push_ring_open(struct push_ring *r, int fd)
{
	const struct push_mmap_header *hdr;
	struct push_info info;
	void *map;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	memset(&info, 0, sizeof(info));
	if (ioctl(fd, PUSH_IOC_INFO, &info))
		return -errno;
	if (!(info.features & PUSH_FEAT_MMAP) || !info.mmap_size)
		return -EOPNOTSUPP;
	map = mmap(NULL, info.mmap_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	hdr = map;
	if (hdr->magic != PUSH_MMAP_MAGIC || hdr->layout != PUSH_MMAP_LAYOUT ||
	    hdr->data_offset >= info.mmap_size ||
	    hdr->data_size != info.mmap_size - hdr->data_offset ||
	    hdr->data_size % PUSH_RECORD_ALIGN) {
		munmap(map, info.mmap_size);
		return -EPROTO;
	}
	r->fd = fd;
	r->map = map;
	r->map_len = info.mmap_size;
	r->hdr = hdr;
	r->data = (const unsigned char *)map + hdr->data_offset;
	r->size = hdr->data_size;
	r->epoch = hdr->epoch;
	push_ring_seek_oldest(r);
	return 0;
}

void push_ring_close(struct push_ring *r)
{
	if (r->map)
		munmap(r->map, r->map_len);
	r->map = NULL;
}

void push_ring_seek_oldest(struct push_ring *r)
{
	r->pos = tail_pos(r);
	r->next_id = 0;
}

void push_ring_seek_end(struct push_ring *r)
{
	r->pos = head_pos(r);
	r->next_id = 0;
}

/*
 * Steps r->pos over space overwritten before we got there (to the tail)
 * and over a ring end too short for a header, then copies the header at
 * r->pos into @rec; @room is what is left up to the ring's end.  False at
 * @head.  The copy is trusted only once overwritten() says it was not
 * overwritten meanwhile.
 */
static bool next_header(struct push_ring *r, uint64_t head, struct push_record *rec,
			uint64_t *off, uint64_t *room)
{
	while (r->pos < head) {
		*off = r->pos % r->size;
		*room = r->size - *off;
		if (r->pos < tail_pos(r)) {
			r->pos = tail_pos(r);
			continue;
		}
		if (*room < HDR_SIZE) {
			r->pos += *room;
			continue;
		}
		memcpy(rec, r->data + *off, sizeof(*rec));
		return true;
	}
	return false;
}

static bool bad_size(const struct push_record *rec, uint64_t room)
{
	return rec->size < HDR_SIZE || rec->size % PUSH_RECORD_ALIGN || rec->size > room;
}

void push_ring_seek_id(struct push_ring *r, uint64_t id)
{
	uint64_t head = head_pos(r), off, room;
	struct push_record rec;

	r->pos = tail_pos(r);
	while (next_header(r, head, &rec, &off, &room)) {
		if (overwritten(r, r->pos))
			continue;
		/* a corrupt record: push_ring_read() will say so */
		if (bad_size(&rec, room))
			break;
		if (rec.type == PUSH_REC_MSG && rec.id >= id)
			break;
		r->pos += rec.size;
	}
	r->next_id = id;
}

int push_ring_ready(const struct push_ring *r)
{
	return r->pos < head_pos(r);
}

/* Writes a gap record for ids [from, next) at @p. */
static void put_gap(unsigned char *p, uint64_t from, uint64_t next)
{
	struct push_record rec = {
		.id = from,
		.size = GAP_SIZE,
		.data_len = sizeof(struct push_gap),
		.type = PUSH_REC_GAP,
	};
	struct push_gap gap = { .next_id = next, .lost = next - from };

	memcpy(p, &rec, sizeof(rec));
	memcpy(p + sizeof(rec), &gap, sizeof(gap));
}

/* Writes a gap record for ids [r->next_id, id) at @p and counts it. */
static void emit_gap(struct push_ring *r, unsigned char *p, uint64_t id)
{
	put_gap(p, r->next_id, id);
	r->gaps++;
	r->lost += id - r->next_id;
	r->next_id = id;
}

ssize_t push_ring_read(struct push_ring *r, void *buf, size_t len)
{
	unsigned char *out = buf;
	size_t done = 0;
	uint64_t head = head_pos(r), off, room;
	struct push_record rec;

	while (next_header(r, head, &rec, &off, &room)) {
		bool gap;

		if (bad_size(&rec, room)) {
			if (overwritten(r, r->pos))
				continue;
			return done ? (ssize_t)done : -EPROTO;
		}
		if (rec.type == PUSH_REC_PAD) {
			if (overwritten(r, r->pos))
				continue;
			r->pos += rec.size;
			continue;
		}
		if (len - done < rec.size) {
			/*
			 * As read(): a gap before a record that does not fit
			 * is returned alone if it fits (its id is trusted
			 * only once the header is known whole).
			 */
			if (overwritten(r, r->pos))
				continue;
			if (r->next_id && rec.id > r->next_id && len - done >= GAP_SIZE) {
				emit_gap(r, out + done, rec.id);
				done += GAP_SIZE;
			}
			break;
		}
		memcpy(out + done, r->data + off, rec.size);
		/* Valid now, and so is the header copied before. */
		if (overwritten(r, r->pos))
			continue;
		gap = r->next_id && rec.id > r->next_id;
		if (gap && len - done < GAP_SIZE + rec.size) {
			/* the gap alone, if it fits; the record next time */
			if (len - done >= GAP_SIZE) {
				emit_gap(r, out + done, rec.id);
				done += GAP_SIZE;
			}
			break;
		}
		if (gap) {
			/* a gap record first, then the record */
			memmove(out + done + GAP_SIZE, out + done, rec.size);
			emit_gap(r, out + done, rec.id);
			done += GAP_SIZE;
		}
		done += rec.size;
		r->pos += rec.size;
		r->next_id = rec.id + 1;
	}
	if (!done && r->pos < head)
		return -EINVAL;
	return (ssize_t)done;
}

ssize_t push_ring_peek(struct push_ring *r, const void **recs, size_t max)
{
	uint64_t head = head_pos(r), pos = r->pos, id = r->next_id;
	uint64_t off = pos % r->size, room = r->size - off;
	size_t len = 0;

	if (pos < tail_pos(r))
		return 0;
	*recs = r->data + off;
	while (pos + len < head && room - len >= HDR_SIZE) {
		struct push_record rec;

		memcpy(&rec, r->data + off + len, sizeof(rec));
		if (rec.type != PUSH_REC_MSG || rec.size < HDR_SIZE ||
		    rec.size % PUSH_RECORD_ALIGN || rec.size > room - len ||
		    rec.size > max - len || (id && rec.id != id))
			break;
		id = rec.id + 1;
		len += rec.size;
	}
	r->peek_next = id;
	return (ssize_t)len;
}

int push_ring_release(struct push_ring *r, size_t len)
{
	if (overwritten(r, r->pos))
		return -ESTALE;
	r->pos += len;
	if (len)
		r->next_id = r->peek_next;
	return 0;
}

int push_ring_wait(struct push_ring *r, int timeout_ms)
{
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
	uint64_t id = r->next_id;
	int n;

	if (push_ring_ready(r))
		return 1;
	if (!id)
		id = load_acquire((const uint64_t *)&r->hdr->next_id);
	/*
	 * The fd's cursor follows ours, so that poll() waits for new ids.  An
	 * id beyond the device's next (EINVAL: sought ahead) waits for the
	 * next one; left where it was, the cursor would make poll() return
	 * at once, forever.
	 */
	if (lseek(r->fd, (off_t)id, SEEK_SET) < 0) {
		if (errno != EINVAL || lseek(r->fd, 0, SEEK_END) < 0)
			return -errno;
	}
	if (push_ring_ready(r))
		return 1;
	n = poll(&pfd, 1, timeout_ms);
	if (n < 0)
		return -errno;
	return n > 0 ? 1 : 0;
}
