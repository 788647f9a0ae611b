/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The limiter's bucket table, with the clock stepped by the test: sizes,
 * load factor, eviction order, chosen collisions, sweep, forget and walk,
 * source keys, and threads sharing a table.  Counts are exact: each figure
 * below is derived in a comment from the table's rules.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "limiter.h"
#include "limiter_helpers.h"
#include "siphash.h"

/* The table's choice of buckets, redone here so tests can aim keys. */
static void candidates(size_t nbuckets, uint64_t key, uint8_t rule,
		       uint8_t family, size_t *b1, size_t *b2)
{
	uint64_t k[2];
	uint64_t h;

	siphash13_key(k, test_hash_key);
	h = siphash13_16(k, key, (uint64_t)rule | (uint64_t)family << 8);
	*b1 = (size_t)(((uint64_t)(uint32_t)h * nbuckets) >> 32);
	*b2 = (size_t)(((h >> 32) * nbuckets) >> 32);
	if (*b2 == *b1)
		*b2 = (*b1 + 1) % nbuckets;
}

/* The next key from *ctr whose first (and, unless -1, second) candidate
 * bucket is the one wanted. */
static uint64_t aim_key(uint64_t *ctr, size_t nbuckets, uint8_t rule,
			long want1, long want2)
{
	for (;;) {
		uint64_t key = (*ctr)++;
		size_t b1, b2;

		candidates(nbuckets, key, rule, 4, &b1, &b2);
		if ((long)b1 == want1 && (want2 < 0 || (long)b2 == want2))
			return key;
	}
}

static const struct limiter_entry *walked_find(const struct walked *w,
					       uint64_t key, uint8_t rule)
{
	for (int i = 0; i < w->n; i++)
		if (w->e[i].key == key && w->e[i].rule == rule)
			return &w->e[i];
	return NULL;
}

/* ---- the table ---- */

static void test_new_sizes(void **state)
{
	struct limiter *l;

	(void)state;
	errno = 0;
	assert_null(limiter_new(3, false)); /* less than one bucket */
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(limiter_new(((size_t)1 << 31) + 1, false));
	assert_int_equal(errno, EINVAL);
	limiter_free(NULL);

	l = limiter_new(5, true);
	assert_non_null(l);
	assert_int_equal(limiter_capacity(l), 8);
	assert_int_equal(limiter_bytes(l), 256);
	limiter_free(l);
	l = limiter_new(1000000, false);
	assert_non_null(l);
	assert_int_equal(limiter_capacity(l), 1000000);
	assert_int_equal(limiter_bytes(l), 32000000);
	limiter_free(l);
}

/* Capacity 2 is one bucket: both candidates are the same. */
static void test_one_bucket(void **state)
{
	struct limiter *l = table(4, true);
	struct limiter_rule r;
	struct rec rc = {0};

	(void)state;
	rule_init(&r, 1, 1, HOUR);
	for (uint64_t k = 1; k <= 5; k++)
		assert_int_equal(check(l, &rc, &r, k, 0), LIMITER_PASS);
	assert_int_equal(rc.c.inserted, 4);
	assert_int_equal(rc.c.evicted, 1);
	/* Key 1 (the smallest tat, by a tie broken in slot order) went;
	 * keys 2 to 5 are still there, with no token. */
	assert_int_equal(check(l, &rc, &r, 5, 0), LIMITER_OVER);
	assert_int_equal(check(l, &rc, &r, 2, 0), LIMITER_OVER);
	assert_int_equal(rc.c.evicted, 1);
	limiter_free(l);
}

/*
 * 10x capacity distinct keys at one instant, each left live (tat an hour
 * ahead).  Nothing refills, so nothing is reused; a slot once filled stays
 * filled, so inserted = slots in use, and every other new key evicts.
 */
