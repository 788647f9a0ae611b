/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel holds' bookkeeping against the kernel, with the daemon's
 * clock stepped by the test.  The process moves into a network namespace
 * of its own first (never touching the host's sets), and the oracles are
 * outside the module: the ipset command for what the sets hold, and the
 * kernel's drops of datagrams the test sends over lo past a rule like the
 * daemon's (`-m set --match-set SET src -m nfacct ... -j DROP` in OUTPUT:
 * the datagrams the test sent are what the kernel dropped).  Needs root;
 * without it the kernel tests are skipped as such, never passed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "netns_helpers.h"
#include "holds.h"
#include "kset.h"
#include "limiter.h"
#include "policy.h"
#include "stats.h"

#define SEC 1000000000ull
#define SRC4 "198.51.100.1" /* on lo: the source of what the test sends */
#define T0 (1000 * SEC)	    /* the daemon's clock at the start */

static const char conf[] = "kernel-hold-max 2\n"
			   "rule any {\n"
			   "	qtype ANY\n"
			   "	limit 2/1s\n"
			   "	hold-down 4s\n"
			   "}\n";

static bool ready; /* root, and in a namespace of our own */

struct fix {
	struct config *cfg;
	struct policy *pol;
	struct limiter *l;
	struct holds *h;
	const struct limiter_rule *lim[LIMITER_RULE_IDS];
	unsigned id;
	struct stats s;
};

/* What `ipset list SET` says of PREFIX: "timeout T packets P comment C". */
static bool entry(const char *set, const char *prefix, unsigned *timeout,
		  unsigned *packets, char *comment, size_t clen)
{
	char cmd[256], line[512];
	FILE *p;
	bool found = false;

	snprintf(cmd, sizeof(cmd), "ipset list %s 2>/dev/null", set);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p) != NULL) {
		char *c, *q;
		size_t n = strlen(prefix);

		if (strncmp(line, prefix, n) != 0 || line[n] != ' ')
			continue;
		found = true;
		c = strstr(line, "timeout ");
		*timeout = c != NULL ? (unsigned)atoi(c + 8) : 0;
		c = strstr(line, "packets ");
		*packets = c != NULL ? (unsigned)atoi(c + 8) : 0;
		c = strstr(line, "comment \"");
		comment[0] = '\0';
		if (c != NULL && (q = strchr(c + 9, '"')) != NULL)
			snprintf(comment, clen, "%.*s", (int)(q - c - 9),
				 c + 9);
	}
	pclose(p);
	return found;
}

/* Sends n datagrams from SRC4 over lo. */
static void send_n(int n)
{
	struct sockaddr_in from = {.sin_family = AF_INET};
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, SRC4, &from.sin_addr);
	inet_pton(AF_INET, SRC4, &to.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0);
	/* a datagram OUTPUT drops fails with EPERM */
	for (int i = 0; i < n; i++)
		assert_true(sendto(fd, "x", 1, 0, (struct sockaddr *)&to,
				   sizeof(to)) == 1 ||
			    errno == EPERM);
	close(fd);
}

static uint64_t key4(const char *addr)
{
	uint8_t a[4];

	assert_int_equal(inet_pton(AF_INET, addr, a), 1);
	return limiter_key(4, a, 32);
}

/* A hold of addr begins at level, for secs (the limiter's event). */
static void held(struct fix *f, const char *addr, unsigned level, uint64_t secs)
{
	struct limiter_event ev = {.kind = LIMITER_EV_HELD,
				   .rule = (uint8_t)f->id,
				   .family = 4,
				   .level = (uint8_t)level,
				   .key = key4(addr),
				   .hold = secs * SEC};

	holds_held(f->h, &ev);
}

struct found {
	uint64_t key;
	bool held;
	unsigned level;
	uint32_t drops;
};

static void walk_cb(void *arg, const struct limiter_entry *e)
{
	struct found *w = arg;

	if (e->key != w->key || e->family != 4)
		return;
	w->held = e->held;
	w->level = e->level;
	w->drops = e->drops;
}

