/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel rules composed from a configuration: the exact lines (in the
 * form iptables-save prints them), the served prefixes, the widened
 * prefilter a reload installs first (run by libpcap's interpreter on real
 * queries), the iptables-restore input, the comparison with a live
 * ruleset in every state, and the printed script (checked by sh -n).
 * Installing and reading back against the kernel is t_rules.sh's.
 */
#include <sys/types.h>

#include <pcap/bpf.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "config.h"
#include "prefilter.h"
#include "rules.h"

#include "pktbuild.h"

#define T_ANY 255
#define T_TXT 16
#define T_A 1

static const char mission[] = "rule any-abuse {\n qtype ANY\n limit 2/5s\n}\n";
static const char txt_only[] = "rule txt {\n qtype TXT\n limit 2/5s\n}\n";
/* No prefilter (a qname rule): the chains' lines are short enough to be
 * written out whole below.  The answer queue is the one after 0. */
static const char no_answers[] = "queue 0\nrule q {\n qname example.net\n"
				 " limit 1/1s\n}\n";
static const char answers[] = "queue 0\nrule q {\n qname example.net\n"
			      " limit 1/1s\n}\n"
			      "answer-rule big {\n size 1000\n"
			      " bytes 64k/10s\n action truncate\n}\n";

static struct config *parse(const char *text)
{
	char err[CONFIG_ERR_MAX];
	struct config *c =
		config_parse("t.conf", text, strlen(text), err, sizeof(err));

	if (c == NULL)
		fail_msg("%s", err);
	return c;
}

/* Nothing of dnsrl's in the live ruleset. */
static const struct rules_live nothing_live;

/* The restore text of a plan, in a string the caller frees. */
static char *restore_text(const struct rules_plan *p,
			  const struct rules_live *live)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	rules_restore_text(p, live, f);
	assert_int_equal(fclose(f), 0);
	return out;
}

/* The bpf rule's bytecode of family for cfg, from the prefilter itself. */
static void bytecode(const struct config *cfg, int family, char *text)
{
	struct prefilter_prog prog;

	assert_int_equal(prefilter_compile(cfg, family, &prog, NULL, 0), 0);
	assert_int_equal(prefilter_bytecode_text(&prog, ' ', text,
						 PREFILTER_TEXT_MAX),
			 0);
}

static void test_plan_lines(void **state)
{
	struct config *cfg = parse(mission);
	char bc[PREFILTER_TEXT_MAX], want[PREFILTER_TEXT_MAX + 512];

	(void)state;
	for (int i = 0; i < 2; i++) {
		int fam = i == 0 ? AF_INET : AF_INET6;
		struct rules_plan *p = rules_plan_new(cfg, NULL, fam);
		char *text;

		assert_non_null(p);
		bytecode(cfg, fam, bc);
		text = restore_text(p, &nothing_live);
		snprintf(want, sizeof(want),
			 "*mangle\n:DNSRL - [0:0]\n"
			 "-A DNSRL -p udp -m udp --dport 53 -m bpf --bytecode "
			 "\"%s\" -j RETURN\n"
			 "-A DNSRL -p udp -m udp --dport 53 -j NFQUEUE "
			 "--queue-num 0 --queue-bypass\n"
			 "-I INPUT 1 -p udp -m udp --dport 53 -j DNSRL\n"
			 "COMMIT\n",
			 bc);
		assert_string_equal(text, want);
		free(text);
		rules_plan_free(p);
	}
	config_free(cfg);

	/* several queues, and a policy without a prefilter */
	cfg = parse(
		"queue 2-5\nrule q {\n qname example.net\n limit 1/1s\n}\n");
	{
		struct rules_plan *p = rules_plan_new(cfg, NULL, AF_INET);
		char *text = restore_text(p, NULL);

		assert_string_equal(text,
				    "*mangle\n:DNSRL - [0:0]\n"
				    "-A DNSRL -p udp -m udp --dport 53 -j "
				    "NFQUEUE --queue-balance 2:5 "
				    "--queue-bypass\nCOMMIT\n");
		free(text);
		rules_plan_free(p);
	}
	config_free(cfg);
}

/* Served prefixes: DNSRL picks them, DNSRL-Q judges; a family none of
 * whose prefixes is listed is judged whole. */
