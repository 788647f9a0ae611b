/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The policy: allow-lists, then ordered rules, compiled from a config.
 *
 * policy_decide() is the whole decision for one packet (IP/UDP walk, DNS
 * question walk, allow-lists, rule walk, buckets); the daemon and the
 * capture replay both call it.  A policy is read-only once made, so any
 * number of workers may use one at a time.
 */
#ifndef DNSRL_POLICY_H
#define DNSRL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dns.h"
#include "limiter.h"
#include "stats.h"

enum policy_verdict {
	POLICY_ACCEPT,
	POLICY_DROP,
	POLICY_REPLACE, /* answers: send the packet written to policy_out */
};

#define POLICY_TRUNCATE_UDP 512 /* a truncated query's EDNS UDP size */
#define POLICY_OUT_MAX 1280	/* room policy_decide lends itself */

/* Where a packet's replacement is written. */
struct policy_out {
	uint8_t *buf;
	size_t room;
	size_t len; /* set with POLICY_REPLACE */
};

struct allowlist;

/* What a worker lends to policy_decide. */
struct policy_ctx {
	struct limiter *limiter;
	struct stats *stats;
	/*
	 * Called for each per-source transition, with the query that caused
	 * it (its name is folded on demand, see dns_question_name()).  May
	 * be NULL.
	 */
	void (*event)(void *arg, const struct limiter_event *ev,
		      struct dns_question *q);
	void *event_arg;
	/* the operator's temporary allow-list (allowlist.h), checked with
	 * the configuration's; NULL: none */
	const struct allowlist *allow;
};

struct policy;

/*
 * Compiles cfg.  Rules that prev (the running policy, or NULL) also has,
 * with the same name, limit, prefixes and hold-down, keep their rule ids
 * and so their buckets; other rules get ids prev does not use and busy
 * (NULL, or LIMITER_RULE_IDS flags: ids whose buckets may linger) does
 * not name.  Returns a new policy the caller owns, or NULL with errno set
 * (ENOSPC: no id left).  cfg is copied from; the caller keeps it.
 */
struct policy *policy_new(const struct config *cfg, const struct policy *prev,
			  const bool *busy);

/* No-op on NULL. */
void policy_free(struct policy *p);

/*
 * Decides the verdict of the query, the IP packet pkt[0..len), at time
 * now.  POLICY_REPLACE when a truncate rule refused it: out holds the same
 * query asking for at most POLICY_TRUNCATE_UDP octets of answer (see
 * truncate_query), out->len long (out NULL: the verdict alone).  Never
 * fails: whatever cannot be parsed gets the configured setting and a
 * counter.
 */
enum policy_verdict policy_decide_query(const struct policy *p,
					struct policy_ctx *ctx,
					const uint8_t *pkt, size_t len,
					uint64_t now, struct policy_out *out);

/* The same with out NULL: the verdict alone. */
enum policy_verdict policy_decide(const struct policy *p,
				  struct policy_ctx *ctx, const uint8_t *pkt,
				  size_t len, uint64_t now);

/*
 * Decides the verdict of an answer leaving the resolver, the IP datagram
 * pkt[0..len) at time now: the answer rules, by destination and octets.
 * POLICY_REPLACE when an over-limit answer of a truncate rule was
 * rewritten into out->buf (out->len octets, at most out->room; see
 * truncate.h); an answer that cannot be rewritten is dropped.  UDP from
 * port 53 that is no answer (QR=0) is accepted; what cannot be walked to
 * its UDP payload gets the malformed (fragments) setting; an answer whose
 * question cannot be read is judged by the rules that name no qtype or
 * qname.  Never fails.
 */
enum policy_verdict policy_decide_answer(const struct policy *p,
					 struct policy_ctx *ctx,
					 const uint8_t *pkt, size_t len,
					 uint64_t now, struct policy_out *out);

/* The number of answer rules. */
size_t policy_nanswer_rules(const struct policy *p);

/* Sets keep[id] for every rule id p uses, clears the others. */
void policy_rule_ids(const struct policy *p, bool keep[LIMITER_RULE_IDS]);

/* The limiter view of every rule, indexed by rule id (NULL: unused). */
void policy_limiter_rules(const struct policy *p,
			  const struct limiter_rule *rules[LIMITER_RULE_IDS]);

/* The config rule behind a rule id, or NULL. */
const struct config_rule *policy_rule_by_id(const struct policy *p,
					    unsigned id);

/* The number of rules, and the id of the i-th. */
size_t policy_nrules(const struct policy *p);
unsigned policy_rule_id(const struct policy *p, size_t i);

#endif
