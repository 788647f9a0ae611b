/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Builds DNS answers for test_truncate.c: with ldns (ldns_pkt2wire, which
 * compresses names) from a description of the header, the question, the
 * sections and the EDNS OPT, and inside IPv4 (with or without options) or
 * IPv6 (with hop-by-hop, destination options and atomic fragment headers)
 * with valid checksums, summed by truncate_oracle.h.  Header-only, for
 * that one test; it asserts with cmocka, so cmocka.h comes first.
 */
#ifndef DNSRL_TESTS_TRUNCATE_HELPERS_H
#define DNSRL_TESTS_TRUNCATE_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <ldns/ldns.h>

#include "truncate_oracle.h"

#define IP_HBH 0
#define IP_TCP 6
#define IP_UDP 17
#define IP_ROUTING 43
#define IP_FRAG 44
#define IP_AH 51
#define IP_NONE 59
#define IP_DSTOPTS 60

static const uint8_t src4[4] = {198, 51, 100, 53};
static const uint8_t dst4[4] = {203, 0, 113, 7};
static const uint8_t src6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x53, 0, 0,
				 0,    0,    0,	   0,	 0, 0,	  0, 0x53};
static const uint8_t dst6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				 0,    0,    0,	   0,	 0, 0, 0, 0x07};

/* A cookie option: code 10, client cookie 8 octets, server cookie 16. */
static const uint8_t cookie[] = {0,    0x0a, 0,	   24,	 1,    2,    3,
				 4,    5,    6,	   7,	 8,    1,    0,
				 0,    0,    0x65, 0x43, 0x21, 0x00, 0xde,
				 0xad, 0xbe, 0xef, 0xca, 0xfe, 0xba, 0xbe};