static void test_plan_served(void **state)
{
	struct config *cfg =
		parse("serve 198.51.100.0/24 203.0.113.7\n"
		      "queue 1\n"
		      "rule q {\n qname example.net\n limit 1/1s\n}"
		      "\n");
	struct rules_plan *p4 = rules_plan_new(cfg, NULL, AF_INET);
	struct rules_plan *p6 = rules_plan_new(cfg, NULL, AF_INET6);
	char *t4 = restore_text(p4, NULL), *t6 = restore_text(p6, NULL);

	(void)state;
	assert_string_equal(t4, "*mangle\n:DNSRL - [0:0]\n:DNSRL-Q - [0:0]\n"
				"-A DNSRL -s 198.51.100.0/24 -p udp -m udp "
				"--dport 53 -g DNSRL-Q\n"
				"-A DNSRL -s 203.0.113.7/32 -p udp -m udp "
				"--dport 53 -g DNSRL-Q\n"
				"-A DNSRL-Q -p udp -m udp --dport 53 -j "
				"NFQUEUE --queue-num 1 --queue-bypass\n"
				"COMMIT\n");
	assert_string_equal(t6, "*mangle\n:DNSRL - [0:0]\n"
				"-A DNSRL -p udp -m udp --dport 53 -j NFQUEUE "
				"--queue-num 1 --queue-bypass\nCOMMIT\n");
	free(t4);
	free(t6);
	rules_plan_free(p4);
	rules_plan_free(p6);
	config_free(cfg);
}

/* The bytecode of the bpf line of a restore text. */
static void bpf_of(const char *text, struct bpf_insn *insn, size_t *n)
{
	const char *b = strstr(text, "--bytecode \"");
	char *end;

	assert_non_null(b);
	b += strlen("--bytecode \"");
	*n = strtoul(b, &end, 10);
	assert_true(*n > 0 && *n <= PREFILTER_INSNS_MAX);
	for (size_t i = 0; i < *n; i++) {
		assert_int_equal(*end, ',');
		insn[i].code = (u_short)strtoul(end + 1, &end, 10);
		insn[i].jt = (u_char)strtoul(end, &end, 10);
		insn[i].jf = (u_char)strtoul(end, &end, 10);
		insn[i].k = (bpf_u_int32)strtoul(end, &end, 10);
	}
	assert_int_equal(*end, '"');
}

/* Whether the plan's prefilter returns the query of qtype in the kernel. */
static bool returned(const struct rules_plan *p, int family, uint16_t qtype)
{
	struct bpf_insn insn[PREFILTER_INSNS_MAX];
	uint8_t pkt[256], dns[128];
	size_t n, dlen = pkt_dns_query(dns, 7, "www.example.com", qtype);
	size_t len = family == AF_INET
			     ? pkt_ipv4_udp(pkt, "198.51.100.66",
					    "198.51.100.1", 4000, 53, dns, dlen)
			     : pkt_ipv6_udp(pkt, "2001:db8:2::1",
					    "2001:db8:1::1", 4000, 53, dns,
					    dlen);
	char *text = restore_text(p, NULL);
	unsigned r;

	bpf_of(text, insn, &n);
	free(text);
	r = bpf_filter(insn, pkt, (u_int)len, (u_int)len);
	return r != 0;
}

/*
 * A reload from ANY to TXT installs first a prefilter that returns
 * neither (both reach the queue while the policy changes hands), then
 * the new one, which returns ANY again.
 */
static void test_plan_widened(void **state)
{
	struct config *old = parse(mission), *next = parse(txt_only);

	(void)state;
	for (int i = 0; i < 2; i++) {
		int fam = i == 0 ? AF_INET : AF_INET6;
		struct rules_plan *wide = rules_plan_new(next, old, fam);
		struct rules_plan *narrow = rules_plan_new(next, NULL, fam);
		struct rules_plan *before = rules_plan_new(old, NULL, fam);

		assert_true(returned(before, fam, T_TXT));
		assert_false(returned(before, fam, T_ANY));
		assert_false(returned(wide, fam, T_TXT));
		assert_false(returned(wide, fam, T_ANY));
		assert_true(returned(wide, fam, T_A));
		assert_false(returned(narrow, fam, T_TXT));
		assert_true(returned(narrow, fam, T_ANY));
		rules_plan_free(wide);
		rules_plan_free(narrow);
		rules_plan_free(before);
	}
	config_free(old);
	config_free(next);
}

