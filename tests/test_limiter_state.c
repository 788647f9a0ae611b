/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What an operator sees of the bucket table and does to it (dnsrlctl
 * show, release, hold): limiter_lookup, limiter_release, limiter_scan and
 * limiter_restore, with the clock stepped by the test.  Each expected
 * figure follows from the GCRA arithmetic of `limit N/T` (a token every
 * T/N, a burst of N) and the episode rules of limiter.h, worked out in
 * the comments; the table's answers to limiter_check are the other side
 * of each check.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "limiter.h"
#include "limiter_helpers.h"

#define T0 (1000 * SEC) /* a start far from 0, as a monotonic clock is */
#define KEY 0xc6336442u /* 198.51.100.66 */

/* Three queries at once from KEY under the bot rule (2/5s): the third is
 * the first refusal, at T0. */
static void first_refusal(struct limiter *l, struct rec *rc,
			  const struct limiter_rule *r)
{
	assert_int_equal(check(l, rc, r, KEY, T0), LIMITER_PASS);
	assert_int_equal(check(l, rc, r, KEY, T0), LIMITER_PASS);
	assert_int_equal(check(l, rc, r, KEY, T0), LIMITER_OVER);
}

/*
 * Then a query every 250 ms: one in ten passes (a token every 2.5 s), the
 * others are refused, until the first refusal 5 s (a whole period) into
 * the episode holds it: at T0 + 5.25 s (T0 + 5 s passes: its bucket is
 * then exactly tau ahead).  Returns when; *refused counts the refusals.
 */
static uint64_t held_after_5s(struct limiter *l, struct rec *rc,
			      const struct limiter_rule *r, uint32_t *refused)
{
	first_refusal(l, rc, r);
	*refused = 1;
	for (uint64_t t = T0 + 250 * MS; t <= T0 + 6 * SEC; t += 250 * MS) {
		enum limiter_verdict v = check(l, rc, r, KEY, t);

		*refused += v != LIMITER_PASS;
		if (rc->ev[rc->nev - 1].kind == LIMITER_EV_HELD) {
			assert_int_equal(t, T0 + 5250 * MS);
			return t;
		}
	}
	fail_msg("not held within 6 s");
	return 0;
}

static void test_lookup_bucket(void **state)
{
	struct limiter *l = table(1024, false);
	struct limiter_rule r;
	struct limiter_state st;
	struct rec rc = {0};

	(void)state;
	bot_rule(&r);
	assert_int_equal(limiter_lookup(l, &r, 4, KEY, T0, &st), -ENOENT);
	/* one query: the bucket is 2.5 s (one token) ahead of now */
	assert_int_equal(check(l, &rc, &r, KEY, T0), LIMITER_PASS);
	assert_int_equal(limiter_lookup(l, &r, 4, KEY, T0, &st), 0);
	assert_int_equal(st.rule, 3);
	assert_int_equal(st.family, 4);
	assert_int_equal(st.key, KEY);
	assert_int_equal(st.backlog, 2500 * MS);
	assert_false(st.limited);
	assert_false(st.held);
	assert_int_equal(st.hold_left, 0);
	/* a second later, 1.5 s */
	assert_int_equal(limiter_lookup(l, &r, 4, KEY, T0 + SEC, &st), 0);
	assert_int_equal(st.backlog, 1500 * MS);
	/* another family, another rule: other slots */
	assert_int_equal(limiter_lookup(l, &r, 6, KEY, T0, &st), -ENOENT);
	r.id = 4;
	assert_int_equal(limiter_lookup(l, &r, 4, KEY, T0, &st), -ENOENT);
	r.id = 0;
	assert_int_equal(limiter_lookup(l, &r, 4, KEY, T0, &st), -ENOENT);
	limiter_free(l);
}

static void test_lookup_episode(void **state)
{
	struct limiter *l = table(1024, false);
	struct limiter_rule r;
	struct limiter_state st;
	struct rec rc = {0};

	(void)state;
	bot_rule(&r);
	first_refusal(l, &rc, &r);
	/* 1 s into the episode: it ends 5 s after its one refusal */
	assert_int_equal(limiter_lookup(l, &r, 4, KEY, T0 + SEC, &st), 0);
	assert_true(st.limited);
	assert_false(st.held);
	assert_int_equal(st.drops, 1);
	assert_int_equal(st.level, 0);
	assert_int_equal(st.limited_for, SEC);
	assert_int_equal(st.quiet_left, 4 * SEC);
	/* two tokens spent at T0: 5 s ahead, 4 s a second later; a bucket
	 * that far ahead (over tau, 2.5 s) refuses */
	assert_int_equal(st.backlog, 4 * SEC);
	assert_true(st.backlog > r.rate.tau);
	/* at T0 + 5 s, with no other refusal, the episode is over though
	 * nothing has said so yet: not limited */
	assert_int_equal(limiter_lookup(l, &r, 4, KEY, T0 + 5 * SEC, &st), 0);
	assert_false(st.limited);
	assert_int_equal(st.quiet_left, 0);
	assert_int_equal(st.backlog, 0);
	limiter_free(l);
}

