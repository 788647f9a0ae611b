/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A model of what Linux does with an IPv4 or IPv6 packet that arrives for
 * local delivery, written down from the kernel's sources, for the tests to
 * judge dnsrl against (test code, header-only; it shares nothing with
 * src/packet.c).  Two questions are answered for a packet:
 *
 *   1. Does a `-p udp --dport 53 -j NFQUEUE` rule in mangle INPUT see it,
 *      and which octets?  The rule sees the packet after ip_rcv_core /
 *      ip6_rcv_core trimmed it to the IP length and after the hop-by-hop
 *      options were parsed, but before the other IPv6 extension headers
 *      are processed (LOCAL_IN runs in ip_local_deliver / ip6_input,
 *      before ip_protocol_deliver_rcu / ip6_protocol_deliver_rcu).
 *   2. Does the kernel then deliver a UDP datagram to a socket bound to
 *      port 53, and which octets of the packet are its payload?
 *
 * The walk goes header by header, as the kernel does: one function per
 * kernel handler, each citing the function it follows.  Sources read:
 * net/ipv4/ip_input.c (ip_rcv_core, ip_local_deliver), net/ipv6/
 * ip6_input.c (ip6_rcv_core, ip6_protocol_deliver_rcu), net/ipv6/exthdrs.c
 * (ipv6_parse_hopopts, ip6_parse_tlv, ipv6_destopt_rcv, ipv6_rthdr_rcv),
 * net/ipv6/exthdrs_core.c (ipv6_ext_hdr, ipv6_skip_exthdr, ipv6_find_hdr),
 * net/ipv6/reassembly.c (ipv6_frag_rcv, ip6_frag_queue) and
 * include/net/ipv6_frag.h (ipv6frag_thdr_truncated), net/ipv4/udp.c
 * (__udp4_lib_rcv), net/ipv6/udp.c (__udp6_lib_rcv), net/ipv6/netfilter/
 * ip6_tables.c (ip6_packet_match) and net/netfilter/xt_tcpudp.c (udp_mt).
 *
 * Defaults modelled (the values on this project's Debian 12 / 6.18
 * machines, `sysctl` and the kernel config): net.ipv6.max_dst_opts_number
 * and max_hbh_opts_number 8; seg6_enabled and rpl_seg_enabled 0;
 * CONFIG_IPV6_MIP6 off (so a type 2 routing header is an unknown type and
 * the home address option an unknown option); no IPsec SA (AH and ESP are
 * dropped by xfrm); no tunnel devices; ioam6_enabled 0; nf_defrag_ipv6
 * not active in the namespace (no conntrack rule), so the INPUT rule sees
 * IPv6 fragments one by one; the socket has no UDP_NO_CHECK6_RX (a zero
 * IPv6 UDP checksum is refused) unless km_opts says so.
 *
 * Not modelled, and each can only make the kernel deliver less, so the
 * model delivers a superset of what the kernel delivers (the safe side
 * for every property the tests check: "delivered" is what dnsrl must
 * judge): the IPv4 header checksum and the UDP checksum (taken as right;
 * the test packets carry none), IPv4 option contents (ip_options_compile),
 * address checks (martians, multicast, loopback, rp_filter), CALIPSO
 * option contents (calipso_validate), socket buffer limits.
 *
 * Where a kernel version matters: commit 3744b0964d52 ("ipv6: Implement
 * limits on extension header parsing", 2026, queued for the 6.6+ stable
 * trees) caps ipv6_find_hdr and ip6_protocol_deliver_rcu at
 * IP6_MAX_EXT_HDRS_CNT (12) extension headers; km_opts.max_exthdrs is 12
 * with it and 0 without it, and the tests run both.
 */
#ifndef DNSRL_TESTS_KERNEL_MODEL_H
#define DNSRL_TESTS_KERNEL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Protocol numbers (include/uapi/linux/in6.h, include/net/ipv6.h). */
#define KM_NEXTHDR_HOP 0
#define KM_NEXTHDR_UDP 17
#define KM_NEXTHDR_ROUTING 43
#define KM_NEXTHDR_FRAGMENT 44
#define KM_NEXTHDR_ESP 50
#define KM_NEXTHDR_AUTH 51
#define KM_NEXTHDR_NONE 59
#define KM_NEXTHDR_DEST 60

