// SPDX-License-Identifier: GPL-2.0
/*
 * push_stress - many writers and readers at once: 4 writer threads (two
 * with write(), two with the PUBLISH ioctl) publish 200,000 messages while
 * 4 reader threads, each with its own fd, read them.  Every reader must
 * see every message exactly once, in id order, with an intact payload, or
 * account for it in an exact gap record.
 *
 * Payloads are "w<writer> n<counter> k<checksum>", the checksum an FNV-1a
 * of the rest, so a torn or mixed-up message is caught.
 *
 * Run as root with the module loaded: build/tests/kselftest/push_stress
 */
#include <poll.h>
#include <pthread.h>

#include "kselftest_harness.h"
#include "push_util.h"

#define WRITERS		4
#define READERS		4
#define PER_WRITER	50000	/* 200,000 in all; a fifth when filtered */
#define RBUF_SIZE	(256 << 10)
#define RMAX		(RBUF_SIZE / 40)
#define IDLE_MS		20000	/* a reader waiting this long has lost messages */

struct writer {
	pthread_t thread;
	int fd;
	int index;
	int use_ioctl;
	unsigned int count;	/* messages to publish */
	char err[128];
};

struct reader {
	pthread_t thread;
	int fd;
	int index;
	uint64_t start;		/* cursor before the writers started */
	uint64_t want;		/* messages of its channels published */
	unsigned int per_writer_count;
	int filtered;		/* reads only writers 0 (write) and 1 (ioctl) */
	uint64_t msgs;		/* messages read */
	uint64_t lost;		/* messages reported lost */
	uint64_t gaps;		/* gap records */
	uint64_t per_writer[WRITERS];
	char err[160];
};

static pthread_barrier_t start_line;

static int make_payload(char *buf, size_t size, int w, unsigned int n)
{
	int len = snprintf(buf, size, "w%d n%06u", w, n);

	return len + snprintf(buf + len, size - len, " k%08x",
			      push_fnv1a(buf, len));
}

static void *writer_fn(void *arg)
{
	struct writer *wr = arg;
	char line[96], chan[16];
	int64_t last_id = 0, id;
	unsigned int n;
	int len, hdr;

	snprintf(chan, sizeof(chan), "st%d", wr->index);
	hdr = snprintf(line, sizeof(line), "@%s ", chan);
	pthread_barrier_wait(&start_line);
	for (n = 0; n < wr->count; n++) {
		if (wr->use_ioctl) {
			len = make_payload(line, sizeof(line), wr->index, n);
			id = push_pub(wr->fd, chan, line, len, NULL);
			if (id <= last_id) {
				snprintf(wr->err, sizeof(wr->err),
					 "publish %u: id %lld after %lld", n,
					 (long long)id, (long long)last_id);
				return NULL;
			}
			last_id = id;
		} else {
			len = hdr + make_payload(line + hdr, sizeof(line) - hdr,
						 wr->index, n);
			line[len++] = '\n';
			if (write(wr->fd, line, len) != len) {
				snprintf(wr->err, sizeof(wr->err),
					 "write %u: %s", n, strerror(errno));
				return NULL;
			}
		}
	}
	return NULL;
}

/*
 * Checks one message: payload intact, on its writer's channel, and its
 * writer's next counter (any later one after a gap: @resync).  Returns 0
 * or -1 with rd->err set.
 */
static int check_msg(struct reader *rd, const struct push_msg *m,
		     int64_t *last_n, int *resync)
{
	char copy[96], want[96];
	unsigned int n;
	int w, len;

	if (m->len >= sizeof(copy) ||
	    sscanf(memcpy(copy, m->data, m->len), "w%d n%u", &w, &n) != 2)
		goto bad;
	copy[m->len] = '\0';
	if (w < 0 || w >= WRITERS || n >= rd->per_writer_count)
		goto bad;
	len = make_payload(want, sizeof(want), w, n);
	if ((size_t)len != m->len || memcmp(want, copy, len))
		goto bad;
	snprintf(want, sizeof(want), "st%d", w);
	if (strcmp(want, m->chan))
		goto bad;
	if (rd->filtered && w > 1)
		goto bad;
	/* Each writer's counter goes up by one, or jumps only across a gap. */
	if (resync[w] ? (int64_t)n <= last_n[w] : (int64_t)n != last_n[w] + 1) {
		snprintf(rd->err, sizeof(rd->err),
			 "id %llu: writer %d counter %u after %lld",
			 (unsigned long long)m->id, w, n, (long long)last_n[w]);
		return -1;
	}
	last_n[w] = n;
	resync[w] = 0;
	rd->per_writer[w]++;
	return 0;
bad:
	snprintf(rd->err, sizeof(rd->err), "id %llu: bad message on %s: %.*s",
		 (unsigned long long)m->id, m->chan, (int)m->len, m->data);
	return -1;
}

