/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * shapes: one DNS question, ANY big.example, sent in many packet shapes
 * (IPv4 options, IPv6 extension header chains, fragments, odd UDP lengths
 * and checksums, odd DNS headers ...), each from a source of its own, and
 * what comes back for each, counted from the wire.  It is the oracle of
 * t_shapes.sh: which shapes the kernel and the resolvers answer big, with
 * and without dnsrl in the path, judged by what the client receives and
 * not by anything dnsrl says.
 *
 * Whole Ethernet frames are built here and sent on the client's veth
 * through an AF_PACKET socket: nothing of the client's stack (no route,
 * no checksum offload, no fragmentation) touches them.  A second
 * AF_PACKET socket on the same interface captures what arrives, and each
 * IP packet is counted for the shape whose source address it is sent to.
 * The capture sees them before the client's stack, which owns none of
 * those addresses and discards them (t_shapes.sh routes the two ranges
 * to a blackhole there, so that no ICMP error goes back).
 *
 * Sources: shape i, target t, slot s is number n = s * 1024 + t * 256 + i;
 * IPv4 198.18.0.0 + n (a /32 each, in 198.18.0.0/15), IPv6 the /56
 * 2001:db8:100::/40 + n (2001:db8:1XX:YY00::/56), its last 72 bits random
 * for each query.  One shape's limit never masks another's, nor one
 * target's another's, and each phase of a test takes a slot of its own.
 *
 * Modes (usage_text lists the options):
 *   list   the shapes, one a line
 *   probe  shape after shape: COUNT queries to each target, then waits
 *          until all are answered or WAIT ms; with --server-net DIR the
 *          server's IP stack counters (DIR/snmp, snmp6, netstat,
 *          xfrm_stat) are read around each shape, and the error counters
 *          that moved are printed with the shape (kernel=)
 *   run    COUNT rounds at RATE rounds a second, each round one query of
 *          every shape to every target, spread evenly; then WAIT ms
 *
 * probe and run print one line a shape and target, key=value:
 *   shape= family= resolver= src= sent= frames= answers= bytes= big=
 *   largest= tc= rcode= icmp= icmp_type= [kernel=]
 * then one summary line: summary=MODE sent= frames= captured= drops=
 * stray= ms=.  answers: UDP datagrams from the target's port 53 (their
 * first fragment); bytes: the IP length of every packet of them,
 * fragments included; big: answers whose DNS message is over BIG octets;
 * largest: the largest message; tc: answers with TC=1; rcode: the rcodes
 * seen, joined by '/'; icmp: ICMP or ICMPv6 messages to the source and the
 * type/code of the last.  drops: what the capture socket lost (must be 0
 * for the counts to hold); stray: packets to this run's sources from
 * another address than the target's.
 *
 * Exit 0 after printing, 1 (with a message on stderr) on any error.  The
 * sending is bounded: at most 1000 rounds, rate 1..100, wait at most 10 s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define NSEC 1000000000ULL
#define MSEC 1000000ULL

#define MAX_SHAPES 256
#define MAX_TARGETS 4
#define MAX_SLOT 63
#define MAX_EXT 4
#define MAX_FRAGS 3
#define FRAME_MAX 1514 /* the veth's MTU of 1500 and the Ethernet header */
#define ETH_HDR 14
#define JUNK_LEN 64 /* trailing octets of the shapes that have them */
#define SOCKBUF (16 * 1024 * 1024)
#define MAX_CTRS 1024

#define DNS_TYPE_ANY 255
#define DNS_CLASS_IN 1
#define DNS_CLASS_CH 3
#define DNS_CLASS_ANY 255
#define DNS_RD 0x0100
#define DNS_QR 0x8000
#define DNS_AA 0x0400
#define DNS_TC 0x0200
#define DNS_Z 0x0040
#define DNS_AD 0x0020
#define DNS_CD 0x0010
#define DNS_OPCODE_SHIFT 11

#define IPPROTO_HBH_ 0
#define IPPROTO_RH_ 43
#define IPPROTO_FRAG_ 44
#define IPPROTO_AH_ 51
#define IPPROTO_DO_ 60

/* An IPv6 extension header of the chain, COUNT times. */
enum ext_kind { EXT_HBH, EXT_DO, EXT_RH, EXT_AH, EXT_ATOMIC };

struct ext {
	uint8_t kind;
	uint8_t count;
	uint16_t len;	 /* octets of one header */
	uint8_t rh_type; /* EXT_RH: 0 or 4, segments left 0 */
};

/* The question section's form. */
enum qform {
	Q_NORMAL,
	Q_NONE,	    /* QDCOUNT 0, no question */
	Q_TWO,	    /* QDCOUNT 2, the question twice */
	Q_COUNT2,   /* QDCOUNT 2, one question */
	Q_PTR_ROOT, /* big.example then a pointer to a 0 octet of the header */
	Q_PTR_FWD,  /* big then a pointer to "example." after the message */
	Q_CASE,	    /* BiG.ExAmPlE */
};

enum edns { E_4096, E_NONE, E_DO, E_V1, E_512 };
enum ulen {
	U_OK,
	U_ZERO,	 /* UDP length 0 */
	U_SHORT, /* UDP length < IP payload: JUNK_LEN octets after it */
	U_LONG,	 /* UDP length JUNK_LEN over the IP payload */
	U_LT8,	 /* UDP length 4 */
};
enum csum { C_OK, C_ZERO, C_BAD };
enum iplen {
	L_OK,
	L_TRAIL, /* JUNK_LEN octets in the frame after the IP packet */
	L_LONG,	 /* IP length JUNK_LEN over what the frame holds */
	L_ZERO,	 /* IPv6 payload length 0 */
};
/* Where a datagram is cut into fragments (offsets in the fragmentable
 * part: what follows the fragment header, or the IPv4 header). */
enum frag {
	F_NONE,
	F_Q_FIRST,    /* the question whole in the first fragment */
	F_Q_SPLIT,    /* cut 4 octets into the name */
	F_UDP_ONLY,   /* the first fragment holds the UDP header only */
	F_REV,	      /* as F_Q_FIRST, the last fragment sent first */
	F_THREE,      /* UDP header | DNS header and 4 of the name | rest */
	F_HDRS_SPLIT, /* IPv6: two DO headers after the fragment header,
		       * the first fragment holds them only, no UDP header */
};

struct shape {
	char name[32];
	uint8_t family; /* 4 or 6 */
	/* DNS */
	uint16_t flags; /* the header's second word: opcode and flags */
	uint8_t qform;
	uint16_t qclass;
	uint8_t edns;
	bool trail; /* JUNK_LEN octets after the message, in the UDP data */
	/* UDP and IP */
	uint8_t ulen;
	uint8_t csum;
	uint8_t iplen;
	uint8_t ip4opt; /* index in ip4_opts, 0 none */
	bool df;
	bool ah4; /* IPv4: an AH header before UDP */
	uint8_t frag;
	/* IPv6: the chain before UDP (or before the fragment header) */
	uint8_t next;
	struct ext ext[MAX_EXT];
};

