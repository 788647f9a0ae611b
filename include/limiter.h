/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-source token buckets in one fixed-capacity table.
 *
 * A bucket is a GCRA cell: one "theoretical arrival time" (tat) per
 * (rule, source prefix).  `limit N/T` lets a fresh source send N at once
 * and N per T in the long run.  A bucket whose tat has passed is full and
 * carries no information, so its slot is free to reuse.
 *
 * The table is allocated and touched by limiter_new(); nothing is
 * allocated afterwards.  Slots are 32 bytes, two to a 64-byte bucket, and
 * every key has two candidate buckets chosen by a SipHash keyed at random,
 * so nobody can aim collisions at one bucket.  When all four candidate
 * slots hold live buckets the least informative one is evicted.
 *
 * Concurrency: one table is shared by all queue workers (the kernel spreads
 * packets by address, not by prefix, so a prefix's bucket must be the same
 * for every worker), and the daemon's main thread sweeps and walks it.
 * With `shared` set, a check takes the spinlocks of its two buckets
 * (striped, in index order); without it no lock is taken, for a table one
 * thread alone ever touches (the capture replay).
 * Time is always a parameter, in nanoseconds of a monotonic clock.
 */
#ifndef DNSRL_LIMITER_H
#define DNSRL_LIMITER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LIMITER_RULE_IDS 256 /* rule ids are 1..255; 0 marks a free slot */
#define LIMITER_HASH_KEY_LEN 16

/* The arithmetic of `limit N/T`. */
struct limiter_rate {
	uint64_t interval; /* T / N: the time one token takes to refill */
	uint64_t tau;	   /* (N - 1) * interval: the burst tolerance */
	uint64_t period;   /* T */
};

/* Fills *r for n tokens per period ns.  n >= 1 and period >= n. */
void limiter_rate_init(struct limiter_rate *r, uint32_t n, uint64_t period);

/*
 * A single bucket outside the table, safe to share between threads (a
 * compare-and-swap on tat).  Used for a rule's total across all sources and
 * for log line budgets.
 */
struct tbucket {
	_Atomic uint64_t tat;
	struct limiter_rate rate;
};

void tbucket_init(struct tbucket *tb, uint32_t n, uint64_t period);

/*
 * Takes cost ns of the bucket's time at time now (one token is
 * rate.interval).  Returns true when the bucket was not empty: as with a
 * source's bucket, the last take may overdraw it by what it costs.
 */
bool tbucket_take_n(struct tbucket *tb, uint64_t now, uint64_t cost);

/* Takes one token at time now.  Returns true when there was one. */
static inline bool tbucket_take(struct tbucket *tb, uint64_t now)
{
	return tbucket_take_n(tb, now, tb->rate.interval);
}

/* What a rule asks of the table. */
struct limiter_rule {
	uint8_t id;		  /* 1..255, stable across reloads */
	struct limiter_rate rate; /* per source prefix */
	uint64_t hold;		  /* first hold-down; 0 for none */
	uint64_t hold_max;	  /* cap of the doubling */
	struct tbucket *total;	  /* cap over all sources, or NULL */
};

enum limiter_verdict {
	LIMITER_PASS,  /* within the limit: a token was spent */
	LIMITER_OVER,  /* the source's bucket is empty */
	LIMITER_HELD,  /* the source is in hold-down */
	LIMITER_TOTAL, /* the rule's total is spent (the source's is not) */
	LIMITER_NVERDICTS
};

enum limiter_event_kind {
	LIMITER_EV_LIMITED, /* a source's first drop: it starts being limited */
	LIMITER_EV_HELD,    /* a hold-down starts */
	LIMITER_EV_RELEASED, /* no drop for a whole T (and no hold): it stops */
};

/* A per-source transition, for the (rate-limited) log. */
struct limiter_event {
	uint8_t kind;	/* enum limiter_event_kind */
	uint8_t rule;	/* rule id */
	uint8_t family; /* 4 or 6 */
	uint8_t level;	/* hold-down doublings so far */
	uint32_t drops; /* RELEASED: refused in the episode (queries, or
			   octets for a rule that weighs them) */
	uint64_t key;	/* the source prefix, see limiter_key() */
	uint64_t hold;	/* HELD: its duration, ns */
};

