/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel holds' bookkeeping.
 *
 * A rule's drops are counted by its accounting objects (nfacct.h), one
 * per family, that its kernel rule adds to: their counts only grow, so
 * the rule's drops since the last read are the difference with what that
 * read saw, exact even for the entries that timed out in between.
 *
 * An episode is told from its entry's counters, which only grow while
 * the entry lives (each hold starts its entry at 0): what it dropped
 * since the last read is the difference with what that read saw, all of
 * it for an entry the last read did not see (added since), and all of it
 * again when the count went down (the entry ended and came back).  The
 * table of what was seen is open addressing over (rule id, family,
 * prefix), sized for every entry the sets can hold (at most
 * HOLDS_TABLE_MAX slots), and rebuilt after each read with the entries
 * that are still there, so it never fills with holds that ended.  Each
 * build is a generation: a slot stamped with another is free, so a read
 * costs the entries there are, not the table's megabytes.
 */
#include "holds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "nfacct.h"
#include "prefilter.h"

#define HOLDS_TABLE_MAX (1u << 22) /* slots of the table of counters */
#define SET_TIMEOUT 3600 /* a set's default; every add gives its own */
#define LEVEL_TAG "dnsrl level "
#define SETS_LISTED_MAX 1024 /* sets a removal looks at */

/* A kernel-hold rule, by rule id. */
struct hrule {
	bool on;
	char set[2][KSET_NAME_MAX + 1]; /* IPv4, IPv6 */
	uint8_t plen[2];		/* its prefixes */
	const struct limiter_rule *lim;
	uint64_t acct[2]; /* its accounting objects' counts last read */
	bool based[2];	  /* ... once read */
};

/* What a read (or an add) saw of an entry. */
struct seen {
	uint64_t key;
	uint64_t packets;
	uint32_t until; /* s of the monotonic clock when it ends; 0: gone (a
			   release; the slot stays, for the probes past it) */
	uint32_t gen;	/* the table's generation: a slot of another is free */
	uint8_t rule;
	uint8_t family;
	uint8_t level;
};

struct pending {
	uint64_t key;
	uint64_t hold; /* ns */
	uint8_t rule, family, level;
};

struct holds {
	struct kset *k;
	struct nfacct *acct;
	struct hrule rule[LIMITER_RULE_IDS];
	struct pending pending[HOLDS_PENDING];
	size_t npending;
	struct seen *seen, *spare;	    /* capacity slots each */
	uint32_t gen_seen, gen_spare, gens; /* their generations, the last */
	size_t capacity;		    /* a power of two, or 0 */
	bool rebased;			    /* the table was remade: no base */
	struct holds_stats st;
	/* asked before a hold goes into the kernel (holds_set_filter) */
	bool (*keep_out)(void *arg, unsigned rule, int family, uint64_t key);
	void *keep_out_arg;
	/* one read's state */
	struct limiter *l;
	struct stats *s;
	uint64_t now;
	unsigned cur;
	int fam;
	bool restoring;
};

bool holds_rule_can(const struct config *cfg, size_t i, char *why,
		    size_t whylen)
{
	const struct config_rule *r = &cfg->rules[i];
	struct prefilter_prog prog;
	const char *no = NULL;

	if (r->kind != CONFIG_RULE_QUERY)
		no = "an answer rule";
	else if (!r->kernel_hold)
		no = "kernel-hold no";
	else if (r->hold_down == 0)
		no = "no hold-down";
	else if (r->action != CONFIG_ACTION_DROP)
		no = "its action is not drop";
	else if (r->nqnames != 0 || r->nqtypes == 0)
		no = "a name is not matched in the kernel";
	else if (prefilter_compile_rule(r, AF_INET, &prog, NULL, 0) < 0 ||
		 prefilter_compile_rule(r, AF_INET6, &prog, NULL, 0) < 0)
		no = "too many qtypes for a kernel program";
	for (size_t j = 0; no == NULL && j < i; j++) {
		const struct config_rule *e = &cfg->rules[j];
		bool shared = e->nqtypes == 0;

		if (e->kind != CONFIG_RULE_QUERY ||
		    e->action == CONFIG_ACTION_LOG)
			continue;
		for (size_t a = 0; a < e->nqtypes && !shared; a++)
			for (size_t b = 0; b < r->nqtypes && !shared; b++)
				shared = e->qtypes[a] == r->qtypes[b];
		if (shared) {
			if (whylen > 0)
				snprintf(why, whylen,
					 "rule %s before it decides some of "
					 "its queries first",
					 e->name);
			return false;
		}
	}
	if (no != NULL && whylen > 0)
		snprintf(why, whylen, "%s", no);
	return no == NULL;
}

