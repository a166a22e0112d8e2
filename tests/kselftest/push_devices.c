// SPDX-License-Identifier: GPL-2.0
/*
 * push_devices - devices=2 gives /dev/push and /dev/push1, two independent
 * buses: own ids, history, channels, epoch, sysfs counters and debugfs.
 *
 * vm-params: ring_size=65536 max_msg_size=4096 devices=2
 */
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "push_util.h"

#define PUSH1_DEV	"/dev/push1"
#define PUSH1_STATS	"/sys/class/misc/push1/stats/"

TEST(independent)
{
	struct push_info i0, i1;
	struct push_chan_info ci = { .chan_len = 5, .channel = "only1" };
	uint64_t next0;
	int fd0, fd1, n;
	char buf[4096];
	struct push_msg m[4];
	struct stat st;

	if (stat(PUSH1_DEV, &st))
		SKIP(return, "no %s (load with devices=2)", PUSH1_DEV);
	ASSERT_EQ(2, push_param("devices"));
	fd0 = push_open(O_NONBLOCK);
	fd1 = open(PUSH1_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, fd0);
	ASSERT_LE(0, fd1);
	ASSERT_EQ(0, push_get_info(fd0, &i0));
	ASSERT_EQ(0, push_get_info(fd1, &i1));
	ASSERT_NE(i0.epoch, i1.epoch);
	ASSERT_EQ(i0.ring_size, i1.ring_size);
	next0 = i0.next_id;

	ASSERT_LT(0, push_seek(fd1, 0, SEEK_END));
	ASSERT_EQ((int64_t)i1.next_id, push_pub(fd1, "only1", "hi", 2, NULL));
	ASSERT_EQ(next0, push_next_id(fd0));
	ASSERT_EQ(-1, ioctl(fd0, PUSH_IOC_CHAN_INFO, &ci));
	ASSERT_EQ(ENOENT, errno);
	ASSERT_EQ(0, ioctl(fd1, PUSH_IOC_CHAN_INFO, &ci));
	ASSERT_EQ(1, ci.published);
	ASSERT_EQ((int64_t)i1.next_id + 1, push_read_u64(PUSH1_STATS "next_id"));
	ASSERT_EQ((int64_t)next0, push_stat("next_id"));

	n = push_read_msgs(fd1, buf, sizeof(buf), m, 4);
	ASSERT_EQ(1, n);
	ASSERT_STREQ("only1", m[0].chan);
	ASSERT_EQ(-EAGAIN, push_read_msgs(fd1, buf, sizeof(buf), m, 4));
	ASSERT_EQ(0, stat("/sys/kernel/debug/push1/channels", &st));
	close(fd0);
	close(fd1);
}

TEST_HARNESS_MAIN
