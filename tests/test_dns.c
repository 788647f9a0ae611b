/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The DNS header and question walk: header statuses and their order,
 * every truncation, label types, name limits, case folding, the label
 * start bitmap, suffix matching, presentation text, and agreement with
 * ldns_wire2dname on valid queries.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <ldns/ldns.h>

#include "dns.h"

#define QTYPE_A 1
#define QTYPE_ANY 255
#define QCLASS_IN 1

static const uint8_t www_example_com[] = "\3www\7example\3com";

/* A header with flags and qdcount, then name[0..nlen) and the two fields. */
static size_t build(uint8_t *b, uint16_t flags, uint16_t qdcount,
		    const uint8_t *name, size_t nlen, uint16_t qtype,
		    uint16_t qclass)
{
	memset(b, 0, 12);
	b[0] = 0xab;
	b[1] = 0xcd;
	b[2] = (uint8_t)(flags >> 8);
	b[3] = (uint8_t)flags;
	b[4] = (uint8_t)(qdcount >> 8);
	b[5] = (uint8_t)qdcount;
	memcpy(b + 12, name, nlen);
	b[12 + nlen] = (uint8_t)(qtype >> 8);
	b[13 + nlen] = (uint8_t)qtype;
	b[14 + nlen] = (uint8_t)(qclass >> 8);
	b[15 + nlen] = (uint8_t)qclass;
	return 16 + nlen;
}

/* A query for name (wire format with root) with RD set. */
static size_t build_query(uint8_t *b, const uint8_t *name, size_t nlen,
			  uint16_t qtype)
{
	return build(b, 0x0100, 1, name, nlen, qtype, QCLASS_IN);
}

/* Parses a private copy of exactly len octets, so ASan sees overreads. */
static enum dns_status parse_copy(const uint8_t *b, size_t len,
				  struct dns_question *q)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	enum dns_status s;

	assert_non_null(copy);
	memcpy(copy, b, len);
	s = dns_parse(copy, len, q);
	/* the name is copied on demand: take it while the message lives */
	if (s == DNS_QUERY) {
		dns_question_name(q);
		q->wire = NULL;
	}
	free(copy);
	return s;
}

/*
 * A name of total wire octets (root included): labels of 63 octets and
 * one shorter last label.  Returns the octets written.
 */
static size_t long_name(uint8_t *n, size_t total, uint8_t fill)
{
	size_t off = 0;

	while (total - off > 1) {
		size_t lab = total - off - 2;

		if (lab > 63)
			lab = 63;
		n[off] = (uint8_t)lab;
		memset(n + off + 1, fill, lab);
		off += lab + 1;
	}
	n[off++] = 0;
	return off;
}

static void test_short(void **state)
{
	uint8_t b[64];
	size_t len = build_query(b, www_example_com, sizeof(www_example_com),
				 QTYPE_A);
	struct dns_question q;

	(void)state;
	assert_int_equal(len, 33);
	for (size_t cut = 0; cut < 12; cut++)
		assert_int_equal(parse_copy(b, cut, &q), DNS_SHORT);
	/* a header alone has no question */
	assert_int_equal(parse_copy(b, 12, &q), DNS_TRUNCATED);
}

