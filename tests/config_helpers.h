/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the configuration tests share: parsing that must succeed or fail
 * with an exact message, rule blocks around a body, and the round trip
 * through config_print.  Header-only: each test includes it once.
 */
#ifndef DNSRL_TESTS_CONFIG_HELPERS_H
#define DNSRL_TESTS_CONFIG_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define MS 1000000ull
#define SEC (1000 * MS)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

static inline struct config *parse_len(const char *text, size_t len, char *err)
{
	return config_parse("t.conf", text, len, err, CONFIG_ERR_MAX);
}

static inline struct config *parse_ok(const char *text)
{
	char err[CONFIG_ERR_MAX];
	struct config *c = parse_len(text, strlen(text), err);

	if (c == NULL)
		fail_msg("unexpected error: %s\n--- text:\n%s", err, text);
	return c;
}

static inline void expect_err(const char *text, const char *msg)
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
static inline char *in_rule(const char *body)
{
	char *s = NULL;

	assert_true(asprintf(&s, "rule r {\nqtype A\n%s\n}\n", body) > 0);
	return s;
}

static inline struct config *rule_ok(const char *body)
{
	char *text = in_rule(body);
	struct config *c = parse_ok(text);

	free(text);
	assert_int_equal(c->nrules, 1);
	return c;
}

static inline void rule_err(const char *body, const char *msg)
{
	char *text = in_rule(body);

	expect_err(text, msg);
	free(text);
}

static inline char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* Every field but path and rule line numbers. */
static inline void assert_same(const struct config *a, const struct config *b)
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

static inline char *print_text(const struct config *c)
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
static inline void assert_round_trip(const struct config *a)
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

#endif
