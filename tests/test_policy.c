/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The whole decision for a packet: allow-lists, rule order, shadow rules,
 * suffixes, settings for what cannot be parsed, rule ids across reloads.
 * The clock is stepped by the tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "allowlist.h"
#include "config.h"
#include "limiter.h"
#include "policy.h"
#include "stats.h"

#include "pktbuild.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define T_ANY 255
#define T_A 1
#define T_TXT 16

struct fixture {
	struct config *cfg;
	struct policy *pol;
	struct limiter *lim;
	struct stats stats;
	struct policy_ctx ctx;
	unsigned events[3];
};

static void count_event(void *arg, const struct limiter_event *ev,
			struct dns_question *q)
{
	struct fixture *f = arg;

	/* a query always has its question; an answer may have none */
	if (policy_rule_by_id(f->pol, ev->rule)->kind == CONFIG_RULE_QUERY)
		assert_non_null(q);

	f->events[ev->kind]++;
}

static struct fixture *setup_text(const char *text)
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
	f->lim = limiter_new(4096, false);
	assert_non_null(f->lim);
	f->ctx.limiter = f->lim;
	f->ctx.stats = &f->stats;
	f->ctx.event = count_event;
	f->ctx.event_arg = f;
	return f;
}

static void teardown_fixture(struct fixture *f)
{
	policy_free(f->pol);
	limiter_free(f->lim);
	config_free(f->cfg);
	free(f);
}

static enum policy_verdict query(struct fixture *f, const char *src,
				 const char *name, uint16_t qtype, uint64_t now)
{
	uint8_t pkt[600];
	size_t len = pkt_query_from(pkt, src, name, qtype);

	return policy_decide(f->pol, &f->ctx, pkt, len, now);
}

static const uint64_t *rule_stats(struct fixture *f, size_t i)
{
	return f->stats.rule[policy_rule_id(f->pol, i)];
}

static const char mission[] = "rule any-abuse {\n"
			      "\tqtype ANY\n"
			      "\tlimit 2/5s\n"
			      "}\n";

/* The mission: 50 ANY/s for 10 s under 2/5s is answered 5 times. */
static void test_mission_policy(void **state)
{
	struct fixture *f = setup_text(mission);
	unsigned accepted = 0;
	uint64_t when[5];

	(void)state;
	for (unsigned i = 0; i < 500; i++) {
		uint64_t now = i * 20 * MS;

		if (query(f, "198.51.100.66", "big.example", T_ANY, now) ==
		    POLICY_ACCEPT) {
			assert_true(accepted < 5);
			when[accepted++] = now;
		}
		/* another source within its limit is never touched */
		if (i % 250 == 0)
			assert_int_equal(query(f, "198.51.100.10",
					       "big.example", T_ANY, now),
					 POLICY_ACCEPT);
		/* nor are the abuser's own A queries */
		assert_int_equal(query(f, "198.51.100.66", "www.big.example",
				       T_A, now),
				 POLICY_ACCEPT);
	}
	assert_int_equal(accepted, 5);
	assert_int_equal(when[0], 0);
	assert_int_equal(when[1], 20 * MS);
	assert_int_equal(when[2], 2500 * MS);
	assert_int_equal(when[3], 5000 * MS);
	assert_int_equal(when[4], 7500 * MS);
	assert_int_equal(rule_stats(f, 0)[STATS_R_MATCHED], 502);
	assert_int_equal(rule_stats(f, 0)[STATS_R_ACCEPTED], 7);
	assert_int_equal(rule_stats(f, 0)[STATS_R_DROPPED], 495);
	assert_int_equal(f->stats.dns[DNS_QUERY], 1002);
	assert_int_equal(f->events[LIMITER_EV_LIMITED], 1);
	teardown_fixture(f);
}

/* The first drop rule that matches decides, even when it accepts. */
static void test_first_drop_rule_decides(void **state)
{
	struct fixture *f = setup_text("rule strict-txt {\n"
				       " qtype TXT\n"
				       " limit 1/1h\n"
				       "}\n"
				       "rule loose {\n"
				       " qtype ANY TXT\n"
				       " limit 100/1s\n"
				       "}\n");

	(void)state;
	assert_int_equal(query(f, "198.51.100.66", "x.example", T_TXT, 0),
			 POLICY_ACCEPT);
	assert_int_equal(query(f, "198.51.100.66", "x.example", T_TXT, 1),
			 POLICY_DROP);
	for (int i = 0; i < 5; i++)
		assert_int_equal(query(f, "198.51.100.66", "x.example", T_ANY,
				       2),
				 POLICY_ACCEPT);
	assert_int_equal(rule_stats(f, 0)[STATS_R_MATCHED], 2);
	assert_int_equal(rule_stats(f, 0)[STATS_R_DROPPED], 1);
	/* the TXT accepted by strict-txt never reached loose */
	assert_int_equal(rule_stats(f, 1)[STATS_R_MATCHED], 5);
	teardown_fixture(f);
}

/* A log rule counts would-drops exactly and the drop rule still works. */
static void test_shadow_rule(void **state)
{
	struct fixture *f = setup_text("rule candidate {\n"
				       " qtype ANY\n"
				       " limit 1/1h\n"
				       " action log\n"
				       "}\n"
				       "rule enforce {\n"
				       " qtype ANY\n"
				       " limit 3/1h\n"
				       "}\n");
	unsigned drops = 0;

	(void)state;
	for (int i = 0; i < 10; i++)
		drops += query(f, "198.51.100.66", "big.example", T_ANY,
			       (uint64_t)i * MS) == POLICY_DROP;
	assert_int_equal(drops, 7);
	assert_int_equal(rule_stats(f, 0)[STATS_R_MATCHED], 10);
	assert_int_equal(rule_stats(f, 0)[STATS_R_ACCEPTED], 1);
	assert_int_equal(rule_stats(f, 0)[STATS_R_WOULD_DROP], 9);
	assert_int_equal(rule_stats(f, 0)[STATS_R_DROPPED], 0);
	assert_int_equal(rule_stats(f, 1)[STATS_R_MATCHED], 10);
	assert_int_equal(rule_stats(f, 1)[STATS_R_ACCEPTED], 3);
	assert_int_equal(rule_stats(f, 1)[STATS_R_DROPPED], 7);
	teardown_fixture(f);
}

