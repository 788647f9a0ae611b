/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tests' oracle for a packet: what the kernel delivers (kernel_model.h)
 * and, on the payload a socket would read, what ldns reads (its header
 * macros and ldns_wire2dname for the question name).  Nothing here calls
 * dnsrl's packet or question walk.  Header-only test code.
 *
 * ldns and BIND differ on compression pointers, and dnsrl follows BIND:
 * BIND takes a pointer only when it points before the pointer before it
 * (so every hop goes backwards); ldns_wire2dname (ldns 1.8) follows any
 * pointer to an offset from 1 to the end of the message, backwards or
 * forwards, for up to LDNS_MAX_POINTERS hops, but not one to offset 0.
 * So where a question name holds a pointer, ldns may read a name that
 * dnsrl refuses (a forward pointer: DNS_POINTER, the `malformed` setting
 * decides), and dnsrl may read one that ldns refuses (a pointer to offset
 * 0, into the header).  oracle_question records whether the name held a
 * pointer, for the tests that allow exactly these differences.
 */
#ifndef DNSRL_TESTS_ORACLE_H
#define DNSRL_TESTS_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ldns/ldns.h>

#include "config.h"

#include "kernel_model.h"

enum oracle_dns {
	ORACLE_DNS_QUERY,      /* a standard query whose question ldns read */
	ORACLE_DNS_NOT_QUERY,  /* QR set, an opcode other than QUERY, or a
				  QDCOUNT other than 1 */
	ORACLE_DNS_UNREADABLE, /* shorter than a header, or ldns could not
				  read the question name, qtype and qclass */
};

struct oracle_question {
	uint16_t qtype;
	uint16_t qclass;
	bool pointer;	 /* the name as sent holds a compression pointer */
	size_t name_len; /* octets of the name ldns read, root included */
	uint8_t name[LDNS_MAX_DOMAINLEN + 1];
};

/*
 * ldns's reading of the DNS message msg[0..len): the header by its wire
 * macros, then the question.  *q is filled for ORACLE_DNS_QUERY.
 */
static inline enum oracle_dns oracle_dns_read(const uint8_t *msg, size_t len,
					      struct oracle_question *q)
{
	ldns_rdf *rdf = NULL;
	size_t pos = LDNS_HEADER_SIZE;
	ldns_status st;

	if (len < LDNS_HEADER_SIZE)
		return ORACLE_DNS_UNREADABLE;
	if (LDNS_QR_WIRE(msg) || LDNS_OPCODE_WIRE(msg) != LDNS_PACKET_QUERY ||
	    LDNS_QDCOUNT(msg) != 1)
		return ORACLE_DNS_NOT_QUERY;
	st = ldns_wire2dname(&rdf, msg, len, &pos);
	if (st != LDNS_STATUS_OK) {
		if (rdf != NULL)
			ldns_rdf_deep_free(rdf);
		return ORACLE_DNS_UNREADABLE;
	}
	q->name_len = ldns_rdf_size(rdf);
	if (q->name_len > sizeof(q->name))
		q->name_len = sizeof(q->name);
	memcpy(q->name, ldns_rdf_data(rdf), q->name_len);
	ldns_rdf_deep_free(rdf);
	/* ldns resumes after the name, or two octets after its first
	 * pointer: a name that held one ends short of its length */
	q->pointer = pos != LDNS_HEADER_SIZE + q->name_len;
	if (pos > len || len - pos < 4)
		return ORACLE_DNS_UNREADABLE;
	q->qtype = ldns_read_uint16(msg + pos);
	q->qclass = ldns_read_uint16(msg + pos + 2);
	return ORACLE_DNS_QUERY;
}

/* True when some rule of cfg limits qtype (one naming none limits all). */
static inline bool oracle_named(const struct config *cfg, uint16_t qtype)
{
	for (size_t i = 0; i < cfg->nrules; i++) {
		const struct config_rule *r = &cfg->rules[i];

		if (r->nqtypes == 0)
			return true;
		for (size_t j = 0; j < r->nqtypes; j++)
			if (r->qtypes[j] == qtype)
				return true;
	}
	return false;
}

/* What the oracle says of a packet under a policy. */
enum oracle_class {
	ORACLE_MOOT,	    /* the NFQUEUE rule never sees this packet: not
			       dnsrl's, nor a prefilter program's, to judge */
	ORACLE_UNDELIVERED, /* the rule sees it; no socket on port 53 gets
			       it (dropped, not UDP, or not to port 53) */
	ORACLE_FREE,	    /* the socket gets a standard query of a type no
			       rule names */
	ORACLE_NAMED,	    /* ... of a type a rule names */
	ORACLE_OTHER,	    /* the socket gets a whole payload that is not a
			       standard query ldns reads */
	ORACLE_UNDECIDED,   /* a first fragment whose question is not all in
			       it: what the socket may get is not known */
	ORACLE_NCLASSES
};

static const char *const oracle_class_name[ORACLE_NCLASSES] = {
	"moot", "undelivered", "free", "named", "other", "undecided",
};

struct oracle {
	struct km_result k;
	enum oracle_dns dns;
	struct oracle_question q;
	enum oracle_class c;
};

/* Classifies pkt[0..len) under cfg (NULL: every qtype counts as named). */
static inline enum oracle_class oracle_classify(const struct config *cfg,
						const uint8_t *pkt, size_t len,
						const struct km_opts *o,
						struct oracle *out)
{
	km_model(pkt, len, o, &out->k);
	out->dns = ORACLE_DNS_UNREADABLE;
	if (out->k.queue != KM_Q_SEEN)
		return out->c = ORACLE_MOOT;
	if (out->k.deliver == KM_D_NONE)
		return out->c = ORACLE_UNDELIVERED;
	if (out->k.deliver == KM_D_UNKNOWN)
		return out->c = ORACLE_UNDECIDED;
	out->dns = oracle_dns_read(pkt + out->k.payload_off, out->k.payload_len,
				   &out->q);
	if (out->dns == ORACLE_DNS_QUERY)
		return out->c = cfg == NULL || oracle_named(cfg, out->q.qtype)
					? ORACLE_NAMED
					: ORACLE_FREE;
	if (out->dns == ORACLE_DNS_NOT_QUERY || out->k.complete)
		return out->c = ORACLE_OTHER;
	return out->c = ORACLE_UNDECIDED;
}

#endif
