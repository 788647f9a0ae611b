/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The per-source bucket table.
 *
 * Layout: buckets of 128 bytes (two adjacent cache lines) hold four
 * 32-byte slots.  A key (source prefix, rule, family) hashes once with
 * SipHash-1-3; the low and high halves of the hash pick its two candidate
 * buckets, and a new key goes to the one with more free slots.  Given as
 * many live sources as slots, two 2-slot buckets kept about 85% of them;
 * two 4-slot buckets keep 92% (the first live eviction comes near half
 * load, a few percent of inserts evict by 90%).  An attacker who does not
 * know the hash key cannot crowd one bucket.
 *
 * Each slot is a GCRA cell (tat, "theoretical arrival time") plus the state
 * of its limited episode: when it began, when it will end if the drops
 * stop, how many drops, how many hold-downs.  Episode times are kept in
 * 32-bit milliseconds to fit the slot in 32 bytes; they are compared with
 * wrapping subtraction, which is sound for spans below 2^31 ms (24 days).
 */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#include "limiter.h"
#include "siphash.h"

#define NS_PER_MS 1000000u
#define MS_SPAN_MAX 0x7fffffffu /* longest span wrapping compares allow */

#define SLOT_LIMITED 0x01 /* in a limited episode */
#define SLOT_HELD 0x02	  /* a hold-down was started (implies LIMITED) */
/* the upper six bits: refusals since the source's last slip turn */
#define SLOT_SLIP_SHIFT 2
#define SLOT_FLAGS_MASK 0x03

#define LEVEL_MAX 63
#define BUCKET_SLOTS 4
#define STRIPES 1024 /* spinlocks; a power of two, so % is a mask */

struct slot {
	uint64_t key;	     /* masked prefix, see limiter_key() */
	uint64_t tat;	     /* GCRA theoretical arrival time, ns */
	uint32_t episode_ms; /* first drop of the current episode */
	uint32_t quiet_ms;   /* the episode ends when now reaches it */
	uint32_t drops;	     /* refused in the episode (queries, or octets
				of answers: the rule's weight), saturating */
	uint8_t rule;	     /* rule id; 0 marks a free slot */
	uint8_t family;	     /* 4 or 6 */
	uint8_t level;	     /* hold-downs started in this episode */
	uint8_t flags;	     /* SLOT_*, and the slip position above them */
};

static_assert(sizeof(struct slot) == 32, "a slot is 32 bytes");

struct bucket {
	_Alignas(64) struct slot s[BUCKET_SLOTS];
};

static_assert(sizeof(struct bucket) == 128, "a bucket is two cache lines");

/* Padded to a cache line, so two workers' locks never share one. */
struct stripe {
	_Alignas(64) atomic_uint lock;
};

static_assert(sizeof(struct stripe) == 64, "a stripe is one cache line");

struct limiter {
	struct bucket *buckets; /* mapped: bytes long */
	size_t nbuckets, bytes;
	struct stripe *stripes; /* NULL when not shared */
	uint64_t hash_key[2];
};

void limiter_rate_init(struct limiter_rate *r, uint32_t n, uint64_t period)
{
	if (n == 0)
		n = 1;
	r->interval = period / n;
	r->tau = (uint64_t)(n - 1) * r->interval;
	r->period = period;
}

void tbucket_init(struct tbucket *tb, uint32_t n, uint64_t period)
{
	limiter_rate_init(&tb->rate, n, period);
	atomic_init(&tb->tat, 0);
}

bool tbucket_take_n(struct tbucket *tb, uint64_t now, uint64_t cost)
{
	uint64_t old = atomic_load_explicit(&tb->tat, memory_order_relaxed);
	uint64_t t;

	/* tat is the only state: a lost race just retries with the winner's
	 * value, so no token is given twice. */
	do {
		t = old > now ? old : now;
		if (t - now > tb->rate.tau)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(
		&tb->tat, &old, t + cost, memory_order_relaxed,
		memory_order_relaxed));
	return true;
}

