/* SPDX-License-Identifier: GPL-2.0 */
/*
 * replay.h - between hub.c and replay.c (the resumes): what each needs of
 * the other.  Not for use outside core/.
 */
#ifndef PUSHD_REPLAY_H
#define PUSHD_REPLAY_H

#include <pthread.h>
#include <stdint.h>

#include "core/client.h"
#include "core/recent.h"

/* hub.c: the hub lock, its last id and recent record (lock held), the history reader. */
pthread_mutex_t *hub_mutex(void);
uint64_t hub_last_locked(void);
struct recent *hub_recent(void);
int hub_histfd(void);

/* hub.c: puts @c on req's channels and in the hub's lists (lock held). */
int hub_register(struct client *c, const struct sub_request *req);

/* replay.c: takes @c off the replay, waiting for a step under way (lock held). */
void replay_forget(struct client *c);

/* replay.c: the replay thread. */
int replay_start(void);
void replay_stop(void);

#endif