/* Table counters, one set per worker so no counter is shared. */
struct limiter_counters {
	uint64_t inserted; /* a new source took a free slot */
	uint64_t reused;   /* ... took a slot whose bucket had refilled */
	uint64_t evicted;  /* ... took a live bucket: state was lost */
	uint64_t evicted_limited; /* ... and that source was being limited */
};

struct limiter;

/*
 * Makes a table for at least capacity sources (4..2^31), shared between
 * threads or not, keyed by a random SipHash key from getrandom().  Returns
 * NULL with errno set on failure; the caller owns the table.
 */
struct limiter *limiter_new(size_t capacity, bool shared);

/* No-op on NULL. */
void limiter_free(struct limiter *l);

/* Number of slots, of buckets (what a sweep counts), bytes of slots. */
size_t limiter_capacity(const struct limiter *l);
size_t limiter_buckets(const struct limiter *l);
size_t limiter_bytes(const struct limiter *l);

/* Replaces the hash key (tests only: a fixed key is predictable). */
void limiter_set_hash_key(struct limiter *l,
			  const uint8_t key[LIMITER_HASH_KEY_LEN]);

/*
 * The table key of a source address: IPv4 (family 4, src[0..3]) masked to
 * prefixlen 0..32, or IPv6 (family 6, src[0..15]) masked to 0..64.
 */
uint64_t limiter_key(int family, const uint8_t *src, unsigned prefixlen);

/* Writes "198.51.100.0/24" or "2001:db8::/56" into buf. */
void limiter_key_text(int family, uint64_t key, unsigned prefixlen, char *buf,
		      size_t buflen);

/*
 * What one packet costs, for rules that do not count one token a packet
 * (answer rules count octets), and what a refusal counts: each cost is in
 * ns of the bucket's time, the per-source bucket's and the total's.
 */
struct limiter_cost {
	uint64_t source; /* ns */
	uint64_t total;	 /* ns; unused without a total */
	/* what a refusal adds to the episode's count (limiter_entry.drops,
	 * events): 1 a query, an answer's octets; 0 counts 1 */
	uint32_t weight;
	/* 1..64: every slip-th refusal of a source is its turn (counted in
	 * the source's slot, afresh each episode); 0: none */
	uint8_t slip;
	bool turn; /* out: this refusal (OVER or HELD) was the source's turn */
};

/*
 * Charges one packet of (rule, family, key) at time now: one interval of
 * its buckets' time, or what cost says (may be NULL).  The packet passes
 * while the source's bucket is not empty, so over any time T a source gets
 * at most the burst and the rate for T, plus one packet's worth.  Returns
 * the verdict; any transitions it caused are written to ev (up to two: a
 * release then a new episode) and counted in *nev.  Never blocks on
 * memory: when the table is full, a slot is reused or evicted and counted
 * in *c.
 */
enum limiter_verdict limiter_charge(struct limiter *l,
				    const struct limiter_rule *r, int family,
				    uint64_t key, uint64_t now,
				    struct limiter_cost *cost,
				    struct limiter_counters *c,
				    struct limiter_event ev[2], int *nev);

/* One query: limiter_charge at one token (a copy of its own, for speed). */
enum limiter_verdict limiter_check(struct limiter *l,
				   const struct limiter_rule *r, int family,
				   uint64_t key, uint64_t now,
				   struct limiter_counters *c,
				   struct limiter_event ev[2], int *nev);
/*
 * Puts (rule, family, key) in hold-down for left ns from now, at hold
 * level level (the doublings so far), in a limited episode (a restart
 * reading the kernel's holds back, or a hold a flood evicted from the
 * table).  Returns 0, or -EINVAL for rule id 0 or left 0.  Counts the
 * slot it took in *c.
 */
int limiter_restore(struct limiter *l, const struct limiter_rule *r, int family,
		    uint64_t key, unsigned level, uint64_t left, uint64_t now,
		    struct limiter_counters *c);

/*
 * The kernel refused refused more queries of a held (rule, family, key)
 * for it: they count in its episode, which goes on for a whole period
 * after now.  Returns whether the table holds it (false: the slot is
 * gone or not held).
 */
bool limiter_persist(struct limiter *l, const struct limiter_rule *r,
		     int family, uint64_t key, uint32_t refused, uint64_t now);

/*
 * One source's bucket and episode, as an operator is shown them
 * (limiter_lookup, limiter_scan).
 */
