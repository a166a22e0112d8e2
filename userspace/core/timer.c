// SPDX-License-Identifier: GPL-2.0
/*
 * timer.c - the hashed timer wheel of timer.h.  Invariant: a timer in a
 * slot is due at a second in (now, now + nslots), so the slot of second s
 * holds only timers due at s when the clock reaches it; a timer in the
 * overflow list is due at now + nslots or later as of its arming, and is
 * moved into its slot at the first multiple of nslots after which it is
 * within reach.
 */
#include <errno.h>
#include <stdlib.h>

#include "core/timer.h"

static void timer_unlink(struct timer *t);

int timer_wheel_init(struct timer_wheel *w, uint32_t nslots, uint64_t now)
{
	if (nslots < 2)
		nslots = 2;
	w->slot = calloc(nslots, sizeof(*w->slot));
	if (!w->slot)
		return -ENOMEM;
	w->far = NULL;
	w->nslots = nslots;
	w->now = now;
	w->armed = 0;
	return 0;
}

/* Forgets every timer still armed first: disarming one later is a no-op. */
void timer_wheel_free(struct timer_wheel *w)
{
	for (uint32_t i = 0; i <= w->nslots; i++) {
		struct timer **head = i < w->nslots ? &w->slot[i] : &w->far;

		while (*head)
			timer_unlink(*head);
	}
	free(w->slot);
	w->slot = NULL;
	w->nslots = 0;
	w->armed = 0;
}

static void timer_link(struct timer **head, struct timer *t)
{
	t->next = *head;
	if (t->next)
		t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
}

static void timer_unlink(struct timer *t)
{
	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
}

/* Files @t (not armed) in its slot, or the overflow list if out of reach. */
static void timer_file(struct timer_wheel *w, struct timer *t)
{
	if (t->when - w->now < w->nslots)
		timer_link(&w->slot[t->when % w->nslots], t);
	else
		timer_link(&w->far, t);
}

void timer_arm(struct timer_wheel *w, struct timer *t, uint64_t when)
{
	if (!w->slot)
		return;	/* freed: nothing runs any more */
	if (timer_armed(t)) {
		timer_unlink(t);
		w->armed--;
	}
	t->when = when > w->now ? when : w->now + 1;
	timer_file(w, t);
	w->armed++;
}

void timer_disarm(struct timer_wheel *w, struct timer *t)
{
	if (!timer_armed(t))
		return;
	timer_unlink(t);
	w->armed--;
}

/* Once per turn of the wheel: the far timers now within reach go to their slots. */
static void timer_refile(struct timer_wheel *w)
{
	struct timer *t = w->far;

	while (t) {
		struct timer *next = t->next;

		if (t->when - w->now < w->nslots) {
			timer_unlink(t);
			timer_file(w, t);
		}
		t = next;
	}
}

unsigned int timer_advance(struct timer_wheel *w, uint64_t now,
			   void (*fn)(struct timer *t, void *arg), void *arg)
{
	unsigned int called = 0;

	while (w->now < now) {
		struct timer **head;

		if (!w->armed) {
			w->now = now;	/* nothing to call on the way */
			break;
		}
		w->now++;
		if (w->now % w->nslots == 0)
			timer_refile(w);
		/*
		 * Take one at a time: @fn may disarm the next one.  What it arms
		 * lands in another slot (due within nslots - 1) or the overflow
		 * list, never back in this one.
		 */
		head = &w->slot[w->now % w->nslots];
		while (*head) {
			struct timer *t = *head;

			timer_unlink(t);
			w->armed--;
			called++;
			fn(t, arg);
		}
	}
	return called;
}
