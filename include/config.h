/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The configuration file: one setting a line, rules in blocks.
 *
 *	queue		0-3
 *	allow		203.0.113.0/24 2001:db8:53::/48
 *	rule any-abuse {
 *		qtype	ANY
 *		limit	2/5s
 *	}
 *	answer-rule big-answers {
 *		size	1000
 *		bytes	64k/10s
 *		action	truncate
 *	}
 *
 * A `rule` judges queries by their source; an `answer-rule` judges the
 * resolver's answers by their destination (the customer, or the victim of
 * a reflection) and counts their bytes.
 * Every value is range-checked; an error names file:line and what was
 * expected.  A file is parsed into a new struct config, so a failed reload
 * leaves the running one untouched.
 */
#ifndef DNSRL_CONFIG_H
#define DNSRL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define CONFIG_RULES_MAX 64
#define CONFIG_QTYPES_MAX 32
#define CONFIG_QNAMES_MAX 32
#define CONFIG_NAME_MAX 32 /* rule name, without the NUL */
#define CONFIG_ERR_MAX 512 /* room for an error message */
#define CONFIG_QUEUES_MAX 16
#define CONFIG_SERVE_MAX 256 /* served prefixes: one iptables rule each */

#define CONFIG_LIMIT_N_MAX 1000000u
#define CONFIG_BYTES_MAX 1000000000u /* of a byte budget: 1G */
#define CONFIG_SIZE_DEFAULT 512u     /* answers judged: IP length >= it */
#define CONFIG_PERIOD_MIN 1000000ull /* 1 ms, in ns */
#define CONFIG_PERIOD_MAX (24ull * 3600 * 1000000000) /* 24 h */

enum config_action {
	CONFIG_ACTION_DROP, /* drop over the limit; the first match decides */
	CONFIG_ACTION_LOG,  /* count as would-drop and go on to the next rule */
	/* answer rules: over the limit, the answer is replaced by a minimal
	 * one with TC=1 (every slip-th time; the others are dropped) */
	CONFIG_ACTION_TRUNCATE,
};

enum config_rule_kind {
	CONFIG_RULE_QUERY,  /* `rule`: queries, by source */
	CONFIG_RULE_ANSWER, /* `answer-rule`: answers, by destination */
};

enum config_verdict {
	CONFIG_ACCEPT,
	CONFIG_DROP,
};

/* An address prefix; for IPv4 addr[0..3] holds the address. */
struct config_prefix {
	int family; /* AF_INET or AF_INET6 */
	uint8_t len;
	uint8_t addr[16];
};

/* A name suffix in wire format, lower case, root label included. */
struct config_qname {
	uint8_t wire[255];
	uint8_t len;
};

struct config_rule {
	char name[CONFIG_NAME_MAX + 1];
	int line; /* where the block starts */
	enum config_rule_kind kind;
	uint16_t qtypes[CONFIG_QTYPES_MAX];
	size_t nqtypes; /* 0: every qtype (then nqnames > 0) */
	struct config_qname qnames[CONFIG_QNAMES_MAX];
	size_t nqnames;		/* 0: every name */
	uint32_t limit_n;	/* queries, or answers; 0: none (answers) */
	uint64_t limit_period;	/* ns */
	uint8_t ipv4_prefix;	/* 8..32, default 32 */
	uint8_t ipv6_prefix;	/* 32..64, default 56 */
	uint64_t hold_down;	/* ns; 0: none */
	uint64_t hold_down_max; /* ns; cap of the doubling */
	uint32_t total_n;	/* 0: no total */
	uint64_t total_period;	/* ns */
	enum config_action action;

	/* answer rules only */
	uint32_t size;		     /* answers of at least size octets (IP) */
	uint32_t bytes_n;	     /* bytes B/T per destination; 0: none */
	uint64_t bytes_period;	     /* ns */
	uint32_t total_bytes_n;	     /* bytes over all destinations; 0: none */
	uint64_t total_bytes_period; /* ns */
	uint32_t slip;		     /* truncate: every slip-th refusal */
	/* query rules: a held source's queries of the rule's types are
	 * dropped in the kernel, where the rule allows it (see holds.h) */
	bool kernel_hold;
};

struct config {
	char *path;	  /* as given to config_load */
	uid_t file_owner; /* owner of the file read (0 when parsed) */

