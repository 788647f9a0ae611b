/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the configuration parser as a whole: defaults, the grammar
 * of lines and rule blocks with every mistake's exact message,
 * config_print's text and round trip, the rule summary, loading a file and
 * the example file.  test_config_value.c tests each kind of value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "config_helpers.h"

static void test_defaults(void **state)
{
	struct config *c = parse_ok("");

	(void)state;
	assert_string_equal(c->path, "t.conf");
	assert_int_equal(c->queue_first, 0);
	assert_int_equal(c->queue_last, 0);
	assert_int_equal(c->queue_maxlen, 4096);
	assert_int_equal(c->table_size, 1048576);
	assert_false(c->fail_open);
	assert_null(c->user);
	assert_null(c->control_socket);
	assert_int_equal(c->stats_interval, 60 * SEC);
	assert_int_equal(c->report_interval, HOUR);
	assert_int_equal(c->report_top, 10);
	assert_int_equal(c->syslog_facility, LOG_DAEMON);
	assert_int_equal(c->malformed, CONFIG_DROP);
	assert_int_equal(c->fragments, CONFIG_DROP);
	assert_int_equal(c->log_n, 10);
	assert_int_equal(c->log_period, SEC);
	assert_false(c->log_truncate);
	assert_null(c->prometheus_file);
	assert_int_equal(c->nallow, 0);
	assert_int_equal(c->nrules, 0);
	config_free(c);

	/* NULL with length 0 is an empty file too */
	c = config_parse("t.conf", NULL, 0, NULL, 0);
	assert_non_null(c);
	config_free(c);
	config_free(NULL);
}

static void test_rule_defaults(void **state)
{
	struct config *c = rule_ok("limit 2/5s");
	const struct config_rule *r = &c->rules[0];

	(void)state;
	assert_string_equal(r->name, "r");
	assert_int_equal(r->line, 1);
	assert_int_equal(r->nqtypes, 1);
	assert_int_equal(r->qtypes[0], 1);
	assert_int_equal(r->nqnames, 0);
	assert_int_equal(r->limit_n, 2);
	assert_int_equal(r->limit_period, 5 * SEC);
	assert_int_equal(r->ipv4_prefix, 32);
	assert_int_equal(r->ipv6_prefix, 56);
	assert_int_equal(r->hold_down, 0);
	assert_int_equal(r->hold_down_max, 0);
	assert_int_equal(r->total_n, 0);
	assert_int_equal(r->total_period, 0);
	assert_int_equal(r->action, CONFIG_ACTION_DROP);
	config_free(c);
}

static void test_syntax(void **state)
{
	char *line, *text;
	struct config *c;

	(void)state;
	/* comments anywhere, tabs and spaces, no final newline */
	c = parse_ok("# head\n\n  \t\nqueue\t 3 # three\nrule r { # open\n"
		     "\tqtype\tA  AAAA#x\n\tlimit 1/1s\n} # close\n"
		     "report-top 7");
	assert_int_equal(c->queue_first, 3);
	assert_int_equal(c->report_top, 7);
	assert_int_equal(c->rules[0].nqtypes, 2);
	assert_int_equal(c->rules[0].qtypes[1], 28);
	config_free(c);

	/* a line of exactly 1023 characters; 1024 is too long */
	line = repeat('#', 1023);
	c = parse_ok(line);
	config_free(c);
	free(line);
	line = repeat('#', 1024);
	assert_true(asprintf(&text, "queue 1\n%s\n", line) > 0);
	expect_err(text, "t.conf:2: line is longer than 1023 characters");
	free(text);
	free(line);
}

static void test_bytes(void **state)
{
	static const char nul[] = "queue 0\0\n";
	static const char late_nul[] = "queue 1\nfoo\0";
	char err[CONFIG_ERR_MAX];

	(void)state;
	assert_null(parse_len(nul, sizeof(nul) - 1, err));
	assert_string_equal(err, "t.conf:1: NUL byte in column 8");
	/* the length, not a NUL, ends the text */
	assert_null(parse_len(late_nul, sizeof(late_nul) - 1, err));
	assert_string_equal(err, "t.conf:2: NUL byte in column 4");
	expect_err("queue 0\r\n", "t.conf:1: carriage return in column 8: the "
				  "file has DOS line endings; convert it with "
				  "dos2unix");
	expect_err("queue\x01 0\n", "t.conf:1: control character \\001 in "
				    "column 6; only spaces and tabs separate "
				    "tokens");
	expect_err("# x\x7f\n", "t.conf:1: control character \\127 in column "
				"4; only spaces and tabs separate tokens");
	/* bytes past len are not read: "queue 1" and then "2" is cut off */
	{
		struct config *c = parse_len("queue 12", 7, err);

		assert_non_null(c);
		assert_int_equal(c->queue_first, 1);
		config_free(c);
	}
}