/* IPv4 options (a multiple of 4 octets each, at most 40). */
static const struct {
	const char *name;
	uint8_t len;
	uint8_t bytes[40];
} ip4_opts[] = {
	{"none", 0, {0}},
	{"nop4", 4, {1, 1, 1, 1}},
	{"nop20", 20, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
		       1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
	{"nop40", 40, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
		       1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
		       1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0}},
	/* router alert (RFC 2113) */
	{"ra", 4, {0x94, 4, 0, 0}},
	/* record route, 9 empty slots, then end of list */
	{"rr40", 40, {7, 39, 4}},
	/* timestamps only, 9 empty slots */
	{"ts40", 40, {0x44, 40, 5, 0}},
	/* an unknown option (type 0x9e, RFC 4727's experimental number) */
	{"unknown8", 8, {0x9e, 8, 0, 0, 0, 0, 0, 0}},
	/* loose source route, already walked to its end (pointer 8 > 7) */
	{"lsrr8", 8, {0x83, 7, 8, 198, 51, 100, 1, 1}},
};

struct target {
	char name[16];
	uint8_t a4[4];
	uint8_t a6[16];
};

/* What came back for one shape and target. */
struct tally {
	uint64_t sent;
	uint64_t frames;
	uint64_t answers;
	uint64_t bytes;
	uint64_t big;
	uint64_t largest;
	uint64_t tc;
	uint64_t icmp;
	uint16_t rcodes; /* bit per rcode seen */
	uint8_t icmp_type;
	uint8_t icmp_code;
	char kernel[512];
};

struct ctr {
	char name[48];
	long long v;
};

struct ctrs {
	size_t n;
	struct ctr c[MAX_CTRS];
};

static struct shape shapes[MAX_SHAPES];
static size_t nshapes;
static bool selected[MAX_SHAPES];
static struct target targets[MAX_TARGETS];
static size_t ntargets;
static struct tally tallies[MAX_SHAPES][MAX_TARGETS];

static struct {
	int tx, rx;
	int ifindex;
	uint8_t mac[6];
	uint8_t dst_mac[6];
	unsigned int slot;
	unsigned int big;
	uint64_t captured, stray;
	const char *server_net;
} g = {.tx = -1, .rx = -1, .big = 1000};

static uint8_t rbuf[65536];

static const char usage_text[] =
	"usage: shapes list [--family 4|6] [--only GLOB,...]\n"
	"       shapes probe|run --if IFNAME --dst-mac MAC\n"
	"              --target NAME=IPV4,IPV6 [--target ...] (at most 4)\n"
	"              [--slot 0..63] [--count N] [--rate R] [--wait MS]\n"
	"              [--big OCTETS] [--family 4|6] [--only GLOB,...]\n"
	"              [--server-net DIR]   (probe: /proc/PID/net of the\n"
	"              server namespace, for its counters)\n"
	"probe: COUNT (default 3) queries of a shape to each target, then\n"
	"       up to WAIT ms (default 200) for the answers; shape by shape\n"
	"run:   COUNT rounds (default 10) at RATE rounds/s (default 5), then\n"
	"       WAIT ms (default 1000)\n";

__attribute__((format(printf, 2, 0), noreturn)) static void
vdie(int err, const char *fmt, va_list ap)
{
	fputs("shapes: ", stderr);
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
	exit(1);
}

__attribute__((format(printf, 1, 2), noreturn)) static void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(0, fmt, ap);
}

__attribute__((format(printf, 1, 2), noreturn)) static void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vdie(saved, fmt, ap);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void random_bytes(void *buf, size_t len)
{
	if (getrandom(buf, len, 0) != (ssize_t)len)
		fatal("getrandom");
}

static uint32_t random32(void)
{
	uint32_t v;

	random_bytes(&v, sizeof(v));
	return v;
}

/* --- the set of shapes -------------------------------------------------- */

