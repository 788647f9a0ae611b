/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The policy hand-over of a reload, with readers that the test moves by
 * hand (a reader holds a generation when the test says so): an old policy
 * is freed only once every reader holds a later one, a stalled reader
 * makes reloads wait in a list (freed later, never leaked: this test runs
 * under ASan's leak check), a swap reports whether every reader took the
 * new policy, and a new rule never gets the id, and so the buckets, of a
 * rule that is gone while those buckets may linger.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "limiter_helpers.h"
#include "reload.h"

struct fixture {
	struct limiter *l;
	struct reload_slot slot;
	struct reload *r;
	_Atomic uint64_t seen[2];
};

static struct config *parse(const char *text)
{
	char err[CONFIG_ERR_MAX];
	struct config *c =
		config_parse("t.conf", text, strlen(text), err, sizeof(err));

	if (c == NULL)
		fail_msg("%s", err);
	return c;
}

static struct policy *policy_of(struct fixture *f, const char *text)
{
	struct config *c = parse(text);
	struct policy *p = reload_policy(f->r, c);

	assert_non_null(p);
	config_free(c);
	return p;
}

static const char rules_ab[] = "rule a {\n qtype ANY\n limit 2/5s\n}\n"
			       "rule b {\n qtype TXT\n limit 1/1h\n}\n";
static const char rules_a[] = "rule a {\n qtype ANY\n limit 2/5s\n}\n";
static const char rules_ac[] = "rule a {\n qtype ANY\n limit 2/5s\n}\n"
			       "rule c {\n qtype MX\n limit 1/1h\n}\n";

static struct fixture *setup(const char *text)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct config *c = parse(text);
	struct policy *p;

	assert_non_null(f);
	f->l = table(1024, true);
	p = policy_new(c, NULL, NULL);
	assert_non_null(p);
	config_free(c);
	f->r = reload_new(&f->slot, f->l, p);
	assert_non_null(f->r);
	for (int i = 0; i < 2; i++) {
		atomic_store(&f->seen[i], 1);
		assert_int_equal(reload_add_reader(f->r, &f->seen[i], true), 0);
	}
	return f;
}

static void teardown(struct fixture *f)
{
	reload_free(f->r);
	limiter_free(f->l);
	free(f);
}

static uint64_t generation(const struct fixture *f)
{
	return atomic_load(&f->slot.generation);
}

static void *follow(void *arg)
{
	struct fixture *f = arg;

	/* a reader that takes the slot 20 ms after the swap */
	usleep(20000);
	atomic_store(&f->seen[1], atomic_load(&f->slot.generation));
	return NULL;
}

static void test_swap_waits_for_readers(void **state)
{
	struct fixture *f = setup(rules_ab);
	struct policy *p = policy_of(f, rules_a);
	pthread_t t;

	(void)state;
	/* reader 0 is fast: it holds whatever is stored */
	atomic_store(&f->seen[0], UINT64_MAX);
	assert_int_equal(pthread_create(&t, NULL, follow, f), 0);
	assert_int_equal(reload_swap(f->r, p, 2000), 0);
	pthread_join(t, NULL);
	assert_ptr_equal(reload_current(f->r), p);
	assert_int_equal(generation(f), 2);
	/* both readers hold it: the old policy is gone already */
	assert_int_equal(reload_pending(f->r), 0);
	teardown(f);
}

/*
 * A stalled reader: a burst of reloads all time out and wait in the
 * list; none is freed while the reader may hold it; all are freed once
 * it moves on.
 */
static void test_stalled_reader_burst(void **state)
{
	struct fixture *f = setup(rules_ab);

	(void)state;
	atomic_store(&f->seen[0], UINT64_MAX);
	for (int i = 0; i < 20; i++) {
		struct policy *p =
			policy_of(f, i % 2 == 0 ? rules_a : rules_ab);

		assert_int_equal(reload_swap(f->r, p, 0), -ETIMEDOUT);
		assert_ptr_equal(reload_current(f->r), p);
		reload_collect(f->r);
		assert_int_equal(reload_pending(f->r), (size_t)i + 1);
	}
	assert_int_equal(generation(f), 21);
	/* the reader takes generation 10: the 9 policies before it go */
	atomic_store(&f->seen[1], 10);
	reload_collect(f->r);
	assert_int_equal(reload_pending(f->r), 11);
	atomic_store(&f->seen[1], 21);
	reload_collect(f->r);
	assert_int_equal(reload_pending(f->r), 0);
	teardown(f);
}

/*
 * Rule b is dropped while a reader still holds the old policy, and a new
 * rule c comes: c must not take b's id (b's buckets may still be filled
 * by that reader).  Once the reader moves on, b's buckets are forgotten
 * and its id is free again.
 */