static void *reader_fn(void *arg)
{
	struct reader *rd = arg;
	struct pollfd p = { .fd = rd->fd, .events = POLLIN };
	int64_t last_n[WRITERS];
	uint64_t expect = rd->start;
	struct push_msg *m;
	int resync[WRITERS] = { 0 };
	void *buf;
	int i, n, w;

	buf = malloc(RBUF_SIZE);
	m = calloc(RMAX, sizeof(*m));
	for (i = 0; i < WRITERS; i++)
		last_n[i] = -1;
	/* Everyone passes the barrier, or the others would wait forever. */
	pthread_barrier_wait(&start_line);
	if (!buf || !m) {
		snprintf(rd->err, sizeof(rd->err), "out of memory");
		goto out;
	}
	while (rd->msgs + rd->lost < rd->want) {
		if (poll(&p, 1, IDLE_MS) != 1) {
			snprintf(rd->err, sizeof(rd->err),
				 "stalled at id %llu: %llu read, %llu lost of %llu",
				 (unsigned long long)expect,
				 (unsigned long long)rd->msgs,
				 (unsigned long long)rd->lost,
				 (unsigned long long)rd->want);
			goto out;
		}
		n = push_read_msgs(rd->fd, buf, RBUF_SIZE, m, RMAX);
		if (n < 0) {
			snprintf(rd->err, sizeof(rd->err), "read: %s",
				 strerror(-n));
			goto out;
		}
		for (i = 0; i < n; i++) {
			const struct push_msg *r = &m[i];

			if (r->type == PUSH_REC_GAP) {
				/* Unfiltered, the gap covers exactly the ids skipped. */
				if (r->id < expect || r->gap_next <= r->id ||
				    (!rd->filtered &&
				     (r->id != expect ||
				      r->gap_lost != r->gap_next - r->id))) {
					snprintf(rd->err, sizeof(rd->err),
						 "bad gap at %llu: [%llu, %llu) lost %llu",
						 (unsigned long long)expect,
						 (unsigned long long)r->id,
						 (unsigned long long)r->gap_next,
						 (unsigned long long)r->gap_lost);
					goto out;
				}
				rd->gaps++;
				rd->lost += r->gap_lost;
				expect = r->gap_next;
				for (w = 0; w < WRITERS; w++)
					resync[w] = 1;
				continue;
			}
			/* In id order, without a hole unless filtered. */
			if (rd->filtered ? r->id < expect : r->id != expect) {
				snprintf(rd->err, sizeof(rd->err),
					 "id %llu where %llu was due",
					 (unsigned long long)r->id,
					 (unsigned long long)expect);
				goto out;
			}
			if (check_msg(rd, r, last_n, resync))
				goto out;
			expect = r->id + 1;
			rd->msgs++;
		}
	}
	if (rd->msgs + rd->lost != rd->want)
		snprintf(rd->err, sizeof(rd->err), "%llu read + %llu lost != %llu",
			 (unsigned long long)rd->msgs,
			 (unsigned long long)rd->lost,
			 (unsigned long long)rd->want);
out:
	free(buf);
	free(m);
	return NULL;
}

FIXTURE(stress) {
	struct writer w[WRITERS];
	struct reader r[READERS];
};

FIXTURE_VARIANT(stress) {
	int filtered;		/* readers filter on writers 0 and 1 */
	unsigned int per_writer;
};

FIXTURE_VARIANT_ADD(stress, all_channels) { 0, PER_WRITER };
FIXTURE_VARIANT_ADD(stress, filtered) { 1, PER_WRITER / 5 };