static void put16(uint8_t *b, unsigned int v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* ---- IP and UDP around a DNS message ---- */

enum ipv {
	V4,	    /* no options, DF */
	V4_OPTIONS, /* router alert and record route */
	V4_NOCSUM,  /* the answer came with UDP checksum 0 */
	V6,
	V6_HBH,
	V6_DST,
	V6_FRAG,  /* an atomic fragment header */
	V6_CHAIN, /* hop-by-hop, dest. options, atomic fragment, dest. options */
	IPV_N
};

/* One IPv6 extension header of type t with next header nh; its length. */
static size_t put_ext(uint8_t *e, uint8_t t, uint8_t nh, uint16_t frag)
{
	size_t n;

	switch (t) {
	case IP_HBH: /* router alert, then PadN */
		n = 8;
		memset(e, 0, n);
		e[2] = 5;
		e[3] = 2;
		e[6] = 1;
		break;
	case IP_DSTOPTS: /* an unknown skippable option, then PadN */
		n = 16;
		memset(e, 0, n);
		e[1] = 1;
		e[2] = 0x1e;
		e[3] = 8;
		e[12] = 1;
		e[13] = 2;
		break;
	case IP_FRAG:
		n = 8;
		memset(e, 0, n);
		put16(e + 2, frag);
		put16(e + 4, 0x1234);
		put16(e + 6, 0x5678);
		break;
	case IP_ROUTING: /* type 4, segments left 0, one address */
		n = 24;
		memset(e, 0, n);
		e[1] = 2;
		e[2] = 4;
		memcpy(e + 8, dst6, 16);
		break;
	default: /* AH: (4 + 2) * 4 octets */
		n = 24;
		memset(e, 0xab, n);
		e[1] = 4;
		put16(e + 2, 0);
		break;
	}
	e[0] = nh;
	return n;
}

/*
 * The IP header (and options or extension headers) for a UDP datagram of
 * ulen octets; returns its length, the offset of the UDP header.
 * exts[0..n) are the extension headers of an IPv6 packet.
 */
static size_t put_ip6(uint8_t *p, const uint8_t *exts, size_t n, uint16_t frag,
		      size_t ulen)
{
	size_t off = 40;

	memset(p, 0, 40);
	p[0] = 0x6b; /* traffic class 0xb8: must be copied */
	p[1] = 0x81;
	p[2] = 0x23;
	p[3] = 0x45;
	p[6] = n > 0 ? exts[0] : IP_UDP;
	p[7] = 57;
	memcpy(p + 8, src6, 16);
	memcpy(p + 24, dst6, 16);
	for (size_t i = 0; i < n; i++)
		off += put_ext(p + off, exts[i],
			       i + 1 < n ? exts[i + 1] : IP_UDP, frag);
	put16(p + 4, (unsigned int)(off - 40 + ulen));
	return off;
}

static size_t put_ip4(uint8_t *p, bool options, uint8_t proto, uint16_t frag,
		      size_t ulen)
{
	size_t hlen = options ? 32 : 20;

	memset(p, 0, hlen);
	p[0] = (uint8_t)(0x40 | hlen / 4);
	p[1] = 0xb8;
	put16(p + 2, (unsigned int)(hlen + ulen));
	put16(p + 4, 0x4d2e);
	put16(p + 6, frag);
	p[8] = 61;
	p[9] = proto;
	memcpy(p + 12, src4, 4);
	memcpy(p + 16, dst4, 4);
	if (options) {
		/* router alert; record route with room for one address */
		p[20] = 0x94;
		p[21] = 4;
		p[24] = 7;
		p[25] = 7;
		p[26] = 4;
	}
	put16(p + 10, (uint16_t)~oracle_fold(oracle_sum(0, p, hlen)));
	return hlen;
}

static size_t put_ip(uint8_t *p, enum ipv v, size_t ulen)
{
	static const uint8_t hbh[] = {IP_HBH};
	static const uint8_t dst[] = {IP_DSTOPTS};
	static const uint8_t frag[] = {IP_FRAG};
	static const uint8_t chain[] = {IP_HBH, IP_DSTOPTS, IP_FRAG,
					IP_DSTOPTS};

	switch (v) {
	case V4:
	case V4_NOCSUM:
		return put_ip4(p, false, IP_UDP, 0x4000, ulen);
	case V4_OPTIONS:
		return put_ip4(p, true, IP_UDP, 0, ulen);
	case V6:
		return put_ip6(p, NULL, 0, 0, ulen);
	case V6_HBH:
		return put_ip6(p, hbh, 1, 0, ulen);
	case V6_DST:
		return put_ip6(p, dst, 1, 0, ulen);
	case V6_FRAG:
		return put_ip6(p, frag, 1, 0, ulen);
	default:
		return put_ip6(p, chain, sizeof(chain), 0, ulen);
	}
}

/* The UDP header at p + off (the IP header before it) and the payload. */
static size_t put_udp(uint8_t *p, size_t off, uint16_t sport,
		      const uint8_t *dns, size_t dlen, bool csum)
{
	uint8_t *u = p + off;

	put16(u, sport);
	put16(u + 2, 41234);
	put16(u + 4, (unsigned int)(8 + dlen));
	put16(u + 6, 0);
	memcpy(u + 8, dns, dlen);
	if (csum)
		put16(u + 6, (uint16_t)~oracle_udp_sum(p, u, 8 + dlen));
	return off + 8 + dlen;
}

/* A whole answer packet from port 53; returns its length. */
static size_t wrap(uint8_t *p, enum ipv v, const uint8_t *dns, size_t dlen,
		   size_t *udp_off)
{
	size_t off = put_ip(p, v, 8 + dlen);

	*udp_off = off;
	return put_udp(p, off, 53, dns, dlen, v != V4_NOCSUM);
}

/* ---- answers built with ldns ---- */

#define F_RD 0x01
#define F_RA 0x02
#define F_CD 0x04
#define F_AA 0x08
#define F_AD 0x10
#define F_TC 0x20
#define F_ALL 0x3f

enum opt_place { OPT_NONE, OPT_FIRST, OPT_LAST };

struct spec {
	const char *qname;
	uint16_t qtype;
	uint16_t id;
	uint8_t opcode;
	uint8_t rcode;
	unsigned int flags;
	bool sections; /* answer, authority and additional records */
	enum opt_place opt;
	bool z; /* the Z bit set in the answer's header */
	uint8_t ext_rcode;
	uint8_t version; /* EDNS version */
	bool do_bit;
	bool cookie;
	bool tsig; /* a TSIG RR last in the additional section */
};

/* Pushes the RR "owner rest" (presentation format) into section s. */
static void push_str(ldns_pkt *p, ldns_pkt_section s, const char *owner,
		     const char *rest)
{
	char text[1200];
	ldns_rr *rr = NULL;

	snprintf(text, sizeof(text), "%s %s", owner, rest);
	assert_int_equal(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL),
			 LDNS_STATUS_OK);
	ldns_pkt_push_rr(p, s, rr);
}

