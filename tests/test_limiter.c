/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The limiter's arithmetic, with the clock stepped by the test: GCRA
 * timing, episodes and hold-down, and the totals.  Counts are exact: each
 * figure below is derived in a comment from the GCRA arithmetic.  The
 * table itself (geometry, eviction, sweep, keys, threads) is tested in
 * test_limiter_table.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "limiter.h"
#include "limiter_helpers.h"

/* 2^32 ms: where the 32-bit millisecond clock of the episodes wraps. */
#define WRAP_NS (UINT64_C(4294967296) * MS)

/* ---- the arithmetic ---- */

static void test_rate_init(void **state)
{
	struct limiter_rate r;

	(void)state;
	limiter_rate_init(&r, 2, 5 * SEC);
	assert_int_equal(r.interval, 2500 * MS);
	assert_int_equal(r.tau, 2500 * MS);
	assert_int_equal(r.period, 5 * SEC);
	/* rounded down */
	limiter_rate_init(&r, 3, 10);
	assert_int_equal(r.interval, 3);
	assert_int_equal(r.tau, 6);
	limiter_rate_init(&r, 1, HOUR);
	assert_int_equal(r.interval, HOUR);
	assert_int_equal(r.tau, 0);
}

/*
 * The design's example: 2/5s, a source at 50/s for 10 s (t = 0, 20 ms, ...
 * 9.98 s).  interval = tau = 2.5 s: two at once, then one each time tat -
 * now falls to tau, i.e. at 2.5, 5 and 7.5 s.
 */
static void run_example(bool shared)
{
	const uint64_t want[5] = {0, 20 * MS, 2500 * MS, 5000 * MS, 7500 * MS};
	struct limiter *l = table(1024, shared);
	struct limiter_rule r;
	struct rec rc = {0};
	uint64_t pass[5];
	int npass = 0, nover = 0;

	rule_init(&r, 1, 2, 5 * SEC);
	for (uint64_t i = 0; i < 500; i++) {
		uint64_t now = i * 20 * MS;
		enum limiter_verdict v = check(l, &rc, &r, 0xc6336401, now);

		if (v == LIMITER_PASS) {
			assert_true(npass < 5);
			pass[npass++] = now;
		} else {
			assert_int_equal(v, LIMITER_OVER);
			nover++;
		}
	}
	assert_int_equal(npass, 5);
	assert_int_equal(nover, 495);
	for (int i = 0; i < 5; i++)
		assert_int_equal(pass[i], want[i]);
	/* One episode: it starts at the first drop (40 ms) and never ends,
	 * since the drops never pause for 5 s. */
	assert_int_equal(rc.nev, 1);
	assert_event(&rc, 0, 40 * MS, LIMITER_EV_LIMITED, 1, 0xc6336401, 1, 0,
		     0);
	assert_int_equal(rc.c.inserted, 1);
	assert_int_equal(rc.c.reused, 0);
	assert_int_equal(rc.c.evicted, 0);
	limiter_free(l);
}

static void test_example_50qps(void **state)
{
	(void)state;
	run_example(false);
}

static void test_example_50qps_shared(void **state)
{
	(void)state;
	run_example(true);
}

/* A fresh source gets its whole burst at one instant, not one more. */
static void test_fresh_burst(void **state)
{
	struct limiter *l = table(64, false);
	struct limiter_rule r;
	struct rec rc = {0};
	const uint64_t t0 = 1234 * SEC;

	(void)state;
	rule_init(&r, 1, 2, 5 * SEC);
	assert_int_equal(check(l, &rc, &r, 1, t0), LIMITER_PASS);
	assert_int_equal(check(l, &rc, &r, 1, t0), LIMITER_PASS);
	assert_int_equal(check(l, &rc, &r, 1, t0), LIMITER_OVER);
	rule_init(&r, 2, 7, 5 * SEC);
	for (int i = 0; i < 7; i++)
		assert_int_equal(check(l, &rc, &r, 1, t0), LIMITER_PASS);
	assert_int_equal(check(l, &rc, &r, 1, t0), LIMITER_OVER);
	limiter_free(l);
}

