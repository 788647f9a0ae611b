/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel holds as an operator steers them, against the kernel, with the ipset
 * command as the oracle: what dnsrlctl hold, release and show do to the
 * sets (holds_put, holds_release, holds_release_range, holds_lookup), and
 * the holds an operator overtook kept out of them (holds_set_filter, and
 * a queued hold dropped by its release).  The process moves into a
 * network namespace of its own first, never touching the host's sets.
 * Needs root; without it every test is skipped as such.  The clock is the
 * test's: the kernel's timeouts are given, and read back, as numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "netns_helpers.h"
#include "holds.h"
#include "kset.h"
#include "limiter.h"
#include "policy.h"

#define SEC CLOCK_NS_PER_S
#define T0 (5000 * SEC)
#define OUT_MAX (4 << 20)
#define A4(a, b, c, d)                                                    \
	((uint64_t)(a) << 24 | (uint64_t)(b) << 16 | (uint64_t)(c) << 8 | \
	 (uint64_t)(d))

static const char conf_text[] = "queue 0\n"
				"kernel-hold-max 8192\n"
				"rule any-abuse {\n"
				"\tqtype ANY\n"
				"\tlimit 2/1s\n"
				"\thold-down 10s\n"
				"}\n"
				"rule txt {\n"
				"\tqtype TXT\n"
				"\tlimit 10/1s\n"
				"\tipv4-prefix 24\n"
				"\thold-down 10s\n"
				"}\n"
				"rule logged {\n"
				"\tqtype MX\n"
				"\tlimit 10/1s\n"
				"\taction log\n"
				"}\n";

static bool ready; /* root, and in a namespace of our own */

struct fixture {
	struct config *cfg;
	struct policy *p;
	struct holds *h;
	unsigned any, txt, logged; /* rule ids */
	uint64_t keep_out;	   /* the filter keeps this key out */
	unsigned filtered;
};

/* `ipset list NAME` (malloc'd), or NULL. */
static char *ipset_list(const char *name)
{
	char cmd[128], *buf = malloc(OUT_MAX);
	size_t len = 0, n;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ipset list %s", name);
	if (buf == NULL || (f = popen(cmd, "r")) == NULL) {
		free(buf);
		return NULL;
	}
	while ((n = fread(buf + len, 1, OUT_MAX - 1 - len, f)) > 0)
		len += n;
	buf[len] = '\0';
	pclose(f);
	return buf;
}

/* The member line of set that starts with "PREFIX ", or "" (static). */
static const char *member(const char *set, const char *prefix)
{
	static char line[256];
	char *l = ipset_list(set), *m, *p;
	size_t n = strlen(prefix);

	line[0] = '\0';
	assert_non_null(l);
	m = strstr(l, "Members:\n");
	assert_non_null(m);
	for (p = m + 9; *p != '\0';) {
		char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

		if (len > n && strncmp(p, prefix, n) == 0 && p[n] == ' ') {
			snprintf(line, sizeof(line), "%.*s", (int)len, p);
			break;
		}
		p += len + (nl != NULL);
	}
	free(l);
	return line;
}

/*
 * Asserts that set holds prefix, given timeout seconds to live (the
 * kernel says the whole seconds left: timeout or one less), no packet
 * yet, and the comment of level.
 */
static void assert_member(const char *set, const char *prefix, unsigned timeout,
			  unsigned level)
{
	const char *m = member(set, prefix);
	char want[128];
	unsigned t = 0;
	int at = 0;

	if (sscanf(m, "%*s timeout %u %n", &t, &at) != 1)
		fail_msg("%s: no entry %s (got '%s')", set, prefix, m);
	assert_in_range(t, timeout - 1, timeout);
	snprintf(want, sizeof(want),
		 "packets 0 bytes 0 comment \"dnsrl level %u\"", level);
	assert_string_equal(m + at, want);
}

/* The number of entries `ipset list` reports for set. */
static long entries(const char *set)
{
	char *l = ipset_list(set), *e;
	long n;

	assert_non_null(l);
	e = strstr(l, "Number of entries: ");
	assert_non_null(e);
	n = strtol(e + 19, NULL, 10);
	free(l);
	return n;
}