/* FNV-1a, for the names too long to stand whole. */
static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

void holds_set_name(const char *rule, int family, char buf[KSET_NAME_MAX + 1])
{
	const char *f = family == AF_INET6 ? "6" : "4";
	size_t room = KSET_NAME_MAX - strlen(HOLDS_SET_PREFIX) - 2;

	if (strlen(rule) <= room) {
		snprintf(buf, KSET_NAME_MAX + 1, "%s%s-%s", HOLDS_SET_PREFIX,
			 rule, f);
		return;
	}
	/* the name cut, a tilde and 4 hex digits of the whole name */
	snprintf(buf, KSET_NAME_MAX + 1, "%s%.*s~%04x-%s", HOLDS_SET_PREFIX,
		 (int)(room - 5), rule, fnv1a(rule) & 0xffff, f);
}

int holds_make_sets(struct kset *k, const struct config *cfg, char *err,
		    size_t errlen)
{
	char name[KSET_NAME_MAX + 1];
	struct nfacct *acct = NULL;
	int rc = 0;

	for (size_t i = 0; i < cfg->nrules && rc == 0; i++) {
		if (!holds_rule_can(cfg, i, NULL, 0))
			continue;
		if (acct == NULL && (acct = nfacct_open()) == NULL) {
			rc = -errno;
			snprintf(err, errlen, "counters: %s", strerror(errno));
			break;
		}
		for (int f = 0; f < 2 && rc == 0; f++) {
			int fam = f ? AF_INET6 : AF_INET;

			holds_set_name(cfg->rules[i].name, fam, name);
			rc = nfacct_make(acct, name);
			if (rc < 0) {
				snprintf(err, errlen, "counter %s: %s", name,
					 strerror(-rc));
				break;
			}
			rc = kset_create(k, name, fam, cfg->kernel_hold_max,
					 SET_TIMEOUT);
			if (rc == -EEXIST) {
				snprintf(err, errlen,
					 "set %s exists with other properties "
					 "(another kernel-hold-max?): run "
					 "dnsrl --remove-rules, then again",
					 name);
			} else if (rc < 0) {
				snprintf(err, errlen, "set %s: %s", name,
					 kset_strerror(rc));
			}
		}
	}
	nfacct_close(acct);
	return rc;
}

struct names {
	char (*name)[KSET_NAME_MAX + 1];
	size_t n;
};

static int ours(void *arg, const char *name)
{
	struct names *s = arg;

	if (strncmp(name, HOLDS_SET_PREFIX, strlen(HOLDS_SET_PREFIX)) == 0 &&
	    s->n < SETS_LISTED_MAX)
		snprintf(s->name[s->n++], KSET_NAME_MAX + 1, "%s", name);
	return 0;
}

/* What a removal sweeps: the sets, then their accounting objects. */
struct kind {
	const char *what;
	int (*names)(void *h, int (*fn)(void *arg, const char *name),
		     void *arg);
	int (*destroy)(void *h, const char *name);
	const char *(*strerror)(int rc);
};

static int set_names(void *h, int (*fn)(void *, const char *), void *arg)
{
	return kset_names(h, fn, arg);
}

static int set_destroy(void *h, const char *name)
{
	return kset_destroy(h, name);
}

static int acct_names(void *h, int (*fn)(void *, const char *), void *arg)
{
	return nfacct_names(h, fn, arg);
}

static int acct_destroy(void *h, const char *name)
{
	return nfacct_delete(h, name);
}

static const char *errno_text(int rc)
{
	return strerror(-rc);
}

