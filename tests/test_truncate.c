/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The rewrite of a DNS answer into a truncated one.  Answers are built
 * with ldns (truncate_helpers.h) or by hand where ldns would not write
 * the shape, wrapped in IPv4 or IPv6 (options, extension headers),
 * rewritten, and the result checked by truncate_oracle.h (plain checksum
 * sums, ldns_wire2pkt on the rewrite and on the original) and against
 * what the test asked ldns to build.  Then what must not be rewritten:
 * queries, malformed and cut answers, fragments, routing headers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ldns/ldns.h>

#include "truncate.h"
#include "truncate_helpers.h"
#include "truncate_oracle.h"

#define PKT_MAX 70000

/* ---- the check of one rewrite ---- */

static ldns_pkt *parse(const uint8_t *m, size_t n)
{
	ldns_pkt *p = NULL;

	assert_int_equal(ldns_wire2pkt(&p, m, n), LDNS_STATUS_OK);
	return p;
}

/* Runs truncate_answer on a private copy of exactly len octets. */
static enum truncate_status run(const uint8_t *pkt, size_t len, uint8_t *out,
				size_t outlen, size_t *used)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	enum truncate_status st;

	assert_non_null(copy);
	memcpy(copy, pkt, len);
	st = truncate_answer(copy, len, out, outlen, used);
	assert_memory_equal(copy, pkt, len); /* pkt is only read */
	free(copy);
	if (st != TRUNCATE_OK)
		assert_int_equal(*used, 0);
	return st;
}

/* The OPT RR as the test wrote it: owner ., type, class, TTL, RDATA. */
static size_t expected_opt(const struct spec *s, uint8_t *b)
{
	size_t rdlen = s->cookie ? sizeof(cookie) : 0;

	b[0] = 0;
	put16(b + 1, LDNS_RR_TYPE_OPT);
	put16(b + 3, 1232);
	put16(b + 5, opt_ttl(s) >> 16);
	put16(b + 7, opt_ttl(s) & 0xffff);
	put16(b + 9, (unsigned int)rdlen);
	memcpy(b + 11, cookie, rdlen);
	return 11 + rdlen;
}

/* The rewrite of the answer s described, beyond what the oracle checks. */
static void check_dns(const struct spec *s, const uint8_t *orig, size_t olen,
		      const uint8_t *m, size_t n)
{
	ldns_pkt *b = parse(m, n);
	bool has_opt = s->opt != OPT_NONE;
	uint8_t opt[64];
	size_t optlen = has_opt ? expected_opt(s, opt) : 0;
	const char *err = oracle_dns(orig, olen, m, n, true);

	if (err != NULL)
		fail_msg("%s", err);
	assert_int_equal(ldns_pkt_id(b), s->id);
	assert_int_equal(ldns_pkt_get_opcode(b), s->opcode);
	assert_true(ldns_pkt_tc(b));
	assert_int_equal(ldns_pkt_rd(b), !!(s->flags & F_RD));
	assert_int_equal(ldns_pkt_ra(b), !!(s->flags & F_RA));
	assert_int_equal(ldns_pkt_cd(b), !!(s->flags & F_CD));
	assert_false(ldns_pkt_aa(b));
	assert_false(ldns_pkt_ad(b));
	assert_int_equal(m[3] & 0x40, 0); /* Z */
	assert_int_equal(ldns_pkt_get_rcode(b), s->rcode);
	assert_int_equal(oracle_get16(m + 10), has_opt ? 1 : 0);
	assert_int_equal(
		ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_question(b), 0)),
		s->qtype);

	/* the OPT as the test wrote it, and as ldns reads it */
	assert_int_equal(ldns_pkt_edns(b), has_opt);
	assert_int_equal(ldns_pkt_edns_udp_size(b), has_opt ? 1232 : 0);
	assert_int_equal(ldns_pkt_edns_extended_rcode(b), s->ext_rcode);
	assert_int_equal(ldns_pkt_edns_version(b), has_opt ? s->version : 0);
	assert_int_equal(ldns_pkt_edns_do(b), has_opt && s->do_bit);
	assert_int_equal(ldns_pkt_edns_data(b) != NULL, has_opt && s->cookie);
	assert_null(ldns_pkt_tsig(b));
	assert_memory_equal(m + n - optlen, opt, optlen);
	ldns_pkt_free(b);
}

/*
 * Rewrites pkt[0..len) (the answer dns[0..dlen) of spec s at udp_off) and
 * checks the result; also with an out buffer of exactly the needed size,
 * and one octet short.
 */
static void check_rewrite(const struct spec *s, const uint8_t *pkt, size_t len,
			  size_t udp_off, const uint8_t *dns, size_t dlen)
{
	static uint8_t out[PKT_MAX], out2[PKT_MAX];
	size_t used = 1, used2 = 1, dns_off = 0;
	const char *err;

	memset(out, 0xa5, len + 16);
	assert_int_equal(run(pkt, len, out, PKT_MAX, &used), TRUNCATE_OK);
	for (size_t i = used; i < len + 16; i++)
		assert_int_equal(out[i], 0xa5);
	err = oracle_frame(pkt, len, out, used, &dns_off);
	if (err != NULL)
		fail_msg("%s", err);
	assert_int_equal(dns_off, udp_off + 8);
	check_dns(s, dns, dlen, out + dns_off, used - dns_off);

	memset(out2, 0x5a, used);
	assert_int_equal(run(pkt, len, out2, used - 1, &used2),
			 TRUNCATE_NO_ROOM);
	for (size_t i = 0; i < used; i++)
		assert_int_equal(out2[i], 0x5a);
	assert_int_equal(run(pkt, len, out2, used, &used2), TRUNCATE_OK);
	assert_int_equal(used2, used);
	assert_memory_equal(out2, out, used);
}

