/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The prefilter: a classic BPF program, compiled from the policy, that
 * lets the kernel accept the queries no rule can match, so that they
 * never cross to the daemon.  It is run by the iptables `bpf` match
 * (xt_bpf) in a rule placed just before the NFQUEUE rule:
 *
 *	iptables -A DNSRL -p udp --dport 53 -m bpf --bytecode ... -j ACCEPT
 *
 * The program runs on the packet from the network header.  It returns 1
 * ("accept here") only for a packet it has read whole and knows the daemon
 * would accept without touching a rule: not a fragment, no IPv6 extension
 * header, a question name of at most `labels` labels, none over 63 octets,
 * at most 255 octets in all, qtype and qclass inside the UDP length and
 * the packet, and a qtype that no rule names.  Anything else, a load past
 * the end of the packet included (classic BPF then returns 0), returns 0
 * and goes on to the queue.  The qtype set is the union of every rule's;
 * a rule that names no qtype matches every one, and then there is no
 * program: every UDP/53 query is queued.
 *
 * What the program accepts never reaches the daemon nor its counters
 * (responses and the like included); the bpf rule's own packet counter
 * (iptables -vnxL DNSRL) counts it.
 *
 * The program depends on nothing but that set, so it holds across reloads
 * that keep it; when prefilter_same() says two configs differ, the rules
 * `dnsrl --print-rules` prints must be installed again, or queries of a
 * newly limited type would be accepted in the kernel, unseen.
 */
#ifndef DNSRL_PREFILTER_H
#define DNSRL_PREFILTER_H

#include <stdbool.h>
#include <stddef.h>

#include <linux/filter.h>

#include "config.h"

/* xt_bpf's limit (XT_BPF_MAX_NUM_INSTR) */
#define PREFILTER_INSNS_MAX 64
/* fewer labels than this would pass too few queries to be worth a rule */
#define PREFILTER_LABELS_MIN 3
/* room for the text of any program: "64", 64 times ",code jt jf k" of
 * at most 1 + 5 + 1 + 3 + 1 + 3 + 1 + 10 characters, and the NUL */
#define PREFILTER_TEXT_MAX (2 + PREFILTER_INSNS_MAX * 25 + 1)
/* room for any reason why there is no program */
#define PREFILTER_WHY_MAX 256

struct prefilter_prog {
	struct sock_filter insn[PREFILTER_INSNS_MAX];
	size_t len;	 /* instructions used */
	unsigned labels; /* names of up to this many labels are followed */
};

/*
 * Compiles the program for family (AF_INET or AF_INET6) from cfg's rules:
 * as many labels unrolled as fit in PREFILTER_INSNS_MAX instructions.
 * Returns 0 with *out filled, -ENOTSUP when the policy cannot be expressed
 * (a rule without a qtype, or too many qtypes to leave room for
 * PREFILTER_LABELS_MIN labels) with the reason in why[0..whylen), or
 * -EAFNOSUPPORT for another family.  why may be NULL when whylen is 0.
 */
int prefilter_compile(const struct config *cfg, int family,
		      struct prefilter_prog *out, char *why, size_t whylen);

/*
 * The positive program of one rule, for its kernel holds: returns 1 only
 * for a packet it has read whole (as above) that is a standard query (QR
 * 0, opcode QUERY, QDCOUNT 1) whose qtype the rule names; 0 for anything
 * else, what it cannot read included.  So a held prefix's packets it
 * matches are exactly ones the daemon would refuse under that rule, and
 * the rest goes on to the queue.  Returns 0, -ENOTSUP (the rule is no
 * query rule, names no qtype, or names a qname: a name cannot be matched
 * here; or too many qtypes) with the reason in why, or -EAFNOSUPPORT.
 */
int prefilter_compile_rule(const struct config_rule *r, int family,
			   struct prefilter_prog *out, char *why,
			   size_t whylen);

/*
 * Writes p as iptables' --bytecode wants it: "N,c t f k,c t f k,...".
 * sep goes between the four numbers of an instruction: ' ' gives the form
 * iptables-save prints, '+' one shell word that needs no quotes (iptables
 * reads each number as strtoul does, so "+0" is 0).  Returns 0, -EINVAL
 * for another sep or an empty program, or -ENOSPC when buf[0..len) is too
 * small (PREFILTER_TEXT_MAX always suffices); buf then holds "".
 */
int prefilter_bytecode_text(const struct prefilter_prog *p, char sep, char *buf,
			    size_t len);

/*
 * True when a and b give the same prefilter for both families: the same
 * programs, or no program where the other has none either.  False means
 * the installed rules no longer fit and must be replaced.
 */
bool prefilter_same(const struct config *a, const struct config *b);

/*
 * One line for the log: the programs' sizes, how many labels they follow
 * and which qtypes go to the daemon, or why there is no program and every
 * query is queued.  Returns 0 when both families have a program,
 * -ENOTSUP when either has none.  The text is cut to buf[0..len).
 */
int prefilter_describe(const struct config *cfg, char *buf, size_t len);

#endif