/* Removes the objects of kind k (handle h) that are ours, but keep[]. */
static int sweep(const struct kind *k, void *h, const char *const *keep,
		 char *err, size_t errlen)
{
	struct names s = {.name = calloc(SETS_LISTED_MAX, KSET_NAME_MAX + 1)};
	int rc;

	if (s.name == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = k->names(h, ours, &s);
	for (size_t i = 0; rc == 0 && i < s.n; i++) {
		bool kept = false;

		for (size_t j = 0; keep != NULL && keep[j] != NULL; j++)
			kept |= strcmp(keep[j], s.name[i]) == 0;
		if (kept)
			continue;
		rc = k->destroy(h, s.name[i]);
		if (rc == -EBUSY || rc == -ENOENT)
			rc = 0;
		if (rc < 0)
			snprintf(err, errlen, "%s %s: %s", k->what, s.name[i],
				 k->strerror(rc));
	}
	if (rc < 0 && err[0] == '\0')
		snprintf(err, errlen, "the %ss: %s", k->what, k->strerror(rc));
	free(s.name);
	return rc;
}

int holds_remove_sets(struct kset *k, const char *const *keep, char *err,
		      size_t errlen)
{
	static const struct kind sets = {"set", set_names, set_destroy,
					 kset_strerror};
	static const struct kind accts = {"counter", acct_names, acct_destroy,
					  errno_text};
	struct nfacct *acct;
	int rc = sweep(&sets, k, keep, err, errlen);

	if (rc < 0)
		return rc;
	acct = nfacct_open();
	if (acct == NULL) {
		rc = -errno;
		snprintf(err, errlen, "counters: %s", strerror(errno));
		return rc;
	}
	rc = sweep(&accts, acct, keep, err, errlen);
	nfacct_close(acct);
	return rc;
}

struct holds *holds_new(struct kset *k)
{
	struct holds *h = calloc(1, sizeof(*h));
	int err;

	if (h == NULL)
		return NULL;
	h->acct = nfacct_open();
	if (h->acct == NULL) {
		err = errno;
		free(h);
		errno = err;
		return NULL;
	}
	h->k = k;
	return h;
}

void holds_free(struct holds *h)
{
	if (h == NULL)
		return;
	kset_close(h->k);
	nfacct_close(h->acct);
	free(h->seen);
	free(h->spare);
	free(h);
}

static size_t slot_of(const struct holds *h, unsigned rule, int fam,
		      uint64_t key)
{
	uint64_t x = key ^ (uint64_t)rule << 56 ^ (uint64_t)fam << 48;

	/* a multiplicative hash: the key is not chosen by an attacker
	 * here, the kernel's entries are the daemon's own */
	x *= UINT64_C(0x9e3779b97f4a7c15);
	return (size_t)(x >> 20) & (h->capacity - 1);
}

static uint32_t gen_of(const struct holds *h, const struct seen *t)
{
	return t == h->seen ? h->gen_seen : h->gen_spare;
}

/* Whether slot e of table t holds an entry (else it is free). */
static bool used(const struct holds *h, const struct seen *t,
		 const struct seen *e)
{
	return e->gen == gen_of(h, t);
}

/* The slot of (rule, fam, key) in t, or the free one where it goes;
 * NULL when the table is full. */
static struct seen *find(const struct holds *h, struct seen *t, unsigned rule,
			 int fam, uint64_t key)
{
	size_t i = slot_of(h, rule, fam, key);
	uint32_t g = gen_of(h, t);

	for (size_t n = 0; n < h->capacity; n++) {
		struct seen *e = &t[i];

		if (e->gen != g ||
		    (e->rule == rule && e->family == fam && e->key == key))
			return e;
		i = (i + 1) & (h->capacity - 1);
	}
	return NULL;
}

int holds_configure(struct holds *h, const struct config *cfg,
		    const struct policy *p)
{
	const struct limiter_rule *lim[LIMITER_RULE_IDS];
	size_t want = 0, cap = 16, keep = 0;

	struct hrule was[LIMITER_RULE_IDS];

	policy_limiter_rules(p, lim);
	memcpy(was, h->rule, sizeof(was));
	memset(h->rule, 0, sizeof(h->rule));
	for (size_t i = 0; i < policy_nrules(p); i++) {
		unsigned id = policy_rule_id(p, i);
		const struct config_rule *r = policy_rule_by_id(p, id);
		struct hrule *hr = &h->rule[id];
		size_t ci = 0;

		while (ci < cfg->nrules &&
		       strcmp(cfg->rules[ci].name, r->name) != 0)
			ci++;
		if (ci == cfg->nrules || !holds_rule_can(cfg, ci, NULL, 0))
			continue;
		hr->on = true;
		hr->lim = lim[id];
		hr->plen[0] = r->ipv4_prefix;
		hr->plen[1] = r->ipv6_prefix;
		holds_set_name(r->name, AF_INET, hr->set[0]);
		holds_set_name(r->name, AF_INET6, hr->set[1]);
		want += 2 * (size_t)cfg->kernel_hold_max;
		/* a rule that kept its counters keeps what was read of them */
		for (unsigned o = 1; o < LIMITER_RULE_IDS; o++)
			for (int f = 0; f < 2; f++)
				if (was[o].on &&
				    strcmp(was[o].set[f], hr->set[f]) == 0) {
					hr->acct[f] = was[o].acct[f];
					hr->based[f] = was[o].based[f];
				}
	}
	/* forget what no kernel-hold rule waits for any more */
	for (size_t i = 0; i < h->npending; i++)
		if (h->rule[h->pending[i].rule].on)
			h->pending[keep++] = h->pending[i];
	h->npending = keep;
	while (cap < 2 * want && cap < HOLDS_TABLE_MAX)
		cap *= 2;
	if (want > 0 && cap != h->capacity) {
		struct seen *a = calloc(cap, sizeof(*a));
		struct seen *b = calloc(cap, sizeof(*b));

		if (a == NULL || b == NULL) {
			free(a);
			free(b);
			return -ENOMEM;
		}
		/* the counters read so far are the base of the next read
		 * again: what the kernel dropped meanwhile goes uncounted,
		 * once */
		free(h->seen);
		free(h->spare);
		h->seen = a;
		h->spare = b;
		h->capacity = cap;
		h->rebased = true;
		/* calloc's zeros are of no generation in use */
		if (++h->gens == 0)
			h->gens = 1;
		h->gen_seen = h->gens;
	}
	return 0;
}

void holds_held(struct holds *h, const struct limiter_event *ev)
{
	struct pending *p;

	if (!h->rule[ev->rule].on || ev->kind != LIMITER_EV_HELD)
		return;
	if (h->npending == HOLDS_PENDING) {
		h->st.lost++;
		return;
	}
	p = &h->pending[h->npending++];
	p->key = ev->key;
	p->hold = ev->hold;
	p->rule = ev->rule;
	p->family = ev->family;
	p->level = ev->level;
}

/* The kernel entry of a prefix: its address from the table's key. */
static void entry_of(struct kset_entry *e, int family, uint64_t key,
		     unsigned plen)
{
	memset(e, 0, sizeof(*e));
	if (family == 4) {
		e->family = AF_INET;
		for (int i = 0; i < 4; i++)
			e->addr[i] = (uint8_t)(key >> (24 - 8 * i));
	} else {
		e->family = AF_INET6;
		for (int i = 0; i < 8; i++)
			e->addr[i] = (uint8_t)(key >> (56 - 8 * i));
	}
	e->plen = (uint8_t)plen;
}

static unsigned level_of(const char *comment)
{
	unsigned v = 0;

	if (strncmp(comment, LEVEL_TAG, strlen(LEVEL_TAG)) != 0)
		return 0;
	for (const char *c = comment + strlen(LEVEL_TAG);
	     *c >= '0' && *c <= '9' && v < 64; c++)
		v = v * 10 + (unsigned)(*c - '0');
	return v;
}

/* The monotonic second at which a hold of secs from now ends. */
static uint32_t until_of(uint64_t now, uint64_t secs)
{
	uint64_t u = now / CLOCK_NS_PER_S + secs;

	return u > UINT32_MAX ? UINT32_MAX : u == 0 ? 1 : (uint32_t)u;
}

/* An entry the kernel took: its counters start at 0. */
static void seen_added(struct holds *h, unsigned rule, int fam, uint64_t key,
		       uint32_t until, unsigned level)
{
	struct seen *s = h->capacity ? find(h, h->seen, rule, fam, key) : NULL;

	if (s == NULL)
		return;
	s->gen = h->gen_seen;
	s->rule = (uint8_t)rule;
	s->family = (uint8_t)fam;
	s->key = key;
	s->packets = 0;
	s->until = until;
	s->level = (uint8_t)level;
}

/* The pending holds of rule and fam whose key, masked, is key: dropped. */
static void forget_pending(struct holds *h, unsigned rule, int fam,
			   uint64_t key, uint64_t mask)
{
	size_t keep = 0;

	for (size_t i = 0; i < h->npending; i++) {
		const struct pending *p = &h->pending[i];

		if (p->rule == rule && p->family == fam &&
		    (p->key & mask) == key)
			continue;
		h->pending[keep++] = *p;
	}
	h->npending = keep;
}

void holds_flush(struct holds *h, uint64_t now)
{
	static struct kset_entry e[HOLDS_PENDING];
	static int rc[HOLDS_PENDING];

	/* one batch per set: the pending holds of one rule and family */
	while (h->npending > 0) {
		unsigned rule = h->pending[0].rule;
		int fam = h->pending[0].family;
		const struct hrule *hr = &h->rule[rule];
		size_t n = 0, keep = 0;

		for (size_t i = 0; i < h->npending; i++) {
			const struct pending *p = &h->pending[i];
			uint64_t secs;

			if (p->rule != rule || p->family != fam) {
				h->pending[keep++] = *p;
				continue;
			}
			/* released or let through since it began */
			if (h->keep_out != NULL &&
			    h->keep_out(h->keep_out_arg, rule, fam, p->key))
				continue;
			entry_of(&e[n], fam, p->key, hr->plen[fam == 6]);
			secs = (p->hold + CLOCK_NS_PER_S - 1) / CLOCK_NS_PER_S;
			e[n].timeout = secs > KSET_MAX_TIMEOUT
					       ? KSET_MAX_TIMEOUT
				       : secs < 1 ? 1
						  : (uint32_t)secs;
			snprintf(e[n].comment, sizeof(e[n].comment),
				 LEVEL_TAG "%u", p->level);
			n++;
		}
		h->npending = keep;
		kset_add_many(h->k, hr->set[fam == 6], e, n, rc);
		for (size_t i = 0; i < n; i++) {
			if (rc[i] == -ENOSPC) {
				h->st.full++;
				continue;
			}
			if (rc[i] < 0) {
				h->st.failed++;
				continue;
			}
			h->st.added++;
			seen_added(h, rule, fam,
				   limiter_key(fam, e[i].addr, e[i].plen),
				   until_of(now, e[i].timeout),
				   level_of(e[i].comment));
		}
	}
}

/* One entry of a set, read back. */
static int entry_seen(void *arg, const struct kset_entry *e)
{
	struct holds *h = arg;
	const struct hrule *hr = &h->rule[h->cur];
	int fam = h->fam;
	uint64_t key, delta;
	struct seen *old, *now;
	struct limiter_counters c = {0};

	if (e->plen != hr->plen[fam == 6])
		return 0; /* not one of ours: another prefix length */
	key = limiter_key(fam, e->addr, e->plen);
	if (h->restoring) {
		if (e->timeout > 0 &&
		    limiter_restore(h->l, hr->lim, fam, key,
				    level_of(e->comment),
				    (uint64_t)e->timeout * CLOCK_NS_PER_S,
				    h->now, &c) == 0)
			h->st.restored++;
		delta = 0;
	} else {
		old = find(h, h->seen, h->cur, fam, key);
		if (old != NULL && used(h, h->seen, old))
			delta = old->packets <= e->packets
					? e->packets - old->packets
					: e->packets; /* a new entry */
		else /* added since, unless the table was remade */
			delta = h->rebased ? 0 : e->packets;
	}
	now = find(h, h->spare, h->cur, fam, key);
	if (now != NULL) {
		now->gen = h->gen_spare;
		now->rule = (uint8_t)h->cur;
		now->family = (uint8_t)fam;
		now->key = key;
		now->packets = e->packets;
		/* 0: an entry that never ends (another tool's) */
		now->until = e->timeout > 0 ? until_of(h->now, e->timeout)
					    : UINT32_MAX;
		now->level = (uint8_t)level_of(e->comment);
	}
	if (delta == 0 || h->restoring)
		return 0;
	/* the episode goes on; a hold the table lost comes back */
	if (!limiter_persist(h->l, hr->lim, fam, key,
			     delta > UINT32_MAX ? UINT32_MAX : (uint32_t)delta,
			     h->now) &&
	    e->timeout > 0)
		limiter_restore(h->l, hr->lim, fam, key, level_of(e->comment),
				(uint64_t)e->timeout * CLOCK_NS_PER_S, h->now,
				&c);
	return 0;
}

/*
 * What the kernel rule of rule id dropped for family f since the last
 * read, to the rule's counters (the first read only sets the base: what
 * came before is a run of the daemon that counted it, or none).
 */
static void count_drops(struct holds *h, struct hrule *hr, unsigned id, int f)
{
	uint64_t n, delta;

	if (nfacct_get(h->acct, hr->set[f], &n) < 0) {
		h->st.poll_errors++;
		return;
	}
	delta = hr->based[f] && n >= hr->acct[f] ? n - hr->acct[f] : 0;
	hr->acct[f] = n;
	hr->based[f] = true;
	if (delta == 0 || h->restoring)
		return;
	h->st.dropped += delta;
	if (h->s != NULL) {
		uint64_t *c = h->s->rule[id];

		c[STATS_R_MATCHED] += delta;
		c[STATS_R_DROPPED] += delta;
		c[STATS_R_HELD] += delta;
	}
}

/* Reads every set: counters (poll) or holds (restore). */
static int read_sets(struct holds *h, struct limiter *l, struct stats *s,
		     uint64_t now, bool restoring)
{
	struct seen *t;
	uint32_t g;
	int rc = 0;

	if (h->capacity == 0)
		return 0;
	h->l = l;
	h->s = s;
	h->now = now;
	h->restoring = restoring;
	/* the spare table emptied by a new generation, not by clearing it:
	 * it is megabytes, read every second */
	if (++h->gens == 0) {
		memset(h->seen, 0, h->capacity * sizeof(*h->seen));
		memset(h->spare, 0, h->capacity * sizeof(*h->spare));
		h->gen_seen = 1; /* nothing seen: the table was remade */
		h->gens = 2;
		h->rebased = true;
	}
	h->gen_spare = h->gens;
	for (unsigned id = 1; id < LIMITER_RULE_IDS; id++) {
		if (!h->rule[id].on)
			continue;
		h->cur = id;
		for (int f = 0; f < 2; f++) {
			int err;

			h->fam = f ? 6 : 4;
			count_drops(h, &h->rule[id], id, f);
			err = kset_list(h->k, h->rule[id].set[f], entry_seen,
					h);
			if (err < 0) {
				h->st.poll_errors++;
				rc = err;
			}
		}
	}
	/* what is no longer listed is gone from the kernel */
	t = h->seen;
	h->seen = h->spare;
	h->spare = t;
	g = h->gen_seen;
	h->gen_seen = h->gen_spare;
	h->gen_spare = g;
	h->rebased = false;
	return rc;
}

void holds_poll(struct holds *h, struct limiter *l, struct stats *s,
		uint64_t now)
{
	read_sets(h, l, s, now, false);
}

int holds_restore(struct holds *h, struct limiter *l, uint64_t now)
{
	uint64_t before = h->st.restored;
	int rc = read_sets(h, l, NULL, now, true);

	return rc < 0 ? rc : (int)(h->st.restored - before);
}

/* A release: the entry is gone, its slot stays for the probes past it. */
static void seen_gone(struct holds *h, unsigned rule, int fam, uint64_t key)
{
	struct seen *s = h->capacity ? find(h, h->seen, rule, fam, key) : NULL;

	if (s != NULL && used(h, h->seen, s)) {
		s->until = 0;
		s->packets = 0;
	}
}

int holds_release(struct holds *h, unsigned rule, int family, uint64_t key)
{
	const struct hrule *hr;
	struct kset_entry e;
	int rc;

	if (rule >= LIMITER_RULE_IDS || !h->rule[rule].on)
		return -ENOENT;
	hr = &h->rule[rule];
	forget_pending(h, rule, family, key, UINT64_MAX);
	entry_of(&e, family, key, hr->plen[family == 6]);
	rc = kset_del(h->k, hr->set[family == 6], &e);
	if (rc == 0) {
		h->st.released++;
		seen_gone(h, rule, family, key);
	}
	return rc;
}

/* The entries a range release gathers from a listing. */
struct gather {
	const struct hrule *hr;
	int fam;
	uint64_t key, mask;
	struct kset_entry *e;
	size_t n, room;
};

static int gather_entry(void *arg, const struct kset_entry *e)
{
	struct gather *g = arg;
	uint64_t key;

	if (e->plen != g->hr->plen[g->fam == 6])
		return 0;
	key = limiter_key(g->fam, e->addr, e->plen);
	if ((key & g->mask) != g->key)
		return 0;
	g->e[g->n] = *e;
	g->e[g->n].comment[0] = '\0';
	/* full: delete these, then list again */
	return ++g->n == g->room ? 1 : 0;
}

int holds_release_range(struct holds *h, unsigned rule, int family,
			uint64_t key, uint64_t mask,
			void (*fn)(void *arg, uint64_t key), void *arg)
{
	static struct kset_entry e[HOLDS_PENDING];
	static int rc[HOLDS_PENDING];
	struct gather g = {.e = e,
			   .room = HOLDS_PENDING,
			   .fam = family,
			   .key = key,
			   .mask = mask};
	const char *set;
	int done = 0, err;

	if (rule >= LIMITER_RULE_IDS || !h->rule[rule].on)
		return -ENOENT;
	g.hr = &h->rule[rule];
	set = g.hr->set[family == 6];
	forget_pending(h, rule, family, key, mask);
	/* a pass deletes what it gathered; a full one is followed by
	 * another, until a listing finds less than a batch */
	do {
		g.n = 0;
		err = kset_list(h->k, set, gather_entry, &g);
		if (err < 0)
			return err;
		if (g.n == 0)
			break;
		err = kset_del_many(h->k, set, e, g.n, rc);
		if (err < 0)
			return err;
		for (size_t i = 0; i < g.n; i++) {
			uint64_t k = limiter_key(family, e[i].addr, e[i].plen);

			if (rc[i] != 0)
				continue;
			h->st.released++;
			seen_gone(h, rule, family, k);
			done++;
			if (fn != NULL)
				fn(arg, k);
		}
	} while (g.n == g.room);
	return done;
}

int holds_put(struct holds *h, unsigned rule, int family, uint64_t key,
	      unsigned level, uint64_t hold, uint64_t now)
{
	const struct hrule *hr;
	struct kset_entry e;
	uint64_t secs = (hold + CLOCK_NS_PER_S - 1) / CLOCK_NS_PER_S;
	int rc;

	if (rule >= LIMITER_RULE_IDS || !h->rule[rule].on)
		return -ENOENT;
	hr = &h->rule[rule];
	forget_pending(h, rule, family, key, UINT64_MAX);
	entry_of(&e, family, key, hr->plen[family == 6]);
	e.timeout = secs > KSET_MAX_TIMEOUT ? KSET_MAX_TIMEOUT
		    : secs < 1		    ? 1
					    : (uint32_t)secs;
	snprintf(e.comment, sizeof(e.comment), LEVEL_TAG "%u", level);
	rc = kset_add(h->k, hr->set[family == 6], &e);
	if (rc == -ENOSPC)
		h->st.full++;
	else if (rc < 0)
		h->st.failed++;
	if (rc < 0)
		return rc;
	h->st.added++;
	seen_added(h, rule, family, key, until_of(now, e.timeout), level);
	return 0;
}

int holds_lookup(const struct holds *h, unsigned rule, int family, uint64_t key,
		 uint64_t now, struct holds_entry *out)
{
	const struct seen *s;
	uint64_t now_s = now / CLOCK_NS_PER_S;

	if (rule >= LIMITER_RULE_IDS || !h->rule[rule].on || h->capacity == 0)
		return -ENOENT;
	s = find(h, h->seen, rule, family, key);
	if (s == NULL || !used(h, h->seen, s) || s->until == 0 ||
	    s->until <= now_s)
		return -ENOENT;
	out->left = s->until == UINT32_MAX
			    ? 0
			    : (uint64_t)(s->until - now_s) * CLOCK_NS_PER_S;
	out->packets = s->packets;
	out->level = s->level;
	return 0;
}

const char *holds_set_of(const struct holds *h, unsigned rule, int family)
{
	if (h == NULL || rule >= LIMITER_RULE_IDS || !h->rule[rule].on)
		return NULL;
	return h->rule[rule].set[family == 6];
}

void holds_set_filter(struct holds *h,
		      bool (*keep_out)(void *arg, unsigned rule, int family,
				       uint64_t key),
		      void *arg)
{
	h->keep_out = keep_out;
	h->keep_out_arg = arg;
}

void holds_get_stats(const struct holds *h, struct holds_stats *out)
{
	*out = h->st;
}