static void test_n1(void **state)
{
	struct limiter *l = table(64, false);
	struct limiter_rule r;
	struct rec rc = {0};

	(void)state;
	rule_init(&r, 1, 1, SEC);
	assert_int_equal(check(l, &rc, &r, 9, 0), LIMITER_PASS);
	assert_int_equal(check(l, &rc, &r, 9, 0), LIMITER_OVER);
	assert_int_equal(check(l, &rc, &r, 9, SEC - 1), LIMITER_OVER);
	assert_int_equal(check(l, &rc, &r, 9, SEC), LIMITER_PASS);
	assert_int_equal(check(l, &rc, &r, 9, SEC), LIMITER_OVER);
	assert_int_equal(check(l, &rc, &r, 9, 2 * SEC), LIMITER_PASS);
	limiter_free(l);
}

/* 10000/s: interval 100 us, tau 9999 intervals. */
static void test_n10000(void **state)
{
	struct limiter *l = table(64, false);
	struct limiter_rule r;
	struct rec rc = {0};
	int pass = 0;

	(void)state;
	rule_init(&r, 1, 10000, SEC);
	for (int i = 0; i < 20000; i++)
		pass += check(l, &rc, &r, 9, 5 * SEC) == LIMITER_PASS;
	assert_int_equal(pass, 10000);
	assert_int_equal(check(l, &rc, &r, 9, 5 * SEC + 100000 - 1),
			 LIMITER_OVER);
	assert_int_equal(check(l, &rc, &r, 9, 5 * SEC + 100000), LIMITER_PASS);
	assert_int_equal(check(l, &rc, &r, 9, 5 * SEC + 100000), LIMITER_OVER);
	/* After a whole second it is full again. */
	pass = 0;
	for (int i = 0; i < 20000; i++)
		pass += check(l, &rc, &r, 9, 7 * SEC) == LIMITER_PASS;
	assert_int_equal(pass, 10000);
	limiter_free(l);
}

/*
 * 1/1ms probed every 100 us for 1 s: one pass per ms, 1000 in all.  The
 * source never stops exceeding, so it is one episode: one LIMITED (at
 * 0.1 ms) and no RELEASED, although each ms also has a pass.
 */
static void test_period_1ms(void **state)
{
	struct limiter *l = table(64, false);
	struct limiter_rule r;
	struct rec rc = {0};
	int pass = 0;

	(void)state;
	rule_init(&r, 1, 1, MS);
	for (uint64_t i = 0; i < 10000; i++) {
		enum limiter_verdict v = check(l, &rc, &r, 9, i * 100000);

		assert_int_equal(v, i % 10 == 0 ? LIMITER_PASS : LIMITER_OVER);
		pass += v == LIMITER_PASS;
	}
	assert_int_equal(pass, 1000);
	assert_int_equal(rc.nev, 1);
	assert_event(&rc, 0, 100000, LIMITER_EV_LIMITED, 1, 9, 1, 0, 0);
	/* Quiet from 999.9 ms: the episode ends a whole 1 ms later. */
	assert_int_equal(check(l, &rc, &r, 9, 1000 * MS + 899999),
			 LIMITER_PASS);
	assert_int_equal(rc.nev, 1);
	assert_int_equal(check(l, &rc, &r, 9, 1000 * MS + 900000),
			 LIMITER_OVER);
	assert_int_equal(rc.nev, 1);
	assert_int_equal(check(l, &rc, &r, 9, 1002 * MS), LIMITER_PASS);
	assert_int_equal(rc.nev, 2);
	assert_event(&rc, 1, 1002 * MS, LIMITER_EV_RELEASED, 1, 9, 9001, 0, 0);
	limiter_free(l);
}

/* 2/1h: two at once, then one per 30 min. */
static void test_period_1h(void **state)
{
	struct limiter *l = table(64, false);
	struct limiter_rule r;
	struct rec rc = {0};
	int pass = 0;

	(void)state;
	rule_init(&r, 1, 2, HOUR);
	/* one a minute for 3 h: at 0, 1 min, then 30, 60, ... 150 min */
	for (uint64_t m = 0; m < 180; m++) {
		enum limiter_verdict v = check(l, &rc, &r, 9, m * MIN);
		bool want = m == 0 || m == 1 || (m % 30 == 0);

		assert_int_equal(v, want ? LIMITER_PASS : LIMITER_OVER);
		pass += v == LIMITER_PASS;
	}
	assert_int_equal(pass, 7);
	limiter_free(l);
}

