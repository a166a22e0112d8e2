// SPDX-License-Identifier: GPL-2.0
/*
 * test_conffile.c - pushd's configuration file (userspace/server/conffile.c):
 * "name = value" lines become "--name=value" arguments in file order, with
 * comments, blank lines, quotes and yes/no flags; every malformed line
 * (unknown or denied name, missing or stray value, a name set twice, an
 * unbalanced quote, a NUL byte, an over-long line) is refused naming its
 * line; merged argv puts the file first so getopt_long() lets the command
 * line win, and conffile_line_of() maps arguments back to lines.
 * TAP output; exit 1 on any failure.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/conffile.h"

#include "tap.h"

enum { O_LISTEN = 256, O_HEARTBEAT, O_TOKEN, O_CONFIG, O_LEVEL };

static const struct option opts[] = {
	{ "listen", required_argument, NULL, O_LISTEN },
	{ "heartbeat", required_argument, NULL, O_HEARTBEAT },
	{ "token-file", required_argument, NULL, O_TOKEN },
	{ "level", optional_argument, NULL, O_LEVEL },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

static const char *const deny[] = { "config", "help", NULL };
static struct conffile cf;
static char err[256];

static int parse(const char *text)
{
	conffile_free(&cf);
	err[0] = '\0';
	return conffile_parse(&cf, "t.conf", text, strlen(text), opts, deny, err, sizeof(err));
}

/* The file is refused, and the message starts with "t.conf:LINE: " and holds @why. */
static int refused(const char *text, int line, const char *why)
{
	char want[32];

	snprintf(want, sizeof(want), "t.conf:%d: ", line);
	if (parse(text) != -1) {
		printf("# accepted: %s\n", text);
		return 0;
	}
	printf("# %s\n", err);
	return !strncmp(err, want, strlen(want)) && strstr(err, why) && !cf.argc;
}

