/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel's side of dnsrl: every netfilter rule it needs, composed in
 * one place from the configuration.  `dnsrl --print-rules` prints them as
 * a script, the daemon installs them itself when it owns them
 * (`manage-rules yes`), checks the live ruleset against them at start and
 * on each reload, and `dnsrl --remove-rules` takes them out.
 *
 * Where they sit, for IPv4 and IPv6 alike: a chain of dnsrl's own in the
 * mangle table, jumped to by the first rule of mangle INPUT for UDP to
 * port 53.  Every table's INPUT chain sees each packet in turn (mangle
 * before filter), and an accept ends only the table it is given in: so
 * the operator's filter rules, an early `-p udp --dport 53 -j ACCEPT`
 * included, can neither hide a query from dnsrl nor be skipped by
 * dnsrl's accept, and their ACLs still drop what they drop.
 *
 *	mangle INPUT:	-p udp --dport 53 -j DNSRL	(inserted first)
 *	DNSRL:		[-s SERVED -g DNSRL-Q ...; the rest returns]
 *	DNSRL(-Q):	-m bpf (prefilter) -j RETURN	certainly no candidate
 *			-j NFQUEUE --queue-bypass	the daemon decides
 *
 * With `serve` prefixes set, only their queries are judged; the rest goes
 * on (the operator's ACL is expected to drop strangers).
 *
 * With kernel holds (holds.h), each rule that holds in the kernel adds
 * one rule ahead of the prefilter in the judging chain, and its sets and
 * accounting objects (made before the rules that name them, removed
 * after):
 *
 *	-m bpf (the rule's positive program) -m set --match-set SET src
 *	-m nfacct --nfacct-name SET -j DROP	a held source's queries
 *						of the rule's types
 *
 * With answer rules, the resolver's answers too, in mangle OUTPUT:
 *
 *	mangle OUTPUT:	-p udp --sport 53 -j DNSRL-OUT	(inserted first)
 *	DNSRL-OUT:	[-d SERVED] -m length --length MIN:65535
 *			-j NFQUEUE --queue-bypass	(one rule a prefix)
 *
 * OUTPUT because the resolver's own answers leave through it, and leave
 * it whole: an answer larger than the path MTU is fragmented only after
 * POSTROUTING (ip_finish_output, ip6_finish_output), so the length match
 * sees the datagram's size and the daemon the whole DNS message.
 * Mangle because its OUTPUT runs before filter's: an operator's `-j
 * ACCEPT` in filter OUTPUT cannot hide an answer from dnsrl, and dnsrl's
 * accept ends only the mangle table, the operator's filter rules still
 * applying after it.  MIN is the smallest `size` of the answer rules: a
 * shorter answer, the ordinary kind, stays in the kernel and never waits
 * for userspace.  With `serve` prefixes, only answers to them are judged,
 * by a destination match on each queue rule (one chain, one rule a
 * prefix: no second chain to keep or compare).  Without answer rules
 * there is neither the chain nor the jump, and an install removes them.
 *
 * Every rule is kept in the form iptables-save (iptables-nft 1.8.9)
 * prints, so the live ruleset can be compared line by line.
 */
#ifndef DNSRL_RULES_H
#define DNSRL_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"

#define RULES_TABLE "mangle"
#define RULES_CHAIN "DNSRL"
#define RULES_CHAIN_QUERIES "DNSRL-Q"
#define RULES_CHAIN_ANSWERS "DNSRL-OUT"
#define RULES_WHY_MAX 512

/* The rules of one family, as iptables-save lines. */
struct rules_plan;

/*
 * Composes the rules of family (AF_INET or AF_INET6) for cfg.  With also
 * not NULL, the prefilter lets through the union of both configurations'
 * candidates (what a reload installs before the new policy takes over);
 * the answer chain follows cfg alone.
 * Returns a plan the caller owns (rules_plan_free), or NULL with errno.
 */
struct rules_plan *rules_plan_new(const struct config *cfg,
				  const struct config *also, int family);

/* No-op on NULL. */
void rules_plan_free(struct rules_plan *p);

/* What the live ruleset holds of dnsrl's, outside the chains' contents. */
struct rules_live {
	bool input_jump;     /* INPUT's first jump to DNSRL, in plan form */
	bool answer_chain;   /* the chain DNSRL-OUT exists */
	size_t output_jumps; /* OUTPUT's jumps to DNSRL-OUT, in plan form */
};

/*
 * Writes the iptables-restore input (for `--noflush`) that replaces
 * dnsrl's chains with the plan's in one transaction.  With live (what
 * rules_compare found), it also inserts, first, the jumps live lacks,
 * and, when the plan judges no answers, deletes live's OUTPUT jumps and
 * DNSRL-OUT.  With live NULL it touches no jump (the printed script adds
 * them after, each only if missing).
 */
void rules_restore_text(const struct rules_plan *p,
			const struct rules_live *live, FILE *out);

/* What the live ruleset holds, against the plan. */
enum rules_state {
	RULES_OK,	/* exactly the plan, jumped to first */
	RULES_MISSING,	/* no chain, or no jump to it */
	RULES_STALE,	/* a chain holds other rules (another policy) */
	RULES_SHADOWED, /* a jump is not the first rule of INPUT / OUTPUT */
	RULES_UNKNOWN,	/* the ruleset could not be read */
};

/*
 * Compares the mangle table as iptables-save prints it (save) with the
 * plan, the query path and the answer path (a DNSRL-OUT the plan does
 * not have is stale: it would judge answers no rule asks for).  Returns
 * the worse state of the two (missing, stale, shadowed, in that order),
 * and says why in why[0..whylen) ("" for OK).  Fills *live with the
 * jumps and chain found (an install then leaves what exists).
 */
enum rules_state rules_compare(const struct rules_plan *p, const char *save,
			       struct rules_live *live, char *why,
			       size_t whylen);

/* A word for a state: "ok", "missing" ... */
const char *rules_state_name(enum rules_state s);

/*
 * The live check for both families: reads the ruleset (xtables.h) and
 * compares it with cfg's plan.  Returns the worst state of the two, with
 * the reasons, per family, in why.
 */
enum rules_state rules_verify(const struct config *cfg, char *why,
			      size_t whylen);

/*
 * Installs cfg's rules for both families, each in one transaction (the
 * prefilter widened by also, when not NULL; the answer chain, or its
 * absence, is cfg's), and removes what an older dnsrl left in the filter
 * table.  Returns 0 or -errno with a message.
 */
int rules_install(const struct config *cfg, const struct config *also,
		  char *err, size_t errlen);

/*
 * Makes the kernel sets cfg's kernel holds need (holds.h), as `dnsrl
 * --make-sets` and the printed script do before the rules that match
 * them.  Returns 0 or -errno with a message.
 */
int rules_make_sets(const struct config *cfg, char *err, size_t errlen);

/*
 * Removes dnsrl's jumps and chains (INPUT's and OUTPUT's, DNSRL, DNSRL-Q,
 * DNSRL-OUT), both families, whatever policy they came from, then its
 * kernel sets (holds.h).  Returns 0 (also when there was nothing) or
 * -errno.
 */
int rules_remove(char *err, size_t errlen);

/*
 * Writes the script `dnsrl --print-rules` prints: sh, idempotent (running
 * it twice leaves the same ruleset), each family's chains replaced in one
 * iptables-restore transaction, then the jumps inserted if missing (or,
 * without answer rules, the answer chain and its jump removed); and, as
 * comments, the commands that remove it all.
 */
void rules_print(const struct config *cfg, FILE *out);

#endif
