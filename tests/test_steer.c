/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dnsrlctl show, release, hold and allow as the daemon runs them
 * (steer_run), over a real bucket table and policy, with the clock
 * stepped by the test: what each says, what it changes (the table's own
 * verdicts are the check: a released source passes at once, a held one is
 * refused to the end of its hold and not a nanosecond after), and every
 * mistake's message.  The kernel's part is test_holds' and t_steer's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "allowlist.h"
#include "config.h"
#include "limiter.h"
#include "policy.h"
#include "steer.h"

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)
#define T0 (1000 * SEC)
#define REAL0 INT64_C(1767225600000)
#define A4(a, b, c, d)                                                    \
	((uint64_t)(a) << 24 | (uint64_t)(b) << 16 | (uint64_t)(c) << 8 | \
	 (uint64_t)(d))

static const char conf_text[] =
	"allow 203.0.113.0/24\n"
	"serve 198.51.100.0/24 203.0.113.0/24 2001:db8::/32\n"
	"rule any-abuse {\n"
	"\tqtype ANY\n"
	"\tlimit 2/1s\n"
	"\thold-down 30s\n"
	"}\n"
	"rule txt {\n"
	"\tqtype TXT\n"
	"\tlimit 10/1s\n"
	"\tipv4-prefix 24\n"
	"\tipv6-prefix 48\n"
	"}\n"
	"answer-rule big {\n"
	"\tlimit 5/1s\n"
	"}\n";

struct fixture {
	struct config *cfg;
	struct policy *p;
	struct limiter *l;
	struct allowlist *a;
	const struct limiter_rule *lims[LIMITER_RULE_IDS];
	unsigned any, txt;
	struct steer_ctx ctx;
	char dir[40], file[96];
	char *text; /* the last answer */
};

static unsigned id_of(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < policy_nrules(p); i++) {
		unsigned id = policy_rule_id(p, i);

		if (strcmp(policy_rule_by_id(p, id)->name, name) == 0)
			return id;
	}
	fail_msg("no rule %s", name);
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[CONFIG_ERR_MAX];

	assert_non_null(f);
	f->cfg = config_parse("t.conf", conf_text, strlen(conf_text), err,
			      sizeof(err));
	if (f->cfg == NULL)
		fail_msg("%s", err);
	f->p = policy_new(f->cfg, NULL, NULL);
	f->l = limiter_new(4096, false);
	f->a = allowlist_new();
	assert_non_null(f->p);
	assert_non_null(f->l);
	assert_non_null(f->a);
	policy_limiter_rules(f->p, f->lims);
	f->any = id_of(f->p, "any-abuse");
	f->txt = id_of(f->p, "txt");
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_steer.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->file, sizeof(f->file), "%s/allow.state", f->dir);
	f->ctx = (struct steer_ctx){
		.limiter = f->l,
		.policy = f->p,
		.cfg = f->cfg,
		.allow = f->a,
		.allow_file = f->file,
		.now = T0,
		.real_ms = REAL0,
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[80];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f->text);
	allowlist_free(f->a);
	limiter_free(f->l);
	policy_free(f->p);
	config_free(f->cfg);
	free(f);
	return 0;
}

/* Moves the fixture's clocks to now (monotonic ns). */
static void at(struct fixture *f, uint64_t now)
{
	f->ctx.real_ms = REAL0 + (int64_t)((now - T0) / MS);
	f->ctx.now = now;
}

/* Runs line at the fixture's now; the answer is in f->text. */
static int run(struct fixture *f, const char *line)
{
	struct steer_who who = {.uid = 0, .pid = 4242};
	size_t len = 0;
	FILE *out;
	int rc;

	free(f->text);
	f->text = NULL;
	out = open_memstream(&f->text, &len);
	assert_non_null(out);
	rc = steer_run(&f->ctx, line, &who, out);
	assert_int_equal(fclose(out), 0);
	return rc;
}

static void expect(struct fixture *f, const char *line, const char *text)
{
	assert_int_equal(run(f, line), 0);
	assert_string_equal(f->text, text);
}

static void expect_has(struct fixture *f, const char *line, const char *part)
{
	assert_int_equal(run(f, line), 0);
	if (strstr(f->text, part) == NULL)
		fail_msg("'%s': no '%s' in:\n%s", line, part, f->text);
}

static void expect_err(struct fixture *f, const char *line, const char *msg)
{
	char want[1024];

	assert_int_equal(run(f, line), -EINVAL);
	snprintf(want, sizeof(want), "%s\n", msg);
	assert_string_equal(f->text, want);
}

