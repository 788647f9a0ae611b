/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Packet shapes for the oracle tests: how a DNS message is carried in
 * IPv4 or IPv6 and UDP (options, fragments, extension header chains,
 * lengths that lie).  test_prefilter.c and test_parity.c build the same
 * shapes from here.  Header-only test code.
 */
#ifndef DNSRL_TESTS_SHAPES_H
#define DNSRL_TESTS_SHAPES_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SHAPE_PKT_MAX 4096
#define SHAPE_EXT_MAX 48
#define SHAPE_ULEN_ZERO (-100000) /* ulen_delta: a UDP length of 0 */

/* An IPv6 extension header (or what ends the chain). */
enum shape_ext {
	SX_HBH,		/* hop-by-hop options, a zero PadN */
	SX_HBH_BADPAD,	/* ... whose PadN is not zero */
	SX_HBH_RA,	/* ... a router alert option */
	SX_DST,		/* destination options, a zero PadN */
	SX_DST24,	/* 24 octets: an unknown option to skip (00) */
	SX_DST_DROP,	/* an unknown option whose type says drop (01) */
	SX_DST_RA,	/* a router alert option: unknown (00, skipped) outside
			   hop-by-hop */
	SX_RT0,		/* routing type 0, no segment left */
	SX_RT0_LEFT,	/* ... one segment left */
	SX_RT2,		/* routing type 2, none left */
	SX_RT4,		/* segment routing (type 4), none left */
	SX_FRAG,	/* a fragment header with the shape's frag6 */
	SX_FRAG_ATOMIC, /* offset 0, M 0 */
	SX_AH,		/* authentication header, 24 octets */
	SX_ESP,		/* ESP: what follows is its payload */
	SX_NONE,	/* no next header: what follows is padding */
};

struct shape {
	char what[80];
	int family;
	size_t opts;	  /* IPv4 option octets */
	bool rr;	  /* IPv4: a record route option, not NOPs */
	uint16_t frag;	  /* IPv4 flags and offset */
	uint16_t frag6;	  /* SX_FRAG's offset and M */
	size_t frag_data; /* SX_FRAG with M: octets of fragment data kept
			     (0: all); rounded down to 8 when frag_align */
	bool frag_align;
	uint8_t ext[SHAPE_EXT_MAX];
	size_t next;
	uint16_t dport;	 /* 0: 53 */
	int ulen_delta;	 /* UDP length field minus the true length */
	int total_delta; /* IP length field minus the true length */
	size_t pad;	 /* octets past the IP packet */
	bool allowed;	 /* from an allow-listed source (test_prefilter) */
	bool csum0;	 /* IPv6: a UDP checksum of 0 */
	bool queued;	 /* no prefilter program accepts it, whatever the
			    message (test_prefilter's long packet) */
};

static inline void shape_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t shape_clamp16(long v)
{
	return (uint16_t)(v < 0 ? 0 : v > 65535 ? 65535 : v);
}

static inline uint8_t shape_ext_code(uint8_t e)
{
	switch (e) {
	case SX_HBH:
	case SX_HBH_BADPAD:
	case SX_HBH_RA:
		return 0;
	case SX_DST:
	case SX_DST24:
	case SX_DST_DROP:
	case SX_DST_RA:
		return 60;
	case SX_RT0:
	case SX_RT0_LEFT:
	case SX_RT2:
	case SX_RT4:
		return 43;
	case SX_FRAG:
	case SX_FRAG_ATOMIC:
		return 44;
	case SX_AH:
		return 51;
	case SX_ESP:
		return 50;
	default:
		return 59;
	}
}

/* Writes extension header e at p, next header nh; returns its length. */
static inline size_t shape_ext_put(uint8_t *p, uint8_t e, uint8_t nh,
				   uint16_t frag6)
{
	memset(p, 0, 24);
	p[0] = nh;
	switch (e) {
	case SX_HBH:
	case SX_DST:
		p[2] = 1; /* PadN of 6 */
		p[3] = 4;
		return 8;
	case SX_HBH_BADPAD:
		p[2] = 1;
		p[3] = 4;
		p[5] = 0x5a;
		return 8;
	case SX_DST24:
		p[1] = 2;
		p[2] = 0x1e; /* unknown, skip */
		p[3] = 20;
		memset(p + 4, 0x33, 20);
		return 24;
	case SX_DST_DROP:
		p[2] = 0x7e; /* unknown, discard */
		p[3] = 4;
		return 8;
	case SX_DST_RA:
	case SX_HBH_RA:
		p[2] = 0x05;
		p[3] = 2;
		p[6] = 1; /* PadN of 2 */
		return 8;
	case SX_RT0:
	case SX_RT0_LEFT:
	case SX_RT2:
	case SX_RT4:
		p[1] = 2; /* one address */
		p[2] = e == SX_RT2 ? 2 : e == SX_RT4 ? 4 : 0;
		p[3] = e == SX_RT0_LEFT;
		inet_pton(AF_INET6, "2001:db8:1::1", p + 8);
		return 24;
	case SX_FRAG:
	case SX_FRAG_ATOMIC:
		shape_put16(p + 2, e == SX_FRAG ? frag6 : 0);
		p[7] = 0x42; /* identification */
		return 8;
	case SX_AH:
		p[1] = 4; /* (4 + 2) * 4 = 24 */
		p[7] = 0x99;
		return 24;
	case SX_ESP:
		p[0] = 0; /* the SPI, then the sequence number */
		p[3] = 0x77;
		p[7] = 1;
		return 8;
	default:
		return 0;
	}
}