static void test_lookup_held(void **state)
{
	struct limiter *l = table(1024, false);
	struct limiter_rule r;
	struct limiter_state st;
	struct rec rc = {0};
	uint32_t refused;
	uint64_t h;

	(void)state;
	bot_rule(&r);
	h = held_after_5s(l, &rc, &r, &refused);
	/* 1 at T0, then 19 of the 21 queries from T0 + 250 ms to T0 +
	 * 5.25 s (those at T0 + 2.5 s and T0 + 5 s passed) */
	assert_int_equal(refused, 20);
	/* held for 10 min from h, at level 1 */
	assert_int_equal(limiter_lookup(l, &r, 4, KEY, h + 60 * SEC, &st), 0);
	assert_true(st.held);
	assert_true(st.limited);
	assert_int_equal(st.level, 1);
	assert_int_equal(st.drops, refused);
	assert_int_equal(st.hold_left, 10 * MIN - 60 * SEC);
	assert_int_equal(st.limited_for, h + 60 * SEC - T0);
	/* the hold's last ns, then its end */
	assert_int_equal(limiter_lookup(l, &r, 4, KEY, h + 10 * MIN - 1, &st),
			 0);
	assert_true(st.held);
	assert_int_equal(st.hold_left, 1);
	assert_int_equal(limiter_lookup(l, &r, 4, KEY, h + 10 * MIN, &st), 0);
	assert_false(st.held);
	limiter_free(l);
}

/* A release serves the source at once, with a full bucket, and its next
 * episode starts again at level 0. */
static void test_release(void **state)
{
	struct limiter *l = table(1024, false);
	struct limiter_rule r;
	struct limiter_state was, st;
	struct rec rc = {0};
	uint32_t refused;
	uint64_t t, h;

	(void)state;
	bot_rule(&r);
	h = held_after_5s(l, &rc, &r, &refused);
	t = h + SEC;
	assert_int_equal(check(l, &rc, &r, KEY, t), LIMITER_HELD);
	assert_int_equal(limiter_release(l, &r, 4, KEY, t, &was), 0);
	assert_true(was.held);
	assert_int_equal(was.level, 1);
	assert_int_equal(was.drops, refused + 1);
	assert_int_equal(was.hold_left, 10 * MIN - SEC);
	/* the slot stays, neither limited nor held, its bucket full */
	assert_int_equal(limiter_lookup(l, &r, 4, KEY, t, &st), 0);
	assert_false(st.limited);
	assert_false(st.held);
	assert_int_equal(st.backlog, 0);
	assert_int_equal(st.drops, 0);
	/* a burst of 2 at once, then refused: a new episode */
	assert_int_equal(check(l, &rc, &r, KEY, t), LIMITER_PASS);
	assert_int_equal(check(l, &rc, &r, KEY, t), LIMITER_PASS);
	assert_int_equal(limiter_release(l, &r, 4, KEY, t, &was), -EALREADY);
	assert_false(was.limited);
	assert_int_equal(was.backlog, 5 * SEC);
	assert_int_equal(check(l, &rc, &r, KEY, t), LIMITER_OVER);
	assert_int_equal(rc.ev[rc.nev - 1].kind, LIMITER_EV_LIMITED);
	/* refused every 250 ms again: held 5.25 s on, for the first
	 * hold-down (10 min, level 1), not the doubled one the old
	 * episode was due */
	for (uint64_t s = 250 * MS; s <= 5250 * MS; s += 250 * MS)
		check(l, &rc, &r, KEY, t + s);
	assert_int_equal(rc.ev[rc.nev - 1].kind, LIMITER_EV_HELD);
	assert_int_equal(rc.ev_at[rc.nev - 1], t + 5250 * MS);
	assert_int_equal(rc.ev[rc.nev - 1].hold, 10 * MIN);
	assert_int_equal(rc.ev[rc.nev - 1].level, 1);
	/* a key the table never had */
	assert_int_equal(limiter_release(l, &r, 4, KEY + 1, t, &was), -ENOENT);
	limiter_free(l);
}