static void test_header_statuses(void **state)
{
	uint8_t b[64];
	size_t len;
	struct dns_question q;

	(void)state;
	len = build(b, 0x8000, 1, www_example_com, sizeof(www_example_com),
		    QTYPE_A, QCLASS_IN);
	assert_int_equal(parse_copy(b, len, &q), DNS_RESPONSE);
	/* QR wins over the opcode and the count */
	len = build(b, 0x8000 | 5 << 11, 2, www_example_com,
		    sizeof(www_example_com), QTYPE_A, QCLASS_IN);
	assert_int_equal(parse_copy(b, len, &q), DNS_RESPONSE);
	/* a response header is enough, whatever follows */
	assert_int_equal(parse_copy(b, 12, &q), DNS_RESPONSE);

	for (uint16_t op = 1; op <= 15; op++) {
		len = build(b, (uint16_t)(op << 11 | 0x0100), 1,
			    www_example_com, sizeof(www_example_com), QTYPE_A,
			    QCLASS_IN);
		assert_int_equal(parse_copy(b, len, &q), DNS_OPCODE);
		/* the opcode is judged before the count */
		b[5] = 0;
		assert_int_equal(parse_copy(b, len, &q), DNS_OPCODE);
	}
	/* every other flag bit leaves a query a query */
	len = build(b, 0x07ff, 1, www_example_com, sizeof(www_example_com),
		    QTYPE_A, QCLASS_IN);
	assert_int_equal(parse_copy(b, len, &q), DNS_QUERY);

	len = build_query(b, www_example_com, sizeof(www_example_com), 1);
	b[5] = 0;
	assert_int_equal(parse_copy(b, len, &q), DNS_QDCOUNT);
	b[5] = 2;
	assert_int_equal(parse_copy(b, len, &q), DNS_QDCOUNT);
	/* 257 has the right low octet */
	b[4] = 1;
	b[5] = 1;
	assert_int_equal(parse_copy(b, len, &q), DNS_QDCOUNT);
	b[4] = 0;
	assert_int_equal(parse_copy(b, len, &q), DNS_QUERY);
	/* answer and additional counts are not looked at */
	b[7] = 3;
	b[11] = 1;
	assert_int_equal(parse_copy(b, len, &q), DNS_QUERY);
}

static void test_valid_query(void **state)
{
	uint8_t b[128];
	size_t len = build_query(b, www_example_com, sizeof(www_example_com),
				 QTYPE_A);
	struct dns_question q;

	(void)state;
	memset(&q, 0xa5, sizeof(q));
	assert_int_equal(parse_copy(b, len, &q), DNS_QUERY);
	assert_int_equal(q.name_len, 17);
	assert_memory_equal(q.name, www_example_com, 17);
	assert_int_equal(q.labels, 3);
	assert_int_equal(q.qtype, QTYPE_A);
	assert_int_equal(q.qclass, QCLASS_IN);
	/* labels start at 0, 4, 12 and 16 (the root) */
	assert_true(dns_name_has_suffix(&q, www_example_com + 4, 13));
	assert_true(dns_name_has_suffix(&q, www_example_com + 12, 5));
	assert_true(dns_name_has_suffix(&q, www_example_com + 16, 1));
	assert_false(dns_name_has_suffix(&q, www_example_com + 6, 11));

	/* an EDNS OPT record after the question is not read */
	static const uint8_t opt[] = {0, 0,    41, 0x04, 0xd0, 0,
				      0, 0x80, 0,  0,	 0};
	b[11] = 1;
	memcpy(b + len, opt, sizeof(opt));
	assert_int_equal(parse_copy(b, len + sizeof(opt), &q), DNS_QUERY);
	assert_int_equal(q.name_len, 17);
	assert_int_equal(q.qtype, QTYPE_A);
	/* nor is anything else after it */
	memset(b + len, 0xc0, 8);
	assert_int_equal(parse_copy(b, len + 8, &q), DNS_QUERY);
}

static void test_qtype_qclass(void **state)
{
	static const uint16_t vals[][2] = {
		{QTYPE_ANY, QCLASS_IN},
		{16, 3},
		{0x1234, 0xabcd},
		{0xff00, 0x00ff},
		{0, 0},
		{0xffff, 0xffff},
		{65, 255},
		{QTYPE_A, 0x8001},
	};
	uint8_t b[64];
	struct dns_question q;

	(void)state;
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		size_t len = build(b, 0, 1, www_example_com,
				   sizeof(www_example_com), vals[i][0],
				   vals[i][1]);

		assert_int_equal(parse_copy(b, len, &q), DNS_QUERY);
		assert_int_equal(q.qtype, vals[i][0]);
		assert_int_equal(q.qclass, vals[i][1]);
	}
}

