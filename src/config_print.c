/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The configuration written back: config_print in the file's own syntax,
 * walking the key table so every key read is also written, and the
 * one-line rule summary for logs and the control socket.
 */
#include "config.h"
#include "dns.h"
#include "config_internal.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static uint64_t get_field_uint(const struct key *k, const void *field)
{
	uint8_t x8;
	uint32_t x32;
	uint64_t x64;

	if (k->size == sizeof(uint8_t)) {
		memcpy(&x8, field, sizeof(x8));
		return x8;
	}
	if (k->size == sizeof(uint32_t)) {
		memcpy(&x32, field, sizeof(x32));
		return x32;
	}
	memcpy(&x64, field, sizeof(x64));
	return x64;
}

static const char *word_name(const struct key *k, const void *field)
{
	int v;

	if (k->words == config_yes_no)
		v = *(const bool *)field;
	else if (k->words == config_verdicts)
		v = (int)*(const enum config_verdict *)field;
	else if (k->words == config_actions)
		v = (int)*(const enum config_action *)field;
	else
		v = *(const int *)field;
	for (const struct word *w = k->words; w->name != NULL; w++) {
		if (w->value == v)
			return w->name;
	}
	return "?";
}

/*
 * The qname line, escaped where it fits; 32 long names can fill the line,
 * and then octets above 0x7e go out raw and the indent is dropped, which
 * makes the line no longer than the one that was read.
 */
static void print_names(const struct config_rule *r, FILE *out)
{
	char name[NAME_TEXT_MAX];
	size_t width = 1 + 13; /* "\tqname" padded */
	bool raw;

	for (size_t i = 0; i < r->nqnames; i++) {
		config_qname_text(&r->qnames[i], false, name);
		width += 1 + strlen(name);
	}
	raw = width > LINE_CHARS_MAX;
	if (raw)
		fprintf(out, "qname");
	else
		fprintf(out, "\t%-13s", "qname");
	for (size_t i = 0; i < r->nqnames; i++) {
		config_qname_text(&r->qnames[i], raw, name);
		fprintf(out, " %s", name);
	}
	fputc('\n', out);
}

/* One key, or a comment where it has no value, at indent (rule) or not. */
static void print_key(const struct config *cfg, const struct key *k,
		      const void *base, FILE *out)
{
	const char *field = (const char *)base + k->off;
	const struct config_rule *r = base;
	const char *pre = k->in_rule ? "\t" : "";
	int w = k->in_rule ? 13 : 15;
	char d[32], a[INET6_ADDRSTRLEN];
	const char *s;
	uint32_t n;
	uint64_t v;

	(void)cfg;
	switch (k->type) {
	case KT_QUEUE: {
		uint16_t first, last;

		memcpy(&first, field, sizeof(first));
		memcpy(&last, (const char *)base + k->off2, sizeof(last));
		if (first == last)
			fprintf(out, "%-*s %u\n", w, k->name, first);
		else
			fprintf(out, "%-*s %u-%u\n", w, k->name, first, last);
		return;
	}
	case KT_UINT:
		/* a slip belongs to truncation alone */
		if (k == &config_keys[K_SLIP] &&
		    r->action != CONFIG_ACTION_TRUNCATE) {
			fprintf(out, "\t# %s (no truncation)\n", k->name);
			return;
		}
		fprintf(out, "%s%-*s %llu\n", pre, w, k->name,
			(unsigned long long)get_field_uint(k, field));
		return;
	case KT_WORD:
		fprintf(out, "%s%-*s %s\n", pre, w, k->name,
			word_name(k, field));
		return;
	case KT_USER:
	case KT_PATH:
		memcpy(&s, field, sizeof(s));
		if (s == NULL)
			fprintf(out, "# %s (unset)\n", k->name);
		else
			fprintf(out, "%-*s %s\n", w, k->name, s);
		return;
	case KT_DURATION:
		memcpy(&v, field, sizeof(v));
		if (v == 0 && !k->zero) {
			fprintf(out, "%s# %s (none)\n", pre, k->name);
			return;
		}
		config_duration_text(v, d, sizeof(d));
		fprintf(out, "%s%-*s %s\n", pre, w, k->name, d);
		return;
	case KT_RATE:
	case KT_BYTES:
		memcpy(&n, field, sizeof(n));
		memcpy(&v, (const char *)base + k->off2, sizeof(v));
		if (n == 0) {
			fprintf(out, "%s# %s (none)\n", pre, k->name);
			return;
		}
		config_duration_text(v, d, sizeof(d));
		if (k->type == KT_BYTES) {
			config_bytes_text(n, a, sizeof(a));
			fprintf(out, "%s%-*s %s/%s\n", pre, w, k->name, a, d);
		} else {
			fprintf(out, "%s%-*s %u/%s\n", pre, w, k->name, n, d);
		}
		return;
	case KT_PREFIXES: {
		const struct config_prefix *const *list =
			(const struct config_prefix *const *)field;
		size_t count;

		memcpy(&count, (const char *)base + k->off2, sizeof(count));
		if (count == 0)
			fprintf(out, "# %s (%s)\n", k->name,
				k == &config_keys[K_SERVE] ? "every source"
							   : "none");
		for (size_t i = 0; i < count; i++) {
			const struct config_prefix *pf = &(*list)[i];

			inet_ntop(pf->family, pf->addr, a, sizeof(a));
			fprintf(out, "%-*s %s/%u\n", w, k->name, a, pf->len);
		}
		return;
	}
	case KT_QTYPE:
		if (r->nqtypes == 0) {
			fprintf(out, "\t# qtype (every type)\n");
			return;
		}
		fprintf(out, "\t%-*s", w, k->name);
		for (size_t i = 0; i < r->nqtypes; i++) {
			dns_qtype_text(r->qtypes[i], d, sizeof(d));
			fprintf(out, " %s", d);
		}
		fputc('\n', out);
		return;
	case KT_QNAME:
		if (r->nqnames == 0)
			fprintf(out, "\t# qname (every name)\n");
		else
			print_names(r, out);
		return;
	}
}