/*
 * 10/s for 1000 s (t = 0, 0.1, ... 999.9 s) under 2/5s: two at t = 0 and
 * 0.1 s, then one at each 2.5 k s for k = 1 .. 399 (2.5 * 400 = 1000 s is
 * past the end): 2 + 399 = 401.
 */
static void test_long_run(void **state)
{
	struct limiter *l = table(64, false);
	struct limiter_rule r;
	struct rec rc = {0};
	int pass = 0;

	(void)state;
	rule_init(&r, 1, 2, 5 * SEC);
	for (uint64_t i = 0; i < 10000; i++) {
		uint64_t now = i * 100 * MS;
		enum limiter_verdict v = check(l, &rc, &r, 9, now);

		if (v == LIMITER_PASS) {
			assert_true(i <= 1 || now % (2500 * MS) == 0);
			pass++;
		}
	}
	assert_int_equal(pass, 401);
	assert_int_equal(rc.nev, 1);
	limiter_free(l);
}

/* A big forward step refills the bucket and ends the episode. */
static void test_clock_jump(void **state)
{
	struct limiter *l = table(64, false);
	struct limiter_rule r;
	struct rec rc = {0};

	(void)state;
	rule_init(&r, 1, 3, 5 * SEC);
	for (int i = 0; i < 3; i++)
		assert_int_equal(check(l, &rc, &r, 9, 10 * SEC), LIMITER_PASS);
	assert_int_equal(check(l, &rc, &r, 9, 10 * SEC), LIMITER_OVER);
	assert_int_equal(check(l, &rc, &r, 9, 10 * SEC), LIMITER_OVER);
	assert_int_equal(rc.nev, 1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(check(l, &rc, &r, 9, 10 * SEC + 5 * HOUR),
				 LIMITER_PASS);
	assert_int_equal(check(l, &rc, &r, 9, 10 * SEC + 5 * HOUR),
			 LIMITER_OVER);
	assert_int_equal(rc.nev, 3);
	assert_event(&rc, 1, 10 * SEC + 5 * HOUR, LIMITER_EV_RELEASED, 1, 9, 2,
		     0, 0);
	assert_event(&rc, 2, 10 * SEC + 5 * HOUR, LIMITER_EV_LIMITED, 1, 9, 1,
		     0, 0);
	limiter_free(l);
}

/* A clock that stands still gives n, and nothing after. */
static void test_clock_still(void **state)
{
	struct limiter *l = table(64, false);
	struct limiter_rule r;
	struct rec rc = {0};
	int pass = 0;

	(void)state;
	rule_init(&r, 1, 3, 5 * SEC);
	for (int i = 0; i < 1000; i++)
		pass += check(l, &rc, &r, 9, 77 * SEC) == LIMITER_PASS;
	assert_int_equal(pass, 3);
	assert_int_equal(rc.nev, 1);
	assert_int_equal(rc.c.inserted, 1);
	limiter_free(l);
}

/* ---- episodes and hold-down ---- */

/*
 * A bot at 1 q/s against 2/5s with a 10 min hold-down doubling to 40 min.
 * Without a hold it would pass at 0, 1, 3, 5, 8, ... s; its first drop is
 * at 2 s; at 7 s it has exceeded for a whole period since then, so the
 * hold starts (that packet is OVER).  The hold refuses it for exactly
 * 600 s: HELD at 8 .. 606, and at 607 the GCRA gives it one token (tat =
 * 7 + 600 + 2.5 s).  Its episode lasts (the held packets count as drops),
 * so its next drop, at 608, starts a 20 min hold at once, then 40, then
 * 40 again (capped).
 */
#define BOT_HOLDS 5
static const uint64_t bot_start[BOT_HOLDS] = {7, 608, 1809, 4210, 6611};
static const uint64_t bot_dur[BOT_HOLDS] = {600, 1200, 2400, 2400, 2400};

static enum limiter_verdict bot_expect(uint64_t sec)
{
	static const enum limiter_verdict first[7] = {
		LIMITER_PASS, LIMITER_PASS, LIMITER_OVER, LIMITER_PASS,
		LIMITER_OVER, LIMITER_PASS, LIMITER_OVER,
	};

	if (sec < 7)
		return first[sec];
	for (int i = 0; i < BOT_HOLDS; i++) {
		if (sec == bot_start[i])
			return LIMITER_OVER;
		if (sec > bot_start[i] && sec < bot_start[i] + bot_dur[i])
			return LIMITER_HELD;
		if (sec == bot_start[i] + bot_dur[i])
			return LIMITER_PASS;
	}
	fail_msg("t=%llu s is past the plan", (unsigned long long)sec);
	return LIMITER_NVERDICTS;
}

static void run_bot(uint64_t base)
{
	const struct limiter_rule *rules[LIMITER_RULE_IDS] = {0};
	struct limiter *l = table(64, false);
	struct limiter_rule r;
	struct rec rc = {0};
	struct walked w = {0};
	uint32_t refused = 0;

	bot_rule(&r);
	rules[3] = &r;
	for (uint64_t sec = 0; sec < 7000; sec++) {
		enum limiter_verdict v =
			check(l, &rc, &r, 77, base + sec * SEC);

		if (v != bot_expect(sec))
			fail_msg("t=%llu s: verdict %d, expected %d",
				 (unsigned long long)sec, v, bot_expect(sec));
		refused += v != LIMITER_PASS;
	}
	assert_int_equal(rc.nev, 1 + BOT_HOLDS);
	assert_event(&rc, 0, base + 2 * SEC, LIMITER_EV_LIMITED, 3, 77, 1, 0,
		     0);
	for (int i = 0; i < BOT_HOLDS; i++) {
		const struct limiter_event *ev = &rc.ev[1 + i];

		assert_int_equal(rc.ev_at[1 + i], base + bot_start[i] * SEC);
		assert_int_equal(ev->kind, LIMITER_EV_HELD);
		assert_int_equal(ev->hold, bot_dur[i] * SEC);
		assert_int_equal(ev->level, i + 1);
	}
	limiter_walk(l, rules, base + 6999 * SEC, on_walk, &w);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.e[0].key, 77);
	assert_true(w.e[0].held);
	assert_int_equal(w.e[0].level, BOT_HOLDS);
	assert_int_equal(w.e[0].drops, refused);
	limiter_free(l);
}