/* iptables-save output around the plan's lines. */
static char *save_text(const struct rules_plan *p, const char *before_jump,
		       bool jump, const char *extra)
{
	char *text = restore_text(p, NULL), *out = NULL, *l, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	fprintf(f, "# Generated by iptables-save\n*filter\n:INPUT ACCEPT "
		   "[0:0]\n-A INPUT -p udp -m udp --dport 53 -j ACCEPT\n"
		   "COMMIT\n*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT "
		   "[0:0]\n:DNSRL - [0:0]\n");
	if (before_jump != NULL)
		fprintf(f, "%s\n", before_jump);
	if (jump)
		fprintf(f, "-A INPUT -p udp -m udp --dport 53 -j DNSRL\n");
	fprintf(f, "-A INPUT -j MARK --set-xmark 0x1/0xffffffff\n");
	for (l = strtok_r(text, "\n", &save); l != NULL;
	     l = strtok_r(NULL, "\n", &save))
		if (strncmp(l, "-A ", 3) == 0)
			fprintf(f, "%s\n", l);
	if (extra != NULL)
		fprintf(f, "%s\n", extra);
	fprintf(f, "COMMIT\n# Completed\n");
	assert_int_equal(fclose(f), 0);
	free(text);
	return out;
}

static void test_compare(void **state)
{
	struct config *cfg = parse(mission), *other = parse(txt_only);
	struct rules_plan *p = rules_plan_new(cfg, NULL, AF_INET);
	struct rules_plan *q = rules_plan_new(other, NULL, AF_INET);
	char why[RULES_WHY_MAX], *s;
	struct rules_live live;

	(void)state;
	/* as installed: an ACCEPT in filter INPUT changes nothing */
	s = save_text(p, NULL, true, NULL);
	assert_int_equal(rules_compare(p, s, &live, why, sizeof(why)),
			 RULES_OK);
	assert_true(live.input_jump);
	assert_false(live.answer_chain);
	assert_int_equal(live.output_jumps, 0);
	assert_string_equal(why, "");
	/* another policy's prefilter */
	assert_int_equal(rules_compare(q, s, &live, why, sizeof(why)),
			 RULES_STALE);
	assert_non_null(strstr(why, "where"));
	free(s);
	/* no jump */
	s = save_text(p, NULL, false, NULL);
	assert_int_equal(rules_compare(p, s, &live, why, sizeof(why)),
			 RULES_MISSING);
	assert_false(live.input_jump);
	assert_non_null(strstr(why, "no rule of mangle INPUT jumps"));
	free(s);
	/* a rule first in mangle INPUT */
	s = save_text(p, "-A INPUT -p udp -j ACCEPT", true, NULL);
	assert_int_equal(rules_compare(p, s, &live, why, sizeof(why)),
			 RULES_SHADOWED);
	assert_non_null(strstr(why, "1 rules of mangle INPUT come before"));
	free(s);
	/* a rule added to the chain */
	s = save_text(p, NULL, true, "-A DNSRL -j ACCEPT");
	assert_int_equal(rules_compare(p, s, &live, why, sizeof(why)),
			 RULES_STALE);
	free(s);
	/* no chain at all */
	assert_int_equal(rules_compare(p,
				       "*mangle\n:INPUT ACCEPT [0:0]\nCOMMIT\n",
				       &live, why, sizeof(why)),
			 RULES_MISSING);
	assert_non_null(strstr(why, "no chain DNSRL"));
	assert_string_equal(rules_state_name(RULES_SHADOWED), "shadowed");
	rules_plan_free(p);
	rules_plan_free(q);
	config_free(cfg);
	config_free(other);
}

/* The answer path's lines, for each family: MIN is the smallest size of
 * the answer rules, the queue the answer queue; the jump from OUTPUT is
 * inserted first when the live ruleset lacks it. */
