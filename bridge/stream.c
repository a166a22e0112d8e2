// SPDX-License-Identifier: GPL-2.0
/*
 * The stream: looked up, or created by the first bridge to come up
 * (subjects PREFIX>, file storage, the duplicate window set explicitly),
 * and the device's epoch taken from it, so that ids are comparable on
 * every node and across module loads (docs/CLUSTER.md, "Epoch").
 *
 * The epoch is decided by a record in the stream: the first message on
 * subject PREFIX_cluster, "push epoch <16 hex>", published with
 * Nats-Expected-Last-Subject-Sequence: 0, so JetStream stores one and
 * refuses every other (wrong last sequence) however the bridges race;
 * the losers read the winner's back.  Not the stream's description, which
 * the epoch used to live in: nats-server 2.9 lets creates that race all
 * succeed, the last one's configuration replacing the first's, so two
 * bridges read two descriptions (seen on the host: 2 of 15 three-way
 * races).  The creates now carry no epoch, so their configurations are
 * the same.  The record takes a stream seq, so an id on every device: a
 * message on channel _cluster.  Once decided the epoch is also written
 * into the description, for when retention has dropped the record; a
 * deleted and recreated stream starts without either: a new epoch.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include <sys/random.h>

#include <nettle/sha2.h>

#include "bridge.h"

#include <linux/push.h>

/* The first 8 bytes of SHA-256("NAME\nCREATED_NS"), little-endian; never 0. */
uint64_t bridge_epoch_of(const char *name, int64_t created_ns)
{
	struct sha256_ctx c;
	uint8_t d[SHA256_DIGEST_SIZE];
	char buf[320];
	uint64_t e = 0;
	int n, i;

	n = snprintf(buf, sizeof(buf), "%s\n%lld", name, (long long)created_ns);
	sha256_init(&c);
	sha256_update(&c, (size_t)n, (const uint8_t *)buf);
	sha256_digest(&c, sizeof(d), d);
	for (i = 7; i >= 0; i--)
		e = e << 8 | d[i];
	return e ? e : 1;
}

#define EPOCH_FMT "push epoch %016" PRIx64
#define EPOCH_CHAN "_cluster"

/* The epoch in "push epoch <16 hex>", or 0. */
static uint64_t epoch_parse(const char *p, int len)
{
	char buf[64];
	uint64_t e;

	if (!p || len <= 0 || len >= (int)sizeof(buf))
		return 0;
	memcpy(buf, p, (size_t)len);
	buf[len] = '\0';
	if (sscanf(buf, "push epoch %16" SCNx64, &e) != 1)
		return 0;
	return e;
}

static uint64_t epoch_in(const jsStreamConfig *c)
{
	return c->Description ? epoch_parse(c->Description, (int)strlen(c->Description)) : 0;
}

static natsStatus add_stream(struct bridge *b, jsStreamInfo **si, jsErrCode *jerr)
{
	jsStreamConfig sc;
	char subj[256];
	const char *subjects[1] = { subj };

	snprintf(subj, sizeof(subj), "%s>", b->o.prefix);
	jsStreamConfig_Init(&sc);
	sc.Name = b->o.stream;
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = b->o.memory ? js_MemoryStorage : js_FileStorage;
	sc.Replicas = b->o.replicas;
	sc.Duplicates = b->o.dup_window_ns;
	sc.MaxAge = b->o.max_age_ns;
	sc.MaxBytes = b->o.max_bytes;
	return js_AddStream(si, b->js, &sc, NULL, jerr);
}

/* The stream's info, the stream created first if there is none. */
static natsStatus find_stream(struct bridge *b, jsStreamInfo **si, jsErrCode *jerr)
{
	natsStatus s;

	s = js_GetStreamInfo(si, b->js, b->o.stream, NULL, jerr);
	if (s != NATS_NOT_FOUND && *jerr != JSStreamNotFoundErr)
		return s;
	*jerr = 0;
	s = add_stream(b, si, jerr);
	if (s == NATS_OK)
		bridge_log(b, "created stream %s (subjects %s>, replicas %d, duplicate window %llds)",
			   b->o.stream, b->o.prefix, b->o.replicas,
			   (long long)(b->o.dup_window_ns / 1000000000));
	if (s == NATS_OK || *jerr == JSStreamNameExistErr) {
		/* read it back: another bridge may have created it at once */
		jsStreamInfo_Destroy(*si);
		*si = NULL;
		*jerr = 0;
		s = js_GetStreamInfo(si, b->js, b->o.stream, NULL, jerr);
	}
	return s;
}

/* The epoch record's epoch into *e (0: there is none); -1 on an error. */
static int epoch_record(struct bridge *b, const char *subj, uint64_t *e)
{
	natsMsg *m = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	*e = 0;
	s = js_GetLastMsg(&m, b->js, b->o.stream, subj, NULL, &jerr);
	if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr)
		return 0;
	if (s != NATS_OK) {
		bridge_log(b, "stream %s: reading %s: %s (JetStream error %d)", b->o.stream, subj,
			   bridge_nats_err(s), (int)jerr);
		return -1;
	}
	*e = epoch_parse(natsMsg_GetData(m), natsMsg_GetDataLength(m));
	natsMsg_Destroy(m);
	if (!*e) {
		bridge_log(b, "stream %s: %s holds no epoch a bridge wrote", b->o.stream, subj);
		return -1;
	}
	return 0;
}

/* Publish a fresh epoch unless SUBJ holds a message: 1 stored, 0 refused
 * (another bridge's came first), -1 on an error. */
