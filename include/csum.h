/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Internet checksum (RFC 1071): the one's-complement sum of 16-bit
 * big-endian words, complemented.  Used to rebuild the IPv4 header and
 * UDP checksums of a packet dnsrl rewrites, and to patch one 16-bit field
 * of a packet without summing it again (RFC 1624).
 *
 * Every value here is a host-order number whose big-endian bytes are what
 * the wire holds: store a result with its high octet first.  Nothing
 * allocates and nothing can fail; lengths are the caller's to check.
 */
#ifndef DNSRL_CSUM_H
#define DNSRL_CSUM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Adds the words of buf[0..len) to the one's-complement sum and returns
 * the new sum, folded to 16 bits and not complemented (start from 0).  An
 * odd last octet counts as the high half of a word whose low half is 0, so
 * only the last piece of a chain of calls may have an odd length.  buf
 * need not be aligned.
 */
uint16_t csum_add(uint16_t sum, const uint8_t *buf, size_t len);

/* The Internet checksum of buf[0..len): ~csum_add(0, buf, len). */
uint16_t csum_buf(const uint8_t *buf, size_t len);

/*
 * The header checksum to store in the IPv4 header hdr[0..hlen) (hlen the
 * IHL times 4, options included: at least 20).  The checksum field at
 * offset 10 is read as zero, so the caller need not clear it first.  A
 * header that carries the result verifies: csum_buf(hdr, hlen) is then 0.
 */
uint16_t csum_ipv4_header(const uint8_t *hdr, size_t hlen);

/*
 * The checksum to store in the UDP datagram udp[0..len) (header and
 * payload; len is the UDP length, at least 8) carried from src to dst,
 * over the pseudo-header of RFC 768 (IPv4, 4-octet addresses) or RFC 8200
 * section 8.1 (IPv6, 16-octet addresses: the final destination).  The
 * checksum field at udp[6..8) is read as zero.  A computed 0 is returned
 * as 0xffff, since 0 on the wire means "no checksum" (IPv4) or is invalid
 * (IPv6).
 */
uint16_t csum_udp_ipv4(const uint8_t src[4], const uint8_t dst[4],
		       const uint8_t *udp, size_t len);
uint16_t csum_udp_ipv6(const uint8_t src[16], const uint8_t dst[16],
		       const uint8_t *udp, size_t len);

/*
 * The checksum that replaces csum when one 16-bit word it covers changes
 * from old to new (RFC 1624, eqn. 3: ~(~HC + ~m + m')), without summing
 * the data again.  The word must sit at an even offset of the summed data.
 * For data that is not all zeros the result equals a full recompute,
 * except when csum is 0xffff (a UDP checksum whose computed value was 0):
 * it may then give 0xffff where the recompute gives 0, the same value in
 * one's complement.  A UDP caller maps 0 to 0xffff anyway, and leaves an
 * IPv4 UDP checksum of 0 ("none") as it is rather than updating it.
 */
uint16_t csum_update16(uint16_t csum, uint16_t old, uint16_t new);

#endif
