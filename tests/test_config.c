/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the configuration parser: defaults, every setting's range
 * ends, every mistake's exact message, qtype and qname conversion (ldns is
 * the reference for names), and config_print's round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"

#define MS 1000000ull
#define SEC (1000 * MS)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

static struct config *parse_len(const char *text, size_t len, char *err)
{
	return config_parse("t.conf", text, len, err, CONFIG_ERR_MAX);
}

static struct config *parse_ok(const char *text)
{
	char err[CONFIG_ERR_MAX];
	struct config *c = parse_len(text, strlen(text), err);

	if (c == NULL)
		fail_msg("unexpected error: %s\n--- text:\n%s", err, text);
	return c;
}

static void expect_err(const char *text, const char *msg)
{
	char err[CONFIG_ERR_MAX];
	struct config *c = parse_len(text, strlen(text), err);

	if (c != NULL) {
		config_free(c);
		fail_msg("parsed, expected error: %s\n--- text:\n%s", msg,
			 text);
	}
	assert_string_equal(err, msg);
}

/* A rule block around body, so rule settings can be tried one by one. */
static char *in_rule(const char *body)
{
	char *s = NULL;

	assert_true(asprintf(&s, "rule r {\nqtype A\n%s\n}\n", body) > 0);
	return s;
}

static struct config *rule_ok(const char *body)
{
	char *text = in_rule(body);
	struct config *c = parse_ok(text);

	free(text);
	assert_int_equal(c->nrules, 1);
	return c;
}

