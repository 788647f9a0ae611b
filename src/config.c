/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The configuration file parser.
 *
 * The text is read as bytes with a length: a line ends at '\n' or at the end
 * of the buffer, and any control byte (NUL included) is an error, so the
 * tokens that follow are plain C strings.  Every value goes through a strict
 * parser of our own (no atoi, no strtoul, no library loose parse) and is
 * range-checked; the first mistake stops the parse with one message that
 * names file:line, what was expected and what was found.
 *
 * One table describes every key: its type, where its value lives and its
 * range.  Parsing and printing both walk it, so a key cannot be read
 * without also being written back by config_print.
 *
 * This file holds the key table, the grammar of lines and rule blocks, and
 * the reading of the file; config_value.c reads (and writes) each kind of
 * value, config_print.c writes a whole config back.
 */
#include "config.h"
#include "config_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#define FILE_BYTES_MAX (1024 * 1024)
#define TOKENS_MAX (LINE_CHARS_MAX / 2 + 1)
#define HOLD_DOWN_CAP (7 * NS_D)

/* The first three are shared: a word field's type follows from its list. */
const struct word config_yes_no[] = {{"yes", 1}, {"no", 0}, {NULL, 0}};
const struct word config_verdicts[] = {
	{"accept", CONFIG_ACCEPT}, {"drop", CONFIG_DROP}, {NULL, 0}};
const struct word config_actions[] = {{"drop", CONFIG_ACTION_DROP},
				      {"log", CONFIG_ACTION_LOG},
				      {"truncate", CONFIG_ACTION_TRUNCATE},
				      {NULL, 0}};
static const struct word facilities[] = {{"daemon", LOG_DAEMON},
					 {"user", LOG_USER},
					 {"local0", LOG_LOCAL0},
					 {"local1", LOG_LOCAL1},
					 {"local2", LOG_LOCAL2},
					 {"local3", LOG_LOCAL3},
					 {"local4", LOG_LOCAL4},
					 {"local5", LOG_LOCAL5},
					 {"local6", LOG_LOCAL6},
					 {"local7", LOG_LOCAL7},
					 {NULL, 0}};

#define GLOBAL(f)                          \
	.off = offsetof(struct config, f), \
	.size = sizeof(((struct config *)NULL)->f)
#define RULE(f)                                                  \
	.in_rule = true, .off = offsetof(struct config_rule, f), \
	.size = sizeof(((struct config_rule *)NULL)->f),         \
	.kinds = KIND_QUERY | KIND_ANSWER
#define QUERY_RULE(f)                                            \
	.in_rule = true, .off = offsetof(struct config_rule, f), \
	.size = sizeof(((struct config_rule *)NULL)->f), .kinds = KIND_QUERY
#define ANSWER_RULE(f)                                           \
	.in_rule = true, .off = offsetof(struct config_rule, f), \
	.size = sizeof(((struct config_rule *)NULL)->f), .kinds = KIND_ANSWER