static void run_flood(struct limiter *l, bool fixed)
{
	const size_t cap = limiter_capacity(l);
	struct limiter_sweep sw;
	struct limiter_rule r;
	struct rec rc = {0};

	rule_init(&r, 4, 1, HOUR);
	for (uint64_t k = 0; k < 10 * cap; k++)
		assert_int_equal(check(l, &rc, &r, 0x0a000000 + k, 9 * SEC),
				 LIMITER_PASS);
	assert_int_equal(rc.c.inserted + rc.c.reused + rc.c.evicted, 10 * cap);
	assert_int_equal(rc.c.reused, 0);
	assert_int_equal(rc.c.evicted_limited, 0);
	assert_int_equal(sweep_all(l, &sw, &rc, 9 * SEC), rc.c.inserted);
	assert_int_equal(sw.last_live[4], rc.c.inserted);
	assert_true(sw.last_used <= cap);
	assert_int_equal(rc.c.evicted, 10 * cap - rc.c.inserted);
	/* With this hash key every slot got used (it need not, in theory). */
	if (fixed)
		assert_int_equal(rc.c.inserted, cap);
	assert_int_equal(rc.nev, 0);
}

static void test_flood_fixed_key(void **state)
{
	struct limiter *l = table(1000, false);

	(void)state;
	run_flood(l, true);
	limiter_free(l);
}

static void test_flood_random_key(void **state)
{
	struct limiter *l = limiter_new(4096, true);

	(void)state;
	assert_non_null(l);
	run_flood(l, false);
	limiter_free(l);
}

/*
 * 4 buckets of 2.  Buckets 0 and 1 are filled at 0 s, 2 and 3 at 5 s,
 * all with 1/10s, so at 10 s the first half has refilled.  New keys then
 * take the refilled slots, even from their second candidate, before any
 * live bucket is evicted.
 */
static void test_reuse_before_evict(void **state)
{
	struct limiter *l = table(8, false);
	struct limiter_sweep sw;
	struct limiter_rule r;
	struct rec rc = {0};
	uint64_t ctr = 1, live[4];

	(void)state;
	rule_init(&r, 1, 1, 10 * SEC);
	for (long b = 0; b < 4; b++) {
		for (int j = 0; j < 2; j++) {
			uint64_t k = aim_key(&ctr, 4, 1, b, -1);

			if (b >= 2)
				live[(b - 2) * 2 + j] = k;
			assert_int_equal(check(l, &rc, &r, k,
					       b < 2 ? 0 : 5 * SEC),
					 LIMITER_PASS);
		}
	}
	assert_int_equal(rc.c.inserted, 8);
	assert_int_equal(rc.c.evicted, 0);
	assert_int_equal(sweep_all(l, &sw, &rc, 5 * SEC), 8);
	assert_int_equal(sweep_all(l, &sw, &rc, 10 * SEC), 4);

	/* First candidate live, second refilled. */
	assert_int_equal(check(l, &rc, &r, aim_key(&ctr, 4, 1, 2, 0), 10 * SEC),
			 LIMITER_PASS);
	assert_int_equal(check(l, &rc, &r, aim_key(&ctr, 4, 1, 3, 1), 10 * SEC),
			 LIMITER_PASS);
	assert_int_equal(check(l, &rc, &r, aim_key(&ctr, 4, 1, 0, -1),
			       10 * SEC),
			 LIMITER_PASS);
	assert_int_equal(check(l, &rc, &r, aim_key(&ctr, 4, 1, 1, -1),
			       10 * SEC),
			 LIMITER_PASS);
	assert_int_equal(rc.c.reused, 4);
	assert_int_equal(rc.c.evicted, 0);
	assert_int_equal(rc.c.inserted, 8);
	/* The live ones are all still there: found, so no token. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(check(l, &rc, &r, live[i], 10 * SEC),
				 LIMITER_OVER);
	assert_int_equal(rc.c.reused + rc.c.evicted + rc.c.inserted, 12);
	/* Now all eight are live: the next new key must evict. */
	assert_int_equal(check(l, &rc, &r, aim_key(&ctr, 4, 1, 0, -1),
			       10 * SEC),
			 LIMITER_PASS);
	assert_int_equal(rc.c.evicted, 1);
	assert_int_equal(rc.c.reused, 4);
	limiter_free(l);
}

/*
 * A refilled bucket in a limited episode still carries the episode: its
 * slot is not free.  Bucket 0 holds A (limited, drops at 0 and 9 s, so
 * its episode lasts to 19 s) and B, both refilled at 10 s; buckets 1-3
 * are live until 15 s.  At 10 s one new key takes B's slot; the next must
 * evict (the live bucket closest to refilling), not take A's.
 */
