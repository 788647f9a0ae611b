/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Internet checksum, RFC 1071.
 *
 * Words are read as big-endian octet pairs, so the sums are the same on
 * any host and need no byte swap; a 64-bit accumulator cannot carry out
 * for any length a packet has, and is folded once at the end.
 */
#include <netinet/in.h>

#include "csum.h"
#include "wire.h"

#define CSUM_IPV4_FIELD 10 /* the header checksum in the IPv4 header */

/* The end-around carry: fold the accumulator back into 16 bits. */
static uint16_t fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

uint16_t csum_add(uint16_t sum, const uint8_t *buf, size_t len)
{
	uint64_t s = sum;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)buf[i] << 8 | buf[i + 1];
	if (i < len)
		s += (uint32_t)buf[i] << 8;
	return fold(s);
}

uint16_t csum_buf(const uint8_t *buf, size_t len)
{
	return (uint16_t)~csum_add(0, buf, len);
}

uint16_t csum_ipv4_header(const uint8_t *hdr, size_t hlen)
{
	uint16_t s = csum_add(0, hdr, CSUM_IPV4_FIELD);

	s = csum_add(s, hdr + CSUM_IPV4_FIELD + 2, hlen - CSUM_IPV4_FIELD - 2);
	return (uint16_t)~s;
}

/* The UDP datagram's own words, its checksum field read as zero. */
static uint16_t udp_finish(uint16_t s, const uint8_t *udp, size_t len)
{
	s = csum_add(s, udp, WIRE_UDP_CSUM);
	s = csum_add(s, udp + WIRE_UDP_CSUM + 2, len - WIRE_UDP_CSUM - 2);
	s = (uint16_t)~s;
	/* 0 would say "no checksum"; 0xffff is the same sum */
	return s == 0 ? 0xffff : s;
}

uint16_t csum_udp_ipv4(const uint8_t src[4], const uint8_t dst[4],
		       const uint8_t *udp, size_t len)
{
	const uint8_t tail[4] = {0, IPPROTO_UDP, (uint8_t)(len >> 8),
				 (uint8_t)len};
	uint16_t s = csum_add(0, src, 4);

	s = csum_add(s, dst, 4);
	s = csum_add(s, tail, sizeof(tail));
	return udp_finish(s, udp, len);
}

uint16_t csum_udp_ipv6(const uint8_t src[16], const uint8_t dst[16],
		       const uint8_t *udp, size_t len)
{
	/* the upper-layer length is 32 bits wide in the IPv6 pseudo-header */
	const uint8_t tail[8] = {(uint8_t)(len >> 24),
				 (uint8_t)(len >> 16),
				 (uint8_t)(len >> 8),
				 (uint8_t)len,
				 0,
				 0,
				 0,
				 IPPROTO_UDP};
	uint16_t s = csum_add(0, src, 16);

	s = csum_add(s, dst, 16);
	s = csum_add(s, tail, sizeof(tail));
	return udp_finish(s, udp, len);
}

uint16_t csum_update16(uint16_t csum, uint16_t old, uint16_t new)
{
	uint64_t s = (uint16_t)~csum;

	s += (uint16_t)~old;
	s += new;
	return (uint16_t)~fold(s);
}
