/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "rules.h"

#include <sys/socket.h>

#include "prefilter.h"

/*
 * The prefilter rule of a family, or a comment saying why there is none.
 * The bytecode is quoted the way iptables -S writes it back.
 */
static void print_prefilter(const struct config *cfg, int family,
			    const char *cmd, FILE *out)
{
	struct prefilter_prog p;
	char why[PREFILTER_WHY_MAX];
	char text[PREFILTER_TEXT_MAX];

	if (prefilter_compile(cfg, family, &p, why, sizeof(why)) < 0) {
		fprintf(out,
			"# No %s prefilter, every UDP/53 query is queued: "
			"%s.\n",
			family == AF_INET ? "IPv4" : "IPv6", why);
		return;
	}
	if (prefilter_bytecode_text(&p, ' ', text, sizeof(text)) < 0) {
		fprintf(out, "# No %s prefilter: its text does not fit.\n",
			family == AF_INET ? "IPv4" : "IPv6");
		return;
	}
	fprintf(out,
		"# %s prefilter (%zu instructions): accepts here the queries "
		"for names of\n"
		"# up to %u labels whose type no rule names.\n",
		family == AF_INET ? "IPv4" : "IPv6", p.len, p.labels);
	fprintf(out,
		"%s -A %s -p udp --dport 53 -m bpf --bytecode \"%s\" -j "
		"ACCEPT\n",
		cmd, RULES_CHAIN, text);
}

static void print_family(const struct config *cfg, int family, FILE *out)
{
	const char *cmd = family == AF_INET ? "iptables" : "ip6tables";

	fprintf(out, "%s -N %s\n", cmd, RULES_CHAIN);
	print_prefilter(cfg, family, cmd, out);
	if (cfg->queue_first == cfg->queue_last)
		fprintf(out,
			"%s -A %s -p udp --dport 53 -j NFQUEUE "
			"--queue-num %u --queue-bypass\n",
			cmd, RULES_CHAIN, cfg->queue_first);
	else
		fprintf(out,
			"%s -A %s -p udp --dport 53 -j NFQUEUE "
			"--queue-balance %u:%u --queue-bypass\n",
			cmd, RULES_CHAIN, cfg->queue_first, cfg->queue_last);
	fprintf(out, "%s -A INPUT -p udp --dport 53 -j %s\n", cmd, RULES_CHAIN);
}

void rules_print(const struct config *cfg, FILE *out)
{
	fprintf(out, "# dnsrl: send UDP/53 queries to NFQUEUE %u",
		cfg->queue_first);
	if (cfg->queue_last != cfg->queue_first)
		fprintf(out, "-%u", cfg->queue_last);
	fprintf(out,
		" (config %s).\n"
		"# Appended after your own INPUT rules: dnsrl's accept ends "
		"the chain,\n"
		"# so ACLs must come first.  --queue-bypass lets queries "
		"through\n"
		"# whenever the daemon is not running.\n"
		"# The prefilter (iptables' bpf match) accepts in the kernel "
		"the queries\n"
		"# no rule can match, so they never reach the queue; what it "
		"cannot read\n"
		"# whole (longer names, fragments, extension headers) is "
		"queued.  It is\n"
		"# compiled from the rules' qtypes: install these rules again "
		"after a\n"
		"# reload that changes them.\n",
		cfg->path != NULL ? cfg->path : "defaults");
	print_family(cfg, AF_INET, out);
	print_family(cfg, AF_INET6, out);
	fprintf(out, "# To remove:\n");
	for (int i = 0; i < 2; i++) {
		const char *cmd = i == 0 ? "iptables" : "ip6tables";

		fprintf(out,
			"#   %s -D INPUT -p udp --dport 53 -j %s; "
			"%s -F %s; %s -X %s\n",
			cmd, RULES_CHAIN, cmd, RULES_CHAIN, cmd, RULES_CHAIN);
	}
}
