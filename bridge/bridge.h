/* SPDX-License-Identifier: GPL-2.0 */
/*
 * push-bridge: one node's link between its /dev/push and a JetStream stream
 * (docs/CLUSTER.md).  Forward (forward.c): the ingress queue to the stream,
 * each entry acknowledged to the kernel only on its PubAck.  Apply
 * (apply.c): the stream, through an ordered consumer, into the device with
 * PUSH_IOC_PUBLISH_ID.  Stream (stream.c): lookup or creation, the epoch.
 * main.c: options, the connection, the state machine, the status file.
 */
#ifndef PUSH_BRIDGE_H
#define PUSH_BRIDGE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <nats/nats.h>

/* Ingress entries published and not yet acknowledged, at most (--window). */
#define BRIDGE_WINDOW_MAX	1024
/* The PubAck bitmap: the window plus what one read() can return. */
#define BRIDGE_ACK_RING		4096
/* The ingress read buffer: at least this, and at least the device's largest record. */
#define BRIDGE_READ_BUF		(64 << 10)
#define BRIDGE_READ_BUF_MAX	(64 << 20)

struct bridge_opts {
	const char *device;		/* /dev/push1 */
	size_t read_buf;		/* --read-buffer: the first size, 0: from the device */
	char ingress[256];		/* /dev/push1-ingress */
	const char *nats;		/* comma-separated URLs */
	const char *stream;		/* PUSH */
	const char *prefix;		/* "push." */
	const char *status;		/* status file, or NULL */
	int replicas;
	int64_t dup_window_ns;
	int64_t max_age_ns;		/* 0: unlimited */
	int64_t max_bytes;		/* -1: unlimited */
	int64_t ack_wait_ms;		/* PubAck timeout */
	int64_t window;			/* publishes in flight, at most */
	bool memory;			/* create the stream in memory */
};

/* Counters, read by the status file (status.c); updated from any thread. */
struct bridge_stats {
	atomic_uint_fast64_t forwarded;		/* publishes sent */
	atomic_uint_fast64_t pubacked;		/* PubAcks, duplicates included */
	atomic_uint_fast64_t duplicates;	/* PubAcks saying "duplicate" */
	atomic_uint_fast64_t pub_errors;	/* failed publishes / PubAcks */
	atomic_uint_fast64_t rewinds;		/* re-reads of the ingress queue */
	atomic_uint_fast64_t reconnects;
	atomic_uint_fast64_t applied;		/* messages written to the device */
	atomic_uint_fast64_t skipped;		/* deliveries already applied */
	atomic_uint_fast64_t invalid;		/* applied as a placeholder */
	atomic_uint_fast64_t jumps;		/* skips past lost ids */
	atomic_uint_fast64_t deleted;		/* placeholders for deleted seqs */
	atomic_uint_fast64_t resubscribes;
	atomic_int_fast64_t ack_latency_ns;	/* last publish-to-PubAck */
	atomic_uint_fast64_t stream_seq;	/* stream's last seq (polled) */
};

enum bridge_state {
	BS_CONNECTING,		/* no NATS server reached yet */
	BS_SETUP,		/* connected; stream, epoch, consumer */
	BS_RUNNING,		/* forwarding and applying */
	BS_DISCONNECTED,	/* lost NATS; libnats reconnects */
	BS_STOPPING,
};

struct bridge {
	struct bridge_opts o;
	struct bridge_stats st;
	natsConnection *nc;
	jsCtx *js;
	natsSubscription *sub;
	_Atomic int state;
	atomic_bool connected;
	atomic_bool resubscribe;	/* the consumer failed: make a new one */
	atomic_bool js_ready;		/* js is made (the poller may use it) */
	atomic_bool poller_stop;
	atomic_uint_fast64_t polled_seq;	/* the stream's last seq, last poll */
	atomic_uint_fast64_t polls;		/* stream info requests done */

	/* fd_lock protects ing_fd against its reopen (a rewind) */
	pthread_mutex_t fd_lock;
	int ing_fd;
	uint64_t ing_epoch;		/* the node part of Nats-Msg-Id */

	/* lock protects what follows: the forward window */
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* a PubAck arrived */
	uint64_t acked;			/* every seq <= acked has its PubAck */
	uint64_t kernel_acked;		/* seq given to PUSH_IOC_INGRESS_ACK */
	uint64_t read_upto;		/* highest seq read in this open */
	bool rewind;			/* re-read the queue after a failure */
	bool probing;			/* one publish in flight until a PubAck */
	unsigned char done[BRIDGE_ACK_RING];

	/* apply: only the consumer's callback writes these, under fd_lock */
	uint64_t applied_id;		/* the device's last id */
	uint64_t jump_ok;		/* a skip up to this seq is the stream's */
};

/* main.c */
void bridge_log(struct bridge *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void bridge_set_state(struct bridge *b, enum bridge_state s);
const char *bridge_nats_err(natsStatus s);

/* stream.c: find or create the stream and set the device's epoch from it.
 * Returns 0, -EAGAIN (retry later) or another -errno (fatal). */
int bridge_stream_setup(struct bridge *b);
/* The same without the device: the stream found or created, its epoch
 * decided (docs/CLUSTER.md, "Epoch"); 0 or -EAGAIN. */
int bridge_stream_epoch(struct bridge *b, uint64_t *epoch);
/* The stream's last sequence, 0 if unknown (a request to NATS). */
uint64_t bridge_stream_last_seq(struct bridge *b, uint64_t *first_seq);
/* The epoch for a stream of this name and creation time: nonzero. */
uint64_t bridge_epoch_of(const char *name, int64_t created_ns);

/* forward.c */
int bridge_ingress_open(struct bridge *b);
void bridge_forward_init(struct bridge *b, jsOptions *jo);
/* One step: read and publish what is ready, waiting at most timeout_ms.
 * Returns 0, or -errno for a fatal error. */
int bridge_forward_step(struct bridge *b, int timeout_ms);
void bridge_forward_drain(struct bridge *b, int64_t wait_ms);

/* apply.c */
int bridge_apply_subscribe(struct bridge *b);
void bridge_apply_unsubscribe(struct bridge *b);

/* subject.c: channel <-> subject, pure.  A channel's '.' becomes '~' so a
 * channel is one subject token.  Return the length written, or -1. */
int bridge_subject_of(const char *prefix, const char *chan, size_t len,
		      char *out, size_t size);
int bridge_channel_of(const char *prefix, const char *subject,
		      char *out, size_t size);

/* gap.c, pure: what the seqs from..to missing from a delivery are, given the
 * stream's first seq and its list of deleted seqs.  DELETED: every one was
 * deleted from the middle of the stream; DROPPED: every one is below the
 * first seq or deleted (retention: a jump); MISSED: the stream holds one. */
enum { BRIDGE_GAP_MISSED, BRIDGE_GAP_DELETED, BRIDGE_GAP_DROPPED };
int bridge_gap_kind(uint64_t first, const uint64_t *deleted, int n,
		    uint64_t from, uint64_t to);

/* status.c: write the status file (o.status) atomically. */
void bridge_status_write(struct bridge *b);
const char *bridge_state_name(int s);

#endif /* PUSH_BRIDGE_H */
