/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The prefilter programs, run in userspace by libpcap's interpreter, as
 * the kernel runs them at the rule (on the octets the rule sees), judged
 * by an oracle from outside dnsrl (oracle.h: a model of the kernel's
 * delivery and ldns): a program accepts a packet only when the kernel
 * would not deliver it to the socket on port 53, or would deliver a
 * standard query that ldns reads, of a type no rule names.  Inputs: the
 * vectors in every shape of shapes.h (IPv4 and IPv6, options, fragments,
 * extension header chains of 0 to 40 headers), the messages cut at every
 * octet, the packets cut at every octet, and every file of the fuzz
 * corpora.  The queries a program should accept are accepted: every qtype
 * outside the set, names of up to the unrolled number of labels.  Also
 * the sizes of the programs, the fallbacks, the bytecode text as iptables
 * reads it, what --print-rules prints, and the kernel's checks on a
 * program.
 *
 * Run from the top of the tree (make check-unit does): the corpora are
 * read from tests/fuzz/corpus/.
 */
#include <sys/types.h>

#include <pcap/bpf.h>

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "config.h"
#include "dns.h"
#include "limiter.h"
#include "packet.h"
#include "policy.h"
#include "prefilter.h"
#include "queue.h"
#include "stats.h"

#include "oracle.h"
#include "pktbuild.h"
#include "shapes.h"

#define CORPUS_DIR "tests/fuzz/corpus"
#define PKT_MAX SHAPE_PKT_MAX
#define T_A 1
#define T_NS 2
#define T_PTR 12
#define T_TXT 16
#define T_AAAA 28
#define T_ANY 255

/* The policies every packet is checked against. */
enum {
	POL_MISSION, /* ANY */
	POL_DESIGN,  /* ANY; TXT RRSIG DNSKEY under example.net; drops */
	POL_PLAIN,   /* A AAAA PTR themselves, a log rule */
	POL_RUNS,    /* a run of 20 private types, a pair, two singles */
	POL_NORULES, /* nothing named: every readable query passes */
	POL_N
};

static const char *const policy_text[POL_N] = {
	[POL_MISSION] = "rule any-abuse {\n\tqtype ANY\n\tlimit 2/5s\n}\n",
	[POL_DESIGN] = "malformed drop\nfragments drop\n"
		       "allow 203.0.113.0/24 2001:db8:53::/48\n"
		       "rule any-abuse {\n\tqtype ANY\n\tlimit 2/5s\n}\n"
		       "rule big-txt {\n\tqname example.net\n"
		       "\tqtype TXT RRSIG DNSKEY\n\tlimit 20/1s\n}\n",
	[POL_PLAIN] = "malformed drop\nfragments accept\n"
		      "rule plain {\n\tqtype A AAAA PTR\n\tlimit 100/1s\n"
		      "\taction log\n}\n",
	[POL_RUNS] = "malformed drop\n"
		     "rule private {\n\tqtype TYPE65280 TYPE65281 TYPE65282 "
		     "TYPE65283 TYPE65284 TYPE65285 TYPE65286 TYPE65287 "
		     "TYPE65288 TYPE65289 TYPE65290 TYPE65291 TYPE65292 "
		     "TYPE65293 TYPE65294 TYPE65295 TYPE65296 TYPE65297 "
		     "TYPE65298 TYPE65299\n\tlimit 1/1s\n}\n"
		     "rule misc {\n\tqtype ANY TXT TYPE100 TYPE101\n"
		     "\tlimit 1/1s\n}\n",
	[POL_NORULES] = "malformed drop\n",
};

/* A rule of n types, TYPE base, base + step, ... */
static char *types_rule(const char *name, unsigned n, unsigned base,
			unsigned step)
{
	static char buf[2][2048];
	static int which;
	char *b = buf[which++ % 2];
	size_t used;

	used = (size_t)snprintf(b, 2048, "rule %s {\n\tqtype", name);
	for (unsigned i = 0; i < n; i++)
		used += (size_t)snprintf(b + used, 2048 - used, " TYPE%u",
					 base + i * step);
	snprintf(b + used, 2048 - used, "\n\tlimit 1/1s\n}\n");
	return b;
}

struct pol {
	struct config *cfg;
	struct prefilter_prog prog[2]; /* IPv4, IPv6 */
	struct bpf_insn insn[2][PREFILTER_INSNS_MAX];
	/* each query rule of types alone: its positive program (holds) */
	size_t npos;
	const struct config_rule *pos_rule[4];
	struct bpf_insn pos[4][2][PREFILTER_INSNS_MAX];
};

static struct pol pols[POL_N];

/* What the checks saw, for the summary line. */
static struct {
	unsigned long packets; /* packets checked (each against every policy) */
	unsigned long runs;    /* program runs */
	unsigned long accepted;		    /* ... that accepted the packet */
	unsigned long cls[ORACLE_NCLASSES]; /* runs, by the oracle's class */
	unsigned long cls_acc[ORACLE_NCLASSES]; /* ... accepted */
	unsigned long nonstandard;	  /* accepted: not a standard query */
	unsigned long pos_runs, pos_hits; /* positive programs */
} seen;

/* The kernel with and without the cap on extension headers. */
static const struct km_opts km_variants[] = {
	{.max_exthdrs = 0},
	{.max_exthdrs = KM_IP6_MAX_EXT_HDRS_CNT},
};

static struct config *parse(const char *text)
{
	char err[CONFIG_ERR_MAX];
	struct config *cfg =
		config_parse("test.conf", text, strlen(text), err, sizeof(err));

	if (cfg == NULL)
		fail_msg("config: %s", err);
	return cfg;
}

static void to_pcap(const struct prefilter_prog *p, struct bpf_insn *out)
{
	for (size_t i = 0; i < p->len; i++) {
		out[i].code = p->insn[i].code;
		out[i].jt = p->insn[i].jt;
		out[i].jf = p->insn[i].jf;
		out[i].k = p->insn[i].k;
	}
}

