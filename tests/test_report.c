/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reports: the top sources per rule from a table filled through
 * limiter_check with the clock stepped, their text and syslog lines, the
 * counters as text and as an atomically written Prometheus file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "limiter.h"
#include "policy.h"
#include "report.h"
#include "stats.h"

#include "pktbuild.h"

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)
#define T0 (10 * SEC)

static const uint8_t test_hash_key[LIMITER_HASH_KEY_LEN] = {
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
	0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01,
};

static const char policy_text[] = "rule any-abuse {\n"
				  "\tqtype ANY\n"
				  "\tlimit 2/5s\n"
				  "\thold-down 10m\n"
				  "}\n"
				  "rule big-txt {\n"
				  "\tqtype TXT\n"
				  "\tlimit 2/5s\n"
				  "\tipv4-prefix 24\n"
				  "\tipv6-prefix 48\n"
				  "}\n"
				  "rule quiet {\n"
				  "\tqtype RRSIG\n"
				  "\tlimit 2/5s\n"
				  "}\n";

enum { ANY_ABUSE, BIG_TXT, QUIET };

struct fixture {
	struct config *cfg;
	struct policy *pol;
	struct limiter *lim;
	const struct limiter_rule *rules[LIMITER_RULE_IDS];
	struct limiter_counters c;
};

static struct fixture *fixture_new(const char *text, size_t capacity)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[CONFIG_ERR_MAX];

	assert_non_null(f);
	f->cfg =
		config_parse("test.conf", text, strlen(text), err, sizeof(err));
	if (f->cfg == NULL)
		fail_msg("config: %s", err);
	f->pol = policy_new(f->cfg, NULL, NULL);
	assert_non_null(f->pol);
	f->lim = limiter_new(capacity, false);
	assert_non_null(f->lim);
	limiter_set_hash_key(f->lim, test_hash_key);
	policy_limiter_rules(f->pol, f->rules);
	return f;
}

static void fixture_free(struct fixture *f)
{
	limiter_free(f->lim);
	policy_free(f->pol);
	config_free(f->cfg);
	free(f);
}

static unsigned rule_id(const struct fixture *f, size_t i)
{
	return policy_rule_id(f->pol, i);
}

/* Sends n queries of rule i from the address src at time now; counts
 * the verdicts into v (indexed by enum limiter_verdict). */
static void burst(struct fixture *f, size_t i, const char *src, unsigned n,
		  uint64_t now, unsigned v[LIMITER_NVERDICTS])
{
	const struct config_rule *cr = policy_rule_by_id(f->pol, rule_id(f, i));
	uint8_t a[16];
	int family = strchr(src, ':') != NULL ? 6 : 4;
	uint64_t key;

	assert_int_equal(inet_pton(family == 4 ? AF_INET : AF_INET6, src, a),
			 1);
	key = limiter_key(family, a,
			  family == 4 ? cr->ipv4_prefix : cr->ipv6_prefix);
	memset(v, 0, LIMITER_NVERDICTS * sizeof(v[0]));
	for (unsigned k = 0; k < n; k++) {
		struct limiter_event ev[2];
		int nev;

		v[limiter_check(f->lim, f->rules[rule_id(f, i)], family, key,
				now, &f->c, ev, &nev)]++;
	}
}

static void assert_verdicts(const unsigned v[LIMITER_NVERDICTS], unsigned pass,
			    unsigned over, unsigned held)
{
	assert_int_equal(v[LIMITER_PASS], pass);
	assert_int_equal(v[LIMITER_OVER], over);
	assert_int_equal(v[LIMITER_HELD], held);
	assert_int_equal(v[LIMITER_TOTAL], 0);
}

/*
 * The offenders every test below reports on.  Under 2/5s a fresh source
 * passes twice at once and is refused after; tokens come back one per
 * 2.5 s.
 */
static struct fixture *filled(void)
{
	struct fixture *f = fixture_new(policy_text, 4096);
	unsigned v[LIMITER_NVERDICTS];

	/* 198.51.100.66: 2 pass and 1 drop at T0 (the episode starts); at
	 * T0+4.9s one token is back (tat T0+5s is within the 2.5 s burst
	 * tolerance of now), so 1 pass and 1 drop; at T0+5s one more token
	 * (tat T0+7.5s), then a drop a whole period after the first: the
	 * hold-down starts, and the 492 after it are refused as held.
	 * Drops: 1 + 1 + 1 + 492 = 495. */
	burst(f, ANY_ABUSE, "198.51.100.66", 3, T0, v);
	assert_verdicts(v, 2, 1, 0);
	burst(f, ANY_ABUSE, "198.51.100.66", 2, T0 + 4900 * MS, v);
	assert_verdicts(v, 1, 1, 0);
	burst(f, ANY_ABUSE, "198.51.100.66", 494, T0 + 5 * SEC, v);
	assert_verdicts(v, 1, 1, 492);

