/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Runtime control: show, release, hold, allow (see steer.h).
 *
 * A prefix meets each rule at the rule's own aggregation: an address (or
 * a prefix at least as long as the rule's) falls in one bucket, the one
 * the rule keys it by; a wider prefix covers many, which are found by a
 * walk of the table (and, for the kernel, a listing of the rule's set).
 * Answers are for people first: every line says what the state is and,
 * where it matters, what it was.
 */
#include "steer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"

#define TOKENS_MAX 5
#define LINE_MAX_CHARS 512
#define TEXT_MAX 256

/* A rule as a command meets it. */
struct trule {
	const struct config_rule *cr;
	const struct limiter_rule *lim;
	unsigned id;
};

/* Where a prefix falls under one rule. */
struct target {
	struct trule r;
	int fam;	 /* 4 or 6 */
	unsigned plen;	 /* the rule's prefix length for fam */
	bool range;	 /* the prefix is wider than the rule's buckets */
	uint64_t key;	 /* the bucket; for a range, the prefix's own bits */
	uint64_t mask;	 /* of the key bits a range fixes */
	char text[64];	 /* the bucket or the range, as prefix text */
	const char *set; /* the rule's kernel set, or NULL */
};

/* One request under way. */
struct req {
	const struct steer_ctx *c;
	const struct steer_who *who;
	FILE *out;
	const char *cmd;	/* "release 198.51.100.7", for the log */
	struct config_prefix p; /* what was asked about */
	char ptext[64];		/* it as text */
	const struct limiter_rule *lims[LIMITER_RULE_IDS];
	unsigned changed; /* sources and entries changed */
	bool quiet;	  /* say only what changed (allow) */
};

static int fail(FILE *out, const char *fmt, ...) LOG_PRINTF(2, 3);

/* The first line of out is the error the client sees. */
static int fail(FILE *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	return -EINVAL;
}

/*
 * "450ms", "2.5s", "1m30s", "2d4h": rounded up to the unit shown (a
 * tenth of a second below 10 s).
 */
static void dur_text(uint64_t ns, char *buf, size_t len)
{
	static const struct {
		const char *unit;
		uint64_t s;
	} parts[] = {{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}};
	uint64_t s;
	size_t n = 0;

	if (ns < CLOCK_NS_PER_S) {
		snprintf(buf, len, "%llums",
			 (unsigned long long)((ns + CLOCK_NS_PER_MS - 1) /
					      CLOCK_NS_PER_MS));
		return;
	}
	if (ns < 10 * CLOCK_NS_PER_S) {
		uint64_t ds =
			(ns + CLOCK_NS_PER_S / 10 - 1) / (CLOCK_NS_PER_S / 10);

		if (ds % 10 != 0) {
			snprintf(buf, len, "%llu.%llus",
				 (unsigned long long)(ds / 10),
				 (unsigned long long)(ds % 10));
			return;
		}
	}
	s = (ns + CLOCK_NS_PER_S - 1) / CLOCK_NS_PER_S;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		uint64_t v = s / parts[i].s;
		int w;

		if (v == 0)
			continue;
		s -= v * parts[i].s;
		w = snprintf(buf + n, len - n, "%llu%s", (unsigned long long)v,
			     parts[i].unit);
		if (w < 0 || (size_t)w >= len - n)
			return;
		n += (size_t)w;
	}
}

/* The wall-clock time ns from now: "14:03:22", or with its date. */
static void until_text(const struct steer_ctx *c, uint64_t ns, char *buf,
		       size_t len)
{
	time_t t =
		(time_t)((c->real_ms + (int64_t)(ns / CLOCK_NS_PER_MS)) / 1000);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, len,
		     ns < 20 * 3600 * CLOCK_NS_PER_S ? "%H:%M:%S"
						     : "%Y-%m-%d %H:%M:%S",
		     &tm) == 0)
		snprintf(buf, len, "?");
}

static void prefix_text(const struct config_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family, p->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->len);
}

/* A rule's bucket (family 4 or 6, key, length) as a prefix. */
static void prefix_of_key(int fam, uint64_t key, unsigned plen,
			  struct config_prefix *p)
{
	memset(p, 0, sizeof(*p));
	p->family = fam == 6 ? AF_INET6 : AF_INET;
	p->len = (uint8_t)plen;
	if (fam == 4) {
		for (int i = 0; i < 4; i++)
			p->addr[i] = (uint8_t)(key >> (24 - 8 * i));
		return;
	}
	for (int i = 0; i < 8; i++)
		p->addr[i] = (uint8_t)(key >> (56 - 8 * i));
}

