// SPDX-License-Identifier: GPL-2.0
/*
 * push_seek - moving a reader's cursor with lseek(): SEEK_SET 0 (oldest),
 * SEEK_SET ID, SEEK_END (only new), SEEK_CUR (where am I), and ids past
 * the end.  Seeking to an overwritten id is in push_overrun.
 *
 * Run as root with the module loaded: build/tests/kselftest/push_seek
 */
#include "kselftest_harness.h"
#include "push_util.h"

#define BUF_SIZE	(1 << 20)
#define MAX_MSGS	64
/* Bytes of a record with a channel of c and data of d bytes. */
#define REC_SIZE(c, d)	((PUSH_HDR + (c) + (d) + 7) & ~(size_t)7)

FIXTURE(seek) {
	int fd;			/* publisher */
	int rd;			/* non-blocking reader */
	int64_t ids[5];		/* five fresh messages on "sk" */
	char *buf;
	struct push_msg m[MAX_MSGS];
};

FIXTURE_SETUP(seek)
{
	int i;

	self->fd = push_open(0);
	ASSERT_NE(-1, self->fd);
	self->rd = push_open(O_NONBLOCK);
	ASSERT_NE(-1, self->rd);
	self->buf = malloc(BUF_SIZE);
	ASSERT_NE(NULL, self->buf);
	for (i = 0; i < 5; i++) {
		char payload[8];

		snprintf(payload, sizeof(payload), "s%d", i);
		self->ids[i] = push_pub(self->fd, "sk", payload, 2, NULL);
		ASSERT_LT(0, self->ids[i]);
	}
}

FIXTURE_TEARDOWN(seek)
{
	close(self->rd);
	close(self->fd);
	free(self->buf);
}

/* SEEK_SET 0 goes to the oldest retained message, with no gap record. */
TEST_F(seek, set_zero_is_oldest)
{
	struct push_info info;

	ASSERT_EQ(self->ids[4] + 1, push_seek(self->rd, 0, SEEK_END));
	ASSERT_EQ(0, push_get_info(self->fd, &info));
	ASSERT_EQ(info.oldest_id, push_seek(self->rd, 0, SEEK_SET));
	ASSERT_EQ(info.oldest_id, push_seek(self->rd, 0, SEEK_CUR));
	ASSERT_EQ(1, push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, 1));
	ASSERT_EQ(PUSH_REC_MSG, self->m[0].type);
	ASSERT_EQ(info.oldest_id, self->m[0].id);
}

/* SEEK_END: nothing to read until a new message arrives; returns next_id. */
TEST_F(seek, end_only_new)
{
	int64_t id;

	ASSERT_EQ(self->ids[4] + 1, push_seek(self->rd, 0, SEEK_END));
	ASSERT_EQ(-1, read(self->rd, self->buf, BUF_SIZE));
	ASSERT_EQ(EAGAIN, errno);
	id = push_pub(self->fd, "sk", "new", 3, NULL);
	ASSERT_EQ(self->ids[4] + 1, id);
	ASSERT_EQ(1, push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS));
	ASSERT_EQ(id, self->m[0].id);
	ASSERT_EQ(0, memcmp("new", self->m[0].data, 3));
}

/* SEEK_CUR 0 returns the id of the next message to read, and moves nothing. */
TEST_F(seek, cur_reports_cursor)
{
	ASSERT_EQ(self->ids[0], push_seek(self->rd, self->ids[0], SEEK_SET));
	ASSERT_EQ(self->ids[0], push_seek(self->rd, 0, SEEK_CUR));
	ASSERT_EQ(self->ids[0], push_seek(self->rd, 0, SEEK_CUR));
	/* A whole-record read of two moves it by two. */
	ASSERT_EQ(2, push_read_msgs(self->rd, self->buf, 2 * REC_SIZE(2, 2), self->m, MAX_MSGS));
	ASSERT_EQ(self->ids[2], push_seek(self->rd, 0, SEEK_CUR));
	ASSERT_EQ(3, push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS));
	ASSERT_EQ(self->ids[4] + 1, push_seek(self->rd, 0, SEEK_CUR));
}

