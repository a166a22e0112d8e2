// SPDX-License-Identifier: GPL-2.0
/*
 * The stream: looked up, or created by the first bridge to come up
 * (subjects PREFIX>, file storage, the duplicate window set explicitly),
 * and the device's epoch derived from its identity, so that ids are
 * comparable on every node and across module loads (docs/CLUSTER.md,
 * "Epoch").
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

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
	sc.Storage = js_FileStorage;
	sc.Replicas = b->o.replicas;
	sc.Duplicates = b->o.dup_window_ns;
	sc.MaxAge = b->o.max_age_ns;
	sc.MaxBytes = b->o.max_bytes;
	return js_AddStream(si, b->js, &sc, NULL, jerr);
}

int bridge_stream_setup(struct bridge *b)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s;
	uint64_t epoch;
	struct push_info info;
	int err = 0;

	s = js_GetStreamInfo(&si, b->js, b->o.stream, NULL, &jerr);
	if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
		jerr = 0;
		s = add_stream(b, &si, &jerr);
		if (s == NATS_OK)
			bridge_log(b, "created stream %s (subjects %s>, replicas %d, duplicate window %llds)",
				   b->o.stream, b->o.prefix, b->o.replicas,
				   (long long)(b->o.dup_window_ns / 1000000000));
		else if (jerr == JSStreamNameExistErr) /* another bridge was first */
			s = js_GetStreamInfo(&si, b->js, b->o.stream, NULL, &jerr);
	}
	if (s != NATS_OK) {
		bridge_log(b, "stream %s: %s (JetStream error %d); retrying",
			   b->o.stream, bridge_nats_err(s), (int)jerr);
		return -EAGAIN;
	}
	if (si->Config->Duplicates != b->o.dup_window_ns)
		bridge_log(b, "stream %s has a duplicate window of %llds, not the %llds asked for: keeping the stream's",
			   b->o.stream, (long long)(si->Config->Duplicates / 1000000000),
			   (long long)(b->o.dup_window_ns / 1000000000));
	epoch = bridge_epoch_of(b->o.stream, si->Created);
	atomic_store(&b->st.stream_seq, si->State.LastSeq);
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
		bridge_log(b, "stream %s: created %lld, last seq %llu, first seq %llu; device epoch %llu",
			   b->o.stream, (long long)si->Created,
			   (unsigned long long)si->State.LastSeq,
			   (unsigned long long)si->State.FirstSeq,
			   (unsigned long long)epoch);
	jsStreamInfo_Destroy(si);
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
