/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Builds DNS queries and IPv4/IPv6 UDP packets for tests and benchmarks.
 * Header-only: each test includes it once.
 */
#ifndef DNSRL_TESTS_PKTBUILD_H
#define DNSRL_TESTS_PKTBUILD_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void pkt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
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

#endif
