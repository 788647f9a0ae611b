/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reload: a new configuration replaces the running one while the workers
 * go on deciding packets.
 *
 * The policy is handed over by pointer.  The main thread stores the new
 * one and bumps a generation; every reader (each queue worker, at the top
 * of its loop turn) takes the pointer and then publishes the generation it
 * holds.  The old policy waits in a list until every reader holds a later
 * one, however many reloads come meanwhile, and is freed then; a reader
 * that stalls delays the free, never causes a leak or a use after free.
 *
 * Buckets belong to rule ids.  The buckets of a rule that is gone are
 * forgotten once no reader can still fill them (the list is empty), and
 * until then its id is given to no new rule, so that a new rule never
 * inherits another's buckets or hold-downs.
 */
#ifndef DNSRL_RELOAD_H
#define DNSRL_RELOAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "limiter.h"
#include "policy.h"

#define RELOAD_READERS_MAX 64
#define RELOAD_WAIT_MS 2000 /* longest a reload waits for the readers */

/* Where the running policy is published; the readers load it. */
struct reload_slot {
	_Atomic(struct policy *) policy;
	_Atomic uint64_t generation; /* of the policy stored last */
};

struct reload;

/*
 * Starts the hand-over of policies over slot, whose buckets live in l:
 * p (the caller's, now reload's) becomes generation 1.  Returns a handle
 * the caller owns (reload_free), or NULL with errno set.
 */
struct reload *reload_new(struct reload_slot *slot, struct limiter *l,
			  struct policy *p);

/*
 * Adds a reader; *seen is where it publishes the generation it holds
 * (before it loads the policy; UINT64_MAX when it holds none).  A swap
 * waits for the awaited readers (the queue workers) to take the new
 * policy; the others (the control thread) only keep what they hold from
 * being freed.  At most RELOAD_READERS_MAX.  Returns 0 or -ENOSPC.
 */
int reload_add_reader(struct reload *r, _Atomic uint64_t *seen, bool awaited);

/* The policy stored last (the main thread's view). */
const struct policy *reload_current(const struct reload *r);

/*
 * Makes a new policy from cfg: unchanged rules keep their ids, and so
 * their buckets; new rules get ids that no policy still alive uses and
 * that have no buckets left.  Returns a policy the caller owns, or NULL
 * with errno set.
 */
struct policy *reload_policy(const struct reload *r, const struct config *cfg);

/*
 * Hands p over (taking ownership) and waits up to wait_ms for every
 * reader to hold it.  Returns 0 when every reader does; -ETIMEDOUT when
 * one did not in time (p is in place all the same, and the reader takes
 * it when it runs again).  The old policy is retired either way.
 */
int reload_swap(struct reload *r, struct policy *p, unsigned wait_ms);

/*
 * Frees the retired policies no reader holds any more and, once none is
 * left, forgets the buckets of rules the current policy does not have.
 * Never waits; the main thread calls it every tick.
 */
void reload_collect(struct reload *r);

/* Retired policies still waiting for a reader. */
size_t reload_pending(const struct reload *r);

/*
 * Frees every policy, the current one included.  The readers must be
 * gone.  No-op on NULL.
 */
void reload_free(struct reload *r);

/*
 * Rereads the file *cfg came from and puts it in place: the settings that
 * need a restart keep their running values (said in the log); with
 * `manage-rules yes` the kernel's rules are first widened to let through
 * both policies' candidates, then the policy is handed over (waiting up to
 * RELOAD_WAIT_MS for every reader), then the rules are narrowed to the new
 * policy's.  Returns 0 when the new configuration runs (*cfg replaced, the
 * old one freed); -ETIMEDOUT when it runs but a reader has not taken the
 * policy yet (also replaced; err says so); another -errno when the
 * running configuration stays (err says why: the file's file:line, or the
 * rules that could not be installed).
 */
int reload_config(struct reload *r, struct config **cfg, char *err,
		  size_t errlen);

/*
 * Reads and checks a configuration the way the daemon will use it: the
 * file must belong to root or to the user the daemon runs as (the one it
 * configures at start; the current one when running, since `user` needs
 * a restart).  Returns a new config the caller owns, or NULL with a
 * "file:line: message" in err.
 */
struct config *reload_load_config(const char *path, bool running, char *err,
				  size_t errlen);

/*
 * Carries over the settings a reload cannot change (queues, answer
 * queues, table, fail-open, whether the answer path runs) from old into
 * cfg, and says when the file changed them.  A reload that brings answer
 * rules to a daemon started without any fails: its answer queues are not
 * bound.
 */
void reload_keep_restart_settings(const struct config *old, struct config *cfg);

#endif
