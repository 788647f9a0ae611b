/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the daemon does with a packet, for checking the BPF prefilter
 * against it: the unit test and the fuzz target share this oracle.
 * Header-only.
 */
#ifndef DNSRL_TESTS_PREFILTER_ORACLE_H
#define DNSRL_TESTS_PREFILTER_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dns.h"
#include "packet.h"
#include "policy.h"
#include "stats.h"

/* How the daemon classifies the first len octets of a packet. */
enum cls {
	CLS_OTHER,     /* not UDP to port 53, or a broken header: accepted */
	CLS_FRAGMENT,  /* the `fragments` setting */
	CLS_MALFORMED, /* the `malformed` setting */
	CLS_NOT_QUERY, /* response, opcode, QDCOUNT: accepted */
	CLS_NAMED,     /* a query whose qtype a rule names */
	CLS_FREE,      /* a query whose qtype no rule names: accepted */
	CLS_DROPPED,   /* a header the kernel drops: never delivered, so the
			  daemon's verdict (the `malformed` setting) and the
			  prefilter's are both moot */
};

/* True when some rule limits qtype (a rule naming no qtype limits all). */
static inline bool named(const struct config *cfg, uint16_t qtype)
{
	for (size_t i = 0; i < cfg->nrules; i++) {
		const struct config_rule *r = &cfg->rules[i];

		if (r->nqtypes == 0)
			return true;
		for (size_t j = 0; j < r->nqtypes; j++)
			if (r->qtypes[j] == qtype)
				return true;
	}
	return false;
}

static inline enum cls classify(const struct config *cfg, const uint8_t *pkt,
				size_t len)
{
	struct dns_question q;
	struct packet pk;
	enum packet_kind k = packet_parse(pkt, len, &pk);
	enum dns_status st;

	if (k == PACKET_FRAGMENT || pk.first_fragment)
		return CLS_FRAGMENT;
	if (k == PACKET_INVALID)
		return CLS_DROPPED;
	if (k != PACKET_UDP || pk.dport != 53)
		return CLS_OTHER;
	st = dns_parse(pk.payload, pk.payload_len, &q);
	if (dns_status_malformed(st))
		return CLS_MALFORMED;
	if (st != DNS_QUERY)
		return CLS_NOT_QUERY;
	return named(cfg, q.qtype) ? CLS_NAMED : CLS_FREE;
}

/* A class a setting or a rule decides: the prefilter must not pass it. */
static inline bool cls_limitable(enum cls c)
{
	return c == CLS_FRAGMENT || c == CLS_MALFORMED || c == CLS_NAMED;
}

/* A class the daemon may drop or count. */
static inline bool cls_touchable(enum cls c)
{
	return cls_limitable(c) || c == CLS_DROPPED;
}

/*
 * policy_decide itself: true when the packet was dropped, matched a rule
 * or was counted as allow-listed.  p NULL: nothing decides.
 */
static inline bool touched(const struct policy *p, struct policy_ctx *ctx,
			   const uint8_t *pkt, size_t len)
{
	const struct stats *st = ctx->stats;
	uint64_t before, after;
	enum policy_verdict v;

	if (p == NULL)
		return false;
	before = st->c[STATS_ALLOWED];
	for (size_t i = 0; i < policy_nrules(p); i++)
		before += st->rule[policy_rule_id(p, i)][STATS_R_MATCHED];
	v = policy_decide(p, ctx, pkt, len, 0);
	after = st->c[STATS_ALLOWED];
	for (size_t i = 0; i < policy_nrules(p); i++)
		after += st->rule[policy_rule_id(p, i)][STATS_R_MATCHED];
	return v == POLICY_DROP || after != before;
}

#endif
