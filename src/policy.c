/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "allowlist.h"
#include "dns.h"
#include "packet.h"
#include "truncate.h"
#include "wire.h"

/* An allow-list entry as an inclusive range of addresses. */
struct range4 {
	uint32_t lo, hi;
};

/* IPv6 addresses as two big-endian halves, compared hi first. */
struct addr6 {
	uint64_t hi, lo;
};

struct range6 {
	struct addr6 lo, hi;
};

/*
 * An answer's cost in ns of its bucket's time: an octet costs byte_ns, an
 * answer at least answer_ns.  With both a byte budget and an answer count
 * the costlier binds: every answer is charged against both at once.
 */
struct answer_cost {
	uint64_t byte_ns;   /* 0: no byte budget */
	uint64_t answer_ns; /* 0: no answer count */
};

struct prule {
	struct limiter_rule lim;
	const struct config_rule *cfg; /* in policy->cfgrules */
	struct tbucket total;
	struct answer_cost cost, total_cost; /* answer rules */
};

struct policy {
	struct config_rule *cfgrules;
	struct prule *rules; /* every rule, in the file's order */
	size_t nrules;
	/* the rules of each path, in order: indexes into rules */
	const struct prule **query, **answer;
	size_t nquery, nanswer;
	struct range4 *allow4;
	size_t nallow4;
	struct range6 *allow6;
	size_t nallow6;
	enum config_verdict malformed;
	enum config_verdict fragments;
	/* every qtype some rule names; all set when a rule names none */
	uint64_t candidate[65536 / 64];
	const struct prule *by_id[LIMITER_RULE_IDS];
};

static uint32_t load32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t load64(const uint8_t *p)
{
	return (uint64_t)load32(p) << 32 | load32(p + 4);
}

static int addr6_cmp(const struct addr6 *a, const struct addr6 *b)
{
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return 0;
}

static uint64_t mask64(unsigned bits)
{
	return bits == 0 ? 0 : bits >= 64 ? UINT64_MAX : ~(UINT64_MAX >> bits);
}

