/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The IP/UDP header walk: valid IPv4 and IPv6 queries, every truncation,
 * padding, bad UDP lengths, fragments, other protocols and the IPv6
 * extension header chain.  What is expected follows Linux's delivery
 * rules (ip_rcv_core, ip6_rcv_core, ipv6_parse_hopopts, the extension
 * header handlers, __udp4_lib_rcv / __udp6_lib_rcv).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "packet.h"

#define IP_TCP 6
#define IP_UDP 17
#define IP_ICMP 1
#define IP_ICMPV6 58
#define IP_NONE 59
#define IP_HBH 0
#define IP_ROUTING 43
#define IP_FRAG 44
#define IP_AH 51
#define IP_DSTOPTS 60

static const uint8_t src4[4] = {198, 51, 100, 7};
static const uint8_t dst4[4] = {203, 0, 113, 53};
static const uint8_t src6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
				 0,    0,    0,	   0,	 0, 0, 0, 0x07};
static const uint8_t dst6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x53, 0, 0,
				 0,    0,    0,	   0,	 0, 0,	  0, 0x53};

/* www.example.com A IN, recursion desired: 33 octets */
static const uint8_t query[] = {
	0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x03, 'w',  'w',	'w',  0x07, 'e',  'x',	'a',  'm',  'p',
	'l',  'e',  0x03, 'c',	'o',  'm',  0x00, 0x00, 0x01, 0x00, 0x01,
};

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* A UDP header from port 40000 to 53 and the query; returns its length. */
static size_t put_udp(uint8_t *b)
{
	put16(b, 40000);
	put16(b + 2, 53);
	put16(b + 4, (uint16_t)(8 + sizeof(query)));
	put16(b + 6, 0);
	memcpy(b + 8, query, sizeof(query));
	return 8 + sizeof(query);
}

/*
 * An IPv4 header with optlen octets of options (a multiple of 4) for an
 * l4len-octet payload; returns the header length.
 */
static size_t put_ipv4(uint8_t *b, size_t optlen, uint8_t proto, uint16_t frag,
		       size_t l4len)
{
	size_t hlen = 20 + optlen;

	memset(b, 0, hlen);
	b[0] = (uint8_t)(0x40 | hlen / 4);
	put16(b + 2, (uint16_t)(hlen + l4len));
	put16(b + 4, 0xbeef);
	put16(b + 6, frag);
	b[8] = 64;
	b[9] = proto;
	memcpy(b + 12, src4, 4);
	memcpy(b + 16, dst4, 4);
	/* router alert, then end-of-options padding */
	if (optlen >= 4) {
		b[20] = 0x94;
		b[21] = 4;
	}
	return hlen;
}

/* A whole IPv4 UDP/53 query; returns its length. */
static size_t ipv4_query(uint8_t *b)
{
	size_t hlen = put_ipv4(b, 0, IP_UDP, 0, 8 + sizeof(query));

	return hlen + put_udp(b + hlen);
}

static void put_ipv6(uint8_t *b, uint8_t next, size_t plen)
{
	memset(b, 0, 40);
	b[0] = 0x60;
	put16(b + 4, (uint16_t)plen);
	b[6] = next;
	b[7] = 64;
	memcpy(b + 8, src6, 16);
	memcpy(b + 24, dst6, 16);
}

/* A whole IPv6 UDP/53 query without extension headers. */
static size_t ipv6_query(uint8_t *b)
{
	put_ipv6(b, IP_UDP, 8 + sizeof(query));
	return 40 + put_udp(b + 40);
}

/*
 * An IPv6 query behind hop-by-hop, destination options, routing, AH and an
 * atomic fragment header; *udp_off is where the UDP header lands.
 */
