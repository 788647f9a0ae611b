/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The values of the configuration file: decimal integers, durations, N/T
 * rates, queue ranges, user names and paths, address prefixes, qtypes and
 * qnames.  Each is read by a strict parser of our own and range-checked,
 * and each has a text form that reads back the same, for config_print and
 * for messages.
 */
#include "config.h"
#include "config_internal.h"
#include "dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* Decimal digits s[0..n) only; -EINVAL on anything else, -ERANGE past 2^64. */
static int parse_digits(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	bool over = false;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			over = true;
		else
			v = v * 10 + d;
	}
	if (over)
		return -ERANGE;
	*out = v;
	return 0;
}

static int parse_uint(const char *s, uint64_t *out)
{
	return parse_digits(s, strlen(s), out);
}

static const struct {
	const char *name;
	uint64_t ns;
} units[] = {
	{"ms", NS_MS}, {"s", NS_S}, {"m", NS_M}, {"h", NS_H}, {"d", NS_D},
};

#define UNITS (sizeof(units) / sizeof(units[0]))

enum dur_status {
	DUR_OK,
	DUR_SYNTAX,
	DUR_NO_UNIT,
	DUR_FRACTION,
	DUR_UNIT,
	DUR_RANGE,
};

static enum dur_status parse_duration(const char *s, uint64_t *out,
				      const char **unit)
{
	const char *u = s;
	uint64_t v;

	while (*u >= '0' && *u <= '9')
		u++;
	*unit = u;
	if (u == s)
		return DUR_SYNTAX;
	if (*u == '\0') {
		/* the literal 0 is the one bare number: "off" */
		if (strcmp(s, "0") != 0)
			return DUR_NO_UNIT;
		*out = 0;
		return DUR_OK;
	}
	if (*u == '.')
		return DUR_FRACTION;
	for (size_t i = 0; i < UNITS; i++) {
		if (strcmp(u, units[i].name) != 0)
			continue;
		if (parse_digits(s, (size_t)(u - s), &v) != 0 ||
		    v > UINT64_MAX / units[i].ns)
			return DUR_RANGE;
		*out = v * units[i].ns;
		return DUR_OK;
	}
	return DUR_UNIT;
}

/* range: how the message spells the accepted values, e.g. "0 or 1s..24h" */
static int get_duration(struct parser *p, const char *what, const char *s,
			bool zero, uint64_t min, uint64_t max,
			const char *range, uint64_t *out)
{
	const char *unit;
	uint64_t v = 0;

	switch (parse_duration(s, &v, &unit)) {
	case DUR_SYNTAX:
		return config_fail(p,
				   "%s: expected a duration such as 5s (units "
				   "ms, s, m, h, d), got '%s'",
				   what, config_quote(p, 0, s));
	case DUR_NO_UNIT:
		return config_fail(p, "%s: '%s' needs a unit: ms, s, m, h or d",
				   what, config_quote(p, 0, s));
	case DUR_FRACTION:
		return config_fail(p,
				   "%s: '%s' has a fraction; use a whole "
				   "number of a smaller unit, such as 1500ms",
				   what, config_quote(p, 0, s));
	case DUR_UNIT:
		return config_fail(p,
				   "%s: unknown unit '%s' in '%s'; use ms, s, "
				   "m, h or d",
				   what, config_quote(p, 0, unit),
				   config_quote(p, 1, s));
	case DUR_RANGE:
		break;
	case DUR_OK:
		if ((v == 0 && zero) || (v >= min && v <= max)) {
			*out = v;
			return 0;
		}
		break;
	}
	return config_fail(p, "%s: expected %s, got %s", what, range,
			   config_quote(p, 0, s));
}

