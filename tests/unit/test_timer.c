// SPDX-License-Identifier: GPL-2.0
/*
 * test_timer.c - the hashed timer wheel (userspace/core/timer.c): a timer
 * fires at the second it was armed for, once, and not before; re-arming
 * moves it, disarming cancels it; the clock wraps round the wheel many
 * times; many timers share a slot; timers further out than the wheel's
 * span wait in the overflow list and still fire on time; a callback may
 * re-arm its timer and disarm (and free) another due at the same second;
 * the walk calls only the due timers.  TAP output; exit 1 on any failure.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timer.h"

#include "tap.h"

#define N_SLOTS	16

struct ent {
	struct timer t;
	int id;
	uint64_t fired_at;	/* second of the last call, 0: never */
	int calls;
	uint64_t rearm_every;	/* re-arm from the callback, 0: no */
	struct ent *victim;	/* disarm and free this one from the callback */
};

static uint64_t clock_now;

static void on_due(struct timer *t, void *arg)
{
	struct ent *e = (struct ent *)((char *)t - offsetof(struct ent, t));
	struct timer_wheel *w = arg;

	e->fired_at = clock_now;
	e->calls++;
	if (e->rearm_every)
		timer_arm(w, &e->t, clock_now + e->rearm_every);
	if (e->victim) {
		timer_disarm(w, &e->victim->t);
		free(e->victim);
		e->victim = NULL;
	}
}

/* Advances one second at a time to @to, as the hub's tick does; returns the calls. */
static unsigned int run_to(struct timer_wheel *w, uint64_t to)
{
	unsigned int n = 0;

	while (clock_now < to) {
		clock_now++;
		n += timer_advance(w, clock_now, on_due, w);
	}
	return n;
}