static size_t ipv6_chain_query(uint8_t *b, uint16_t fragoff, size_t *udp_off)
{
	uint8_t *e = b + 40;
	size_t off;

	memset(b, 0, 256);
	e[0] = IP_DSTOPTS; /* hop-by-hop: 8 octets, PadN */
	e[1] = 0;
	e[2] = 1;
	e[3] = 4;
	e += 8;
	e[0] = IP_ROUTING; /* destination options: 16 octets */
	e[1] = 1;
	e[2] = 1;
	e[3] = 12;
	e += 16;
	e[0] = IP_AH; /* routing: 24 octets, type 4, segments left 0 */
	e[1] = 2;
	e[2] = 4;
	e += 24;
	e[0] = IP_FRAG; /* AH: (1 + 2) * 4 = 12 octets */
	e[1] = 1;
	put16(e + 4, 0x1000);
	e += 12;
	e[0] = IP_UDP; /* fragment */
	put16(e + 2, fragoff);
	put16(e + 4, 0xabcd);
	e += 8;
	off = (size_t)(e - b);
	off += put_udp(e);
	put_ipv6(b, IP_HBH, off - 40);
	*udp_off = (size_t)(e - b);
	return off;
}

/* Parses a private copy of exactly len octets, so ASan sees overreads. */
static enum packet_kind parse_copy(const uint8_t *b, size_t len,
				   struct packet *p)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	enum packet_kind k;

	assert_non_null(copy);
	memcpy(copy, b, len);
	k = packet_parse(copy, len, p);
	/* the payload must point into the copy, not anywhere else */
	if (k == PACKET_UDP) {
		assert_true(p->payload >= copy);
		assert_true(p->payload + p->payload_len <= copy + len);
		p->payload = b + (p->payload - copy);
	}
	free(copy);
	return k;
}

static void assert_query_udp(const struct packet *p, const uint8_t *b,
			     size_t udp_off)
{
	assert_int_equal(p->sport, 40000);
	assert_int_equal(p->dport, 53);
	assert_ptr_equal(p->payload, b + udp_off + 8);
	assert_int_equal(p->udp_len, sizeof(query));
	assert_int_equal(p->payload_len, sizeof(query));
	assert_memory_equal(p->payload, query, sizeof(query));
}

static void test_ipv4_query(void **state)
{
	uint8_t b[128];
	size_t len = ipv4_query(b);
	struct packet p;

	(void)state;
	assert_int_equal(len, 61);
	assert_int_equal(parse_copy(b, len, &p), PACKET_UDP);
	assert_int_equal(p.family, AF_INET);
	assert_memory_equal(p.src, src4, 4);
	assert_query_udp(&p, b, 20);
}

static void test_ipv4_options(void **state)
{
	uint8_t b[128];
	size_t hlen = put_ipv4(b, 4, IP_UDP, 0, 8 + sizeof(query));
	size_t len = hlen + put_udp(b + hlen);
	struct packet p;

	(void)state;
	assert_int_equal(hlen, 24);
	assert_int_equal(parse_copy(b, len, &p), PACKET_UDP);
	assert_int_equal(p.family, AF_INET);
	assert_memory_equal(p.src, src4, 4);
	assert_query_udp(&p, b, 24);

	/* 40 octets of options, the most IHL allows */
	hlen = put_ipv4(b, 40, IP_UDP, 0, 8 + sizeof(query));
	len = hlen + put_udp(b + hlen);
	assert_int_equal(b[0], 0x4f);
	assert_int_equal(parse_copy(b, len, &p), PACKET_UDP);
	assert_query_udp(&p, b, 60);
}

static void test_ipv6_query(void **state)
{
	uint8_t b[128];
	size_t len = ipv6_query(b);
	struct packet p;

	(void)state;
	assert_int_equal(len, 81);
	assert_int_equal(parse_copy(b, len, &p), PACKET_UDP);
	assert_int_equal(p.family, AF_INET6);
	assert_memory_equal(p.src, src6, 16);
	assert_query_udp(&p, b, 40);
}

/*
 * Every prefix of a packet whose UDP header starts at udp_off: invalid
 * until the UDP header is whole, then UDP with the payload growing.
 */
static void check_cuts(const uint8_t *b, size_t len, size_t ip_hlen,
		       size_t udp_off, int family)
{
	struct packet p;

	for (size_t cut = 0; cut <= len; cut++) {
		enum packet_kind k = parse_copy(b, cut, &p);

		if (cut < udp_off + 8) {
			assert_int_equal(k, PACKET_INVALID);
			assert_null(p.payload);
			assert_int_equal(p.payload_len, 0);
		} else {
			assert_int_equal(k, PACKET_UDP);
			assert_ptr_equal(p.payload, b + udp_off + 8);
			assert_int_equal(p.payload_len, cut - udp_off - 8);
			assert_int_equal(p.udp_len, sizeof(query));
			assert_int_equal(p.sport, 40000);
			assert_int_equal(p.dport, 53);
		}
		/* the source is known once the IP header is whole */
		if (cut < ip_hlen) {
			assert_int_equal(p.family, 0);
		} else {
			assert_int_equal(p.family, family);
			assert_memory_equal(p.src,
					    family == AF_INET ? src4 : src6,
					    family == AF_INET ? 4 : 16);
		}
	}
}

