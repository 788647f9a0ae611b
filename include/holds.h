/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel holds: a source held down by a query rule has its queries of that
 * rule's types dropped in the kernel, before the queue, for the rest of
 * its hold-down; its other queries are never touched.
 *
 * Each rule that can hold in the kernel has one ipset hash:net set per
 * family (kset.h), named from the rule (holds_set_name), and one iptables
 * rule at the top of the judging chain (rules.h):
 *
 *	-m bpf --bytecode POSITIVE -m set --match-set dnsrl-NAME-4 src
 *	    -m nfacct --nfacct-name dnsrl-NAME-4 -j DROP
 *
 * where POSITIVE is the rule's positive program (prefilter.h): it matches
 * only a standard query of the rule's types that it reads whole, so the
 * kernel drops exactly what the daemon would refuse under that rule, and
 * what it cannot read goes on to the queue and is held there as before.
 * The set match comes after the program, so an entry's counters count
 * those queries alone: the daemon reads them back every second into the
 * source's episode, so the escalation of repeat offenders and their
 * release stay right.  The accounting object of the same name (nfacct.h)
 * counts every drop of the rule, those of entries that timed out between
 * two reads included: its count goes to the rule's counters.
 *
 * A rule holds in the kernel when it is a query rule with `kernel-hold
 * yes` (the default), a hold-down, action drop, qtypes and no qname (a
 * name is not matched in the kernel), a positive program that fits, and
 * no earlier drop or truncate rule names one of its types (that rule
 * would decide such a query first).  The others hold in the daemon.
 *
 * The entry of a hold carries its remaining time as the kernel timeout
 * and its level in the comment ("dnsrl level N"), so a restart reads
 * every hold back (holds_restore) and releases nobody early or late.
 * What stays in the kernel while the daemon is gone: the sets and the
 * drop rules for the rest of each hold; everything else passes
 * (--queue-bypass).  A full set (kernel-hold-max entries) is counted and
 * the hold stays in the daemon alone.
 *
 * All of it runs in the main thread, off the packet path.  Memory: the
 * pending adds and the table of counters last read, sized at
 * holds_configure, nothing per packet.
 */
#ifndef DNSRL_HOLDS_H
#define DNSRL_HOLDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "kset.h"
#include "limiter.h"
#include "policy.h"
#include "stats.h"

#define HOLDS_SET_PREFIX "dnsrl-"
#define HOLDS_PENDING 4096 /* hold starts waiting for the next flush */
#define HOLDS_WHY_MAX 256

/*
 * Whether rule i of cfg holds in the kernel; when not, why (may be NULL
 * with whylen 0).
 */
bool holds_rule_can(const struct config *cfg, size_t i, char *why,
		    size_t whylen);

/*
 * The set name of the rule named rule for family (AF_INET or AF_INET6):
 * "dnsrl-NAME-4" or "-6"; a name too long for the kernel's 31 characters
 * is cut and given a hash of the whole ("dnsrl-NAMEPART~1a2b-4"), so two
 * rules never share a set.
 */
void holds_set_name(const char *rule, int family, char buf[KSET_NAME_MAX + 1]);

/*
 * Makes the sets of cfg's kernel-hold rules, both families (idempotent:
 * sets that exist as they should are kept, entries and all).  Returns 0,
 * or -errno with a message in err: a set of that name with other
 * properties (another kernel-hold-max) is -EEXIST.
 */
int holds_make_sets(struct kset *k, const struct config *cfg, char *err,
		    size_t errlen);

/*
 * Destroys every set whose name starts with HOLDS_SET_PREFIX but those
 * that keep[] names (a NULL-terminated list; may be NULL).  Sets still
 * referenced by a rule stay (-EBUSY is not an error here).  Returns 0 or
 * -errno with a message.
 */
int holds_remove_sets(struct kset *k, const char *const *keep, char *err,
		      size_t errlen);

/* The daemon's bookkeeping. */
struct holds;

/* Counters of the bookkeeping, for the stats line. */
struct holds_stats {
	uint64_t added;	      /* holds put into the kernel */
	uint64_t full;	      /* ... refused: the set was full */
	uint64_t failed;      /* ... refused otherwise */
	uint64_t lost;	      /* hold starts over HOLDS_PENDING, not queued */
	uint64_t restored;    /* holds read back at start */
	uint64_t dropped;     /* queries the kernel dropped for a hold */
	uint64_t released;    /* holds removed before their time */
	uint64_t poll_errors; /* sets that could not be read */
};