/* N/T, as in "limit 2/5s": N 1..CONFIG_LIMIT_N_MAX, T a period. */
static int get_rate(struct parser *p, const char *what, char *s, uint32_t *n,
		    uint64_t *period)
{
	char *slash = strchr(s, '/');
	char twhat[32];
	uint64_t v;
	int rc;

	if (slash == NULL || strchr(slash + 1, '/') != NULL)
		return config_fail(p, "%s: expected N/T such as 2/5s, got '%s'",
				   what, config_quote(p, 0, s));
	*slash = '\0';
	rc = parse_uint(s, &v);
	if (rc == -EINVAL)
		return config_fail(
			p, "%s: N must be a decimal integer 1..%u, got '%s'",
			what, CONFIG_LIMIT_N_MAX, config_quote(p, 0, s));
	if (rc == -ERANGE || v < 1 || v > CONFIG_LIMIT_N_MAX)
		return config_fail(p, "%s: N must be 1..%u, got %s", what,
				   CONFIG_LIMIT_N_MAX, config_quote(p, 0, s));
	snprintf(twhat, sizeof(twhat), "%s period", what);
	rc = get_duration(p, twhat, slash + 1, false, CONFIG_PERIOD_MIN,
			  CONFIG_PERIOD_MAX, "1ms..24h", period);
	if (rc != 0)
		return rc;
	*n = (uint32_t)v;
	return 0;
}

static const struct {
	char suffix;
	uint64_t mult;
} byte_units[] = {{'k', 1000}, {'M', 1000000}, {'G', 1000000000}};

#define BYTE_UNITS (sizeof(byte_units) / sizeof(byte_units[0]))

/*
 * B/T, as in "bytes 64k/10s": B octets 1..CONFIG_BYTES_MAX with an optional
 * k, M or G (powers of 1000, as link speeds are given), T a period, and
 * at most one octet a nanosecond (the bucket's unit of time).
 */
static int get_bytes_rate(struct parser *p, const char *what, char *s,
			  uint32_t *n, uint64_t *period)
{
	char *slash = strchr(s, '/');
	char twhat[32];
	uint64_t v, mult = 1, t;
	size_t len;
	int rc;

	if (slash == NULL || strchr(slash + 1, '/') != NULL)
		return config_fail(p,
				   "%s: expected B/T such as 64k/10s, got '%s'",
				   what, config_quote(p, 0, s));
	*slash = '\0';
	len = strlen(s);
	for (size_t i = 0; len > 1 && i < BYTE_UNITS; i++) {
		if (s[len - 1] == byte_units[i].suffix) {
			mult = byte_units[i].mult;
			len--;
			break;
		}
	}
	rc = parse_digits(s, len, &v);
	if (rc == -EINVAL)
		return config_fail(p,
				   "%s: B must be a decimal number of octets, "
				   "with k, M or G if you like (64k is 64000), "
				   "got '%s'",
				   what, config_quote(p, 0, s));
	if (rc == -ERANGE || v > CONFIG_BYTES_MAX / mult || v == 0)
		return config_fail(p, "%s: B must be 1..1G octets, got %s",
				   what, config_quote(p, 0, s));
	snprintf(twhat, sizeof(twhat), "%s period", what);
	rc = get_duration(p, twhat, slash + 1, false, CONFIG_PERIOD_MIN,
			  CONFIG_PERIOD_MAX, "1ms..24h", &t);
	if (rc != 0)
		return rc;
	if (v * mult > t)
		return config_fail(p,
				   "%s: %s octets per %s is more than one a "
				   "nanosecond; give a longer period",
				   what, config_quote(p, 0, s),
				   config_quote(p, 1, slash + 1));
	*n = (uint32_t)(v * mult);
	*period = t;
	return 0;
}

void config_bytes_text(uint64_t n, char *buf, size_t buflen)
{
	for (size_t i = BYTE_UNITS; i-- > 0;) {
		if (n >= byte_units[i].mult && n % byte_units[i].mult == 0) {
			snprintf(buf, buflen, "%llu%c",
				 (unsigned long long)(n / byte_units[i].mult),
				 byte_units[i].suffix);
			return;
		}
	}
	snprintf(buf, buflen, "%llu", (unsigned long long)n);
}

