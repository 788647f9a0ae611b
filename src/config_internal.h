/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the files of the configuration parser share, and nothing else
 * includes: config.c (the line and block grammar, the key table, loading),
 * config_value.c (each kind of value, read and written) and config_print.c
 * (a whole config written back).  The public interface is include/config.h.
 */
#ifndef DNSRL_CONFIG_INTERNAL_H
#define DNSRL_CONFIG_INTERNAL_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINE_CHARS_MAX 1023
#define QUOTE_CHARS 48		    /* of a token echoed in a message */
#define NAME_TEXT_MAX (255 * 4 + 2) /* a qname, every octet escaped */

#define NS_MS 1000000ull
#define NS_S (1000 * NS_MS)
#define NS_M (60 * NS_S)
#define NS_H (60 * NS_M)
#define NS_D (24 * NS_H)

enum key_type {
	KT_QUEUE, /* A or A-B: the first at off, the last at off2 (uint16_t) */
	KT_UINT,  /* an unsigned field of 1, 4 or 8 octets */
	KT_WORD,  /* one of the words of key.words */
	KT_USER,
	KT_PATH,
	KT_DURATION,
	KT_RATE,     /* N/T: N at off (uint32_t), T at off2 (uint64_t) */
	KT_BYTES,    /* B/T as KT_RATE, B with an optional k, M or G */
	KT_PREFIXES, /* a list of prefixes: the array at off, its count at
			off2, at most max */
	KT_QTYPE,
	KT_QNAME,
};

enum key_id {
	K_QUEUE,
	K_ANSWER_QUEUE,
	K_QUEUE_MAXLEN,
	K_QUEUE_RCVBUF,
	K_TABLE_SIZE,
	K_FAIL_OPEN,
	K_USER,
	K_CONTROL_SOCKET,
	K_CONTROL_GROUP,
	K_STATS_INTERVAL,
	K_REPORT_INTERVAL,
	K_REPORT_TOP,
	K_SYSLOG_FACILITY,
	K_MALFORMED,
	K_FRAGMENTS,
	K_LOG_LIMIT,
	K_LOG_TRUNCATE,
	K_PROMETHEUS_FILE,
	K_ALLOW,
	K_SERVE,
	K_MANAGE_RULES,
	K_RULES_REQUIRED,
	K_KERNEL_HOLD_MAX,
	K_QTYPE,
	K_QNAME,
	K_LIMIT,
	K_IPV4_PREFIX,
	K_IPV6_PREFIX,
	K_HOLD_DOWN,
	K_HOLD_DOWN_MAX,
	K_TOTAL,
	K_ACTION,
	K_SIZE,
	K_BYTES,
	K_TOTAL_BYTES,
	K_SLIP,
	K_KERNEL_HOLD,
	K_COUNT
};

/* A word value; every field a word sets is an int, a bool or an enum. */
struct word {
	const char *name;
	int value;
};

/* Which blocks a rule setting belongs in. */
#define KIND_QUERY (1u << CONFIG_RULE_QUERY)
#define KIND_ANSWER (1u << CONFIG_RULE_ANSWER)

struct key {
	const char *name;
	enum key_type type;
	bool in_rule;	/* off is into struct config_rule, else struct config */
	unsigned kinds; /* of a rule setting: KIND_* mask */
	bool zero;	/* a duration of 0 is allowed: off */
	size_t off, off2, size;
	uint64_t min, max; /* for paths and names, max is the length */
	const struct word *words;
	const char *expect; /* what is accepted, as messages spell it */
};

struct parser {
	const char *name; /* of the file, for messages */
	char *err;
	size_t errlen;
	int line;
	struct config *cfg;
	struct config_rule *rule; /* the open block, or NULL */
	int seen[K_COUNT];	  /* line of a key's first use; 0: unused */
	size_t cap[K_COUNT];	  /* room of the list keys' arrays */
	size_t rules_cap;
	char quoted[2][QUOTE_CHARS * 4 + 4];
};

/*
 * In config.c.  The key table, indexed by enum key_id; parsing and printing
 * both walk it.
 */
extern const struct key config_keys[K_COUNT];

/*
 * In config.c.  The word lists whose fields are a bool or an enum rather
 * than an int: setting and printing a word tell the field's type by which
 * list the key has.
 */
extern const struct word config_yes_no[];
extern const struct word config_verdicts[];
extern const struct word config_actions[];

/* In config.c.  The block keyword of a kind of rule: "rule", "answer-rule" */
const char *config_kind_word(enum config_rule_kind k);

/*
 * In config.c.  Puts "file:line: " and the message for the current line
 * into the parser's error buffer.  Returns -EINVAL.
 */
int config_fail(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* In config.c.  Puts "file: out of memory" in the error buffer; -ENOMEM. */
int config_out_of_memory(struct parser *p);

/*
 * In config.c.  A token as messages echo it, in the parser's buffer slot
 * (0 or 1), valid until that slot is used again.
 */
const char *config_quote(struct parser *p, int slot, const char *s);

/*
 * In config_value.c.  Reads the values arg[0..narg) of key k (narg >= 1;
 * more than one only for the list keys) into the config or the open rule.
 * Returns 0, or -EINVAL / -ENOMEM with the message set.
 */
int config_set_value(struct parser *p, const struct key *k, char **arg,
		     int narg);

/*
 * In config_value.c.  A qname in presentation form, without the trailing
 * dot, into buf, which holds NAME_TEXT_MAX.  Everything but printable ASCII
 * is escaped, except with raw set octets above 0x7e, which the file may
 * hold as they are.
 */
void config_qname_text(const struct config_qname *q, bool raw, char *buf);

/*
 * In config_value.c.  A number of octets as the file writes it: "64k",
 * "10M", "1500" (k, M and G are powers of 1000).
 */
void config_bytes_text(uint64_t n, char *buf, size_t buflen);

/*
 * In config_value.c.  A duration with every unit that has a part ("1h20m"),
 * for people rather than the file.
 */
void config_duration_parts(uint64_t ns, char *buf, size_t buflen);

#endif