static void test_limited_not_reused(void **state)
{
	const struct limiter_rule *rules[LIMITER_RULE_IDS] = {0};
	struct limiter *l = table(8, false);
	struct limiter_rule r;
	struct rec rc = {0};
	struct walked w = {0};
	uint64_t ctr = 1, a, b;

	(void)state;
	rule_init(&r, 1, 1, 10 * SEC);
	rules[1] = &r;
	a = aim_key(&ctr, 4, 1, 0, -1);
	b = aim_key(&ctr, 4, 1, 0, -1);
	check(l, &rc, &r, a, 0);
	check(l, &rc, &r, b, 0);
	assert_int_equal(check(l, &rc, &r, a, 0), LIMITER_OVER);
	assert_int_equal(check(l, &rc, &r, a, 9 * SEC), LIMITER_OVER);
	for (long bk = 1; bk < 4; bk++)
		for (int j = 0; j < 2; j++)
			check(l, &rc, &r, aim_key(&ctr, 4, 1, bk, -1), 5 * SEC);
	assert_int_equal(rc.c.inserted, 8);

	check(l, &rc, &r, aim_key(&ctr, 4, 1, 0, 1), 10 * SEC);
	assert_int_equal(rc.c.reused, 1);
	assert_int_equal(rc.c.evicted, 0);
	check(l, &rc, &r, aim_key(&ctr, 4, 1, 0, 1), 10 * SEC);
	assert_int_equal(rc.c.reused, 1);
	assert_int_equal(rc.c.evicted, 1);
	assert_int_equal(rc.c.evicted_limited, 0);
	limiter_walk(l, rules, 10 * SEC, on_walk, &w);
	assert_int_equal(w.n, 1);
	assert_int_equal(w.e[0].key, a);
	assert_int_equal(w.e[0].drops, 2);
	limiter_free(l);
}

/*
 * 2 buckets: every key's candidates are the whole table of four slots.
 * Rule A (1/1s, hold 10 s) gives a held source with a small tat (11.2 s);
 * rule B (1/1000s) limited ones with tat near 1001 s; rule C (1/5000s) a
 * live, not limited one with the largest tat of all.  The victim order
 * must be by kind first (not limited, limited, held), tat second.
 */
static void test_evict_order(void **state)
{
	const struct limiter_rule *rules[LIMITER_RULE_IDS] = {0};
	struct limiter *l = table(4, false);
	struct limiter_rule a, b, c;
	struct rec rc = {0};
	struct walked w = {0};

	(void)state;
	rule_init(&a, 1, 1, SEC);
	a.hold = 10 * SEC;
	a.hold_max = 10 * SEC;
	rule_init(&b, 2, 1, 1000 * SEC);
	rule_init(&c, 3, 1, 5000 * SEC);
	rules[1] = &a;
	rules[2] = &b;
	rules[3] = &c;

	/* held: drops at 0.1 and 0.6 s (so the episode lasts), another a
	 * whole second after the first */
	check(l, &rc, &a, 40, 0);
	check(l, &rc, &a, 40, 100 * MS);
	check(l, &rc, &a, 40, 600 * MS);
	assert_int_equal(check(l, &rc, &a, 40, 1100 * MS), LIMITER_PASS);
	assert_int_equal(check(l, &rc, &a, 40, 1200 * MS), LIMITER_OVER);
	assert_int_equal(check(l, &rc, &a, 40, 1200 * MS), LIMITER_HELD);
	/* limited: tat 1001.2 s and 1001.25 s */
	check(l, &rc, &b, 30, 1200 * MS);
	assert_int_equal(check(l, &rc, &b, 30, 1200 * MS), LIMITER_OVER);
	check(l, &rc, &b, 20, 1250 * MS);
	assert_int_equal(check(l, &rc, &b, 20, 1250 * MS), LIMITER_OVER);
	/* live, not limited: tat 5001.3 s */
	check(l, &rc, &c, 10, 1300 * MS);
	assert_int_equal(rc.c.inserted, 4);
	assert_int_equal(rc.c.evicted, 0);

	/* The not limited one goes first, though its tat is the largest. */
	check(l, &rc, &c, 11, 1300 * MS);
	assert_int_equal(rc.c.evicted, 1);
	assert_int_equal(rc.c.evicted_limited, 0);
	limiter_walk(l, rules, 1300 * MS, on_walk, &w);
	assert_int_equal(w.n, 3);
	assert_non_null(walked_find(&w, 40, 1));
	assert_non_null(walked_find(&w, 30, 2));
	assert_non_null(walked_find(&w, 20, 2));
	/* 10 is gone: it comes back as new and evicts 11 (not limited). */
	assert_int_equal(check(l, &rc, &c, 10, 1300 * MS), LIMITER_PASS);
	assert_int_equal(rc.c.evicted, 2);
	assert_int_equal(rc.c.evicted_limited, 0);
	assert_int_equal(check(l, &rc, &c, 10, 1300 * MS), LIMITER_OVER);

	/* All four limited, one held with the smallest tat: the limited one
	 * with the smallest tat goes (30), not the held one. */
	check(l, &rc, &c, 12, 1300 * MS);
	assert_int_equal(rc.c.evicted, 3);
	assert_int_equal(rc.c.evicted_limited, 1);
	w.n = 0;
	limiter_walk(l, rules, 1300 * MS, on_walk, &w);
	assert_int_equal(w.n, 3);
	assert_non_null(walked_find(&w, 40, 1));
	assert_non_null(walked_find(&w, 20, 2));
	assert_non_null(walked_find(&w, 10, 3));
	assert_true(walked_find(&w, 40, 1)->held);

	/* 12 is not limited yet: it goes before 20. */
	check(l, &rc, &c, 13, 1300 * MS);
	assert_int_equal(rc.c.evicted, 4);
	assert_int_equal(rc.c.evicted_limited, 1);
	assert_int_equal(check(l, &rc, &c, 13, 1300 * MS), LIMITER_OVER);
	check(l, &rc, &c, 14, 1300 * MS);
	assert_int_equal(rc.c.evicted, 5);
	assert_int_equal(rc.c.evicted_limited, 2);
	w.n = 0;
	limiter_walk(l, rules, 1300 * MS, on_walk, &w);
	assert_int_equal(w.n, 3);
	assert_null(walked_find(&w, 20, 2));
	assert_non_null(walked_find(&w, 40, 1));
	limiter_free(l);
}