/* Builds the answer for s inside v and checks its rewrite. */
static void check_spec(const struct spec *s, enum ipv v)
{
	static uint8_t pkt[PKT_MAX];
	size_t dlen, off, len;
	uint8_t *dns = build(s, &dlen);

	len = wrap(pkt, v, dns, dlen, &off);
	check_rewrite(s, pkt, len, off, dns, dlen);
	free(dns);
}

/* ---- the matrix ---- */

static char name255[256];

static const struct {
	const char *name;
	uint16_t qtype;
} questions[] = {
	{".", LDNS_RR_TYPE_NS},
	{name255, LDNS_RR_TYPE_ANY},
	{"WwW.ExAmPlE.CoM.", LDNS_RR_TYPE_TXT},
	{"example.net.", LDNS_RR_TYPE_ANY},
};

static int setup(void **state)
{
	char *n = name255;

	(void)state;
	/* 63.63.63.61: 4 + 250 octets and the root, 255 in all */
	for (int l = 0; l < 4; l++) {
		int len = l < 3 ? 63 : 61;

		memset(n, 'a' + l, (size_t)len);
		n += len;
		*n++ = '.';
	}
	*n = '\0';
	return 0;
}

/*
 * Every IP shape x question x OPT placement x sections x EDNS variant (no
 * extended RCODE, DO, no option / extended RCODE 1, no DO, a cookie /
 * 0xff, version 1, DO, a cookie), the header fields varying on the way.
 */
static void test_shapes(void **state)
{
	static const uint8_t ext[] = {0, 1, 0xff};
	const unsigned int total = IPV_N * 4 * 3 * 2 * 3;

	(void)state;
	for (unsigned int n = 0; n < total; n++) {
		unsigned int e = n % 3, sec = n / 3 % 2, o = n / 6 % 3;
		unsigned int q = n / 18 % 4, v = n / 72;
		struct spec s = {
			.qname = questions[q].name,
			.qtype = questions[q].qtype,
			.id = (uint16_t)(n * 977),
			.rcode = (uint8_t)(n % 16),
			.flags = n % 64,
			.sections = sec,
			.opt = (enum opt_place)o,
			.z = n % 5 == 0,
			.ext_rcode = o != OPT_NONE ? ext[e] : 0,
			.version = e == 2,
			.do_bit = e != 1,
			.cookie = e != 0,
		};

		check_spec(&s, (enum ipv)v);
	}
}

/* Every opcode x RCODE x flag combination, over IPv4 and IPv6. */
static void test_header_fields(void **state)
{
	static const enum ipv shapes[] = {V4_OPTIONS, V6_CHAIN};

	(void)state;
	for (unsigned int n = 0; n < 2 * 16 * 16 * 64; n++) {
		unsigned int f = n % 64, rc = n / 64 % 16, op = n / 1024 % 16;
		struct spec s = {
			.qname = "example.com.",
			.qtype = LDNS_RR_TYPE_TXT,
			.id = (uint16_t)n,
			.opcode = (uint8_t)op,
			.rcode = (uint8_t)rc,
			.flags = f,
			.z = rc & 2,
			.sections = op & 1,
			.opt = op & 2 ? OPT_LAST : OPT_NONE,
			.do_bit = true,
			.cookie = rc & 1,
		};

		check_spec(&s, shapes[n / 16384]);
	}
}

/* BADCOOKIE (23) and BADVERS (16): the upper bits travel in the OPT. */
static void test_extended_rcode(void **state)
{
	static const unsigned int rcodes[] = {16, 23, 4095};

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct spec s = {
			.qname = "example.com.",
			.qtype = LDNS_RR_TYPE_A,
			.id = 7,
			.rcode = rcodes[i] & 0x0f,
			.flags = F_RD | F_RA,
			.opt = OPT_LAST,
			.ext_rcode = (uint8_t)(rcodes[i] >> 4),
			.cookie = true,
		};

		check_spec(&s, V4);
		check_spec(&s, V6);
	}
}

/* A TSIG after the OPT is dropped; the OPT is kept. */
static void test_tsig_dropped(void **state)
{
	struct spec s = {
		.qname = "example.com.",
		.qtype = LDNS_RR_TYPE_SOA,
		.flags = F_RD | F_RA | F_AA,
		.sections = true,
		.opt = OPT_LAST,
		.cookie = true,
		.tsig = true,
	};

	(void)state;
	check_spec(&s, V4);
	s.opt = OPT_NONE;
	check_spec(&s, V6_HBH);
}

/* ---- hand-built answers, for shapes ldns would not write ---- */

