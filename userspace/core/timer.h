/* SPDX-License-Identifier: GPL-2.0 */
/*
 * timer.h - a hashed timer wheel of 1 s slots, for the clients' deadlines
 * (heartbeat due, long-poll timeout, pong deadline, token expiry).
 *
 * A wheel of N slots holds in slot (when % N) the timers due at a second
 * within N - 1 of its clock; timers further out wait in one overflow list,
 * refiled once every N seconds.  Arming, re-arming and disarming are O(1);
 * timer_advance() touches only the timers due (and, once per N seconds,
 * the overflow list), never the idle ones.  Size N from the longest
 * interval armed often, so that the overflow list holds only the rare far
 * deadline (a token expiring in hours).
 *
 * No lock of its own: the caller serialises every call (pushd: the hub
 * lock).  Pure: no clock, no I/O; seconds are whatever the caller counts.
 */
#ifndef PUSHD_TIMER_H
#define PUSHD_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct timer {
	struct timer *next, **pprev;	/* pprev NULL: not armed */
	uint64_t when;			/* the second it is due at */
};

struct timer_wheel {
	struct timer **slot;		/* nslots lists */
	struct timer *far;		/* due at now + nslots or later */
	uint32_t nslots;
	uint64_t now;			/* the last second advanced to */
	uint64_t armed;			/* timers armed, for tests and /stats */
};

/* Sets up a wheel of @nslots (>= 2) slots whose clock reads @now; 0 or -ENOMEM. */
int timer_wheel_init(struct timer_wheel *w, uint32_t nslots, uint64_t now);

/*
 * Frees the slots.  Timers still armed are disarmed, and arming one on the
 * freed wheel does nothing: a client going after the hub stopped is safe.
 */
void timer_wheel_free(struct timer_wheel *w);

/* A timer never armed (a zeroed one is too). */
static inline void timer_init(struct timer *t)
{
	t->next = NULL;
	t->pprev = NULL;
	t->when = 0;
}

static inline bool timer_armed(const struct timer *t)
{
	return t->pprev != NULL;
}

/*
 * Arms @t (disarming it first if armed) to be due at second @when; a
 * @when already passed (<= w->now) makes it due at the next second.
 */
void timer_arm(struct timer_wheel *w, struct timer *t, uint64_t when);

/* Disarms @t; a no-op if it is not armed. */
void timer_disarm(struct timer_wheel *w, struct timer *t);

/*
 * Moves the clock to @now (a second before the clock: nothing happens),
 * calling @fn(t, arg) for each timer due on the way, in order of second,
 * each disarmed before its call.  @fn may re-arm @t, arm or disarm any
 * other timer, or free @t's owner once it disarmed (it is).  Returns how
 * many timers were called.
 */
unsigned int timer_advance(struct timer_wheel *w, uint64_t now,
			   void (*fn)(struct timer *t, void *arg), void *arg);

#endif
