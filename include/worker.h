/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A queue worker: one thread per NFQUEUE queue.
 *
 * Workers share the bucket table and the policy.  The policy comes from
 * the reload slot (see reload.h): a worker takes it at the top of each
 * loop turn and publishes the generation it holds in `seen`, so the main
 * thread knows when no worker holds an old policy any more.
 * Per-source events travel to the main thread through a bounded
 * single-producer ring; when it is full they are counted, never waited on.
 */
#ifndef DNSRL_WORKER_H
#define DNSRL_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dns.h"
#include "limiter.h"
#include "policy.h"
#include "queue.h"
#include "reload.h"
#include "stats.h"

#define WORKER_EVENTS 1024 /* ring slots, a power of two */
#define WORKER_POLL_MS 100 /* longest sleep: stop, reload and stats latency */

/*
 * A per-source transition on its way to the log.  A source's first drop
 * also carries the query that caused it, for the operator to see what
 * was limited.
 */
struct worker_event {
	struct limiter_event ev;
	uint16_t qtype;
	uint8_t name_len; /* 0: no query carried */
	uint8_t name[DNS_NAME_MAX];
};

/* What every worker reads and the main thread writes. */
struct worker_shared {
	struct reload_slot slot; /* the running policy */
	struct limiter *limiter;
	_Atomic bool stop;
	bool fail_open; /* on stop, let the kernel pass new packets first */
};

struct worker {
	struct worker_shared *shared;
	struct queue *queue; /* owned */
	uint16_t num;	     /* its queue number, kept after the queue closes */
	bool answers;	     /* it judges answers, not queries */
	pthread_t thread;
	bool running;

	struct stats stats;	/* the worker's own, on the packet path */
	struct stats_box box;	/* its published copy */
	_Atomic uint64_t seen;	/* generation in use */
	_Atomic uint64_t beats; /* loop turns: the watchdog's evidence */
	_Atomic int error;	/* -errno when the loop died on its socket */

	struct worker_event ring[WORKER_EVENTS];
	_Atomic uint32_t head; /* written by the worker */
	_Atomic uint32_t tail; /* written by the main thread */
	_Atomic uint64_t lost; /* events dropped on a full ring */

	/* the worker thread's private state */
	const struct policy *cur;
	uint64_t cur_generation;
	struct policy_ctx ctx;
};

/*
 * Prepares w over queue q (taking ownership of q), judging answers
 * (policy_decide_answer) or queries.  Returns 0 or -errno.
 */
int worker_init(struct worker *w, struct worker_shared *shared, struct queue *q,
		bool answers);

/* Starts the thread.  Returns 0 or -errno. */
int worker_start(struct worker *w);

/*
 * Waits for a worker that saw shared->stop to answer what it holds and
 * exit, then closes its queue.  Its counters stay readable until
 * worker_destroy().  Safe on a worker never started.
 */
void worker_finish(struct worker *w);

/* Frees what worker_init made.  After worker_finish(). */
void worker_destroy(struct worker *w);

/* Main thread: takes the oldest event.  Returns false when empty. */
bool worker_pop_event(struct worker *w, struct worker_event *ev);

/*
 * One turn of the loop, without the poll: picks up a new policy and
 * answers everything readable.  Exposed for tests.  Returns 0 or -errno.
 */
int worker_turn(struct worker *w);

#endif