/*
 * Takes k (owned from then on, closed by holds_free).  Returns NULL with
 * errno on no memory.
 */
struct holds *holds_new(struct kset *k);

/* No-op on NULL. */
void holds_free(struct holds *h);

/*
 * Takes up policy p of cfg (at start, and after each reload): which rule
 * ids hold in the kernel and in which sets.  Pending holds of rules that
 * no longer do are forgotten.  Returns 0, or -ENOMEM (the table of
 * counters could not grow; the old one stays).
 */
int holds_configure(struct holds *h, const struct config *cfg,
		    const struct policy *p);

/*
 * A hold began (a LIMITER_EV_HELD event): queued for the next flush when
 * its rule holds in the kernel.
 */
void holds_held(struct holds *h, const struct limiter_event *ev);

/*
 * Puts the queued holds into their sets (one batch a set), but those the
 * filter keeps out (holds_set_filter), at time now.  Called every tick,
 * so a hold reaches the kernel within a tick and the batch.
 */
void holds_flush(struct holds *h, uint64_t now);

/*
 * fn is asked, as each queued hold is about to go into the kernel,
 * whether to keep it out (true): the daemon's operator released the
 * source, or let it through, after the hold began.  Such a hold stays in
 * the daemon alone, if there.  fn (NULL: none) runs in holds_flush.
 */
void holds_set_filter(struct holds *h,
		      bool (*keep_out)(void *arg, unsigned rule, int family,
				       uint64_t key),
		      void *arg);

/*
 * Reads every set's counters back: what the kernel dropped since the last
 * read goes to the source's episode in l (limiter_persist) and to the
 * rule's dropped and held-down counters in *s; a hold the table lost (a
 * flood evicted it) is put back from the kernel's entry.  Called once a
 * second.
 */
void holds_poll(struct holds *h, struct limiter *l, struct stats *s,
		uint64_t now);

/*
 * At start: every entry of the sets of p's kernel-hold rules becomes a
 * hold in l again, for the time the kernel has left and at the level the
 * comment says.  Returns the number restored, or -errno.
 */
int holds_restore(struct holds *h, struct limiter *l, uint64_t now);

/*
 * Removes the kernel entry of (rule id, family 4 or 6, key) at once, and
 * a hold of it still queued (an operator's release).  Returns 0, -ENOENT
 * when there is none (or the rule does not hold in the kernel), or
 * -errno.
 */
int holds_release(struct holds *h, unsigned rule, int family, uint64_t key);

/*
 * The same for every entry of the rule's set whose key, masked with mask,
 * is key (a prefix wider than the rule's): the set is listed and what
 * falls in it deleted, HOLDS_PENDING at a time.  fn (may be NULL) is
 * called with each key removed.  Returns how many were, -ENOENT when the
 * rule does not hold in the kernel, or -errno (those deleted before it
 * stay deleted).
 */
int holds_release_range(struct holds *h, unsigned rule, int family,
			uint64_t key, uint64_t mask,
			void (*fn)(void *arg, uint64_t key), void *arg);

/*
 * An operator's hold of (rule id, family, key) for hold ns from now, at
 * level: put into the kernel at once (its counters from 0), replacing an
 * entry there.  Returns 0; -ENOENT when the rule does not hold in the
 * kernel; -ENOSPC when its set is full; or -errno.
 */
int holds_put(struct holds *h, unsigned rule, int family, uint64_t key,
	      unsigned level, uint64_t hold, uint64_t now);

/* A kernel entry as the daemon last saw it. */
struct holds_entry {
	uint64_t left;	  /* ns to live, to the second; 0: never ends */
	uint64_t packets; /* queries it dropped, as of the last read */
	unsigned level;	  /* as its comment says */
};

/*
 * What the last read of the sets (once a second), or the daemon's own
 * add or delete since, saw of (rule id, family, key) at time now.
 * Returns 0, or -ENOENT when it was not in the kernel (or the rule does
 * not hold there).
 */
int holds_lookup(const struct holds *h, unsigned rule, int family, uint64_t key,
		 uint64_t now, struct holds_entry *out);

/*
 * The set of rule id for family 4 or 6 when the rule holds in the kernel,
 * else NULL (h may be NULL).  Valid until the next holds_configure.
 */
const char *holds_set_of(const struct holds *h, unsigned rule, int family);

/* The counters so far. */
void holds_get_stats(const struct holds *h, struct holds_stats *out);

#endif