/* The key bits a prefix of len fixes, in a family's key space. */
static uint64_t key_mask(int fam, unsigned len)
{
	if (len == 0)
		return 0;
	if (fam == 4)
		return (UINT64_C(0xffffffff) << (32 - len)) &
		       UINT64_C(0xffffffff);
	return UINT64_MAX << (64 - len);
}

static const char *kind_word(const struct config_rule *cr)
{
	return cr->kind == CONFIG_RULE_ANSWER ? "answer-rule" : "rule";
}

static struct trule rule_at(const struct req *q, size_t i)
{
	struct trule r;

	r.id = policy_rule_id(q->c->policy, i);
	r.cr = policy_rule_by_id(q->c->policy, r.id);
	r.lim = q->lims[r.id];
	return r;
}

/* The rule named name, or an error on out. */
static int rule_named(const struct req *q, const char *verb, const char *name,
		      struct trule *r)
{
	char esc[CONFIG_NAME_MAX * 4 + 8],
		list[CONFIG_RULES_MAX * (CONFIG_NAME_MAX + 2)];
	size_t n = 0, nr = policy_nrules(q->c->policy);

	for (size_t i = 0; i < nr; i++) {
		*r = rule_at(q, i);
		if (strcmp(r->cr->name, name) == 0)
			return 0;
	}
	list[0] = '\0';
	for (size_t i = 0; i < nr; i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
				      i > 0 ? ", " : "",
				      rule_at(q, i).cr->name);
	log_escape(esc, sizeof(esc), (const uint8_t *)name, strlen(name));
	return fail(q->out, "%s: no rule '%s'; %s%s", verb, esc,
		    nr > 0 ? "the rules are: " : "there is no rule", list);
}

static struct target target_of(const struct req *q, const struct trule *r)
{
	struct target t = {.r = *r};
	struct config_prefix b;

	t.fam = q->p.family == AF_INET6 ? 6 : 4;
	t.plen = t.fam == 6 ? r->cr->ipv6_prefix : r->cr->ipv4_prefix;
	t.range = q->p.len < t.plen;
	t.set = holds_set_of(q->c->holds, r->id, t.fam);
	if (t.range) {
		t.key = limiter_key(t.fam, q->p.addr, q->p.len);
		t.mask = key_mask(t.fam, q->p.len);
		snprintf(t.text, sizeof(t.text), "%s", q->ptext);
		return t;
	}
	t.key = limiter_key(t.fam, q->p.addr, t.plen);
	t.mask = UINT64_MAX;
	prefix_of_key(t.fam, t.key, t.plen, &b);
	prefix_text(&b, t.text, sizeof(t.text));
	return t;
}

/* What is left of a rule's source bucket. */
static void bucket_text(const struct config_rule *cr,
			const struct limiter_rule *lim,
			const struct limiter_state *st, char *buf, size_t len)
{
	const struct limiter_rate *r = &lim->rate;
	char d[32];

	if (st->backlog == 0) {
		snprintf(buf, len, "bucket full");
		return;
	}
	dur_text(st->backlog, d, sizeof(d));
	if (st->backlog > r->tau) {
		snprintf(buf, len, "bucket empty, full in %s", d);
	} else if (cr->kind == CONFIG_RULE_QUERY && r->interval > 0) {
		snprintf(buf, len, "bucket %llu of %llu, full in %s",
			 (unsigned long long)((r->tau - st->backlog) /
						      r->interval +
					      1),
			 (unsigned long long)(r->tau / r->interval + 1), d);
	} else {
		snprintf(buf, len, "bucket %llu%%, full in %s",
			 (unsigned long long)(100 *
					      (r->tau + r->interval -
					       st->backlog) /
					      (r->tau + r->interval)),
			 d);
	}
}