static int setup_pols(void **state)
{
	(void)state;
	for (int i = 0; i < POL_N; i++) {
		struct pol *p = &pols[i];

		p->cfg = parse(policy_text[i]);
		for (int f = 0; f < 2; f++) {
			if (prefilter_compile(p->cfg, f ? AF_INET6 : AF_INET,
					      &p->prog[f], NULL, 0) != 0)
				return -1;
			to_pcap(&p->prog[f], p->insn[f]);
		}
		for (size_t r = 0; r < p->cfg->nrules && p->npos < 4; r++) {
			const struct config_rule *cr = &p->cfg->rules[r];
			struct prefilter_prog pp;

			if (cr->nqnames != 0)
				continue;
			for (int f = 0; f < 2; f++) {
				if (prefilter_compile_rule(
					    cr, f ? AF_INET6 : AF_INET, &pp,
					    NULL, 0) != 0)
					return -1;
				to_pcap(&pp, p->pos[p->npos][f]);
			}
			p->pos_rule[p->npos++] = cr;
		}
	}
	return 0;
}

static int teardown_pols(void **state)
{
	(void)state;
	for (int i = 0; i < POL_N; i++)
		config_free(pols[i].cfg);
	printf("prefilter: %lu packets checked against %d policies and %zu "
	       "kernel variants: %lu program runs, %lu accepted in the "
	       "kernel\n",
	       seen.packets, POL_N,
	       sizeof(km_variants) / sizeof(km_variants[0]), seen.runs,
	       seen.accepted);
	for (int c = 0; c < ORACLE_NCLASSES; c++)
		printf("prefilter:   oracle %-11s %9lu runs, %9lu accepted\n",
		       oracle_class_name[c], seen.cls[c], seen.cls_acc[c]);
	printf("prefilter:   of the accepted 'other': %lu well-formed but no "
	       "standard query (response, opcode, QDCOUNT), none "
	       "unreadable\n",
	       seen.nonstandard);
	printf("prefilter:   rules' positive programs: %lu runs, %lu "
	       "matched, each a standard query of the rule's types\n",
	       seen.pos_runs, seen.pos_hits);
	return 0;
}

/* Runs a program on pkt[0..len) as the kernel would on the whole packet. */
static unsigned run_insn(const struct bpf_insn *insn, const uint8_t *pkt,
			 size_t len)
{
	return bpf_filter(insn, pkt, (u_int)len, (u_int)len);
}

static unsigned run(const struct prefilter_prog *p, const uint8_t *pkt,
		    size_t len)
{
	struct bpf_insn insn[PREFILTER_INSNS_MAX];

	to_pcap(p, insn);
	return run_insn(insn, pkt, len);
}

static void dump(const char *what, const uint8_t *pkt, size_t len)
{
	fprintf(stderr, "%s (%zu octets):", what, len);
	for (size_t i = 0; i < len && i < 96; i++)
		fprintf(stderr, " %02x", pkt[i]);
	fprintf(stderr, "\n");
}

/*
 * The property: where the rule sees a packet, the program (run on what
 * the rule sees, as xt_bpf runs it) accepts it only when the kernel would
 * not deliver it to the socket, or would deliver a standard query that
 * ldns reads, of a type no rule names.  A packet the rule never sees is
 * run too, for the program's own safety, but nothing is asked of it.
 */
static void check(const char *what, const uint8_t *pkt, size_t len)
{
	int fam;

	seen.packets++;
	if (len == 0 || (pkt[0] >> 4 != 4 && pkt[0] >> 4 != 6))
		return;
	fam = pkt[0] >> 4 == 4 ? 0 : 1;
	for (size_t v = 0; v < sizeof(km_variants) / sizeof(km_variants[0]);
	     v++) {
		struct oracle o;
		/* every qtype named: each policy narrows it below */
		enum oracle_class all =
			oracle_classify(NULL, pkt, len, &km_variants[v], &o);
		size_t view = all == ORACLE_MOOT ? len : o.k.seen_len;

		/* the cap only touches IPv6 extension header chains */
		if (v > 0 && (fam == 0 || len < 41 || pkt[6] == 17))
			break;
		for (int i = 0; i < POL_N; i++) {
			struct pol *p = &pols[i];
			enum oracle_class c = all;
			unsigned r = run_insn(p->insn[fam], pkt, view);

			/* a rule's positive program: of what is delivered,
			 * only a standard query ldns reads, of the rule's
			 * types */
			for (size_t k = 0; k < p->npos; k++) {
				const struct config_rule *cr = p->pos_rule[k];
				bool mine = false;

				seen.pos_runs++;
				if (run_insn(p->pos[k][fam], pkt, view) == 0)
					continue;
				seen.pos_hits++;
				for (size_t t = 0;
				     all == ORACLE_NAMED && t < cr->nqtypes;
				     t++)
					mine |= cr->qtypes[t] == o.q.qtype;
				/* what the rule never sees, or the kernel
				 * would drop anyway, may be matched */
				if (mine || all == ORACLE_MOOT ||
				    all == ORACLE_UNDELIVERED)
					continue;
				dump(what, pkt, len);
				fail_msg(
					"policy %d rule %s, IPv%d: its positive "
					"program matches a packet the oracle "
					"calls %s (%s; ldns %d, qtype %u)",
					i, cr->name, fam ? 6 : 4,
					oracle_class_name[all], o.k.why, o.dns,
					o.dns == ORACLE_DNS_QUERY ? o.q.qtype
								  : 0);
			}
			if (c == ORACLE_NAMED &&
			    !oracle_named(p->cfg, o.q.qtype))
				c = ORACLE_FREE;
			seen.runs++;
			seen.cls[c]++;
			if (r == 0)
				continue;
			seen.accepted++;
			seen.cls_acc[c]++;
			if (c == ORACLE_MOOT || c == ORACLE_UNDELIVERED ||
			    c == ORACLE_FREE)
				continue;
			/*
			 * A message ldns reads whole but that is no standard
			 * query (QR set, another opcode, QDCOUNT not 1): the
			 * programs do not look at those fields, and
			 * policy_decide accepts such a message unjudged too
			 * (it draws no amplified answer).  Counted, and
			 * pinned by test_nonstandard; anything else fails.
			 */
			if (c == ORACLE_OTHER &&
			    o.dns == ORACLE_DNS_NOT_QUERY) {
				seen.nonstandard++;
				continue;
			}
			dump(what, pkt, len);
			fail_msg("policy %d, IPv%d, kernel cap %u: the program "
				 "accepts a packet the oracle calls %s "
				 "(%s; ldns %d, qtype %u)",
				 i, fam ? 6 : 4, km_variants[v].max_exthdrs,
				 oracle_class_name[c], o.k.why, o.dns,
				 o.dns == ORACLE_DNS_QUERY ? o.q.qtype : 0);
		}
	}
}