static int set_uint(struct parser *p, const struct key *k, const char *s,
		    void *field)
{
	uint64_t v;
	int rc = parse_uint(s, &v);

	if (k - config_keys == K_IPV6_PREFIX && rc == 0 && v > 64 && v <= 128)
		return config_fail(p,
				   "ipv6-prefix: expected 32..64, got %s: "
				   "sources are tracked by at most their /64 "
				   "(one subscriber LAN)",
				   config_quote(p, 0, s));
	if (rc == -EINVAL)
		return config_fail(p,
				   "%s: expected a decimal integer %s, got "
				   "'%s'",
				   k->name, k->expect, config_quote(p, 0, s));
	if (rc == -ERANGE || v < k->min || v > k->max)
		return config_fail(p, "%s: expected %s, got %s", k->name,
				   k->expect, config_quote(p, 0, s));
	if (k->size == sizeof(uint8_t)) {
		uint8_t x = (uint8_t)v;

		memcpy(field, &x, sizeof(x));
	} else if (k->size == sizeof(uint32_t)) {
		uint32_t x = (uint32_t)v;

		memcpy(field, &x, sizeof(x));
	} else {
		memcpy(field, &v, sizeof(v));
	}
	return 0;
}

static int set_word(struct parser *p, const struct key *k, const char *s,
		    void *field)
{
	const struct word *w = k->words;

	while (w->name != NULL && strcmp(w->name, s) != 0)
		w++;
	if (w->name == NULL)
		return config_fail(p, "%s: expected %s, got '%s'", k->name,
				   k->expect, config_quote(p, 0, s));
	if (k->words == config_yes_no)
		*(bool *)field = w->value != 0;
	else if (k->words == config_verdicts)
		*(enum config_verdict *)field = (enum config_verdict)w->value;
	else if (k->words == config_actions)
		*(enum config_action *)field = (enum config_action)w->value;
	else
		*(int *)field = w->value;
	return 0;
}

