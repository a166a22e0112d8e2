// SPDX-License-Identifier: GPL-2.0
/*
 * pushctl - publish to, subscribe to and inspect /dev/push from a shell.
 *
 *   pushctl pub chat "hello"          publish, print the id
 *   pushctl sub --json chat           stream messages as JSON lines
 *   pushctl info                      the device's state
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pushctl.h"

const char *pushctl_device = PUSHCTL_DEVICE;

static const char doc[] =
"Usage: pushctl [--device PATH] COMMAND [OPTIONS] [ARGS]\n"
"\n"
"Publish to, subscribe to and inspect the /dev/push message bus.\n"
"\n"
"Commands:\n"
"  pub [CHANNEL] MESSAGE   publish MESSAGE (\"-\": standard input) on CHANNEL\n"
"                          (default \"default\"); print its id\n"
"  sub [CHANNEL...]        print messages as they arrive (all channels, or\n"
"                          only those given)\n"
"  info [CHANNEL]          print the device's or one channel's state\n"
"\n"
"Options:\n"
"  -d, --device PATH       the device (default /dev/push)\n"
"  -h, --help              this help; COMMAND --help for a command's\n"
"\n"
"Exit status: 0 success, 1 the device refused or failed, 2 bad usage.\n"
"\n"
"Examples:\n"
"  pushctl pub chat 'hello world'\n"
"  date | pushctl pub clock -\n"
"  pushctl sub --from oldest --count 10 --json chat news\n"
"  pushctl info chat\n";

void pushctl_err(int err, const char *fmt, ...)
{
	va_list ap;

	fputs("pushctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
}

int parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int channel_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 64)
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789_.:-") == n;
}

int open_device(int flags)
{
	int fd = open(pushctl_device, flags | O_CLOEXEC);

	if (fd < 0) {
		int err = errno;

		pushctl_err(err, "%s", pushctl_device);
		if (err == ENOENT)
			fprintf(stderr, "pushctl: is the push module loaded? (insmod build/push.ko)\n");
	}
	return fd;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "pub", cmd_pub }, { "sub", cmd_sub }, { "info", cmd_info },
	};
	unsigned int i;
	int c;

	/* "+": stop at the command; its own options follow it. */
	while ((c = getopt_long(argc, argv, "+d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			pushctl_device = optarg;
			break;
		case 'h':
			fputs(doc, stdout);
			return 0;
		default:
			fputs(doc, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		pushctl_err(0, "no command given");
		fputs(doc, stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(argv[optind], cmds[i].name)) {
			argc -= optind;
			argv += optind;
			/* Each command parses its own options from the start. */
			optind = 0;
			return cmds[i].fn(argc, argv);
		}
	}
	pushctl_err(0, "unknown command '%s'", argv[optind]);
	fputs(doc, stderr);
	return EXIT_USAGE;
}
