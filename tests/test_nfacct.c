/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The nfacct module against the kernel.  The oracle is the kernel's own
 * counter of the iptables rule that adds to the object: the process
 * moves into a network namespace of its own first (never touching the
 * host's objects or rules), sends datagrams over lo past that rule, and
 * reads both.  Needs root; without it every test is skipped as such,
 * never passed.
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

#include "netns_helpers.h"
#include "nfacct.h"

#define PORT 9 /* discard: nothing listens, the rule counts on the way */

static bool ready; /* root, and in a namespace of our own */

/* The packet counter of the first rule of OUTPUT, as iptables reads it. */
static long long rule_packets(void)
{
	FILE *p = popen("iptables -L OUTPUT -v -x -n | awk 'NR == 3 { print "
			"$1 }'",
			"r");
	long long v = -1;

	if (p == NULL)
		return -1;
	if (fscanf(p, "%lld", &v) != 1)
		v = -1;
	pclose(p);
	return v;
}

/* Sends n datagrams to 127.0.0.1:PORT. */
static void send_n(int n)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(PORT)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int i = 0; i < n; i++)
		assert_int_equal(sendto(fd, "x", 1, 0, (struct sockaddr *)&to,
					sizeof(to)),
				 1);
	close(fd);
}

static int group_setup(void **state)
{
	int rc = netns_enter(NULL, false);

	(void)state;
	ready = rc == 1;
	return rc < 0 ? -1 : 0;
}

static int setup(void **state)
{
	*state = NULL;
	if (!ready)
		return 0;
	*state = nfacct_open();
	return *state != NULL ? 0 : -1;
}

/* Leaves the namespace as it was: no rules, no objects. */
static int teardown(void **state)
{
	if (!ready)
		return 0;
	if (netns_sh("iptables -F OUTPUT") != 0)
		return -1;
	(void)nfacct_delete(*state, "dnsrl-t-4");
	(void)nfacct_delete(*state, "other");
	nfacct_close(*state);
	return 0;
}

static struct nfacct *handle(void **state)
{
	if (!ready)
		skip();
	return *state;
}

/* The object counts what the rule counts, and a second make keeps it. */
static void test_counts(void **state)
{
	struct nfacct *n = handle(state);
	uint64_t v = 1;

	assert_int_equal(nfacct_make(n, "dnsrl-t-4"), 0);
	assert_int_equal(nfacct_get(n, "dnsrl-t-4", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(netns_sh("iptables -A OUTPUT -o lo -p udp --dport 9 "
				  "-m nfacct --nfacct-name dnsrl-t-4"),
			 0);
	send_n(7);
	assert_int_equal(nfacct_get(n, "dnsrl-t-4", &v), 0);
	assert_int_equal(rule_packets(), 7);
	assert_int_equal(v, 7);
	assert_int_equal(nfacct_make(n, "dnsrl-t-4"), 0);
	send_n(3);
	assert_int_equal(nfacct_get(n, "dnsrl-t-4", &v), 0);
	assert_int_equal(rule_packets(), 10);
	assert_int_equal(v, 10);
}

/* In use it stays; then it goes, and is gone. */
static void test_delete(void **state)
{
	struct nfacct *n = handle(state);
	uint64_t v;

	assert_int_equal(nfacct_make(n, "dnsrl-t-4"), 0);
	assert_int_equal(netns_sh("iptables -A OUTPUT -o lo -p udp --dport 9 "
				  "-m nfacct --nfacct-name dnsrl-t-4"),
			 0);
	assert_int_equal(nfacct_delete(n, "dnsrl-t-4"), -EBUSY);
	assert_int_equal(netns_sh("iptables -F OUTPUT"), 0);
	assert_int_equal(nfacct_delete(n, "dnsrl-t-4"), 0);
	assert_int_equal(nfacct_get(n, "dnsrl-t-4", &v), -ENOENT);
	assert_int_equal(nfacct_delete(n, "dnsrl-t-4"), -ENOENT);
	/* made again, it starts from nothing */
	assert_int_equal(nfacct_make(n, "dnsrl-t-4"), 0);
	assert_int_equal(nfacct_get(n, "dnsrl-t-4", &v), 0);
	assert_int_equal(v, 0);
}

struct seen {
	int ours, other, calls;
	int stop_at;
};

static int name_cb(void *arg, const char *name)
{
	struct seen *s = arg;

	s->calls++;
	s->ours += strcmp(name, "dnsrl-t-4") == 0;
	s->other += strcmp(name, "other") == 0;
	return s->calls == s->stop_at ? 42 : 0;
}

/* Every object is listed, whoever made it; fn can stop the listing. */
static void test_names(void **state)
{
	struct nfacct *n = handle(state);
	struct seen s = {0};
	uint64_t v;

	assert_int_equal(nfacct_make(n, "dnsrl-t-4"), 0);
	assert_int_equal(nfacct_make(n, "other"), 0);
	assert_int_equal(nfacct_names(n, name_cb, &s), 0);
	assert_int_equal(s.ours, 1);
	assert_int_equal(s.other, 1);
	assert_int_equal(s.calls, 2);
	s = (struct seen){.stop_at = 1};
	assert_int_equal(nfacct_names(n, name_cb, &s), 42);
	assert_int_equal(s.calls, 1);
	/* the dump was read to its end: the socket serves the next call */
	assert_int_equal(nfacct_get(n, "other", &v), 0);
}

static void test_names_bad(void **state)
{
	struct nfacct *n = handle(state);
	char longname[NFACCT_NAME_LEN + 2];
	uint64_t v;

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(nfacct_make(n, longname), -ENAMETOOLONG);
	assert_int_equal(nfacct_get(n, longname, &v), -ENAMETOOLONG);
	assert_int_equal(nfacct_make(n, ""), -EINVAL);
	/* the longest name the kernel takes */
	longname[NFACCT_NAME_LEN] = '\0';
	assert_int_equal(nfacct_make(n, longname), 0);
	assert_int_equal(nfacct_get(n, longname, &v), 0);
	assert_int_equal(nfacct_delete(n, longname), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_bad, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
