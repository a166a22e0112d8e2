// SPDX-License-Identifier: GPL-2.0
/*
 * test_bridge_gap.c - push-bridge's reading of seqs a delivery skipped
 * (bridge/gap.c): all deleted from the middle of the stream (placeholders),
 * all gone below its first seq or deleted (retention: a jump), or one the
 * stream still holds (the consumer missed it).
 * TAP output; exit 1 on any failure.
 */
#include "bridge/bridge.h"

#include "tap.h"

int main(void)
{
	const uint64_t del[] = { 9, 5, 7, 6 };	/* the server's list, any order */

	CHECK(bridge_gap_kind(1, del, 4, 5, 5) == BRIDGE_GAP_DELETED, "one deleted seq");
	CHECK(bridge_gap_kind(1, del, 4, 5, 7) == BRIDGE_GAP_DELETED, "a run of deleted seqs");
	CHECK(bridge_gap_kind(1, del, 4, 5, 8) == BRIDGE_GAP_MISSED, "8 is held: missed");
	CHECK(bridge_gap_kind(1, del, 4, 4, 5) == BRIDGE_GAP_MISSED, "4 is held: missed");
	CHECK(bridge_gap_kind(1, NULL, 0, 3, 3) == BRIDGE_GAP_MISSED, "nothing deleted: missed");
	CHECK(bridge_gap_kind(10, NULL, 0, 3, 9) == BRIDGE_GAP_DROPPED, "all below the first seq: dropped");
	CHECK(bridge_gap_kind(6, del, 4, 3, 7) == BRIDGE_GAP_DROPPED,
	      "below the first seq, then deleted: dropped (a jump)");
	CHECK(bridge_gap_kind(6, del, 4, 3, 8) == BRIDGE_GAP_MISSED,
	      "below the first seq, then one held: missed");
	CHECK(bridge_gap_kind(1, del, 4, 6, 5) == BRIDGE_GAP_MISSED, "an empty range is no gap to explain");
	CHECK(bridge_gap_kind(1, del, 4, UINT64_MAX - 1, UINT64_MAX) == BRIDGE_GAP_MISSED,
	      "seqs near the top: no overflow");
	return tap_done();
}
