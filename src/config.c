/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The configuration file parser.
 *
 * The text is read as bytes with a length: a line ends at '\n' or at the end
 * of the buffer, and any control byte (NUL included) is an error, so the
 * tokens that follow are plain C strings.  Every value goes through a strict
 * parser of our own (no atoi, no strtoul, no library loose parse) and is
 * range-checked; the first mistake stops the parse with one message that
 * names file:line, what was expected and what was found.
 *
 * One table describes every key: its type, where its value lives and its
 * range.  Parsing and printing both walk it, so a key cannot be read
 * without also being written back by config_print.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <ldns/ldns.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#define LINE_CHARS_MAX 1023
#define FILE_BYTES_MAX (1024 * 1024)
#define ALLOW_MAX 100000
#define TOKENS_MAX (LINE_CHARS_MAX / 2 + 1)
#define QUOTE_CHARS 48		    /* of a token echoed in a message */
#define NAME_TEXT_MAX (255 * 4 + 2) /* a qname, every octet escaped */

#define NS_MS 1000000ull
#define NS_S (1000 * NS_MS)
#define NS_M (60 * NS_S)
#define NS_H (60 * NS_M)
#define NS_D (24 * NS_H)
#define HOLD_DOWN_CAP (7 * NS_D)

enum key_type {
	KT_QUEUE,
	KT_UINT, /* an unsigned field of 1, 4 or 8 octets */
	KT_WORD, /* one of the words of key.words */
	KT_USER,
	KT_PATH,
	KT_DURATION,
	KT_RATE, /* N/T: N at off (uint32_t), T at off2 (uint64_t) */
	KT_ALLOW,
	KT_QTYPE,
	KT_QNAME,
};

enum key_id {
	K_QUEUE,
	K_QUEUE_MAXLEN,
	K_QUEUE_RCVBUF,
	K_TABLE_SIZE,
	K_FAIL_OPEN,
	K_USER,
	K_CONTROL_SOCKET,
	K_STATS_INTERVAL,
	K_REPORT_INTERVAL,
	K_REPORT_TOP,
	K_SYSLOG_FACILITY,
	K_MALFORMED,
	K_FRAGMENTS,
	K_LOG_LIMIT,
	K_LOG_TRUNCATE,
	K_PROMETHEUS_FILE,
	K_ALLOW,
	K_QTYPE,
	K_QNAME,
	K_LIMIT,
	K_IPV4_PREFIX,
	K_IPV6_PREFIX,
	K_HOLD_DOWN,
	K_HOLD_DOWN_MAX,
	K_TOTAL,
	K_ACTION,
	K_COUNT
};

/* A word value; every field a word sets is an int, a bool or an enum. */
struct word {
	const char *name;
	int value;
};

struct key {
	const char *name;
	enum key_type type;
	bool in_rule; /* off is into struct config_rule, else struct config */
	bool zero;    /* a duration of 0 is allowed: off */
	size_t off, off2, size;
	uint64_t min, max; /* for paths and names, max is the length */
	const struct word *words;
	const char *expect; /* what is accepted, as messages spell it */
};

struct parser {
	const char *name; /* of the file, for messages */
	char *err;
	size_t errlen;
	int line;
	struct config *cfg;
	struct config_rule *rule; /* the open block, or NULL */
	int seen[K_COUNT];	  /* line of a key's first use; 0: unused */
	size_t allow_cap;
	size_t rules_cap;
	char quoted[2][QUOTE_CHARS * 4 + 4];
};

static const struct word yes_no[] = {{"yes", 1}, {"no", 0}, {NULL, 0}};
static const struct word verdicts[] = {
	{"accept", CONFIG_ACCEPT}, {"drop", CONFIG_DROP}, {NULL, 0}};
static const struct word actions[] = {
	{"drop", CONFIG_ACTION_DROP}, {"log", CONFIG_ACTION_LOG}, {NULL, 0}};
static const struct word facilities[] = {{"daemon", LOG_DAEMON},
					 {"user", LOG_USER},
					 {"local0", LOG_LOCAL0},
					 {"local1", LOG_LOCAL1},
					 {"local2", LOG_LOCAL2},
					 {"local3", LOG_LOCAL3},
					 {"local4", LOG_LOCAL4},
					 {"local5", LOG_LOCAL5},
					 {"local6", LOG_LOCAL6},
					 {"local7", LOG_LOCAL7},
					 {NULL, 0}};

#define GLOBAL(f)                          \
	.off = offsetof(struct config, f), \
	.size = sizeof(((struct config *)NULL)->f)
#define RULE(f)                                                  \
	.in_rule = true, .off = offsetof(struct config_rule, f), \
	.size = sizeof(((struct config_rule *)NULL)->f)

