/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The answer path's cost, in process: policy_decide_answer() (IP/UDP
 * walk, the answer's header and question, the answer rule walk, the
 * destination's byte bucket) and, for an answer over its budget under
 * action truncate, the rewrite (truncate_answer: the whole message walked,
 * the minimal TC=1 answer written, its checksums), without the kernel.
 *
 * usage: answer DESTS ANSWERS [TABLE [mix|drop|trunc]]
 *
 * Builds ANSWERS answer datagrams (IP length 1000..4000, TXT records of
 * at most 256 octets each, so a 4000-octet answer holds 15 as Unbound's
 * big.example TXT does; every tenth destination IPv6) to DESTS
 * destinations, fills the table first with one answer to every
 * destination (so that with a million destinations a million buckets
 * are tracked), then decides them six times over, in batches of 32 copied
 * first into buffers laid out as the daemon's (so each answer is in the
 * cache when it is decided, as after the kernel's copy; the copy is not
 * measured).  Prints ns per answer (the best of the five timed passes
 * after the first) and what the first pass decided.
 *
 *   mix    the rule `size 1000, bytes 64k/10s, action truncate, slip 2`;
 *          answers 1 ms apart (1000 big answers a second): 60% of
 *          1000..1499 octets, 25% of 1500..2999, 15% of 3000..4000, to
 *          random destinations, all within their budget; 2% of 4000
 *          octets to 4 abusers (5 a second each, 20 KB/s against
 *          6.4 KB/s), over it after their burst: refused, every second
 *          refusal truncated.
 *   drop   every answer over its destination's budget (the rule `bytes
 *          1k/24h`, the table filled with 4000-octet answers): refused
 *          and dropped.
 *   trunc  the same under `action truncate` (slip 1): every answer
 *          rewritten.  trunc - drop is the rewrite's cost.
 *
 * Under `valgrind --tool=callgrind --toggle-collect='decide_batch*'` (gcc
 * may clone it) the instructions of decide_batch() divided by 6 x ANSWERS
 * are the instructions per decision; with
 * --toggle-collect=truncate_answer, those of the rewrite alone (divided
 * by the rewrites, truncated_all=).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "limiter.h"
#include "policy.h"
#include "queue.h"
#include "stats.h"

#include "../tests/pktbuild.h"

#define RR_MAX 256	   /* octets of RDATA in one TXT record */
#define STEP_NS 1000000ull /* simulated time between answers: 1 ms */
#define ABUSERS 4
#define BATCH 32		 /* answers a recvmmsg() hands over, here */
#define BUF_STRIDE QUEUE_MSG_MAX /* as the daemon's receive buffers */

static const char policy_mix[] = "answer-rule big {\n"
				 "\tsize 1000\n"
				 "\tbytes 64k/10s\n"
				 "\taction truncate\n"
				 "\tslip 2\n"
				 "}\n";

/* A budget that one 4000-octet answer overdraws for three days. */
static const char policy_drop[] = "answer-rule big {\n"
				  "\tsize 1000\n"
				  "\tbytes 1k/24h\n"
				  "\taction drop\n"
				  "}\n";

static const char policy_trunc[] = "answer-rule big {\n"
				   "\tsize 1000\n"
				   "\tbytes 1k/24h\n"
				   "\taction truncate\n"
				   "}\n";

static const char *const abusers[ABUSERS] = {"198.51.100.66", "198.51.100.67",
					     "2001:db8:ffff:100::1",
					     "2001:db8:ffff:200::1"};

enum mode { MODE_MIX, MODE_DROP, MODE_TRUNC };

/* The answers, one after the other in one block. */
struct answers {
	uint8_t *data;
	size_t *off;
	uint16_t *len;
	size_t n;
};

struct counts {
	unsigned accepted, dropped, replaced;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A deterministic generator, so every run decides the same answers. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Destination i as text, as bench/decide numbers its sources: IPv4 in
 * 198.18.0.0/15 (then 10/8 for a million), every tenth an IPv6 /56. */
static void dest_text(size_t i, char *buf, size_t len)
{
	if (i % 10 == 9)
		snprintf(buf, len, "2001:db8:%x:%x00::1", (unsigned)(i >> 8),
			 (unsigned)(i & 0xff));
	else
		snprintf(buf, len, "%u.%u.%u.%u", i < 131072 ? 198 : 10,
			 i < 131072 ? 18 + (unsigned)(i >> 16)
				    : (unsigned)(i >> 16) & 0xff,
			 (unsigned)(i >> 8) & 0xff, (unsigned)i & 0xff);
}

static size_t make_answer(uint8_t *out, const char *dst, size_t ip_len,
			  unsigned pick)
{
	static const char *const names[] = {"big.example", "example.com",
					    "example.net", "example.org"};
	static const uint16_t qtypes[] = {16, 48, 255, 46}; /* TXT DNSKEY
							       ANY RRSIG */

	return pkt_answer_rrs_to(out, dst, names[pick % 4], qtypes[pick % 4],
				 ip_len, RR_MAX);
}

static void build(struct answers *a, size_t dests, size_t n, bool abuse)
{
	static uint8_t pkt[65536];
	size_t cap = n * 2048, used = 0;

	a->data = malloc(cap);
	a->off = malloc(n * sizeof(*a->off));
	a->len = malloc(n * sizeof(*a->len));
	if (a->data == NULL || a->off == NULL || a->len == NULL) {
		perror("answers");
		exit(1);
	}
	a->n = n;
	for (size_t i = 0; i < n; i++) {
		unsigned r = (unsigned)(rng() % 100);
		size_t d = (size_t)(rng() % dests), ip_len, len;
		char addr[64];
		const char *dst = addr;

		if (abuse && r < 2) {
			dst = abusers[rng() % ABUSERS];
			ip_len = 4000;
		} else {
			r = (unsigned)(rng() % 100);
			if (r < 60)
				ip_len = 1000 + (size_t)(rng() % 500);
			else if (r < 85)
				ip_len = 1500 + (size_t)(rng() % 1500);
			else
				ip_len = 3000 + (size_t)(rng() % 1001);
			dest_text(d, addr, sizeof(addr));
		}
		len = make_answer(pkt, dst, ip_len, (unsigned)rng());
		if (len == 0) {
			fprintf(stderr, "answer: cannot build %zu octets\n",
				ip_len);
			exit(1);
		}
		if (used + len > cap) {
			uint8_t *more;

			cap *= 2;
			more = realloc(a->data, cap);
			if (more == NULL) {
				perror("answers");
				exit(1);
			}
			a->data = more;
		}
		memcpy(a->data + used, pkt, len);
		a->off[i] = used;
		a->len[i] = (uint16_t)len;
		used += len;
	}
}

/*
 * The measured part: a batch of answers as the daemon holds them after
 * recvmmsg(), just written into buffers of their own (so in the cache,
 * as the kernel's copy leaves them).  Kept out of line so callgrind can
 * isolate it.
 */
__attribute__((noinline)) static void
decide_batch(const struct policy *p, struct policy_ctx *ctx,
	     uint8_t (*bufs)[BUF_STRIDE], const uint16_t *len, size_t n,
	     uint64_t now, struct policy_out *out, struct counts *c)
{
	for (size_t i = 0; i < n; i++) {
		switch (policy_decide_answer(p, ctx, bufs[i], len[i],
					     now + i * STEP_NS, out)) {
		case POLICY_ACCEPT:
			c->accepted++;
			break;
		case POLICY_DROP:
			c->dropped++;
			break;
		case POLICY_REPLACE:
			c->replaced++;
			break;
		}
	}
}

/* One pass over the answers, batch by batch; returns the ns spent in
 * decide_batch(). */
static uint64_t run_answers(const struct policy *p, struct policy_ctx *ctx,
			    const struct answers *a, uint64_t now,
			    struct policy_out *out, struct counts *c)
{
	static uint8_t bufs[BATCH][BUF_STRIDE];
	uint64_t spent = 0;

	for (size_t i = 0; i < a->n; i += BATCH) {
		size_t k = a->n - i < BATCH ? a->n - i : BATCH;
		uint64_t t;

		for (size_t j = 0; j < k; j++)
			memcpy(bufs[j], a->data + a->off[i + j], a->len[i + j]);
		t = now_ns();
		decide_batch(p, ctx, bufs, a->len + i, k, now + i * STEP_NS,
			     out, c);
		spent += now_ns() - t;
	}
	return spent;
}

/*
 * One answer to every destination, its address written into a template
 * (the checksums are left as they were: the policy does not read them).
 */
static void fill(const struct policy *p, struct policy_ctx *ctx, size_t dests,
		 size_t ip_len, uint64_t now, struct policy_out *out)
{
	static uint8_t t4[65536], t6[65536];
	size_t l4 = make_answer(t4, "198.18.0.1", ip_len, 0);
	size_t l6 = make_answer(t6, "2001:db8::1", ip_len, 0);

	for (size_t i = 0; i < dests; i++) {
		char addr[64];
		bool v6 = i % 10 == 9;

		dest_text(i, addr, sizeof(addr));
		if (v6)
			inet_pton(AF_INET6, addr, t6 + 24);
		else
			inet_pton(AF_INET, addr, t4 + 16);
		policy_decide_answer(p, ctx, v6 ? t6 : t4, v6 ? l6 : l4, now,
				     out);
	}
}

int main(int argc, char **argv)
{
	static uint8_t outbuf[65536];
	static struct stats s;
	size_t dests, n, table = 1048576;
	char err[CONFIG_ERR_MAX];
	const char *text = policy_mix, *mode_name = "mix";
	enum mode mode = MODE_MIX;
	struct config *cfg;
	struct policy *p;
	struct limiter *l;
	struct policy_ctx ctx = {.stats = &s};
	struct policy_out out = {.buf = outbuf, .room = sizeof(outbuf)};
	struct answers a;
	struct counts c = {0, 0, 0};
	uint64_t t, best = UINT64_MAX, now = 1000000000ull, bytes = 0;
	unsigned id;

	if (argc < 3) {
		fprintf(stderr, "usage: answer DESTS ANSWERS [TABLE "
				"[mix|drop|trunc]]\n");
		return 2;
	}
	dests = strtoull(argv[1], NULL, 10);
	n = strtoull(argv[2], NULL, 10);
	if (argc > 3)
		table = strtoull(argv[3], NULL, 10);
	if (argc > 4) {
		mode_name = argv[4];
		if (strcmp(argv[4], "drop") == 0) {
			mode = MODE_DROP;
			text = policy_drop;
		} else if (strcmp(argv[4], "trunc") == 0) {
			mode = MODE_TRUNC;
			text = policy_trunc;
		} else if (strcmp(argv[4], "mix") != 0) {
			fprintf(stderr, "answer: mode mix, drop or trunc\n");
			return 2;
		}
	}
	if (dests == 0 || n == 0 || n > 10000000) {
		fprintf(stderr, "answer: DESTS > 0, ANSWERS 1..10000000\n");
		return 2;
	}
	cfg = config_parse("bench", text, strlen(text), err, sizeof(err));
	if (cfg == NULL) {
		fprintf(stderr, "answer: %s\n", err);
		return 1;
	}
	p = policy_new(cfg, NULL, NULL);
	l = limiter_new(table, true); /* as the daemon has it */
	if (p == NULL || l == NULL) {
		perror("answer");
		return 1;
	}
	ctx.limiter = l;

	/* every destination tracked; over its budget for drop and trunc */
	fill(p, &ctx, dests, mode == MODE_MIX ? 1000 : 4000, now, &out);
	build(&a, dests, n, mode == MODE_MIX);
	for (size_t i = 0; i < n; i++)
		bytes += a.len[i];

	now += 1000000000ull;
	run_answers(p, &ctx, &a, now, &out, &c);
	for (int pass = 0; pass < 5; pass++) {
		struct counts ignored = {0, 0, 0};

		now += n * STEP_NS + 10000000000ull;
		t = run_answers(p, &ctx, &a, now, &out, &ignored);
		if (t < best)
			best = t;
	}
	id = policy_rule_id(p, 0);
	printf("mode=%s dests=%zu answers=%zu table=%zu mean_octets=%.0f "
	       "ns_per_answer=%.1f accepted=%u dropped=%u truncated=%u "
	       "truncated_all=%" PRIu64 " truncate_failed=%" PRIu64
	       " inserted=%" PRIu64 " reused=%" PRIu64 " evicted=%" PRIu64 "\n",
	       mode_name, dests, n, limiter_capacity(l),
	       (double)bytes / (double)n, (double)best / (double)n, c.accepted,
	       c.dropped, c.replaced, s.rule[id][STATS_R_TRUNCATED],
	       s.rule[id][STATS_R_TRUNC_FAILED], s.table.inserted,
	       s.table.reused, s.table.evicted);
	free(a.data);
	free(a.off);
	free(a.len);
	policy_free(p);
	limiter_free(l);
	config_free(cfg);
	return 0;
}
