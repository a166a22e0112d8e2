// SPDX-License-Identifier: GPL-2.0
/*
 * push_mmap - the mmap()ed history and lib/push_ring_reader.c.
 *
 *   - the mapping is read-only, from offset 0, at most header + ring;
 *   - its header carries the layout, the epoch and the ring's size;
 *   - the records read through it are byte for byte those read() returns;
 *   - a reader that fell behind gets a gap record with exact lost;
 *   - push_ring_peek() shows the same bytes in place, and
 *     push_ring_release() catches records overwritten meanwhile;
 *   - poll() on the fd wakes a waiting mmap reader;
 *   - with writers publishing concurrently (and, in push_mmap_small's
 *     64 KiB ring, overwriting all the time), every record copied is
 *     whole (its checksum matches) or reported lost, never torn.
 *
 * Run as root with the module loaded: build/tests/kselftest/push_mmap
 */
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "push_util.h"
#include "push_ring_reader.c"

#define BUF_SIZE	(256 << 10)
#define MAX_MSGS	(BUF_SIZE / 40)

FIXTURE(mm) {
	int fd;
	struct push_info info;
	struct push_ring ring;
	char *buf, *buf2;
	struct push_msg *m, *m2;
};

FIXTURE_SETUP(mm)
{
	self->fd = push_open(0);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, push_get_info(self->fd, &self->info));
	ASSERT_EQ(0, push_ring_open(&self->ring, self->fd));
	self->buf = malloc(BUF_SIZE);
	self->buf2 = malloc(BUF_SIZE);
	self->m = calloc(MAX_MSGS, sizeof(*self->m));
	self->m2 = calloc(MAX_MSGS, sizeof(*self->m2));
	ASSERT_NE(NULL, self->buf);
	ASSERT_NE(NULL, self->buf2);
	ASSERT_NE(NULL, self->m);
	ASSERT_NE(NULL, self->m2);
}

FIXTURE_TEARDOWN(mm)
{
	push_ring_close(&self->ring);
	close(self->fd);
	free(self->buf);
	free(self->buf2);
	free(self->m);
	free(self->m2);
}

TEST_F(mm, header)
{
	const struct push_mmap_header *h = self->ring.hdr;

	ASSERT_EQ(PUSH_MMAP_MAGIC, h->magic);
	ASSERT_EQ(PUSH_MMAP_LAYOUT, h->layout);
	ASSERT_EQ(4096, h->data_offset);
	ASSERT_EQ(self->info.ring_size, h->data_size);
	ASSERT_EQ(self->info.epoch, h->epoch);
	ASSERT_EQ(h->data_offset + h->data_size, self->info.mmap_size);
	ASSERT_LE(h->tail_pos, h->head_pos);
	ASSERT_LE(h->head_pos - h->tail_pos, h->data_size);
	ASSERT_LE(h->oldest_id, h->next_id);
	ASSERT_EQ(0, h->reserved0);
}

TEST_F(mm, read_only)
{
	size_t len = self->info.mmap_size;
	void *p;

	ASSERT_EQ(MAP_FAILED, mmap(NULL, len, PROT_READ | PROT_WRITE,
				   MAP_SHARED, self->fd, 0));
	ASSERT_EQ(EPERM, errno);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED,
				   self->fd, 4096));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, len + 4096, PROT_READ, MAP_SHARED,
				   self->fd, 0));
	ASSERT_EQ(EINVAL, errno);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(-1, mprotect(p, 4096, PROT_READ | PROT_WRITE));
	ASSERT_EQ(EACCES, errno);
	munmap(p, len);
}

/* The mapping and read() give the same bytes for the same messages. */
TEST_F(mm, same_records_as_read)
{
	int rd = push_open(0), i, n;
	ssize_t a, b;
	char data[300];

	ASSERT_LE(0, rd);
	ASSERT_LT(0, push_seek(rd, 0, SEEK_END));
	push_ring_seek_end(&self->ring);
	for (i = 0; i < 50; i++) {
		memset(data, 'a' + i % 26, sizeof(data));
		ASSERT_LT(0, push_pub(self->fd, i % 2 ? "mmA" : "mmap.b", data,
				      1 + i * 5, NULL));
	}
	a = read(rd, self->buf, BUF_SIZE);
	ASSERT_LT(0, a);
	b = push_ring_read(&self->ring, self->buf2, BUF_SIZE);
	ASSERT_EQ(a, b);
	ASSERT_EQ(0, memcmp(self->buf, self->buf2, a));
	n = push_parse(self->buf2, b, self->m, MAX_MSGS);
	ASSERT_EQ(50, n);
	ASSERT_EQ(0, push_ring_read(&self->ring, self->buf2, BUF_SIZE));
	ASSERT_EQ(0, push_ring_ready(&self->ring));
	/* A buffer too small for the next record: -EINVAL, nothing lost. */
	ASSERT_LT(0, push_pub(self->fd, "mmA", data, 100, NULL));
	ASSERT_EQ(-EINVAL, push_ring_read(&self->ring, self->buf2, 64));
	ASSERT_EQ(136, push_ring_read(&self->ring, self->buf2, BUF_SIZE));
	close(rd);
}