static const struct key keys[K_COUNT] = {
	[K_QUEUE] = {"queue", KT_QUEUE, GLOBAL(queue_first),
		     .expect = "a queue number 0..65535 or a range A-B such "
			       "as 0-3"},
	[K_QUEUE_MAXLEN] = {"queue-maxlen", KT_UINT, GLOBAL(queue_maxlen),
			    .min = 16, .max = 1048576, .expect = "16..1048576"},
	[K_QUEUE_RCVBUF] = {"queue-rcvbuf", KT_UINT, GLOBAL(queue_rcvbuf),
			    .min = 0, .max = 2147483647u,
			    .expect = "0 (sized to the queue) or bytes up to "
				      "2147483647"},
	[K_TABLE_SIZE] = {"table-size", KT_UINT, GLOBAL(table_size), .min = 16,
			  .max = 2147483648u, .expect = "16..2147483648"},
	[K_FAIL_OPEN] = {"fail-open", KT_WORD, GLOBAL(fail_open),
			 .words = yes_no, .expect = "yes or no"},
	[K_USER] = {"user", KT_USER, GLOBAL(user), .max = 32,
		    .expect = "a user name"},
	[K_CONTROL_SOCKET] =
		{"control-socket", KT_PATH, GLOBAL(control_socket),
		 .max = sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1,
		 .expect = "an absolute path"},
	[K_STATS_INTERVAL] = {"stats-interval", KT_DURATION,
			      GLOBAL(stats_interval), .zero = true, .min = NS_S,
			      .max = 24 * NS_H, .expect = "0 or 1s..24h"},
	[K_REPORT_INTERVAL] = {"report-interval", KT_DURATION,
			       GLOBAL(report_interval), .zero = true,
			       .min = NS_M, .max = 7 * NS_D,
			       .expect = "0 or 1m..7d"},
	[K_REPORT_TOP] = {"report-top", KT_UINT, GLOBAL(report_top), .min = 1,
			  .max = 100, .expect = "1..100"},
	[K_SYSLOG_FACILITY] = {"syslog-facility", KT_WORD,
			       GLOBAL(syslog_facility), .words = facilities,
			       .expect = "daemon, user or local0..local7"},
	[K_MALFORMED] = {"malformed", KT_WORD, GLOBAL(malformed),
			 .words = verdicts, .expect = "accept or drop"},
	[K_FRAGMENTS] = {"fragments", KT_WORD, GLOBAL(fragments),
			 .words = verdicts, .expect = "accept or drop"},
	[K_LOG_LIMIT] = {"log-limit", KT_RATE, GLOBAL(log_n),
			 .off2 = offsetof(struct config, log_period),
			 .expect = "N/T such as 10/1s"},
	[K_LOG_TRUNCATE] = {"log-truncate", KT_WORD, GLOBAL(log_truncate),
			    .words = yes_no, .expect = "yes or no"},
	[K_PROMETHEUS_FILE] = {"prometheus-file", KT_PATH,
			       GLOBAL(prometheus_file), .max = LINE_CHARS_MAX,
			       .expect = "an absolute path"},
	[K_ALLOW] = {"allow", KT_ALLOW, GLOBAL(allow),
		     .expect = "one or more prefixes such as 203.0.113.0/24"},
	[K_QTYPE] = {"qtype", KT_QTYPE, RULE(qtypes),
		     .expect = "one or more types such as ANY"},
	[K_QNAME] = {"qname", KT_QNAME, RULE(qnames),
		     .expect = "one or more names such as example.net"},
	[K_LIMIT] = {"limit", KT_RATE, RULE(limit_n),
		     .off2 = offsetof(struct config_rule, limit_period),
		     .expect = "N/T such as 2/5s"},
	[K_IPV4_PREFIX] = {"ipv4-prefix", KT_UINT, RULE(ipv4_prefix), .min = 8,
			   .max = 32, .expect = "8..32"},
	[K_IPV6_PREFIX] = {"ipv6-prefix", KT_UINT, RULE(ipv6_prefix), .min = 32,
			   .max = 64, .expect = "32..64"},
	[K_HOLD_DOWN] = {"hold-down", KT_DURATION, RULE(hold_down), .min = NS_S,
			 .max = 24 * NS_H, .expect = "1s..24h"},
	/* its bond to hold-down is checked at the '}' */
	[K_HOLD_DOWN_MAX] = {"hold-down-max", KT_DURATION, RULE(hold_down_max),
			     .min = NS_S, .max = HOLD_DOWN_CAP,
			     .expect = "1s..7d"},
	[K_TOTAL] = {"total", KT_RATE, RULE(total_n),
		     .off2 = offsetof(struct config_rule, total_period),
		     .expect = "N/T such as 500/1s"},
	[K_ACTION] = {"action", KT_WORD, RULE(action), .words = actions,
		      .expect = "drop or log"},
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int vfail_at(struct parser *p, int line, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static int fail_at(struct parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int vfail_at(struct parser *p, int line, const char *fmt, va_list ap)
{
	int n;

	if (p->err == NULL || p->errlen == 0)
		return -EINVAL;
	n = snprintf(p->err, p->errlen, "%s:%d: ", p->name, line);
	if (n >= 0 && (size_t)n < p->errlen)
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	return -EINVAL;
}

static int fail_at(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail_at(p, line, fmt, ap);
	va_end(ap);
	return rc;
}

static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vfail_at(p, p->line, fmt, ap);
	va_end(ap);
	return rc;
}

static int out_of_memory(struct parser *p)
{
	set_err(p->err, p->errlen, "%s: out of memory", p->name);
	return -ENOMEM;
}

/*
 * A token as echoed in a message: cut to a readable length, and bytes
 * outside printable ASCII as \DDD, since messages end up in syslog.
 */
static const char *quote(struct parser *p, int slot, const char *s)
{
	char *q = p->quoted[slot];
	size_t n = 0;

	for (size_t i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == QUOTE_CHARS) {
			memcpy(q + n, "...", 3);
			n += 3;
			break;
		}
		if (c < 0x20 || c > 0x7e) {
			snprintf(q + n, 5, "\\%03u", c);
			n += 4;
		} else {
			q[n++] = (char)c;
		}
	}
	q[n] = '\0';
	return q;
}

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
		return fail(p,
			    "%s: expected a duration such as 5s (units ms, "
			    "s, m, h, d), got '%s'",
			    what, quote(p, 0, s));
	case DUR_NO_UNIT:
		return fail(p, "%s: '%s' needs a unit: ms, s, m, h or d", what,
			    quote(p, 0, s));
	case DUR_FRACTION:
		return fail(p,
			    "%s: '%s' has a fraction; use a whole number of "
			    "a smaller unit, such as 1500ms",
			    what, quote(p, 0, s));
	case DUR_UNIT:
		return fail(p,
			    "%s: unknown unit '%s' in '%s'; use ms, s, m, h "
			    "or d",
			    what, quote(p, 0, unit), quote(p, 1, s));
	case DUR_RANGE:
		break;
	case DUR_OK:
		if ((v == 0 && zero) || (v >= min && v <= max)) {
			*out = v;
			return 0;
		}
		break;
	}
	return fail(p, "%s: expected %s, got %s", what, range, quote(p, 0, s));
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
		return fail(p, "%s: expected N/T such as 2/5s, got '%s'", what,
			    quote(p, 0, s));
	*slash = '\0';
	rc = parse_uint(s, &v);
	if (rc == -EINVAL)
		return fail(p,
			    "%s: N must be a decimal integer 1..%u, got '%s'",
			    what, CONFIG_LIMIT_N_MAX, quote(p, 0, s));
	if (rc == -ERANGE || v < 1 || v > CONFIG_LIMIT_N_MAX)
		return fail(p, "%s: N must be 1..%u, got %s", what,
			    CONFIG_LIMIT_N_MAX, quote(p, 0, s));
	snprintf(twhat, sizeof(twhat), "%s period", what);
	rc = get_duration(p, twhat, slash + 1, false, CONFIG_PERIOD_MIN,
			  CONFIG_PERIOD_MAX, "1ms..24h", period);
	if (rc != 0)
		return rc;
	*n = (uint32_t)v;
	return 0;
}