/* A query of rule id from IPv4 key at now: the table's verdict. */
static enum limiter_verdict query(struct fixture *f, unsigned id, int fam,
				  uint64_t key, uint64_t now)
{
	struct limiter_counters c = {0};
	struct limiter_event ev[2];
	int nev;

	return limiter_check(f->l, f->lims[id], fam, key, now, &c, ev, &nev);
}

/*
 * Three ANY from key every 100 ms from T0 until held.  2/1s is a token
 * every 500 ms, a burst of 2: at T0 two pass and one is refused (the
 * episode begins); then each 500 ms one passes, the others are refused;
 * at T0 + 1 s, a whole second into the episode, the first refusal holds
 * it.  29 refusals by then: 1 at T0, 3 at each of the eight 100 ms steps
 * but T0 + 0.5 s, 2 there, 2 at T0 + 1 s.  Returns when it was held.
 */
static uint64_t flood(struct fixture *f, uint64_t key)
{
	struct limiter_state st;

	for (uint64_t t = T0; t < T0 + 3 * SEC; t += 100 * MS) {
		for (int i = 0; i < 3; i++)
			query(f, f->any, 4, key, t);
		if (limiter_lookup(f->l, f->lims[f->any], 4, key, t, &st) ==
			    0 &&
		    st.held)
			return t;
	}
	fail_msg("not held");
	return 0;
}

static void test_show_never_limited(void **state)
{
	struct fixture *f = *state;

	expect(f, "show 198.51.100.7",
	       "198.51.100.7: not on an allow-list\n"
	       "rule any-abuse: 198.51.100.7/32 no state: not limited, bucket "
	       "full\n"
	       "rule txt: 198.51.100.0/24 no state: not limited, bucket full\n"
	       "answer-rule big: 198.51.100.7/32 no state: not limited, "
	       "bucket full\n");
	expect(f, "show 2001:db8:2:1::1",
	       "2001:db8:2:1::1: not on an allow-list\n"
	       "rule any-abuse: 2001:db8:2::/56 no state: not limited, bucket "
	       "full\n"
	       "rule txt: 2001:db8:2::/48 no state: not limited, bucket full\n"
	       "answer-rule big: 2001:db8:2::/56 no state: not limited, "
	       "bucket full\n");
	expect_has(f, "show 203.0.113.9",
		   "203.0.113.9: on the configuration's allow-list (allow "
		   "203.0.113.0/24): never limited\n");
	expect_has(f, "show 198.18.0.1",
		   "198.18.0.1: not in serve: its queries are never judged\n");
	/* one query: the bucket, not an episode */
	query(f, f->any, 4, A4(198, 51, 100, 7), T0);
	expect_has(f, "show 198.51.100.7",
		   "rule any-abuse: 198.51.100.7/32 not limited; bucket 1 of "
		   "2, full in 500ms\n");
}

static void test_show_held_and_release(void **state)
{
	struct fixture *f = *state;
	const uint64_t key = A4(198, 51, 100, 66);
	uint64_t h = flood(f, key);

	assert_int_equal(h, T0 + SEC);
	at(f, h + 100 * MS);
	assert_int_equal(query(f, f->any, 4, key, f->ctx.now), LIMITER_HELD);
	expect(f, "show 198.51.100.66",
	       "198.51.100.66: not on an allow-list\n"
	       "rule any-abuse: 198.51.100.66/32 held, 30s left, level 1; "
	       "limited for 1.1s, 30 refused\n"
	       "rule txt: 198.51.100.0/24 no state: not limited, bucket full\n"
	       "answer-rule big: 198.51.100.66/32 no state: not limited, "
	       "bucket full\n");
	/* a release under another rule finds nothing */
	expect(f, "release 198.51.100.66 txt",
	       "rule txt: 198.51.100.0/24 not held or limited (bucket full): "
	       "nothing to release\n"
	       "nothing to release: 198.51.100.66 is not held or limited "
	       "under rule txt\n");
	assert_int_equal(query(f, f->any, 4, key, f->ctx.now), LIMITER_HELD);
	expect_has(f, "release 198.51.100.66",
		   "rule any-abuse: 198.51.100.66/32 released (was held, 30s "
		   "left, level 1; limited for 1.1s, 31 refused)\n");
	/* served at once: a full bucket of 2 */
	assert_int_equal(query(f, f->any, 4, key, f->ctx.now), LIMITER_PASS);
	assert_int_equal(query(f, f->any, 4, key, f->ctx.now), LIMITER_PASS);
	assert_int_equal(query(f, f->any, 4, key, f->ctx.now), LIMITER_OVER);
	at(f, f->ctx.now + SEC);
	expect(f, "release 198.51.100.66 any-abuse",
	       "rule any-abuse: 198.51.100.66/32 not held or limited (bucket "
	       "full): nothing to release\n"
	       "nothing to release: 198.51.100.66 is not held or limited "
	       "under rule any-abuse\n");
	expect_err(f, "release 198.51.100.66 nope",
		   "release: no rule 'nope'; the rules are: any-abuse, txt, "
		   "big");
}

