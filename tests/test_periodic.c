/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The time-driven schedule, with the clock stepped by the test: the sweep
 * covers the table in PERIODIC_SWEEP_PASS_TICKS ticks and ends a quiet
 * episode within a pass of its end; a pause gets one chunk, a long pause
 * a whole pass; jobs run at their intervals; a sweep that is not wanted
 * does not run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "limiter_helpers.h"
#include "periodic.h"

#define TICK PERIODIC_TICK_NS

struct ctx {
	struct rec rec; /* released events, at the schedule's time */
	int jobs[PERIODIC_NJOBS];
	uint64_t job_at[PERIODIC_NJOBS];
	bool wanted;
};

static void on_released(void *arg, const struct limiter_event *ev)
{
	struct ctx *c = arg;

	rec_add(&c->rec, ev, c->rec.now);
}

static bool on_wanted(void *arg)
{
	return ((struct ctx *)arg)->wanted;
}

static void on_job(void *arg, enum periodic_job job, uint64_t now)
{
	struct ctx *c = arg;

	c->jobs[job]++;
	c->job_at[job] = now;
}

static void run_at(struct periodic *p, struct ctx *c, uint64_t now)
{
	c->rec.now = now;
	periodic_run(p, now);
}

/* A source limited at 1 s by a 1/T rule: its episode ends at 1 s + T. */
static void limit_one(struct limiter *l, struct ctx *c, uint64_t key,
		      uint64_t period)
{
	struct limiter_rule r;

	rule_init(&r, 1, 1, period);
	assert_int_equal(check(l, &c->rec, &r, key, SEC), LIMITER_PASS);
	assert_int_equal(check(l, &c->rec, &r, key, SEC), LIMITER_OVER);
	assert_int_equal(c->rec.nev, 1);
	assert_int_equal(c->rec.ev[0].kind, LIMITER_EV_LIMITED);
}

/* A pass over the table takes PERIODIC_SWEEP_PASS_TICKS ticks. */
static void test_pass_length(void **state)
{
	struct limiter *l = table(40000, false);
	struct ctx c = {.wanted = true};
	const struct periodic_ops ops = {.released = on_released, .arg = &c};
	struct limiter_rule r;
	struct periodic p;
	int ticks = 0;
	size_t next;

	(void)state;
	/* one live bucket, which the end of a pass counts */
	rule_init(&r, 1, 1, HOUR);
	assert_int_equal(check(l, &c.rec, &r, 42, 0), LIMITER_PASS);
	periodic_init(&p, l, &ops, 0);
	assert_int_equal(p.chunk,
			 limiter_buckets(l) / PERIODIC_SWEEP_PASS_TICKS + 1);
	/* the first tick is due at once */
	do {
		run_at(&p, &c, (uint64_t)ticks * TICK);
		ticks++;
	} while (periodic_used(&p) == 0);
	assert_int_equal(ticks, PERIODIC_SWEEP_PASS_TICKS);
	assert_int_equal(periodic_live(&p)[1], 1);
	/* between two ticks nothing is swept */
	next = p.sweep.next;
	run_at(&p, &c, (uint64_t)ticks * TICK - 1);
	assert_int_equal(p.sweep.next, next);
	limiter_free(l);
}

/* A quiet episode ends in the sweep, within a pass of its end. */
static void test_release_in_sweep(void **state)
{
	struct limiter *l = table(4096, false);
	struct ctx c = {.wanted = true};
	const struct periodic_ops ops = {.released = on_released, .arg = &c};
	struct periodic p;
	uint64_t t;

	(void)state;
	limit_one(l, &c, 0xc6336442, SEC);
	periodic_init(&p, l, &ops, 0);
	for (t = 0; t <= 2 * SEC + PERIODIC_SWEEP_PASS_TICKS * TICK; t += TICK)
		run_at(&p, &c, t);
	assert_int_equal(c.rec.nev, 2);
	assert_int_equal(c.rec.ev[1].kind, LIMITER_EV_RELEASED);
	assert_true(c.rec.ev_at[1] >= 2 * SEC);
	assert_true(c.rec.ev_at[1] <=
		    2 * SEC + PERIODIC_SWEEP_PASS_TICKS * TICK);
	limiter_free(l);
}

