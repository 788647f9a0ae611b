/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The IP and UDP header walk of a queued packet.
 *
 * The buffer starts at the IP header (what NFQUEUE hands over).  Every read
 * is bounds-checked against the captured length; nothing is allocated and
 * the payload pointer borrows from the caller's buffer.
 */
#ifndef DNSRL_PACKET_H
#define DNSRL_PACKET_H

#include <stddef.h>
#include <stdint.h>

/* At most this many IPv6 extension headers are walked. */
#define PACKET_EXT_MAX 8

enum packet_kind {
	PACKET_UDP,	 /* a UDP datagram; payload set */
	PACKET_OTHER,	 /* a whole IP packet that is not UDP */
	PACKET_FRAGMENT, /* a fragment (IPv6, or IPv4 in a capture) */
	PACKET_INVALID,	 /* truncated or inconsistent IP or UDP header */
	PACKET_NKINDS
};

struct packet {
	int family;	 /* AF_INET or AF_INET6 */
	uint8_t src[16]; /* source address; IPv4 in src[0..3] */
	uint16_t sport;	 /* host order */
	uint16_t dport;
	const uint8_t *payload; /* UDP payload, borrowed */
	size_t payload_len;	/* bytes of it in the buffer */
	size_t udp_len;		/* payload length the UDP header claims */
};

/*
 * Walks the IPv4 or IPv6 header (and IPv6 extension headers) and the UDP
 * header of buf[0..len).  Fills what it found in *p (family and src as soon
 * as the IP header is whole) and returns the packet's kind.  payload_len
 * may be less than udp_len when the capture was cut short (copy range).
 */
enum packet_kind packet_parse(const uint8_t *buf, size_t len, struct packet *p);

#endif