/* --- Packets --------------------------------------------------------- */

/* A DNS message: header flags and QDCOUNT, a name, qtype, class IN. */
static size_t dns_msg(uint8_t *b, uint16_t flags, uint16_t qdcount,
		      const uint8_t *name, size_t nlen, uint16_t qtype,
		      bool edns)
{
	static const uint8_t opt[] = {0, 0,    41, 0x04, 0xd0, 0,
				      0, 0x80, 0,  0,	 0};
	size_t n = 12 + nlen;

	memset(b, 0, 12);
	pkt_put16(b, 0xbeef);
	pkt_put16(b + 2, flags);
	pkt_put16(b + 4, qdcount);
	memcpy(b + 12, name, nlen);
	pkt_put16(b + n, qtype);
	pkt_put16(b + n + 2, 1);
	n += 4;
	if (edns) {
		b[11] = 1;
		memcpy(b + n, opt, sizeof(opt));
		n += sizeof(opt);
	}
	return n;
}

#define NWRAPS SHAPE_NBASE
#define wraps shape_base

static const struct shape *wrap_named(const char *what)
{
	for (size_t i = 0; i < NWRAPS; i++)
		if (strcmp(wraps[i].what, what) == 0)
			return &wraps[i];
	fail_msg("no wrap %s", what);
	return NULL;
}

static size_t wrap_msg(const struct shape *w, const uint8_t *dns, size_t dlen,
		       uint8_t *out)
{
	return shape_build(w, dns, dlen, out);
}

/* A name of labels labels of lab octets each ('a'..), root included. */
static size_t make_name(uint8_t *n, unsigned labels, unsigned lab)
{
	size_t off = 0;

	for (unsigned i = 0; i < labels; i++) {
		n[off++] = (uint8_t)lab;
		for (unsigned j = 0; j < lab; j++)
			n[off++] = (uint8_t)('a' + (i + j) % 26);
	}
	n[off++] = 0;
	return off;
}

/* The names of the vectors, with the root; some not well formed. */
struct name {
	uint8_t w[400];
	size_t len;
};

static size_t vector_names(struct name *names, size_t max)
{
	static const unsigned lens[] = {1, 5, 63};
	static const uint8_t bad[] = {0xc0, 0x40, 0x80, 0xbf, 0xff};
	size_t n = 0;

	/* the root; 1..12 labels of 1, 5 and 63 octets while they fit */
	names[n].len = make_name(names[n].w, 0, 0);
	n++;
	for (unsigned l = 1; l <= 12; l++)
		for (size_t i = 0; i < 3; i++) {
			if (l * (lens[i] + 1) + 1 > 300)
				continue;
			names[n].len = make_name(names[n].w, l, lens[i]);
			n++;
		}
	/* 255, 256 and 257 octets in four labels */
	for (unsigned last = 61; last <= 63; last++) {
		make_name(names[n].w, 3, 63);
		names[n].w[192] = (uint8_t)last;
		memset(names[n].w + 193, 'z', last);
		names[n].w[193 + last] = 0;
		names[n].len = 194 + last;
		n++;
	}
	/* 255 and 257 octets in labels of one */
	names[n].len = make_name(names[n].w, 127, 1);
	n++;
	names[n].len = make_name(names[n].w, 128, 1);
	n++;
	/* a 63-octet and a 64-octet first label */
	names[n].len = make_name(names[n].w, 1, 63);
	n++;
	names[n].len = make_name(names[n].w, 1, 63);
	names[n].w[0] = 64;
	n++;
	/* pointers and reserved label types after 0..8 labels */
	for (unsigned l = 0; l <= 8; l++)
		for (size_t b = 0; b < sizeof(bad); b++) {
			size_t off = make_name(names[n].w, l, 3) - 1;

			names[n].w[off] = bad[b];
			names[n].w[off + 1] = 0x0c;
			names[n].w[off + 2] = 0;
			names[n].len = off + 3;
			n++;
		}
	assert_true(n <= max);
	return n;
}

static const uint16_t vector_qtypes[] = {T_A,	 T_NS,	 T_PTR, 15,    T_TXT,
					 T_AAAA, 46,	 48,	T_ANY, 0,
					 65535,	 65280,	 65299, 65300, 65279,
					 99,	 100,	 101,	102,   252,
					 256,	 0x0100, 0xff00};

/* Header flags and QDCOUNT of the vectors. */
static const uint16_t vector_headers[][2] = {
	{0x0100, 1}, /* query, RD */
	{0x0000, 1}, /* query */
	{0x8180, 1}, /* response */
	{0x1100, 1}, /* opcode 2 */
	{0x0100, 0}, {0x0100, 2}, {0x0100, 257},
};

static void check_all_wraps(const char *what, const uint8_t *dns, size_t dlen)
{
	uint8_t pkt[PKT_MAX];

	for (size_t w = 0; w < NWRAPS; w++) {
		size_t len = wrap_msg(&wraps[w], dns, dlen, pkt);

		check(what, pkt, len);
	}
}

/* Each vector in every wrapping, whole. */
static void test_vectors(void **state)
{
	static struct name names[128];
	size_t nn = vector_names(names, 128);
	uint8_t dns[600];

	(void)state;
	for (size_t i = 0; i < nn; i++)
		for (size_t h = 0; h < 7; h++)
			for (size_t t = 0; t < sizeof(vector_qtypes) /
						       sizeof(vector_qtypes[0]);
			     t++) {
				/* other headers with a few types only */
				if (h > 1 && t > 9)
					continue;
				for (int e = 0; e < 2; e++) {
					size_t len = dns_msg(
						dns, vector_headers[h][0],
						vector_headers[h][1],
						names[i].w, names[i].len,
						vector_qtypes[t], e);

					check_all_wraps("vector", dns, len);
				}
			}
}

