/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The rewrite of a DNS answer into a truncated one.
 *
 * Everything is read before anything is written: the IP header chain, the
 * UDP header, the DNS header, the question and every RR, noting where the
 * question and the OPT sit.  Only when the whole answer has been walked
 * and the new packet is known to fit is out written, from the front: the
 * IP headers copied, then the new UDP header, DNS header, question and
 * OPT, and last the lengths and checksums that cover them.
 */
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdbool.h>
#include <string.h>

#include <ldns/ldns.h>

#include "csum.h"
#include "truncate.h"
#include "wire.h"

#define NAME_MAX_LEN 255 /* RFC 1035 2.3.4, the root label included */
#define LABEL_MAX_LEN 63
#define RR_FIXED 10	 /* type, class, TTL, RDLENGTH after the owner */
#define RR_RDLEN 8	 /* RDLENGTH, from the end of the owner name */
#define QUESTION_FIXED 4 /* QTYPE and QCLASS */
#define IPV4_CSUM 10	 /* the header checksum in the IPv4 header */
#define POINTER_TAG 0xc0 /* the two top bits of a compression pointer */

/* What the walk found: offsets into the packet and the DNS message. */
struct layout {
	int family;	/* AF_INET or AF_INET6 */
	size_t udp;	/* offset of the UDP header in the packet */
	size_t qlen;	/* the question, name through QCLASS */
	size_t opt;	/* offset of the OPT RR in the DNS message */
	size_t opt_len; /* 0: the answer had none */
};

/*
 * The IPv4 options: a source route makes the header's destination the
 * next hop instead of the one the UDP checksum covers.  The kernel wrote
 * the options, so a list that does not parse is not worth guessing at.
 */
static enum truncate_status ipv4_options(const uint8_t *o, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (o[i] == IPOPT_END)
			break;
		if (o[i] == IPOPT_NOP) {
			i++;
			continue;
		}
		if (n - i < 2 || o[i + 1] < 2 || o[i + 1] > n - i)
			return TRUNCATE_MALFORMED;
		if (o[i] == IPOPT_LSRR || o[i] == IPOPT_SSRR)
			return TRUNCATE_UNSUPPORTED;
		i += o[i + 1];
	}
	return TRUNCATE_OK;
}

static enum truncate_status walk_ipv4(const uint8_t *pkt, size_t len,
				      struct layout *l)
{
	size_t hlen;

	if (len < WIRE_IPV4_HDR_MIN)
		return TRUNCATE_MALFORMED;
	hlen = (size_t)(pkt[0] & 0x0f) * 4;
	if (hlen < WIRE_IPV4_HDR_MIN || hlen > len ||
	    wire_read16(pkt + WIRE_IPV4_TOTAL_LEN) != len)
		return TRUNCATE_MALFORMED;
	if (pkt[WIRE_IPV4_PROTO] != IPPROTO_UDP)
		return TRUNCATE_NOT_ANSWER;
	if (wire_read16(pkt + WIRE_IPV4_FRAG) & WIRE_IPV4_FRAG_MASK)
		return TRUNCATE_UNSUPPORTED;
	l->family = AF_INET;
	l->udp = hlen;
	return ipv4_options(pkt + WIRE_IPV4_HDR_MIN, hlen - WIRE_IPV4_HDR_MIN);
}

/*
 * The IPv6 header chain.  Each extension header is at least 8 octets, so
 * the loop ends within len / 8 steps.
 */
static enum truncate_status walk_ipv6(const uint8_t *pkt, size_t len,
				      struct layout *l)
{
	size_t off = WIRE_IPV6_HDR, ext;
	uint8_t next;

	/* a jumbogram (payload length 0) fails here too */
	if (len < WIRE_IPV6_HDR ||
	    wire_read16(pkt + WIRE_IPV6_PAYLOAD_LEN) != len - WIRE_IPV6_HDR)
		return TRUNCATE_MALFORMED;
	next = pkt[WIRE_IPV6_NEXT];
	for (;;) {
		switch (next) {
		case IPPROTO_UDP:
			l->family = AF_INET6;
			l->udp = off;
			return TRUNCATE_OK;
		case IPPROTO_HOPOPTS:
		case IPPROTO_DSTOPTS:
		case IPPROTO_FRAGMENT:
			break;
		case IPPROTO_ROUTING: /* the checksum covers the last hop */
		case IPPROTO_AH:      /* it authenticates the payload */
			return TRUNCATE_UNSUPPORTED;
		default:
			return TRUNCATE_NOT_ANSWER;
		}
		if (len - off < WIRE_IPV6_EXT_MIN)
			return TRUNCATE_MALFORMED;
		if (next == IPPROTO_FRAGMENT) {
			if (wire_read16(pkt + off + WIRE_IPV6_FRAG_OFF) &
			    WIRE_IPV6_FRAG_MASK)
				return TRUNCATE_UNSUPPORTED;
			ext = WIRE_IPV6_EXT_MIN;
		} else {
			ext = ((size_t)pkt[off + 1] + 1) * 8;
		}
		if (ext > len - off)
			return TRUNCATE_MALFORMED;
		next = pkt[off];
		off += ext;
	}
}

