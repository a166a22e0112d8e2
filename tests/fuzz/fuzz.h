/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fuzz.h - oracles shared by the libFuzzer targets: deliberately simple,
 * independent re-implementations (a JSON string decoder, a WHATWG SSE
 * parser, a code-point UTF-8 checker) against which the fast code in
 * userspace/protocol/ is compared.  Any disagreement aborts, so libFuzzer saves it.
 */
#ifndef PUSH_FUZZ_H
#define PUSH_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: assertion failed: %s\n",	\
			__FILE__, __LINE__, #c);			\
		abort();						\
	}								\
} while (0)

/* UTF-8 by decoding code points: 1 if valid, else 0. */
static inline int ref_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t cp;
		size_t k, need;

		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0)
			need = 1, cp = s[i] & 0x1f;
		else if ((s[i] & 0xf0) == 0xe0)
			need = 2, cp = s[i] & 0x0f;
		else if ((s[i] & 0xf8) == 0xf0)
			need = 3, cp = s[i] & 0x07;
		else
			return 0;
		if (n - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		/* Shortest form only, no surrogates, nothing past U+10FFFF. */
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
		    (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

static inline size_t put_utf8(uint8_t *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = 0xc0 | cp >> 6;
		o[1] = 0x80 | (cp & 63);
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = 0xe0 | cp >> 12;
		o[1] = 0x80 | (cp >> 6 & 63);
		o[2] = 0x80 | (cp & 63);
		return 3;
	}
	o[0] = 0xf0 | cp >> 18;
	o[1] = 0x80 | (cp >> 12 & 63);
	o[2] = 0x80 | (cp >> 6 & 63);
	o[3] = 0x80 | (cp & 63);
	return 4;
}

static inline int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode the JSON string at s[*pos] (starting with '"') into out (room
 * for 4 bytes per input byte); advance *pos past the closing quote.
 * Strict RFC 8259: no raw control characters.  Returns 0 or -1.
 */
static inline int json_decode_string(const char *s, size_t n, size_t *pos,
				     uint8_t *out, size_t *olen)
{
	size_t i = *pos, o = 0;

	if (i >= n || s[i] != '"')
		return -1;
	for (i++; i < n; i++) {
		uint8_t c = s[i];

		if (c == '"') {
			*pos = i + 1;
			*olen = o;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c != '\\') {
			out[o++] = c;
			continue;
		}
		if (++i >= n)
			return -1;
		switch (s[i]) {
		case '"': out[o++] = '"'; break;
		case '\\': out[o++] = '\\'; break;
		case '/': out[o++] = '/'; break;
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'u': {
			uint32_t cp = 0;
			int k, h;

			if (i + 4 >= n)
				return -1;
			for (k = 1; k <= 4; k++) {
				h = hexval(s[i + k]);
				if (h < 0)
					return -1;
				cp = cp << 4 | h;
			}
			i += 4;
			if (cp >= 0xd800 && cp <= 0xdfff)
				return -1;	/* we never emit surrogates */
			o += put_utf8(out + o, cp);
			break;
		}
		default:
			return -1;
		}
	}
	return -1;
}

/* Expect the literal lit at s[*pos]; advance past it.  0 or -1. */
static inline int expect_lit(const char *s, size_t n, size_t *pos,
			     const char *lit)
{
	size_t l = strlen(lit);

	if (n - *pos < l || memcmp(s + *pos, lit, l))
		return -1;
	*pos += l;
	return 0;
}

/* A decimal number without sign or leading zeros.  0 or -1. */
static inline int expect_u64(const char *s, size_t n, size_t *pos,
			     uint64_t want)
{
	char d[24];

	snprintf(d, sizeof(d), "%llu", (unsigned long long)want);
	return expect_lit(s, n, pos, d) ? -1 :
	       (*pos < n && s[*pos] >= '0' && s[*pos] <= '9') ? -1 : 0;
}

/*
 * A WHATWG EventSource parser over a complete stream s[0..n): returns
 * how many events it dispatched; the last one's data, id and type.
 * data must have room for n bytes; id and type for n + 1.
 */
static inline int sse_parse(const char *s, size_t n, uint8_t *data,
			    size_t *dlen, char *id, char *type)
{
	size_t i = 0, d = 0;
	int events = 0;

	*id = *type = 0;
	while (i < n) {
		size_t e = i, f, v;

		while (e < n && s[e] != '\n' && s[e] != '\r')
			e++;
		if (e == n)
			return -1;	/* the stream must end with a line end */
		if (e == i) {
			if (d) {
				*dlen = d - 1;
				events++;
			}
			d = 0;
		} else if (s[i] != ':') {
			for (f = i; f < e && s[f] != ':'; f++)
				;
			v = f < e ? f + 1 : e;
			if (v < e && s[v] == ' ')
				v++;
			if (f - i == 4 && !memcmp(s + i, "data", 4)) {
				memcpy(data + d, s + v, e - v);
				d += e - v;
				data[d++] = '\n';
			} else if (f - i == 2 && !memcmp(s + i, "id", 2)) {
				memcpy(id, s + v, e - v);
				id[e - v] = 0;
			} else if (f - i == 5 && !memcmp(s + i, "event", 5)) {
				memcpy(type, s + v, e - v);
				type[e - v] = 0;
			} else if (f - i != 5 || memcmp(s + i, "retry", 5)) {
				return -1;	/* a field we never write */
			}
		}
		i = e + (s[e] == '\r' && e + 1 < n && s[e + 1] == '\n' ? 2 : 1);
	}
	return events;
}

/* Tiny deterministic PRNG for chunk sizes drawn from the input. */
static inline uint32_t fuzz_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

#endif /* PUSH_FUZZ_H */