static void test_no_id_reuse_while_stale(void **state)
{
	struct fixture *f = setup(rules_ab);
	const struct policy *p0 = reload_current(f->r);
	unsigned a = policy_rule_id(p0, 0), b = policy_rule_id(p0, 1);
	struct limiter_rule rb;
	struct rec rc = {0};
	struct policy *p;

	(void)state;
	/* b's source spends its only token */
	rule_init(&rb, (uint8_t)b, 1, HOUR);
	assert_int_equal(check(f->l, &rc, &rb, 99, 0), LIMITER_PASS);
	assert_int_equal(check(f->l, &rc, &rb, 99, 0), LIMITER_OVER);

	p = policy_of(f, rules_a);
	assert_int_equal(reload_swap(f->r, p, 0), -ETIMEDOUT);
	p = policy_of(f, rules_ac);
	assert_int_equal(policy_rule_id(p, 0), a);
	assert_int_not_equal(policy_rule_id(p, 1), b);
	assert_int_equal(reload_swap(f->r, p, 0), -ETIMEDOUT);
	/* b's bucket is still there: the reader may still use it */
	assert_int_equal(check(f->l, &rc, &rb, 99, 1), LIMITER_OVER);

	atomic_store(&f->seen[0], 3);
	atomic_store(&f->seen[1], 3);
	reload_collect(f->r);
	assert_int_equal(reload_pending(f->r), 0);
	/* forgotten: the same key under b's id starts afresh */
	assert_int_equal(check(f->l, &rc, &rb, 99, 2), LIMITER_PASS);
	/* and a new rule may have b's id now */
	p = policy_of(f, rules_ab);
	assert_int_equal(policy_rule_id(p, 0), a);
	assert_int_equal(policy_rule_id(p, 1), b);
	policy_free(p);
	teardown(f);
}

/* An unchanged rule keeps its id, and so its buckets, across reloads. */
static void test_unchanged_rule_keeps_buckets(void **state)
{
	struct fixture *f = setup(rules_ab);
	unsigned a = policy_rule_id(reload_current(f->r), 0);
	struct limiter_rule ra;
	struct rec rc = {0};
	struct policy *p;

	(void)state;
	atomic_store(&f->seen[0], UINT64_MAX);
	atomic_store(&f->seen[1], UINT64_MAX);
	rule_init(&ra, (uint8_t)a, 2, 5 * SEC);
	assert_int_equal(check(f->l, &rc, &ra, 7, 0), LIMITER_PASS);
	assert_int_equal(check(f->l, &rc, &ra, 7, 0), LIMITER_PASS);
	p = policy_of(f, rules_ac);
	assert_int_equal(policy_rule_id(p, 0), a);
	assert_int_equal(reload_swap(f->r, p, 100), 0);
	assert_int_equal(check(f->l, &rc, &ra, 7, 0), LIMITER_OVER);
	teardown(f);
}

/* A file of its own, mode 0600, holding text. */
static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0600), 0);
}

/*
 * What the daemon refuses to start or reload with, beyond the file's own
 * syntax: no rule (unless it says so), a table over half the memory, a
 * FIFO (without waiting on it), a user that does not exist, a shared
 * directory for the Prometheus file.
 */
static void test_load_checks(void **state)
{
	char dir[] = "/tmp/test_reload.XXXXXX", path[64], err[CONFIG_ERR_MAX];
	struct config *c;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/c.conf", dir);
	write_file(path, "# comments only\n\n");
	assert_null(reload_load_config(path, false, err, sizeof(err)));
	assert_non_null(strstr(err, "c.conf: no rule: every query would "
				    "pass unjudged"));
	/* and on a reload as well */
	assert_null(reload_load_config(path, true, err, sizeof(err)));
	write_file(path, "rules-required no\n");
	c = reload_load_config(path, false, err, sizeof(err));
	assert_non_null(c);
	config_free(c);

	write_file(path, "queue 0\ntable-size 2147483648\n"
			 "rule a {\n qtype ANY\n limit 1/1s\n}\n");
	c = reload_load_config(path, false, err, sizeof(err));
	if (c == NULL) {
		assert_non_null(strstr(err, "c.conf:2: table-size 2147483648 "
					    "needs 68719476736 bytes"));
	} else {
		/* a machine with more than 128 GiB */
		config_free(c);
	}

	write_file(path, "user no-such-user-dnsrl\n"
			 "rule a {\n qtype ANY\n limit 1/1s\n}\n");
	assert_null(reload_load_config(path, false, err, sizeof(err)));
	assert_non_null(strstr(err, "c.conf:1: user: no such user "
				    "'no-such-user-dnsrl'"));

	/* a user that could not reread the file on a reload */
	if (geteuid() == 0) {
		write_file(path, "user nobody\n"
				 "rule a {\n qtype ANY\n limit 1/1s\n}\n");
		assert_int_equal(chmod(dir, 0755), 0);
		assert_null(reload_load_config(path, false, err, sizeof(err)));
		assert_non_null(strstr(err, "user nobody (uid 65534) may not "
					    "read it (mode 0600"));
		assert_non_null(strstr(err, "a reload, as that user, could "
					    "not read it"));
		assert_int_equal(chmod(path, 0644), 0);
		c = reload_load_config(path, false, err, sizeof(err));
		assert_non_null(c);
		config_free(c);
	}

	write_file(path, "prometheus-file /tmp/dnsrl.prom\n"
			 "rule a {\n qtype ANY\n limit 1/1s\n}\n");
	assert_null(reload_load_config(path, false, err, sizeof(err)));
	assert_non_null(strstr(err, "c.conf:1: prometheus-file: /tmp is a "
				    "shared directory (mode 1777)"));
	unlink(path);

	assert_int_equal(mkfifo(path, 0600), 0);
	assert_null(reload_load_config(path, false, err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file (a FIFO)"));
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swap_waits_for_readers),
		cmocka_unit_test(test_stalled_reader_burst),
		cmocka_unit_test(test_no_id_reuse_while_stale),
		cmocka_unit_test(test_unchanged_rule_keeps_buckets),
		cmocka_unit_test(test_load_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