/* Shared with config_value.c and config_print.c. */
const struct key config_keys[K_COUNT] = {
	[K_QUEUE] = {"queue", KT_QUEUE, GLOBAL(queue_first),
		     .off2 = offsetof(struct config, queue_last),
		     .expect = "a queue number 0..65535 or a range A-B such as "
			       "0-3"},
	[K_ANSWER_QUEUE] = {"answer-queue", KT_QUEUE,
			    GLOBAL(answer_queue_first),
			    .off2 = offsetof(struct config, answer_queue_last),
			    .expect = "a queue number 0..65535 or a range A-B "
				      "such as 4-5"},
	[K_QUEUE_MAXLEN] = {"queue-maxlen", KT_UINT, GLOBAL(queue_maxlen),
			    .min = 16, .max = 1048576, .expect = "16..1048576"},
	[K_QUEUE_RCVBUF] = {"queue-rcvbuf", KT_UINT, GLOBAL(queue_rcvbuf),
			    .min = 0, .max = 2147483647u,
			    .expect = "0 (sized to the queue) or bytes up to "
				      "2147483647"},
	[K_TABLE_SIZE] = {"table-size", KT_UINT, GLOBAL(table_size), .min = 16,
			  .max = 2147483648u, .expect = "16..2147483648"},
	[K_FAIL_OPEN] = {"fail-open", KT_WORD, GLOBAL(fail_open),
			 .words = config_yes_no, .expect = "yes or no"},
	[K_USER] = {"user", KT_USER, GLOBAL(user), .max = 32,
		    .expect = "a user name"},
	[K_CONTROL_SOCKET] =
		{"control-socket", KT_PATH, GLOBAL(control_socket),
		 .max = sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1,
		 .expect = "an absolute path"},
	/* a group name, read as the user's is */
	[K_CONTROL_GROUP] = {"control-group", KT_USER, GLOBAL(control_group),
			     .max = 32, .expect = "a group name"},
	[K_STATS_INTERVAL] = {"stats-interval", KT_DURATION,
			      GLOBAL(stats_interval), .zero = true, .min = NS_S,
			      .max = 24 * NS_H, .expect = "0 or 1s..24h"},
	[K_REPORT_INTERVAL] = {"report-interval", KT_DURATION,
			       GLOBAL(report_interval), .zero = true,
			       .min = NS_M, .max = 7 * NS_D,
			       .expect = "0 or 1m..7d"},
	[K_REPORT_TOP] = {"report-top", KT_UINT, GLOBAL(report_top), .min = 1,
			  .max = 100, .expect = "1..100"},
	[K_SYSLOG_FACILITY] = {"syslog-facility", KT_WORD,
			       GLOBAL(syslog_facility), .words = facilities,
			       .expect = "daemon, user or local0..local7"},
	[K_MALFORMED] = {"malformed", KT_WORD, GLOBAL(malformed),
			 .words = config_verdicts, .expect = "accept or drop"},
	[K_FRAGMENTS] = {"fragments", KT_WORD, GLOBAL(fragments),
			 .words = config_verdicts, .expect = "accept or drop"},
	[K_LOG_LIMIT] = {"log-limit", KT_RATE, GLOBAL(log_n),
			 .off2 = offsetof(struct config, log_period),
			 .expect = "N/T such as 10/1s"},
	[K_LOG_TRUNCATE] = {"log-truncate", KT_WORD, GLOBAL(log_truncate),
			    .words = config_yes_no, .expect = "yes or no"},
	[K_PROMETHEUS_FILE] = {"prometheus-file", KT_PATH,
			       GLOBAL(prometheus_file), .max = LINE_CHARS_MAX,
			       .expect = "an absolute path"},
	[K_ALLOW] = {"allow", KT_PREFIXES, GLOBAL(allow),
		     .off2 = offsetof(struct config, nallow), .max = 100000,
		     .expect = "one or more prefixes such as 203.0.113.0/24"},
	[K_SERVE] = {"serve", KT_PREFIXES, GLOBAL(serve),
		     .off2 = offsetof(struct config, nserve),
		     .max = CONFIG_SERVE_MAX,
		     .expect = "one or more prefixes such as 198.51.100.0/24"},
	[K_MANAGE_RULES] = {"manage-rules", KT_WORD, GLOBAL(manage_rules),
			    .words = config_yes_no, .expect = "yes or no"},
	[K_RULES_REQUIRED] = {"rules-required", KT_WORD, GLOBAL(rules_required),
			      .words = config_yes_no, .expect = "yes or no"},
	[K_KERNEL_HOLD_MAX] = {"kernel-hold-max", KT_UINT,
			       GLOBAL(kernel_hold_max), .min = 1,
			       .max = 1048576, .expect = "1..1048576"},
	[K_QTYPE] = {"qtype", KT_QTYPE, RULE(qtypes),
		     .expect = "one or more types such as ANY"},
	[K_QNAME] = {"qname", KT_QNAME, RULE(qnames),
		     .expect = "one or more names such as example.net"},
	/* in an answer rule, answers per T */
	[K_LIMIT] = {"limit", KT_RATE, RULE(limit_n),
		     .off2 = offsetof(struct config_rule, limit_period),
		     .expect = "N/T such as 2/5s"},
	[K_IPV4_PREFIX] = {"ipv4-prefix", KT_UINT, RULE(ipv4_prefix), .min = 8,
			   .max = 32, .expect = "8..32"},
	[K_IPV6_PREFIX] = {"ipv6-prefix", KT_UINT, RULE(ipv6_prefix), .min = 32,
			   .max = 64, .expect = "32..64"},
	[K_HOLD_DOWN] = {"hold-down", KT_DURATION, RULE(hold_down), .min = NS_S,
			 .max = 24 * NS_H, .expect = "1s..24h"},
	/* its bond to hold-down is checked at the '}' */
	[K_HOLD_DOWN_MAX] = {"hold-down-max", KT_DURATION, RULE(hold_down_max),
			     .min = NS_S, .max = HOLD_DOWN_CAP,
			     .expect = "1s..7d"},
	[K_TOTAL] = {"total", KT_RATE, RULE(total_n),
		     .off2 = offsetof(struct config_rule, total_period),
		     .expect = "N/T such as 500/1s"},
	/* truncate is checked against the kind at the '}' */
	[K_ACTION] = {"action", KT_WORD, RULE(action), .words = config_actions,
		      .expect = "drop, log or truncate"},
	[K_SIZE] = {"size", KT_UINT, ANSWER_RULE(size), .min = 0, .max = 65535,
		    .expect = "0..65535 (octets of the IP datagram)"},
	[K_BYTES] = {"bytes", KT_BYTES, ANSWER_RULE(bytes_n),
		     .off2 = offsetof(struct config_rule, bytes_period),
		     .expect = "B/T such as 64k/10s"},
	[K_TOTAL_BYTES] = {"total-bytes", KT_BYTES, ANSWER_RULE(total_bytes_n),
			   .off2 = offsetof(struct config_rule,
					    total_bytes_period),
			   .expect = "B/T such as 10M/1s"},
	/* its bond to action truncate is checked at the '}' */
	[K_SLIP] = {"slip", KT_UINT, RULE(slip), .min = 1, .max = 64,
		    .expect = "1..64"},
	/* whether the rule can is checked at the '}' */
	[K_KERNEL_HOLD] = {"kernel-hold", KT_WORD, QUERY_RULE(kernel_hold),
			   .words = config_yes_no, .expect = "yes or no"},
};