static void test_keys_errors(void **state)
{
	(void)state;
	expect_err(
		"\n\nfoo 1\n",
		"t.conf:3: unknown setting 'foo'; expected "
		"one of queue, answer-queue, "
		"queue-maxlen, queue-rcvbuf, table-size, "
		"fail-open, user, "
		"control-socket, control-group, "
		"stats-interval, report-interval, "
		"report-top, "
		"syslog-facility, malformed, fragments, "
		"log-limit, "
		"log-truncate, prometheus-file, allow, serve, "
		"manage-rules, rules-required, kernel-hold-max, rule, answer-rule");
	expect_err("rule r {\nfoo 1\n}\n",
		   "t.conf:2: unknown setting 'foo' in "
		   "rule r; expected one of "
		   "qtype, qname, limit, ipv4-prefix, "
		   "ipv6-prefix, hold-down, "
		   "hold-down-max, total, action, slip, kernel-hold, }");
	expect_err("Queue 0\n", "t.conf:1: unknown setting 'Queue': settings "
				"are lower case ('queue')");
	expect_err("RULE r {\n", "t.conf:1: unknown setting 'RULE': settings "
				 "are lower case ('rule')");
	expect_err("{\n", "t.conf:1: '{' belongs at the end of the rule line: "
			  "rule NAME {");
	expect_err("limit 2/5s\n", "t.conf:1: limit is a rule setting; put it "
				   "inside rule { }");
	expect_err("rule r {\nqueue 1\n}\n", "t.conf:2: queue is a global "
					     "setting; move it out of rule r "
					     "(opened at line 1)");
	expect_err("queue 1\n# c\nqueue 2\n", "t.conf:3: queue: already set at "
					      "line 1");
	expect_err("rule r {\nqtype A\nlimit 1/1s\nlimit 2/1s\n}\n", "t.conf:4:"
								     " limit: "
								     "already "
								     "set at "
								     "line 3");
	expect_err("rule r {\nqtype A\nqtype AAAA\n}\n", "t.conf:3: qtype: "
							 "already set at line "
							 "2");
	expect_err("queue\n", "t.conf:1: queue: missing value; expected a "
			      "queue number 0..65535 or a range A-B such as "
			      "0-3");
	expect_err("rule r {\nqtype # none\n}\n", "t.conf:2: qtype: missing "
						  "value; expected one or more "
						  "types "
						  "such as ANY");
	expect_err("queue 0 1\n", "t.conf:1: queue: unexpected '1' after '0'; "
				  "it takes one "
				  "value");
	/* a long token is cut in the message */
	{
		char *tok = repeat('k', 60), *text;

		assert_true(asprintf(&text, "%s 1\n", tok) > 0);
		expect_err(
			text,
			"t.conf:1: unknown setting "
			"'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
			"kkkk"
			"...'; expected one of queue, answer-queue, queue-maxlen, "
			"queue-rcvbuf, table-size, fail-open, user, "
			"control-socket, control-group, "
			"stats-interval, report-interval, report-top, "
			"syslog-facility, malformed, fragments, "
			"log-limit, log-truncate, prometheus-file, "
			"allow, serve, manage-rules, "
			"rules-required, kernel-hold-max, rule, answer-rule");
		free(text);
		free(tok);
	}
	/* bytes above 0x7e are escaped in the message */
	expect_err("fail-open \xc3\xa9\n", "t.conf:1: fail-open: expected yes "
					   "or no, got '\\195\\169'");
}