static void test_plan_answers(void **state)
{
	struct config *cfg =
		parse("queue 0\nrule q {\n qname example.net\n limit 1/1s\n}\n"
		      "answer-rule big {\n size 1000\n bytes 64k/10s\n}\n"
		      "answer-rule bigger {\n size 600\n limit 5/1s\n}\n"
		      "answer-rule biggest {\n size 3000\n limit 1/1s\n}\n");

	(void)state;
	for (int i = 0; i < 2; i++) {
		int fam = i == 0 ? AF_INET : AF_INET6;
		struct rules_plan *p = rules_plan_new(cfg, NULL, fam);
		char *text;

		assert_non_null(p);
		text = restore_text(p, &nothing_live);
		assert_string_equal(
			text,
			"*mangle\n:DNSRL - [0:0]\n:DNSRL-OUT - [0:0]\n"
			"-A DNSRL -p udp -m udp --dport 53 -j NFQUEUE "
			"--queue-num 0 --queue-bypass\n"
			"-A DNSRL-OUT -p udp -m udp --sport 53 -m length "
			"--length 600:65535 -j NFQUEUE --queue-num 1 "
			"--queue-bypass\n"
			"-I INPUT 1 -p udp -m udp --dport 53 -j DNSRL\n"
			"-I OUTPUT 1 -p udp -m udp --sport 53 -j DNSRL-OUT\n"
			"COMMIT\n");
		free(text);
		rules_plan_free(p);
	}
	config_free(cfg);

	/* answer queues balanced; the extremes of size as iptables-save
	 * prints them (65535:65535 as one number) */
	cfg = parse("queue 2-3\nanswer-queue 10-13\n"
		    "rule q {\n qname example.net\n limit 1/1s\n}\n"
		    "answer-rule a {\n size 65535\n bytes 1k/1s\n}\n");
	{
		struct rules_plan *p = rules_plan_new(cfg, NULL, AF_INET6);
		char *text = restore_text(p, NULL);

		assert_string_equal(
			text, "*mangle\n:DNSRL - [0:0]\n:DNSRL-OUT - [0:0]\n"
			      "-A DNSRL -p udp -m udp --dport 53 -j NFQUEUE "
			      "--queue-balance 2:3 --queue-bypass\n"
			      "-A DNSRL-OUT -p udp -m udp --sport 53 -m length "
			      "--length 65535 -j NFQUEUE --queue-balance 10:13 "
			      "--queue-bypass\nCOMMIT\n");
		free(text);
		rules_plan_free(p);
	}
	config_free(cfg);
	cfg = parse("queue 4\nrule q {\n qname example.net\n limit 1/1s\n}\n"
		    "answer-rule a {\n size 0\n bytes 1k/1s\n}\n");
	{
		struct rules_plan *p = rules_plan_new(cfg, NULL, AF_INET);
		char *text = restore_text(p, NULL);

		assert_non_null(strstr(text, "\n-A DNSRL-OUT -p udp -m udp "
					     "--sport 53 -m length --length "
					     "0:65535 -j NFQUEUE --queue-num 5 "
					     "--queue-bypass\n"));
		free(text);
		rules_plan_free(p);
	}
	config_free(cfg);
}

/* Served prefixes: only answers to them are queued, by a destination
 * match on each queue rule; a family without served prefixes is judged
 * whole, as its queries are. */