	/* Fresh sources at T0+5s: n queries, n - 2 drops. */
	burst(f, ANY_ABUSE, "198.51.100.67", 122, T0 + 5 * SEC, v);
	assert_verdicts(v, 2, 120, 0);
	/* /56: 2001:db8:2::/56 */
	burst(f, ANY_ABUSE, "2001:db8:2::1", 82, T0 + 5 * SEC, v);
	assert_verdicts(v, 2, 80, 0);
	/* three with 10 each: IPv4 before IPv6, low addresses first */
	burst(f, ANY_ABUSE, "2001:db8:3::1", 12, T0 + 5 * SEC, v);
	burst(f, ANY_ABUSE, "198.51.100.69", 12, T0 + 5 * SEC, v);
	burst(f, ANY_ABUSE, "198.51.100.68", 12, T0 + 5 * SEC, v);
	assert_verdicts(v, 2, 10, 0);
	/* within its limit: never reported */
	burst(f, ANY_ABUSE, "203.0.113.9", 2, T0 + 5 * SEC, v);
	assert_verdicts(v, 2, 0, 0);

	/* big-txt aggregates /24: .66 and .67 share one bucket, 10 queries
	 * and 8 drops; /48 for IPv6: 4 queries, 2 drops. */
	burst(f, BIG_TXT, "198.51.100.66", 5, T0 + 5 * SEC, v);
	burst(f, BIG_TXT, "198.51.100.67", 5, T0 + 5 * SEC, v);
	assert_verdicts(v, 0, 5, 0);
	burst(f, BIG_TXT, "2001:db8:2:ff::1", 4, T0 + 5 * SEC, v);
	assert_verdicts(v, 2, 2, 0);
	return f;
}

static uint64_t v4key(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return ntohl(a.s_addr);
}

static uint64_t v6key(const char *s)
{
	uint8_t a[16];
	uint64_t k = 0;

	assert_int_equal(inet_pton(AF_INET6, s, a), 1);
	for (int i = 0; i < 8; i++)
		k = k << 8 | a[i];
	return k;
}

static void assert_entry(const struct limiter_entry *e, int family,
			 uint64_t key, uint32_t drops, bool held, uint8_t level)
{
	assert_int_equal(e->family, family);
	assert_int_equal(e->key, key);
	assert_int_equal(e->drops, drops);
	assert_int_equal(e->held, held);
	assert_int_equal(e->level, level);
}

static void test_top_order_and_counts(void **state)
{
	struct fixture *f = filled();
	struct report_top *t;
	const struct report_rule_top *r;

	(void)state;
	t = report_top_new(f->lim, f->pol, T0 + 6 * SEC, 10, NULL);
	assert_non_null(t);
	assert_int_equal(t->n, 10);
	assert_int_equal(t->nrules, 3);

	r = &t->rule[ANY_ABUSE];
	assert_int_equal(r->id, rule_id(f, ANY_ABUSE));
	assert_int_equal(r->limited, 6);
	assert_int_equal(r->count, 6);
	assert_entry(&r->e[0], 4, v4key("198.51.100.66"), 495, true, 1);
	assert_entry(&r->e[1], 4, v4key("198.51.100.67"), 120, false, 0);
	assert_entry(&r->e[2], 6, v6key("2001:db8:2::"), 80, false, 0);
	assert_entry(&r->e[3], 4, v4key("198.51.100.68"), 10, false, 0);
	assert_entry(&r->e[4], 4, v4key("198.51.100.69"), 10, false, 0);
	assert_entry(&r->e[5], 6, v6key("2001:db8:3::"), 10, false, 0);

	r = &t->rule[BIG_TXT];
	assert_int_equal(r->id, rule_id(f, BIG_TXT));
	assert_int_equal(r->limited, 2);
	assert_int_equal(r->count, 2);
	assert_entry(&r->e[0], 4, v4key("198.51.100.0"), 8, false, 0);
	assert_entry(&r->e[1], 6, v6key("2001:db8:2::"), 2, false, 0);

	assert_int_equal(t->rule[QUIET].limited, 0);
	assert_int_equal(t->rule[QUIET].count, 0);
	report_top_free(t);
	fixture_free(f);
}

