/* SPDX-License-Identifier: GPL-2.0 */
/*
 * push/probe.h - the probe map ABI: the maps push-probe's BPF programs
 * (bpf/push_probe.bpf.c) fill, push-probe and pushd read, and pushd writes
 * its tags into (through bpf/probe_tag.c, include/push/probe_tag.h); and
 * the transport ids every side uses, pushd's own counters included.
 * Plain fixed-width structs and #defines, no includes: user space includes
 * <linux/types.h> first, BPF programs vmlinux.h.
 *
 * Pinned under PUSH_PROBE_PIN_DIR (bpftool map dump pinned .../<name>):
 *   push_conns       LRU hash, socket cookie -> struct push_conn
 *                    (live connections to pushd's port)
 *   push_conn_tags   LRU hash, socket cookie -> struct push_conn_tag
 *                    (written by pushd through probe_tag.c)
 *   push_transports  array[PUSH_TRANSPORT_MAX] of struct push_closed_conns
 *                    (closed connections, folded by transport)
 *   push_delivered   array[PUSH_TRANSPORT_MAX] of struct push_delivery,
 *                    mmapable, written only by pushd
 *   push_proc        array[1] of struct push_proc (pushd as a whole)
 *   push_latency     array[PUSH_LAT_MAX] of struct push_lat
 */
#ifndef PUSH_PROBE_H
#define PUSH_PROBE_H

/* Transport ids: array indexes of the maps and of pushd's counters. */
#define PUSH_TRANSPORT_NONE		0	/* not tagged (yet) */
#define PUSH_TRANSPORT_LONGPOLL		1
#define PUSH_TRANSPORT_SSE		2
#define PUSH_TRANSPORT_WEBSOCKET	3
#define PUSH_TRANSPORT_MAX		4

/* Where push-probe pins its maps and links. */
#define PUSH_PROBE_PIN_DIR		"/sys/fs/bpf/push"

#define PUSH_PROBE_COMM_LEN	16
#define PUSH_PROBE_MAX_CONNS	65536
/* Latency histograms: slot i counts values in [2^i, 2^(i+1)) ns. */
#define PUSH_LAT_SLOTS		40
#define PUSH_LAT_PUBLISH	0	/* write() began -> message committed */
#define PUSH_LAT_DEVICE		1	/* committed -> read by pushd */
#define PUSH_LAT_MAX		2

/* Traffic and syscalls of one connection, or of many summed. */
struct push_traffic {
	__u64 tx_bytes;		/* IP bytes sent by pushd: headers included */
	__u64 tx_segs;		/* TCP segments sent (GSO counted as sent) */
	__u64 tx_payload;	/* TCP payload bytes sent */
	__u64 rx_bytes;		/* IP bytes received by pushd */
	__u64 rx_segs;
	__u64 rx_payload;
	__u64 rx_dup_payload;	/* of it, already received: the peer's resends */
	__u64 retrans;		/* retransmissions (tcp_retransmit_skb) */
	__u64 retrans_bytes;	/* their TCP payload, also in tx_payload */
	__u64 syscalls;		/* pushd's syscalls on this socket's fd */
	__u64 syscall_ns;	/* time inside them */
};

/* Value of push_conns: one live connection to pushd's port. */
struct push_conn {
	__u64 open_ns;		/* ktime of ESTABLISHED, 0 if before attach */
	struct push_traffic t;
};

/* Value of push_conn_tags, written by pushd. */
struct push_conn_tag {
	__u64 delivered;	/* messages delivered, known at untag */
	__u32 transport;	/* PUSH_TRANSPORT_* */
	__u32 tgid;		/* pushd's pid */
};

/* Value of push_transports: the closed connections of one transport, summed. */
struct push_closed_conns {
	__u64 conns;		/* connections closed */
	__u64 timed;		/* of them, opened while attached */
	__u64 lifetime_ns;	/* summed lifetime of the timed ones */
	struct push_traffic t;
};

/* Value of push_delivered, added to by pushd (mmap, atomically). */
struct push_delivery {
	__u64 messages;
};

/* Value of push_proc[0]: pushd's processes, summed over restarts. */
struct push_proc {
	__u64 cpu_ns;		/* on-CPU time of all its threads */
	__u64 syscalls;		/* syscalls not on one connection */
	__u64 syscall_ns;	/* time inside them, blocking included */
	__u64 conns_opened;	/* connections established to the port */
	__u64 dev_reads;	/* read() calls on /dev/push (push_read) */
	__u64 dev_records;	/* records they returned */
	__u64 dev_bytes;	/* bytes they returned */
	__u64 published;	/* messages published by anyone */
	__u64 published_bytes;	/* their payload bytes */
};

/* Value of push_latency. */
struct push_lat {
	__u64 count;
	__u64 sum_ns;
	__u64 max_ns;
	__u64 slots[PUSH_LAT_SLOTS];
};

#endif /* PUSH_PROBE_H */