/* Fallen behind: a gap record with exact lost, like read()'s. */
TEST_F(mm, gap_exact)
{
	int rd = push_open(0), n, k;
	int64_t first;
	ssize_t got;

	ASSERT_LE(0, rd);
	ASSERT_LT(0, push_seek(rd, 0, SEEK_END));
	push_ring_seek_end(&self->ring);
	first = push_pub(self->fd, "mmgap", "one", 3, NULL);
	ASSERT_LT(0, first);
	/* Read the first, so the reader knows where it is. */
	got = push_ring_read(&self->ring, self->buf2, BUF_SIZE);
	ASSERT_EQ(1, push_parse(self->buf2, got, self->m2, MAX_MSGS));
	ASSERT_LT(0, read(rd, self->buf, BUF_SIZE));
	ASSERT_LT(0, push_wrap_past(self->fd, first + 3, "mmgap",
				    self->info.ring_size / 16 < self->info.max_msg_size ?
				    self->info.ring_size / 16 : self->info.max_msg_size,
				    NULL, 0));
	n = push_read_msgs(rd, self->buf, BUF_SIZE, self->m, MAX_MSGS);
	ASSERT_LE(1, n);
	ASSERT_EQ(PUSH_REC_GAP, self->m[0].type);
	got = push_ring_read(&self->ring, self->buf2, BUF_SIZE);
	ASSERT_LT(0, got);
	k = push_parse(self->buf2, got, self->m2, MAX_MSGS);
	ASSERT_LE(2, k);
	ASSERT_EQ(PUSH_REC_GAP, self->m2[0].type);
	ASSERT_EQ(first + 1, self->m2[0].id);
	ASSERT_EQ(self->m[0].id, self->m2[0].id);
	ASSERT_EQ(self->m[0].gap_next, self->m2[0].gap_next);
	ASSERT_EQ(self->m[0].gap_lost, self->m2[0].gap_lost);
	ASSERT_EQ(self->m2[0].gap_next - self->m2[0].id, self->m2[0].gap_lost);
	ASSERT_EQ(self->m2[0].gap_next, self->m2[1].id);
	ASSERT_EQ(1, self->ring.gaps);
	close(rd);
}

/* push_ring_peek(): the records in place; stale ones are caught. */
TEST_F(mm, peek_in_place)
{
	int rd = push_open(0), i;
	const void *p;
	ssize_t a, n;
	int64_t first = 0, id;

	ASSERT_LE(0, rd);
	ASSERT_LT(0, push_seek(rd, 0, SEEK_END));
	push_ring_seek_end(&self->ring);
	for (i = 0; i < 10; i++) {
		id = push_pub(self->fd, "mmpeek", "abcdefgh", 1 + i, NULL);
		ASSERT_LT(0, id);
		if (!first)
			first = id;
	}
	a = read(rd, self->buf, BUF_SIZE);
	ASSERT_LT(0, a);
	n = push_ring_peek(&self->ring, &p, BUF_SIZE);
	ASSERT_EQ(a, n);
	ASSERT_EQ(0, memcmp(self->buf, p, n));
	ASSERT_EQ(0, push_ring_release(&self->ring, n));
	ASSERT_EQ(0, push_ring_peek(&self->ring, &p, BUF_SIZE));
	ASSERT_EQ(0, push_ring_read(&self->ring, self->buf2, BUF_SIZE));

	/* Overwritten between peek and release: -ESTALE, then a gap. */
	id = push_pub(self->fd, "mmpeek", "x", 1, NULL);
	ASSERT_LT(0, id);
	n = push_ring_peek(&self->ring, &p, BUF_SIZE);
	ASSERT_LT(0, n);
	ASSERT_LT(0, push_wrap_past(self->fd, id, "mmpeek",
				    self->info.max_msg_size, NULL, 0));
	ASSERT_EQ(-ESTALE, push_ring_release(&self->ring, n));
	n = push_ring_read(&self->ring, self->buf2, BUF_SIZE);
	ASSERT_LT(0, n);
	ASSERT_LT(0, push_parse(self->buf2, n, self->m2, MAX_MSGS));
	ASSERT_EQ(PUSH_REC_GAP, self->m2[0].type);
	ASSERT_EQ(id, self->m2[0].id);
	close(rd);
}

