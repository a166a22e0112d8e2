// SPDX-License-Identifier: GPL-2.0
/*
 * test_json.c - JSON encoding (userspace/protocol/json.c) and UTF-8
 * validation.  Escaping of quotes, backslash, control characters,
 * U+2028/U+2029 and invalid bytes; the message and gap objects; RFC 3339
 * time against gmtime_r(); the base64 fallback for binary payloads
 * (nettle's encoder: padding, alphabet, decoding back, truncation at any
 * length); truncation to a small buffer.  TAP output; exit 1 on any
 * failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nettle/base64.h>

#include "protocol/json.h"

#include "tap.h"

static char out[1 << 16];

/* Escape s and compare with want, reporting what came out on failure. */
static void check_escape(const char *s, size_t len, const char *want,
			 const char *name)
{
	size_t n = json_escape(out, sizeof(out), s, len);
	int ok = n == strlen(want) && !memcmp(out, want, n);

	CHECK(ok, "escape %s", name);
	if (!ok)
		printf("# got '%.*s' want '%s'\n", (int)n, out, want);
}

static void test_escape(void)
{
	check_escape("plain text", 10, "plain text", "plain ASCII");
	check_escape("a\"b\\c/d", 7, "a\\\"b\\\\c/d", "quote and backslash");
	check_escape("\b\f\n\r\t", 5, "\\b\\f\\n\\r\\t", "short escapes");
	check_escape("\x01\x1f\x7f", 3, "\\u0001\\u001f\x7f",
		     "other control characters (DEL kept)");
	check_escape("a\0b", 3, "a\\u0000b", "NUL byte");
	check_escape("\xe2\x80\xa8x\xe2\x80\xa9", 7, "\\u2028x\\u2029",
		     "U+2028 and U+2029");
	check_escape("\xe2\x80\xa7\xe2\x80\xaa", 6, "\xe2\x80\xa7\xe2\x80\xaa",
		     "U+2027 and U+202A kept");
	check_escape("caf\xc3\xa9 \xf0\x9f\x98\x80", 10,
		     "caf\xc3\xa9 \xf0\x9f\x98\x80", "valid UTF-8 kept");
	check_escape("a\xffz", 3, "a\\ufffdz", "invalid byte replaced");
	check_escape("\xc3", 1, "\\ufffd", "truncated sequence replaced");
	check_escape("\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd",
		     "surrogate replaced bytewise");
	check_escape("", 0, "", "empty");

	{
		size_t n = json_quote(out, sizeof(out), "say \"hi\"", 8);

		CHECK(n == 12 && !memcmp(out, "\"say \\\"hi\\\"\"", 12),
		      "json_string adds quotes");
	}
}

