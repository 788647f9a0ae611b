/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The DNS header and question walk of a query.
 *
 * Header fields are read with ldns's wire macros; the question is walked
 * without allocation.  Labels are at most 63 octets and the name at most
 * 255.  No client compresses a query name, and Unbound refuses one that is
 * compressed, but a resolver may follow the pointer (RFC 1035 allows it
 * anywhere): so the walk follows it too, as decoders do, each pointer
 * strictly backwards (which bounds the walk), and the qtype is read after
 * the pointer.
 */
#ifndef DNSRL_DNS_H
#define DNSRL_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX 255
#define DNS_LABEL_MAX 63

enum dns_status {
	DNS_QUERY,     /* a standard query with one question: q is set */
	DNS_RESPONSE,  /* QR=1 */
	DNS_OPCODE,    /* opcode other than QUERY */
	DNS_QDCOUNT,   /* QDCOUNT other than 1 */
	DNS_SHORT,     /* shorter than a DNS header */
	DNS_TRUNCATED, /* the question runs past the end */
	DNS_POINTER,   /* a compression pointer that cannot be followed */
	DNS_BAD_LABEL, /* label type 0x40 or 0x80 (reserved/extended) */
	DNS_NAME_LONG, /* query name longer than 255 octets */
	DNS_NSTATUS
};

struct dns_question {
	const uint8_t *msg;  /* the message: checked, borrowed */
	const uint8_t *wire; /* the name in it */
	bool compressed;     /* the name ends in a pointer */
	uint8_t name_len;    /* octets of the name, root label included,
				pointers followed */
	uint8_t labels;	     /* labels, root excluded */
	uint16_t qtype;
	uint16_t qclass;
	bool folded; /* name[] holds the folded copy */
	/* wire format, A-Z folded to a-z; see dns_question_name() */
	uint8_t name[DNS_NAME_MAX];
};

/*
 * Reads the DNS message msg[0..len): header first, then the question.
 * Returns DNS_QUERY with *q filled, or the reason it is not one.  The
 * statuses from DNS_SHORT on mean the payload cannot be parsed.  The name
 * is checked but not copied: q->wire borrows msg, which must outlive q
 * until dns_question_name() is called (most queries never need it).
 */
enum dns_status dns_parse(const uint8_t *msg, size_t len,
			  struct dns_question *q);

/*
 * The same walk for a message leaving the resolver: DNS_RESPONSE with *q
 * filled for an answer to a standard query with one question; DNS_QUERY
 * when it is no answer (QR=0: a query sent from port 53); else the reason
 * the question cannot be read, as dns_parse says it.
 */
enum dns_status dns_parse_answer(const uint8_t *msg, size_t len,
				 struct dns_question *q);

/*
 * The query name of a parsed question in wire format, folded to lower
 * case: copied from the message on the first call.
 */
const uint8_t *dns_question_name(struct dns_question *q);

/* True for the statuses that mean an unparseable payload. */
static inline bool dns_status_malformed(enum dns_status s)
{
	return s >= DNS_SHORT;
}

/*
 * A qtype as a configuration file writes it: its name where ldns reads
 * that name back as the same type ("ANY", "TXT"), else "TYPEnnn".
 */
void dns_qtype_text(uint16_t qtype, char *buf, size_t buflen);

/*
 * True when the wire-format name suffix[0..len) (lower case, root label
 * included) is q's name or a label-aligned suffix of it.  Folds q's name
 * first if needed.
 */
bool dns_name_has_suffix(struct dns_question *q, const uint8_t *suffix,
			 size_t len);

/*
 * Writes wire-format name[0..len) as presentation text ("www.example.com.",
 * "." for the root) with unsafe bytes escaped as \DDD.  Always
 * NUL-terminates when buflen > 0.  Returns the length of the text, or -1
 * when the name is not well formed.
 */
int dns_name_to_text(const uint8_t *name, size_t len, char *buf, size_t buflen);

#endif