/* An RR of any type with raw RDATA, for what ldns has no text for. */
static ldns_rr *raw_rr(const char *owner, uint16_t type, uint16_t class,
		       uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	ldns_rr *rr = ldns_rr_new();

	assert_non_null(rr);
	ldns_rr_set_owner(rr, ldns_dname_new_frm_str(owner));
	ldns_rr_set_type(rr, (ldns_rr_type)type);
	ldns_rr_set_class(rr, (ldns_rr_class) class);
	ldns_rr_set_ttl(rr, ttl);
	if (rdlen > 0)
		ldns_rr_push_rdf(rr,
				 ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN,
						       rdlen, rdata));
	return rr;
}

static uint32_t opt_ttl(const struct spec *s)
{
	return (uint32_t)s->ext_rcode << 24 | (uint32_t)s->version << 16 |
	       (s->do_bit ? 0x8000 : 0) |
	       0x0123; /* unassigned Z bits, to be copied too */
}

static ldns_rr *opt_rr(const struct spec *s)
{
	return raw_rr(".", LDNS_RR_TYPE_OPT, 1232, opt_ttl(s), cookie,
		      s->cookie ? sizeof(cookie) : 0);
}

/* A TSIG RR's RDATA: hmac-sha256., time, fudge, a 32-octet MAC, ... */
static ldns_rr *tsig_rr(void)
{
	uint8_t rd[64] = {11,  'h', 'm', 'a', 'c', '-', 's',
			  'h', 'a', '2', '5', '6', 0};
	size_t n = 13;

	put16(rd + n + 2, 0x6553); /* time, 48 bits */
	n += 6;
	put16(rd + n, 300);
	put16(rd + n + 2, 32);
	n += 4 + 32;
	put16(rd + n, 0xbeef); /* original ID, error, other length */
	n += 6;
	return raw_rr("key.example.", LDNS_RR_TYPE_TSIG, LDNS_RR_CLASS_ANY, 0,
		      rd, n);
}

/* The answer s describes, in wire format (ldns-allocated: free()). */
static uint8_t *build(const struct spec *s, size_t *len)
{
	ldns_pkt *p = ldns_pkt_new();
	ldns_rr *q = ldns_rr_new();
	uint8_t *wire = NULL;

	assert_non_null(p);
	ldns_pkt_set_id(p, s->id);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_opcode(p, (ldns_pkt_opcode)s->opcode);
	ldns_pkt_set_rcode(p, s->rcode);
	ldns_pkt_set_rd(p, s->flags & F_RD);
	ldns_pkt_set_ra(p, s->flags & F_RA);
	ldns_pkt_set_cd(p, s->flags & F_CD);
	ldns_pkt_set_aa(p, s->flags & F_AA);
	ldns_pkt_set_ad(p, s->flags & F_AD);
	ldns_pkt_set_tc(p, s->flags & F_TC);

	ldns_rr_set_question(q, true);
	ldns_rr_set_owner(q, ldns_dname_new_frm_str(s->qname));
	ldns_rr_set_type(q, (ldns_rr_type)s->qtype);
	ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
	ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, q);

	if (s->opt == OPT_FIRST)
		ldns_pkt_push_rr(p, LDNS_SECTION_ADDITIONAL, opt_rr(s));
	if (s->sections) {
		/* each name below compresses against the question's */
		push_str(p, LDNS_SECTION_ANSWER, s->qname,
			 "300 IN TXT \"one\"");
		push_str(p, LDNS_SECTION_ANSWER, s->qname,
			 "300 IN TXT \"two, a longer string\"");
		push_str(p, LDNS_SECTION_AUTHORITY, s->qname,
			 "86400 IN NS ns1.example.net.");
		push_str(p, LDNS_SECTION_AUTHORITY, s->qname,
			 "86400 IN NS ns2.example.net.");
		push_str(p, LDNS_SECTION_ADDITIONAL, "ns1.example.net.",
			 "300 IN A 198.51.100.1");
		push_str(p, LDNS_SECTION_ADDITIONAL, "ns1.example.net.",
			 "300 IN AAAA 2001:db8::1");
	}
	if (s->opt == OPT_LAST)
		ldns_pkt_push_rr(p, LDNS_SECTION_ADDITIONAL, opt_rr(s));
	if (s->tsig)
		ldns_pkt_push_rr(p, LDNS_SECTION_ADDITIONAL, tsig_rr());
	assert_int_equal(ldns_pkt2wire(&wire, p, len), LDNS_STATUS_OK);
	if (s->z)
		wire[3] |= 0x40; /* ldns has no setter for it */
	ldns_pkt_free(p);
	return wire;
}

#endif