/* Cut at every octet: the capture (or the packet) ends anywhere. */
static void check_cuts(const char *what, const uint8_t *pkt, size_t len)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);

	assert_non_null(copy);
	for (size_t cut = 0; cut <= len; cut++) {
		/* a private copy of exactly cut octets: ASan sees overruns */
		uint8_t *c = copy + (len - cut);

		memcpy(c, pkt, cut);
		check(what, c, cut);
	}
	free(copy);
}

static void test_truncated(void **state)
{
	static const unsigned labels[][2] = {{0, 0},  {3, 5},  {7, 1},	{8, 1},
					     {7, 33}, {3, 63}, {9, 10}, {2, 1}};
	static const uint16_t types[] = {T_A, T_ANY, T_TXT, 65290};
	static const char *const wrap_names[] = {
		"ipv4", "ipv4 options 4",  "ipv4 options 40",
		"ipv6", "ipv6 hop-by-hop", "ipv6 atomic fragment"};
	uint8_t name[400], dns[600], pkt[PKT_MAX];

	(void)state;
	for (size_t l = 0; l < sizeof(labels) / sizeof(labels[0]); l++)
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
			for (size_t w = 0; w < 6; w++) {
				size_t nlen = make_name(name, labels[l][0],
							labels[l][1]);
				size_t dlen = dns_msg(dns, 0x0100, 1, name,
						      nlen, types[t], t & 1);
				size_t len = wrap_msg(wrap_named(wrap_names[w]),
						      dns, dlen, pkt);

				check_cuts("cut", pkt, len);
			}
}

/* A long query (1200 octets of padding): the question decides. */
static void test_long_packet(void **state)
{
	uint8_t name[64], dns[1500], pkt[PKT_MAX];
	size_t nlen = make_name(name, 3, 7);
	size_t dlen = dns_msg(dns, 0x0100, 1, name, nlen, T_A, true);
	unsigned passed = 0;

	(void)state;
	/* an EDNS padding option's worth of zeros after the OPT record */
	memset(dns + dlen, 0, 1200);
	dlen += 1200;
	for (size_t w = 0; w < NWRAPS; w++) {
		size_t len = wrap_msg(&wraps[w], dns, dlen, pkt);
		bool r;

		assert_true(len > 1200);
		check("long", pkt, len);
		r = run(&pols[POL_MISSION].prog[wraps[w].family == 6], pkt,
			len) != 0;
		if (r != !wraps[w].queued)
			fail_msg("%s: accepted %d", wraps[w].what, r);
		passed += r;
	}
	assert_int_equal(passed, 22);
}

static int read_file(const char *path, uint8_t *buf, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return -errno;
	*len = fread(buf, 1, max, f);
	fclose(f);
	return 0;
}

/*
 * Every file of a corpus as a packet (whole and cut) and as a payload.
 * The prefilter target's inputs start with a mode octet (see
 * fuzz_prefilter.c), then a packet or a payload (after three more octets
 * in mode 3): skip 1 or 4 octets.
 */
static unsigned check_corpus(const char *sub, size_t skip)
{
	char dir[256], path[512];
	uint8_t buf[PKT_MAX];
	struct dirent *de;
	unsigned files = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", CORPUS_DIR, sub);
	d = opendir(dir);
	if (d == NULL)
		fail_msg("%s: %s (run from the top of the tree)", dir,
			 strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t len = 0, off;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		assert_int_equal(read_file(path, buf, 1500, &len), 0);
		off = skip > 0 && len > 0 && (buf[0] & 3) == 3 ? 4 : skip;
		assert_true(len >= off);
		check_cuts(path, buf + off, len - off);
		check_all_wraps(path, buf + off, len - off);
		files++;
	}
	closedir(d);
	return files;
}

static void test_corpora(void **state)
{
	(void)state;
	assert_true(check_corpus("packet", 0) >= 29);
	assert_true(check_corpus("prefilter", 1) >= 20);
}

/*
 * The shapes beyond the base ones (shapes.h: IPv6 extension header chains
 * of 0 to 40 headers, hop-by-hop late, routing and AH headers, UDP length
 * 0, first and atomic fragments, IPv4 options) with a set of messages:
 * names with and without pointers, queries and responses, named and free
 * qtypes.
 */
static void test_shapes(void **state)
{
	static struct shape more[512];
	static struct name names[128];
	static const uint16_t types[] = {T_A, T_ANY, T_TXT, 65290, 100, 0};
	static const size_t pick[] = {0, 1, 5, 12, 20, 30, 40, 41, 45, 50};
	size_t nmore = shape_more(more, 512);
	size_t nn = vector_names(names, 128);
	uint8_t dns[600], pkt[PKT_MAX];
	unsigned long before = seen.packets;

	(void)state;
	assert_true(nmore > 300 && nmore < 512);
	for (size_t s = 0; s < nmore; s++)
		for (size_t i = 0; i < sizeof(pick) / sizeof(pick[0]); i++) {
			size_t ni = pick[i] < nn ? pick[i] : nn - 1;

			for (size_t h = 0; h < 3; h++)
				for (size_t t = 0;
				     t < sizeof(types) / sizeof(types[0]);
				     t++) {
					size_t dlen = dns_msg(
						dns, vector_headers[h][0],
						vector_headers[h][1],
						names[ni].w, names[ni].len,
						types[t], t & 1);
					size_t len = shape_build(&more[s], dns,
								 dlen, pkt);

					check(more[s].what, pkt, len);
				}
		}
	/* the pointer and reserved-label names, in a few shapes */
	for (size_t s = 0; s < nmore; s += 7)
		for (size_t i = nn - 45; i < nn; i++) {
			size_t dlen = dns_msg(dns, 0x0100, 1, names[i].w,
					      names[i].len, T_ANY, false);
			size_t len = shape_build(&more[s], dns, dlen, pkt);

			check(more[s].what, pkt, len);
		}
	assert_true(seen.packets - before > 50000);
}

/*
 * A message cut at every octet, carried whole (the IP and UDP lengths say
 * the cut length): the question ends anywhere.
 */
