/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reports: top offenders per rule, the counters as text and as a
 * Prometheus text file.
 *
 * The top sources are chosen in one walk of the table with a min-heap of
 * n entries per rule, whose root is the weakest source kept: a source
 * that beats it replaces it.  So the cost is one pass over the table plus
 * log n per limited source, and the memory is n entries per rule, however
 * large the table and however many sources are limited.
 */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "dns.h"
#include "log.h"

#define SOURCE_TEXT_MAX 64
#define WALK_PART 65536 /* buckets between two looks at cancel */
#define LINE_MAX_BYTES 8192

/* The walk's state: the report being filled, and where each rule id
 * has its place in it. */
struct top_walk {
	struct report_top *t;
	int slot[LIMITER_RULE_IDS]; /* index into t->rule; -1: not reported */
};

/* True when a ranks above b: more drops; ties go to IPv4, then low keys,
 * so a report does not depend on where the hash put the sources. */
static bool ranks_above(const struct limiter_entry *a,
			const struct limiter_entry *b)
{
	if (a->drops != b->drops)
		return a->drops > b->drops;
	if (a->family != b->family)
		return a->family < b->family;
	return a->key < b->key;
}

/* Restores the heap below i: every parent ranks below its children. */
static void heap_down(struct limiter_entry *h, size_t count, size_t i)
{
	for (;;) {
		size_t low = i, l = 2 * i + 1, r = 2 * i + 2;
		struct limiter_entry tmp;

		if (l < count && ranks_above(&h[low], &h[l]))
			low = l;
		if (r < count && ranks_above(&h[low], &h[r]))
			low = r;
		if (low == i)
			return;
		tmp = h[i];
		h[i] = h[low];
		h[low] = tmp;
		i = low;
	}
}

static void heap_up(struct limiter_entry *h, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		struct limiter_entry tmp;

		if (!ranks_above(&h[parent], &h[i]))
			return;
		tmp = h[i];
		h[i] = h[parent];
		h[parent] = tmp;
		i = parent;
	}
}

static void top_visit(void *arg, const struct limiter_entry *e)
{
	struct top_walk *w = arg;
	struct report_rule_top *rt;

	if (w->slot[e->rule] < 0)
		return;
	rt = &w->t->rule[w->slot[e->rule]];
	rt->limited++;
	if (rt->count < w->t->n) {
		rt->e[rt->count] = *e;
		heap_up(rt->e, rt->count++);
	} else if (ranks_above(e, &rt->e[0])) {
		rt->e[0] = *e;
		heap_down(rt->e, rt->count, 0);
	}
}

static int compare_entries(const void *a, const void *b)
{
	if (ranks_above(a, b))
		return -1;
	return ranks_above(b, a) ? 1 : 0;
}

struct report_top *report_top_new(struct limiter *l, const struct policy *p,
				  uint64_t now, size_t n,
				  const _Atomic bool *cancel)
{
	const struct limiter_rule *rules[LIMITER_RULE_IDS];
	size_t nrules = policy_nrules(p);
	struct limiter_entry *mem;
	struct top_walk w;
	struct report_top *t;

	if (n == 0 || n > REPORT_TOP_MAX) {
		errno = EINVAL;
		return NULL;
	}
	/* The entries follow the rules in the same block; both hold only
	 * integers and pointers, so the entries stay aligned. */
	t = calloc(1, sizeof(*t) + nrules * sizeof(t->rule[0]) +
			      nrules * n * sizeof(struct limiter_entry));
	if (t == NULL)
		return NULL;
	t->n = n;
	t->nrules = nrules;
	mem = (struct limiter_entry *)(void *)&t->rule[nrules];
	for (size_t id = 0; id < LIMITER_RULE_IDS; id++)
		w.slot[id] = -1;
	for (size_t i = 0; i < nrules; i++) {
		t->rule[i].id = policy_rule_id(p, i);
		t->rule[i].e = mem + i * n;
		w.slot[t->rule[i].id] = (int)i;
	}
	w.t = t;
	policy_limiter_rules(p, rules);
	/* in parts, so that a daemon that stops need not wait for the end */
	for (size_t next = 0; !limiter_walk_part(l, rules, now, &next,
						 WALK_PART, top_visit, &w);)
		if (cancel != NULL && atomic_load(cancel)) {
			free(t);
			errno = ECANCELED;
			return NULL;
		}
	for (size_t i = 0; i < nrules; i++)
		qsort(t->rule[i].e, t->rule[i].count, sizeof(t->rule[i].e[0]),
		      compare_entries);
	return t;
}

