/* SPDX-License-Identifier: GPL-2.0 */
/*
 * push_trace.h - tracepoints of /dev/push, for bpf/ and perf:
 *
 *   push:push_publish      one per message committed
 *   push:push_read         one per read() that returned records
 *   push:push_record_read  one per message record returned
 *
 * Fixed-size fields come first and the channel name, a __string, last, so
 * that their offsets in /sys/kernel/tracing/events/push/{name}/format stay
 * put.  Times are ktime_get_ns() (CLOCK_MONOTONIC) nanoseconds.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM push

#if !defined(_PUSH_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _PUSH_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(push_publish,
	    TP_PROTO(u64 id, u32 len, u64 write_ns, u64 commit_ns,
		     const char *chan),
	    TP_ARGS(id, len, write_ns, commit_ns, chan),
	    TP_STRUCT__entry(__field(u64, id)
			     __field(u64, write_ns)
			     __field(u64, commit_ns)
			     __field(u32, len)
			     __string(chan, chan)),
	    TP_fast_assign(__entry->id = id;
			   __entry->write_ns = write_ns;
			   __entry->commit_ns = commit_ns;
			   __entry->len = len;
			   __assign_str(chan, chan);),
	    TP_printk("id=%llu len=%u chan=%s write_ns=%llu commit_ns=%llu",
		      __entry->id, __entry->len, __get_str(chan),
		      __entry->write_ns, __entry->commit_ns)
);

TRACE_EVENT(push_read,
	    TP_PROTO(u64 first_id, u64 last_id, u32 count, u64 bytes),
	    TP_ARGS(first_id, last_id, count, bytes),
	    TP_STRUCT__entry(__field(u64, first_id)
			     __field(u64, last_id)
			     __field(u64, bytes)
			     __field(u32, count)),
	    TP_fast_assign(__entry->first_id = first_id;
			   __entry->last_id = last_id;
			   __entry->bytes = bytes;
			   __entry->count = count;),
	    TP_printk("first_id=%llu last_id=%llu count=%u bytes=%llu",
		      __entry->first_id, __entry->last_id, __entry->count,
		      __entry->bytes)
);

TRACE_EVENT(push_record_read,
	    TP_PROTO(u64 id, u64 age_ns),
	    TP_ARGS(id, age_ns),
	    TP_STRUCT__entry(__field(u64, id)
			     __field(u64, age_ns)),
	    TP_fast_assign(__entry->id = id;
			   __entry->age_ns = age_ns;),
	    TP_printk("id=%llu age_ns=%llu", __entry->id, __entry->age_ns)
);

#endif /* _PUSH_TRACE_H */

/* Out of tree: found through -I$(src)/kmod (see Kbuild). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE push_trace
#include <trace/define_trace.h>