/* A log rule after the deciding drop rule is never reached. */
static void test_log_rule_after_drop_rule(void **state)
{
	struct fixture *f = setup_text("rule enforce {\n"
				       " qtype ANY\n"
				       " limit 1/1h\n"
				       "}\n"
				       "rule late {\n"
				       " qtype ANY\n"
				       " limit 1/1h\n"
				       " action log\n"
				       "}\n");

	(void)state;
	query(f, "198.51.100.66", "big.example", T_ANY, 0);
	query(f, "198.51.100.66", "big.example", T_ANY, 1);
	assert_int_equal(rule_stats(f, 1)[STATS_R_MATCHED], 0);
	teardown_fixture(f);
}

static void test_allow_lists(void **state)
{
	struct fixture *f = setup_text("allow 203.0.113.0/24 2001:db8:53::/48\n"
				       "allow 198.51.100.7\n"
				       "rule any-abuse {\n"
				       " qtype ANY\n"
				       " limit 1/1h\n"
				       "}\n");
	static const char *const allowed[] = {
		"203.0.113.0",
		"203.0.113.255",
		"198.51.100.7",
		"2001:db8:53::1",
		"2001:db8:53:ffff:ffff:ffff:ffff:ffff",
	};
	static const char *const limited[] = {
		"203.0.114.0",	  "198.51.100.8",	 "198.51.100.6",
		"2001:db8:54::1", "2001:db8:52:ffff::1",
	};

	(void)state;
	for (size_t i = 0; i < 5; i++) {
		for (int n = 0; n < 3; n++)
			assert_int_equal(query(f, allowed[i], "big.example",
					       T_ANY, 0),
					 POLICY_ACCEPT);
		assert_int_equal(query(f, limited[i], "big.example", T_ANY, 0),
				 POLICY_ACCEPT);
		assert_int_equal(query(f, limited[i], "big.example", T_ANY, 0),
				 POLICY_DROP);
	}
	assert_int_equal(f->stats.c[STATS_ALLOWED], 15);
	assert_int_equal(rule_stats(f, 0)[STATS_R_MATCHED], 10);
	teardown_fixture(f);
}

/*
 * Nested, overlapping and adjacent prefixes: the lookup finds the last
 * range starting at or before an address, so overlapping ranges must be
 * merged or an address inside the outer one is missed.
 */
static void test_allow_lists_overlap(void **state)
{
	struct fixture *f = setup_text("allow 198.51.100.0/24 198.51.100.7\n"
				       "allow 198.51.100.128/25\n"
				       "allow 203.0.113.0/25 203.0.113.128/25\n"
				       "allow 2001:db8::/32 2001:db8:1::/48\n"
				       "allow 2001:db8:1:2::1\n"
				       "rule any-abuse {\n"
				       " qtype ANY\n"
				       " limit 1/1h\n"
				       "}\n");
	static const char *const allowed[] = {
		"198.51.100.50",    "198.51.100.200",  "198.51.100.7",
		"203.0.113.127",    "203.0.113.128",   "203.0.113.255",
		"2001:db8:ffff::1", "2001:db8:1:3::1", "2001:db8:1:2::2",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		for (int n = 0; n < 3; n++)
			assert_int_equal(query(f, allowed[i], "big.example",
					       T_ANY, 0),
					 POLICY_ACCEPT);
	assert_int_equal(f->stats.c[STATS_ALLOWED], 27);
	/* just outside: limited */
	assert_int_equal(query(f, "198.51.101.0", "big.example", T_ANY, 0),
			 POLICY_ACCEPT);
	assert_int_equal(query(f, "198.51.101.0", "big.example", T_ANY, 0),
			 POLICY_DROP);
	assert_int_equal(query(f, "2001:db9::1", "big.example", T_ANY, 0),
			 POLICY_ACCEPT);
	assert_int_equal(query(f, "2001:db9::1", "big.example", T_ANY, 0),
			 POLICY_DROP);
	teardown_fixture(f);
}

static void test_qname_suffix(void **state)
{
	struct fixture *f = setup_text("rule big-txt {\n"
				       " qname example.net\n"
				       " qtype TXT\n"
				       " limit 1/1h\n"
				       "}\n"
				       "rule all-of-zone {\n"
				       " qname zone.example\n"
				       " limit 1/1h\n"
				       "}\n");

	(void)state;
	assert_int_equal(query(f, "198.51.100.66", "WWW.Example.NET", T_TXT, 0),
			 POLICY_ACCEPT);
	assert_int_equal(query(f, "198.51.100.66", "example.net", T_TXT, 0),
			 POLICY_DROP);
	/* not label-aligned, another name, another type: no match */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(query(f, "198.51.100.66", "badexample.net",
				       T_TXT, 0),
				 POLICY_ACCEPT);
		assert_int_equal(query(f, "198.51.100.66", "example.org", T_TXT,
				       0),
				 POLICY_ACCEPT);
		assert_int_equal(query(f, "198.51.100.66", "example.net", T_A,
				       0),
				 POLICY_ACCEPT);
	}
	assert_int_equal(rule_stats(f, 0)[STATS_R_MATCHED], 2);
	/* a rule without qtype limits every type under its name */
	assert_int_equal(query(f, "198.51.100.66", "a.zone.example", T_A, 0),
			 POLICY_ACCEPT);
	assert_int_equal(query(f, "198.51.100.66", "zone.example", T_ANY, 0),
			 POLICY_DROP);
	teardown_fixture(f);
}

