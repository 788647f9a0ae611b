/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Builds DNS queries and IPv4/IPv6 UDP packets for tests and benchmarks.
 * Header-only: each test includes it once.
 */
#ifndef DNSRL_TESTS_PKTBUILD_H
#define DNSRL_TESTS_PKTBUILD_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "csum.h"

static inline void pkt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t pkt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * A standard query (RD set, QDCOUNT 1) for name (dotted text, no escapes)
 * and qtype, into buf.  Returns its length.
 */
static inline size_t pkt_dns_query(uint8_t *buf, uint16_t id, const char *name,
				   uint16_t qtype)
{
	size_t n = 12;
	const char *l = name;

	memset(buf, 0, 12);
	pkt_put16(buf, id);
	buf[2] = 0x01; /* RD */
	pkt_put16(buf + 4, 1);
	while (*l != '\0') {
		const char *dot = strchr(l, '.');
		size_t len = dot != NULL ? (size_t)(dot - l) : strlen(l);

		buf[n++] = (uint8_t)len;
		memcpy(buf + n, l, len);
		n += len;
		l += len;
		if (*l == '.')
			l++;
	}
	buf[n++] = 0;
	pkt_put16(buf + n, qtype);
	pkt_put16(buf + n + 2, 1); /* IN */
	return n + 4;
}

/* An IPv4 UDP packet from src to dst (dotted quads).  Returns its length. */
static inline size_t pkt_ipv4_udp(uint8_t *buf, const char *src,
				  const char *dst, uint16_t sport,
				  uint16_t dport, const uint8_t *payload,
				  size_t len)
{
	size_t total = 20 + 8 + len;

	memset(buf, 0, 28);
	buf[0] = 0x45;
	pkt_put16(buf + 2, (uint16_t)total);
	buf[8] = 64;
	buf[9] = 17;
	inet_pton(AF_INET, src, buf + 12);
	inet_pton(AF_INET, dst, buf + 16);
	pkt_put16(buf + 20, sport);
	pkt_put16(buf + 22, dport);
	pkt_put16(buf + 24, (uint16_t)(8 + len));
	memcpy(buf + 28, payload, len);
	return total;
}

/* An IPv6 UDP packet, without extension headers.  Returns its length. */
static inline size_t pkt_ipv6_udp(uint8_t *buf, const char *src,
				  const char *dst, uint16_t sport,
				  uint16_t dport, const uint8_t *payload,
				  size_t len)
{
	memset(buf, 0, 48);
	buf[0] = 0x60;
	pkt_put16(buf + 4, (uint16_t)(8 + len));
	buf[6] = 17;
	buf[7] = 64;
	inet_pton(AF_INET6, src, buf + 8);
	inet_pton(AF_INET6, dst, buf + 24);
	pkt_put16(buf + 40, sport);
	pkt_put16(buf + 42, dport);
	pkt_put16(buf + 44, (uint16_t)(8 + len));
	memcpy(buf + 48, payload, len);
	return 48 + len;
}

/*
 * A query for name/qtype from src to port 53 of a fixed server, IPv4 or
 * IPv6 by the syntax of src.  Returns its length.
 */
static inline size_t pkt_query_from(uint8_t *buf, const char *src,
				    const char *name, uint16_t qtype)
{
	uint8_t dns[300];
	size_t n = pkt_dns_query(dns, 0x1234, name, qtype);

	if (strchr(src, ':') != NULL)
		return pkt_ipv6_udp(buf, src, "2001:db8:1::1", 40000, 53, dns,
				    n);
	return pkt_ipv4_udp(buf, src, "198.51.100.1", 40000, 53, dns, n);
}

/*
 * An answer to name/qtype (ID 0x1234, RD RA, with an OPT record) from port
 * 53 of a fixed server to dst (IPv4 or IPv6 by its syntax), padded with
 * TXT records of at most rr_max (13 or more) octets of RDATA each (their
 * owners pointers to the question) so that the IP datagram is exactly
 * ip_len octets (at least the header, the question, a 13-octet TXT RR and
 * the OPT), with its UDP checksum.  Returns ip_len, or 0 when it cannot be
 * that short or long.
 */
static inline size_t pkt_answer_rrs_to(uint8_t *buf, const char *dst,
				       const char *name, uint16_t qtype,
				       size_t ip_len, size_t rr_max)
{
	static uint8_t dns[65536];
	bool v6 = strchr(dst, ':') != NULL;
	size_t hdr = v6 ? 48 : 28;
	size_t n = pkt_dns_query(dns, 0x1234, name, qtype);
	size_t space, rd, left, len;
	uint16_t sum, an = 0;

	dns[2] = 0x81;		/* QR RD */
	dns[3] = 0x80;		/* RA */
	pkt_put16(dns + 10, 1); /* ARCOUNT: the OPT */
	if (ip_len < hdr + n + 12 + 1 + 11 || ip_len > 65535 || rr_max < 13)
		return 0;
	/* the octets of the TXT RRs: 12 of header (owner a pointer) each */
	for (space = ip_len - hdr - n - 11; space > 0; space -= 12 + rd) {
		rd = space - 12;
		/* the last RR takes what is left, at least 13 octets */
		if (rd > rr_max)
			rd = space - 12 - rr_max >= 13 ? rr_max : space - 25;
		pkt_put16(dns + n, 0xc00c);
		pkt_put16(dns + n + 2, 16);
		pkt_put16(dns + n + 4, 1);
		memset(dns + n + 6, 0, 4);
		dns[n + 8] = 0x0e; /* TTL 3600 */
		dns[n + 9] = 0x10;
		pkt_put16(dns + n + 10, (uint16_t)rd);
		n += 12;
		/* strings of 255 octets, the last one shorter */
		for (left = rd; left > 0;) {
			size_t k = left - 1 > 255 ? 255 : left - 1;

			dns[n++] = (uint8_t)k;
			memset(dns + n, 'x', k);
			n += k;
			left -= k + 1;
		}
		an++;
	}
	pkt_put16(dns + 6, an); /* ANCOUNT */
	/* OPT: root owner, type 41, UDP size 4096 */
	dns[n++] = 0;
	pkt_put16(dns + n, 41);
	pkt_put16(dns + n + 2, 4096);
	memset(dns + n + 4, 0, 6);
	n += 10;
	if (v6) {
		len = pkt_ipv6_udp(buf, "2001:db8:1::1", dst, 53, 40000, dns,
				   n);
		sum = csum_udp_ipv6(buf + 8, buf + 24, buf + 40, len - 40);
		pkt_put16(buf + 46, sum);
	} else {
		len = pkt_ipv4_udp(buf, "198.51.100.1", dst, 53, 40000, dns, n);
		pkt_put16(buf + 10, csum_ipv4_header(buf, 20));
		sum = csum_udp_ipv4(buf + 12, buf + 16, buf + 20, len - 20);
		pkt_put16(buf + 26, sum);
	}
	return len;
}

/* The same with one TXT record. */
static inline size_t pkt_answer_to(uint8_t *buf, const char *dst,
				   const char *name, uint16_t qtype,
				   size_t ip_len)
{
	return pkt_answer_rrs_to(buf, dst, name, qtype, ip_len, 65535);
}

#endif