/* A prefix wider than the rule's: every source of it. */
static void test_range(void **state)
{
	struct fixture *f = *state;

	for (int a = 1; a <= 3; a++)
		flood(f, A4(198, 51, 100, a));
	at(f, T0 + 1200 * MS);
	/* a bucket not full is a source the table knows too */
	query(f, f->any, 4, A4(198, 51, 101, 1), f->ctx.now);
	assert_int_equal(run(f, "show 198.51.100.0/24"), 0);
	assert_non_null(strstr(f->text, "rule any-abuse: 3 sources of "
					"198.51.100.0/24 in the table (per "
					"/32)\n"
					"  198.51.100.1/32 held, 30s left"));
	assert_non_null(strstr(f->text, "\n  198.51.100.3/32 held, 30s left"));
	assert_non_null(strstr(f->text, "rule txt: 198.51.100.0/24 no state"));
	expect_has(f, "show 198.51.100.0/23",
		   "rule any-abuse: 4 sources of 198.51.100.0/23 in the table "
		   "(per /32)\n");
	expect_has(f, "show 198.51.102.0/24",
		   "rule any-abuse: 0 sources of 198.51.102.0/24 in the table "
		   "(per /32): none limited, every bucket full\n");
	expect_has(f, "release 198.51.100.0/24 any-abuse",
		   "rule any-abuse: the sources of 198.51.100.0/24 (per /32):\n"
		   "  198.51.100.");
	for (int a = 1; a <= 3; a++)
		assert_int_equal(query(f, f->any, 4, A4(198, 51, 100, a),
				       f->ctx.now),
				 LIMITER_PASS);
	expect_has(f, "release 198.51.100.0/24 any-abuse",
		   "  none held or limited: nothing to release\n"
		   "nothing to release: 198.51.100.0/24 is not held or limited "
		   "under rule any-abuse\n");
}

static void test_hold(void **state)
{
	struct fixture *f = *state;
	const uint64_t key = A4(198, 51, 100, 9);

	expect(f, "hold 198.51.100.9 any-abuse 10m",
	       "rule any-abuse: 198.51.100.9/32 held for 10m (level 1)\n");
	assert_int_equal(query(f, f->any, 4, key, T0), LIMITER_HELD);
	assert_int_equal(query(f, f->any, 4, key, T0 + 600 * SEC - 1),
			 LIMITER_HELD);
	assert_int_equal(query(f, f->any, 4, key, T0 + 600 * SEC),
			 LIMITER_PASS);
	/* the rule's bucket is a /24: the address's /24 is held */
	expect(f, "hold 198.51.100.9 txt 1h",
	       "rule txt: 198.51.100.0/24 held for 1h (level 1)\n");
	assert_int_equal(query(f, f->txt, 4, A4(198, 51, 100, 0),
			       T0 + 3600 * SEC - 1),
			 LIMITER_HELD);
	/* held again while held: the level it has, the new time */
	at(f, T0 + SEC);
	expect(f, "hold 198.51.100.0/24 txt 2s",
	       "rule txt: 198.51.100.0/24 held for 2s (level 1) (was held, "
	       "59m59s left, level 1; limited for 1s, 1 refused)\n");
	assert_int_equal(query(f, f->txt, 4, A4(198, 51, 100, 0),
			       T0 + 3 * SEC - 1),
			 LIMITER_HELD);
	assert_int_equal(query(f, f->txt, 4, A4(198, 51, 100, 0), T0 + 3 * SEC),
			 LIMITER_PASS);
	/* answers: by destination */
	expect(f, "hold 2001:db8:9::1 big 30s",
	       "answer-rule big: 2001:db8:9::/56 held for 30s (level 1)\n");

	expect_err(f, "hold 198.51.100.0/24 any-abuse 10m",
		   "hold: 198.51.100.0/24 is wider than the buckets of rule "
		   "any-abuse (/32): give an address, or a prefix of /32 or "
		   "longer");
	expect_err(f, "hold 203.0.113.5 any-abuse 10m",
		   "hold: 203.0.113.5/32 shares addresses with the "
		   "configuration's allow 203.0.113.0/24, which are never "
		   "limited");
	expect_err(f, "hold 198.18.0.1 any-abuse 10m",
		   "hold: 198.18.0.1/32 is not in serve: its queries are never "
		   "judged");
	expect_err(f, "hold 198.51.100.9 any-abuse 0",
		   "hold: expected 1s..7d, got 0");
	expect_err(f, "hold 198.51.100.9 any-abuse 8d",
		   "hold: expected 1s..7d, got 8d");
	expect_err(f, "hold 198.51.100.9 any-abuse 10",
		   "hold: '10' needs a unit: ms, s, m, h or d");
	expect_err(f, "hold 198.51.100.9 nope 10m",
		   "hold: no rule 'nope'; the rules are: any-abuse, txt, big");
	expect_err(f, "hold 198.51.100.9 any-abuse",
		   "hold: expected an address or a prefix, a rule and a "
		   "duration, such as hold 198.51.100.7 any-abuse 10m");
}

