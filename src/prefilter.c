/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The prefilter program.  For IPv4 (H, the header length, is 20..60):
 *
 *	ldh [6]; jset #0x3fff -> queue	 MF or an offset: a fragment
 *	ldxb 4*([0]&0xf)		 X = H
 *	ldh [x+4]			 the UDP length ...
 *	jgt #279 ? ld #279		 ... at most 279: ulen'
 *	add x; sub #25; st M[1]		 M[1] = H + ulen' - 25
 *	labels times:
 *	  ldb [x+20]			 a length octet
 *	  jeq #0 -> name_end		 the root
 *	  jgt #63 -> queue		 a pointer or a reserved label type
 *	  add x; add #1; tax		 X += length + 1
 *	ldb [x+20]; jeq #0 else queue	 more labels than unrolled
 *  name_end:				 X = H + n, the root at name[n]
 *	ld M[1]; sub x; jgt #254 -> queue
 *	ld [x+21]; rsh #16		 qtype, with qclass in the packet
 *	jeq #T -> queue ...		 or jge #lo, jgt #hi for a run
 *	ret #1				 xt_bpf: nonzero matches, ACCEPT
 *  queue:
 *	ret #0				 no match: on to the NFQUEUE rule
 *
 * The protocol and the port are the rule's own matches (-p udp --dport
 * 53); a load past the end of the packet ends the program with 0.
 *
 * The length test reads M[1] - X = ulen' - 25 - n, modulo 2^32:
 * from 0 to 254 exactly when the UDP length holds the UDP and DNS headers,
 * the n + 1 octets of the name and qtype and qclass, and the name has at
 * most 255 octets; any shortfall wraps to well over 254.  IPv6 checks the
 * next header (17: no extension header, no fragment), starts with X = 40
 * and reads the UDP length at [44] at name_end instead.
 *
 * Why a packet the program accepts is one the daemon accepts untouched,
 * following policy_decide: it is a whole IP packet (not a fragment, so
 * the `fragments` setting never applies) carrying UDP to port 53 (the
 * rule's own matches); the UDP length holds the question and the packet
 * holds it too (the load of qclass succeeded); dns_parse then reads the
 * very length octets the program read, all 0..63, the root within 255
 * octets and four octets after it, so it can only return DNS_QUERY,
 * DNS_RESPONSE, DNS_OPCODE or DNS_QDCOUNT, never a malformed status (the
 * `malformed` setting never applies either); the last three are accepted
 * as they are, and a query whose qtype no rule names is accepted before
 * the allow-lists and the rules.  The one exception is a UDP length longer
 * than the IP packet, which the program does not check: the daemon's
 * `malformed` setting would decide it, but the kernel drops such a
 * datagram before any socket sees it (__udp4_lib_rcv, __udp6_lib_rcv), so
 * whatever either verdict, it draws no answer.  An IPv6 UDP length of 0
 * (the rest of the payload, to the kernel) wraps the length test and is
 * queued.  The tests check the program against a model of the kernel's
 * delivery and ldns, not against the daemon's walk.
 */
#include "prefilter.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "dns.h"
#include "queue.h"
#include "wire.h"

/* the first length octet of the name, from the UDP header */
#define PF_NAME_OFF (WIRE_UDP_HDR + WIRE_DNS_HDR)
/* from the UDP header to the end of qclass, with the root as the name */
#define PF_MIN_LEN (PF_NAME_OFF + 1 + 4)
/* the same with the longest name */
#define PF_MAX_LEN (PF_NAME_OFF + DNS_NAME_MAX + 4)
#define PF_M_ROOM 1 /* scratch word: H + min(ulen, 279) - 25 */
/* instructions a label costs: the deepest unroll tried is 64 / 6 */
#define PF_LABEL_INSNS 6

/* the farthest the program reads; the daemon must see that far */
#define PF_REACH (WIRE_IPV4_HDR_MAX + PF_MAX_LEN)
_Static_assert(PF_REACH <= QUEUE_COPY_RANGE, "copy range too short");

/* Where a jump goes, resolved once every instruction is placed. */
enum pf_target {
	PF_NEXT,     /* the next instruction */
	PF_SKIP,     /* the one after it */
	PF_NAME_END, /* the root was found */
	PF_QUEUE,    /* ret #0: not sure, the daemon decides */
	PF_HIT,	     /* ret #1 of a positive program: one of the types */
};

/* A program being laid out; n counts on past the room, to tell the size. */
struct pf_asm {
	struct sock_filter insn[PREFILTER_INSNS_MAX];
	uint8_t jt[PREFILTER_INSNS_MAX], jf[PREFILTER_INSNS_MAX];
	size_t n;
	size_t name_end, queue, hit;
	bool positive; /* ret #1 for the types, not for the others */
};

/* The qtypes of every rule, sorted, each once. */
struct pf_qtypes {
	uint16_t t[CONFIG_RULES_MAX * CONFIG_QTYPES_MAX];
	size_t n;
};

static void put(struct pf_asm *a, uint16_t code, uint32_t k, enum pf_target jt,
		enum pf_target jf)
{
	if (a->n < PREFILTER_INSNS_MAX) {
		a->insn[a->n] = (struct sock_filter){.code = code, .k = k};
		a->jt[a->n] = (uint8_t)jt;
		a->jf[a->n] = (uint8_t)jf;
	}
	a->n++;
}

static void emit(struct pf_asm *a, uint16_t code, uint32_t k)
{
	put(a, code, k, PF_NEXT, PF_NEXT);
}

/* A conditional jump: op is BPF_JEQ, BPF_JGT ..., compared with k. */
static void emit_jump(struct pf_asm *a, uint16_t op, uint32_t k,
		      enum pf_target jt, enum pf_target jf)
{
	put(a, BPF_JMP | op | BPF_K, k, jt, jf);
}

static int u16_cmp(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/*
 * The union of the query rules' qtypes (answer rules judge answers, which
 * never pass here); -ENOTSUP with the reason when a rule names none (it
 * matches every qtype).
 */
static int collect(const struct config *cfg, struct pf_qtypes *q, char *why,
		   size_t whylen)
{
	size_t out = 0;

	q->n = 0;
	for (size_t i = 0; i < cfg->nrules; i++) {
		const struct config_rule *r = &cfg->rules[i];

		if (r->kind != CONFIG_RULE_QUERY)
			continue;
		if (r->nqtypes == 0) {
			if (whylen > 0)
				snprintf(why, whylen,
					 "rule %s names no qtype, so any query "
					 "may match it",
					 r->name);
			return -ENOTSUP;
		}
		for (size_t j = 0; j < r->nqtypes; j++)
			q->t[q->n++] = r->qtypes[j];
	}
	qsort(q->t, q->n, sizeof(q->t[0]), u16_cmp);
	for (size_t i = 0; i < q->n; i++)
		if (out == 0 || q->t[i] != q->t[out - 1])
			q->t[out++] = q->t[i];
	q->n = out;
	return 0;
}

/* The qtypes of one rule, sorted, each once. */
static void collect_rule(const struct config_rule *r, struct pf_qtypes *q)
{
	size_t out = 0;

	for (size_t j = 0; j < r->nqtypes; j++)
		q->t[j] = r->qtypes[j];
	q->n = r->nqtypes;
	qsort(q->t, q->n, sizeof(q->t[0]), u16_cmp);
	for (size_t i = 0; i < q->n; i++)
		if (out == 0 || q->t[i] != q->t[out - 1])
			q->t[out++] = q->t[i];
	q->n = out;
}

/*
 * The qtype tests, A holding the qtype: one jeq for a lone type, two for
 * a pair, and a jge/jgt range test for a run of three or more.
 */
static void emit_qtypes(struct pf_asm *a, const struct pf_qtypes *q)
{
	/* where a type of the set goes */
	enum pf_target in = a->positive ? PF_HIT : PF_QUEUE;
	size_t i = 0;

	while (i < q->n) {
		size_t j = i;

		while (j + 1 < q->n && q->t[j + 1] == q->t[j] + 1)
			j++;
		if (j - i >= 2) {
			emit_jump(a, BPF_JGE, q->t[i], PF_NEXT, PF_SKIP);
			emit_jump(a, BPF_JGT, q->t[j], PF_NEXT, in);
		} else {
			for (size_t t = i; t <= j; t++)
				emit_jump(a, BPF_JEQ, q->t[t], in, PF_NEXT);
		}
		i = j + 1;
	}
}

/*
 * The whole program, unrolled for labels labels; a->n tells its size even
 * when it does not fit.
 */
static void emit_program(struct pf_asm *a, int family, unsigned labels,
			 const struct pf_qtypes *q)
{
	a->n = 0;
	if (family == AF_INET) {
		emit(a, BPF_LD | BPF_H | BPF_ABS, WIRE_IPV4_FRAG);
		emit_jump(a, BPF_JSET, WIRE_IPV4_FRAG_MASK, PF_QUEUE, PF_NEXT);
		emit(a, BPF_LDX | BPF_B | BPF_MSH, 0);
		emit(a, BPF_LD | BPF_H | BPF_IND, WIRE_UDP_LEN);
		emit_jump(a, BPF_JGT, PF_MAX_LEN, PF_NEXT, PF_SKIP);
		emit(a, BPF_LD | BPF_IMM, PF_MAX_LEN);
		emit(a, BPF_ALU | BPF_ADD | BPF_X, 0);
		emit(a, BPF_ALU | BPF_SUB | BPF_K, PF_MIN_LEN);
		emit(a, BPF_ST, PF_M_ROOM);
	} else {
		emit(a, BPF_LD | BPF_B | BPF_ABS, WIRE_IPV6_NEXT);
		emit_jump(a, BPF_JEQ, IPPROTO_UDP, PF_NEXT, PF_QUEUE);
		emit(a, BPF_LDX | BPF_W | BPF_IMM, WIRE_IPV6_HDR);
	}
	if (a->positive) {
		/* a standard query with one question, as the daemon limits:
		 * QR 0, opcode QUERY, QDCOUNT 1; anything else is not the
		 * rule's to drop here */
		emit(a, BPF_LD | BPF_B | BPF_IND, WIRE_UDP_HDR + 2);
		emit_jump(a, BPF_JSET, 0xf8, PF_QUEUE, PF_NEXT);
		emit(a, BPF_LD | BPF_H | BPF_IND, WIRE_UDP_HDR + 4);
		emit_jump(a, BPF_JEQ, 1, PF_NEXT, PF_QUEUE);
	}
	for (unsigned i = 0; i < labels; i++) {
		emit(a, BPF_LD | BPF_B | BPF_IND, PF_NAME_OFF);
		emit_jump(a, BPF_JEQ, 0, PF_NAME_END, PF_NEXT);
		emit_jump(a, BPF_JGT, DNS_LABEL_MAX, PF_QUEUE, PF_NEXT);
		emit(a, BPF_ALU | BPF_ADD | BPF_X, 0);
		emit(a, BPF_ALU | BPF_ADD | BPF_K, 1);
		emit(a, BPF_MISC | BPF_TAX, 0);
	}
	emit(a, BPF_LD | BPF_B | BPF_IND, PF_NAME_OFF);
	emit_jump(a, BPF_JEQ, 0, PF_NAME_END, PF_QUEUE);

	a->name_end = a->n;
	if (family == AF_INET) {
		emit(a, BPF_LD | BPF_MEM, PF_M_ROOM);
	} else {
		emit(a, BPF_LD | BPF_H | BPF_ABS, WIRE_IPV6_HDR + WIRE_UDP_LEN);
		emit_jump(a, BPF_JGT, PF_MAX_LEN, PF_NEXT, PF_SKIP);
		emit(a, BPF_LD | BPF_IMM, PF_MAX_LEN);
		emit(a, BPF_ALU | BPF_ADD | BPF_K, WIRE_IPV6_HDR - PF_MIN_LEN);
	}
	emit(a, BPF_ALU | BPF_SUB | BPF_X, 0);
	emit_jump(a, BPF_JGT, DNS_NAME_MAX - 1, PF_QUEUE, PF_NEXT);
	emit(a, BPF_LD | BPF_W | BPF_IND, PF_NAME_OFF + 1);
	emit(a, BPF_ALU | BPF_RSH | BPF_K, 16);
	emit_qtypes(a, q);
	if (!a->positive)
		emit(a, BPF_RET | BPF_K, 1);
	a->queue = a->n;
	emit(a, BPF_RET | BPF_K, 0);
	a->hit = a->n;
	if (a->positive)
		emit(a, BPF_RET | BPF_K, 1);
}

static uint8_t resolve(const struct pf_asm *a, size_t i, uint8_t t)
{
	switch ((enum pf_target)t) {
	case PF_SKIP:
		return 1;
	case PF_NAME_END:
		return (uint8_t)(a->name_end - i - 1);
	case PF_QUEUE:
		return (uint8_t)(a->queue - i - 1);
	case PF_HIT:
		return (uint8_t)(a->hit - i - 1);
	case PF_NEXT:
	default:
		return 0;
	}
}

/* The deepest unroll of q's program that fits, into out. */
static int assemble(const struct pf_qtypes *q, int family, bool positive,
		    struct prefilter_prog *out, char *why, size_t whylen)
{
	struct pf_asm a = {.positive = positive};
	unsigned labels = PREFILTER_INSNS_MAX / PF_LABEL_INSNS;

	for (;;) {
		emit_program(&a, family, labels, q);
		if (a.n <= PREFILTER_INSNS_MAX)
			break;
		if (labels == PREFILTER_LABELS_MIN) {
			if (whylen > 0)
				snprintf(why, whylen,
					 "%zu qtypes leave no room for %d "
					 "labels in %d instructions",
					 q->n, PREFILTER_LABELS_MIN,
					 PREFILTER_INSNS_MAX);
			return -ENOTSUP;
		}
		labels--;
	}
	for (size_t i = 0; i < a.n; i++) {
		out->insn[i] = a.insn[i];
		out->insn[i].jt = resolve(&a, i, a.jt[i]);
		out->insn[i].jf = resolve(&a, i, a.jf[i]);
	}
	out->len = a.n;
	out->labels = labels;
	return 0;
}

int prefilter_compile(const struct config *cfg, int family,
		      struct prefilter_prog *out, char *why, size_t whylen)
{
	struct pf_qtypes q;
	int rc;

	memset(out, 0, sizeof(*out));
	if (whylen > 0)
		why[0] = '\0';
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	rc = collect(cfg, &q, why, whylen);
	if (rc < 0)
		return rc;
	return assemble(&q, family, false, out, why, whylen);
}

int prefilter_compile_rule(const struct config_rule *r, int family,
			   struct prefilter_prog *out, char *why, size_t whylen)
{
	struct pf_qtypes q;

	memset(out, 0, sizeof(*out));
	if (whylen > 0)
		why[0] = '\0';
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;
	if (r->kind != CONFIG_RULE_QUERY || r->nqtypes == 0 ||
	    r->nqnames != 0) {
		if (whylen > 0)
			snprintf(why, whylen,
				 "rule %s is not a query rule of types alone",
				 r->name);
		return -ENOTSUP;
	}
	collect_rule(r, &q);
	return assemble(&q, family, true, out, why, whylen);
}

int prefilter_bytecode_text(const struct prefilter_prog *p, char sep, char *buf,
			    size_t len)
{
	size_t used;
	int n;

	if (len > 0)
		buf[0] = '\0';
	if ((sep != ' ' && sep != '+') || p->len == 0 ||
	    p->len > PREFILTER_INSNS_MAX)
		return -EINVAL;
	n = snprintf(buf, len, "%zu", p->len);
	if (n < 0 || (size_t)n >= len)
		goto nospace;
	used = (size_t)n;
	for (size_t i = 0; i < p->len; i++) {
		const struct sock_filter *f = &p->insn[i];

		n = snprintf(buf + used, len - used, ",%u%c%u%c%u%c%u",
			     (unsigned)f->code, sep, (unsigned)f->jt, sep,
			     (unsigned)f->jf, sep, (unsigned)f->k);
		if (n < 0 || (size_t)n >= len - used)
			goto nospace;
		used += (size_t)n;
	}
	return 0;
nospace:
	if (len > 0)
		buf[0] = '\0';
	return -ENOSPC;
}

/* Both programs of a family the same, or both absent. */
static bool same_family(const struct config *a, const struct config *b,
			int family)
{
	struct prefilter_prog pa, pb;
	int ra = prefilter_compile(a, family, &pa, NULL, 0);
	int rb = prefilter_compile(b, family, &pb, NULL, 0);

	if (ra != rb)
		return false;
	if (ra != 0)
		return true;
	return pa.len == pb.len && pa.labels == pb.labels &&
	       memcmp(pa.insn, pb.insn, pa.len * sizeof(pa.insn[0])) == 0;
}

bool prefilter_same(const struct config *a, const struct config *b)
{
	return same_family(a, b, AF_INET) && same_family(a, b, AF_INET6);
}

/* Appends to a line cut at its buffer's end. */
struct pf_line {
	char *buf;
	size_t len, used;
};

__attribute__((format(printf, 2, 3))) static void add(struct pf_line *l,
						      const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->len == 0 || l->used >= l->len - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->used, l->len - l->used, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	l->used += (size_t)n;
	if (l->used >= l->len)
		l->used = l->len - 1;
}

int prefilter_describe(const struct config *cfg, char *buf, size_t len)
{
	struct prefilter_prog p4, p6;
	char why4[PREFILTER_WHY_MAX], why6[PREFILTER_WHY_MAX], name[16];
	struct pf_line l = {.buf = buf, .len = len};
	struct pf_qtypes q;
	int r4, r6;

	if (len > 0)
		buf[0] = '\0';
	r4 = prefilter_compile(cfg, AF_INET, &p4, why4, sizeof(why4));
	r6 = prefilter_compile(cfg, AF_INET6, &p6, why6, sizeof(why6));
	if (r4 < 0 && r6 < 0 && strcmp(why4, why6) == 0) {
		add(&l, "prefilter: none, every UDP/53 query is queued: %s",
		    why4);
		return -ENOTSUP;
	}
	if (r4 < 0 || r6 < 0) {
		add(&l, "prefilter: ");
		if (r4 < 0)
			add(&l, "IPv4 none, every query queued: %s", why4);
		else
			add(&l, "IPv4 %zu instructions, up to %u labels",
			    p4.len, p4.labels);
		if (r6 < 0)
			add(&l, "; IPv6 none, every query queued: %s", why6);
		else
			add(&l, "; IPv6 %zu instructions, up to %u labels",
			    p6.len, p6.labels);
		return -ENOTSUP;
	}
	add(&l,
	    "prefilter: IPv4 %zu instructions, IPv6 %zu; queries for names "
	    "of up to %u labels (IPv6: %u) are accepted in the kernel unless "
	    "their type is",
	    p4.len, p6.len, p4.labels, p6.labels);
	/* both compiled: the set is there */
	collect(cfg, &q, NULL, 0);
	if (q.n == 0)
		add(&l, " (no rule names a type)");
	for (size_t i = 0; i < q.n; i++) {
		dns_qtype_text(q.t[i], name, sizeof(name));
		add(&l, "%s%s", i == 0 ? " " : ", ", name);
	}
	return 0;
}