void report_top_free(struct report_top *t)
{
	free(t);
}

void report_source_text(const struct config_rule *r, int family, uint64_t key,
			bool truncate, char *buf, size_t buflen)
{
	unsigned plen = family == 4 ? r->ipv4_prefix : r->ipv6_prefix;
	unsigned cut = family == 4 ? 24 : 48;
	unsigned bits = family == 4 ? 32 : 64;

	if (truncate && plen > cut) {
		plen = cut;
		key &= ~(uint64_t)0 << (bits - plen);
	}
	limiter_key_text(family, key, plen, buf, buflen);
}

/* The rule of t->rule[i], or NULL when p does not know it. */
static const struct config_rule *rule_of(const struct report_top *t, size_t i,
					 const struct policy *p)
{
	return i < t->nrules ? policy_rule_by_id(p, t->rule[i].id) : NULL;
}

/* Who a rule limits, and what its counts count. */
static const char *who(const struct config_rule *r)
{
	return r->kind == CONFIG_RULE_ANSWER ? "destination" : "source";
}

static const char *unit(const struct config_rule *r)
{
	return r->kind == CONFIG_RULE_ANSWER ? "octets" : "drops";
}

/* The limit as the file gives it: "2/5s", "64k/10s", "64k/10s 20/10s". */
static void limit_text(const struct config_rule *r, char *buf, size_t len)
{
	char d[32], b[32], e[32];
	int n = 0;

	buf[0] = '\0';
	if (r->bytes_n != 0) {
		config_duration_text(r->bytes_period, d, sizeof(d));
		snprintf(b, sizeof(b), "%" PRIu32, r->bytes_n);
		if (r->bytes_n % 1000000 == 0)
			snprintf(b, sizeof(b), "%" PRIu32 "M",
				 r->bytes_n / 1000000);
		else if (r->bytes_n % 1000 == 0)
			snprintf(b, sizeof(b), "%" PRIu32 "k",
				 r->bytes_n / 1000);
		n = snprintf(buf, len, "%s/%s octets", b, d);
	}
	if (r->limit_n != 0 && n >= 0 && (size_t)n < len) {
		config_duration_text(r->limit_period, e, sizeof(e));
		snprintf(buf + n, len - (size_t)n, "%s%" PRIu32 "/%s",
			 n > 0 ? " " : "", r->limit_n, e);
	}
}

int report_top_text(const struct report_top *t, const struct policy *p,
		    bool truncate, FILE *out)
{
	for (size_t i = 0; i < t->nrules; i++) {
		const struct report_rule_top *rt = &t->rule[i];
		const struct config_rule *r = rule_of(t, i, p);

		if (r == NULL)
			continue;
		fprintf(out, "rule %s: %zu %s%s limited", r->name, rt->limited,
			who(r), rt->limited == 1 ? "" : "s");
		if (rt->count < rt->limited)
			fprintf(out, ", top %zu", rt->count);
		fputc('\n', out);
		for (size_t k = 0; k < rt->count; k++) {
			const struct limiter_entry *e = &rt->e[k];
			char src[SOURCE_TEXT_MAX];

			report_source_text(r, e->family, e->key, truncate, src,
					   sizeof(src));
			fprintf(out, "%5zu  %-24s %10" PRIu32 " %s  ", k + 1,
				src, e->drops, unit(r));
			if (e->held)
				fprintf(out, "held (level %u)\n", e->level);
			else if (e->level > 0)
				fprintf(out, "limited (level %u)\n", e->level);
			else
				fprintf(out, "limited\n");
		}
	}
	return ferror(out) ? -EIO : 0;
}