static void rule_err(const char *body, const char *msg)
{
	char *text = in_rule(body);

	expect_err(text, msg);
	free(text);
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* Every field but path and rule line numbers. */
static void assert_same(const struct config *a, const struct config *b)
{
	assert_int_equal(a->queue_first, b->queue_first);
	assert_int_equal(a->queue_last, b->queue_last);
	assert_int_equal(a->queue_maxlen, b->queue_maxlen);
	assert_int_equal(a->table_size, b->table_size);
	assert_int_equal(a->fail_open, b->fail_open);
	if (a->user == NULL || b->user == NULL)
		assert_ptr_equal(a->user, b->user);
	else
		assert_string_equal(a->user, b->user);
	if (a->control_socket == NULL || b->control_socket == NULL)
		assert_ptr_equal(a->control_socket, b->control_socket);
	else
		assert_string_equal(a->control_socket, b->control_socket);
	if (a->prometheus_file == NULL || b->prometheus_file == NULL)
		assert_ptr_equal(a->prometheus_file, b->prometheus_file);
	else
		assert_string_equal(a->prometheus_file, b->prometheus_file);
	assert_int_equal(a->stats_interval, b->stats_interval);
	assert_int_equal(a->report_interval, b->report_interval);
	assert_int_equal(a->report_top, b->report_top);
	assert_int_equal(a->syslog_facility, b->syslog_facility);
	assert_int_equal(a->malformed, b->malformed);
	assert_int_equal(a->fragments, b->fragments);
	assert_int_equal(a->log_n, b->log_n);
	assert_int_equal(a->log_period, b->log_period);
	assert_int_equal(a->log_truncate, b->log_truncate);
	assert_int_equal(a->nallow, b->nallow);
	for (size_t i = 0; i < a->nallow; i++) {
		assert_int_equal(a->allow[i].family, b->allow[i].family);
		assert_int_equal(a->allow[i].len, b->allow[i].len);
		assert_memory_equal(a->allow[i].addr, b->allow[i].addr, 16);
	}
	assert_int_equal(a->nrules, b->nrules);
	for (size_t i = 0; i < a->nrules; i++) {
		const struct config_rule *x = &a->rules[i], *y = &b->rules[i];

		assert_string_equal(x->name, y->name);
		assert_int_equal(x->nqtypes, y->nqtypes);
		assert_memory_equal(x->qtypes, y->qtypes,
				    x->nqtypes * sizeof(x->qtypes[0]));
		assert_int_equal(x->nqnames, y->nqnames);
		for (size_t j = 0; j < x->nqnames; j++) {
			assert_int_equal(x->qnames[j].len, y->qnames[j].len);
			assert_memory_equal(x->qnames[j].wire,
					    y->qnames[j].wire,
					    x->qnames[j].len);
		}
		assert_int_equal(x->limit_n, y->limit_n);
		assert_int_equal(x->limit_period, y->limit_period);
		assert_int_equal(x->ipv4_prefix, y->ipv4_prefix);
		assert_int_equal(x->ipv6_prefix, y->ipv6_prefix);
		assert_int_equal(x->hold_down, y->hold_down);
		assert_int_equal(x->hold_down_max, y->hold_down_max);
		assert_int_equal(x->total_n, y->total_n);
		assert_int_equal(x->total_period, y->total_period);
		assert_int_equal(x->action, y->action);
	}
}

static char *print_text(const struct config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	config_print(c, f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* Print, parse the print, compare; and printing again gives the same text. */
static void assert_round_trip(const struct config *a)
{
	char *t1 = print_text(a), *t2;
	struct config *b = parse_ok(t1);

	assert_same(a, b);
	t2 = print_text(b);
	assert_string_equal(t1, t2);
	free(t1);
	free(t2);
	config_free(b);
}

static void test_defaults(void **state)
{
	struct config *c = parse_ok("");

	(void)state;
	assert_string_equal(c->path, "t.conf");
	assert_int_equal(c->queue_first, 0);
	assert_int_equal(c->queue_last, 0);
	assert_int_equal(c->queue_maxlen, 4096);
	assert_int_equal(c->table_size, 1048576);
	assert_true(c->fail_open);
	assert_null(c->user);
	assert_null(c->control_socket);
	assert_int_equal(c->stats_interval, 60 * SEC);
	assert_int_equal(c->report_interval, HOUR);
	assert_int_equal(c->report_top, 10);
	assert_int_equal(c->syslog_facility, LOG_DAEMON);
	assert_int_equal(c->malformed, CONFIG_ACCEPT);
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
	expect_err("\n\nfoo 1\n", "t.conf:3: unknown setting 'foo'; expected "
				  "one of queue, "
				  "queue-maxlen, queue-rcvbuf, table-size, "
				  "fail-open, user, "
				  "control-socket, "
				  "stats-interval, report-interval, "
				  "report-top, "
				  "syslog-facility, malformed, fragments, "
				  "log-limit, "
				  "log-truncate, prometheus-file, allow, rule");
	expect_err("rule r {\nfoo 1\n}\n", "t.conf:2: unknown setting 'foo' in "
					   "rule r; expected one of "
					   "qtype, qname, limit, ipv4-prefix, "
					   "ipv6-prefix, hold-down, "
					   "hold-down-max, total, action, }");
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
		expect_err(text, "t.conf:1: unknown setting "
				 "'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
				 "kkkk"
				 "...'; expected one of queue, queue-maxlen, "
				 "queue-rcvbuf, table-size, fail-open, user, "
				 "control-socket, "
				 "stats-interval, report-interval, report-top, "
				 "syslog-facility, malformed, fragments, "
				 "log-limit, log-truncate, prometheus-file, "
				 "allow, rule");
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
	expect_err(text, "t.conf:257: rule r64: more than 64 rules");
	free(text);
	free(big);
}

static void test_integers(void **state)
{
	struct config *c;

	(void)state;
	c = parse_ok("queue-maxlen 16\ntable-size 16\nreport-top 1\n");
	assert_int_equal(c->queue_maxlen, 16);
	assert_int_equal(c->table_size, 16);
	assert_int_equal(c->report_top, 1);
	config_free(c);
	c = parse_ok("queue-maxlen 1048576\ntable-size 2147483648\n"
		     "report-top 100\n");
	assert_int_equal(c->queue_maxlen, 1048576);
	assert_int_equal(c->table_size, 2147483648u);
	assert_int_equal(c->report_top, 100);
	config_free(c);
	c = parse_ok("queue-maxlen 0016\n");
	assert_int_equal(c->queue_maxlen, 16);
	config_free(c);

	expect_err("queue-maxlen 15\n", "t.conf:1: queue-maxlen: expected "
					"16..1048576, got 15");
	expect_err("queue-maxlen 1048577\n", "t.conf:1: queue-maxlen: expected "
					     "16..1048576, got 1048577");
	expect_err("table-size 15\n", "t.conf:1: table-size: expected "
				      "16..2147483648, got 15");
	expect_err("table-size 2147483649\n", "t.conf:1: table-size: expected "
					      "16..2147483648, got 2147483649");
	expect_err("report-top 0\n", "t.conf:1: report-top: expected 1..100, "
				     "got 0");
	expect_err("report-top 101\n", "t.conf:1: report-top: expected 1..100, "
				       "got 101");
	/* overflow of 64 bits is out of range, not wrapped */
	expect_err("queue-maxlen 18446744073709551632\n", "t.conf:1: "
							  "queue-maxlen: "
							  "expected "
							  "16..1048576, got "
							  "1844674407370955163"
							  "2");
	expect_err("queue-maxlen 1e3\n", "t.conf:1: queue-maxlen: expected a "
					 "decimal integer 16..1048576, got "
					 "'1e3'");
	expect_err("queue-maxlen +5\n", "t.conf:1: queue-maxlen: expected a "
					"decimal integer 16..1048576, got "
					"'+5'");
	expect_err("queue-maxlen 0x10\n", "t.conf:1: queue-maxlen: expected a "
					  "decimal integer 16..1048576, got "
					  "'0x10'");
	expect_err("queue-maxlen -16\n", "t.conf:1: queue-maxlen: expected a "
					 "decimal integer 16..1048576, got "
					 "'-16'");
}

static void test_rule_prefixes(void **state)
{
	struct config *c;

	(void)state;
	c = rule_ok("limit 1/1s\nipv4-prefix 8\nipv6-prefix 32");
	assert_int_equal(c->rules[0].ipv4_prefix, 8);
	assert_int_equal(c->rules[0].ipv6_prefix, 32);
	config_free(c);
	c = rule_ok("limit 1/1s\nipv4-prefix 32\nipv6-prefix 64");
	assert_int_equal(c->rules[0].ipv4_prefix, 32);
	assert_int_equal(c->rules[0].ipv6_prefix, 64);
	config_free(c);

	rule_err("limit 1/1s\nipv4-prefix 7", "t.conf:4: ipv4-prefix: expected "
					      "8..32, got 7");
	rule_err("limit 1/1s\nipv4-prefix 33", "t.conf:4: ipv4-prefix: "
					       "expected 8..32, got 33");
	rule_err("limit 1/1s\nipv4-prefix /24", "t.conf:4: ipv4-prefix: "
						"expected a decimal integer "
						"8..32, got "
						"'/24'");
	rule_err("limit 1/1s\nipv6-prefix 31", "t.conf:4: ipv6-prefix: "
					       "expected 32..64, got 31");
	/* past /64 the table cannot follow: say why */
	rule_err("limit 1/1s\nipv6-prefix 65", "t.conf:4: ipv6-prefix: "
					       "expected 32..64, got 65: "
					       "sources are "
					       "tracked by at most their /64 "
					       "(one subscriber LAN)");
	rule_err("limit 1/1s\nipv6-prefix 128", "t.conf:4: ipv6-prefix: "
						"expected 32..64, got 128: "
						"sources are "
						"tracked by at most their /64 "
						"(one subscriber LAN)");
	rule_err("limit 1/1s\nipv6-prefix 129", "t.conf:4: ipv6-prefix: "
						"expected 32..64, got 129");
}

static void test_queue(void **state)
{
	struct config *c;

	(void)state;
	c = parse_ok("queue 65535\n");
	assert_int_equal(c->queue_first, 65535);
	assert_int_equal(c->queue_last, 65535);
	config_free(c);
	c = parse_ok("queue 0-15\n");
	assert_int_equal(c->queue_first, 0);
	assert_int_equal(c->queue_last, 15);
	config_free(c);
	c = parse_ok("queue 65520-65535\n");
	assert_int_equal(c->queue_first, 65520);
	assert_int_equal(c->queue_last, 65535);
	config_free(c);
	c = parse_ok("queue 7-7\n");
	assert_int_equal(c->queue_first, 7);
	assert_int_equal(c->queue_last, 7);
	config_free(c);

	expect_err("queue x\n", "t.conf:1: queue: expected a queue number "
				"0..65535 or a range A-B such as 0-3, got 'x'");
	expect_err("queue 0-\n", "t.conf:1: queue: expected a queue number "
				 "0..65535 or a range A-B such as 0-3, got "
				 "'0-'");
	expect_err("queue 1-2-3\n", "t.conf:1: queue: expected a queue number "
				    "0..65535 or a range A-B such as 0-3, got "
				    "'1-2-3'");
	expect_err("queue 65536\n", "t.conf:1: queue: queue numbers are "
				    "0..65535, got 65536");
	expect_err("queue 0-65536\n", "t.conf:1: queue: queue numbers are "
				      "0..65535, got 65536");
	expect_err("queue 3-1\n", "t.conf:1: queue: range 3-1 is reversed; "
				  "write 1-3");
	expect_err("queue 0-16\n", "t.conf:1: queue: range 0-16 spans 17 "
				   "queues; at most 16");
}

static void test_words(void **state)
{
	static const struct {
		const char *name;
		int facility;
	} fac[] = {
		{"daemon", LOG_DAEMON}, {"user", LOG_USER},
		{"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},
		{"local2", LOG_LOCAL2}, {"local3", LOG_LOCAL3},
		{"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
		{"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
	};
	struct config *c;

	(void)state;
	c = parse_ok("fail-open no\nmalformed drop\nfragments accept\n"
		     "log-truncate yes\n");
	assert_false(c->fail_open);
	assert_int_equal(c->malformed, CONFIG_DROP);
	assert_int_equal(c->fragments, CONFIG_ACCEPT);
	assert_true(c->log_truncate);
	config_free(c);
	c = parse_ok("fail-open yes\nmalformed accept\nfragments drop\n"
		     "log-truncate no\n");
	assert_true(c->fail_open);
	assert_int_equal(c->malformed, CONFIG_ACCEPT);
	assert_int_equal(c->fragments, CONFIG_DROP);
	assert_false(c->log_truncate);
	config_free(c);
	for (size_t i = 0; i < sizeof(fac) / sizeof(fac[0]); i++) {
		char *text;

		assert_true(asprintf(&text, "syslog-facility %s\n",
				     fac[i].name) > 0);
		c = parse_ok(text);
		assert_int_equal(c->syslog_facility, fac[i].facility);
		assert_round_trip(c);
		config_free(c);
		free(text);
	}
	c = rule_ok("limit 1/1s\naction log");
	assert_int_equal(c->rules[0].action, CONFIG_ACTION_LOG);
	config_free(c);

	expect_err("fail-open true\n", "t.conf:1: fail-open: expected yes or "
				       "no, got 'true'");
	expect_err("log-truncate YES\n", "t.conf:1: log-truncate: expected yes "
					 "or no, got 'YES'");
	expect_err("malformed reject\n", "t.conf:1: malformed: expected accept "
					 "or drop, got 'reject'");
	expect_err("fragments pass\n", "t.conf:1: fragments: expected accept "
				       "or drop, got 'pass'");
	expect_err("syslog-facility local8\n", "t.conf:1: syslog-facility: "
					       "expected daemon, user or "
					       "local0..local7, got 'local8'");
	rule_err("limit 1/1s\naction reject", "t.conf:4: action: expected drop "
					      "or log, got 'reject'");
}

static void test_strings(void **state)
{
	char *s, *text;
	struct config *c;

	(void)state;
	c = parse_ok("user _dns-rl.1\ncontrol-socket /run/dnsrl.sock\n"
		     "prometheus-file /var/lib/p/dnsrl.prom\n");
	assert_string_equal(c->user, "_dns-rl.1");
	assert_string_equal(c->control_socket, "/run/dnsrl.sock");
	assert_string_equal(c->prometheus_file, "/var/lib/p/dnsrl.prom");
	config_free(c);

	/* user: 32 characters, not 33 */
	s = repeat('u', 32);
	assert_true(asprintf(&text, "user %s\n", s) > 0);
	c = parse_ok(text);
	assert_string_equal(c->user, s);
	config_free(c);
	free(text);
	free(s);
	s = repeat('u', 33);
	assert_true(asprintf(&text, "user %s\n", s) > 0);
	expect_err(text, "t.conf:1: user: 'uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu' "
			 "is longer than 32 characters");
	free(text);
	free(s);
	expect_err("user 1000\n", "t.conf:1: user: '1000' is a number; give a "
				  "user name");
	expect_err("user -x\n", "t.conf:1: user: '-x' starts with '-'; give a "
				"user name");
	expect_err("user a:b\n", "t.conf:1: user: expected a user name of "
				 "letters, digits, _ - and ., got 'a:b'");

	/* a unix socket path: 107 characters, not 108 */
	s = repeat('s', 107);
	s[0] = '/';
	assert_true(asprintf(&text, "control-socket %s\n", s) > 0);
	c = parse_ok(text);
	assert_string_equal(c->control_socket, s);
	config_free(c);
	free(text);
	free(s);
	s = repeat('s', 108);
	s[0] = '/';
	assert_true(asprintf(&text, "control-socket %s\n", s) > 0);
	expect_err(text, "t.conf:1: control-socket: path is 108 characters "
			 "long; at most 107");
	free(text);
	free(s);
	expect_err("control-socket run/dnsrl.sock\n", "t.conf:1: "
						      "control-socket: "
						      "expected an absolute "
						      "path, got "
						      "'run/dnsrl.sock'");
	expect_err("control-socket /run/\n", "t.conf:1: control-socket: "
					     "'/run/' names a directory; give "
					     "a file name");
	expect_err("prometheus-file dnsrl.prom\n", "t.conf:1: prometheus-file: "
						   "expected an absolute path, "
						   "got "
						   "'dnsrl.prom'");
}

static void test_durations(void **state)
{
	struct config *c;

	(void)state;
	c = parse_ok("stats-interval 0\nreport-interval 0\n");
	assert_int_equal(c->stats_interval, 0);
	assert_int_equal(c->report_interval, 0);
	config_free(c);
	c = parse_ok("stats-interval 1s\nreport-interval 1m\n");
	assert_int_equal(c->stats_interval, SEC);
	assert_int_equal(c->report_interval, MIN);
	config_free(c);
	c = parse_ok("stats-interval 24h\nreport-interval 7d\n");
	assert_int_equal(c->stats_interval, DAY);
	assert_int_equal(c->report_interval, 7 * DAY);
	config_free(c);
	c = parse_ok("stats-interval 1d\nreport-interval 168h\n");
	assert_int_equal(c->stats_interval, DAY);
	assert_int_equal(c->report_interval, 7 * DAY);
	config_free(c);
	c = parse_ok("stats-interval 1500ms\nreport-interval 0s\n");
	assert_int_equal(c->stats_interval, 1500 * MS);
	assert_int_equal(c->report_interval, 0);
	config_free(c);

	expect_err("stats-interval 999ms\n", "t.conf:1: stats-interval: "
					     "expected 0 or 1s..24h, got "
					     "999ms");
	expect_err("stats-interval 86401s\n", "t.conf:1: stats-interval: "
					      "expected 0 or 1s..24h, got "
					      "86401s");
	expect_err("stats-interval 2d\n", "t.conf:1: stats-interval: expected "
					  "0 or 1s..24h, got 2d");
	expect_err("report-interval 59s\n", "t.conf:1: report-interval: "
					    "expected 0 or 1m..7d, got 59s");
	expect_err("report-interval 169h\n", "t.conf:1: report-interval: "
					     "expected 0 or 1m..7d, got 169h");
	expect_err("stats-interval 60\n", "t.conf:1: stats-interval: '60' "
					  "needs a unit: ms, s, m, h or d");
	expect_err("stats-interval 00\n", "t.conf:1: stats-interval: '00' "
					  "needs a unit: ms, s, m, h or d");
	expect_err("stats-interval 5x\n", "t.conf:1: stats-interval: unknown "
					  "unit 'x' in '5x'; use "
					  "ms, s, m, h or d");
	expect_err("stats-interval 5S\n", "t.conf:1: stats-interval: unknown "
					  "unit 'S' in '5S'; use "
					  "ms, s, m, h or d");
	expect_err("stats-interval 5sec\n", "t.conf:1: stats-interval: unknown "
					    "unit 'sec' in '5sec'; "
					    "use ms, s, m, h or d");
	expect_err("stats-interval 1.5s\n", "t.conf:1: stats-interval: '1.5s' "
					    "has a fraction; use a "
					    "whole number of a smaller unit, "
					    "such as 1500ms");
	expect_err("stats-interval s\n", "t.conf:1: stats-interval: expected a "
					 "duration such as 5s "
					 "(units ms, s, m, h, d), got 's'");
	expect_err("stats-interval -5s\n", "t.conf:1: stats-interval: expected "
					   "a duration such as 5s "
					   "(units ms, s, m, h, d), got '-5s'");
	/* digits overflow, and digits times unit overflow */
	expect_err("stats-interval 99999999999999999999s\n", "t.conf:1: "
							     "stats-interval: "
							     "expected 0 or "
							     "1s..24h, got "
							     "99999999999999999"
							     "999s");
	expect_err("stats-interval 18446744073709551615d\n", "t.conf:1: "
							     "stats-interval: "
							     "expected 0 or "
							     "1s..24h, got "
							     "18446744073709551"
							     "615d");
	expect_err("stats-interval 213503982335d\n", "t.conf:1: "
						     "stats-interval: expected "
						     "0 or 1s..24h, got "
						     "213503982335d");
}

static void test_rule_durations(void **state)
{
	struct config *c;

	(void)state;
	c = rule_ok("limit 1/1s\nhold-down 1s");
	assert_int_equal(c->rules[0].hold_down, SEC);
	assert_int_equal(c->rules[0].hold_down_max, 8 * SEC);
	config_free(c);
	/* 8 x 24h is more than 7d: capped */
	c = rule_ok("limit 1/1s\nhold-down 24h");
	assert_int_equal(c->rules[0].hold_down, DAY);
	assert_int_equal(c->rules[0].hold_down_max, 7 * DAY);
	config_free(c);
	c = rule_ok("limit 1/1s\nhold-down 21h");
	assert_int_equal(c->rules[0].hold_down_max, 7 * DAY);
	config_free(c);
	c = rule_ok("limit 1/1s\nhold-down 10m\nhold-down-max 10m");
	assert_int_equal(c->rules[0].hold_down, 10 * MIN);
	assert_int_equal(c->rules[0].hold_down_max, 10 * MIN);
	config_free(c);
	c = rule_ok("limit 1/1s\nhold-down-max 7d\nhold-down 1s");
	assert_int_equal(c->rules[0].hold_down_max, 7 * DAY);
	config_free(c);

	rule_err("limit 1/1s\nhold-down 0", "t.conf:4: hold-down: expected "
					    "1s..24h, got 0");
	rule_err("limit 1/1s\nhold-down 999ms", "t.conf:4: hold-down: expected "
						"1s..24h, got 999ms");
	rule_err("limit 1/1s\nhold-down 25h", "t.conf:4: hold-down: expected "
					      "1s..24h, got 25h");
	rule_err("limit 1/1s\nhold-down 1h\nhold-down-max 8d", "t.conf:5: "
							       "hold-down-max: "
							       "expected "
							       "1s..7d, got "
							       "8d");
	rule_err("limit 1/1s\nhold-down 1h\nhold-down-max 0", "t.conf:5: "
							      "hold-down-max: "
							      "expected "
							      "1s..7d, got 0");
}

static void test_rates(void **state)
{
	struct config *c;

	(void)state;
	c = rule_ok("limit 1/1ms\ntotal 1/1ms");
	assert_int_equal(c->rules[0].limit_n, 1);
	assert_int_equal(c->rules[0].limit_period, MS);
	assert_int_equal(c->rules[0].total_n, 1);
	assert_int_equal(c->rules[0].total_period, MS);
	config_free(c);
	c = rule_ok("limit 1000000/24h\ntotal 1000000/1d");
	assert_int_equal(c->rules[0].limit_n, CONFIG_LIMIT_N_MAX);
	assert_int_equal(c->rules[0].limit_period, CONFIG_PERIOD_MAX);
	assert_int_equal(c->rules[0].total_n, CONFIG_LIMIT_N_MAX);
	assert_int_equal(c->rules[0].total_period, CONFIG_PERIOD_MAX);
	config_free(c);
	c = parse_ok("log-limit 1/1ms\n");
	assert_int_equal(c->log_n, 1);
	assert_int_equal(c->log_period, MS);
	config_free(c);
	c = parse_ok("log-limit 1000000/24h\n");
	assert_int_equal(c->log_n, 1000000);
	assert_int_equal(c->log_period, DAY);
	config_free(c);

	rule_err("limit 2per5s", "t.conf:3: limit: expected N/T such as 2/5s, "
				 "got '2per5s'");
	rule_err("limit 2/5s/3", "t.conf:3: limit: expected N/T such as 2/5s, "
				 "got '2/5s/3'");
	rule_err("limit x/5s", "t.conf:3: limit: N must be a decimal integer "
			       "1..1000000, got 'x'");
	rule_err("limit /5s", "t.conf:3: limit: N must be a decimal integer "
			      "1..1000000, got ''");
	rule_err("limit 0/5s", "t.conf:3: limit: N must be 1..1000000, got 0");
	rule_err("limit 1000001/5s", "t.conf:3: limit: N must be 1..1000000, "
				     "got 1000001");
	rule_err("limit 2/5", "t.conf:3: limit period: '5' needs a unit: ms, "
			      "s, m, h or d");
	rule_err("limit 2/0", "t.conf:3: limit period: expected 1ms..24h, got "
			      "0");
	rule_err("limit 2/25h", "t.conf:3: limit period: expected 1ms..24h, "
				"got 25h");
	rule_err("limit 2/", "t.conf:3: limit period: expected a duration such "
			     "as 5s "
			     "(units ms, s, m, h, d), got ''");
	rule_err("limit 1/1s\ntotal 0/1s", "t.conf:4: total: N must be "
					   "1..1000000, got 0");
	rule_err("limit 1/1s\ntotal 1/86401s", "t.conf:4: total period: "
					       "expected 1ms..24h, got 86401s");
	expect_err("log-limit 10/1us\n", "t.conf:1: log-limit period: unknown "
					 "unit 'us' in '1us'; use ms, s, m, h "
					 "or d");
	expect_err("log-limit 10\n", "t.conf:1: log-limit: expected N/T such "
				     "as 2/5s, got '10'");
}

static void test_prefixes(void **state)
{
	struct config *c;

	(void)state;
	c = parse_ok("allow 203.0.113.0/24 198.51.100.7\n"
		     "allow 2001:db8::/32 2001:db8::53 0.0.0.0/0 ::/0\n"
		     "allow 198.51.100.128/25 ::ffff:198.51.100.0/120\n");
	assert_int_equal(c->nallow, 8);
	assert_int_equal(c->allow[0].family, AF_INET);
	assert_int_equal(c->allow[0].len, 24);
	assert_memory_equal(c->allow[0].addr, "\xcb\x00\x71\x00", 4);
	assert_int_equal(c->allow[1].len, 32);
	assert_memory_equal(c->allow[1].addr, "\xc6\x33\x64\x07", 4);
	assert_int_equal(c->allow[2].family, AF_INET6);
	assert_int_equal(c->allow[2].len, 32);
	assert_memory_equal(c->allow[2].addr,
			    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_int_equal(c->allow[3].len, 128);
	assert_int_equal(c->allow[3].addr[15], 0x53);
	assert_int_equal(c->allow[4].family, AF_INET);
	assert_int_equal(c->allow[4].len, 0);
	assert_int_equal(c->allow[5].family, AF_INET6);
	assert_int_equal(c->allow[5].len, 0);
	assert_int_equal(c->allow[6].len, 25);
	assert_int_equal(c->allow[7].family, AF_INET6);
	assert_int_equal(c->allow[7].len, 120);
	assert_round_trip(c);
	config_free(c);

	expect_err("allow\n", "t.conf:1: allow: missing value; expected one or "
			      "more prefixes such as 203.0.113.0/24");
	expect_err("allow 203.0.113.7/24\n", "t.conf:1: allow: 203.0.113.7/24 "
					     "has host bits set; did you "
					     "mean 203.0.113.0/24?");
	expect_err("allow 198.51.100.1/31\n", "t.conf:1: allow: "
					      "198.51.100.1/31 has host bits "
					      "set; did "
					      "you mean 198.51.100.0/31?");
	expect_err("allow 2001:db8::1/32\n", "t.conf:1: allow: 2001:db8::1/32 "
					     "has host bits set; did you "
					     "mean 2001:db8::/32?");
	expect_err("allow 10.0.0.0/33\n", "t.conf:1: allow: prefix length in "
					  "'10.0.0.0/33' must be 0..32");
	expect_err("allow 2001:db8::/129\n", "t.conf:1: allow: prefix length "
					     "in '2001:db8::/129' must be "
					     "0..128");
	expect_err("allow 10.0.0.0/x\n", "t.conf:1: allow: prefix length in "
					 "'10.0.0.0/x' must be a "
					 "decimal integer 0..32");
	expect_err("allow 10.0.0.0/\n", "t.conf:1: allow: prefix length in "
					"'10.0.0.0/' must be a "
					"decimal integer 0..32");
	expect_err("allow 10.0.0.0/+8\n", "t.conf:1: allow: prefix length in "
					  "'10.0.0.0/+8' must be a "
					  "decimal integer 0..32");
	expect_err("allow 300.1.1.1\n", "t.conf:1: allow: expected an address "
					"or prefix such as "
					"203.0.113.0/24 or 2001:db8::/32, got "
					"'300.1.1.1'");
	expect_err("allow 01.2.3.4/32\n", "t.conf:1: allow: expected an "
					  "address or prefix such as "
					  "203.0.113.0/24 or 2001:db8::/32, "
					  "got '01.2.3.4/32'");
	expect_err("allow 10.0.0.0/8 fe80::1%eth0\n", "t.conf:1: allow: "
						      "expected an address or "
						      "prefix such as "
						      "203.0.113.0/24 or "
						      "2001:db8::/32, got "
						      "'fe80::1%eth0'");
}

static void test_allow_max(void **state)
{
	char *big = NULL, *text;
	size_t len = 0;
	FILE *f;
	struct config *c;

	(void)state;
	/* 100000 prefixes, 125 a line, inside the 1 MiB a file may have */
	f = open_memstream(&big, &len);
	assert_non_null(f);
	for (int i = 0; i < 800; i++) {
		fprintf(f, "allow");
		for (int j = 0; j < 125; j++)
			fprintf(f, " 1.2.3.%d", j % 10);
		fputc('\n', f);
	}
	fclose(f);
	assert_true(len <= 1024 * 1024);
	c = parse_ok(big);
	assert_int_equal(c->nallow, 100000);
	assert_int_equal(c->allow[99999].addr[3], 4);
	config_free(c);
	assert_true(asprintf(&text, "%sallow 198.51.100.0/24\n", big) > 0);
	expect_err(text, "t.conf:801: allow: more than 100000 prefixes");
	free(text);
	free(big);
}

static void test_qtypes(void **state)
{
	static const struct {
		const char *name;
		uint16_t type;
	} ok[] = {
		{"ANY", 255},	{"any", 255},	      {"A", 1},
		{"AAAA", 28},	{"TXT", 16},	      {"RRSIG", 46},
		{"DNSKEY", 48}, {"type65534", 65534}, {"TYPE65535", 65535},
		{"TYPE1", 1},	{"Type001", 1},	      {"AXFR", 252},
		{"IXFR", 251},	{"MAILA", 254},	      {"MAILB", 253},
		{"NULL", 10},	{"NSAP-PTR", 23},     {"nsec3param", 51},
		{"CAA", 257},	{"DLV", 32769},
	};
	struct config *c;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *body;

		assert_true(asprintf(&body,
				     "rule r {\nqtype %s\nlimit 1/1s\n"
				     "}\n",
				     ok[i].name) > 0);
		c = parse_ok(body);
		assert_int_equal(c->rules[0].nqtypes, 1);
		assert_int_equal(c->rules[0].qtypes[0], ok[i].type);
		config_free(c);
		free(body);
	}
	c = parse_ok("rule r {\nqtype ANY TXT RRSIG DNSKEY TYPE65534\n"
		     "limit 1/1s\n}\n");
	assert_int_equal(c->rules[0].nqtypes, 5);
	assert_int_equal(c->rules[0].qtypes[4], 65534);
	config_free(c);

	expect_err("rule r {\nqtype AAA\n", "t.conf:2: qtype: unknown type "
					    "'AAA'; expected a name such "
					    "as A, AAAA, TXT, ANY, or TYPEnnn");
	expect_err("rule r {\nqtype ANYx\n", "t.conf:2: qtype: unknown type "
					     "'ANYx'; expected a name such "
					     "as A, AAAA, TXT, ANY, or "
					     "TYPEnnn");
	expect_err("rule r {\nqtype TYPE12x\n", "t.conf:2: qtype: expected "
						"TYPE and a decimal number "
						"such "
						"as TYPE65534, got 'TYPE12x'");
	expect_err("rule r {\nqtype TYPE\n", "t.conf:2: qtype: expected TYPE "
					     "and a decimal number such "
					     "as TYPE65534, got 'TYPE'");
	expect_err("rule r {\nqtype type+5\n", "t.conf:2: qtype: expected TYPE "
					       "and a decimal number such "
					       "as TYPE65534, got 'type+5'");
	expect_err("rule r {\nqtype TYPE99999\n", "t.conf:2: qtype: the number "
						  "in 'TYPE99999' must be "
						  "1..65535");
	expect_err("rule r {\nqtype TYPE65536\n", "t.conf:2: qtype: the number "
						  "in 'TYPE65536' must be "
						  "1..65535");
	expect_err("rule r {\nqtype TYPE0\n", "t.conf:2: qtype: the number in "
					      "'TYPE0' must be 1..65535");
	expect_err("rule r {\nqtype ANY any\n", "t.conf:2: qtype: 'any' "
						"repeats ANY");
	expect_err("rule r {\nqtype TXT A TYPE16\n", "t.conf:2: qtype: "
						     "'TYPE16' repeats TXT");
	{
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		assert_non_null(f);
		fprintf(f, "rule r {\nqtype");
		for (int i = 1; i <= CONFIG_QTYPES_MAX; i++)
			fprintf(f, " TYPE%d", i);
		fprintf(f, "\nlimit 1/1s\n}\n");
		fclose(f);
		c = parse_ok(text);
		assert_int_equal(c->rules[0].nqtypes, CONFIG_QTYPES_MAX);
		assert_int_equal(c->rules[0].qtypes[31], 32);
		config_free(c);
		free(text);
		f = open_memstream(&text, &len);
		assert_non_null(f);
		fprintf(f, "rule r {\nqtype");
		for (int i = 1; i <= CONFIG_QTYPES_MAX + 1; i++)
			fprintf(f, " TYPE%d", i);
		fprintf(f, "\n");
		fclose(f);
		expect_err(text, "t.conf:2: qtype: 33 types; at most 32 in a "
				 "rule");
		free(text);
	}
}

/* Every type number prints as a name or TYPEnnn that reads back the same. */
static void test_qtype_all_round_trip(void **state)
{
	(void)state;
	for (unsigned first = 1; first <= 65535; first += 32) {
		char *text = NULL, *printed;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		struct config *a, *b;
		size_t n = 0;

		assert_non_null(f);
		fprintf(f, "rule r {\nqtype");
		for (unsigned t = first; t < first + 32 && t <= 65535; t++) {
			fprintf(f, " TYPE%u", t);
			n++;
		}
		fprintf(f, "\nlimit 1/1s\n}\n");
		fclose(f);
		a = parse_ok(text);
		assert_int_equal(a->rules[0].nqtypes, n);
		printed = print_text(a);
		b = parse_ok(printed);
		assert_int_equal(b->rules[0].nqtypes, n);
		assert_memory_equal(a->rules[0].qtypes, b->rules[0].qtypes,
				    n * sizeof(uint16_t));
		config_free(a);
		config_free(b);
		free(printed);
		free(text);
	}
}

static struct config *qname_rule(const char *names)
{
	char *text;
	struct config *c;

	assert_true(asprintf(&text, "rule r {\nqname %s\nlimit 1/1s\n}\n",
			     names) > 0);
	c = parse_ok(text);
	free(text);
	return c;
}

/* ldns's reading of the same text, lower-cased, is the reference. */
static void assert_qname_like_ldns(const char *name)
{
	struct config *c = qname_rule(name);
	const struct config_qname *q = &c->rules[0].qnames[0];
	ldns_rdf *rdf = NULL;

	assert_int_equal(ldns_str2rdf_dname(&rdf, name), LDNS_STATUS_OK);
	ldns_dname2canonical(rdf);
	assert_int_equal(q->len, ldns_rdf_size(rdf));
	assert_memory_equal(q->wire, ldns_rdf_data(rdf), q->len);
	ldns_rdf_deep_free(rdf);
	assert_round_trip(c);
	config_free(c);
}

static void test_qnames(void **state)
{
	char *l63 = repeat('a', 63), *l64 = repeat('a', 64), *name;
	struct config *c;

	(void)state;
	c = qname_rule("Example.NET");
	assert_int_equal(c->rules[0].nqnames, 1);
	assert_int_equal(c->rules[0].nqtypes, 0);
	assert_int_equal(c->rules[0].qnames[0].len, 13);
	assert_memory_equal(c->rules[0].qnames[0].wire,
			    "\x07"
			    "example\x03net\x00",
			    13);
	config_free(c);
	c = qname_rule(". example.net.");
	assert_int_equal(c->rules[0].nqnames, 2);
	assert_int_equal(c->rules[0].qnames[0].len, 1);
	assert_int_equal(c->rules[0].qnames[0].wire[0], 0);
	assert_int_equal(c->rules[0].qnames[1].len, 13);
	config_free(c);

	assert_qname_like_ldns("example.net");
	assert_qname_like_ldns("EXAMPLE.Net.");
	assert_qname_like_ldns(".");
	assert_qname_like_ldns("a\\.b.example");
	assert_qname_like_ldns("\\065\\066c");
	assert_qname_like_ldns("sp\\032ace.x\\035y");
	assert_qname_like_ldns("back\\\\slash");
	assert_qname_like_ldns("\\000\\255\\127.\\\"q");
	assert_qname_like_ldns("_dmarc.xn--bcher-kva.example");
	assert_qname_like_ldns(l63);
	/* 255 octets: three labels of 63, one of 61, the root */
	assert_true(asprintf(&name, "%s.%s.%s.%.61s", l63, l63, l63, l63) > 0);
	assert_qname_like_ldns(name);
	free(name);

	rule_err("limit 1/1s\nqname a..b", "t.conf:4: qname: 'a..b' has an "
					   "empty label");
	rule_err("limit 1/1s\nqname .a", "t.conf:4: qname: '.a' has an empty "
					 "label");
	rule_err("limit 1/1s\nqname ..", "t.conf:4: qname: '..' has an empty "
					 "label");
	assert_true(asprintf(&name, "limit 1/1s\nqname %s.net", l64) > 0);
	rule_err(name, "t.conf:4: qname: "
		       "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' "
		       "has "
		       "a label longer than 63 octets");
	free(name);
	assert_true(asprintf(&name, "limit 1/1s\nqname %s.%s.%s.%.62s", l63,
			     l63, l63, l63) > 0);
	rule_err(name, "t.conf:4: qname: "
		       "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' "
		       "is "
		       "longer than 255 octets in wire format");
	free(name);
	rule_err("limit 1/1s\nqname a\\", "t.conf:4: qname: 'a\\' ends with a "
					  "lone backslash");
	rule_err("limit 1/1s\nqname a\\1b", "t.conf:4: qname: bad escape in "
					    "'a\\1b'; use \\DDD (three "
					    "digits) or \\X");
	rule_err("limit 1/1s\nqname a\\12", "t.conf:4: qname: bad escape in "
					    "'a\\12'; use \\DDD (three "
					    "digits) or \\X");
	rule_err("limit 1/1s\nqname \\256", "t.conf:4: qname: escape above "
					    "\\255 in '\\256'");
	rule_err("limit 1/1s\nqname example.net EXAMPLE.net.", "t.conf:4: "
							       "qname: "
							       "'EXAMPLE.net.' "
							       "repeats "
							       "example.net");
	rule_err("limit 1/1s\nqname \\200 \\200.", "t.conf:4: qname: '\\200.' "
						   "repeats \\200");
	free(l63);
	free(l64);

	{
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		assert_non_null(f);
		fprintf(f, "rule r {\nqname");
		for (int i = 0; i < CONFIG_QNAMES_MAX; i++)
			fprintf(f, " n%d", i);
		fprintf(f, "\nlimit 1/1s\n}\n");
		fclose(f);
		c = parse_ok(text);
		assert_int_equal(c->rules[0].nqnames, CONFIG_QNAMES_MAX);
		config_free(c);
		free(text);
		f = open_memstream(&text, &len);
		assert_non_null(f);
		fprintf(f, "rule r {\nqname");
		for (int i = 0; i <= CONFIG_QNAMES_MAX; i++)
			fprintf(f, " n%d", i);
		fprintf(f, "\n");
		fclose(f);
		expect_err(text, "t.conf:2: qname: 33 names; at most 32 in a "
				 "rule");
		free(text);
	}
}

/*
 * 32 names on a line of exactly 1023 characters: the printer may add
 * neither its indent nor escapes, or the printed line would not read back.
 */
static void assert_long_qname_line(int high)
{
	char *text = NULL, *printed;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct config *a, *b;

	assert_non_null(f);
	fprintf(f, "rule r {\nqname");
	/* 31 names of 31 characters, one of 25: "qname" + 1018 = 1023 */
	for (int i = 0; i < 32; i++) {
		fprintf(f, " %02d", i);
		for (int j = 0; j < (i < 31 ? 29 : 23); j++)
			fputc(high ? 0x80 + j : 'a' + j % 26, f);
	}
	fprintf(f, "\nlimit 1/1s\n}\n");
	fclose(f);
	assert_int_equal(strchr(text + 9, '\n') - (text + 9), 1023);
	a = parse_ok(text);
	assert_int_equal(a->rules[0].nqnames, 32);
	printed = print_text(a);
	assert_non_null(
		strstr(printed, high ? "\nqname 00\x80" : "\nqname 00a"));
	b = parse_ok(printed);
	assert_same(a, b);
	config_free(a);
	config_free(b);
	free(printed);
	free(text);
}

static void test_qname_long_line(void **state)
{
	(void)state;
	assert_long_qname_line(0);
	assert_long_qname_line(1);
}

static void test_round_trip(void **state)
{
	static const char *const texts[] = {
		"",
		"queue 2-5\nqueue-maxlen 16\ntable-size 2147483648\n"
		"fail-open no\nuser dnsrl\ncontrol-socket /run/dnsrl.sock\n"
		"stats-interval 0\nreport-interval 7d\nreport-top 100\n"
		"syslog-facility local7\nmalformed drop\nfragments accept\n"
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
			       "queue-maxlen    4096\n"
			       "queue-rcvbuf    0\n"
			       "table-size      1048576\n"
			       "fail-open       yes\n"
			       "# user (unset)\n"
			       "# control-socket (unset)\n"
			       "stats-interval  1m\n"
			       "report-interval 1h\n"
			       "report-top      10\n"
			       "syslog-facility daemon\n"
			       "malformed       accept\n"
			       "fragments       drop\n"
			       "log-limit       10/1s\n"
			       "log-truncate    no\n"
			       "# prometheus-file (unset)\n"
			       "allow           2001:db8::/32\n"
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
			       "}\n");
	free(t);
	config_free(c);
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
	assert_string_equal(err, "/tmp: Is a directory");

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fprintf(f, "queue 9\nrule r {\nqtype A\nlimit 1/1s\n}\nfoo\n");
	fclose(f);
	assert_null(config_load(path, err, sizeof(err)));
	assert_true(asprintf(&msg,
			     "%s:6: unknown setting 'foo'; expected one "
			     "of queue, queue-maxlen, queue-rcvbuf, "
			     "table-size, "
			     "fail-open, user, control-socket, "
			     "stats-interval, report-interval, "
			     "report-top, syslog-facility, malformed, "
			     "fragments, log-limit, log-truncate, "
			     "prometheus-file, allow, rule",
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
	assert_int_equal(c->nrules, 1);
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
				 "(IPv4) /56 (IPv6) hold-down 10m..1h20m "
				 "action drop");
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
	assert_int_equal(c->nrules, 2);
	assert_string_equal(c->rules[1].name, "big-txt");
	assert_int_equal(c->rules[1].action, CONFIG_ACTION_LOG);
	assert_int_equal(c->rules[1].nqnames, 1);
	assert_int_equal(c->rules[1].nqtypes, 3);
	assert_non_null(c->user);
	assert_non_null(c->control_socket);
	assert_non_null(c->prometheus_file);
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
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_rule_prefixes),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_rule_durations),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_allow_max),
		cmocka_unit_test(test_qtypes),
		cmocka_unit_test(test_qtype_all_round_trip),
		cmocka_unit_test(test_qnames),
		cmocka_unit_test(test_qname_long_line),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_print_text),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_duration_text),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_err_buffer),
		cmocka_unit_test(test_example_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
