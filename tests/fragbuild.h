/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cuts whole IPv4 and IPv6 datagrams into fragments the way Linux sends
 * them (ip_do_fragment, ip6_fragment), for tests of the reassembly: the
 * whole datagram, built first, is the oracle of what reassembly must give
 * back.  Header-only, written apart from src/defrag.c on purpose.
 */
#ifndef DNSRL_TESTS_FRAGBUILD_H
#define DNSRL_TESTS_FRAGBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "csum.h"

/* Room for one fragment of the tests' datagrams (they use MTUs <= 1500). */
#define FRAG_STRIDE 1600

static inline void frag_put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * The IPv4 datagram d[0..len) (its ID, options and all) in fragments of at
 * most mtu octets: each has the datagram's header with its total length,
 * MF and offset set and its checksum recomputed, and (mtu - header) & ~7
 * octets of data, the last one what is left.  Fragment k is written at
 * out + k * FRAG_STRIDE, its length in lens[k].  Returns how many (at
 * most max).
 */
static inline size_t frag_ipv4(const uint8_t *d, size_t len, size_t mtu,
			       uint8_t *out, size_t *lens, size_t max)
{
	size_t hlen = (size_t)(d[0] & 0x0f) * 4;
	size_t piece = (mtu - hlen) & ~(size_t)7;
	size_t n = 0;

	for (size_t off = 0; off < len - hlen && n < max; off += piece, n++) {
		uint8_t *f = out + n * FRAG_STRIDE;
		size_t k = len - hlen - off < piece ? len - hlen - off : piece;
		bool more = off + k < len - hlen;

		memcpy(f, d, hlen);
		frag_put16(f + 2, hlen + k);
		frag_put16(f + 6, (off / 8) | (more ? 0x2000 : 0));
		frag_put16(f + 10, csum_ipv4_header(f, hlen));
		memcpy(f + hlen, d + hlen + off, k);
		lens[n] = hlen + k;
	}
	return n;
}

/*
 * The IPv6 datagram d[0..len), whose first unfrag octets (the header and
 * the extension headers that stay in front) end with a next header field
 * at d[next_at], in fragments of at most mtu octets with identification
 * id: each has those octets, naming a fragment header (44), its payload
 * length set, then the fragment header (the datagram's next header, the
 * offset, M) and (mtu - unfrag - 8) & ~7 octets of data.  Written as for
 * frag_ipv4.
 */
static inline size_t frag_ipv6(const uint8_t *d, size_t len, size_t unfrag,
			       size_t next_at, uint32_t id, size_t mtu,
			       uint8_t *out, size_t *lens, size_t max)
{
	size_t piece = (mtu - unfrag - 8) & ~(size_t)7;
	size_t n = 0;

	for (size_t off = 0; off < len - unfrag && n < max; off += piece, n++) {
		uint8_t *f = out + n * FRAG_STRIDE;
		size_t k = len - unfrag - off < piece ? len - unfrag - off
						      : piece;
		bool more = off + k < len - unfrag;

		memcpy(f, d, unfrag);
		f[next_at] = 44;
		frag_put16(f + 4, unfrag - 40 + 8 + k);
		f[unfrag] = d[next_at];
		f[unfrag + 1] = 0;
		frag_put16(f + unfrag + 2, off | (more ? 1 : 0));
		f[unfrag + 4] = (uint8_t)(id >> 24);
		f[unfrag + 5] = (uint8_t)(id >> 16);
		f[unfrag + 6] = (uint8_t)(id >> 8);
		f[unfrag + 7] = (uint8_t)id;
		memcpy(f + unfrag + 8, d + unfrag + off, k);
		lens[n] = unfrag + 8 + k;
	}
	return n;
}

#endif
