// SPDX-License-Identifier: GPL-2.0
/*
 * Channel names to NATS subjects and back, no I/O.
 *
 * A channel is [A-Za-z0-9_.:-]{1,64} (docs/ABI.txt); a NATS subject is
 * tokens separated by '.', so "a.b" would be two tokens and "a." an
 * invalid subject.  Each '.' of a channel becomes '~' (not a channel
 * character, valid in a subject token): channel "news.eu" is subject
 * "push.news~eu", one token, and "push.>" matches every channel.
 */
#include <string.h>

#include "bridge.h"

#include <linux/push.h>

static int chan_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' ||
	       c == '-';
}

/* Writes prefix + encoded channel + NUL to out; returns its length, or -1
 * for an invalid channel or a too small buffer. */
int bridge_subject_of(const char *prefix, const char *chan, size_t len,
		      char *out, size_t size)
{
	size_t p = strlen(prefix), i;

	if (len < 1 || len > PUSH_CHANNEL_MAX || p + len + 1 > size)
		return -1;
	memcpy(out, prefix, p);
	for (i = 0; i < len; i++) {
		if (!chan_char(chan[i]))
			return -1;
		out[p + i] = chan[i] == '.' ? '~' : chan[i];
	}
	out[p + len] = '\0';
	return (int)(p + len);
}

/* Writes the channel of subject (prefix + one token) + NUL to out; returns
 * its length, or -1 if subject is not one of ours (another prefix, more
 * tokens, a character no channel has). */
int bridge_channel_of(const char *prefix, const char *subject,
		      char *out, size_t size)
{
	size_t p = strlen(prefix), len, i;

	if (strncmp(subject, prefix, p))
		return -1;
	subject += p;
	len = strlen(subject);
	if (len < 1 || len > PUSH_CHANNEL_MAX || len + 1 > size)
		return -1;
	for (i = 0; i < len; i++) {
		char c = subject[i] == '~' ? '.' : subject[i];

		if (subject[i] == '.' || !chan_char(c))
			return -1;
		out[i] = c;
	}
	out[len] = '\0';
	return (int)len;
}