static void test_utf8(void)
{
	static const char *const valid[] = {
		"", "abc", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf",
		"\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80",
		"\xf4\x8f\xbf\xbf", "0123456789abcdef\xc3\xa9 0123456789",
	};
	static const char *const invalid[] = {
		"\x80", "\xc0\x80", "\xc1\xbf", "\xc2", "\xe0\x80\x80",
		"\xe0\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf", "\xf0\x80\x80\x80",
		"\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
		"\xfe", "\xff", "0123456789abcdef\xff", "\xe2\x82",
	};
	size_t i, j;
	int ok = 1, inc = 1;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		ok &= utf8_valid((const uint8_t *)valid[i], strlen(valid[i]));
	CHECK(ok, "valid UTF-8 accepted");
	ok = 1;
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		ok &= !utf8_valid((const uint8_t *)invalid[i], strlen(invalid[i]));
	CHECK(ok, "invalid UTF-8 rejected");

	/* Byte by byte gives the same answer, and mid-sequence is neither. */
	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		uint32_t st = UTF8_ACCEPT;

		for (j = 0; valid[i][j]; j++)
			st = utf8_feed(st, (const uint8_t *)valid[i] + j, 1);
		inc &= st == UTF8_ACCEPT;
	}
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		uint32_t st = UTF8_ACCEPT;

		for (j = 0; invalid[i][j]; j++)
			st = utf8_feed(st, (const uint8_t *)invalid[i] + j, 1);
		inc &= st != UTF8_ACCEPT;
	}
	CHECK(inc, "incremental validation agrees");
	{
		uint32_t st = utf8_feed(UTF8_ACCEPT, (const uint8_t *)"\xf0\x9f", 2);

		CHECK(st != UTF8_ACCEPT && st != UTF8_REJECT,
		      "incomplete sequence is a pending state");
		st = utf8_feed(st, (const uint8_t *)"\x98\x80", 2);
		CHECK(st == UTF8_ACCEPT, "completed across pieces");
		st = utf8_feed(UTF8_REJECT, (const uint8_t *)"abc", 3);
		CHECK(st == UTF8_REJECT, "reject is sticky");
	}

	/* Exhaustive over every code point: encode and validate. */
	{
		uint32_t cp;
		int all = 1;

		for (cp = 0; cp <= 0x10ffff && all; cp++) {
			uint8_t b[4];
			size_t n;

			if (cp < 0x80) {
				b[0] = cp, n = 1;
			} else if (cp < 0x800) {
				b[0] = 0xc0 | cp >> 6, b[1] = 0x80 | (cp & 63), n = 2;
			} else if (cp < 0x10000) {
				b[0] = 0xe0 | cp >> 12, b[1] = 0x80 | (cp >> 6 & 63);
				b[2] = 0x80 | (cp & 63), n = 3;
			} else {
				b[0] = 0xf0 | cp >> 18, b[1] = 0x80 | (cp >> 12 & 63);
				b[2] = 0x80 | (cp >> 6 & 63), b[3] = 0x80 | (cp & 63);
				n = 4;
			}
			all = utf8_valid(b, n) == !(cp >= 0xd800 && cp <= 0xdfff);
		}
		CHECK(all, "every code point but surrogates is valid");
	}
}

/* The data_base64 text of a binary message with payload d[0..n), in out; returns its length. */
static size_t b64_of(const uint8_t *d, size_t n, char *o, size_t cap)
{
	static const char pre[] = "\"data_base64\":\"";
	struct push_msg m = { .id = 1, .chan = "c", .chan_len = 1, .data = d,
			      .data_len = n, .type = PUSH_REC_MSG };
	size_t len = json_message(out, sizeof(out), &m);
	char *p = len <= sizeof(out) ? memmem(out, len, pre, sizeof(pre) - 1) : NULL;
	size_t b;

	if (!p || len < 2)
		return (size_t)-1;
	p += sizeof(pre) - 1;
	b = (size_t)(out + len - 2 - p);	/* up to the closing "} */
	if (b > cap)
		return (size_t)-1;
	memcpy(o, p, b);
	return b;
}