#define KM_IPV6_MAXPLEN 65535
#define KM_IP6_MAX_EXT_HDRS_CNT 12 /* commit 3744b0964d52 */
#define KM_MAX_OPTS_CNT 8	   /* IP6_DEFAULT_MAX_{DST,HBH}_OPTS_CNT */

/* What the NFQUEUE rule (`-p udp --dport 53` in mangle INPUT) does. */
enum km_queue {
	KM_Q_SEEN,	  /* matches: the queue gets pkt[0..seen_len) */
	KM_Q_NO_MATCH,	  /* not UDP to port 53 for the rule, or a fragment
			     that does not start its datagram */
	KM_Q_DROPPED,	  /* dropped before LOCAL_IN, or hot-dropped by the
			     rule's matches */
	KM_Q_REASSEMBLED, /* an IPv4 fragment: ip_local_deliver reassembles
			     before LOCAL_IN, the rule sees only the whole */
};

/* What a UDP socket bound to port 53 gets. */
enum km_deliver {
	KM_D_NONE,    /* nothing */
	KM_D_WHOLE,   /* the payload pkt[payload_off..+payload_len) */
	KM_D_PREFIX,  /* a first fragment: if the rest arrives, a payload
			 that starts with pkt[payload_off..+payload_len)
			 (complete: that is all of it) */
	KM_D_UNKNOWN, /* a later fragment: depends on the others */
};

struct km_opts {
	bool udp6_zero_csum_ok; /* the socket set UDP_NO_CHECK6_RX */
	unsigned max_exthdrs;	/* 0: no cap; KM_IP6_MAX_EXT_HDRS_CNT */
};

struct km_result {
	enum km_queue queue;
	size_t seen_len; /* octets the rule (and so the queue) sees */
	enum km_deliver deliver;
	size_t payload_off;
	size_t payload_len;
	bool complete;	 /* KM_D_PREFIX: the UDP length ends inside */
	const char *why; /* the kernel function that decided, for messages */
};

static inline uint16_t km_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t km_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void km_none(struct km_result *r, const char *why)
{
	r->deliver = KM_D_NONE;
	r->payload_off = r->payload_len = 0;
	r->why = why;
}

/* --- The rule's matches -------------------------------------------------- */

/*
 * udp_mt (net/netfilter/xt_tcpudp.c): a fragment with an offset never
 * matches; a UDP header that skb_header_pointer cannot read sets hotdrop;
 * then the port.  thoff is where ip_packet_match / ip6_packet_match put
 * the transport header.
 */
static inline void km_udp_mt(const uint8_t *pkt, size_t len, size_t thoff,
			     unsigned fragoff, struct km_result *r)
{
	if (fragoff != 0) {
		r->queue = KM_Q_NO_MATCH;
		return;
	}
	if (thoff > len || len - thoff < 8) {
		r->queue = KM_Q_DROPPED; /* "Dropping evil UDP tinygram" */
		return;
	}
	if (km_be16(pkt + thoff + 2) != 53) {
		r->queue = KM_Q_NO_MATCH;
		return;
	}
	r->queue = KM_Q_SEEN;
	r->seen_len = len;
}

/* ipv6_ext_hdr (net/ipv6/exthdrs_core.c): ESP is not among them. */
static inline bool km_ipv6_ext_hdr(uint8_t nh)
{
	return nh == KM_NEXTHDR_HOP || nh == KM_NEXTHDR_ROUTING ||
	       nh == KM_NEXTHDR_FRAGMENT || nh == KM_NEXTHDR_AUTH ||
	       nh == KM_NEXTHDR_NONE || nh == KM_NEXTHDR_DEST;
}

/*
 * ipv6_find_hdr(skb, &thoff, -1, &fragoff, NULL), as ip6_packet_match
 * calls it for `-p udp`: follows every extension header by its length
 * without checking its place or contents.  Returns the protocol, or -1
 * (-EBADMSG, -ENOENT) when the walk fails, which ip6_packet_match turns
 * into a hotdrop because *fragoff is then still 0.
 */