static void test_top_respects_n_per_rule(void **state)
{
	struct fixture *f = filled();
	struct report_top *t;

	(void)state;
	t = report_top_new(f->lim, f->pol, T0 + 6 * SEC, 1, NULL);
	assert_non_null(t);
	assert_int_equal(t->rule[ANY_ABUSE].limited, 6);
	assert_int_equal(t->rule[ANY_ABUSE].count, 1);
	assert_entry(&t->rule[ANY_ABUSE].e[0], 4, v4key("198.51.100.66"), 495,
		     true, 1);
	assert_int_equal(t->rule[BIG_TXT].limited, 2);
	assert_int_equal(t->rule[BIG_TXT].count, 1);
	assert_entry(&t->rule[BIG_TXT].e[0], 4, v4key("198.51.100.0"), 8, false,
		     0);
	report_top_free(t);

	/* the tie at 10 drops is cut by family and address */
	t = report_top_new(f->lim, f->pol, T0 + 6 * SEC, 4, NULL);
	assert_non_null(t);
	assert_int_equal(t->rule[ANY_ABUSE].count, 4);
	assert_entry(&t->rule[ANY_ABUSE].e[3], 4, v4key("198.51.100.68"), 10,
		     false, 0);
	report_top_free(t);

	errno = 0;
	assert_null(report_top_new(f->lim, f->pol, T0, 0, NULL));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(
		report_top_new(f->lim, f->pol, T0, REPORT_TOP_MAX + 1, NULL));
	assert_int_equal(errno, EINVAL);
	fixture_free(f);
}

/* Many offenders met in the table's (hash) order: only the heap decides
 * which stay. */
static void test_top_selects_from_many(void **state)
{
	struct fixture *f = fixture_new(policy_text, 4096);
	unsigned v[LIMITER_NVERDICTS];
	struct report_top *t;
	char src[32];

	(void)state;
	/* source 198.51.100.i: i + 2 queries, i drops */
	for (unsigned i = 1; i <= 200; i++) {
		snprintf(src, sizeof(src), "198.%u.100.%u", 18 + i / 128,
			 i % 128);
		burst(f, ANY_ABUSE, src, i + 2, T0, v);
		assert_verdicts(v, 2, i, 0);
	}
	t = report_top_new(f->lim, f->pol, T0 + SEC, 5, NULL);
	assert_non_null(t);
	assert_int_equal(t->rule[ANY_ABUSE].limited, 200);
	assert_int_equal(t->rule[ANY_ABUSE].count, 5);
	for (unsigned k = 0; k < 5; k++) {
		unsigned i = 200 - k;

		snprintf(src, sizeof(src), "198.%u.100.%u", 18 + i / 128,
			 i % 128);
		assert_entry(&t->rule[ANY_ABUSE].e[k], 4, v4key(src), i, false,
			     0);
	}
	report_top_free(t);
	fixture_free(f);
}

