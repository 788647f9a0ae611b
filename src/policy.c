/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"
#include "packet.h"
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

struct prule {
	struct limiter_rule lim;
	const struct config_rule *cfg; /* in policy->cfgrules */
	struct tbucket total;
};

struct policy {
	struct config_rule *cfgrules;
	struct prule *rules;
	size_t nrules;
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

static bool source_allowed(const struct policy *p, const struct packet *pk)
{
	if (pk->family == AF_INET)
		return p->nallow4 > 0 && allowed4(p, load32(pk->src));
	if (p->nallow6 == 0)
		return false;
	struct addr6 a = {load64(pk->src), load64(pk->src + 8)};
	return allowed6(p, &a);
}

static bool same_buckets(const struct config_rule *a,
			 const struct config_rule *b)
{
	return strcmp(a->name, b->name) == 0 && a->limit_n == b->limit_n &&
	       a->limit_period == b->limit_period &&
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
					    r->cfg->total_period)
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

static int build_rules(struct policy *p, const struct config *cfg,
		       const struct policy *prev, const bool *busy)
{
	bool used[LIMITER_RULE_IDS] = {false};

	p->cfgrules =
		calloc(cfg->nrules ? cfg->nrules : 1, sizeof(*p->cfgrules));
	p->rules = calloc(cfg->nrules ? cfg->nrules : 1, sizeof(*p->rules));
	if (p->cfgrules == NULL || p->rules == NULL)
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
		limiter_rate_init(&r->lim.rate, c->limit_n, c->limit_period);
		r->lim.hold = c->hold_down;
		r->lim.hold_max = c->hold_down_max;
		if (c->total_n > 0) {
			tbucket_init(&r->total, c->total_n, c->total_period);
			r->lim.total = &r->total;
		}
		rc = assign_id(p, i, prev, busy, used);
		if (rc < 0)
			return rc;
		p->by_id[r->lim.id] = r;
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
	free(p->allow4);
	free(p->allow6);
	free(p);
}

static bool rule_matches(const struct config_rule *c, struct dns_question *q)
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

/* The rule walk for a query a rule may match, from a limited source. */
static enum policy_verdict walk_rules(const struct policy *p,
				      struct policy_ctx *ctx,
				      const struct packet *pk,
				      struct dns_question *q, uint64_t now)
{
	int family = pk->family == AF_INET ? 4 : 6;

	for (size_t i = 0; i < p->nrules; i++) {
		const struct prule *r = &p->rules[i];
		const struct config_rule *c = r->cfg;
		uint64_t *n = ctx->stats->rule[r->lim.id];
		struct limiter_event ev[2];
		enum limiter_verdict v;
		uint64_t key;
		int nev = 0;

		if (!rule_matches(c, q))
			continue;
		n[STATS_R_MATCHED]++;
		key = limiter_key(family, pk->src,
				  family == 4 ? c->ipv4_prefix
					      : c->ipv6_prefix);
		v = limiter_check(ctx->limiter, &r->lim, family, key, now,
				  &ctx->stats->table, ev, &nev);
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
		n[STATS_R_DROPPED]++;
		return POLICY_DROP;
	}
	return POLICY_ACCEPT;
}

enum policy_verdict policy_decide(const struct policy *p,
				  struct policy_ctx *ctx, const uint8_t *pkt,
				  size_t len, uint64_t now)
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
	if (source_allowed(p, &pk)) {
		s->c[STATS_ALLOWED]++;
		return POLICY_ACCEPT;
	}
	return walk_rules(p, ctx, &pk, &q, now);
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