static void test_allow(void **state)
{
	struct fixture *f = *state;
	struct allowlist *back = allowlist_new();
	const uint64_t key = A4(198, 51, 100, 66);
	struct limiter_state st;
	char err[512];
	uint64_t h = flood(f, key);

	at(f, h);
	expect(f, "allow",
	       "the temporary allow-list is empty (at most 64 "
	       "entries)\n");
	expect_has(f, "allow 198.51.100.64/26 3s",
		   "allowed: 198.51.100.64/26 for 3s, until ");
	/* what it held is released, said under its rule */
	assert_non_null(strstr(f->text,
			       "rule any-abuse: the sources of "
			       "198.51.100.64/26 (per /32):\n"
			       "  198.51.100.66/32 released (was held, 30s "
			       "left, level 1;"));
	assert_non_null(strstr(f->text, "kept over a reload and a restart ("));
	assert_int_equal(limiter_lookup(f->l, f->lims[f->any], 4, key,
					f->ctx.now, &st),
			 0);
	assert_false(st.held);
	/* the workers' check: through until the end, not after */
	assert_true(allowlist_has(f->a, AF_INET,
				  (const uint8_t[]){198, 51, 100, 66},
				  h + 3 * SEC - 1));
	assert_false(allowlist_has(f->a, AF_INET,
				   (const uint8_t[]){198, 51, 100, 66},
				   h + 3 * SEC));
	expect_has(f, "allow",
		   "the temporary allow-list: 1 entry (at most "
		   "64)\n  198.51.100.64/26");
	expect_has(f, "show 198.51.100.70",
		   "198.51.100.70: on the temporary allow-list "
		   "(198.51.100.64/26, by uid 0): 3s left, until ");
	expect_err(f, "hold 198.51.100.70 any-abuse 1m",
		   "hold: 198.51.100.70/32 shares addresses with "
		   "198.51.100.64/26 on the temporary allow-list; take that "
		   "away first: dnsrlctl allow 198.51.100.64/26 0");
	/* kept in the file, which a restart reads */
	assert_int_equal(allowlist_load(back, f->file, 0, T0, f->ctx.real_ms,
					err, sizeof(err)),
			 1);
	/* at its end the tick takes it away and writes the file again */
	at(f, h + 3 * SEC - 1);
	steer_expire(&f->ctx);
	expect_has(f, "allow", "1 entry");
	at(f, h + 3 * SEC);
	steer_expire(&f->ctx);
	expect_has(f, "allow", "is empty");
	allowlist_free(back);
	back = allowlist_new();
	assert_int_equal(allowlist_load(back, f->file, 0, T0, f->ctx.real_ms,
					err, sizeof(err)),
			 0);
	/* longer, then shorter, then taken away */
	expect_has(f, "allow 2001:db8:53::/48 1h",
		   "allowed: 2001:db8:53::/48 for 1h, until ");
	expect_has(f, "allow 2001:db8:53::/48 10m", "; it had 1h left\n");
	expect_has(f, "allow 2001:db8:53::/48 0",
		   "taken away: 2001:db8:53::/48 (it had 10m left)\n");
	expect_has(f, "allow 2001:db8:53::/48 0",
		   "2001:db8:53::/48 is not on the temporary allow-list: "
		   "nothing to take away\n");
	expect_err(f, "allow 2001:db8:53::/48 8d",
		   "allow: expected 0 or 1s..7d, got 8d");
	expect_err(f, "allow 2001:db8:53::/48",
		   "allow: expected a prefix and a duration (0 takes the entry "
		   "away), such as allow 198.51.100.0/24 1h");
	allowlist_free(back);
}