static void test_plan_answers_served(void **state)
{
	struct config *cfg =
		parse("serve 198.51.100.0/24 203.0.113.7\nqueue 1\n"
		      "rule q {\n qname example.net\n limit 1/1s\n}\n"
		      "answer-rule a {\n size 1200\n bytes 64k/10s\n}\n");
	struct rules_plan *p4 = rules_plan_new(cfg, NULL, AF_INET);
	struct rules_plan *p6 = rules_plan_new(cfg, NULL, AF_INET6);
	char *t4 = restore_text(p4, NULL), *t6 = restore_text(p6, NULL);

	(void)state;
	assert_string_equal(
		t4, "*mangle\n:DNSRL - [0:0]\n:DNSRL-Q - [0:0]\n"
		    ":DNSRL-OUT - [0:0]\n"
		    "-A DNSRL -s 198.51.100.0/24 -p udp -m udp --dport 53 -g "
		    "DNSRL-Q\n"
		    "-A DNSRL -s 203.0.113.7/32 -p udp -m udp --dport 53 -g "
		    "DNSRL-Q\n"
		    "-A DNSRL-Q -p udp -m udp --dport 53 -j NFQUEUE "
		    "--queue-num 1 --queue-bypass\n"
		    "-A DNSRL-OUT -d 198.51.100.0/24 -p udp -m udp --sport 53 "
		    "-m length --length 1200:65535 -j NFQUEUE --queue-num 2 "
		    "--queue-bypass\n"
		    "-A DNSRL-OUT -d 203.0.113.7/32 -p udp -m udp --sport 53 "
		    "-m length --length 1200:65535 -j NFQUEUE --queue-num 2 "
		    "--queue-bypass\n"
		    "COMMIT\n");
	assert_string_equal(
		t6, "*mangle\n:DNSRL - [0:0]\n:DNSRL-OUT - [0:0]\n"
		    "-A DNSRL -p udp -m udp --dport 53 -j NFQUEUE "
		    "--queue-num 1 --queue-bypass\n"
		    "-A DNSRL-OUT -p udp -m udp --sport 53 -m length --length "
		    "1200:65535 -j NFQUEUE --queue-num 2 --queue-bypass\n"
		    "COMMIT\n");
	free(t4);
	free(t6);
	rules_plan_free(p4);
	rules_plan_free(p6);
	config_free(cfg);
}

/*
 * An install over a live ruleset: the jumps it has are kept; a plan
 * without answer rules takes out the OUTPUT jumps and DNSRL-OUT in the
 * same transaction, jumps first.  A reload's widened plan has the answer
 * chain of the new configuration, not of the old one.
 */
static void test_restore_live(void **state)
{
	struct config *with = parse(answers), *without = parse(no_answers);
	struct rules_plan *pw = rules_plan_new(with, NULL, AF_INET);
	struct rules_plan *po = rules_plan_new(without, NULL, AF_INET);
	struct rules_live all = {
		.input_jump = true, .answer_chain = true, .output_jumps = 1};
	struct rules_live twice = all;
	struct rules_plan *r;
	char *t;

	(void)state;
	t = restore_text(pw, &all);
	assert_null(strstr(t, "-I "));
	assert_null(strstr(t, "-D "));
	assert_non_null(strstr(t, ":DNSRL-OUT - [0:0]\n"));
	free(t);
	twice.output_jumps = 2;
	t = restore_text(po, &twice);
	assert_string_equal(t, "*mangle\n:DNSRL - [0:0]\n"
			       "-A DNSRL -p udp -m udp --dport 53 -j NFQUEUE "
			       "--queue-num 0 --queue-bypass\n"
			       "-D OUTPUT -p udp -m udp --sport 53 -j "
			       "DNSRL-OUT\n"
			       "-D OUTPUT -p udp -m udp --sport 53 -j "
			       "DNSRL-OUT\n"
			       "-F DNSRL-OUT\n-X DNSRL-OUT\nCOMMIT\n");
	free(t);
	t = restore_text(po, &nothing_live);
	assert_null(strstr(t, "DNSRL-OUT"));
	assert_non_null(strstr(t, "-I INPUT 1 "));
	free(t);

	/* reload from answers to none, and back: also widens only the
	 * prefilter */
	r = rules_plan_new(without, with, AF_INET);
	t = restore_text(r, NULL);
	assert_null(strstr(t, "DNSRL-OUT"));
	free(t);
	rules_plan_free(r);
	r = rules_plan_new(with, without, AF_INET6);
	t = restore_text(r, NULL);
	assert_non_null(strstr(t, "\n-A DNSRL-OUT -p udp -m udp --sport 53 "
				  "-m length --length 1000:65535 -j NFQUEUE "
				  "--queue-num 1 --queue-bypass\n"));
	free(t);
	rules_plan_free(r);
	rules_plan_free(pw);
	rules_plan_free(po);
	config_free(with);
	config_free(without);
}

/*
 * Written out as iptables-save (iptables-nft 1.8.9) printed them after
 * the script `dnsrl --print-rules` prints for `answers` (and its IPv6
 * part for `served6`), in a scratch network namespace; then altered the
 * way an operator or another policy would.
 */
#define SAVE_HEAD                                                           \
	"# Generated by iptables-save v1.8.9 (nf_tables) on Sun Dec  6 "    \
	"10:48:49 2026\n*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT "  \
	"[0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING " \
	"ACCEPT [0:0]\n:DNSRL - [0:0]\n"