static double seconds_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) +
	       (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

/* A table of 1M slots, a quarter of them sources being limited (few
 * enough that none is evicted, so every one is reported). */
static void test_top_walks_a_big_table_fast(void **state)
{
	struct fixture *f = fixture_new(policy_text, 1u << 20);
	const struct limiter_rule *r = f->rules[rule_id(f, ANY_ABUSE)];
	const size_t nsources = 1u << 18;
	struct report_top *t;
	struct timespec start;
	double took;

	(void)state;
	assert_int_equal(limiter_capacity(f->lim), 1u << 20);
	for (size_t i = 0; i < nsources; i++) {
		/* 3 queries: 2 pass, 1 drop; the last source gets 9 more */
		uint64_t key = UINT64_C(0x20010db800000000) | (uint64_t)i << 8;
		unsigned n = i == nsources - 1 ? 12 : 3;

		for (unsigned k = 0; k < n; k++) {
			struct limiter_event ev[2];
			int nev;

			limiter_check(f->lim, r, 6, key, T0, &f->c, ev, &nev);
		}
	}
	assert_int_equal(f->c.inserted, nsources);
	assert_int_equal(f->c.evicted, 0);

	clock_gettime(CLOCK_MONOTONIC, &start);
	t = report_top_new(f->lim, f->pol, T0 + SEC, 100, NULL);
	took = seconds_since(&start);
	assert_non_null(t);
	print_message("report_top_new over %zu slots, %zu limited: %.3f s\n",
		      limiter_capacity(f->lim), nsources, took);
	assert_true(took < 1.0);
	assert_int_equal(t->rule[ANY_ABUSE].limited, nsources);
	assert_int_equal(t->rule[ANY_ABUSE].count, 100);
	assert_entry(&t->rule[ANY_ABUSE].e[0], 6,
		     UINT64_C(0x20010db800000000) | (uint64_t)(nsources - 1)
							    << 8,
		     10, false, 0);
	/* then the ties at 1 drop, lowest keys first */
	assert_entry(&t->rule[ANY_ABUSE].e[1], 6, UINT64_C(0x20010db800000000),
		     1, false, 0);
	assert_entry(&t->rule[ANY_ABUSE].e[99], 6,
		     UINT64_C(0x20010db800000000) | (uint64_t)98 << 8, 1, false,
		     0);
	report_top_free(t);
	fixture_free(f);
}

/* A walk over a big table gives up when it is told to (the daemon is
 * stopping), and only then. */
static void test_top_gives_up_when_cancelled(void **state)
{
	struct fixture *f = fixture_new(policy_text, 1u << 20);
	const struct limiter_rule *r = f->rules[rule_id(f, ANY_ABUSE)];
	_Atomic bool cancel = false;
	struct report_top *t;
	struct limiter_event ev[2];
	int nev;

	(void)state;
	for (unsigned k = 0; k < 3; k++)
		limiter_check(f->lim, r, 4, 0xc6336401, T0, &f->c, ev, &nev);
	t = report_top_new(f->lim, f->pol, T0 + SEC, 10, &cancel);
	assert_non_null(t);
	assert_int_equal(t->rule[ANY_ABUSE].limited, 1);
	report_top_free(t);

	atomic_store(&cancel, true);
	errno = 0;
	assert_null(report_top_new(f->lim, f->pol, T0 + SEC, 10, &cancel));
	assert_int_equal(errno, ECANCELED);
	fixture_free(f);
}

static char *top_text(struct fixture *f, uint64_t now, size_t n, bool trunc)
{
	struct report_top *t = report_top_new(f->lim, f->pol, now, n, NULL);
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(t);
	assert_non_null(out);
	assert_int_equal(report_top_text(t, f->pol, trunc, out), 0);
	assert_int_equal(fclose(out), 0);
	report_top_free(t);
	return buf;
}

static void test_top_text(void **state)
{
	struct fixture *f = filled();
	char *text;

	(void)state;
	text = top_text(f, T0 + 6 * SEC, 3, false);
	assert_string_equal(text, "rule any-abuse: 6 sources limited, top 3\n"
				  "    1  198.51.100.66/32                495 "
				  "drops  held "
				  "(level 1)\n"
				  "    2  198.51.100.67/32                120 "
				  "drops  "
				  "limited\n"
				  "    3  2001:db8:2::/56                  80 "
				  "drops  "
				  "limited\n"
				  "rule big-txt: 2 sources limited\n"
				  "    1  198.51.100.0/24                   8 "
				  "drops  "
				  "limited\n"
				  "    2  2001:db8:2::/48                   2 "
				  "drops  "
				  "limited\n"
				  "rule quiet: 0 sources limited\n");
	free(text);

	/* Truncated to /24 and /48; after its 10 m hold the first source is
	 * still in its episode (no sweep has ended it), at level 1. */
	text = top_text(f, T0 + 5 * SEC + 10 * 60 * SEC, 2, true);
	assert_string_equal(text, "rule any-abuse: 6 sources limited, top 2\n"
				  "    1  198.51.100.0/24                 495 "
				  "drops  "
				  "limited (level 1)\n"
				  "    2  198.51.100.0/24                 120 "
				  "drops  "
				  "limited\n"
				  "rule big-txt: 2 sources limited\n"
				  "    1  198.51.100.0/24                   8 "
				  "drops  "
				  "limited\n"
				  "    2  2001:db8:2::/48                   2 "
				  "drops  "
				  "limited\n"
				  "rule quiet: 0 sources limited\n");
	free(text);
	fixture_free(f);
}

/*
 * An answer rule's texts: its sources are destinations and its counts
 * octets, in the top, the abuse-desk line and the transitions; the
 * octets are the answers' lengths the rule refused (policy_decide_answer
 * on answers built to an exact length).
 */
static void test_answer_rule_texts(void **state)
{
	static const char text[] = "answer-rule big {\n"
				   "\tsize 1000\n"
				   "\tbytes 10k/10s\n"
				   "}\n";
	struct fixture *f = fixture_new(text, 4096);
	static uint8_t pkt[8192];
	struct limiter_event ev = {0};
	struct report_top *t;
	char buf[512], *out = NULL;
	size_t len = 0, n;
	FILE *mem;
	uint8_t scratch[1280];
	struct policy_out o = {.buf = scratch, .room = sizeof(scratch)};
	struct stats st = {0};
	struct policy_ctx ctx = {.limiter = f->lim, .stats = &st};
	unsigned refused = 0;

	(void)state;
	/* 3 answers of 4000 octets pass the 10k burst, 7 more are refused */
	n = pkt_answer_to(pkt, "198.51.100.66", "big.example", 16, 4000);
	assert_int_equal(n, 4000);
	for (int i = 0; i < 10; i++)
		refused += policy_decide_answer(f->pol, &ctx, pkt, n, T0, &o) ==
			   POLICY_DROP;
	assert_int_equal(refused, 7);
	t = report_top_new(f->lim, f->pol, T0 + SEC, 5, NULL);
	assert_non_null(t);
	report_line(t, 0, f->pol, false, buf, sizeof(buf));
	assert_string_equal(buf, "report: rule big top 1 (octets refused): "
				 "198.51.100.66/32 28000");
	mem = open_memstream(&out, &len);
	assert_non_null(mem);
	assert_int_equal(report_top_text(t, f->pol, false, mem), 0);
	fclose(mem);
	assert_string_equal(out, "rule big: 1 destination limited\n"
				 "    1  198.51.100.66/32              28000 "
				 "octets  limited\n");
	free(out);
	report_top_free(t);

	ev.kind = LIMITER_EV_LIMITED;
	ev.rule = (uint8_t)policy_rule_id(f->pol, 0);
	ev.family = 4;
	ev.key = limiter_key(4, (const uint8_t *)"\xc6\x33\x64\x42", 32);
	report_event_text(policy_rule_by_id(f->pol, ev.rule), &ev, 16,
			  (const uint8_t *)"\3big\7example", 13, false, buf,
			  sizeof(buf));
	assert_string_equal(buf, "limited: rule big destination "
				 "198.51.100.66/32 exceeds 10k/10s octets (TXT "
				 "big.example.)");
	ev.kind = LIMITER_EV_RELEASED;
	ev.drops = 28000;
	report_event_text(policy_rule_by_id(f->pol, ev.rule), &ev, 0, NULL, 0,
			  false, buf, sizeof(buf));
	assert_string_equal(buf, "released: rule big destination "
				 "198.51.100.66/32, 28000 octets refused");
	fixture_free(f);
}

static void test_syslog_line(void **state)
{
	struct fixture *f = filled();
	struct report_top *t;
	char buf[512], small[40];
	int n;

	(void)state;
	t = report_top_new(f->lim, f->pol, T0 + 6 * SEC, 3, NULL);
	assert_non_null(t);

	n = report_line(t, ANY_ABUSE, f->pol, false, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "report: rule any-abuse top 3: "
				 "198.51.100.66/32 495 (held), "
				 "198.51.100.67/32 120, 2001:db8:2::/56 80");
	report_line(t, ANY_ABUSE, f->pol, true, buf, sizeof(buf));
	assert_string_equal(buf, "report: rule any-abuse top 3: "
				 "198.51.100.0/24 495 (held), "
				 "198.51.100.0/24 120, 2001:db8:2::/48 80");
	/* already /24 and /48: truncation changes nothing */
	report_line(t, BIG_TXT, f->pol, false, buf, sizeof(buf));
	assert_string_equal(buf, "report: rule big-txt top 2: "
				 "198.51.100.0/24 8, 2001:db8:2::/48 2");
	report_line(t, BIG_TXT, f->pol, true, buf, sizeof(buf));
	assert_string_equal(buf, "report: rule big-txt top 2: "
				 "198.51.100.0/24 8, 2001:db8:2::/48 2");
	/* no offenders, no line */
	assert_int_equal(report_line(t, QUIET, f->pol, false, buf, sizeof(buf)),
			 0);
	assert_string_equal(buf, "");
	/* a short buffer: cut, NUL-terminated, the whole length returned */
	assert_int_equal(report_line(t, BIG_TXT, f->pol, false, small,
				     sizeof(small)),
			 strlen("report: rule big-txt top 2: "
				"198.51.100.0/24 8, 2001:db8:2::/48 2"));
	assert_string_equal(small, "report: rule big-txt top 2: 198.51.100.");
	report_top_free(t);
	fixture_free(f);
}

/* Counters with distinct values, so a value in the wrong place shows. */
static void fill_stats(struct stats *s, const struct fixture *f)
{
	memset(s, 0, sizeof(*s));
	s->c[STATS_PACKETS] = 1000;
	s->c[STATS_VERDICTS] = 999;
	s->c[STATS_ACCEPTED] = 900;
	s->c[STATS_DROPPED] = 99;
	s->c[STATS_REPLACED] = 17;
	s->c[STATS_ALLOWED] = 7;
	s->c[STATS_MALFORMED] = 3;
	s->c[STATS_ID_GAPS] = 11;
	s->c[STATS_ENOBUFS] = 12;
	s->c[STATS_NL_ERRORS] = 13;
	s->c[STATS_INTERNAL] = 14;
	s->c[STATS_SEND_FAIL] = 15;
	s->c[STATS_CUT] = 16;
	s->pkt[PACKET_FRAGMENT] = 21;
	s->pkt[PACKET_OTHER] = 22;
	s->pkt[PACKET_INVALID] = 23;
	s->dns[DNS_QUERY] = 950;
	s->dns[DNS_RESPONSE] = 31;
	s->dns[DNS_OPCODE] = 32;
	s->dns[DNS_QDCOUNT] = 33;
	s->table.inserted = 41;
	s->table.reused = 42;
	s->table.evicted = 43;
	s->table.evicted_limited = 44;
	for (size_t i = 0; i < 3; i++) {
		uint64_t *r = s->rule[rule_id(f, i)];

		for (size_t k = 0; k < STATS_R_NCOUNTERS; k++)
			r[k] = 100 * (i + 1) + k;
	}
}

static const char prom_expected[] =
	"# HELP dnsrl_packets_total Packets received from the queue.\n"
	"# TYPE dnsrl_packets_total counter\n"
	"dnsrl_packets_total 1000\n"
	"# HELP dnsrl_verdicts_total Verdicts sent, by verdict.\n"
	"# TYPE dnsrl_verdicts_total counter\n"
	"dnsrl_verdicts_total{verdict=\"accept\"} 900\n"
	"dnsrl_verdicts_total{verdict=\"drop\"} 99\n"
	"# HELP dnsrl_queries_total Standard queries with one question.\n"
	"# TYPE dnsrl_queries_total counter\n"
	"dnsrl_queries_total 950\n"
	"# HELP dnsrl_allowed_total Queries a rule could match, from "
	"allow-listed sources.\n"
	"# TYPE dnsrl_allowed_total counter\n"
	"dnsrl_allowed_total 7\n"
	"# HELP dnsrl_malformed_total UDP/53 payloads that do not parse.\n"
	"# TYPE dnsrl_malformed_total counter\n"
	"dnsrl_malformed_total 3\n"
	"# HELP dnsrl_unchecked_total Packets no rule applies to, by reason.\n"
	"# TYPE dnsrl_unchecked_total counter\n"
	"dnsrl_unchecked_total{reason=\"fragment\"} 21\n"
	"dnsrl_unchecked_total{reason=\"other\"} 22\n"
	"dnsrl_unchecked_total{reason=\"invalid\"} 23\n"
	"dnsrl_unchecked_total{reason=\"response\"} 31\n"
	"dnsrl_unchecked_total{reason=\"opcode\"} 32\n"
	"dnsrl_unchecked_total{reason=\"qdcount\"} 33\n"
	"# HELP dnsrl_table_slots_total Sources given a table slot: a free "
	"one, a refilled one, or a live one evicted (of them, limited ones).\n"
	"# TYPE dnsrl_table_slots_total counter\n"
	"dnsrl_table_slots_total{how=\"inserted\"} 41\n"
	"dnsrl_table_slots_total{how=\"reused\"} 42\n"
	"dnsrl_table_slots_total{how=\"evicted\"} 43\n"
	"dnsrl_table_slots_total{how=\"evicted_limited\"} 44\n"
	"# HELP dnsrl_id_gaps_total Packet ids the kernel skipped: netlink "
	"messages lost.\n"
	"# TYPE dnsrl_id_gaps_total counter\n"
	"dnsrl_id_gaps_total 11\n"
	"# HELP dnsrl_enobufs_total Receive buffer overruns reported by the "
	"kernel.\n"
	"# TYPE dnsrl_enobufs_total counter\n"
	"dnsrl_enobufs_total 12\n"
	"# HELP dnsrl_netlink_errors_total Error replies from the queue.\n"
	"# TYPE dnsrl_netlink_errors_total counter\n"
	"dnsrl_netlink_errors_total 13\n"
	"# HELP dnsrl_internal_errors_total Packets accepted on an internal "
	"error.\n"
	"# TYPE dnsrl_internal_errors_total counter\n"
	"dnsrl_internal_errors_total 14\n"
	"# HELP dnsrl_send_failures_total Verdict batches the kernel did not "
	"take.\n"
	"# TYPE dnsrl_send_failures_total counter\n"
	"dnsrl_send_failures_total 15\n"
	"# HELP dnsrl_events_lost_total Per-source events lost before they "
	"could be logged.\n"
	"# TYPE dnsrl_events_lost_total counter\n"
	"dnsrl_events_lost_total 5\n"
	"# HELP dnsrl_log_suppressed_total Per-source log lines over the log "
	"budget.\n"
	"# TYPE dnsrl_log_suppressed_total counter\n"
	"dnsrl_log_suppressed_total 6\n"
	"# HELP dnsrl_table_used Live buckets at the last table sweep.\n"
	"# TYPE dnsrl_table_used gauge\n"
	"dnsrl_table_used 9\n"
	"# HELP dnsrl_table_capacity Sources the table can hold.\n"
	"# TYPE dnsrl_table_capacity gauge\n"
	"dnsrl_table_capacity 4096\n"
	"# HELP dnsrl_rule_matched_total Queries (answers, for an answer "
	"rule) the rule matched.\n"
	"# TYPE dnsrl_rule_matched_total counter\n"
	"dnsrl_rule_matched_total{rule=\"any-abuse\"} 100\n"
	"dnsrl_rule_matched_total{rule=\"big-txt\"} 200\n"
	"dnsrl_rule_matched_total{rule=\"quiet\"} 300\n"
	"# HELP dnsrl_rule_accepted_total Queries (answers) the rule matched "
	"within the limit.\n"
	"# TYPE dnsrl_rule_accepted_total counter\n"
	"dnsrl_rule_accepted_total{rule=\"any-abuse\"} 101\n"
	"dnsrl_rule_accepted_total{rule=\"big-txt\"} 201\n"
	"dnsrl_rule_accepted_total{rule=\"quiet\"} 301\n"
	"# HELP dnsrl_rule_dropped_total Queries (answers) the rule "
	"dropped.\n"
	"# TYPE dnsrl_rule_dropped_total counter\n"
	"dnsrl_rule_dropped_total{rule=\"any-abuse\"} 102\n"
	"dnsrl_rule_dropped_total{rule=\"big-txt\"} 202\n"
	"dnsrl_rule_dropped_total{rule=\"quiet\"} 302\n"
	"# HELP dnsrl_rule_would_drop_total Queries (answers) over the limit "
	"of a log rule (action log).\n"
	"# TYPE dnsrl_rule_would_drop_total counter\n"
	"dnsrl_rule_would_drop_total{rule=\"any-abuse\"} 103\n"
	"dnsrl_rule_would_drop_total{rule=\"big-txt\"} 203\n"
	"dnsrl_rule_would_drop_total{rule=\"quiet\"} 303\n"
	"# HELP dnsrl_rule_held_down_total Queries (answers) refused in a "
	"hold-down (part of dropped, truncated or would-drop).\n"
	"# TYPE dnsrl_rule_held_down_total counter\n"
	"dnsrl_rule_held_down_total{rule=\"any-abuse\"} 104\n"
	"dnsrl_rule_held_down_total{rule=\"big-txt\"} 204\n"
	"dnsrl_rule_held_down_total{rule=\"quiet\"} 304\n"
	"# HELP dnsrl_rule_total_refused_total Queries (answers) refused by "
	"the rule's total cap (part of dropped, truncated or would-drop).\n"
	"# TYPE dnsrl_rule_total_refused_total counter\n"
	"dnsrl_rule_total_refused_total{rule=\"any-abuse\"} 105\n"
	"dnsrl_rule_total_refused_total{rule=\"big-txt\"} 205\n"
	"dnsrl_rule_total_refused_total{rule=\"quiet\"} 305\n"
	"# HELP dnsrl_rule_tracked Live buckets of the rule at the last table "
	"sweep.\n"
	"# TYPE dnsrl_rule_tracked gauge\n"
	"dnsrl_rule_tracked{rule=\"any-abuse\"} 6\n"
	"dnsrl_rule_tracked{rule=\"big-txt\"} 2\n"
	"dnsrl_rule_tracked{rule=\"quiet\"} 1\n";

struct view_fixture {
	struct fixture *f;
	struct stats sum;
	uint32_t live[LIMITER_RULE_IDS];
	struct report_view v;
	char dir[64];
	char path[128];
};

static int view_setup(void **state)
{
	struct view_fixture *vf = calloc(1, sizeof(*vf));

	assert_non_null(vf);
	vf->f = fixture_new(policy_text, 4096);
	fill_stats(&vf->sum, vf->f);
	vf->live[rule_id(vf->f, ANY_ABUSE)] = 6;
	vf->live[rule_id(vf->f, BIG_TXT)] = 2;
	vf->live[rule_id(vf->f, QUIET)] = 1;
	vf->v.sum = &vf->sum;
	vf->v.policy = vf->f->pol;
	vf->v.live = vf->live;
	vf->v.table_used = 9;
	vf->v.table_capacity = limiter_capacity(vf->f->lim);
	vf->v.events_lost = 5;
	vf->v.log_suppressed = 6;
	snprintf(vf->dir, sizeof(vf->dir), "/tmp/test_report.XXXXXX");
	assert_non_null(mkdtemp(vf->dir));
	snprintf(vf->path, sizeof(vf->path), "%s/dnsrl.prom", vf->dir);
	*state = vf;
	return 0;
}

/* The names in dir, sorted, joined by spaces. */
static void dir_names(const char *dir, char *buf, size_t len)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);

	assert_true(n >= 0);
	buf[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.')
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
				 buf[0] ? " " : "", names[i]->d_name);
		free(names[i]);
	}
	free(names);
}