int report_line(const struct report_top *t, size_t i, const struct policy *p,
		bool truncate, char *buf, size_t buflen)
{
	const struct config_rule *r = rule_of(t, i, p);
	size_t used;
	int n;

	if (buflen > 0)
		buf[0] = '\0';
	if (r == NULL || t->rule[i].count == 0)
		return 0;
	n = snprintf(buf, buflen, "report: rule %s top %zu%s:", r->name,
		     t->rule[i].count,
		     r->kind == CONFIG_RULE_ANSWER ? " (octets refused)" : "");
	for (size_t k = 0; k < t->rule[i].count && n >= 0; k++) {
		const struct limiter_entry *e = &t->rule[i].e[k];
		char src[SOURCE_TEXT_MAX];
		int m;

		report_source_text(r, e->family, e->key, truncate, src,
				   sizeof(src));
		/* Past the end of buf only the length is counted. */
		used = (size_t)n < buflen ? (size_t)n : buflen;
		m = snprintf(used < buflen ? buf + used : NULL, buflen - used,
			     "%s %s %" PRIu32 "%s", k > 0 ? "," : "", src,
			     e->drops, e->held ? " (held)" : "");
		n = m < 0 ? m : n + m;
	}
	return n;
}

int report_event_text(const struct config_rule *r,
		      const struct limiter_event *ev, uint16_t qtype,
		      const uint8_t *name, size_t name_len, bool truncate,
		      char *buf, size_t buflen)
{
	char src[SOURCE_TEXT_MAX], dur[32], type[16], lim[80];
	char qname[4 * DNS_NAME_MAX + 8];
	bool answers = r->kind == CONFIG_RULE_ANSWER;

	report_source_text(r, ev->family, ev->key, truncate, src, sizeof(src));
	switch (ev->kind) {
	case LIMITER_EV_LIMITED:
		limit_text(r, lim, sizeof(lim));
		if (name_len == 0 ||
		    dns_name_to_text(name, name_len, qname, sizeof(qname)) < 0)
			snprintf(qname, sizeof(qname), "?");
		dns_qtype_text(qtype, type, sizeof(type));
		if (answers && name_len == 0)
			snprintf(type, sizeof(type), "?");
		return snprintf(buf, buflen,
				"limited: rule %s %s %s exceeds %s (%s %s)",
				r->name, who(r), src, lim, type, qname);
	case LIMITER_EV_HELD:
		config_duration_text(ev->hold, dur, sizeof(dur));
		return snprintf(buf, buflen,
				"hold-down: rule %s %s %s refused for %s "
				"(hold-down %u)",
				r->name, who(r), src, dur, ev->level);
	case LIMITER_EV_RELEASED:
		return snprintf(buf, buflen,
				"released: rule %s %s %s, %" PRIu32
				" %s refused",
				r->name, who(r), src, ev->drops,
				answers ? "octets" : "queries");
	default:
		if (buflen > 0)
			buf[0] = '\0';
		return 0;
	}
}

/* Counters that mean packets went unseen or unanswered. */
static const struct {
	enum stats_counter c;
	const char *what;
} loss_counters[] = {
	{STATS_ID_GAPS, "packets lost to a netlink overflow (id gaps): "
			"the kernel passed or dropped them unchecked"},
	{STATS_ENOBUFS, "receive buffer overruns"},
	{STATS_SEND_FAIL, "verdict batches not taken by the kernel"},
	{STATS_INTERNAL, "packets accepted on an internal error"},
	{STATS_NL_ERRORS, "error replies from the queue"},
};

void report_losses(const struct stats *sum, uint64_t last[STATS_NCOUNTERS])
{
	for (size_t i = 0; i < sizeof(loss_counters) / sizeof(loss_counters[0]);
	     i++) {
		enum stats_counter c = loss_counters[i].c;

		if (sum->c[c] > last[c])
			log_warnx("%" PRIu64 " %s", sum->c[c] - last[c],
				  loss_counters[i].what);
		last[c] = sum->c[c];
	}
}

