// SPDX-License-Identifier: GPL-2.0
/*
 * sub.c - pushctl sub: read /dev/push and print each message.
 *
 * One read() returns many whole records; a buffer of 48 + 64 +
 * max_msg_size bytes always holds at least the next one.  A loss (the
 * reader fell behind and messages were overwritten) arrives as a gap
 * record and is reported, never silently skipped.  With --mmap the records
 * are copied out of the mapped history (lib/push_ring_reader.c), with no
 * system call while messages keep coming.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/push.h>

#include "push_ring_reader.h"
#include "pushctl.h"

#define READ_BUF_MIN	(256u << 10)

static const char doc[] =
"Usage: pushctl sub [OPTIONS] [CHANNEL...]\n"
"\n"
"Print the messages of /dev/push as they are published: of every channel,\n"
"or only of the CHANNELs given (at most 64).  Runs until interrupted, or\n"
"until --count messages were printed.\n"
"\n"
"Options:\n"
"  -d, --device PATH   the device (default /dev/push)\n"
"  -f, --from WHERE    where to start: \"end\" (default: only new messages),\n"
"                      \"oldest\" (every retained message) or a message ID\n"
"  -n, --count N       exit after N messages (N >= 1)\n"
"  -j, --json          one JSON object per line (below)\n"
"  -m, --mmap          read the mmap()ed history instead of read(): no system\n"
"                      call per batch; CHANNELs are then filtered here, and a\n"
"                      gap's lost counts every channel's messages\n"
"  -h, --help          this help\n"
"\n"
"Output: without --json, each message's data then a newline.  Lost messages\n"
"are reported on standard error: \"pushctl: lost L messages (ids A..B-1)\".\n"
"With --json, standard output has one object per line:\n"
"  {\"id\":7,\"channel\":\"chat\",\"time\":\"2026-11-25T09:30:00.123456789Z\",\n"
"   \"time_ns\":1795599000123456789,\"data\":\"hello\"}\n"
"  {\"gap\":{\"first_id\":8,\"next_id\":20,\"lost\":12}}\n"
"time is the publish time in RFC 3339 UTC with nanoseconds, time_ns the same\n"
"instant as integer nanoseconds since the epoch.  data is a JSON string: valid\n"
"UTF-8 as is, control characters escaped, each byte of invalid UTF-8 as\n"
"\\u00XX.  A gap means the messages with ids in [first_id, next_id) were\n"
"overwritten before being read; lost of them were on the subscribed\n"
"channels.\n"
"\n"
"Examples:\n"
"  pushctl sub                          follow every channel\n"
"  pushctl sub --from oldest --count 1 chat\n"
"  pushctl sub --json chat news | jq .data\n";

enum from { FROM_END, FROM_OLDEST, FROM_ID };

struct sub_opts {
	enum from from;
	uint64_t from_id;
	uint64_t count;		/* 0: no limit */
	int json;
	int mmap;
	int nchans;		/* with mmap: the CHANNELs, filtered here */
	char **chans;
};

/* With --mmap and CHANNELs: 1 if the record's channel is one of them. */
static int wanted(const struct sub_opts *o, const struct push_record *r,
		  const char *chan)
{
	int i;

	if (!o->mmap || !o->nchans)
		return 1;
	for (i = 0; i < o->nchans; i++)
		if (strlen(o->chans[i]) == r->chan_len &&
		    !memcmp(o->chans[i], chan, r->chan_len))
			return 1;
	return 0;
}

/* Sets the channel filter "a,b,c" from the arguments; 0 or exit code. */
static int set_filter(int fd, int argc, char **argv)
{
	struct push_filter f = { 0 };
	size_t len = 0;
	char *list;
	int i, ret = 0;

	for (i = 0; i < argc; i++) {
		if (!channel_valid(argv[i])) {
			pushctl_err(0, "sub: bad channel name '%s' (1-64 of [A-Za-z0-9_.:-])",
				    argv[i]);
			return EXIT_USAGE;
		}
		len += strlen(argv[i]) + 1;
	}
	list = malloc(len);
	if (!list) {
		pushctl_err(ENOMEM, "sub");
		return 1;
	}
	len = 0;
	for (i = 0; i < argc; i++)
		len += sprintf(list + len, "%s%s", i ? "," : "", argv[i]);
	f.names = (uintptr_t)list;
	f.len = len;
	if (ioctl(fd, PUSH_IOC_SET_FILTER, &f)) {
		if (errno == E2BIG)
			pushctl_err(0, "sub: at most %d channels", PUSH_FILTER_MAX);
		else
			pushctl_err(errno, "sub: setting the channel filter");
		ret = errno == E2BIG ? EXIT_USAGE : 1;
	}
	free(list);
	return ret;
}

