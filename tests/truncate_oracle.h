/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a rewritten answer must be, checked without truncate.c or csum.c:
 * the unit test and the fuzz target share it.  The checksums are summed
 * plainly here, the DNS message is read back with ldns_wire2pkt, and the
 * original answer, where ldns can read it, says what the fields must be.
 * Header-only: each user includes it once.  Every check returns NULL when
 * it holds, else a short text of what failed.
 */
#ifndef DNSRL_TESTS_TRUNCATE_ORACLE_H
#define DNSRL_TESTS_TRUNCATE_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ldns/ldns.h>

static inline unsigned int oracle_get16(const uint8_t *b)
{
	return (unsigned int)b[0] << 8 | b[1];
}

/* The one's-complement sum, plainly: every octet in its half of a word. */
static inline uint32_t oracle_sum(uint32_t acc, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		acc += i % 2 == 0 ? (uint32_t)b[i] << 8 : b[i];
	return acc;
}

static inline uint16_t oracle_fold(uint32_t acc)
{
	while (acc > 0xffff)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/*
 * The sum over the pseudo-header of the IP packet ip and the UDP datagram
 * udp[0..ulen) as it stands: 0xffff when its checksum is right.
 */
static inline uint16_t oracle_udp_sum(const uint8_t *ip, const uint8_t *udp,
				      size_t ulen)
{
	uint32_t acc;

	if (ip[0] >> 4 == 4) {
		acc = oracle_sum(0, ip + 12, 8);
		acc += 17 + (uint32_t)ulen;
	} else {
		acc = oracle_sum(0, ip + 8, 32);
		acc += 17 + (uint32_t)(ulen >> 16) + (uint32_t)(ulen & 0xffff);
	}
	return oracle_fold(oracle_sum(acc, udp, ulen));
}

/*
 * The IP and UDP framing of out[0..used), the rewrite of in[0..len): the
 * same IP header but for the lengths (and the IPv4 header checksum), the
 * same IPv6 extension headers, the same ports, every length consistent,
 * both checksums right.  *dns_off gets where the DNS message starts.
 */
static inline const char *oracle_frame(const uint8_t *in, size_t len,
				       const uint8_t *out, size_t used,
				       size_t *dns_off)
{
	size_t off;
	const uint8_t *u;

	if (used > len)
		return "longer than the input";
	if (used < 28 || out[0] >> 4 != in[0] >> 4)
		return "no IP header, or another version";
	if (out[0] >> 4 == 4) {
		off = (size_t)(out[0] & 0x0f) * 4;
		if (out[0] != in[0] || off < 20 || off + 8 > used)
			return "IPv4 header length";
		if (memcmp(out + 1, in + 1, 1) != 0 ||
		    memcmp(out + 4, in + 4, 6) != 0 ||
		    memcmp(out + 12, in + 12, off - 12) != 0)
			return "IPv4 header changed";
		if (oracle_get16(out + 2) != used)
			return "IPv4 total length";
		if (oracle_fold(oracle_sum(0, out, off)) != 0xffff)
			return "IPv4 header checksum";
		if (out[9] != 17)
			return "not UDP";
	} else if (out[0] >> 4 == 6) {
		uint8_t next = out[6];

		if (used < 48 || memcmp(out, in, 4) != 0 ||
		    memcmp(out + 6, in + 6, 34) != 0)
			return "IPv6 header changed";
		if (oracle_get16(out + 4) != used - 40)
			return "IPv6 payload length";
		off = 40;
		while (next != 17) {
			size_t ext;

			/* only these are kept, and each is 8 octets or more */
			if ((next != 0 && next != 60 && next != 44) ||
			    off + 8 > used)
				return "IPv6 extension header";
			ext = next == 44 ? 8 : ((size_t)out[off + 1] + 1) * 8;
			if (ext > used - off)
				return "IPv6 extension header length";
			if (next == 44 &&
			    (oracle_get16(out + off + 2) & 0xfff9))
				return "a non-atomic fragment";
			next = out[off];
			off += ext;
		}
		if (off + 8 > used || memcmp(out + 40, in + 40, off - 40) != 0)
			return "IPv6 extension headers changed";
	} else {
		return "IP version";
	}
	u = out + off;
	if (memcmp(u, in + off, 4) != 0 || oracle_get16(u) != 53)
		return "UDP ports";
	if (oracle_get16(u + 4) != used - off)
		return "UDP length";
	if (oracle_get16(u + 6) == 0 ||
	    oracle_udp_sum(out, u, used - off) != 0xffff)
		return "UDP checksum";
	*dns_off = off + 8;
	return NULL;
}

/* The length of the uncompressed name at m[off..n), or 0. */
static inline size_t oracle_name_len(const uint8_t *m, size_t n, size_t off)
{
	size_t i = off;

	while (i < n && m[i] != 0) {
		if (m[i] > 63)
			return 0;
		i += (size_t)m[i] + 1;
	}
	return i < n ? i + 1 - off : 0;
}

/* Where the original's OPT is, framed by oracle_rrs. */
struct oracle_opt {
	unsigned int count; /* OPT RRs owned by the root, in additional */
	bool misplaced;	    /* an OPT elsewhere, or owned by another name */
	size_t off, len;    /* the last of them */
};

/*
 * Frames the RRs after the question of m[0..n) as the RFC does, by their
 * RDLENGTHs, reading every name with ldns_wire2dname (which follows
 * pointers and checks labels).  False when it cannot: a name ldns
 * refuses, an RR past the end.  ldns_wire2pkt cannot serve here: it
 * reads a name in RDATA (NS, say) past the RDLENGTH when the name runs
 * on, and so can find an OPT where the RDLENGTHs put none, or miss one.
 */
static inline bool oracle_rrs(const uint8_t *m, size_t n, struct oracle_opt *o)
{
	unsigned int before_ar, total;
	ldns_rdf *name = NULL;
	size_t pos = 12, start, rdlen;

	memset(o, 0, sizeof(*o));
	if (n < 12 || ldns_wire2dname(&name, m, n, &pos) != LDNS_STATUS_OK)
		return false;
	ldns_rdf_deep_free(name);
	pos += 4;
	before_ar = oracle_get16(m + 6) + oracle_get16(m + 8);
	total = before_ar + oracle_get16(m + 10);
	for (unsigned int i = 0; i < total; i++) {
		start = pos;
		if (pos > n ||
		    ldns_wire2dname(&name, m, n, &pos) != LDNS_STATUS_OK)
			return false;
		ldns_rdf_deep_free(name);
		if (pos + 10 > n)
			return false;
		rdlen = oracle_get16(m + pos + 8);
		if (rdlen > n - pos - 10)
			return false;
		if (oracle_get16(m + pos) == 41) {
			/* the owner must be the root label itself */
			if (i < before_ar || pos != start + 1) {
				o->misplaced = true;
			} else {
				o->count++;
				o->off = start;
				o->len = 11 + rdlen;
			}
		}
		pos += 10 + rdlen;
	}
	return pos <= n;
}

/* The header fields of the rewrite b that ldns reads in the original a. */
static inline const char *oracle_header(const ldns_pkt *a, const ldns_pkt *b)
{
	if (ldns_pkt_id(b) != ldns_pkt_id(a) ||
	    ldns_pkt_get_opcode(b) != ldns_pkt_get_opcode(a) ||
	    ldns_pkt_get_rcode(b) != ldns_pkt_get_rcode(a) ||
	    ldns_pkt_rd(b) != ldns_pkt_rd(a) ||
	    ldns_pkt_ra(b) != ldns_pkt_ra(a) ||
	    ldns_pkt_cd(b) != ldns_pkt_cd(a))
		return "a header field differs from the original";
	return NULL;
}

/* The EDNS fields of the rewrite b that ldns reads in the original a. */
static inline const char *oracle_edns(const ldns_pkt *a, const ldns_pkt *b)
{
	if (ldns_pkt_edns(b) != ldns_pkt_edns(a) ||
	    ldns_pkt_edns_udp_size(b) != ldns_pkt_edns_udp_size(a) ||
	    ldns_pkt_edns_extended_rcode(b) !=
		    ldns_pkt_edns_extended_rcode(a) ||
	    ldns_pkt_edns_version(b) != ldns_pkt_edns_version(a) ||
	    ldns_pkt_edns_z(b) != ldns_pkt_edns_z(a))
		return "the EDNS fields differ from the original";
	if ((ldns_pkt_edns_data(a) == NULL) !=
		    (ldns_pkt_edns_data(b) == NULL) ||
	    (ldns_pkt_edns_data(a) != NULL &&
	     ldns_rdf_compare(ldns_pkt_edns_data(a), ldns_pkt_edns_data(b)) !=
		     0))
		return "the EDNS options differ from the original";
	return NULL;
}

/*
 * The OPT of the rewrite m[end..n) against the original's: where
 * oracle_rrs can frame the original, exactly its one OPT or none, and an
 * original with a misplaced or second OPT is not to be rewritten at all.
 * Where it cannot (strict false only), the octets must at least be the
 * original's.
 */
static inline const char *oracle_opt(const uint8_t *orig, size_t olen,
				     const uint8_t *m, size_t n, size_t end,
				     bool strict)
{
	struct oracle_opt o;
	bool kept = oracle_get16(m + 10) == 1;

	if (kept &&
	    (end + 11 > n || m[end] != 0 || oracle_get16(m + end + 1) != 41 ||
	     end + 11 + oracle_get16(m + end + 9) != n))
		return "the OPT RR";
	if (!kept && end != n)
		return "octets after the question";
	if (!oracle_rrs(orig, olen, &o)) {
		if (strict)
			return "the original cannot be framed";
		if (kept &&
		    memmem(orig + end, olen - end, m + end, n - end) == NULL)
			return "an OPT RR that is not in the original";
		return NULL;
	}
	if (o.misplaced || o.count > 1)
		return "rewrote an answer with a misplaced or second OPT";
	if (kept != (o.count == 1))
		return "the OPT kept or dropped wrongly";
	if (kept && (n - end != o.len || memcmp(m + end, orig + o.off, o.len)))
		return "the OPT is not the original's";
	return NULL;
}

/*
 * The DNS message m[0..n) that replaces orig[0..olen): a header with
 * TC=1 and the original's ID, opcode, RD, RA, CD and RCODE, AA, AD and Z
 * clear; the original's question octet for octet; nothing else but the
 * original's OPT RR, if it had one (oracle_opt).  ldns_wire2pkt must read
 * it, and when it reads the original too, the header fields must agree.
 * strict says the original is well formed (the unit test built it): then
 * oracle_rrs and ldns_wire2pkt must read it, and agree on the EDNS fields.
 */
static inline const char *oracle_dns(const uint8_t *orig, size_t olen,
				     const uint8_t *m, size_t n, bool strict)
{
	ldns_pkt *a = NULL, *b = NULL;
	size_t qlen, end;
	const char *err;

	if (n < 12 || olen < 12)
		return "no DNS header";
	if (oracle_get16(m) != oracle_get16(orig) ||
	    m[2] != (0x82 | (orig[2] & 0x79)) || m[3] != (orig[3] & 0x9f))
		return "header flags";
	if (oracle_get16(m + 4) != 1 || oracle_get16(m + 6) != 0 ||
	    oracle_get16(m + 8) != 0 || oracle_get16(m + 10) > 1)
		return "header counts";
	qlen = oracle_name_len(m, n, 12);
	if (qlen == 0 || qlen > 255 || 12 + qlen + 4 > n ||
	    12 + qlen + 4 > olen || memcmp(m + 12, orig + 12, qlen + 4) != 0)
		return "the question is not the original's";
	end = 12 + qlen + 4;
	err = oracle_opt(orig, olen, m, n, end, strict);
	if (err != NULL)
		return err;

	if (ldns_wire2pkt(&b, m, n) != LDNS_STATUS_OK)
		return "ldns cannot read the rewrite";
	if (!ldns_pkt_qr(b) || !ldns_pkt_tc(b) || ldns_pkt_aa(b) ||
	    ldns_pkt_ad(b) || ldns_pkt_qdcount(b) != 1 ||
	    ldns_pkt_ancount(b) != 0 || ldns_pkt_nscount(b) != 0 ||
	    ldns_pkt_arcount(b) != 0 ||
	    ldns_pkt_edns(b) != (oracle_get16(m + 10) == 1) ||
	    ldns_rdf_size(ldns_rr_owner(
		    ldns_rr_list_rr(ldns_pkt_question(b), 0))) != qlen)
		err = "ldns reads another message";
	else if (ldns_wire2pkt(&a, orig, olen) == LDNS_STATUS_OK) {
		err = oracle_header(a, b);
		if (err == NULL && strict)
			err = oracle_edns(a, b);
	} else if (strict) {
		err = "ldns cannot read the original";
	}
	ldns_pkt_free(a);
	ldns_pkt_free(b);
	return err;
}

#endif
