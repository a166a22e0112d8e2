// SPDX-License-Identifier: GPL-2.0
/*
 * json_fuzz.c - libFuzzer target for userspace/protocol/json.c.
 *
 * Input: 8 bytes of id/time, one byte of channel length, then channel and
 * payload.  Checks: the fast UTF-8 validator agrees with a code-point
 * decoder, also when fed in two pieces; escaped text decodes (strict JSON)
 * back to the input, with U+FFFD for invalid bytes; the message object has
 * exactly the contract's shape and its data or data_base64 decodes back to
 * the payload (data_base64 through nettle's strict decoder); every smaller
 * buffer gets a prefix and no byte more; the size bound holds; the time
 * agrees with gmtime_r.
 */
#include <time.h>

#include <nettle/base64.h>

#include "fuzz.h"
#include "protocol/json.h"

static void check_utf8(const uint8_t *d, size_t n)
{
	int ref = ref_utf8_valid(d, n);
	size_t cut = n ? d[0] % (n + 1) : 0;
	uint32_t st;

	FUZZ_ASSERT(utf8_valid(d, n) == ref);
	st = utf8_feed(UTF8_ACCEPT, d, cut);
	st = utf8_feed(st, d + cut, n - cut);
	FUZZ_ASSERT((st == UTF8_ACCEPT) == ref);
}

/* json_escape output decodes back; returns nothing, aborts on mismatch. */
static void check_escape(const uint8_t *d, size_t n)
{
	size_t len = json_quote(NULL, 0, (const char *)d, n), pos = 0, olen, i;
	char *s = malloc(len);
	uint8_t *dec = malloc(4 * len + 4);

	FUZZ_ASSERT(json_quote(s, len, (const char *)d, n) == len);
	FUZZ_ASSERT(len <= 2 + 6 * n);
	FUZZ_ASSERT(json_decode_string(s, len, &pos, dec, &olen) == 0 && pos == len);
	FUZZ_ASSERT(ref_utf8_valid((const uint8_t *)s, len));
	/* U+2028 and U+2029 never appear raw. */
	for (i = 0; i + 2 < len; i++)
		FUZZ_ASSERT(!((uint8_t)s[i] == 0xe2 && (uint8_t)s[i + 1] == 0x80 &&
			      ((uint8_t)s[i + 2] == 0xa8 || (uint8_t)s[i + 2] == 0xa9)));
	if (ref_utf8_valid(d, n))
		FUZZ_ASSERT(olen == n && !memcmp(dec, d, n));
	else
		FUZZ_ASSERT(ref_utf8_valid(dec, olen));
	free(s);
	free(dec);
}

static void check_message(const struct push_msg *m, uint8_t k)
{
	size_t len = json_message(NULL, 0, m), pos = 0, olen, cap;
	char *s = malloc(len), *small;
	uint8_t *dec = malloc(4 * len + 4);
	char t[JSON_TIME_LEN];

	FUZZ_ASSERT(len <= json_message_max(m->chan_len, m->data_len));
	FUZZ_ASSERT(json_message(s, len, m) == len);

	/* The exact shape of the contract. */
	FUZZ_ASSERT(!expect_lit(s, len, &pos, "{\"id\":"));
	FUZZ_ASSERT(!expect_u64(s, len, &pos, m->id));
	FUZZ_ASSERT(!expect_lit(s, len, &pos, ",\"channel\":"));
	FUZZ_ASSERT(!json_decode_string(s, len, &pos, dec, &olen));
	if (ref_utf8_valid((const uint8_t *)m->chan, m->chan_len))
		FUZZ_ASSERT(olen == m->chan_len && !memcmp(dec, m->chan, olen));
	FUZZ_ASSERT(!expect_lit(s, len, &pos, ",\"time\":\""));
	json_time(t, sizeof(t), m->time_ns);
	FUZZ_ASSERT(len - pos > JSON_TIME_LEN && !memcmp(s + pos, t, JSON_TIME_LEN));
	pos += JSON_TIME_LEN;
	if (ref_utf8_valid(m->data, m->data_len)) {
		FUZZ_ASSERT(!expect_lit(s, len, &pos, "\",\"data\":"));
		FUZZ_ASSERT(!json_decode_string(s, len, &pos, dec, &olen));
	} else {
		size_t e;

		FUZZ_ASSERT(!expect_lit(s, len, &pos, "\",\"data_base64\":\""));
		for (e = pos; e < len && s[e] != '"'; e++)
			;
		FUZZ_ASSERT(e < len);
		{
			struct base64_decode_ctx c;

			olen = 4 * len;
			base64_decode_init(&c);
			FUZZ_ASSERT(base64_decode_update(&c, &olen, dec, e - pos, s + pos));
			FUZZ_ASSERT(base64_decode_final(&c));
			FUZZ_ASSERT(e - pos == BASE64_ENCODE_RAW_LENGTH(m->data_len));
		}
		pos = e + 1;
	}
	FUZZ_ASSERT(olen == m->data_len && !memcmp(dec, m->data, olen));
	FUZZ_ASSERT(!expect_lit(s, len, &pos, "}") && pos == len);

	/* A smaller buffer: same length returned, a prefix, nothing past cap. */
	cap = len ? k % len : 0;
	small = malloc(cap ? cap : 1);
	FUZZ_ASSERT(json_message(small, cap, m) == len);
	FUZZ_ASSERT(!memcmp(small, s, cap));
	free(small);
	free(s);
	free(dec);
}

static void check_gap(uint64_t a, uint64_t b, uint64_t c)
{
	char s[256];
	size_t len = json_gap(s, sizeof(s), a, b, c), pos = 0;

	FUZZ_ASSERT(len < sizeof(s));
	FUZZ_ASSERT(!expect_lit(s, len, &pos, "{\"type\":\"gap\",\"first_id\":"));
	FUZZ_ASSERT(!expect_u64(s, len, &pos, a));
	FUZZ_ASSERT(!expect_lit(s, len, &pos, ",\"next_id\":"));
	FUZZ_ASSERT(!expect_u64(s, len, &pos, b));
	FUZZ_ASSERT(!expect_lit(s, len, &pos, ",\"lost\":"));
	FUZZ_ASSERT(!expect_u64(s, len, &pos, c));
	FUZZ_ASSERT(!expect_lit(s, len, &pos, "}") && pos == len);
}

static void check_time(uint64_t ns)
{
	char got[JSON_TIME_LEN], want[64];
	time_t secs = ns / 1000000000;
	struct tm tm;

	FUZZ_ASSERT(json_time(got, sizeof(got), ns) == JSON_TIME_LEN);
	FUZZ_ASSERT(gmtime_r(&secs, &tm));
	snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%09uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (unsigned int)(ns % 1000000000));
	FUZZ_ASSERT(!memcmp(got, want, JSON_TIME_LEN));
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct push_msg m = { .type = PUSH_REC_MSG };
	uint64_t v = 0;
	size_t cl;

	check_utf8(d, n);
	check_escape(d, n);
	if (n < 9)
		return 0;
	memcpy(&v, d, 8);
	cl = d[8] % (PUSH_CHANNEL_MAX + 1);
	if (cl > n - 9)
		cl = n - 9;
	m.id = v;
	m.time_ns = v * 0x9e3779b97f4a7c15ull;
	m.chan = (const char *)d + 9;
	m.chan_len = cl;
	m.data = d + 9 + cl;
	m.data_len = n - 9 - cl;
	check_message(&m, d[1]);
	check_gap(v, m.time_ns, v ^ m.time_ns);
	check_time(v);
	check_time(m.time_ns);
	return 0;
}