static inline int km_ipv6_find_hdr(const uint8_t *pkt, size_t len,
				   const struct km_opts *o, size_t *thoff,
				   unsigned *fragoff)
{
	size_t start = 40;
	uint8_t nh = pkt[6];
	unsigned cnt = 0;

	*fragoff = 0;
	for (;;) {
		size_t hdrlen;

		if (!km_ipv6_ext_hdr(nh) || nh == KM_NEXTHDR_NONE)
			break;
		if (o->max_exthdrs && cnt++ >= o->max_exthdrs)
			return -1;
		if (start > len || len - start < 2)
			return -1;
		if (nh == KM_NEXTHDR_ROUTING && len - start < 4)
			return -1; /* struct ipv6_rt_hdr */
		if (nh == KM_NEXTHDR_FRAGMENT) {
			unsigned off;

			if (len - start < 4)
				return -1;
			off = km_be16(pkt + start + 2) & ~7u;
			if (off) {
				uint8_t next = pkt[start];

				if (!km_ipv6_ext_hdr(next) ||
				    next == KM_NEXTHDR_NONE) {
					*fragoff = off;
					*thoff = start;
					return next;
				}
				return -1; /* -ENOENT, fragoff left 0 */
			}
			hdrlen = 8;
		} else if (nh == KM_NEXTHDR_AUTH) {
			hdrlen = ((size_t)pkt[start + 1] + 2) << 2;
		} else {
			hdrlen = ((size_t)pkt[start + 1] + 1) << 3;
		}
		nh = pkt[start];
		start += hdrlen;
	}
	*thoff = start;
	return nh;
}

/* --- IPv6 extension headers ---------------------------------------------- */

/*
 * ip6_parse_tlv (net/ipv6/exthdrs.c) on the option header at pkt[off],
 * of (pkt[off+1] + 1) * 8 octets (checked by the caller): Pad1 runs and
 * PadN (zero-filled) of at most 7 octets of padding, at most
 * KM_MAX_OPTS_CNT other options, each known one checked by its handler,
 * each unknown one skipped only when its two top bits are 00
 * (ip6_tlvopt_unknown).  hbh picks the hop-by-hop handlers (ipv6_hop_ra,
 * ipv6_hop_ioam, ipv6_hop_jumbo, ipv6_hop_calipso); a destination option
 * has none here (the home address option needs CONFIG_IPV6_MIP6).
 * *trim is set by a valid jumbo payload option.
 */
static inline bool km_parse_tlv(const uint8_t *pkt, size_t len, size_t off,
				bool hbh, size_t *trim)
{
	size_t end = off + ((size_t)pkt[off + 1] + 1) * 8;
	size_t pos = off + 2;
	unsigned padlen = 0, count = 0;

	while (pos < end) {
		uint8_t t = pkt[pos];
		size_t optlen;

		if (t == 0) { /* IPV6_TLV_PAD1 */
			if (++padlen > 7)
				return false;
			pos++;
			continue;
		}
		if (end - pos < 2)
			return false;
		optlen = (size_t)pkt[pos + 1] + 2;
		if (optlen > end - pos)
			return false;
		if (t == 1) { /* IPV6_TLV_PADN */
			padlen += (unsigned)optlen;
			if (padlen > 7)
				return false;
			for (size_t i = 2; i < optlen; i++)
				if (pkt[pos + i] != 0)
					return false;
			pos += optlen;
			continue;
		}
		if (++count > KM_MAX_OPTS_CNT)
			return false;
		if (hbh && t == 0x05) { /* router alert: ipv6_hop_ra */
			if (pkt[pos + 1] != 2)
				return false;
		} else if (hbh && t == 0x31) { /* IOAM: ipv6_hop_ioam */
			if (pos & 3)
				return false;  /* then ignored: ioam6 off */
		} else if (hbh && t == 0xc2) { /* ipv6_hop_jumbo */
			uint32_t jlen;

			if (pkt[pos + 1] != 4 || (pos & 3) != 2)
				return false;
			jlen = km_be32(pkt + pos + 2);
			if (jlen <= KM_IPV6_MAXPLEN || km_be16(pkt + 4) != 0)
				return false;
			if (jlen > len - 40)
				return false;
			*trim = jlen + 40;
		} else if (hbh && t == 0x07) { /* ipv6_hop_calipso */
			if (pkt[pos + 1] < 8 ||
			    (size_t)pkt[pos + 6] * 4 + 8 > pkt[pos + 1])
				return false;
			/* calipso_validate: not modelled (delivers more) */
		} else if (t >> 6 != 0) {
			return false; /* ip6_tlvopt_unknown: drop */
		}
		padlen = 0;
		pos += optlen;
	}
	return true;
}

/*
 * ipv6frag_thdr_truncated (include/net/ipv6_frag.h), as ipv6_frag_rcv
 * calls it on a fragment: ipv6_skip_exthdr from the end of the fixed
 * header; when it reaches an upper-layer header in this fragment, that
 * header's first octets (8 for UDP, 1 for others we do not model) must
 * be in the packet (RFC 8200 4.5, RFC 7112).
 */