/* example.com TXT IN: the question's name sits at offset 12 */
static const uint8_t question[] = {7,	'e', 'x', 'a', 'm', 'p', 'l', 'e', 3,
				   'c', 'o', 'm', 0,   0,   16,	 0,   1};
/* example.com (a pointer to the question) TXT "abc" */
static const uint8_t txt_rr[] = {0xc0, 0x0c, 0, 16, 0, 1,   0,	 0,
				 1,    0x2c, 0, 4,  3, 'a', 'b', 'c'};
/* ., OPT, 1232 octets, DO */
static const uint8_t opt_plain[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0};

/* Appends n octets to the message being built at m[*len). */
static void add(uint8_t *m, size_t *len, const void *b, size_t n)
{
	memcpy(m + *len, b, n);
	*len += n;
}

/* A header: ID 0xbeef, the flags, the four counts; returns 12. */
static size_t header(uint8_t *m, unsigned int flags, unsigned int qd,
		     unsigned int an, unsigned int ns, unsigned int ar)
{
	put16(m, 0xbeef);
	put16(m + 2, flags);
	put16(m + 4, qd);
	put16(m + 6, an);
	put16(m + 8, ns);
	put16(m + 10, ar);
	return 12;
}

/* The usual answer: question, one TXT, the OPT. */
static size_t base_answer(uint8_t *m)
{
	size_t n = header(m, 0x8180, 1, 1, 0, 1);

	add(m, &n, question, sizeof(question));
	add(m, &n, txt_rr, sizeof(txt_rr));
	add(m, &n, opt_plain, sizeof(opt_plain));
	return n;
}

/* Wraps the DNS message in v and rewrites it; *used and out for a look. */
static enum truncate_status rewrite_in(enum ipv v, const uint8_t *dns, size_t n,
				       uint8_t *out, size_t *used)
{
	static uint8_t pkt[PKT_MAX];
	size_t off, len = wrap(pkt, v, dns, n, &off);

	return run(pkt, len, out, PKT_MAX, used);
}

static enum truncate_status rewrite(const uint8_t *dns, size_t n)
{
	static uint8_t out[PKT_MAX];
	enum truncate_status s4, s6;
	size_t used;

	/* the DNS walk does not depend on the IP version */
	s4 = rewrite_in(V4, dns, n, out, &used);
	s6 = rewrite_in(V6_CHAIN, dns, n, out, &used);
	assert_int_equal(s4, s6);
	return s4;
}

static void test_base_answer(void **state)
{
	static uint8_t out[PKT_MAX];
	uint8_t m[128], want[128];
	size_t n = base_answer(m), w = header(want, 0x8380, 1, 0, 0, 1), used;

	(void)state;
	add(want, &w, question, sizeof(question));
	add(want, &w, opt_plain, sizeof(opt_plain));
	assert_int_equal(rewrite_in(V4, m, n, out, &used), TRUNCATE_OK);
	assert_int_equal(used, 28 + w);
	assert_memory_equal(out + 28, want, w);
	assert_int_equal(rewrite_in(V6, m, n, out, &used), TRUNCATE_OK);
	assert_int_equal(used, 48 + w);
	assert_memory_equal(out + 48, want, w);
}

static void test_not_answer(void **state)
{
	static uint8_t pkt[PKT_MAX], out[PKT_MAX];
	uint8_t m[256];
	size_t n = base_answer(m), k, off, len, used;

	(void)state;
	m[2] &= 0x7f; /* QR=0: a query */
	assert_int_equal(rewrite(m, n), TRUNCATE_NOT_ANSWER);

	k = header(m, 0x8180, 0, 0, 0, 0);
	assert_int_equal(rewrite(m, k), TRUNCATE_NOT_ANSWER);
	k = header(m, 0x8180, 2, 0, 0, 0);
	add(m, &k, question, sizeof(question));
	add(m, &k, question, sizeof(question));
	assert_int_equal(rewrite(m, k), TRUNCATE_NOT_ANSWER);

	n = base_answer(m);
	len = put_udp(pkt, put_ip(pkt, V4, 8 + n), 5353, m, n, true);
	assert_int_equal(run(pkt, len, out, PKT_MAX, &used),
			 TRUNCATE_NOT_ANSWER);
	len = put_udp(pkt, put_ip(pkt, V6_DST, 8 + n), 5353, m, n, true);
	assert_int_equal(run(pkt, len, out, PKT_MAX, &used),
			 TRUNCATE_NOT_ANSWER);

	/* TCP from 53, IPv6 with no next header or ICMPv6 */
	off = put_ip4(pkt, false, IP_TCP, 0, 8 + n);
	len = put_udp(pkt, off, 53, m, n, false);
	assert_int_equal(run(pkt, len, out, PKT_MAX, &used),
			 TRUNCATE_NOT_ANSWER);
	len = wrap(pkt, V6, m, n, &off);
	pkt[6] = IP_NONE;
	assert_int_equal(run(pkt, len, out, PKT_MAX, &used),
			 TRUNCATE_NOT_ANSWER);
	pkt[6] = 58;
	assert_int_equal(run(pkt, len, out, PKT_MAX, &used),
			 TRUNCATE_NOT_ANSWER);
}

