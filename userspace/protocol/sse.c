// SPDX-License-Identifier: GPL-2.0
/*
 * sse.c - Server-Sent Events encoding.
 *
 * The WHATWG parser ends a line at LF, CRLF or CR, so data is cut at each
 * of them into its own "data:" line; the client joins those lines with LF.
 */
#include <string.h>

#include "protocol/out.h"
#include "protocol/sse.h"

/* s without CR and LF (which would end the field), or with them as spaces. */
static void put_one_line(struct out *o, const char *s, int drop)
{
	for (; *s; s++) {
		if (*s != '\r' && *s != '\n')
			put_c(o, *s);
		else if (!drop)
			put_c(o, ' ');
	}
}

size_t sse_event(char *out, size_t cap, uint64_t id, const char *event,
		 const char *data, size_t len)
{
	struct out o = { out, cap, 0 };
	size_t i = 0;

	if (id) {
		put_lit(&o, "id: ");
		put_u64(&o, id);
		put_c(&o, '\n');
	}
	if (event) {
		put_lit(&o, "event: ");
		put_one_line(&o, event, 1);
		put_c(&o, '\n');
	}
	for (;;) {
		const char *cr = NULL, *lf = NULL;
		size_t n;

		/* Find the next line end of either kind. */
		if (i < len) {
			lf = memchr(data + i, '\n', len - i);
			cr = memchr(data + i, '\r',
				    lf ? (size_t)(lf - (data + i)) : len - i);
		}
		if (cr)
			n = cr - (data + i);
		else if (lf)
			n = lf - (data + i);
		else
			n = len - i;
		put_lit(&o, "data: ");
		if (n)
			put(&o, data + i, n);
		put_c(&o, '\n');
		if (!cr && !lf)
			break;
		i += n + 1;
		if (cr && i < len && data[i] == '\n')
			i++;	/* CRLF is one line end */
	}
	put_c(&o, '\n');
	return o.len;
}

size_t sse_comment(char *out, size_t cap, const char *text)
{
	struct out o = { out, cap, 0 };

	put_c(&o, ':');
	if (text && *text) {
		put_c(&o, ' ');
		put_one_line(&o, text, 0);
	}
	put_lit(&o, "\n\n");
	return o.len;
}

size_t sse_retry(char *out, size_t cap, unsigned int ms)
{
	struct out o = { out, cap, 0 };

	put_lit(&o, "retry: ");
	put_u64(&o, ms);
	put_lit(&o, "\n\n");
	return o.len;
}

size_t sse_event_max(size_t len, const char *event)
{
	/* Worst case: every byte ends a line, each "data: \n". */
	size_t n = 7 * (len + 1) + sizeof("id: 18446744073709551615\n") + 1;

	if (event)
		n += sizeof("event: \n") + strlen(event);
	return n;
}