const char *config_kind_word(enum config_rule_kind k)
{
	return k == CONFIG_RULE_ANSWER ? "answer-rule" : "rule";
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int vfail_at(struct parser *p, int line, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static int fail_at(struct parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int vfail_at(struct parser *p, int line, const char *fmt, va_list ap)
{
	int n;

	if (p->err == NULL || p->errlen == 0)
		return -EINVAL;
	/* no file: a value read alone (config_parse_prefix and the like) */
	n = p->name == NULL
		    ? 0
		    : snprintf(p->err, p->errlen, "%s:%d: ", p->name, line);
	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	return -EINVAL;
}

static int fail_at(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail_at(p, line, fmt, ap);
	va_end(ap);
	return rc;
}

/* The message functions below serve config_value.c too. */
int config_fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail_at(p, p->line, fmt, ap);
	va_end(ap);
	return rc;
}

int config_out_of_memory(struct parser *p)
{
	set_err(p->err, p->errlen, "%s: out of memory", p->name);
	return -ENOMEM;
}

/*
 * A token as echoed in a message: cut to a readable length, and bytes
 * outside printable ASCII as \DDD, since messages end up in syslog.
 */
const char *config_quote(struct parser *p, int slot, const char *s)
{
	char *q = p->quoted[slot];
	size_t n = 0;

	for (size_t i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == QUOTE_CHARS) {
			memcpy(q + n, "...", 3);
			n += 3;
			break;
		}
		if (c < 0x20 || c > 0x7e) {
			snprintf(q + n, 5, "\\%03u", c);
			n += 4;
		} else {
			q[n++] = (char)c;
		}
	}
	q[n] = '\0';
	return q;
}

static int unknown_key(struct parser *p, const char *s)
{
	char list[400];
	size_t n = 0;
	bool in_rule = p->rule != NULL;

	for (int i = 0; i <= K_COUNT + 1; i++) {
		const char *name = i < K_COUNT	  ? config_keys[i].name
				   : i == K_COUNT ? "rule"
						  : "answer-rule";

		if (strcasecmp(s, name) == 0)
			return config_fail(p,
					   "unknown setting '%s': settings are "
					   "lower case ('%s')",
					   config_quote(p, 0, s), name);
	}
	if (strcmp(s, "{") == 0)
		return config_fail(p, "'{' belongs at the end of the rule "
				      "line: rule NAME {");
	for (int i = 0; i < K_COUNT; i++) {
		const struct key *k = &config_keys[i];

		if (k->in_rule == in_rule &&
		    (!in_rule || (k->kinds & (1u << p->rule->kind))))
			n += (size_t)snprintf(list + n, sizeof(list) - n,
					      "%s, ", k->name);
	}
	snprintf(list + n, sizeof(list) - n, "%s",
		 in_rule ? "}" : "rule, answer-rule");
	if (in_rule)
		return config_fail(p,
				   "unknown setting '%s' in %s %s; expected "
				   "one of %s",
				   config_quote(p, 0, s),
				   config_kind_word(p->rule->kind),
				   p->rule->name, list);
	return config_fail(p, "unknown setting '%s'; expected one of %s",
			   config_quote(p, 0, s), list);
}

static int check_rule_name(struct parser *p, char **tok, int ntok)
{
	const char *word = tok[0], *name = tok[1];
	size_t len = strlen(name);

	if (strcmp(name, "{") == 0)
		return config_fail(p, "%s: missing name before '{'", word);
	if (ntok == 2 && len > 1 && name[len - 1] == '{')
		return config_fail(p,
				   "%s: put a space between the name and '{' "
				   "in '%s'",
				   word, config_quote(p, 0, name));
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return config_fail(p,
					   "%s: expected a name of letters, "
					   "digits, _ and -, got '%s'",
					   word, config_quote(p, 0, name));
	}
	if (len > CONFIG_NAME_MAX)
		return config_fail(p,
				   "%s: name '%s' is longer than %d "
				   "characters",
				   word, config_quote(p, 0, name),
				   CONFIG_NAME_MAX);
	if (ntok == 2)
		return config_fail(p,
				   "%s %s: missing '{' at the end of the line",
				   word, name);
	if (strcmp(tok[2], "{") != 0)
		return config_fail(p,
				   "%s %s: expected '{' after the name, got "
				   "'%s'",
				   word, name, config_quote(p, 0, tok[2]));
	if (ntok > 3)
		return config_fail(p,
				   "%s %s: unexpected '%s' after '{'; "
				   "settings go on lines of their own",
				   word, name, config_quote(p, 0, tok[3]));
	/* one name space for both kinds: counters and logs name rules */
	for (size_t i = 0; i < p->cfg->nrules; i++) {
		if (strcmp(p->cfg->rules[i].name, name) == 0)
			return config_fail(p,
					   "%s %s: already defined at line "
					   "%d",
					   word, name, p->cfg->rules[i].line);
	}
	if (p->cfg->nrules == CONFIG_RULES_MAX)
		return config_fail(p,
				   "%s %s: more than %d rules (of both kinds)",
				   word, name, CONFIG_RULES_MAX);
	return 0;
}