static void test_hold_down(void **state)
{
	(void)state;
	run_bot(0);
}

/*
 * The same across the wrap of the 32-bit millisecond clock, at 5.5 s: the
 * first drop (2 s) is before it and its quiet deadline (7 s) after, so the
 * checks at 3 and 5 s compare across the wrap.
 */
static void test_hold_down_ms_wrap(void **state)
{
	(void)state;
	run_bot(WRAP_NS - 5500 * MS);
}

/*
 * A hold longer than the wrapping ms clock can span (30 days): the source
 * comes back after 25 days, past where its episode deadline had to be
 * capped, and is still held, with no release in between.
 */
static void test_hold_longer_than_ms_span(void **state)
{
	const uint64_t day = 24 * HOUR;
	struct limiter *l = table(64, false);
	struct limiter_rule r;
	struct rec rc = {0};

	(void)state;
	bot_rule(&r);
	r.hold = 30 * day;
	r.hold_max = 30 * day;
	for (uint64_t sec = 0; sec <= 7; sec++)
		assert_int_equal(check(l, &rc, &r, 5, sec * SEC),
				 bot_expect(sec));
	assert_int_equal(rc.nev, 2);
	assert_int_equal(rc.ev[1].hold, 30 * day);
	assert_int_equal(check(l, &rc, &r, 5, 7 * SEC + 25 * day),
			 LIMITER_HELD);
	assert_int_equal(check(l, &rc, &r, 5, 7 * SEC + 30 * day - 1),
			 LIMITER_HELD);
	assert_int_equal(check(l, &rc, &r, 5, 7 * SEC + 30 * day),
			 LIMITER_PASS);
	assert_int_equal(rc.nev, 2);
	limiter_free(l);
}

