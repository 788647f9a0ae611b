/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The wire formats every packet reader agrees on: where the fields of the
 * IPv4, IPv6, UDP and DNS headers sit, and the big-endian loads that read
 * them.  The IP and UDP walk (packet.c), the question walk (dns.c), the
 * kernel-side programs compiled from the policy (prefilter.c) and the
 * capture reader (replay.c) take their offsets and limits from here, so
 * that what one of them reads is, by construction, what the others read.
 */
#ifndef DNSRL_WIRE_H
#define DNSRL_WIRE_H

#include <stdint.h>

#define WIRE_DNS_PORT 53

/* IPv4 (RFC 791) */
#define WIRE_IPV4_HDR_MIN 20
#define WIRE_IPV4_HDR_MAX 60	   /* IHL 15 */
#define WIRE_IPV4_TOTAL_LEN 2	   /* offset of the total length */
#define WIRE_IPV4_FRAG 6	   /* flags and fragment offset */
#define WIRE_IPV4_FRAG_MASK 0x3fff /* MF and the offset: a fragment */
#define WIRE_IPV4_MF 0x2000	   /* more fragments */
#define WIRE_IPV4_FRAG_OFFSET 0x1fff
#define WIRE_IPV4_PROTO 9
#define WIRE_IPV4_SRC 12
#define WIRE_IPV4_DST 16

/* IPv6 (RFC 8200) */
#define WIRE_IPV6_HDR 40
#define WIRE_IPV6_PAYLOAD_LEN 4
#define WIRE_IPV6_NEXT 6
#define WIRE_IPV6_SRC 8
#define WIRE_IPV6_DST 24
#define WIRE_IPV6_EXT_MIN 8	   /* every extension header is at least 8 */
#define WIRE_IPV6_FRAG_OFF 2	   /* in a fragment header: offset and M */
#define WIRE_IPV6_FRAG_MASK 0xfff9 /* the offset and M: not atomic */
#define WIRE_IPV6_FRAG_OFFSET 0xfff8
#define WIRE_IPV6_FRAG_M 0x0001

/* UDP (RFC 768) */
#define WIRE_UDP_HDR 8
#define WIRE_UDP_SPORT 0
#define WIRE_UDP_DPORT 2
#define WIRE_UDP_LEN 4
#define WIRE_UDP_CSUM 6

/* DNS (RFC 1035): the header, then the question's name at this offset */
#define WIRE_DNS_HDR 12

static inline uint16_t wire_read16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint32_t wire_read32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

#endif