FIXTURE_SETUP(stress)
{
	int i;

	for (i = 0; i < WRITERS; i++) {
		self->w[i].index = i;
		self->w[i].use_ioctl = i % 2;
		self->w[i].count = variant->per_writer;
		self->w[i].fd = push_open(0);
		ASSERT_NE(-1, self->w[i].fd);
	}
	for (i = 0; i < READERS; i++) {
		int64_t c;

		self->r[i].index = i;
		self->r[i].filtered = variant->filtered;
		self->r[i].per_writer_count = variant->per_writer;
		self->r[i].want = (uint64_t)variant->per_writer *
				  (variant->filtered ? 2 : WRITERS);
		self->r[i].fd = push_open(0);
		ASSERT_NE(-1, self->r[i].fd);
		if (variant->filtered)
			ASSERT_EQ(0, push_set_filter(self->r[i].fd, "st0,st1"));
		c = push_seek(self->r[i].fd, 0, SEEK_END);
		ASSERT_LT(0, c);
		self->r[i].start = c;
	}
}

FIXTURE_TEARDOWN(stress)
{
	int i;

	for (i = 0; i < WRITERS; i++)
		close(self->w[i].fd);
	for (i = 0; i < READERS; i++)
		close(self->r[i].fd);
}

/* Every reader accounts for every message: read intact once, or lost exactly. */
TEST_F_TIMEOUT(stress, every_message_once, 300)
{
	uint64_t total = (uint64_t)WRITERS * variant->per_writer;
	uint64_t t0 = push_now_ns(CLOCK_MONOTONIC), first, ms;
	int64_t overruns = push_stat("overruns"), lost = push_stat("lost");
	uint64_t gaps = 0, lost_sum = 0;
	int i, w;

	first = push_next_id(self->w[0].fd);
	ASSERT_EQ(0, pthread_barrier_init(&start_line, NULL, WRITERS + READERS));
	for (i = 0; i < READERS; i++)
		ASSERT_EQ(0, pthread_create(&self->r[i].thread, NULL, reader_fn,
					    &self->r[i]));
	for (i = 0; i < WRITERS; i++)
		ASSERT_EQ(0, pthread_create(&self->w[i].thread, NULL, writer_fn,
					    &self->w[i]));
	for (i = 0; i < WRITERS; i++)
		pthread_join(self->w[i].thread, NULL);
	for (i = 0; i < READERS; i++)
		pthread_join(self->r[i].thread, NULL);
	ms = (push_now_ns(CLOCK_MONOTONIC) - t0) / 1000000;

	/* Writers: every publish succeeded, with increasing ids. */
	for (w = 0; w < WRITERS; w++) {
		if (self->w[w].err[0])
			TH_LOG("writer %d: %s", w, self->w[w].err);
		ASSERT_EQ(0, self->w[w].err[0]);
	}
	/* Exactly total ids were used, all by this test. */
	ASSERT_EQ(first + total, push_next_id(self->w[0].fd));
	ASSERT_EQ(first, self->r[0].start);

	for (i = 0; i < READERS; i++) {
		struct reader *rd = &self->r[i];

		TH_LOG("reader %d: %llu messages, %llu lost in %llu gaps, %llu ms",
		       i, (unsigned long long)rd->msgs,
		       (unsigned long long)rd->lost,
		       (unsigned long long)rd->gaps, (unsigned long long)ms);
		if (rd->err[0])
			TH_LOG("reader %d: %s", i, rd->err);
		ASSERT_EQ(0, rd->err[0]);
		ASSERT_EQ(rd->want, rd->msgs + rd->lost);
		gaps += rd->gaps;
		lost_sum += rd->lost;
		/* Without loss, each writer's messages all arrived. */
		for (w = 0; w < WRITERS && !rd->gaps; w++)
			ASSERT_EQ(variant->filtered && w > 1 ? 0 : variant->per_writer,
				  rd->per_writer[w]);
	}
	/* The global counters saw the same gaps (nothing else reads now). */
	if (overruns >= 0 && lost >= 0) {
		ASSERT_EQ(overruns + gaps, push_stat("overruns"));
		ASSERT_EQ(lost + lost_sum, push_stat("lost"));
	}
	pthread_barrier_destroy(&start_line);
}

TEST_HARNESS_MAIN
