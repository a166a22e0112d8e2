/* SPDX-License-Identifier: GPL-2.0 */
/* chan.h - channel names as the device ABI defines them, and /sub lists of them. */
#ifndef PUSHD_CHAN_H
#define PUSHD_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/push.h>

/* One channel name, NUL-terminated. */
struct chan_name {
	char s[PUSH_CHANNEL_MAX + 1];
	unsigned char len;
};

/* True if @s[0..n) is 1-64 characters of [A-Za-z0-9_.:-]. */
bool chan_name_valid(const char *s, size_t n);

/* Splits "a,b,c" into @out (duplicates dropped); returns the count, -EINVAL, or -E2BIG past PUSH_FILTER_MAX. */
int chan_list_parse(const char *s, size_t n, struct chan_name *out);

/* Writes "a,b,c" for PUSH_IOC_SET_FILTER into @buf; returns its length. */
size_t chan_list_join(const struct chan_name *names, int count, char *buf, size_t size);

#endif