static struct shape *add(uint8_t family, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A new shape: the plain query (ANY big.example IN, RD, EDNS 4096, all
 * lengths and checksums right), named by the format. */
static struct shape *add(uint8_t family, const char *fmt, ...)
{
	struct shape *s;
	va_list ap;

	if (nshapes == MAX_SHAPES)
		fatalx("more than %d shapes", MAX_SHAPES);
	s = &shapes[nshapes++];
	memset(s, 0, sizeof(*s));
	va_start(ap, fmt);
	vsnprintf(s->name, sizeof(s->name), fmt, ap);
	va_end(ap);
	s->family = family;
	s->flags = DNS_RD;
	s->qclass = DNS_CLASS_IN;
	return s;
}

static void add_ext(struct shape *s, uint8_t kind, uint8_t count, uint16_t len,
		    uint8_t rh_type)
{
	if (s->next == MAX_EXT)
		fatalx("%s: too many extension headers", s->name);
	if (len < 8 || len % 8 || len > 2048)
		fatalx("%s: an extension header of %u octets", s->name, len);
	s->ext[s->next++] = (struct ext){kind, count, len, rh_type};
}

/* The shapes of both families: the DNS message, UDP, IP lengths, and
 * fragments. */
static void add_common(uint8_t f)
{
	static const struct {
		const char *name;
		uint16_t flag;
	} flags[] = {{"none", 0},
		     {"cd", DNS_RD | DNS_CD},
		     {"ad", DNS_RD | DNS_AD},
		     {"z", DNS_RD | DNS_Z},
		     {"aa", DNS_RD | DNS_AA},
		     {"tc", DNS_RD | DNS_TC},
		     {"qr", DNS_RD | DNS_QR}};
	static const struct {
		const char *name;
		uint8_t frag;
	} frags[] = {{"frag_q_first", F_Q_FIRST},
		     {"frag_q_split", F_Q_SPLIT},
		     {"frag_udp_only", F_UDP_ONLY},
		     {"frag_rev", F_REV},
		     {"frag_three", F_THREE}};
	unsigned int i;

	add(f, "plain");
	add(f, "noedns")->edns = E_NONE;
	add(f, "edns_do")->edns = E_DO;
	add(f, "edns_v1")->edns = E_V1;
	add(f, "edns_512")->edns = E_512;
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		add(f, "flags_%s", flags[i].name)->flags = flags[i].flag;
	for (i = 1; i < 16; i++)
		add(f, "opcode%u", i)->flags =
			(uint16_t)(DNS_RD | i << DNS_OPCODE_SHIFT);
	add(f, "class_ch")->qclass = DNS_CLASS_CH;
	add(f, "class_any")->qclass = DNS_CLASS_ANY;
	add(f, "qd0")->qform = Q_NONE;
	add(f, "qd2")->qform = Q_TWO;
	add(f, "qd2_one")->qform = Q_COUNT2;
	add(f, "ptr_root")->qform = Q_PTR_ROOT;
	add(f, "ptr_fwd")->qform = Q_PTR_FWD;
	add(f, "case")->qform = Q_CASE;
	add(f, "dns_trail")->trail = true;
	add(f, "udp_short")->ulen = U_SHORT;
	add(f, "udp_long")->ulen = U_LONG;
	add(f, "udp_len0")->ulen = U_ZERO;
	add(f, "udp_len4")->ulen = U_LT8;
	add(f, "csum0")->csum = C_ZERO;
	add(f, "csum_bad")->csum = C_BAD;
	add(f, "ip_trail")->iplen = L_TRAIL;
	add(f, "ip_len_long")->iplen = L_LONG;
	for (i = 0; i < sizeof(frags) / sizeof(frags[0]); i++)
		add(f, "%s", frags[i].name)->frag = frags[i].frag;
}

static void add_ipv4(void)
{
	struct shape *s;
	unsigned int i;

	for (i = 1; i < sizeof(ip4_opts) / sizeof(ip4_opts[0]); i++)
		add(4, "opt_%s", ip4_opts[i].name)->ip4opt = (uint8_t)i;
	add(4, "df")->df = true;
	add(4, "ah")->ah4 = true;
	s = add(4, "frag_opt_nop40");
	s->frag = F_Q_FIRST;
	s->ip4opt = 3;
}

static void add_ipv6(void)
{
	static const uint8_t dos[] = {1, 2, 8, 9, 12, 13, 16, 40};
	/* 448: the question starts 4 octets before the copy range of 512
	 * ends; 504: the UDP header starts past it */
	static const uint16_t hbhs[] = {8, 200, 448, 504, 1000};
	struct shape *s;
	unsigned int i;

	add(6, "plen0")->iplen = L_ZERO;
	for (i = 0; i < sizeof(dos); i++)
		add_ext(add(6, "do%u", dos[i]), EXT_DO, dos[i], 8, 0);
	for (i = 0; i < sizeof(hbhs) / sizeof(hbhs[0]); i++)
		add_ext(add(6, "hbh%u", hbhs[i]), EXT_HBH, 1, hbhs[i], 0);
	add_ext(add(6, "do1000"), EXT_DO, 1, 1000, 0);
	s = add(6, "hbh8_do8");
	add_ext(s, EXT_HBH, 1, 8, 0);
	add_ext(s, EXT_DO, 8, 8, 0);
	s = add(6, "do1_hbh8");
	add_ext(s, EXT_DO, 1, 8, 0);
	add_ext(s, EXT_HBH, 1, 8, 0);
	add_ext(add(6, "rh0_24"), EXT_RH, 1, 24, 0);
	add_ext(add(6, "rh0_1k"), EXT_RH, 1, 1016, 0);
	add_ext(add(6, "rh4_24"), EXT_RH, 1, 24, 4);
	add_ext(add(6, "rh4_1k"), EXT_RH, 1, 1016, 4);
	add_ext(add(6, "ah"), EXT_AH, 1, 24, 0);
	add_ext(add(6, "atomic"), EXT_ATOMIC, 1, 8, 0);
	s = add(6, "atomic_do8");
	add_ext(s, EXT_ATOMIC, 1, 8, 0);
	add_ext(s, EXT_DO, 8, 8, 0);
	s = add(6, "hbh504_atomic");
	add_ext(s, EXT_HBH, 1, 504, 0);
	add_ext(s, EXT_ATOMIC, 1, 8, 0);
	add(6, "frag_hdrs_split")->frag = F_HDRS_SPLIT;
	s = add(6, "frag_do8_q_first");
	add_ext(s, EXT_DO, 8, 8, 0);
	s->frag = F_Q_FIRST;
	s = add(6, "frag_hbh504_q_first");
	add_ext(s, EXT_HBH, 1, 504, 0);
	s->frag = F_Q_FIRST;
}

static void make_shapes(void)
{
	add_common(4);
	add_ipv4();
	add_common(6);
	add_ipv6();
}

/* --- building a query --------------------------------------------------- */

/* wire format; the string's NUL is the root label */
static const uint8_t qname[] = "bigexample";
static const uint8_t qname_case[] = "BiGExAmPlE";

/* The question: NAME (len octets), ANY, the class. */
static size_t put_question(uint8_t *p, const uint8_t *name, size_t len,
			   uint16_t qclass)
{
	memcpy(p, name, len);
	put16(p + len, DNS_TYPE_ANY);
	put16(p + len + 2, qclass);
	return len + 4;
}

/*
 * The DNS message of shape s into m.  Returns its length; *qend is where
 * the question section ends (the first fragment of F_Q_FIRST holds it).
 */
static size_t build_dns(const struct shape *s, uint16_t id, uint8_t *m,
			size_t *qend)
{
	size_t n = WIRE_DNS_HDR, fwd_at = 0;
	uint16_t qd = 1;
	uint8_t name[16];

	memset(m, 0, WIRE_DNS_HDR);
	put16(m, id);
	put16(m + 2, s->flags);
	switch (s->qform) {
	case Q_NONE:
		qd = 0;
		break;
	case Q_TWO:
		qd = 2;
		n += put_question(m + n, qname, sizeof(qname), s->qclass);
		n += put_question(m + n, qname, sizeof(qname), s->qclass);
		break;
	case Q_COUNT2:
		qd = 2;
		n += put_question(m + n, qname, sizeof(qname), s->qclass);
		break;
	case Q_PTR_ROOT:
		/* offset 6 is ANCOUNT's first octet, 0: the root */
		memcpy(name, qname, sizeof(qname) - 1);
		name[sizeof(qname) - 1] = 0xc0;
		name[sizeof(qname)] = 6;
		n += put_question(m + n, name, sizeof(qname) + 1, s->qclass);
		break;
	case Q_PTR_FWD:
		/* "big" then a pointer to "example." after everything */
		memcpy(name, qname, 4);
		name[4] = 0xc0;
		fwd_at = n + 5;
		n += put_question(m + n, name, 6, s->qclass);
		break;
	case Q_CASE:
		n += put_question(m + n, qname_case, sizeof(qname_case),
				  s->qclass);
		break;
	default:
		n += put_question(m + n, qname, sizeof(qname), s->qclass);
		break;
	}
	put16(m + 4, qd);
	*qend = n;
	if (s->edns != E_NONE) {
		put16(m + 10, 1);
		m[n] = 0; /* the root */
		put16(m + n + 1, 41);
		put16(m + n + 3, s->edns == E_512 ? 512 : 4096);
		m[n + 5] = 0;
		m[n + 6] = s->edns == E_V1 ? 1 : 0;
		put16(m + n + 7, s->edns == E_DO ? 0x8000 : 0);
		put16(m + n + 9, 0);
		n += 11;
	}
	if (s->qform == Q_PTR_FWD) {
		if (n > 0x3fff)
			fatalx("%s: pointer out of range", s->name);
		m[fwd_at] = (uint8_t)n;
		memcpy(m + n, qname + 4, sizeof(qname) - 4);
		n += sizeof(qname) - 4;
	}
	if (s->trail) {
		memset(m + n, 0x5a, JUNK_LEN);
		n += JUNK_LEN;
	}
	return n;
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	return sum;
}

static uint16_t fold_sum(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Options of an IPv6 HBH or DO header: len octets at p, valid for Linux
 * (no run of padding over 7 octets, at most 8 options): unknown options
 * of type 0x1e (skip if unrecognised) of up to 257 octets, then padding. */
static void put_tlvs(uint8_t *p, size_t len)
{
	while (len > 0) {
		size_t chunk;

		if (len == 1) {
			*p = 0; /* Pad1 */
			return;
		}
		if (len <= 7) {
			p[0] = 1; /* PadN */
			p[1] = (uint8_t)(len - 2);
			memset(p + 2, 0, len - 2);
			return;
		}
		chunk = len < 257 ? len : 257;
		if (len - chunk == 1)
			chunk--;
		p[0] = 0x1e;
		p[1] = (uint8_t)(chunk - 2);
		memset(p + 2, 0xa5, chunk - 2);
		p += chunk;
		len -= chunk;
	}
}

/* One extension header of kind e at p, next header nh; returns its
 * length.  dst: the final destination (the routing headers' segments). */
static size_t put_ext(uint8_t *p, const struct ext *e, uint8_t nh,
		      const uint8_t *dst)
{
	size_t i;

	memset(p, 0, e->len);
	p[0] = nh;
	switch (e->kind) {
	case EXT_HBH:
	case EXT_DO:
		p[1] = (uint8_t)(e->len / 8 - 1);
		put_tlvs(p + 2, e->len - 2u);
		break;
	case EXT_RH:
		p[1] = (uint8_t)(e->len / 8 - 1);
		p[2] = e->rh_type;
		p[3] = 0; /* segments left */
		if (e->rh_type == 4)
			p[4] = (uint8_t)((e->len - 8) / 16 - 1); /* last */
		for (i = 8; i + 16 <= e->len; i += 16)
			memcpy(p + i, dst, 16);
		break;
	case EXT_AH:
		p[1] = (uint8_t)(e->len / 4 - 2);
		put32(p + 4, 0x1000);		    /* SPI */
		put32(p + 8, 1);		    /* sequence number */
		memset(p + 12, 0x77, e->len - 12u); /* ICV */
		break;
	case EXT_ATOMIC:
		put32(p + 4, random32());
		break;
	default:
		fatalx("bad extension kind %u", e->kind);
	}
	return e->len;
}

static uint8_t ext_proto(uint8_t kind)
{
	static const uint8_t proto[] = {[EXT_HBH] = IPPROTO_HBH_,
					[EXT_DO] = IPPROTO_DO_,
					[EXT_RH] = IPPROTO_RH_,
					[EXT_AH] = IPPROTO_AH_,
					[EXT_ATOMIC] = IPPROTO_FRAG_};

	return proto[kind];
}

/* The IPv4 and IPv6 source of shape i, target t (this run's slot). */
static uint32_t source_number(size_t i, size_t t)
{
	return g.slot * 1024u + (uint32_t)t * 256u + (uint32_t)i;
}

static void source4(size_t i, size_t t, uint8_t *a)
{
	uint32_t n = (198u << 24 | 18u << 16) + source_number(i, t);

	put32(a, n);
}

static void source6(size_t i, size_t t, uint8_t *a, bool random_host)
{
	uint32_t n = source_number(i, t);

	memset(a, 0, 16);
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	a[4] = 0x01;
	a[5] = (uint8_t)(n >> 8);
	a[6] = (uint8_t)n;
	if (random_host)
		random_bytes(a + 7, 9);
	else
		a[15] = 1;
}

/* The frames of one query. */
struct frames {
	size_t n;
	size_t len[MAX_FRAGS];
	uint8_t buf[MAX_FRAGS][FRAME_MAX + JUNK_LEN];
};

/* Cut points in the fragmentable part (of flen octets; the UDP header at
 * udp_off in it, the question ending qend octets after the DNS header
 * starts).  Returns how many fragments. */
static size_t cuts(const struct shape *s, size_t udp_off, size_t qend,
		   size_t flen, size_t *cut)
{
	size_t q = udp_off + WIRE_UDP_HDR + qend;

	switch (s->frag) {
	case F_Q_FIRST:
	case F_REV:
		cut[0] = (q + 7) / 8 * 8;
		break;
	case F_Q_SPLIT:
		cut[0] = udp_off + WIRE_UDP_HDR + WIRE_DNS_HDR + 4;
		break;
	case F_UDP_ONLY:
		cut[0] = udp_off + WIRE_UDP_HDR;
		break;
	case F_THREE:
		cut[0] = udp_off + WIRE_UDP_HDR;
		cut[1] = udp_off + WIRE_UDP_HDR + WIRE_DNS_HDR + 4;
		break;
	case F_HDRS_SPLIT:
		cut[0] = udp_off;
		break;
	default:
		cut[0] = flen;
		return 1;
	}
	if (s->frag == F_THREE) {
		cut[2] = flen;
		if (cut[1] >= flen || cut[0] % 8 || cut[1] % 8)
			fatalx("%s: cannot cut %zu octets", s->name, flen);
		return 3;
	}
	cut[1] = flen;
	if (cut[0] == 0 || cut[0] >= flen || cut[0] % 8)
		fatalx("%s: cannot cut %zu octets at %zu", s->name, flen,
		       cut[0]);
	return 2;
}

static void put_eth(uint8_t *f, uint16_t type)
{
	memcpy(f, g.dst_mac, 6);
	memcpy(f + 6, g.mac, 6);
	put16(f + 12, type);
}

/*
 * The UDP datagram (and what follows it in the IP payload) of shape s at
 * u: returns the octets of the IP payload it takes; *qend as build_dns.
 * src and dst (4 or 16 octets) are for the checksum.
 */
static size_t build_udp(const struct shape *s, const uint8_t *src,
			const uint8_t *dst, uint8_t *u, size_t *qend)
{
	size_t alen = s->family == 4 ? 4 : 16;
	size_t mlen =
		build_dns(s, (uint16_t)random32(), u + WIRE_UDP_HDR, qend);
	size_t dlen = WIRE_UDP_HDR + mlen, plen = dlen;
	uint16_t field = (uint16_t)dlen, c;
	uint32_t sum;

	put16(u + WIRE_UDP_SPORT, (uint16_t)(1024 + random32() % 64512));
	put16(u + WIRE_UDP_DPORT, WIRE_DNS_PORT);
	put16(u + WIRE_UDP_CSUM, 0);
	switch (s->ulen) {
	case U_ZERO:
		field = 0;
		break;
	case U_SHORT:
		memset(u + dlen, 0x3c, JUNK_LEN);
		plen += JUNK_LEN;
		break;
	case U_LONG:
		field = (uint16_t)(dlen + JUNK_LEN);
		break;
	case U_LT8:
		field = 4;
		break;
	default:
		break;
	}
	put16(u + WIRE_UDP_LEN, field);
	/* pseudo-header: the addresses, the protocol, the datagram's real
	 * length (what Linux takes when the field is 0) */
	sum = sum16(src, alen, 0);
	sum = sum16(dst, alen, sum);
	sum += IPPROTO_UDP + (uint32_t)dlen;
	sum = sum16(u, dlen, sum);
	c = fold_sum(sum);
	if (c == 0)
		c = 0xffff;
	if (s->csum == C_ZERO)
		c = 0;
	else if (s->csum == C_BAD)
		c = (uint16_t)(c == 0x1234 ? 0x4321 : 0x1234);
	put16(u + WIRE_UDP_CSUM, c);
	return plen;
}

/* The frames of one query of shape i to target t. */
static void build(size_t i, size_t t, struct frames *fr)
{
	const struct shape *s = &shapes[i];
	const struct target *tg = &targets[t];
	uint8_t part[FRAME_MAX], hdr[FRAME_MAX], src[16];
	size_t plen, qend, hlen, udp_off = 0, k, cut[MAX_FRAGS], nf, a;
	uint8_t proto = IPPROTO_UDP;

	memset(fr, 0, sizeof(*fr));
	if (s->family == 4) {
		uint8_t optlen = ip4_opts[s->ip4opt].len;
		uint32_t id = random32();

		source4(i, t, src);
		if (s->ah4) {
			struct ext ah = {EXT_AH, 1, 24, 0};

			udp_off = put_ext(part, &ah, IPPROTO_UDP, tg->a4);
			proto = IPPROTO_AH_;
		}
		plen = udp_off +
		       build_udp(s, src, tg->a4, part + udp_off, &qend);
		nf = cuts(s, udp_off, qend, plen, cut);
		hlen = WIRE_IPV4_HDR_MIN + optlen;
		for (k = 0, a = 0; k < nf; a = cut[k], k++) {
			uint8_t *f = fr->buf[k] + ETH_HDR;
			size_t len = cut[k] - a, tot = hlen + len;
			uint16_t fo = (uint16_t)(a / 8);

			if (k + 1 < nf)
				fo |= 0x2000; /* MF */
			if (s->df)
				fo |= 0x4000;
			put_eth(fr->buf[k], ETH_P_IP);
			memset(f, 0, hlen);
			f[0] = (uint8_t)(0x40 | hlen / 4);
			put16(f + WIRE_IPV4_TOTAL_LEN,
			      (uint16_t)(tot +
					 (s->iplen == L_LONG ? JUNK_LEN : 0)));
			put16(f + 4, (uint16_t)id);
			put16(f + WIRE_IPV4_FRAG, fo);
			f[8] = 64;
			f[WIRE_IPV4_PROTO] = proto;
			memcpy(f + WIRE_IPV4_SRC, src, 4);
			memcpy(f + WIRE_IPV4_DST, tg->a4, 4);
			memcpy(f + WIRE_IPV4_HDR_MIN, ip4_opts[s->ip4opt].bytes,
			       optlen);
			put16(f + 10, fold_sum(sum16(f, hlen, 0)));
			memcpy(f + hlen, part + a, len);
			fr->len[k] = ETH_HDR + tot;
		}
	} else {
		size_t e, c, n = WIRE_IPV6_HDR, post = 0;
		uint8_t protos[64], nproto = 0;
		const struct ext *chain[64];
		uint32_t id = random32();

		source6(i, t, src, true);
		/* the chain in order, one entry a header */
		for (e = 0; e < s->next; e++)
			for (c = 0; c < s->ext[e].count; c++) {
				if (nproto == 64)
					fatalx("%s: chain too long", s->name);
				chain[nproto] = &s->ext[e];
				protos[nproto++] = ext_proto(s->ext[e].kind);
			}
		/* F_HDRS_SPLIT: two DO headers after the fragment header */
		if (s->frag == F_HDRS_SPLIT) {
			static const struct ext d = {EXT_DO, 1, 8, 0};

			put_ext(part, &d, IPPROTO_DO_, tg->a6);
			put_ext(part + 8, &d, IPPROTO_UDP, tg->a6);
			post = 16;
		}
		memset(hdr, 0, WIRE_IPV6_HDR);
		hdr[0] = 0x60;
		hdr[WIRE_IPV6_NEXT] = nproto		  ? protos[0]
				      : s->frag != F_NONE ? IPPROTO_FRAG_
							  : IPPROTO_UDP;
		hdr[7] = 64;
		memcpy(hdr + WIRE_IPV6_SRC, src, 16);
		memcpy(hdr + WIRE_IPV6_DST, tg->a6, 16);
		for (e = 0; e < nproto; e++) {
			uint8_t nh = e + 1 < nproto	 ? protos[e + 1]
				     : s->frag != F_NONE ? IPPROTO_FRAG_
							 : IPPROTO_UDP;

			if (n + chain[e]->len > FRAME_MAX - ETH_HDR)
				fatalx("%s: headers too long", s->name);
			n += put_ext(hdr + n, chain[e], nh, tg->a6);
		}
		udp_off = post;
		plen = post + build_udp(s, src, tg->a6, part + post, &qend);
		nf = cuts(s, udp_off, qend, plen, cut);
		for (k = 0, a = 0; k < nf; a = cut[k], k++) {
			uint8_t *f = fr->buf[k] + ETH_HDR;
			size_t len = cut[k] - a, tot = n;

			put_eth(fr->buf[k], ETH_P_IPV6);
			memcpy(f, hdr, n);
			if (s->frag != F_NONE) {
				uint8_t *fh = f + tot;

				fh[0] = post ? IPPROTO_DO_ : IPPROTO_UDP;
				fh[1] = 0;
				put16(fh + 2, (uint16_t)(a | (k + 1 < nf)));
				put32(fh + 4, id);
				tot += 8;
			}
			if (tot + len > FRAME_MAX - ETH_HDR)
				fatalx("%s: %zu octets over the MTU", s->name,
				       tot + len);
			memcpy(f + tot, part + a, len);
			tot += len;
			put16(f + WIRE_IPV6_PAYLOAD_LEN,
			      s->iplen == L_ZERO
				      ? 0
				      : (uint16_t)(tot - WIRE_IPV6_HDR +
						   (s->iplen == L_LONG
							    ? JUNK_LEN
							    : 0)));
			fr->len[k] = ETH_HDR + tot;
		}
	}
	fr->n = nf;
	if (s->iplen == L_TRAIL) {
		memset(fr->buf[0] + fr->len[0], 0xe7, JUNK_LEN);
		fr->len[0] += JUNK_LEN;
	}
	if (s->frag == F_REV) {
		uint8_t tmp[FRAME_MAX + JUNK_LEN];
		size_t l = fr->len[0];

		memcpy(tmp, fr->buf[0], l);
		memcpy(fr->buf[0], fr->buf[1], fr->len[1]);
		memcpy(fr->buf[1], tmp, l);
		fr->len[0] = fr->len[1];
		fr->len[1] = l;
	}
}

/* --- sending and capturing ---------------------------------------------- */

static void send_query(size_t i, size_t t)
{
	static struct frames fr;
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				  .sll_ifindex = g.ifindex,
				  .sll_halen = 6};
	size_t k;

	build(i, t, &fr);
	memcpy(sll.sll_addr, g.dst_mac, 6);
	for (k = 0; k < fr.n; k++) {
		ssize_t r;

		sll.sll_protocol = (uint16_t)(shapes[i].family == 4
						      ? htons(ETH_P_IP)
						      : htons(ETH_P_IPV6));
		r = sendto(g.tx, fr.buf[k], fr.len[k], 0,
			   (struct sockaddr *)&sll, sizeof(sll));
		if (r != (ssize_t)fr.len[k])
			fatal("%s: sendto (%zu octets)", shapes[i].name,
			      fr.len[k]);
		tallies[i][t].frames++;
	}
	tallies[i][t].sent++;
}

/* Shape and target of a number read back from an address; false when it
 * is not one of this run's. */
static bool from_number(uint32_t n, size_t *i, size_t *t)
{
	if (n / 1024 != g.slot)
		return false;
	*t = n % 1024 / 256;
	*i = n % 256;
	return *t < ntargets && *i < nshapes && selected[*i];
}

/* An answer's UDP datagram (its first fragment): u[0..len). */
static void count_udp(struct tally *y, const uint8_t *u, size_t len)
{
	size_t dlen;

	if (len < WIRE_UDP_HDR ||
	    wire_read16(u + WIRE_UDP_SPORT) != WIRE_DNS_PORT)
		return;
	dlen = wire_read16(u + WIRE_UDP_LEN);
	dlen = dlen >= WIRE_UDP_HDR ? dlen - WIRE_UDP_HDR : 0;
	y->answers++;
	if (dlen > y->largest)
		y->largest = dlen;
	if (dlen > g.big)
		y->big++;
	if (len >= WIRE_UDP_HDR + 4) {
		if (u[WIRE_UDP_HDR + 2] & 0x02)
			y->tc++;
		y->rcodes |= (uint16_t)(1u << (u[WIRE_UDP_HDR + 3] & 0x0f));
	}
}

static void count_icmp(struct tally *y, const uint8_t *p, size_t len)
{
	y->icmp++;
	if (len >= 2) {
		y->icmp_type = p[0];
		y->icmp_code = p[1];
	}
}

static void capture_ipv4(const uint8_t *p, size_t len)
{
	size_t hlen, tot, i, t;
	struct tally *y;
	uint32_t dst;

	if (len < WIRE_IPV4_HDR_MIN)
		return;
	hlen = (size_t)(p[0] & 0x0f) * 4;
	tot = wire_read16(p + WIRE_IPV4_TOTAL_LEN);
	dst = wire_read32(p + WIRE_IPV4_DST);
	if ((dst >> 17) != ((198u << 24 | 18u << 16) >> 17))
		return;
	if (hlen < WIRE_IPV4_HDR_MIN || tot < hlen || tot > len ||
	    !from_number(dst & 0x1ffff, &i, &t))
		return;
	if (memcmp(p + WIRE_IPV4_SRC, targets[t].a4, 4) != 0) {
		g.stray++;
		return;
	}
	y = &tallies[i][t];
	if (p[WIRE_IPV4_PROTO] == IPPROTO_ICMP) {
		count_icmp(y, p + hlen, tot - hlen);
		return;
	}
	if (p[WIRE_IPV4_PROTO] != IPPROTO_UDP)
		return;
	y->bytes += tot;
	if ((wire_read16(p + WIRE_IPV4_FRAG) & 0x1fff) == 0)
		count_udp(y, p + hlen, tot - hlen);
}

static void capture_ipv6(const uint8_t *p, size_t len)
{
	static const uint8_t net[5] = {0x20, 0x01, 0x0d, 0xb8, 0x01};
	size_t tot, off = WIRE_IPV6_HDR, i, t;
	const uint8_t *d = p + WIRE_IPV6_DST;
	struct tally *y;
	uint8_t nh;
	bool first = true;

	if (len < WIRE_IPV6_HDR || memcmp(d, net, 5) != 0)
		return;
	tot = WIRE_IPV6_HDR + wire_read16(p + WIRE_IPV6_PAYLOAD_LEN);
	if (tot > len || !from_number((uint32_t)(d[5] << 8 | d[6]), &i, &t))
		return;
	if (memcmp(p + WIRE_IPV6_SRC, targets[t].a6, 16) != 0) {
		g.stray++;
		return;
	}
	y = &tallies[i][t];
	nh = p[WIRE_IPV6_NEXT];
	if (nh == IPPROTO_FRAG_ && tot >= off + 8) {
		first = (wire_read16(p + off + 2) & 0xfff8) == 0;
		nh = p[off];
		off += 8;
	}
	if (nh == IPPROTO_ICMPV6) {
		count_icmp(y, p + off, tot - off);
		return;
	}
	if (nh != IPPROTO_UDP)
		return;
	y->bytes += tot;
	if (first)
		count_udp(y, p + off, tot - off);
}

/* Reads what the capture socket holds, without waiting. */
static void drain(void)
{
	for (;;) {
		struct sockaddr_ll sll;
		socklen_t sl = sizeof(sll);
		ssize_t r = recvfrom(g.rx, rbuf, sizeof(rbuf), MSG_DONTWAIT,
				     (struct sockaddr *)&sll, &sl);
		uint16_t type;

		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR)
				continue;
			fatal("recvfrom (capture)");
		}
		if (sll.sll_pkttype == PACKET_OUTGOING || r < ETH_HDR)
			continue;
		g.captured++;
		type = wire_read16(rbuf + 12);
		if (type == ETH_P_IP)
			capture_ipv4(rbuf + ETH_HDR, (size_t)r - ETH_HDR);
		else if (type == ETH_P_IPV6)
			capture_ipv6(rbuf + ETH_HDR, (size_t)r - ETH_HDR);
	}
}

