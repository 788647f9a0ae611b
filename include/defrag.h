/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * IP fragment reassembly for the capture replay.  An interface capture
 * holds a big answer as the wire carried it, in fragments (a 4 KB answer
 * leaves in three IPv4 fragments at MTU 1500, or in IPv6 fragments with a
 * fragment header); the daemon's answer path saw it whole, at OUTPUT,
 * before the kernel cut it.  This puts such datagrams back together, so
 * that the replay judges them whole and with their whole length.
 *
 * The rules are the kernel's, as of Linux 6.x (net/ipv4/ip_fragment.c
 * ip_frag_queue, net/ipv6/reassembly.c ip6_frag_queue and ipv6_frag_rcv,
 * net/ipv4/inet_fragment.c inet_frag_queue_insert):
 *  - a datagram is keyed by IPv4 source, destination, protocol and IP ID,
 *    or IPv6 source, destination and fragment identification;
 *  - the whole datagram is the first fragment's header (IPv4: its options
 *    kept, the total length and header checksum rewritten, MF and the
 *    offset cleared; IPv6: the headers before the fragment header, with
 *    the fragment header taken out and its next header put in the one
 *    before it, the payload length rewritten) followed by the data of
 *    every fragment at its offset;
 *  - a fragment that is not the last and whose data is not in units of 8
 *    octets is cut to them (IPv4) or dropped alone (IPv6); an IPv6
 *    fragment ending past 65535 octets, or a first one without its whole
 *    UDP (TCP, ICMPv6) header, is dropped alone;
 *  - a last fragment ending short of data already held, or elsewhere than
 *    an earlier last fragment, data past the end a last fragment gave, a
 *    fragment left without data and an IPv4 datagram longer than 65535
 *    octets drop the whole datagram (bad);
 *  - overlaps (RFC 5722, amended by erratum 3089, which the kernel applies
 *    to IPv4 too): a fragment wholly inside a run of data already held
 *    (fragments that came in order, one after the other) is a duplicate,
 *    dropped alone; one that overlaps held data in any other way drops
 *    the whole datagram;
 *  - a datagram not whole `timeout` after its first fragment came is
 *    dropped.
 * Not modelled: the kernel's ipfrag_max_dist (an IPv4 datagram restarted
 * when 64 other fragments from its source came in between) and its
 * interface in the key of link-local IPv6 datagrams.  Fragments of
 * whatever protocol are put together (the caller looks at the datagram
 * they make); an IPv6 atomic fragment (offset 0, M 0) is no fragment.
 * Fragments the capture cut short are dropped alone (bad).
 *
 * Memory is fixed at defrag_new(): a number of slots (datagrams being put
 * together), each with room for DEFRAG_RUNS runs and a first header of
 * DEFRAG_HDR_MAX octets, and a byte budget, kept in pages of DEFRAG_PAGE
 * octets that a datagram takes as its fragments fill them.  When slots or
 * pages run out, the oldest datagram in progress is dropped to make room
 * (no-room; one whose fragments were lost is the likeliest to stay
 * incomplete).  The kernel instead refuses every fragment while its
 * memory is over ipfrag_high_thresh, which keeps a flood of incomplete
 * datagrams from being pushed out by new ones; the replay wants the
 * answers it can still make whole.  Nothing is allocated after
 * defrag_new().  Time is a parameter.
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
	256	       /* of a first fragment's header (IPv6 with the \
			      extension headers before the fragment one) */
#define DEFRAG_RUNS 64 /* runs of data a datagram holds apart */
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
	DEFRAG_DUPLICATE, /* inside a run of data held: dropped alone */
	DEFRAG_OVERLAP,	  /* overlapping held data: with its datagram */
	DEFRAG_BAD,	  /* unusable alone, or contradicting its datagram */
	DEFRAG_TIMEOUT,	  /* its datagram was not whole in time */
	DEFRAG_NO_ROOM,	  /* its datagram was dropped to make room, or could
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