#define DECL_OUT ":DNSRL-OUT - [0:0]\n"
#define IN_JUMP "-A INPUT -p udp -m udp --dport 53 -j DNSRL\n"
#define OUT_JUMP "-A OUTPUT -p udp -m udp --sport 53 -j DNSRL-OUT\n"
#define OUT_MARK "-A OUTPUT -p tcp -j MARK --set-xmark 0x7/0xffffffff\n"
#define OUT_ACCEPT "-A OUTPUT -p udp -j ACCEPT\n"
#define Q_RULE                                                        \
	"-A DNSRL -p udp -m udp --dport 53 -j NFQUEUE --queue-num 0 " \
	"--queue-bypass\n"
#define A_RULE                                                      \
	"-A DNSRL-OUT -p udp -m udp --sport 53 -m length --length " \
	"1000:65535 -j NFQUEUE --queue-num 1 --queue-bypass\n"
#define A_RULE_512                                                  \
	"-A DNSRL-OUT -p udp -m udp --sport 53 -m length --length " \
	"512:65535 -j NFQUEUE --queue-num 1 --queue-bypass\n"
#define SAVE_TAIL "COMMIT\n# Completed on Sun Dec  6 10:48:49 2026\n"

static enum rules_state compare_text(const char *conf, int family,
				     const char *save, struct rules_live *live,
				     char *why, size_t whylen)
{
	struct config *cfg = parse(conf);
	struct rules_plan *p = rules_plan_new(cfg, NULL, family);
	enum rules_state st;

	assert_non_null(p);
	st = rules_compare(p, save, live, why, whylen);
	rules_plan_free(p);
	config_free(cfg);
	return st;
}