/* Captures until the monotonic time t (ns). */
static void capture_until(uint64_t t)
{
	struct pollfd pfd = {.fd = g.rx, .events = POLLIN};

	for (;;) {
		uint64_t now = now_ns();
		struct timespec ts;

		drain();
		if (now >= t)
			return;
		ts.tv_sec = (time_t)((t - now) / NSEC);
		ts.tv_nsec = (long)((t - now) % NSEC);
		if (ppoll(&pfd, 1, &ts, NULL) < 0 && errno != EINTR)
			fatal("ppoll");
	}
}

static void open_sockets(const char *ifname)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ALL)};
	struct ifreq ifr;
	int one = 1, buf = SOCKBUF;

	if (strlen(ifname) >= IFNAMSIZ)
		fatalx("--if: name too long: '%s'", ifname);
	g.ifindex = (int)if_nametoindex(ifname);
	if (g.ifindex == 0)
		fatal("--if %s", ifname);
	g.tx = socket(AF_PACKET, SOCK_RAW, 0);
	g.rx = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (g.tx < 0 || g.rx < 0)
		fatal("socket(AF_PACKET)");
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(g.tx, SIOCGIFHWADDR, &ifr) < 0)
		fatal("SIOCGIFHWADDR %s", ifname);
	memcpy(g.mac, ifr.ifr_hwaddr.sa_data, 6);
	if (setsockopt(g.rx, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) <
		    0 ||
	    setsockopt(g.rx, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
		       sizeof(one)) < 0)
		fatal("setsockopt (capture)");
	sll.sll_ifindex = g.ifindex;
	if (bind(g.rx, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		fatal("bind (capture) %s", ifname);
}

/* What the capture socket lost since it was opened. */
static unsigned int capture_drops(void)
{
	struct tpacket_stats st;
	socklen_t l = sizeof(st);

	if (getsockopt(g.rx, SOL_PACKET, PACKET_STATISTICS, &st, &l) < 0)
		fatal("PACKET_STATISTICS");
	return st.tp_drops;
}

/* --- the server's counters ---------------------------------------------- */

static void ctr_add(struct ctrs *c, const char *prefix, const char *name,
		    long long v)
{
	if (c->n == MAX_CTRS)
		return;
	snprintf(c->c[c->n].name, sizeof(c->c[c->n].name), "%.16s%.31s", prefix,
		 name);
	c->c[c->n++].v = v;
}

/* A file of "Name: a b c" lines followed by "Name: 1 2 3" lines (snmp,
 * netstat). */
static void read_pairs(struct ctrs *c, const char *path)
{
	char names[4096], vals[4096];
	FILE *f = fopen(path, "r");

	if (f == NULL)
		fatal("%s", path);
	while (fgets(names, sizeof(names), f) && fgets(vals, sizeof(vals), f)) {
		char *sn, *sv, *n, *v, *colon = strchr(names, ':');

		if (colon == NULL)
			continue;
		*colon = '\0';
		n = strtok_r(colon + 1, " \n", &sn);
		v = strtok_r(strchr(vals, ':') ? strchr(vals, ':') + 1 : vals,
			     " \n", &sv);
		while (n != NULL && v != NULL) {
			ctr_add(c, names, n, strtoll(v, NULL, 10));
			n = strtok_r(NULL, " \n", &sn);
			v = strtok_r(NULL, " \n", &sv);
		}
	}
	fclose(f);
}

/* A file of "Name value" lines (snmp6, xfrm_stat); absent is empty. */
static void read_lines(struct ctrs *c, const char *path)
{
	char line[256], name[48];
	long long v;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%47s %lld", name, &v) == 2)
			ctr_add(c, "", name, v);
	fclose(f);
}

static void read_ctrs(struct ctrs *c)
{
	char path[512];

	c->n = 0;
	snprintf(path, sizeof(path), "%s/snmp", g.server_net);
	read_pairs(c, path);
	snprintf(path, sizeof(path), "%s/netstat", g.server_net);
	read_pairs(c, path);
	snprintf(path, sizeof(path), "%s/snmp6", g.server_net);
	read_lines(c, path);
	snprintf(path, sizeof(path), "%s/xfrm_stat", g.server_net);
	read_lines(c, path);
}

/* Counters that tell where a packet went: delivered to UDP, or why not. */
static bool ctr_telling(const char *name)
{
	static const char *const words[] = {
		"InDatagrams", "Err",	   "Discard",  "Drop",	  "Fail",
		"Unknown",     "NoPorts",  "Trunc",    "NoRoute", "Hdr",
		"Csum",	       "ReasmReq", "ParmProb", "Unreach", "Xfrm",
		"Invalid",     "TooBig",   "TimeExcd"};
	size_t k;

	if (strstr(name, "OutDatagrams") || strncmp(name, "Tcp", 3) == 0 ||
	    strncmp(name, "MPTcp", 5) == 0)
		return false;
	for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
		if (strstr(name, words[k]))
			return true;
	return false;
}

/* "Name:delta,..." of the telling counters that moved, or "-". */
static void ctr_delta(const struct ctrs *a, const struct ctrs *b, char *out,
		      size_t size)
{
	size_t k, j, used = 0;

	out[0] = '\0';
	for (k = 0; k < b->n; k++) {
		long long before = 0;

		if (!ctr_telling(b->c[k].name))
			continue;
		for (j = 0; j < a->n; j++)
			if (strcmp(a->c[j].name, b->c[k].name) == 0) {
				before = a->c[j].v;
				break;
			}
		if (b->c[k].v == before)
			continue;
		used += (size_t)snprintf(out + used,
					 used < size ? size - used : 0,
					 "%s%s:%lld", used ? "," : "",
					 b->c[k].name, b->c[k].v - before);
	}
	if (used == 0)
		snprintf(out, size, "-");
	else if (used >= size)
		out[size - 1] = '\0';
}

/* --- the modes ---------------------------------------------------------- */

static void print_tallies(bool with_kernel)
{
	size_t i, t;

	for (i = 0; i < nshapes; i++) {
		if (!selected[i])
			continue;
		for (t = 0; t < ntargets; t++) {
			const struct tally *y = &tallies[i][t];
			char src[INET6_ADDRSTRLEN], rc[64] = "-", it[16] = "-";
			uint8_t a[16];
			size_t used = 0;
			unsigned int r;

			if (shapes[i].family == 4) {
				source4(i, t, a);
				inet_ntop(AF_INET, a, src, sizeof(src));
			} else {
				source6(i, t, a, false);
				a[15] = 0;
				inet_ntop(AF_INET6, a, src, sizeof(src));
			}
			for (r = 0; r < 16; r++)
				if (y->rcodes & (1u << r))
					used += (size_t)snprintf(
						rc + used, sizeof(rc) - used,
						"%s%u", used ? "/" : "", r);
			if (y->icmp)
				snprintf(it, sizeof(it), "%u/%u", y->icmp_type,
					 y->icmp_code);
			printf("shape=%s family=%u resolver=%s src=%s%s "
			       "sent=%" PRIu64 " frames=%" PRIu64
			       " answers=%" PRIu64 " bytes=%" PRIu64
			       " big=%" PRIu64 " largest=%" PRIu64
			       " tc=%" PRIu64 " rcode=%s icmp=%" PRIu64
			       " icmp_type=%s",
			       shapes[i].name, shapes[i].family,
			       targets[t].name, src,
			       shapes[i].family == 4 ? "/32" : "/56", y->sent,
			       y->frames, y->answers, y->bytes, y->big,
			       y->largest, y->tc, rc, y->icmp, it);
			if (with_kernel)
				printf(" kernel=%s", y->kernel);
			putchar('\n');
		}
	}
}

/* sent_ns: from the first query sent to the last (run mode). */
static void print_summary(const char *mode, uint64_t t0, uint64_t sent_ns)
{
	uint64_t sent = 0, frames = 0;
	size_t i, t;

	for (i = 0; i < nshapes; i++)
		for (t = 0; t < ntargets; t++) {
			sent += tallies[i][t].sent;
			frames += tallies[i][t].frames;
		}
	printf("summary=%s sent=%" PRIu64 " frames=%" PRIu64
	       " captured=%" PRIu64 " drops=%u stray=%" PRIu64 " ms=%" PRIu64
	       " send_ms=%" PRIu64 "\n",
	       mode, sent, frames, g.captured, capture_drops(), g.stray,
	       (uint64_t)((now_ns() - t0) / MSEC), (uint64_t)(sent_ns / MSEC));
}

static bool all_answered(size_t i, unsigned int count)
{
	size_t t;

	for (t = 0; t < ntargets; t++)
		if (tallies[i][t].answers < count)
			return false;
	return true;
}

/* Shape after shape: count queries to each target, then up to wait_ms
 * for all answers; the counters around each shape when asked. */
static void mode_probe(unsigned int count, unsigned int wait_ms)
{
	static struct ctrs before, after;
	uint64_t t0 = now_ns();
	size_t i, t;
	unsigned int c;

	for (i = 0; i < nshapes; i++) {
		uint64_t end;

		if (!selected[i])
			continue;
		if (g.server_net)
			read_ctrs(&before);
		for (c = 0; c < count; c++)
			for (t = 0; t < ntargets; t++)
				send_query(i, t);
		end = now_ns() + wait_ms * MSEC;
		while (now_ns() < end && !all_answered(i, count))
			capture_until(now_ns() + 2 * MSEC);
		/* what a stack does with a packet it is done with by the
		 * time the answers are out; a little more for drops */
		capture_until(now_ns() + 5 * MSEC);
		if (g.server_net) {
			read_ctrs(&after);
			ctr_delta(&before, &after, tallies[i][0].kernel,
				  sizeof(tallies[i][0].kernel));
			for (t = 1; t < ntargets; t++)
				memcpy(tallies[i][t].kernel,
				       tallies[i][0].kernel,
				       sizeof(tallies[i][0].kernel));
		} else {
			for (t = 0; t < ntargets; t++)
				snprintf(tallies[i][t].kernel,
					 sizeof(tallies[i][t].kernel), "-");
		}
	}
	capture_until(now_ns() + wait_ms * MSEC);
	print_tallies(true);
	print_summary("probe", t0, 0);
}

/* count rounds at rate rounds a second; each round one query of every
 * selected shape to every target, spread evenly over the round. */
static void mode_run(unsigned int count, unsigned int rate,
		     unsigned int wait_ms)
{
	uint64_t t0 = now_ns(), per, next = t0, first = 0, last = 0;
	size_t i, t, n = 0;
	unsigned int c;

	for (i = 0; i < nshapes; i++)
		n += selected[i];
	n *= ntargets;
	if (n == 0)
		fatalx("no shape selected");
	per = NSEC / rate / n;
	for (c = 0; c < count; c++)
		for (i = 0; i < nshapes; i++) {
			if (!selected[i])
				continue;
			for (t = 0; t < ntargets; t++) {
				capture_until(next);
				last = now_ns();
				if (first == 0)
					first = last;
				send_query(i, t);
				next += per;
			}
		}
	capture_until(next + wait_ms * MSEC);
	print_tallies(false);
	print_summary("run", t0, last - first);
}

/* --- options ------------------------------------------------------------ */

static unsigned int parse_uint(const char *opt, const char *s, unsigned int lo,
			       unsigned int hi)
{
	unsigned long v;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		fatalx("--%s: expected a number, got '%s'", opt, s);
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v < lo || v > hi)
		fatalx("--%s: expected %u..%u, got '%s'", opt, lo, hi, s);
	return (unsigned int)v;
}