int main(void)
{
	struct timer_wheel w;
	struct ent a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 };

	clock_now = 1000;
	CHECK(timer_wheel_init(&w, N_SLOTS, clock_now) == 0, "a wheel of %d slots", N_SLOTS);

	/* arm: fires at its second, not before, once */
	timer_arm(&w, &a.t, 1005);
	CHECK(timer_armed(&a.t) && w.armed == 1, "armed");
	CHECK(run_to(&w, 1004) == 0 && a.calls == 0, "nothing before its second");
	CHECK(run_to(&w, 1005) == 1 && a.fired_at == 1005, "fires at 1005 (at %llu)",
	      (unsigned long long)a.fired_at);
	CHECK(!timer_armed(&a.t) && w.armed == 0, "disarmed once called");
	CHECK(run_to(&w, 1005 + 3 * N_SLOTS) == 0 && a.calls == 1, "fires once, not again a turn later");

	/* re-arm: moves it, earlier or later, in another slot or the same */
	uint64_t now = clock_now;
	timer_arm(&w, &a.t, now + 10);
	timer_arm(&w, &a.t, now + 3);
	CHECK(w.armed == 1, "re-arming an armed timer keeps one entry");
	CHECK(run_to(&w, now + 3) == 1 && a.fired_at == now + 3, "re-armed earlier: fires at +3");
	timer_arm(&w, &a.t, now + 5);
	timer_arm(&w, &a.t, now + 12);
	CHECK(run_to(&w, now + 11) == 0, "re-armed later: not at the old second");
	CHECK(run_to(&w, now + 12) == 1 && a.fired_at == now + 12, "re-armed later: fires at +12");

	/* a second already passed: due at the next one */
	timer_arm(&w, &a.t, clock_now - 5);
	CHECK(run_to(&w, clock_now + 1) == 1 && a.fired_at == clock_now, "a past second fires at the next tick");

	/* cancel */
	now = clock_now;
	timer_arm(&w, &a.t, now + 2);
	timer_arm(&w, &b.t, now + 2);
	timer_disarm(&w, &a.t);
	timer_disarm(&w, &a.t);	/* twice: a no-op */
	CHECK(!timer_armed(&a.t) && w.armed == 1, "disarmed, idempotent");
	a.calls = b.calls = 0;
	CHECK(run_to(&w, now + 2 + N_SLOTS) == 1 && a.calls == 0 && b.calls == 1,
	      "a cancelled timer never fires; its slot-mate does");

	/* wrap-around: a periodic timer, re-armed from its callback, over many turns */
	now = clock_now;
	a.calls = 0;
	a.rearm_every = 7;
	timer_arm(&w, &a.t, now + 7);
	run_to(&w, now + 7 * 100);
	CHECK(a.calls == 100 && a.fired_at == now + 700, "re-armed every 7 s across %d turns: %d calls",
	      700 / N_SLOTS, a.calls);
	a.rearm_every = 0;
	timer_disarm(&w, &a.t);

	/* many per slot, including the same slot a turn apart (due at +3 and +3+N is far) */
	enum { MANY = 1000 };
	struct ent *many = calloc(MANY, sizeof(*many));
	now = clock_now;
	for (int i = 0; i < MANY; i++) {
		many[i].id = i;
		timer_arm(&w, &many[i].t, now + 3 + (uint64_t)(i % 2) * N_SLOTS);
	}
	CHECK(w.armed == MANY, "%d armed in one slot index", MANY);
	CHECK(run_to(&w, now + 3) == MANY / 2, "at +3 the %d due, not the %d a turn later", MANY / 2, MANY / 2);
	int ok = 1;
	for (int i = 0; i < MANY; i++)
		ok &= i % 2 ? many[i].calls == 0 : many[i].calls == 1 && many[i].fired_at == now + 3;
	CHECK(ok, "each of the first half called once at +3");
	CHECK(run_to(&w, now + 3 + N_SLOTS) == MANY / 2, "the other half at +3+%d", N_SLOTS);
	ok = 1;
	for (int i = 0; i < MANY; i++)
		ok &= many[i].calls == 1 && many[i].fired_at == now + 3 + (uint64_t)(i % 2) * N_SLOTS;
	CHECK(ok && w.armed == 0, "each called once, at its own second");
	free(many);

	/* further out than the span: waits in the overflow list, fires on time */
	now = clock_now;
	a.calls = b.calls = c.calls = 0;
	timer_arm(&w, &a.t, now + N_SLOTS);		/* just out of reach */
	timer_arm(&w, &b.t, now + 5 * N_SLOTS + 3);	/* five turns out */
	timer_arm(&w, &c.t, now + 1000 * N_SLOTS);	/* far out, then cancelled */
	CHECK(w.far != NULL, "far timers are in the overflow list");
	CHECK(run_to(&w, now + N_SLOTS - 1) == 0, "nothing before the span's end");
	CHECK(run_to(&w, now + N_SLOTS) == 1 && a.fired_at == now + N_SLOTS, "just out of reach: on time");
	CHECK(run_to(&w, now + 5 * N_SLOTS + 2) == 0 && b.calls == 0, "five turns out: not early");
	CHECK(run_to(&w, now + 5 * N_SLOTS + 3) == 1 && b.fired_at == now + 5 * N_SLOTS + 3,
	      "five turns out: on time");
	timer_disarm(&w, &c.t);
	CHECK(w.far == NULL && w.armed == 0, "a far timer cancels too");

	/* a jump of the clock: everything due on the way, in order */
	now = clock_now;
	a.calls = b.calls = 0;
	timer_arm(&w, &a.t, now + 2);
	timer_arm(&w, &b.t, now + 40);
	clock_now = now + 100;
	CHECK(timer_advance(&w, clock_now, on_due, &w) == 2 && a.calls == 1 && b.calls == 1,
	      "a jump of 100 s calls both timers due on the way");
	CHECK(timer_advance(&w, clock_now - 50, on_due, &w) == 0 && w.now == clock_now,
	      "a clock going back changes nothing");

	/* a callback frees its slot-mate: no use after free (ASan), the mate never runs */
	now = clock_now;
	struct ent *mate = calloc(1, sizeof(*mate));
	a.calls = 0;
	a.victim = mate;
	timer_arm(&w, &mate->t, now + 4);
	timer_arm(&w, &a.t, now + 4);	/* linked first: called first */
	CHECK(run_to(&w, now + 4) == 1 && a.calls == 1, "the callback disarmed and freed its slot-mate");

	/* an idle wheel: the walk calls nobody */
	CHECK(w.armed == 0 && run_to(&w, clock_now + 3 * N_SLOTS) == 0, "an empty wheel calls nothing");

	/* freed with timers armed: they are forgotten, disarming or arming later is harmless */
	timer_arm(&w, &a.t, clock_now + 2);
	timer_arm(&w, &b.t, clock_now + 1000);
	timer_wheel_free(&w);
	CHECK(!timer_armed(&a.t) && !timer_armed(&b.t), "freeing the wheel disarms what was armed");
	timer_disarm(&w, &a.t);
	timer_arm(&w, &a.t, clock_now + 2);
	CHECK(!timer_armed(&a.t), "arming on a freed wheel does nothing (ASan: no write to freed slots)");
	return tap_done();
}
