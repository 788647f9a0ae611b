/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reports for people: the sources most limited now (`dnsrlctl top`, and
 * the abuse desk's periodic syslog line), the counters as text
 * (`dnsrlctl stats`) and as a Prometheus text file for node_exporter's
 * textfile collector.
 *
 * All of it runs on the main thread, off the packet path: allocation is
 * allowed, but bounded by what was asked (n sources per rule), never by
 * the size of the table.
 */
#ifndef DNSRL_REPORT_H
#define DNSRL_REPORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "limiter.h"
#include "policy.h"
#include "stats.h"

#define REPORT_TOP_MAX 1000 /* sources per rule a report may ask for */

/* The top sources of one rule. */
struct report_rule_top {
	unsigned id;		 /* rule id */
	size_t limited;		 /* sources of the rule limited now */
	size_t count;		 /* entries in e: at most the n asked for */
	struct limiter_entry *e; /* most drops first; ties: IPv4, low keys */
};

/* The top sources of every rule, in the policy's rule order. */
struct report_top {
	size_t n; /* asked for, per rule */
	size_t nrules;
	struct report_rule_top rule[]; /* nrules of them */
};

/*
 * Walks the table at time now and keeps, for each rule of p, the n
 * (1..REPORT_TOP_MAX) sources with the most queries refused in their
 * current episode, with their hold status.  Sources of rules p does not
 * have (a reload is retiring them) are left out.  Takes the table's locks
 * bucket by bucket, as limiter_walk does; when cancel (or NULL) becomes
 * true meanwhile, it gives up.  Returns a new report the caller owns
 * (report_top_free), or NULL with errno set: EINVAL for n out of range,
 * ENOMEM, ECANCELED.
 */
struct report_top *report_top_new(struct limiter *l, const struct policy *p,
				  uint64_t now, size_t n,
				  const _Atomic bool *cancel);

/* No-op on NULL. */
void report_top_free(struct report_top *t);

/*
 * Writes a source prefix as logs show it: the rule's prefix length for
 * the family, cut to /24 (IPv4) or /48 (IPv6) when truncate is set.
 */
void report_source_text(const struct config_rule *r, int family, uint64_t key,
			bool truncate, char *buf, size_t buflen);

/*
 * Writes `dnsrlctl top`: for each rule of t, a header with the number of
 * sources limited now, then one line per source (rank, prefix, drops,
 * state).  p names the rules (the policy t was made from).  Returns 0, or
 * -EIO when out reports an error.
 */
int report_top_text(const struct report_top *t, const struct policy *p,
		    bool truncate, FILE *out);

/*
 * Formats the abuse desk's line for t->rule[i]:
 * "report: rule any-abuse top 2: 198.51.100.66/32 495 (held),
 * 2001:db8:2::/56 80".  Returns what snprintf returns (the length the
 * whole line needs); 0, with buf empty, when the rule has no offenders.
 */
int report_line(const struct report_top *t, size_t i, const struct policy *p,
		bool truncate, char *buf, size_t buflen);

/*
 * Formats a per-source transition of rule r the way the log shows it:
 * "limited: rule R source P exceeds N/T (QTYPE NAME)", "hold-down: ...",
 * "released: ...".  The first drop carries the query that caused it:
 * qtype and the wire-format name[0..name_len) (name_len 0: none), which
 * is escaped.  Returns what snprintf returns.
 */
int report_event_text(const struct config_rule *r,
		      const struct limiter_event *ev, uint16_t qtype,
		      const uint8_t *name, size_t name_len, bool truncate,
		      char *buf, size_t buflen);

/*
 * Logs, with log_warnx, one line for each loss counter of sum (id gaps,
 * receive buffer overruns, verdicts the kernel refused, internal errors)
 * that moved since last[], and updates last[].
 */
void report_losses(const struct stats *sum, uint64_t last[STATS_NCOUNTERS]);

/* Logs report_line() for every rule with offenders (log_info). */
void report_log(const struct report_top *t, const struct policy *p,
		bool truncate);

/* What the main thread knows, lent to the counter reports. */
struct report_view {
	const struct stats *sum;     /* summed over the query workers */
	const struct stats *answers; /* ... the answer workers; or NULL */
	const struct policy *policy; /* the running one */
	const uint32_t *live;	     /* live buckets per rule id, last sweep */
	size_t table_used;	     /* live buckets, last sweep */
	size_t table_capacity;
	uint64_t events_lost;	 /* per-source events the workers dropped */
	uint64_t log_suppressed; /* per-source lines over the log budget */
};

/* The STATS_FMT_* flags of a rule's counter line. */
unsigned report_rule_fmt(const struct config_rule *r);

/*
 * Writes `dnsrlctl stats`: the daemon line, the answer path's line when
 * it runs, and one line per rule, as the periodic syslog lines have them
 * ("stats: packets=... table-used=U/C events-lost=... log-suppressed=...",
 * "answers: packets=... replaced=... bytes=...", "rule NAME: matched=...
 * tracked=N"), why (such as " (SIGUSR1)") after "stats" and "answers".
 * The daemon logs the same lines.  Returns 0, or -EIO when out reports an
 * error.
 */
int report_stats_text(const struct report_view *v, const char *why, FILE *out);

/*
 * Writes the counters in the Prometheus text format to out.  Returns 0,
 * or -EIO when out reports an error.
 */
int report_prometheus_write(const struct report_view *v, FILE *out);

/*
 * Writes the counters in the Prometheus text format to path, atomically:
 * into "PATH.tmp.PID" in the same directory (which the textfile collector
 * ignores, as it does not end in .prom), synced, mode 0644 whatever the
 * umask, then renamed over path, so a reader never sees a partial file.
 * Returns 0 or -errno; on failure path is left as it was and the
 * temporary file is removed.
 */
int report_prometheus(const char *path, const struct report_view *v);

#endif
