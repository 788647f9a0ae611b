/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The time-driven work: what happens because time passes rather than
 * because a packet came.  The sweep of the bucket table (it ends the
 * episodes of sources that went quiet, which frees their slots, and counts
 * live buckets) runs a chunk each PERIODIC_TICK_NS; the jobs (counters,
 * the abuse-desk report, the Prometheus file, the loss check) run at
 * their own intervals.
 *
 * The daemon drives it from its timer with the monotonic clock; the
 * capture replay drives it with the capture's timestamps before each
 * packet.  Both run this one schedule, so the replay frees slots and ends
 * episodes exactly when the daemon would.  Time is a parameter: nothing
 * here reads a clock.
 *
 * Over a pause (a sparse capture, or a daemon whose loop was held up) one
 * chunk stands for all the ticks missed; a pause of PERIODIC_PAUSE_WHOLE
 * or more gets a whole pass, so that no episode outlives its end by much
 * (the limiter compares episode times on a clock that wraps after 24
 * days).
 */
#ifndef DNSRL_PERIODIC_H
#define DNSRL_PERIODIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "limiter.h"

#define PERIODIC_TICK_NS (100 * CLOCK_NS_PER_MS)
/*
 * A whole pass every 100 ticks (10 s): "released" lines come up to 10 s
 * late, and each bucket costs a lock, so the pass is spread thin.
 */
#define PERIODIC_SWEEP_PASS_TICKS 100
#define PERIODIC_PAUSE_WHOLE (3600 * CLOCK_NS_PER_S)
/*
 * The whole pass after a pause runs at most this long after the pause
 * began: by then every episode has ended (none outlives its last drop by
 * more than hold-down-max, 7 days at most).
 */
#define PERIODIC_GAP_SWEEP_MAX (8 * 24 * 3600 * CLOCK_NS_PER_S)

enum periodic_job {
	PERIODIC_STATS,	     /* the counters (stats-interval) */
	PERIODIC_REPORT,     /* the abuse-desk report (report-interval) */
	PERIODIC_PROMETHEUS, /* the Prometheus file */
	PERIODIC_LOSSES,     /* a look at the loss counters */
	PERIODIC_HOLDS,	     /* the kernel holds' counters read back */
	PERIODIC_NJOBS
};

struct periodic_ops {
	/* An episode the sweep ended (the callback runs with no lock held). */
	void (*released)(void *arg, const struct limiter_event *ev);
	/*
	 * Whether a sweep could end an episode now; NULL: always sweep.  The
	 * replay, which reports no live counts, skips sweeps while no
	 * episode is open: they could change nothing.
	 */
	bool (*sweep_wanted)(void *arg);
	/* A job that is due; NULL when there are none. */
	void (*job)(void *arg, enum periodic_job job, uint64_t now);
	void *arg;
};

struct periodic {
	struct limiter *limiter;
	const struct periodic_ops *ops;
	struct limiter_sweep sweep;
	size_t chunk;	    /* buckets a tick */
	uint64_t next_tick; /* when the next tick is due */
	struct {
		uint64_t every; /* 0: never */
		uint64_t next;
	} job[PERIODIC_NJOBS];
};

/*
 * Starts the schedule at time now over table l: the first tick is due at
 * now, no job runs until periodic_every() sets it.  Cannot fail.
 */
void periodic_init(struct periodic *p, struct limiter *l,
		   const struct periodic_ops *ops, uint64_t now);

/* Runs job every ns (0: never), the first time at now + every. */
void periodic_every(struct periodic *p, enum periodic_job job, uint64_t every,
		    uint64_t now);

/*
 * Does the work due by now: the sweep's share of the ticks passed since
 * the last call (see above), then each job that is due, once.
 */
void periodic_run(struct periodic *p, uint64_t now);

/* A whole pass of the sweep at now (the end of a capture). */
void periodic_sweep_whole(struct periodic *p, uint64_t now);

/* Live buckets per rule id, and in all, as the last whole pass counted. */
const uint32_t *periodic_live(const struct periodic *p);
size_t periodic_used(const struct periodic *p);

#endif