static void test_ipv6_prefix_shares_bucket(void **state)
{
	struct fixture *f = setup_text("rule any-abuse {\n"
				       " qtype ANY\n"
				       " limit 2/1h\n"
				       " ipv6-prefix 56\n"
				       " ipv4-prefix 24\n"
				       "}\n");

	(void)state;
	assert_int_equal(query(f, "2001:db8:2:1::1", "b.example", T_ANY, 0),
			 POLICY_ACCEPT);
	assert_int_equal(query(f, "2001:db8:2:2::1", "b.example", T_ANY, 0),
			 POLICY_ACCEPT);
	assert_int_equal(query(f, "2001:db8:2:ff::9", "b.example", T_ANY, 0),
			 POLICY_DROP);
	assert_int_equal(query(f, "2001:db8:3::1", "b.example", T_ANY, 0),
			 POLICY_ACCEPT);
	/* IPv4 aggregated to /24 likewise */
	assert_int_equal(query(f, "198.51.100.1", "b.example", T_ANY, 0),
			 POLICY_ACCEPT);
	assert_int_equal(query(f, "198.51.100.200", "b.example", T_ANY, 0),
			 POLICY_ACCEPT);
	assert_int_equal(query(f, "198.51.100.99", "b.example", T_ANY, 0),
			 POLICY_DROP);
	teardown_fixture(f);
}

/* A total cap refuses past its sum, without spending sources' tokens. */
static void test_total_cap(void **state)
{
	struct fixture *f = setup_text("rule any-abuse {\n"
				       " qtype ANY\n"
				       " limit 2/1h\n"
				       " total 3/1h\n"
				       "}\n");
	static const char *const src[] = {"198.51.100.1", "198.51.100.2",
					  "198.51.100.3"};
	unsigned accepted = 0;

	(void)state;
	for (int i = 0; i < 3; i++)
		for (int n = 0; n < 2; n++)
			accepted += query(f, src[i], "b.example", T_ANY, 0) ==
				    POLICY_ACCEPT;
	assert_int_equal(accepted, 3);
	assert_int_equal(rule_stats(f, 0)[STATS_R_TOTAL], 3);
	assert_int_equal(rule_stats(f, 0)[STATS_R_DROPPED], 3);
	teardown_fixture(f);
}

static void test_hold_down_counted(void **state)
{
	struct fixture *f = setup_text("rule any-abuse {\n"
				       " qtype ANY\n"
				       " limit 2/5s\n"
				       " hold-down 10m\n"
				       "}\n");
	unsigned accepted = 0;

	(void)state;
	/* one query a second for 20 s: a whole period after its first drop
	 * it is held, so nothing later gets through */
	for (unsigned i = 0; i < 20; i++)
		accepted += query(f, "198.51.100.66", "b.example", T_ANY,
				  i * SEC) == POLICY_ACCEPT;
	assert_int_equal(f->events[LIMITER_EV_HELD], 1);
	assert_true(rule_stats(f, 0)[STATS_R_HELD] > 0);
	assert_int_equal(rule_stats(f, 0)[STATS_R_HELD] +
				 rule_stats(f, 0)[STATS_R_ACCEPTED] +
				 (rule_stats(f, 0)[STATS_R_DROPPED] -
				  rule_stats(f, 0)[STATS_R_HELD]),
			 20);
	/* at 1/s under 2/5s: accepted at 0, 1, 3 and 5, dropped at 2
	 * (the first drop), 4 and 6; the drop at 7 comes a whole period
	 * after the first and starts the hold: 8..19 are held */
	assert_int_equal(accepted, 4);
	assert_int_equal(rule_stats(f, 0)[STATS_R_HELD], 12);
	teardown_fixture(f);
}

static void test_settings_for_unparseable(void **state)
{
	struct fixture *f = setup_text("malformed drop\n"
				       "fragments accept\n"
				       "rule any-abuse {\n"
				       " qtype ANY\n"
				       " limit 2/5s\n"
				       "}\n");
	struct fixture *g = setup_text("malformed accept\n"
				       "rule any-abuse {\n"
				       " qtype ANY\n"
				       " limit 2/5s\n"
				       "}\n");
	struct fixture *h = setup_text(mission);
	uint8_t pkt[200], junk[5] = {1, 2, 3, 4, 5};
	size_t len = pkt_ipv4_udp(pkt, "198.51.100.66", "198.51.100.1", 4000,
				  53, junk, sizeof(junk));
	uint8_t frag[200];
	uint8_t dns[100];
	size_t dlen = pkt_dns_query(dns, 1, "b.example", T_ANY);
	size_t flen;

	(void)state;
	assert_int_equal(policy_decide(f->pol, &f->ctx, pkt, len, 0),
			 POLICY_DROP);
	assert_int_equal(policy_decide(g->pol, &g->ctx, pkt, len, 0),
			 POLICY_ACCEPT);
	/* the default protects */
	assert_int_equal(policy_decide(h->pol, &h->ctx, pkt, len, 0),
			 POLICY_DROP);
	assert_int_equal(f->stats.c[STATS_MALFORMED], 1);
	assert_int_equal(f->stats.dns[DNS_SHORT], 1);
	/* a UDP length past the end of the packet: malformed too */
	pkt_put16(pkt + 24, 200);
	assert_int_equal(policy_decide(h->pol, &h->ctx, pkt, len, 0),
			 POLICY_DROP);
	assert_int_equal(policy_decide(g->pol, &g->ctx, pkt, len, 0),
			 POLICY_ACCEPT);
	assert_int_equal(h->stats.pkt[PACKET_INVALID], 1);
	assert_int_equal(h->stats.c[STATS_MALFORMED], 2);

	/* an IPv6 first fragment: header, fragment header, UDP, DNS */
	flen = pkt_ipv6_udp(frag, "2001:db8:2:1::1", "2001:db8:1::1", 4000, 53,
			    dns, dlen);
	memmove(frag + 48, frag + 40, flen - 40);
	memset(frag + 40, 0, 8);
	frag[40] = 17;	 /* next header: UDP */
	frag[43] = 0x01; /* offset 0, more fragments */
	frag[6] = 44;
	pkt_put16(frag + 4, (uint16_t)(flen - 40 + 8));
	flen += 8;
	/* fragments accept: judged by its question, as a whole query is */
	assert_int_equal(policy_decide(f->pol, &f->ctx, frag, flen, 0),
			 POLICY_ACCEPT);
	assert_int_equal(rule_stats(f, 0)[STATS_R_MATCHED], 1);
	assert_int_equal(policy_decide(f->pol, &f->ctx, frag, flen, 0),
			 POLICY_ACCEPT);
	assert_int_equal(policy_decide(f->pol, &f->ctx, frag, flen, 0),
			 POLICY_DROP);
	assert_int_equal(f->stats.pkt[PACKET_FRAGMENT], 3);
	assert_int_equal(policy_decide(g->pol, &g->ctx, frag, flen, 0),
			 POLICY_DROP);
	assert_int_equal(g->stats.pkt[PACKET_FRAGMENT], 1);
	teardown_fixture(f);
	teardown_fixture(g);
	teardown_fixture(h);
}