static void test_rule_errors(void **state)
{
	char *name, *text, *big = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	expect_err("rule a {\nrule b {\n", "t.conf:2: rule inside rule a "
					   "(opened at line 1); close that "
					   "one with '}' first");
	expect_err("rule\n", "t.conf:1: rule: expected 'rule NAME {', got "
			     "nothing after 'rule'");
	expect_err("rule {\n", "t.conf:1: rule: missing name before '{'");
	expect_err("rule r{\n", "t.conf:1: rule: put a space between the name "
				"and '{' in 'r{'");
	expect_err("rule a.b {\n", "t.conf:1: rule: expected a name of "
				   "letters, digits, _ and -, got 'a.b'");
	expect_err("rule r\n", "t.conf:1: rule r: missing '{' at the end of "
			       "the line");
	expect_err("rule r s {\n", "t.conf:1: rule r: expected '{' after the "
				   "name, got 's'");
	expect_err("rule r { qtype A\n", "t.conf:1: rule r: unexpected 'qtype' "
					 "after '{'; settings go "
					 "on lines of their own");
	expect_err("rule r {\nqtype A\nlimit 1/1s\n}\nrule r {\n", "t.conf:5: "
								   "rule r: "
								   "already "
								   "defined at "
								   "line 1");
	expect_err("}\n", "t.conf:1: '}' without an open rule");
	expect_err("rule r {\nqtype A\nlimit 1/1s\n} x\n", "t.conf:4: '}' must "
							   "stand alone on its "
							   "line, got 'x' "
							   "after "
							   "it");
	expect_err("\nrule r {\nqtype A\n}\n", "t.conf:2: rule r has no limit; "
					       "add one such as 'limit 2/5s'");
	expect_err("rule r {\nlimit 1/1s\n}\n", "t.conf:1: rule r would match "
						"every query; give it a qtype, "
						"a qname or both");
	expect_err("rule r {\nqtype A\nlimit 1/1s\n", "t.conf:1: rule r is "
						      "never closed: the file "
						      "ends before its "
						      "'}'");
	expect_err("rule r {\nqtype A\nlimit 1/1s\nhold-down-max 1h\n}\n",
		   "t.conf:4: hold-down-max without hold-down in rule r; add "
		   "hold-down or remove this line");
	expect_err("rule r {\nqtype A\nlimit 1/1s\nhold-down-max 5m\n"
		   "hold-down 10m\n}\n",
		   "t.conf:4: hold-down-max 5m is shorter than hold-down 10m "
		   "(line 5)");

	/* names: 32 characters of the allowed set, not 33 */
	name = repeat('n', CONFIG_NAME_MAX);
	name[0] = 'A';
	name[1] = '0';
	name[2] = '_';
	name[3] = '-';
	assert_true(asprintf(&text, "rule %s {\nqtype A\nlimit 1/1s\n}\n",
			     name) > 0);
	{
		struct config *c = parse_ok(text);

		assert_string_equal(c->rules[0].name, name);
		config_free(c);
	}
	free(text);
	free(name);
	name = repeat('n', CONFIG_NAME_MAX + 1);
	assert_true(asprintf(&text, "rule %s {\n", name) > 0);
	expect_err(text, "t.conf:1: rule: name "
			 "'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn' is longer than "
			 "32 "
			 "characters");
	free(text);
	free(name);

	/* 64 rules, not 65 */
	f = open_memstream(&big, &len);
	assert_non_null(f);
	for (int i = 0; i < CONFIG_RULES_MAX; i++)
		fprintf(f, "rule r%d {\nqtype A\nlimit 1/1s\n}\n", i);
	fclose(f);
	{
		struct config *c = parse_ok(big);

		assert_int_equal(c->nrules, CONFIG_RULES_MAX);
		assert_string_equal(c->rules[63].name, "r63");
		assert_int_equal(c->rules[63].line, 63 * 4 + 1);
		config_free(c);
	}
	assert_true(asprintf(&text, "%srule r64 {\n", big) > 0);
	expect_err(text, "t.conf:257: rule r64: more than 64 rules (of both "
			 "kinds)");
	free(text);
	free(big);
}

static void test_round_trip(void **state)
{
	static const char *const texts[] = {
		"",
		"queue 2-5\nqueue-maxlen 16\ntable-size 2147483648\n"
		"fail-open yes\nuser dnsrl\ncontrol-socket /run/dnsrl.sock\n"
		"stats-interval 0\nreport-interval 7d\nreport-top 100\n"
		"syslog-facility local7\nmalformed accept\nfragments accept\n"
		"log-limit 1000000/1500ms\nlog-truncate yes\n"
		"prometheus-file /var/lib/dnsrl.prom\n"
		"allow 203.0.113.0/24 2001:db8::/32\nallow 198.51.100.1\n",
		"rule any-abuse {\nqtype ANY\nlimit 2/5s\nhold-down 10m\n}\n"
		"rule big-txt {\nqname example.net Example.ORG. .\n"
		"qtype TXT RRSIG DNSKEY TYPE65534 NSEC3PARAM\nlimit 20/1s\n"
		"ipv4-prefix 8\nipv6-prefix 64\nhold-down 250s\n"
		"hold-down-max 7d\ntotal 500/250ms\naction log\n}\n",
		"rule odd {\nqname a\\.b\\032c.\\200\\255\\000 x\\035y\n"
		"limit 1000000/24h\nipv6-prefix 32\nhold-down 24h\n}\n",
		"stats-interval 1500ms\nreport-interval 90s\n"
		"rule r {\nqtype A\nlimit 7/3600000ms\nhold-down 86400s\n"
		"hold-down-max 1441m\n}\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct config *c = parse_ok(texts[i]);

		assert_round_trip(c);
		config_free(c);
	}
}