struct limiter_state {
	uint8_t rule;
	uint8_t family;
	uint8_t level;	/* hold-downs started in the episode */
	bool limited;	/* in a limited episode */
	bool held;	/* in hold-down now */
	uint32_t drops; /* refused in the episode */
	uint64_t key;
	uint64_t backlog;     /* ns of the bucket's time spent ahead of now:
				 0 is a full bucket; past rate.tau it refuses */
	uint64_t hold_left;   /* ns; 0 when not held */
	uint64_t limited_for; /* ns since the episode's first refusal */
	uint64_t quiet_left;  /* ns until the episode ends, if no refusal
				 comes meanwhile; 0 when not limited */
};

/*
 * The state of (rule, family, key) at time now, into *st.  Returns 0, or
 * -ENOENT when the table has no slot for it (a full bucket: never
 * limited, or not for a while).  Takes the locks of its two buckets.
 */
int limiter_lookup(struct limiter *l, const struct limiter_rule *r, int family,
		   uint64_t key, uint64_t now, struct limiter_state *st);

/*
 * An operator's release of (rule, family, key) at time now: its episode
 * ends (hold-down, level and drops with it) and its bucket is full again,
 * so its next query passes.  The slot keeps the key, not limited, so that
 * a hold on its way to the kernel can tell it was released (see
 * holds_set_filter); it is free for reuse as any full bucket.  What it
 * was goes to *was.  Returns 0; -ENOENT without a slot; -EALREADY when it
 * is not limited (nothing changes; *was says how full its bucket is).
 */
int limiter_release(struct limiter *l, const struct limiter_rule *r, int family,
		    uint64_t key, uint64_t now, struct limiter_state *was);

/*
 * Visits the whole table for the slots of rule r and family whose key,
 * masked with mask, is key (a prefix shorter than the rule's: the sources
 * it aggregates that fall in it): calls fn with the state of each live one
 * (a bucket not full, or an episode), or, with release set, releases
 * every one in an episode as limiter_release does and calls fn with what
 * it was.  fn runs with no lock held.  Returns how many fn was called
 * for.  For the control socket, not the packet path: a lock a bucket.
 */
size_t limiter_scan(struct limiter *l, const struct limiter_rule *r, int family,
		    uint64_t key, uint64_t mask, uint64_t now, bool release,
		    void (*fn)(void *arg, const struct limiter_state *st),
		    void *arg);

/* State that an incremental sweep keeps between calls. */
struct limiter_sweep {
	size_t next;			      /* next bucket to visit */
	uint32_t live[LIMITER_RULE_IDS];      /* this pass so far */
	uint32_t last_live[LIMITER_RULE_IDS]; /* the last whole pass */
	size_t last_used;		      /* live slots, last pass */
};

/*
 * Visits up to count buckets from where the last call stopped: ends the
 * episodes of sources with no drop for a whole T (calling fn with a
 * RELEASED event for each) and counts live buckets per rule.  Returns true
 * when this call completed a pass over the table.
 */
bool limiter_sweep(struct limiter *l, struct limiter_sweep *s, size_t count,
		   uint64_t now,
		   void (*fn)(void *arg, const struct limiter_event *ev),
		   void *arg);

/*
 * Clears every slot whose rule id is not set in keep[]: after a reload,
 * buckets of removed or changed rules go.  Takes the locks; workers may
 * run meanwhile.
 */
void limiter_forget(struct limiter *l, const bool keep[LIMITER_RULE_IDS]);

/* A source being limited now, as limiter_walk reports it. */
struct limiter_entry {
	uint8_t rule;
	uint8_t family;
	uint8_t level;
	bool held;
	uint32_t drops; /* in the current episode */
	uint64_t key;
};

/*
 * Calls fn for every source in a limited episode at time now; rules[id]
 * (NULL where unused) says when a hold-down ends.  Takes the locks bucket
 * by bucket; for the control socket and reports, not the packet path.
 */
void limiter_walk(struct limiter *l,
		  const struct limiter_rule *const rules[LIMITER_RULE_IDS],
		  uint64_t now,
		  void (*fn)(void *arg, const struct limiter_entry *e),
		  void *arg);

/*
 * The same over the buckets from *next on, at most count of them; *next
 * moves past them.  Returns true when the walk has reached the end.
 */
bool limiter_walk_part(struct limiter *l,
		       const struct limiter_rule *const rules[LIMITER_RULE_IDS],
		       uint64_t now, size_t *next, size_t count,
		       void (*fn)(void *arg, const struct limiter_entry *e),
		       void *arg);

#endif
