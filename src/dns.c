/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The DNS header and question walk.
 *
 * dns_parse runs for every queued packet: the question walk reads only
 * length octets, each bounds-checked, and the qtype.  Most queries are
 * decided on their qtype alone; only a rule with qname suffixes asks for
 * the name, which is then copied and folded eight octets at a time.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#include "dns.h"
#include "wire.h"

_Static_assert(WIRE_DNS_HDR == LDNS_HEADER_SIZE, "the DNS header");

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
 * The rest of a name that continues at a pointer, msg[0..len), the pointer
 * at msg[ptr] (its two octets are there): checks it the way the question
 * walk checks a name and adds its octets (n so far, root excluded) and
 * labels.  Each pointer must point before the one before it (BIND's rule),
 * so the targets only go down and the walk ends.
 */
static enum dns_status follow(const uint8_t *msg, size_t len, size_t ptr,
			      size_t *n, unsigned int *labels)
{
	size_t pos = ptr, limit = ptr;
	uint8_t c;

	for (;;) {
		c = msg[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t to = (size_t)(c & 0x3f) << 8 | msg[pos + 1];

			if (to >= limit)
				return DNS_POINTER;
			pos = limit = to;
			continue;
		}
		if (c == 0)
			return DNS_QUERY;
		if (c > DNS_LABEL_MAX)
			return DNS_BAD_LABEL;
		*n += (size_t)c + 1;
		if (*n >= DNS_NAME_MAX)
			return DNS_NAME_LONG;
		(*labels)++;
		pos += (size_t)c + 1;
		/* the next length octet, and a pointer's second octet */
		if (pos + 1 >= len)
			return pos < len && msg[pos] == 0 ? DNS_QUERY
							  : DNS_POINTER;
	}
}

/*
 * The question, msg[WIRE_DNS_HDR..len).  The walk hops from length octet
 * to length octet and never reads a label; a name whose next length octet
 * would sit past octet 254 is over 255 octets long, refused before
 * anything behind it is read.  The name is only copied (and folded) when
 * a rule needs it.
 */
static enum dns_status parse_question(const uint8_t *msg, size_t len,
				      struct dns_question *q)
{
	const uint8_t *w = msg + WIRE_DNS_HDR;
	size_t avail = len - WIRE_DNS_HDR;
	size_t lim = avail < DNS_NAME_MAX ? avail : DNS_NAME_MAX;
	unsigned int labels = 0;
	enum dns_status st;
	size_t n = 0, end;
	uint8_t c;

	q->compressed = false;
	for (;;) {
		if (n >= lim)
			return n >= DNS_NAME_MAX ? DNS_NAME_LONG
						 : DNS_TRUNCATED;
		c = w[n];
		if (c == 0)
			break;
		if ((c & 0xc0) == 0xc0) {
			q->compressed = true;
			break;
		}
		if (c > DNS_LABEL_MAX)
			return DNS_BAD_LABEL;
		n += (size_t)c + 1;
		labels++;
	}
	/* the name in the message ends after its root or its pointer */
	end = q->compressed ? n + 2 : n + 1;
	if (end > avail || avail - end < 4)
		return DNS_TRUNCATED;
	if (q->compressed) {
		st = follow(msg, len, WIRE_DNS_HDR + n, &n, &labels);
		if (st != DNS_QUERY)
			return st;
	}
	q->msg = msg;
	q->wire = w;
	q->folded = false;
	q->name_len = (uint8_t)(n + 1);
	q->labels = (uint8_t)labels;
	q->qtype = ldns_read_uint16(w + end);
	q->qclass = ldns_read_uint16(w + end + 2);
	return DNS_QUERY;
}

enum dns_status dns_parse(const uint8_t *msg, size_t len,
			  struct dns_question *q)
{
	if (len < WIRE_DNS_HDR)
		return DNS_SHORT;
	if (LDNS_QR_WIRE(msg))
		return DNS_RESPONSE;
	if (LDNS_OPCODE_WIRE(msg) != LDNS_PACKET_QUERY)
		return DNS_OPCODE;
	if (LDNS_QDCOUNT(msg) != 1)
		return DNS_QDCOUNT;
	/* what follows the question (EDNS, other sections) is not needed */
	return parse_question(msg, len, q);
}

enum dns_status dns_parse_answer(const uint8_t *msg, size_t len,
				 struct dns_question *q)
{
	enum dns_status st;

	if (len < WIRE_DNS_HDR)
		return DNS_SHORT;
	if (!LDNS_QR_WIRE(msg))
		return DNS_QUERY;
	if (LDNS_OPCODE_WIRE(msg) != LDNS_PACKET_QUERY)
		return DNS_OPCODE;
	if (LDNS_QDCOUNT(msg) != 1)
		return DNS_QDCOUNT;
	st = parse_question(msg, len, q);
	return st == DNS_QUERY ? DNS_RESPONSE : st;
}

/* Copies a checked name that ends in a pointer, folding it. */
static void copy_compressed(uint8_t *dst, const uint8_t *msg,
			    const uint8_t *name)
{
	size_t pos = (size_t)(name - msg), out = 0;
	uint8_t c;

	while ((c = msg[pos]) != 0) {
		if ((c & 0xc0) == 0xc0) {
			pos = (size_t)(c & 0x3f) << 8 | msg[pos + 1];
			continue;
		}
		dst[out++] = c;
		for (size_t i = 1; i <= c; i++)
			dst[out++] = fold(msg[pos + i]);
		pos += (size_t)c + 1;
	}
	dst[out] = 0;
}

const uint8_t *dns_question_name(struct dns_question *q)
{
	if (!q->folded) {
		if (q->compressed)
			copy_compressed(q->name, q->msg, q->wire);
		else
			copy_folded(q->name, q->wire, q->name_len);
		q->folded = true;
	}
	return q->name;
}

/* ldns maps these itself, outside its table of descriptors. */
static const char *const meta_types[] = {"IXFR", "AXFR", "MAILB", "MAILA",
					 "ANY"};

void dns_qtype_text(uint16_t t, char *buf, size_t buflen)
{
	const ldns_rr_descriptor *d = ldns_rr_descript(t);

	if (t >= LDNS_RR_TYPE_IXFR && t <= LDNS_RR_TYPE_ANY)
		snprintf(buf, buflen, "%s", meta_types[t - LDNS_RR_TYPE_IXFR]);
	else if (d != NULL && d->_type == t && d->_name != NULL &&
		 strncasecmp(d->_name, "TYPE", 4) != 0 &&
		 ldns_get_rr_type_by_name(d->_name) == t)
		snprintf(buf, buflen, "%s", d->_name);
	else
		snprintf(buf, buflen, "TYPE%u", (unsigned)t);
}

bool dns_name_has_suffix(struct dns_question *q, const uint8_t *suffix,
			 size_t len)
{
	const uint8_t *name = dns_question_name(q);
	size_t off = 0, want;

	if (len == 0 || len > q->name_len)
		return false;
	/* label-aligned: "example.com" is no suffix of "badexample.com";
	 * the name was checked, so the hops end at its root */
	want = q->name_len - len;
	while (off < want)
		off += (size_t)name[off] + 1;
	return off == want && memcmp(name + off, suffix, len) == 0;
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