static int set_string(struct parser *p, const struct key *k, const char *s,
		      char **field)
{
	size_t len = strlen(s);
	bool digits = true;

	if (k->type == KT_PATH) {
		if (s[0] != '/')
			return config_fail(p,
					   "%s: expected an absolute path, got "
					   "'%s'",
					   k->name, config_quote(p, 0, s));
		if (s[len - 1] == '/')
			return config_fail(p,
					   "%s: '%s' names a directory; give a "
					   "file name",
					   k->name, config_quote(p, 0, s));
		if (len > k->max)
			return config_fail(p,
					   "%s: path is %zu characters long; "
					   "at most %llu",
					   k->name, len,
					   (unsigned long long)k->max);
	} else {
		/* a user or a group: the same rules, named by its key */
		const char *what = k == &config_keys[K_USER] ? "user" : "group";

		for (size_t i = 0; i < len; i++) {
			char c = s[i];

			if (!((c >= 'a' && c <= 'z') ||
			      (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
			      c == '.'))
				return config_fail(p,
						   "%s: expected a %s name "
						   "of letters, digits, _ - "
						   "and ., got '%s'",
						   k->name, what,
						   config_quote(p, 0, s));
			if (c < '0' || c > '9')
				digits = false;
		}
		if (len > k->max)
			return config_fail(p,
					   "%s: '%s' is longer than %llu "
					   "characters",
					   k->name, config_quote(p, 0, s),
					   (unsigned long long)k->max);
		/* tools read an all-digit name as an id, "-x" as an option */
		if (digits)
			return config_fail(p,
					   "%s: '%s' is a number; give a "
					   "%s name",
					   k->name, config_quote(p, 0, s),
					   what);
		if (s[0] == '-')
			return config_fail(p,
					   "%s: '%s' starts with '-'; give a "
					   "%s name",
					   k->name, config_quote(p, 0, s),
					   what);
	}
	*field = strdup(s);
	if (*field == NULL)
		return config_out_of_memory(p);
	return 0;
}

/* A queue number or range A-B, for queue and answer-queue. */
static int set_queue(struct parser *p, const struct key *k, char *s)
{
	char *dash = strchr(s, '-');
	const char *a = s, *b = s;
	uint64_t first = 0, last = 0;
	uint16_t f16, l16;
	int rc_a, rc_b;

	if (dash != NULL) {
		*dash = '\0';
		b = dash + 1;
	}
	rc_a = parse_uint(a, &first);
	rc_b = parse_uint(b, &last);
	if (rc_a == -EINVAL || rc_b == -EINVAL) {
		if (dash != NULL)
			*dash = '-';
		return config_fail(p, "%s: expected %s, got '%s'", k->name,
				   k->expect, config_quote(p, 0, s));
	}
	if (rc_a != 0 || first > 65535)
		return config_fail(p, "%s: queue numbers are 0..65535, got %s",
				   k->name, config_quote(p, 0, a));
	if (rc_b != 0 || last > 65535)
		return config_fail(p, "%s: queue numbers are 0..65535, got %s",
				   k->name, config_quote(p, 0, b));
	if (first > last)
		return config_fail(
			p, "%s: range %llu-%llu is reversed; write %llu-%llu",
			k->name, (unsigned long long)first,
			(unsigned long long)last, (unsigned long long)last,
			(unsigned long long)first);
	if (last - first + 1 > CONFIG_QUEUES_MAX)
		return config_fail(p,
				   "%s: range %llu-%llu spans %llu queues; "
				   "at most %d",
				   k->name, (unsigned long long)first,
				   (unsigned long long)last,
				   (unsigned long long)(last - first + 1),
				   CONFIG_QUEUES_MAX);
	f16 = (uint16_t)first;
	l16 = (uint16_t)last;
	memcpy((char *)p->cfg + k->off, &f16, sizeof(f16));
	memcpy((char *)p->cfg + k->off2, &l16, sizeof(l16));
	return 0;
}

static int parse_prefix(struct parser *p, const char *key, char *s,
			struct config_prefix *out)
{
	char *slash = strchr(s, '/');
	char text[INET6_ADDRSTRLEN + 8], fix[INET6_ADDRSTRLEN];
	unsigned maxlen;
	uint64_t len;
	int rc;

	if (slash != NULL)
		*slash = '\0';
	memset(out, 0, sizeof(*out));
	out->family = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;
	maxlen = out->family == AF_INET6 ? 128 : 32;
	rc = inet_pton(out->family, s, out->addr);
	if (slash != NULL)
		*slash = '/';
	if (rc != 1)
		return config_fail(p,
				   "%s: expected an address or prefix such "
				   "as 203.0.113.0/24 or 2001:db8::/32, got "
				   "'%s'",
				   key, config_quote(p, 0, s));
	len = maxlen;
	if (slash != NULL) {
		rc = parse_uint(slash + 1, &len);
		if (rc == -EINVAL)
			return config_fail(p,
					   "%s: prefix length in '%s' must "
					   "be a decimal integer 0..%u",
					   key, config_quote(p, 0, s), maxlen);
		if (rc == -ERANGE || len > maxlen)
			return config_fail(p,
					   "%s: prefix length in '%s' must "
					   "be 0..%u",
					   key, config_quote(p, 0, s), maxlen);
	}
	out->len = (uint8_t)len;
	for (unsigned bit = out->len; bit < maxlen; bit++) {
		if (out->addr[bit / 8] & (0x80 >> (bit % 8))) {
			uint8_t masked[16];

			memcpy(masked, out->addr, sizeof(masked));
			for (unsigned b = out->len; b < maxlen; b++)
				masked[b / 8] &= (uint8_t) ~(0x80 >> (b % 8));
			inet_ntop(out->family, masked, fix, sizeof(fix));
			snprintf(text, sizeof(text), "%s/%u", fix, out->len);
			return config_fail(p,
					   "%s: %s has host bits set; did "
					   "you mean %s?",
					   key, config_quote(p, 0, s), text);
		}
	}
	return 0;
}

/*
 * Appends prefixes to a list key's array (allow, serve): the array at
 * k->off, its count at k->off2, its room in the parser's cap[] slot of
 * the key.
 */
static int set_prefixes(struct parser *p, const struct key *k, char **arg,
			int narg)
{
	char *base = (char *)p->cfg;
	struct config_prefix **v = (struct config_prefix **)(base + k->off);
	size_t *n = (size_t *)(base + k->off2);
	size_t *cap = &p->cap[k - config_keys];

	for (int i = 0; i < narg; i++) {
		if (*n == k->max)
			return config_fail(p, "%s: more than %llu prefixes",
					   k->name, (unsigned long long)k->max);
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 16;
			struct config_prefix *a = realloc(*v, c * sizeof(*a));

			if (a == NULL)
				return config_out_of_memory(p);
			*v = a;
			*cap = c;
		}
		if (parse_prefix(p, k->name, arg[i], &(*v)[*n]) != 0)
			return -EINVAL;
		(*n)++;
	}
	return 0;
}