/* When all four are held, the one closest to its end goes; never a
 * failure. */
static void test_evict_held(void **state)
{
	const struct limiter_rule *rules[LIMITER_RULE_IDS] = {0};
	static const uint64_t phase[5] = {0, 100 * MS, 600 * MS, 1100 * MS,
					  1200 * MS};
	struct limiter *l = table(4, false);
	struct limiter_rule a;
	struct rec rc = {0};
	struct walked w = {0};

	(void)state;
	rule_init(&a, 1, 1, SEC);
	a.hold = 10 * SEC;
	a.hold_max = 10 * SEC;
	rules[1] = &a;
	for (int p = 0; p < 5; p++)
		for (uint64_t k = 0; k < 4; k++)
			check(l, &rc, &a, 50 + k, phase[p] + k * 10 * MS);
	limiter_walk(l, rules, 2 * SEC, on_walk, &w);
	assert_int_equal(w.n, 4);
	for (int i = 0; i < 4; i++)
		assert_true(w.e[i].held);

	assert_int_equal(check(l, &rc, &a, 99, 2 * SEC), LIMITER_PASS);
	assert_int_equal(rc.c.evicted, 1);
	assert_int_equal(rc.c.evicted_limited, 1);
	w.n = 0;
	limiter_walk(l, rules, 2 * SEC, on_walk, &w);
	assert_int_equal(w.n, 3);
	assert_null(walked_find(&w, 50, 1));
	limiter_free(l);
}

/*
 * Occupancy: as many distinct live sources as slots, all at one instant.
 * Four-slot buckets filled by the less loaded of two choices keep over 90%
 * of them (two-slot buckets kept about 85%); the rest evict.
 */
static void test_load_factor(void **state)
{
	struct limiter *l = table(65536, false);
	const size_t cap = limiter_capacity(l);
	struct limiter_rule r;
	struct rec rc = {0};

	(void)state;
	rule_init(&r, 1, 1, HOUR);
	for (uint64_t k = 0; k < cap; k++)
		check(l, &rc, &r, 0x0a000000 + k, SEC);
	assert_int_equal(rc.c.inserted + rc.c.evicted, cap);
	assert_true(rc.c.inserted * 100 >= cap * 90);
	limiter_free(l);
}

/*
 * An attacker who knew the hash key could pick sources that all land in
 * the same two buckets and evict each other (or anyone else there).  The
 * set below is built for a fixed key, modelling the bucket choice the way
 * the table makes it; against that key it collides, against the random
 * key every table is made with it does not.
 */