static void parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6], k;
	char c;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &c) != 6)
		fatalx("--dst-mac: not a MAC address: '%s'", s);
	for (k = 0; k < 6; k++) {
		if (b[k] > 255)
			fatalx("--dst-mac: not a MAC address: '%s'", s);
		mac[k] = (uint8_t)b[k];
	}
}

/* NAME=IPV4,IPV6 */
static void parse_target(const char *s)
{
	const char *eq = strchr(s, '='), *comma;
	struct target *tg;
	char a[INET6_ADDRSTRLEN];

	if (ntargets == MAX_TARGETS)
		fatalx("--target: at most %d", MAX_TARGETS);
	tg = &targets[ntargets];
	comma = eq ? strchr(eq, ',') : NULL;
	if (eq == NULL || comma == NULL || eq == s ||
	    (size_t)(eq - s) >= sizeof(tg->name) ||
	    (size_t)(comma - eq - 1) >= sizeof(a))
		fatalx("--target: expected NAME=IPV4,IPV6, got '%s'", s);
	memcpy(tg->name, s, (size_t)(eq - s));
	memcpy(a, eq + 1, (size_t)(comma - eq - 1));
	a[comma - eq - 1] = '\0';
	if (inet_pton(AF_INET, a, tg->a4) != 1 ||
	    inet_pton(AF_INET6, comma + 1, tg->a6) != 1)
		fatalx("--target: bad addresses in '%s'", s);
	ntargets++;
}