static void test_print_text(void **state)
{
	struct config *c = parse_ok("queue 0-3\nallow 2001:db8::/32\n"
				    "rule any-abuse {\nqtype ANY\nlimit 2/5s\n"
				    "hold-down 10m\n}\n");
	char *t = print_text(c);

	(void)state;
	assert_string_equal(t, "# dnsrl: effective configuration, defaults "
			       "included\n"
			       "queue           0-3\n"
			       "answer-queue    4\n"
			       "queue-maxlen    4096\n"
			       "queue-rcvbuf    0\n"
			       "table-size      1048576\n"
			       "fail-open       no\n"
			       "# user (unset)\n"
			       "# control-socket (unset)\n"
			       "# control-group (unset)\n"
			       "stats-interval  1m\n"
			       "report-interval 1h\n"
			       "report-top      10\n"
			       "syslog-facility daemon\n"
			       "malformed       drop\n"
			       "fragments       drop\n"
			       "log-limit       10/1s\n"
			       "log-truncate    no\n"
			       "# prometheus-file (unset)\n"
			       "allow           2001:db8::/32\n"
			       "# serve (every source)\n"
			       "manage-rules    no\n"
			       "rules-required  yes\n"
			       "kernel-hold-max 65536\n"
			       "\n"
			       "rule any-abuse {\n"
			       "\tqtype         ANY\n"
			       "\t# qname (every name)\n"
			       "\tlimit         2/5s\n"
			       "\tipv4-prefix   32\n"
			       "\tipv6-prefix   56\n"
			       "\thold-down     10m\n"
			       "\thold-down-max 80m\n"
			       "\t# total (none)\n"
			       "\taction        drop\n"
			       "\t# slip (no truncation)\n"
			       "\tkernel-hold   yes\n"
			       "}\n");
	free(t);
	config_free(c);
}

/*
 * Answer rules: their settings and defaults, what only they take, the
 * byte budgets' syntax and bounds, the answer queues, and the file
 * written back.
 */