static void test_ipv4_truncated(void **state)
{
	uint8_t b[128];
	size_t len = ipv4_query(b);

	(void)state;
	check_cuts(b, len, 20, 20, AF_INET);
}

static void test_ipv6_truncated(void **state)
{
	uint8_t b[128];
	size_t len = ipv6_query(b);

	(void)state;
	check_cuts(b, len, 40, 40, AF_INET6);
}

static void test_ipv6_chain_truncated(void **state)
{
	uint8_t b[256];
	size_t udp_off;
	size_t len = ipv6_chain_query(b, 0, &udp_off);

	(void)state;
	assert_int_equal(udp_off, 108);
	check_cuts(b, len, 40, udp_off, AF_INET6);
}

static void test_padding(void **state)
{
	uint8_t b[128];
	size_t len = ipv4_query(b);
	struct packet p;

	(void)state;
	/* Ethernet-style trailer after the IPv4 total length */
	memset(b + len, 0xee, 6);
	assert_int_equal(parse_copy(b, len + 6, &p), PACKET_UDP);
	assert_query_udp(&p, b, 20);

	len = ipv6_query(b);
	memset(b + len, 0xee, 20);
	assert_int_equal(parse_copy(b, len + 20, &p), PACKET_UDP);
	assert_query_udp(&p, b, 40);

	/* the trailer is not IP payload: a UDP length reaching it is bad */
	len = ipv4_query(b);
	put16(b + 24, (uint16_t)(8 + sizeof(query) + 1));
	assert_int_equal(parse_copy(b, len + 6, &p), PACKET_INVALID);
}

static void test_ipv4_bad_header(void **state)
{
	uint8_t b[128];
	size_t len = ipv4_query(b);
	struct packet p;

	(void)state;
	/* IHL below 5 */
	b[0] = 0x44;
	assert_int_equal(parse_copy(b, len, &p), PACKET_INVALID);
	assert_int_equal(p.family, 0);
	/* IHL past the captured octets */
	b[0] = 0x4f;
	assert_int_equal(parse_copy(b, 59, &p), PACKET_INVALID);
	assert_int_equal(p.family, 0);
	/* total length shorter than the header */
	b[0] = 0x45;
	put16(b + 2, 19);
	assert_int_equal(parse_copy(b, len, &p), PACKET_INVALID);
	assert_int_equal(p.family, AF_INET);
	assert_memory_equal(p.src, src4, 4);
	/* total length that ends inside the UDP header */
	put16(b + 2, 27);
	assert_int_equal(parse_copy(b, len, &p), PACKET_INVALID);
	put16(b + 2, 28);
	assert_int_equal(parse_copy(b, len, &p), PACKET_INVALID);
}

