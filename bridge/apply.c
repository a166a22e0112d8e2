// SPDX-License-Identifier: GPL-2.0
/*
 * Apply: the stream into the device, in stream order, under the stream's
 * sequence numbers.
 *
 * An ordered consumer (ephemeral, flow control and heartbeats; libnats
 * recreates it after a missed heartbeat or a sequence gap) starts at the
 * seq after the device's last id; its callback writes each message with
 * PUSH_IOC_PUBLISH_ID, id = stream seq, time_ns = the stream's timestamp.
 * A seq at or below the device's last id was applied already (a delivery
 * after a resubscribe) and is skipped.  A seq past the next one is applied
 * (the device flushes and readers get one gap) only if the stream no
 * longer holds the seqs between (jump_ok, read from the stream when
 * subscribing); otherwise the stream is asked (stream info with its list
 * of deleted seqs): seqs deleted from the middle of the stream (js_DeleteMsg,
 * a purge of one subject) each take their id as a placeholder on channel
 * "_cluster", so the device's ids stay the stream's and nothing flushes;
 * seqs the stream dropped from its start since are a jump as above; any
 * other missing seq was missed by the consumer, which is replaced.
 * A message the device refuses (a subject that is no channel of ours,
 * published by someone else on the stream; a payload over this node's
 * max_msg_size; too many channels) still takes its id, as a placeholder
 * on channel "_cluster", so that ids stay contiguous and nothing flushes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "bridge.h"

#include <linux/push.h>

#define PLACEHOLDER_CHAN	"_cluster"

static int publish_id(struct bridge *b, const char *chan, const void *data,
		      size_t len, uint64_t id, int64_t time_ns)
{
	struct push_publish p;

	memset(&p, 0, sizeof(p));
	p.data = (uintptr_t)data;
	p.data_len = (uint32_t)len;
	p.chan_len = (uint32_t)strlen(chan);
	memcpy(p.channel, chan, p.chan_len);
	p.id = id;
	p.time_ns = time_ns > 0 ? (uint64_t)time_ns : 0;
	return ioctl(b->ing_fd, PUSH_IOC_PUBLISH_ID, &p) ? -errno : 0;
}

/*
 * The seqs from..to that the consumer did not deliver, by the stream's
 * info with its deleted list (bridge_gap_kind).  A request to NATS, from
 * the consumer's callback: only when a delivery skips seqs, which is rare.
 * Unknown (no answer) counts as missed: the consumer is replaced.
 */
static int gap_kind(struct bridge *b, uint64_t from, uint64_t to)
{
	jsStreamInfo *si = NULL;
	jsOptions jo;
	int kind;

	jsOptions_Init(&jo);
	jo.Wait = 2000;
	jo.Stream.Info.DeletedDetails = true;
	if (js_GetStreamInfo(&si, b->js, b->o.stream, &jo, NULL) != NATS_OK)
		return BRIDGE_GAP_MISSED;
	kind = bridge_gap_kind(si->State.FirstSeq, si->State.Deleted, si->State.DeletedLen, from, to);
	jsStreamInfo_Destroy(si);
	return kind;
}

/* Placeholders for the deleted seqs after applied_id, below seq; b->fd_lock
 * held.  Nonzero (and a new consumer) if the device refused one. */
static int placeholders(struct bridge *b, uint64_t seq, int64_t ts)
{
	char why[96];
	uint64_t q;
	int err;

	bridge_log(b, "apply: ids %" PRIu64 "..%" PRIu64 " were deleted from the stream: placeholders on %s",
		   b->applied_id + 1, seq - 1, PLACEHOLDER_CHAN);
	for (q = b->applied_id + 1; q < seq; q++) {
		snprintf(why, sizeof(why), "seq %" PRIu64 ": deleted from the stream", q);
		err = publish_id(b, PLACEHOLDER_CHAN, why, strlen(why), q, ts);
		if (err) {
			bridge_log(b, "apply: PUSH_IOC_PUBLISH_ID %" PRIu64 ": %s; new consumer",
				   q, strerror(-err));
			atomic_store(&b->resubscribe, true);
			return err;
		}
		b->applied_id = q;
		atomic_fetch_add(&b->st.deleted, 1);
	}
	return 0;
}