/* An operator's hold (limiter_restore) on a fresh source: refused until
 * exactly its end, then served. */
static void test_operator_hold(void **state)
{
	struct limiter *l = table(1024, false);
	struct limiter_rule r;
	struct limiter_state st;
	struct limiter_counters c = {0};
	struct rec rc = {0};

	(void)state;
	bot_rule(&r);
	assert_int_equal(limiter_restore(l, &r, 4, KEY, 1, 60 * SEC, T0, &c),
			 0);
	assert_int_equal(limiter_lookup(l, &r, 4, KEY, T0, &st), 0);
	assert_true(st.held);
	assert_int_equal(st.hold_left, 60 * SEC);
	assert_int_equal(st.level, 1);
	assert_int_equal(check(l, &rc, &r, KEY, T0 + 60 * SEC - 1),
			 LIMITER_HELD);
	assert_int_equal(check(l, &rc, &r, KEY, T0 + 60 * SEC), LIMITER_PASS);
	limiter_free(l);
}

struct seen_states {
	struct limiter_state st[32];
	int n;
};

static void on_state(void *arg, const struct limiter_state *st)
{
	struct seen_states *s = arg;

	assert_true(s->n < 32);
	s->st[s->n++] = *st;
}

static bool saw(const struct seen_states *s, uint64_t key)
{
	for (int i = 0; i < s->n; i++)
		if (s->st[i].key == key)
			return true;
	return false;
}

/*
 * A wide prefix: the scan finds the sources of the rule and family in it,
 * live ones only, and a release scan ends the episodes of those in one.
 */
static void test_scan(void **state)
{
	struct limiter *l = table(4096, true);
	struct limiter_rule r, other;
	struct seen_states s = {0};
	struct rec rc = {0};
	const uint64_t in24 = 0xc6336400u, mask24 = 0xffffff00u;
	const uint64_t v6 = UINT64_C(0x20010db800020000); /* 2001:db8:2::/56 */

	(void)state;
	bot_rule(&r);
	rule_init(&other, 9, 2, 5 * SEC);
	/* 198.51.100.1-4 limited, .5 one query, .6 a bucket refilled;
	 * 198.51.101.1 limited, outside; the same address under another
	 * rule and in IPv6 */
	for (uint64_t a = 1; a <= 4; a++)
		for (int i = 0; i < 3; i++)
			check(l, &rc, &r, in24 | a, T0);
	check(l, &rc, &r, in24 | 5, T0);
	check(l, &rc, &r, in24 | 6, T0 - 10 * SEC);
	for (int i = 0; i < 3; i++) {
		check(l, &rc, &r, 0xc6336501u, T0);
		check(l, &rc, &other, in24 | 1, T0);
		check_fam(l, &rc, &r, 6, v6, T0);
	}
	assert_int_equal(limiter_scan(l, &r, 4, in24, mask24, T0, false,
				      on_state, &s),
			 5);
	for (uint64_t a = 1; a <= 5; a++)
		assert_true(saw(&s, in24 | a));
	s.n = 0;
	assert_int_equal(limiter_scan(l, &r, 4, in24, mask24, T0, true,
				      on_state, &s),
			 4);
	for (int i = 0; i < s.n; i++)
		assert_true(s.st[i].limited);
	assert_false(saw(&s, in24 | 5));
	/* released: each serves at once; the others are still limited */
	for (uint64_t a = 1; a <= 4; a++)
		assert_int_equal(check(l, &rc, &r, in24 | a, T0), LIMITER_PASS);
	assert_int_equal(check(l, &rc, &r, 0xc6336501u, T0), LIMITER_OVER);
	assert_int_equal(check(l, &rc, &other, in24 | 1, T0), LIMITER_OVER);
	assert_int_equal(check_fam(l, &rc, &r, 6, v6, T0), LIMITER_OVER);
	/* IPv6: 2001:db8::/32 holds the /56 */
	s.n = 0;
	assert_int_equal(limiter_scan(l, &r, 6, UINT64_C(0x20010db800000000),
				      UINT64_C(0xffffffff00000000), T0, true,
				      on_state, &s),
			 1);
	assert_int_equal(s.st[0].key, v6);
	assert_int_equal(check_fam(l, &rc, &r, 6, v6, T0), LIMITER_PASS);
	limiter_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_bucket),
		cmocka_unit_test(test_lookup_episode),
		cmocka_unit_test(test_lookup_held),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_operator_hold),
		cmocka_unit_test(test_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
