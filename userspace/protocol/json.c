// SPDX-License-Identifier: GPL-2.0
/*
 * json.c - JSON encoding of messages and gaps, and UTF-8 validation.
 *
 * Output goes through struct out, which counts every byte but stores only
 * what fits: the snprintf-like contract of json.h without a second pass.
 */
#include <string.h>

#include <nettle/base64.h>

#include "protocol/json.h"
#include "protocol/out.h"

/* --- UTF-8 ---------------------------------------------------------------
 * A state in the middle of a sequence packs the continuation bytes still
 * needed (bits 0-7) and the range the next one must fall in (lo in bits
 * 8-15, hi in 16-23): the range is narrower than 80..BF right after E0
 * (overlongs), ED (surrogates), F0 (overlongs) and F4 (above U+10FFFF).
 */
#define U8_STATE(need, lo, hi)	((uint32_t)(need) | (uint32_t)(lo) << 8 | \
				 (uint32_t)(hi) << 16)

static inline uint32_t utf8_lead(uint8_t b)
{
	if (b < 0xc2)
		return UTF8_REJECT;	/* continuation, or overlong C0/C1 */
	if (b < 0xe0)
		return U8_STATE(1, 0x80, 0xbf);
	if (b == 0xe0)
		return U8_STATE(2, 0xa0, 0xbf);
	if (b == 0xed)
		return U8_STATE(2, 0x80, 0x9f);
	if (b < 0xf0)
		return U8_STATE(2, 0x80, 0xbf);
	if (b == 0xf0)
		return U8_STATE(3, 0x90, 0xbf);
	if (b < 0xf4)
		return U8_STATE(3, 0x80, 0xbf);
	if (b == 0xf4)
		return U8_STATE(3, 0x80, 0x8f);
	return UTF8_REJECT;
}

static inline uint32_t utf8_step(uint32_t s, uint8_t b)
{
	uint32_t need;

	if (s == UTF8_ACCEPT)
		return b < 0x80 ? UTF8_ACCEPT : utf8_lead(b);
	if (s == UTF8_REJECT)
		return UTF8_REJECT;
	if (b < ((s >> 8) & 0xff) || b > ((s >> 16) & 0xff))
		return UTF8_REJECT;
	need = (s & 0xff) - 1;
	return need ? U8_STATE(need, 0x80, 0xbf) : UTF8_ACCEPT;
}

uint32_t utf8_feed(uint32_t state, const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (state == UTF8_REJECT)
			return state;
		/* ASCII fast path, eight bytes at a time. */
		if (state == UTF8_ACCEPT) {
			uint64_t w;

			while (i + 8 <= len) {
				memcpy(&w, s + i, 8);
				if (w & 0x8080808080808080ull)
					break;
				i += 8;
			}
			if (i == len)
				break;
		}
		state = utf8_step(state, s[i++]);
	}
	return state;
}

int utf8_valid(const uint8_t *s, size_t len)
{
	return utf8_feed(UTF8_ACCEPT, s, len) == UTF8_ACCEPT;
}

/* --- JSON ---------------------------------------------------------------- */