static int set_uint(struct parser *p, const struct key *k, const char *s,
		    void *field)
{
	uint64_t v;
	int rc = parse_uint(s, &v);

	if (k - keys == K_IPV6_PREFIX && rc == 0 && v > 64 && v <= 128)
		return fail(p,
			    "ipv6-prefix: expected 32..64, got %s: sources "
			    "are tracked by at most their /64 (one "
			    "subscriber LAN)",
			    quote(p, 0, s));
	if (rc == -EINVAL)
		return fail(p, "%s: expected a decimal integer %s, got '%s'",
			    k->name, k->expect, quote(p, 0, s));
	if (rc == -ERANGE || v < k->min || v > k->max)
		return fail(p, "%s: expected %s, got %s", k->name, k->expect,
			    quote(p, 0, s));
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

static int set_word(struct parser *p, const struct key *k, const char *s,
		    void *field)
{
	const struct word *w = k->words;

	while (w->name != NULL && strcmp(w->name, s) != 0)
		w++;
	if (w->name == NULL)
		return fail(p, "%s: expected %s, got '%s'", k->name, k->expect,
			    quote(p, 0, s));
	if (k->words == yes_no)
		*(bool *)field = w->value != 0;
	else if (k->words == verdicts)
		*(enum config_verdict *)field = (enum config_verdict)w->value;
	else if (k->words == actions)
		*(enum config_action *)field = (enum config_action)w->value;
	else
		*(int *)field = w->value;
	return 0;
}

static const char *word_name(const struct key *k, const void *field)
{
	int v;

	if (k->words == yes_no)
		v = *(const bool *)field;
	else if (k->words == verdicts)
		v = (int)*(const enum config_verdict *)field;
	else if (k->words == actions)
		v = (int)*(const enum config_action *)field;
	else
		v = *(const int *)field;
	for (const struct word *w = k->words; w->name != NULL; w++) {
		if (w->value == v)
			return w->name;
	}
	return "?";
}

static int set_string(struct parser *p, const struct key *k, const char *s,
		      char **field)
{
	size_t len = strlen(s);
	bool digits = true;

	if (k->type == KT_PATH) {
		if (s[0] != '/')
			return fail(p,
				    "%s: expected an absolute path, got '%s'",
				    k->name, quote(p, 0, s));
		if (s[len - 1] == '/')
			return fail(p,
				    "%s: '%s' names a directory; give a "
				    "file name",
				    k->name, quote(p, 0, s));
		if (len > k->max)
			return fail(p,
				    "%s: path is %zu characters long; at "
				    "most %llu",
				    k->name, len, (unsigned long long)k->max);
	} else {
		for (size_t i = 0; i < len; i++) {
			char c = s[i];

			if (!((c >= 'a' && c <= 'z') ||
			      (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
			      c == '.'))
				return fail(p,
					    "user: expected a user name of "
					    "letters, digits, _ - and ., "
					    "got '%s'",
					    quote(p, 0, s));
			if (c < '0' || c > '9')
				digits = false;
		}
		if (len > k->max)
			return fail(p,
				    "user: '%s' is longer than %llu "
				    "characters",
				    quote(p, 0, s), (unsigned long long)k->max);
		/* tools read an all-digit name as a uid, "-x" as an option */
		if (digits)
			return fail(p,
				    "user: '%s' is a number; give a user "
				    "name",
				    quote(p, 0, s));
		if (s[0] == '-')
			return fail(p,
				    "user: '%s' starts with '-'; give a user "
				    "name",
				    quote(p, 0, s));
	}
	*field = strdup(s);
	if (*field == NULL)
		return out_of_memory(p);
	return 0;
}

static int set_queue(struct parser *p, char *s)
{
	char *dash = strchr(s, '-');
	const char *a = s, *b = s;
	uint64_t first = 0, last = 0;
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
		return fail(p, "queue: expected %s, got '%s'",
			    keys[K_QUEUE].expect, quote(p, 0, s));
	}
	if (rc_a != 0 || first > 65535)
		return fail(p, "queue: queue numbers are 0..65535, got %s",
			    quote(p, 0, a));
	if (rc_b != 0 || last > 65535)
		return fail(p, "queue: queue numbers are 0..65535, got %s",
			    quote(p, 0, b));
	if (first > last)
		return fail(p,
			    "queue: range %llu-%llu is reversed; write "
			    "%llu-%llu",
			    (unsigned long long)first, (unsigned long long)last,
			    (unsigned long long)last,
			    (unsigned long long)first);
	if (last - first + 1 > CONFIG_QUEUES_MAX)
		return fail(p,
			    "queue: range %llu-%llu spans %llu queues; at "
			    "most %d",
			    (unsigned long long)first, (unsigned long long)last,
			    (unsigned long long)(last - first + 1),
			    CONFIG_QUEUES_MAX);
	p->cfg->queue_first = (uint16_t)first;
	p->cfg->queue_last = (uint16_t)last;
	return 0;
}

static int parse_prefix(struct parser *p, char *s, struct config_prefix *out)
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
		return fail(p,
			    "allow: expected an address or prefix such as "
			    "203.0.113.0/24 or 2001:db8::/32, got '%s'",
			    quote(p, 0, s));
	len = maxlen;
	if (slash != NULL) {
		rc = parse_uint(slash + 1, &len);
		if (rc == -EINVAL)
			return fail(p,
				    "allow: prefix length in '%s' must be a "
				    "decimal integer 0..%u",
				    quote(p, 0, s), maxlen);
		if (rc == -ERANGE || len > maxlen)
			return fail(p,
				    "allow: prefix length in '%s' must be "
				    "0..%u",
				    quote(p, 0, s), maxlen);
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
			return fail(p,
				    "allow: %s has host bits set; did you "
				    "mean %s?",
				    quote(p, 0, s), text);
		}
	}
	return 0;
}