static void test_udp_length(void **state)
{
	uint8_t b[128];
	size_t len;
	struct packet p;

	(void)state;
	for (int v6 = 0; v6 <= 1; v6++) {
		size_t uoff = v6 ? 40 : 20;

		len = v6 ? ipv6_query(b) : ipv4_query(b);
		put16(b + uoff + 4, 7);
		assert_int_equal(parse_copy(b, len, &p), PACKET_INVALID);
		/* 0: IPv4 drops it, IPv6 takes the rest of the payload */
		put16(b + uoff + 4, 0);
		if (v6) {
			assert_int_equal(parse_copy(b, len, &p), PACKET_UDP);
			assert_query_udp(&p, b, uoff);
		} else {
			assert_int_equal(parse_copy(b, len, &p),
					 PACKET_INVALID);
		}
		/* one more than the IP payload */
		put16(b + uoff + 4, (uint16_t)(8 + sizeof(query) + 1));
		assert_int_equal(parse_copy(b, len, &p), PACKET_INVALID);
		put16(b + uoff + 4, 0xffff);
		assert_int_equal(parse_copy(b, len, &p), PACKET_INVALID);
		/* exactly 8: an empty datagram */
		put16(b + uoff + 4, 8);
		assert_int_equal(parse_copy(b, len, &p), PACKET_UDP);
		assert_int_equal(p.udp_len, 0);
		assert_int_equal(p.payload_len, 0);
		assert_ptr_equal(p.payload, b + uoff + 8);
		/* shorter than the IP payload: the rest is not the query's */
		put16(b + uoff + 4, 8 + 20);
		assert_int_equal(parse_copy(b, len, &p), PACKET_UDP);
		assert_int_equal(p.udp_len, 20);
		assert_int_equal(p.payload_len, 20);
	}

	/* a cut capture is checked against the length the IP header claims */
	len = ipv4_query(b);
	put16(b + 24, (uint16_t)(8 + sizeof(query) + 1));
	assert_int_equal(parse_copy(b, 40, &p), PACKET_INVALID);
	put16(b + 24, (uint16_t)(8 + sizeof(query)));
	assert_int_equal(parse_copy(b, 40, &p), PACKET_UDP);
	assert_int_equal(p.udp_len, sizeof(query));
	assert_int_equal(p.payload_len, 12);
}

static void test_ipv4_fragments(void **state)
{
	/* an offset: no UDP header in it */
	static const uint16_t later[] = {0x0001, 0x00b9, 0x20b9, 0x1fff,
					 0x3fff};
	/* MF and offset 0: the first fragment, walked as far as it goes */
	static const uint16_t first[] = {0x2000, 0x6000, 0xa000};
	uint8_t b[128];
	size_t len = ipv4_query(b);
	struct packet p;

	(void)state;
	for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++) {
		put16(b + 6, later[i]);
		assert_int_equal(parse_copy(b, len, &p), PACKET_FRAGMENT);
		assert_int_equal(p.family, AF_INET);
		assert_memory_equal(p.src, src4, 4);
		assert_false(p.first_fragment);
	}
	for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
		put16(b + 6, first[i]);
		assert_int_equal(parse_copy(b, len, &p), PACKET_UDP);
		assert_true(p.first_fragment);
		assert_query_udp(&p, b, 20);
	}
	/* the UDP length of a first fragment is the whole datagram's */
	put16(b + 6, 0x2000);
	put16(b + 24, 1200);
	assert_int_equal(parse_copy(b, len, &p), PACKET_UDP);
	assert_int_equal(p.udp_len, 1192);
	assert_int_equal(p.payload_len, sizeof(query));
	/* DF and the reserved bit do not make a fragment */
	len = ipv4_query(b);
	put16(b + 6, 0x4000);
	assert_int_equal(parse_copy(b, len, &p), PACKET_UDP);
	assert_false(p.first_fragment);
	put16(b + 6, 0xc000);
	assert_int_equal(parse_copy(b, len, &p), PACKET_UDP);
	/* a later fragment is a fragment whatever it carries */
	put16(b + 6, 0x0010);
	b[9] = IP_TCP;
	assert_int_equal(parse_copy(b, len, &p), PACKET_FRAGMENT);
	b[9] = IP_UDP;
	assert_int_equal(parse_copy(b, 21, &p), PACKET_FRAGMENT);
	/* a first fragment too short for the UDP header */
	put16(b + 6, 0x2000);
	put16(b + 2, 24);
	assert_int_equal(parse_copy(b, len, &p), PACKET_INVALID);
}

static void test_not_udp(void **state)
{
	uint8_t b[128];
	size_t len;
	struct packet p;

	(void)state;
	len = ipv4_query(b);
	b[9] = IP_TCP;
	assert_int_equal(parse_copy(b, len, &p), PACKET_OTHER);
	assert_int_equal(p.family, AF_INET);
	assert_null(p.payload);
	b[9] = IP_ICMP;
	assert_int_equal(parse_copy(b, len, &p), PACKET_OTHER);
	/* a whole header is enough to tell */
	assert_int_equal(parse_copy(b, 20, &p), PACKET_OTHER);

	len = ipv6_query(b);
	for (int i = 0; i < 4; i++) {
		static const uint8_t next[] = {IP_TCP, IP_ICMPV6, IP_NONE, 50};

		b[6] = next[i];
		assert_int_equal(parse_copy(b, len, &p), PACKET_OTHER);
		assert_int_equal(p.family, AF_INET6);
		assert_memory_equal(p.src, src6, 16);
		assert_null(p.payload);
	}
}