/* Responses, other opcodes, QDCOUNT != 1, other ports: never a rule. */
static void test_never_matched(void **state)
{
	struct fixture *f = setup_text("rule any-abuse {\n"
				       " qtype ANY\n"
				       " limit 1/1h\n"
				       "}\n");
	uint8_t dns[100], pkt[200];
	size_t dlen, len;

	(void)state;
	for (int kind = 0; kind < 4; kind++) {
		for (int n = 0; n < 3; n++) {
			uint16_t dport = 53;

			dlen = pkt_dns_query(dns, 7, "b.example", T_ANY);
			if (kind == 0)
				dns[2] |= 0x80; /* response */
			else if (kind == 1)
				dns[2] |= 2 << 3; /* STATUS */
			else if (kind == 2)
				pkt_put16(dns + 4, 2);
			else
				dport = 5353;
			len = pkt_ipv4_udp(pkt, "198.51.100.66", "198.51.100.1",
					   4000, dport, dns, dlen);
			assert_int_equal(policy_decide(f->pol, &f->ctx, pkt,
						       len, 0),
					 POLICY_ACCEPT);
		}
	}
	assert_int_equal(f->stats.dns[DNS_RESPONSE], 3);
	assert_int_equal(f->stats.dns[DNS_OPCODE], 3);
	assert_int_equal(f->stats.dns[DNS_QDCOUNT], 3);
	assert_int_equal(f->stats.pkt[PACKET_OTHER], 3);
	assert_int_equal(rule_stats(f, 0)[STATS_R_MATCHED], 0);
	teardown_fixture(f);
}

/* Unchanged rules keep their ids (and buckets) across a reload. */
static void test_rule_ids_across_reload(void **state)
{
	struct fixture *f = setup_text("rule a {\n qtype ANY\n limit 1/1h\n}\n"
				       "rule b {\n qtype TXT\n limit 1/1h\n}\n"
				       "rule c {\n qtype MX\n limit 1/1h\n}\n");
	const char next[] = "rule b {\n qtype TXT\n limit 1/1h\n}\n"
			    "rule a {\n qtype ANY\n limit 2/1h\n}\n"
			    "rule d {\n qtype NS\n limit 1/1h\n}\n";
	char err[CONFIG_ERR_MAX];
	struct config *cfg2 =
		config_parse("t2", next, strlen(next), err, sizeof(err));
	struct policy *p2;
	bool keep[LIMITER_RULE_IDS];
	unsigned a = policy_rule_id(f->pol, 0), b = policy_rule_id(f->pol, 1),
		 c = policy_rule_id(f->pol, 2);

	(void)state;
	assert_non_null(cfg2);
	p2 = policy_new(cfg2, f->pol, NULL);
	assert_non_null(p2);
	assert_int_equal(policy_rule_id(p2, 0), b);
	assert_int_not_equal(policy_rule_id(p2, 1), a); /* limit changed */
	assert_int_not_equal(policy_rule_id(p2, 1), c);
	assert_int_not_equal(policy_rule_id(p2, 2), a);
	assert_int_not_equal(policy_rule_id(p2, 2), c);
	assert_int_not_equal(policy_rule_id(p2, 1), policy_rule_id(p2, 2));
	policy_rule_ids(p2, keep);
	assert_true(keep[b]);
	assert_false(keep[a]);
	assert_false(keep[c]);
	assert_false(keep[0]);
	assert_string_equal(policy_rule_by_id(p2, b)->name, "b");
	policy_free(p2);
	config_free(cfg2);
	teardown_fixture(f);
}

/* The bucket of an unchanged rule survives a reload: state is kept. */
static void test_buckets_survive_reload(void **state)
{
	struct fixture *f = setup_text(mission);
	char err[CONFIG_ERR_MAX];
	const char next[] = "rule any-abuse {\n qtype ANY TXT\n limit "
			    "2/5s\n}\n";
	struct config *cfg2 =
		config_parse("t2", next, strlen(next), err, sizeof(err));
	struct policy *p2;

	(void)state;
	assert_int_equal(query(f, "198.51.100.66", "b.example", T_ANY, 0),
			 POLICY_ACCEPT);
	assert_int_equal(query(f, "198.51.100.66", "b.example", T_ANY, 0),
			 POLICY_ACCEPT);
	assert_non_null(cfg2);
	p2 = policy_new(cfg2, f->pol, NULL);
	assert_non_null(p2);
	policy_free(f->pol);
	f->pol = p2;
	assert_int_equal(query(f, "198.51.100.66", "b.example", T_ANY, 1),
			 POLICY_DROP);
	config_free(cfg2);
	teardown_fixture(f);
}

/*
 * A query rule with action truncate and slip 2: within the limit queries
 * pass; over it they are dropped and, every second refusal, let through
 * asking for 512 octets of answer (ldns reads the same query with EDNS
 * size 512); a query without EDNS is let through as it is on its turn
 * (its answer keeps to 512 already).  Counters: truncated and dropped add
 * up to the refusals.
 */
