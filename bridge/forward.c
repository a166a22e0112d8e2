// SPDX-License-Identifier: GPL-2.0
/*
 * Forward: the device's ingress queue to the stream.
 *
 * The main thread reads records from /dev/pushN-ingress and publishes each
 * with js_PublishMsgAsync to PREFIX<channel>, header Nats-Msg-Id
 * "<ingress epoch>-<seq>".  PubAcks arrive on a libnats thread
 * (ack_handler): a seq is done once its PubAck says stored (or duplicate),
 * and the kernel entries are acknowledged (PUSH_IOC_INGRESS_ACK) up to the
 * highest seq below which every one is done, never past one that is not.
 * A failed publish or PubAck, or a lost connection, sets "rewind": the
 * in-flight publishes are waited for, the node reopened, and everything
 * not acknowledged read and published again; the stream's duplicate
 * window drops what had in fact been stored; until a PubAck comes back,
 * one publish at a time (probing).  At most --window entries
 * are in flight: JetStream stores them one after the other, so a deeper
 * pipeline only adds latency, and PubAck timeouts once it exceeds
 * --ack-wait.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"

#include <linux/push.h>

static unsigned char *rbuf;		/* rcap bytes */
static size_t rcap;
static ssize_t rlen, roff;		/* rbuf holds [roff, rlen) unpublished */

/*
 * Sizes the read buffer: --read-buffer, else the device's largest record
 * (header, channel, max_msg_size), at least BRIDGE_READ_BUF; @grow (a
 * read() said EINVAL: the next record does not fit) doubles it.  A record
 * that never fits would stop forwarding for good and block every writer.
 */
static int rbuf_fit(struct bridge *b, bool grow)
{
	struct push_info info;
	size_t want = rcap;
	unsigned char *nb;

	if (!rbuf) {
		want = b->o.read_buf;
		if (!want) {
			want = BRIDGE_READ_BUF;
			if (!ioctl(b->ing_fd, PUSH_IOC_INFO, &info)) {
				size_t rec = sizeof(struct push_record) + PUSH_CHANNEL_MAX +
					     info.max_msg_size + PUSH_RECORD_ALIGN;

				if (rec > want)
					want = rec;
			}
		}
	} else if (grow) {
		if (rcap >= BRIDGE_READ_BUF_MAX)
			return -EMSGSIZE;
		want = rcap * 2;
	} else {
		return 0;
	}
	nb = realloc(rbuf, want);
	if (!nb)
		return -ENOMEM;
	if (rbuf && grow)
		bridge_log(b, "an ingress record is over %zu bytes: read buffer now %zu", rcap, want);
	rbuf = nb;
	rcap = want;
	return 0;
}
static uint64_t sent_ns[BRIDGE_ACK_RING];	/* time_ns of each seq in flight */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Acknowledge to the kernel what is done and was read in this open.
 * Called with b->lock held. */
static void kernel_ack(struct bridge *b)
{
	uint64_t to = b->acked < b->read_upto ? b->acked : b->read_upto;

	if (to <= b->kernel_acked)
		return;
	pthread_mutex_lock(&b->fd_lock);
	if (ioctl(b->ing_fd, PUSH_IOC_INGRESS_ACK, &to) == 0)
		b->kernel_acked = to;
	else
		bridge_log(b, "PUSH_IOC_INGRESS_ACK %" PRIu64 ": %s", to, strerror(errno));
	pthread_mutex_unlock(&b->fd_lock);
}

/* Mark seq done and move b->acked over every done seq.  b->lock held. */
static void mark_done(struct bridge *b, uint64_t seq)
{
	if (seq <= b->acked || seq - b->acked >= BRIDGE_ACK_RING)
		return;
	b->done[seq % BRIDGE_ACK_RING] = 1;
	while (b->done[(b->acked + 1) % BRIDGE_ACK_RING]) {
		b->done[(b->acked + 1) % BRIDGE_ACK_RING] = 0;
		b->acked++;
	}
}

/* The seq of one of our messages, from its Nats-Msg-Id; 0 if not ours. */
static uint64_t seq_of(struct bridge *b, natsMsg *msg)
{
	const char *id = NULL, *dash;
	char *end;
	uint64_t epoch, seq;

	if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) != NATS_OK || !id)
		return 0;
	dash = strchr(id, '-');
	if (!dash)
		return 0;
	epoch = strtoull(id, &end, 10);
	if (end != dash || epoch != b->ing_epoch)
		return 0;
	seq = strtoull(dash + 1, &end, 10);
	return *end ? 0 : seq;
}

