/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the prefilter programs: no packet the daemon could
 * limit, allow-list or drop by a setting may be accepted by the program of
 * its family, under a few fixed policies.  The programs run in libpcap's
 * interpreter, on the whole packet as the kernel would; the daemon's view
 * is policy_decide (and the parsers under it) on the first
 * QUEUE_COPY_RANGE octets and on the whole packet.
 *
 * The first octet says what the rest is:
 *	0	an IP packet as it is
 *	1	a DNS message, carried in IPv4/UDP to port 53
 *	2	the same in IPv6
 *	3	two octets of UDP length, one whose low bit picks IPv6, then
 *		a DNS message carried with that length in the UDP header
 */
#include <sys/types.h>

#include <pcap/bpf.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "dns.h"
#include "limiter.h"
#include "packet.h"
#include "policy.h"
#include "prefilter.h"
#include "queue.h"
#include "stats.h"

#include "../prefilter_oracle.h"

#define PKT_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { POL_MISSION, POL_DESIGN, POL_PLAIN, POL_RUNS, NPOL };

static const char *const policy_text[NPOL] = {
	[POL_MISSION] = "rule any-abuse {\n\tqtype ANY\n\tlimit 2/5s\n}\n",
	[POL_DESIGN] = "malformed drop\nfragments drop\n"
		       "allow 198.51.100.0/25 2001:db8::/33\n"
		       "rule any-abuse {\n\tqtype ANY\n\tlimit 2/5s\n}\n"
		       "rule big-txt {\n\tqname example.net\n"
		       "\tqtype TXT RRSIG DNSKEY\n\tlimit 20/1s\n}\n",
	[POL_PLAIN] = "malformed drop\nfragments accept\n"
		      "rule plain {\n\tqtype A AAAA PTR TYPE1000 TYPE65535\n"
		      "\tlimit 1/1s\n\taction log\n}\n",
	[POL_RUNS] = "malformed drop\nrule runs {\n\tqtype TYPE200 TYPE201 "
		     "TYPE202 TYPE203 TYPE300 TYPE301 TYPE65534\n"
		     "\tlimit 1/1s\n}\n",
};

struct pol {
	struct config *cfg;
	struct policy *p;
	struct limiter *lim;
	struct stats st;
	struct policy_ctx ctx;
	struct bpf_insn insn[2][PREFILTER_INSNS_MAX];
};

static struct pol pols[NPOL];

static void require(bool ok)
{
	if (!ok)
		abort();
}

static void put16(uint8_t *b, size_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/* Carries dns[0..dlen) in UDP to port 53 claiming ulen.  Returns size. */
static size_t carry(uint8_t *out, bool v6, const uint8_t *dns, size_t dlen,
		    size_t ulen)
{
	size_t h = v6 ? 40 : 20;

	memset(out, 0, h + 8);
	if (v6) {
		out[0] = 0x60;
		put16(out + 4, 8 + dlen);
		out[6] = 17;
		out[7] = 64;
		out[8] = 0x20;
		out[9] = 0x01;
		out[10] = 0x0d;
		out[11] = 0xb8;
		out[23] = 1;
	} else {
		out[0] = 0x45;
		put16(out + 2, h + 8 + dlen);
		out[8] = 64;
		out[9] = 17;
		out[12] = 198;
		out[13] = 51;
		out[14] = 100;
		out[15] = 66;
	}
	put16(out + h, 40000);
	put16(out + h + 2, 53);
	put16(out + h + 4, ulen);
	memcpy(out + h + 8, dns, dlen);
	return h + 8 + dlen;
}

/* A query for www.big.example of qtype, to port 53, IPv4 or IPv6. */
static size_t plain_query(uint8_t *out, bool v6, uint16_t qtype)
{
	/* ID, RD, QDCOUNT 1, the name but for its root (the NUL) */
	static const uint8_t q[] = "\276\357\001\000\000\001\000\000\000\000"
				   "\000\000\003www\003big\007example";
	uint8_t dns[64];

	memcpy(dns, q, sizeof(q)); /* the root is the string's NUL */
	put16(dns + sizeof(q), qtype);
	put16(dns + sizeof(q) + 2, 1);
	return carry(out, v6, dns, sizeof(q) + 4, 8 + sizeof(q) + 4);
}

static void init(void)
{
	static bool done;
	char err[CONFIG_ERR_MAX];

	if (done)
		return;
	done = true;
	for (size_t i = 0; i < NPOL; i++) {
		struct pol *p = &pols[i];

		p->cfg = config_parse("fuzz.conf", policy_text[i],
				      strlen(policy_text[i]), err, sizeof(err));
		require(p->cfg != NULL);
		p->p = policy_new(p->cfg, NULL, NULL);
		p->lim = limiter_new(1024, false);
		require(p->p != NULL && p->lim != NULL);
		p->ctx.limiter = p->lim;
		p->ctx.stats = &p->st;
		for (int f = 0; f < 2; f++) {
			struct prefilter_prog prog;

			require(prefilter_compile(p->cfg,
						  f ? AF_INET6 : AF_INET, &prog,
						  NULL, 0) == 0);
			for (size_t j = 0; j < prog.len; j++) {
				p->insn[f][j].code = prog.insn[j].code;
				p->insn[f][j].jt = prog.insn[j].jt;
				p->insn[f][j].jf = prog.insn[j].jf;
				p->insn[f][j].k = prog.insn[j].k;
			}
		}
	}
	/* a program that accepted nothing would pass every check */
	for (size_t i = 0; i < NPOL; i++)
		for (int f = 0; f < 2; f++) {
			uint8_t pkt[128];
			size_t len = plain_query(pkt, f, 15);

			require(bpf_filter(pols[i].insn[f], pkt, (u_int)len,
					   (u_int)len) == 1);
		}
}

static void check(const uint8_t *pkt, size_t len)
{
	size_t cap = len < QUEUE_COPY_RANGE ? len : QUEUE_COPY_RANGE;
	int fam;

	if (len == 0 || (pkt[0] >> 4 != 4 && pkt[0] >> 4 != 6))
		return;
	fam = pkt[0] >> 4 == 6;
	for (size_t i = 0; i < NPOL; i++) {
		struct pol *p = &pols[i];
		bool t = touched(p->p, &p->ctx, pkt, cap);
		enum cls c_cap = classify(p->cfg, pkt, cap);
		enum cls c_len = classify(p->cfg, pkt, len);
		bool bad = cls_limitable(c_cap) || cls_limitable(c_len);

		/* the oracle covers every decision the daemon makes */
		require(!t || bad || c_cap == CLS_DROPPED);
		if (bpf_filter(p->insn[fam], pkt, (u_int)len, (u_int)len) != 0)
			require(!bad);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pkt[PKT_MAX];
	uint8_t *copy;
	size_t len;

	init();
	if (size == 0 || size > PKT_MAX - 64)
		return 0;
	switch (data[0] & 3) {
	case 0:
		len = size - 1;
		memcpy(pkt, data + 1, len);
		break;
	case 1:
	case 2:
		len = carry(pkt, (data[0] & 3) == 2, data + 1, size - 1,
			    8 + size - 1);
		break;
	default:
		if (size < 4)
			return 0;
		len = carry(pkt, data[3] & 1, data + 4, size - 4,
			    (size_t)data[1] << 8 | data[2]);
		break;
	}
	/* a copy of exactly len octets, so that ASan sees overruns */
	copy = malloc(len > 0 ? len : 1);
	require(copy != NULL);
	memcpy(copy, pkt, len);
	check(copy, len);
	free(copy);
	return 0;
}
