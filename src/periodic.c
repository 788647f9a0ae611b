/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "periodic.h"

#include <string.h>

void periodic_init(struct periodic *p, struct limiter *l,
		   const struct periodic_ops *ops, uint64_t now)
{
	memset(p, 0, sizeof(*p));
	p->limiter = l;
	p->ops = ops;
	p->chunk = limiter_buckets(l) / PERIODIC_SWEEP_PASS_TICKS + 1;
	p->next_tick = now;
}

void periodic_every(struct periodic *p, enum periodic_job job, uint64_t every,
		    uint64_t now)
{
	p->job[job].every = every;
	p->job[job].next = now + every;
}

static bool sweep_wanted(const struct periodic *p)
{
	return p->ops->sweep_wanted == NULL ||
	       p->ops->sweep_wanted(p->ops->arg);
}

static bool sweep(struct periodic *p, uint64_t now)
{
	return limiter_sweep(p->limiter, &p->sweep, p->chunk, now,
			     p->ops->released, p->ops->arg);
}

void periodic_sweep_whole(struct periodic *p, uint64_t now)
{
	bool fresh = p->sweep.next == 0;

	while (!sweep(p, now))
		;
	/* a pass begun earlier has left its first buckets behind */
	if (!fresh)
		while (!sweep(p, now))
			;
}

void periodic_run(struct periodic *p, uint64_t now)
{
	if (now >= p->next_tick) {
		uint64_t late = now - p->next_tick;

		if (sweep_wanted(p)) {
			if (late < PERIODIC_PAUSE_WHOLE)
				sweep(p, now);
			else
				periodic_sweep_whole(
					p,
					late > PERIODIC_GAP_SWEEP_MAX
						? p->next_tick +
							  PERIODIC_GAP_SWEEP_MAX
						: now);
		}
		p->next_tick +=
			(late / PERIODIC_TICK_NS + 1) * PERIODIC_TICK_NS;
	}
	if (p->ops->job == NULL)
		return;
	for (int j = 0; j < PERIODIC_NJOBS; j++) {
		if (p->job[j].every == 0 || now < p->job[j].next)
			continue;
		p->job[j].next = now + p->job[j].every;
		p->ops->job(p->ops->arg, (enum periodic_job)j, now);
	}
}

const uint32_t *periodic_live(const struct periodic *p)
{
	return p->sweep.last_live;
}

size_t periodic_used(const struct periodic *p)
{
	return p->sweep.last_used;
}