/* Apply one stream message; b->fd_lock held. */
static void apply(struct bridge *b, natsMsg *msg, uint64_t seq, int64_t ts)
{
	char chan[PUSH_CHANNEL_MAX + 1], why[160];
	const char *data = natsMsg_GetData(msg);
	int len = natsMsg_GetDataLength(msg), err;

	if (seq <= b->applied_id) {
		atomic_fetch_add(&b->st.skipped, 1);
		return;
	}
	if (seq > b->applied_id + 1 && seq > b->jump_ok) {
		int kind;

		if (atomic_load(&b->resubscribe))
			return;	/* this consumer is being replaced: no more requests */
		kind = gap_kind(b, b->applied_id + 1, seq - 1);
		if (kind == BRIDGE_GAP_MISSED) {
			if (!atomic_exchange(&b->resubscribe, true))
				bridge_log(b, "apply: the consumer delivered seq %" PRIu64 " after %" PRIu64
					   " and the stream still holds those between: new consumer",
					   seq, b->applied_id);
			return;
		}
		if (kind == BRIDGE_GAP_DELETED && placeholders(b, seq, ts))
			return;
	}
	if (bridge_channel_of(b->o.prefix, natsMsg_GetSubject(msg), chan, sizeof(chan)) < 0) {
		snprintf(why, sizeof(why), "seq %" PRIu64 ": subject %.80s is not a channel", seq,
			 natsMsg_GetSubject(msg));
		err = -EINVAL;
	} else {
		err = len > 0 ? publish_id(b, chan, data, (size_t)len, seq, ts) : -EINVAL;
		snprintf(why, sizeof(why), "seq %" PRIu64 ": the device refused it: %s", seq,
			 strerror(-err));
	}
	if (err == -EINVAL || err == -EMSGSIZE || err == -ENOSPC) {
		struct push_info info;

		memset(&info, 0, sizeof(info));
		if (!ioctl(b->ing_fd, PUSH_IOC_INFO, &info) && info.next_id > seq) {
			b->applied_id = info.next_id - 1; /* someone else applied it */
			return;
		}
		bridge_log(b, "apply: %s; placeholder on %s", why, PLACEHOLDER_CHAN);
		atomic_fetch_add(&b->st.invalid, 1);
		err = publish_id(b, PLACEHOLDER_CHAN, why, strlen(why), seq, ts);
	}
	if (err) {
		bridge_log(b, "apply: PUSH_IOC_PUBLISH_ID %" PRIu64 ": %s; new consumer",
			   seq, strerror(-err));
		atomic_store(&b->resubscribe, true);
		return;
	}
	if (seq > b->applied_id + 1) {
		atomic_fetch_add(&b->st.jumps, 1);
		bridge_log(b, "apply: ids %" PRIu64 "..%" PRIu64 " are gone from the stream (retention): the device skips to %" PRIu64,
			   b->applied_id + 1, seq - 1, seq);
	}
	b->applied_id = seq;
	atomic_fetch_add(&b->st.applied, 1);
}

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
		   void *closure)
{
	struct bridge *b = closure;
	jsMsgMetaData *meta = NULL;

	(void)nc;
	(void)sub;
	if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
		pthread_mutex_lock(&b->fd_lock);
		apply(b, msg, meta->Sequence.Stream, meta->Timestamp);
		pthread_mutex_unlock(&b->fd_lock);
		jsMsgMetaData_Destroy(meta);
	}
	natsMsg_Destroy(msg);
}

int bridge_apply_subscribe(struct bridge *b)
{
	struct push_info info;
	jsSubOptions so;
	jsErrCode jerr = 0;
	uint64_t first = 0, last;
	char subj[256];
	natsStatus s;

	last = bridge_stream_last_seq(b, &first);
	pthread_mutex_lock(&b->fd_lock);
	memset(&info, 0, sizeof(info));
	if (ioctl(b->ing_fd, PUSH_IOC_INFO, &info)) {
		pthread_mutex_unlock(&b->fd_lock);
		return -errno;
	}
	b->applied_id = info.next_id - 1;
	b->jump_ok = first > info.next_id ? first : 0;
	pthread_mutex_unlock(&b->fd_lock);
	if (last && last < b->applied_id)
		bridge_log(b, "apply: the stream ends at seq %" PRIu64 ", before the device's id %" PRIu64
			   ": was it recreated? (nothing up to that id will be applied)",
			   last, b->applied_id);
	snprintf(subj, sizeof(subj), "%s>", b->o.prefix);
	jsSubOptions_Init(&so);
	so.Stream = b->o.stream;
	so.Ordered = true;
	so.Config.DeliverPolicy = js_DeliverByStartSequence;
	so.Config.OptStartSeq = b->applied_id + 1;
	s = js_Subscribe(&b->sub, b->js, subj, on_msg, b, NULL, &so, &jerr);
	if (s != NATS_OK) {
		bridge_log(b, "apply: ordered consumer from seq %" PRIu64 ": %s (JetStream error %d); retrying",
			   b->applied_id + 1, bridge_nats_err(s), (int)jerr);
		b->sub = NULL;
		return -EAGAIN;
	}
	natsSubscription_SetPendingLimits(b->sub, 1 << 20, 256 << 20);
	atomic_store(&b->resubscribe, false);
	bridge_log(b, "apply: ordered consumer from seq %" PRIu64 " (stream seqs %" PRIu64 "..%" PRIu64 ")",
		   b->applied_id + 1, first, last);
	return 0;
}

void bridge_apply_unsubscribe(struct bridge *b)
{
	if (!b->sub)
		return;
	natsSubscription_Unsubscribe(b->sub);
	natsSubscription_Destroy(b->sub);
	b->sub = NULL;
}