static int open_rule(struct parser *p, char **tok, int ntok,
		     enum config_rule_kind kind)
{
	struct config *c = p->cfg;
	struct config_rule *r;

	if (p->rule != NULL)
		return config_fail(p,
				   "%s inside %s %s (opened at line %d); "
				   "close that one with '}' first",
				   tok[0], config_kind_word(p->rule->kind),
				   p->rule->name, p->rule->line);
	if (ntok == 1)
		return config_fail(p,
				   "%s: expected '%s NAME {', got nothing "
				   "after '%s'",
				   tok[0], tok[0], tok[0]);
	if (check_rule_name(p, tok, ntok) != 0)
		return -EINVAL;
	if (c->nrules == p->rules_cap) {
		size_t cap = p->rules_cap ? p->rules_cap * 2 : 4;

		r = realloc(c->rules, cap * sizeof(*r));
		if (r == NULL)
			return config_out_of_memory(p);
		c->rules = r;
		p->rules_cap = cap;
	}
	r = &c->rules[c->nrules];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", tok[1]);
	r->line = p->line;
	r->kind = kind;
	r->ipv4_prefix = 32;
	r->ipv6_prefix = 56;
	r->action = CONFIG_ACTION_DROP;
	r->kernel_hold = kind == CONFIG_RULE_QUERY;
	if (kind == CONFIG_RULE_ANSWER)
		r->size = CONFIG_SIZE_DEFAULT;
	for (int i = 0; i < K_COUNT; i++) {
		if (config_keys[i].in_rule)
			p->seen[i] = 0;
	}
	p->rule = r;
	return 0;
}

/* A slip only where there is truncation, which then defaults to every
 * time. */
