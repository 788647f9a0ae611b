/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One NFQUEUE queue over a libmnl netlink socket.
 *
 * queue_process() drains up to QUEUE_BATCH packets with one recvmmsg(),
 * asks the caller for each verdict, and answers the whole batch with one
 * sendmsg(): drops and replacements singly, each an NFQNL_MSG_VERDICT of
 * its own (a replacement is NF_ACCEPT with an NFQA_PAYLOAD attribute that
 * holds the new packet), in the order the packets came, then one
 * NFQNL_MSG_VERDICT_BATCH accept for the highest accepted id, which
 * covers every other packet of the batch.  Every packet received gets
 * exactly one verdict; one that cannot be read is decided by the handler
 * with no bytes, one without an id cannot be answered and is counted.
 */
#ifndef DNSRL_QUEUE_H
#define DNSRL_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"

#define QUEUE_BATCH 128 /* packets a recvmmsg() */
/*
 * The whole packet, however long (NFQUEUE's largest range): an extension
 * header chain or IP options can put the question anywhere a packet
 * reaches.  A message holds the packet and at most a few hundred octets
 * of attributes.  The buffers are not touched beforehand: a page costs
 * memory only once a packet that long has come.
 */
#define QUEUE_COPY_RANGE 0xffff
#define QUEUE_MSG_MAX (0x10000 + 0x1000)

enum queue_verdict {
	QUEUE_ACCEPT,  /* the packet as it is */
	QUEUE_DROP,    /* the packet is discarded */
	QUEUE_REPLACE, /* accept, but send the handler's packet in its place */
};

/*
 * The longest replacement packet, IP header included: 1280, the IPv6
 * minimum link MTU (RFC 8200 section 5).  A replacement goes where a large
 * answer went, to a client whose path MTU nobody knows, and is meant to
 * arrive whole: an IPv6 packet of 1280 octets crosses every link without
 * fragmenting, and an IPv4 one as large crosses the paths met in practice
 * (the reasoning behind DNS Flag Day 2020's 1232-octet EDNS size, 1280
 * less the IPv6 and UDP headers).  The limit also sizes the queue's verdict
 * buffer, which holds a whole batch of replacements.
 */
#define QUEUE_REPLACE_MAX 1280

/*
 * Where a handler writes a replacement packet.  The queue passes buf with
 * room == QUEUE_REPLACE_MAX and len == 0; buf is 4-octet aligned, the
 * place the NFQA_PAYLOAD attribute's data takes in the verdict message,
 * so that the packet is written once and not copied.  A handler that
 * returns QUEUE_REPLACE has written the new packet (from its IP header
 * on, lengths and checksums already right: the kernel takes it as it is)
 * into buf[0..len) and set len, 1 to room.  For any other verdict buf is
 * unused and may hold anything.  buf is valid only during the call.
 */
struct queue_out {
	uint8_t *buf;
	size_t room;
	size_t len;
};

struct queue_params {
	uint16_t num;
	uint32_t maxlen;     /* packets the kernel may hold for us */
	uint32_t copy_range; /* bytes of each packet copied to us */
	uint32_t rcvbuf;     /* socket receive buffer; 0: sized to maxlen */
	bool fail_open;	     /* queue full: the kernel accepts (else drops) */
};

/*
 * Decides one packet (pkt starts at the IP header; len bytes were copied)
 * at time now (ns, CLOCK_MONOTONIC, read once per batch).  A message that
 * arrives without its payload is decided with pkt NULL and len 0: the
 * handler must not let it through unjudged.  To replace the packet the
 * handler writes the new one into out (see struct queue_out) and returns
 * QUEUE_REPLACE.  A QUEUE_REPLACE with out->len 0 or over
 * QUEUE_REPLACE_MAX is a bug of the handler's: the packet is then
 * dropped (the replacement exists to limit harm, so the original is never
 * let through instead) and counted as STATS_INTERNAL.
 */
struct queue_handler {
	enum queue_verdict (*decide)(void *arg, const uint8_t *pkt, size_t len,
				     uint64_t now, struct queue_out *out);
	void *arg;
};

struct queue;

/*
 * Opens a netlink socket, binds it to queue qp->num and configures copy
 * range, queue length, fail-open and a receive buffer sized to hold the
 * whole queue.  Needs CAP_NET_ADMIN.  Returns a queue the caller owns, or
 * NULL with errno set (EBUSY: another process has the queue).
 */
struct queue *queue_open(const struct queue_params *qp);

/*
 * Makes a queue over fd, a socket already bound and configured (tests).
 * Takes ownership of fd.  NULL with errno set on failure.
 */
struct queue *queue_from_fd(int fd, uint16_t num);

/* Closes the socket (the kernel unbinds the queue).  No-op on NULL. */
void queue_close(struct queue *q);

int queue_fd(const struct queue *q);
uint16_t queue_num(const struct queue *q);

/*
 * Receives one batch without blocking and answers it.  Counts packets,
 * verdicts (accepted, dropped, replaced: each verdict is one of the
 * three), id gaps, netlink errors and failures in *s.  Returns the
 * number of packets handled, 0 when there was nothing to read, or -errno
 * on an error of the socket itself (ENOBUFS is counted and returns 0).
 */
int queue_process(struct queue *q, const struct queue_handler *h,
		  struct stats *s);

/*
 * Prepares an exit: sets the queue length to 0 so that, with fail-open,
 * the kernel passes new packets itself; the caller then drains what is
 * queued with queue_process().  Returns 0 or -errno.
 */
int queue_stop_intake(struct queue *q);

/* The kernel's counters of a queue (/proc/net/netfilter/nfnetlink_queue) */
struct queue_kstats {
	uint32_t total;	       /* packets waiting for a verdict now */
	uint32_t dropped;      /* dropped: queue full without fail-open */
	uint32_t user_dropped; /* dropped: netlink socket full */
	uint32_t id_sequence;  /* last packet id handed out */
};

/*
 * Opens the kernel's queue counters in the caller's network namespace.
 * The file is root's alone: open it before dropping privileges and keep
 * it.  Returns a descriptor (the caller closes it), or -errno.
 */
int queue_kstats_open(void);

/*
 * Reads the counters of queue num from fd, the file read afresh from its
 * start.  Returns 0, -ENOENT when the queue is not bound, or -errno.
 */
int queue_kstats_read(int fd, uint16_t num, struct queue_kstats *ks);

#endif