static void test_answer_rules(void **state)
{
	struct config *c;
	char buf[256];
	char *t;

	(void)state;
	c = parse_ok("queue 2-3\nanswer-rule big {\nbytes 64k/10s\n}\n"
		     "answer-rule dnskey {\nqtype DNSKEY RRSIG\nqname "
		     "example.net\nsize 1200\nlimit 20/10s\nbytes 1500/1s\n"
		     "total 1000/1s\ntotal-bytes 10M/1s\nipv4-prefix 24\n"
		     "ipv6-prefix 48\nhold-down 1m\naction truncate\nslip 2\n"
		     "}\n"
		     "answer-rule t1 {\nlimit 5/1s\naction truncate\n}\n"
		     "answer-rule shadow {\nbytes 1G/1s\naction log\n}\n");
	assert_int_equal(c->nrules, 4);
	assert_int_equal(config_count_rules(c, CONFIG_RULE_ANSWER), 4);
	assert_int_equal(config_count_rules(c, CONFIG_RULE_QUERY), 0);
	assert_int_equal(c->rules[0].kind, CONFIG_RULE_ANSWER);
	assert_int_equal(c->rules[0].size, CONFIG_SIZE_DEFAULT);
	assert_int_equal(c->rules[0].bytes_n, 64000);
	assert_int_equal(c->rules[0].bytes_period, 10 * UINT64_C(1000000000));
	assert_int_equal(c->rules[0].limit_n, 0);
	assert_int_equal(c->rules[0].action, CONFIG_ACTION_DROP);
	assert_int_equal(c->rules[0].slip, 0);
	assert_int_equal(c->rules[1].size, 1200);
	assert_int_equal(c->rules[1].total_bytes_n, 10000000);
	assert_int_equal(c->rules[1].slip, 2);
	/* truncation without slip truncates every refused answer */
	assert_int_equal(c->rules[2].action, CONFIG_ACTION_TRUNCATE);
	assert_int_equal(c->rules[2].slip, 1);
	assert_int_equal(c->rules[3].bytes_n, 1000000000);
	/* the answer queue follows the query queues */
	assert_int_equal(c->answer_queue_first, 4);
	assert_int_equal(c->answer_queue_last, 4);
	assert_int_equal(config_answer_min_size(c), CONFIG_SIZE_DEFAULT);
	assert_round_trip(c);
	config_rule_summary(&c->rules[1], buf, sizeof(buf));
	assert_string_equal(buf, "dnskey: answers of 1200+ octets qtype "
				 "DNSKEY RRSIG qname example.net bytes 1500/1s "
				 "limit 20/10s per /24 (IPv4) /48 (IPv6) total "
				 "1000/1s total-bytes 10M/1s hold-down 1m..8m "
				 "action truncate slip 2");
	t = print_text(c);
	assert_non_null(strstr(t, "\nanswer-rule big {\n"
				  "\t# qtype (every type)\n"
				  "\t# qname (every name)\n"
				  "\t# limit (none)\n"));
	assert_non_null(strstr(t, "\tsize          512\n"
				  "\tbytes         64k/10s\n"
				  "\t# total-bytes (none)\n"
				  "\t# slip (no truncation)\n}\n"));
	free(t);
	config_free(c);

	c = parse_ok("queue 65530-65535\nanswer-rule a {\nsize 0\n"
		     "bytes 1/1ms\n}\nanswer-rule b {\nsize 65535\n"
		     "limit 1/1s\n}\n");
	assert_int_equal(c->answer_queue_first, 65529);
	assert_int_equal(config_answer_min_size(c), 0);
	assert_round_trip(c);
	config_free(c);
	c = parse_ok("answer-queue 10-11\nrule q {\nqtype ANY\nlimit 1/1s\n}"
		     "\nanswer-rule a {\nsize 900\nbytes 1000000/1ms\n}\n");
	assert_int_equal(c->answer_queue_first, 10);
	assert_int_equal(c->answer_queue_last, 11);
	assert_int_equal(config_answer_min_size(c), 900);
	assert_int_equal(config_count_rules(c, CONFIG_RULE_QUERY), 1);
	assert_round_trip(c);
	config_free(c);

	expect_err("answer-rule a {\nsize 1000\n}\n",
		   "t.conf:1: answer-rule a has no limit; add 'bytes 64k/10s', "
		   "'limit 20/10s' (answers) or both");
	expect_err("answer-rule a {\nbytes 1k/1s\nslip 2\n}\n",
		   "t.conf:3: slip in answer-rule a without action truncate: "
		   "slip N truncates every Nth refusal and drops the others");
	expect_err("rule q {\nqtype ANY\nlimit 1/1s\nslip 3\n}\n",
		   "t.conf:4: slip in rule q without action truncate: slip N "
		   "truncates every Nth refusal and drops the others");
	expect_err("rule q {\nqtype ANY\nlimit 1/1s\nsize 100\n}\n",
		   "t.conf:4: size is an answer-rule setting; q is a query "
		   "rule (opened at line 1)");
	/* a query rule truncates too: slip 1 unless said */
	c = parse_ok("rule q {\nqtype ANY\nlimit 1/1s\naction truncate\n}\n"
		     "rule r {\nqtype TXT\nlimit 1/1s\naction truncate\n"
		     "slip 4\n}\n");
	assert_int_equal(c->rules[0].action, CONFIG_ACTION_TRUNCATE);
	assert_int_equal(c->rules[0].slip, 1);
	assert_int_equal(c->rules[1].slip, 4);
	assert_round_trip(c);
	config_free(c);
	expect_err("answer-rule a {\nbytes 1k/1s\nfoo 1\n}\n",
		   "t.conf:3: unknown setting 'foo' in answer-rule a; "
		   "expected one of qtype, qname, limit, ipv4-prefix, "
		   "ipv6-prefix, hold-down, hold-down-max, total, action, "
		   "size, bytes, total-bytes, slip, }");
	expect_err("answer-rule a {\nrule b {\n",
		   "t.conf:2: rule inside answer-rule a (opened at line 1); "
		   "close that one with '}' first");
	expect_err("answer-rule\n", "t.conf:1: answer-rule: expected "
				    "'answer-rule NAME {', got nothing after "
				    "'answer-rule'");
	expect_err("rule a {\nqtype A\nlimit 1/1s\n}\nanswer-rule a {\n",
		   "t.conf:5: answer-rule a: already defined at line 1");
	expect_err("answer-rule a {\nbytes 1k/1s\n",
		   "t.conf:1: answer-rule a is never closed: the file ends "
		   "before its '}'");
	expect_err("answer-rule a {\nbytes 1k/1s\nqueue 1\n}\n",
		   "t.conf:3: queue is a global setting; move it out of "
		   "answer-rule a (opened at line 1)");
	/* byte budgets */
	expect_err("answer-rule a {\nbytes 64k\n}\n",
		   "t.conf:2: bytes: expected B/T such as 64k/10s, got '64k'");
	expect_err(
		"answer-rule a {\nbytes 64K/1s\n}\n",
		"t.conf:2: bytes: B must be a decimal number of octets, with "
		"k, M or G if you like (64k is 64000), got '64K'");
	expect_err(
		"answer-rule a {\nbytes 5Mk/1s\n}\n",
		"t.conf:2: bytes: B must be a decimal number of octets, with "
		"k, M or G if you like (64k is 64000), got '5Mk'");
	expect_err(
		"answer-rule a {\nbytes k/1s\n}\n",
		"t.conf:2: bytes: B must be a decimal number of octets, with "
		"k, M or G if you like (64k is 64000), got 'k'");
	expect_err("answer-rule a {\nbytes 0/1s\n}\n",
		   "t.conf:2: bytes: B must be 1..1G octets, got 0");
	expect_err("answer-rule a {\nbytes 2G/10s\n}\n",
		   "t.conf:2: bytes: B must be 1..1G octets, got 2G");
	expect_err("answer-rule a {\nbytes 1000000001/10s\n}\n",
		   "t.conf:2: bytes: B must be 1..1G octets, got 1000000001");
	expect_err("answer-rule a {\nbytes 1000001/1ms\n}\n",
		   "t.conf:2: bytes: 1000001 octets per 1ms is more than one a "
		   "nanosecond; give a longer period");
	expect_err(
		"answer-rule a {\nbytes 1k/1\n}\n",
		"t.conf:2: bytes period: '1' needs a unit: ms, s, m, h or d");
	expect_err("answer-rule a {\nbytes 1k/1s\nsize 65536\n}\n",
		   "t.conf:3: size: expected 0..65535 (octets of the IP "
		   "datagram), got 65536");
	expect_err("answer-rule a {\nbytes 1k/1s\nslip 0\n}\n",
		   "t.conf:3: slip: expected 1..64, got 0");
	/* queues */
	expect_err("queue 0-3\nanswer-queue 3\n",
		   "t.conf:2: answer-queue 3-3 overlaps queue 0-3; the answer "
		   "path needs queues of its own");
	expect_err("answer-queue 0\n",
		   "t.conf:1: answer-queue 0-0 overlaps queue 0-0 (the "
		   "default); the answer path needs queues of its own");
	expect_err("answer-queue 1-17\n", "t.conf:1: answer-queue: range "
					  "1-17 spans 17 queues; at most 16");
	expect_err("answer-queue x\n",
		   "t.conf:1: answer-queue: expected a queue number 0..65535 "
		   "or a range A-B such as 4-5, got 'x'");
}