/* Selects the shapes of the family (0: both) whose name matches one of
 * the comma-separated globs (NULL: all). */
static void select_shapes(unsigned int family, const char *only)
{
	size_t i;

	for (i = 0; i < nshapes; i++) {
		char buf[1024], *save, *p;

		selected[i] = family == 0 || shapes[i].family == family;
		if (!selected[i] || only == NULL)
			continue;
		if (strlen(only) >= sizeof(buf))
			fatalx("--only: too long");
		strcpy(buf, only);
		selected[i] = false;
		for (p = strtok_r(buf, ",", &save); p;
		     p = strtok_r(NULL, ",", &save))
			if (fnmatch(p, shapes[i].name, 0) == 0)
				selected[i] = true;
	}
}

/* Every shape is built once (to a dummy target) before anything is sent,
 * so that one that does not fit stops the run at once. */
static void check_shapes(void)
{
	static struct frames fr;
	size_t i;

	for (i = 0; i < nshapes; i++)
		build(i, 0, &fr);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"if", required_argument, NULL, 'i'},
		{"dst-mac", required_argument, NULL, 'm'},
		{"target", required_argument, NULL, 't'},
		{"slot", required_argument, NULL, 's'},
		{"count", required_argument, NULL, 'c'},
		{"rate", required_argument, NULL, 'r'},
		{"wait", required_argument, NULL, 'w'},
		{"big", required_argument, NULL, 'b'},
		{"family", required_argument, NULL, 'f'},
		{"only", required_argument, NULL, 'o'},
		{"server-net", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *mode, *ifname = NULL, *only = NULL, *mac = NULL;
	unsigned int count = 0, rate = 5, wait_ms = 0, family = 0;
	bool probe;
	size_t i;
	int o;

	if (argc < 2 || argv[1][0] == '-') {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2;
	}
	mode = argv[1];
	optind = 2;
	while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (o) {
		case 'i':
			ifname = optarg;
			break;
		case 'm':
			mac = optarg;
			break;
		case 't':
			parse_target(optarg);
			break;
		case 's':
			g.slot = parse_uint("slot", optarg, 0, MAX_SLOT);
			break;
		case 'c':
			count = parse_uint("count", optarg, 1, 1000);
			break;
		case 'r':
			rate = parse_uint("rate", optarg, 1, 100);
			break;
		case 'w':
			wait_ms = parse_uint("wait", optarg, 0, 10000);
			break;
		case 'b':
			g.big = parse_uint("big", optarg, 0, 65535);
			break;
		case 'f':
			family = parse_uint("family", optarg, 4, 6);
			if (family == 5)
				fatalx("--family: 4 or 6");
			break;
		case 'o':
			only = optarg;
			break;
		case 'n':
			g.server_net = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 1;
		}
	}
	if (optind != argc)
		fatalx("unexpected argument '%s'", argv[optind]);
	make_shapes();
	select_shapes(family, only);
	if (strcmp(mode, "list") == 0) {
		for (i = 0; i < nshapes; i++)
			if (selected[i])
				printf("shape=%s family=%u frag=%u\n",
				       shapes[i].name, shapes[i].family,
				       shapes[i].frag != F_NONE);
		return 0;
	}
	probe = strcmp(mode, "probe") == 0;
	if (!probe && strcmp(mode, "run") != 0)
		fatalx("unknown mode '%s'", mode);
	if (ifname == NULL || mac == NULL || ntargets == 0)
		fatalx("%s needs --if, --dst-mac and --target", mode);
	parse_mac(mac, g.dst_mac);
	open_sockets(ifname);
	check_shapes();
	memset(tallies, 0, sizeof(tallies));
	if (probe)
		mode_probe(count ? count : 3, wait_ms ? wait_ms : 200);
	else
		mode_run(count ? count : 10, rate, wait_ms ? wait_ms : 1000);
	return 0;
}