void config_print(const struct config *cfg, FILE *out)
{
	fprintf(out, "# dnsrl: effective configuration, defaults included\n");
	for (int i = 0; i < K_COUNT; i++) {
		if (!config_keys[i].in_rule)
			print_key(cfg, &config_keys[i], cfg, out);
	}
	for (size_t j = 0; j < cfg->nrules; j++) {
		const struct config_rule *r = &cfg->rules[j];

		fprintf(out, "\n%s %s {\n", config_kind_word(r->kind), r->name);
		for (int i = 0; i < K_COUNT; i++) {
			const struct key *k = &config_keys[i];

			if (k->in_rule && (k->kinds & (1u << r->kind)))
				print_key(cfg, k, r, out);
		}
		fprintf(out, "}\n");
	}
}

struct text {
	char *buf;
	size_t len, cap;
};

static void add(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Appends while there is room; the text stays NUL-terminated, cut short. */
static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->len + 1 >= t->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	t->len += (size_t)n;
	if (t->len >= t->cap)
		t->len = t->cap - 1;
}

void config_rule_summary(const struct config_rule *r, char *buf, size_t buflen)
{
	struct text t = {buf, 0, buflen};
	char name[NAME_TEXT_MAX], d[32], e[64];

	if (buflen == 0)
		return;
	buf[0] = '\0';
	add(&t, "%s:", r->name);
	if (r->kind == CONFIG_RULE_ANSWER)
		add(&t, " answers of %u+ octets", r->size);
	if (r->nqtypes > 0)
		add(&t, " qtype");
	for (size_t i = 0; i < r->nqtypes; i++) {
		dns_qtype_text(r->qtypes[i], d, sizeof(d));
		add(&t, " %s", d);
	}
	if (r->nqnames > 0)
		add(&t, " qname");
	for (size_t i = 0; i < r->nqnames; i++) {
		config_qname_text(&r->qnames[i], false, name);
		add(&t, " %s", name);
	}
	if (r->bytes_n != 0) {
		config_bytes_text(r->bytes_n, e, sizeof(e));
		config_duration_text(r->bytes_period, d, sizeof(d));
		add(&t, " bytes %s/%s", e, d);
	}
	if (r->limit_n != 0) {
		config_duration_text(r->limit_period, d, sizeof(d));
		add(&t, " limit %u/%s", r->limit_n, d);
	}
	add(&t, " per /%u (IPv4) /%u (IPv6)", r->ipv4_prefix, r->ipv6_prefix);
	if (r->total_n != 0) {
		config_duration_text(r->total_period, d, sizeof(d));
		add(&t, " total %u/%s", r->total_n, d);
	}
	if (r->total_bytes_n != 0) {
		config_bytes_text(r->total_bytes_n, e, sizeof(e));
		config_duration_text(r->total_bytes_period, d, sizeof(d));
		add(&t, " total-bytes %s/%s", e, d);
	}
	if (r->hold_down != 0) {
		config_duration_parts(r->hold_down, d, sizeof(d));
		config_duration_parts(r->hold_down_max, e, sizeof(e));
		add(&t, " hold-down %s..%s", d, e);
	}
	add(&t, " action %s",
	    r->action == CONFIG_ACTION_LOG	  ? "log"
	    : r->action == CONFIG_ACTION_TRUNCATE ? "truncate"
						  : "drop");
	if (r->action == CONFIG_ACTION_TRUNCATE && r->slip > 1)
		add(&t, " slip %u", r->slip);
}