/* What the table says of addr at now. */
static struct found table_of(struct fix *f, const char *addr, uint64_t now)
{
	struct found w = {.key = key4(addr)};

	limiter_walk(f->l, f->lim, now, walk_cb, &w);
	return w;
}

static int group_setup(void **state)
{
	static const char *const setup[] = {
		"ip addr add " SRC4 "/24 dev lo",
		NULL,
	};
	int rc = netns_enter(setup, true);

	(void)state;
	ready = rc == 1;
	return rc < 0 ? -1 : 0;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	char err[256] = "";
	struct kset *k;

	if (f == NULL)
		return -1;
	*state = f;
	if (!ready)
		return 0;
	f->cfg = config_parse("t.conf", conf, strlen(conf), err, sizeof(err));
	if (f->cfg == NULL) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	f->pol = policy_new(f->cfg, NULL, NULL);
	f->l = limiter_new(1024, false);
	k = kset_open();
	if (f->pol == NULL || f->l == NULL || k == NULL)
		return -1;
	f->h = holds_new(k);
	if (f->h == NULL)
		return -1;
	if (holds_make_sets(k, f->cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if (holds_configure(f->h, f->cfg, f->pol) < 0)
		return -1;
	policy_limiter_rules(f->pol, f->lim);
	f->id = policy_rule_id(f->pol, 0);
	/* the daemon's rule, as far as the set and the counter go */
	if (netns_sh(
		    "iptables -A OUTPUT -o lo -p udp --dport 9 -m set --match-set "
		    "dnsrl-any-4 src -m nfacct --nfacct-name dnsrl-any-4 -j DROP") !=
	    0)
		return -1;
	/* the first read sets the base of the counters */
	if (holds_restore(f->h, f->l, T0) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	char err[256] = "";
	struct kset *k;
	int rc = 0;

	if (ready) {
		holds_free(f->h);
		rc |= netns_sh("iptables -F OUTPUT");
		k = kset_open();
		if (k == NULL || holds_remove_sets(k, NULL, err, sizeof(err)))
			rc = -1;
		kset_close(k);
	}
	policy_free(f->pol);
	config_free(f->cfg);
	limiter_free(f->l);
	free(f);
	return rc;
}

static struct fix *fixture(void **state)
{
	if (!ready)
		skip();
	return *state;
}

/* Names: "dnsrl-RULE-F", cut with a hash past the kernel's 31 chars. */
static void test_set_name(void **state)
{
	char a[KSET_NAME_MAX + 1], b[KSET_NAME_MAX + 1];
	const char *long1 = "a-rule-name-far-too-long-for-the-kernel-1";
	const char *long2 = "a-rule-name-far-too-long-for-the-kernel-2";

	(void)state;
	holds_set_name("any", AF_INET, a);
	assert_string_equal(a, "dnsrl-any-4");
	holds_set_name("any", AF_INET6, a);
	assert_string_equal(a, "dnsrl-any-6");
	holds_set_name(long1, AF_INET, a);
	holds_set_name(long2, AF_INET, b);
	assert_int_equal(strlen(a), KSET_NAME_MAX);
	assert_int_equal(strlen(b), KSET_NAME_MAX);
	assert_string_not_equal(a, b);
	assert_int_equal(strncmp(a, "dnsrl-a-rule-name", 17), 0);
	assert_string_equal(a + KSET_NAME_MAX - 2, "-4");
	assert_non_null(strchr(a, '~'));
}

/* Which rules hold in the kernel, and the reason the others do not. */
static void test_rule_can(void **state)
{
	static const char text[] =
		"rule a {\n qtype ANY\n limit 2/1s\n hold-down 4s\n}\n"
		"rule b {\n qtype TXT\n limit 2/1s\n}\n"
		"rule c {\n qtype RRSIG\n limit 2/1s\n hold-down 4s\n"
		" kernel-hold no\n}\n"
		"rule d {\n qtype DNSKEY\n qname example.com\n limit 2/1s\n"
		" hold-down 4s\n}\n"
		"rule e {\n qtype ANY TXT\n limit 9/1s\n hold-down 4s\n}\n"
		"rule f {\n qtype NS\n limit 2/1s\n hold-down 4s\n"
		" action log\n}\n"
		"answer-rule g {\n size 1000\n bytes 64k/10s\n"
		" hold-down 1m\n}\n";
	char err[256], why[HOLDS_WHY_MAX];
	struct config *c =
		config_parse("t.conf", text, strlen(text), err, sizeof(err));
	static const char *const want[] = {
		"",
		"no hold-down",
		"kernel-hold no",
		"a name is not matched in the kernel",
		"rule a before it decides some of its queries first",
		"its action is not drop",
		"an answer rule",
	};

	(void)state;
	if (c == NULL)
		fail_msg("%s", err);
	assert_int_equal(c->nrules, 7);
	for (size_t i = 0; i < c->nrules; i++) {
		bool can = holds_rule_can(c, i, why, sizeof(why));

		assert_int_equal(can, i == 0);
		if (!can)
			assert_string_equal(why, want[i]);
	}
	config_free(c);
}

/* A hold reaches its set at the flush, with its time and level. */
static void test_flush(void **state)
{
	struct fix *f = fixture(state);
	struct holds_stats st;
	unsigned t, p;
	char comment[64];

	held(f, "198.51.100.7", 2, 8);
	assert_false(entry("dnsrl-any-4", "198.51.100.7", &t, &p, comment,
			   sizeof(comment)));
	holds_flush(f->h, T0);
	assert_true(entry("dnsrl-any-4", "198.51.100.7", &t, &p, comment,
			  sizeof(comment)));
	assert_in_range(t, 7, 8);
	assert_int_equal(p, 0);
	assert_string_equal(comment, "dnsrl level 2");
	holds_get_stats(f->h, &st);
	assert_int_equal(st.added, 1);
	assert_int_equal(st.full, 0);
	/* a part second is a whole one: the kernel never frees it early */
	held(f, "198.51.100.8", 1, 0);
	holds_flush(f->h, T0);
	assert_true(entry("dnsrl-any-4", "198.51.100.8", &t, &p, comment,
			  sizeof(comment)));
	assert_in_range(t, 0, 1);
}

/* kernel-hold-max 2: the third hold is counted full, not fatal. */
static void test_full(void **state)
{
	struct fix *f = fixture(state);
	struct holds_stats st;
	unsigned t, p;
	char c[64];

	held(f, "198.51.100.7", 1, 4);
	held(f, "198.51.100.8", 1, 4);
	held(f, "198.51.100.9", 1, 4);
	holds_flush(f->h, T0);
	holds_get_stats(f->h, &st);
	assert_int_equal(st.added, 2);
	assert_int_equal(st.full, 1);
	assert_int_equal(st.failed, 0);
	assert_true(entry("dnsrl-any-4", "198.51.100.7", &t, &p, c, 64));
	assert_true(entry("dnsrl-any-4", "198.51.100.8", &t, &p, c, 64));
	assert_false(entry("dnsrl-any-4", "198.51.100.9", &t, &p, c, 64));
}

/*
 * What the kernel drops goes to the rule's counters and to the source's
 * episode, every drop once, over reads at stepped times.
 */
static void test_poll_counts(void **state)
{
	struct fix *f = fixture(state);
	struct limiter_counters lc = {0};
	struct holds_stats st;
	struct found w;
	unsigned t, p;
	char c[64];

	assert_int_equal(limiter_restore(f->l, f->lim[f->id], 4, key4(SRC4), 0,
					 4 * SEC, T0, &lc),
			 0);
	held(f, SRC4, 0, 4);
	holds_flush(f->h, T0);
	send_n(5);
	assert_true(entry("dnsrl-any-4", SRC4, &t, &p, c, 64));
	assert_int_equal(p, 5);
	holds_poll(f->h, f->l, &f->s, T0 + SEC);
	assert_int_equal(f->s.rule[f->id][STATS_R_DROPPED], 5);
	assert_int_equal(f->s.rule[f->id][STATS_R_HELD], 5);
	assert_int_equal(f->s.rule[f->id][STATS_R_MATCHED], 5);
	w = table_of(f, SRC4, T0 + SEC);
	assert_true(w.held);
	assert_int_equal(w.drops, 5);
	/* a read with nothing new adds nothing */
	holds_poll(f->h, f->l, &f->s, T0 + 2 * SEC);
	assert_int_equal(f->s.rule[f->id][STATS_R_DROPPED], 5);
	send_n(3);
	holds_poll(f->h, f->l, &f->s, T0 + 3 * SEC);
	assert_int_equal(f->s.rule[f->id][STATS_R_DROPPED], 8);
	assert_int_equal(table_of(f, SRC4, T0 + 3 * SEC).drops, 8);
	holds_get_stats(f->h, &st);
	assert_int_equal(st.dropped, 8);
	assert_int_equal(st.poll_errors, 0);
}

/*
 * An entry that timed out between two reads (the kernel's own time: a
 * real second) still has its drops counted: the rule's counter keeps
 * them.
 */
static void test_poll_timed_out(void **state)
{
	struct fix *f = fixture(state);
	struct holds_stats st;
	unsigned t, p;
	char c[64];

	held(f, SRC4, 0, 1);
	holds_flush(f->h, T0);
	send_n(4);
	usleep(2200 * 1000);
	assert_false(entry("dnsrl-any-4", SRC4, &t, &p, c, 64));
	holds_poll(f->h, f->l, &f->s, T0 + 3 * SEC);
	assert_int_equal(f->s.rule[f->id][STATS_R_DROPPED], 4);
	holds_get_stats(f->h, &st);
	assert_int_equal(st.dropped, 4);
}

/* A daemon started anew reads each hold back: its level, its time. */
static void test_restore(void **state)
{
	struct fix *f = fixture(state);
	struct limiter *l2 = limiter_new(1024, false);
	struct kset *k = kset_open();
	struct holds *h2;
	struct found w;

	assert_non_null(l2);
	assert_non_null(k);
	held(f, "198.51.100.7", 3, 10);
	holds_flush(f->h, T0);
	h2 = holds_new(k);
	assert_non_null(h2);
	assert_int_equal(holds_configure(h2, f->cfg, f->pol), 0);
	assert_int_equal(holds_restore(h2, l2, 5 * T0), 1);
	limiter_free(f->l);
	f->l = l2;
	w = table_of(f, "198.51.100.7", 5 * T0);
	assert_true(w.held);
	assert_int_equal(w.level, 3);
	/* held for the kernel's 9 or 10 s left, not a second more */
	assert_true(table_of(f, "198.51.100.7", 5 * T0 + 8 * SEC).held);
	assert_false(table_of(f, "198.51.100.7", 5 * T0 + 11 * SEC).held);
	holds_free(h2);
}

/* An operator's release takes the entry out at once. */
static void test_release(void **state)
{
	struct fix *f = fixture(state);
	struct holds_stats st;
	unsigned t, p;
	char c[64];

	held(f, "198.51.100.7", 1, 30);
	holds_flush(f->h, T0);
	assert_true(entry("dnsrl-any-4", "198.51.100.7", &t, &p, c, 64));
	assert_int_equal(holds_release(f->h, f->id, 4, key4("198.51.100.7")),
			 0);
	assert_false(entry("dnsrl-any-4", "198.51.100.7", &t, &p, c, 64));
	assert_int_equal(holds_release(f->h, f->id, 4, key4("198.51.100.7")),
			 -ENOENT);
	assert_int_equal(holds_release(f->h, f->id + 1, 4,
				       key4("198.51.100.7")),
			 -ENOENT);
	holds_get_stats(f->h, &st);
	assert_int_equal(st.released, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_name),
		cmocka_unit_test(test_rule_can),
		cmocka_unit_test_setup_teardown(test_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_counts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_poll_timed_out, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