/*
 * The message m[0..n) followed by 512 zero octets, which the walk ignores
 * but which would let a length octet misread as a label stay in bounds.
 */
static enum truncate_status rewrite_padded(uint8_t *m, size_t n)
{
	memset(m + n, 0, 512);
	return rewrite(m, n + 512);
}

static void test_question(void **state)
{
	uint8_t m[1024];
	size_t n;

	(void)state;
	/* www, then a pointer to example.com in the answer's RDATA */
	n = header(m, 0x8180, 1, 1, 0, 0);
	add(m, &n, "\3www\xc0\x23\0\x10\0\1", 10);
	add(m, &n, "\xc0\x0c\0\x10\0\1\0\0\0\0\0\x0e\x0d", 13);
	add(m, &n, "\7example\3com\0", 13);
	assert_int_equal(rewrite_padded(m, n), TRUNCATE_MALFORMED);
	/* the whole name a pointer */
	n = header(m, 0x8180, 1, 0, 0, 0);
	add(m, &n, "\xc0\x0c\0\x10\0\1", 6);
	assert_int_equal(rewrite_padded(m, n), TRUNCATE_MALFORMED);
	/* label types 0x40 and 0x80 */
	n = header(m, 0x8180, 1, 0, 0, 0);
	add(m, &n, "\x41x\0\0\x10\0\1", 7);
	assert_int_equal(rewrite_padded(m, n), TRUNCATE_MALFORMED);
	m[12] = 0x81;
	assert_int_equal(rewrite_padded(m, n), TRUNCATE_MALFORMED);
	m[12] = 1; /* the same message with a plain label */
	assert_int_equal(rewrite_padded(m, n), TRUNCATE_OK);

	/* 255 octets is the limit, 256 is over */
	for (size_t len = 255; len <= 256; len++) {
		n = header(m, 0x8180, 1, 0, 0, 0);
		for (int l = 0; l < 4; l++) {
			uint8_t ll = l < 3 ? 63 : (uint8_t)(len - 1 - 192 - 1);

			m[n++] = ll;
			memset(m + n, 'x', ll);
			n += ll;
		}
		add(m, &n, "\0\0\xff\0\1", 5);
		assert_int_equal(n, 12 + len + 4);
		assert_int_equal(rewrite(m, n),
				 len == 255 ? TRUNCATE_OK : TRUNCATE_MALFORMED);
	}
}

static void test_opt_rules(void **state)
{
	uint8_t m[256];
	size_t n;

	(void)state;
	n = header(m, 0x8180, 1, 0, 0, 2); /* two OPTs */
	add(m, &n, question, sizeof(question));
	add(m, &n, opt_plain, sizeof(opt_plain));
	add(m, &n, opt_plain, sizeof(opt_plain));
	assert_int_equal(rewrite(m, n), TRUNCATE_MALFORMED);
	m[5 + 6] = 1; /* ARCOUNT 1: the second is trailing octets */
	assert_int_equal(rewrite(m, n), TRUNCATE_OK);

	n = header(m, 0x8180, 1, 1, 0, 0); /* an OPT as an answer */
	add(m, &n, question, sizeof(question));
	add(m, &n, opt_plain, sizeof(opt_plain));
	assert_int_equal(rewrite(m, n), TRUNCATE_MALFORMED);
	put16(m + 6, 0); /* in the authority section */
	put16(m + 8, 1);
	assert_int_equal(rewrite(m, n), TRUNCATE_MALFORMED);
	put16(m + 8, 0);
	put16(m + 10, 1);
	assert_int_equal(rewrite(m, n), TRUNCATE_OK);

	/* an OPT owned by a name, or by a pointer (to the question) */
	n = header(m, 0x8180, 1, 0, 0, 1);
	add(m, &n, question, sizeof(question));
	add(m, &n, "\3com\0\0\x29\x04\xd0\0\0\0\0\0\0", 15);
	assert_int_equal(rewrite(m, n), TRUNCATE_MALFORMED);
	n = header(m, 0x8180, 1, 0, 0, 1);
	add(m, &n, question, sizeof(question));
	add(m, &n, "\xc0\x0c\0\x29\x04\xd0\0\0\0\0\0\0", 12);
	assert_int_equal(rewrite(m, n), TRUNCATE_MALFORMED);
}

static void test_rr_bounds(void **state)
{
	static uint8_t out[PKT_MAX];
	uint8_t m[1024], clean[PKT_MAX];
	size_t n, used, cused;

	(void)state;
	n = base_answer(m);
	m[12 + sizeof(question) + 11]++; /* the TXT's RDLENGTH one too long */
	assert_int_equal(rewrite(m, n), TRUNCATE_MALFORMED);
	n = base_answer(m);
	m[11] = 2; /* one more additional RR than there is */
	assert_int_equal(rewrite(m, n), TRUNCATE_MALFORMED);
	m[11] = 1;
	add(m, &n, "\xc0", 1); /* then half a pointer */
	assert_int_equal(rewrite(m, n), TRUNCATE_OK);
	m[11] = 2;
	assert_int_equal(rewrite(m, n), TRUNCATE_MALFORMED);
	n--;
	add(m, &n, "\x05\x61\x62", 3); /* a label cut short */
	assert_int_equal(rewrite(m, n), TRUNCATE_MALFORMED);
	n -= 3;
	add(m, &n, "\x40\x61\0\0\1\0\1\0\0\0\0\0\0", 13); /* label type 0x40 */
	assert_int_equal(rewrite_padded(m, n), TRUNCATE_MALFORMED);
	m[n - 13] = 1; /* a plain label */
	assert_int_equal(rewrite_padded(m, n), TRUNCATE_OK);

	/* octets after the last counted RR are left out */
	n = base_answer(m);
	assert_int_equal(rewrite_in(V4_OPTIONS, m, n, clean, &cused),
			 TRUNCATE_OK);
	add(m, &n, "\xde\xad\xbe\xef\0", 5);
	assert_int_equal(rewrite_in(V4_OPTIONS, m, n, out, &used), TRUNCATE_OK);
	assert_int_equal(used, cused);
	assert_memory_equal(out, clean, used);
}