static void ack_handler(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae,
			void *closure)
{
	struct bridge *b = closure;
	uint64_t seq = seq_of(b, msg);

	(void)js;
	pthread_mutex_lock(&b->lock);
	if (pa && seq) {
		atomic_fetch_add(&b->st.pubacked, 1);
		if (pa->Duplicate)
			atomic_fetch_add(&b->st.duplicates, 1);
		if (pa->Sequence > atomic_load(&b->st.stream_seq))
			atomic_store(&b->st.stream_seq, pa->Sequence);
		atomic_store(&b->st.ack_latency_ns,
			     now_ns() - (int64_t)sent_ns[seq % BRIDGE_ACK_RING]);
		mark_done(b, seq);
		kernel_ack(b);
		b->probing = false;	/* the stream answers again */
	} else if (pae) {
		atomic_fetch_add(&b->st.pub_errors, 1);
		if (!b->rewind)
			bridge_log(b, "forward: PubAck of seq %" PRIu64 " failed: %s%s%s; will re-forward from seq %" PRIu64,
				   seq, bridge_nats_err(pae->Err),
				   pae->ErrText ? ": " : "",
				   pae->ErrText ? pae->ErrText : "", b->acked + 1);
		b->rewind = true;
		b->probing = true;
	}
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	natsMsg_Destroy(msg);
}

void bridge_forward_init(struct bridge *b, jsOptions *jo)
{
	jo->PublishAsync.AckHandler = ack_handler;
	jo->PublishAsync.AckHandlerClosure = b;
	/* our own window limits what is in flight; libnats never stalls */
	jo->PublishAsync.MaxPending = 2 * BRIDGE_ACK_RING;
}

/* (Re)open the ingress node; it reads again from the oldest entry not
 * acknowledged.  Called with b->lock held, or before any thread runs. */
