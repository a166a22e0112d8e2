/* SPDX-License-Identifier: GPL-2.0 */
/*
 * out.h - a bounded output buffer for the snprintf-like encoders (json.c,
 * sse.c): writes at most cap bytes but counts every byte the whole output
 * needs, so a caller learns the size to allocate from a NULL/0 call.
 */
#ifndef PUSHD_OUT_H
#define PUSHD_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct out {
	char *p;
	size_t cap;
	size_t len;	/* bytes the whole output needs so far */
};

static inline void put(struct out *o, const void *s, size_t n)
{
	if (n && o->len < o->cap) {
		size_t room = o->cap - o->len;

		memcpy(o->p + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static inline void put_c(struct out *o, char c)
{
	if (o->len < o->cap)
		o->p[o->len] = c;
	o->len++;
}

#define put_lit(o, s)	put(o, s, sizeof(s) - 1)

/* Appends @v in decimal. */
static inline void put_u64(struct out *o, uint64_t v)
{
	char d[20];
	int i = sizeof(d);

	do {
		d[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, d + i, sizeof(d) - i);
}

#endif
