/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Runtime control: what `dnsrlctl show`, `release`, `hold` and `allow` do.
 *
 *	show ADDR|PREFIX		per rule: the prefix (bucket) the
 *					address falls in, its bucket, episode,
 *					hold and kernel entry; a prefix wider
 *					than a rule's lists the sources of it
 *					the table knows
 *	release ADDR|PREFIX [RULE]	ends their episodes and holds (and
 *					kernel entries): served at once
 *	hold ADDR|PREFIX RULE DURATION	a hold-down now, in the kernel too
 *					where the rule holds there
 *	allow PREFIX DURATION		the temporary allow-list (allowlist.h);
 *					what the prefix has held is released;
 *					DURATION 0 takes the entry away
 *	allow				the temporary allow-list's entries
 *
 * Durations are the configuration's ("90s", "10m", "1h"), 1s..7d.  Every
 * change is logged at notice level with the asking peer's uid and pid;
 * every mistake is answered with a message that says what was expected.
 *
 * All of it runs on the daemon's main thread, which owns the kernel
 * holds: the control thread hands the request over and waits for the
 * answer (main.c).  The bucket table is shared with the workers and
 * changed under its locks (limiter_release, limiter_restore).  Time is a
 * parameter: tests step it.
 */
#ifndef DNSRL_STEER_H
#define DNSRL_STEER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "allowlist.h"
#include "clock.h"
#include "config.h"
#include "holds.h"
#include "limiter.h"
#include "policy.h"

#define STEER_DURATION_MIN CLOCK_NS_PER_S
#define STEER_DURATION_MAX (7 * 24 * 3600 * CLOCK_NS_PER_S)
#define STEER_LIST_MAX 100 /* sources listed a rule, for a wide prefix */
#define STEER_LOG_MAX 32   /* log lines a rule, for a wide release */

/* What a command works on; borrowed for the call. */
struct steer_ctx {
	struct limiter *limiter;
	const struct policy *policy;
	const struct config *cfg; /* the running one: allow, serve */
	struct holds *holds;	  /* NULL: no rule holds in the kernel */
	struct allowlist *allow;
	const char *allow_file; /* where the allow-list is kept; NULL: not */
	uint64_t now;		/* monotonic ns */
	int64_t real_ms;	/* the wall clock at now, for the file */
};

/* Who asked, as the kernel told the control socket. */
struct steer_who {
	uid_t uid;
	pid_t pid;
};

/*
 * Runs one request line ("show 198.51.100.7", "allow 2001:db8::/48 1h")
 * and writes its answer, for people, to out.  Returns 0, or -EINVAL with
 * the first line of what it wrote to out saying what was wrong (the
 * request is then not carried out), or -ENOSPC (allow: the list is full).
 */
int steer_run(const struct steer_ctx *c, const char *line,
	      const struct steer_who *who, FILE *out);

/*
 * Whether a hold of (rule id, family 4 or 6, key) on its way to the
 * kernel should stay out of it (holds_set_filter): the table has the
 * source and it is not held (an operator released it since), or it
 * shares an address with an entry of the temporary allow-list (the
 * kernel would drop what the daemon lets through).
 */
bool steer_keep_out(const struct steer_ctx *c, unsigned rule, int family,
		    uint64_t key);

/*
 * Takes the temporary allow-list's entries that ended by c->now away,
 * logs each, and writes the file again when one went.  Called every
 * tick.
 */
void steer_expire(const struct steer_ctx *c);

#endif