static int check_slip(struct parser *p, struct config_rule *r)
{
	if (r->slip != 0 && r->action != CONFIG_ACTION_TRUNCATE)
		return fail_at(p, p->seen[K_SLIP],
			       "slip in %s %s without action truncate: slip N "
			       "truncates every Nth refusal and drops the "
			       "others",
			       config_kind_word(r->kind), r->name);
	if (r->action == CONFIG_ACTION_TRUNCATE && r->slip == 0)
		r->slip = 1;
	return 0;
}

/* An answer rule's checks at its '}': a limit of some kind, the slip. */
static int close_answer_rule(struct parser *p, struct config_rule *r)
{
	if (r->limit_n == 0 && r->bytes_n == 0)
		return fail_at(p, r->line,
			       "answer-rule %s has no limit; add 'bytes "
			       "64k/10s', 'limit 20/10s' (answers) or both",
			       r->name);
	return check_slip(p, r);
}

static int close_rule(struct parser *p, char **tok, int ntok)
{
	struct config_rule *r = p->rule;
	int max_line = p->seen[K_HOLD_DOWN_MAX];
	char a[32], b[32];

	if (r == NULL)
		return config_fail(p, "'}' without an open rule");
	if (ntok > 1)
		return config_fail(p,
				   "'}' must stand alone on its line, got '%s' "
				   "after it",
				   config_quote(p, 0, tok[1]));
	if (r->kind == CONFIG_RULE_ANSWER) {
		if (close_answer_rule(p, r) != 0)
			return -EINVAL;
	} else if (r->limit_n == 0) {
		return fail_at(p, r->line,
			       "rule %s has no limit; add one such as 'limit "
			       "2/5s'",
			       r->name);
	} else if (r->nqtypes == 0 && r->nqnames == 0) {
		return fail_at(p, r->line,
			       "rule %s would match every query; give it a "
			       "qtype, a qname or both",
			       r->name);
	} else if (check_slip(p, r) != 0) {
		return -EINVAL;
	}
	if (p->seen[K_KERNEL_HOLD] != 0 && r->kernel_hold)
		p->cfg->line.kernel_hold[p->cfg->nrules] =
			p->seen[K_KERNEL_HOLD];
	if (max_line != 0 && r->hold_down == 0)
		return fail_at(p, max_line,
			       "hold-down-max without hold-down in rule %s; "
			       "add hold-down or remove this line",
			       r->name);
	if (max_line != 0 && r->hold_down_max < r->hold_down) {
		config_duration_text(r->hold_down_max, a, sizeof(a));
		config_duration_text(r->hold_down, b, sizeof(b));
		return fail_at(p, max_line,
			       "hold-down-max %s is shorter than hold-down %s "
			       "(line %d)",
			       a, b, p->seen[K_HOLD_DOWN]);
	}
	if (max_line == 0 && r->hold_down != 0)
		r->hold_down_max = r->hold_down > HOLD_DOWN_CAP / 8
					   ? HOLD_DOWN_CAP
					   : 8 * r->hold_down;
	p->cfg->nrules++;
	p->rule = NULL;
	return 0;
}

static int check_bytes(struct parser *p, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0')
			return config_fail(p, "NUL byte in column %zu", i + 1);
		if (c == '\r')
			return config_fail(p,
					   "carriage return in column %zu: the "
					   "file has DOS line endings; convert "
					   "it with dos2unix",
					   i + 1);
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return config_fail(p,
					   "control character \\%03u in column "
					   "%zu; only spaces and tabs separate "
					   "tokens",
					   c, i + 1);
	}
	return 0;
}