static int parse_qtype(struct parser *p, const char *s, uint16_t *out)
{
	char name[16];
	ldns_rr_type t;
	uint64_t v;
	int rc;

	/* ldns would take TYPE12x as 12 and TYPE99999 modulo 2^16 */
	if (strncasecmp(s, "TYPE", 4) == 0) {
		rc = parse_uint(s + 4, &v);
		if (rc == -EINVAL)
			return config_fail(p,
					   "qtype: expected TYPE and a decimal "
					   "number such as TYPE65534, got '%s'",
					   config_quote(p, 0, s));
		if (rc == -ERANGE || v < 1 || v > 65535)
			return config_fail(p,
					   "qtype: the number in '%s' must be "
					   "1..65535",
					   config_quote(p, 0, s));
		*out = (uint16_t)v;
		return 0;
	}
	t = ldns_get_rr_type_by_name(s);
	if (t == 0)
		return config_fail(p,
				   "qtype: unknown type '%s'; expected a name "
				   "such as A, AAAA, TXT, ANY, or TYPEnnn",
				   config_quote(p, 0, s));
	/* an alias ldns knows is refused: the file writes one name a type */
	dns_qtype_text((uint16_t)t, name, sizeof(name));
	if (strcasecmp(name, s) != 0)
		return config_fail(p,
				   "qtype: '%s' is not the name of type %u; "
				   "write TYPE%u if that type is meant",
				   config_quote(p, 0, s), (unsigned)t,
				   (unsigned)t);
	*out = (uint16_t)t;
	return 0;
}

static int set_qtypes(struct parser *p, char **arg, int narg)
{
	struct config_rule *r = p->rule;
	char prev[16];

	if (narg > CONFIG_QTYPES_MAX)
		return config_fail(p, "qtype: %d types; at most %d in a rule",
				   narg, CONFIG_QTYPES_MAX);
	for (int i = 0; i < narg; i++) {
		uint16_t t = 0;

		if (parse_qtype(p, arg[i], &t) != 0)
			return -EINVAL;
		for (size_t j = 0; j < r->nqtypes; j++) {
			if (r->qtypes[j] != t)
				continue;
			dns_qtype_text(t, prev, sizeof(prev));
			return config_fail(p, "qtype: '%s' repeats %s",
					   config_quote(p, 0, arg[i]), prev);
		}
		r->qtypes[r->nqtypes++] = t;
	}
	return 0;
}

/*
 * Presentation form to lower-case wire form.  Escapes as in zone files:
 * \DDD (three decimal digits, at most 255) and \X for any other X.
 */