/* SEEK_SET ID: the next read starts at message ID, forwards or backwards. */
TEST_F(seek, set_id)
{
	int i;

	ASSERT_EQ(self->ids[2], push_seek(self->rd, self->ids[2], SEEK_SET));
	ASSERT_EQ(3, push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(PUSH_REC_MSG, self->m[i].type);
		ASSERT_EQ(self->ids[2 + i], self->m[i].id);
		ASSERT_EQ('0' + 2 + i, self->m[i].data[1]);
	}
	/* Back to an earlier one: read again. */
	ASSERT_EQ(self->ids[1], push_seek(self->rd, self->ids[1], SEEK_SET));
	ASSERT_EQ(4, push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS));
	ASSERT_EQ(self->ids[1], self->m[0].id);
	/* Forward past unread ones skips them. */
	ASSERT_EQ(self->ids[1], push_seek(self->rd, self->ids[1], SEEK_SET));
	ASSERT_EQ(self->ids[4], push_seek(self->rd, self->ids[4], SEEK_SET));
	ASSERT_EQ(1, push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS));
	ASSERT_EQ(self->ids[4], self->m[0].id);
}

/* SEEK_SET to next_id is the end; past it is EINVAL and the cursor stays. */
TEST_F(seek, past_next_id)
{
	int64_t next = self->ids[4] + 1;

	ASSERT_EQ(self->ids[3], push_seek(self->rd, self->ids[3], SEEK_SET));
	ASSERT_EQ(-EINVAL, push_seek(self->rd, next + 1, SEEK_SET));
	ASSERT_EQ(-EINVAL, push_seek(self->rd, next + 1000000, SEEK_SET));
	ASSERT_EQ(self->ids[3], push_seek(self->rd, 0, SEEK_CUR));
	ASSERT_EQ(next, push_seek(self->rd, next, SEEK_SET));
	ASSERT_EQ(-1, read(self->rd, self->buf, BUF_SIZE));
	ASSERT_EQ(EAGAIN, errno);
}

/* Bad offsets and whences are EINVAL and move nothing. */
TEST_F(seek, bad_arguments)
{
	ASSERT_EQ(self->ids[2], push_seek(self->rd, self->ids[2], SEEK_SET));
	ASSERT_EQ(-EINVAL, push_seek(self->rd, -1, SEEK_SET));
	ASSERT_EQ(-EINVAL, push_seek(self->rd, 1, SEEK_CUR));
	ASSERT_EQ(-EINVAL, push_seek(self->rd, -1, SEEK_CUR));
	ASSERT_EQ(-EINVAL, push_seek(self->rd, -1, SEEK_END));
	ASSERT_EQ(-EINVAL, push_seek(self->rd, 1, SEEK_END));
	ASSERT_EQ(-EINVAL, push_seek(self->rd, 0, SEEK_DATA));
	ASSERT_EQ(-EINVAL, push_seek(self->rd, 0, 42));
	ASSERT_EQ(self->ids[2], push_seek(self->rd, 0, SEEK_CUR));
}

/* A filtered reader seeking to an id reads its own channels from there. */
TEST_F(seek, set_id_filtered)
{
	int64_t other, mine;

	ASSERT_EQ(0, push_set_filter(self->rd, "sk2"));
	other = push_pub(self->fd, "sk", "o", 1, NULL);
	mine = push_pub(self->fd, "sk2", "m", 1, NULL);
	ASSERT_LT(0, other);
	ASSERT_EQ(other + 1, mine);
	ASSERT_EQ(self->ids[0], push_seek(self->rd, self->ids[0], SEEK_SET));
	ASSERT_EQ(1, push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS));
	ASSERT_EQ(mine, self->m[0].id);
	ASSERT_STREQ("sk2", self->m[0].chan);
}

TEST_HARNESS_MAIN