static inline bool km_thdr_truncated(const uint8_t *pkt, size_t len,
				     const struct km_opts *o)
{
	size_t start = 40;
	uint8_t nh = pkt[6];
	unsigned cnt = 0;

	while (km_ipv6_ext_hdr(nh)) {
		size_t hdrlen;

		if (nh == KM_NEXTHDR_NONE)
			return false;
		if (o->max_exthdrs && cnt++ >= o->max_exthdrs)
			return false;
		if (start > len || len - start < 2)
			return false;
		if (nh == KM_NEXTHDR_FRAGMENT) {
			if (len - start < 4)
				return false;
			if (km_be16(pkt + start + 2) & ~7u)
				return false; /* frag_off & IP6_OFFSET */
			hdrlen = 8;
		} else if (nh == KM_NEXTHDR_AUTH) {
			hdrlen = ((size_t)pkt[start + 1] + 2) << 2;
		} else {
			hdrlen = ((size_t)pkt[start + 1] + 1) << 3;
		}
		nh = pkt[start];
		start += hdrlen;
	}
	start += nh == KM_NEXTHDR_UDP ? 8 : 1;
	return start > len;
}

/*
 * __udp6_lib_rcv (net/ipv6/udp.c) on the UDP header at pkt[off], in a
 * packet that ends at len.  A UDP length of 0 means the rest ("Check for
 * jumbo payload", for any datagram).  In a first fragment (prefix) the
 * datagram is the reassembled one, longer than this packet.
 */
static inline void km_udp6_rcv(const uint8_t *pkt, size_t len, size_t off,
			       bool prefix, const struct km_opts *o,
			       struct km_result *r)
{
	size_t avail, ulen;

	if (off > len || len - off < 8) {
		km_none(r, "__udp6_lib_rcv: no room for the UDP header");
		return;
	}
	avail = len - off;
	ulen = km_be16(pkt + off + 4);
	if (!prefix && ulen > avail) {
		km_none(r, "__udp6_lib_rcv: UDP length past the packet");
		return;
	}
	if (ulen != 0 && ulen < 8) {
		km_none(r, "__udp6_lib_rcv: UDP length below 8");
		return;
	}
	if (km_be16(pkt + off + 6) == 0 && !o->udp6_zero_csum_ok) {
		km_none(r,
			"__udp6_lib_rcv: zero checksum, no UDP_NO_CHECK6_RX");
		return;
	}
	if (km_be16(pkt + off + 2) != 53) {
		km_none(r, "__udp6_lib_rcv: not port 53");
		return;
	}
	r->payload_off = off + 8;
	if (ulen == 0 || ulen > avail) {
		r->payload_len = avail - 8;
		r->complete = !prefix;
	} else {
		r->payload_len = ulen - 8;
		r->complete = true;
	}
	r->deliver = prefix ? KM_D_PREFIX : KM_D_WHOLE;
	r->why = "__udp6_lib_rcv";
}

/*
 * ip6_protocol_deliver_rcu (net/ipv6/ip6_input.c): the handler of each
 * next header in turn, from off (after the hop-by-hop header, which
 * ip6_rcv_core took; inet6_protos[0] is empty, so a later one is an
 * unknown protocol).  hbh counts that header for the cap of commit
 * 3744b0964d52, which checks before each resubmit.
 */
