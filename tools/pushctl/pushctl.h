/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pushctl.h - the pushctl commands and the helpers they share.
 *
 * Exit codes of every command: 0 success, 1 the device refused or failed
 * (the message says why, with strerror), 2 bad usage.
 */
#ifndef PUSHCTL_H
#define PUSHCTL_H

#include <stdint.h>
#include <stdio.h>

#define PUSHCTL_DEVICE	"/dev/push"
#define EXIT_USAGE	2

/* Device path from --device (default PUSHCTL_DEVICE). */
extern const char *pushctl_device;

/* Each command: argv[0] is the command name; returns the exit code. */
int cmd_pub(int argc, char **argv);
int cmd_sub(int argc, char **argv);
int cmd_info(int argc, char **argv);

/* Prints "pushctl: " + the message (+ ": strerror(errno)" if err). */
void pushctl_err(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Strict decimal: digits only, no sign or space, no overflow; 0 or -1. */
int parse_u64(const char *s, uint64_t *out);

/* 1 if s is a valid channel name (1-64 of [A-Za-z0-9_.:-]). */
int channel_valid(const char *s);

/* Opens the device with @flags, printing why on failure; fd or -1. */
int open_device(int flags);

/*
 * Writes s[0..len) as a JSON string with its quotes: ", \ and control
 * characters escaped, valid UTF-8 kept, every byte of an invalid
 * sequence as \u00XX.
 */
void json_put_string(FILE *f, const void *s, size_t len);

/* Writes "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" for a CLOCK_REALTIME ns time. */
void put_rfc3339(FILE *f, uint64_t time_ns);

#endif /* PUSHCTL_H */