void report_log(const struct report_top *t, const struct policy *p,
		bool truncate)
{
	char *buf = malloc(LINE_MAX_BYTES);

	if (buf == NULL) {
		log_warn("report");
		return;
	}
	for (size_t i = 0; i < t->nrules; i++) {
		int n = report_line(t, i, p, truncate, buf, LINE_MAX_BYTES);

		if (n <= 0)
			continue;
		/* report-top's 100 sources fit; should a line not, it ends
		 * at the last whole source rather than in an address. */
		if (n >= LINE_MAX_BYTES && strrchr(buf, ',') != NULL)
			*strrchr(buf, ',') = '\0';
		log_info("%s%s", buf, n >= LINE_MAX_BYTES ? " ..." : "");
	}
	free(buf);
}

unsigned report_rule_fmt(const struct config_rule *r)
{
	if (r->kind == CONFIG_RULE_ANSWER)
		return STATS_FMT_ANSWER;
	return r->action == CONFIG_ACTION_TRUNCATE ? STATS_FMT_TRUNCATE : 0;
}

/* Where a rule's counters are: with the workers of its path. */
static const struct stats *rule_sum(const struct report_view *v,
				    const struct config_rule *r)
{
	return r->kind == CONFIG_RULE_ANSWER && v->answers != NULL ? v->answers
								   : v->sum;
}

int report_stats_text(const struct report_view *v, const char *why, FILE *out)
{
	char buf[1024];
	const struct policy *p = v->policy;

	stats_format_daemon(v->sum, buf, sizeof(buf));
	fprintf(out,
		"stats%s: %s table-used=%zu/%zu events-lost=%" PRIu64
		" log-suppressed=%" PRIu64 "\n",
		why, buf, v->table_used, v->table_capacity, v->events_lost,
		v->log_suppressed);
	if (v->answers != NULL) {
		stats_format_answers(v->answers, buf, sizeof(buf));
		fprintf(out, "answers%s: %s\n", why, buf);
	}
	for (size_t i = 0; i < policy_nrules(p); i++) {
		unsigned id = policy_rule_id(p, i);
		const struct config_rule *r = policy_rule_by_id(p, id);

		stats_format_rule(rule_sum(v, r), id, report_rule_fmt(r), buf,
				  sizeof(buf));
		fprintf(out, "rule %s: %s tracked=%" PRIu32 "\n", r->name, buf,
			v->live[id]);
	}
	return ferror(out) ? -EIO : 0;
}

/* Writes s as a label value: backslash, double quote and newline escaped
 * as the text format asks. */