static void attacker_buckets(const uint64_t k[2], uint64_t key, size_t n,
			     size_t *b1, size_t *b2)
{
	uint64_t h = siphash13_16(k, key, 1 | (uint64_t)4 << 8);

	*b1 = (size_t)(((uint64_t)(uint32_t)h * n) >> 32);
	*b2 = (size_t)(((uint64_t)(uint32_t)(h >> 32) * n) >> 32);
}

static void test_chosen_collisions(void **state)
{
	const size_t nbuckets = 256, want = 64;
	uint64_t k[2], keys[64];
	size_t found = 0;
	struct limiter_rule r;
	struct rec fixed = {0}, random = {0};
	struct limiter *l;

	(void)state;
	siphash13_key(k, test_hash_key);
	for (uint64_t key = 0x0a000000; found < want; key++) {
		size_t b1, b2;

		attacker_buckets(k, key, nbuckets, &b1, &b2);
		if (b1 <= 1 && b2 <= 1 && b1 != b2)
			keys[found++] = key;
	}
	rule_init(&r, 1, 1, HOUR);

	/* the key the set was built for: 64 sources for 8 slots */
	l = table(nbuckets * 4, false);
	for (size_t i = 0; i < want; i++)
		check(l, &fixed, &r, keys[i], SEC);
	assert_int_equal(fixed.c.inserted, 8);
	assert_int_equal(fixed.c.evicted, want - 8);
	limiter_free(l);

	/* the key limiter_new() draws from getrandom(): no collision */
	for (int round = 0; round < 20; round++) {
		l = limiter_new(nbuckets * 4, false);
		assert_non_null(l);
		for (size_t i = 0; i < want; i++)
			check(l, &random, &r, keys[i], SEC);
		limiter_free(l);
	}
	assert_int_equal(random.c.inserted, 20 * want);
	assert_int_equal(random.c.evicted, 0);
}

/* ---- sweep, forget, walk ---- */

static void test_sweep_incremental(void **state)
{
	struct limiter *l = table(64, false);
	struct limiter_rule r1, r7;
	struct limiter_sweep sw = {0};
	struct rec rc = {0};

	(void)state;
	rule_init(&r1, 1, 1, 10 * SEC);
	rule_init(&r7, 7, 1, 10 * SEC);
	for (uint64_t k = 0; k < 20; k++)
		check(l, &rc, &r1, k, 0);
	for (uint64_t k = 0; k < 3; k++)
		check(l, &rc, &r7, k, 0);
	check(l, &rc, &r7, 0, 0); /* limited */
	assert_int_equal(rc.c.evicted, 0);

	/* 16 buckets: 5 + 5 + 5 + 1 */
	assert_false(limiter_sweep(l, &sw, 5, SEC, NULL, NULL));
	assert_false(limiter_sweep(l, &sw, 5, SEC, NULL, NULL));
	assert_false(limiter_sweep(l, &sw, 5, SEC, NULL, NULL));
	assert_int_equal(sw.next, 15);
	assert_true(limiter_sweep(l, &sw, 1, SEC, NULL, NULL));
	assert_int_equal(sw.next, 0);
	assert_int_equal(sw.last_live[1], 20);
	assert_int_equal(sw.last_live[7], 3);
	assert_int_equal(sw.last_used, 23);
	assert_int_equal(sw.live[1], 0);

	/* At 10 s all have refilled; the limited one is live until its
	 * episode ends (at 10 s: drop at 0 + 10 s), and the sweep ends it. */
	rc.now = 10 * SEC - MS;
	assert_true(
		limiter_sweep(l, &sw, 32, 10 * SEC - MS, on_sweep_event, &rc));
	assert_int_equal(sw.last_used, 23);
	rc.now = 10 * SEC;
	assert_true(limiter_sweep(l, &sw, 32, 10 * SEC, on_sweep_event, &rc));
	assert_int_equal(sw.last_live[1], 0);
	assert_int_equal(sw.last_live[7], 0);
	assert_int_equal(sw.last_used, 0);
	assert_int_equal(rc.nev, 2);
	assert_event(&rc, 1, 10 * SEC, LIMITER_EV_RELEASED, 7, 0, 1, 0, 0);
	limiter_free(l);
}