static void test_truncated(void **state)
{
	uint8_t b[64];
	size_t len = build_query(b, www_example_com, sizeof(www_example_com),
				 QTYPE_ANY);
	struct dns_question q;

	(void)state;
	for (size_t cut = 0; cut <= len; cut++) {
		enum dns_status s = parse_copy(b, cut, &q);

		if (cut < 12)
			assert_int_equal(s, DNS_SHORT);
		else if (cut < len)
			assert_int_equal(s, DNS_TRUNCATED);
		else
			assert_int_equal(s, DNS_QUERY);
	}
	assert_int_equal(q.qtype, QTYPE_ANY);
}

static void test_label_past_end(void **state)
{
	uint8_t b[64];
	struct dns_question q;

	(void)state;
	/* a 5-octet label with 2 octets left */
	build_query(b, (const uint8_t *)"\5ab", 3, 0);
	assert_int_equal(parse_copy(b, 15, &q), DNS_TRUNCATED);
	/* a whole label and no root after it */
	build_query(b, (const uint8_t *)"\3com", 4, 0);
	assert_int_equal(parse_copy(b, 16, &q), DNS_TRUNCATED);
	/* a name, then fewer than four octets */
	build_query(b, (const uint8_t *)"\3com", 5, 0);
	assert_int_equal(parse_copy(b, 17, &q), DNS_TRUNCATED);
	assert_int_equal(parse_copy(b, 20, &q), DNS_TRUNCATED);
	assert_int_equal(parse_copy(b, 21, &q), DNS_QUERY);
}

/*
 * Compression pointers are followed, each to before the one before it (or,
 * for the first, to before itself); the qtype is read after the pointer.
 */
static void test_pointer(void **state)
{
	uint8_t b[64];
	size_t len;
	struct dns_question q;

	(void)state;
	/* to itself, and forward to a name further on */
	len = build_query(b, (const uint8_t *)"\xc0\x0c", 2, QTYPE_A);
	assert_int_equal(parse_copy(b, len, &q), DNS_POINTER);
	len = build_query(b, (const uint8_t *)"\3www\xc0\x14\7example\3com", 19,
			  QTYPE_A);
	assert_int_equal(parse_copy(b, len, &q), DNS_POINTER);
	/* back to the start of the name: a loop */
	len = build_query(b, (const uint8_t *)"\3abc\xc0\x0c", 6, QTYPE_A);
	assert_int_equal(parse_copy(b, len, &q), DNS_POINTER);
	/* to QDCOUNT's high octet (0): the root, then the qtype after it */
	len = build_query(b, (const uint8_t *)"\xc0\x04", 2, QTYPE_ANY);
	assert_int_equal(parse_copy(b, len, &q), DNS_QUERY);
	assert_true(q.compressed);
	assert_int_equal(q.name_len, 1);
	assert_int_equal(q.labels, 0);
	assert_int_equal(q.qtype, QTYPE_ANY);
	assert_memory_equal(dns_question_name(&q), "", 1);
	/* www, then to QDCOUNT's low octet: the label \000, then the root */
	len = build_query(b, (const uint8_t *)"\3WwW\xc0\x05", 6, QTYPE_ANY);
	assert_int_equal(parse_copy(b, len, &q), DNS_QUERY);
	assert_int_equal(q.name_len, 7);
	assert_int_equal(q.labels, 2);
	assert_int_equal(q.qtype, QTYPE_ANY);
	assert_memory_equal(dns_question_name(&q), "\3www\1\0\0", 7);
	assert_true(dns_name_has_suffix(&q, (const uint8_t *)"\1\0\0", 3));
	/* a pointer whose second octet is missing */
	build_query(b, (const uint8_t *)"\3www\xff", 5, QTYPE_A);
	assert_int_equal(parse_copy(b, 17, &q), DNS_TRUNCATED);
}

