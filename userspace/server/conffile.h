/* SPDX-License-Identifier: GPL-2.0 */
/*
 * conffile.h - pushd's configuration file (/etc/push/pushd.conf), read
 * through the same getopt_long() table as the command line, so every
 * option is also a setting and the command line wins:
 *
 *	# a comment
 *	listen = 0.0.0.0:8080
 *	heartbeat = 10
 *	verbose
 *
 * Each line that is not blank or a '#' comment is "name = value" for an
 * option with an argument, and "name" (or "name = yes|no") for one
 * without; a value may be put in double quotes to keep spaces at its
 * ends.  The file becomes "--name=value" arguments placed before the
 * command line's, so one getopt loop checks both and the later, the
 * command line, overrides.
 */
#ifndef PUSHD_CONFFILE_H
#define PUSHD_CONFFILE_H

#include <getopt.h>
#include <stddef.h>

#define CONFFILE_MAX_SIZE	(1 << 20)
#define CONFFILE_MAX_LINE	4096

struct conffile {
	const char *path;
	char **argv;		/* "--name=value" or "--name", NULL-terminated */
	int *line;		/* the file's line of each argv[i] */
	int argc;
};

/*
 * Parses @len bytes of @text, the contents of @path, against @opts; the
 * options named in @deny (NULL-terminated: help, the config option itself)
 * cannot be set in a file.  Returns 0, or -1 with "PATH:LINE: why" in @err.
 */
int conffile_parse(struct conffile *cf, const char *path, const char *text, size_t len,
		   const struct option *opts, const char *const *deny, char *err, size_t errlen);

/* Reads @path and parses it as conffile_parse() does; returns 0 or -1 with @err. */
int conffile_load(struct conffile *cf, const char *path, const struct option *opts,
		  const char *const *deny, char *err, size_t errlen);

/*
 * Returns argv[0], then the file's arguments, then argv[1..argc-1], as a new
 * NULL-terminated vector of @argc + cf->argc (in *@newargc) pointers, or NULL.
 */
char **conffile_merge(const struct conffile *cf, int argc, char **argv, int *newargc);

/* The file's line that merged argument @i came from, or 0 if it came from argv. */
int conffile_line_of(const struct conffile *cf, int i);

void conffile_free(struct conffile *cf);

#endif