static int range4_cmp(const void *a, const void *b)
{
	const struct range4 *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int range6_cmp(const void *a, const void *b)
{
	const struct range6 *x = a, *y = b;

	return addr6_cmp(&x->lo, &y->lo);
}

/* Sorts and merges overlapping or adjacent ranges in place. */
static size_t merge4(struct range4 *r, size_t n)
{
	size_t out = 0;

	if (n == 0)
		return 0;
	qsort(r, n, sizeof(*r), range4_cmp);
	for (size_t i = 1; i < n; i++) {
		if (r[out].hi == UINT32_MAX || r[i].lo <= r[out].hi + 1) {
			if (r[i].hi > r[out].hi)
				r[out].hi = r[i].hi;
		} else {
			r[++out] = r[i];
		}
	}
	return out + 1;
}

static bool addr6_adjacent_or_in(const struct addr6 *end,
				 const struct addr6 *next)
{
	struct addr6 succ = *end;

	if (addr6_cmp(next, end) <= 0)
		return true;
	if (++succ.lo == 0 && ++succ.hi == 0)
		return true; /* end was the last address */
	return addr6_cmp(next, &succ) <= 0;
}

static size_t merge6(struct range6 *r, size_t n)
{
	size_t out = 0;

	if (n == 0)
		return 0;
	qsort(r, n, sizeof(*r), range6_cmp);
	for (size_t i = 1; i < n; i++) {
		if (addr6_adjacent_or_in(&r[out].hi, &r[i].lo)) {
			if (addr6_cmp(&r[i].hi, &r[out].hi) > 0)
				r[out].hi = r[i].hi;
		} else {
			r[++out] = r[i];
		}
	}
	return out + 1;
}

static int build_allow(struct policy *p, const struct config *cfg)
{
	size_t n4 = 0, n6 = 0;

	for (size_t i = 0; i < cfg->nallow; i++) {
		if (cfg->allow[i].family == AF_INET)
			n4++;
		else
			n6++;
	}
	p->allow4 = calloc(n4 ? n4 : 1, sizeof(*p->allow4));
	p->allow6 = calloc(n6 ? n6 : 1, sizeof(*p->allow6));
	if (p->allow4 == NULL || p->allow6 == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->nallow; i++) {
		const struct config_prefix *a = &cfg->allow[i];

		if (a->family == AF_INET) {
			uint32_t m = a->len == 0 ? 0 : ~0u << (32 - a->len);
			struct range4 *r = &p->allow4[p->nallow4++];

			r->lo = load32(a->addr) & m;
			r->hi = r->lo | ~m;
		} else {
			unsigned hib = a->len > 64 ? 64 : a->len;
			unsigned lob = a->len > 64 ? a->len - 64 : 0;
			struct range6 *r = &p->allow6[p->nallow6++];

			r->lo.hi = load64(a->addr) & mask64(hib);
			r->lo.lo = load64(a->addr + 8) & mask64(lob);
			r->hi.hi = r->lo.hi | ~mask64(hib);
			r->hi.lo = r->lo.lo | ~mask64(lob);
		}
	}
	p->nallow4 = merge4(p->allow4, p->nallow4);
	p->nallow6 = merge6(p->allow6, p->nallow6);
	return 0;
}

static bool allowed4(const struct policy *p, uint32_t a)
{
	size_t lo = 0, hi = p->nallow4;

	/* the last range starting at or before a */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->allow4[mid].lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && a <= p->allow4[lo - 1].hi;
}

static bool allowed6(const struct policy *p, const struct addr6 *a)
{
	size_t lo = 0, hi = p->nallow6;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr6_cmp(&p->allow6[mid].lo, a) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && addr6_cmp(a, &p->allow6[lo - 1].hi) <= 0;
}

/* Whether addr (of the packet's family) is on the allow-list. */
static bool addr_allowed(const struct policy *p, int family,
			 const uint8_t *addr)
{
	if (family == AF_INET)
		return p->nallow4 > 0 && allowed4(p, load32(addr));
	if (p->nallow6 == 0)
		return false;
	struct addr6 a = {load64(addr), load64(addr + 8)};
	return allowed6(p, &a);
}

static bool same_buckets(const struct config_rule *a,
			 const struct config_rule *b)
{
	return strcmp(a->name, b->name) == 0 && a->kind == b->kind &&
	       a->limit_n == b->limit_n && a->limit_period == b->limit_period &&
	       a->bytes_n == b->bytes_n && a->bytes_period == b->bytes_period &&
	       a->ipv4_prefix == b->ipv4_prefix &&
	       a->ipv6_prefix == b->ipv6_prefix &&
	       a->hold_down == b->hold_down &&
	       a->hold_down_max == b->hold_down_max;
}

/*
 * Keeps the id (and total) of an unchanged rule; else an id that prev
 * does not use and busy does not name.
 */
static int assign_id(struct policy *p, size_t i, const struct policy *prev,
		     const bool *busy, bool used[LIMITER_RULE_IDS])
{
	struct prule *r = &p->rules[i];

	if (prev != NULL) {
		for (size_t j = 0; j < prev->nrules; j++) {
			const struct prule *o = &prev->rules[j];

			if (!used[o->lim.id] && same_buckets(o->cfg, r->cfg)) {
				r->lim.id = o->lim.id;
				used[r->lim.id] = true;
				if (o->cfg->total_n == r->cfg->total_n &&
				    o->cfg->total_period ==
					    r->cfg->total_period &&
				    o->cfg->total_bytes_n ==
					    r->cfg->total_bytes_n &&
				    o->cfg->total_bytes_period ==
					    r->cfg->total_bytes_period)
					atomic_store(
						&r->total.tat,
						atomic_load(&o->total.tat));
				return 0;
			}
		}
	}
	for (unsigned id = 1; id < LIMITER_RULE_IDS; id++) {
		if (used[id] || (prev != NULL && prev->by_id[id] != NULL) ||
		    (busy != NULL && busy[id]))
			continue;
		r->lim.id = (uint8_t)id;
		used[id] = true;
		return 0;
	}
	return -ENOSPC;
}

/*
 * The bucket arithmetic of an answer rule (or its total): bytes B per Tb
 * and answers N per Ta, either may be absent.  The burst is the smaller
 * of the two bursts in time, the period the longer (an episode ends after
 * a whole period without refusals).
 */
static void answer_rate(uint32_t bytes, uint64_t bytes_period, uint32_t answers,
			uint64_t answers_period, struct limiter_rate *r,
			struct answer_cost *c)
{
	struct limiter_rate b = {0}, a = {0};

	c->byte_ns = 0;
	c->answer_ns = 0;
	if (bytes > 0) {
		limiter_rate_init(&b, bytes, bytes_period);
		c->byte_ns = b.interval;
		*r = b;
	}
	if (answers > 0) {
		limiter_rate_init(&a, answers, answers_period);
		c->answer_ns = a.interval;
		*r = a;
	}
	if (bytes > 0 && answers > 0) {
		r->interval = b.interval;
		r->tau = b.tau < a.tau ? b.tau : a.tau;
		r->period = b.period > a.period ? b.period : a.period;
	}
}

static uint64_t answer_ns(const struct answer_cost *c, size_t len)
{
	uint64_t ns = c->byte_ns * len;

	return ns > c->answer_ns ? ns : c->answer_ns;
}

static void build_limits(struct prule *r)
{
	const struct config_rule *c = r->cfg;

	if (c->kind == CONFIG_RULE_QUERY) {
		limiter_rate_init(&r->lim.rate, c->limit_n, c->limit_period);
		if (c->total_n > 0) {
			tbucket_init(&r->total, c->total_n, c->total_period);
			r->lim.total = &r->total;
		}
		return;
	}
	answer_rate(c->bytes_n, c->bytes_period, c->limit_n, c->limit_period,
		    &r->lim.rate, &r->cost);
	if (c->total_n > 0 || c->total_bytes_n > 0) {
		answer_rate(c->total_bytes_n, c->total_bytes_period, c->total_n,
			    c->total_period, &r->total.rate, &r->total_cost);
		atomic_init(&r->total.tat, 0);
		r->lim.total = &r->total;
	}
}

static int build_rules(struct policy *p, const struct config *cfg,
		       const struct policy *prev, const bool *busy)
{
	bool used[LIMITER_RULE_IDS] = {false};
	size_t n = cfg->nrules ? cfg->nrules : 1;

	p->cfgrules = calloc(n, sizeof(*p->cfgrules));
	p->rules = calloc(n, sizeof(*p->rules));
	p->query = calloc(n, sizeof(*p->query));
	p->answer = calloc(n, sizeof(*p->answer));
	if (p->cfgrules == NULL || p->rules == NULL || p->query == NULL ||
	    p->answer == NULL)
		return -ENOMEM;
	if (cfg->nrules > 0)
		memcpy(p->cfgrules, cfg->rules,
		       cfg->nrules * sizeof(*cfg->rules));
	p->nrules = cfg->nrules;
	used[0] = true;
	for (size_t i = 0; i < p->nrules; i++) {
		const struct config_rule *c = &p->cfgrules[i];
		struct prule *r = &p->rules[i];
		int rc;

		r->cfg = c;
		build_limits(r);
		r->lim.hold = c->hold_down;
		r->lim.hold_max = c->hold_down_max;
		rc = assign_id(p, i, prev, busy, used);
		if (rc < 0)
			return rc;
		p->by_id[r->lim.id] = r;
		if (c->kind == CONFIG_RULE_ANSWER) {
			p->answer[p->nanswer++] = r;
			continue;
		}
		p->query[p->nquery++] = r;
		if (c->nqtypes == 0)
			memset(p->candidate, 0xff, sizeof(p->candidate));
		for (size_t t = 0; t < c->nqtypes; t++)
			p->candidate[c->qtypes[t] / 64] |=
				(uint64_t)1 << (c->qtypes[t] % 64);
	}
	return 0;
}

struct policy *policy_new(const struct config *cfg, const struct policy *prev,
			  const bool *busy)
{
	struct policy *p = calloc(1, sizeof(*p));
	int rc;

	if (p == NULL)
		return NULL;
	p->malformed = cfg->malformed;
	p->fragments = cfg->fragments;
	rc = build_allow(p, cfg);
	if (rc == 0)
		rc = build_rules(p, cfg, prev, busy);
	if (rc < 0) {
		policy_free(p);
		errno = -rc;
		return NULL;
	}
	return p;
}

void policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	free(p->cfgrules);
	free(p->rules);
	free(p->query);
	free(p->answer);
	free(p->allow4);
	free(p->allow6);
	free(p);
}