static void test_query_truncate(void **state)
{
	struct fixture *f = setup_text("rule t {\n"
				       "\tqtype TXT\n"
				       "\tlimit 2/1h\n"
				       "\taction truncate\n"
				       "\tslip 2\n"
				       "}\n");
	uint8_t dns[300], pkt[600], out[1280];
	struct policy_out o = {.buf = out, .room = sizeof(out)};
	enum policy_verdict v[12];
	size_t n, len;

	(void)state;
	/* example.net TXT with an OPT asking for 4096 */
	n = pkt_dns_query(dns, 0x4242, "example.net", T_TXT);
	dns[11] = 1; /* ARCOUNT */
	memcpy(dns + n, "\0\0\x29\x10\0\0\0\0\0\0\0", 11);
	n += 11;
	len = pkt_ipv4_udp(pkt, "198.51.100.9", "198.51.100.1", 40000, 53, dns,
			   n);
	for (int i = 0; i < 12; i++) {
		o.len = 0;
		v[i] = policy_decide_query(f->pol, &f->ctx, pkt, len, i * MS,
					   &o);
		if (v[i] != POLICY_REPLACE)
			continue;
		{
			ldns_pkt *q = NULL;

			assert_int_equal(o.len, len);
			assert_int_equal(ldns_wire2pkt(&q, out + 28, len - 28),
					 LDNS_STATUS_OK);
			assert_int_equal(ldns_pkt_edns_udp_size(q), 512);
			assert_int_equal(ldns_pkt_id(q), 0x4242);
			assert_false(ldns_pkt_qr(q));
			ldns_pkt_free(q);
		}
	}
	assert_int_equal(v[0], POLICY_ACCEPT);
	assert_int_equal(v[1], POLICY_ACCEPT);
	for (int i = 2; i < 12; i++)
		assert_int_equal(v[i], i % 2 ? POLICY_REPLACE : POLICY_DROP);
	assert_int_equal(rule_stats(f, 0)[STATS_R_TRUNCATED], 5);
	assert_int_equal(rule_stats(f, 0)[STATS_R_DROPPED], 5);

	/* without EDNS: let through unchanged on its turn */
	for (int i = 0; i < 4; i++)
		v[i] = query(f, "198.51.100.10", "example.net", T_TXT, 0);
	assert_int_equal(v[2], POLICY_DROP);
	assert_int_equal(v[3], POLICY_ACCEPT);
	assert_int_equal(rule_stats(f, 0)[STATS_R_TRUNCATED], 6);
	/* the verdict alone, without a buffer, is the same */
	assert_int_equal(policy_decide(f->pol, &f->ctx, pkt, len, 20 * MS),
			 POLICY_DROP);
	assert_int_equal(policy_decide(f->pol, &f->ctx, pkt, len, 21 * MS),
			 POLICY_REPLACE);
	teardown_fixture(f);
}

/* ---- the answer path ---- */

static uint8_t answer_pkt[65536];
static uint8_t answer_out[1280];

static enum policy_verdict answer(struct fixture *f, const char *dst,
				  const char *name, uint16_t qtype, size_t len,
				  uint64_t now, struct policy_out *o)
{
	size_t n = pkt_answer_to(answer_pkt, dst, name, qtype, len);

	assert_int_equal(n, len);
	o->buf = answer_out;
	o->room = sizeof(answer_out);
	o->len = 0;
	return policy_decide_answer(f->pol, &f->ctx, answer_pkt, n, now, o);
}

/*
 * The budget's promise, checked over every window between two answers:
 * what was let through between t[i] and t[j] is at most the burst plus
 * the rate over the window plus one answer.  Returns the largest excess
 * found (<= 0 when the promise held).
 */
static double worst_excess(const uint64_t *t, const double *got, size_t n,
			   double burst, double per_ns, double one)
{
	double worst = -1e300;

	for (size_t i = 0; i < n; i++) {
		double sum = 0;

		for (size_t j = i; j < n; j++) {
			double bound =
				burst + per_ns * (double)(t[j] - t[i]) + one;

			sum += got[j];
			if (sum - bound > worst)
				worst = sum - bound;
		}
	}
	return worst;
}

/*
 * 64k/10s of answers of 1000+ octets per destination: a customer drawing
 * a 3900-octet answer every 10 ms gets, over any window, no more than
 * 64000 + 6400/s + one answer, and in the long run about the rate (not
 * less); its small answers are not the rule's business.  IPv4 and IPv6.
 */
static void test_answer_byte_budget(void **state)
{
	static const char *const dst[] = {"203.0.113.9", "2001:db8:9::1"};
	enum { N = 3000 };
	static uint64_t t[N];
	static double got[N];

	(void)state;
	for (size_t d = 0; d < 2; d++) {
		struct fixture *f = setup_text("answer-rule big {\n"
					       "\tsize 1000\n"
					       "\tbytes 64k/10s\n"
					       "}\n");
		struct policy_out o;
		double total = 0;
		unsigned small = 0;

		for (size_t i = 0; i < N; i++) {
			enum policy_verdict v;

			t[i] = i * 10 * MS;
			v = answer(f, dst[d], "big.example", T_TXT, 3900, t[i],
				   &o);
			assert_true(v == POLICY_ACCEPT || v == POLICY_DROP);
			got[i] = v == POLICY_ACCEPT ? 3900 : 0;
			total += got[i];
			/* a small answer between: never judged */
			small += answer(f, dst[d], "www.example", T_A, 999,
					t[i] + MS, &o) == POLICY_ACCEPT;
		}
		print_message("%s: %.0f octets of %u in 30 s\n", dst[d], total,
			      N * 3900);
		assert_true(worst_excess(t, got, N, 64000, 6400e-9, 3900) <= 0);
		/* 30 s at 6400/s after a burst of 64000: 256000 */
		assert_true(total >= 64000 + 6400 * 29.99 - 3900);
		assert_int_equal(small, N);
		assert_int_equal(rule_stats(f, 0)[STATS_R_MATCHED], N);
		assert_int_equal(rule_stats(f, 0)[STATS_R_BYTES], N * 3900);
		assert_int_equal(rule_stats(f, 0)[STATS_R_DROPPED] * 3900,
				 rule_stats(f, 0)[STATS_R_BYTES_REFUSED]);
		assert_int_equal(rule_stats(f, 0)[STATS_R_ACCEPTED] * 3900,
				 (uint64_t)total);
		assert_int_equal(f->stats.c[STATS_ANSWERS], 2 * N);
		teardown_fixture(f);
	}
}

