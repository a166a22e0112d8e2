// SPDX-License-Identifier: GPL-2.0
/*
 * test_bridge_subject.c - push-bridge's channel <-> NATS subject mapping
 * (bridge/subject.c): a channel is one subject token after the prefix,
 * its '.' sent as '~'; every valid channel round-trips; subjects that are
 * no channel of ours (other prefix, more tokens, wildcards, characters no
 * channel has, too long) are refused, as are invalid channels.
 * TAP output; exit 1 on any failure.
 */
#include <string.h>

#include "bridge/bridge.h"

#include "tap.h"

static char out[256];

static int subj(const char *chan)
{
	return bridge_subject_of("push.", chan, strlen(chan), out, sizeof(out));
}

static int chan(const char *subject)
{
	return bridge_channel_of("push.", subject, out, sizeof(out));
}

int main(void)
{
	char c64[65], c65[66], s[128];

	/* channels become one token; '.' is '~' */
	CHECK(subj("chat") == 9 && !strcmp(out, "push.chat"), "chat -> push.chat");
	CHECK(subj("news.eu") == 12 && !strcmp(out, "push.news~eu"), "news.eu -> push.news~eu");
	CHECK(subj("a:b-c_D.9") > 0 && !strcmp(out, "push.a:b-c_D~9"), "every channel character");
	CHECK(subj(".") > 0 && !strcmp(out, "push.~"), "a lone dot is a valid channel and a valid token");
	/* invalid channels are refused */
	CHECK(subj("") == -1, "empty channel refused");
	CHECK(subj("a b") == -1, "space refused");
	CHECK(subj("a*") == -1 && subj("a>") == -1 && subj("a~") == -1, "*, > and ~ refused");
	memset(c64, 'x', 64);
	c64[64] = '\0';
	memset(c65, 'x', 65);
	c65[65] = '\0';
	CHECK(subj(c64) == 69, "64 characters accepted");
	CHECK(subj(c65) == -1, "65 characters refused");
	CHECK(bridge_subject_of("push.", "chat", 4, out, 9) == -1, "too small a buffer refused");
	CHECK(bridge_subject_of("push.", "chat", 4, out, 10) == 9, "an exact buffer accepted");
	/* subjects back to channels */
	CHECK(chan("push.news~eu") == 7 && !strcmp(out, "news.eu"), "push.news~eu -> news.eu");
	CHECK(chan("push.chat") == 4 && !strcmp(out, "chat"), "push.chat -> chat");
	CHECK(chan("other.chat") == -1, "another prefix refused");
	CHECK(chan("push.") == -1, "no token refused");
	CHECK(chan("push.a.b") == -1, "two tokens refused");
	CHECK(chan("push.a*") == -1 && chan("push.>") == -1, "wildcards refused");
	CHECK(chan("push.\xc3\xa9") == -1, "non-ASCII refused");
	snprintf(s, sizeof(s), "push.%s", c65);
	CHECK(chan(s) == -1, "a 65-character token refused");
	/* round trip of every channel character */
	{
		const char *all = "azAZ09_.:-";
		char back[80];
		int ok = subj(all) > 0;

		strcpy(s, out);
		ok = ok && bridge_channel_of("push.", s, back, sizeof(back)) == (int)strlen(all) &&
		     !strcmp(back, all);
		CHECK(ok, "round trip of every character");
	}
	return tap_done();
}
