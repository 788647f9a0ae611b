/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "rules.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "holds.h"
#include "kset.h"
#include "prefilter.h"
#include "xtables.h"

#define MATCH_DNS "-p udp -m udp --dport 53"
#define JUMP "-A INPUT " MATCH_DNS " -j " RULES_CHAIN
#define MATCH_ANSWER "-p udp -m udp --sport 53"
#define JUMP_ANSWERS "-A OUTPUT " MATCH_ANSWER " -j " RULES_CHAIN_ANSWERS
#define LINE_MAX_LEN (PREFILTER_TEXT_MAX + 256)
#define LEGACY_TABLE "filter" /* where dnsrl before 0.2 put its chain */
#define SHOWN 60	      /* characters of a rule quoted in a message */

/* Rules, in the order a chain holds them. */
struct lines {
	size_t n, cap;
	char **v;
};

struct rules_plan {
	int family;
	bool two_chains; /* served prefixes: DNSRL picks, DNSRL-Q judges */
	bool answers;	 /* answer rules: DNSRL-OUT, jumped to from OUTPUT */
	bool holds;	 /* kernel holds: sets the rules need */
	struct lines q;	 /* DNSRL's, then DNSRL-Q's */
	struct lines a;	 /* DNSRL-OUT's */
	char why[PREFILTER_WHY_MAX]; /* why there is no prefilter, or "" */
};

static const char *tool(int family)
{
	return family == AF_INET6 ? "ip6tables" : "iptables";
}

static const char *family_name(int family)
{
	return family == AF_INET6 ? "IPv6" : "IPv4";
}