/* A source's state, after its prefix: "held, 3s left (level 1); ..." */
static void state_text(const struct trule *r, const struct limiter_state *st,
		       char *buf, size_t len)
{
	const char *unit = r->cr->kind == CONFIG_RULE_ANSWER &&
					   r->cr->bytes_n != 0
				   ? "octets refused"
				   : "refused";
	char a[32], b[32], bucket[96];

	bucket_text(r->cr, r->lim, st, bucket, sizeof(bucket));
	dur_text(st->limited_for, b, sizeof(b));
	if (st->held) {
		dur_text(st->hold_left, a, sizeof(a));
		snprintf(buf, len,
			 "held, %s left, level %u; limited for %s, %u %s", a,
			 st->level, b, st->drops, unit);
	} else if (st->limited) {
		dur_text(st->quiet_left, a, sizeof(a));
		snprintf(buf, len,
			 "limited for %s, %u %s; %s; the episode ends in %s "
			 "without another refusal",
			 b, st->drops, unit, bucket, a);
	} else if (st->backlog > 0) {
		snprintf(buf, len, "not limited; %s", bucket);
	} else {
		snprintf(buf, len, "no state: not limited, bucket full");
	}
}

/* The kernel's entry of a source, as the last read saw it. */
static void kernel_line(const struct req *q, const struct target *t,
			uint64_t key, const char *indent)
{
	struct holds_entry e;
	char d[32];

	if (t->set == NULL)
		return;
	if (holds_lookup(q->c->holds, t->r.id, t->fam, key, q->c->now, &e) <
	    0) {
		fprintf(q->out, "%skernel: not in %s\n", indent, t->set);
		return;
	}
	if (e.left == 0)
		snprintf(d, sizeof(d), "no end");
	else
		dur_text(e.left, d, sizeof(d));
	fprintf(q->out,
		"%skernel: in %s, %s left (level %u), %llu dropped there\n",
		indent, t->set, d, e.level, (unsigned long long)e.packets);
}

/* Whether the configuration judges queries from p at all (serve). */
static bool served(const struct config *cfg, const struct config_prefix *p)
{
	bool any = false;

	for (size_t i = 0; i < cfg->nserve; i++) {
		if (cfg->serve[i].family != p->family)
			continue;
		any = true;
		if (allowlist_prefix_overlap(&cfg->serve[i], p))
			return true;
	}
	return !any;
}

/* The configuration's allow prefix sharing an address with p, or NULL. */
static const struct config_prefix *config_allowed(const struct config *cfg,
						  const struct config_prefix *p)
{
	for (size_t i = 0; i < cfg->nallow; i++)
		if (allowlist_prefix_overlap(&cfg->allow[i], p))
			return &cfg->allow[i];
	return NULL;
}

/* The sources of a range, as a walk of the table gives them. */
struct gathered {
	struct limiter_state st[STEER_LIST_MAX];
	size_t n, total;
	/* release: logged as they come */
	const struct req *q;
	const struct target *t;
	size_t logged;
};