static inline bool rule_matches(const struct config_rule *c,
				struct dns_question *q)
{
	bool hit = c->nqtypes == 0;

	for (size_t i = 0; i < c->nqtypes && !hit; i++)
		hit = c->qtypes[i] == q->qtype;
	if (!hit || c->nqnames == 0)
		return hit;
	for (size_t i = 0; i < c->nqnames; i++)
		if (dns_name_has_suffix(q, c->qnames[i].wire, c->qnames[i].len))
			return true;
	return false;
}

static enum policy_verdict setting(enum config_verdict v)
{
	return v == CONFIG_DROP ? POLICY_DROP : POLICY_ACCEPT;
}

/*
 * A refused query under action truncate: on the slip-th refusals of the
 * source's episode (of the rule's total refusals, for the total) its EDNS
 * UDP size is lowered to 512 (see truncate_query), so that the resolver
 * answers with at most 512 octets and TC=1 and a real client retries over
 * TCP; a query without EDNS goes as it is (its answer keeps to 512
 * already).  The other refusals, and a query that cannot be rewritten,
 * are dropped.
 */
__attribute__((noinline, cold)) static enum policy_verdict
refuse_query(const struct prule *r, uint64_t *n, enum limiter_verdict v,
	     bool turn, const uint8_t *pkt, size_t len, struct policy_out *out)
{
	const struct config_rule *c = r->cfg;
	uint8_t scratch[POLICY_OUT_MAX];
	struct policy_out own = {.buf = scratch, .room = sizeof(scratch)};

	if (out == NULL)
		out = &own; /* the caller wants the verdict only */
	if (c->action == CONFIG_ACTION_TRUNCATE && v == LIMITER_TOTAL)
		turn = n[STATS_R_TOTAL] % c->slip == 0;
	if (c->action == CONFIG_ACTION_TRUNCATE && turn) {
		switch (truncate_query(pkt, len, POLICY_TRUNCATE_UDP, out->buf,
				       out->room, &out->len)) {
		case TRUNCATE_OK:
			n[STATS_R_TRUNCATED]++;
			return POLICY_REPLACE;
		case TRUNCATE_UNCHANGED:
			n[STATS_R_TRUNCATED]++;
			return POLICY_ACCEPT;
		default:
			n[STATS_R_TRUNC_FAILED]++;
			break;
		}
	}
	n[STATS_R_DROPPED]++;
	return POLICY_DROP;
}

