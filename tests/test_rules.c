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

static struct config *parse(const char *text)
{
	char err[CONFIG_ERR_MAX];
	struct config *c =
		config_parse("t.conf", text, strlen(text), err, sizeof(err));

	if (c == NULL)
		fail_msg("%s", err);
	return c;
}

/* The restore text of a plan, in a string the caller frees. */
static char *restore_text(const struct rules_plan *p, bool add_jump)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	rules_restore_text(p, add_jump, f);
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
		text = restore_text(p, true);
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
		char *text = restore_text(p, false);

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
	char *t4 = restore_text(p4, false), *t6 = restore_text(p6, false);

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
	char *text = restore_text(p, false);
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
	char *text = restore_text(p, false), *out = NULL, *l, *save = NULL;
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
	bool jump;

	(void)state;
	/* as installed: an ACCEPT in filter INPUT changes nothing */
	s = save_text(p, NULL, true, NULL);
	assert_int_equal(rules_compare(p, s, &jump, why, sizeof(why)),
			 RULES_OK);
	assert_true(jump);
	assert_string_equal(why, "");
	/* another policy's prefilter */
	assert_int_equal(rules_compare(q, s, &jump, why, sizeof(why)),
			 RULES_STALE);
	assert_non_null(strstr(why, "where"));
	free(s);
	/* no jump */
	s = save_text(p, NULL, false, NULL);
	assert_int_equal(rules_compare(p, s, &jump, why, sizeof(why)),
			 RULES_MISSING);
	assert_false(jump);
	assert_non_null(strstr(why, "no rule of mangle INPUT jumps"));
	free(s);
	/* a rule first in mangle INPUT */
	s = save_text(p, "-A INPUT -p udp -j ACCEPT", true, NULL);
	assert_int_equal(rules_compare(p, s, &jump, why, sizeof(why)),
			 RULES_SHADOWED);
	assert_non_null(strstr(why, "1 rules of mangle INPUT come before"));
	free(s);
	/* a rule added to the chain */
	s = save_text(p, NULL, true, "-A DNSRL -j ACCEPT");
	assert_int_equal(rules_compare(p, s, &jump, why, sizeof(why)),
			 RULES_STALE);
	free(s);
	/* no chain at all */
	assert_int_equal(rules_compare(p,
				       "*mangle\n:INPUT ACCEPT [0:0]\nCOMMIT\n",
				       &jump, why, sizeof(why)),
			 RULES_MISSING);
	assert_non_null(strstr(why, "no chain DNSRL"));
	assert_string_equal(rules_state_name(RULES_SHADOWED), "shadowed");
	rules_plan_free(p);
	rules_plan_free(q);
	config_free(cfg);
	config_free(other);
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
		cmocka_unit_test(test_print),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