static int by_key(const void *a, const void *b)
{
	const struct limiter_state *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

static void gather(void *arg, const struct limiter_state *st)
{
	struct gathered *g = arg;

	if (g->n < STEER_LIST_MAX)
		g->st[g->n++] = *st;
	g->total++;
}

/* show: one rule. */
static void show_rule(struct req *q, const struct trule *r)
{
	struct target t = target_of(q, r);
	struct limiter_state st;
	struct gathered *g;
	char text[TEXT_MAX], k[64];

	if (!t.range) {
		if (limiter_lookup(q->c->limiter, r->lim, t.fam, t.key,
				   q->c->now, &st) < 0)
			snprintf(text, sizeof(text),
				 "no state: not limited, bucket full");
		else
			state_text(r, &st, text, sizeof(text));
		fprintf(q->out, "%s %s: %s %s\n", kind_word(r->cr), r->cr->name,
			t.text, text);
		kernel_line(q, &t, t.key, "  ");
		return;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		fprintf(q->out, "%s %s: out of memory\n", kind_word(r->cr),
			r->cr->name);
		return;
	}
	limiter_scan(q->c->limiter, r->lim, t.fam, t.key, t.mask, q->c->now,
		     false, gather, g);
	qsort(g->st, g->n, sizeof(g->st[0]), by_key);
	fprintf(q->out, "%s %s: %zu source%s of %s in the table (per /%u)%s\n",
		kind_word(r->cr), r->cr->name, g->total,
		g->total == 1 ? "" : "s", t.text, t.plen,
		g->total == 0 ? ": none limited, every bucket full" : "");
	for (size_t i = 0; i < g->n; i++) {
		limiter_key_text(t.fam, g->st[i].key, t.plen, k, sizeof(k));
		state_text(r, &g->st[i], text, sizeof(text));
		fprintf(q->out, "  %s %s\n", k, text);
		kernel_line(q, &t, g->st[i].key, "    ");
	}
	if (g->total > g->n)
		fprintf(q->out, "  ... and %zu more\n", g->total - g->n);
	free(g);
}

static int cmd_show(struct req *q, char **tok, int n)
{
	const struct steer_ctx *c = q->c;
	const struct config_prefix *ca;
	struct allowlist_entry e;
	char d[32], u[32], pt[64];

	(void)tok;
	if (n != 2)
		return fail(q->out, "show: expected an address or a prefix, "
				    "such as 198.51.100.7 or 2001:db8::/56");
	ca = config_allowed(c->cfg, &q->p);
	if (!served(c->cfg, &q->p)) {
		fprintf(q->out,
			"%s: not in serve: its queries are never "
			"judged\n",
			q->ptext);
	} else if (ca != NULL) {
		prefix_text(ca, pt, sizeof(pt));
		fprintf(q->out,
			"%s: on the configuration's allow-list (allow %s): "
			"never limited\n",
			q->ptext, pt);
	} else if (allowlist_overlaps(c->allow, &q->p, c->now, &e)) {
		prefix_text(&e.prefix, pt, sizeof(pt));
		dur_text(e.until - c->now, d, sizeof(d));
		until_text(c, e.until - c->now, u, sizeof(u));
		fprintf(q->out,
			"%s: on the temporary allow-list (%s, by uid %u): "
			"%s left, until %s\n",
			q->ptext, pt, (unsigned)e.uid, d, u);
	} else {
		fprintf(q->out, "%s: not on an allow-list\n", q->ptext);
	}
	if (policy_nrules(c->policy) == 0)
		fprintf(q->out, "no rules\n");
	for (size_t i = 0; i < policy_nrules(c->policy); i++) {
		struct trule r = rule_at(q, i);

		show_rule(q, &r);
	}
	return 0;
}

/* A released source, said and logged (within STEER_LOG_MAX a rule). */
static void released_one(const struct req *q, const struct target *t,
			 const struct limiter_state *was, const char *key,
			 const char *kernel, const char *indent, bool log)
{
	char text[TEXT_MAX];

	state_text(&t->r, was, text, sizeof(text));
	fprintf(q->out, "%s%s released (was %s)%s\n", indent, key, text,
		kernel);
	if (log)
		log_notice("control: %s by uid %u pid %d: %s %s: %s released "
			   "(was %s)%s",
			   q->cmd, (unsigned)q->who->uid, (int)q->who->pid,
			   kind_word(t->r.cr), t->r.cr->name, key, text,
			   kernel);
}

static void release_gathered(void *arg, const struct limiter_state *st)
{
	struct gathered *g = arg;
	char k[64];

	if (g->n < STEER_LIST_MAX) {
		limiter_key_text(g->t->fam, st->key, g->t->plen, k, sizeof(k));
		released_one(g->q, g->t, st, k, "", "  ",
			     g->logged++ < STEER_LOG_MAX);
		g->n++;
	}
	g->total++;
}

static void count_key(void *arg, uint64_t key)
{
	(void)key;
	(*(size_t *)arg)++;
}

/* release: one rule, one bucket. */
static void release_one(struct req *q, const struct target *t)
{
	struct limiter_state was;
	char kernel[TEXT_MAX] = "", text[TEXT_MAX];
	int rc, krc = -ENOENT;

	rc = limiter_release(q->c->limiter, t->r.lim, t->fam, t->key, q->c->now,
			     &was);
	if (t->set != NULL)
		krc = holds_release(q->c->holds, t->r.id, t->fam, t->key);
	if (krc == 0)
		snprintf(kernel, sizeof(kernel), "; removed from %s", t->set);
	else if (krc != -ENOENT)
		snprintf(kernel, sizeof(kernel),
			 "; its entry in %s could not be removed: %s", t->set,
			 kset_strerror(krc));
	if (rc == 0) {
		q->changed++;
		fprintf(q->out, "%s %s: ", kind_word(t->r.cr), t->r.cr->name);
		released_one(q, t, &was, t->text, kernel, "", true);
		return;
	}
	if (krc == 0) {
		/* the table had lost it (evicted); the kernel had not */
		q->changed++;
		fprintf(q->out,
			"%s %s: %s released from the kernel (the table "
			"had no episode of it)%s\n",
			kind_word(t->r.cr), t->r.cr->name, t->text, kernel);
		log_notice("control: %s by uid %u pid %d: %s %s: %s released "
			   "from the kernel%s",
			   q->cmd, (unsigned)q->who->uid, (int)q->who->pid,
			   kind_word(t->r.cr), t->r.cr->name, t->text, kernel);
		return;
	}
	if (q->quiet)
		return;
	if (rc == -EALREADY)
		bucket_text(t->r.cr, t->r.lim, &was, text, sizeof(text));
	else
		snprintf(text, sizeof(text), "bucket full");
	fprintf(q->out,
		"%s %s: %s not held or limited (%s): nothing to "
		"release%s\n",
		kind_word(t->r.cr), t->r.cr->name, t->text, text, kernel);
}

/* release: one rule, every bucket of a wide prefix. */
static void release_range(struct req *q, const struct target *t)
{
	struct gathered *g = calloc(1, sizeof(*g));
	size_t kernel = 0;
	int krc = -ENOENT;

	if (g == NULL) {
		fprintf(q->out, "%s %s: out of memory\n", kind_word(t->r.cr),
			t->r.cr->name);
		return;
	}
	g->q = q;
	g->t = t;
	/* the lines come as the walk finds them: a header first */
	fprintf(q->out, "%s %s: the sources of %s (per /%u):\n",
		kind_word(t->r.cr), t->r.cr->name, t->text, t->plen);
	limiter_scan(q->c->limiter, t->r.lim, t->fam, t->key, t->mask,
		     q->c->now, true, release_gathered, g);
	if (g->total > g->n)
		fprintf(q->out, "  ... and %zu more released\n",
			g->total - g->n);
	if (g->logged > STEER_LOG_MAX)
		log_notice("control: %s by uid %u pid %d: %s %s: %zu more "
			   "released (not logged one by one)",
			   q->cmd, (unsigned)q->who->uid, (int)q->who->pid,
			   kind_word(t->r.cr), t->r.cr->name,
			   g->logged - STEER_LOG_MAX);
	if (t->set != NULL)
		krc = holds_release_range(q->c->holds, t->r.id, t->fam, t->key,
					  t->mask, count_key, &kernel);
	if (krc > 0) {
		fprintf(q->out, "  kernel: %zu entr%s removed from %s\n",
			kernel, kernel == 1 ? "y" : "ies", t->set);
		log_notice("control: %s by uid %u pid %d: %s %s: %zu kernel "
			   "entr%s removed from %s",
			   q->cmd, (unsigned)q->who->uid, (int)q->who->pid,
			   kind_word(t->r.cr), t->r.cr->name, kernel,
			   kernel == 1 ? "y" : "ies", t->set);
	} else if (krc < 0 && krc != -ENOENT) {
		fprintf(q->out, "  kernel: %s could not be read: %s\n", t->set,
			kset_strerror(krc));
	}
	if (g->total == 0 && kernel == 0)
		fprintf(q->out, "  none held or limited: nothing to release\n");
	q->changed += (unsigned)(g->total + kernel);
	free(g);
}

/* Releases q->p under r, or under every rule when r is NULL. */
static void release_all(struct req *q, const struct trule *r)
{
	size_t nr = policy_nrules(q->c->policy);

	for (size_t i = 0; i < nr; i++) {
		struct trule ri = rule_at(q, i);
		struct target t;

		if (r != NULL && ri.id != r->id)
			continue;
		t = target_of(q, &ri);
		if (t.range && q->quiet) {
			/* allow: said only when something went */
			char *buf = NULL;
			size_t len = 0;
			FILE *keep = q->out, *mem = open_memstream(&buf, &len);
			unsigned before = q->changed;

			if (mem == NULL)
				continue;
			q->out = mem;
			release_range(q, &t);
			fclose(mem);
			q->out = keep;
			if (q->changed != before)
				fwrite(buf, 1, len, q->out);
			free(buf);
		} else if (t.range) {
			release_range(q, &t);
		} else {
			release_one(q, &t);
		}
	}
}

static int cmd_release(struct req *q, char **tok, int n)
{
	struct trule r;

	if (n != 2 && n != 3)
		return fail(q->out,
			    "release: expected an address or a prefix, and a "
			    "rule or none (every rule), such as release "
			    "198.51.100.7 any-abuse");
	if (n == 3 && rule_named(q, "release", tok[2], &r) < 0)
		return -EINVAL;
	release_all(q, n == 3 ? &r : NULL);
	if (q->changed == 0) {
		fprintf(q->out,
			"nothing to release: %s is not held or limited under "
			"%s%s\n",
			q->ptext, n == 3 ? "rule " : "any rule",
			n == 3 ? r.cr->name : "");
		log_notice("control: %s by uid %u pid %d: nothing to release",
			   q->cmd, (unsigned)q->who->uid, (int)q->who->pid);
	}
	return 0;
}

static int cmd_hold(struct req *q, char **tok, int n)
{
	const struct steer_ctx *c = q->c;
	const struct config_prefix *ca;
	struct config_prefix b;
	struct allowlist_entry e;
	struct limiter_state was;
	struct limiter_counters lc = {0};
	struct target t;
	struct trule r;
	char err[CONFIG_ERR_MAX], d[32], pt[64], kernel[TEXT_MAX] = "";
	char before[TEXT_MAX + 8] = "", st[TEXT_MAX];
	uint64_t dur;
	unsigned level = 1;
	int rc;

	if (n != 4)
		return fail(q->out, "hold: expected an address or a prefix, a "
				    "rule and a duration, such as hold "
				    "198.51.100.7 any-abuse 10m");
	if (rule_named(q, "hold", tok[2], &r) < 0)
		return -EINVAL;
	if (config_parse_duration("hold", tok[3], false, STEER_DURATION_MIN,
				  STEER_DURATION_MAX, "1s..7d", &dur, err,
				  sizeof(err)) < 0)
		return fail(q->out, "%s", err);
	t = target_of(q, &r);
	if (t.range)
		return fail(q->out,
			    "hold: %s is wider than the buckets of %s %s "
			    "(/%u): give an address, or a prefix of /%u or "
			    "longer",
			    q->ptext, kind_word(r.cr), r.cr->name, t.plen,
			    t.plen);
	prefix_of_key(t.fam, t.key, t.plen, &b);
	if (r.cr->kind == CONFIG_RULE_QUERY && !served(c->cfg, &b))
		return fail(q->out,
			    "hold: %s is not in serve: its queries are never "
			    "judged",
			    t.text);
	ca = config_allowed(c->cfg, &b);
	if (ca != NULL) {
		prefix_text(ca, pt, sizeof(pt));
		return fail(q->out,
			    "hold: %s shares addresses with the "
			    "configuration's allow %s, which are never limited",
			    t.text, pt);
	}
	if (allowlist_overlaps(c->allow, &b, c->now, &e)) {
		prefix_text(&e.prefix, pt, sizeof(pt));
		return fail(q->out,
			    "hold: %s shares addresses with %s on the "
			    "temporary allow-list; take that away first: "
			    "dnsrlctl allow %s 0",
			    t.text, pt, pt);
	}
	if (limiter_lookup(c->limiter, r.lim, t.fam, t.key, c->now, &was) ==
		    0 &&
	    was.limited) {
		level = was.level > 1 ? was.level : 1;
		state_text(&r, &was, st, sizeof(st));
		snprintf(before, sizeof(before), " (was %s)", st);
	}
	rc = limiter_restore(c->limiter, r.lim, t.fam, t.key, level, dur,
			     c->now, &lc);
	if (rc < 0)
		return fail(q->out, "hold: %s", strerror(-rc));
	if (t.set != NULL) {
		rc = holds_put(c->holds, r.id, t.fam, t.key, level, dur,
			       c->now);
		if (rc == 0)
			snprintf(kernel, sizeof(kernel), "; in %s", t.set);
		else if (rc == -ENOSPC)
			snprintf(kernel, sizeof(kernel),
				 "; not in %s, which is full "
				 "(kernel-hold-max): held by the daemon alone",
				 t.set);
		else
			snprintf(kernel, sizeof(kernel),
				 "; not in %s (%s): held by the daemon alone",
				 t.set, kset_strerror(rc));
	}
	dur_text(dur, d, sizeof(d));
	q->changed++;
	fprintf(q->out, "%s %s: %s held for %s (level %u)%s%s\n",
		kind_word(r.cr), r.cr->name, t.text, d, level, before, kernel);
	log_notice("control: %s by uid %u pid %d: %s %s: %s held for %s "
		   "(level %u)%s%s",
		   q->cmd, (unsigned)q->who->uid, (int)q->who->pid,
		   kind_word(r.cr), r.cr->name, t.text, d, level, before,
		   kernel);
	return 0;
}

/* Writes the allow-list's file; a line on out says how it went. */
static void save_allow(const struct req *q)
{
	char err[512];

	if (q->c->allow_file == NULL) {
		fprintf(q->out, "kept over a reload, not over a restart (no "
				"control socket directory to keep it in)\n");
		return;
	}
	if (allowlist_save(q->c->allow, q->c->allow_file, q->c->now,
			   q->c->real_ms, err, sizeof(err)) < 0) {
		fprintf(q->out, "kept over a reload, not over a restart: %s\n",
			err);
		log_warnx("control: %s", err);
		return;
	}
	fprintf(q->out, "kept over a reload and a restart (%s)\n",
		q->c->allow_file);
}

static void allow_list(const struct req *q)
{
	struct allowlist_entry e[ALLOWLIST_MAX];
	size_t n = allowlist_get(q->c->allow, q->c->now, e);
	char pt[64], d[32], u[32];

	if (n == 0) {
		fprintf(q->out,
			"the temporary allow-list is empty (at most "
			"%d entries)\n",
			ALLOWLIST_MAX);
		return;
	}
	fprintf(q->out, "the temporary allow-list: %zu entr%s (at most %d)\n",
		n, n == 1 ? "y" : "ies", ALLOWLIST_MAX);
	for (size_t i = 0; i < n; i++) {
		prefix_text(&e[i].prefix, pt, sizeof(pt));
		dur_text(e[i].until - q->c->now, d, sizeof(d));
		until_text(q->c, e[i].until - q->c->now, u, sizeof(u));
		fprintf(q->out, "  %-43s %s left, until %s, by uid %u pid %d\n",
			pt, d, u, (unsigned)e[i].uid, (int)e[i].pid);
	}
}

static int cmd_allow(struct req *q, char **tok, int n)
{
	const struct steer_ctx *c = q->c;
	struct allowlist_entry was;
	char err[CONFIG_ERR_MAX], d[32], u[32], w[64] = "";
	uint64_t dur, before = 0;
	int rc;

	if (n == 1) {
		allow_list(q);
		return 0;
	}
	if (n != 3)
		return fail(q->out, "allow: expected a prefix and a duration "
				    "(0 takes the entry away), such as allow "
				    "198.51.100.0/24 1h");
	if (config_parse_duration("allow", tok[2], true, STEER_DURATION_MIN,
				  STEER_DURATION_MAX, "0 or 1s..7d", &dur, err,
				  sizeof(err)) < 0)
		return fail(q->out, "%s", err);
	if (dur == 0) {
		if (allowlist_remove(c->allow, &q->p, c->now, &was) < 0) {
			fprintf(q->out,
				"%s is not on the temporary "
				"allow-list: nothing to take away\n",
				q->ptext);
			log_notice("control: %s by uid %u pid %d: not on the "
				   "list",
				   q->cmd, (unsigned)q->who->uid,
				   (int)q->who->pid);
			return 0;
		}
		dur_text(was.until - c->now, d, sizeof(d));
		fprintf(q->out, "taken away: %s (it had %s left)\n", q->ptext,
			d);
		log_notice("control: %s by uid %u pid %d: %s taken away (it "
			   "had %s left)",
			   q->cmd, (unsigned)q->who->uid, (int)q->who->pid,
			   q->ptext, d);
		save_allow(q);
		return 0;
	}
	rc = allowlist_set(c->allow, &q->p, c->now + dur, q->who->uid,
			   q->who->pid, c->now, &before);
	if (rc == -ENOSPC) {
		fail(q->out,
		     "allow: the temporary allow-list is full (%d entries): "
		     "take one away (dnsrlctl allow PREFIX 0), or put the "
		     "prefix in the configuration's allow",
		     ALLOWLIST_MAX);
		return -ENOSPC;
	}
	if (rc < 0)
		return fail(q->out, "allow: %s", strerror(-rc));
	dur_text(dur, d, sizeof(d));
	until_text(c, dur, u, sizeof(u));
	if (rc == 1) {
		char b[32];

		dur_text(before - c->now, b, sizeof(b));
		snprintf(w, sizeof(w), "; it had %s left", b);
	}
	fprintf(q->out, "allowed: %s for %s, until %s%s\n", q->ptext, d, u, w);
	log_notice("control: %s by uid %u pid %d: %s allowed for %s%s", q->cmd,
		   (unsigned)q->who->uid, (int)q->who->pid, q->ptext, d, w);
	/* what it held is served at once, in the kernel too */
	q->quiet = true;
	release_all(q, NULL);
	save_allow(q);
	return 0;
}

/* Splits a copy of line at blanks; returns the number of words, or -1. */
static int split(const char *line, char *buf, size_t len, char **tok)
{
	char *save = NULL;
	int n = 0;

	if (strlen(line) >= len)
		return -1;
	snprintf(buf, len, "%s", line);
	for (char *t = strtok_r(buf, " \t", &save); t != NULL;
	     t = strtok_r(NULL, " \t", &save)) {
		if (n == TOKENS_MAX)
			return -1;
		tok[n++] = t;
	}
	return n;
}

int steer_run(const struct steer_ctx *c, const char *line,
	      const struct steer_who *who, FILE *out)
{
	char buf[LINE_MAX_CHARS], cmd[LINE_MAX_CHARS], err[CONFIG_ERR_MAX];
	char *tok[TOKENS_MAX];
	struct req q = {.c = c, .who = who, .out = out, .cmd = cmd};
	int n = split(line, buf, sizeof(buf), tok);
	size_t m = 0;

	if (n < 1)
		return fail(out, "expected show, release, hold or allow and "
				 "their arguments");
	if (strcmp(tok[0], "show") != 0 && strcmp(tok[0], "release") != 0 &&
	    strcmp(tok[0], "hold") != 0 && strcmp(tok[0], "allow") != 0)
		return fail(out, "expected show, release, hold or allow");
	policy_limiter_rules(c->policy, q.lims);
	/* the request as the log repeats it: the words, escaped */
	for (int i = 0; i < n && m + 1 < sizeof(cmd); i++) {
		if (i > 0)
			cmd[m++] = ' ';
		m += log_escape(cmd + m, sizeof(cmd) - m,
				(const uint8_t *)tok[i], strlen(tok[i]));
	}
	cmd[m] = '\0';
	if (n >= 2) {
		if (config_parse_prefix(tok[0], tok[1], &q.p, err,
					sizeof(err)) < 0)
			return fail(out, "%s", err);
		if (q.p.len == (q.p.family == AF_INET ? 32 : 128))
			inet_ntop(q.p.family, q.p.addr, q.ptext,
				  sizeof(q.ptext));
		else
			prefix_text(&q.p, q.ptext, sizeof(q.ptext));
	}
	if (strcmp(tok[0], "show") == 0)
		return cmd_show(&q, tok, n);
	if (strcmp(tok[0], "release") == 0)
		return cmd_release(&q, tok, n);
	if (strcmp(tok[0], "hold") == 0)
		return cmd_hold(&q, tok, n);
	return cmd_allow(&q, tok, n);
}

bool steer_keep_out(const struct steer_ctx *c, unsigned rule, int family,
		    uint64_t key)
{
	const struct limiter_rule *lims[LIMITER_RULE_IDS];
	const struct config_rule *cr = policy_rule_by_id(c->policy, rule);
	struct limiter_state st;
	struct config_prefix b;

	if (cr == NULL)
		return false;
	policy_limiter_rules(c->policy, lims);
	if (limiter_lookup(c->limiter, lims[rule], family, key, c->now, &st) ==
		    0 &&
	    !st.held)
		return true;
	prefix_of_key(family, key,
		      family == 6 ? cr->ipv6_prefix : cr->ipv4_prefix, &b);
	return allowlist_overlaps(c->allow, &b, c->now, NULL);
}

static void log_ended(void *arg, const struct allowlist_entry *e)
{
	char pt[64];

	(void)arg;
	prefix_text(&e->prefix, pt, sizeof(pt));
	log_notice("control: allow %s ended (set by uid %u pid %d)", pt,
		   (unsigned)e->uid, (int)e->pid);
}

void steer_expire(const struct steer_ctx *c)
{
	char err[512];

	if (allowlist_expire(c->allow, c->now, log_ended, NULL) == 0 ||
	    c->allow_file == NULL)
		return;
	if (allowlist_save(c->allow, c->allow_file, c->now, c->real_ms, err,
			   sizeof(err)) < 0)
		log_warnx("control: %s", err);
}