/* 65535 in every count: the walk ends when the octets do. */
static void test_many_rrs(void **state)
{
	static uint8_t m[PKT_MAX], out[PKT_MAX];
	const size_t rrs = 4000;
	size_t n, used;

	(void)state;
	n = header(m, 0x8180, 1, 65535, 65535, 65535);
	add(m, &n, question, sizeof(question));
	for (size_t i = 0; i < rrs; i++)
		add(m, &n, "\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4\xc6\x33\x64\1", 16);
	assert_int_equal(rewrite(m, n), TRUNCATE_MALFORMED);
	/* root-owned RRs, 11 octets each */
	n = header(m, 0x8180, 1, 65535, 65535, 65535);
	add(m, &n, question, sizeof(question));
	while (n + 11 < 65000)
		add(m, &n, "\0\0\1\0\1\0\0\0\0\0\0", 11);
	assert_int_equal(rewrite(m, n), TRUNCATE_MALFORMED);

	/* and when the counts are right, the OPT at the end is found */
	n = header(m, 0x8180, 1, 2000, 1000, 1001);
	add(m, &n, question, sizeof(question));
	for (size_t i = 0; i < rrs; i++)
		add(m, &n, "\xc0\x0c\0\1\0\1\0\0\0\x3c\0\4\xc6\x33\x64\1", 16);
	add(m, &n, opt_plain, sizeof(opt_plain));
	assert_int_equal(rewrite_in(V4, m, n, out, &used), TRUNCATE_OK);
	assert_int_equal(used, 28 + 12 + sizeof(question) + sizeof(opt_plain));
	assert_int_equal(oracle_get16(out + 28 + 10), 1);
	assert_memory_equal(out + used - sizeof(opt_plain), opt_plain,
			    sizeof(opt_plain));
}

/*
 * Every prefix of an answer: with the IP and UDP lengths made to match the
 * cut DNS message (so the DNS walk meets the end), and the whole datagram
 * cut as it is.  Only the whole answer may be rewritten.
 */
static void check_prefixes(const struct spec *s, enum ipv v)
{
	static uint8_t pkt[PKT_MAX], out[PKT_MAX];
	size_t dlen, off, len, used;
	uint8_t *dns = build(s, &dlen);

	for (size_t k = 0; k < dlen; k++) {
		len = wrap(pkt, v, dns, k, &off);
		assert_int_equal(run(pkt, len, out, PKT_MAX, &used),
				 TRUNCATE_MALFORMED);
	}
	len = wrap(pkt, v, dns, dlen, &off);
	for (size_t k = 0; k < len; k++)
		assert_int_equal(run(pkt, k, out, PKT_MAX, &used),
				 TRUNCATE_MALFORMED);
	check_rewrite(s, pkt, len, off, dns, dlen);
	free(dns);
}

static void test_prefixes(void **state)
{
	struct spec s = {
		.qname = "WwW.ExAmPlE.CoM.",
		.qtype = LDNS_RR_TYPE_TXT,
		.id = 0x4242,
		.flags = F_RD | F_RA | F_AD,
		.sections = true,
		.opt = OPT_FIRST,
		.do_bit = true,
		.cookie = true,
	};

	(void)state;
	check_prefixes(&s, V4_OPTIONS);
	s.opt = OPT_LAST;
	s.tsig = true;
	check_prefixes(&s, V6_CHAIN);
	s.qname = ".";
	s.sections = false;
	s.tsig = false;
	check_prefixes(&s, V6_FRAG);
	s.opt = OPT_NONE; /* no RR at all: the question is the end */
	check_prefixes(&s, V4);
}

/* An IPv6 answer behind exts[0..n), the fragment field set to frag. */
static enum truncate_status rewrite_ext(const uint8_t *exts, size_t n,
					uint16_t frag)
{
	static uint8_t pkt[PKT_MAX], out[PKT_MAX];
	uint8_t m[128];
	size_t dlen = base_answer(m), used;
	size_t off = put_ip6(pkt, exts, n, frag, 8 + dlen);
	size_t len = put_udp(pkt, off, 53, m, dlen, true);

	return run(pkt, len, out, PKT_MAX, &used);
}