/* A monotonic time in ns as 32-bit wrapping milliseconds. */
static inline uint32_t ms_of(uint64_t ns)
{
	return (uint32_t)(ns / NS_PER_MS);
}

/* Whether now has reached deadline, on the wrapping clock. */
static inline bool ms_reached(uint32_t now, uint32_t deadline)
{
	return (uint32_t)(now - deadline) <= MS_SPAN_MAX;
}

static inline uint32_t ms_max(uint32_t a, uint32_t b)
{
	return ms_reached(a, b) ? a : b;
}

/* A span in ms, at least 1 (a period is never shorter than a tick) and
 * short enough for the wrapping compares. */
static inline uint32_t ms_span(uint64_t ns)
{
	uint64_t ms = ns / NS_PER_MS;

	if (ms == 0)
		return 1;
	return ms > MS_SPAN_MAX ? MS_SPAN_MAX : (uint32_t)ms;
}

/*
 * The first ms at which now + ns has surely passed, as now_ms will read it:
 * rounded up, so an episode never ends before a whole period without drops
 * even when the drop came mid-millisecond.  Capped for the wrapping
 * compares.
 */
static inline uint32_t ms_deadline(uint64_t now, uint64_t ns)
{
	uint64_t span;

	if (ns >= (uint64_t)MS_SPAN_MAX * NS_PER_MS)
		return ms_of(now) + MS_SPAN_MAX;
	span = (now + ns + NS_PER_MS - 1) / NS_PER_MS - now / NS_PER_MS;
	return ms_of(now) + (uint32_t)(span > MS_SPAN_MAX ? MS_SPAN_MAX : span);
}

/* Whether a HELD slot's hold-down still runs: the GCRA refuses it until
 * tat - tau. */
static inline bool slot_held(const struct slot *s, uint64_t tau, uint64_t now)
{
	return (s->flags & SLOT_HELD) && s->tat > tau && now < s->tat - tau;
}

static inline void slot_end_episode(struct slot *s)
{
	s->episode_ms = 0;
	s->quiet_ms = 0;
	s->drops = 0;
	s->level = 0;
	s->flags = 0;
}

static inline void event_fill(struct limiter_event *ev, uint8_t kind,
			      const struct slot *s, uint64_t hold)
{
	ev->kind = kind;
	ev->rule = s->rule;
	ev->family = s->family;
	ev->level = s->level;
	ev->drops = s->drops;
	ev->key = s->key;
	ev->hold = hold;
}

/* The first hold-down is hold; each one after it in the same episode
 * doubles, up to hold_max (or hold, if hold_max is set below it). */
static uint64_t hold_duration(const struct limiter_rule *r, unsigned level)
{
	uint64_t cap = r->hold_max > r->hold ? r->hold_max : r->hold;

	if (level > LEVEL_MAX || r->hold > (cap >> level))
		return cap;
	return r->hold << level;
}

/* Lemire's multiply-shift: maps a 32-bit hash onto [0, n) without a
 * division and without rounding n to a power of two. */
static inline size_t fastrange(uint32_t h, size_t n)
{
	return (size_t)(((uint64_t)h * n) >> 32);
}