static int set_allow(struct parser *p, char **arg, int narg)
{
	struct config *c = p->cfg;

	for (int i = 0; i < narg; i++) {
		if (c->nallow == ALLOW_MAX)
			return fail(p, "allow: more than %d prefixes",
				    ALLOW_MAX);
		if (c->nallow == p->allow_cap) {
			size_t cap = p->allow_cap ? p->allow_cap * 2 : 16;
			struct config_prefix *a;

			a = realloc(c->allow, cap * sizeof(*a));
			if (a == NULL)
				return out_of_memory(p);
			c->allow = a;
			p->allow_cap = cap;
		}
		if (parse_prefix(p, arg[i], &c->allow[c->nallow]) != 0)
			return -EINVAL;
		c->nallow++;
	}
	return 0;
}

/* ldns maps these itself, outside its table of descriptors. */
static const char *const meta_types[] = {"IXFR", "AXFR", "MAILB", "MAILA",
					 "ANY"};

static int parse_qtype(struct parser *p, const char *s, uint16_t *out)
{
	const ldns_rr_descriptor *d;
	ldns_rr_type t;
	uint64_t v;
	int rc;

	/* ldns would take TYPE12x as 12 and TYPE99999 modulo 2^16 */
	if (strncasecmp(s, "TYPE", 4) == 0) {
		rc = parse_uint(s + 4, &v);
		if (rc == -EINVAL)
			return fail(p,
				    "qtype: expected TYPE and a decimal "
				    "number such as TYPE65534, got '%s'",
				    quote(p, 0, s));
		if (rc == -ERANGE || v < 1 || v > 65535)
			return fail(p,
				    "qtype: the number in '%s' must be "
				    "1..65535",
				    quote(p, 0, s));
		*out = (uint16_t)v;
		return 0;
	}
	t = ldns_get_rr_type_by_name(s);
	if (t == 0)
		return fail(p,
			    "qtype: unknown type '%s'; expected a name such "
			    "as A, AAAA, TXT, ANY, or TYPEnnn",
			    quote(p, 0, s));
	for (size_t i = 0; i < sizeof(meta_types) / sizeof(meta_types[0]);
	     i++) {
		if (strcasecmp(s, meta_types[i]) == 0) {
			*out = (uint16_t)t;
			return 0;
		}
	}
	d = ldns_rr_descript((uint16_t)t);
	if (d == NULL || d->_name == NULL || d->_type != t ||
	    strcasecmp(d->_name, s) != 0)
		return fail(p,
			    "qtype: '%s' is not the name of type %u; write "
			    "TYPE%u if that type is meant",
			    quote(p, 0, s), (unsigned)t, (unsigned)t);
	*out = (uint16_t)t;
	return 0;
}

