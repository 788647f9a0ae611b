/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for capture replay: the input is read as a capture
 * file (pcap or pcapng, from memory) and replayed to the end under a
 * policy that uses every kind of rule, with a small table so that
 * evictions happen too.
 *
 * Besides not crashing, leaking or hanging, the report must add up:
 * packets read are decided or skipped for one of the reasons listed,
 * verdicts are the decided packets, the accept and drop splits are the
 * verdicts, and every limited episode ended, still runs or was evicted.
 * A refusal must say why.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char policy_text[] = "table-size 64\n"
				  "malformed drop\n"
				  "fragments accept\n"
				  "allow 198.51.100.10 203.0.113.0/24 "
				  "2001:db8:53::/48\n"
				  "rule shadow {\n"
				  "\tqtype ANY TXT\n"
				  "\tlimit 1/10s\n"
				  "\taction log\n"
				  "}\n"
				  "rule any-abuse {\n"
				  "\tqtype ANY\n"
				  "\tlimit 2/5s\n"
				  "\tipv4-prefix 24\n"
				  "\tipv6-prefix 48\n"
				  "\thold-down 10s\n"
				  "\ttotal 20/1s\n"
				  "}\n"
				  "rule zone {\n"
				  "\tqname www.example\n"
				  "\tlimit 5/1s\n"
				  "}\n";

static void require(bool ok)
{
	if (!ok)
		abort();
}

/* The line of text that starts with prefix; it must be there. */
static const char *line_of(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *p = text; p != NULL; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, prefix, n) == 0)
			return p;
	}
	abort();
}

/* The number after " key=" (or "(key=") in the line; it must be there. */
static uint64_t field(const char *line, const char *key)
{
	const char *end = strchr(line, '\n');
	size_t n = strlen(key);
	char *after;

	for (const char *p = line + 1; *p != '\0' && p != end; p++) {
		if ((p[-1] == ' ' || p[-1] == '(') && strncmp(p, key, n) == 0 &&
		    p[n] == '=' && p[n + 1] >= '0' && p[n + 1] <= '9') {
			uint64_t v = strtoull(p + n + 1, &after, 10);

			require(*after == ' ' || *after == ')' ||
				*after == '\n');
			return v;
		}
	}
	abort();
}

static void check_report(const char *text)
{
	const char *pk = line_of(text, "packets: ");
	const char *to = line_of(text, "totals: ");
	const char *ac = line_of(text, "accept: ");
	const char *dr = line_of(text, "drop: ");
	const char *ep = line_of(text, "episodes: ");
	uint64_t decided = field(pk, "decided");
	uint64_t skipped = field(pk, "skipped");
	uint64_t accepted = field(to, "accepted");
	uint64_t dropped = field(to, "dropped");

	require(field(pk, "read") == decided + skipped);
	require(skipped == field(pk, "not-ip") + field(pk, "outgoing") +
				   field(pk, "not-udp53") +
				   field(pk, "fragments"));

	require(accepted + dropped == decided);
	require(field(to, "queries") <= decided);
	require(field(to, "allowed") == field(ac, "allow-listed"));
	require(field(to, "evicted-limited") <= field(to, "evicted"));
	require(accepted ==
		field(ac, "within-limit") + field(ac, "allow-listed") +
			field(ac, "no-drop-rule") + field(ac, "not-query") +
			field(ac, "malformed"));
	require(field(ac, "malformed") == 0); /* malformed drop */
	require(dropped == field(dr, "rule") + field(dr, "malformed") +
				   field(dr, "fragments"));
	require(field(dr, "malformed") == field(to, "malformed"));

	require(field(ep, "limited") == field(ep, "released") +
						field(ep, "running") +
						field(to, "evicted-limited"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config *cfg;
	char err[CONFIG_ERR_MAX], *text = NULL;
	size_t len = 0;
	FILE *in, *out;
	uint8_t *copy;
	int rc;

	if (cfg == NULL) {
		cfg = config_parse("fuzz.conf", policy_text,
				   strlen(policy_text), err, sizeof(err));
		require(cfg != NULL);
	}
	if (size == 0)
		return 0; /* fmemopen wants at least a byte */
	/* a private copy of exactly the input's size, so ASan sees overruns */
	copy = malloc(size);
	require(copy != NULL);
	memcpy(copy, data, size);
	in = fmemopen(copy, size, "rb");
	out = open_memstream(&text, &len);
	require(in != NULL && out != NULL);

	err[0] = '\0';
	rc = replay_run_stream(cfg, in, "fuzz", out, err, sizeof(err));
	require(fclose(out) == 0);
	require(rc <= 0);
	if (rc < 0)
		require(strncmp(err, "fuzz: ", 6) == 0 && strlen(err) > 6);
	/* a report is whole, or there is none */
	if (rc == 0 || len > 0)
		check_report(text);
	if (len > 0 && rc < 0)
		line_of(text, "stopped: ");
	free(text);
	free(copy);
	return 0;
}