static int parse_qname(struct parser *p, const char *s, struct config_qname *q)
{
	uint8_t *w = q->wire;
	size_t n = 0;
	const char *c = s;

	if (strcmp(s, ".") == 0) {
		w[0] = 0;
		q->len = 1;
		return 0;
	}
	while (*c != '\0') {
		size_t lab = n++, llen = 0;

		while (*c != '\0' && *c != '.') {
			unsigned v = (unsigned char)*c++;
			uint64_t d;

			if (v == '\\' && *c == '\0')
				return config_fail(p,
						   "qname: '%s' ends with a "
						   "lone backslash",
						   config_quote(p, 0, s));
			if (v == '\\' && *c >= '0' && *c <= '9') {
				if (parse_digits(c, 3, &d) != 0)
					return config_fail(
						p,
						"qname: bad escape in '%s'; "
						"use \\DDD (three digits) or "
						"\\X",
						config_quote(p, 0, s));
				if (d > 255)
					return config_fail(
						p,
						"qname: escape above \\255 in "
						"'%s'",
						config_quote(p, 0, s));
				v = (unsigned)d;
				c += 3;
			} else if (v == '\\') {
				v = (unsigned char)*c++;
			}
			if (llen == 63)
				return config_fail(p,
						   "qname: '%s' has a label "
						   "longer than 63 octets",
						   config_quote(p, 0, s));
			/* the root octet must still fit in 255 */
			if (n >= 254)
				return config_fail(p,
						   "qname: '%s' is longer than "
						   "255 octets in wire format",
						   config_quote(p, 0, s));
			if (v >= 'A' && v <= 'Z')
				v += 'a' - 'A';
			w[n++] = (uint8_t)v;
			llen++;
		}
		if (llen == 0)
			return config_fail(p, "qname: '%s' has an empty label",
					   config_quote(p, 0, s));
		w[lab] = (uint8_t)llen;
		if (*c == '.')
			c++;
	}
	w[n++] = 0;
	q->len = (uint8_t)n;
	return 0;
}

/*
 * Wire form to presentation form without the trailing dot into buf, which
 * holds NAME_TEXT_MAX.  Everything but printable ASCII is escaped, except
 * with raw set octets above 0x7e, which the file may hold as they are.
 */
void config_qname_text(const struct config_qname *q, bool raw, char *buf)
{
	size_t i = 0, n = 0;

	if (q->len <= 1) {
		strcpy(buf, ".");
		return;
	}
	while (i < q->len && q->wire[i] != 0) {
		size_t llen = q->wire[i++];

		if (n > 0)
			buf[n++] = '.';
		for (; llen > 0 && i < q->len; llen--, i++) {
			unsigned char c = q->wire[i];

			if (c == '.' || c == '\\') {
				buf[n++] = '\\';
				buf[n++] = (char)c;
			} else if (c <= 0x20 || c == '#' || c == 0x7f ||
				   (c > 0x7f && !raw)) {
				snprintf(buf + n, 5, "\\%03u", c);
				n += 4;
			} else {
				buf[n++] = (char)c;
			}
		}
	}
	buf[n] = '\0';
}

static int set_qnames(struct parser *p, char **arg, int narg)
{
	struct config_rule *r = p->rule;
	char prev[NAME_TEXT_MAX];

	if (narg > CONFIG_QNAMES_MAX)
		return config_fail(p, "qname: %d names; at most %d in a rule",
				   narg, CONFIG_QNAMES_MAX);
	for (int i = 0; i < narg; i++) {
		struct config_qname *q = &r->qnames[r->nqnames];

		if (parse_qname(p, arg[i], q) != 0)
			return -EINVAL;
		for (size_t j = 0; j < r->nqnames; j++) {
			if (r->qnames[j].len != q->len ||
			    memcmp(r->qnames[j].wire, q->wire, q->len) != 0)
				continue;
			config_qname_text(&r->qnames[j], false, prev);
			return config_fail(p, "qname: '%s' repeats %s",
					   config_quote(p, 0, arg[i]),
					   config_quote(p, 1, prev));
		}
		r->nqnames++;
	}
	return 0;
}

