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
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <sys/stat.h>
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
	assert_string_equal(err, "no such user 'no-such-user-dnsrl'");
	assert_int_equal(privs_lookup(NULL, &uid, &gid, err, sizeof(err)), 0);
	assert_int_equal(uid, getuid());
}

/* What the kernel itself says: access(2) in a child that became nobody. */
static bool kernel_allows(const char *path, int mode)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		gid_t g = 65534;

		if (setgroups(1, &g) < 0 || setgid(65534) < 0 ||
		    setuid(65534) < 0)
			_exit(2);
		_exit(access(path, mode) == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) < 2);
	return WEXITSTATUS(st) == 0;
}

/*
 * privs_access against the kernel's own answer, for nobody, over files
 * and directories of every owner and mode that matters.
 */
static void test_access_oracle(void **state)
{
	static const mode_t dmodes[] = {0700, 0711, 0750, 0755, 0770, 0777};
	static const mode_t fmodes[] = {0600, 0604, 0640, 0644, 0660,
					0666, 0200, 0202, 0400};
	static const uid_t owners[] = {0, 65534};
	char dir[] = "/tmp/test_privs.XXXXXX", sub[64], file[96], err[512];
	unsigned checked = 0;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/d", dir);
	snprintf(file, sizeof(file), "%s/f", sub);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(close(open(file, O_CREAT | O_WRONLY, 0600)), 0);
	for (size_t d = 0; d < sizeof(dmodes) / sizeof(dmodes[0]); d++) {
		for (size_t f = 0; f < sizeof(fmodes) / sizeof(fmodes[0]);
		     f++) {
			for (size_t o = 0; o < 2; o++) {
				static const int modes[] = {R_OK, W_OK,
							    W_OK | X_OK};

				assert_int_equal(chmod(sub, dmodes[d]), 0);
				assert_int_equal(chmod(file, fmodes[f]), 0);
				assert_int_equal(chown(file, owners[o],
						       owners[1 - o]),
						 0);
				assert_int_equal(chown(sub, owners[1 - o],
						       owners[o]),
						 0);
				for (int m = 0; m < 3; m++) {
					const char *p = m == 2 ? sub : file;
					bool mine = privs_access(p, "nobody",
								 65534, 65534,
								 modes[m], err,
								 sizeof(err)) ==
						    0;

					if (mine != kernel_allows(p, modes[m]))
						fail_msg("%s mode %d: privs "
							 "%d, kernel %d (%s)",
							 p, modes[m], mine,
							 !mine, err);
					checked++;
				}
			}
		}
	}
	print_message("%u cases agree with access(2) as nobody\n", checked);
	unlink(file);
	rmdir(sub);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_to_user),
		cmocka_unit_test(test_drop_staying_root),
		cmocka_unit_test(test_unknown_user),
		cmocka_unit_test(test_access_oracle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