static void test_bad_label(void **state)
{
	static const uint8_t types[] = {0x40, 0x41, 0x7f, 0x80, 0xbf};
	uint8_t b[128];
	uint8_t name[80];
	struct dns_question q;

	(void)state;
	for (size_t i = 0; i < sizeof(types); i++) {
		size_t len;

		memset(name, 'a', sizeof(name));
		name[0] = types[i];
		name[79] = 0;
		len = build_query(b, name, sizeof(name), QTYPE_A);
		assert_int_equal(parse_copy(b, len, &q), DNS_BAD_LABEL);
		/* after a first label */
		memcpy(name, "\3www", 4);
		name[4] = types[i];
		len = build_query(b, name, sizeof(name), QTYPE_A);
		assert_int_equal(parse_copy(b, len, &q), DNS_BAD_LABEL);
	}
	/* a 63-octet label is the longest */
	name[0] = 63;
	memset(name + 1, 'x', 63);
	name[64] = 0;
	size_t len = build_query(b, name, 65, QTYPE_A);
	assert_int_equal(parse_copy(b, len, &q), DNS_QUERY);
	assert_int_equal(q.name_len, 65);
	assert_int_equal(q.labels, 1);
	assert_memory_equal(q.name, name, 65);
	b[12] = 64;
	assert_int_equal(parse_copy(b, len, &q), DNS_BAD_LABEL);
}

static void test_name_length(void **state)
{
	uint8_t name[300];
	uint8_t b[400];
	size_t nlen, len;
	struct dns_question q;

	(void)state;
	nlen = long_name(name, 255, 'a');
	assert_int_equal(nlen, 255);
	len = build_query(b, name, nlen, QTYPE_ANY);
	assert_int_equal(parse_copy(b, len, &q), DNS_QUERY);
	assert_int_equal(q.name_len, 255);
	assert_int_equal(q.labels, 4);
	assert_memory_equal(q.name, name, 255);
	assert_int_equal(q.qtype, QTYPE_ANY);
	/* labels at 0, 64, 128 and 192; the root at 254 */
	assert_true(dns_name_has_suffix(&q, name + 192, 63));
	assert_true(dns_name_has_suffix(&q, name + 64, 191));
	assert_false(dns_name_has_suffix(&q, name + 193, 62));
	assert_true(dns_name_has_suffix(&q, name + 254, 1));

	nlen = long_name(name, 256, 'a');
	assert_int_equal(nlen, 256);
	len = build_query(b, name, nlen, QTYPE_ANY);
	assert_int_equal(parse_copy(b, len, &q), DNS_NAME_LONG);
	/* known from the length octet, before the label is there */
	assert_int_equal(parse_copy(b, 12 + 193, &q), DNS_NAME_LONG);
	assert_int_equal(parse_copy(b, 12 + 192, &q), DNS_TRUNCATED);

	/* 255 in many short labels; one more octet is too many */
	for (nlen = 0; nlen < 254; nlen += 2) {
		name[nlen] = 1;
		name[nlen + 1] = 'z';
	}
	name[254] = 0;
	len = build_query(b, name, 255, QTYPE_A);
	assert_int_equal(parse_copy(b, len, &q), DNS_QUERY);
	assert_int_equal(q.labels, 127);
	assert_int_equal(q.name_len, 255);
	/* a label starts at every even octet, none at an odd one */
	assert_true(dns_name_has_suffix(&q, name + 2, 253));
	assert_false(dns_name_has_suffix(&q, name + 3, 252));
	assert_true(dns_name_has_suffix(&q, name + 252, 3));
	assert_false(dns_name_has_suffix(&q, name + 253, 2));
	name[252] = 2;
	name[254] = 'y';
	name[255] = 0;
	len = build_query(b, name, 256, QTYPE_A);
	assert_int_equal(parse_copy(b, len, &q), DNS_NAME_LONG);
}