/*
 * Builds the packet carrying dns[0..dlen) as s says into out (of
 * SHAPE_PKT_MAX octets).  Returns its length.
 */
static inline size_t shape_build(const struct shape *s, const uint8_t *dns,
				 size_t dlen, uint8_t *out)
{
	size_t ulen = 8 + dlen, n, frag_start = 0;
	uint8_t *udp;

	memset(out, 0, SHAPE_PKT_MAX);
	if (s->family == 4) {
		size_t h = 20 + s->opts;

		out[0] = (uint8_t)(0x40 | h / 4);
		shape_put16(out + 2,
			    shape_clamp16((long)(h + ulen) + s->total_delta));
		shape_put16(out + 6, s->frag);
		out[8] = 64;
		out[9] = 17;
		inet_pton(AF_INET,
			  s->allowed ? "203.0.113.10" : "198.51.100.66",
			  out + 12);
		inet_pton(AF_INET, "198.51.100.1", out + 16);
		memset(out + 20, 1, s->opts); /* NOP options */
		if (s->rr && s->opts >= 7) {
			out[20] = 7; /* record route, room for addresses */
			out[21] = (uint8_t)(3 + (s->opts - 3) / 4 * 4);
			out[22] = 4;
		}
		n = h;
	} else {
		size_t off = 40;

		out[0] = 0x60;
		out[6] = s->next ? shape_ext_code(s->ext[0]) : 17;
		out[7] = 64;
		inet_pton(AF_INET6,
			  s->allowed ? "2001:db8:53::1" : "2001:db8:2:1::1",
			  out + 8);
		inet_pton(AF_INET6, "2001:db8:1::1", out + 24);
		for (size_t i = 0; i < s->next; i++) {
			uint8_t nh = i + 1 < s->next
					     ? shape_ext_code(s->ext[i + 1])
					     : 17;

			off += shape_ext_put(out + off, s->ext[i], nh,
					     s->frag6);
			if (s->ext[i] == SX_FRAG)
				frag_start = off;
		}
		n = off;
	}
	udp = out + n;
	shape_put16(udp, 40000);
	shape_put16(udp + 2, s->dport ? s->dport : 53);
	shape_put16(udp + 4,
		    s->ulen_delta == SHAPE_ULEN_ZERO
			    ? 0
			    : shape_clamp16((long)ulen + s->ulen_delta));
	if (s->family == 6 && !s->csum0)
		shape_put16(udp + 6, 0x5ca1); /* taken as right */
	memcpy(udp + 8, dns, dlen);
	n += ulen;
	if (frag_start && (s->frag6 & 1)) {
		/* the first fragment keeps part of what follows */
		size_t data = n - frag_start;

		if (s->frag_data && s->frag_data < data)
			data = s->frag_data;
		if (s->frag_align)
			data &= ~(size_t)7;
		n = frag_start + data;
	}
	if (s->family == 6)
		shape_put16(out + 4,
			    shape_clamp16((long)(n - 40) + s->total_delta));
	memset(out + n, 0xab, s->pad);
	return n + s->pad;
}