	/* need a restart */
	uint16_t queue_first, queue_last; /* at most CONFIG_QUEUES_MAX */
	/* the answer path's queues (used when there are answer rules) */
	uint16_t answer_queue_first, answer_queue_last;
	/* the running daemon's, not the file's: its answer queues are bound
	 * (it started with answer rules) */
	bool answer_path;
	uint32_t queue_maxlen; /* packets the kernel may hold */
	uint32_t queue_rcvbuf; /* socket buffer bytes; 0: sized */
	size_t table_size;     /* tracked sources */
	bool fail_open;	       /* queue full: accept (yes) */
	char *user;	       /* drop privileges to it; or NULL */
	char *control_socket;  /* unix socket path; or NULL */
	/* may read (stats, top, show) over the socket; or NULL: nobody but
	 * root and the user */
	char *control_group;

	/* a reload may change */
	uint64_t stats_interval;       /* ns; 0: no periodic counters */
	uint64_t report_interval;      /* ns; 0: no abuse-desk report */
	uint32_t report_top;	       /* prefixes per rule in the report */
	int syslog_facility;	       /* LOG_DAEMON ... */
	enum config_verdict malformed; /* unparseable UDP/53 payloads */
	enum config_verdict fragments; /* fragmented queries */
	uint32_t log_n;	       /* per-source lines: log_n per log_period */
	uint64_t log_period;   /* ns */
	bool log_truncate;     /* addresses in logs cut to /24 and /48 */
	char *prometheus_file; /* textfile collector output; or NULL */

	struct config_prefix *allow;
	size_t nallow;
	/* the customers' prefixes: only their queries are judged; none: all */
	struct config_prefix *serve;
	size_t nserve;
	bool manage_rules; /* the daemon installs and replaces its rules */
	uint32_t kernel_hold_max; /* entries a rule's kernel set holds */
	bool rules_required;	  /* a file without a rule is a mistake */

	/* where settings the daemon checks later were given (0: default) */
	struct {
		int table_size, user, control_socket, control_group;
		int prometheus_file;
		int answer_queue;
		int kernel_hold[CONFIG_RULES_MAX]; /* where a rule said yes */
	} line;
	struct config_rule *rules;
	size_t nrules;
};

/*
 * Reads and parses the file at path.  Returns a new config the caller owns
 * (config_free), or NULL with a "file:line: message" in err[0..errlen).
 */
struct config *config_load(const char *path, char *err, size_t errlen);

/*
 * Checks that the file cfg was read from belongs to root or to uid (the
 * user the daemon runs as).  Returns 0, or -EPERM with a message in err.
 * config_load itself refuses a file writable by group or others.
 */
int config_check_owner(const struct config *cfg, uid_t uid, char *err,
		       size_t errlen);

/*
 * Parses text[0..len) as if read from a file called name.  Same contract
 * as config_load.
 */
struct config *config_parse(const char *name, const char *text, size_t len,
			    char *err, size_t errlen);

/* No-op on NULL. */
void config_free(struct config *cfg);

/* The number of cfg's rules of a kind. */
size_t config_count_rules(const struct config *cfg, enum config_rule_kind k);

/*
 * The smallest `size` of cfg's answer rules: answers shorter than it never
 * need the queue.  0 when there is no answer rule.
 */
uint32_t config_answer_min_size(const struct config *cfg);

/*
 * Writes the effective configuration, defaults included, in the file's
 * own syntax: parsing the output gives the same config.
 */
void config_print(const struct config *cfg, FILE *out);

/* A one-line summary of a rule: "any-abuse: ANY limit 2/5s per /32 /56". */
void config_rule_summary(const struct config_rule *r, char *buf, size_t buflen);

/*
 * Reads s as an `allow` line reads a prefix: "198.51.100.7" (an address
 * alone is its whole length), "198.51.100.0/24", "2001:db8::/56"; host
 * bits past the length are a mistake.  Returns 0, or -EINVAL with a
 * message in err that begins with what ("release: ...") and, unlike the
 * file's, names no file:line.
 */
int config_parse_prefix(const char *what, const char *s,
			struct config_prefix *out, char *err, size_t errlen);

/*
 * Reads s as the file reads a duration ("90s", "10m", "1h"; "0" only
 * when zero is set) in min..max ns, range saying how in a message ("1s..7d").
 * Returns 0, or -EINVAL with a message in err as config_parse_prefix.
 */
int config_parse_duration(const char *what, const char *s, bool zero,
			  uint64_t min, uint64_t max, const char *range,
			  uint64_t *out, char *err, size_t errlen);

/*
 * Formats a duration in ns the way the file writes it ("5s", "250ms",
 * "10m", "1h").
 */
void config_duration_text(uint64_t ns, char *buf, size_t buflen);

#endif
