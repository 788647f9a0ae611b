/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the limiter tests share: a table with a fixed hash key, checks that
 * record their events, and whole sweep and walk passes.  Header-only: each
 * test includes it once.
 */
#ifndef DNSRL_TESTS_LIMITER_HELPERS_H
#define DNSRL_TESTS_LIMITER_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "limiter.h"

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)

#define MAX_EVENTS 64

static const uint8_t test_hash_key[LIMITER_HASH_KEY_LEN] = {
	0x6b, 0x0e, 0x43, 0x91, 0xd2, 0x5a, 0x17, 0xc8,
	0x3f, 0xa4, 0x70, 0x2d, 0xe9, 0x86, 0x51, 0xbc,
};

/* What a sequence of checks (or sweeps) produced. */
struct rec {
	struct limiter_counters c;
	struct limiter_event ev[MAX_EVENTS];
	uint64_t ev_at[MAX_EVENTS];
	int nev;      /* all events, even past MAX_EVENTS */
	uint64_t now; /* for the sweep callback */
};

static inline void rec_add(struct rec *rc, const struct limiter_event *ev,
			   uint64_t now)
{
	if (rc->nev < MAX_EVENTS) {
		rc->ev[rc->nev] = *ev;
		rc->ev_at[rc->nev] = now;
	}
	rc->nev++;
}

static inline void on_sweep_event(void *arg, const struct limiter_event *ev)
{
	struct rec *rc = arg;

	rec_add(rc, ev, rc->now);
}

static inline struct limiter *table(size_t capacity, bool shared)
{
	struct limiter *l = limiter_new(capacity, shared);

	assert_non_null(l);
	limiter_set_hash_key(l, test_hash_key);
	return l;
}

static inline void rule_init(struct limiter_rule *r, uint8_t id, uint32_t n,
			     uint64_t period)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	limiter_rate_init(&r->rate, n, period);
}

static inline enum limiter_verdict check_fam(struct limiter *l, struct rec *rc,
					     const struct limiter_rule *r,
					     int family, uint64_t key,
					     uint64_t now)
{
	struct limiter_event ev[2];
	enum limiter_verdict v;
	int nev = -1;

	v = limiter_check(l, r, family, key, now, &rc->c, ev, &nev);
	assert_in_range(nev, 0, 2);
	for (int i = 0; i < nev; i++)
		rec_add(rc, &ev[i], now);
	return v;
}

static inline enum limiter_verdict check(struct limiter *l, struct rec *rc,
					 const struct limiter_rule *r,
					 uint64_t key, uint64_t now)
{
	return check_fam(l, rc, r, 4, key, now);
}

static inline void assert_event(const struct rec *rc, int i, uint64_t at,
				int kind, uint8_t rule, uint64_t key,
				uint32_t drops, uint8_t level, uint64_t hold)
{
	assert_true(i < rc->nev);
	assert_int_equal(rc->ev_at[i], at);
	assert_int_equal(rc->ev[i].kind, kind);
	assert_int_equal(rc->ev[i].rule, rule);
	assert_int_equal(rc->ev[i].family, 4);
	assert_int_equal(rc->ev[i].key, key);
	assert_int_equal(rc->ev[i].drops, drops);
	assert_int_equal(rc->ev[i].level, level);
	assert_int_equal(rc->ev[i].hold, hold);
}

/* The bot's rule (id 3) of test_limiter.c: 2/5s, a 10 min hold-down
 * doubling to 40 min. */
static inline void bot_rule(struct limiter_rule *r)
{
	rule_init(r, 3, 2, 5 * SEC);
	r->hold = 10 * MIN;
	r->hold_max = 40 * MIN;
}

/* One whole sweep pass; returns what it counted. */
static inline size_t sweep_all(struct limiter *l, struct limiter_sweep *sw,
			       struct rec *rc, uint64_t now)
{
	rc->now = now;
	memset(sw, 0, sizeof(*sw));
	assert_true(limiter_sweep(l, sw, limiter_capacity(l) / 2, now,
				  on_sweep_event, rc));
	return sw->last_used;
}

struct walked {
	struct limiter_entry e[16];
	int n;
};

static inline void on_walk(void *arg, const struct limiter_entry *e)
{
	struct walked *w = arg;

	assert_true(w->n < 16);
	w->e[w->n++] = *e;
}

#endif