static inline void km_ipv6_deliver(const uint8_t *pkt, size_t len, size_t off,
				   uint8_t nh, bool hbh,
				   const struct km_opts *o, struct km_result *r)
{
	unsigned cnt = hbh ? 1 : 0;
	bool fragmented = false; /* IP6SKB_FRAGMENTED */
	bool prefix = false;	 /* a first fragment, not yet whole */
	size_t trim = 0;

	for (;;) {
		size_t ext;

		switch (nh) {
		case KM_NEXTHDR_UDP:
			km_udp6_rcv(pkt, len, off, prefix, o, r);
			return;
		case KM_NEXTHDR_DEST:
			/* ipv6_destopt_rcv */
			if (off > len || len - off < 8) {
				km_none(r, "ipv6_destopt_rcv: short");
				return;
			}
			ext = ((size_t)pkt[off + 1] + 1) << 3;
			if (ext > len - off) {
				km_none(r, "ipv6_destopt_rcv: short");
				return;
			}
			if (!km_parse_tlv(pkt, len, off, false, &trim)) {
				km_none(r, "ip6_parse_tlv: bad option");
				return;
			}
			break;
		case KM_NEXTHDR_ROUTING:
			/* ipv6_rthdr_rcv */
			if (off > len || len - off < 8) {
				km_none(r, "ipv6_rthdr_rcv: short");
				return;
			}
			ext = ((size_t)pkt[off + 1] + 1) << 3;
			if (ext > len - off) {
				km_none(r, "ipv6_rthdr_rcv: short");
				return;
			}
			/* types 4 and 3 go to ipv6_srh_rcv and
			 * ipv6_rpl_srh_rcv, both off by default */
			if (pkt[off + 2] == 4 || pkt[off + 2] == 3) {
				km_none(r, "ipv6_rthdr_rcv: seg6/rpl disabled");
				return;
			}
			/* segments left: forwarded or unknown_rh */
			if (pkt[off + 3] != 0) {
				km_none(r, "ipv6_rthdr_rcv: segments left");
				return;
			}
			break;
		case KM_NEXTHDR_FRAGMENT: {
			/* ipv6_frag_rcv */
			uint16_t fo;
			size_t offset, end;

			if (fragmented || km_be16(pkt + 4) == 0) {
				km_none(r, "ipv6_frag_rcv: fail_hdr");
				return;
			}
			if (off > len || len - off < 8) {
				km_none(r, "ipv6_frag_rcv: fail_hdr");
				return;
			}
			fo = km_be16(pkt + off + 2);
			fragmented = true;
			ext = 8;
			if (!(fo & 0xfff9))
				break; /* atomic: "not a fragmented frame" */
			if (km_thdr_truncated(pkt, len, o)) {
				km_none(r, "ipv6frag_thdr_truncated");
				return;
			}
			/* ip6_frag_queue */
			offset = fo & ~7u;
			end = offset + (km_be16(pkt + 4) - (off + 8 - 40));
			if (end > KM_IPV6_MAXPLEN) {
				km_none(r, "ip6_frag_queue: end past 65535");
				return;
			}
			if ((fo & 1) && (end & 7)) {
				km_none(r, "ip6_frag_queue: not 8-aligned");
				return;
			}
			if (end == offset) {
				km_none(r, "ip6_frag_queue: empty");
				return;
			}
			if (offset != 0) {
				r->deliver = KM_D_UNKNOWN;
				r->why = "ip6_frag_queue: a later fragment";
				return;
			}
			/* offset 0 with M clear was atomic, above */
			prefix = true;
			break;
		}
		case KM_NEXTHDR_AUTH:
			km_none(r, "xfrm6: AH without an SA");
			return;
		case KM_NEXTHDR_ESP:
			km_none(r, "xfrm6: ESP without an SA");
			return;
		case KM_NEXTHDR_HOP:
			km_none(r, "inet6_protos[0]: hop-by-hop not first");
			return;
		default:
			km_none(r, "not UDP");
			return;
		}
		/* commit 3744b0964d52: before goto resubmit */
		if (o->max_exthdrs && cnt++ >= o->max_exthdrs) {
			km_none(r,
				"ip6_protocol_deliver_rcu: too many headers");
			return;
		}
		nh = pkt[off];
		off += ext;
	}
}