/* An IPv4 answer with the fragment field and the options given. */
static enum truncate_status rewrite_v4(uint16_t frag, const uint8_t *opt,
				       size_t optlen)
{
	static uint8_t pkt[PKT_MAX], out[PKT_MAX];
	uint8_t m[128];
	size_t dlen = base_answer(m), used;
	size_t off = put_ip4(pkt, optlen > 0, IP_UDP, frag, 8 + dlen);
	size_t len;

	if (optlen > 0) /* at most the 12 octets put_ip4 made */
		memcpy(pkt + 20, opt, optlen);
	put16(pkt + 10, 0);
	put16(pkt + 10, (uint16_t)~oracle_fold(oracle_sum(0, pkt, off)));
	len = put_udp(pkt, off, 53, m, dlen, true);
	return run(pkt, len, out, PKT_MAX, &used);
}

static void test_unsupported(void **state)
{
	static const uint8_t routing[] = {IP_ROUTING};
	static const uint8_t hbh_routing[] = {IP_HBH, IP_ROUTING};
	static const uint8_t ah[] = {IP_AH};
	static const uint8_t dst_frag[] = {IP_DSTOPTS, IP_FRAG};
	static const uint8_t lsrr[12] = {1, 0x83, 7, 4, 198, 51, 100, 9};
	static const uint8_t ssrr[12] = {0x89, 7, 4, 198, 51, 100, 9};
	static const uint8_t ts[12] = {0x44, 12, 5, 0};
	static const uint8_t opt_short[12] = {0x94, 1};
	static const uint8_t opt_long[12] = {1, 1, 1, 0x94, 10};
	static const uint8_t opt_end[12] = {0x94, 4, 0, 0, 0, 0x83, 99};

	(void)state;
	assert_int_equal(rewrite_ext(routing, 1, 0), TRUNCATE_UNSUPPORTED);
	assert_int_equal(rewrite_ext(hbh_routing, 2, 0), TRUNCATE_UNSUPPORTED);
	assert_int_equal(rewrite_ext(ah, 1, 0), TRUNCATE_UNSUPPORTED);
	/* M set, an offset, both; the reserved bits do not count */
	assert_int_equal(rewrite_ext(dst_frag, 2, 0x0001),
			 TRUNCATE_UNSUPPORTED);
	assert_int_equal(rewrite_ext(dst_frag, 2, 0x0008),
			 TRUNCATE_UNSUPPORTED);
	assert_int_equal(rewrite_ext(dst_frag, 2, 0xfff9),
			 TRUNCATE_UNSUPPORTED);
	assert_int_equal(rewrite_ext(dst_frag, 2, 0x0006), TRUNCATE_OK);
	assert_int_equal(rewrite_ext(dst_frag, 2, 0), TRUNCATE_OK);

	/* IPv4: MF, an offset; DF alone is fine */
	assert_int_equal(rewrite_v4(0x2000, NULL, 0), TRUNCATE_UNSUPPORTED);
	assert_int_equal(rewrite_v4(0x0001, NULL, 0), TRUNCATE_UNSUPPORTED);
	assert_int_equal(rewrite_v4(0x6000, NULL, 0), TRUNCATE_UNSUPPORTED);
	assert_int_equal(rewrite_v4(0x4000, NULL, 0), TRUNCATE_OK);
	/* source routes; a timestamp and options after the end are fine */
	assert_int_equal(rewrite_v4(0, lsrr, 12), TRUNCATE_UNSUPPORTED);
	assert_int_equal(rewrite_v4(0, ssrr, 12), TRUNCATE_UNSUPPORTED);
	assert_int_equal(rewrite_v4(0, ts, 12), TRUNCATE_OK);
	assert_int_equal(rewrite_v4(0, opt_end, 12), TRUNCATE_OK);
	assert_int_equal(rewrite_v4(0, opt_short, 12), TRUNCATE_MALFORMED);
	assert_int_equal(rewrite_v4(0, opt_long, 12), TRUNCATE_MALFORMED);
}