/*
 * Bytes and answers at once: both promises hold, whichever binds; and a
 * log rule lets everything through, counting what it would have refused.
 */
static void test_answer_bytes_and_count(void **state)
{
	enum { N = 2000 };
	static uint64_t t[N];
	static double bytes[N], answers[N];
	struct fixture *f = setup_text("answer-rule both {\n"
				       "\tsize 512\n"
				       "\tbytes 20k/1s\n"
				       "\tlimit 5/1s\n"
				       "}\n"
				       "answer-rule shadow {\n"
				       "\tbytes 1k/1s\n"
				       "\taction log\n"
				       "}\n");
	struct policy_out o;
	uint64_t dropped = 0;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		/* sizes from 600 to 3800: sometimes bytes bind, sometimes
		 * the count */
		size_t len = 600 + (i * 797) % 3200;
		enum policy_verdict v;

		t[i] = i * 5 * MS;
		v = answer(f, "198.51.100.77", "x.example", T_TXT, len, t[i],
			   &o);
		bytes[i] = v == POLICY_ACCEPT ? (double)len : 0;
		answers[i] = v == POLICY_ACCEPT;
	}
	assert_true(worst_excess(t, bytes, N, 20000, 20000e-9, 3800) <= 0);
	assert_true(worst_excess(t, answers, N, 5, 5e-9, 1) <= 0);
	/* the shadow rule sees only what "both" let through (it is first:
	 * a pass ends the walk) */
	assert_int_equal(rule_stats(f, 1)[STATS_R_MATCHED], 0);
	teardown_fixture(f);

	/* shadow first: it counts and lets everything go on to the next
	 * rule, which decides */
	f = setup_text("answer-rule shadow {\n\tbytes 1k/1s\n\taction log\n}\n"
		       "answer-rule both {\n\tbytes 20k/1s\n}\n");
	for (size_t i = 0; i < 100; i++)
		dropped += answer(f, "198.51.100.77", "x.example", T_TXT, 1000,
				  i * MS, &o) == POLICY_DROP;
	assert_int_equal(rule_stats(f, 0)[STATS_R_ACCEPTED] +
				 rule_stats(f, 0)[STATS_R_WOULD_DROP],
			 100);
	assert_true(rule_stats(f, 0)[STATS_R_WOULD_DROP] >= 97);
	assert_int_equal(rule_stats(f, 0)[STATS_R_BYTES_WOULD],
			 rule_stats(f, 0)[STATS_R_WOULD_DROP] * 1000);
	assert_int_equal(rule_stats(f, 0)[STATS_R_DROPPED], 0);
	assert_int_equal(rule_stats(f, 1)[STATS_R_MATCHED], 100);
	/* 20000 + 20000/s for 99 ms + one: 22 or 23 pass */
	assert_int_equal(rule_stats(f, 1)[STATS_R_DROPPED], dropped);
	assert_true(dropped >= 77 && dropped <= 78);
	teardown_fixture(f);
}

/*
 * action truncate with slip 2: once the budget is spent, a source's
 * refused answers are dropped and truncated in turn; a truncated one is,
 * as ldns reads it, the same ID and question with TC=1 and no records,
 * in an IP datagram whose lengths agree; its octets saved are counted.
 */
static void test_answer_truncate_slip(void **state)
{
	struct fixture *f = setup_text("answer-rule t {\n"
				       "\tbytes 10k/10s\n"
				       "\taction truncate\n"
				       "\tslip 2\n"
				       "}\n");
	enum policy_verdict seq[40];
	uint64_t refused = 0, saved = 0;
	struct policy_out o;
	size_t first_refused = 40;

	(void)state;
	for (size_t i = 0; i < 40; i++) {
		const char *dst = i % 2 ? "2001:db8:5::7" : "203.0.113.7";

		seq[i] = answer(f, dst, "dnskey.example", 48, 2000, i * MS, &o);
		if (seq[i] == POLICY_ACCEPT)
			continue;
		refused += 2000;
		if (first_refused == 40)
			first_refused = i;
		if (seq[i] == POLICY_REPLACE) {
			ldns_pkt *pkt = NULL;
			size_t ip = i % 2 ? 40 : 20;

			assert_true(o.len > ip + 8 && o.len <= o.room);
			assert_int_equal(ldns_wire2pkt(&pkt, o.buf + ip + 8,
						       o.len - ip - 8),
					 LDNS_STATUS_OK);
			assert_true(ldns_pkt_tc(pkt));
			assert_true(ldns_pkt_qr(pkt));
			assert_int_equal(ldns_pkt_id(pkt), 0x1234);
			assert_int_equal(ldns_pkt_qdcount(pkt), 1);
			assert_int_equal(ldns_pkt_ancount(pkt), 0);
			assert_int_equal(ldns_pkt_nscount(pkt), 0);
			assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(
						 ldns_pkt_question(pkt), 0)),
					 48);
			assert_true(ldns_pkt_edns(pkt));
			ldns_pkt_free(pkt);
			/* the IP and UDP lengths say what was written */
			if (i % 2)
				assert_int_equal(pkt_get16(o.buf + 4) + 40,
						 o.len);
			else
				assert_int_equal(pkt_get16(o.buf + 2), o.len);
			assert_int_equal(pkt_get16(o.buf + ip + 4), o.len - ip);
			saved += 2000 - o.len;
		}
	}
	/* IPv4 and IPv6 are different destinations: each gets ~5 answers,
	 * then alternates drop, truncate, drop ... */
	assert_true(first_refused >= 8 && first_refused < 14);
	for (size_t i = first_refused; i + 4 < 40; i++)
		if (seq[i] != POLICY_ACCEPT)
			assert_true(seq[i] != seq[i + 2]);
	assert_int_equal(rule_stats(f, 0)[STATS_R_TRUNCATED] +
				 rule_stats(f, 0)[STATS_R_DROPPED],
			 refused / 2000);
	assert_true(rule_stats(f, 0)[STATS_R_TRUNCATED] >= 10);
	assert_int_equal(rule_stats(f, 0)[STATS_R_BYTES_REFUSED],
			 refused - rule_stats(f, 0)[STATS_R_TRUNCATED] * 2000 +
				 saved);
	assert_int_equal(rule_stats(f, 0)[STATS_R_TRUNC_FAILED], 0);
	teardown_fixture(f);
}