static int view_teardown(void **state)
{
	struct view_fixture *vf = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", vf->dir);
	assert_int_equal(system(cmd), 0);
	fixture_free(vf->f);
	free(vf);
	return 0;
}

static char *read_all(const char *path)
{
	FILE *in = fopen(path, "r");
	char *buf = calloc(1, 1 << 16);
	size_t n;

	assert_non_null(in);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 16) - 1, in);
	buf[n] = '\0';
	fclose(in);
	return buf;
}

static void test_stats_text(void **state)
{
	struct view_fixture *vf = *state;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	assert_int_equal(report_stats_text(&vf->v, "", out), 0);
	assert_int_equal(fclose(out), 0);
	assert_string_equal(
		buf, "stats: packets=1000 verdicts=999 accepted=900 dropped=99 "
		     "replaced=17 "
		     "queries=950 allowed=7 malformed=3 fragments=21 other=22 "
		     "invalid=23 cut=16 responses=31 opcode=32 qdcount=33 "
		     "inserted=41 "
		     "reused=42 evicted=43 evicted-limited=44 id-gaps=11 "
		     "enobufs=12 nl-errors=13 internal=14 send-fail=15 "
		     "table-used=9/4096 events-lost=5 log-suppressed=6\n"
		     "rule any-abuse: matched=100 accepted=101 dropped=102 "
		     "would-drop=103 held-down=104 total-refused=105 "
		     "tracked=6\n"
		     "rule big-txt: matched=200 accepted=201 dropped=202 "
		     "would-drop=203 held-down=204 total-refused=205 "
		     "tracked=2\n"
		     "rule quiet: matched=300 accepted=301 dropped=302 "
		     "would-drop=303 held-down=304 total-refused=305 "
		     "tracked=1\n");
	free(buf);
}