static int group_setup(void **state)
{
	int rc = netns_enter(NULL, true);

	(void)state;
	ready = rc == 1;
	return rc < 0 ? -1 : 0;
}

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
	struct fixture *f;
	char err[CONFIG_ERR_MAX];
	struct kset *k;

	*state = NULL;
	if (!ready)
		return 0;
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->cfg = config_parse("t.conf", conf_text, strlen(conf_text), err,
			      sizeof(err));
	assert_non_null(f->cfg);
	f->p = policy_new(f->cfg, NULL, NULL);
	assert_non_null(f->p);
	k = kset_open();
	assert_non_null(k);
	assert_int_equal(holds_make_sets(k, f->cfg, err, sizeof(err)), 0);
	f->h = holds_new(k);
	assert_non_null(f->h);
	assert_int_equal(holds_configure(f->h, f->cfg, f->p), 0);
	f->any = id_of(f->p, "any-abuse");
	f->txt = id_of(f->p, "txt");
	f->logged = id_of(f->p, "logged");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f == NULL)
		return 0;
	holds_free(f->h);
	policy_free(f->p);
	config_free(f->cfg);
	free(f);
	return netns_sh("ipset destroy") == 0 ? 0 : -1;
}

static struct fixture *fixture(void **state)
{
	if (!ready)
		skip();
	return *state;
}

static void test_put_lookup_release(void **state)
{
	struct fixture *f = fixture(state);
	struct holds_entry e;
	uint64_t key = A4(198, 51, 100, 66);

	assert_string_equal(holds_set_of(f->h, f->any, 4), "dnsrl-any-abuse-4");
	assert_string_equal(holds_set_of(f->h, f->any, 6), "dnsrl-any-abuse-6");
	assert_null(holds_set_of(f->h, f->logged, 4));
	assert_null(holds_set_of(NULL, f->any, 4));
	assert_int_equal(holds_lookup(f->h, f->any, 4, key, T0, &e), -ENOENT);

	assert_int_equal(holds_put(f->h, f->any, 4, key, 2, 30 * SEC, T0), 0);
	assert_member("dnsrl-any-abuse-4", "198.51.100.66", 30, 2);
	assert_int_equal(holds_lookup(f->h, f->any, 4, key, T0 + SEC, &e), 0);
	assert_int_equal(e.left, 29 * SEC);
	assert_int_equal(e.level, 2);
	assert_int_equal(e.packets, 0);
	/* past its end it is gone, whatever the last read said */
	assert_int_equal(holds_lookup(f->h, f->any, 4, key, T0 + 30 * SEC, &e),
			 -ENOENT);
	/* a read of the sets keeps what it saw */
	holds_poll(f->h, NULL, NULL, T0);
	assert_int_equal(holds_lookup(f->h, f->any, 4, key, T0, &e), 0);
	assert_true(e.left >= 29 * SEC && e.left <= 30 * SEC);
	assert_int_equal(e.level, 2);

	assert_int_equal(holds_release(f->h, f->any, 4, key), 0);
	assert_string_equal(member("dnsrl-any-abuse-4", "198.51.100.66"), "");
	assert_int_equal(holds_lookup(f->h, f->any, 4, key, T0, &e), -ENOENT);
	assert_int_equal(holds_release(f->h, f->any, 4, key), -ENOENT);
	/* a rule that holds in the daemon alone */
	assert_int_equal(holds_put(f->h, f->logged, 4, key, 1, SEC, T0),
			 -ENOENT);
	assert_int_equal(holds_release(f->h, f->logged, 4, key), -ENOENT);
}

static void count(void *arg, uint64_t key)
{
	(void)key;
	(*(unsigned *)arg)++;
}

/* A release of a prefix wider than the rule's takes what falls in it. */
static void test_release_range(void **state)
{
	struct fixture *f = fixture(state);
	unsigned n = 0;

	for (int a = 1; a <= 5; a++)
		assert_int_equal(holds_put(f->h, f->any, 4, A4(198, 51, 100, a),
					   1, 60 * SEC, T0),
				 0);
	assert_int_equal(holds_put(f->h, f->any, 4, A4(198, 51, 101, 1), 1,
				   60 * SEC, T0),
			 0);
	assert_int_equal(holds_put(f->h, f->any, 6,
				   UINT64_C(0x20010db800020000), 1, 60 * SEC,
				   T0),
			 0);
	assert_int_equal(entries("dnsrl-any-abuse-4"), 6);
	assert_int_equal(holds_release_range(f->h, f->any, 4,
					     A4(198, 51, 100, 0), 0xffffff00u,
					     count, &n),
			 5);
	assert_int_equal(n, 5);
	assert_int_equal(entries("dnsrl-any-abuse-4"), 1);
	assert_member("dnsrl-any-abuse-4", "198.51.101.1", 60, 1);
	/* IPv6 untouched, then taken by 2001:db8::/32 */
	assert_int_equal(entries("dnsrl-any-abuse-6"), 1);
	assert_int_equal(holds_release_range(
				 f->h, f->any, 6, UINT64_C(0x20010db800000000),
				 UINT64_C(0xffffffff00000000), NULL, NULL),
			 1);
	assert_int_equal(entries("dnsrl-any-abuse-6"), 0);
	/* the TXT rule holds /24s */
	assert_int_equal(holds_put(f->h, f->txt, 4, A4(198, 51, 100, 0), 1,
				   10 * SEC, T0),
			 0);
	assert_member("dnsrl-txt-4", "198.51.100.0/24", 10, 1);
	assert_int_equal(holds_release_range(f->h, f->txt, 4, 0, 0, NULL, NULL),
			 1);
	assert_int_equal(entries("dnsrl-txt-4"), 0);
}

