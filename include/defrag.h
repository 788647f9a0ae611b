/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * IP fragment reassembly for the capture replay.  An interface capture
 * holds a big answer as the wire carried it, in fragments (a 4 KB answer
 * leaves in three IPv4 fragments at MTU 1500, or in IPv6 fragments with a
 * fragment header); the daemon's answer path saw it whole, at OUTPUT,
 * before the kernel cut it.  This puts such datagrams back together, so
 * that the replay judges them whole and with their whole length.
 *
 * The rules are the kernel's (net/ipv4/ip_fragment.c, net/ipv6/
 * reassembly.c, net/ipv4/inet_fragment.c):
 *  - a datagram is keyed by IPv4 source, destination, protocol and IP ID,
 *    or IPv6 source, destination and fragment identification;
 *  - the whole datagram is the first fragment's header (IPv4: its options
 *    kept, the total length and header checksum rewritten, MF and the
 *    offset cleared; IPv6: the headers before the fragment header, with
 *    the fragment header taken out and its next header put in the one
 *    before it, the payload length rewritten) followed by the data of
 *    every fragment at its offset;
 *  - a fragment that repeats data already held (wholly inside it) is
 *    dropped alone; one that overlaps it in part drops the whole datagram
 *    (RFC 5722), as does one that contradicts it: a second last fragment
 *    with another end, data past the end the last fragment gave, a
 *    datagram over 65535 octets (IPv4 total length, IPv6 payload length);
 *  - a fragment that cannot be used alone is dropped alone: one cut short
 *    by the capture, one without data, one that is not the last and whose
 *    data is not a multiple of 8 octets;
 *  - a datagram not whole `timeout` after its first fragment came is
 *    dropped.
 * Fragments of whatever protocol are put together (the caller looks at
 * the datagram they make); an IPv6 atomic fragment (offset 0, M 0) is no
 * fragment.
 *
 * Memory is fixed at defrag_new(): a number of slots (datagrams being put
 * together) and a byte budget, kept in pages of DEFRAG_PAGE octets that a
 * datagram takes as its fragments fill them.  When either runs out, the
 * oldest datagram in progress is dropped to make room (one whose
 * fragments were lost is the likeliest to stay incomplete); the kernel
 * instead refuses new fragments once its memory is full, but it drops
 * nothing a real sender would want kept either way.  Nothing is allocated
 * after defrag_new().  Time is a parameter.
 */
#ifndef DNSRL_DEFRAG_H
#define DNSRL_DEFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"

#define DEFRAG_SLOTS_MAX 1024	   /* datagrams in progress at most */
#define DEFRAG_BYTES_MAX (4 << 20) /* the kernel's ipfrag_high_thresh */
#define DEFRAG_TIMEOUT_NS (30 * CLOCK_NS_PER_S) /* its ipfrag_time */
#define DEFRAG_PAGE 1024			/* octets of a page */
#define DEFRAG_HDR_MAX \
	256		 /* of a first fragment's header (IPv6 with the \
			      extension headers before the fragment one) */
#define DEFRAG_RANGES 16 /* runs of data a datagram holds apart */
/* the longest datagram: an IPv6 header and a payload of 65535 octets */
#define DEFRAG_DATAGRAM_MAX (40 + 65535)

enum defrag_result {
	DEFRAG_WHOLE,	/* no fragment: the packet stands as it is */
	DEFRAG_HELD,	/* a fragment, held until its datagram is whole */
	DEFRAG_DONE,	/* the fragment that completed a datagram */
	DEFRAG_DROPPED, /* a fragment dropped (and counted) */
};

/* Why fragments were dropped. */
enum defrag_drop {
	DEFRAG_OVERLAP, /* overlapping what was held: a repeat (alone) or a
			   partial overlap (with its datagram) */
	DEFRAG_BAD,	/* unusable alone, or contradicting its datagram */
	DEFRAG_TIMEOUT, /* its datagram was not whole in time */
	DEFRAG_NO_ROOM, /* its datagram was dropped to make room, or could
			   not be held in the whole budget */
	DEFRAG_NDROPS
};

struct defrag_counters {
	uint64_t fragments;		 /* fragments given to defrag_add */
	uint64_t reassembled;		 /* ... that made whole datagrams */
	uint64_t datagrams;		 /* the datagrams they made */
	uint64_t dropped[DEFRAG_NDROPS]; /* fragments dropped, by reason */
};

/* A whole datagram, borrowed from the reassembler. */
struct defrag_datagram {
	const uint8_t *pkt; /* from the IP header on */
	size_t len;	    /* its IP length */
	unsigned tag;	    /* the tag of the fragment that began it */
};

struct defrag;

/*
 * Makes a reassembler for up to slots datagrams at once (1 ..
 * DEFRAG_SLOTS_MAX) holding up to bytes octets of their data (rounded up
 * to whole pages, at least one, at most DEFRAG_BYTES_MAX), which drops a
 * datagram not whole timeout ns after its first fragment.  Its hash is
 * keyed from getrandom(), so a capture cannot aim collisions at it.
 * Returns what the caller owns, or NULL with errno set (EINVAL for sizes
 * out of range, ENOMEM, or getrandom's).
 */
struct defrag *defrag_new(size_t slots, size_t bytes, uint64_t timeout);

/* No-op on NULL. */
void defrag_free(struct defrag *d);

/*
 * Takes the IP packet pkt[0..len) (len: the octets captured) seen at time
 * now.  A fragment is copied in, with tag (a datagram keeps the tag of
 * the fragment that began it).  On DEFRAG_DONE *out is the whole
 * datagram, borrowed: valid until the next call.  Datagrams begun
 * timeout or more before now are dropped first.  What is not a fragment,
 * or whose IP header is broken (that is for the packet walk to judge), is
 * DEFRAG_WHOLE and left alone.  Never fails; nothing is allocated.
 */
enum defrag_result defrag_add(struct defrag *d, const uint8_t *pkt, size_t len,
			      uint64_t now, unsigned tag,
			      struct defrag_datagram *out);

/* Drops the datagrams begun timeout or more before now. */
void defrag_expire(struct defrag *d, uint64_t now);

/* The datagrams still incomplete, and the fragments they hold. */
void defrag_pending(const struct defrag *d, uint64_t *datagrams,
		    uint64_t *fragments);

/* The counters so far; fragments = reassembled + dropped + pending. */
const struct defrag_counters *defrag_counters(const struct defrag *d);

#endif