static void test_prometheus_file(void **state)
{
	struct view_fixture *vf = *state;
	char names[256], *text;
	struct stat st;
	mode_t mask;

	/* the service runs with umask 0077; the file must still be 0644 */
	mask = umask(077);
	assert_int_equal(report_prometheus(vf->path, &vf->v), 0);
	umask(mask);
	text = read_all(vf->path);
	assert_string_equal(text, prom_expected);
	free(text);
	assert_int_equal(stat(vf->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_true(S_ISREG(st.st_mode));
	/* no temporary file left behind */
	dir_names(vf->dir, names, sizeof(names));
	assert_string_equal(names, "dnsrl.prom");
}

/* The old file is replaced by a rename, never rewritten in place: a
 * reader holding it open still reads it whole. */
static void test_prometheus_replaces_atomically(void **state)
{
	struct view_fixture *vf = *state;
	struct stat before, after;
	char old[16] = {0}, names[256], *text;
	FILE *f = fopen(vf->path, "w");
	int fd;

	assert_non_null(f);
	fputs("old contents\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(stat(vf->path, &before), 0);
	fd = open(vf->path, O_RDONLY);
	assert_true(fd >= 0);

	assert_int_equal(report_prometheus(vf->path, &vf->v), 0);
	assert_int_equal(pread(fd, old, sizeof(old) - 1, 0), 13);
	assert_string_equal(old, "old contents\n");
	close(fd);
	assert_int_equal(stat(vf->path, &after), 0);
	assert_true(after.st_ino != before.st_ino);
	text = read_all(vf->path);
	assert_string_equal(text, prom_expected);
	free(text);
	dir_names(vf->dir, names, sizeof(names));
	assert_string_equal(names, "dnsrl.prom");
}

static void test_prometheus_errors(void **state)
{
	struct view_fixture *vf = *state;
	char path[192], names[256];

	snprintf(path, sizeof(path), "%s/missing/dnsrl.prom", vf->dir);
	assert_int_equal(report_prometheus(path, &vf->v), -ENOENT);
	/* a directory at the path: the rename fails, the temporary file
	 * written beside it is removed */
	snprintf(path, sizeof(path), "%s/dir.prom", vf->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(report_prometheus(path, &vf->v), -EISDIR);
	dir_names(vf->dir, names, sizeof(names));
	assert_string_equal(names, "dir.prom");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_top_order_and_counts),
		cmocka_unit_test(test_top_respects_n_per_rule),
		cmocka_unit_test(test_top_selects_from_many),
		cmocka_unit_test(test_top_walks_a_big_table_fast),
		cmocka_unit_test(test_top_gives_up_when_cancelled),
		cmocka_unit_test(test_top_text),
		cmocka_unit_test(test_syslog_line),
		cmocka_unit_test(test_answer_rule_texts),
		cmocka_unit_test_setup_teardown(test_stats_text, view_setup,
						view_teardown),
		cmocka_unit_test_setup_teardown(test_prometheus_file,
						view_setup, view_teardown),
		cmocka_unit_test_setup_teardown(
			test_prometheus_replaces_atomically, view_setup,
			view_teardown),
		cmocka_unit_test_setup_teardown(test_prometheus_errors,
						view_setup, view_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
