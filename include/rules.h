/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The iptables and ip6tables commands that put dnsrl in the path of
 * UDP/53 queries, for `dnsrl --print-rules`.
 */
#ifndef DNSRL_RULES_H
#define DNSRL_RULES_H

#include <stdio.h>

#include "config.h"

#define RULES_CHAIN "DNSRL"

/*
 * Writes a shell script: a chain of dnsrl's own, filled with the
 * prefilter rule (an xt_bpf match accepting the queries no rule can match;
 * see prefilter.h) and the NFQUEUE rule after it (--queue-bypass: without
 * the daemon, queries pass), and one rule appended to INPUT that jumps to
 * the chain, for IPv4 and IPv6.  Appended, so that the operator's own ACLs
 * come first: an accept verdict ends the INPUT chain.  A family without a
 * prefilter gets a comment saying why.  Every command is one line of
 * words without quotes.  Also writes, as comments, the commands that
 * remove it all.
 */
void rules_print(const struct config *cfg, FILE *out);

#endif