static void test_ipv6_chain(void **state)
{
	uint8_t b[256];
	size_t udp_off;
	size_t len = ipv6_chain_query(b, 0, &udp_off);
	struct packet p;

	(void)state;
	assert_int_equal(parse_copy(b, len, &p), PACKET_UDP);
	assert_int_equal(p.family, AF_INET6);
	assert_memory_equal(p.src, src6, 16);
	assert_query_udp(&p, b, udp_off);

	/* the reserved bits of a fragment header do not make a fragment */
	len = ipv6_chain_query(b, 0x0006, &udp_off);
	assert_int_equal(parse_copy(b, len, &p), PACKET_UDP);
	assert_query_udp(&p, b, udp_off);

	/* the chain ends at an upper layer that is not UDP */
	b[100] = IP_ICMPV6;
	assert_int_equal(parse_copy(b, len, &p), PACKET_OTHER);
	b[100] = IP_NONE;
	assert_int_equal(parse_copy(b, len, &p), PACKET_OTHER);
}

static void test_ipv6_fragments(void **state)
{
	/* an offset: no UDP header in it */
	static const uint16_t later[] = {0x0008, 0x0009, 0xfff8, 0xffff};
	uint8_t b[256];
	size_t udp_off, len;
	struct packet p;

	(void)state;
	for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++) {
		len = ipv6_chain_query(b, later[i], &udp_off);
		assert_int_equal(parse_copy(b, len, &p), PACKET_FRAGMENT);
		assert_int_equal(p.family, AF_INET6);
		assert_memory_equal(p.src, src6, 16);
		assert_null(p.payload);
	}
	/* M and offset 0: the first fragment, walked to its question */
	len = ipv6_chain_query(b, 0x0001, &udp_off);
	assert_int_equal(parse_copy(b, len, &p), PACKET_UDP);
	assert_true(p.first_fragment);
	assert_query_udp(&p, b, udp_off);

	/* a fragment header straight after the fixed header */
	put_ipv6(b, IP_FRAG, 8 + 8 + sizeof(query));
	memset(b + 40, 0, 8);
	b[40] = IP_UDP;
	put16(b + 42, 0x0009);
	len = 48 + put_udp(b + 48);
	assert_int_equal(parse_copy(b, len, &p), PACKET_FRAGMENT);
	put16(b + 42, 0);
	assert_int_equal(parse_copy(b, len, &p), PACKET_UDP);
	assert_false(p.first_fragment);
	assert_query_udp(&p, b, 48);
	/* the first fragment's UDP length speaks of the whole datagram */
	put16(b + 42, 0x0001);
	put16(b + 52, 1400);
	assert_int_equal(parse_copy(b, len, &p), PACKET_UDP);
	assert_true(p.first_fragment);
	assert_int_equal(p.udp_len, 1392);
	assert_int_equal(p.payload_len, sizeof(query));
}

/* n destination options headers of 8 octets, then the UDP query. */
static size_t ipv6_dst_chain(uint8_t *b, unsigned int n)
{
	size_t off = 40;

	for (unsigned int i = 0; i < n; i++) {
		memset(b + off, 0, 8);
		b[off] = i + 1 < n ? IP_DSTOPTS : IP_UDP;
		b[off + 2] = 1;
		b[off + 3] = 4;
		off += 8;
	}
	off += put_udp(b + off);
	put_ipv6(b, n > 0 ? IP_DSTOPTS : IP_UDP, off - 40);
	return off;
}

/* The kernel walks any number of extension headers; so does the walk. */
static void test_ipv6_long_chain(void **state)
{
	static const unsigned int counts[] = {8, 9, 16, 40, 150};
	uint8_t b[1400];
	size_t len;
	struct packet p;

	(void)state;
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		len = ipv6_dst_chain(b, counts[i]);
		assert_int_equal(parse_copy(b, len, &p), PACKET_UDP);
		assert_query_udp(&p, b, 40 + 8 * counts[i]);
	}
}