static void test_message_cuts(void **state)
{
	static struct shape more[512];
	size_t nmore = shape_more(more, 512);
	uint8_t name[400], dns[600], pkt[PKT_MAX];
	static const unsigned labels[][2] = {{0, 0}, {3, 5}, {8, 1}, {4, 63}};

	(void)state;
	for (size_t l = 0; l < sizeof(labels) / sizeof(labels[0]); l++) {
		size_t nlen = make_name(name, labels[l][0], labels[l][1]);
		size_t dlen = dns_msg(dns, 0x0100, 1, name, nlen, T_ANY, true);

		for (size_t cut = 0; cut <= dlen; cut++) {
			check_all_wraps("message cut", dns, cut);
			for (size_t s = 0; s < nmore; s += 11) {
				size_t len =
					shape_build(&more[s], dns, cut, pkt);

				check(more[s].what, pkt, len);
			}
		}
	}
}

/*
 * What the programs do with a whole message that is no standard query:
 * they accept it when its question would pass (they read neither QR, nor
 * the opcode, nor QDCOUNT), as policy_decide accepts it unjudged.  Pinned
 * here so that a change is seen; see check().
 */
static void test_nonstandard(void **state)
{
	static const uint16_t hdr[][2] = {
		{0x8180, 1}, {0x2100, 1}, {0x0100, 0}, {0x0100, 2}};
	uint8_t name[64], dns[128], pkt[PKT_MAX];
	size_t nlen = make_name(name, 3, 5);

	(void)state;
	for (size_t h = 0; h < sizeof(hdr) / sizeof(hdr[0]); h++)
		for (int f = 0; f < 2; f++) {
			size_t dlen = dns_msg(dns, hdr[h][0], hdr[h][1], name,
					      nlen, T_A, false);
			size_t len = wrap_msg(wrap_named(f ? "ipv6" : "ipv4"),
					      dns, dlen, pkt);
			struct oracle o;

			assert_int_equal(oracle_classify(pols[POL_MISSION].cfg,
							 pkt, len, NULL, &o),
					 ORACLE_OTHER);
			assert_int_equal(o.dns, ORACLE_DNS_NOT_QUERY);
			assert_int_equal(
				run(&pols[POL_MISSION].prog[f], pkt, len), 1);
		}
}

/*
 * A rule's positive program (kernel holds) matches the standard queries
 * of its types that it reads whole, with or without EDNS, and nothing of
 * the same shape that is no standard query or of another type: the
 * mission rule's program, on names of 1 to 6 labels, IPv4 and IPv6.
 */
static void test_positive(void **state)
{
	static const uint16_t hdr[][2] = {
		{0x8180, 1}, {0x2100, 1}, {0x0100, 0}, {0x0100, 2}};
	const struct pol *p = &pols[POL_MISSION];
	uint8_t name[300], dns[512], pkt[PKT_MAX];

	(void)state;
	assert_int_equal(p->npos, 1);
	for (unsigned labels = 1; labels <= 6; labels++) {
		size_t nlen = make_name(name, labels, 7);

		for (int f = 0; f < 2; f++) {
			const struct shape *w = wrap_named(f ? "ipv6" : "ipv4");
			size_t dlen, len;

			for (int edns = 0; edns < 2; edns++) {
				dlen = dns_msg(dns, 0x0100, 1, name, nlen,
					       T_ANY, edns);
				len = wrap_msg(w, dns, dlen, pkt);
				assert_int_equal(
					run_insn(p->pos[0][f], pkt, len), 1);
				dlen = dns_msg(dns, 0x0100, 1, name, nlen,
					       T_TXT, edns);
				len = wrap_msg(w, dns, dlen, pkt);
				assert_int_equal(
					run_insn(p->pos[0][f], pkt, len), 0);
			}
			for (size_t h = 0; h < sizeof(hdr) / sizeof(hdr[0]);
			     h++) {
				dlen = dns_msg(dns, hdr[h][0], hdr[h][1], name,
					       nlen, T_ANY, false);
				len = wrap_msg(w, dns, dlen, pkt);
				assert_int_equal(
					run_insn(p->pos[0][f], pkt, len), 0);
			}
		}
	}
	/* a rule with a qname has none: a name is not matched here */
	{
		struct prefilter_prog pp;
		char why[PREFILTER_WHY_MAX];

		assert_int_equal(
			prefilter_compile_rule(&pols[POL_DESIGN].cfg->rules[1],
					       AF_INET, &pp, why, sizeof(why)),
			-ENOTSUP);
		assert_string_equal(why, "rule big-txt is not a query rule of "
					 "types alone");
	}
}

/* --- What the programs accept ------------------------------------------ */

/* A query from the attacker to port 53, IPv4 or IPv6. */
static size_t query(uint8_t *pkt, int family, const uint8_t *name, size_t nlen,
		    uint16_t qtype)
{
	uint8_t dns[600];
	size_t dlen = dns_msg(dns, 0x0100, 1, name, nlen, qtype, false);

	return wrap_msg(wrap_named(family == 4 ? "ipv4" : "ipv6"), dns, dlen,
			pkt);
}

/* Every qtype: accepted exactly when no rule names it. */
static void test_qtype_sweep(void **state)
{
	uint8_t name[64], pkt[PKT_MAX];
	size_t nlen = make_name(name, 3, 7);

	(void)state;
	for (int i = 0; i < POL_N; i++) {
		unsigned long acc[2] = {0, 0}, want = 0;

		for (uint32_t t = 0; t <= 0xffff; t++) {
			bool free_type =
				!oracle_named(pols[i].cfg, (uint16_t)t);

			want += free_type;
			for (int f = 0; f < 2; f++) {
				size_t len = query(pkt, f ? 6 : 4, name, nlen,
						   (uint16_t)t);
				bool r = run_insn(pols[i].insn[f], pkt, len);

				if (r != free_type)
					fail_msg("policy %d IPv%d qtype %u: "
						 "program says %d",
						 i, f ? 6 : 4, t, r);
				acc[f] += r;
			}
		}
		assert_int_equal(acc[0], want);
		assert_int_equal(acc[1], want);
		if (i == POL_MISSION)
			assert_int_equal(want, 65535);
		if (i == POL_NORULES)
			assert_int_equal(want, 65536);
	}
}