static void test_lengths(void **state)
{
	static uint8_t pkt[PKT_MAX], out[PKT_MAX];
	uint8_t m[128];
	size_t n = base_answer(m), off, len, used;

	(void)state;
	/* the UDP length one off either way */
	for (int v = 0; v < IPV_N; v++)
		for (int d = -1; d <= 1; d += 2) {
			len = wrap(pkt, (enum ipv)v, m, n, &off);
			put16(pkt + off + 4, (unsigned int)((int)(8 + n) + d));
			assert_int_equal(run(pkt, len, out, PKT_MAX, &used),
					 TRUNCATE_MALFORMED);
		}
	/* the IP length one off, padding after the datagram */
	len = wrap(pkt, V4, m, n, &off);
	for (int d = -1; d <= 1; d += 2) {
		put16(pkt + 2, (unsigned int)((int)len + d));
		assert_int_equal(run(pkt, len, out, PKT_MAX, &used),
				 TRUNCATE_MALFORMED);
	}
	put16(pkt + 2, (unsigned int)len);
	assert_int_equal(run(pkt, len + 4, out, PKT_MAX, &used),
			 TRUNCATE_MALFORMED);
	len = wrap(pkt, V6_HBH, m, n, &off);
	for (int d = -1; d <= 1; d += 2) {
		put16(pkt + 4, (unsigned int)((int)len - 40 + d));
		assert_int_equal(run(pkt, len, out, PKT_MAX, &used),
				 TRUNCATE_MALFORMED);
	}
	put16(pkt + 4, 0); /* a jumbogram */
	assert_int_equal(run(pkt, len, out, PKT_MAX, &used),
			 TRUNCATE_MALFORMED);
	/* a hop-by-hop header that claims more than there is */
	put16(pkt + 4, (unsigned int)(len - 40));
	pkt[41] = 200;
	assert_int_equal(run(pkt, len, out, PKT_MAX, &used),
			 TRUNCATE_MALFORMED);
	/* a packet that ends with its hop-by-hop header, or in it */
	put16(pkt + 4, 8);
	pkt[41] = 0;
	assert_int_equal(run(pkt, 48, out, PKT_MAX, &used), TRUNCATE_MALFORMED);
	pkt[41] = 1;
	assert_int_equal(run(pkt, 48, out, PKT_MAX, &used), TRUNCATE_MALFORMED);

	/* IHL below 5 or past the end, a version that is neither */
	len = wrap(pkt, V4, m, n, &off);
	pkt[0] = 0x44;
	assert_int_equal(run(pkt, len, out, PKT_MAX, &used),
			 TRUNCATE_MALFORMED);
	pkt[0] = 0x4f;
	assert_int_equal(run(pkt, 40, out, PKT_MAX, &used), TRUNCATE_MALFORMED);
	pkt[0] = 0x55;
	assert_int_equal(run(pkt, len, out, PKT_MAX, &used),
			 TRUNCATE_MALFORMED);
	pkt[0] = 0x05;
	assert_int_equal(run(pkt, len, out, PKT_MAX, &used),
			 TRUNCATE_MALFORMED);
	assert_int_equal(run(pkt, 0, out, PKT_MAX, &used), TRUNCATE_MALFORMED);

	/* a DNS header cut short, and no UDP header at all */
	len = wrap(pkt, V6, m, 11, &off);
	assert_int_equal(run(pkt, len, out, PKT_MAX, &used),
			 TRUNCATE_MALFORMED);
	off = put_ip4(pkt, false, IP_UDP, 0, 6);
	assert_int_equal(run(pkt, off + 6, out, PKT_MAX, &used),
			 TRUNCATE_MALFORMED);
}

/* The out buffer: too small leaves it untouched, whatever the size. */
static void test_no_room(void **state)
{
	static uint8_t pkt[PKT_MAX];
	uint8_t m[128], out[128];
	size_t n = base_answer(m), off, len, used = 99;
	size_t need = 28 + 12 + sizeof(question) + sizeof(opt_plain);

	(void)state;
	len = wrap(pkt, V4, m, n, &off);
	for (size_t k = 0; k < need; k++) {
		memset(out, 0x77, sizeof(out));
		assert_int_equal(truncate_answer(pkt, len, out, k, &used),
				 TRUNCATE_NO_ROOM);
		assert_int_equal(used, 0);
		for (size_t i = 0; i < sizeof(out); i++)
			assert_int_equal(out[i], 0x77);
	}
	assert_int_equal(truncate_answer(pkt, len, out, need, &used),
			 TRUNCATE_OK);
	assert_int_equal(used, need);
	assert_true(need < len);
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(truncate_status_name(TRUNCATE_OK), "ok");
	for (int s = 0; s < TRUNCATE_NSTATUS; s++) {
		assert_non_null(truncate_status_name((enum truncate_status)s));
		assert_string_not_equal(
			truncate_status_name((enum truncate_status)s), "?");
	}
	assert_string_equal(truncate_status_name(TRUNCATE_NSTATUS), "?");
}

/* ---- queries: the EDNS UDP size lowered ---- */

/*
 * A query for example.com TXT from port 41234 to 53 inside v, with an OPT
 * asking for udp octets and carrying a cookie (or without an OPT when udp
 * is 0), written by ldns.  Returns its length; *udp_off where UDP starts.
 */
static size_t query_in(uint8_t *pkt, enum ipv v, uint16_t udp, size_t *udp_off)
{
	ldns_pkt *q = NULL;
	uint8_t *wire = NULL;
	size_t n = 0, off;

	assert_int_equal(ldns_pkt_query_new_frm_str(&q, "example.com",
						    LDNS_RR_TYPE_TXT,
						    LDNS_RR_CLASS_IN, LDNS_RD),
			 LDNS_STATUS_OK);
	ldns_pkt_set_id(q, 0x5eed);
	if (udp != 0) {
		ldns_pkt_set_edns_udp_size(q, udp);
		ldns_pkt_set_edns_do(q, true);
		ldns_pkt_set_edns_data(
			q, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, 12,
						 "\0\x0a\0\x08"
						 "abcdefgh"));
	}
	assert_int_equal(ldns_pkt2wire(&wire, q, &n), LDNS_STATUS_OK);
	off = put_ip(pkt, v, 8 + n);
	put16(pkt + off, 41234);
	put16(pkt + off + 2, 53);
	put16(pkt + off + 4, (unsigned int)(8 + n));
	put16(pkt + off + 6, 0);
	memcpy(pkt + off + 8, wire, n);
	if (v != V4_NOCSUM)
		put16(pkt + off + 6,
		      (uint16_t)~oracle_udp_sum(pkt, pkt + off, 8 + n));
	free(wire);
	ldns_pkt_free(q);
	*udp_off = off;
	return off + 8 + n;
}

