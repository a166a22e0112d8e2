// SPDX-License-Identifier: GPL-2.0
/*
 * sse_fuzz.c - libFuzzer target for userspace/protocol/sse.c.
 *
 * Input: 8 bytes of id, one byte of event-name length, the name, then the
 * data.  A WHATWG parser (tests/fuzz/fuzz.h) must see exactly one event
 * with that id, that name (minus CR and LF) and that data with every CRLF
 * and CR turned into LF; a comment must dispatch nothing; every smaller
 * buffer gets a prefix; the size bound holds.
 */
#include "fuzz.h"
#include "protocol/sse.h"

static void check_event(uint64_t id, const char *event, const char *data,
			size_t len, uint8_t k)
{
	size_t n = sse_event(NULL, 0, id, event, data, len), dlen = 0, i, o;
	char *s = malloc(n), *idbuf = malloc(n + 1), *type = malloc(n + 1);
	char *small, want_id[24];
	uint8_t *got = malloc(n), *norm = malloc(len + 1);
	int ev;

	FUZZ_ASSERT(n <= sse_event_max(len, event));
	FUZZ_ASSERT(sse_event(s, n, id, event, data, len) == n);
	ev = sse_parse(s, n, got, &dlen, idbuf, type);
	FUZZ_ASSERT(ev == 1);
	for (i = o = 0; i < len; i++) {
		if (data[i] == '\r') {
			norm[o++] = '\n';
			if (i + 1 < len && data[i + 1] == '\n')
				i++;
		} else {
			norm[o++] = data[i];
		}
	}
	FUZZ_ASSERT(dlen == o && !memcmp(got, norm, o));
	if (id) {
		snprintf(want_id, sizeof(want_id), "%llu", (unsigned long long)id);
		FUZZ_ASSERT(!strcmp(idbuf, want_id));
	} else {
		FUZZ_ASSERT(!*idbuf);
	}
	if (event) {
		const char *e = event;
		char *t = type;

		/* "event: " + name: the parser strips only that one space. */
		for (; *e; e++) {
			if (*e == '\r' || *e == '\n')
				continue;
			FUZZ_ASSERT(*t == *e);
			t++;
		}
		FUZZ_ASSERT(*t == 0);
	} else {
		FUZZ_ASSERT(!*type);
	}

	small = malloc(n ? n : 1);
	FUZZ_ASSERT(sse_event(small, k % (n + 1), id, event, data, len) == n);
	FUZZ_ASSERT(!memcmp(small, s, k % (n + 1)));
	free(small);
	free(s);
	free(idbuf);
	free(type);
	free(got);
	free(norm);
}

static void check_comment(const char *text)
{
	size_t n = sse_comment(NULL, 0, text), dlen = 0;
	char *s = malloc(n), *id = malloc(n + 1), *type = malloc(n + 1);
	uint8_t *got = malloc(n);

	FUZZ_ASSERT(sse_comment(s, n, text) == n);
	FUZZ_ASSERT(sse_parse(s, n, got, &dlen, id, type) == 0);
	FUZZ_ASSERT(!*id && !*type);
	free(s);
	free(id);
	free(type);
	free(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	uint64_t id = 0;
	size_t el;
	char *event;

	if (n < 9)
		return 0;
	memcpy(&id, d, 8);
	el = d[8] % 32;
	if (el > n - 9)
		el = n - 9;
	event = malloc(el + 1);
	memcpy(event, d + 9, el);
	event[el] = 0;
	check_event(id, d[8] & 0x80 ? NULL : event,
		    (const char *)d + 9 + el, n - 9 - el, d[0]);
	check_comment(event);
	free(event);
	return 0;
}