/* The shapes the prefilter test has always used (with its own names). */
static const struct shape shape_base[] = {
	{.what = "ipv4", .family = 4},
	{.what = "ipv4 allowed", .family = 4, .allowed = true},
	{.what = "ipv4 options 4", .family = 4, .opts = 4},
	{.what = "ipv4 options 40", .family = 4, .opts = 40},
	{.what = "ipv4 DF", .family = 4, .frag = 0x4000},
	{.what = "ipv4 MF", .family = 4, .frag = 0x2000, .queued = true},
	{.what = "ipv4 offset", .family = 4, .frag = 0x0001, .queued = true},
	{.what = "ipv4 port 5353", .family = 4, .dport = 5353},
	{.what = "ipv4 ulen -1", .family = 4, .ulen_delta = -1},
	{.what = "ipv4 ulen -4", .family = 4, .ulen_delta = -4},
	{.what = "ipv4 ulen -5", .family = 4, .ulen_delta = -5},
	{.what = "ipv4 ulen -16", .family = 4, .ulen_delta = -16},
	{.what = "ipv4 ulen +1", .family = 4, .ulen_delta = 1},
	{.what = "ipv4 ulen 0",
	 .family = 4,
	 .ulen_delta = SHAPE_ULEN_ZERO,
	 .queued = true},
	{.what = "ipv4 total -1", .family = 4, .total_delta = -1},
	{.what = "ipv4 total +1", .family = 4, .total_delta = 1},
	{.what = "ipv4 padding", .family = 4, .pad = 9},
	{.what = "ipv4 padding ulen +4",
	 .family = 4,
	 .pad = 4,
	 .ulen_delta = 4,
	 .total_delta = 4},
	{.what = "ipv6", .family = 6},
	{.what = "ipv6 allowed", .family = 6, .allowed = true},
	{.what = "ipv6 hop-by-hop",
	 .family = 6,
	 .ext = {SX_HBH},
	 .next = 1,
	 .queued = true},
	{.what = "ipv6 atomic fragment",
	 .family = 6,
	 .ext = {SX_FRAG_ATOMIC},
	 .next = 1,
	 .queued = true},
	{.what = "ipv6 first fragment",
	 .family = 6,
	 .ext = {SX_FRAG},
	 .next = 1,
	 .frag6 = 1,
	 .queued = true},
	{.what = "ipv6 later fragment",
	 .family = 6,
	 .ext = {SX_FRAG},
	 .next = 1,
	 .frag6 = 0x100,
	 .queued = true},
	{.what = "ipv6 ulen -1", .family = 6, .ulen_delta = -1},
	{.what = "ipv6 ulen -5", .family = 6, .ulen_delta = -5},
	{.what = "ipv6 ulen +1", .family = 6, .ulen_delta = 1},
	{.what = "ipv6 ulen 0",
	 .family = 6,
	 .ulen_delta = SHAPE_ULEN_ZERO,
	 .queued = true},
	{.what = "ipv6 plen -1", .family = 6, .total_delta = -1},
	{.what = "ipv6 padding", .family = 6, .pad = 7},
};

#define SHAPE_NBASE (sizeof(shape_base) / sizeof(shape_base[0]))

/* Appends an IPv6 shape with the chain e[0..n) to out[*k]. */
static inline struct shape *shape_add6(struct shape *out, size_t *k, size_t max,
				       const char *what, const uint8_t *e,
				       size_t n)
{
	struct shape *s;

	if (*k >= max || n > SHAPE_EXT_MAX)
		return NULL;
	s = &out[(*k)++];
	memset(s, 0, sizeof(*s));
	snprintf(s->what, sizeof(s->what), "%s", what);
	s->family = 6;
	memcpy(s->ext, e, n);
	s->next = n;
	return s;
}

/*
 * The IPv6 and IPv4 shapes beyond shape_base: extension header chains of
 * 0 to 40 headers, hop-by-hop late, routing and AH headers, UDP length 0,
 * first fragments cut at every 8 octets, atomic fragments, zero checksums,
 * a payload length of 0, IPv4 options.  Fills out[0..max); returns the
 * count.
 */