/*
 * The operator's temporary allow-list, next to the configuration's: its
 * sources pass unjudged (and uncharged) until the entry's end, to the
 * nanosecond, on the query path and the answer path alike.
 */
static void test_temporary_allow(void **state)
{
	struct fixture *f = setup_text("rule any-abuse {\n"
				       " qtype ANY\n"
				       " limit 1/1h\n"
				       "}\n"
				       "answer-rule big {\n"
				       " limit 1/1h\n"
				       "}\n");
	struct allowlist *a = allowlist_new();
	struct config_prefix p4 = {
		.family = AF_INET, .len = 28, .addr = {198, 51, 100, 0}};
	struct config_prefix p6 = {.family = AF_INET6,
				   .len = 48,
				   .addr = {0x20, 0x01, 0x0d, 0xb8, 0, 0x53}};
	const uint64_t end = 10 * SEC;
	struct policy_out o;

	(void)state;
	assert_non_null(a);
	assert_int_equal(allowlist_set(a, &p4, end, 0, 1, 0, NULL), 0);
	assert_int_equal(allowlist_set(a, &p6, end, 0, 1, 0, NULL), 0);
	f->ctx.allow = a;
	for (uint64_t t = 0; t < end; t += SEC) {
		assert_int_equal(query(f, "198.51.100.15", "big.example", T_ANY,
				       t),
				 POLICY_ACCEPT);
		assert_int_equal(query(f, "2001:db8:53:1::1", "big.example",
				       T_ANY, t),
				 POLICY_ACCEPT);
		assert_int_equal(answer(f, "198.51.100.1", "x", T_TXT, 1500, t,
					&o),
				 POLICY_ACCEPT);
	}
	assert_int_equal(query(f, "198.51.100.15", "big.example", T_ANY,
			       end - 1),
			 POLICY_ACCEPT);
	assert_int_equal(f->stats.c[STATS_ALLOWED], 31);
	assert_int_equal(rule_stats(f, 0)[STATS_R_MATCHED], 0);
	/* the next prefix is judged all along */
	assert_int_equal(query(f, "198.51.100.16", "big.example", T_ANY, 0),
			 POLICY_ACCEPT);
	assert_int_equal(query(f, "198.51.100.16", "big.example", T_ANY, 0),
			 POLICY_DROP);
	/* at its end: judged, with a bucket never charged meanwhile */
	assert_int_equal(query(f, "198.51.100.15", "big.example", T_ANY, end),
			 POLICY_ACCEPT);
	assert_int_equal(query(f, "198.51.100.15", "big.example", T_ANY, end),
			 POLICY_DROP);
	assert_int_equal(query(f, "2001:db8:53:1::1", "big.example", T_ANY,
			       end),
			 POLICY_ACCEPT);
	assert_int_equal(query(f, "2001:db8:53:1::1", "big.example", T_ANY,
			       end),
			 POLICY_DROP);
	assert_int_equal(answer(f, "198.51.100.1", "x", T_TXT, 1500, end, &o),
			 POLICY_ACCEPT);
	assert_int_equal(answer(f, "198.51.100.1", "x", T_TXT, 1500, end, &o),
			 POLICY_DROP);
	assert_int_equal(f->stats.c[STATS_ALLOWED], 31);
	allowlist_free(a);
	teardown_fixture(f);
}

/*
 * What the answer path judges: QR=0 from port 53 is let through and
 * counted; a rule narrowed by qtype or qname matches only those answers;
 * an allowed destination is never limited; with ipv4-prefix 24 two
 * customers of one /24 share a budget; an answer without a question is
 * judged by the rules that need none; a truncate rule whose answer cannot
 * be rewritten (a fragment-less but unsupported shape) drops it.
 */