static void test_case_folding(void **state)
{
	static const uint8_t in[] = "\4WwW@\11ExAmPlE[`\4\xc1\xe1Z{\3COM";
	static const uint8_t out[] = "\4www@\11example[`\4\xc1\xe1z{\3com";
	uint8_t b[64];
	size_t len = build_query(b, in, sizeof(in), QTYPE_A);
	struct dns_question q;

	(void)state;
	assert_int_equal(parse_copy(b, len, &q), DNS_QUERY);
	assert_int_equal(q.name_len, sizeof(out));
	assert_memory_equal(q.name, out, sizeof(out));
	assert_int_equal(q.labels, 4);

	/* names shorter than eight octets */
	len = build_query(b, (const uint8_t *)"\1Z", 3, QTYPE_A);
	assert_int_equal(parse_copy(b, len, &q), DNS_QUERY);
	assert_memory_equal(q.name, "\1z", 3);
	len = build_query(b, (const uint8_t *)"\2A\xc1\1[", 6, QTYPE_A);
	assert_int_equal(parse_copy(b, len, &q), DNS_QUERY);
	assert_memory_equal(q.name, "\2a\xc1\1[", 6);
}

/*
 * Every octet value, at every position modulo eight, and names of every
 * length up to 40: only A-Z change.
 */
static void test_case_folding_all(void **state)
{
	uint8_t name[300], want[300];
	uint8_t b[400];
	struct dns_question q;

	(void)state;
	for (unsigned int half = 0; half < 2; half++) {
		/* a first label of 1..8 octets moves the rest by 2..9 */
		for (size_t shift = 0; shift <= 8; shift++) {
			size_t n = 0;
			unsigned int v = half * 128;

			if (shift > 0) {
				name[n++] = (uint8_t)shift;
				memset(name + n, 'Q', shift);
				n += shift;
			}
			while (v < half * 128 + 128) {
				size_t lab = half * 128 + 128 - v;

				if (lab > 63)
					lab = 63;
				name[n++] = (uint8_t)lab;
				for (size_t i = 0; i < lab; i++)
					name[n++] = (uint8_t)v++;
			}
			name[n++] = 0;
			for (size_t i = 0; i < n; i++)
				want[i] = name[i] >= 'A' && name[i] <= 'Z'
						  ? name[i] + 32
						  : name[i];
			size_t len = build_query(b, name, n, QTYPE_A);
			assert_int_equal(parse_copy(b, len, &q), DNS_QUERY);
			assert_int_equal(q.name_len, n);
			assert_memory_equal(q.name, want, n);
		}
	}
	/* one label of n - 2 upper-case octets, for every short n */
	for (size_t n = 3; n <= 40; n++) {
		name[0] = (uint8_t)(n - 2);
		memset(name + 1, 'M', n - 2);
		memset(want + 1, 'm', n - 2);
		want[0] = name[0];
		name[n - 1] = want[n - 1] = 0;
		/* a letter right after the name must stay outside it */
		memset(b, 0, sizeof(b));
		size_t len = build_query(b, name, n, 0x4142);
		memset(&q, 'X', sizeof(q));
		assert_int_equal(parse_copy(b, len, &q), DNS_QUERY);
		assert_int_equal(q.name_len, n);
		assert_memory_equal(q.name, want, n);
		assert_int_equal(q.name[n], 'X');
		assert_int_equal(q.qtype, 0x4142);
	}
}

static void test_root(void **state)
{
	uint8_t b[32];
	size_t len = build(b, 0, 1, (const uint8_t *)"", 1, 2, QCLASS_IN);
	struct dns_question q;

	(void)state;
	memset(&q, 0xa5, sizeof(q));
	assert_int_equal(parse_copy(b, len, &q), DNS_QUERY);
	assert_int_equal(q.name_len, 1);
	assert_int_equal(q.name[0], 0);
	assert_int_equal(q.labels, 0);
	assert_int_equal(q.qtype, 2);
	assert_int_equal(q.qclass, QCLASS_IN);
	assert_true(dns_name_has_suffix(&q, (const uint8_t *)"", 1));
	assert_false(dns_name_has_suffix(&q, (const uint8_t *)"\3com", 5));
}

/* Parses a query for name and matches suffix against it. */
static bool suffix_of(const char *name, size_t nlen, const char *suffix,
		      size_t slen)
{
	uint8_t b[300];
	size_t len = build_query(b, (const uint8_t *)name, nlen, QTYPE_A);
	struct dns_question q;

	assert_int_equal(parse_copy(b, len, &q), DNS_QUERY);
	return dns_name_has_suffix(&q, (const uint8_t *)suffix, slen);
}