static void print_msg(const struct sub_opts *o, const struct push_record *r,
		      const char *chan, const char *data)
{
	if (!o->json) {
		fwrite(data, 1, r->data_len, stdout);
		putchar('\n');
		return;
	}
	printf("{\"id\":%llu,\"channel\":", (unsigned long long)r->id);
	json_put_string(stdout, chan, r->chan_len);
	fputs(",\"time\":\"", stdout);
	put_rfc3339(stdout, r->time_ns);
	printf("\",\"time_ns\":%llu,\"data\":", (unsigned long long)r->time_ns);
	json_put_string(stdout, data, r->data_len);
	fputs("}\n", stdout);
}

static void print_gap(const struct sub_opts *o, const struct push_record *r,
		      const struct push_gap *g)
{
	if (o->json) {
		printf("{\"gap\":{\"first_id\":%llu,\"next_id\":%llu,\"lost\":%llu}}\n",
		       (unsigned long long)r->id,
		       (unsigned long long)g->next_id,
		       (unsigned long long)g->lost);
		return;
	}
	fflush(stdout);
	pushctl_err(0, "lost %llu messages (ids %llu..%llu)",
		    (unsigned long long)g->lost, (unsigned long long)r->id,
		    (unsigned long long)g->next_id - 1);
}

/* One batch of records: read(), or the mmap reader (waiting if idle). */
static ssize_t next_batch(int fd, struct push_ring *ring, char *buf,
			  size_t bufsize)
{
	ssize_t n;
	int w;

	if (!ring)
		return read(fd, buf, bufsize);
	for (;;) {
		n = push_ring_read(ring, buf, bufsize);
		if (n) {
			if (n < 0)
				errno = -n;
			return n < 0 ? -1 : n;
		}
		w = push_ring_wait(ring, -1);
		if (w < 0) {
			errno = -w;
			return -1;
		}
	}
}

/* Reads and prints until o->count messages; returns the exit code. */
static int follow(int fd, struct push_ring *ring, const struct sub_opts *o,
		  size_t bufsize)
{
	uint64_t printed = 0;
	char *buf = malloc(bufsize);
	int ret = 1;

	if (!buf) {
		pushctl_err(ENOMEM, "sub");
		return 1;
	}
	for (;;) {
		ssize_t n = next_batch(fd, ring, buf, bufsize), off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			pushctl_err(n ? errno : EIO, "sub: reading %s", pushctl_device);
			goto out;
		}
		while (off < n) {
			struct push_record r;

			if ((size_t)(n - off) < sizeof(r))
				goto bad;
			memcpy(&r, buf + off, sizeof(r));
			if (r.size < sizeof(r) + r.chan_len + r.data_len ||
			    r.size > n - off)
				goto bad;
			if (r.type == PUSH_REC_MSG &&
			    wanted(o, &r, buf + off + sizeof(r))) {
				const char *chan = buf + off + sizeof(r);

				print_msg(o, &r, chan, chan + r.chan_len);
				if (o->count && ++printed == o->count) {
					ret = 0;
					goto out;
				}
			} else if (r.type == PUSH_REC_GAP &&
				   r.data_len >= sizeof(struct push_gap)) {
				struct push_gap g;

				memcpy(&g, buf + off + sizeof(r) + r.chan_len,
				       sizeof(g));
				print_gap(o, &r, &g);
			}
			/* Unknown record types are skipped, as the ABI asks. */
			off += r.size;
		}
		if (fflush(stdout)) {
			pushctl_err(errno, "sub: standard output");
			goto out;
		}
	}
bad:
	pushctl_err(0, "sub: malformed record from %s", pushctl_device);
out:
	if (fflush(stdout) && !ret) {
		pushctl_err(errno, "sub: standard output");
		ret = 1;
	}
	free(buf);
	return ret;
}

