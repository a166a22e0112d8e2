// SPDX-License-Identifier: GPL-2.0
/*
 * pub.c - pushctl pub: publish one message with PUSH_IOC_PUBLISH.
 *
 * The ioctl stores the bytes as they are (no "@channel " parsing, no
 * newline stripping), so any message, even one starting with '@', reaches
 * the channel named on the command line unchanged.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/push.h>

#include "pushctl.h"

static const char doc[] =
"Usage: pushctl pub [OPTIONS] [CHANNEL] MESSAGE\n"
"\n"
"Publish MESSAGE on CHANNEL (default \"default\") and print its id.\n"
"MESSAGE \"-\" reads the message from standard input, byte for byte.\n"
"CHANNEL is 1-64 characters of [A-Za-z0-9_.:-].\n"
"\n"
"Options:\n"
"  -d, --device PATH   the device (default /dev/push)\n"
"  -t, --time          also print the message's time (ns since the epoch)\n"
"  -h, --help          this help\n"
"\n"
"Errors: an empty message or a bad channel is refused (EINVAL), one\n"
"longer than max_msg_size too (EMSGSIZE; see pushctl info).\n"
"\n"
"Examples:\n"
"  pushctl pub 'hello'                 on channel \"default\"\n"
"  pushctl pub chat 'hello world'\n"
"  pushctl pub chat -- '-starts with a dash'\n"
"  printf 'a\\0b' | pushctl pub bin -    binary data\n";

/* Reads all of stdin into a malloc'd buffer; returns its length or -1. */
static ssize_t read_stdin(char **out)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap), *p;
	ssize_t n;

	if (!buf)
		return -1;
	for (;;) {
		if (len == cap) {
			p = cap > (64u << 20) ? NULL : realloc(buf, cap * 2);
			if (!p) {
				free(buf);
				errno = EMSGSIZE;
				return -1;
			}
			buf = p;
			cap *= 2;
		}
		n = read(STDIN_FILENO, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += n;
	}
	*out = buf;
	return len;
}

int cmd_pub(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "time", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *chan = PUSH_CHANNEL_DEFAULT, *msg;
	struct push_publish pub;
	char *data = NULL;
	int c, fd, show_time = 0, ret = 1;
	ssize_t len;

	while ((c = getopt_long(argc, argv, "d:th", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			pushctl_device = optarg;
			break;
		case 't':
			show_time = 1;
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
	if (argc < 1 || argc > 2) {
		pushctl_err(0, "pub: expected [CHANNEL] MESSAGE");
		fputs(doc, stderr);
		return EXIT_USAGE;
	}
	if (argc == 2)
		chan = *argv++;
	msg = argv[0];
	if (!channel_valid(chan)) {
		pushctl_err(0, "pub: bad channel name '%s' (1-64 of [A-Za-z0-9_.:-])",
			    chan);
		return EXIT_USAGE;
	}
	if (!strcmp(msg, "-")) {
		len = read_stdin(&data);
		if (len < 0) {
			pushctl_err(errno, "pub: reading standard input");
			return 1;
		}
	} else {
		len = strlen(msg);
	}
	if (len == 0) {
		pushctl_err(0, "pub: empty message");
		free(data);
		return EXIT_USAGE;
	}

	fd = open_device(O_WRONLY);
	if (fd < 0)
		goto out;
	memset(&pub, 0, sizeof(pub));
	pub.data = (uintptr_t)(data ? data : msg);
	pub.data_len = len;
	pub.chan_len = strlen(chan);
	memcpy(pub.channel, chan, pub.chan_len);
	if (ioctl(fd, PUSH_IOC_PUBLISH, &pub)) {
		pushctl_err(errno, "pub: %s", pushctl_device);
		goto out_close;
	}
	if (show_time)
		printf("%llu %llu\n", (unsigned long long)pub.id,
		       (unsigned long long)pub.time_ns);
	else
		printf("%llu\n", (unsigned long long)pub.id);
	ret = fflush(stdout) ? 1 : 0;
out_close:
	close(fd);
out:
	free(data);
	return ret;
}
