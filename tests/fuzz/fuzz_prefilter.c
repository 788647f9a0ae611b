/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the prefilter programs, judged by an oracle from
 * outside dnsrl (../oracle.h: a model of the kernel's delivery and ldns):
 * where the NFQUEUE rule sees a packet, the program of its family, run in
 * libpcap's interpreter on what the rule sees, accepts it only when the
 * kernel would not deliver it to the socket on port 53, or would deliver a
 * standard query ldns reads of a type no rule names (or a whole message
 * that is no standard query: see test_prefilter.c, check()).  Under a few
 * fixed policies, and the kernel with and without its cap on IPv6
 * extension headers.
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
#include "prefilter.h"

#include "../oracle.h"

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
	struct bpf_insn insn[2][PREFILTER_INSNS_MAX];
};

static const struct km_opts km_variants[] = {
	{.max_exthdrs = 0},
	{.max_exthdrs = KM_IP6_MAX_EXT_HDRS_CNT},
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
	int fam;

	if (len == 0 || (pkt[0] >> 4 != 4 && pkt[0] >> 4 != 6))
		return;
	fam = pkt[0] >> 4 == 6;
	for (size_t v = 0; v < sizeof(km_variants) / sizeof(km_variants[0]);
	     v++) {
		struct oracle o;
		enum oracle_class all =
			oracle_classify(NULL, pkt, len, &km_variants[v], &o);
		size_t view = all == ORACLE_MOOT ? len : o.k.seen_len;

		for (size_t i = 0; i < NPOL; i++) {
			struct pol *p = &pols[i];
			enum oracle_class c = all;

			if (bpf_filter(p->insn[fam], pkt, (u_int)view,
				       (u_int)view) == 0)
				continue;
			if (c == ORACLE_NAMED &&
			    !oracle_named(p->cfg, o.q.qtype))
				c = ORACLE_FREE;
			require(c == ORACLE_MOOT || c == ORACLE_UNDELIVERED ||
				c == ORACLE_FREE ||
				(c == ORACLE_OTHER &&
				 o.dns == ORACLE_DNS_NOT_QUERY));
		}
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