/*
 * Plain A, AAAA and PTR queries are accepted for names of up to `labels`
 * labels, each label of 1 to 63 octets; one label more goes to the queue.
 */
static void test_label_depth(void **state)
{
	static const uint16_t types[] = {T_A, T_AAAA, T_PTR};
	static const unsigned lab[] = {1, 2, 10, 31, 63};
	uint8_t name[400], pkt[PKT_MAX];
	unsigned accepted = 0;

	(void)state;
	assert_int_equal(pols[POL_MISSION].prog[0].labels, 7);
	assert_int_equal(pols[POL_MISSION].prog[1].labels, 8);
	for (int f = 0; f < 2; f++) {
		const struct prefilter_prog *p = &pols[POL_MISSION].prog[f];

		for (unsigned l = 0; l <= p->labels + 1; l++) {
			for (size_t s = 0; s < 5; s++) {
				size_t nlen = l * (lab[s] + 1) + 1;
				bool want = l <= p->labels &&
					    nlen <= DNS_NAME_MAX;

				if (nlen > 300)
					continue;
				make_name(name, l, lab[s]);
				for (size_t t = 0; t < 3; t++) {
					size_t len = query(pkt, f ? 6 : 4, name,
							   nlen, types[t]);
					bool r = run(p, pkt, len) != 0;

					if (r != want)
						fail_msg("IPv%d %u labels of "
							 "%u: want %d",
							 f ? 6 : 4, l, lab[s],
							 want);
					accepted += r;
				}
			}
		}
	}
	/* 0..7 (IPv4) and 0..8 labels of each length while within 255 */
	assert_int_equal(accepted, 3 * (8 + 8 + 8 + 8 + 4 + 9 + 9 + 9 + 8 + 4));
}

/* Names as resolvers send them. */
static void test_common_names(void **state)
{
	static const struct {
		const char *name;
		uint16_t qtype;
		bool v4, v6; /* accepted under POL_MISSION */
	} cases[] = {
		{"www.big.example", T_A, true, true},
		{"www.big.example", T_ANY, false, false},
		{"10.100.51.198.in-addr.arpa", T_PTR, true, true},
		{"a.b.c.d.e.f.g", T_AAAA, true, true},
		{"a.b.c.d.e.f.g.h", T_AAAA, false, true},
		{"a.b.c.d.e.f.g.h.i", T_AAAA, false, false},
		/* IPv6 reverse names have 34 labels: always queued */
		{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0."
		 "0.2.ip6.arpa",
		 T_PTR, false, false},
	};
	uint8_t dns[600], pkt[PKT_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t dlen =
			pkt_dns_query(dns, 1, cases[i].name, cases[i].qtype);

		for (int f = 0; f < 2; f++) {
			size_t len = wrap_msg(wrap_named(f ? "ipv6" : "ipv4"),
					      dns, dlen, pkt);

			if (run(&pols[POL_MISSION].prog[f], pkt, len) !=
			    (f ? cases[i].v6 : cases[i].v4))
				fail_msg("%s type %u IPv%d", cases[i].name,
					 cases[i].qtype, f ? 6 : 4);
		}
	}
}

/* --- Sizes, fallbacks, text --------------------------------------------- */

static void compile_text(const char *text, int family, int want_rc,
			 size_t want_len, unsigned want_labels)
{
	struct config *cfg = parse(text);
	struct prefilter_prog p;
	char why[PREFILTER_WHY_MAX];
	int rc = prefilter_compile(cfg, family, &p, why, sizeof(why));

	assert_int_equal(rc, want_rc);
	assert_int_equal(p.len, want_len);
	assert_int_equal(p.labels, want_labels);
	if (rc == 0)
		assert_string_equal(why, "");
	config_free(cfg);
}

static void test_sizes(void **state)
{
	char text[4096];

	(void)state;
	/* ANY: 18 + 6 * 7 + 1 and 15 + 6 * 8 + 1 */
	assert_int_equal(pols[POL_MISSION].prog[0].len, 61);
	assert_int_equal(pols[POL_MISSION].prog[1].len, 64);
	/* ANY TXT RRSIG DNSKEY */
	assert_int_equal(pols[POL_DESIGN].prog[0].len, 64);
	assert_int_equal(pols[POL_DESIGN].prog[0].labels, 7);
	assert_int_equal(pols[POL_DESIGN].prog[1].len, 61);
	assert_int_equal(pols[POL_DESIGN].prog[1].labels, 7);
	/* A AAAA PTR */
	assert_int_equal(pols[POL_PLAIN].prog[0].len, 63);
	assert_int_equal(pols[POL_PLAIN].prog[1].len, 60);
	assert_int_equal(pols[POL_PLAIN].prog[1].labels, 7);
	/* TXT, 100-101, ANY, 65280-65299: 1 + 2 + 1 + 2 comparisons */
	assert_int_equal(pols[POL_RUNS].prog[0].len, 18 + 6 * 6 + 6);
	assert_int_equal(pols[POL_RUNS].prog[0].labels, 6);
	assert_int_equal(pols[POL_RUNS].prog[1].len, 15 + 6 * 7 + 6);
	assert_int_equal(pols[POL_RUNS].prog[1].labels, 7);
	/* nothing named */
	assert_int_equal(pols[POL_NORULES].prog[0].len, 60);
	assert_int_equal(pols[POL_NORULES].prog[1].len, 63);
	assert_int_equal(pols[POL_NORULES].prog[1].labels, 8);

	/* 28 lone types leave IPv4 exactly 3 labels; 29 none */
	compile_text(types_rule("r", 28, 1000, 2), AF_INET, 0, 64, 3);
	compile_text(types_rule("r", 29, 1000, 2), AF_INET, -ENOTSUP, 0, 0);
	compile_text(types_rule("r", 29, 1000, 2), AF_INET6, 0, 62, 3);
	compile_text(types_rule("r", 31, 1000, 2), AF_INET6, 0, 64, 3);
	compile_text(types_rule("r", 32, 1000, 2), AF_INET6, -ENOTSUP, 0, 0);
	/* 32 consecutive ones are one range test */
	compile_text(types_rule("r", 32, 1000, 1), AF_INET, 0, 62, 7);
	/* the union: two rules, the same 32 types, and 32 more */
	snprintf(text, sizeof(text), "%s%s", types_rule("r1", 32, 1000, 2),
		 types_rule("r2", 32, 1000, 2));
	compile_text(text, AF_INET6, -ENOTSUP, 0, 0);
	snprintf(text, sizeof(text), "%s%s", types_rule("r1", 16, 1000, 2),
		 types_rule("r2", 16, 1000, 2));
	compile_text(text, AF_INET, 0, 18 + 6 * 5 + 16, 5);
	/* pairs cost two, runs of three and more two */
	compile_text(types_rule("r", 2, 1000, 1), AF_INET, 0, 18 + 42 + 2, 7);
	compile_text(types_rule("r", 3, 1000, 1), AF_INET, 0, 18 + 42 + 2, 7);
}