/* pushctl sub --mmap: follow the mapped history; returns the exit code. */
static int sub_mmap(int fd, const struct sub_opts *o)
{
	struct push_info info = { 0 };
	struct push_ring ring;
	size_t bufsize;
	int ret;

	if (ioctl(fd, PUSH_IOC_INFO, &info)) {
		pushctl_err(errno, "sub: %s", pushctl_device);
		close(fd);
		return 1;
	}
	ret = push_ring_open(&ring, fd);
	if (ret) {
		pushctl_err(-ret, "sub: mapping %s", pushctl_device);
		close(fd);
		return 1;
	}
	/* Room for a gap record and the largest record after it. */
	bufsize = 2 * sizeof(struct push_record) + sizeof(struct push_gap) +
		  PUSH_CHANNEL_MAX + info.max_msg_size + PUSH_RECORD_ALIGN;
	if (bufsize < READ_BUF_MIN)
		bufsize = READ_BUF_MIN;
	if (o->from == FROM_END)
		push_ring_seek_end(&ring);
	else
		push_ring_seek_oldest(&ring);
	ret = follow(fd, &ring, o, bufsize);
	push_ring_close(&ring);
	close(fd);
	return ret;
}

int cmd_sub(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "from", required_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "mmap", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sub_opts o = { .from = FROM_END };
	struct push_info info;
	size_t bufsize;
	off_t pos;
	int c, fd, ret;

	while ((c = getopt_long(argc, argv, "d:f:n:jmh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			pushctl_device = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "end")) {
				o.from = FROM_END;
			} else if (!strcmp(optarg, "oldest")) {
				o.from = FROM_OLDEST;
			} else if (!parse_u64(optarg, &o.from_id) && o.from_id) {
				o.from = FROM_ID;
			} else {
				pushctl_err(0, "sub: --from: expected end, oldest or an id >= 1, not '%s'",
					    optarg);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			if (parse_u64(optarg, &o.count) || !o.count) {
				pushctl_err(0, "sub: --count: expected a number >= 1, not '%s'",
					    optarg);
				return EXIT_USAGE;
			}
			break;
		case 'j':
			o.json = 1;
			break;
		case 'm':
			o.mmap = 1;
			break;
		case 'h':
			fputs(doc, stdout);
			return 0;
		default:
			fputs(doc, stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > PUSH_FILTER_MAX) {
		pushctl_err(0, "sub: at most %d channels", PUSH_FILTER_MAX);
		return EXIT_USAGE;
	}

	if (o.mmap && o.from == FROM_ID) {
		pushctl_err(0, "sub: --from ID does not go with --mmap");
		return EXIT_USAGE;
	}
	for (c = 0; o.mmap && c < argc; c++) {
		if (!channel_valid(argv[c])) {
			pushctl_err(0, "sub: bad channel name '%s' (1-64 of [A-Za-z0-9_.:-])",
				    argv[c]);
			return EXIT_USAGE;
		}
	}
	o.nchans = argc;
	o.chans = argv;

	fd = open_device(O_RDONLY);
	if (fd < 0)
		return 1;
	if (o.mmap)
		return sub_mmap(fd, &o);
	ret = argc ? set_filter(fd, argc, argv) : 0;
	if (ret)
		goto out;
	ret = 1;
	if (ioctl(fd, PUSH_IOC_INFO, &info)) {
		pushctl_err(errno, "sub: %s", pushctl_device);
		goto out;
	}
	/* Always room for the largest record, and many small ones. */
	bufsize = sizeof(struct push_record) + PUSH_CHANNEL_MAX +
		  info.max_msg_size + PUSH_RECORD_ALIGN;
	if (bufsize < READ_BUF_MIN)
		bufsize = READ_BUF_MIN;

	if (o.from == FROM_END)
		pos = lseek(fd, 0, SEEK_END);
	else
		pos = lseek(fd, o.from == FROM_ID ? (off_t)o.from_id : 0, SEEK_SET);
	if (pos < 0) {
		if (errno == EINVAL && o.from == FROM_ID)
			pushctl_err(0, "sub: --from %llu: no such id yet (next is %llu)",
				    (unsigned long long)o.from_id,
				    (unsigned long long)info.next_id);
		else
			pushctl_err(errno, "sub: seeking %s", pushctl_device);
		ret = o.from == FROM_ID && errno == EINVAL ? EXIT_USAGE : 1;
		goto out;
	}
	ret = follow(fd, NULL, &o, bufsize);
out:
	close(fd);
	return ret;
}