/* Hop-by-hop anywhere but first: the kernel drops the packet. */
static void test_ipv6_late_hop_by_hop(void **state)
{
	uint8_t b[256];
	size_t len = ipv6_dst_chain(b, 2);
	struct packet p;

	(void)state;
	b[40] = IP_HBH;
	assert_int_equal(parse_copy(b, len, &p), PACKET_INVALID);
	b[40] = IP_DSTOPTS;
	b[6] = IP_HBH;
	assert_int_equal(parse_copy(b, len, &p), PACKET_UDP);
}

static void test_ipv6_ext_past_end(void **state)
{
	uint8_t b[256];
	size_t udp_off;
	size_t len = ipv6_dst_chain(b, 1);
	struct packet p;

	(void)state;
	/* 88 octets claimed, 49 left */
	b[41] = 10;
	assert_int_equal(parse_copy(b, len, &p), PACKET_INVALID);
	assert_int_equal(p.family, AF_INET6);
	/* inside the capture but past the IPv6 payload length */
	b[41] = 1;
	put16(b + 4, 8);
	assert_int_equal(parse_copy(b, len, &p), PACKET_INVALID);
	/* the payload length ends inside the header, the capture does not */
	b[41] = 0;
	put16(b + 4, 4);
	assert_int_equal(parse_copy(b, len, &p), PACKET_INVALID);
	put16(b + 4, 8 + 7);
	assert_int_equal(parse_copy(b, len, &p), PACKET_INVALID);
	/* AH length that runs past the end */
	len = ipv6_chain_query(b, 0, &udp_off);
	b[89] = 60;
	assert_int_equal(parse_copy(b, len, &p), PACKET_INVALID);
	/* a payload of one octet cannot hold an extension header */
	put_ipv6(b, IP_HBH, 1);
	b[40] = IP_UDP;
	assert_int_equal(parse_copy(b, 41, &p), PACKET_INVALID);
	assert_int_equal(parse_copy(b, 200, &p), PACKET_INVALID);
}

static void test_bad_version(void **state)
{
	uint8_t b[128];
	size_t len = ipv4_query(b);
	struct packet p;

	(void)state;
	for (unsigned int v = 0; v < 16; v++) {
		if (v == 4 || v == 6)
			continue;
		b[0] = (uint8_t)(v << 4 | 5);
		assert_int_equal(parse_copy(b, len, &p), PACKET_INVALID);
		assert_int_equal(p.family, 0);
	}
	/* an IPv6 packet labelled 4 is not a valid IPv4 one either */
	len = ipv6_query(b);
	b[0] = 0x40;
	assert_int_equal(parse_copy(b, len, &p), PACKET_INVALID);
	assert_int_equal(parse_copy(b, 0, &p), PACKET_INVALID);
	assert_int_equal(p.family, 0);
}

static void test_jumbo(void **state)
{
	uint8_t b[128];
	size_t len = ipv6_query(b);
	struct packet p;

	(void)state;
	put16(b + 4, 0);
	assert_int_equal(parse_copy(b, len, &p), PACKET_INVALID);
	assert_int_equal(p.family, AF_INET6);
	assert_memory_equal(p.src, src6, 16);
	assert_null(p.payload);
	/* not a whole packet of another protocol either */
	b[6] = IP_TCP;
	assert_int_equal(parse_copy(b, len, &p), PACKET_INVALID);
	b[6] = IP_NONE;
	assert_int_equal(parse_copy(b, len, &p), PACKET_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_query),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_ipv6_query),
		cmocka_unit_test(test_ipv4_truncated),
		cmocka_unit_test(test_ipv6_truncated),
		cmocka_unit_test(test_ipv6_chain_truncated),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_ipv4_bad_header),
		cmocka_unit_test(test_udp_length),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_not_udp),
		cmocka_unit_test(test_ipv6_chain),
		cmocka_unit_test(test_ipv6_fragments),
		cmocka_unit_test(test_ipv6_long_chain),
		cmocka_unit_test(test_ipv6_late_hop_by_hop),
		cmocka_unit_test(test_ipv6_ext_past_end),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_jumbo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
