// SPDX-License-Identifier: GPL-2.0
/*
 * test_sse.c - Server-Sent Events encoding (userspace/protocol/sse.c): data split
 * at LF, CRLF and CR as the WHATWG parser splits it, id and event lines,
 * comments, retry, truncation.  Each event is also fed to a small WHATWG
 * parser here to check the client would see the original data.
 * TAP output; exit 1 on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/sse.h"

#include "tap.h"
#include "../fuzz/fuzz.h"	/* sse_parse(): the reference WHATWG parser */

static char out[4096];

static void check_event(uint64_t id, const char *event, const char *data,
			size_t len, const char *want, const char *name)
{
	size_t n = sse_event(out, sizeof(out), id, event, data, len);
	int ok = n == strlen(want) && !memcmp(out, want, n) &&
		 n <= sse_event_max(len, event);

	CHECK(ok, "%s", name);
	if (!ok)
		printf("# got '%.*s'\n", (int)n, out);
}

/* The client sees data with every CRLF and CR turned into LF. */
static void check_roundtrip(const char *data, size_t len, const char *name)
{
	char got[4096], norm[4096], id[64], type[64];
	size_t n = sse_event(out, sizeof(out), 42, "msg", data, len), i, k = 0;
	size_t dlen = (size_t)-1;
	int ev = sse_parse(out, n, (uint8_t *)got, &dlen, id, type);

	for (i = 0; i < len; i++) {
		if (data[i] == '\r') {
			norm[k++] = '\n';
			if (i + 1 < len && data[i + 1] == '\n')
				i++;
		} else {
			norm[k++] = data[i];
		}
	}
	CHECK(ev == 1 && dlen == k && !memcmp(got, norm, k) &&
	      !strcmp(id, "42") && !strcmp(type, "msg"),
	      "client sees the data: %s", name);
}

int main(void)
{
	size_t n, k;
	int ok;

	check_event(1, NULL, "{\"a\":1}", 7, "id: 1\ndata: {\"a\":1}\n\n",
		    "single line with id");
	check_event(0, NULL, "x", 1, "data: x\n\n", "id 0 is omitted");
	check_event(18446744073709551615ull, "gap", "y", 1,
		    "id: 18446744073709551615\nevent: gap\ndata: y\n\n",
		    "largest id and an event name");
	check_event(0, "close", "{\"reason\":\"slow consumer\"}", 26,
		    "event: close\ndata: {\"reason\":\"slow consumer\"}\n\n",
		    "close event");
	check_event(0, NULL, "a\nb", 3, "data: a\ndata: b\n\n", "LF splits");
	check_event(0, NULL, "a\r\nb", 4, "data: a\ndata: b\n\n", "CRLF splits once");
	check_event(0, NULL, "a\rb", 3, "data: a\ndata: b\n\n", "CR splits");
	check_event(0, NULL, "a\n\rb", 4, "data: a\ndata: \ndata: b\n\n",
		    "LF CR is two line ends");
	check_event(0, NULL, "a\r\r\nb", 5, "data: a\ndata: \ndata: b\n\n",
		    "CR CRLF is two line ends");
	check_event(0, NULL, "a\n", 2, "data: a\ndata: \n\n", "trailing LF");
	check_event(0, NULL, "a\r", 2, "data: a\ndata: \n\n", "trailing CR");
	check_event(0, NULL, "\n", 1, "data: \ndata: \n\n", "only LF");
	check_event(0, NULL, "", 0, "data: \n\n", "empty data");
	check_event(0, NULL, NULL, 0, "data: \n\n", "NULL data");
	check_event(0, "a\rb\nc", "x", 1, "event: abc\ndata: x\n\n",
		    "CR and LF dropped from the event name");
	check_event(0, NULL, " lead", 5, "data:  lead\n\n",
		    "leading space kept after the field space");

	check_roundtrip("one", 3, "one line");
	check_roundtrip("a\r\nb\rc\nd", 8, "mixed line ends");
	check_roundtrip("\r\n\r\n", 4, "only CRLFs");
	check_roundtrip("x\n", 2, "trailing LF");
	check_roundtrip("", 0, "empty");
	check_roundtrip(" space: colon", 13, "leading space and colon");

	n = sse_comment(out, sizeof(out), "hb");
	CHECK(n == 6 && !memcmp(out, ": hb\n\n", 6), "heartbeat comment");
	n = sse_comment(out, sizeof(out), "a\nb\rc");
	CHECK(n == 9 && !memcmp(out, ": a b c\n\n", 9), "comment stays one line");
	n = sse_comment(out, sizeof(out), NULL);
	CHECK(n == 3 && !memcmp(out, ":\n\n", 3), "empty comment");
	n = sse_retry(out, sizeof(out), 2000);
	CHECK(n == 13 && !memcmp(out, "retry: 2000\n\n", 13), "retry");

	/* Truncation: same length, prefix, no write past cap. */
	n = sse_event(out, sizeof(out), 7, "gap", "a\r\nb\nc", 6);
	ok = 1;
	for (k = 0; k <= n; k++) {
		char small[128];

		memset(small, '#', sizeof(small));
		ok &= sse_event(small, k, 7, "gap", "a\r\nb\nc", 6) == n &&
		      !memcmp(small, out, k) && small[k] == '#';
	}
	CHECK(ok, "every buffer size: same length, prefix, no overrun");
	CHECK(sse_event(NULL, 0, 7, "gap", "abc", 3) ==
	      sse_event(out, sizeof(out), 7, "gap", "abc", 3),
	      "NULL buffer measures");

	/* The bound holds for all-newline data. */
	{
		char nl[500];

		memset(nl, '\r', sizeof(nl));
		n = sse_event(NULL, 0, UINT64_MAX, "close", nl, sizeof(nl));
		CHECK(n <= sse_event_max(sizeof(nl), "close"),
		      "sse_event_max bounds all-CR data");
	}

	return tap_done();
}
