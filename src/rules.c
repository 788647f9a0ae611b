/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "rules.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "prefilter.h"
#include "xtables.h"

#define MATCH_DNS "-p udp -m udp --dport 53"
#define JUMP "-A INPUT " MATCH_DNS " -j " RULES_CHAIN
#define LINE_MAX_LEN (PREFILTER_TEXT_MAX + 256)
#define LEGACY_TABLE "filter" /* where dnsrl before 0.2 put its chain */

struct rules_plan {
	int family;
	bool two_chains; /* served prefixes: DNSRL picks, DNSRL-Q judges */
	size_t n, cap;
	char **line;
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

__attribute__((format(printf, 2, 3))) static int add(struct rules_plan *p,
						     const char *fmt, ...)
{
	va_list ap;
	char *l;
	int n;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		char **v = realloc(p->line, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		p->line = v;
		p->cap = cap;
	}
	va_start(ap, fmt);
	n = vasprintf(&l, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	p->line[p->n++] = l;
	return 0;
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
	return add(p, "-A %s " MATCH_DNS " -m bpf --bytecode \"%s\" -j RETURN",
		   chain, text);
}

struct rules_plan *rules_plan_new(const struct config *cfg,
				  const struct config *also, int family)
{
	struct rules_plan *p = calloc(1, sizeof(*p));
	const char *chain = RULES_CHAIN;
	char addr[INET6_ADDRSTRLEN];
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
			rc = add(p, "-A %s -s %s/%u " MATCH_DNS " -g %s",
				 RULES_CHAIN, addr, s->len, chain);
		}
	}
	if (rc == 0)
		rc = add_prefilter(p, cfg, also, chain);
	if (rc == 0 && cfg->queue_first == cfg->queue_last)
		rc = add(p,
			 "-A %s " MATCH_DNS " -j NFQUEUE --queue-num %u "
			 "--queue-bypass",
			 chain, cfg->queue_first);
	else if (rc == 0)
		rc = add(p,
			 "-A %s " MATCH_DNS " -j NFQUEUE --queue-balance %u:%u "
			 "--queue-bypass",
			 chain, cfg->queue_first, cfg->queue_last);
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
	for (size_t i = 0; i < p->n; i++)
		free(p->line[i]);
	free(p->line);
	free(p);
}

