// SPDX-License-Identifier: GPL-2.0
/*
 * chan.c - channel names: validation as in docs/ABI.txt and the
 * comma-separated lists of /sub/a,b,c.
 */
#include <errno.h>
#include <string.h>

#include "protocol/chan.h"

static bool chan_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' || c == '-';
}

bool chan_name_valid(const char *s, size_t n)
{
	if (n < 1 || n > PUSH_CHANNEL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!chan_char_ok((unsigned char)s[i]))
			return false;
	return true;
}

int chan_list_parse(const char *s, size_t n, struct chan_name *out)
{
	int count = 0;
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != ',')
			continue;
		size_t len = i - start;
		if (!chan_name_valid(s + start, len))
			return -EINVAL;
		bool dup = false;
		for (int k = 0; k < count && !dup; k++)
			dup = out[k].len == len && !memcmp(out[k].s, s + start, len);
		if (!dup) {
			if (count == PUSH_FILTER_MAX)
				return -E2BIG;
			memcpy(out[count].s, s + start, len);
			out[count].s[len] = '\0';
			out[count].len = (unsigned char)len;
			count++;
		}
		start = i + 1;
	}
	return count;
}

size_t chan_list_join(const struct chan_name *names, int count, char *buf, size_t size)
{
	size_t off = 0;

	for (int i = 0; i < count; i++) {
		if (off + names[i].len + 1 > size)
			break;
		if (i)
			buf[off++] = ',';
		memcpy(buf + off, names[i].s, names[i].len);
		off += names[i].len;
	}
	return off;
}