static void test_compare_answers(void **state)
{
	static const char served6[] =
		"queue 0\nserve 198.51.100.0/24 2001:db8::/32\nrule q {\n"
		" qname example.net\n limit 1/1s\n}\nanswer-rule big {\n"
		" size 1000\n bytes 64k/10s\n}\n";
	struct rules_live live;
	char why[RULES_WHY_MAX];

	(void)state;
	/* as installed, an operator's rule after the jump */
	assert_int_equal(compare_text(answers, AF_INET,
				      SAVE_HEAD DECL_OUT IN_JUMP OUT_JUMP
					      OUT_MARK Q_RULE A_RULE SAVE_TAIL,
				      &live, why, sizeof(why)),
			 RULES_OK);
	assert_string_equal(why, "");
	assert_true(live.input_jump);
	assert_true(live.answer_chain);
	assert_int_equal(live.output_jumps, 1);
	/* an operator's accept inserted before the jump */
	assert_int_equal(compare_text(answers, AF_INET,
				      SAVE_HEAD DECL_OUT IN_JUMP OUT_ACCEPT
					      OUT_JUMP Q_RULE A_RULE SAVE_TAIL,
				      &live, why, sizeof(why)),
			 RULES_SHADOWED);
	assert_string_equal(why, "IPv4: 1 rules of mangle OUTPUT come before "
				 "the jump to DNSRL-OUT and may decide "
				 "answers from port 53 first; ");
	/* the jump deleted */
	assert_int_equal(compare_text(answers, AF_INET,
				      SAVE_HEAD DECL_OUT IN_JUMP OUT_MARK Q_RULE
					      A_RULE SAVE_TAIL,
				      &live, why, sizeof(why)),
			 RULES_MISSING);
	assert_string_equal(
		why, "IPv4: no rule of mangle OUTPUT jumps to DNSRL-OUT; ");
	assert_int_equal(live.output_jumps, 0);
	/* the query path only: the answer chain missing */
	assert_int_equal(compare_text(answers, AF_INET,
				      SAVE_HEAD IN_JUMP Q_RULE SAVE_TAIL, &live,
				      why, sizeof(why)),
			 RULES_MISSING);
	assert_string_equal(why,
			    "IPv4: no chain DNSRL-OUT in the mangle table; ");
	assert_false(live.answer_chain);
	/* another size, an added rule, a rule gone */
	assert_int_equal(compare_text(answers, AF_INET,
				      SAVE_HEAD DECL_OUT IN_JUMP OUT_JUMP Q_RULE
					      A_RULE_512 SAVE_TAIL,
				      &live, why, sizeof(why)),
			 RULES_STALE);
	assert_string_equal(why,
			    "IPv4: rule 1 of DNSRL-OUT is '-A DNSRL-OUT -p "
			    "udp -m udp --sport 53 -m length --length "
			    "512...' where '-A DNSRL-OUT -p udp -m udp "
			    "--sport 53 -m length --length 100...' was "
			    "expected; ");
	assert_int_equal(
		compare_text(answers, AF_INET,
			     SAVE_HEAD DECL_OUT IN_JUMP OUT_JUMP Q_RULE A_RULE
			     "-A DNSRL-OUT -j "
			     "ACCEPT\n" SAVE_TAIL,
			     &live, why, sizeof(why)),
		RULES_STALE);
	assert_string_equal(why, "IPv4: rule 2 of DNSRL-OUT is '-A DNSRL-OUT "
				 "-j ACCEPT' where 'nothing' was expected; ");
	assert_int_equal(compare_text(answers, AF_INET,
				      SAVE_HEAD DECL_OUT IN_JUMP OUT_JUMP Q_RULE
					      SAVE_TAIL,
				      &live, why, sizeof(why)),
			 RULES_STALE);
	assert_string_equal(
		why, "IPv4: 0 rules in DNSRL-OUT where 1 were expected; ");
	/* a configuration without answer rules, the chain still there */
	assert_int_equal(compare_text(no_answers, AF_INET,
				      SAVE_HEAD DECL_OUT IN_JUMP OUT_JUMP Q_RULE
					      A_RULE SAVE_TAIL,
				      &live, why, sizeof(why)),
			 RULES_STALE);
	assert_string_equal(why, "IPv4: chain DNSRL-OUT in the mangle table "
				 "sends answers to a queue, but the "
				 "configuration has no answer-rule; ");
	assert_true(live.answer_chain);
	assert_int_equal(live.output_jumps, 1);
	assert_int_equal(
		compare_text(no_answers, AF_INET,
			     SAVE_HEAD IN_JUMP OUT_MARK Q_RULE SAVE_TAIL, &live,
			     why, sizeof(why)),
		RULES_OK);
	/* both paths wrong: the worse state, the query path's word first,
	 * unchanged */
	assert_int_equal(compare_text(answers, AF_INET,
				      SAVE_HEAD DECL_OUT OUT_ACCEPT OUT_JUMP
					      Q_RULE A_RULE SAVE_TAIL,
				      &live, why, sizeof(why)),
			 RULES_MISSING);
	assert_string_equal(why, "IPv4: no rule of mangle INPUT jumps to "
				 "DNSRL; IPv4: 1 rules of mangle OUTPUT come "
				 "before the jump to DNSRL-OUT and may decide "
				 "answers from port 53 first; ");
	/* IPv6 with served prefixes, chains in iptables-save's order */
	assert_int_equal(
		compare_text(
			served6, AF_INET6,
			SAVE_HEAD DECL_OUT
			":DNSRL-Q - [0:0]\n" IN_JUMP OUT_JUMP
			"-A DNSRL -s 2001:db8::/32 -p udp -m udp --dport 53 "
			"-g DNSRL-Q\n"
			"-A DNSRL-OUT -d 2001:db8::/32 -p udp -m udp --sport "
			"53 -m length --length 1000:65535 -j NFQUEUE "
			"--queue-num 1 --queue-bypass\n"
			"-A DNSRL-Q -p udp -m udp --dport 53 -j NFQUEUE "
			"--queue-num 0 --queue-bypass\n" SAVE_TAIL,
			&live, why, sizeof(why)),
		RULES_OK);
	assert_string_equal(why, "");
	/* the same answers to everyone: not the served plan */
	assert_int_equal(
		compare_text(served6, AF_INET6,
			     SAVE_HEAD DECL_OUT
			     ":DNSRL-Q - [0:0]\n" IN_JUMP OUT_JUMP
			     "-A DNSRL -s 2001:db8::/32 -p udp -m udp --dport "
			     "53 -g DNSRL-Q\n" A_RULE
			     "-A DNSRL-Q -p udp -m udp --dport 53 -j NFQUEUE "
			     "--queue-num 0 --queue-bypass\n" SAVE_TAIL,
			     &live, why, sizeof(why)),
		RULES_STALE);
	assert_non_null(strstr(why, "IPv6: rule 1 of DNSRL-OUT is "));
}