/* Called by the line parser in config.c, once per setting line. */
int config_set_value(struct parser *p, const struct key *k, char **arg,
		     int narg)
{
	char *base = k->in_rule ? (char *)p->rule : (char *)p->cfg;
	void *field = base + k->off;

	switch (k->type) {
	case KT_QUEUE:
		return set_queue(p, k, arg[0]);
	case KT_UINT:
		return set_uint(p, k, arg[0], field);
	case KT_WORD:
		return set_word(p, k, arg[0], field);
	case KT_USER:
	case KT_PATH:
		return set_string(p, k, arg[0], field);
	case KT_DURATION:
		return get_duration(p, k->name, arg[0], k->zero, k->min, k->max,
				    k->expect, field);
	case KT_RATE:
		return get_rate(p, k->name, arg[0], field,
				(void *)(base + k->off2));
	case KT_BYTES:
		return get_bytes_rate(p, k->name, arg[0], field,
				      (void *)(base + k->off2));
	case KT_PREFIXES:
		return set_prefixes(p, k, arg, narg);
	case KT_QTYPE:
		return set_qtypes(p, arg, narg);
	case KT_QNAME:
		return set_qnames(p, arg, narg);
	}
	return -EINVAL;
}

void config_duration_text(uint64_t ns, char *buf, size_t buflen)
{
	if (buflen == 0)
		return;
	if (ns == 0) {
		snprintf(buf, buflen, "0");
		return;
	}
	for (size_t i = UNITS; i-- > 0;) {
		if (ns % units[i].ns == 0) {
			snprintf(buf, buflen, "%llu%s",
				 (unsigned long long)(ns / units[i].ns),
				 units[i].name);
			return;
		}
	}
	/* finer than the file can say; only reached by a caller's value */
	snprintf(buf, buflen, "%lluns", (unsigned long long)ns);
}

/* "1h20m": every unit that has a part, for people rather than the file. */
void config_duration_parts(uint64_t ns, char *buf, size_t buflen)
{
	size_t n = 0;

	if (ns == 0 || ns % NS_MS != 0) {
		config_duration_text(ns, buf, buflen);
		return;
	}
	for (size_t i = UNITS; i-- > 0;) {
		uint64_t part = ns / units[i].ns;
		int w;

		if (part == 0)
			continue;
		ns -= part * units[i].ns;
		w = snprintf(buf + n, buflen - n, "%llu%s",
			     (unsigned long long)part, units[i].name);
		if (w < 0 || (size_t)w >= buflen - n)
			return;
		n += (size_t)w;
	}
}

/* A parser for one value outside a file: its messages have no file:line. */
static void bare_parser(struct parser *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->err = err;
	p->errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
}

int config_parse_prefix(const char *what, const char *s,
			struct config_prefix *out, char *err, size_t errlen)
{
	char copy[INET6_ADDRSTRLEN + 8];
	struct parser p;

	bare_parser(&p, err, errlen);
	if (strlen(s) >= sizeof(copy))
		return config_fail(&p,
				   "%s: expected an address or prefix such "
				   "as 203.0.113.0/24 or 2001:db8::/32, got "
				   "'%s'",
				   what, config_quote(&p, 0, s));
	snprintf(copy, sizeof(copy), "%s", s);
	return parse_prefix(&p, what, copy, out);
}

int config_parse_duration(const char *what, const char *s, bool zero,
			  uint64_t min, uint64_t max, const char *range,
			  uint64_t *out, char *err, size_t errlen)
{
	struct parser p;

	bare_parser(&p, err, errlen);
	return get_duration(&p, what, s, zero, min, max, range, out);
}