/* The rule walk for a query a rule may match, from a limited source. */
static enum policy_verdict
walk_rules(const struct policy *p, struct policy_ctx *ctx,
	   const struct packet *pk, struct dns_question *q, const uint8_t *pkt,
	   size_t len, uint64_t now, struct policy_out *out)
{
	int family = pk->family == AF_INET ? 4 : 6;

	for (size_t i = 0; i < p->nquery; i++) {
		const struct prule *r = p->query[i];
		const struct config_rule *c = r->cfg;
		uint64_t *n = ctx->stats->rule[r->lim.id];
		struct limiter_event ev[2];
		struct limiter_cost cost = {0};
		enum limiter_verdict v;
		uint64_t key;
		int nev = 0;

		if (!rule_matches(c, q))
			continue;
		n[STATS_R_MATCHED]++;
		key = limiter_key(family, pk->src,
				  family == 4 ? c->ipv4_prefix
					      : c->ipv6_prefix);
		/* a slip needs the source's count of refusals */
		if (c->action == CONFIG_ACTION_TRUNCATE) {
			cost.source = r->lim.rate.interval;
			cost.total = r->lim.total ? r->lim.total->rate.interval
						  : 0;
			cost.slip = (uint8_t)c->slip;
			v = limiter_charge(ctx->limiter, &r->lim, family, key,
					   now, &cost, &ctx->stats->table, ev,
					   &nev);
		} else {
			v = limiter_check(ctx->limiter, &r->lim, family, key,
					  now, &ctx->stats->table, ev, &nev);
		}
		for (int e = 0; e < nev && ctx->event != NULL; e++)
			ctx->event(ctx->event_arg, &ev[e], q);
		if (v == LIMITER_PASS) {
			n[STATS_R_ACCEPTED]++;
			if (c->action == CONFIG_ACTION_DROP)
				return POLICY_ACCEPT;
			continue;
		}
		if (v == LIMITER_HELD)
			n[STATS_R_HELD]++;
		else if (v == LIMITER_TOTAL)
			n[STATS_R_TOTAL]++;
		if (c->action == CONFIG_ACTION_LOG) {
			n[STATS_R_WOULD_DROP]++;
			continue;
		}
		return refuse_query(r, n, v, cost.turn, pkt, len, out);
	}
	return POLICY_ACCEPT;
}

enum policy_verdict policy_decide(const struct policy *p,
				  struct policy_ctx *ctx, const uint8_t *pkt,
				  size_t len, uint64_t now)
{
	return policy_decide_query(p, ctx, pkt, len, now, NULL);
}