/* The hold's edges, to the nanosecond. */
static void test_hold_exact(void **state)
{
	struct limiter *l = table(64, false);
	struct limiter_rule r;
	struct rec rc = {0};
	const uint64_t t0 = 1000 * SEC;

	(void)state;
	bot_rule(&r);
	for (uint64_t sec = 0; sec <= 7; sec++)
		check(l, &rc, &r, 5, t0 + sec * SEC);
	assert_int_equal(rc.nev, 2);
	assert_int_equal(rc.ev[1].kind, LIMITER_EV_HELD);
	assert_int_equal(check(l, &rc, &r, 5, t0 + 607 * SEC - 1),
			 LIMITER_HELD);
	assert_int_equal(check(l, &rc, &r, 5, t0 + 607 * SEC), LIMITER_PASS);
	assert_int_equal(check(l, &rc, &r, 5, t0 + 607 * SEC), LIMITER_OVER);
	assert_int_equal(rc.nev, 3);
	/* drops at 2, 4, 6, 7 s, the held one and this one */
	assert_event(&rc, 2, t0 + 607 * SEC, LIMITER_EV_HELD, 3, 5, 6, 2,
		     20 * MIN);
	limiter_free(l);
}

/*
 * The bot is held at 7 s and then goes silent.  Its episode ends when the
 * hold does (quiet = max(7 s + 5 s, 607 s)); the level goes with it, so
 * when it starts again its first hold is 10 min again.
 */
static void test_hold_level_resets_sweep(void **state)
{
	const struct limiter_rule *rules[LIMITER_RULE_IDS] = {0};
	struct limiter *l = table(64, false);
	struct limiter_sweep sw;
	struct limiter_rule r;
	struct rec rc = {0};
	struct walked w = {0};

	(void)state;
	bot_rule(&r);
	rules[3] = &r;
	for (uint64_t sec = 0; sec <= 7; sec++)
		check(l, &rc, &r, 5, sec * SEC);
	assert_int_equal(rc.nev, 2);

	sweep_all(l, &sw, &rc, 300 * SEC);
	assert_int_equal(rc.nev, 2);
	limiter_walk(l, rules, 300 * SEC, on_walk, &w);
	assert_int_equal(w.n, 1);
	assert_true(w.e[0].held);
	assert_int_equal(w.e[0].level, 1);
	assert_int_equal(w.e[0].drops, 4);

	sweep_all(l, &sw, &rc, 607 * SEC - MS);
	assert_int_equal(rc.nev, 2);
	sweep_all(l, &sw, &rc, 607 * SEC);
	assert_int_equal(rc.nev, 3);
	assert_event(&rc, 2, 607 * SEC, LIMITER_EV_RELEASED, 3, 5, 4, 1, 0);
	w.n = 0;
	limiter_walk(l, rules, 607 * SEC, on_walk, &w);
	assert_int_equal(w.n, 0);

	for (uint64_t sec = 0; sec <= 7; sec++)
		assert_int_equal(check(l, &rc, &r, 5, (1000 + sec) * SEC),
				 bot_expect(sec));
	assert_int_equal(rc.nev, 5);
	assert_event(&rc, 3, 1002 * SEC, LIMITER_EV_LIMITED, 3, 5, 1, 0, 0);
	assert_event(&rc, 4, 1007 * SEC, LIMITER_EV_HELD, 3, 5, 4, 1, 10 * MIN);
	limiter_free(l);
}

/* The same, with the release seen by the source's own next packet. */
static void test_hold_level_resets_check(void **state)
{
	struct limiter *l = table(64, false);
	struct limiter_rule r;
	struct rec rc = {0};

	(void)state;
	bot_rule(&r);
	for (uint64_t sec = 0; sec <= 7; sec++)
		check(l, &rc, &r, 5, sec * SEC);
	assert_int_equal(rc.nev, 2);
	for (uint64_t sec = 0; sec <= 7; sec++)
		assert_int_equal(check(l, &rc, &r, 5, (700 + sec) * SEC),
				 bot_expect(sec));
	assert_int_equal(rc.nev, 5);
	assert_event(&rc, 2, 700 * SEC, LIMITER_EV_RELEASED, 3, 5, 4, 1, 0);
	assert_event(&rc, 3, 702 * SEC, LIMITER_EV_LIMITED, 3, 5, 1, 0, 0);
	assert_event(&rc, 4, 707 * SEC, LIMITER_EV_HELD, 3, 5, 4, 1, 10 * MIN);
	limiter_free(l);
}