static void *publish_later(void *arg)
{
	int *fd = arg;

	usleep(100000);
	push_pub(*fd, "mmwait", "x", 1, NULL);
	return NULL;
}

/* push_ring_wait() sleeps in poll() and a publish wakes it. */
TEST_F(mm, poll_wakes)
{
	pthread_t t;
	ssize_t got;

	push_ring_seek_end(&self->ring);
	ASSERT_EQ(0, push_ring_wait(&self->ring, 0));
	ASSERT_EQ(0, pthread_create(&t, NULL, publish_later, &self->fd));
	ASSERT_EQ(1, push_ring_wait(&self->ring, 20000));
	pthread_join(t, NULL);
	got = push_ring_read(&self->ring, self->buf2, BUF_SIZE);
	ASSERT_EQ(1, push_parse(self->buf2, got, self->m2, MAX_MSGS));
	ASSERT_STREQ("mmwait", self->m2[0].chan);
}

#define STRESS_WRITERS	2
#define STRESS_MSGS	20000	/* per writer */

struct stress {
	int64_t payload_max;
	int failed;
};

/* Payload: 8-byte FNV-1a of the rest, then bytes derived from @i. */
static void *stress_writer(void *arg)
{
	struct stress *s = arg;
	int fd = push_open(0), i, j;
	unsigned char p[512];

	for (i = 0; i < STRESS_MSGS; i++) {
		size_t len = 16 + (size_t)(i * 37) % (sizeof(p) - 16);
		uint32_t h;

		for (j = 8; j < (int)len; j++)
			p[j] = (unsigned char)(i * 7 + j);
		h = push_fnv1a(p + 8, len - 8);
		memcpy(p, &h, 4);
		memcpy(p + 4, &h, 4);
		if (push_pub(fd, "mmstress", p, len, NULL) < 0) {
			s->failed = 1;
			break;
		}
	}
	close(fd);
	return NULL;
}

/* Concurrent writers: every record whole or counted lost, ids in order. */
TEST_F(mm, concurrent_never_torn)
{
	uint64_t total = STRESS_WRITERS * STRESS_MSGS, got = 0, lost = 0;
	uint64_t last = 0, first = 0;
	struct stress s = { 0 };
	pthread_t w[STRESS_WRITERS];
	int i, k, n, rounds = 0;

	push_ring_seek_end(&self->ring);
	first = push_next_id(self->fd);
	for (i = 0; i < STRESS_WRITERS; i++)
		ASSERT_EQ(0, pthread_create(&w[i], NULL, stress_writer, &s));
	while (got + lost < total && rounds < 10000000) {
		ssize_t len = push_ring_read(&self->ring, self->buf2, BUF_SIZE);

		rounds++;
		ASSERT_LE(0, len);
		if (!len) {
			ASSERT_LE(0, push_ring_wait(&self->ring, 20000));
			continue;
		}
		n = push_parse(self->buf2, len, self->m2, MAX_MSGS);
		ASSERT_LT(0, n);
		for (k = 0; k < n; k++) {
			struct push_msg *m = &self->m2[k];
			uint32_t h;

			if (m->type == PUSH_REC_GAP) {
				ASSERT_EQ(last + 1, m->id);
				ASSERT_EQ(m->gap_next - m->id, m->gap_lost);
				lost += m->gap_lost;
				last = m->gap_next - 1;
				continue;
			}
			ASSERT_STREQ("mmstress", m->chan);
			if (!last) {
				/* Messages before the first one read are lost. */
				ASSERT_LE(first, m->id);
				lost += m->id - first;
			} else {
				ASSERT_EQ(last + 1, m->id);
			}
			h = push_fnv1a(m->data + 8, m->len - 8);
			ASSERT_EQ(0, memcmp(m->data, &h, 4));
			ASSERT_EQ(0, memcmp(m->data + 4, &h, 4));
			got++;
			last = m->id;
		}
	}
	for (i = 0; i < STRESS_WRITERS; i++)
		pthread_join(w[i], NULL);
	ASSERT_EQ(0, s.failed);
	TH_LOG("%llu read, %llu lost, %llu gap records",
	       (unsigned long long)got, (unsigned long long)lost,
	       (unsigned long long)self->ring.gaps);
	ASSERT_EQ(total, got + lost);
}

TEST_HARNESS_MAIN