static void test_summary(void **state)
{
	struct config *c = parse_ok("rule any-abuse {\nqtype ANY\nlimit "
				    "2/5s\nhold-down 10m\n}\n"
				    "rule big-txt {\nqname Example.NET "
				    "x\\200y\nqtype TXT RRSIG\n"
				    "limit 20/1s\nipv4-prefix 24\nipv6-prefix "
				    "48\ntotal 500/1s\n"
				    "action log\n}\n"
				    "rule z {\nqtype A\nlimit 1/1s\nhold-down "
				    "90s\n"
				    "hold-down-max 90061001ms\n}\n");
	char buf[256], small[10];

	(void)state;
	config_rule_summary(&c->rules[0], buf, sizeof(buf));
	assert_string_equal(buf, "any-abuse: qtype ANY limit 2/5s per /32 "
				 "(IPv4) /56 (IPv6) hold-down 10m..1h20m "
				 "action drop");
	config_rule_summary(&c->rules[1], buf, sizeof(buf));
	assert_string_equal(buf, "big-txt: qtype TXT RRSIG qname example.net "
				 "x\\200y limit 20/1s per /24 (IPv4) /48 "
				 "(IPv6) total 500/1s action log");
	config_rule_summary(&c->rules[2], buf, sizeof(buf));
	assert_string_equal(buf, "z: qtype A limit 1/1s per /32 (IPv4) /56 "
				 "(IPv6) hold-down 1m30s..1d1h1m1s1ms action "
				 "drop");
	/* a short buffer gets a cut, terminated text */
	memset(small, 'X', sizeof(small));
	config_rule_summary(&c->rules[0], small, sizeof(small));
	assert_string_equal(small, "any-abuse");
	config_rule_summary(&c->rules[0], small, 1);
	assert_int_equal(small[0], '\0');
	config_free(c);
}