/* The name of a type as the file writes it: ldns's where it reads back. */
void config_qtype_text(uint16_t t, char *buf, size_t buflen)
{
	const ldns_rr_descriptor *d = ldns_rr_descript(t);

	if (t >= 251 && t <= 255)
		snprintf(buf, buflen, "%s", meta_types[t - 251]);
	else if (d != NULL && d->_type == t && d->_name != NULL &&
		 strncasecmp(d->_name, "TYPE", 4) != 0 &&
		 ldns_get_rr_type_by_name(d->_name) == t)
		snprintf(buf, buflen, "%s", d->_name);
	else
		snprintf(buf, buflen, "TYPE%u", (unsigned)t);
}

static int set_qtypes(struct parser *p, char **arg, int narg)
{
	struct config_rule *r = p->rule;
	char prev[16];

	if (narg > CONFIG_QTYPES_MAX)
		return fail(p, "qtype: %d types; at most %d in a rule", narg,
			    CONFIG_QTYPES_MAX);
	for (int i = 0; i < narg; i++) {
		uint16_t t = 0;

		if (parse_qtype(p, arg[i], &t) != 0)
			return -EINVAL;
		for (size_t j = 0; j < r->nqtypes; j++) {
			if (r->qtypes[j] != t)
				continue;
			config_qtype_text(t, prev, sizeof(prev));
			return fail(p, "qtype: '%s' repeats %s",
				    quote(p, 0, arg[i]), prev);
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
				return fail(p,
					    "qname: '%s' ends with a lone "
					    "backslash",
					    quote(p, 0, s));
			if (v == '\\' && *c >= '0' && *c <= '9') {
				if (parse_digits(c, 3, &d) != 0)
					return fail(p,
						    "qname: bad escape in "
						    "'%s'; use \\DDD (three "
						    "digits) or \\X",
						    quote(p, 0, s));
				if (d > 255)
					return fail(p,
						    "qname: escape above "
						    "\\255 in '%s'",
						    quote(p, 0, s));
				v = (unsigned)d;
				c += 3;
			} else if (v == '\\') {
				v = (unsigned char)*c++;
			}
			if (llen == 63)
				return fail(p,
					    "qname: '%s' has a label longer "
					    "than 63 octets",
					    quote(p, 0, s));
			/* the root octet must still fit in 255 */
			if (n >= 254)
				return fail(p,
					    "qname: '%s' is longer than 255 "
					    "octets in wire format",
					    quote(p, 0, s));
			if (v >= 'A' && v <= 'Z')
				v += 'a' - 'A';
			w[n++] = (uint8_t)v;
			llen++;
		}
		if (llen == 0)
			return fail(p, "qname: '%s' has an empty label",
				    quote(p, 0, s));
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
static void qname_text(const struct config_qname *q, bool raw, char *buf)
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
		return fail(p, "qname: %d names; at most %d in a rule", narg,
			    CONFIG_QNAMES_MAX);
	for (int i = 0; i < narg; i++) {
		struct config_qname *q = &r->qnames[r->nqnames];

		if (parse_qname(p, arg[i], q) != 0)
			return -EINVAL;
		for (size_t j = 0; j < r->nqnames; j++) {
			if (r->qnames[j].len != q->len ||
			    memcmp(r->qnames[j].wire, q->wire, q->len) != 0)
				continue;
			qname_text(&r->qnames[j], false, prev);
			return fail(p, "qname: '%s' repeats %s",
				    quote(p, 0, arg[i]), quote(p, 1, prev));
		}
		r->nqnames++;
	}
	return 0;
}

static int set_value(struct parser *p, const struct key *k, char **arg,
		     int narg)
{
	char *base = k->in_rule ? (char *)p->rule : (char *)p->cfg;
	void *field = base + k->off;

	switch (k->type) {
	case KT_QUEUE:
		return set_queue(p, arg[0]);
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
	case KT_ALLOW:
		return set_allow(p, arg, narg);
	case KT_QTYPE:
		return set_qtypes(p, arg, narg);
	case KT_QNAME:
		return set_qnames(p, arg, narg);
	}
	return -EINVAL;
}

static int unknown_key(struct parser *p, const char *s)
{
	char list[400];
	size_t n = 0;
	bool in_rule = p->rule != NULL;

	for (int i = 0; i <= K_COUNT; i++) {
		const char *name = i < K_COUNT ? keys[i].name : "rule";

		if (strcasecmp(s, name) == 0)
			return fail(p,
				    "unknown setting '%s': settings are "
				    "lower case ('%s')",
				    quote(p, 0, s), name);
	}
	if (strcmp(s, "{") == 0)
		return fail(p, "'{' belongs at the end of the rule line: "
			       "rule NAME {");
	for (int i = 0; i < K_COUNT; i++) {
		if (keys[i].in_rule == in_rule)
			n += (size_t)snprintf(list + n, sizeof(list) - n,
					      "%s, ", keys[i].name);
	}
	snprintf(list + n, sizeof(list) - n, "%s", in_rule ? "}" : "rule");
	if (in_rule)
		return fail(p,
			    "unknown setting '%s' in rule %s; expected one "
			    "of %s",
			    quote(p, 0, s), p->rule->name, list);
	return fail(p, "unknown setting '%s'; expected one of %s",
		    quote(p, 0, s), list);
}

static int check_rule_name(struct parser *p, char **tok, int ntok)
{
	const char *name = tok[1];
	size_t len = strlen(name);

	if (strcmp(name, "{") == 0)
		return fail(p, "rule: missing name before '{'");
	if (ntok == 2 && len > 1 && name[len - 1] == '{')
		return fail(p,
			    "rule: put a space between the name and '{' in "
			    "'%s'",
			    quote(p, 0, name));
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return fail(p,
				    "rule: expected a name of letters, "
				    "digits, _ and -, got '%s'",
				    quote(p, 0, name));
	}
	if (len > CONFIG_NAME_MAX)
		return fail(p, "rule: name '%s' is longer than %d characters",
			    quote(p, 0, name), CONFIG_NAME_MAX);
	if (ntok == 2)
		return fail(p, "rule %s: missing '{' at the end of the line",
			    name);
	if (strcmp(tok[2], "{") != 0)
		return fail(p, "rule %s: expected '{' after the name, got '%s'",
			    name, quote(p, 0, tok[2]));
	if (ntok > 3)
		return fail(p,
			    "rule %s: unexpected '%s' after '{'; settings go "
			    "on lines of their own",
			    name, quote(p, 0, tok[3]));
	for (size_t i = 0; i < p->cfg->nrules; i++) {
		if (strcmp(p->cfg->rules[i].name, name) == 0)
			return fail(p, "rule %s: already defined at line %d",
				    name, p->cfg->rules[i].line);
	}
	if (p->cfg->nrules == CONFIG_RULES_MAX)
		return fail(p, "rule %s: more than %d rules", name,
			    CONFIG_RULES_MAX);
	return 0;
}

