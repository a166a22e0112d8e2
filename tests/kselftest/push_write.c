// SPDX-License-Identifier: GPL-2.0
/*
 * push_write - publishing to /dev/push: text writes, binary PUBLISH ioctl,
 * ids and timestamps, and that bad input stores nothing and moves no reader.
 *
 * Run as root with the module loaded: build/tests/kselftest/push_write
 */
#include <sys/mman.h>
#include <sys/uio.h>

#include "kselftest_harness.h"
#include "push_util.h"

#define BUF_SIZE	(1 << 20)
#define MAX_MSGS	256

static char name64[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.";

FIXTURE(pub) {
	int fd;			/* publisher */
	int rd;			/* non-blocking reader, at the end */
	void *buf;
	struct push_msg m[MAX_MSGS];
};

FIXTURE_SETUP(pub)
{
	self->fd = push_open(0);
	ASSERT_NE(-1, self->fd);
	self->rd = push_open(O_NONBLOCK);
	ASSERT_NE(-1, self->rd);
	ASSERT_LT(0, push_seek(self->rd, 0, SEEK_END));
	self->buf = malloc(BUF_SIZE);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(pub)
{
	close(self->rd);
	close(self->fd);
	free(self->buf);
}

/*
 * Reads the one message the reader must see next and checks its channel
 * and payload; leaves it in self->m[0].
 */
static void expect_msg(struct __test_metadata *_metadata,
		       FIXTURE_DATA(pub) *self, const char *chan,
		       const void *data, size_t len)
{
	int n = push_read_msgs(self->rd, self->buf, BUF_SIZE, self->m, MAX_MSGS);

	ASSERT_EQ(1, n);
	ASSERT_EQ(PUSH_REC_MSG, self->m[0].type);
	ASSERT_STREQ(chan, self->m[0].chan);
	ASSERT_EQ(len, self->m[0].len);
	ASSERT_EQ(0, memcmp(data, self->m[0].data, len));
	/* Nothing more. */
	ASSERT_EQ(-1, read(self->rd, self->buf, BUF_SIZE));
	ASSERT_EQ(EAGAIN, errno);
}

/* A plain write goes to "default", returns the full count, strips the '\n'. */
TEST_F(pub, text_default_channel)
{
	uint64_t id = push_next_id(self->fd);

	ASSERT_LT(0, id);
	ASSERT_EQ(strlen("hello\n"), push_write_str(self->fd, "hello\n"));
	expect_msg(_metadata, self, PUSH_CHANNEL_DEFAULT, "hello", 5);
	ASSERT_EQ(id, self->m[0].id);
	ASSERT_EQ(id + 1, push_next_id(self->fd));
}

/* "@NAME payload" publishes to NAME; 1 and 64 characters are both fine. */
TEST_F(pub, text_named_channels)
{
	char line[256];

	ASSERT_EQ(strlen("@a hi!\n"), push_write_str(self->fd, "@a hi!\n"));
	expect_msg(_metadata, self, "a", "hi!", 3);

	snprintf(line, sizeof(line), "@%s long name", name64);
	ASSERT_EQ(strlen(line), push_write_str(self->fd, line));
	expect_msg(_metadata, self, name64, "long name", 9);

	/* Every allowed character class. */
	ASSERT_EQ(strlen("@Az09_.:- x y\n"), push_write_str(self->fd, "@Az09_.:- x y\n"));
	expect_msg(_metadata, self, "Az09_.:-", "x y", 3);

	/* Only the first space separates; the rest is payload. */
	ASSERT_EQ(strlen("@b  two"), push_write_str(self->fd, "@b  two"));
	expect_msg(_metadata, self, "b", " two", 4);
}

/* A write that is not "@NAME " never takes a channel from its text. */
TEST_F(pub, text_at_inside_payload)
{
	ASSERT_EQ(strlen("mail @a b"), push_write_str(self->fd, "mail @a b"));
	expect_msg(_metadata, self, PUSH_CHANNEL_DEFAULT, "mail @a b", 9);
}

/* Exactly one trailing newline is stripped; inner newlines are kept. */
TEST_F(pub, text_newlines)
{
	ASSERT_EQ(strlen("two\n\n"), push_write_str(self->fd, "two\n\n"));
	expect_msg(_metadata, self, PUSH_CHANNEL_DEFAULT, "two\n", 4);

	ASSERT_EQ(strlen("a\nb\nc"), push_write_str(self->fd, "a\nb\nc"));
	expect_msg(_metadata, self, PUSH_CHANNEL_DEFAULT, "a\nb\nc", 5);

	ASSERT_EQ(strlen("@nl a\nb\n"), push_write_str(self->fd, "@nl a\nb\n"));
	expect_msg(_metadata, self, "nl", "a\nb", 3);

	/* A payload of one newline plus the stripped one. */
	ASSERT_EQ(strlen("\n\n"), push_write_str(self->fd, "\n\n"));
	expect_msg(_metadata, self, PUSH_CHANNEL_DEFAULT, "\n", 1);
}

/* Text writes are binary-safe apart from the rules above: NUL bytes pass. */
TEST_F(pub, text_nul_bytes)
{
	static const char data[] = "@z a\0b\0";

	ASSERT_EQ(sizeof(data) - 1, write(self->fd, data, sizeof(data) - 1));
	expect_msg(_metadata, self, "z", "a\0b\0", 4);
}

/* The ioctl publishes any bytes, never strips or parses them. */
TEST_F(pub, ioctl_binary)
{
	static const char data[] = "\0@x y\n\n\0\xff";
	struct push_publish pub;
	int64_t id;

	id = push_pub(self->fd, "bin", data, sizeof(data) - 1, &pub);
	ASSERT_LT(0, id);
	expect_msg(_metadata, self, "bin", data, sizeof(data) - 1);
	ASSERT_EQ(id, self->m[0].id);
	ASSERT_EQ(pub.time_ns, self->m[0].time_ns);

	/* A leading "@name " in ioctl data is data. */
	ASSERT_LT(0, push_pub(self->fd, "bin", "@a b\n", 5, NULL));
	expect_msg(_metadata, self, "bin", "@a b\n", 5);

	/* 1 and 64 character names. */
	ASSERT_LT(0, push_pub(self->fd, "q", "1", 1, NULL));
	expect_msg(_metadata, self, "q", "1", 1);
	ASSERT_LT(0, push_pub(self->fd, name64, "64", 2, NULL));
	expect_msg(_metadata, self, name64, "64", 2);
}

/* Ids: one counter over all channels, +1 per message, in publish order. */
TEST_F(pub, ids_increase_across_channels)
{
	static const char *const chans[] = { "ida", "idb", PUSH_CHANNEL_DEFAULT };
	uint64_t ids[60], first = push_next_id(self->fd);
	int i, got = 0;

	for (i = 0; i < 60; i++) {
		char line[64];

		if (i % 2) {
			int64_t id = push_pub(self->fd, chans[i % 3], "x", 1, NULL);

			ASSERT_LT(0, id);
			ids[i] = id;
		} else {
			snprintf(line, sizeof(line), "@%s %d", chans[i % 3], i);
			ASSERT_EQ(strlen(line), push_write_str(self->fd, line));
			ids[i] = 0;
		}
	}
	for (i = 0; i < 60; i++)
		if (ids[i])
			ASSERT_EQ(first + i, ids[i]);
	ASSERT_EQ(first + 60, push_next_id(self->fd));

	/* The reader sees them in the same order, with the same ids. */
	while (got < 60) {
		int n = push_read_msgs(self->rd, self->buf, BUF_SIZE,
				       self->m, MAX_MSGS);

		ASSERT_LT(0, n);
		for (i = 0; i < n; i++, got++) {
			ASSERT_EQ(first + got, self->m[i].id);
			ASSERT_STREQ(chans[got % 3], self->m[i].chan);
		}
	}
	ASSERT_EQ(60, got);
}

/* time_ns is CLOCK_REALTIME at publish time, also in the read record. */
TEST_F(pub, time_is_realtime)
{
	struct push_publish pub;
	uint64_t before, after;

	before = push_now_ns(CLOCK_REALTIME);
	ASSERT_LT(0, push_pub(self->fd, "t", "now", 3, &pub));
	after = push_now_ns(CLOCK_REALTIME);
	/* 10 ms of slack for a coarse kernel clock. */
	ASSERT_LE(before - 10000000ull, pub.time_ns);
	ASSERT_GE(after, pub.time_ns);
	expect_msg(_metadata, self, "t", "now", 3);
	ASSERT_EQ(pub.time_ns, self->m[0].time_ns);

	before = push_now_ns(CLOCK_REALTIME);
	ASSERT_EQ(strlen("@t tx"), push_write_str(self->fd, "@t tx"));
	after = push_now_ns(CLOCK_REALTIME);
	expect_msg(_metadata, self, "t", "tx", 2);
	ASSERT_LE(before - 10000000ull, self->m[0].time_ns);
	ASSERT_GE(after, self->m[0].time_ns);
}

/* writev() is one message of all its vectors; pwrite's offset is ignored. */
TEST_F(pub, writev_one_message)
{
	struct iovec iov[3] = {
		{ "@wv ", 4 }, { "part one, ", 10 }, { "part two\n", 9 },
	};

	ASSERT_EQ(23, writev(self->fd, iov, 3));
	expect_msg(_metadata, self, "wv", "part one, part two", 18);
	ASSERT_EQ(6, pwrite(self->fd, "@pw x\n", 6, 12345));
	expect_msg(_metadata, self, "pw", "x", 1);
}

/* Unknown ioctls fail with ENOTTY. */
TEST_F(pub, unknown_ioctl)
{
	char arg[256] = { 0 };

	ASSERT_EQ(-1, ioctl(self->fd, _IOR(PUSH_IOC_MAGIC, 99, int), arg));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(-1, ioctl(self->fd, _IO('x', 1), arg));
	ASSERT_EQ(ENOTTY, errno);
}

/* A payload of exactly max_msg_size is accepted by write and ioctl. */
TEST_F(pub, max_size_accepted)
{
	int64_t max = push_param("max_msg_size"), ring = push_param("ring_size");
	char *big;

	ASSERT_LT(0, max);
	if (ring > 0 && ring < 4 * max)
		SKIP(return, "ring_size %lld too small for max_msg_size %lld",
		     (long long)ring, (long long)max);
	big = malloc(max + 8);
	ASSERT_NE(NULL, big);
	memset(big, 'm', max);
	/* The stripped newline does not count. */
	big[max] = '\n';
	ASSERT_EQ(max + 1, write(self->fd, big, max + 1));
	expect_msg(_metadata, self, PUSH_CHANNEL_DEFAULT, big, max);
	ASSERT_LT(0, push_pub(self->fd, "big", big, max, NULL));
	expect_msg(_metadata, self, "big", big, max);
	free(big);
}

/* Bad input of every kind is refused with its errno, stores nothing. */
enum bad_kind {
	BAD_TEXT,		/* write() of variant->text */
	BAD_TEXT_TOO_BIG,	/* write() of max_msg_size + 1 bytes */
	BAD_TEXT_CHAN_TOO_BIG,	/* "@c " + max_msg_size + 1 bytes */
	BAD_TEXT_FAULT,		/* write() from an unmapped address */
	BAD_TEXT_FAULT_TAIL,	/* write() whose tail is unmapped */
	BAD_PUB,		/* ioctl with variant->chan, variant->text */
	BAD_PUB_TOO_BIG,
	BAD_PUB_FAULT,		/* ioctl with an unmapped data pointer */
	BAD_PUB_FLAGS,		/* ioctl with flags != 0 */
	BAD_PUB_CHAN_LEN,	/* ioctl with chan_len 65 */
	BAD_PUB_RESERVED,	/* ioctl with reserved != 0 */
	BAD_PUB_ARG_FAULT,	/* ioctl with an unmapped argument */
};

FIXTURE(reject) {
	int fd;
	int rd;
	struct push_info before;
};

FIXTURE_VARIANT(reject) {
	enum bad_kind kind;
	const char *text;
	const char *chan;
	int err;
};

FIXTURE_VARIANT_ADD(reject, empty) { BAD_TEXT, "", NULL, EINVAL };
FIXTURE_VARIANT_ADD(reject, newline_only) { BAD_TEXT, "\n", NULL, EINVAL };
FIXTURE_VARIANT_ADD(reject, at_alone) { BAD_TEXT, "@", NULL, EINVAL };
FIXTURE_VARIANT_ADD(reject, at_newline) { BAD_TEXT, "@\n", NULL, EINVAL };
FIXTURE_VARIANT_ADD(reject, at_space) { BAD_TEXT, "@ x", NULL, EINVAL };
FIXTURE_VARIANT_ADD(reject, name_no_space) { BAD_TEXT, "@name", NULL, EINVAL };
FIXTURE_VARIANT_ADD(reject, name_newline) { BAD_TEXT, "@name\nx", NULL, EINVAL };
FIXTURE_VARIANT_ADD(reject, name_empty_payload) { BAD_TEXT, "@name ", NULL, EINVAL };
FIXTURE_VARIANT_ADD(reject, name_newline_payload) { BAD_TEXT, "@name \n", NULL, EINVAL };
FIXTURE_VARIANT_ADD(reject, name_slash) { BAD_TEXT, "@a/b x", NULL, EINVAL };
FIXTURE_VARIANT_ADD(reject, name_tab) { BAD_TEXT, "@a\tb x", NULL, EINVAL };
FIXTURE_VARIANT_ADD(reject, name_utf8) { BAD_TEXT, "@caf\xc3\xa9 x", NULL, EINVAL };
FIXTURE_VARIANT_ADD(reject, name_comma) { BAD_TEXT, "@a,b x", NULL, EINVAL };
FIXTURE_VARIANT_ADD(reject, name_65) {
	BAD_TEXT,
	"@abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.: x",
	NULL, EINVAL
};
FIXTURE_VARIANT_ADD(reject, too_big) { BAD_TEXT_TOO_BIG, NULL, NULL, EMSGSIZE };
FIXTURE_VARIANT_ADD(reject, chan_too_big) { BAD_TEXT_CHAN_TOO_BIG, NULL, NULL, EMSGSIZE };
FIXTURE_VARIANT_ADD(reject, fault) { BAD_TEXT_FAULT, NULL, NULL, EFAULT };
FIXTURE_VARIANT_ADD(reject, fault_tail) { BAD_TEXT_FAULT_TAIL, NULL, NULL, EFAULT };
FIXTURE_VARIANT_ADD(reject, pub_empty) { BAD_PUB, "", "p", EINVAL };
FIXTURE_VARIANT_ADD(reject, pub_no_chan) { BAD_PUB, "x", "", EINVAL };
FIXTURE_VARIANT_ADD(reject, pub_bad_chan) { BAD_PUB, "x", "a b", EINVAL };
FIXTURE_VARIANT_ADD(reject, pub_too_big) { BAD_PUB_TOO_BIG, NULL, "p", EMSGSIZE };
FIXTURE_VARIANT_ADD(reject, pub_fault) { BAD_PUB_FAULT, NULL, "p", EFAULT };
FIXTURE_VARIANT_ADD(reject, pub_flags) { BAD_PUB_FLAGS, "x", "p", EINVAL };
FIXTURE_VARIANT_ADD(reject, pub_chan_len) { BAD_PUB_CHAN_LEN, "x", NULL, EINVAL };
FIXTURE_VARIANT_ADD(reject, pub_reserved) { BAD_PUB_RESERVED, "x", "p", EINVAL };
FIXTURE_VARIANT_ADD(reject, pub_arg_fault) { BAD_PUB_ARG_FAULT, NULL, NULL, EFAULT };

FIXTURE_SETUP(reject)
{
	self->fd = push_open(0);
	ASSERT_NE(-1, self->fd);
	self->rd = push_open(O_NONBLOCK);
	ASSERT_NE(-1, self->rd);
	ASSERT_LT(0, push_seek(self->rd, 0, SEEK_END));
	ASSERT_EQ(0, push_get_info(self->fd, &self->before));
}

FIXTURE_TEARDOWN(reject)
{
	close(self->rd);
	close(self->fd);
}

/* Returns a page whose second half is unmapped: [page, page + psz) is ok. */
static char *guarded_page(void)
{
	long psz = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * psz, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p + psz, psz);
	return p;
}

/* The publish fails with the variant's errno; no id, no message, no reader moves. */
TEST_F(reject, stores_nothing)
{
	int64_t max = push_param("max_msg_size");
	long psz = sysconf(_SC_PAGESIZE);
	struct push_publish pub;
	struct push_info after;
	struct push_msg msg;
	char *big = NULL, *page;
	ssize_t ret;
	char buf[4096];

	ASSERT_LT(0, max);
	big = malloc(max + 16);
	ASSERT_NE(NULL, big);
	memset(big, 'b', max + 16);
	page = guarded_page();
	ASSERT_NE(NULL, page);
	memset(&pub, 0, sizeof(pub));
	if (variant->chan) {
		pub.chan_len = strlen(variant->chan);
		memcpy(pub.channel, variant->chan, pub.chan_len);
	}
	if (variant->text) {
		pub.data = (uintptr_t)variant->text;
		pub.data_len = strlen(variant->text);
	}

	errno = 0;
	switch (variant->kind) {
	case BAD_TEXT:
		ret = write(self->fd, variant->text, strlen(variant->text));
		break;
	case BAD_TEXT_TOO_BIG:
		/* Even with a newline, max + 1 bytes of payload remain. */
		big[max + 1] = '\n';
		ret = write(self->fd, big, max + 2);
		break;
	case BAD_TEXT_CHAN_TOO_BIG:
		memcpy(big, "@c ", 3);
		ret = write(self->fd, big, max + 4);
		break;
	case BAD_TEXT_FAULT:
		ret = write(self->fd, page + psz, 16);
		break;
	case BAD_TEXT_FAULT_TAIL:
		memset(page, 'f', psz);
		memcpy(page + psz - 8, "@ft tail", 8);
		ret = write(self->fd, page + psz - 8, 16);
		break;
	case BAD_PUB_TOO_BIG:
		pub.data = (uintptr_t)big;
		pub.data_len = max + 1;
		ret = ioctl(self->fd, PUSH_IOC_PUBLISH, &pub);
		break;
	case BAD_PUB_FAULT:
		pub.data = (uintptr_t)(page + psz - 4);
		pub.data_len = 16;
		ret = ioctl(self->fd, PUSH_IOC_PUBLISH, &pub);
		break;
	case BAD_PUB_FLAGS:
		pub.flags = 1;
		ret = ioctl(self->fd, PUSH_IOC_PUBLISH, &pub);
		break;
	case BAD_PUB_RESERVED:
		pub.reserved = 1;
		ret = ioctl(self->fd, PUSH_IOC_PUBLISH, &pub);
		break;
	case BAD_PUB_CHAN_LEN:
		pub.chan_len = PUSH_CHANNEL_MAX + 1;
		memset(pub.channel, 'c', sizeof(pub.channel));
		ret = ioctl(self->fd, PUSH_IOC_PUBLISH, &pub);
		break;
	case BAD_PUB_ARG_FAULT:
		ret = ioctl(self->fd, PUSH_IOC_PUBLISH, page + psz);
		break;
	case BAD_PUB:
	default:
		ret = ioctl(self->fd, PUSH_IOC_PUBLISH, &pub);
		break;
	}
	ASSERT_EQ(-1, ret);
	ASSERT_EQ(variant->err, errno);
	/* No id used, nothing retained, the reader has nothing to read. */
	ASSERT_EQ(0, push_get_info(self->fd, &after));
	ASSERT_EQ(self->before.next_id, after.next_id);
	ASSERT_EQ(self->before.retained, after.retained);
	ASSERT_EQ(self->before.ring_used, after.ring_used);
	ASSERT_EQ(-1, read(self->rd, buf, sizeof(buf)));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(self->before.next_id, push_seek(self->rd, 0, SEEK_CUR));
	/* The device still works: the next publish gets the unused id. */
	ASSERT_EQ(self->before.next_id, push_pub(self->fd, "after", "ok", 2, NULL));
	ret = read(self->rd, buf, sizeof(buf));
	ASSERT_LT(0, ret);
	ASSERT_EQ(1, push_parse(buf, ret, &msg, 1));
	ASSERT_STREQ("after", msg.chan);
	munmap(page, psz);
	free(big);
}

TEST_HARNESS_MAIN
