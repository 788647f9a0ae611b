/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The temporary allow-list: entries that end on time (a stepped clock),
 * changed, taken away, full; prefixes matched against a bit-by-bit
 * reference over random prefixes and addresses; the file a restart reads
 * back (wall-clock ends, lines that are not entries, files not to be
 * trusted); and readers on other threads that never see an entry half
 * written while the main thread rewrites it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "allowlist.h"

#define SEC UINT64_C(1000000000)
#define T0 (100 * SEC)
#define REAL0 INT64_C(1767225600000) /* 2026-01-01, ms */

static struct config_prefix pfx(const char *text)
{
	struct config_prefix p;
	char err[CONFIG_ERR_MAX];

	if (config_parse_prefix("test", text, &p, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	return p;
}

static bool has(const struct allowlist *a, const char *addr, uint64_t now)
{
	uint8_t b[16];
	int fam = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(fam, addr, b), 1);
	return allowlist_has(a, fam, b, now);
}

static void test_on_time(void **state)
{
	struct allowlist *a = allowlist_new();
	struct config_prefix p = pfx("198.51.100.0/24");
	struct allowlist_entry e[ALLOWLIST_MAX];

	(void)state;
	assert_false(has(a, "198.51.100.7", T0));
	assert_int_equal(allowlist_set(a, &p, T0 + 3 * SEC, 0, 42, T0, NULL),
			 0);
	assert_true(has(a, "198.51.100.7", T0));
	assert_true(has(a, "198.51.100.0", T0));
	assert_true(has(a, "198.51.100.255", T0));
	assert_false(has(a, "198.51.101.0", T0));
	assert_false(has(a, "198.51.99.255", T0));
	/* an IPv6 address with the same first octets is another family */
	assert_false(has(a, "c633:6400::", T0));
	/* it ends on time, on the packet path, with nobody tidying up */
	assert_true(has(a, "198.51.100.7", T0 + 3 * SEC - 1));
	assert_false(has(a, "198.51.100.7", T0 + 3 * SEC));
	assert_int_equal(allowlist_get(a, T0 + 3 * SEC - 1, e), 1);
	assert_int_equal(e[0].pid, 42);
	assert_int_equal(allowlist_get(a, T0 + 3 * SEC, e), 0);
	/* an end not after now */
	assert_int_equal(allowlist_set(a, &p, T0, 0, 1, T0, NULL), -EINVAL);
	allowlist_free(a);
	allowlist_free(NULL);
}

static unsigned ended;

static void on_end(void *arg, const struct allowlist_entry *e)
{
	(void)arg;
	(void)e;
	ended++;
}

static void test_change_remove_expire(void **state)
{
	struct allowlist *a = allowlist_new();
	struct config_prefix p = pfx("2001:db8:53::/48");
	struct config_prefix q = pfx("203.0.113.10");
	struct allowlist_entry was;
	uint64_t before = 0;

	(void)state;
	assert_int_equal(allowlist_set(a, &p, T0 + 10 * SEC, 0, 1, T0, NULL),
			 0);
	assert_true(has(a, "2001:db8:53:ffff::1", T0));
	assert_false(has(a, "2001:db8:54::1", T0));
	/* the same prefix again: its end changes, shorter or longer */
	assert_int_equal(allowlist_set(a, &p, T0 + 2 * SEC, 0, 2, T0, &before),
			 1);
	assert_int_equal(before, T0 + 10 * SEC);
	assert_false(has(a, "2001:db8:53::1", T0 + 2 * SEC));
	assert_int_equal(allowlist_set(a, &q, T0 + 5 * SEC, 7, 3, T0, NULL), 0);
	assert_true(has(a, "203.0.113.10", T0));
	assert_false(has(a, "203.0.113.11", T0));
	/* taken away */
	assert_int_equal(allowlist_remove(a, &q, T0, &was), 0);
	assert_int_equal(was.uid, 7);
	assert_int_equal(was.until, T0 + 5 * SEC);
	assert_false(has(a, "203.0.113.10", T0));
	assert_int_equal(allowlist_remove(a, &q, T0, NULL), -ENOENT);
	/* an entry that ended is not there to take away */
	assert_int_equal(allowlist_remove(a, &p, T0 + 2 * SEC, NULL), -ENOENT);
	/* the tick takes away what ended, once */
	ended = 0;
	assert_int_equal(allowlist_expire(a, T0 + SEC, on_end, NULL), 0);
	assert_int_equal(allowlist_expire(a, T0 + 2 * SEC, on_end, NULL), 1);
	assert_int_equal(ended, 1);
	assert_int_equal(allowlist_expire(a, T0 + 9 * SEC, on_end, NULL), 0);
	allowlist_free(a);
}

static void test_full(void **state)
{
	struct allowlist *a = allowlist_new();
	struct config_prefix p = pfx("198.18.0.0/32");

	(void)state;
	for (int i = 0; i < ALLOWLIST_MAX; i++) {
		p.addr[3] = (uint8_t)i;
		assert_int_equal(allowlist_set(a, &p,
					       T0 + (uint64_t)(i + 1) * SEC, 0,
					       1, T0, NULL),
				 0);
	}
	p.addr[3] = 200;
	assert_int_equal(allowlist_set(a, &p, T0 + 100 * SEC, 0, 1, T0, NULL),
			 -ENOSPC);
	/* the first has ended at T0 + 1 s: room again, tidied or not */
	assert_int_equal(
		allowlist_set(a, &p, T0 + 100 * SEC, 0, 1, T0 + SEC, NULL), 0);
	assert_true(has(a, "198.18.0.200", T0 + SEC));
	assert_false(has(a, "198.18.0.0", T0 + SEC));
	assert_true(has(a, "198.18.0.63", T0 + SEC));
	/* when every entry has ended, a check reads none */
	assert_int_equal(allowlist_expire(a, T0 + 100 * SEC, NULL, NULL),
			 ALLOWLIST_MAX);
	assert_false(has(a, "198.18.0.200", T0 + 100 * SEC));
	allowlist_free(a);
}

/* The reference: prefix a holds address b (16 octets), bit by bit. */
static bool ref_holds(const struct config_prefix *a, const uint8_t *b)
{
	for (unsigned bit = 0; bit < a->len; bit++) {
		unsigned m = 0x80u >> (bit % 8);

		if ((a->addr[bit / 8] & m) != (b[bit / 8] & m))
			return false;
	}
	return true;
}

static uint32_t rnd_state = 2463534242u;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* A random prefix of family fam (host bits cleared), near base. */
static void random_prefix(struct config_prefix *p, int fam)
{
	unsigned max = fam == AF_INET ? 32 : 128;

	memset(p, 0, sizeof(*p));
	p->family = fam;
	p->len = (uint8_t)(rnd() % (max + 1));
	/* few distinct leading bits, so that prefixes often overlap */
	for (unsigned i = 0; i < max / 8; i++)
		p->addr[i] = (uint8_t)(i < 2 ? 0x20 + (rnd() & 1) : rnd());
	for (unsigned bit = p->len; bit < max; bit++)
		p->addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
}

/*
 * allowlist_has and allowlist_prefix_overlap against the bit-by-bit
 * reference, over random prefixes and addresses of both families.
 */
static void test_against_reference(void **state)
{
	unsigned matched = 0;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		struct allowlist *a = allowlist_new();
		int fam = round % 2 ? AF_INET6 : AF_INET;
		struct config_prefix p, q, addr;
		bool ref_overlap;

		random_prefix(&p, fam);
		random_prefix(&q, fam);
		random_prefix(&addr, fam);
		assert_int_equal(allowlist_set(a, &p, T0 + SEC, 0, 1, T0, NULL),
				 0);
		/* an address: a random prefix's bits, any length */
		for (unsigned i = 0; i < 16; i++)
			addr.addr[i] = (uint8_t)(i < 2 ? addr.addr[i] : rnd());
		if (rnd() % 2)
			memcpy(addr.addr, p.addr, 16);
		if (fam == AF_INET)
			memset(addr.addr + 4, 0, 12);
		assert_int_equal(allowlist_has(a, fam, addr.addr, T0),
				 ref_holds(&p, addr.addr));
		matched += ref_holds(&p, addr.addr);
		ref_overlap = p.len <= q.len ? ref_holds(&p, q.addr)
					     : ref_holds(&q, p.addr);
		assert_int_equal(allowlist_prefix_overlap(&p, &q), ref_overlap);
		assert_int_equal(allowlist_overlaps(a, &q, T0, NULL),
				 ref_overlap);
		allowlist_free(a);
	}
	/* both answers were given often */
	assert_in_range(matched, 5000, 15000);
}