/*
 * Every IP shape: a query asking for 4096 octets is rewritten to ask for
 * 512 and nothing else, as ldns reads both (ID, flags, question, DO, the
 * cookie); only the two octets of the size and the UDP checksum differ,
 * and the checksum is right by a plain sum (none stays none).  512, 400
 * and no OPT at all are left alone.
 */
static void test_query_clamp(void **state)
{
	static uint8_t pkt[PKT_MAX], out[PKT_MAX];

	(void)state;
	for (int v = 0; v < IPV_N; v++) {
		size_t off, len = query_in(pkt, (enum ipv)v, 4096, &off);
		size_t used = 7, diff = 0;
		ldns_pkt *a = NULL, *b = NULL;

		assert_int_equal(truncate_query(pkt, len, 512, out, len, &used),
				 TRUNCATE_OK);
		assert_int_equal(used, len);
		assert_int_equal(ldns_wire2pkt(&a, pkt + off + 8,
					       len - off - 8),
				 LDNS_STATUS_OK);
		assert_int_equal(ldns_wire2pkt(&b, out + off + 8,
					       len - off - 8),
				 LDNS_STATUS_OK);
		assert_int_equal(ldns_pkt_edns_udp_size(a), 4096);
		assert_int_equal(ldns_pkt_edns_udp_size(b), 512);
		assert_int_equal(ldns_pkt_id(b), 0x5eed);
		assert_true(ldns_pkt_rd(b) && !ldns_pkt_qr(b));
		assert_true(ldns_pkt_edns_do(b));
		assert_int_equal(ldns_rdf_compare(ldns_pkt_edns_data(a),
						  ldns_pkt_edns_data(b)),
				 0);
		assert_int_equal(ldns_rr_list_compare(ldns_pkt_question(a),
						      ldns_pkt_question(b)),
				 0);
		ldns_pkt_free(a);
		ldns_pkt_free(b);
		/* only the size (the OPT, 23 octets with its cookie, ends
		 * the message: its CLASS at 20 from the end) and the
		 * checksum */
		for (size_t i = 0; i < len; i++)
			if (pkt[i] != out[i]) {
				assert_true(i == len - 20 || i == len - 19 ||
					    i == off + 6 || i == off + 7);
				diff++;
			}
		assert_true(diff >= 1);
		assert_int_equal(oracle_get16(out + len - 20), 512);
		if (v == V4_NOCSUM)
			assert_int_equal(oracle_get16(out + off + 6), 0);
		else
			assert_int_equal(oracle_udp_sum(out, out + off,
							len - off),
					 0xffff);
		for (uint16_t udp = 400; udp <= 512; udp += 112) {
			len = query_in(pkt, (enum ipv)v, udp, &off);
			assert_int_equal(truncate_query(pkt, len, 512, out, len,
							&used),
					 TRUNCATE_UNCHANGED);
			assert_int_equal(used, 0);
		}
	}
	/* no OPT: the answer keeps to 512 already */
	{
		size_t off, used = 7, len = query_in(pkt, V4, 0, &off);

		assert_int_equal(truncate_query(pkt, len, 512, out, len, &used),
				 TRUNCATE_UNCHANGED);
		assert_int_equal(used, 0);
	}
}

/* What truncate_query leaves: answers, other ports, no room. */
static void test_query_refusals(void **state)
{
	static uint8_t pkt[PKT_MAX], out[PKT_MAX];
	size_t off, used = 7, len = query_in(pkt, V6, 4096, &off);

	(void)state;
	assert_int_equal(truncate_query(pkt, len, 512, out, len - 1, &used),
			 TRUNCATE_NO_ROOM);
	assert_int_equal(used, 0);
	put16(pkt + off + 2, 5353);
	assert_int_equal(truncate_query(pkt, len, 512, out, len, &used),
			 TRUNCATE_NOT_ANSWER);
	put16(pkt + off + 2, 53);
	pkt[off + 8 + 2] |= 0x80; /* QR */
	assert_int_equal(truncate_query(pkt, len, 512, out, len, &used),
			 TRUNCATE_NOT_ANSWER);
	/* and an answer is no query for truncate_answer's walk either way */
	pkt[off + 8 + 2] &= 0x7f;
	assert_int_equal(truncate_answer(pkt, len, out, len, &used),
			 TRUNCATE_NOT_ANSWER);
	assert_int_equal(truncate_query(pkt, len - 1, 512, out, len, &used),
			 TRUNCATE_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_extended_rcode),
		cmocka_unit_test(test_tsig_dropped),
		cmocka_unit_test(test_base_answer),
		cmocka_unit_test(test_not_answer),
		cmocka_unit_test(test_question),
		cmocka_unit_test(test_opt_rules),
		cmocka_unit_test(test_rr_bounds),
		cmocka_unit_test(test_many_rrs),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_no_room),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_query_clamp),
		cmocka_unit_test(test_query_refusals),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