static int parse_line(struct parser *p, const char *text, size_t n)
{
	char buf[LINE_CHARS_MAX + 1];
	char *tok[TOKENS_MAX], *s = buf, *hash;
	const struct key *k;
	int ntok = 0, id;
	bool list;

	if (n > LINE_CHARS_MAX)
		return config_fail(p, "line is longer than %d characters",
				   LINE_CHARS_MAX);
	if (check_bytes(p, text, n) != 0)
		return -EINVAL;
	memcpy(buf, text, n);
	buf[n] = '\0';
	hash = strchr(buf, '#');
	if (hash != NULL)
		*hash = '\0';
	for (;;) {
		s += strspn(s, " \t");
		if (*s == '\0')
			break;
		tok[ntok++] = s;
		s += strcspn(s, " \t");
		if (*s == '\0')
			break;
		*s++ = '\0';
	}
	if (ntok == 0)
		return 0;
	if (strcmp(tok[0], "rule") == 0)
		return open_rule(p, tok, ntok, CONFIG_RULE_QUERY);
	if (strcmp(tok[0], "answer-rule") == 0)
		return open_rule(p, tok, ntok, CONFIG_RULE_ANSWER);
	if (strcmp(tok[0], "}") == 0)
		return close_rule(p, tok, ntok);
	for (id = 0; id < K_COUNT; id++) {
		if (strcmp(tok[0], config_keys[id].name) == 0)
			break;
	}
	if (id == K_COUNT)
		return unknown_key(p, tok[0]);
	k = &config_keys[id];
	if (k->in_rule && p->rule == NULL)
		return config_fail(p,
				   "%s is a rule setting; put it inside rule { "
				   "}",
				   k->name);
	if (!k->in_rule && p->rule != NULL)
		return config_fail(p,
				   "%s is a global setting; move it out of "
				   "%s %s (opened at line %d)",
				   k->name, config_kind_word(p->rule->kind),
				   p->rule->name, p->rule->line);
	if (k->in_rule && !(k->kinds & (1u << p->rule->kind)))
		return config_fail(p,
				   "%s is an answer-rule setting; %s is a "
				   "query rule (opened at line %d)",
				   k->name, p->rule->name, p->rule->line);
	if (k->type != KT_PREFIXES && p->seen[id] != 0)
		return config_fail(p, "%s: already set at line %d", k->name,
				   p->seen[id]);
	p->seen[id] = p->line;
	if (ntok == 1)
		return config_fail(p, "%s: missing value; expected %s", k->name,
				   k->expect);
	list = k->type == KT_PREFIXES || k->type == KT_QTYPE ||
	       k->type == KT_QNAME;
	if (!list && ntok > 2)
		return config_fail(p,
				   "%s: unexpected '%s' after '%s'; it takes "
				   "one value",
				   k->name, config_quote(p, 0, tok[2]),
				   config_quote(p, 1, tok[1]));
	return config_set_value(p, k, tok + 1, ntok - 1);
}

static void set_defaults(struct config *c)
{
	c->queue_first = 0;
	c->queue_last = 0;
	c->queue_maxlen = 4096;
	c->table_size = 1048576;
	c->fail_open = false;
	c->stats_interval = 60 * NS_S;
	c->report_interval = NS_H;
	c->report_top = 10;
	c->syslog_facility = LOG_DAEMON;
	c->malformed = CONFIG_DROP;
	c->fragments = CONFIG_DROP;
	c->log_n = 10;
	c->log_period = NS_S;
	c->log_truncate = false;
	c->rules_required = true;
	c->kernel_hold_max = 65536;
}

/*
 * The answer path's queues: by default the one after the query queues;
 * never one of them (a queue has one reader, which judges one path).
 */
static int answer_queues(struct parser *p)
{
	struct config *c = p->cfg;

	if (p->seen[K_ANSWER_QUEUE] == 0) {
		uint16_t q = c->queue_last < 65535 ? c->queue_last + 1
						   : c->queue_first - 1;

		c->answer_queue_first = q;
		c->answer_queue_last = q;
		return 0;
	}
	if (c->answer_queue_first <= c->queue_last &&
	    c->queue_first <= c->answer_queue_last)
		return fail_at(p, p->seen[K_ANSWER_QUEUE],
			       "answer-queue %u-%u overlaps queue %u-%u%s; the "
			       "answer path needs queues of its own",
			       c->answer_queue_first, c->answer_queue_last,
			       c->queue_first, c->queue_last,
			       p->seen[K_QUEUE] == 0 ? " (the default)" : "");
	return 0;
}

