/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The IP and UDP header walk of a queued packet, by the rules the Linux
 * kernel uses to deliver a datagram to a UDP socket (see packet.c).
 *
 * The buffer starts at the IP header (what NFQUEUE hands over).  Every read
 * is bounds-checked against the captured length; nothing is allocated and
 * the payload pointer borrows from the caller's buffer.
 */
#ifndef DNSRL_PACKET_H
#define DNSRL_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum packet_kind {
	PACKET_UDP,	 /* a UDP datagram (or its first fragment): payload */
	PACKET_OTHER,	 /* a whole IP packet that is not UDP */
	PACKET_FRAGMENT, /* a fragment that does not start its datagram */
	PACKET_INVALID,	 /* truncated or inconsistent IP or UDP header, or
			    one the kernel would drop */
	PACKET_NKINDS
};

struct packet {
	int family;	    /* AF_INET or AF_INET6 */
	uint8_t src[16];    /* source address; IPv4 in src[0..3] */
	const uint8_t *dst; /* destination address, borrowed from the buffer:
			       4 or 16 octets */
	uint16_t sport;	    /* host order */
	uint16_t dport;
	bool first_fragment;	/* the first fragment of a datagram */
	const uint8_t *payload; /* UDP payload, borrowed */
	size_t payload_len;	/* bytes of it in the buffer */
	size_t udp_len;		/* payload length the UDP header claims */
};

/*
 * Walks the IPv4 or IPv6 header (every IPv6 extension header) and the UDP
 * header of buf[0..len).  Fills what it found in *p (family and src as soon
 * as the IP header is whole) and returns the packet's kind.  payload_len
 * is less than udp_len when the capture was cut short or the packet is a
 * first fragment.
 */
enum packet_kind packet_parse(const uint8_t *buf, size_t len, struct packet *p);

#endif