/* 1 for the ASCII bytes that go into a JSON string as they are. */
static inline int json_plain(uint8_t c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

static void put_u_escape(struct out *o, unsigned int cp)
{
	static const char hex[16] = "0123456789abcdef";
	char e[6] = { '\\', 'u', hex[(cp >> 12) & 15], hex[(cp >> 8) & 15],
		      hex[(cp >> 4) & 15], hex[cp & 15] };

	put(o, e, sizeof(e));
}

/* Length of the valid UTF-8 sequence at s[0..len), or 0 if it is invalid. */
static size_t utf8_seq(const uint8_t *s, size_t len)
{
	uint32_t st = utf8_lead(s[0]);
	size_t n = 1;

	while (st != UTF8_ACCEPT && st != UTF8_REJECT && n < len)
		st = utf8_step(st, s[n++]);
	return st == UTF8_ACCEPT ? n : 0;
}

static void put_escaped(struct out *o, const uint8_t *s, size_t len)
{
	size_t i = 0;

	if (!len)
		return;
	while (i < len) {
		size_t run = i, n;
		uint8_t c;

		while (run < len && json_plain(s[run]))
			run++;
		put(o, s + i, run - i);
		if (run == len)
			break;
		i = run;
		c = s[i];
		if (c >= 0x80) {
			n = utf8_seq(s + i, len - i);
			if (n == 0) {
				put_u_escape(o, 0xfffd);
				i++;
			} else if (n == 3 && c == 0xe2 && s[i + 1] == 0x80 &&
				   (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
				put_u_escape(o, s[i + 2] == 0xa8 ? 0x2028 : 0x2029);
				i += 3;
			} else {
				put(o, s + i, n);
				i += n;
			}
			continue;
		}
		switch (c) {
		case '"':  put_lit(o, "\\\""); break;
		case '\\': put_lit(o, "\\\\"); break;
		case '\b': put_lit(o, "\\b"); break;
		case '\f': put_lit(o, "\\f"); break;
		case '\n': put_lit(o, "\\n"); break;
		case '\r': put_lit(o, "\\r"); break;
		case '\t': put_lit(o, "\\t"); break;
		default:   put_u_escape(o, c); break;
		}
		i++;
	}
}

size_t json_escape(char *out, size_t cap, const char *s, size_t len)
{
	struct out o = { out, cap, 0 };

	put_escaped(&o, (const uint8_t *)s, len);
	return o.len;
}

size_t json_quote(char *out, size_t cap, const char *s, size_t len)
{
	struct out o = { out, cap, 0 };

	put_c(&o, '"');
	put_escaped(&o, (const uint8_t *)s, len);
	put_c(&o, '"');
	return o.len;
}

/* Proleptic Gregorian date of a day count since 1970-01-01 (days >= 0). */
static void civil_date(uint64_t days, unsigned int *y, unsigned int *m,
		       unsigned int *d)
{
	/* Count from 0000-03-01 so that leap days end each 4/100/400 cycle. */
	uint64_t z = days + 719468;
	uint64_t era = z / 146097, doe = z % 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = era * 400 + yoe + (*m <= 2);
}

static void put_digits(char *p, uint64_t v, int n)
{
	while (n--) {
		p[n] = '0' + v % 10;
		v /= 10;
	}
}

static void put_time(struct out *o, uint64_t ns)
{
	uint64_t secs = ns / 1000000000, sod = secs % 86400;
	unsigned int y, m, d;
	char t[JSON_TIME_LEN];

	civil_date(secs / 86400, &y, &m, &d);
	/* 2026-11-25T09:30:00.123456789Z; 2^64 ns is in year 2554. */
	put_digits(t, y, 4);
	t[4] = '-';
	put_digits(t + 5, m, 2);
	t[7] = '-';
	put_digits(t + 8, d, 2);
	t[10] = 'T';
	put_digits(t + 11, sod / 3600, 2);
	t[13] = ':';
	put_digits(t + 14, sod / 60 % 60, 2);
	t[16] = ':';
	put_digits(t + 17, sod % 60, 2);
	t[19] = '.';
	put_digits(t + 20, ns % 1000000000, 9);
	t[29] = 'Z';
	put(o, t, sizeof(t));
}

size_t json_time(char *out, size_t cap, uint64_t time_ns)
{
	struct out o = { out, cap, 0 };

	put_time(&o, time_ns);
	return o.len;
}

static void put_gap(struct out *o, uint64_t first_id, uint64_t next_id,
		    uint64_t lost)
{
	put_lit(o, "{\"type\":\"gap\",\"first_id\":");
	put_u64(o, first_id);
	put_lit(o, ",\"next_id\":");
	put_u64(o, next_id);
	put_lit(o, ",\"lost\":");
	put_u64(o, lost);
	put_c(o, '}');
}

size_t json_gap(char *out, size_t cap, uint64_t first_id, uint64_t next_id,
		uint64_t lost)
{
	struct out o = { out, cap, 0 };

	put_gap(&o, first_id, next_id, lost);
	return o.len;
}

/*
 * Padded base64 (nettle) of s[0..n): straight into the buffer as far as
 * whole groups fit, the rest through a small block, so that a short
 * buffer gets a prefix like everything else.
 */
static void put_base64(struct out *o, const uint8_t *s, size_t n)
{
	size_t room = o->len < o->cap ? o->cap - o->len : 0;
	size_t direct = (n / 3 < room / 4 ? n / 3 : room / 4) * 3;
	char block[BASE64_ENCODE_RAW_LENGTH(48)];

	if (direct) {
		base64_encode_raw(o->p + o->len, direct, s);
		o->len += BASE64_ENCODE_RAW_LENGTH(direct);
		s += direct;
		n -= direct;
	}
	while (n) {
		size_t k = n < 48 ? n : 48;

		base64_encode_raw(block, k, s);
		put(o, block, BASE64_ENCODE_RAW_LENGTH(k));
		s += k;
		n -= k;
	}
}

size_t json_message(char *out, size_t cap, const struct push_msg *m)
{
	struct out o = { out, cap, 0 };

	if (m->type == PUSH_REC_GAP) {
		put_gap(&o, m->id, m->gap_next_id, m->gap_lost);
		return o.len;
	}
	put_lit(&o, "{\"id\":");
	put_u64(&o, m->id);
	put_lit(&o, ",\"channel\":\"");
	put_escaped(&o, (const uint8_t *)m->chan, m->chan_len);
	put_lit(&o, "\",\"time\":\"");
	put_time(&o, m->time_ns);
	if (utf8_valid(m->data, m->data_len)) {
		put_lit(&o, "\",\"data\":\"");
		put_escaped(&o, m->data, m->data_len);
	} else {
		put_lit(&o, "\",\"data_base64\":\"");
		put_base64(&o, m->data, m->data_len);
	}
	put_lit(&o, "\"}");
	return o.len;
}

size_t json_message_max(size_t chan_len, size_t data_len)
{
	/* 6 bytes per input byte at worst (\u00XX), plus the fixed text. */
	return 128 + 6 * chan_len + 6 * data_len;
}
