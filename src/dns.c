/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The DNS header and question walk.
 *
 * dns_parse runs for every queued packet: the question walk reads only
 * length octets, each bounds-checked, and the name is then copied and
 * folded eight octets at a time.  The name is copied into the question so
 * that policy matching never touches the packet buffer again.
 */
#include <string.h>

#include <ldns/wire2host.h>

#include "dns.h"

/* ASCII A-Z only: other octets (0xC1 ...) are not letters in DNS */
static inline uint8_t fold(uint8_t c)
{
	return (unsigned int)(c - 'A') < 26 ? (uint8_t)(c + ('a' - 'A')) : c;
}

/*
 * fold() on eight octets at once.  With the top bits cleared no sum
 * carries into the next octet; octets with the top bit set are kept.
 */
static inline uint64_t fold8(uint64_t v)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	uint64_t low = v & (0x7f * ones);
	uint64_t ge_a = low + (0x80 - 'A') * ones;
	uint64_t gt_z = low + (0x80 - 'Z' - 1) * ones;

	return v | (ge_a & ~gt_z & ~v & (0x80 * ones)) >> 2;
}

/*
 * Copies and folds a checked name.  Length octets (at most 63) are below
 * 'A', so the whole name can go eight octets at a time, the last eight
 * overlapping what was done (folding twice changes nothing).
 */
static inline void copy_folded(uint8_t *dst, const uint8_t *src, size_t len)
{
	uint64_t v;
	size_t i;

	if (len < 8) {
		for (i = 0; i < len; i++)
			dst[i] = fold(src[i]);
		return;
	}
	for (i = 0; i + 8 <= len; i += 8) {
		memcpy(&v, src + i, 8);
		v = fold8(v);
		memcpy(dst + i, &v, 8);
	}
	if (i < len) {
		memcpy(&v, src + len - 8, 8);
		v = fold8(v);
		memcpy(dst + len - 8, &v, 8);
	}
}

/*
 * The question at w[0..avail).  The walk hops from length octet to length
 * octet; each is checked against the name limit before the label behind
 * it counts, so a long name is refused from its length octets alone and
 * q->name can never overflow.  Only the checked name is then copied.
 */
static enum dns_status parse_question(const uint8_t *w, size_t avail,
				      struct dns_question *q)
{
	size_t n = 0;
	unsigned int labels = 0;
	uint8_t c;

	q->starts[0] = q->starts[1] = q->starts[2] = q->starts[3] = 0;
	for (;;) {
		if (n >= avail)
			return DNS_TRUNCATED;
		c = w[n];
		/* the root is a start too, so the suffix "." matches all */
		q->starts[n / 64] |= UINT64_C(1) << (n % 64);
		if (c == 0)
			break;
		if (c > DNS_LABEL_MAX)
			return (c & 0xc0) == 0xc0 ? DNS_POINTER : DNS_BAD_LABEL;
		/* this label and a root after it */
		if (n + c + 2 > DNS_NAME_MAX)
			return DNS_NAME_LONG;
		if (c >= avail - n)
			return DNS_TRUNCATED;
		n += (size_t)c + 1;
		labels++;
	}
	if (avail - n - 1 < 4)
		return DNS_TRUNCATED;
	copy_folded(q->name, w, n + 1);
	q->name_len = (uint8_t)(n + 1);
	q->labels = (uint8_t)labels;
	q->qtype = ldns_read_uint16(w + n + 1);
	q->qclass = ldns_read_uint16(w + n + 3);
	return DNS_QUERY;
}

enum dns_status dns_parse(const uint8_t *msg, size_t len,
			  struct dns_question *q)
{
	if (len < LDNS_HEADER_SIZE)
		return DNS_SHORT;
	if (LDNS_QR_WIRE(msg))
		return DNS_RESPONSE;
	if (LDNS_OPCODE_WIRE(msg) != LDNS_PACKET_QUERY)
		return DNS_OPCODE;
	if (LDNS_QDCOUNT(msg) != 1)
		return DNS_QDCOUNT;
	/* what follows the question (EDNS, other sections) is not needed */
	return parse_question(msg + LDNS_HEADER_SIZE, len - LDNS_HEADER_SIZE,
			      q);
}

const char *dns_status_name(enum dns_status s)
{
	static const char *const names[DNS_NSTATUS] = {
		[DNS_QUERY] = "query",	       [DNS_RESPONSE] = "response",
		[DNS_OPCODE] = "opcode",       [DNS_QDCOUNT] = "qdcount",
		[DNS_SHORT] = "short",	       [DNS_TRUNCATED] = "truncated",
		[DNS_POINTER] = "pointer",     [DNS_BAD_LABEL] = "bad-label",
		[DNS_NAME_LONG] = "name-long",
	};

	if ((unsigned int)s >= DNS_NSTATUS)
		return "unknown";
	return names[s];
}

bool dns_name_has_suffix(const struct dns_question *q, const uint8_t *suffix,
			 size_t len)
{
	size_t off;

	if (len == 0 || len > q->name_len)
		return false;
	off = q->name_len - len;
	/* label-aligned: "example.com" is no suffix of "badexample.com" */
	if (!(q->starts[off / 64] & UINT64_C(1) << (off % 64)))
		return false;
	return memcmp(q->name + off, suffix, len) == 0;
}

/* Where presentation text is being written, and how much it needs. */
struct text {
	char *buf;
	size_t size;
	size_t used; /* written, NUL excluded */
	size_t need; /* the whole text would take */
	bool cut;
};

/*
 * Appends s[0..n) whole or not at all, so a short buffer never ends in
 * half an escape; after one piece is cut no later piece is written.
 */
static void text_put(struct text *t, const char *s, size_t n)
{
	t->need += n;
	if (t->cut || t->used + n >= t->size) {
		t->cut = true;
		return;
	}
	memcpy(t->buf + t->used, s, n);
	t->used += n;
}

static void text_put_octet(struct text *t, uint8_t c)
{
	char esc[4];

	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '*') {
		esc[0] = (char)c;
		text_put(t, esc, 1);
		return;
	}
	/* anything else could confuse a log reader or parser: \DDD */
	esc[0] = '\\';
	esc[1] = (char)('0' + c / 100);
	esc[2] = (char)('0' + c / 10 % 10);
	esc[3] = (char)('0' + c % 10);
	text_put(t, esc, 4);
}

int dns_name_to_text(const uint8_t *name, size_t len, char *buf, size_t buflen)
{
	struct text t = {.buf = buf, .size = buflen};
	size_t i = 0;
	uint8_t c;

	for (;;) {
		if (i >= len)
			goto fail;
		c = name[i];
		if (c == 0)
			break;
		if (c > DNS_LABEL_MAX || c >= len - i ||
		    i + c + 2 > DNS_NAME_MAX)
			goto fail;
		for (size_t j = i + 1; j <= i + c; j++)
			text_put_octet(&t, name[j]);
		text_put(&t, ".", 1);
		i += (size_t)c + 1;
	}
	if (i == 0)
		text_put(&t, ".", 1);
	if (buflen > 0)
		buf[t.used] = '\0';
	return (int)t.need;
fail:
	if (buflen > 0)
		buf[0] = '\0';
	return -1;
}