static void test_base64(void)
{
	/* RFC 4648 section 10's lengths, made binary by a leading 0xff. */
	static const char *const vec[] = {
		"/w==", "/2Y=", "/2Zv", "/2Zvbw==", "/2Zvb2I=", "/2Zvb2Jh",
	};
	static uint8_t bin[300];
	uint8_t p[7] = { 0xff, 'f', 'o', 'o', 'b', 'a', 'r' }, dec[400];
	char enc[512];
	size_t i, n, k;
	int ok = 1;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		n = b64_of(p, i + 1, enc, sizeof(enc));
		ok &= n == strlen(vec[i]) && !memcmp(enc, vec[i], n);
	}
	CHECK(ok, "data_base64 of 1-6 bytes, padding as RFC 4648 says");
	n = b64_of((const uint8_t *)"\xfb\xef\xbe\xff\xff\xff", 6, enc, sizeof(enc));
	CHECK(n == 8 && !memcmp(enc, "++++////", 8), "the standard alphabet: + and /");

	/* Lengths 1-300 decode back (nettle, strictly: padding and all). */
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(0xff - i * 7);
	ok = 1;
	for (k = 1; k <= sizeof(bin); k++) {
		struct base64_decode_ctx c;
		size_t dl = sizeof(dec);

		n = b64_of(bin, k, enc, sizeof(enc));
		base64_decode_init(&c);
		ok &= n == BASE64_ENCODE_RAW_LENGTH(k) &&
		      base64_decode_update(&c, &dl, dec, n, enc) &&
		      base64_decode_final(&c) && dl == k && !memcmp(dec, bin, k);
	}
	CHECK(ok, "data_base64 of 1-300 bytes decodes back to them");

	/* Cut anywhere, even inside the base64 of a long payload: a prefix. */
	{
		struct push_msg m = { .id = 1, .chan = "c", .chan_len = 1, .data = bin,
				      .data_len = sizeof(bin), .type = PUSH_REC_MSG };
		size_t full = json_message(out, sizeof(out), &m);
		static char small[sizeof(out) + 1];

		ok = full < sizeof(out);
		for (k = 0; ok && k <= full; k++) {
			memset(small, '#', sizeof(small));
			ok &= json_message(small, k, &m) == full &&
			      !memcmp(small, out, k) && small[k] == '#';
		}
		CHECK(ok, "a 300-byte binary message cut at every length is a prefix");
	}
}

static void test_time(void)
{
	static const uint64_t secs[] = {
		0, 59, 86399, 86400, 951782400 /* 2000-02-29 */,
		1709164800 /* 2024-02-29 */, 1764063000, 4107542400 /* 2100-03-01 */,
		4102444799, 253402300799ull /* 9999-12-31 23:59:59 */,
	};
	char want[64], got[64];
	size_t i;
	int ok = 1;

	CHECK(json_time(got, sizeof(got), 0) == JSON_TIME_LEN &&
	      !memcmp(got, "1970-01-01T00:00:00.000000000Z", JSON_TIME_LEN),
	      "epoch");
	CHECK(json_time(got, sizeof(got), 1795599000123456789ull) == JSON_TIME_LEN &&
	      !memcmp(got, "2026-11-25T09:30:00.123456789Z", JSON_TIME_LEN),
	      "contract example time");
	for (i = 0; i < sizeof(secs) / sizeof(secs[0]) + 20000; i++) {
		uint64_t s = i < sizeof(secs) / sizeof(secs[0]) ? secs[i] :
			     (uint64_t)random() * 7919 % 18446744073ull;
		uint64_t ns = s * 1000000000ull + i * 7;
		time_t t = s;
		struct tm tm;

		if (s > 18446744073ull)
			continue;	/* the ns count would overflow */
		gmtime_r(&t, &tm);
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (unsigned int)(ns % 1000000000));
		json_time(got, sizeof(got), ns);
		if (memcmp(got, want, JSON_TIME_LEN)) {
			printf("# %llu: got %.30s want %s\n",
			       (unsigned long long)s, got, want);
			ok = 0;
			break;
		}
	}
	CHECK(ok, "times agree with gmtime_r (fixed and 20000 random)");
	CHECK(json_time(got, sizeof(got), UINT64_MAX) == JSON_TIME_LEN &&
	      !memcmp(got, "2554-07-21T23:34:33.709551615Z", JSON_TIME_LEN),
	      "largest time");
}

