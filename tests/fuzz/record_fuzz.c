// SPDX-License-Identifier: GPL-2.0
/*
 * record_fuzz.c - libFuzzer target for userspace/protocol/record.c, feeding what
 * it decodes on to json_message() as pushd does.
 *
 * Input: bytes as if read() from /dev/push (garbage, mostly).  Each record
 * returned must lie inside the buffer, the offset must advance by a
 * multiple of PUSH_RECORD_ALIGN and stay put on -EBADMSG; the same walk
 * over a copy at an odd address must agree; the JSON of every record must
 * fit the json_message_max() bound.
 */
#include <errno.h>

#include "fuzz.h"
#include "protocol/json.h"
#include "protocol/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	uint8_t *copy = malloc(n + 1), *odd = copy + 1;
	size_t off = 0, off2 = 0;
	struct push_msg m, m2;
	int r, r2;

	memcpy(odd, d, n);
	for (;;) {
		size_t before = off;

		r = push_record_next(d, n, &off, &m);
		r2 = push_record_next(odd, n, &off2, &m2);
		FUZZ_ASSERT(r == r2 && off == off2);
		if (r <= 0) {
			FUZZ_ASSERT(r == 0 || r == -EBADMSG);
			FUZZ_ASSERT(off == before);
			FUZZ_ASSERT(r != 0 || off == n);
			break;
		}
		FUZZ_ASSERT(off > before && off <= n);
		FUZZ_ASSERT((off - before) % PUSH_RECORD_ALIGN == 0);
		FUZZ_ASSERT((const uint8_t *)m.chan >= d + before &&
			    (const uint8_t *)m.chan + m.chan_len <= d + off);
		FUZZ_ASSERT(m.data >= d + before && m.data + m.data_len <= d + off);
		FUZZ_ASSERT(m.id == m2.id && m.type == m2.type &&
			    m.data_len == m2.data_len && m.chan_len == m2.chan_len);
		if (m.type == PUSH_REC_MSG) {
			FUZZ_ASSERT(m.chan_len >= 1 && m.chan_len <= PUSH_CHANNEL_MAX);
		} else if (m.type == PUSH_REC_GAP) {
			FUZZ_ASSERT(m.gap_next_id == m2.gap_next_id &&
				    m.gap_lost == m2.gap_lost);
		} else {
			continue;	/* unknown: skipped, as pushd does */
		}
		{
			size_t max = json_message_max(m.chan_len, m.data_len);
			char *s = malloc(max);

			FUZZ_ASSERT(json_message(s, max, &m) <= max);
			free(s);
		}
	}
	free(copy);
	return 0;
}