static void candidates(const struct limiter *l, uint64_t key, uint8_t rule,
		       uint8_t family, size_t *b1, size_t *b2)
{
	uint64_t h = siphash13_16(l->hash_key, key,
				  (uint64_t)rule | (uint64_t)family << 8);

	*b1 = fastrange((uint32_t)h, l->nbuckets);
	*b2 = fastrange((uint32_t)(h >> 32), l->nbuckets);
	if (*b2 == *b1)
		*b2 = *b1 + 1 == l->nbuckets ? 0 : *b1 + 1;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static inline void stripe_lock(struct stripe *st)
{
	/* Spin on a plain load, so waiters share the line instead of
	 * bouncing it with writes. */
	while (atomic_exchange_explicit(&st->lock, 1, memory_order_acquire)) {
		while (atomic_load_explicit(&st->lock, memory_order_relaxed))
			cpu_relax();
	}
}

static inline void stripe_unlock(struct stripe *st)
{
	atomic_store_explicit(&st->lock, 0, memory_order_release);
}

static inline void lock_one(struct limiter *l, size_t b)
{
	if (l->stripes)
		stripe_lock(&l->stripes[b % STRIPES]);
}

static inline void unlock_one(struct limiter *l, size_t b)
{
	if (l->stripes)
		stripe_unlock(&l->stripes[b % STRIPES]);
}

/* Both buckets of a check, in stripe order so two checks cannot deadlock;
 * a stripe shared by both is taken once. */
static inline void lock_two(struct limiter *l, size_t b1, size_t b2)
{
	size_t s1 = b1 % STRIPES, s2 = b2 % STRIPES;

	if (!l->stripes)
		return;
	if (s1 > s2) {
		size_t t = s1;

		s1 = s2;
		s2 = t;
	}
	stripe_lock(&l->stripes[s1]);
	if (s2 != s1)
		stripe_lock(&l->stripes[s2]);
}

static inline void unlock_two(struct limiter *l, size_t b1, size_t b2)
{
	size_t s1 = b1 % STRIPES, s2 = b2 % STRIPES;

	if (!l->stripes)
		return;
	stripe_unlock(&l->stripes[s1]);
	if (s2 != s1)
		stripe_unlock(&l->stripes[s2]);
}

struct limiter *limiter_new(size_t capacity, bool shared)
{
	uint8_t key[LIMITER_HASH_KEY_LEN];
	struct limiter *l;
	size_t got = 0;

	if (capacity < BUCKET_SLOTS || capacity > ((size_t)1 << 31)) {
		errno = EINVAL;
		return NULL;
	}
	while (got < sizeof(key)) {
		ssize_t n = getrandom(key + got, sizeof(key) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		got += (size_t)n;
	}

	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->nbuckets = (capacity + BUCKET_SLOTS - 1) / BUCKET_SLOTS;
	/*
	 * A mapping of its own, left out of fork(): the daemon forks to run
	 * iptables-restore and iptables-save (start, reload), and a shared
	 * copy-on-write table would fault on the next write to each page
	 * (8000 faults, ~20 us each, in the first flood after a reload).
	 */
	l->bytes = l->nbuckets * sizeof(struct bucket);
	l->buckets = mmap(NULL, l->bytes, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (l->buckets == MAP_FAILED) {
		l->buckets = NULL;
		goto fail;
	}
	(void)madvise(l->buckets, l->bytes, MADV_DONTFORK);
	/* Writing every page now (rather than calloc's untouched zero pages)
	 * means the table's memory is resident from the start: RSS does not
	 * grow under a flood, and a machine short of memory fails here. */
	memset(l->buckets, 0, l->nbuckets * sizeof(struct bucket));
	if (shared) {
		l->stripes = aligned_alloc(64, STRIPES * sizeof(struct stripe));
		if (!l->stripes)
			goto fail;
		for (size_t i = 0; i < STRIPES; i++)
			atomic_init(&l->stripes[i].lock, 0);
	}
	siphash13_key(l->hash_key, key);
	explicit_bzero(key, sizeof(key));
	return l;

fail:
	explicit_bzero(key, sizeof(key));
	limiter_free(l);
	errno = ENOMEM;
	return NULL;
}

void limiter_free(struct limiter *l)
{
	if (!l)
		return;
	if (l->buckets)
		munmap(l->buckets, l->bytes);
	free(l->stripes);
	explicit_bzero(l->hash_key, sizeof(l->hash_key));
	free(l);
}

size_t limiter_capacity(const struct limiter *l)
{
	return l->nbuckets * BUCKET_SLOTS;
}

size_t limiter_buckets(const struct limiter *l)
{
	return l->nbuckets;
}

size_t limiter_bytes(const struct limiter *l)
{
	return l->nbuckets * sizeof(struct bucket);
}

void limiter_set_hash_key(struct limiter *l,
			  const uint8_t key[LIMITER_HASH_KEY_LEN])
{
	siphash13_key(l->hash_key, key);
}

uint64_t limiter_key(int family, const uint8_t *src, unsigned prefixlen)
{
	uint64_t k;

	if (prefixlen == 0)
		return 0;
	if (family == 4) {
		k = (uint64_t)src[0] << 24 | (uint64_t)src[1] << 16 |
		    (uint64_t)src[2] << 8 | src[3];
		if (prefixlen < 32)
			k &= (UINT64_C(0xffffffff) << (32 - prefixlen)) &
			     UINT64_C(0xffffffff);
		return k;
	}
	if (family == 6) {
		k = 0;
		for (int i = 0; i < 8; i++)
			k = k << 8 | src[i];
		if (prefixlen < 64)
			k &= UINT64_MAX << (64 - prefixlen);
		return k;
	}
	return 0;
}

void limiter_key_text(int family, uint64_t key, unsigned prefixlen, char *buf,
		      size_t buflen)
{
	char addr[INET6_ADDRSTRLEN];
	uint8_t a[16] = {0};

	if (buflen == 0)
		return;
	if (family == 4) {
		for (int i = 0; i < 4; i++)
			a[i] = (uint8_t)(key >> (24 - 8 * i));
		inet_ntop(AF_INET, a, addr, sizeof(addr));
	} else if (family == 6) {
		for (int i = 0; i < 8; i++)
			a[i] = (uint8_t)(key >> (56 - 8 * i));
		inet_ntop(AF_INET6, a, addr, sizeof(addr));
	} else {
		snprintf(buf, buflen, "?");
		return;
	}
	snprintf(buf, buflen, "%s/%u", addr, prefixlen);
}

/* How much a slot would lose if evicted: a hold, an episode, or only a
 * partly spent bucket. */
static inline unsigned slot_rank(const struct slot *s)
{
	if (s->flags & SLOT_HELD)
		return 2;
	return s->flags & SLOT_LIMITED ? 1 : 0;
}

static inline bool slot_free(const struct slot *s, uint64_t now)
{
	return s->rule == 0 || (s->tat <= now && !(s->flags & SLOT_LIMITED));
}

/*
 * A slot for a key not in the table: a free one (empty, or its bucket has
 * refilled and carries no information) in the candidate bucket with more
 * free slots, else the least informative of all eight candidates: not
 * limited before limited before held, then the one closest to refilled.
 */
static struct slot *slot_take(struct limiter *l, size_t b1, size_t b2,
			      uint64_t now, struct limiter_counters *c)
{
	struct bucket *bk[2] = {&l->buckets[b1], &l->buckets[b2]};
	struct slot *first[2] = {NULL, NULL};
	unsigned nfree[2] = {0, 0};
	struct slot *victim = NULL, *pick;
	unsigned vrank = 0;

	for (int i = 0; i < 2; i++)
		for (int j = 0; j < BUCKET_SLOTS; j++)
			if (slot_free(&bk[i]->s[j], now) && nfree[i]++ == 0)
				first[i] = &bk[i]->s[j];
	if (nfree[0] + nfree[1] > 0) {
		pick = nfree[1] > nfree[0] ? first[1] : first[0];
		if (pick->rule == 0)
			c->inserted++;
		else
			c->reused++;
		return pick;
	}
	for (int i = 0; i < 2; i++) {
		for (int j = 0; j < BUCKET_SLOTS; j++) {
			struct slot *s = &bk[i]->s[j];
			unsigned rank = slot_rank(s);

			if (!victim || rank < vrank ||
			    (rank == vrank && s->tat < victim->tat)) {
				victim = s;
				vrank = rank;
			}
		}
	}
	c->evicted++;
	if (victim->flags & SLOT_LIMITED)
		c->evicted_limited++;
	return victim;
}

static struct slot *slot_find(struct limiter *l, size_t b1, size_t b2,
			      uint64_t key, uint8_t rule, uint8_t family)
{
	struct bucket *bk[2] = {&l->buckets[b1], &l->buckets[b2]};

	for (int i = 0; i < 2; i++) {
		for (int j = 0; j < BUCKET_SLOTS; j++) {
			struct slot *s = &bk[i]->s[j];

			if (s->key == key && s->rule == rule &&
			    s->family == family)
				return s;
		}
	}
	return NULL;
}

/* A refusal of weight w (saturating), and the slip's count of it. */
static inline void slot_refused(struct slot *s, uint32_t w,
				struct limiter_cost *cost)
{
	unsigned pos;

	s->drops = w > UINT32_MAX - s->drops ? UINT32_MAX : s->drops + w;
	if (cost == NULL || cost->slip == 0)
		return;
	pos = (unsigned)(s->flags >> SLOT_SLIP_SHIFT) + 1;
	cost->turn = pos >= cost->slip;
	if (cost->turn)
		pos = 0;
	s->flags = (uint8_t)((s->flags & SLOT_FLAGS_MASK) |
			     pos << SLOT_SLIP_SHIFT);
}

/* A drop: the episode starts, or goes on; a source that kept exceeding
 * for a whole period since its first drop is held down. */
static void slot_over(struct slot *s, const struct limiter_rule *r,
		      uint64_t now, struct limiter_cost *cost,
		      struct limiter_event ev[2], int *nev)
{
	uint32_t now_ms = ms_of(now);
	uint32_t period_ms = ms_span(r->rate.period);
	uint64_t d;

	slot_refused(s, cost && cost->weight ? cost->weight : 1, cost);
	if (!(s->flags & SLOT_LIMITED)) {
		s->flags |= SLOT_LIMITED;
		s->episode_ms = now_ms;
		s->quiet_ms = ms_deadline(now, r->rate.period);
		event_fill(&ev[(*nev)++], LIMITER_EV_LIMITED, s, 0);
		/* It cannot have exceeded for a whole period yet. */
		return;
	}
	s->quiet_ms = ms_max(s->quiet_ms, ms_deadline(now, r->rate.period));
	if (!r->hold || (uint32_t)(now_ms - s->episode_ms) < period_ms)
		return;

	d = hold_duration(r, s->level);
	/* The GCRA test refuses it while now < tat - tau, for exactly d (or
	 * for ever, should a configured hold overflow the clock). */
	if (d > UINT64_MAX - r->rate.tau - now)
		s->tat = UINT64_MAX;
	else
		s->tat = now + d + r->rate.tau;
	s->flags |= SLOT_HELD;
	if (s->level < LEVEL_MAX)
		s->level++;
	s->quiet_ms = ms_max(s->quiet_ms, ms_deadline(now, d));
	event_fill(&ev[(*nev)++], LIMITER_EV_HELD, s, d);
}

/* Both entry points: the copy without a cost has none of its branches. */
static inline enum limiter_verdict
charge(struct limiter *l, const struct limiter_rule *r, int family,
       uint64_t key, uint64_t now, struct limiter_cost *cost,
       struct limiter_counters *c, struct limiter_event ev[2], int *nev)
{
	const uint8_t fam = (uint8_t)family;
	enum limiter_verdict v;
	struct slot *s;
	size_t b1, b2;
	uint64_t t;

	*nev = 0;
	/* Id 0 marks a free slot: such a rule cannot have buckets. */
	if (r->id == 0)
		return LIMITER_PASS;
	candidates(l, key, r->id, fam, &b1, &b2);
	lock_two(l, b1, b2);

	s = slot_find(l, b1, b2, key, r->id, fam);
	if (s) {
		if ((s->flags & SLOT_LIMITED) &&
		    ms_reached(ms_of(now), s->quiet_ms) &&
		    !slot_held(s, r->rate.tau, now)) {
			event_fill(&ev[(*nev)++], LIMITER_EV_RELEASED, s, 0);
			slot_end_episode(s);
		}
	} else {
		s = slot_take(l, b1, b2, now, c);
		memset(s, 0, sizeof(*s));
		s->key = key;
		s->rule = r->id;
		s->family = fam;
	}

	if (cost)
		cost->turn = false;
	if (s->flags & SLOT_HELD) {
		if (slot_held(s, r->rate.tau, now)) {
			slot_refused(s, cost && cost->weight ? cost->weight : 1,
				     cost);
			s->quiet_ms = ms_max(s->quiet_ms,
					     ms_deadline(now, r->rate.period));
			v = LIMITER_HELD;
			goto out;
		}
		/* The hold ran out; the episode and its level go on. */
		s->flags &= (uint8_t)~SLOT_HELD;
	}

	t = s->tat > now ? s->tat : now;
	if (t - now <= r->rate.tau) {
		/* The total comes after the source's own bucket, and a
		 * refusal leaves the source its token. */
		if (r->total &&
		    !tbucket_take_n(r->total, now,
				    cost ? cost->total
					 : r->total->rate.interval)) {
			v = LIMITER_TOTAL;
		} else {
			s->tat = t + (cost ? cost->source : r->rate.interval);
			v = LIMITER_PASS;
		}
	} else {
		slot_over(s, r, now, cost, ev, nev);
		v = LIMITER_OVER;
	}
out:
	unlock_two(l, b1, b2);
	return v;
}

enum limiter_verdict
limiter_charge(struct limiter *l, const struct limiter_rule *r, int family,
	       uint64_t key, uint64_t now, struct limiter_cost *cost,
	       struct limiter_counters *c, struct limiter_event ev[2], int *nev)
{
	return charge(l, r, family, key, now, cost, c, ev, nev);
}

enum limiter_verdict limiter_check(struct limiter *l,
				   const struct limiter_rule *r, int family,
				   uint64_t key, uint64_t now,
				   struct limiter_counters *c,
				   struct limiter_event ev[2], int *nev)
{
	return charge(l, r, family, key, now, NULL, c, ev, nev);
}

int limiter_restore(struct limiter *l, const struct limiter_rule *r, int family,
		    uint64_t key, unsigned level, uint64_t left, uint64_t now,
		    struct limiter_counters *c)
{
	const uint8_t fam = (uint8_t)family;
	struct slot *s;
	size_t b1, b2;

	if (r->id == 0 || left == 0)
		return -EINVAL;
	candidates(l, key, r->id, fam, &b1, &b2);
	lock_two(l, b1, b2);
	s = slot_find(l, b1, b2, key, r->id, fam);
	if (s == NULL) {
		s = slot_take(l, b1, b2, now, c);
		memset(s, 0, sizeof(*s));
		s->key = key;
		s->rule = r->id;
		s->family = fam;
	}
	if (!(s->flags & SLOT_LIMITED)) {
		s->episode_ms = ms_of(now);
		s->quiet_ms = ms_deadline(now, r->rate.period);
	}
	/* the GCRA refuses it while now < tat - tau: for exactly left */
	s->tat = left > UINT64_MAX - r->rate.tau - now
			 ? UINT64_MAX
			 : now + left + r->rate.tau;
	s->flags |= SLOT_LIMITED | SLOT_HELD;
	s->level = (uint8_t)(level > LEVEL_MAX ? LEVEL_MAX : level);
	s->quiet_ms = ms_max(s->quiet_ms, ms_deadline(now, left));
	unlock_two(l, b1, b2);
	return 0;
}

bool limiter_persist(struct limiter *l, const struct limiter_rule *r,
		     int family, uint64_t key, uint32_t refused, uint64_t now)
{
	const uint8_t fam = (uint8_t)family;
	struct slot *s;
	size_t b1, b2;
	bool held;

	if (r->id == 0)
		return false;
	candidates(l, key, r->id, fam, &b1, &b2);
	lock_two(l, b1, b2);
	s = slot_find(l, b1, b2, key, r->id, fam);
	held = s != NULL && (s->flags & SLOT_HELD);
	if (held && refused > 0) {
		slot_refused(s, refused, NULL);
		s->quiet_ms =
			ms_max(s->quiet_ms, ms_deadline(now, r->rate.period));
	}
	unlock_two(l, b1, b2);
	return held;
}

bool limiter_sweep(struct limiter *l, struct limiter_sweep *s, size_t count,
		   uint64_t now,
		   void (*fn)(void *arg, const struct limiter_event *ev),
		   void *arg)
{
	uint32_t now_ms = ms_of(now);
	bool done = false;

	for (size_t i = 0; i < count; i++) {
		struct limiter_event ev[BUCKET_SLOTS];
		size_t b = s->next < l->nbuckets ? s->next : 0;
		int nev = 0;

		lock_one(l, b);
		for (int j = 0; j < BUCKET_SLOTS; j++) {
			struct slot *sl = &l->buckets[b].s[j];

			if (sl->rule == 0)
				continue;
			/* quiet_ms is never before the end of a hold, so
			 * a held source is not released here. */
			if ((sl->flags & SLOT_LIMITED) &&
			    ms_reached(now_ms, sl->quiet_ms)) {
				event_fill(&ev[nev++], LIMITER_EV_RELEASED, sl,
					   0);
				slot_end_episode(sl);
			}
			if (sl->tat > now || (sl->flags & SLOT_LIMITED))
				s->live[sl->rule]++;
		}
		unlock_one(l, b);
		/* The callback logs; it runs with no lock held. */
		for (int j = 0; j < nev && fn; j++)
			fn(arg, &ev[j]);

		s->next = b + 1;
		if (s->next == l->nbuckets) {
			size_t used = 0;

			for (size_t id = 0; id < LIMITER_RULE_IDS; id++)
				used += s->live[id];
			memcpy(s->last_live, s->live, sizeof(s->live));
			memset(s->live, 0, sizeof(s->live));
			s->last_used = used;
			s->next = 0;
			done = true;
		}
	}
	return done;
}

void limiter_forget(struct limiter *l, const bool keep[LIMITER_RULE_IDS])
{
	for (size_t b = 0; b < l->nbuckets; b++) {
		lock_one(l, b);
		for (int j = 0; j < BUCKET_SLOTS; j++) {
			struct slot *sl = &l->buckets[b].s[j];

			if (sl->rule != 0 && !keep[sl->rule])
				memset(sl, 0, sizeof(*sl));
		}
		unlock_one(l, b);
	}
}

bool limiter_walk_part(struct limiter *l,
		       const struct limiter_rule *const rules[LIMITER_RULE_IDS],
		       uint64_t now, size_t *next, size_t count,
		       void (*fn)(void *arg, const struct limiter_entry *e),
		       void *arg)
{
	size_t b = *next,
	       end = b + count < l->nbuckets ? b + count : l->nbuckets;

	for (; b < end; b++) {
		struct limiter_entry e[BUCKET_SLOTS];
		int n = 0;

		lock_one(l, b);
		for (int j = 0; j < BUCKET_SLOTS; j++) {
			const struct slot *sl = &l->buckets[b].s[j];
			const struct limiter_rule *r;

			if (sl->rule == 0 || !(sl->flags & SLOT_LIMITED))
				continue;
			r = rules[sl->rule];
			e[n].rule = sl->rule;
			e[n].family = sl->family;
			e[n].level = sl->level;
			e[n].held = r && slot_held(sl, r->rate.tau, now);
			e[n].drops = sl->drops;
			e[n].key = sl->key;
			n++;
		}
		unlock_one(l, b);
		for (int j = 0; j < n; j++)
			fn(arg, &e[j]);
	}
	*next = b;
	return b == l->nbuckets;
}

void limiter_walk(struct limiter *l,
		  const struct limiter_rule *const rules[LIMITER_RULE_IDS],
		  uint64_t now,
		  void (*fn)(void *arg, const struct limiter_entry *e),
		  void *arg)
{
	size_t next = 0;

	limiter_walk_part(l, rules, now, &next, l->nbuckets, fn, arg);
}

/*
 * Whether a slot's episode goes on at now: one whose quiet time has come
 * has ended, though no check or sweep has said so yet.
 */
static bool slot_in_episode(const struct slot *s, const struct limiter_rule *r,
			    uint64_t now)
{
	return (s->flags & SLOT_LIMITED) &&
	       (!ms_reached(ms_of(now), s->quiet_ms) ||
		slot_held(s, r->rate.tau, now));
}

/* What a slot says of its source at now, for people. */
static void slot_state(const struct slot *s, const struct limiter_rule *r,
		       uint64_t now, struct limiter_state *st)
{
	uint32_t now_ms = ms_of(now);

	memset(st, 0, sizeof(*st));
	st->rule = s->rule;
	st->family = s->family;
	st->key = s->key;
	st->level = s->level;
	st->drops = s->drops;
	st->limited = slot_in_episode(s, r, now);
	st->held = slot_held(s, r->rate.tau, now);
	st->backlog = s->tat > now ? s->tat - now : 0;
	if (st->held)
		st->hold_left = s->tat - r->rate.tau - now;
	if (st->limited) {
		st->limited_for = (uint64_t)(uint32_t)(now_ms - s->episode_ms) *
				  NS_PER_MS;
		if (!ms_reached(now_ms, s->quiet_ms))
			st->quiet_left =
				(uint64_t)(uint32_t)(s->quiet_ms - now_ms) *
				NS_PER_MS;
	}
}

/* The operator's release: the episode ends, the bucket is full. */
static void slot_release(struct slot *s, uint64_t now)
{
	slot_end_episode(s);
	s->tat = now;
}

int limiter_lookup(struct limiter *l, const struct limiter_rule *r, int family,
		   uint64_t key, uint64_t now, struct limiter_state *st)
{
	struct slot *s;
	size_t b1, b2;

	if (r->id == 0)
		return -ENOENT;
	candidates(l, key, r->id, (uint8_t)family, &b1, &b2);
	lock_two(l, b1, b2);
	s = slot_find(l, b1, b2, key, r->id, (uint8_t)family);
	if (s != NULL)
		slot_state(s, r, now, st);
	unlock_two(l, b1, b2);
	return s != NULL ? 0 : -ENOENT;
}

int limiter_release(struct limiter *l, const struct limiter_rule *r, int family,
		    uint64_t key, uint64_t now, struct limiter_state *was)
{
	struct slot *s;
	size_t b1, b2;
	int rc = -ENOENT;

	if (r->id == 0)
		return -ENOENT;
	candidates(l, key, r->id, (uint8_t)family, &b1, &b2);
	lock_two(l, b1, b2);
	s = slot_find(l, b1, b2, key, r->id, (uint8_t)family);
	if (s != NULL) {
		slot_state(s, r, now, was);
		rc = -EALREADY;
		if (slot_in_episode(s, r, now)) {
			slot_release(s, now);
			rc = 0;
		}
	}
	unlock_two(l, b1, b2);
	return rc;
}

size_t limiter_scan(struct limiter *l, const struct limiter_rule *r, int family,
		    uint64_t key, uint64_t mask, uint64_t now, bool release,
		    void (*fn)(void *arg, const struct limiter_state *st),
		    void *arg)
{
	size_t n = 0;

	if (r->id == 0)
		return 0;
	for (size_t b = 0; b < l->nbuckets; b++) {
		struct limiter_state st[BUCKET_SLOTS];
		int k = 0;

		lock_one(l, b);
		for (int j = 0; j < BUCKET_SLOTS; j++) {
			struct slot *s = &l->buckets[b].s[j];
			bool limited;

			if (s->rule != r->id || s->family != (uint8_t)family ||
			    (s->key & mask) != key)
				continue;
			limited = slot_in_episode(s, r, now);
			if (release ? !limited : !(limited || s->tat > now))
				continue;
			slot_state(s, r, now, &st[k++]);
			if (release)
				slot_release(s, now);
		}
		unlock_one(l, b);
		for (int j = 0; j < k; j++)
			fn(arg, &st[j]);
		n += (size_t)k;
	}
	return n;
}