static void test_answer_what_is_judged(void **state)
{
	struct fixture *f = setup_text("allow 198.51.100.200\n"
				       "answer-rule keys {\n"
				       "\tqtype DNSKEY\n"
				       "\tqname example.net\n"
				       "\tlimit 1/1h\n"
				       "}\n"
				       "answer-rule per24 {\n"
				       "\tsize 1500\n"
				       "\tlimit 2/1h\n"
				       "\tipv4-prefix 24\n"
				       "}\n");
	struct policy_out o;
	uint8_t q[600];
	size_t n;

	(void)state;
	/* a query from port 53 (QR=0) */
	n = pkt_ipv4_udp(answer_pkt, "198.51.100.1", "203.0.113.1", 53, 53, q,
			 pkt_dns_query(q, 7, "x.example", T_ANY));
	o.buf = answer_out;
	o.room = sizeof(answer_out);
	for (int i = 0; i < 5; i++)
		assert_int_equal(policy_decide_answer(f->pol, &f->ctx,
						      answer_pkt, n, 0, &o),
				 POLICY_ACCEPT);
	assert_int_equal(f->stats.c[STATS_NOT_ANSWER], 5);
	assert_int_equal(f->stats.c[STATS_ANSWERS], 0);

	/* keys: DNSKEY under example.net only, one an hour */
	assert_int_equal(answer(f, "203.0.113.1", "a.Example.NET", 48, 600, 0,
				&o),
			 POLICY_ACCEPT);
	assert_int_equal(answer(f, "203.0.113.1", "b.example.net", 48, 600, 0,
				&o),
			 POLICY_DROP);
	assert_int_equal(answer(f, "203.0.113.1", "example.org", 48, 600, 0,
				&o),
			 POLICY_ACCEPT);
	assert_int_equal(answer(f, "203.0.113.1", "example.net", T_TXT, 600, 0,
				&o),
			 POLICY_ACCEPT);
	assert_int_equal(rule_stats(f, 0)[STATS_R_MATCHED], 2);

	/* per24: .10 and .20 share one /24 budget of 2; .0.113.x is not
	 * 198.51.100.x; the allowed one is never counted */
	assert_int_equal(answer(f, "198.51.100.10", "x", T_TXT, 1500, 0, &o),
			 POLICY_ACCEPT);
	assert_int_equal(answer(f, "198.51.100.20", "x", T_TXT, 1600, 0, &o),
			 POLICY_ACCEPT);
	assert_int_equal(answer(f, "198.51.100.30", "x", T_TXT, 1600, 0, &o),
			 POLICY_DROP);
	assert_int_equal(answer(f, "203.0.113.30", "x", T_TXT, 1600, 0, &o),
			 POLICY_ACCEPT);
	for (int i = 0; i < 5; i++)
		assert_int_equal(answer(f, "198.51.100.200", "x", T_TXT, 4000,
					0, &o),
				 POLICY_ACCEPT);
	assert_int_equal(f->stats.c[STATS_ALLOWED], 5);
	assert_int_equal(rule_stats(f, 1)[STATS_R_MATCHED], 4);
	/* below the size: not this rule's */
	assert_int_equal(answer(f, "198.51.100.40", "x", T_TXT, 1499, 0, &o),
			 POLICY_ACCEPT);
	assert_int_equal(rule_stats(f, 1)[STATS_R_MATCHED], 4);

	/* no question (QDCOUNT 0): per24 judges it by its octets, keys
	 * cannot */
	n = pkt_answer_to(answer_pkt, "198.51.100.50", "x", T_TXT, 1600);
	answer_pkt[28 + 5] = 0; /* QDCOUNT 1 -> 0 */
	assert_int_equal(policy_decide_answer(f->pol, &f->ctx, answer_pkt, n, 0,
					      &o),
			 POLICY_DROP);
	assert_int_equal(f->stats.c[STATS_MALFORMED], 1);
	assert_int_equal(rule_stats(f, 0)[STATS_R_MATCHED], 2);
	assert_int_equal(rule_stats(f, 1)[STATS_R_MATCHED], 5);
	teardown_fixture(f);

	/* truncate, but the answer has no question to echo: dropped */
	f = setup_text("answer-rule t {\n\tlimit 1/1h\n\taction truncate\n}\n");
	assert_int_equal(answer(f, "203.0.113.5", "x", T_TXT, 1600, 0, &o),
			 POLICY_ACCEPT);
	n = pkt_answer_to(answer_pkt, "203.0.113.5", "x", T_TXT, 1600);
	answer_pkt[28 + 5] = 0;
	assert_int_equal(policy_decide_answer(f->pol, &f->ctx, answer_pkt, n, 0,
					      &o),
			 POLICY_DROP);
	assert_int_equal(rule_stats(f, 0)[STATS_R_TRUNC_FAILED], 1);
	assert_int_equal(rule_stats(f, 0)[STATS_R_DROPPED], 1);
	assert_int_equal(rule_stats(f, 0)[STATS_R_BYTES_REFUSED], 1600);
	teardown_fixture(f);
}

/*
 * total-bytes over every destination: 200 customers each drawing a
 * 3000-octet answer every 50 ms (12 MB/s in all) get, together, no more
 * than 100k + 100k/s + one answer over any window.
 */
static void test_answer_total_bytes(void **state)
{
	enum { N = 200 * 40 };
	static uint64_t t[N];
	static double got[N];
	struct fixture *f = setup_text("answer-rule all {\n"
				       "\tbytes 1M/1s\n"
				       "\ttotal-bytes 100k/1s\n"
				       "}\n");
	struct policy_out o;
	char dst[32];

	(void)state;
	for (size_t i = 0; i < N; i++) {
		snprintf(dst, sizeof(dst), "198.18.%zu.%zu", i % 200 / 100,
			 i % 100 + 1);
		t[i] = (i / 200) * 50 * MS + (i % 200) * 100000;
		got[i] = answer(f, dst, "x", T_TXT, 3000, t[i], &o) ==
					 POLICY_ACCEPT
				 ? 3000
				 : 0;
	}
	assert_true(worst_excess(t, got, N, 100000, 100000e-9, 3000) <= 0);
	assert_true(rule_stats(f, 0)[STATS_R_TOTAL] > N / 2);
	teardown_fixture(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mission_policy),
		cmocka_unit_test(test_first_drop_rule_decides),
		cmocka_unit_test(test_shadow_rule),
		cmocka_unit_test(test_log_rule_after_drop_rule),
		cmocka_unit_test(test_allow_lists),
		cmocka_unit_test(test_temporary_allow),
		cmocka_unit_test(test_allow_lists_overlap),
		cmocka_unit_test(test_qname_suffix),
		cmocka_unit_test(test_ipv6_prefix_shares_bucket),
		cmocka_unit_test(test_total_cap),
		cmocka_unit_test(test_hold_down_counted),
		cmocka_unit_test(test_settings_for_unparseable),
		cmocka_unit_test(test_never_matched),
		cmocka_unit_test(test_rule_ids_across_reload),
		cmocka_unit_test(test_buckets_survive_reload),
		cmocka_unit_test(test_query_truncate),
		cmocka_unit_test(test_answer_byte_budget),
		cmocka_unit_test(test_answer_bytes_and_count),
		cmocka_unit_test(test_answer_truncate_slip),
		cmocka_unit_test(test_answer_what_is_judged),
		cmocka_unit_test(test_answer_total_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