#define SUFFIX_OF(n, s) suffix_of(n, sizeof(n), s, sizeof(s))

static void test_suffix(void **state)
{
	(void)state;
	assert_true(SUFFIX_OF("\7example\3com", "\7example\3com"));
	assert_true(SUFFIX_OF("\3www\7EXAMPLE\3com", "\7example\3com"));
	assert_true(SUFFIX_OF("\1a\1b\3www\7example\3com", "\7example\3com"));
	assert_false(SUFFIX_OF("\12badexample\3com", "\7example\3com"));
	assert_false(SUFFIX_OF("\7example\3net", "\7example\3com"));
	assert_false(SUFFIX_OF("\3com", "\7example\3com"));
	assert_true(SUFFIX_OF("\3www\7example\3com", "\3com"));
	assert_true(SUFFIX_OF("\3www\7example\3com", "\3www\7example\3com"));
	assert_false(SUFFIX_OF("\3www\7example\3com", "\3ww\7example\3com"));
	/* the suffix is lower case already; the name is folded */
	assert_false(SUFFIX_OF("\7example\3com", "\7EXAMPLE\3com"));
	/* the root matches every name */
	assert_true(SUFFIX_OF("\3www\7example\3com", ""));
	assert_true(SUFFIX_OF("\3com", ""));
	/* equal octets inside a label are not a label boundary */
	assert_false(SUFFIX_OF("\5a\3com", "\3com"));
	assert_true(SUFFIX_OF("\5a\3com", "\5a\3com"));
	/* nothing is no suffix; a suffix without its root is not either */
	assert_false(suffix_of("\3com", 5, "", 0));
	assert_false(suffix_of("\3com", 5, "\3com", 4));
}

static void test_suffix_long(void **state)
{
	uint8_t name[300];
	uint8_t b[400];
	size_t len;
	struct dns_question q;

	(void)state;
	long_name(name, 255, 'q');
	len = build_query(b, name, 255, QTYPE_A);
	assert_int_equal(parse_copy(b, len, &q), DNS_QUERY);
	/* the whole name, each label-aligned tail, the root */
	assert_true(dns_name_has_suffix(&q, name, 255));
	assert_true(dns_name_has_suffix(&q, name + 64, 191));
	assert_true(dns_name_has_suffix(&q, name + 128, 127));
	assert_true(dns_name_has_suffix(&q, name + 192, 63));
	assert_true(dns_name_has_suffix(&q, name + 254, 1));
	assert_false(dns_name_has_suffix(&q, name + 193, 62));
	assert_false(dns_name_has_suffix(&q, name + 63, 192));
	/* longer than the name */
	memmove(name + 1, name, 255);
	name[0] = 0;
	assert_false(dns_name_has_suffix(&q, name, 256));
}

static void check_text(const char *name, size_t nlen, const char *want)
{
	char buf[1100];

	memset(buf, 'X', sizeof(buf));
	assert_int_equal(dns_name_to_text((const uint8_t *)name, nlen, buf,
					  sizeof(buf)),
			 (int)strlen(want));
	assert_string_equal(buf, want);
}

#define TEXT(n, w) check_text(n, sizeof(n), w)

static void test_text(void **state)
{
	(void)state;
	TEXT("\3www\7example\3com", "www.example.com.");
	TEXT("", ".");
	TEXT("\3WwW\1*\3a-b\3_x9", "WwW.*.a-b._x9.");
	TEXT("\3a\001b\4\177\n\r\t", "a\\001b.\\127\\010\\013\\009.");
	TEXT("\2%n\3%s%", "\\037n.\\037s\\037.");
	TEXT("\3a.b\2\\\"\3 \xff\x80", "a\\046b.\\092\\034.\\032\\255\\128.");
	TEXT("\1\0", "\\000.");
	TEXT("\3a:b\3{|}\1/\1@", "a\\058b.\\123\\124\\125.\\047.\\064.");
	/* octets after the root are not part of the name */
	check_text("\3com\0\xc0\x0c", 7, "com.");
}