static void test_forget(void **state)
{
	bool keep[LIMITER_RULE_IDS] = {false};
	const struct limiter_rule *rules[LIMITER_RULE_IDS] = {0};
	struct limiter *l = table(64, true);
	struct limiter_rule r[3];
	struct limiter_sweep sw;
	struct rec rc = {0};
	struct walked w = {0};

	(void)state;
	for (int i = 0; i < 3; i++) {
		rule_init(&r[i], (uint8_t)(i + 1), 1, 10 * SEC);
		rules[i + 1] = &r[i];
		for (uint64_t k = 0; k < 5; k++)
			check(l, &rc, &r[i], k, 0);
		check(l, &rc, &r[i], 0, 0); /* key 0 limited */
	}
	assert_int_equal(rc.c.inserted, 15);
	sweep_all(l, &sw, &rc, 0);
	for (int id = 1; id <= 3; id++)
		assert_int_equal(sw.last_live[id], 5);

	keep[1] = keep[3] = true;
	limiter_forget(l, keep);
	sweep_all(l, &sw, &rc, 0);
	assert_int_equal(sw.last_live[1], 5);
	assert_int_equal(sw.last_live[2], 0);
	assert_int_equal(sw.last_live[3], 5);
	limiter_walk(l, rules, 0, on_walk, &w);
	assert_int_equal(w.n, 2);
	assert_non_null(walked_find(&w, 0, 1));
	assert_non_null(walked_find(&w, 0, 3));
	/* Rule 2's sources start afresh in empty slots; rule 1's are kept. */
	assert_int_equal(check(l, &rc, &r[1], 3, 0), LIMITER_PASS);
	assert_int_equal(rc.c.inserted, 16);
	assert_int_equal(check(l, &rc, &r[0], 3, 0), LIMITER_OVER);
	assert_int_equal(rc.c.inserted, 16);
	limiter_free(l);
}

static void test_walk(void **state)
{
	const struct limiter_rule *rules[LIMITER_RULE_IDS] = {0};
	const struct limiter_entry *e;
	struct limiter *l = table(64, false);
	struct limiter_rule r, q;
	struct rec rc = {0};
	struct walked w = {0};

	(void)state;
	bot_rule(&r);
	rule_init(&q, 9, 1, SEC);
	rules[3] = &r;
	for (uint64_t sec = 0; sec <= 9; sec++)
		check(l, &rc, &r, 100, sec * SEC); /* held from 7 s */
	for (uint64_t sec = 0; sec <= 3; sec++)
		check(l, &rc, &r, 200, sec * SEC); /* limited at 2 s */
	check(l, &rc, &r, 300, 0);		   /* not limited */
	check(l, &rc, &q, 400, 0);
	check_fam(l, &rc, &q, 6, 400, 0);
	check_fam(l, &rc, &q, 6, 400, 0); /* limited, rule not in rules[] */

	limiter_walk(l, rules, 10 * SEC, on_walk, &w);
	assert_int_equal(w.n, 3);
	e = walked_find(&w, 100, 3);
	assert_non_null(e);
	assert_true(e->held);
	assert_int_equal(e->family, 4);
	assert_int_equal(e->level, 1);
	assert_int_equal(e->drops, 6); /* 2, 4, 6, 7 s, held at 8 and 9 */
	e = walked_find(&w, 200, 3);
	assert_non_null(e);
	assert_false(e->held);
	assert_int_equal(e->level, 0);
	assert_int_equal(e->drops, 1);
	e = walked_find(&w, 400, 9);
	assert_non_null(e);
	assert_int_equal(e->family, 6);
	assert_false(e->held);
	assert_int_equal(e->drops, 1);

	/* The hold ends at 607 s. */
	w.n = 0;
	limiter_walk(l, rules, 607 * SEC - 1, on_walk, &w);
	assert_true(walked_find(&w, 100, 3)->held);
	w.n = 0;
	limiter_walk(l, rules, 607 * SEC, on_walk, &w);
	assert_false(walked_find(&w, 100, 3)->held);
	limiter_free(l);
}

/* ---- keys ---- */

static void test_key_ipv4(void **state)
{
	const uint8_t a[4] = {198, 51, 100, 77};

	(void)state;
	assert_int_equal(limiter_key(4, a, 0), 0);
	assert_int_equal(limiter_key(4, a, 8), 0xc6000000);
	assert_int_equal(limiter_key(4, a, 24), 0xc6336400);
	assert_int_equal(limiter_key(4, a, 31), 0xc633644c);
	assert_int_equal(limiter_key(4, a, 32), 0xc633644d);
}