static void test_fallback(void **state)
{
	static const char qname_only[] = "rule any-abuse {\n\tqtype "
					 "ANY\n\tlimit 2/5s\n}\n"
					 "rule big-txt {\n\tqname "
					 "example.net\n\tlimit 20/1s\n}\n";
	struct config *cfg = parse(qname_only);
	struct prefilter_prog p;
	char why[PREFILTER_WHY_MAX], line[512];

	(void)state;
	for (int i = 0; i < 2; i++) {
		memset(&p, 0xa5, sizeof(p));
		assert_int_equal(prefilter_compile(cfg, i ? AF_INET6 : AF_INET,
						   &p, why, sizeof(why)),
				 -ENOTSUP);
		assert_string_equal(why, "rule big-txt names no qtype, so any "
					 "query may match it");
		assert_int_equal(p.len, 0);
	}
	/* a short buffer gets what fits */
	assert_int_equal(prefilter_compile(cfg, AF_INET, &p, why, 5), -ENOTSUP);
	assert_string_equal(why, "rule");
	assert_int_equal(prefilter_compile(cfg, AF_PACKET, &p, why, 5),
			 -EAFNOSUPPORT);
	assert_int_equal(prefilter_describe(cfg, line, sizeof(line)), -ENOTSUP);
	assert_string_equal(line, "prefilter: none, every UDP/53 query is "
				  "queued: rule big-txt names no qtype, so "
				  "any query may match it");

	config_free(cfg);

	/* one family without a program */
	cfg = parse(types_rule("many", 30, 2000, 3));
	assert_int_equal(prefilter_describe(cfg, line, sizeof(line)), -ENOTSUP);
	assert_string_equal(line, "prefilter: IPv4 none, every query queued: "
				  "30 qtypes leave no room for 3 labels in 64 "
				  "instructions; IPv6 63 instructions, up to "
				  "3 labels");
	config_free(cfg);
}

static void test_describe(void **state)
{
	char line[512], small[20];

	(void)state;
	assert_int_equal(prefilter_describe(pols[POL_MISSION].cfg, line,
					    sizeof(line)),
			 0);
	assert_string_equal(line, "prefilter: IPv4 61 instructions, IPv6 64; "
				  "queries for names of up to 7 labels (IPv6: "
				  "8) are accepted in the kernel unless their "
				  "type is ANY");
	assert_int_equal(
		prefilter_describe(pols[POL_RUNS].cfg, line, sizeof(line)), 0);
	assert_non_null(strstr(line, "unless their type is TXT, TYPE100, "
				     "TYPE101, ANY, TYPE65280, "));
	assert_non_null(strstr(line, ", TYPE65299"));
	assert_int_equal(prefilter_describe(pols[POL_NORULES].cfg, line,
					    sizeof(line)),
			 0);
	assert_non_null(strstr(line, "their type is (no rule names a type)"));
	/* cut to the buffer */
	assert_int_equal(prefilter_describe(pols[POL_MISSION].cfg, small,
					    sizeof(small)),
			 0);
	assert_string_equal(small, "prefilter: IPv4 61 ");
}

/* Reads --bytecode text the way iptables' libxt_bpf does. */
static size_t parse_bytecode(const char *s, struct sock_filter *out, size_t max)
{
	unsigned short len;
	const char *tok = s;
	size_t i = 0;
	char sp;

	if (sscanf(s, "%hu%c", &len, &sp) != 2 || sp != ',' || len == 0)
		return 0;
	while ((tok = strchr(tok, ',')) != NULL && (++tok)[0] != '\0') {
		if (i >= len || i >= max)
			return 0;
		if (sscanf(tok, "%hu %hhu %hhu %u,", &out[i].code, &out[i].jt,
			   &out[i].jf, &out[i].k) != 4)
			return 0;
		i++;
	}
	return i == len ? i : 0;
}