static void test_text_long(void **state)
{
	uint8_t name[300];
	char buf[1100];

	(void)state;
	/* the longest text: 250 escaped octets and 4 dots */
	long_name(name, 255, 0xff);
	assert_int_equal(dns_name_to_text(name, 255, buf, sizeof(buf)), 1004);
	assert_int_equal(strlen(buf), 1004);
	assert_memory_equal(buf, "\\255\\255", 8);
	assert_string_equal(buf + 1000, "255.");
	/* a name longer than a name can be */
	long_name(name, 256, 'a');
	assert_int_equal(dns_name_to_text(name, 256, buf, sizeof(buf)), -1);
}

static void test_text_small_buffer(void **state)
{
	static const uint8_t name[] = "\3a\001b";
	/* the text: a \001 b . = 7 characters */
	static const struct {
		size_t buflen;
		const char *want;
	} cases[] = {
		{1, ""},	 {2, "a"},	    {3, "a"},
		{5, "a"},	 {6, "a\\001"},	    {7, "a\\001b"},
		{8, "a\\001b."}, {100, "a\\001b."},
	};
	char buf[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(buf, 'X', sizeof(buf));
		assert_int_equal(dns_name_to_text(name, sizeof(name), buf,
						  cases[i].buflen),
				 7);
		assert_string_equal(buf, cases[i].want);
		/* nothing written past the buffer */
		assert_int_equal(buf[cases[i].buflen], 'X');
	}
	/* no buffer at all: nothing written, length still told */
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(dns_name_to_text(name, sizeof(name), buf, 0), 7);
	assert_int_equal(buf[0], 'X');
	assert_int_equal(dns_name_to_text(name, sizeof(name), NULL, 0), 7);
	/* the root in a buffer of one */
	assert_int_equal(dns_name_to_text((const uint8_t *)"", 1, buf, 1), 1);
	assert_string_equal(buf, "");
	assert_int_equal(dns_name_to_text((const uint8_t *)"", 1, buf, 2), 1);
	assert_string_equal(buf, ".");
}

static void test_text_malformed(void **state)
{
	static const struct {
		const char *name;
		size_t len;
	} bad[] = {
		{"\xc0\x0c", 2},      /* pointer */
		{"\3www\xc0\x0c", 6}, /* pointer after a label */
		{"\x40xx", 4},	      /* reserved label type */
		{"\x80xx", 4},	      /* extended label type */
		{"\5ab", 3},	      /* label past the end */
		{"\3co", 3},	      /* label one octet past the end */
		{"\3com", 4},	      /* no root */
		{"\3com\1", 5},	      /* a length octet and nothing after it */
		{"", 0},	      /* nothing */
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* an exact copy, so ASan sees a read past the name */
		uint8_t *name = malloc(bad[i].len > 0 ? bad[i].len : 1);

		assert_non_null(name);
		memcpy(name, bad[i].name, bad[i].len);
		memset(buf, 'X', sizeof(buf));
		assert_int_equal(dns_name_to_text(name, bad[i].len, buf,
						  sizeof(buf)),
				 -1);
		assert_string_equal(buf, "");
		free(name);
	}
}

static void test_status_malformed(void **state)
{
	(void)state;
	assert_false(dns_status_malformed(DNS_QDCOUNT));
	assert_true(dns_status_malformed(DNS_SHORT));
	assert_true(dns_status_malformed(DNS_NAME_LONG));
}

/*
 * Every qtype's text reads back as that type: ldns's own name lookup for
 * a name, the number for TYPEnnn; the usual types by their names.
 */
static void test_qtype_text(void **state)
{
	char buf[16];

	(void)state;
	dns_qtype_text(255, buf, sizeof(buf));
	assert_string_equal(buf, "ANY");
	dns_qtype_text(16, buf, sizeof(buf));
	assert_string_equal(buf, "TXT");
	dns_qtype_text(48, buf, sizeof(buf));
	assert_string_equal(buf, "DNSKEY");
	dns_qtype_text(252, buf, sizeof(buf));
	assert_string_equal(buf, "AXFR");
	dns_qtype_text(65534, buf, sizeof(buf));
	assert_string_equal(buf, "TYPE65534");
	for (unsigned t = 0; t < 65536; t++) {
		dns_qtype_text((uint16_t)t, buf, sizeof(buf));
		if (strncmp(buf, "TYPE", 4) == 0)
			assert_int_equal(strtoul(buf + 4, NULL, 10), t);
		else
			assert_int_equal(ldns_get_rr_type_by_name(buf), t);
	}
}