/*
 * The question's name at m[off..len): copied as it is, so it must stand
 * on its own (no pointer) and be well formed.  Returns its length, the
 * root label included, or 0.
 */
static size_t question_name(const uint8_t *m, size_t len, size_t off)
{
	size_t n = 0;

	for (;;) {
		/* a length octet at 255 or later: the name is too long */
		if (n >= NAME_MAX_LEN || off + n >= len)
			return 0;
		if (m[off + n] == 0)
			return n + 1;
		if (m[off + n] > LABEL_MAX_LEN)
			return 0; /* a pointer, or label type 0x40 or 0x80 */
		n += (size_t)m[off + n] + 1;
	}
}

/*
 * Steps *off over an RR's owner name in m[0..len) without following a
 * pointer: the name ends at the root label or at a two-octet pointer.
 */
static bool skip_name(const uint8_t *m, size_t len, size_t *off)
{
	size_t i = *off;

	for (;;) {
		if (i >= len)
			return false;
		if (m[i] == 0) {
			*off = i + 1;
			return true;
		}
		if ((m[i] & POINTER_TAG) == POINTER_TAG) {
			if (len - i < 2)
				return false;
			*off = i + 2;
			return true;
		}
		if (m[i] > LABEL_MAX_LEN)
			return false;
		i += (size_t)m[i] + 1;
	}
}

/*
 * The DNS message m[0..len): header, question, then every RR of the
 * three sections, to find the OPT.  At most (len - 12) / 11 RRs can fit,
 * so the loop ends by the bytes well before a count of 3 x 65535.
 */
static enum truncate_status walk_dns(const uint8_t *m, size_t len, bool answer,
				     struct layout *l)
{
	uint32_t before_ar, total;
	size_t off, start, name, rdlen;
	uint16_t type;
	bool root;

	if (len < WIRE_DNS_HDR)
		return TRUNCATE_MALFORMED;
	if ((bool)LDNS_QR_WIRE(m) != answer || LDNS_QDCOUNT(m) != 1)
		return TRUNCATE_NOT_ANSWER;
	name = question_name(m, len, WIRE_DNS_HDR);
	if (name == 0 || len - WIRE_DNS_HDR - name < QUESTION_FIXED)
		return TRUNCATE_MALFORMED;
	l->qlen = name + QUESTION_FIXED;
	off = WIRE_DNS_HDR + l->qlen;

	before_ar = (uint32_t)LDNS_ANCOUNT(m) + LDNS_NSCOUNT(m);
	total = before_ar + LDNS_ARCOUNT(m);
	for (uint32_t i = 0; i < total; i++) {
		start = off;
		root = off < len && m[off] == 0;
		if (!skip_name(m, len, &off) || len - off < RR_FIXED)
			return TRUNCATE_MALFORMED;
		type = wire_read16(m + off);
		rdlen = wire_read16(m + off + RR_RDLEN);
		off += RR_FIXED;
		if (rdlen > len - off)
			return TRUNCATE_MALFORMED;
		off += rdlen;
		if (type != LDNS_RR_TYPE_OPT)
			continue;
		/* RFC 6891 6.1.1: one OPT, in the additional section, at . */
		if (i < before_ar || !root || l->opt_len != 0)
			return TRUNCATE_MALFORMED;
		l->opt = start;
		l->opt_len = off - start;
	}
	return TRUNCATE_OK;
}

/* Writes the DNS message that replaces m into o. */
static void write_dns(uint8_t *o, const uint8_t *m, const struct layout *l)
{
	memcpy(o, m, 2); /* ID */
	o[2] = (uint8_t)(LDNS_QR_MASK | (m[2] & LDNS_OPCODE_MASK) |
			 LDNS_TC_MASK | (m[2] & LDNS_RD_MASK));
	o[3] = (uint8_t)(m[3] &
			 (LDNS_RA_MASK | LDNS_CD_MASK | LDNS_RCODE_MASK));
	ldns_write_uint16(o + LDNS_QDCOUNT_OFF, 1);
	ldns_write_uint16(o + LDNS_ANCOUNT_OFF, 0);
	ldns_write_uint16(o + LDNS_NSCOUNT_OFF, 0);
	ldns_write_uint16(o + LDNS_ARCOUNT_OFF, l->opt_len != 0 ? 1 : 0);
	memcpy(o + WIRE_DNS_HDR, m + WIRE_DNS_HDR, l->qlen);
	memcpy(o + WIRE_DNS_HDR + l->qlen, m + l->opt, l->opt_len);
}

/*
 * The whole walk of pkt[0..len): IP headers, UDP from port 53 (an answer)
 * or to it (a query), the DNS message with its question and every RR.
 */
static enum truncate_status walk(const uint8_t *pkt, size_t len, bool answer,
				 struct layout *l)
{
	enum truncate_status s;
	const uint8_t *udp;