/* The printed script is valid sh, replaces the chains in one transaction
 * per family, and names no path it cannot print. */
static void test_print(void **state)
{
	struct config *cfg = parse(mission);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len), *sh;

	(void)state;
	assert_non_null(f);
	free(cfg->path);
	cfg->path = strdup("/etc/x\n;rm -rf /\n");
	rules_print(cfg, f);
	assert_int_equal(fclose(f), 0);
	assert_true(strncmp(out, "#!/bin/sh\n", 10) == 0);
	assert_non_null(strstr(out, "(config /etc/x?;rm -rf /?)"));
	assert_non_null(strstr(out, "\niptables-restore --noflush <<'EOF'\n"
				    "*mangle\n:DNSRL - [0:0]\n-A DNSRL"));
	assert_non_null(strstr(out, "\nip6tables-restore --noflush <<'EOF'\n"
				    "*mangle\n:DNSRL - [0:0]\n-A DNSRL"));
	assert_non_null(strstr(out, "iptables -t mangle -C INPUT -p udp -m "
				    "udp --dport 53 -j DNSRL 2>/dev/null ||\n"
				    "\tiptables -t mangle -I INPUT 1"));
	/* no answer rule: what a configuration with them left goes */
	assert_null(strstr(out, ":DNSRL-OUT"));
	assert_non_null(strstr(out, "\nwhile iptables -t mangle -D OUTPUT -p "
				    "udp -m udp --sport 53 -j DNSRL-OUT "
				    "2>/dev/null; do :; done\n"
				    "iptables -t mangle -F DNSRL-OUT "
				    "2>/dev/null && iptables -t mangle -X "
				    "DNSRL-OUT || true\n"));
	sh = popen("sh -n", "w");
	assert_non_null(sh);
	fputs(out, sh);
	assert_int_equal(pclose(sh), 0);
	free(out);
	config_free(cfg);
}

/* With answer rules: the chain in the same transaction, the jump from
 * OUTPUT inserted if missing, and the removal commands. */
static void test_print_answers(void **state)
{
	struct config *cfg = parse(answers);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len), *sh;

	(void)state;
	assert_non_null(f);
	rules_print(cfg, f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(out, "# Answers from port 53 of at least 1000 "
				    "octets go to NFQUEUE 1.\n"));
	for (int i = 0; i < 2; i++) {
		const char *t = i == 0 ? "iptables" : "ip6tables";
		char want[512];

		snprintf(want, sizeof(want),
			 "\n%s-restore --noflush <<'EOF'\n*mangle\n"
			 ":DNSRL - [0:0]\n:DNSRL-OUT - [0:0]\n",
			 t);
		assert_non_null(strstr(out, want));
		snprintf(want, sizeof(want),
			 "\n%s -t mangle -C OUTPUT -p udp -m udp --sport 53 "
			 "-j DNSRL-OUT 2>/dev/null ||\n\t%s -t mangle -I "
			 "OUTPUT 1 -p udp -m udp --sport 53 -j DNSRL-OUT\n",
			 t, t);
		assert_non_null(strstr(out, want));
		snprintf(
			want, sizeof(want),
			"\n#   %s -t mangle -D OUTPUT -p udp -m udp --sport 53 "
			"-j DNSRL-OUT; %s -t mangle -F DNSRL-OUT; %s -t "
			"mangle -X DNSRL-OUT\n",
			t, t, t);
		assert_non_null(strstr(out, want));
	}
	assert_null(strstr(out, "-D OUTPUT -p udp -m udp --sport 53 -j "
				"DNSRL-OUT 2>/dev/null"));
	sh = popen("sh -n", "w");
	assert_non_null(sh);
	fputs(out, sh);
	assert_int_equal(pclose(sh), 0);
	free(out);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan_lines),
		cmocka_unit_test(test_plan_served),
		cmocka_unit_test(test_plan_widened),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_plan_answers),
		cmocka_unit_test(test_plan_answers_served),
		cmocka_unit_test(test_restore_live),
		cmocka_unit_test(test_compare_answers),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_print_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