enum policy_verdict policy_decide_query(const struct policy *p,
					struct policy_ctx *ctx,
					const uint8_t *pkt, size_t len,
					uint64_t now, struct policy_out *out)
{
	struct stats *s = ctx->stats;
	struct dns_question q;
	struct packet pk;
	enum packet_kind kind;
	enum dns_status st;

	kind = packet_parse(pkt, len, &pk);
	if (kind == PACKET_UDP && pk.dport != WIRE_DNS_PORT)
		kind = PACKET_OTHER; /* not ours: a broader rule queued it */
	s->pkt[pk.first_fragment ? PACKET_FRAGMENT : kind]++;
	switch (kind) {
	case PACKET_FRAGMENT:
		return setting(p->fragments);
	case PACKET_OTHER:
		return POLICY_ACCEPT;
	case PACKET_INVALID:
		/* what cannot be read is never let through unjudged */
		s->c[STATS_MALFORMED]++;
		return setting(p->malformed);
	default:
		break;
	}
	/* a first fragment is judged by its question, unless refused */
	if (pk.first_fragment && p->fragments == CONFIG_DROP)
		return POLICY_DROP;

	st = dns_parse(pk.payload, pk.payload_len, &q);
	s->dns[st]++;
	if (dns_status_malformed(st)) {
		s->c[STATS_MALFORMED]++;
		return setting(p->malformed);
	}
	if (st != DNS_QUERY)
		return POLICY_ACCEPT;
	if (!(p->candidate[q.qtype / 64] & (uint64_t)1 << (q.qtype % 64)))
		return POLICY_ACCEPT;
	if (addr_allowed(p, pk.family, pk.src) ||
	    (ctx->allow != NULL &&
	     allowlist_has(ctx->allow, pk.family, pk.src, now))) {
		s->c[STATS_ALLOWED]++;
		return POLICY_ACCEPT;
	}
	return walk_rules(p, ctx, &pk, &q, pkt, len, now, out);
}

/*
 * Whether an answer rule applies to an answer of len octets whose question
 * is q (NULL when it could not be read: only rules that name neither a
 * type nor a name apply then).
 */
static bool answer_matches(const struct config_rule *c, size_t len,
			   struct dns_question *q)
{
	if (len < c->size)
		return false;
	if (c->nqtypes == 0 && c->nqnames == 0)
		return true;
	return q != NULL && rule_matches(c, q);
}

/*
 * A refused answer under action truncate: the slip-th refusals of the
 * destination's episode (of the rule's total refusals, for the total) are
 * replaced by a minimal TC=1 answer, the others dropped.
 */
static enum policy_verdict refuse_answer(const struct prule *r, uint64_t *n,
					 enum limiter_verdict v, bool turn,
					 const uint8_t *pkt, size_t len,
					 struct policy_out *out)
{
	const struct config_rule *c = r->cfg;

	if (c->action == CONFIG_ACTION_TRUNCATE && v == LIMITER_TOTAL)
		turn = n[STATS_R_TOTAL] % c->slip == 0;
	if (c->action == CONFIG_ACTION_TRUNCATE && turn) {
		if (truncate_answer(pkt, len, out->buf, out->room, &out->len) ==
		    TRUNCATE_OK) {
			n[STATS_R_TRUNCATED]++;
			n[STATS_R_BYTES_REFUSED] += len - out->len;
			return POLICY_REPLACE;
		}
		n[STATS_R_TRUNC_FAILED]++;
	}
	n[STATS_R_DROPPED]++;
	n[STATS_R_BYTES_REFUSED] += len;
	return POLICY_DROP;
}

/* The answer rule walk, for an answer to a destination not allowed. */
static enum policy_verdict
walk_answer_rules(const struct policy *p, struct policy_ctx *ctx,
		  const struct packet *pk, struct dns_question *q,
		  const uint8_t *pkt, size_t len, uint64_t now,
		  struct policy_out *out)
{
	int family = pk->family == AF_INET ? 4 : 6;