static int epoch_propose(struct bridge *b, const char *subj)
{
	natsMsg *m = NULL;
	jsPubAck *pa = NULL;
	jsErrCode jerr = 0;
	char data[64];
	uint64_t e = 0;
	natsStatus s;

	if (getrandom(&e, sizeof(e), 0) != sizeof(e) || !e)
		e = bridge_epoch_of(b->o.stream, (int64_t)time(NULL));
	snprintf(data, sizeof(data), EPOCH_FMT, e);
	s = natsMsg_Create(&m, subj, NULL, data, (int)strlen(data));
	/* jsPubOptions cannot say 0 (it means "no expectation"): the header itself */
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Nats-Expected-Last-Subject-Sequence", "0");
	if (s == NATS_OK)
		s = js_PublishMsg(&pa, b->js, m, NULL, &jerr);
	natsMsg_Destroy(m);
	if (s == NATS_OK) {
		bridge_log(b, "stream %s: epoch %" PRIu64 " proposed and stored (seq %" PRIu64 ")",
			   b->o.stream, e, pa->Sequence);
		jsPubAck_Destroy(pa);
		return 1;
	}
	if (jerr == JSStreamWrongLastSequenceErr)
		return 0;
	bridge_log(b, "stream %s: proposing an epoch: %s (JetStream error %d)", b->o.stream,
		   bridge_nats_err(s), (int)jerr);
	return -1;
}

int bridge_stream_epoch(struct bridge *b, uint64_t *epoch)
{
	jsStreamInfo *si = NULL, *up = NULL;
	jsErrCode jerr = 0;
	natsStatus s;
	char subj[256], desc[64];
	uint64_t e = 0;
	int tries;

	s = find_stream(b, &si, &jerr);
	if (s != NATS_OK) {
		bridge_log(b, "stream %s: %s (JetStream error %d); retrying",
			   b->o.stream, bridge_nats_err(s), (int)jerr);
		jsStreamInfo_Destroy(si);
		return -EAGAIN;
	}
	if (si->Config->Duplicates != b->o.dup_window_ns)
		bridge_log(b, "stream %s has a duplicate window of %llds, not the %llds asked for: keeping the stream's",
			   b->o.stream, (long long)(si->Config->Duplicates / 1000000000),
			   (long long)(b->o.dup_window_ns / 1000000000));
	snprintf(subj, sizeof(subj), "%s" EPOCH_CHAN, b->o.prefix);
	/* the record; else the description (retention dropped the record); else propose one */
	for (tries = 0; tries < 3 && !e; tries++) {
		if (epoch_record(b, subj, &e))
			break;
		if (!e && epoch_in(si->Config)) {
			e = epoch_in(si->Config);
			break;
		}
		/* stored or refused: the next pass reads back what JetStream kept */
		if (!e && epoch_propose(b, subj) < 0)
			break;
	}
	if (!e) {
		bridge_log(b, "stream %s: no epoch decided; retrying", b->o.stream);
		jsStreamInfo_Destroy(si);
		return -EAGAIN;
	}
	*epoch = e;
	if (epoch_in(si->Config) != *epoch) {
		jsStreamConfig sc = *si->Config;

		snprintf(desc, sizeof(desc), EPOCH_FMT, *epoch);
		sc.Description = desc;
		jerr = 0;
		s = js_UpdateStream(&up, b->js, &sc, NULL, &jerr);
		jsStreamInfo_Destroy(up);
		/* not fatal: the record holds the epoch; the next bridge tries again */
		if (s != NATS_OK)
			bridge_log(b, "stream %s: writing its epoch into its description: %s (JetStream error %d)",
				   b->o.stream, bridge_nats_err(s), (int)jerr);
	}
	atomic_store(&b->st.stream_seq, si->State.LastSeq);
	bridge_log(b, "stream %s: created %lld, last seq %llu, first seq %llu; epoch %llu",
		   b->o.stream, (long long)si->Created,
		   (unsigned long long)si->State.LastSeq,
		   (unsigned long long)si->State.FirstSeq,
		   (unsigned long long)*epoch);
	jsStreamInfo_Destroy(si);
	return 0;
}

int bridge_stream_setup(struct bridge *b)
{
	struct push_info info;
	uint64_t epoch = 0;
	int err;

	err = bridge_stream_epoch(b, &epoch);
	if (err)
		return err;
	pthread_mutex_lock(&b->fd_lock);
	if (ioctl(b->ing_fd, PUSH_IOC_SET_EPOCH, &epoch)) {
		err = -errno;
		memset(&info, 0, sizeof(info));
		ioctl(b->ing_fd, PUSH_IOC_INFO, &info);
		bridge_log(b, "%s: cannot take the stream's epoch %llu (the device's is %llu, next id %llu): %s; "
			   "its ids are not the stream's: reload the module (or use a device no one published on)",
			   b->o.device, (unsigned long long)epoch,
			   (unsigned long long)info.epoch,
			   (unsigned long long)info.next_id, strerror(-err));
	}
	pthread_mutex_unlock(&b->fd_lock);
	if (!err)
		bridge_log(b, "device epoch %llu", (unsigned long long)epoch);
	return err;
}

uint64_t bridge_stream_last_seq(struct bridge *b, uint64_t *first_seq)
{
	jsStreamInfo *si = NULL;
	jsOptions jo;
	uint64_t last = 0;

	jsOptions_Init(&jo);
	jo.Wait = 2000;
	if (js_GetStreamInfo(&si, b->js, b->o.stream, &jo, NULL) == NATS_OK) {
		last = si->State.LastSeq;
		if (first_seq)
			*first_seq = si->State.FirstSeq;
		jsStreamInfo_Destroy(si);
	}
	return last;
}