static void test_duration_text(void **state)
{
	static const struct {
		uint64_t ns;
		const char *text;
	} cases[] = {
		{0, "0"},
		{5 * SEC, "5s"},
		{250 * MS, "250ms"},
		{10 * MIN, "10m"},
		{HOUR, "1h"},
		{2 * DAY, "2d"},
		{DAY, "1d"},
		{80 * MIN, "80m"},
		{90 * SEC, "90s"},
		{1500 * MS, "1500ms"},
		{25 * HOUR, "25h"},
		{1500, "1500ns"},
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		config_duration_text(cases[i].ns, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
	}
	config_duration_text(250 * MS, buf, 4);
	assert_string_equal(buf, "250");
}

static void test_load(void **state)
{
	char path[] = "/tmp/test_config.XXXXXX", err[CONFIG_ERR_MAX];
	char *msg;
	struct config *c;
	int fd;
	FILE *f;

	(void)state;
	assert_null(config_load("/nonexistent/dnsrl.conf", err, sizeof(err)));
	assert_string_equal(err, "/nonexistent/dnsrl.conf: No such file or "
				 "directory");
	assert_null(config_load("/tmp", err, sizeof(err)));
	assert_string_equal(err, "/tmp: not a regular file (a directory); the "
				 "configuration is a file");

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fprintf(f, "queue 9\nrule r {\nqtype A\nlimit 1/1s\n}\nfoo\n");
	fclose(f);
	assert_null(config_load(path, err, sizeof(err)));
	assert_true(
		asprintf(&msg,
			 "%s:6: unknown setting 'foo'; expected one "
			 "of queue, answer-queue, queue-maxlen, queue-rcvbuf, "
			 "table-size, "
			 "fail-open, user, control-socket, control-group, "
			 "stats-interval, report-interval, "
			 "report-top, syslog-facility, malformed, "
			 "fragments, log-limit, log-truncate, "
			 "prometheus-file, allow, serve, manage-rules, "
			 "rules-required, kernel-hold-max, rule, answer-rule",
			 path) > 0);
	assert_string_equal(err, msg);
	free(msg);

	/* exactly 1 MiB is read; one byte more is refused */
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "queue 9\n");
	for (size_t left = 1024 * 1024 - 8; left > 0;) {
		size_t n = left > 64 ? 64 : left;

		fprintf(f, "#%*s\n", (int)(n - 2), "");
		left -= n;
	}
	assert_int_equal(ftell(f), 1024 * 1024);
	fclose(f);
	c = config_load(path, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(c->queue_first, 9);
	assert_string_equal(c->path, path);
	config_free(c);
	f = fopen(path, "a");
	assert_non_null(f);
	fputc('\n', f);
	fclose(f);
	assert_null(config_load(path, err, sizeof(err)));
	assert_true(asprintf(&msg, "%s: larger than 1 MiB", path) > 0);
	assert_string_equal(err, msg);
	free(msg);

	/* whoever may write the file sets the policy: group or others
	 * with write access are refused */
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "queue 3\n");
	fclose(f);
	assert_int_equal(chmod(path, 0664), 0);
	assert_null(config_load(path, err, sizeof(err)));
	assert_true(asprintf(&msg,
			     "%s: writable by group or others (mode 0664): "
			     "anyone who can write it sets the policy; "
			     "chmod go-w %s",
			     path, path) > 0);
	assert_string_equal(err, msg);
	free(msg);
	assert_int_equal(chmod(path, 0602), 0);
	assert_null(config_load(path, err, sizeof(err)));
	assert_int_equal(chmod(path, 0644), 0);
	c = config_load(path, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(c->file_owner, getuid());
	/* the owner: root or the daemon's user */
	c->file_owner = 1234;
	assert_int_equal(config_check_owner(c, 1234, err, sizeof(err)), 0);
	assert_int_equal(config_check_owner(c, 99, err, sizeof(err)), -EPERM);
	assert_true(asprintf(&msg,
			     "%s: owned by uid 1234; it must belong to root "
			     "or to the daemon's user (uid 99)",
			     path) > 0);
	assert_string_equal(err, msg);
	free(msg);
	c->file_owner = 0;
	assert_int_equal(config_check_owner(c, 99, err, sizeof(err)), 0);
	config_free(c);
	unlink(path);

	{
		char *big = repeat('\n', 1024 * 1024 + 1);

		assert_null(parse_len(big, 1024 * 1024 + 1, err));
		assert_string_equal(err, "t.conf: larger than 1 MiB");
		free(big);
	}
}

static void test_err_buffer(void **state)
{
	char err[12];

	(void)state;
	memset(err, 'X', sizeof(err));
	assert_null(config_parse("t.conf", "foo\n", 4, err, sizeof(err)));
	assert_string_equal(err, "t.conf:1: u");
	/* no buffer at all: still a clean NULL */
	assert_null(config_parse("t.conf", "foo\n", 4, NULL, 0));
}

/* The example an operator starts from: the mission's policy. */
static void test_example_file(void **state)
{
	char err[CONFIG_ERR_MAX], buf[256];
	struct config *c = config_load("conf/dnsrl.conf", err, sizeof(err));
	const struct config_rule *r;
	char *text = NULL, *line = NULL, *p;
	size_t len = 0, cap = 0;
	FILE *f, *o;

	(void)state;
	if (c == NULL)
		fail_msg("%s", err);
	assert_int_equal(c->nrules, 2);
	/* big answers of any type: 64k/10s of 1000+ octets, truncated */
	r = &c->rules[1];
	assert_string_equal(r->name, "big-answers");
	assert_int_equal(r->kind, CONFIG_RULE_ANSWER);
	assert_int_equal(r->nqtypes, 0);
	assert_int_equal(r->size, 1000);
	assert_int_equal(r->bytes_n, 64000);
	assert_int_equal(r->bytes_period, 10 * SEC);
	assert_int_equal(r->total_bytes_n, 4000000);
	assert_int_equal(r->action, CONFIG_ACTION_TRUNCATE);
	assert_int_equal(r->slip, 1);
	r = &c->rules[0];
	assert_string_equal(r->name, "any-abuse");
	assert_int_equal(r->nqtypes, 1);
	assert_int_equal(r->qtypes[0], 255);
	assert_int_equal(r->nqnames, 0);
	assert_int_equal(r->limit_n, 2);
	assert_int_equal(r->limit_period, 5 * SEC);
	assert_int_equal(r->ipv4_prefix, 32);
	assert_int_equal(r->ipv6_prefix, 56);
	assert_int_equal(r->hold_down, 10 * MIN);
	assert_int_equal(r->hold_down_max, 80 * MIN);
	assert_int_equal(r->action, CONFIG_ACTION_DROP);
	assert_int_equal(c->nallow, 1);
	assert_int_equal(c->allow[0].len, 24);
	assert_memory_equal(c->allow[0].addr, "\xcb\x00\x71\x00", 4);
	config_rule_summary(r, buf, sizeof(buf));
	assert_string_equal(buf, "any-abuse: qtype ANY limit 2/5s per /32 "
				 "(IPv4) /56 (IPv6) total 500/1s hold-down "
				 "10m..1h20m action drop");
	/* what the package ships: its own user, its socket, safe defaults */
	assert_string_equal(c->user, "dnsrl");
	assert_string_equal(c->control_socket, "/run/dnsrl/control.sock");
	assert_false(c->fail_open);
	assert_int_equal(c->malformed, CONFIG_DROP);
	assert_false(c->manage_rules);
	assert_true(c->rules_required);
	assert_round_trip(c);
	config_free(c);

	/* the commented-out settings are valid once uncommented */
	f = fopen("conf/dnsrl.conf", "r");
	assert_non_null(f);
	o = open_memstream(&text, &len);
	assert_non_null(o);
	while (getline(&line, &cap, f) > 0) {
		bool setting = line[0] == '#' && line[1] != ' ' &&
			       line[1] != '\n' && line[1] != '\0';

		fputs(setting ? line + 1 : line, o);
	}
	free(line);
	fclose(o);
	fclose(f);
	c = parse_ok(text);
	assert_int_equal(c->nrules, 3);
	assert_string_equal(c->rules[2].name, "big-answers");
	assert_string_equal(c->rules[1].name, "big-txt");
	assert_int_equal(c->rules[1].action, CONFIG_ACTION_LOG);
	assert_int_equal(c->rules[1].nqnames, 1);
	assert_int_equal(c->rules[1].nqtypes, 3);
	assert_non_null(c->user);
	assert_non_null(c->control_socket);
	assert_non_null(c->prometheus_file);
	assert_int_equal(c->nserve, 2);
	assert_int_equal(c->nallow, 3);
	for (size_t i = 0; i < c->nallow; i++) {
		char a[INET6_ADDRSTRLEN];

		/* documentation ranges only */
		inet_ntop(c->allow[i].family, c->allow[i].addr, a, sizeof(a));
		p = a;
		assert_true(strncmp(p, "203.0.113.", 10) == 0 ||
			    strncmp(p, "198.51.100.", 11) == 0 ||
			    strncmp(p, "2001:db8:", 9) == 0);
	}
	config_free(c);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_rule_defaults),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_keys_errors),
		cmocka_unit_test(test_rule_errors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_print_text),
		cmocka_unit_test(test_answer_rules),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_duration_text),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_err_buffer),
		cmocka_unit_test(test_example_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
