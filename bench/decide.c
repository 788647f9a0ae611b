/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The decision cost, in process: the per-packet work of the daemon
 * (IP/UDP walk, question walk, allow-lists, rule walk, bucket lookup and
 * update) over a realistic mix of queries, without the kernel.
 *
 * usage: decide SOURCES PACKETS [TABLE [mix|any]]
 *
 * Builds PACKETS queries from SOURCES distinct sources (90% A/AAAA/PTR/MX,
 * 3% ANY, 2% TXT under a limited zone, 5% other names; 10% of sources are
 * IPv6), fills the table first with one ANY from every source (so that
 * with a million sources a million buckets are tracked), then decides the
 * mix once through run_mix().  Prints ns per packet (the best of five
 * timed passes over the mix after the measured one) and the counts.
 * With `any`, every packet is an ANY query: each one a table lookup, the
 * most expensive path.
 * Under `valgrind --tool=callgrind --toggle-collect=run_mix` the
 * instructions of run_mix() divided by PACKETS are the instructions per
 * decision.
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
#include "stats.h"

#include "../tests/pktbuild.h"

#define PKT_MAX 128

static const char policy_text[] = "rule any-abuse {\n"
				  "\tqtype ANY\n"
				  "\tlimit 2/5s\n"
				  "\thold-down 10m\n"
				  "}\n"
				  "rule big-txt {\n"
				  "\tqname example.net\n"
				  "\tqtype TXT RRSIG DNSKEY\n"
				  "\tlimit 20/1s\n"
				  "}\n";

struct mix {
	uint8_t (*pkt)[PKT_MAX];
	uint16_t *len;
	size_t n;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A deterministic generator, so every run decides the same packets. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Source i as text: IPv4 in 198.18.0.0/15 (then wrapping into 10/8 for a
 * million), every tenth an IPv6 /56 of its own. */
static void source_text(size_t i, char *buf, size_t len)
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

static size_t make_packet(uint8_t *out, size_t src, uint16_t qtype,
			  const char *name)
{
	char addr[64];

	source_text(src, addr, sizeof(addr));
	return pkt_query_from(out, addr, name, qtype);
}

static void build_mix(struct mix *m, size_t sources, size_t n, bool any)
{
	static const char *const names[] = {
		"www.example.com", "mail.example.org", "cdn.example.net",
		"1.100.51.198.in-addr.arpa", "api.example.com"};

	m->pkt = malloc(n * sizeof(*m->pkt));
	m->len = malloc(n * sizeof(*m->len));
	if (m->pkt == NULL || m->len == NULL) {
		perror("mix");
		exit(1);
	}
	m->n = n;
	for (size_t i = 0; i < n; i++) {
		unsigned r = (unsigned)(rng() % 100);
		size_t src = (size_t)(rng() % sources);
		uint16_t qtype;
		const char *name = names[rng() % 5];

		if (any)
			qtype = 255;
		else if (r < 50)
			qtype = 1; /* A */
		else if (r < 80)
			qtype = 28; /* AAAA */
		else if (r < 87)
			qtype = 12; /* PTR */
		else if (r < 90)
			qtype = 15; /* MX */
		else if (r < 93)
			qtype = 255; /* ANY */
		else if (r < 95) {
			qtype = 16; /* TXT, in the limited zone */
			name = "big.example.net";
		} else
			qtype = 65; /* HTTPS */
		m->len[i] = (uint16_t)make_packet(m->pkt[i], src, qtype, name);
	}
}

/* The measured loop: kept out of line so callgrind can isolate it. */
__attribute__((noinline)) static unsigned run_mix(const struct policy *p,
						  struct policy_ctx *ctx,
						  const struct mix *m,
						  uint64_t now)
{
	unsigned drops = 0;

	for (size_t i = 0; i < m->n; i++)
		drops += policy_decide(p, ctx, m->pkt[i], m->len[i],
				       now + i * 1000) == POLICY_DROP;
	return drops;
}

int main(int argc, char **argv)
{
	size_t sources, packets, table = 1048576;
	char err[CONFIG_ERR_MAX];
	struct config *cfg;
	struct policy *p;
	struct limiter *l;
	static struct stats s;
	struct policy_ctx ctx = {.stats = &s};
	struct mix m;
	uint64_t t, best = UINT64_MAX, now = 1000000000ull;
	unsigned drops;
	bool any = false;

	if (argc < 3) {
		fprintf(stderr, "usage: decide SOURCES PACKETS [TABLE "
				"[mix|any]]\n");
		return 2;
	}
	sources = strtoull(argv[1], NULL, 10);
	packets = strtoull(argv[2], NULL, 10);
	if (argc > 3)
		table = strtoull(argv[3], NULL, 10);
	if (argc > 4)
		any = strcmp(argv[4], "any") == 0;
	if (sources == 0 || packets == 0) {
		fprintf(stderr, "decide: SOURCES and PACKETS must be > 0\n");
		return 2;
	}
	cfg = config_parse("bench", policy_text, strlen(policy_text), err,
			   sizeof(err));
	if (cfg == NULL) {
		fprintf(stderr, "decide: %s\n", err);
		return 1;
	}
	p = policy_new(cfg, NULL, NULL);
	l = limiter_new(table, true); /* as the daemon has it */
	if (p == NULL || l == NULL) {
		perror("decide");
		return 1;
	}
	ctx.limiter = l;

	/* every source tracked: one ANY each */
	for (size_t i = 0; i < sources; i++) {
		uint8_t pkt[PKT_MAX];
		size_t len = make_packet(pkt, i, 255, "big.example");

		policy_decide(p, &ctx, pkt, len, now);
	}
	build_mix(&m, sources, packets, any);

	now += 1000000000ull;
	drops = run_mix(p, &ctx, &m, now);
	for (int pass = 0; pass < 5; pass++) {
		now += 10000000000ull;
		t = now_ns();
		run_mix(p, &ctx, &m, now);
		t = now_ns() - t;
		if (t < best)
			best = t;
	}
	printf("mix=%s sources=%zu packets=%zu table=%zu ns_per_packet=%.1f "
	       "drops_first_pass=%u inserted=%" PRIu64 " reused=%" PRIu64
	       " evicted=%" PRIu64 "\n",
	       any ? "any" : "mix", sources, packets, limiter_capacity(l),
	       (double)best / (double)packets, drops, s.table.inserted,
	       s.table.reused, s.table.evicted);
	free(m.pkt);
	free(m.len);
	policy_free(p);
	limiter_free(l);
	config_free(cfg);
	return 0;
}
