/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The IP and UDP header walk, by the rules Linux uses to deliver a
 * datagram to a UDP socket (ip_rcv_core, ip6_rcv_core and the IPv6
 * extension header handlers, __udp4_lib_rcv and __udp6_lib_rcv):
 *
 * - IPv4: the header length and the total length must fit; the UDP length
 *   must be 8 or more and at most the IP payload, which is cut to it.
 * - IPv6: the payload length must fit (0, with a hop-by-hop header first,
 *   means the packet as it came); the extension headers are followed
 *   however many there are (each is 8 octets or more, so the packet bounds the walk):
 *   hop-by-hop only as the first, routing, destination options, AH and
 *   fragment headers.  A UDP length of 0 means the rest of the payload
 *   (the kernel's jumbo rule, applied to any datagram).
 * - A fragment that does not start the datagram carries no UDP header; a
 *   first fragment is walked like a whole packet as far as it goes, and
 *   flagged: its UDP length speaks of the whole datagram.
 *
 * Two lengths matter throughout: what the IP header claims and what was
 * captured.  Headers must lie wholly inside both; the UDP payload may be
 * cut, and payload_len then says how much of it is here.
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "packet.h"
#include "wire.h"

/*
 * The UDP header at buf[off..), in an IP packet that ends at claimed bytes
 * (per the IP header) of which end were captured (end <= claimed).  In a
 * first fragment the UDP length is the whole datagram's, longer than this
 * packet; zero_is_rest applies IPv6's rule for a UDP length of 0.
 */
static enum packet_kind parse_udp(const uint8_t *buf, size_t off, size_t end,
				  size_t claimed, bool zero_is_rest,
				  struct packet *p)
{
	const uint8_t *udp = buf + off;
	size_t ulen;

	if (end - off < WIRE_UDP_HDR)
		return PACKET_INVALID;
	ulen = wire_read16(udp + WIRE_UDP_LEN);
	if (ulen == 0 && zero_is_rest)
		ulen = claimed - off;
	if (ulen < WIRE_UDP_HDR || (!p->first_fragment && ulen > claimed - off))
		return PACKET_INVALID;
	p->sport = wire_read16(udp + WIRE_UDP_SPORT);
	p->dport = wire_read16(udp + WIRE_UDP_DPORT);
	p->payload = udp + WIRE_UDP_HDR;
	p->udp_len = ulen - WIRE_UDP_HDR;
	p->payload_len = end - off - WIRE_UDP_HDR;
	if (p->payload_len > p->udp_len)
		p->payload_len = p->udp_len;
	return PACKET_UDP;
}

static enum packet_kind parse_ipv4(const uint8_t *buf, size_t len,
				   struct packet *p)
{
	size_t hlen, total, end;
	uint16_t frag;

	if (len < WIRE_IPV4_HDR_MIN)
		return PACKET_INVALID;
	hlen = (size_t)(buf[0] & 0x0f) * 4;
	if (hlen < WIRE_IPV4_HDR_MIN || hlen > len)
		return PACKET_INVALID;
	p->family = AF_INET;
	memcpy(p->src, buf + WIRE_IPV4_SRC, 4);
	p->dst = buf + WIRE_IPV4_DST;

	total = wire_read16(buf + WIRE_IPV4_TOTAL_LEN);
	if (total < hlen)
		return PACKET_INVALID;
	/* padding past the total length is not ours; a cut capture is */
	end = total < len ? total : len;
	frag = wire_read16(buf + WIRE_IPV4_FRAG);
	/* the kernel reassembles before the queue; a capture may not */
	if (frag & WIRE_IPV4_FRAG_OFFSET)
		return PACKET_FRAGMENT;
	p->first_fragment = (frag & WIRE_IPV4_MF) != 0;
	if (buf[WIRE_IPV4_PROTO] != IPPROTO_UDP)
		return PACKET_OTHER;
	return parse_udp(buf, hlen, end, total, false, p);
}

static enum packet_kind parse_ipv6(const uint8_t *buf, size_t len,
				   struct packet *p)
{
	size_t off = WIRE_IPV6_HDR;
	size_t total, end, ext;
	uint16_t frag;
	uint8_t next;

	if (len < WIRE_IPV6_HDR)
		return PACKET_INVALID;
	p->family = AF_INET6;
	memcpy(p->src, buf + WIRE_IPV6_SRC, 16);
	p->dst = buf + WIRE_IPV6_DST;

	/*
	 * Zero announces a jumbogram, whose length a hop-by-hop option
	 * carries; the kernel drops any it could receive (over 65535
	 * octets is no packet here), but one without that option is taken
	 * as long as what came (ip6_rcv_core trims nothing then).
	 */
	total = wire_read16(buf + WIRE_IPV6_PAYLOAD_LEN);
	if (total == 0 && buf[WIRE_IPV6_NEXT] != IPPROTO_HOPOPTS)
		return PACKET_INVALID;
	total = total == 0 ? len : total + WIRE_IPV6_HDR;
	end = total < len ? total : len;
	next = buf[WIRE_IPV6_NEXT];

	for (;;) {
		switch (next) {
		case IPPROTO_UDP:
			return parse_udp(buf, off, end, total, true, p);
		case IPPROTO_HOPOPTS:
			/* the kernel takes it only straight after the header */
			if (off != WIRE_IPV6_HDR)
				return PACKET_INVALID;
			break;
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_AH:
		case IPPROTO_FRAGMENT:
			break;
		default:
			/* no next header, or an upper layer that is not UDP */
			return PACKET_OTHER;
		}
		if (end - off < WIRE_IPV6_EXT_MIN)
			return PACKET_INVALID;
		if (next == IPPROTO_FRAGMENT) {
			frag = wire_read16(buf + off + WIRE_IPV6_FRAG_OFF);
			/* only the first fragment holds the UDP header */
			if (frag & WIRE_IPV6_FRAG_OFFSET)
				return PACKET_FRAGMENT;
			/* an atomic fragment (offset 0, M 0) is whole */
			if (frag & WIRE_IPV6_FRAG_M)
				p->first_fragment = true;
			ext = WIRE_IPV6_EXT_MIN;
		} else if (next == IPPROTO_AH) {
			ext = ((size_t)buf[off + 1] + 2) * 4;
		} else {
			ext = ((size_t)buf[off + 1] + 1) * 8;
		}
		if (ext > end - off)
			return PACKET_INVALID;
		next = buf[off];
		off += ext;
	}
}

enum packet_kind packet_parse(const uint8_t *buf, size_t len, struct packet *p)
{
	memset(p, 0, sizeof(*p));
	if (len == 0)
		return PACKET_INVALID;
	switch (buf[0] >> 4) {
	case 4:
		return parse_ipv4(buf, len, p);
	case 6:
		return parse_ipv6(buf, len, p);
	default:
		return PACKET_INVALID;
	}
}