static void test_key_ones(void **state)
{
	uint8_t a[16];

	(void)state;
	memset(a, 0xff, sizeof(a));
	assert_int_equal(limiter_key(4, a, 0), 0);
	assert_int_equal(limiter_key(4, a, 1), 0x80000000);
	assert_int_equal(limiter_key(4, a, 8), 0xff000000);
	assert_int_equal(limiter_key(4, a, 24), 0xffffff00);
	assert_int_equal(limiter_key(4, a, 31), 0xfffffffe);
	assert_int_equal(limiter_key(4, a, 32), 0xffffffff);
	assert_int_equal(limiter_key(6, a, 0), 0);
	assert_int_equal(limiter_key(6, a, 1), UINT64_C(0x8000000000000000));
	assert_int_equal(limiter_key(6, a, 32), UINT64_C(0xffffffff00000000));
	assert_int_equal(limiter_key(6, a, 48), UINT64_C(0xffffffffffff0000));
	assert_int_equal(limiter_key(6, a, 56), UINT64_C(0xffffffffffffff00));
	assert_int_equal(limiter_key(6, a, 63), UINT64_C(0xfffffffffffffffe));
	assert_int_equal(limiter_key(6, a, 64), UINT64_MAX);
}

static void test_key_ipv6(void **state)
{
	const uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 0xaa, 0xaa, 0xbb, 0xcc,
			       0xdd, 0xee, 0xff, 0x00, 0x11, 0x22, 0x33, 0x44};

	(void)state;
	assert_int_equal(limiter_key(6, a, 0), 0);
	assert_int_equal(limiter_key(6, a, 32), UINT64_C(0x20010db800000000));
	assert_int_equal(limiter_key(6, a, 48), UINT64_C(0x20010db8aaaa0000));
	assert_int_equal(limiter_key(6, a, 56), UINT64_C(0x20010db8aaaabb00));
	assert_int_equal(limiter_key(6, a, 60), UINT64_C(0x20010db8aaaabbc0));
	assert_int_equal(limiter_key(6, a, 64), UINT64_C(0x20010db8aaaabbcc));
}

/* The same prefix from different hosts is one key, hence one bucket. */
static void test_key_aggregates(void **state)
{
	const uint8_t a[4] = {198, 51, 100, 1}, b[4] = {198, 51, 100, 200};
	struct limiter *l = table(64, false);
	struct limiter_rule r;
	struct rec rc = {0};

	(void)state;
	rule_init(&r, 1, 2, 5 * SEC);
	assert_int_equal(limiter_key(4, a, 24), limiter_key(4, b, 24));
	assert_int_not_equal(limiter_key(4, a, 32), limiter_key(4, b, 32));
	check(l, &rc, &r, limiter_key(4, a, 24), 0);
	check(l, &rc, &r, limiter_key(4, b, 24), 0);
	assert_int_equal(check(l, &rc, &r, limiter_key(4, a, 24), 0),
			 LIMITER_OVER);
	/* family and rule are part of the key */
	assert_int_equal(check_fam(l, &rc, &r, 6, limiter_key(4, a, 24), 0),
			 LIMITER_PASS);
	r.id = 2;
	assert_int_equal(check(l, &rc, &r, limiter_key(4, a, 24), 0),
			 LIMITER_PASS);
	limiter_free(l);
}