/* ip6_rcv_core, then the INPUT rule, then ip6_protocol_deliver_rcu. */
static inline void km_ipv6(const uint8_t *pkt, size_t len,
			   const struct km_opts *o, struct km_result *r)
{
	uint16_t plen;
	size_t off = 40, thoff = 0, trim = 0;
	unsigned fragoff;
	uint8_t nh;
	int proto;

	if (len < 40 || pkt[0] >> 4 != 6) {
		r->queue = KM_Q_DROPPED;
		km_none(r, "ip6_rcv_core: header");
		return;
	}
	plen = km_be16(pkt + 4);
	nh = pkt[6];
	/* "pkt_len may be zero if Jumbo payload option is present" */
	if (plen || nh != KM_NEXTHDR_HOP) {
		if ((size_t)plen + 40 > len) {
			r->queue = KM_Q_DROPPED;
			km_none(r, "ip6_rcv_core: truncated");
			return;
		}
		len = (size_t)plen + 40; /* pskb_trim_rcsum */
	}
	if (nh == KM_NEXTHDR_HOP) {
		/* ipv6_parse_hopopts */
		size_t ext = len < 48 ? 0 : ((size_t)pkt[41] + 1) << 3;

		if (ext == 0 || ext > len - 40 ||
		    !km_parse_tlv(pkt, len, 40, true, &trim)) {
			r->queue = KM_Q_DROPPED;
			km_none(r, "ipv6_parse_hopopts");
			return;
		}
		if (trim)
			len = trim;
		off = 40 + ext;
		nh = pkt[40];
	}
	/* LOCAL_IN: ip6_packet_match, then udp_mt */
	proto = km_ipv6_find_hdr(pkt, len, o, &thoff, &fragoff);
	if (proto < 0)
		r->queue = KM_Q_DROPPED;
	else if (proto != KM_NEXTHDR_UDP)
		r->queue = KM_Q_NO_MATCH;
	else
		km_udp_mt(pkt, len, thoff, fragoff, r);
	if (r->queue == KM_Q_SEEN)
		r->seen_len = len;
	if (r->queue == KM_Q_DROPPED) {
		km_none(r, "ip6_packet_match/udp_mt: hotdrop");
		return;
	}
	km_ipv6_deliver(pkt, len, off, nh, off != 40, o, r);
}

/* --- IPv4 ---------------------------------------------------------------- */

/*
 * ip_rcv_core, ip_local_deliver (reassembly before LOCAL_IN), the INPUT
 * rule (ip_packet_match compares the protocol, udp_mt reads the header at
 * ihl * 4), then __udp4_lib_rcv.
 */
static inline void km_ipv4(const uint8_t *pkt, size_t len,
			   const struct km_opts *o, struct km_result *r)
{
	size_t ihl, tot, ulen;

	(void)o;
	if (len < 20 || pkt[0] >> 4 != 4 || (pkt[0] & 0x0f) < 5) {
		r->queue = KM_Q_DROPPED;
		km_none(r, "ip_rcv_core: header");
		return;
	}
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	if (ihl > len) {
		r->queue = KM_Q_DROPPED;
		km_none(r, "ip_rcv_core: header length");
		return;
	}
	/* ip_fast_csum: taken as right; ip_rcv_options: not modelled */
	tot = km_be16(pkt + 2);
	if (tot > len || tot < ihl) {
		r->queue = KM_Q_DROPPED;
		km_none(r, "ip_rcv_core: total length");
		return;
	}
	len = tot; /* pskb_trim_rcsum */
	if (km_be16(pkt + 6) & 0x3fff) {
		/* ip_is_fragment: ip_defrag before NF_INET_LOCAL_IN */
		r->queue = KM_Q_REASSEMBLED;
		r->deliver = KM_D_UNKNOWN;
		r->why = "ip_local_deliver: ip_defrag";
		return;
	}
	if (pkt[9] != KM_NEXTHDR_UDP) {
		r->queue = KM_Q_NO_MATCH;
		km_none(r, "ip_packet_match: not UDP");
		return;
	}
	km_udp_mt(pkt, len, ihl, 0, r);
	if (r->queue != KM_Q_SEEN) {
		km_none(r, r->queue == KM_Q_DROPPED ? "udp_mt: hotdrop"
						    : "udp_mt: not port 53");
		return;
	}
	/* __udp4_lib_rcv: "UDP validates ulen" */
	ulen = km_be16(pkt + ihl + 4);
	if (ulen > len - ihl || ulen < 8) {
		km_none(r, "__udp4_lib_rcv: short_packet");
		return;
	}
	r->deliver = KM_D_WHOLE;
	r->payload_off = ihl + 8;
	r->payload_len = ulen - 8;
	r->complete = true;
	r->why = "__udp4_lib_rcv";
}

/*
 * The model's answer for pkt[0..len), a packet as it arrives (before any
 * trimming).  Never reads outside pkt[0..len).
 */
static inline void km_model(const uint8_t *pkt, size_t len,
			    const struct km_opts *o, struct km_result *r)
{
	static const struct km_opts defaults = {false, 0};

	*r = (struct km_result){.queue = KM_Q_DROPPED, .why = "empty"};
	if (o == NULL)
		o = &defaults;
	if (len == 0)
		return;
	if (pkt[0] >> 4 == 4)
		km_ipv4(pkt, len, o, r);
	else if (pkt[0] >> 4 == 6)
		km_ipv6(pkt, len, o, r);
	else
		r->why = "neither IPv4 nor IPv6";
}

#endif
