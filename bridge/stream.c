// SPDX-License-Identifier: GPL-2.0
/*
 * The stream: looked up, or created by the first bridge to come up
 * (subjects PREFIX>, file storage, the duplicate window set explicitly),
 * and the device's epoch taken from it, so that ids are comparable on
 * every node and across module loads (docs/CLUSTER.md, "Epoch").
 *
 * The epoch lives in the stream's description, "push epoch <16 hex>",
 * random at creation: part of the stream's replicated configuration, so
 * every server gives the same one, across restarts.  (Not its creation
 * time: nats-server 2.9 reports another one for a clustered stream after
 * its servers restart, seen in test_cluster_faults.)  A stream created by
 * someone else gets one, hashed from its name and creation time, by
 * js_UpdateStream.
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

/* The epoch in a stream's description, or 0. */
static uint64_t epoch_in(const jsStreamConfig *c)
{
	uint64_t e;

	if (!c->Description || sscanf(c->Description, "push epoch %16" SCNx64, &e) != 1)
		return 0;
	return e;
}

static natsStatus add_stream(struct bridge *b, jsStreamInfo **si, jsErrCode *jerr)
{
	jsStreamConfig sc;
	char subj[256], desc[64];
	const char *subjects[1] = { subj };
	uint64_t e = 0;

	if (getrandom(&e, sizeof(e), 0) != sizeof(e) || !e)
		e = bridge_epoch_of(b->o.stream, (int64_t)time(NULL));
	snprintf(desc, sizeof(desc), EPOCH_FMT, e);

	snprintf(subj, sizeof(subj), "%s>", b->o.prefix);
	jsStreamConfig_Init(&sc);
	sc.Name = b->o.stream;
	sc.Description = desc;
	sc.Subjects = subjects;
	sc.SubjectsLen = 1;
	sc.Storage = b->o.memory ? js_MemoryStorage : js_FileStorage;
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
		/*
		 * Read it back either way: when bridges create it at once, the
		 * answer to a create can carry another creation time than the
		 * stream keeps (seen with three bridges on an R3 stream: two
		 * epochs), and another bridge may have been first.
		 */
		if (s == NATS_OK || jerr == JSStreamNameExistErr) {
			jsStreamInfo_Destroy(si);
			si = NULL;
			s = js_GetStreamInfo(&si, b->js, b->o.stream, NULL, &jerr);
		}
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
	epoch = epoch_in(si->Config);
	if (!epoch) {
		/* not created by a bridge: give it one, for every bridge to find */
		jsStreamConfig sc = *si->Config;
		jsStreamInfo *up = NULL;
		char desc[64];

		epoch = bridge_epoch_of(b->o.stream, si->Created);
		snprintf(desc, sizeof(desc), EPOCH_FMT, epoch);
		sc.Description = desc;
		s = js_UpdateStream(&up, b->js, &sc, NULL, &jerr);
		jsStreamInfo_Destroy(up);
		if (s != NATS_OK) {
			bridge_log(b, "stream %s: setting its epoch: %s (JetStream error %d); retrying",
				   b->o.stream, bridge_nats_err(s), (int)jerr);
			jsStreamInfo_Destroy(si);
			return -EAGAIN;
		}
		bridge_log(b, "stream %s had no epoch: gave it %" PRIu64, b->o.stream, epoch);
	}
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
