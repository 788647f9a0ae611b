/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running iptables-restore and iptables-save (and the ip6tables ones) for
 * the daemon: to install its rules when it owns them, and to read the
 * live ruleset back to check it.
 *
 * After start-up the daemon runs as its own user with CAP_NET_ADMIN alone,
 * no_new_privs set and no ambient capability, so a program it runs would
 * start with no capability at all.  The child made here raises
 * CAP_NET_ADMIN into its inheritable and ambient sets between fork and
 * exec, so iptables, and only it, gets the one capability the daemon
 * holds; it runs with an empty environment but PATH, no descriptor but
 * its three pipes, and a deadline.  The daemon's own inheritable and
 * ambient sets stay empty.
 *
 * Off the packet path: the main thread runs these at start, on reload and
 * for --remove-rules.
 */
#ifndef DNSRL_XTABLES_H
#define DNSRL_XTABLES_H

#include <stddef.h>

#define XTABLES_SBIN "/usr/sbin"
#define XTABLES_TIMEOUT_MS 10000
#define XTABLES_OUTPUT_MAX (16u << 20) /* a ruleset read back, at most */

enum xtables_tool {
	XTABLES_RESTORE, /* iptables-restore --noflush, input on stdin */
	XTABLES_SAVE,	 /* iptables-save -t TABLE, the ruleset on stdout */
};

/*
 * Runs the tool for family (AF_INET: iptables-*, AF_INET6: ip6tables-*)
 * on table: RESTORE feeds it input[0..inlen); SAVE returns its output in
 * *out (NUL-terminated, the caller frees it; out may be NULL for RESTORE).
 * Returns 0 when the tool exited 0; otherwise -errno (-ETIMEDOUT after
 * XTABLES_TIMEOUT_MS, -ENOENT when the tool is not installed, -EIO when it
 * failed) with a message in err[0..errlen) that quotes the tool's own
 * error output.
 */
int xtables_run(int family, enum xtables_tool tool, const char *table,
		const char *input, size_t inlen, char **out, char *err,
		size_t errlen);

#endif
