/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for capture replay: the input is read as a capture
 * file (pcap or pcapng, from memory) and replayed to the end under a
 * policy that uses every kind of rule, answer rules too, with a small
 * table so that evictions happen too.
 *
 * Besides not crashing, leaking or hanging, the report must add up:
 * packets read (and datagrams made whole from fragments) are decided or
 * skipped for one of the reasons listed, every fragment was reassembled,
 * dropped for a reason or is still held, verdicts of both paths are the
 * decided packets, the accept and drop splits are the verdicts, and
 * every limited episode ended, still runs or was evicted.  A refusal
 * must say why.
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
				  "}\n"
				  "answer-rule big {\n"
				  "\tsize 512\n"
				  "\tbytes 8k/10s\n"
				  "\ttotal-bytes 64k/1s\n"
				  "\tipv4-prefix 24\n"
				  "\taction truncate\n"
				  "\tslip 2\n"
				  "}\n"
				  "answer-rule shadow-answers {\n"
				  "\tqtype TXT\n"
				  "\tlimit 3/1s\n"
				  "\taction log\n"
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

/* The number after " key=" (or "(key=") in the line; absent: missing. */
static uint64_t field_or(const char *line, const char *key, bool *missing)
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
	*missing = true;
	return 0;
}

/* The same; it must be there. */
static uint64_t field(const char *line, const char *key)
{
	bool missing = false;
	uint64_t v = field_or(line, key, &missing);

	require(!missing);
	return v;
}

/* The same, 0 when it is not there. */
static uint64_t field0(const char *line, const char *key)
{
	bool missing = false;

	return field_or(line, key, &missing);
}

static void check_report(const char *text)
{
	const char *pk = line_of(text, "packets: ");
	const char *to = line_of(text, "totals: ");
	const char *ac = line_of(text, "accept: ");
	const char *dr = line_of(text, "drop: ");
	const char *ep = line_of(text, "episodes: ");
	/* the policy has answer rules: the answers line is always there */
	const char *an = line_of(text, "answers: ");
	uint64_t decided = field(pk, "decided");
	uint64_t skipped = field(pk, "skipped");
	uint64_t fragments = field(pk, "fragments");
	uint64_t datagrams = field0(pk, "datagrams");
	uint64_t accepted = field(to, "accepted");
	uint64_t dropped = field(to, "dropped");
	uint64_t a_decided = field(an, "verdicts");

	require(field(pk, "read") + datagrams == decided + skipped);
	require(skipped == field(pk, "not-ip") + field(pk, "outgoing") +
				   field(pk, "not-udp53") + fragments +
				   field(pk, "answers-in") +
				   field(pk, "unqueued"));
	if (fragments > 0) {
		require(fragments == field(pk, "reassembled") +
					     field(pk, "dropped") +
					     field(pk, "held"));
		require(field(pk, "dropped") ==
			field(pk, "duplicate") + field(pk, "overlap") +
				field(pk, "bad") + field(pk, "timeout") +
				field(pk, "no-room"));
		require(datagrams <= field(pk, "reassembled"));
		require(field(pk, "incomplete") <= field(pk, "held"));
	} else {
		require(datagrams == 0);
	}

	require(accepted + dropped + a_decided == decided);
	require(a_decided == field(an, "accepted") + field(an, "dropped") +
				     field(an, "replaced"));
	require(field(an, "packets") == a_decided);
	require(field(an, "answers") + field(an, "not-answers") <= a_decided);
	require(field(an, "cut") <= a_decided);
	require(field(an, "evicted-limited") <= field(an, "evicted"));
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
						field(to, "evicted-limited") +
						field(an, "evicted-limited"));
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
