// SPDX-License-Identifier: GPL-2.0
/*
 * What seqs the consumer did not deliver are (apply.c): pure, so that
 * tests/unit/test_bridge_gap.c tests it alone.
 */
#include "bridge.h"

/* How many of deleted[] (each listed once) lie in lo..hi. */
static uint64_t deleted_in(const uint64_t *deleted, int n, uint64_t lo, uint64_t hi)
{
	uint64_t k = 0;
	int i;

	for (i = 0; i < n; i++)
		k += deleted[i] >= lo && deleted[i] <= hi;
	return k;
}

int bridge_gap_kind(uint64_t first, const uint64_t *deleted, int n,
		    uint64_t from, uint64_t to)
{
	if (from > to)
		return BRIDGE_GAP_MISSED;
	if (from >= first)
		return deleted_in(deleted, n, from, to) == to - from + 1 ?
		       BRIDGE_GAP_DELETED : BRIDGE_GAP_MISSED;
	if (to < first)
		return BRIDGE_GAP_DROPPED;
	return deleted_in(deleted, n, first, to) == to - first + 1 ?
	       BRIDGE_GAP_DROPPED : BRIDGE_GAP_MISSED;
}