__attribute__((format(printf, 2, 3))) static int add(struct lines *p,
						     const char *fmt, ...)
{
	va_list ap;
	char *l;
	int n;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		char **v = realloc(p->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	va_start(ap, fmt);
	n = vasprintf(&l, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	p->v[p->n++] = l;
	return 0;
}

static void lines_free(struct lines *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

/*
 * cfg's rules and also's, for a prefilter that lets through neither's
 * candidates.  Only the rules are read from it.  NULL on no memory.
 */
static struct config *merged(const struct config *cfg,
			     const struct config *also)
{
	struct config *m = calloc(1, sizeof(*m));
	size_t n = cfg->nrules + also->nrules;

	if (m == NULL)
		return NULL;
	*m = *cfg;
	m->rules = calloc(n ? n : 1, sizeof(*m->rules));
	if (m->rules == NULL) {
		free(m);
		return NULL;
	}
	if (cfg->nrules > 0)
		memcpy(m->rules, cfg->rules, cfg->nrules * sizeof(*m->rules));
	if (also->nrules > 0)
		memcpy(m->rules + cfg->nrules, also->rules,
		       also->nrules * sizeof(*m->rules));
	m->nrules = n;
	return m;
}

static int add_prefilter(struct rules_plan *p, const struct config *cfg,
			 const struct config *also, const char *chain)
{
	struct config *m = also != NULL ? merged(cfg, also) : NULL;
	struct prefilter_prog prog;
	char text[PREFILTER_TEXT_MAX];
	int rc;

	if (also != NULL && m == NULL)
		return -ENOMEM;
	rc = prefilter_compile(m != NULL ? m : cfg, p->family, &prog, p->why,
			       sizeof(p->why));
	if (m != NULL) {
		free(m->rules);
		free(m);
	}
	if (rc < 0)
		return 0; /* no prefilter: every query is queued */
	rc = prefilter_bytecode_text(&prog, ' ', text, sizeof(text));
	if (rc < 0)
		return rc;
	return add(&p->q,
		   "-A %s " MATCH_DNS " -m bpf --bytecode \"%s\" -j RETURN",
		   chain, text);
}

/* The NFQUEUE target's queues, as iptables-save prints them. */
static void queue_spec(unsigned first, unsigned last, char *buf, size_t len)
{
	if (first == last)
		snprintf(buf, len, "--queue-num %u", first);
	else
		snprintf(buf, len, "--queue-balance %u:%u", first, last);
}

/*
 * DNSRL-OUT: answers of at least the smallest answer rule's size to the
 * queue, to each served prefix of the family, or to anyone when the
 * family has none.  The length match is xt_length's: the IPv4 total
 * length, or the IPv6 payload length plus its 40-octet header; that is
 * the rules' `size` (octets of the IP datagram).
 */
static int add_answers(struct rules_plan *p, const struct config *cfg)
{
	uint32_t min = config_answer_min_size(cfg);
	char addr[INET6_ADDRSTRLEN], len[32], queue[64];
	bool served = false;
	int rc = 0;

	/* iptables-save prints a range whose ends are equal as one number */
	if (min >= 65535)
		snprintf(len, sizeof(len), "65535");
	else
		snprintf(len, sizeof(len), "%u:65535", min);
	queue_spec(cfg->answer_queue_first, cfg->answer_queue_last, queue,
		   sizeof(queue));
	for (size_t i = 0; i < cfg->nserve && rc == 0; i++) {
		const struct config_prefix *s = &cfg->serve[i];

		if (s->family != p->family)
			continue;
		served = true;
		inet_ntop(p->family, s->addr, addr, sizeof(addr));
		rc = add(&p->a,
			 "-A %s -d %s/%u " MATCH_ANSWER " -m length --length "
			 "%s -j NFQUEUE %s --queue-bypass",
			 RULES_CHAIN_ANSWERS, addr, s->len, len, queue);
	}
	if (rc == 0 && !served)
		rc = add(&p->a,
			 "-A %s " MATCH_ANSWER " -m length --length %s -j "
			 "NFQUEUE %s --queue-bypass",
			 RULES_CHAIN_ANSWERS, len, queue);
	return rc;
}

/*
 * The kernel holds (holds.h): per rule that can, its positive program and
 * its set, ahead of everything else in the judging chain.
 */
static int add_holds(struct rules_plan *p, const struct config *cfg,
		     const char *chain)
{
	char text[PREFILTER_TEXT_MAX], set[KSET_NAME_MAX + 1];
	struct prefilter_prog prog;
	int rc = 0;

	for (size_t i = 0; i < cfg->nrules && rc == 0; i++) {
		if (!holds_rule_can(cfg, i, NULL, 0))
			continue;
		rc = prefilter_compile_rule(&cfg->rules[i], p->family, &prog,
					    NULL, 0);
		if (rc == 0)
			rc = prefilter_bytecode_text(&prog, ' ', text,
						     sizeof(text));
		holds_set_name(cfg->rules[i].name, p->family, set);
		if (rc == 0)
			rc = add(&p->q,
				 "-A %s " MATCH_DNS " -m bpf --bytecode \"%s\" "
				 "-m set --match-set %s src "
				 "-m nfacct --nfacct-name %s -j DROP",
				 chain, text, set, set);
		p->holds = true;
	}
	return rc;
}

struct rules_plan *rules_plan_new(const struct config *cfg,
				  const struct config *also, int family)
{
	struct rules_plan *p = calloc(1, sizeof(*p));
	const char *chain = RULES_CHAIN;
	char addr[INET6_ADDRSTRLEN], queue[64];
	int rc = 0;

	if (p == NULL)
		return NULL;
	p->family = family;
	/* a family none of whose prefixes is listed is judged whole */
	for (size_t i = 0; i < cfg->nserve; i++)
		if (cfg->serve[i].family == family)
			p->two_chains = true;
	if (p->two_chains) {
		chain = RULES_CHAIN_QUERIES;
		for (size_t i = 0; i < cfg->nserve && rc == 0; i++) {
			const struct config_prefix *s = &cfg->serve[i];

			if (s->family != family)
				continue;
			inet_ntop(family, s->addr, addr, sizeof(addr));
			rc = add(&p->q, "-A %s -s %s/%u " MATCH_DNS " -g %s",
				 RULES_CHAIN, addr, s->len, chain);
		}
	}
	if (rc == 0)
		rc = add_holds(p, cfg, chain);
	if (rc == 0)
		rc = add_prefilter(p, cfg, also, chain);
	queue_spec(cfg->queue_first, cfg->queue_last, queue, sizeof(queue));
	if (rc == 0)
		rc = add(&p->q,
			 "-A %s " MATCH_DNS " -j NFQUEUE %s --queue-bypass",
			 chain, queue);
	/* the answer path follows cfg alone: also widens only the
	 * prefilter, and answers are judged by the new rules at once */
	p->answers = config_count_rules(cfg, CONFIG_RULE_ANSWER) > 0;
	if (rc == 0 && p->answers)
		rc = add_answers(p, cfg);
	if (rc < 0) {
		rules_plan_free(p);
		errno = -rc;
		return NULL;
	}
	return p;
}

void rules_plan_free(struct rules_plan *p)
{
	if (p == NULL)
		return;
	lines_free(&p->q);
	lines_free(&p->a);
	free(p);
}

void rules_restore_text(const struct rules_plan *p,
			const struct rules_live *live, FILE *out)
{
	fprintf(out, "*%s\n", RULES_TABLE);
	/* with --noflush a chain named here is created, or flushed */
	fprintf(out, ":%s - [0:0]\n", RULES_CHAIN);
	if (p->two_chains)
		fprintf(out, ":%s - [0:0]\n", RULES_CHAIN_QUERIES);
	if (p->answers)
		fprintf(out, ":%s - [0:0]\n", RULES_CHAIN_ANSWERS);
	for (size_t i = 0; i < p->q.n; i++)
		fprintf(out, "%s\n", p->q.v[i]);
	for (size_t i = 0; i < p->a.n; i++)
		fprintf(out, "%s\n", p->a.v[i]);
	if (live != NULL && !live->input_jump)
		fprintf(out, "-I INPUT 1 %s -j %s\n", MATCH_DNS, RULES_CHAIN);
	if (live != NULL && p->answers && live->output_jumps == 0)
		fprintf(out, "-I OUTPUT 1 %s -j %s\n", MATCH_ANSWER,
			RULES_CHAIN_ANSWERS);
	/* answers judged by no rule: the jumps go first, then the chain
	 * (a chain still jumped to cannot be deleted) */
	if (live != NULL && !p->answers) {
		for (size_t i = 0; i < live->output_jumps; i++)
			fprintf(out, "-D OUTPUT %s -j %s\n", MATCH_ANSWER,
				RULES_CHAIN_ANSWERS);
		if (live->answer_chain)
			fprintf(out, "-F %s\n-X %s\n", RULES_CHAIN_ANSWERS,
				RULES_CHAIN_ANSWERS);
	}
	fprintf(out, "COMMIT\n");
}

const char *rules_state_name(enum rules_state s)
{
	switch (s) {
	case RULES_OK:
		return "ok";
	case RULES_MISSING:
		return "missing";
	case RULES_STALE:
		return "stale";
	case RULES_SHADOWED:
		return "shadowed";
	default:
		return "unknown";
	}
}

/* The next line of text (NUL-terminated) into buf; NULL at the end. */
static const char *next_line(const char *s, char *buf, size_t len)
{
	const char *nl;
	size_t n;

	if (s == NULL || *s == '\0')
		return NULL;
	nl = strchr(s, '\n');
	n = nl != NULL ? (size_t)(nl - s) : strlen(s);
	if (n >= len)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return nl != NULL ? nl + 1 : s + strlen(s);
}

/* True when line appends to chain ("-A CHAIN ..."). */
static bool in_chain(const char *line, const char *chain)
{
	size_t n = strlen(chain);

	return strncmp(line, "-A ", 3) == 0 &&
	       strncmp(line + 3, chain, n) == 0 && line[3 + n] == ' ';
}

__attribute__((format(printf, 3, 4))) static void say(char *why, size_t len,
						      const char *fmt, ...)
{
	size_t used = strlen(why);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(why + used, len - used, fmt, ap);
	va_end(ap);
}

/* The worse of two states: the one an operator must act on first. */
static enum rules_state worse(enum rules_state a, enum rules_state b)
{
	static const int rank[] = {
		[RULES_OK] = 0,	     [RULES_SHADOWED] = 1, [RULES_STALE] = 2,
		[RULES_MISSING] = 3, [RULES_UNKNOWN] = 4,
	};

	return rank[a] >= rank[b] ? a : b;
}

/* A chain's rules as found, against what the plan wants there. */
struct chain_check {
	const char *name;	  /* the chain messages name */
	const struct lines *want; /* the plan's rules */
	size_t seen;		  /* rules found */
	size_t mismatch;	  /* of them, not the plan's at their place */
	size_t first;		  /* the first mismatch's place, from 0 */
	char got[SHOWN + 1];	  /* and the start of its text */
	bool got_long;		  /* which goes on */
};

static void check_rule(struct chain_check *c, const char *line)
{
	if ((c->seen >= c->want->n || strcmp(line, c->want->v[c->seen]) != 0) &&
	    c->mismatch++ == 0) {
		c->first = c->seen;
		snprintf(c->got, sizeof(c->got), "%s", line);
		c->got_long = strlen(line) > SHOWN;
	}
	c->seen++;
}

/* Says which rule of the chain first differs from the plan, if one does. */
static void say_mismatch(const struct chain_check *c, int family, char *why,
			 size_t whylen)
{
	const struct lines *w = c->want;

	if (c->mismatch == 0)
		return;
	say(why, whylen,
	    "%s: rule %zu of %s is '%s%s' where '%.*s%s' was expected; ",
	    family_name(family), c->first + 1, c->name, c->got,
	    c->got_long ? "..." : "", SHOWN,
	    c->first < w->n ? w->v[c->first] : "nothing",
	    c->first < w->n && strlen(w->v[c->first]) > SHOWN ? "..." : "");
}

/* Whether the chain differs from the plan; says so when only the number
 * of rules does (say_mismatch has said the rest). */
static bool chain_differs(const struct chain_check *c, int family, char *why,
			  size_t whylen, bool name_it)
{
	if (c->mismatch > 0)
		return true;
	if (c->seen == c->want->n)
		return false;
	if (name_it)
		say(why, whylen,
		    "%s: %zu rules in %s where %zu were expected; ",
		    family_name(family), c->seen, c->name, c->want->n);
	else
		say(why, whylen, "%s: %zu rules where %zu were expected; ",
		    family_name(family), c->seen, c->want->n);
	return true;
}

/* What one pass over the mangle table found. */
struct scan {
	struct rules_live live;
	bool chain;		    /* DNSRL exists */
	size_t input, jump_at;	    /* INPUT's rules; the jump's place */
	size_t output, out_jump_at; /* OUTPUT's rules; the jump's place */
	struct chain_check q, a;    /* DNSRL and DNSRL-Q; DNSRL-OUT */
};

static void scan_line(struct scan *sc, const char *line)
{
	if (strncmp(line, ":" RULES_CHAIN " ", strlen(RULES_CHAIN) + 2) == 0)
		sc->chain = true;
	if (strncmp(line, ":" RULES_CHAIN_ANSWERS " ",
		    strlen(RULES_CHAIN_ANSWERS) + 2) == 0)
		sc->live.answer_chain = true;
	if (in_chain(line, "INPUT")) {
		if (!sc->live.input_jump && strcmp(line, JUMP) == 0) {
			sc->live.input_jump = true;
			sc->jump_at = sc->input;
		}
		sc->input++;
	}
	if (in_chain(line, "OUTPUT")) {
		if (strcmp(line, JUMP_ANSWERS) == 0) {
			if (sc->live.output_jumps++ == 0)
				sc->out_jump_at = sc->output;
		}
		sc->output++;
	}
	if (in_chain(line, RULES_CHAIN) || in_chain(line, RULES_CHAIN_QUERIES))
		check_rule(&sc->q, line);
	if (in_chain(line, RULES_CHAIN_ANSWERS))
		check_rule(&sc->a, line);
}

/* The query path: DNSRL (and DNSRL-Q), jumped to first from INPUT. */
static enum rules_state compare_queries(const struct rules_plan *p,
					const struct scan *sc, char *why,
					size_t whylen)
{
	enum rules_state st = RULES_OK;

	say_mismatch(&sc->q, p->family, why, whylen);
	if (!sc->chain) {
		say(why, whylen, "%s: no chain %s in the %s table; ",
		    family_name(p->family), RULES_CHAIN, RULES_TABLE);
		return RULES_MISSING;
	}
	if (!sc->live.input_jump) {
		say(why, whylen, "%s: no rule of %s INPUT jumps to %s; ",
		    family_name(p->family), RULES_TABLE, RULES_CHAIN);
		st = RULES_MISSING;
	}
	if (chain_differs(&sc->q, p->family, why, whylen, false))
		st = worse(st, RULES_STALE);
	if (sc->live.input_jump && sc->jump_at > 0) {
		say(why, whylen,
		    "%s: %zu rules of %s INPUT come before the jump to %s "
		    "and may decide UDP/53 first; ",
		    family_name(p->family), sc->jump_at, RULES_TABLE,
		    RULES_CHAIN);
		st = worse(st, RULES_SHADOWED);
	}
	return st;
}

/*
 * The answer path: DNSRL-OUT, jumped to first from OUTPUT, when the plan
 * judges answers; nothing of it otherwise (a chain left by a policy with
 * answer rules would still hold answers up in the queue, or have them
 * dropped by a daemon that no longer means to).
 */
static enum rules_state compare_answers(const struct rules_plan *p,
					const struct scan *sc, char *why,
					size_t whylen)
{
	enum rules_state st = RULES_OK;

	if (!p->answers) {
		if (!sc->live.answer_chain)
			return RULES_OK;
		say(why, whylen,
		    "%s: chain %s in the %s table sends answers to a queue, "
		    "but the configuration has no answer-rule; ",
		    family_name(p->family), RULES_CHAIN_ANSWERS, RULES_TABLE);
		return RULES_STALE;
	}
	say_mismatch(&sc->a, p->family, why, whylen);
	if (!sc->live.answer_chain) {
		say(why, whylen, "%s: no chain %s in the %s table; ",
		    family_name(p->family), RULES_CHAIN_ANSWERS, RULES_TABLE);
		return RULES_MISSING;
	}
	if (sc->live.output_jumps == 0) {
		say(why, whylen, "%s: no rule of %s OUTPUT jumps to %s; ",
		    family_name(p->family), RULES_TABLE, RULES_CHAIN_ANSWERS);
		st = RULES_MISSING;
	}
	if (chain_differs(&sc->a, p->family, why, whylen, true))
		st = worse(st, RULES_STALE);
	if (sc->live.output_jumps > 0 && sc->out_jump_at > 0) {
		say(why, whylen,
		    "%s: %zu rules of %s OUTPUT come before the jump to %s "
		    "and may decide answers from port 53 first; ",
		    family_name(p->family), sc->out_jump_at, RULES_TABLE,
		    RULES_CHAIN_ANSWERS);
		st = worse(st, RULES_SHADOWED);
	}
	return st;
}

enum rules_state rules_compare(const struct rules_plan *p, const char *save,
			       struct rules_live *live, char *why,
			       size_t whylen)
{
	char line[LINE_MAX_LEN];
	struct scan sc = {
		.q = {.name = RULES_CHAIN, .want = &p->q},
		.a = {.name = RULES_CHAIN_ANSWERS, .want = &p->a},
	};
	bool in_table = false;
	enum rules_state st;
	const char *s = save;

	if (whylen > 0)
		why[0] = '\0';
	while ((s = next_line(s, line, sizeof(line))) != NULL) {
		if (line[0] == '*') {
			in_table = strcmp(line + 1, RULES_TABLE) == 0;
			continue;
		}
		if (in_table)
			scan_line(&sc, line);
	}
	*live = sc.live;
	st = compare_queries(p, &sc, why, whylen);
	return worse(st, compare_answers(p, &sc, why, whylen));
}

/* Whether save (a filter table) holds an older dnsrl's jump. */
static bool legacy_jump(const char *save)
{
	char line[LINE_MAX_LEN];
	const char *s = save;

	while ((s = next_line(s, line, sizeof(line))) != NULL)
		if (strcmp(line, JUMP) == 0)
			return true;
	return false;
}

static enum rules_state verify_family(const struct config *cfg, int family,
				      char *why, size_t whylen)
{
	struct rules_plan *p = rules_plan_new(cfg, NULL, family);
	char err[256], part[RULES_WHY_MAX];
	struct rules_live live;
	enum rules_state st;
	char *save = NULL;

	if (p == NULL) {
		say(why, whylen, "%s: out of memory; ", family_name(family));
		return RULES_UNKNOWN;
	}
	if (xtables_run(family, XTABLES_SAVE, RULES_TABLE, NULL, 0, &save, err,
			sizeof(err)) < 0) {
		say(why, whylen, "%s: %s; ", family_name(family), err);
		rules_plan_free(p);
		return RULES_UNKNOWN;
	}
	st = rules_compare(p, save, &live, part, sizeof(part));
	say(why, whylen, "%s", part);
	free(save);
	rules_plan_free(p);
	if (xtables_run(family, XTABLES_SAVE, LEGACY_TABLE, NULL, 0, &save, err,
			sizeof(err)) == 0 &&
	    legacy_jump(save)) {
		say(why, whylen,
		    "%s: an older dnsrl's chain is still in the %s table; ",
		    family_name(family), LEGACY_TABLE);
		st = worse(st, RULES_STALE);
	}
	free(save);
	return st;
}

enum rules_state rules_verify(const struct config *cfg, char *why,
			      size_t whylen)
{
	enum rules_state st;

	if (whylen > 0)
		why[0] = '\0';
	st = verify_family(cfg, AF_INET, why, whylen);
	st = worse(st, verify_family(cfg, AF_INET6, why, whylen));
	/* no trailing "; " */
	if (strlen(why) >= 2 && strcmp(why + strlen(why) - 2, "; ") == 0)
		why[strlen(why) - 2] = '\0';
	return st;
}

/* Runs restore text built by fn(arg, out) for family. */
static int restore(int family, void (*fn)(void *arg, FILE *out), void *arg,
		   char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int rc;

	if (out == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	fn(arg, out);
	if (fclose(out) != 0) {
		free(text);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = xtables_run(family, XTABLES_RESTORE, RULES_TABLE, text, len, NULL,
			 err, errlen);
	free(text);
	return rc;
}

static void fixed_text(void *arg, FILE *out)
{
	fputs(arg, out);
}

struct install {
	const struct rules_plan *plan;
	struct rules_live live;
};

static void install_text(void *arg, FILE *out)
{
	const struct install *in = arg;

	rules_restore_text(in->plan, &in->live, out);
}

/* Removal of dnsrl's rules from table, as save shows them. */
struct removal {
	const char *table;
	const char *save;
};

/* Whether line ends with " -j chain". */
static bool jumps_to(const char *line, const char *chain)
{
	size_t n = strlen(line), c = strlen(chain);

	return n > c + 4 && strncmp(line + n - c - 4, " -j ", 4) == 0 &&
	       strcmp(line + n - c, chain) == 0;
}

static void removal_text(void *arg, FILE *out)
{
	const struct removal *r = arg;
	static const char *const chains[] = {RULES_CHAIN, RULES_CHAIN_QUERIES,
					     RULES_CHAIN_ANSWERS};
	enum { NCHAINS = sizeof(chains) / sizeof(chains[0]) };
	bool have[NCHAINS] = {false};
	char line[LINE_MAX_LEN];
	const char *s = r->save;
	bool in_table = false;

	fprintf(out, "*%s\n", r->table);
	while ((s = next_line(s, line, sizeof(line))) != NULL) {
		if (line[0] == '*') {
			in_table = strcmp(line + 1, r->table) == 0;
			continue;
		}
		if (!in_table)
			continue;
		for (int i = 0; i < NCHAINS; i++)
			if (line[0] == ':' &&
			    strncmp(line + 1, chains[i], strlen(chains[i])) ==
				    0 &&
			    line[1 + strlen(chains[i])] == ' ')
				have[i] = true;
		/* every jump into our chains, whatever its matches */
		if ((in_chain(line, "INPUT") && jumps_to(line, RULES_CHAIN)) ||
		    (in_chain(line, "OUTPUT") &&
		     jumps_to(line, RULES_CHAIN_ANSWERS)))
			fprintf(out, "-D %s\n", line + 3);
	}
	for (int i = 0; i < NCHAINS; i++)
		if (have[i])
			fprintf(out, "-F %s\n", chains[i]);
	for (int i = 0; i < NCHAINS; i++)
		if (have[i])
			fprintf(out, "-X %s\n", chains[i]);
	fprintf(out, "COMMIT\n");
}

/* Removes dnsrl's rules from one table of one family. */
static int remove_from(int family, const char *table, char *err, size_t errlen)
{
	struct removal r = {.table = table};
	char *save = NULL;
	int rc;

	rc = xtables_run(family, XTABLES_SAVE, table, NULL, 0, &save, err,
			 errlen);
	if (rc < 0)
		return rc;
	r.save = save;
	if (strstr(save, ":" RULES_CHAIN) == NULL) {
		free(save);
		return 0;
	}
	rc = restore(family, removal_text, &r, err, errlen);
	free(save);
	return rc;
}

static int install_family(const struct config *cfg, const struct config *also,
			  int family, char *err, size_t errlen)
{
	struct rules_plan *p = rules_plan_new(cfg, also, family);
	struct install in = {.plan = p};
	char why[RULES_WHY_MAX], *save = NULL;
	int rc;

	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = xtables_run(family, XTABLES_SAVE, RULES_TABLE, NULL, 0, &save, err,
			 errlen);
	if (rc == 0) {
		rules_compare(p, save, &in.live, why, sizeof(why));
		rc = restore(family, install_text, &in, err, errlen);
	}
	/* a DNSRL-Q left by a configuration with served prefixes: nothing
	 * jumps to it any more */
	if (rc == 0 && !p->two_chains &&
	    strstr(save, ":" RULES_CHAIN_QUERIES " ") != NULL)
		rc = restore(family, fixed_text,
			     "*" RULES_TABLE "\n-F " RULES_CHAIN_QUERIES
			     "\n-X " RULES_CHAIN_QUERIES "\nCOMMIT\n",
			     err, errlen);
	free(save);
	rules_plan_free(p);
	if (rc == 0)
		rc = remove_from(family, LEGACY_TABLE, err, errlen);
	return rc;
}

/*
 * The sets of cfg's kernel holds, made before the rules that match them,
 * and those of no rule of cfg's removed after (unless cfg is NULL: made
 * nothing, remove every one).
 */
static int sets(const struct config *cfg, bool make, char *err, size_t errlen)
{
	char names[2 * CONFIG_RULES_MAX][KSET_NAME_MAX + 1];
	const char *keep[2 * CONFIG_RULES_MAX + 1];
	struct kset *k = kset_open();
	size_t n = 0;
	int rc;

	if (k == NULL) {
		rc = -errno;
		snprintf(err, errlen, "kernel sets: %s", strerror(errno));
		return rc;
	}
	for (size_t i = 0; cfg != NULL && i < cfg->nrules; i++) {
		if (!holds_rule_can(cfg, i, NULL, 0))
			continue;
		for (int f = 0; f < 2; f++) {
			holds_set_name(cfg->rules[i].name,
				       f ? AF_INET6 : AF_INET, names[n]);
			keep[n] = names[n];
			n++;
		}
	}
	keep[n] = NULL;
	rc = make ? holds_make_sets(k, cfg, err, errlen)
		  : holds_remove_sets(k, keep, err, errlen);
	kset_close(k);
	return rc;
}

int rules_make_sets(const struct config *cfg, char *err, size_t errlen)
{
	return sets(cfg, true, err, errlen);
}

int rules_install(const struct config *cfg, const struct config *also,
		  char *err, size_t errlen)
{
	int rc = sets(cfg, true, err, errlen);

	if (rc == 0)
		rc = install_family(cfg, also, AF_INET, err, errlen);
	if (rc == 0)
		rc = install_family(cfg, also, AF_INET6, err, errlen);
	/* the sets of rules gone (sets still referenced are kept) */
	if (rc == 0)
		rc = sets(cfg, false, err, errlen);
	return rc;
}

int rules_remove(char *err, size_t errlen)
{
	int rc = 0;

	for (int i = 0; i < 2 && rc == 0; i++) {
		int family = i == 0 ? AF_INET : AF_INET6;

		rc = remove_from(family, RULES_TABLE, err, errlen);
		if (rc == 0)
			rc = remove_from(family, LEGACY_TABLE, err, errlen);
	}
	if (rc == 0)
		rc = sets(NULL, false, err, errlen);
	return rc;
}

/* A path for a comment in a script: printable ASCII, else '?'. */
static void comment_path(const char *path, char *buf, size_t len)
{
	size_t n = 0;

	for (; path != NULL && *path != '\0' && n + 1 < len; path++)
		buf[n++] = *path >= 0x20 && *path < 0x7f ? *path : '?';
	buf[n] = '\0';
}

static void print_family(const struct config *cfg, int family, FILE *out)
{
	struct rules_plan *p = rules_plan_new(cfg, NULL, family);
	const char *t = tool(family);

	if (p == NULL) {
		fprintf(out, "echo 'dnsrl: out of memory' >&2; exit 1\n");
		return;
	}
	if (p->why[0] != '\0')
		fprintf(out,
			"# No %s prefilter, every UDP/53 query is queued: "
			"%s.\n",
			family_name(family), p->why);
	fprintf(out, "%s-restore --noflush <<'EOF'\n", t);
	rules_restore_text(p, NULL, out);
	fprintf(out, "EOF\n");
	fprintf(out,
		"%s -t %s -C INPUT %s -j %s 2>/dev/null ||\n"
		"\t%s -t %s -I INPUT 1 %s -j %s\n",
		t, RULES_TABLE, MATCH_DNS, RULES_CHAIN, t, RULES_TABLE,
		MATCH_DNS, RULES_CHAIN);
	if (p->answers)
		fprintf(out,
			"%s -t %s -C OUTPUT %s -j %s 2>/dev/null ||\n"
			"\t%s -t %s -I OUTPUT 1 %s -j %s\n",
			t, RULES_TABLE, MATCH_ANSWER, RULES_CHAIN_ANSWERS, t,
			RULES_TABLE, MATCH_ANSWER, RULES_CHAIN_ANSWERS);
	else /* left by a configuration with answer rules */
		fprintf(out,
			"while %s -t %s -D OUTPUT %s -j %s 2>/dev/null; do :; "
			"done\n"
			"%s -t %s -F %s 2>/dev/null && %s -t %s -X %s || "
			"true\n",
			t, RULES_TABLE, MATCH_ANSWER, RULES_CHAIN_ANSWERS, t,
			RULES_TABLE, RULES_CHAIN_ANSWERS, t, RULES_TABLE,
			RULES_CHAIN_ANSWERS);
	if (!p->two_chains)
		fprintf(out,
			"%s -t %s -F %s 2>/dev/null && %s -t %s -X %s || "
			"true\n",
			t, RULES_TABLE, RULES_CHAIN_QUERIES, t, RULES_TABLE,
			RULES_CHAIN_QUERIES);
	/* an older dnsrl's chain in the filter table */
	fprintf(out,
		"while %s -D INPUT %s -j %s 2>/dev/null; do :; done\n"
		"%s -F %s 2>/dev/null && %s -X %s || true\n",
		t, MATCH_DNS, RULES_CHAIN, t, RULES_CHAIN, t, RULES_CHAIN);
	rules_plan_free(p);
}

/* A word for sh in single quotes, whatever its bytes. */
static void shell_word(const char *s, FILE *out)
{
	fputc('\'', out);
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			fputs("'\\''", out);
		else
			fputc(*s, out);
	}
	fputc('\'', out);
}

/*
 * The sets of the kernel holds, before the rules that match them: made by
 * this very dnsrl (the sets as the daemon reads them back), from the same
 * file.
 */
static void print_sets(const struct config *cfg, FILE *out)
{
	char exe[4096], set[KSET_NAME_MAX + 1];
	ssize_t n;
	bool any = false;

	for (size_t i = 0; i < cfg->nrules; i++) {
		if (!holds_rule_can(cfg, i, NULL, 0))
			continue;
		if (!any)
			fprintf(out,
				"# Kernel holds: a held source's queries of "
				"the rule's types are dropped\n"
				"# before the queue, in sets named after the "
				"rule (ipset hash:net),\n"
				"# counted by accounting objects (nfacct) of "
				"the same names:\n");
		holds_set_name(cfg->rules[i].name, AF_INET, set);
		fprintf(out, "#   rule %s: %s", cfg->rules[i].name, set);
		holds_set_name(cfg->rules[i].name, AF_INET6, set);
		fprintf(out, " and %s\n", set);
		any = true;
	}
	if (!any)
		return;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		snprintf(exe, sizeof(exe), "dnsrl");
	else
		exe[n] = '\0';
	shell_word(exe, out);
	fprintf(out, " --make-sets -c ");
	shell_word(cfg->path != NULL ? cfg->path : "/etc/dnsrl/dnsrl.conf",
		   out);
	fprintf(out, "\n");
}

/* The script's word on the answer path, when there is one. */
static void print_answers_comment(const struct config *cfg, FILE *out)
{
	if (config_count_rules(cfg, CONFIG_RULE_ANSWER) == 0)
		return;
	fprintf(out,
		"# Answers from port 53 of at least %u octets go to NFQUEUE %u",
		config_answer_min_size(cfg), cfg->answer_queue_first);
	if (cfg->answer_queue_last != cfg->answer_queue_first)
		fprintf(out, "-%u", cfg->answer_queue_last);
	fprintf(out,
		".\n"
		"# The chain %s sits in the %s table too, jumped to by the\n"
		"# first rule of %s OUTPUT: answers are whole there "
		"(fragmented only\n"
		"# after POSTROUTING), and the filter table's OUTPUT rules "
		"come after it.\n"
		"# Shorter answers stay in the kernel; --queue-bypass lets "
		"answers\n"
		"# through whenever the daemon is not running.\n",
		RULES_CHAIN_ANSWERS, RULES_TABLE, RULES_TABLE);
}

void rules_print(const struct config *cfg, FILE *out)
{
	bool answers = config_count_rules(cfg, CONFIG_RULE_ANSWER) > 0;
	char path[256];

	comment_path(cfg->path != NULL ? cfg->path : "defaults", path,
		     sizeof(path));
	fprintf(out, "#!/bin/sh\n");
	fprintf(out, "# dnsrl: send UDP/53 queries to NFQUEUE %u",
		cfg->queue_first);
	if (cfg->queue_last != cfg->queue_first)
		fprintf(out, "-%u", cfg->queue_last);
	fprintf(out,
		" (config %s).\n"
		"# Run as root; running it again replaces the rules with the "
		"same ones.\n"
		"# The chain %s sits in the %s table, jumped to by the first "
		"rule of\n"
		"# %s INPUT: the filter table's rules (your ACLs) come after "
		"it and\n"
		"# still apply, and none of them can hide a query from it.  "
		"--queue-bypass\n"
		"# lets queries through whenever the daemon is not running.\n"
		"# The prefilter (iptables' bpf match) returns in the kernel "
		"the queries\n"
		"# no rule can match, so they never reach the queue; what it "
		"cannot read\n"
		"# whole (longer names, fragments, extension headers) is "
		"queued.  It is\n"
		"# compiled from the rules' qtypes: run this again after a "
		"reload that\n"
		"# changes them, or set manage-rules yes and let the daemon "
		"do it.\n",
		path, RULES_CHAIN, RULES_TABLE, RULES_TABLE);
	print_answers_comment(cfg, out);
	fprintf(out, "set -e\n");
	print_sets(cfg, out);
	print_family(cfg, AF_INET, out);
	print_family(cfg, AF_INET6, out);
	fprintf(out, "# To remove (or: dnsrl --remove-rules):\n");
	for (int i = 0; i < 2; i++) {
		const char *t = tool(i == 0 ? AF_INET : AF_INET6);

		fprintf(out,
			"#   %s -t %s -D INPUT %s -j %s; %s -t %s -F %s; "
			"%s -t %s -X %s\n",
			t, RULES_TABLE, MATCH_DNS, RULES_CHAIN, t, RULES_TABLE,
			RULES_CHAIN, t, RULES_TABLE, RULES_CHAIN);
		if (cfg->nserve > 0)
			fprintf(out, "#   %s -t %s -F %s; %s -t %s -X %s\n", t,
				RULES_TABLE, RULES_CHAIN_QUERIES, t,
				RULES_TABLE, RULES_CHAIN_QUERIES);
		if (answers)
			fprintf(out,
				"#   %s -t %s -D OUTPUT %s -j %s; %s -t %s -F "
				"%s; %s -t %s -X %s\n",
				t, RULES_TABLE, MATCH_ANSWER,
				RULES_CHAIN_ANSWERS, t, RULES_TABLE,
				RULES_CHAIN_ANSWERS, t, RULES_TABLE,
				RULES_CHAIN_ANSWERS);
	}
}
