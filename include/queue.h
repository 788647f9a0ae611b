/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One NFQUEUE queue over a libmnl netlink socket.
 *
 * queue_process() drains up to QUEUE_BATCH packets with one recvmmsg(),
 * asks the caller for each verdict, and answers the whole batch with one
 * sendmsg(): drops singly, then one NFQNL_MSG_VERDICT_BATCH accept for
 * the highest id, which covers every other packet of the batch.  Every
 * packet received gets exactly one verdict; one that cannot be read is
 * accepted and counted.
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
	QUEUE_ACCEPT,
	QUEUE_DROP,
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
 * handler must not let it through unjudged.
 */
struct queue_handler {
	enum queue_verdict (*decide)(void *arg, const uint8_t *pkt, size_t len,
				     uint64_t now);
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
 * verdicts, id gaps, netlink errors and failures in *s.  Returns the
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