struct tmpdir {
	char dir[40];
	char path[96];
};

static void make_dir(struct tmpdir *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_allowlist.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/allow.state", t->dir);
}

static void remove_dir(struct tmpdir *t)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", t->dir);
	assert_int_equal(system(cmd), 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/*
 * Over a restart: the file holds wall-clock ends, so the new daemon's
 * monotonic clock (another origin) and the time the restart took count.
 */
static void test_save_load(void **state)
{
	struct allowlist *a = allowlist_new(), *b = allowlist_new();
	struct config_prefix p = pfx("198.51.100.0/24"),
			     q = pfx("2001:db8:53::/48"),
			     r = pfx("203.0.113.9");
	struct allowlist_entry e[ALLOWLIST_MAX];
	char err[512];
	struct tmpdir t;
	struct stat st;
	const uint64_t t1 = 7 * SEC; /* the new daemon's clock */

	(void)state;
	make_dir(&t);
	assert_int_equal(allowlist_set(a, &p, T0 + 60 * SEC, 0, 11, T0, NULL),
			 0);
	assert_int_equal(
		allowlist_set(a, &q, T0 + 3600 * SEC, 65534, 12, T0, NULL), 0);
	assert_int_equal(allowlist_set(a, &r, T0 + 5 * SEC, 0, 13, T0, NULL),
			 0);
	assert_int_equal(allowlist_save(a, t.path, T0, REAL0, err, sizeof(err)),
			 0);
	assert_int_equal(stat(t.path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* read back 10 s later: the 5 s entry has ended */
	assert_int_equal(allowlist_load(b, t.path, 65534, t1, REAL0 + 10000,
					err, sizeof(err)),
			 2);
	assert_string_equal(err, "");
	assert_int_equal(allowlist_get(b, t1, e), 2);
	assert_int_equal(e[0].until, t1 + 50 * SEC);
	assert_int_equal(e[0].pid, 11);
	assert_int_equal(e[1].until, t1 + 3590 * SEC);
	assert_int_equal(e[1].uid, 65534);
	assert_true(has(b, "198.51.100.1", t1 + 50 * SEC - 1));
	assert_false(has(b, "198.51.100.1", t1 + 50 * SEC));
	assert_true(has(b, "2001:db8:53::9", t1));
	assert_false(has(b, "203.0.113.9", t1));
	/* no file: nothing, and no complaint */
	assert_int_equal(unlink(t.path), 0);
	assert_int_equal(
		allowlist_load(b, t.path, 0, t1, REAL0, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	allowlist_free(a);
	allowlist_free(b);
	remove_dir(&t);
}

static void test_load_bad(void **state)
{
	struct allowlist *a = allowlist_new();
	struct tmpdir t;
	char err[512], link[128], big[ALLOWLIST_FILE_MAX + 2];

	(void)state;
	make_dir(&t);
	/* lines that are not entries are skipped, the first one said */
	write_file(t.path,
		   "# a comment\n"
		   "\n"
		   "allow 198.51.100.0/24 until 1767225660000 uid 0 pid 1\n"
		   "allow 198.51.100.7/24 until 1767225660000 uid 0 pid 1\n"
		   "allow 198.51.100.9 until 17x uid 0 pid 1\n"
		   "deny 198.51.100.9 until 1767225660000 uid 0 pid 1\n"
		   "allow 203.0.113.10 until 1767225660000 uid 0\n"
		   "allow 203.0.113.11 until 1767225660000 uid 0 pid 1 "
		   "x\n"
		   "allow 2001:db8::/32 until 1767225660000 uid 0 pid 2\n");
	assert_int_equal(
		allowlist_load(a, t.path, 0, T0, REAL0, err, sizeof(err)), 2);
	assert_true(strstr(err, "allow.state:4: allow: 198.51.100.7/24 has "
				"host bits set") != NULL);
	assert_true(has(a, "2001:db8::1", T0));
	assert_true(has(a, "198.51.100.10", T0));
	assert_false(has(a, "203.0.113.10", T0));
	assert_false(has(a, "203.0.113.11", T0));
	/* a link is not followed */
	snprintf(link, sizeof(link), "%s/link", t.dir);
	assert_int_equal(symlink(t.path, link), 0);
	assert_int_equal(allowlist_load(a, link, 0, T0, REAL0, err,
					sizeof(err)),
			 -ELOOP);
	/* a NUL byte, and a file too long, are not read at all */
	{
		FILE *f = fopen(t.path, "w");

		assert_non_null(f);
		fwrite("allow 10.0.0.0/8\0 until", 1, 24, f);
		fclose(f);
	}
	assert_int_equal(allowlist_load(a, t.path, 0, T0, REAL0, err,
					sizeof(err)),
			 -EINVAL);
	memset(big, '#', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	write_file(t.path, big);
	assert_int_equal(allowlist_load(a, t.path, 0, T0, REAL0, err,
					sizeof(err)),
			 -EFBIG);
	/* as root: a file of another user's is not trusted */
	if (geteuid() == 0) {
		write_file(t.path, "allow 10.0.0.0/8 until 1767225660000 uid 0 "
				   "pid 1\n");
		assert_int_equal(chown(t.path, 12345, 12345), 0);
		assert_int_equal(allowlist_load(a, t.path, 65534, T0, REAL0,
						err, sizeof(err)),
				 -EPERM);
		assert_int_equal(allowlist_load(a, t.path, 12345, T0, REAL0,
						err, sizeof(err)),
				 1);
	}
	allowlist_free(a);
	remove_dir(&t);
}

/* A writer rewriting entries, and readers that must never see one half
 * written. */
struct race {
	struct allowlist *a;
	atomic_bool stop;
	unsigned long checks, wrong;
};

static void *reader(void *arg)
{
	struct race *r = arg;
	static const uint8_t inside[4] = {10, 0, 0, 5}, torn[4] = {11, 0, 0, 5};
	static const uint8_t always[4] = {192, 0, 2, 1};

	while (!atomic_load(&r->stop)) {
		/* 11.0.0.5 is only in 10.0.0.0/8 read with 11.0.0.0/32's
		 * address: a torn read */
		if (allowlist_has(r->a, AF_INET, torn, T0))
			r->wrong++;
		/* the entry that never changes is always there */
		if (!allowlist_has(r->a, AF_INET, always, T0))
			r->wrong++;
		(void)allowlist_has(r->a, AF_INET, inside, T0);
		r->checks++;
	}
	return NULL;
}

static void test_readers_never_see_half(void **state)
{
	struct race r = {.a = allowlist_new()};
	struct config_prefix fixed = pfx("192.0.2.1"), p8 = pfx("10.0.0.0/8"),
			     p32 = pfx("11.0.0.0/32");
	struct timespec t0, t1;
	pthread_t th[2];
	unsigned long writes = 0;

	(void)state;
	assert_int_equal(allowlist_set(r.a, &fixed, T0 + SEC, 0, 1, T0, NULL),
			 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, reader, &r), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		/* the same cell, one prefix then the other */
		assert_int_equal(
			allowlist_set(r.a, &p8, T0 + SEC, 0, 1, T0, NULL), 0);
		assert_int_equal(allowlist_remove(r.a, &p8, T0, NULL), 0);
		assert_int_equal(
			allowlist_set(r.a, &p32, T0 + SEC, 0, 1, T0, NULL), 0);
		assert_int_equal(allowlist_remove(r.a, &p32, T0, NULL), 0);
		writes++;
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while ((t1.tv_sec - t0.tv_sec) * 1000000000L + t1.tv_nsec -
			 t0.tv_nsec <
		 300000000L);
	atomic_store(&r.stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	print_message("%lu rewrites, %lu checks, %lu wrong\n", writes, r.checks,
		      r.wrong);
	assert_true(writes > 1000 && r.checks > 1000);
	assert_int_equal(r.wrong, 0);
	allowlist_free(r.a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_on_time),
		cmocka_unit_test(test_change_remove_expire),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_against_reference),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_load_bad),
		cmocka_unit_test(test_readers_never_see_half),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