int main(void)
{
	int argc;
	char **argv;

	/* settings become arguments in file order, each knowing its line */
	CHECK(parse("# pushd\n\nlisten = 0.0.0.0:80\n  heartbeat=5  \nverbose\n") == 0 &&
	      cf.argc == 3, "three settings parsed (%s)", err);
	CHECK(cf.argc == 3 && !strcmp(cf.argv[0], "--listen=0.0.0.0:80") &&
	      !strcmp(cf.argv[1], "--heartbeat=5") && !strcmp(cf.argv[2], "--verbose") &&
	      !cf.argv[3], "as --name=value, spaces trimmed, flag bare");
	CHECK(cf.argc == 3 && cf.line[0] == 3 && cf.line[1] == 4 && cf.line[2] == 5,
	      "lines 3, 4, 5 recorded");
	CHECK(parse("") == 0 && cf.argc == 0 && cf.argv && !cf.argv[0], "an empty file is no settings");
	CHECK(parse("listen = a:1\r\nheartbeat = 2\r\n") == 0 && cf.argc == 2 &&
	      !strcmp(cf.argv[0], "--listen=a:1"), "CRLF line ends");
	CHECK(parse("heartbeat = 7") == 0 && cf.argc == 1 && !strcmp(cf.argv[0], "--heartbeat=7"),
	      "a last line without newline");

	/* quotes keep spaces; '#' and '=' inside a value are the value's */
	CHECK(parse("token-file = \" /a b# \"\n") == 0 && cf.argc == 1 &&
	      !strcmp(cf.argv[0], "--token-file= /a b# "), "quoted value kept whole");
	CHECK(parse("token-file = /x=y#z\n") == 0 && cf.argc == 1 &&
	      !strcmp(cf.argv[0], "--token-file=/x=y#z"), "'=' and '#' inside a value");

	/* flags: bare, yes/true/1 set; no/false/0 leave unset */
	CHECK(parse("verbose = yes\n") == 0 && cf.argc == 1 && !strcmp(cf.argv[0], "--verbose"),
	      "verbose = yes");
	CHECK(parse("verbose = no\n") == 0 && cf.argc == 0, "verbose = no sets nothing");
	CHECK(parse("level\n") == 0 && cf.argc == 1 && !strcmp(cf.argv[0], "--level"),
	      "optional argument, bare");
	CHECK(parse("level = 3\n") == 0 && cf.argc == 1 && !strcmp(cf.argv[0], "--level=3"),
	      "optional argument, with value");

	/* what is refused, with its line */
	CHECK(refused("listen = a:1\n\nbogus = 1\n", 3, "unknown setting 'bogus'"), "unknown name");
	CHECK(refused("liste = a:1\n", 1, "unknown setting"), "no abbreviations (getopt would take them)");
	CHECK(refused("# x\nconfig = /etc/other\n", 2, "cannot be set in a file"), "config denied");
	CHECK(refused("help\n", 1, "cannot be set in a file"), "help denied");
	CHECK(refused("listen\n", 1, "needs a value"), "missing value");
	CHECK(refused("listen =   \n", 1, "needs a value"), "empty value");
	CHECK(refused("verbose = maybe\n", 1, "takes no value"), "stray value on a flag");
	CHECK(refused("heartbeat = 1\nlisten = a:1\nheartbeat = 2\n", 3, "already set on line 1"),
	      "a name set twice");
	CHECK(refused("listen = \"a:1\n", 1, "unbalanced quote"), "unbalanced quote");
	CHECK(refused("--listen = a:1\n", 1, "expected 'name = value'"), "dashes are not names");
	CHECK(refused("Listen = a:1\n", 1, "expected 'name = value'"), "names are lower case");
	CHECK(refused("= 5\n", 1, "unknown setting"), "no name");
	{
		static const char nul[] = "heartbeat = 1\nlisten = a\0b\n";

		conffile_free(&cf);
		CHECK(conffile_parse(&cf, "t.conf", nul, sizeof(nul) - 1, opts, deny, err,
				     sizeof(err)) == -1 && !strncmp(err, "t.conf:2: NUL", 13),
		      "NUL byte refused on its line (%s)", err);
	}
	{
		size_t n = CONFFILE_MAX_LINE + 20;
		char *big = malloc(n + 1);

		memset(big, 'x', n);
		memcpy(big, "listen\n", 7);
		big[n] = '\0';
		CHECK(big && refused(big, 1, "needs a value"), "line 1 checked before the long one");
		memcpy(big, "# comment \n", 11);
		CHECK(refused(big, 2, "longer than"), "over-long line refused");
		free(big);
	}

	/* merged: argv[0], the file, the command line; the command line wins */
	{
		char *cmd[] = { "pushd", "--heartbeat", "9", "-v", NULL };
		const char *hb = NULL;
		int opt, v = 0, from_file = 0, from_cmd = 0;

		CHECK(parse("heartbeat = 5\nlisten = a:1\n") == 0, "file for merging");
		argv = conffile_merge(&cf, 4, cmd, &argc);
		CHECK(argv && argc == 6 && !strcmp(argv[0], "pushd") &&
		      !strcmp(argv[1], "--heartbeat=5") && !strcmp(argv[2], "--listen=a:1") &&
		      !strcmp(argv[3], "--heartbeat") && !argv[6], "file before command line");
		optind = 0;
		while (argv && (opt = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
			int line = conffile_line_of(&cf, optind - 1);

			if (opt == O_HEARTBEAT) {
				hb = optarg;
				line ? from_file++ : from_cmd++;
			}
			if (opt == 'v')
				v++;
		}
		CHECK(hb && !strcmp(hb, "9"), "command line's heartbeat wins (%s)", hb ? hb : "-");
		CHECK(from_file == 1 && from_cmd == 1, "line_of tells file from command line");
		CHECK(v == 1, "-v seen once");
		CHECK(conffile_line_of(&cf, 1) == 1 && conffile_line_of(&cf, 2) == 2 &&
		      conffile_line_of(&cf, 3) == 0 && conffile_line_of(&cf, 0) == 0,
		      "line_of maps merged indices");
		free(argv);
	}
	conffile_free(&cf);

	/* load: a missing file names itself */
	CHECK(conffile_load(&cf, "/nonexistent/pushd.conf", opts, deny, err, sizeof(err)) == -1 &&
	      strstr(err, "/nonexistent/pushd.conf: No such file"), "missing file (%s)", err);
	return tap_done();
}
