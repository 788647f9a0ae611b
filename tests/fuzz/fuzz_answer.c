/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the whole decision on an answer leaving the
 * resolver (policy_decide_answer): the IP/UDP walk, the answer's
 * question, the answer rules' buckets charged in octets, and the rewrite
 * of an over-limit answer.
 *
 * The policy has three answer rules: a byte budget small enough that the
 * second answer to a destination is over it (truncated, slip 1), a count
 * narrowed to DNSKEY under example.net (dropped), and a log rule.  Each
 * input is decided twice at the same time, so the second decision is over
 * the budget for any input the first one charged.  Whatever the input,
 * nothing may crash, the verdict is one of three, and an answer replaced
 * is checked by truncate_oracle.h as fuzz_truncate checks the rewrite (no
 * longer than the input, the same IP header and ports, both checksums
 * right by a plain sum, what ldns reads: TC=1, the question, at most the
 * OPT).  The counters add up: every input is one packet of one kind, an
 * answer is counted with its octets, what a rule refused is dropped or
 * replaced.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "limiter.h"
#include "policy.h"
#include "stats.h"

#include "../truncate_oracle.h"

#define ROOM 1280

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char policy_text[] = "answer-rule tiny {\n"
				  "\tsize 40\n"
				  "\tbytes 100/1h\n"
				  "\taction truncate\n"
				  "}\n"
				  "answer-rule keys {\n"
				  "\tqtype DNSKEY\n"
				  "\tqname example.net\n"
				  "\tsize 0\n"
				  "\tlimit 1/1h\n"
				  "}\n"
				  "answer-rule shadow {\n"
				  "\tsize 0\n"
				  "\tbytes 1/1h\n"
				  "\taction log\n"
				  "}\n";

static struct config *cfg;
static struct policy *pol;
static struct limiter *lim;
static uint64_t now = 1000000000;

static void require(bool ok)
{
	if (!ok)
		abort();
}

static void setup(void)
{
	char err[CONFIG_ERR_MAX];

	cfg = config_parse("fuzz.conf", policy_text, strlen(policy_text), err,
			   sizeof(err));
	require(cfg != NULL);
	pol = policy_new(cfg, NULL, NULL);
	require(pol != NULL);
	lim = limiter_new(4096, false);
	require(lim != NULL);
}

static uint64_t sum_rules(const struct stats *s, enum stats_rule_counter c)
{
	uint64_t n = 0;

	for (size_t id = 0; id < LIMITER_RULE_IDS; id++)
		n += s->rule[id][c];
	return n;
}

static void decide(const uint8_t *pkt, size_t len)
{
	static struct stats st;
	uint8_t out[ROOM];
	struct policy_ctx ctx = {.limiter = lim, .stats = &st};
	struct policy_out po = {.buf = out, .room = sizeof(out)};
	enum policy_verdict v;
	uint64_t kinds = 0, dns = 0, refused, dropped, replaced;
	size_t dnsoff;

	memset(&st, 0, sizeof(st));
	v = policy_decide_answer(pol, &ctx, pkt, len, now, &po);
	require(v == POLICY_ACCEPT || v == POLICY_DROP || v == POLICY_REPLACE);
	for (size_t k = 0; k < PACKET_NKINDS; k++)
		kinds += st.pkt[k];
	require(kinds == 1);
	for (size_t k = 0; k < DNS_NSTATUS; k++)
		dns += st.dns[k];
	require(dns <= 1);
	require(st.c[STATS_ANSWERS] + st.c[STATS_NOT_ANSWER] == dns);
	require(st.c[STATS_ANSWER_BYTES] == st.c[STATS_ANSWERS] * len);
	dropped = sum_rules(&st, STATS_R_DROPPED);
	replaced = sum_rules(&st, STATS_R_TRUNCATED);
	refused = dropped + replaced;
	require(refused <= 1);
	require(sum_rules(&st, STATS_R_BYTES) ==
		sum_rules(&st, STATS_R_MATCHED) * len);
	if (v == POLICY_REPLACE) {
		require(replaced == 1);
		require(po.len > 0 && po.len <= sizeof(out) && po.len <= len);
		require(oracle_frame(pkt, len, out, po.len, &dnsoff) == NULL);
		require(oracle_dns(pkt + dnsoff, len - dnsoff, out + dnsoff,
				   po.len - dnsoff, false) == NULL);
		require(sum_rules(&st, STATS_R_BYTES_REFUSED) == len - po.len);
	} else if (refused == 1) {
		/* a rule's refusal is the verdict: a drop */
		require(v == POLICY_DROP && dropped == 1);
		require(sum_rules(&st, STATS_R_BYTES_REFUSED) == len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (pol == NULL)
		setup();
	/* a private copy of exactly size octets, so ASan sees overreads */
	copy = malloc(size > 0 ? size : 1);
	require(copy != NULL);
	memcpy(copy, data, size);
	decide(copy, size);
	decide(copy, size);
	require(memcmp(copy, data, size) == 0);
	free(copy);
	/* a new hour: every budget full again */
	now += 3600 * UINT64_C(1000000000);
	return 0;
}