static void prom_label(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '"')
			fputs("\\\"", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void prom_head(FILE *out, const char *name, const char *type,
		      const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_one(FILE *out, const char *name, const char *type,
		     const char *help, uint64_t value)
{
	prom_head(out, name, type, help);
	fprintf(out, "%s %" PRIu64 "\n", name, value);
}

/* A family with one sample per value of a label. */
struct prom_sample {
	const char *label;
	uint64_t value;
};

static void prom_labelled(FILE *out, const char *name, const char *help,
			  const char *label, const struct prom_sample *s,
			  size_t n)
{
	prom_head(out, name, "counter", help);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s{%s=\"", name, label);
		prom_label(out, s[i].label);
		fprintf(out, "\"} %" PRIu64 "\n", s[i].value);
	}
}

/* The per-rule families: a counter of stats.rule[id][counter], or the
 * live bucket gauge when counter is STATS_R_NCOUNTERS; some for answer
 * rules alone. */
static const struct {
	const char *name;
	const char *type;
	int counter;
	bool answers_only;
	const char *help;
} prom_rule_families[] = {
	{"dnsrl_rule_matched_total", "counter", STATS_R_MATCHED, false,
	 "Queries (answers, for an answer rule) the rule matched."},
	{"dnsrl_rule_accepted_total", "counter", STATS_R_ACCEPTED, false,
	 "Queries (answers) the rule matched within the limit."},
	{"dnsrl_rule_dropped_total", "counter", STATS_R_DROPPED, false,
	 "Queries (answers) the rule dropped."},
	{"dnsrl_rule_would_drop_total", "counter", STATS_R_WOULD_DROP, false,
	 "Queries (answers) over the limit of a log rule (action log)."},
	{"dnsrl_rule_held_down_total", "counter", STATS_R_HELD, false,
	 "Queries (answers) refused in a hold-down (part of dropped, "
	 "truncated or would-drop)."},
	{"dnsrl_rule_total_refused_total", "counter", STATS_R_TOTAL, false,
	 "Queries (answers) refused by the rule's total cap (part of "
	 "dropped, truncated or would-drop)."},
	{"dnsrl_rule_tracked", "gauge", STATS_R_NCOUNTERS, false,
	 "Live buckets of the rule at the last table sweep."},
	{"dnsrl_rule_answer_bytes_total", "counter", STATS_R_BYTES, true,
	 "Octets of the answers the rule matched (IP datagrams)."},
	{"dnsrl_rule_refused_bytes_total", "counter", STATS_R_BYTES_REFUSED,
	 true,
	 "Octets that did not leave: dropped answers, and what truncation "
	 "took off."},
	{"dnsrl_rule_truncated_total", "counter", STATS_R_TRUNCATED, true,
	 "Refused answers replaced by a minimal one with TC=1."},
	{"dnsrl_rule_truncate_failed_total", "counter", STATS_R_TRUNC_FAILED,
	 true,
	 "Refused answers that could not be truncated, dropped instead "
	 "(part of dropped)."},
	{"dnsrl_rule_would_refuse_bytes_total", "counter", STATS_R_BYTES_WOULD,
	 true, "Octets over the limit of a log rule (action log)."},
};

/* The answer path's own counters, when it runs. */
static void prom_answers(FILE *out, const struct stats *a)
{
	const struct prom_sample verdicts[] = {
		{"accept", a->c[STATS_ACCEPTED]},
		{"drop", a->c[STATS_DROPPED]},
		{"replace", a->c[STATS_REPLACED]},
	};

	prom_one(out, "dnsrl_answer_packets_total", "counter",
		 "Packets received from the answer queue.",
		 a->c[STATS_PACKETS]);
	prom_labelled(out, "dnsrl_answer_verdicts_total",
		      "Answer path verdicts, by verdict.", "verdict", verdicts,
		      3);
	prom_one(out, "dnsrl_answers_total", "counter",
		 "Answers judged (UDP from port 53 with QR=1).",
		 a->c[STATS_ANSWERS]);
	prom_one(out, "dnsrl_answer_bytes_total", "counter",
		 "Octets of the answers judged (IP datagrams).",
		 a->c[STATS_ANSWER_BYTES]);
	prom_one(out, "dnsrl_not_answers_total", "counter",
		 "UDP from port 53 that is no answer (QR=0), accepted.",
		 a->c[STATS_NOT_ANSWER]);
}

int report_prometheus_write(const struct report_view *v, FILE *out)
{
	const struct stats *s = v->sum;
	const struct policy *p = v->policy;
	const struct prom_sample verdicts[] = {
		{"accept", s->c[STATS_ACCEPTED]},
		{"drop", s->c[STATS_DROPPED]},
	};
	const struct prom_sample unchecked[] = {
		{"fragment", s->pkt[PACKET_FRAGMENT]},
		{"other", s->pkt[PACKET_OTHER]},
		{"invalid", s->pkt[PACKET_INVALID]},
		{"response", s->dns[DNS_RESPONSE]},
		{"opcode", s->dns[DNS_OPCODE]},
		{"qdcount", s->dns[DNS_QDCOUNT]},
	};
	const struct prom_sample table[] = {
		{"inserted", s->table.inserted},
		{"reused", s->table.reused},
		{"evicted", s->table.evicted},
		{"evicted_limited", s->table.evicted_limited},
	};

	prom_one(out, "dnsrl_packets_total", "counter",
		 "Packets received from the queue.", s->c[STATS_PACKETS]);
	prom_labelled(out, "dnsrl_verdicts_total", "Verdicts sent, by verdict.",
		      "verdict", verdicts, 2);
	prom_one(out, "dnsrl_queries_total", "counter",
		 "Standard queries with one question.", s->dns[DNS_QUERY]);
	prom_one(out, "dnsrl_allowed_total", "counter",
		 "Queries a rule could match, from allow-listed sources.",
		 s->c[STATS_ALLOWED]);
	prom_one(out, "dnsrl_malformed_total", "counter",
		 "UDP/53 payloads that do not parse.", s->c[STATS_MALFORMED]);
	prom_labelled(out, "dnsrl_unchecked_total",
		      "Packets no rule applies to, by reason.", "reason",
		      unchecked, sizeof(unchecked) / sizeof(unchecked[0]));
	prom_labelled(out, "dnsrl_table_slots_total",
		      "Sources given a table slot: a free one, a refilled "
		      "one, or a live one evicted (of them, limited ones).",
		      "how", table, sizeof(table) / sizeof(table[0]));
	prom_one(out, "dnsrl_id_gaps_total", "counter",
		 "Packet ids the kernel skipped: netlink messages lost.",
		 s->c[STATS_ID_GAPS]);
	prom_one(out, "dnsrl_enobufs_total", "counter",
		 "Receive buffer overruns reported by the kernel.",
		 s->c[STATS_ENOBUFS]);
	prom_one(out, "dnsrl_netlink_errors_total", "counter",
		 "Error replies from the queue.", s->c[STATS_NL_ERRORS]);
	prom_one(out, "dnsrl_internal_errors_total", "counter",
		 "Packets accepted on an internal error.",
		 s->c[STATS_INTERNAL]);
	prom_one(out, "dnsrl_send_failures_total", "counter",
		 "Verdict batches the kernel did not take.",
		 s->c[STATS_SEND_FAIL]);
	prom_one(out, "dnsrl_events_lost_total", "counter",
		 "Per-source events lost before they could be logged.",
		 v->events_lost);
	prom_one(out, "dnsrl_log_suppressed_total", "counter",
		 "Per-source log lines over the log budget.",
		 v->log_suppressed);
	prom_one(out, "dnsrl_table_used", "gauge",
		 "Live buckets at the last table sweep.", v->table_used);
	prom_one(out, "dnsrl_table_capacity", "gauge",
		 "Sources the table can hold.", v->table_capacity);
	if (v->answers != NULL)
		prom_answers(out, v->answers);

	for (size_t f = 0;
	     f < sizeof(prom_rule_families) / sizeof(prom_rule_families[0]);
	     f++) {
		int c = prom_rule_families[f].counter;

		if (prom_rule_families[f].answers_only &&
		    policy_nanswer_rules(p) == 0)
			continue;
		prom_head(out, prom_rule_families[f].name,
			  prom_rule_families[f].type,
			  prom_rule_families[f].help);
		for (size_t i = 0; i < policy_nrules(p); i++) {
			unsigned id = policy_rule_id(p, i);
			const struct config_rule *r = policy_rule_by_id(p, id);
			uint64_t value;

			if (prom_rule_families[f].answers_only &&
			    r->kind != CONFIG_RULE_ANSWER)
				continue;
			value = c == STATS_R_NCOUNTERS
					? v->live[id]
					: rule_sum(v, r)->rule[id][c];

			fprintf(out, "%s{rule=\"", prom_rule_families[f].name);
			prom_label(out, r->name);
			fprintf(out, "\"} %" PRIu64 "\n", value);
		}
	}
	return ferror(out) ? -EIO : 0;
}

int report_prometheus(const char *path, const struct report_view *v)
{
	char *tmp = NULL;
	FILE *out = NULL;
	int fd = -1, rc;

	if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0)
		return -ENOMEM;
	/* O_EXCL with O_NOFOLLOW: a file or link someone left at the
	 * temporary name is not written through. */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0)
		goto fail;
	/* The service's umask is 0077; node_exporter runs as another user. */
	if (fchmod(fd, 0644) < 0)
		goto fail;
	out = fdopen(fd, "w");
	if (out == NULL)
		goto fail;
	fd = -1;
	rc = report_prometheus_write(v, out);
	if (rc < 0 || fflush(out) != 0) {
		errno = rc < 0 ? -rc : errno;
		goto fail;
	}
	if (fsync(fileno(out)) < 0)
		goto fail;
	rc = fclose(out);
	out = NULL;
	if (rc != 0 || rename(tmp, path) < 0)
		goto fail;
	free(tmp);
	return 0;

fail:
	rc = -errno;
	if (out != NULL)
		fclose(out);
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return rc;
}