static void test_key_text(void **state)
{
	char buf[64];

	(void)state;
	limiter_key_text(4, 0xc6336400, 24, buf, sizeof(buf));
	assert_string_equal(buf, "198.51.100.0/24");
	limiter_key_text(4, 0xc633644d, 32, buf, sizeof(buf));
	assert_string_equal(buf, "198.51.100.77/32");
	limiter_key_text(4, 0, 0, buf, sizeof(buf));
	assert_string_equal(buf, "0.0.0.0/0");
	limiter_key_text(6, UINT64_C(0x20010db8aaaabb00), 56, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8:aaaa:bb00::/56");
	limiter_key_text(6, UINT64_C(0x20010db800000000), 32, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::/32");
	limiter_key_text(6, UINT64_C(0x20010db800000001), 64, buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8:0:1::/64");
	limiter_key_text(6, 0, 0, buf, sizeof(buf));
	assert_string_equal(buf, "::/0");
	/* cut, and NUL-terminated */
	memset(buf, 'x', sizeof(buf));
	limiter_key_text(4, 0xc6336400, 24, buf, 8);
	assert_string_equal(buf, "198.51.");
}

/* ---- threads ---- */

struct worker {
	struct limiter *l;
	const struct limiter_rule *r;
	struct tbucket *tb;
	pthread_barrier_t *start;
	int iters;
	uint64_t passes;
};

static void *check_worker(void *arg)
{
	struct worker *w = arg;
	struct limiter_counters c = {0};
	struct limiter_event ev[2];
	int nev;

	pthread_barrier_wait(w->start);
	for (int i = 0; i < w->iters; i++)
		w->passes += limiter_check(w->l, w->r, 4, 0xc6336401, 42 * SEC,
					   &c, ev, &nev) == LIMITER_PASS;
	return NULL;
}

static void *take_worker(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(w->start);
	for (int i = 0; i < w->iters; i++)
		w->passes += tbucket_take(w->tb, 42 * SEC);
	return NULL;
}

static uint64_t run_threads(void *(*fn)(void *), struct limiter *l,
			    const struct limiter_rule *r, struct tbucket *tb,
			    int iters)
{
	pthread_barrier_t start;
	struct worker w[2];
	pthread_t t[2];

	assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
	for (int i = 0; i < 2; i++) {
		w[i] = (struct worker){l, r, tb, &start, iters, 0};
		assert_int_equal(pthread_create(&t[i], NULL, fn, &w[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	pthread_barrier_destroy(&start);
	return w[0].passes + w[1].passes;
}

/* 2 x 100000 checks of one key, 1000 tokens: 1000 passes. */
static void test_threads_shared(void **state)
{
	struct limiter *l = table(1024, true);
	struct limiter_rule r;

	(void)state;
	rule_init(&r, 1, 1000, 1000 * HOUR);
	assert_int_equal(run_threads(check_worker, l, &r, NULL, 100000), 1000);
	limiter_free(l);
}

/*
 * The same with every check a pass that writes, so the threads contend
 * all the way (and long enough to overlap on a busy machine): 2001000
 * tokens, 2 x 1000000 checks, and exactly 1000 must be left; a lost
 * update would leave more.
 */
static void test_threads_shared_contended(void **state)
{
	struct limiter *l = table(1024, true);
	struct limiter_rule r;
	struct rec rc = {0};
	int left = 0;

	(void)state;
	rule_init(&r, 1, 2001000, 1000 * HOUR);
	assert_int_equal(run_threads(check_worker, l, &r, NULL, 1000000),
			 2000000);
	while (check(l, &rc, &r, 0xc6336401, 42 * SEC) == LIMITER_PASS)
		left++;
	assert_int_equal(left, 1000);
	limiter_free(l);
}

static void test_threads_tbucket(void **state)
{
	struct tbucket tb;
	int left = 0;

	(void)state;
	tbucket_init(&tb, 1000, 1000 * HOUR);
	assert_int_equal(run_threads(take_worker, NULL, NULL, &tb, 100000),
			 1000);
	tbucket_init(&tb, 2001000, 1000 * HOUR);
	assert_int_equal(run_threads(take_worker, NULL, NULL, &tb, 1000000),
			 2000000);
	while (tbucket_take(&tb, 42 * SEC))
		left++;
	assert_int_equal(left, 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_sizes),
		cmocka_unit_test(test_one_bucket),
		cmocka_unit_test(test_flood_fixed_key),
		cmocka_unit_test(test_flood_random_key),
		cmocka_unit_test(test_reuse_before_evict),
		cmocka_unit_test(test_limited_not_reused),
		cmocka_unit_test(test_evict_order),
		cmocka_unit_test(test_evict_held),
		cmocka_unit_test(test_load_factor),
		cmocka_unit_test(test_chosen_collisions),
		cmocka_unit_test(test_sweep_incremental),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_key_ipv4),
		cmocka_unit_test(test_key_ones),
		cmocka_unit_test(test_key_ipv6),
		cmocka_unit_test(test_key_aggregates),
		cmocka_unit_test(test_key_text),
		cmocka_unit_test(test_threads_shared),
		cmocka_unit_test(test_threads_shared_contended),
		cmocka_unit_test(test_threads_tbucket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