static void test_message(void)
{
	struct push_msg m = {
		.id = 123, .time_ns = 1795599000123456789ull, .chan = "chat",
		.chan_len = 4, .data = (const uint8_t *)"hello", .data_len = 5,
		.type = PUSH_REC_MSG,
	};
	const char *want = "{\"id\":123,\"channel\":\"chat\","
		"\"time\":\"2026-11-25T09:30:00.123456789Z\",\"data\":\"hello\"}";
	size_t n, k;
	int ok;

	n = json_message(out, sizeof(out), &m);
	CHECK(n == strlen(want) && !memcmp(out, want, n), "message object");

	/* Every cap gives the same length and a prefix of the output. */
	ok = 1;
	for (k = 0; k <= n + 1; k++) {
		char small[256];

		memset(small, '#', sizeof(small));
		ok &= json_message(small, k, &m) == n &&
		      !memcmp(small, want, k < n ? k : n) && small[k] == '#';
	}
	CHECK(ok, "every buffer size: same length, prefix, no overrun");
	CHECK(json_message(NULL, 0, &m) == n, "NULL buffer measures");

	m.data = (const uint8_t *)"line1\nsaid \"x\"\t\xe2\x80\xa8";
	m.data_len = 18;
	n = json_message(out, sizeof(out), &m);
	want = "{\"id\":123,\"channel\":\"chat\",\"time\":\"2026-11-25T09:30:00.123456789Z\","
	       "\"data\":\"line1\\nsaid \\\"x\\\"\\t\\u2028\"}";
	CHECK(n == strlen(want) && !memcmp(out, want, n), "escaped payload");

	m.data = (const uint8_t *)"\xff\xfe\x00\x01";
	m.data_len = 4;
	n = json_message(out, sizeof(out), &m);
	want = "{\"id\":123,\"channel\":\"chat\",\"time\":\"2026-11-25T09:30:00.123456789Z\","
	       "\"data_base64\":\"//4AAQ==\"}";
	CHECK(n == strlen(want) && !memcmp(out, want, n),
	      "binary payload as data_base64");
	ok = 1;
	for (k = 0; k <= n; k++) {
		char small[256];

		memset(small, '#', sizeof(small));
		ok &= json_message(small, k, &m) == n &&
		      !memcmp(small, want, k) && small[k] == '#';
	}
	CHECK(ok, "base64 form truncates cleanly too");

	m.data = (const uint8_t *)"\xc3\xa9t\xc3\xa9";
	m.data_len = 5;
	n = json_message(out, sizeof(out), &m);
	CHECK(n > 15 && !memcmp(out + n - 15, "\"data\":\"\xc3\xa9t\xc3\xa9\"}", 15),
	      "UTF-8 payload as data");

	m.type = PUSH_REC_GAP;
	m.id = 5;
	m.gap_next_id = 17;
	m.gap_lost = 9;
	n = json_message(out, sizeof(out), &m);
	want = "{\"type\":\"gap\",\"first_id\":5,\"next_id\":17,\"lost\":9}";
	CHECK(n == strlen(want) && !memcmp(out, want, n), "gap record as gap object");
	n = json_gap(out, sizeof(out), UINT64_MAX, 0, 18446744073709551615ull);
	want = "{\"type\":\"gap\",\"first_id\":18446744073709551615,\"next_id\":0,"
	       "\"lost\":18446744073709551615}";
	CHECK(n == strlen(want) && !memcmp(out, want, n), "gap with extreme numbers");

	/* The bound holds for the worst payloads. */
	{
		static uint8_t data[3000];
		struct push_msg w = { .id = UINT64_MAX, .time_ns = UINT64_MAX,
				      .chan = "\x01\x01\x01", .chan_len = 3,
				      .data = data, .data_len = sizeof(data),
				      .type = PUSH_REC_MSG };
		size_t i;

		for (i = 0; i < sizeof(data); i++)
			data[i] = i % 3 == 0 ? 0xe2 : i % 3 == 1 ? 0x80 : 0xa8;
		n = json_message(out, sizeof(out), &w);
		ok = n <= json_message_max(3, sizeof(data));
		memset(data, 1, sizeof(data));
		n = json_message(out, sizeof(out), &w);
		ok &= n <= json_message_max(3, sizeof(data));
		data[0] = 0xff;
		n = json_message(out, sizeof(out), &w);
		ok &= n <= json_message_max(3, sizeof(data));
		CHECK(ok, "json_message_max bounds the worst cases");
	}
}

int main(void)
{
	srandom(42);
	test_escape();
	test_utf8();
	test_base64();
	test_time();
	test_message();
	return tap_done();
}
