/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the configuration values: every setting's range ends and
 * every mistake's exact message, qtype and qname conversion (ldns is the
 * reference for names), and values written back by config_print.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>

#include "config.h"
#include "config_helpers.h"

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
	rule_err("limit 1/1s\naction reject",
		 "t.conf:4: action: expected drop, "
		 "log or truncate, got 'reject'");
}

/* control-group: a group name, read as the user's is, with its own
 * messages. */
static void test_control_group(void **state)
{
	struct config *c;

	(void)state;
	c = parse_ok("control-group adm\n");
	assert_string_equal(c->control_group, "adm");
	assert_int_equal(c->line.control_group, 1);
	config_free(c);
	c = parse_ok("queue 0\n");
	assert_null(c->control_group);
	config_free(c);
	expect_err("control-group 4\n", "t.conf:1: control-group: '4' is a "
					"number; give a group name");
	expect_err("control-group -g\n", "t.conf:1: control-group: '-g' "
					 "starts with '-'; give a group name");
	expect_err("control-group a/b\n", "t.conf:1: control-group: expected "
					  "a group name of letters, digits, _ "
					  "- and ., got 'a/b'");
}

/*
 * A prefix and a duration read alone (dnsrlctl's arguments): the
 * file's own rules, messages that name no file:line.
 */
static void test_values_alone(void **state)
{
	struct config_prefix p;
	char err[CONFIG_ERR_MAX];
	uint64_t ns = 1;

	(void)state;
	assert_int_equal(config_parse_prefix("show", "198.51.100.7", &p, err,
					     sizeof(err)),
			 0);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.len, 32);
	assert_memory_equal(p.addr, "\xc6\x33\x64\x07", 4);
	assert_int_equal(config_parse_prefix("show", "2001:db8:2::/56", &p, err,
					     sizeof(err)),
			 0);
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.len, 56);
	assert_int_equal(config_parse_prefix("release", "198.51.100.7/24", &p,
					     err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "release: 198.51.100.7/24 has host bits set; "
				 "did you mean 198.51.100.0/24?");
	assert_int_equal(config_parse_prefix("hold", "198.51.100.300", &p, err,
					     sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "hold: expected an address or prefix such as "
				 "203.0.113.0/24 or 2001:db8::/32, got "
				 "'198.51.100.300'");
	assert_int_equal(config_parse_prefix("hold", "10.0.0.0/33", &p, err,
					     sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "hold: prefix length in '10.0.0.0/33' must be "
				 "0..32");
	/* longer than any address: refused, not cut */
	assert_int_equal(
		config_parse_prefix("show",
				    "2001:0db8:0000:0000:0000:0000:0000:0001/12"
				    "8xxxxxxx",
				    &p, err, sizeof(err)),
		-EINVAL);

	assert_int_equal(
		config_parse_duration("allow", "10m", true, 1000000000ull,
				      7 * 86400000000000ull, "0 or 1s..7d", &ns,
				      err, sizeof(err)),
		0);
	assert_int_equal(ns, 600000000000ull);
	assert_int_equal(
		config_parse_duration("allow", "0", true, 1000000000ull,
				      7 * 86400000000000ull, "0 or 1s..7d", &ns,
				      err, sizeof(err)),
		0);
	assert_int_equal(ns, 0);
	assert_int_equal(config_parse_duration("hold", "0", false,
					       1000000000ull,
					       7 * 86400000000000ull, "1s..7d",
					       &ns, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "hold: expected 1s..7d, got 0");
	assert_int_equal(config_parse_duration("hold", "8d", false,
					       1000000000ull,
					       7 * 86400000000000ull, "1s..7d",
					       &ns, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "hold: expected 1s..7d, got 8d");
	assert_int_equal(config_parse_duration("hold", "10", false,
					       1000000000ull,
					       7 * 86400000000000ull, "1s..7d",
					       &ns, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "hold: '10' needs a unit: ms, s, m, h or d");
	assert_int_equal(config_parse_duration("hold", "1.5h", false,
					       1000000000ull,
					       7 * 86400000000000ull, "1s..7d",
					       &ns, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "hold: '1.5h' has a fraction; use a whole "
				 "number of a smaller unit, such as 1500ms");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
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
		cmocka_unit_test(test_control_group),
		cmocka_unit_test(test_values_alone),
		cmocka_unit_test(test_qtypes),
		cmocka_unit_test(test_qtype_all_round_trip),
		cmocka_unit_test(test_qnames),
		cmocka_unit_test(test_qname_long_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
