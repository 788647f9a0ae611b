/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Privilege drop, in a child process (it cannot be undone).  Needs root;
 * without it the drop tests are skipped as such, never passed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "privs.h"

/* The hex CapEff/CapPrm/CapBnd line of /proc/self/status. */
static uint64_t cap_line(const char *name)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	uint64_t v = UINT64_MAX;
	size_t n = strlen(name);

	if (f == NULL)
		return v;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, name, n) == 0 && line[n] == ':')
			v = strtoull(line + n + 1, NULL, 16);
	fclose(f);
	return v;
}

/* Runs fn in a child; returns its exit status (0: all checks held). */
static int in_child(int (*fn)(void))
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static int drop_to_nobody(void)
{
	char err[256];
	uid_t uid;
	gid_t gid;

	if (privs_lookup("nobody", &uid, &gid, err, sizeof(err)) != 0)
		return 10;
	if (privs_drop("nobody", uid, gid, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 11;
	}
	if (getuid() != uid || geteuid() != uid || getgid() != gid)
		return 12;
	if (getgroups(0, NULL) != 0)
		return 13;
	if (cap_line("CapEff") != (uint64_t)1 << CAP_NET_ADMIN)
		return 14;
	if (cap_line("CapPrm") != (uint64_t)1 << CAP_NET_ADMIN)
		return 15;
	if (cap_line("CapBnd") != (uint64_t)1 << CAP_NET_ADMIN)
		return 16;
	/* and nothing can bring the rest back */
	if (setuid(0) == 0)
		return 17;
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 18;
	return 0;
}

static int drop_staying_root(void)
{
	char err[256];

	if (privs_drop(NULL, 0, 0, err, sizeof(err)) != 0)
		return 11;
	if (getuid() != 0)
		return 12;
	if (cap_line("CapEff") != (uint64_t)1 << CAP_NET_ADMIN)
		return 14;
	if (cap_line("CapBnd") != (uint64_t)1 << CAP_NET_ADMIN)
		return 16;
	return 0;
}

static void test_drop_to_user(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(in_child(drop_to_nobody), 0);
}

static void test_drop_staying_root(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(in_child(drop_staying_root), 0);
}

static void test_unknown_user(void **state)
{
	char err[256];
	uid_t uid;
	gid_t gid;

	(void)state;
	assert_int_equal(privs_lookup("no-such-user-dnsrl", &uid, &gid, err,
				      sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "user no-such-user-dnsrl"));
	assert_int_equal(privs_lookup(NULL, &uid, &gid, err, sizeof(err)), 0);
	assert_int_equal(uid, getuid());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_to_user),
		cmocka_unit_test(test_drop_staying_root),
		cmocka_unit_test(test_unknown_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