static inline size_t shape_more(struct shape *out, size_t max)
{
	static const struct {
		const char *what;
		uint8_t e[4];
		size_t n;
	} singles[] = {
		{"hop-by-hop bad pad", {SX_HBH_BADPAD}, 1},
		{"dst 24", {SX_DST24}, 1},
		{"dst drop option", {SX_DST_DROP}, 1},
		{"dst router alert", {SX_DST_RA}, 1},
		{"hop-by-hop router alert", {SX_HBH_RA, SX_DST}, 2},
		{"routing 0", {SX_RT0}, 1},
		{"routing 0 left 1", {SX_RT0_LEFT}, 1},
		{"routing 2", {SX_RT2}, 1},
		{"routing 4", {SX_RT4}, 1},
		{"hbh routing dst", {SX_HBH, SX_RT0, SX_DST}, 3},
		{"ah", {SX_AH}, 1},
		{"dst ah", {SX_DST, SX_AH}, 2},
		{"esp", {SX_ESP}, 1},
		{"none", {SX_NONE}, 1},
		{"dst hbh", {SX_DST, SX_HBH}, 2},
		{"hbh hbh", {SX_HBH, SX_HBH}, 2},
		{"atomic atomic", {SX_FRAG_ATOMIC, SX_FRAG_ATOMIC}, 2},
		{"atomic dst", {SX_FRAG_ATOMIC, SX_DST}, 2},
		{"dst atomic routing", {SX_DST, SX_FRAG_ATOMIC, SX_RT0}, 3},
		{"hbh atomic", {SX_HBH, SX_FRAG_ATOMIC}, 2},
	};
	uint8_t e[SHAPE_EXT_MAX];
	char what[80];
	size_t k = 0;
	struct shape *s;

	/* chains of n destination options headers, alone and after a
	 * hop-by-hop header, and a hop-by-hop header after them */
	for (size_t n = 0; n <= 40; n++) {
		memset(e, SX_DST, sizeof(e));
		snprintf(what, sizeof(what), "ipv6 dst x%zu", n);
		shape_add6(out, &k, max, what, e, n);
		e[0] = SX_HBH;
		snprintf(what, sizeof(what), "ipv6 hbh dst x%zu", n);
		shape_add6(out, &k, max, what, e, n + 1);
		memset(e, SX_DST, sizeof(e));
		e[n] = SX_HBH;
		snprintf(what, sizeof(what), "ipv6 dst x%zu hbh", n);
		if (n > 0)
			shape_add6(out, &k, max, what, e, n + 1);
		if (n % 4 == 0) {
			memset(e, SX_DST, sizeof(e));
			snprintf(what, sizeof(what), "ipv6 dst x%zu ulen 0", n);
			if ((s = shape_add6(out, &k, max, what, e, n)))
				s->ulen_delta = SHAPE_ULEN_ZERO;
		}
	}
	for (size_t i = 0; i < sizeof(singles) / sizeof(singles[0]); i++) {
		snprintf(what, sizeof(what), "ipv6 %s", singles[i].what);
		shape_add6(out, &k, max, what, singles[i].e, singles[i].n);
		snprintf(what, sizeof(what), "ipv6 %s ulen 0", singles[i].what);
		if ((s = shape_add6(out, &k, max, what, singles[i].e,
				    singles[i].n)))
			s->ulen_delta = SHAPE_ULEN_ZERO;
	}
	/* first fragments: all, or cut to 8, 16, ... octets of data,
	 * aligned (the kernel queues them) or not (it drops them) */
	for (size_t cut = 0; cut <= 96; cut += 8)
		for (int pre = 0; pre < 3; pre++) {
			static const char *const pname[] = {"", "dst ", "hbh "};

			e[0] = pre == 1 ? SX_DST : SX_HBH;
			e[pre ? 1 : 0] = SX_FRAG;
			e[pre ? 2 : 1] = SX_DST;
			for (int after = 0; after < 2; after++)
				for (int al = 0; al < 2; al++) {
					snprintf(what, sizeof(what),
						 "ipv6 %sfirst fragment%s "
						 "data %zu%s",
						 pname[pre],
						 after ? " dst" : "", cut,
						 al ? " aligned" : "");
					s = shape_add6(out, &k, max, what, e,
						       (pre ? 2u : 1u) +
							       (size_t)after);
					if (s == NULL)
						continue;
					s->frag6 = 1;
					s->frag_data = cut;
					s->frag_align = al;
					if (cut == 16 && al)
						s->ulen_delta = SHAPE_ULEN_ZERO;
				}
		}
	e[0] = SX_FRAG;
	if ((s = shape_add6(out, &k, max, "ipv6 later fragment M", e, 1)))
		s->frag6 = 0x101;
	e[0] = SX_FRAG_ATOMIC;
	e[1] = SX_FRAG;
	if ((s = shape_add6(out, &k, max, "ipv6 atomic first", e, 2))) {
		s->frag6 = 1;
		s->frag_align = true;
	}
	/* checksum 0; payload length 0 with and without hop-by-hop */
	if ((s = shape_add6(out, &k, max, "ipv6 checksum 0", e, 0)))
		s->csum0 = true;
	if ((s = shape_add6(out, &k, max, "ipv6 plen 0", e, 0)))
		s->total_delta = -100000;
	e[0] = SX_HBH;
	if ((s = shape_add6(out, &k, max, "ipv6 hbh plen 0", e, 1)))
		s->total_delta = -100000;
	if ((s = shape_add6(out, &k, max, "ipv6 hbh plen 0 padding", e, 1))) {
		s->total_delta = -100000;
		s->pad = 5;
	}
	/* IPv4 options of every length, NOPs or a record route */
	for (size_t o = 4; o <= 40 && k < max; o += 4)
		for (int rr = 0; rr < 2 && k < max; rr++) {
			s = &out[k++];
			memset(s, 0, sizeof(*s));
			snprintf(s->what, sizeof(s->what), "ipv4 options %zu%s",
				 o, rr ? " rr" : "");
			s->family = 4;
			s->opts = o;
			s->rr = rr;
		}
	if (k < max) {
		s = &out[k++];
		memset(s, 0, sizeof(*s));
		snprintf(s->what, sizeof(s->what), "ipv4 options 40 ulen 0");
		s->family = 4;
		s->opts = 40;
		s->ulen_delta = SHAPE_ULEN_ZERO;
	}
	return k;
}

#endif