/* More entries than a pass gathers (HOLDS_PENDING): a second pass. */
static void test_release_range_passes(void **state)
{
	struct fixture *f = fixture(state);
	const unsigned total = HOLDS_PENDING + 900;
	unsigned n = 0;

	for (unsigned i = 0; i < total; i++) {
		struct limiter_event ev = {
			.kind = LIMITER_EV_HELD,
			.rule = (uint8_t)f->any,
			.family = 4,
			.level = 1,
			.key = A4(198, 18, i >> 8, i & 0xff),
			.hold = 60 * SEC,
		};

		holds_held(f->h, &ev);
		if ((i + 1) % HOLDS_PENDING == 0 || i + 1 == total)
			holds_flush(f->h, T0);
	}
	assert_int_equal(entries("dnsrl-any-abuse-4"), total);
	assert_int_equal(holds_release_range(f->h, f->any, 4, A4(198, 18, 0, 0),
					     0xffff0000u, count, &n),
			 total);
	assert_int_equal(n, total);
	assert_int_equal(entries("dnsrl-any-abuse-4"), 0);
}

static bool keep_out(void *arg, unsigned rule, int family, uint64_t key)
{
	struct fixture *f = arg;

	assert_int_equal(rule, f->any);
	assert_int_equal(family, 4);
	if (key != f->keep_out)
		return false;
	f->filtered++;
	return true;
}

static void held(struct fixture *f, uint64_t key)
{
	struct limiter_event ev = {.kind = LIMITER_EV_HELD,
				   .rule = (uint8_t)f->any,
				   .family = 4,
				   .level = 1,
				   .key = key,
				   .hold = 10 * SEC};

	holds_held(f->h, &ev);
}

/* What an operator overtook stays out of the kernel. */
static void test_kept_out(void **state)
{
	struct fixture *f = fixture(state);
	struct holds_entry e;

	holds_set_filter(f->h, keep_out, f);
	f->keep_out = A4(198, 51, 100, 7);
	held(f, A4(198, 51, 100, 7));
	held(f, A4(198, 51, 100, 8));
	/* released before the flush: dropped from the queue */
	held(f, A4(198, 51, 100, 9));
	assert_int_equal(holds_release(f->h, f->any, 4, A4(198, 51, 100, 9)),
			 -ENOENT);
	holds_flush(f->h, T0);
	assert_int_equal(f->filtered, 1);
	assert_int_equal(entries("dnsrl-any-abuse-4"), 1);
	assert_member("dnsrl-any-abuse-4", "198.51.100.8", 10, 1);
	assert_int_equal(
		holds_lookup(f->h, f->any, 4, A4(198, 51, 100, 8), T0, &e), 0);
	assert_int_equal(e.left, 10 * SEC);
	assert_int_equal(holds_lookup(f->h, f->any, 4, A4(198, 51, 100, 7), T0,
				      &e),
			 -ENOENT);
	/* a range release drops the queued ones in it too */
	held(f, A4(198, 51, 100, 10));
	held(f, A4(203, 0, 113, 10));
	assert_int_equal(holds_release_range(f->h, f->any, 4,
					     A4(198, 51, 100, 0), 0xffffff00u,
					     NULL, NULL),
			 1);
	holds_flush(f->h, T0);
	assert_int_equal(entries("dnsrl-any-abuse-4"), 1);
	assert_member("dnsrl-any-abuse-4", "203.0.113.10", 10, 1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_put_lookup_release),
		T(test_release_range),
		T(test_release_range_passes),
		T(test_kept_out),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