/* ASCII case-insensitive, as DNS compares names */
static bool name_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t x = a[i] >= 'A' && a[i] <= 'Z' ? a[i] + 32 : a[i];
		uint8_t y = b[i] >= 'A' && b[i] <= 'Z' ? b[i] + 32 : b[i];

		if (x != y)
			return false;
	}
	return true;
}

static void test_ldns_agrees(void **state)
{
	static const struct {
		const char *name;
		size_t len;
		uint16_t qtype;
	} vec[] = {
		{"\3www\7example\3com", 17, QTYPE_A},
		{"\7ExAmPlE\3NeT", 13, QTYPE_ANY},
		{"", 1, 2},
		{"\1*\4_tcp\3\xc1\xff\x01\2\0\0", 15, 0xabcd},
	};
	uint8_t b[400];
	uint8_t lname[300];
	struct dns_question q;

	(void)state;
	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]) + 2; i++) {
		ldns_rdf *rdf = NULL;
		size_t pos = 12;
		size_t len;

		if (i < sizeof(vec) / sizeof(vec[0])) {
			len = build(b, 0x0100, 1, (const uint8_t *)vec[i].name,
				    vec[i].len, vec[i].qtype, 0x1234);
		} else if (i == sizeof(vec) / sizeof(vec[0])) {
			long_name(lname, 255, 'M');
			len = build(b, 0x0100, 1, lname, 255, 28, 1);
		} else {
			long_name(lname, 65, 'Q');
			len = build(b, 0x0100, 1, lname, 65, 16, 3);
		}
		assert_int_equal(parse_copy(b, len, &q), DNS_QUERY);
		assert_int_equal(ldns_wire2dname(&rdf, b, len, &pos),
				 LDNS_STATUS_OK);
		assert_int_equal(ldns_rdf_size(rdf), q.name_len);
		assert_true(name_equal(ldns_rdf_data(rdf), q.name, q.name_len));
		assert_int_equal(pos + 4, len);
		assert_int_equal(ldns_read_uint16(b + pos), q.qtype);
		assert_int_equal(ldns_read_uint16(b + pos + 2), q.qclass);
		assert_int_equal(ldns_dname_label_count(rdf), q.labels);
		ldns_rdf_deep_free(rdf);
	}

	/* and both refuse a name of 256 octets */
	long_name(lname, 256, 'm');
	size_t len = build(b, 0x0100, 1, lname, 256, 1, 1);
	ldns_rdf *rdf = NULL;
	size_t pos = 12;

	assert_int_equal(parse_copy(b, len, &q), DNS_NAME_LONG);
	assert_int_not_equal(ldns_wire2dname(&rdf, b, len, &pos),
			     LDNS_STATUS_OK);
	ldns_rdf_deep_free(rdf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short),
		cmocka_unit_test(test_header_statuses),
		cmocka_unit_test(test_valid_query),
		cmocka_unit_test(test_qtype_qclass),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_label_past_end),
		cmocka_unit_test(test_pointer),
		cmocka_unit_test(test_bad_label),
		cmocka_unit_test(test_name_length),
		cmocka_unit_test(test_case_folding),
		cmocka_unit_test(test_case_folding_all),
		cmocka_unit_test(test_root),
		cmocka_unit_test(test_suffix),
		cmocka_unit_test(test_suffix_long),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_text_long),
		cmocka_unit_test(test_text_small_buffer),
		cmocka_unit_test(test_text_malformed),
		cmocka_unit_test(test_status_malformed),
		cmocka_unit_test(test_qtype_text),
		cmocka_unit_test(test_ldns_agrees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
