/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Rewrites a DNS answer leaving the resolver (UDP from port 53, whole IP
 * datagram as NFQUEUE hands it over at OUTPUT) into the smallest answer
 * that still tells the client to retry over TCP: the same question with
 * TC=1 and no records but the EDNS OPT.  A real client retries over TCP;
 * the victim of a spoofed query receives about what the query was: the
 * same question, and the answer's OPT in place of the query's (larger by
 * what the server added to it: 16 octets of server cookie, an extended
 * error's text).
 *
 * What is written:
 *  - IP: the same header, byte for byte, but for the lengths.  IPv4: the
 *    options kept, total length and header checksum recomputed, the rest
 *    (ID, DF, TTL, TOS, addresses) as it was.  IPv6: the hop-by-hop and
 *    destination options headers and an atomic fragment header (offset 0,
 *    M 0, RFC 6946) kept as they were, the payload length recomputed.
 *  - UDP: the same ports, the new length, the checksum recomputed over the
 *    pseudo-header (also when an IPv4 answer had none).
 *  - DNS: the same ID, opcode, RD, RA, CD and RCODE; QR=1, TC=1, AA=0,
 *    AD=0, Z=0 (nothing is left to be authoritative or authenticated);
 *    QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 1 with an OPT else 0.  The
 *    question is copied octet for octet (so a 0x20-mixed-case name is
 *    echoed as the client sent it).  The answer's OPT RR is copied whole:
 *    its class (UDP size), its TTL (extended RCODE, version, DO and the
 *    other flags, so an extended RCODE like BADCOOKIE survives) and its
 *    RDATA with every option (a server cookie too, which the client then
 *    presents over TCP).
 *
 * Other additional records are dropped, TSIG (RFC 8945) and SIG(0) (RFC
 * 2931) with them: the rewritten answer to a signed query is unsigned, so
 * a client that signed its query cannot authenticate it and rejects it
 * (it does not see the TC bit as a valid answer and retry over TCP); that
 * exchange fails or times out instead.  Recursive service to customers is
 * not signed in practice; a caller that must keep signed exchanges working
 * has to pass such answers unchanged.
 *
 * The walk reads the whole message (every RR of the answer, authority and
 * additional sections, to find the OPT and check there is only one, in the
 * additional section), without following compression pointers, without
 * allocation or recursion, every read bounds-checked.  Each RR takes at
 * least 11 octets and each step of a name at least one, so the work is
 * linear in the length whatever the counts say.  Octets after the last
 * counted RR are ignored (they are not copied).
 */
#ifndef DNSRL_TRUNCATE_H
#define DNSRL_TRUNCATE_H

#include <stddef.h>
#include <stdint.h>

enum truncate_status {
	TRUNCATE_OK,
	/* not UDP, not from port 53, QR=0, or QDCOUNT other than 1 */
	TRUNCATE_NOT_ANSWER,
	/*
	 * cannot be walked: not IPv4 or IPv6, a length in the IP or UDP
	 * header that disagrees with len, a DNS header cut short, a question
	 * name with a compression pointer, a reserved label type or over 255
	 * octets, an RR running past the end, an OPT that is not in the
	 * additional section, has a non-root owner, or is not the only one
	 */
	TRUNCATE_MALFORMED,
	/*
	 * a shape that is not rewritten: an IPv4 or IPv6 fragment (an IPv6
	 * atomic fragment is fine), an IPv6 routing header or IPv4 source
	 * route option (the UDP checksum covers the final destination, not
	 * the one in the header), an IPv6 authentication header (it signs
	 * the payload)
	 */
	TRUNCATE_UNSUPPORTED,
	/* out is shorter than the rewritten packet */
	TRUNCATE_NO_ROOM,
	/* truncate_query: the query asks for no more already (no OPT, or
	 * a UDP size no larger): nothing to rewrite */
	TRUNCATE_UNCHANGED,
	TRUNCATE_NSTATUS
};

/*
 * Writes into out[0..outlen) the packet that replaces the answer
 * pkt[0..len): an IPv4 or IPv6 datagram from the IP header on, whole (the
 * IP header's length must equal len), UDP from source port 53.  On
 * TRUNCATE_OK *out_used is the rewritten packet's length, never more than
 * len.  On any other status out is left untouched and *out_used is 0.
 * out must not overlap pkt; pkt is only read.  Nothing is allocated and
 * the function keeps no state: it may run in any thread.
 */
enum truncate_status truncate_answer(const uint8_t *restrict pkt, size_t len,
				     uint8_t *restrict out, size_t outlen,
				     size_t *out_used);

/*
 * The query side of the same idea: writes into out[0..outlen) the query
 * pkt[0..len) (an IPv4 or IPv6 datagram, UDP to port 53, QR=0, one
 * question, walked as an answer is above) with its EDNS UDP payload size
 * (the OPT RR's CLASS) lowered to udp_max, and its UDP checksum made right
 * (an IPv4 datagram without one keeps none).  The resolver then truncates
 * any answer longer than udp_max itself, with TC=1.  Nothing else changes:
 * *out_used is len.  TRUNCATE_UNCHANGED when the query has no OPT (its
 * answer keeps to 512 octets) or asks for udp_max or less; other statuses
 * as for truncate_answer (TRUNCATE_NOT_ANSWER: not UDP to port 53, QR=1
 * or QDCOUNT other than 1).  A query signed with TSIG no longer verifies
 * (the OPT is covered): the resolver refuses it.  Out must not overlap
 * pkt; nothing is allocated.
 */
enum truncate_status truncate_query(const uint8_t *restrict pkt, size_t len,
				    uint16_t udp_max, uint8_t *restrict out,
				    size_t outlen, size_t *out_used);

/* A short fixed name for a status, for counters and logs ("ok", ...). */
const char *truncate_status_name(enum truncate_status s);

#endif