static void test_text(void **state)
{
	static const char seps[] = {' ', '+'};
	struct sock_filter back[PREFILTER_INSNS_MAX];
	char text[PREFILTER_TEXT_MAX], small[40];
	struct prefilter_prog big;

	(void)state;
	for (int i = 0; i < POL_N; i++)
		for (int f = 0; f < 2; f++)
			for (size_t s = 0; s < 2; s++) {
				const struct prefilter_prog *p =
					&pols[i].prog[f];

				assert_int_equal(prefilter_bytecode_text(
							 p, seps[s], text,
							 sizeof(text)),
						 0);
				assert_int_equal(
					parse_bytecode(text, back,
						       PREFILTER_INSNS_MAX),
					p->len);
				assert_memory_equal(back, p->insn,
						    p->len * sizeof(back[0]));
				/* the '+' form is one shell word */
				if (seps[s] == '+')
					assert_null(strpbrk(text, " \t\"'\\"));
			}
	assert_int_equal(prefilter_bytecode_text(&pols[POL_MISSION].prog[0],
						 ' ', text, sizeof(text)),
			 0);
	assert_int_equal(
		strncmp(text, "61,40 0 0 6,69 58 0 16383,177 0 0 0,", 36), 0);
	assert_non_null(strstr(text, ",21 1 0 255,6 0 0 1,6 0 0 0"));
	assert_int_equal(strlen(strstr(text, ",6 0 0 0")), 8);

	/* too small: nothing; other separators and programs refused */
	strcpy(small, "x");
	assert_int_equal(prefilter_bytecode_text(&pols[POL_MISSION].prog[0],
						 ' ', small, sizeof(small)),
			 -ENOSPC);
	assert_string_equal(small, "");
	assert_int_equal(prefilter_bytecode_text(&pols[POL_MISSION].prog[0],
						 ',', text, sizeof(text)),
			 -EINVAL);
	memset(&big, 0, sizeof(big));
	assert_int_equal(prefilter_bytecode_text(&big, ' ', text, sizeof(text)),
			 -EINVAL);
	/* the longest text there can be fits */
	for (size_t i = 0; i < PREFILTER_INSNS_MAX; i++)
		big.insn[i] =
			(struct sock_filter){0xffff, 255, 255, UINT32_MAX};
	big.len = PREFILTER_INSNS_MAX;
	assert_int_equal(prefilter_bytecode_text(&big, ' ', text, sizeof(text)),
			 0);
	assert_int_equal(parse_bytecode(text, back, PREFILTER_INSNS_MAX),
			 PREFILTER_INSNS_MAX);
	big.len = PREFILTER_INSNS_MAX + 1;
	assert_int_equal(prefilter_bytecode_text(&big, ' ', text, sizeof(text)),
			 -EINVAL);
}

static void test_same(void **state)
{
	struct config *a = parse(policy_text[POL_MISSION]);
	struct config *b = parse("malformed drop\nallow 203.0.113.0/24\n"
				 "rule other-name {\n\tqtype ANY\n"
				 "\tlimit 9/1s\n\taction log\n}\n");
	struct config *c = parse("rule r {\n\tqtype ANY TXT\n\tlimit "
				 "1/1s\n}\n");
	struct config *d = parse("rule r {\n\tqname a.example\n"
				 "\tlimit 1/1s\n}\n");
	struct config *e = parse("rule s {\n\tqname b.example\n"
				 "\tlimit 1/1s\n}\n");

	(void)state;
	assert_true(prefilter_same(a, a));
	/* only the set of qtypes counts */
	assert_true(prefilter_same(a, b));
	assert_false(prefilter_same(a, c));
	assert_false(prefilter_same(c, a));
	/* no program either way: nothing to reinstall */
	assert_true(prefilter_same(d, e));
	assert_false(prefilter_same(a, d));
	assert_false(prefilter_same(d, a));
	/* the same set given in two rules */
	config_free(b);
	b = parse("rule r1 {\n\tqtype TXT\n\tlimit 1/1s\n}\n"
		  "rule r2 {\n\tqname x.example\n\tqtype ANY TXT\n"
		  "\tlimit 5/1s\n}\n");
	assert_true(prefilter_same(b, c));
	config_free(a);
	config_free(b);
	config_free(c);
	config_free(d);
	config_free(e);
}

/*
 * What the kernel's checker asks of a classic program, and libpcap's:
 * jumps forward and inside, a return at every end, scratch words read
 * only after a store on every path; and no instruction unreachable.
 */
static void assert_valid(const struct prefilter_prog *p)
{
	struct bpf_insn insn[PREFILTER_INSNS_MAX];
	uint16_t stored[PREFILTER_INSNS_MAX];
	bool reach[PREFILTER_INSNS_MAX] = {false};

	assert_true(p->len >= 2 && p->len <= PREFILTER_INSNS_MAX);
	to_pcap(p, insn);
	assert_true(bpf_validate(insn, (int)p->len));
	reach[0] = true;
	stored[0] = 0;
	for (size_t i = 0; i < p->len; i++) {
		const struct sock_filter *f = &p->insn[i];
		uint16_t m = stored[i];
		size_t next[2];
		int nnext = 0;

		assert_true(reach[i]);
		switch (BPF_CLASS(f->code)) {
		case BPF_RET:
			continue;
		case BPF_ST:
		case BPF_STX:
			assert_true(f->k < BPF_MEMWORDS);
			m |= (uint16_t)(1u << f->k);
			break;
		case BPF_LD:
		case BPF_LDX:
			if (BPF_MODE(f->code) == BPF_MEM)
				assert_true(f->k < BPF_MEMWORDS &&
					    (m & (1u << f->k)));
			break;
		default:
			break;
		}
		if (BPF_CLASS(f->code) == BPF_JMP) {
			assert_int_not_equal(BPF_OP(f->code), BPF_JA);
			next[nnext++] = i + 1 + f->jt;
			next[nnext++] = i + 1 + f->jf;
		} else {
			next[nnext++] = i + 1;
		}
		for (int j = 0; j < nnext; j++) {
			assert_true(next[j] < p->len);
			if (!reach[next[j]])
				stored[next[j]] = m;
			else
				stored[next[j]] &= m;
			reach[next[j]] = true;
		}
	}
	assert_int_equal(p->insn[p->len - 1].code, BPF_RET | BPF_K);
	assert_int_equal(p->insn[p->len - 1].k, 0);
}

static void test_valid(void **state)
{
	struct config *cfg;
	struct prefilter_prog p;

	(void)state;
	for (int i = 0; i < POL_N; i++)
		for (int f = 0; f < 2; f++)
			assert_valid(&pols[i].prog[f]);
	for (unsigned n = 0; n <= 32; n++) {
		cfg = parse(
			types_rule("r", n == 0 ? 1 : n, 3000 + n, 1 + n % 3));
		for (int f = 0; f < 2; f++)
			if (prefilter_compile(cfg, f ? AF_INET6 : AF_INET, &p,
					      NULL, 0) == 0)
				assert_valid(&p);
		config_free(cfg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_qtype_sweep),
		cmocka_unit_test(test_label_depth),
		cmocka_unit_test(test_common_names),
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_message_cuts),
		cmocka_unit_test(test_nonstandard),
		cmocka_unit_test(test_positive),
		cmocka_unit_test(test_long_packet),
		cmocka_unit_test(test_corpora),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_same),
	};

	return cmocka_run_group_tests(tests, setup_pols, teardown_pols);
}