	for (size_t i = 0; i < p->nanswer; i++) {
		const struct prule *r = p->answer[i];
		const struct config_rule *c = r->cfg;
		uint64_t *n = ctx->stats->rule[r->lim.id];
		struct limiter_cost cost;
		struct limiter_event ev[2];
		enum limiter_verdict v;
		uint64_t key;
		int nev = 0;

		if (!answer_matches(c, len, q))
			continue;
		n[STATS_R_MATCHED]++;
		n[STATS_R_BYTES] += len;
		key = limiter_key(family, pk->dst,
				  family == 4 ? c->ipv4_prefix
					      : c->ipv6_prefix);
		cost.source = answer_ns(&r->cost, len);
		cost.total = answer_ns(&r->total_cost, len);
		/* a destination's episode counts the octets refused */
		cost.weight = (uint32_t)len;
		cost.slip = (uint8_t)c->slip;
		cost.turn = false;
		v = limiter_charge(ctx->limiter, &r->lim, family, key, now,
				   &cost, &ctx->stats->table, ev, &nev);
		for (int e = 0; e < nev && ctx->event != NULL; e++)
			ctx->event(ctx->event_arg, &ev[e], q);
		if (v == LIMITER_PASS) {
			n[STATS_R_ACCEPTED]++;
			if (c->action == CONFIG_ACTION_LOG)
				continue;
			return POLICY_ACCEPT;
		}
		if (v == LIMITER_HELD)
			n[STATS_R_HELD]++;
		else if (v == LIMITER_TOTAL)
			n[STATS_R_TOTAL]++;
		if (c->action == CONFIG_ACTION_LOG) {
			n[STATS_R_WOULD_DROP]++;
			n[STATS_R_BYTES_WOULD] += len;
			continue;
		}
		return refuse_answer(r, n, v, cost.turn, pkt, len, out);
	}
	return POLICY_ACCEPT;
}

enum policy_verdict policy_decide_answer(const struct policy *p,
					 struct policy_ctx *ctx,
					 const uint8_t *pkt, size_t len,
					 uint64_t now, struct policy_out *out)
{
	struct stats *s = ctx->stats;
	struct dns_question q;
	struct packet pk;
	enum packet_kind kind;
	enum dns_status st;

	out->len = 0;
	kind = packet_parse(pkt, len, &pk);
	if (kind == PACKET_UDP && pk.sport != WIRE_DNS_PORT)
		kind = PACKET_OTHER; /* not ours: a broader rule queued it */
	s->pkt[pk.first_fragment ? PACKET_FRAGMENT : kind]++;
	switch (kind) {
	case PACKET_FRAGMENT:
		return setting(p->fragments);
	case PACKET_OTHER:
		return POLICY_ACCEPT;
	case PACKET_INVALID:
		s->c[STATS_MALFORMED]++;
		return setting(p->malformed);
	default:
		break;
	}
	/* the resolver's own datagrams are whole at OUTPUT: a first
	 * fragment was made by someone else, and cannot be truncated */
	if (pk.first_fragment)
		return setting(p->fragments);

	st = dns_parse_answer(pk.payload, pk.payload_len, &q);
	s->dns[st]++;
	if (st == DNS_QUERY) {
		s->c[STATS_NOT_ANSWER]++;
		return POLICY_ACCEPT;
	}
	s->c[STATS_ANSWERS]++;
	s->c[STATS_ANSWER_BYTES] += len;
	/* an answer whose question cannot be read still has its octets */
	if (st != DNS_RESPONSE)
		s->c[STATS_MALFORMED]++;
	if (addr_allowed(p, pk.family, pk.dst) ||
	    (ctx->allow != NULL &&
	     allowlist_has(ctx->allow, pk.family, pk.dst, now))) {
		s->c[STATS_ALLOWED]++;
		return POLICY_ACCEPT;
	}
	return walk_answer_rules(p, ctx, &pk, st == DNS_RESPONSE ? &q : NULL,
				 pkt, len, now, out);
}

void policy_rule_ids(const struct policy *p, bool keep[LIMITER_RULE_IDS])
{
	for (size_t id = 0; id < LIMITER_RULE_IDS; id++)
		keep[id] = p->by_id[id] != NULL;
}

void policy_limiter_rules(const struct policy *p,
			  const struct limiter_rule *rules[LIMITER_RULE_IDS])
{
	for (size_t id = 0; id < LIMITER_RULE_IDS; id++)
		rules[id] = p->by_id[id] != NULL ? &p->by_id[id]->lim : NULL;
}

const struct config_rule *policy_rule_by_id(const struct policy *p, unsigned id)
{
	if (id >= LIMITER_RULE_IDS || p->by_id[id] == NULL)
		return NULL;
	return p->by_id[id]->cfg;
}

size_t policy_nrules(const struct policy *p)
{
	return p->nrules;
}

unsigned policy_rule_id(const struct policy *p, size_t i)
{
	return i < p->nrules ? p->rules[i].lim.id : 0;
}

size_t policy_nanswer_rules(const struct policy *p)
{
	return p->nanswer;
}