/* Nothing is swept while no sweep is wanted: the episode stays open. */
static void test_sweep_not_wanted(void **state)
{
	struct limiter *l = table(64, false);
	struct ctx c = {.wanted = false};
	const struct periodic_ops ops = {
		.released = on_released,
		.sweep_wanted = on_wanted,
		.arg = &c,
	};
	struct periodic p;

	(void)state;
	limit_one(l, &c, 7, SEC);
	periodic_init(&p, l, &ops, 0);
	for (uint64_t t = 0; t < 60 * SEC; t += TICK)
		run_at(&p, &c, t);
	assert_int_equal(c.rec.nev, 1);
	c.wanted = true;
	for (uint64_t t = 60 * SEC; t < 80 * SEC; t += TICK)
		run_at(&p, &c, t);
	/* 16 buckets, one a tick */
	assert_int_equal(c.rec.nev, 2);
	assert_in_range(c.rec.ev_at[1], 60 * SEC, 60 * SEC + 16 * TICK);
	limiter_free(l);
}

/*
 * Over a pause one chunk stands for the ticks missed, and the next tick
 * keeps the phase; a pause of PERIODIC_PAUSE_WHOLE or more gets a whole
 * pass.
 */
static void test_pauses(void **state)
{
	struct limiter *l = table(40000, false);
	struct ctx c = {.wanted = true};
	const struct periodic_ops ops = {.released = on_released, .arg = &c};
	struct periodic p;
	uint64_t t0 = 5 * SEC;

	(void)state;
	limit_one(l, &c, 0xc6336443, HOUR);
	periodic_init(&p, l, &ops, t0);
	run_at(&p, &c, t0);
	assert_int_equal(p.sweep.next, p.chunk);
	/* a minute later: one chunk, and the next tick on the 100 ms grid */
	run_at(&p, &c, t0 + 60 * SEC + 30 * MS);
	assert_int_equal(p.sweep.next, 2 * p.chunk);
	assert_int_equal(p.next_tick, t0 + 60 * SEC + TICK);
	assert_int_equal(c.rec.nev, 1);
	/* two hours later (the episode ended at 1 h 1 s): a whole pass */
	run_at(&p, &c, t0 + 2 * HOUR);
	assert_int_equal(c.rec.nev, 2);
	assert_int_equal(c.rec.ev[1].kind, LIMITER_EV_RELEASED);
	assert_int_equal(c.rec.ev_at[1], t0 + 2 * HOUR);
	limiter_free(l);
}

/* Jobs run every interval from when they were set, never at 0. */
static void test_jobs(void **state)
{
	struct limiter *l = table(64, false);
	struct ctx c = {.wanted = true};
	const struct periodic_ops ops = {.job = on_job, .arg = &c};
	struct periodic p;

	(void)state;
	periodic_init(&p, l, &ops, 0);
	periodic_every(&p, PERIODIC_STATS, 60 * SEC, 0);
	periodic_every(&p, PERIODIC_LOSSES, SEC, 0);
	periodic_every(&p, PERIODIC_REPORT, 0, 0);
	for (uint64_t t = 0; t <= 120 * SEC; t += TICK)
		run_at(&p, &c, t);
	assert_int_equal(c.jobs[PERIODIC_STATS], 2);
	assert_int_equal(c.job_at[PERIODIC_STATS], 120 * SEC);
	assert_int_equal(c.jobs[PERIODIC_LOSSES], 120);
	assert_int_equal(c.jobs[PERIODIC_REPORT], 0);
	assert_int_equal(c.jobs[PERIODIC_PROMETHEUS], 0);
	/* a new interval counts from when it is set */
	periodic_every(&p, PERIODIC_STATS, 10 * SEC, 125 * SEC);
	run_at(&p, &c, 134 * SEC);
	assert_int_equal(c.jobs[PERIODIC_STATS], 2);
	run_at(&p, &c, 135 * SEC);
	assert_int_equal(c.jobs[PERIODIC_STATS], 3);
	limiter_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass_length),
		cmocka_unit_test(test_release_in_sweep),
		cmocka_unit_test(test_sweep_not_wanted),
		cmocka_unit_test(test_pauses),
		cmocka_unit_test(test_jobs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