/* Without a file to keep it in, the answer says a restart forgets it. */
static void test_allow_not_kept(void **state)
{
	struct fixture *f = *state;

	f->ctx.allow_file = NULL;
	expect_has(f, "allow 198.51.100.7 1m",
		   "kept over a reload, not over a restart (no control socket "
		   "directory to keep it in)\n");
	snprintf(f->file, sizeof(f->file), "%s/none/allow.state", f->dir);
	f->ctx.allow_file = f->file;
	expect_has(f, "allow 198.51.100.8 1m",
		   "kept over a reload, not over a restart: ");
	for (int i = 2; i < ALLOWLIST_MAX; i++) {
		char line[64];

		snprintf(line, sizeof(line), "allow 198.18.1.%d 1m", i);
		assert_int_equal(run(f, line), 0);
	}
	assert_int_equal(run(f, "allow 198.18.2.0/24 1m"), -ENOSPC);
	assert_string_equal(f->text,
			    "allow: the temporary allow-list is full (64 "
			    "entries): take one away (dnsrlctl allow PREFIX "
			    "0), or put the prefix in the configuration's "
			    "allow\n");
}

/* What a hold on its way to the kernel meets. */
static void test_keep_out(void **state)
{
	struct fixture *f = *state;
	const uint64_t key = A4(198, 51, 100, 66);

	/* the table has not seen it (a flood evicted it): in it goes */
	assert_false(steer_keep_out(&f->ctx, f->any, 4, key));
	at(f, flood(f, key));
	assert_false(steer_keep_out(&f->ctx, f->any, 4, key));
	assert_int_equal(run(f, "release 198.51.100.66"), 0);
	assert_true(steer_keep_out(&f->ctx, f->any, 4, key));
	/* let through: kept out, held or not */
	at(f, flood(f, A4(198, 51, 100, 67)) + 5 * SEC);
	at(f, flood(f, A4(198, 51, 100, 67)));
	assert_int_equal(run(f, "allow 198.51.100.67 1m"), 0);
	query(f, f->any, 4, A4(198, 51, 100, 67), f->ctx.now);
	assert_true(steer_keep_out(&f->ctx, f->any, 4, A4(198, 51, 100, 67)));
	/* a rule the policy has not */
	assert_false(steer_keep_out(&f->ctx, 200, 4, key));
}

static void test_bad_requests(void **state)
{
	struct fixture *f = *state;

	expect_err(f, "",
		   "expected show, release, hold or allow and their "
		   "arguments");
	expect_err(f, "frob 1", "expected show, release, hold or allow");
	expect_err(f, "show",
		   "show: expected an address or a prefix, such as "
		   "198.51.100.7 or 2001:db8::/56");
	expect_err(f, "show 198.51.100.7 x",
		   "show: expected an address or a prefix, such as "
		   "198.51.100.7 or 2001:db8::/56");
	expect_err(f, "show 198.51.100.300",
		   "show: expected an address or prefix such as "
		   "203.0.113.0/24 or 2001:db8::/32, got '198.51.100.300'");
	expect_err(f, "release 198.51.100.7/24",
		   "release: 198.51.100.7/24 has host bits set; did you mean "
		   "198.51.100.0/24?");
	expect_err(f, "release \x01\xff",
		   "release: expected an address or prefix such as "
		   "203.0.113.0/24 or 2001:db8::/32, got '\\001\\255'");
	expect_err(f, "release",
		   "release: expected an address or a prefix, and a rule or "
		   "none (every rule), such as release 198.51.100.7 "
		   "any-abuse");
	expect_err(f, "release 198.51.100.7 any-abuse x",
		   "release: expected an address or a prefix, and a rule or "
		   "none (every rule), such as release 198.51.100.7 "
		   "any-abuse");
	expect_err(f, "a b c d e f",
		   "expected show, release, hold or allow "
		   "and their arguments");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_show_never_limited),
		T(test_show_held_and_release),
		T(test_range),
		T(test_hold),
		T(test_allow),
		T(test_allow_not_kept),
		T(test_keep_out),
		T(test_bad_requests),
	};

	/* the notices go to syslog; the tests read the answers */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