static int open_rule(struct parser *p, char **tok, int ntok)
{
	struct config *c = p->cfg;
	struct config_rule *r;

	if (p->rule != NULL)
		return fail(p,
			    "rule inside rule %s (opened at line %d); close "
			    "that one with '}' first",
			    p->rule->name, p->rule->line);
	if (ntok == 1)
		return fail(p, "rule: expected 'rule NAME {', got nothing "
			       "after "
			       "'rule'");
	if (check_rule_name(p, tok, ntok) != 0)
		return -EINVAL;
	if (c->nrules == p->rules_cap) {
		size_t cap = p->rules_cap ? p->rules_cap * 2 : 4;

		r = realloc(c->rules, cap * sizeof(*r));
		if (r == NULL)
			return out_of_memory(p);
		c->rules = r;
		p->rules_cap = cap;
	}
	r = &c->rules[c->nrules];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", tok[1]);
	r->line = p->line;
	r->ipv4_prefix = 32;
	r->ipv6_prefix = 56;
	r->action = CONFIG_ACTION_DROP;
	for (int i = 0; i < K_COUNT; i++) {
		if (keys[i].in_rule)
			p->seen[i] = 0;
	}
	p->rule = r;
	return 0;
}

static int close_rule(struct parser *p, char **tok, int ntok)
{
	struct config_rule *r = p->rule;
	int max_line = p->seen[K_HOLD_DOWN_MAX];
	char a[32], b[32];

	if (r == NULL)
		return fail(p, "'}' without an open rule");
	if (ntok > 1)
		return fail(p,
			    "'}' must stand alone on its line, got '%s' "
			    "after it",
			    quote(p, 0, tok[1]));
	if (r->limit_n == 0)
		return fail_at(p, r->line,
			       "rule %s has no limit; add one such "
			       "as 'limit 2/5s'",
			       r->name);
	if (r->nqtypes == 0 && r->nqnames == 0)
		return fail_at(p, r->line,
			       "rule %s would match every query; "
			       "give it a qtype, a qname or both",
			       r->name);
	if (max_line != 0 && r->hold_down == 0)
		return fail_at(p, max_line,
			       "hold-down-max without hold-down "
			       "in rule %s; add hold-down or "
			       "remove this line",
			       r->name);
	if (max_line != 0 && r->hold_down_max < r->hold_down) {
		config_duration_text(r->hold_down_max, a, sizeof(a));
		config_duration_text(r->hold_down, b, sizeof(b));
		return fail_at(p, max_line,
			       "hold-down-max %s is shorter than "
			       "hold-down %s (line %d)",
			       a, b, p->seen[K_HOLD_DOWN]);
	}
	if (max_line == 0 && r->hold_down != 0)
		r->hold_down_max = r->hold_down > HOLD_DOWN_CAP / 8
					   ? HOLD_DOWN_CAP
					   : 8 * r->hold_down;
	p->cfg->nrules++;
	p->rule = NULL;
	return 0;
}