/*
 * A source that stops: three at 0 s under 2/5s (drops 1), two more
 * drops at 1 s.  The episode ends a whole period after the last drop:
 * at 6 s, not at 5.999 s.
 */
static void stopper(struct limiter *l, struct rec *rc,
		    const struct limiter_rule *r, uint64_t base)
{
	for (int i = 0; i < 3; i++)
		check(l, rc, r, 8, base);
	assert_int_equal(check(l, rc, r, 8, base + SEC), LIMITER_OVER);
	assert_int_equal(check(l, rc, r, 8, base + SEC), LIMITER_OVER);
	assert_int_equal(rc->nev, 1);
	assert_event(rc, 0, base, LIMITER_EV_LIMITED, 1, 8, 1, 0, 0);
}

static void test_release_check(void **state)
{
	struct limiter *l = table(64, false);
	struct limiter_rule r;
	struct rec rc = {0};

	(void)state;
	rule_init(&r, 1, 2, 5 * SEC);
	stopper(l, &rc, &r, 0);
	assert_int_equal(check(l, &rc, &r, 8, 6 * SEC - MS), LIMITER_PASS);
	assert_int_equal(rc.nev, 1);
	assert_int_equal(check(l, &rc, &r, 8, 6 * SEC), LIMITER_PASS);
	assert_int_equal(rc.nev, 2);
	assert_event(&rc, 1, 6 * SEC, LIMITER_EV_RELEASED, 1, 8, 3, 0, 0);
	limiter_free(l);
}

static void test_release_sweep(void **state)
{
	struct limiter *l = table(64, false);
	struct limiter_sweep sw;
	struct limiter_rule r;
	struct rec rc = {0};

	(void)state;
	rule_init(&r, 1, 2, 5 * SEC);
	stopper(l, &rc, &r, 0);
	sweep_all(l, &sw, &rc, 6 * SEC - MS);
	assert_int_equal(rc.nev, 1);
	assert_int_equal(sw.last_live[1], 1);
	sweep_all(l, &sw, &rc, 6 * SEC);
	assert_int_equal(rc.nev, 2);
	assert_event(&rc, 1, 6 * SEC, LIMITER_EV_RELEASED, 1, 8, 3, 0, 0);
	/* Released and refilled (tat = 5 s): nothing live any more. */
	assert_int_equal(sw.last_live[1], 0);
	assert_int_equal(sw.last_used, 0);
	/* Released once only. */
	sweep_all(l, &sw, &rc, 7 * SEC);
	assert_int_equal(check(l, &rc, &r, 8, 7 * SEC), LIMITER_PASS);
	assert_int_equal(rc.nev, 2);
	limiter_free(l);
}

/* The episode's deadline (6 s) is before the ms clock wraps (at 10 s), the
 * source's return (12 s) after it. */
static void test_release_ms_wrap(void **state)
{
	const uint64_t base = WRAP_NS - 10 * SEC;
	struct limiter *l = table(64, false);
	struct limiter_rule r;
	struct rec rc = {0};

	(void)state;
	rule_init(&r, 1, 2, 5 * SEC);
	stopper(l, &rc, &r, base);
	assert_int_equal(check(l, &rc, &r, 8, base + 12 * SEC), LIMITER_PASS);
	assert_int_equal(rc.nev, 2);
	assert_event(&rc, 1, base + 12 * SEC, LIMITER_EV_RELEASED, 1, 8, 3, 0,
		     0);
	limiter_free(l);
}

/* ---- the total ---- */

/*
 * Source 2/100s (interval = tau = 50 s), total 1/10s.  At 1 s the source
 * has a token but the total has none: TOTAL, and the source keeps its
 * token, so at 10 s (total refilled) it passes; had the token been spent,
 * tat would be 100 s and 10 s would be OVER.
 */
