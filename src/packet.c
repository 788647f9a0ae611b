/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The IP and UDP header walk.
 *
 * Two lengths matter throughout: what the IP header claims and what was
 * captured (the queue's copy range may cut a packet short).  Headers must
 * lie wholly inside both; the UDP payload may be cut, and payload_len then
 * says how much of it is here.
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "packet.h"

#define IPV4_HDR_MIN 20
#define IPV6_HDR_LEN 40
#define UDP_HDR_LEN 8
/* MF flag and fragment offset of the IPv4 flags/offset field */
#define IPV4_FRAG_MASK 0x3fff
/* offset (upper 13 bits) and M flag (bit 0) of an IPv6 fragment header */
#define IPV6_FRAG_MASK 0xfff9

static inline uint16_t read16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

/*
 * The UDP header at buf[off..), in an IP packet that ends at claimed bytes
 * (per the IP header) of which end were captured (end <= claimed).
 */
static enum packet_kind parse_udp(const uint8_t *buf, size_t off, size_t end,
				  size_t claimed, struct packet *p)
{
	const uint8_t *udp = buf + off;
	size_t ulen;

	if (end - off < UDP_HDR_LEN)
		return PACKET_INVALID;
	ulen = read16(udp + 4);
	if (ulen < UDP_HDR_LEN || ulen > claimed - off)
		return PACKET_INVALID;
	p->sport = read16(udp);
	p->dport = read16(udp + 2);
	p->payload = udp + UDP_HDR_LEN;
	p->udp_len = ulen - UDP_HDR_LEN;
	p->payload_len = end - off - UDP_HDR_LEN;
	if (p->payload_len > p->udp_len)
		p->payload_len = p->udp_len;
	return PACKET_UDP;
}

static enum packet_kind parse_ipv4(const uint8_t *buf, size_t len,
				   struct packet *p)
{
	size_t hlen, total, end;

	if (len < IPV4_HDR_MIN)
		return PACKET_INVALID;
	hlen = (size_t)(buf[0] & 0x0f) * 4;
	if (hlen < IPV4_HDR_MIN || hlen > len)
		return PACKET_INVALID;
	p->family = AF_INET;
	memcpy(p->src, buf + 12, 4);

	total = read16(buf + 2);
	if (total < hlen)
		return PACKET_INVALID;
	/* padding past the total length is not ours; a cut capture is */
	end = total < len ? total : len;
	if (read16(buf + 6) & IPV4_FRAG_MASK)
		return PACKET_FRAGMENT;
	if (buf[9] != IPPROTO_UDP)
		return PACKET_OTHER;
	return parse_udp(buf, hlen, end, total, p);
}

static enum packet_kind parse_ipv6(const uint8_t *buf, size_t len,
				   struct packet *p)
{
	size_t off = IPV6_HDR_LEN;
	size_t total, end, ext;
	uint8_t next;

	if (len < IPV6_HDR_LEN)
		return PACKET_INVALID;
	p->family = AF_INET6;
	memcpy(p->src, buf + 8, 16);

	/* zero announces a jumbogram, which no DNS query is */
	total = read16(buf + 4);
	if (total == 0)
		return PACKET_INVALID;
	total += IPV6_HDR_LEN;
	end = total < len ? total : len;
	next = buf[6];

	for (unsigned int n = 0;; n++) {
		switch (next) {
		case IPPROTO_UDP:
			return parse_udp(buf, off, end, total, p);
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_AH:
		case IPPROTO_FRAGMENT:
			break;
		default:
			/* no next header, or an upper layer that is not UDP */
			return PACKET_OTHER;
		}
		/* every extension header is at least 8 octets long */
		if (n == PACKET_EXT_MAX || end - off < 8)
			return PACKET_INVALID;
		if (next == IPPROTO_FRAGMENT) {
			/* an atomic fragment (offset 0, M 0) is whole */
			if (read16(buf + off + 2) & IPV6_FRAG_MASK)
				return PACKET_FRAGMENT;
			ext = 8;
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

const char *packet_kind_name(enum packet_kind kind)
{
	static const char *const names[PACKET_NKINDS] = {
		[PACKET_UDP] = "udp",
		[PACKET_OTHER] = "other",
		[PACKET_FRAGMENT] = "fragment",
		[PACKET_INVALID] = "invalid",
	};

	if ((unsigned int)kind >= PACKET_NKINDS)
		return "unknown";
	return names[kind];
}