static int check_bytes(struct parser *p, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0')
			return fail(p, "NUL byte in column %zu", i + 1);
		if (c == '\r')
			return fail(p,
				    "carriage return in column %zu: the file "
				    "has DOS line endings; convert it with "
				    "dos2unix",
				    i + 1);
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(p,
				    "control character \\%03u in column %zu; "
				    "only spaces and tabs separate tokens",
				    c, i + 1);
	}
	return 0;
}

static int parse_line(struct parser *p, const char *text, size_t n)
{
	char buf[LINE_CHARS_MAX + 1];
	char *tok[TOKENS_MAX], *s = buf, *hash;
	const struct key *k;
	int ntok = 0, id;
	bool list;

	if (n > LINE_CHARS_MAX)
		return fail(p, "line is longer than %d characters",
			    LINE_CHARS_MAX);
	if (check_bytes(p, text, n) != 0)
		return -EINVAL;
	memcpy(buf, text, n);
	buf[n] = '\0';
	hash = strchr(buf, '#');
	if (hash != NULL)
		*hash = '\0';
	for (;;) {
		s += strspn(s, " \t");
		if (*s == '\0')
			break;
		tok[ntok++] = s;
		s += strcspn(s, " \t");
		if (*s == '\0')
			break;
		*s++ = '\0';
	}
	if (ntok == 0)
		return 0;
	if (strcmp(tok[0], "rule") == 0)
		return open_rule(p, tok, ntok);
	if (strcmp(tok[0], "}") == 0)
		return close_rule(p, tok, ntok);
	for (id = 0; id < K_COUNT; id++) {
		if (strcmp(tok[0], keys[id].name) == 0)
			break;
	}
	if (id == K_COUNT)
		return unknown_key(p, tok[0]);
	k = &keys[id];
	if (k->in_rule && p->rule == NULL)
		return fail(p, "%s is a rule setting; put it inside rule { }",
			    k->name);
	if (!k->in_rule && p->rule != NULL)
		return fail(p,
			    "%s is a global setting; move it out of rule %s "
			    "(opened at line %d)",
			    k->name, p->rule->name, p->rule->line);
	if (id != K_ALLOW && p->seen[id] != 0)
		return fail(p, "%s: already set at line %d", k->name,
			    p->seen[id]);
	p->seen[id] = p->line;
	if (ntok == 1)
		return fail(p, "%s: missing value; expected %s", k->name,
			    k->expect);
	list = k->type == KT_ALLOW || k->type == KT_QTYPE ||
	       k->type == KT_QNAME;
	if (!list && ntok > 2)
		return fail(p,
			    "%s: unexpected '%s' after '%s'; it takes one "
			    "value",
			    k->name, quote(p, 0, tok[2]), quote(p, 1, tok[1]));
	return set_value(p, k, tok + 1, ntok - 1);
}

static void set_defaults(struct config *c)
{
	c->queue_first = 0;
	c->queue_last = 0;
	c->queue_maxlen = 4096;
	c->table_size = 1048576;
	c->fail_open = true;
	c->stats_interval = 60 * NS_S;
	c->report_interval = NS_H;
	c->report_top = 10;
	c->syslog_facility = LOG_DAEMON;
	c->malformed = CONFIG_ACCEPT;
	c->fragments = CONFIG_DROP;
	c->log_n = 10;
	c->log_period = NS_S;
	c->log_truncate = false;
}

struct config *config_parse(const char *name, const char *text, size_t len,
			    char *err, size_t errlen)
{
	struct parser p;
	const char *pos, *end;
	int rc = 0;

	memset(&p, 0, sizeof(p));
	p.name = name != NULL ? name : "(config)";
	p.err = err;
	p.errlen = errlen;
	if (errlen > 0 && err != NULL)
		err[0] = '\0';
	if (len > FILE_BYTES_MAX) {
		set_err(err, errlen, "%s: larger than 1 MiB", p.name);
		return NULL;
	}
	if (text == NULL)
		text = "";
	pos = text;
	end = text + len;
	p.cfg = calloc(1, sizeof(*p.cfg));
	if (p.cfg == NULL) {
		out_of_memory(&p);
		return NULL;
	}
	set_defaults(p.cfg);
	p.cfg->path = strdup(p.name);
	if (p.cfg->path == NULL)
		rc = out_of_memory(&p);
	while (rc == 0 && pos < end) {
		const char *nl = memchr(pos, '\n', (size_t)(end - pos));
		size_t n = nl != NULL ? (size_t)(nl - pos)
				      : (size_t)(end - pos);

		p.line++;
		rc = parse_line(&p, pos, n);
		pos += n + (nl != NULL);
	}
	if (rc == 0 && p.rule != NULL)
		rc = fail_at(&p, p.rule->line,
			     "rule %s is never closed: the "
			     "file ends before its '}'",
			     p.rule->name);
	if (rc != 0) {
		config_free(p.cfg);
		return NULL;
	}
	return p.cfg;
}