static int ingress_reopen(struct bridge *b)
{
	struct push_ingress_info ii;
	int fd, err = 0;

	/* one opener at a time: the old fd goes first (apply waits on fd_lock) */
	pthread_mutex_lock(&b->fd_lock);
	if (b->ing_fd >= 0)
		close(b->ing_fd);
	b->ing_fd = -1;
	fd = open(b->o.ingress, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	memset(&ii, 0, sizeof(ii));
	if (fd < 0 || ioctl(fd, PUSH_IOC_INGRESS_INFO, &ii)) {
		err = -errno;
		if (fd >= 0)
			close(fd);
	} else {
		b->ing_fd = fd;
		b->ing_epoch = ii.epoch;
	}
	pthread_mutex_unlock(&b->fd_lock);
	if (err)
		return err;
	b->kernel_acked = ii.acked;
	b->read_upto = ii.acked;
	if (b->acked < ii.acked)
		b->acked = ii.acked;
	return 0;
}

int bridge_ingress_open(struct bridge *b)
{
	b->ing_fd = -1;
	return ingress_reopen(b);
}

/* Wait for what is in flight, then read the queue again from the oldest
 * entry not acknowledged. */
static void rewind_queue(struct bridge *b)
{
	jsPubOptions po;
	bool unread;
	int err;

	jsPubOptions_Init(&po);
	po.MaxWait = b->o.ack_wait_ms;
	js_PublishAsyncComplete(b->js, &po);
	pthread_mutex_lock(&b->lock);
	b->rewind = false;
	b->probing = true;
	unread = roff < rlen;
	rlen = roff = 0;
	if (b->read_upto > b->kernel_acked || unread || b->ing_fd < 0) {
		atomic_fetch_add(&b->st.rewinds, 1);
		err = ingress_reopen(b);
		if (err) {
			bridge_log(b, "reopen %s: %s; retrying", b->o.ingress, strerror(-err));
			b->rewind = true;
		} else {
			bridge_log(b, "forward: re-reading the ingress queue from seq %" PRIu64 " (PubAcks up to %" PRIu64 ")",
				   b->kernel_acked + 1, b->acked);
		}
	}
	pthread_mutex_unlock(&b->lock);
}

static int publish(struct bridge *b, const struct push_record *r)
{
	const char *chan = (const char *)(r + 1);
	char subj[256], id[48];
	natsMsg *m = NULL;
	jsPubOptions po;
	natsStatus s;

	if (bridge_subject_of(b->o.prefix, chan, r->chan_len, subj, sizeof(subj)) < 0) {
		/* the kernel validated it: not reachable, but never wedge on it */
		bridge_log(b, "forward: seq %llu has an invalid channel; dropped",
			   (unsigned long long)r->id);
		pthread_mutex_lock(&b->lock);
		mark_done(b, r->id);
		pthread_mutex_unlock(&b->lock);
		return 0;
	}
	snprintf(id, sizeof(id), "%" PRIu64 "-%llu", b->ing_epoch,
		 (unsigned long long)r->id);
	s = natsMsg_Create(&m, subj, NULL, chan + r->chan_len, (int)r->data_len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
	if (s == NATS_OK) {
		sent_ns[r->id % BRIDGE_ACK_RING] = r->time_ns;
		jsPubOptions_Init(&po);
		po.MaxWait = b->o.ack_wait_ms;
		s = js_PublishMsgAsync(b->js, &m, &po);
	}
	natsMsg_Destroy(m);
	if (s != NATS_OK) {
		atomic_fetch_add(&b->st.pub_errors, 1);
		pthread_mutex_lock(&b->lock);
		if (!b->rewind)
			bridge_log(b, "forward: publish of seq %llu: %s; will re-forward",
				   (unsigned long long)r->id, bridge_nats_err(s));
		b->rewind = true;
		pthread_mutex_unlock(&b->lock);
		return -1;
	}
	atomic_fetch_add(&b->st.forwarded, 1);
	return 0;
}

/* Publishes awaiting their PubAck, at most: one while probing (after a
 * failure or a reconnect, until a PubAck says the stream takes them
 * again), so that a publish refused while, e.g., the stream elects a
 * leader is not overtaken by a later one that is stored.  b->lock held. */
static uint64_t window(struct bridge *b)
{
	return b->probing ? 1 : (uint64_t)b->o.window;
}

/* Publishes awaiting their PubAck.  After a rewind, PubAcks of the old
 * read can take acked past read_upto: none then.  b->lock held. */
static bool window_full(struct bridge *b)
{
	return b->read_upto > b->acked && b->read_upto - b->acked >= window(b);
}

int bridge_forward_step(struct bridge *b, int timeout_ms)
{
	struct pollfd p = { .fd = b->ing_fd, .events = POLLIN };
	struct timespec dl;
	ssize_t n;
	bool rewind;

	pthread_mutex_lock(&b->lock);
	rewind = b->rewind;
	if (!rewind && window_full(b)) {
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_nsec += (long)timeout_ms * 1000000;
		dl.tv_sec += dl.tv_nsec / 1000000000;
		dl.tv_nsec %= 1000000000;
		pthread_cond_timedwait(&b->cond, &b->lock, &dl);
		pthread_mutex_unlock(&b->lock);
		return 0;
	}
	pthread_mutex_unlock(&b->lock);
	if (rewind) {
		rewind_queue(b);
		return 0;
	}
	if (roff >= rlen) {
		if (poll(&p, 1, timeout_ms) <= 0)
			return 0;
		if (rbuf_fit(b, false))
			return -ENOMEM;
		n = read(b->ing_fd, rbuf, rcap);
		if (n < 0 && errno == EINVAL)
			return rbuf_fit(b, true);	/* read again, into more room */
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		rlen = n;
		roff = 0;
	}
	/* publish what was read, as far as the window allows */
	while (roff + (ssize_t)sizeof(struct push_record) <= rlen) {
		const struct push_record *r = (const void *)(rbuf + roff);
		bool skip, full;

		if (r->size < sizeof(*r) || roff + r->size > rlen) {
			roff = rlen;	/* not a whole record: the kernel never does this */
			break;
		}
		pthread_mutex_lock(&b->lock);
		full = window_full(b) || b->rewind;
		if (!full && r->type == PUSH_REC_MSG) {
			if (r->id > b->read_upto)
				b->read_upto = r->id;
			skip = r->id <= b->acked;
		} else {
			skip = true;
		}
		pthread_mutex_unlock(&b->lock);
		if (full)
			break;
		roff += r->size;
		if (!skip && publish(b, r))
			break;
	}
	pthread_mutex_lock(&b->lock);
	kernel_ack(b);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

/* At exit: wait up to wait_ms for the PubAcks of what is in flight, so
 * that the next bridge re-forwards as little as possible. */
void bridge_forward_drain(struct bridge *b, int64_t wait_ms)
{
	jsPubOptions po;

	if (!b->js)
		return;
	jsPubOptions_Init(&po);
	po.MaxWait = wait_ms;
	js_PublishAsyncComplete(b->js, &po);
	pthread_mutex_lock(&b->lock);
	kernel_ack(b);
	pthread_mutex_unlock(&b->lock);
}