void rules_restore_text(const struct rules_plan *p, bool add_jump, FILE *out)
{
	fprintf(out, "*%s\n", RULES_TABLE);
	/* with --noflush a chain named here is created, or flushed */
	fprintf(out, ":%s - [0:0]\n", RULES_CHAIN);
	if (p->two_chains)
		fprintf(out, ":%s - [0:0]\n", RULES_CHAIN_QUERIES);
	for (size_t i = 0; i < p->n; i++)
		fprintf(out, "%s\n", p->line[i]);
	if (add_jump)
		fprintf(out, "-I INPUT 1 %s -j %s\n", MATCH_DNS, RULES_CHAIN);
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

enum rules_state rules_compare(const struct rules_plan *p, const char *save,
			       bool *has_jump, char *why, size_t whylen)
{
	char line[LINE_MAX_LEN];
	bool in_table = false, chain = false;
	size_t ours = 0, input = 0, jump_at = 0, mismatch = 0;
	enum rules_state st = RULES_OK;
	const char *s = save;

	*has_jump = false;
	if (whylen > 0)
		why[0] = '\0';
	while ((s = next_line(s, line, sizeof(line))) != NULL) {
		if (line[0] == '*') {
			in_table = strcmp(line + 1, RULES_TABLE) == 0;
			continue;
		}
		if (!in_table)
			continue;
		if (strncmp(line, ":" RULES_CHAIN " ",
			    strlen(RULES_CHAIN) + 2) == 0)
			chain = true;
		if (in_chain(line, "INPUT")) {
			if (!*has_jump && strcmp(line, JUMP) == 0) {
				*has_jump = true;
				jump_at = input;
			}
			input++;
		}
		if (in_chain(line, RULES_CHAIN) ||
		    in_chain(line, RULES_CHAIN_QUERIES)) {
			if ((ours >= p->n ||
			     strcmp(line, p->line[ours]) != 0) &&
			    mismatch++ == 0)
				say(why, whylen,
				    "%s: rule %zu of %s is '%.60s%s' where "
				    "'%.60s%s' was expected; ",
				    family_name(p->family), ours + 1,
				    RULES_CHAIN, line,
				    strlen(line) > 60 ? "..." : "",
				    ours < p->n ? p->line[ours] : "nothing",
				    ours < p->n && strlen(p->line[ours]) > 60
					    ? "..."
					    : "");
			ours++;
		}
	}
	if (!chain) {
		say(why, whylen, "%s: no chain %s in the %s table; ",
		    family_name(p->family), RULES_CHAIN, RULES_TABLE);
		return RULES_MISSING;
	}
	if (!*has_jump) {
		say(why, whylen, "%s: no rule of %s INPUT jumps to %s; ",
		    family_name(p->family), RULES_TABLE, RULES_CHAIN);
		st = RULES_MISSING;
	}
	if (mismatch > 0 || ours != p->n) {
		if (mismatch == 0)
			say(why, whylen,
			    "%s: %zu rules where %zu were "
			    "expected; ",
			    family_name(p->family), ours, p->n);
		if (st == RULES_OK)
			st = RULES_STALE;
	}
	if (*has_jump && jump_at > 0) {
		say(why, whylen,
		    "%s: %zu rules of %s INPUT come before the jump to %s "
		    "and may decide UDP/53 first; ",
		    family_name(p->family), jump_at, RULES_TABLE, RULES_CHAIN);
		if (st == RULES_OK)
			st = RULES_SHADOWED;
	}
	return st;
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

/* The worse of two states: the one an operator must act on first. */
static enum rules_state worse(enum rules_state a, enum rules_state b)
{
	static const int rank[] = {
		[RULES_OK] = 0,	     [RULES_SHADOWED] = 1, [RULES_STALE] = 2,
		[RULES_MISSING] = 3, [RULES_UNKNOWN] = 4,
	};

	return rank[a] >= rank[b] ? a : b;
}

static enum rules_state verify_family(const struct config *cfg, int family,
				      char *why, size_t whylen)
{
	struct rules_plan *p = rules_plan_new(cfg, NULL, family);
	char err[256], part[RULES_WHY_MAX];
	enum rules_state st;
	char *save = NULL;
	bool has_jump;

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
	st = rules_compare(p, save, &has_jump, part, sizeof(part));
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
	bool add_jump;
};

static void install_text(void *arg, FILE *out)
{
	const struct install *in = arg;

	rules_restore_text(in->plan, in->add_jump, out);
}

/* Removal of dnsrl's rules from table, as save shows them. */
struct removal {
	const char *table;
	const char *save;
};

static void removal_text(void *arg, FILE *out)
{
	const struct removal *r = arg;
	static const char *const chains[] = {RULES_CHAIN, RULES_CHAIN_QUERIES};
	bool have[2] = {false, false};
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
		for (int i = 0; i < 2; i++)
			if (line[0] == ':' &&
			    strncmp(line + 1, chains[i], strlen(chains[i])) ==
				    0 &&
			    line[1 + strlen(chains[i])] == ' ')
				have[i] = true;
		/* every jump into our chain, whatever its matches */
		if (in_chain(line, "INPUT") &&
		    strlen(line) > strlen(" -j " RULES_CHAIN) &&
		    strcmp(line + strlen(line) - strlen(" -j " RULES_CHAIN),
			   " -j " RULES_CHAIN) == 0)
			fprintf(out, "-D %s\n", line + 3);
	}
	for (int i = 0; i < 2; i++)
		if (have[i])
			fprintf(out, "-F %s\n", chains[i]);
	for (int i = 0; i < 2; i++)
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
		rules_compare(p, save, &in.add_jump, why, sizeof(why));
		in.add_jump = !in.add_jump;
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

int rules_install(const struct config *cfg, const struct config *also,
		  char *err, size_t errlen)
{
	int rc = install_family(cfg, also, AF_INET, err, errlen);

	if (rc == 0)
		rc = install_family(cfg, also, AF_INET6, err, errlen);
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
	rules_restore_text(p, false, out);
	fprintf(out, "EOF\n");
	fprintf(out,
		"%s -t %s -C INPUT %s -j %s 2>/dev/null ||\n"
		"\t%s -t %s -I INPUT 1 %s -j %s\n",
		t, RULES_TABLE, MATCH_DNS, RULES_CHAIN, t, RULES_TABLE,
		MATCH_DNS, RULES_CHAIN);
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

void rules_print(const struct config *cfg, FILE *out)
{
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
		"do it.\n"
		"set -e\n",
		path, RULES_CHAIN, RULES_TABLE, RULES_TABLE);
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
	}
}
