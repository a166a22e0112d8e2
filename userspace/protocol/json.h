/* SPDX-License-Identifier: GPL-2.0 */
/*
 * json.h - JSON encoding of what pushd delivers, and UTF-8 validation.
 *
 * Every encoder is snprintf-like but writes no NUL: it writes at most cap
 * bytes to out and returns the length the whole output has, so the output
 * is complete iff the result is <= cap (out may be NULL when cap is 0).
 * The objects (docs/HTTP.md):
 *   {"id":123,"channel":"chat","time":"2026-11-25T09:30:00.123456789Z","data":"hello"}
 *   ... "data_base64":"..." instead of "data" when the payload is not UTF-8
 *   {"type":"gap","first_id":A,"next_id":B,"lost":L}
 */
#ifndef PUSH_JSON_H
#define PUSH_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "protocol/record.h"

/* Length of "2026-11-25T09:30:00.123456789Z". */
#define JSON_TIME_LEN	30

/*
 * Incremental UTF-8 validation (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF).  Start from UTF8_ACCEPT and feed the bytes in
 * any number of pieces; the result is UTF8_ACCEPT at the end of a valid
 * text, UTF8_REJECT (sticky) once invalid, anything else in the middle of
 * a sequence (valid so far, incomplete).
 */
#define UTF8_ACCEPT	0u
#define UTF8_REJECT	0xffffffffu
uint32_t utf8_feed(uint32_t state, const uint8_t *s, size_t len);

/* 1 if s[0..len) is complete valid UTF-8, else 0. */
int utf8_valid(const uint8_t *s, size_t len);

/*
 * Escape s[0..len) as the inside of a JSON string (no quotes): ", \ and
 * control characters escaped, U+2028/U+2029 as \u2028/\u2029 (they end
 * lines in JavaScript), each invalid UTF-8 byte as \ufffd.
 */
size_t json_escape(char *out, size_t cap, const char *s, size_t len);

/* Like json_escape() but with the surrounding quotes. */
size_t json_quote(char *out, size_t cap, const char *s, size_t len);

/* RFC 3339 UTC time with 9 fractional digits; always JSON_TIME_LEN. */
size_t json_time(char *out, size_t cap, uint64_t time_ns);

/* The message object of m; a gap object if m->type == PUSH_REC_GAP. */
size_t json_message(char *out, size_t cap, const struct push_msg *m);

/* The gap object {"type":"gap","first_id":..,"next_id":..,"lost":..}. */
size_t json_gap(char *out, size_t cap, uint64_t first_id, uint64_t next_id,
		uint64_t lost);

/* Upper bound of json_message() for a channel and payload of these sizes. */
size_t json_message_max(size_t chan_len, size_t data_len);

#endif /* PUSH_JSON_H */
