/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Counters.  Each worker owns a struct stats and bumps plain integers on
 * the packet path; every so often it publishes a copy into a stats_box
 * (a mutex around a snapshot), which the main thread sums and logs.  No
 * counter is shared between threads, and none needs an atomic.
 */
#ifndef DNSRL_STATS_H
#define DNSRL_STATS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dns.h"
#include "limiter.h"
#include "packet.h"

enum stats_counter {
	STATS_PACKETS,	 /* packets received from the queue */
	STATS_VERDICTS,	 /* verdicts sent (one per packet) */
	STATS_ACCEPTED,	 /* ... of them accept, the packet unchanged */
	STATS_DROPPED,	 /* ... of them drop */
	STATS_REPLACED,	 /* ... of them accept with a new packet in its place:
			    neither accepted nor dropped, so verdicts =
			    accepted + dropped + replaced */
	STATS_ALLOWED,	 /* queries from an allow-listed source */
	STATS_MALFORMED, /* packets or payloads that cannot be read to their
			    question: the `malformed` setting decided */
	STATS_ID_GAPS,	 /* packet ids the kernel skipped: lost messages */
	STATS_ENOBUFS,	 /* receive buffer overruns reported */
	STATS_NL_ERRORS, /* error replies from the queue (verdict refused) */
	STATS_INTERNAL,	 /* internal errors, answered with accept */
	STATS_SEND_FAIL, /* verdict batches the kernel did not take */
	STATS_BATCHES,	 /* receive batches */
	STATS_CUT,	 /* packets the kernel copied in part (NFQA_CAP_LEN) */
	/* the answer path */
	STATS_ANSWERS,	    /* answers judged (UDP from port 53, QR=1) */
	STATS_NOT_ANSWER,   /* UDP from port 53 with QR=0: accepted */
	STATS_ANSWER_BYTES, /* octets of the judged answers (IP datagrams) */
	STATS_NCOUNTERS
};

enum stats_rule_counter {
	STATS_R_MATCHED,    /* queries the rule matched */
	STATS_R_ACCEPTED,   /* ... within the limit */
	STATS_R_DROPPED,    /* ... dropped by it (action drop) */
	STATS_R_WOULD_DROP, /* ... over the limit of a log rule */
	STATS_R_HELD,  /* ... refused in hold-down (a part of the two above) */
	STATS_R_TOTAL, /* ... refused by the rule's total cap (likewise) */
	/* answer rules */
	STATS_R_BYTES,	       /* octets of the answers it matched */
	STATS_R_BYTES_REFUSED, /* ... that did not leave: a dropped answer's
				  length, a truncated one's less what went */
	STATS_R_TRUNCATED,     /* refused answers replaced by a TC=1 one */
	STATS_R_TRUNC_FAILED,  /* ... that could not be, dropped instead
				  (a part of dropped) */
	STATS_R_BYTES_WOULD,   /* octets a log rule would have refused */
	STATS_R_NCOUNTERS
};

struct stats {
	uint64_t c[STATS_NCOUNTERS];
	uint64_t pkt[PACKET_NKINDS]; /* by packet kind */
	uint64_t dns[DNS_NSTATUS];   /* UDP payloads by DNS status */
	struct limiter_counters table;
	uint64_t rule[LIMITER_RULE_IDS][STATS_R_NCOUNTERS]; /* by rule id */
};

/* Adds every counter of s into sum. */
void stats_add(struct stats *sum, const struct stats *s);

/* Clears the counters of one rule id (its rule is gone). */
void stats_clear_rule(struct stats *s, unsigned id);

/* A snapshot slot for one worker. */
struct stats_box {
	pthread_mutex_t lock;
	struct stats snap;
};

/* Returns 0 or -errno. */
int stats_box_init(struct stats_box *b);
void stats_box_destroy(struct stats_box *b);

/* Worker side: copies *s into the box. */
void stats_publish(struct stats_box *b, const struct stats *s);

/* Main side: adds the box's snapshot into *sum. */
void stats_collect(struct stats_box *b, struct stats *sum);

/*
 * Formats the daemon line: "packets=... verdicts=... accepted=...
 * dropped=... replaced=... ...".
 * Returns what snprintf returns.
 */
int stats_format_daemon(const struct stats *s, char *buf, size_t buflen);

/*
 * Formats the answer path's line: "packets=... verdicts=... accepted=...
 * dropped=... replaced=... answers=... bytes=... not-answers=... ...".
 */
int stats_format_answers(const struct stats *s, char *buf, size_t buflen);

/* What a rule line shows beyond the common counters. */
#define STATS_FMT_ANSWER 0x1   /* an answer rule: octets and truncation */
#define STATS_FMT_TRUNCATE 0x2 /* a truncating query rule: truncation */

/*
 * Formats one rule's counters: "matched=... accepted=... dropped=...
 * would-drop=... held-down=... total-refused=...", for an answer rule
 * " bytes=... bytes-refused=... truncated=... truncate-failed=...
 * would-refuse-bytes=...", for a truncating query rule " truncated=...
 * truncate-failed=..." (what: STATS_FMT_* flags).
 */
int stats_format_rule(const struct stats *s, unsigned id, unsigned what,
		      char *buf, size_t buflen);

#endif
