/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: the configuration parser on arbitrary bytes.
 *
 * The input is handed over as bytes with a length (no NUL added), so the
 * sanitizers see any read past it.  A refusal must name the file; an
 * accepted config is printed, and the printed text must parse back to the
 * same config: config_print and config_parse agree on every input the
 * fuzzer finds.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool differs(const char *what)
{
	fprintf(stderr, "fuzz_config: %s differs after print and parse\n",
		what);
	return false;
}

#define SAME(f)                             \
	do {                                \
		if (a->f != b->f)           \
			return differs(#f); \
	} while (0)

static bool same_str(const char *x, const char *y)
{
	if (x == NULL || y == NULL)
		return x == y;
	return strcmp(x, y) == 0;
}

static bool same_rule(const struct config_rule *a, const struct config_rule *b)
{
	if (strcmp(a->name, b->name) != 0)
		return differs("rule name");
	SAME(nqtypes);
	if (memcmp(a->qtypes, b->qtypes, a->nqtypes * sizeof(a->qtypes[0])))
		return differs("qtypes");
	SAME(nqnames);
	for (size_t i = 0; i < a->nqnames; i++) {
		SAME(qnames[i].len);
		if (memcmp(a->qnames[i].wire, b->qnames[i].wire,
			   a->qnames[i].len) != 0)
			return differs("qnames");
	}
	SAME(limit_n);
	SAME(limit_period);
	SAME(ipv4_prefix);
	SAME(ipv6_prefix);
	SAME(hold_down);
	SAME(hold_down_max);
	SAME(total_n);
	SAME(total_period);
	SAME(action);
	return true;
}

static bool same(const struct config *a, const struct config *b)
{
	SAME(queue_first);
	SAME(queue_last);
	SAME(queue_maxlen);
	SAME(table_size);
	SAME(fail_open);
	if (!same_str(a->user, b->user))
		return differs("user");
	if (!same_str(a->control_socket, b->control_socket))
		return differs("control_socket");
	SAME(stats_interval);
	SAME(report_interval);
	SAME(report_top);
	SAME(syslog_facility);
	SAME(malformed);
	SAME(fragments);
	SAME(log_n);
	SAME(log_period);
	SAME(log_truncate);
	if (!same_str(a->prometheus_file, b->prometheus_file))
		return differs("prometheus_file");
	SAME(nallow);
	for (size_t i = 0; i < a->nallow; i++) {
		SAME(allow[i].family);
		SAME(allow[i].len);
		if (memcmp(a->allow[i].addr, b->allow[i].addr, 16) != 0)
			return differs("allow");
	}
	SAME(nrules);
	for (size_t i = 0; i < a->nrules; i++) {
		if (!same_rule(&a->rules[i], &b->rules[i]))
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[CONFIG_ERR_MAX], err2[CONFIG_ERR_MAX], sum[160], tiny[8];
	struct config *a, *b;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	a = config_parse("fuzz.conf", (const char *)data, size, err,
			 sizeof(err));
	if (a == NULL) {
		if (strncmp(err, "fuzz.conf", 9) != 0) {
			fprintf(stderr,
				"fuzz_config: error without the "
				"file name: %s\n",
				err);
			abort();
		}
		return 0;
	}
	for (size_t i = 0; i < a->nrules; i++) {
		config_rule_summary(&a->rules[i], sum, sizeof(sum));
		config_rule_summary(&a->rules[i], tiny, sizeof(tiny));
		if (strlen(tiny) >= sizeof(tiny))
			abort();
	}
	f = open_memstream(&text, &len);
	if (f == NULL)
		abort();
	config_print(a, f);
	if (fclose(f) != 0)
		abort();
	b = config_parse("printed", text, len, err2, sizeof(err2));
	if (b == NULL) {
		fprintf(stderr, "fuzz_config: printed config refused: %s\n%s",
			err2, text);
		abort();
	}
	if (!same(a, b)) {
		fprintf(stderr, "%s", text);
		abort();
	}
	config_free(a);
	config_free(b);
	free(text);
	return 0;
}
