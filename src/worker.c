/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "worker.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"

/* Most batches one turn drains before it checks stop and stats again. */
#define TURN_BATCHES 64

static void push_event(void *arg, const struct limiter_event *ev,
		       struct dns_question *q)
{
	struct worker_event *we;
	struct worker *w = arg;
	uint32_t head = atomic_load_explicit(&w->head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&w->tail, memory_order_acquire);

	if (head - tail >= WORKER_EVENTS) {
		atomic_store_explicit(
			&w->lost,
			atomic_load_explicit(&w->lost, memory_order_relaxed) +
				1,
			memory_order_relaxed);
		return;
	}
	we = &w->ring[head % WORKER_EVENTS];
	we->ev = *ev;
	we->name_len = 0;
	/* only first drops: they are the rare ones (an episode each) */
	if (q != NULL && ev->kind == LIMITER_EV_LIMITED) {
		we->qtype = q->qtype;
		we->name_len = q->name_len;
		memcpy(we->name, dns_question_name(q), q->name_len);
	}
	atomic_store_explicit(&w->head, head + 1, memory_order_release);
}

bool worker_pop_event(struct worker *w, struct worker_event *ev)
{
	uint32_t tail = atomic_load_explicit(&w->tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&w->head, memory_order_acquire);

	if (tail == head)
		return false;
	*ev = w->ring[tail % WORKER_EVENTS];
	atomic_store_explicit(&w->tail, tail + 1, memory_order_release);
	return true;
}

/* The queries' queue: accept or drop, never a replacement (out unused). */
static enum queue_verdict decide(void *arg, const uint8_t *pkt, size_t len,
				 uint64_t now, struct queue_out *out)
{
	struct worker *w = arg;
	/* the replacement is written where the verdict will carry it */
	struct policy_out po = {.buf = out->buf, .room = out->room};
	enum policy_verdict v =
		w->answers ? policy_decide_answer(w->cur, &w->ctx, pkt, len,
						  now, &po)
			   : policy_decide_query(w->cur, &w->ctx, pkt, len, now,
						 &po);

	switch (v) {
	case POLICY_REPLACE:
		out->len = po.len;
		return QUEUE_REPLACE;
	case POLICY_DROP:
		return QUEUE_DROP;
	default:
		return QUEUE_ACCEPT;
	}
}

int worker_init(struct worker *w, struct worker_shared *shared, struct queue *q,
		bool answers)
{
	int rc;

	memset(w, 0, sizeof(*w));
	rc = stats_box_init(&w->box);
	if (rc < 0)
		return rc;
	w->shared = shared;
	w->queue = q;
	w->num = queue_num(q);
	w->answers = answers;
	w->ctx.limiter = shared->limiter;
	w->ctx.stats = &w->stats;
	w->ctx.event = push_event;
	w->ctx.event_arg = w;
	return 0;
}

/* Takes up the current policy; a new one resets the counters of gone rules. */
static void pick_policy(struct worker *w)
{
	uint64_t gen = atomic_load_explicit(&w->shared->slot.generation,
					    memory_order_acquire);
	bool keep[LIMITER_RULE_IDS];

	w->cur = atomic_load_explicit(&w->shared->slot.policy,
				      memory_order_acquire);
	if (gen != w->cur_generation || w->cur_generation == 0) {
		policy_rule_ids(w->cur, keep);
		for (unsigned id = 0; id < LIMITER_RULE_IDS; id++)
			if (!keep[id])
				stats_clear_rule(&w->stats, id);
		w->cur_generation = gen;
	}
	atomic_store_explicit(&w->seen, gen, memory_order_release);
}

int worker_turn(struct worker *w)
{
	const struct queue_handler h = {decide, w};

	pick_policy(w);
	for (int i = 0; i < TURN_BATCHES; i++) {
		int n = queue_process(w->queue, &h, &w->stats);

		if (n < 0)
			return n;
		if (n == 0)
			break;
	}
	return 0;
}

/* Answers what is still queued before the socket closes. */
static void drain(struct worker *w)
{
	const struct queue_handler h = {decide, w};

	if (w->shared->fail_open && queue_stop_intake(w->queue) < 0)
		log_warn("queue %u: cannot stop intake", w->num);
	pick_policy(w);
	while (queue_process(w->queue, &h, &w->stats) > 0)
		;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pollfd pfd = {.fd = queue_fd(w->queue), .events = POLLIN};
	uint64_t published = 0;

	while (!atomic_load_explicit(&w->shared->stop, memory_order_acquire)) {
		uint64_t now;
		int rc;

		atomic_fetch_add_explicit(&w->beats, 1, memory_order_relaxed);
		rc = poll(&pfd, 1, WORKER_POLL_MS);
		if (rc < 0 && errno != EINTR) {
			atomic_store(&w->error, -errno);
			break;
		}
		rc = worker_turn(w);
		if (rc < 0) {
			/* the socket failed: the queue bypass takes over */
			atomic_store(&w->error, rc);
			break;
		}
		now = clock_now();
		if (now - published >= WORKER_POLL_MS * CLOCK_NS_PER_MS) {
			stats_publish(&w->box, &w->stats);
			published = now;
		}
	}
	if (atomic_load(&w->error) == 0)
		drain(w);
	stats_publish(&w->box, &w->stats);
	return NULL;
}

int worker_start(struct worker *w)
{
	char name[16];
	int rc = pthread_create(&w->thread, NULL, worker_main, w);

	if (rc != 0)
		return -rc;
	w->running = true;
	/* ps -L, top -H and /proc/PID/task/N/comm tell the threads apart */
	snprintf(name, sizeof(name), "dnsrl-%s%u", w->answers ? "a" : "q",
		 (unsigned)w->num);
	(void)pthread_setname_np(w->thread, name);
	return 0;
}

void worker_finish(struct worker *w)
{
	if (w->running)
		pthread_join(w->thread, NULL);
	w->running = false;
	queue_close(w->queue);
	w->queue = NULL;
}

void worker_destroy(struct worker *w)
{
	stats_box_destroy(&w->box);
}