	if (len == 0)
		return TRUNCATE_MALFORMED;
	switch (pkt[0] >> 4) {
	case 4:
		s = walk_ipv4(pkt, len, l);
		break;
	case 6:
		s = walk_ipv6(pkt, len, l);
		break;
	default:
		return TRUNCATE_MALFORMED;
	}
	if (s != TRUNCATE_OK)
		return s;
	udp = pkt + l->udp;
	if (len - l->udp < WIRE_UDP_HDR)
		return TRUNCATE_MALFORMED;
	if (wire_read16(udp + (answer ? WIRE_UDP_SPORT : WIRE_UDP_DPORT)) !=
	    WIRE_DNS_PORT)
		return TRUNCATE_NOT_ANSWER;
	if (wire_read16(udp + WIRE_UDP_LEN) != len - l->udp)
		return TRUNCATE_MALFORMED;
	return walk_dns(udp + WIRE_UDP_HDR, len - l->udp - WIRE_UDP_HDR, answer,
			l);
}

/* The UDP checksum of the datagram at out + l->udp, ulen long. */
static uint16_t udp_csum(const uint8_t *out, const struct layout *l,
			 size_t ulen)
{
	if (l->family == AF_INET)
		return csum_udp_ipv4(out + WIRE_IPV4_SRC, out + WIRE_IPV4_DST,
				     out + l->udp, ulen);
	return csum_udp_ipv6(out + WIRE_IPV6_SRC, out + WIRE_IPV6_DST,
			     out + l->udp, ulen);
}

enum truncate_status truncate_answer(const uint8_t *restrict pkt, size_t len,
				     uint8_t *restrict out, size_t outlen,
				     size_t *out_used)
{
	struct layout l = {0};
	enum truncate_status s;
	const uint8_t *udp, *dns;
	uint8_t *oudp;
	size_t ulen, need;

	*out_used = 0;
	s = walk(pkt, len, true, &l);
	if (s != TRUNCATE_OK)
		return s;
	udp = pkt + l.udp;
	dns = udp + WIRE_UDP_HDR;

	/* every part is copied from the input, so need <= len */
	ulen = WIRE_UDP_HDR + WIRE_DNS_HDR + l.qlen + l.opt_len;
	need = l.udp + ulen;
	if (need > outlen)
		return TRUNCATE_NO_ROOM;

	memcpy(out, pkt, l.udp);
	oudp = out + l.udp;
	memcpy(oudp, udp, 4); /* the ports */
	ldns_write_uint16(oudp + WIRE_UDP_LEN, (uint16_t)ulen);
	write_dns(oudp + WIRE_UDP_HDR, dns, &l);
	if (l.family == AF_INET) {
		ldns_write_uint16(out + WIRE_IPV4_TOTAL_LEN, (uint16_t)need);
		ldns_write_uint16(out + IPV4_CSUM,
				  csum_ipv4_header(out, l.udp));
	} else {
		ldns_write_uint16(out + WIRE_IPV6_PAYLOAD_LEN,
				  (uint16_t)(need - WIRE_IPV6_HDR));
	}
	ldns_write_uint16(oudp + WIRE_UDP_CSUM, udp_csum(out, &l, ulen));
	*out_used = need;
	return TRUNCATE_OK;
}

enum truncate_status truncate_query(const uint8_t *restrict pkt, size_t len,
				    uint16_t udp_max, uint8_t *restrict out,
				    size_t outlen, size_t *out_used)
{
	struct layout l = {0};
	enum truncate_status s;
	size_t size_at, ulen;
	uint8_t *oudp;

	*out_used = 0;
	s = walk(pkt, len, false, &l);
	if (s != TRUNCATE_OK)
		return s;
	/* the OPT's CLASS is the requestor's UDP payload size (RFC 6891);
	 * without an OPT the answer keeps to 512 octets already */
	size_at = l.udp + WIRE_UDP_HDR + l.opt + 1 + 2;
	if (l.opt_len == 0 || wire_read16(pkt + size_at) <= udp_max)
		return TRUNCATE_UNCHANGED;
	if (len > outlen)
		return TRUNCATE_NO_ROOM;
	memcpy(out, pkt, len);
	ldns_write_uint16(out + size_at, udp_max);
	oudp = out + l.udp;
	ulen = len - l.udp;
	/* an IPv4 datagram sent without a checksum keeps none */
	if (l.family == AF_INET6 || wire_read16(oudp + WIRE_UDP_CSUM) != 0)
		ldns_write_uint16(oudp + WIRE_UDP_CSUM,
				  udp_csum(out, &l, ulen));
	*out_used = len;
	return TRUNCATE_OK;
}

const char *truncate_status_name(enum truncate_status s)
{
	static const char *const names[TRUNCATE_NSTATUS] = {
		[TRUNCATE_OK] = "ok",
		[TRUNCATE_NOT_ANSWER] = "not-answer",
		[TRUNCATE_MALFORMED] = "malformed",
		[TRUNCATE_UNSUPPORTED] = "unsupported",
		[TRUNCATE_NO_ROOM] = "no-room",
		[TRUNCATE_UNCHANGED] = "unchanged",
	};

	return (unsigned int)s < TRUNCATE_NSTATUS ? names[s] : "?";
}
