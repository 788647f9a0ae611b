/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the tests against the kernel's netfilter objects share: a network
 * namespace of the process's own, so that they never touch the host's
 * sets, counters or rules, and the commands run in it as oracles.
 * Header-only: each test includes it once.
 */
#ifndef DNSRL_TESTS_NETNS_HELPERS_H
#define DNSRL_TESTS_NETNS_HELPERS_H

#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs cmd with sh: its exit status, or -1 when it did not exit. */
static inline int netns_sh(const char *cmd)
{
	int st = system(cmd);

	return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

/*
 * Moves the process into a network namespace of its own, with lo up and
 * then each command of setup[] (NULL-terminated, may be NULL) run in it;
 * with ipset true, checks that the ipset command (the oracle) is there.
 * Returns 1 when that was done, 0 without root (the tests skip
 * themselves), -1 on a failure (said on stderr).
 */
static inline int netns_enter(const char *const *setup, bool ipset)
{
	if (geteuid() != 0)
		return 0;
	if (unshare(CLONE_NEWNET) != 0) {
		perror("unshare(CLONE_NEWNET)");
		return -1;
	}
	if (netns_sh("ip link set lo up") != 0) {
		fprintf(stderr, "cannot set lo up in the namespace\n");
		return -1;
	}
	for (size_t i = 0; setup != NULL && setup[i] != NULL; i++)
		if (netns_sh(setup[i]) != 0) {
			fprintf(stderr, "in the namespace: '%s' failed\n",
				setup[i]);
			return -1;
		}
	if (ipset && netns_sh("ipset version >/dev/null") != 0) {
		fprintf(stderr, "the ipset command (the oracle) is missing: "
				"scripts/install-deps.sh\n");
		return -1;
	}
	return 1;
}

#endif
