/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "rules.h"

static void print_family(const struct config *cfg, const char *cmd, FILE *out)
{
	fprintf(out, "%s -N %s\n", cmd, RULES_CHAIN);
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
		"# whenever the daemon is not running.\n",
		cfg->path != NULL ? cfg->path : "defaults");
	print_family(cfg, "iptables", out);
	print_family(cfg, "ip6tables", out);
	fprintf(out, "# To remove:\n");
	for (int i = 0; i < 2; i++) {
		const char *cmd = i == 0 ? "iptables" : "ip6tables";

		fprintf(out,
			"#   %s -D INPUT -p udp --dport 53 -j %s; "
			"%s -F %s; %s -X %s\n",
			cmd, RULES_CHAIN, cmd, RULES_CHAIN, cmd, RULES_CHAIN);
	}
}