struct config *config_load(const char *path, char *err, size_t errlen)
{
	struct config *cfg = NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	/* checked on the open file, so what is checked is what is read */
	if (fstat(fd, &st) < 0) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISREG(st.st_mode) && (st.st_mode & (S_IWGRP | S_IWOTH))) {
		set_err(err, errlen,
			"%s: writable by group or others (mode %04o): anyone "
			"who can write it sets the policy; chmod go-w %s",
			path, (unsigned)(st.st_mode & 07777), path);
		goto fail;
	}
	/* read to the end rather than trust st_size: pipes report 0 */
	for (;;) {
		ssize_t got;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			char *nbuf;

			if (ncap > FILE_BYTES_MAX + 1)
				ncap = FILE_BYTES_MAX + 1;
			nbuf = realloc(buf, ncap);
			if (nbuf == NULL) {
				set_err(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			buf = nbuf;
			cap = ncap;
		}
		got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			set_err(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (got == 0)
			break;
		len += (size_t)got;
		if (len > FILE_BYTES_MAX) {
			set_err(err, errlen, "%s: larger than 1 MiB", path);
			goto fail;
		}
	}
	cfg = config_parse(path, buf, len, err, errlen);
	if (cfg != NULL)
		cfg->file_owner = st.st_uid;
fail:
	free(buf);
	close(fd);
	return cfg;
}

int config_check_owner(const struct config *cfg, uid_t uid, char *err,
		       size_t errlen)
{
	if (cfg->file_owner == 0 || cfg->file_owner == uid)
		return 0;
	set_err(err, errlen,
		"%s: owned by uid %u; it must belong to root or to the "
		"daemon's user (uid %u)",
		cfg->path != NULL ? cfg->path : "(config)",
		(unsigned)cfg->file_owner, (unsigned)uid);
	return -EPERM;
}

void config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->user);
	free(cfg->control_socket);
	free(cfg->prometheus_file);
	free(cfg->allow);
	free(cfg->rules);
	free(cfg);
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
static void duration_parts(uint64_t ns, char *buf, size_t buflen)
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
		qname_text(&r->qnames[i], false, name);
		width += 1 + strlen(name);
	}
	raw = width > LINE_CHARS_MAX;
	if (raw)
		fprintf(out, "qname");
	else
		fprintf(out, "\t%-13s", "qname");
	for (size_t i = 0; i < r->nqnames; i++) {
		qname_text(&r->qnames[i], raw, name);
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

	switch (k->type) {
	case KT_QUEUE:
		if (cfg->queue_first == cfg->queue_last)
			fprintf(out, "%-*s %u\n", w, k->name, cfg->queue_first);
		else
			fprintf(out, "%-*s %u-%u\n", w, k->name,
				cfg->queue_first, cfg->queue_last);
		return;
	case KT_UINT:
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
		memcpy(&n, field, sizeof(n));
		memcpy(&v, (const char *)base + k->off2, sizeof(v));
		if (n == 0) {
			fprintf(out, "%s# %s (none)\n", pre, k->name);
			return;
		}
		config_duration_text(v, d, sizeof(d));
		fprintf(out, "%s%-*s %u/%s\n", pre, w, k->name, n, d);
		return;
	case KT_ALLOW:
		for (size_t i = 0; i < cfg->nallow; i++) {
			const struct config_prefix *pf = &cfg->allow[i];

			inet_ntop(pf->family, pf->addr, a, sizeof(a));
			fprintf(out, "%-*s %s/%u\n", w, k->name, a, pf->len);
		}
		return;
	case KT_QTYPE:
		if (r->nqtypes == 0) {
			fprintf(out, "\t# qtype (every type)\n");
			return;
		}
		fprintf(out, "\t%-*s", w, k->name);
		for (size_t i = 0; i < r->nqtypes; i++) {
			config_qtype_text(r->qtypes[i], d, sizeof(d));
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
		if (!keys[i].in_rule)
			print_key(cfg, &keys[i], cfg, out);
	}
	for (size_t j = 0; j < cfg->nrules; j++) {
		fprintf(out, "\nrule %s {\n", cfg->rules[j].name);
		for (int i = 0; i < K_COUNT; i++) {
			if (keys[i].in_rule)
				print_key(cfg, &keys[i], &cfg->rules[j], out);
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
	if (r->nqtypes > 0)
		add(&t, " qtype");
	for (size_t i = 0; i < r->nqtypes; i++) {
		config_qtype_text(r->qtypes[i], d, sizeof(d));
		add(&t, " %s", d);
	}
	if (r->nqnames > 0)
		add(&t, " qname");
	for (size_t i = 0; i < r->nqnames; i++) {
		qname_text(&r->qnames[i], false, name);
		add(&t, " %s", name);
	}
	config_duration_text(r->limit_period, d, sizeof(d));
	add(&t, " limit %u/%s per /%u (IPv4) /%u (IPv6)", r->limit_n, d,
	    r->ipv4_prefix, r->ipv6_prefix);
	if (r->total_n != 0) {
		config_duration_text(r->total_period, d, sizeof(d));
		add(&t, " total %u/%s", r->total_n, d);
	}
	if (r->hold_down != 0) {
		duration_parts(r->hold_down, d, sizeof(d));
		duration_parts(r->hold_down_max, e, sizeof(e));
		add(&t, " hold-down %s..%s", d, e);
	}
	add(&t, " action %s", r->action == CONFIG_ACTION_LOG ? "log" : "drop");
}