static void test_total_keeps_token(void **state)
{
	struct limiter *l = table(64, false);
	struct limiter_rule r;
	struct tbucket total;
	struct rec rc = {0};

	(void)state;
	tbucket_init(&total, 1, 10 * SEC);
	rule_init(&r, 1, 2, 100 * SEC);
	r.total = &total;
	assert_int_equal(check(l, &rc, &r, 4, 0), LIMITER_PASS);
	assert_int_equal(check(l, &rc, &r, 4, SEC), LIMITER_TOTAL);
	assert_int_equal(rc.nev, 0);
	assert_int_equal(check(l, &rc, &r, 4, 10 * SEC), LIMITER_PASS);
	assert_int_equal(check(l, &rc, &r, 4, 11 * SEC), LIMITER_OVER);
	limiter_free(l);
}

/*
 * Total 2/1000s shared by all sources of the rule, each 1/1000s.  The
 * total is charged only after the source's own bucket says yes, so A's
 * second packet (OVER) costs the total nothing and B still passes.
 */
static void test_total_shared(void **state)
{
	struct limiter *l = table(64, false);
	struct limiter_rule r;
	struct tbucket total;
	struct rec rc = {0};

	(void)state;
	tbucket_init(&total, 2, 1000 * SEC);
	rule_init(&r, 1, 1, 1000 * SEC);
	r.total = &total;
	assert_int_equal(check(l, &rc, &r, 0xa, SEC), LIMITER_PASS);
	assert_int_equal(check(l, &rc, &r, 0xa, SEC), LIMITER_OVER);
	assert_int_equal(check(l, &rc, &r, 0xb, SEC), LIMITER_PASS);
	assert_int_equal(check(l, &rc, &r, 0xc, SEC), LIMITER_TOTAL);
	assert_int_equal(check(l, &rc, &r, 0xc, SEC), LIMITER_TOTAL);
	assert_int_equal(check(l, &rc, &r, 0xa, SEC), LIMITER_OVER);
	/* The total refills by one token every 500 s. */
	assert_int_equal(check(l, &rc, &r, 0xc, 501 * SEC), LIMITER_PASS);
	assert_int_equal(check(l, &rc, &r, 0xd, 501 * SEC), LIMITER_TOTAL);
	limiter_free(l);
}

static void test_tbucket(void **state)
{
	struct tbucket tb;

	(void)state;
	tbucket_init(&tb, 3, 3 * SEC);
	for (int i = 0; i < 3; i++)
		assert_true(tbucket_take(&tb, 10 * SEC));
	assert_false(tbucket_take(&tb, 10 * SEC));
	assert_false(tbucket_take(&tb, 11 * SEC - 1));
	assert_true(tbucket_take(&tb, 11 * SEC));
	assert_false(tbucket_take(&tb, 11 * SEC));
	for (int i = 0; i < 3; i++)
		assert_true(tbucket_take(&tb, 100 * SEC));
	assert_false(tbucket_take(&tb, 100 * SEC));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_init),
		cmocka_unit_test(test_example_50qps),
		cmocka_unit_test(test_example_50qps_shared),
		cmocka_unit_test(test_fresh_burst),
		cmocka_unit_test(test_n1),
		cmocka_unit_test(test_n10000),
		cmocka_unit_test(test_period_1ms),
		cmocka_unit_test(test_period_1h),
		cmocka_unit_test(test_long_run),
		cmocka_unit_test(test_clock_jump),
		cmocka_unit_test(test_clock_still),
		cmocka_unit_test(test_hold_down),
		cmocka_unit_test(test_hold_down_ms_wrap),
		cmocka_unit_test(test_hold_longer_than_ms_span),
		cmocka_unit_test(test_hold_exact),
		cmocka_unit_test(test_hold_level_resets_sweep),
		cmocka_unit_test(test_hold_level_resets_check),
		cmocka_unit_test(test_release_check),
		cmocka_unit_test(test_release_sweep),
		cmocka_unit_test(test_release_ms_wrap),
		cmocka_unit_test(test_total_keeps_token),
		cmocka_unit_test(test_total_shared),
		cmocka_unit_test(test_tbucket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
