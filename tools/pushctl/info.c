// SPDX-License-Identifier: GPL-2.0
/*
 * info.c - pushctl info: the device's state (PUSH_IOC_INFO) or one
 * channel's (PUSH_IOC_CHAN_INFO), as "key value" lines or JSON.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/push.h>

#include "pushctl.h"

static const char doc[] =
"Usage: pushctl info [OPTIONS] [CHANNEL]\n"
"\n"
"Print the state of /dev/push, or of one CHANNEL, one \"key value\" per line.\n"
"\n"
"Device:  oldest_id next_id retained ring_size ring_used max_msg_size channels\n"
"         epoch version (epoch: random per module load; ids restart with it)\n"
"Channel: channel last_id published retained bytes\n"
"(last_id is the id of the channel's newest message; published and bytes\n"
"count every message ever published on it, retained those still kept.)\n"
"\n"
"Options:\n"
"  -d, --device PATH   the device (default /dev/push)\n"
"  -j, --json          one JSON object instead\n"
"  -h, --help          this help\n"
"\n"
"Exit status: 0, 1 on error (also if CHANNEL never had a message), 2 bad usage.\n"
"\n"
"Examples:\n"
"  pushctl info\n"
"  pushctl info --json chat\n";

struct kv {
	const char *key;
	unsigned long long val;
};

static void print_kv(const struct kv *kv, int n, const char *chan, int json)
{
	int i;

	if (json) {
		putchar('{');
		if (chan) {
			fputs("\"channel\":", stdout);
			json_put_string(stdout, chan, strlen(chan));
		}
		for (i = 0; i < n; i++)
			printf("%s\"%s\":%llu", i || chan ? "," : "",
			       kv[i].key, kv[i].val);
		fputs("}\n", stdout);
		return;
	}
	if (chan)
		printf("channel %s\n", chan);
	for (i = 0; i < n; i++)
		printf("%s %llu\n", kv[i].key, kv[i].val);
}

int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *chan = NULL;
	int c, fd, json = 0, ret = 1;

	while ((c = getopt_long(argc, argv, "d:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			pushctl_device = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'h':
			fputs(doc, stdout);
			return 0;
		default:
			fputs(doc, stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		pushctl_err(0, "info: at most one CHANNEL");
		return EXIT_USAGE;
	}
	if (argc - optind == 1) {
		chan = argv[optind];
		if (!channel_valid(chan)) {
			pushctl_err(0, "info: bad channel name '%s'", chan);
			return EXIT_USAGE;
		}
	}

	fd = open_device(O_RDONLY);
	if (fd < 0)
		return 1;
	if (chan) {
		struct push_chan_info ci = { .chan_len = strlen(chan) };

		memcpy(ci.channel, chan, ci.chan_len);
		if (ioctl(fd, PUSH_IOC_CHAN_INFO, &ci)) {
			if (errno == ENOENT)
				pushctl_err(0, "info: no message was ever published on '%s'",
					    chan);
			else
				pushctl_err(errno, "info: %s", pushctl_device);
			goto out;
		}
		{
			const struct kv kv[] = {
				{ "last_id", ci.last_id },
				{ "published", ci.published },
				{ "retained", ci.retained },
				{ "bytes", ci.bytes },
			};

			print_kv(kv, 4, chan, json);
		}
	} else {
		struct push_info in = { 0 };

		if (ioctl(fd, PUSH_IOC_INFO, &in)) {
			pushctl_err(errno, "info: %s", pushctl_device);
			goto out;
		}
		{
			const struct kv kv[] = {
				{ "oldest_id", in.oldest_id },
				{ "next_id", in.next_id },
				{ "retained", in.retained },
				{ "ring_size", in.ring_size },
				{ "ring_used", in.ring_used },
				{ "max_msg_size", in.max_msg_size },
				{ "channels", in.channels },
				{ "epoch", in.epoch },
				{ "version", in.version },
			};

			print_kv(kv, 9, NULL, json);
		}
	}
	ret = fflush(stdout) ? 1 : 0;
out:
	close(fd);
	return ret;
}