struct config *config_parse(const char *name, const char *text, size_t len,
			    char *err, size_t errlen)
{
	struct parser p;
	const char *pos, *end;
	int rc = 0;

	memset(&p, 0, sizeof(p));
	p.name = name != NULL ? name : "(config)";
	p.err = err;
	p.errlen = errlen;
	if (errlen > 0 && err != NULL)
		err[0] = '\0';
	if (len > FILE_BYTES_MAX) {
		set_err(err, errlen, "%s: larger than 1 MiB", p.name);
		return NULL;
	}
	if (text == NULL)
		text = "";
	pos = text;
	end = text + len;
	p.cfg = calloc(1, sizeof(*p.cfg));
	if (p.cfg == NULL) {
		config_out_of_memory(&p);
		return NULL;
	}
	set_defaults(p.cfg);
	p.cfg->path = strdup(p.name);
	if (p.cfg->path == NULL)
		rc = config_out_of_memory(&p);
	while (rc == 0 && pos < end) {
		const char *nl = memchr(pos, '\n', (size_t)(end - pos));
		size_t n = nl != NULL ? (size_t)(nl - pos)
				      : (size_t)(end - pos);

		p.line++;
		rc = parse_line(&p, pos, n);
		pos += n + (nl != NULL);
	}
	if (rc == 0 && p.rule != NULL)
		rc = fail_at(&p, p.rule->line,
			     "%s %s is never closed: the file ends before "
			     "its '}'",
			     config_kind_word(p.rule->kind), p.rule->name);
	if (rc == 0)
		rc = answer_queues(&p);
	if (rc != 0) {
		config_free(p.cfg);
		return NULL;
	}
	p.cfg->line.table_size = p.seen[K_TABLE_SIZE];
	p.cfg->line.user = p.seen[K_USER];
	p.cfg->line.control_socket = p.seen[K_CONTROL_SOCKET];
	p.cfg->line.control_group = p.seen[K_CONTROL_GROUP];
	p.cfg->line.prometheus_file = p.seen[K_PROMETHEUS_FILE];
	p.cfg->line.answer_queue = p.seen[K_ANSWER_QUEUE];
	return p.cfg;
}

struct config *config_load(const char *path, char *err, size_t errlen)
{
	struct config *cfg = NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	struct stat st;
	int fd;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	/* checked on the open file, so what is checked is what is read */
	if (fstat(fd, &st) < 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		set_err(err, errlen,
			"%s: not a regular file (%s); the configuration is a "
			"file",
			path,
			S_ISFIFO(st.st_mode)   ? "a FIFO"
			: S_ISDIR(st.st_mode)  ? "a directory"
			: S_ISSOCK(st.st_mode) ? "a socket"
			: S_ISCHR(st.st_mode)  ? "a character device"
					       : "a special file");
		goto fail;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		set_err(err, errlen,
			"%s: writable by group or others (mode %04o): anyone "
			"who can write it sets the policy; chmod go-w %s",
			path, (unsigned)(st.st_mode & 07777), path);
		goto fail;
	}
	/* read to the end rather than trust st_size, which may be changing */
	for (;;) {
		ssize_t got;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nbuf;

			if (ncap > FILE_BYTES_MAX + 1)
				ncap = FILE_BYTES_MAX + 1;
			nbuf = realloc(buf, ncap);
			if (nbuf == NULL) {
				set_err(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = nbuf;
			cap = ncap;
		}
		got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			set_err(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (got == 0)
			break;
		len += (size_t)got;
		if (len > FILE_BYTES_MAX) {
			set_err(err, errlen, "%s: larger than 1 MiB", path);
			goto fail;
		}
	}
	cfg = config_parse(path, buf, len, err, errlen);
	if (cfg != NULL)
		cfg->file_owner = st.st_uid;
fail:
	free(buf);
	close(fd);
	return cfg;
}

int config_check_owner(const struct config *cfg, uid_t uid, char *err,
		       size_t errlen)
{
	if (cfg->file_owner == 0 || cfg->file_owner == uid)
		return 0;
	set_err(err, errlen,
		"%s: owned by uid %u; it must belong to root or to the "
		"daemon's user (uid %u)",
		cfg->path != NULL ? cfg->path : "(config)",
		(unsigned)cfg->file_owner, (unsigned)uid);
	return -EPERM;
}

size_t config_count_rules(const struct config *cfg, enum config_rule_kind k)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->nrules; i++)
		n += cfg->rules[i].kind == k;
	return n;
}

uint32_t config_answer_min_size(const struct config *cfg)
{
	uint32_t min = 0;
	bool any = false;

	for (size_t i = 0; i < cfg->nrules; i++) {
		const struct config_rule *r = &cfg->rules[i];

		if (r->kind == CONFIG_RULE_ANSWER && (!any || r->size < min)) {
			min = r->size;
			any = true;
		}
	}
	return min;
}

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->user);
	free(cfg->control_socket);
	free(cfg->control_group);
	free(cfg->prometheus_file);
	free(cfg->allow);
	free(cfg->serve);
	free(cfg->rules);
	free(cfg);
}
