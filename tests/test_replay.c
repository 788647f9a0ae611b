/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Capture replay: captures written here with libpcap (and one pcapng by
 * hand, which libpcap cannot write) with known traffic, replayed, and the
 * operator's report read line by line.  Answers are judged against what
 * the rule promises; fragmented captures against the same traffic
 * captured whole (cut into fragments here, by fragbuild.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "replay.h"

#include "fragbuild.h"
#include "pktbuild.h"

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)
#define DAY (86400 * SEC)
#define T0 (UINT64_C(1714557600) * SEC) /* 2024-05-01 10:00:00 UTC */
#define T_A 1
#define T_ANY 255
#define ERR_LEN 512
#define FRAME_MAX 700 /* room for the longest test packet, framed */

#define ABUSER4 "198.51.100.66"
#define LEGIT4 "198.51.100.10"
#define ABUSER6 "2001:db8:66::1"
#define LEGIT6 "2001:db8:10::1"

static const char mission_conf[] = "table-size 4096\n"
				   "rule any-abuse {\n"
				   "\tqtype ANY\n"
				   "\tlimit 2/5s\n"
				   "}\n";

/* How frames are wrapped: a link type, and VLAN tags for Ethernet. */
struct link {
	const char *name;
	int dlt;  /* -1: DLT_IPV4 or DLT_IPV6 by the traffic's family */
	int tags; /* 802.1Q tags, the outer one 802.1ad when two */
	bool usec;
};

struct capture {
	char path[64];
	struct link link;
	int family; /* 4 or 6 */
	pcap_t *dead;
	pcap_dumper_t *dump;
};

static void put32(uint8_t *p, uint32_t v)
{
	pkt_put16(p, (uint16_t)(v >> 16));
	pkt_put16(p + 2, (uint16_t)v);
}

static void temp_path(char *path, size_t len)
{
	int fd;

	snprintf(path, len, "/tmp/dnsrl-replay-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
}

static int link_dlt(const struct link *lk, int family)
{
	if (lk->dlt >= 0)
		return lk->dlt;
	return family == 6 ? DLT_IPV6 : DLT_IPV4;
}

static void cap_open(struct capture *c, const struct link *lk, int family)
{
	memset(c, 0, sizeof(*c));
	c->link = *lk;
	c->family = family;
	temp_path(c->path, sizeof(c->path));
	c->dead = pcap_open_dead_with_tstamp_precision(
		link_dlt(lk, family), 65535,
		lk->usec ? PCAP_TSTAMP_PRECISION_MICRO
			 : PCAP_TSTAMP_PRECISION_NANO);
	assert_non_null(c->dead);
	c->dump = pcap_dump_open(c->dead, c->path);
	assert_non_null(c->dump);
}

static void cap_close(struct capture *c)
{
	pcap_dump_close(c->dump);
	pcap_close(c->dead);
	c->dump = NULL;
	c->dead = NULL;
}

/* Wraps the IP packet ip[0..len) in the capture's link layer. */
static size_t frame_wrap(const struct capture *c, const uint8_t *ip, size_t len,
			 bool outgoing, uint8_t *out)
{
	bool v6 = ip[0] >> 4 == 6;
	uint16_t type = v6 ? 0x86dd : 0x0800;
	uint32_t af;
	size_t n = 0;

	switch (link_dlt(&c->link, c->family)) {
	case DLT_EN10MB:
		memcpy(out, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02",
		       12);
		n = 12;
		if (c->link.tags == 2) {
			pkt_put16(out + n, 0x88a8);
			pkt_put16(out + n + 2, 300);
			n += 4;
		}
		if (c->link.tags >= 1) {
			pkt_put16(out + n, 0x8100);
			pkt_put16(out + n + 2, 42);
			n += 4;
		}
		pkt_put16(out + n, type);
		n += 2;
		break;
	case DLT_LINUX_SLL:
		pkt_put16(out, outgoing ? 4 : 0);
		pkt_put16(out + 2, 1); /* ARPHRD_ETHER */
		pkt_put16(out + 4, 6);
		memset(out + 6, 0x22, 8);
		pkt_put16(out + 14, type);
		n = 16;
		break;
	case DLT_LINUX_SLL2:
		pkt_put16(out, type);
		pkt_put16(out + 2, 0);
		put32(out + 4, 2); /* interface index */
		pkt_put16(out + 8, 1);
		out[10] = outgoing ? 4 : 0;
		out[11] = 6;
		memset(out + 12, 0x22, 8);
		n = 20;
		break;
	case DLT_NULL:
		/* the capturing host's byte order: macOS's AF_INET6 */
		af = v6 ? 30 : 2;
		memcpy(out, &af, 4);
		n = 4;
		break;
	case DLT_LOOP:
		/* big-endian: OpenBSD's AF_INET6 */
		put32(out, v6 ? 24 : 2);
		n = 4;
		break;
	default:
		break;
	}
	memcpy(out + n, ip, len);
	return n + len;
}

static void cap_frame(struct capture *c, uint64_t t, const uint8_t *f,
		      size_t len)
{
	struct pcap_pkthdr h;

	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)(t / SEC);
	h.ts.tv_usec = (suseconds_t)(c->link.usec ? t % SEC / 1000 : t % SEC);
	h.caplen = (bpf_u_int32)len;
	h.len = (bpf_u_int32)len;
	pcap_dump((u_char *)c->dump, &h, f);
}

static void cap_ip(struct capture *c, uint64_t t, const uint8_t *ip, size_t len,
		   bool outgoing)
{
	uint8_t f[FRAME_MAX];

	cap_frame(c, t, f, frame_wrap(c, ip, len, outgoing, f));
}

static void cap_query(struct capture *c, uint64_t t, const char *src,
		      uint16_t qtype)
{
	uint8_t ip[FRAME_MAX];

	cap_ip(c, t, ip, pkt_query_from(ip, src, "big.example", qtype), false);
}

/*
 * The mission's traffic: src sends ANY at 50/s for 10 s, legit sends an
 * A query a second: 510 packets over 9.98 s.
 */
static void cap_mission(struct capture *c, const char *src, const char *legit)
{
	for (unsigned i = 0; i < 500; i++) {
		cap_query(c, T0 + i * 20 * MS, src, T_ANY);
		if (i % 50 == 0)
			cap_query(c, T0 + i * 20 * MS, legit, T_A);
	}
}

/* Replays path under the config text; the report lands in *text. */
static int run(const char *conf, const char *path, char **text, char *err)
{
	char cerr[CONFIG_ERR_MAX];
	struct config *cfg;
	size_t len = 0;
	FILE *out;
	int rc;

	cfg = config_parse("test.conf", conf, strlen(conf), cerr, sizeof(cerr));
	if (cfg == NULL)
		fail_msg("config: %s", cerr);
	*text = NULL;
	out = open_memstream(text, &len);
	assert_non_null(out);
	err[0] = '\0';
	rc = replay_run(cfg, path, out, err, ERR_LEN);
	assert_int_equal(fclose(out), 0);
	config_free(cfg);
	return rc;
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p != NULL && *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

		if (len == n && memcmp(p, line, n) == 0)
			return true;
		p = nl != NULL ? nl + 1 : NULL;
	}
	return false;
}

static bool has_prefix_line(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(text, prefix, n) == 0)
		return true;
	for (const char *p = strchr(text, '\n'); p != NULL;
	     p = strchr(p + 1, '\n'))
		if (strncmp(p + 1, prefix, n) == 0)
			return true;
	return false;
}

#define assert_line(text, line)                                             \
	do {                                                                \
		if (!has_line((text), (line)))                              \
			fail_msg("no line '%s' in the report:\n%s", (line), \
				 (text));                                   \
	} while (0)

#define assert_no_line_starting(text, prefix)                             \
	do {                                                              \
		if (has_prefix_line((text), (prefix)))                    \
			fail_msg("a line starts '%s' in the report:\n%s", \
				 (prefix), (text));                       \
	} while (0)

/* The lines every mission capture must give, whatever its framing. */
static void assert_mission(const char *text, int family, unsigned extra)
{
	char line[256];

	snprintf(line, sizeof(line),
		 "packets: read=%u decided=510 skipped=%u (not-ip=0 "
		 "outgoing=%u not-udp53=0 fragments=0)",
		 510 + extra, extra, extra);
	assert_line(text, line);
	assert_line(text, "time: 2024-05-01 10:00:00.000000000 .. 2024-05-01 "
			  "10:00:09.980000000 UTC, 9.980 s, 0 timestamps out "
			  "of order");
	assert_line(text, "rule any-abuse: matched=500 accepted=5 dropped=495 "
			  "would-drop=0 held-down=0 total-refused=0");
	assert_line(text, "episodes: limited=1 held=0 released=0 running=1");
	assert_line(text, "top sources by refused queries:");
	assert_line(text, family == 4 ? "   1 198.51.100.66/32 any-abuse 495"
				      : "   1 2001:db8:66::/56 any-abuse 495");
	assert_no_line_starting(text, "   2 ");
	assert_line(text, "totals: queries=510 accepted=15 dropped=495 "
			  "malformed=0 allowed=0 evicted=0 evicted-limited=0");
	/* the legitimate source's A queries pass untouched */
	assert_line(text, "accept: within-limit=5 allow-listed=0 "
			  "no-drop-rule=10 not-query=0 malformed=0");
	assert_line(text, "drop: rule=495 malformed=0 fragments=0");
	assert_no_line_starting(text, "stopped:");
}

static const struct link links[] = {
	{"ethernet", DLT_EN10MB, 0, false},
	{"ethernet, microsecond file", DLT_EN10MB, 0, true},
	{"ethernet, 802.1Q tag", DLT_EN10MB, 1, false},
	{"ethernet, 802.1ad + 802.1Q tags", DLT_EN10MB, 2, false},
	{"linux cooked v1", DLT_LINUX_SLL, 0, false},
	{"linux cooked v2", DLT_LINUX_SLL2, 0, false},
	{"raw ip", DLT_RAW, 0, false},
	{"ipv4 / ipv6", -1, 0, false},
	{"bsd loopback, host order", DLT_NULL, 0, false},
	{"bsd loopback, big-endian", DLT_LOOP, 0, false},
};

static void mission_on_every_link(int family)
{
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		struct capture c;
		char err[ERR_LEN], head[128], *text;
		const char *name;

		cap_open(&c, &links[i], family);
		cap_mission(&c, family == 4 ? ABUSER4 : ABUSER6,
			    family == 4 ? LEGIT4 : LEGIT6);
		cap_close(&c);
		print_message("link: %s, IPv%d\n", links[i].name, family);
		assert_int_equal(run(mission_conf, c.path, &text, err), 0);
		assert_string_equal(err, "");
		name = pcap_datalink_val_to_name(link_dlt(&links[i], family));
		snprintf(head, sizeof(head), "capture: %s (link type %s)",
			 c.path, name);
		assert_line(text, head);
		assert_mission(text, family, 0);
		free(text);
		unlink(c.path);
	}
}

/* 50 ANY/s for 10 s under 2/5s: 5 accepted, 495 dropped, on any link. */
static void test_mission_ipv4(void **state)
{
	(void)state;
	mission_on_every_link(4);
}

static void test_mission_ipv6(void **state)
{
	(void)state;
	mission_on_every_link(6);
}

/*
 * The table follows the capture, not the file: with table-size
 * 134217728 (4 GiB of slots) the mission's 510 packets replay the same,
 * and the process stays small.
 */
static void test_table_sized_to_capture(void **state)
{
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	char conf[512], err[ERR_LEN], *text;
	struct capture c;
	struct rusage ru;

	(void)state;
	cap_open(&c, &eth, 4);
	cap_mission(&c, ABUSER4, LEGIT4);
	cap_close(&c);
	/* the mission's file with its table-size line replaced */
	snprintf(conf, sizeof(conf), "table-size 134217728\n%s",
		 strchr(mission_conf, '\n') + 1);
	assert_int_equal(run(conf, c.path, &text, err), 0);
	assert_mission(text, 4, 0);
	free(text);
	unlink(c.path);
	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	print_message("peak RSS %ld kB\n", ru.ru_maxrss);
	assert_true(ru.ru_maxrss < 256 * 1024);
}

/* Frames a cooked capture marks as sent by the resolver are not queued. */
static void test_cooked_outgoing(void **state)
{
	static const struct link cooked[] = {
		{"linux cooked v1", DLT_LINUX_SLL, 0, false},
		{"linux cooked v2", DLT_LINUX_SLL2, 0, false},
	};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct capture c;
		char err[ERR_LEN], *text;
		uint8_t ip[FRAME_MAX];
		size_t len = pkt_query_from(ip, ABUSER4, "big.example", T_ANY);

		cap_open(&c, &cooked[i], 4);
		/* decided, these would spend the abuser's burst */
		for (int k = 0; k < 3; k++)
			cap_ip(&c, T0, ip, len, true);
		cap_mission(&c, ABUSER4, LEGIT4);
		cap_close(&c);
		print_message("link: %s\n", cooked[i].name);
		assert_int_equal(run(mission_conf, c.path, &text, err), 0);
		assert_mission(text, 4, 3);
		free(text);
		unlink(c.path);
	}
}

/* pcapng is written in the writer's byte order; the SHB's magic says it. */
static void ne32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void pcapng_block(FILE *f, uint32_t type, const uint8_t *body,
			 size_t len)
{
	uint8_t head[8], tail[4], pad[4] = {0};
	size_t padded = (len + 3) & ~(size_t)3;

	ne32(head, type);
	ne32(head + 4, (uint32_t)(12 + padded));
	ne32(tail, (uint32_t)(12 + padded));
	assert_int_equal(fwrite(head, 1, 8, f), 8);
	assert_int_equal(fwrite(body, 1, len, f), len);
	assert_int_equal(fwrite(pad, 1, padded - len, f), padded - len);
	assert_int_equal(fwrite(tail, 1, 4, f), 4);
}

/* An Enhanced Packet Block with a query from src, at t ns. */
static void pcapng_query(FILE *f, const struct capture *c, uint64_t t,
			 const char *src, uint16_t qtype)
{
	uint8_t epb[20 + FRAME_MAX], ip[FRAME_MAX];
	size_t len = pkt_query_from(ip, src, "big.example", qtype);
	size_t flen = frame_wrap(c, ip, len, false, epb + 20);

	ne32(epb, 0); /* interface 0 */
	ne32(epb + 4, (uint32_t)(t >> 32));
	ne32(epb + 8, (uint32_t)t);
	ne32(epb + 12, (uint32_t)flen);
	ne32(epb + 16, (uint32_t)flen);
	pcapng_block(f, 6, epb, 20 + flen);
}

/* The mission's traffic as pcapng, nanosecond timestamps (if_tsresol 9). */
static void write_pcapng(const char *path)
{
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	uint16_t linktype = DLT_EN10MB;
	uint8_t shb[16], idb[20];
	struct capture c; /* for frame_wrap only */
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	memset(&c, 0, sizeof(c));
	c.link = eth;
	c.family = 4;

	ne32(shb, 0x1a2b3c4d);		    /* byte-order magic */
	memset(shb + 8, 0xff, 8);	    /* section length unknown */
	memcpy(shb + 4, &(uint16_t){1}, 2); /* major */
	memcpy(shb + 6, &(uint16_t){0}, 2); /* minor */
	pcapng_block(f, 0x0a0d0d0a, shb, sizeof(shb));

	memset(idb, 0, sizeof(idb));
	memcpy(idb, &linktype, 2);
	ne32(idb + 4, 65535);		     /* snaplen */
	memcpy(idb + 8, &(uint16_t){9}, 2);  /* option if_tsresol */
	memcpy(idb + 10, &(uint16_t){1}, 2); /* of one byte: */
	idb[12] = 9;			     /* 10^-9 s */
	/* idb[16..20): opt_endofopt */
	pcapng_block(f, 1, idb, sizeof(idb));

	for (unsigned i = 0; i < 500; i++) {
		pcapng_query(f, &c, T0 + i * 20 * MS, ABUSER4, T_ANY);
		if (i % 50 == 0)
			pcapng_query(f, &c, T0 + i * 20 * MS, LEGIT4, T_A);
	}
	assert_int_equal(fclose(f), 0);
}

static void test_pcapng(void **state)
{
	char path[64], err[ERR_LEN], head[128], *text;

	(void)state;
	temp_path(path, sizeof(path));
	write_pcapng(path);
	assert_int_equal(run(mission_conf, path, &text, err), 0);
	snprintf(head, sizeof(head), "capture: %s (link type EN10MB)", path);
	assert_line(text, head);
	assert_mission(text, 4, 0);
	free(text);
	unlink(path);
}

/* A log rule before the enforcing one: its would-drops, exactly. */
static void test_shadow_rule(void **state)
{
	static const char conf[] = "table-size 4096\n"
				   "rule candidate {\n"
				   "\tqtype ANY\n"
				   "\tlimit 1/1h\n"
				   "\taction log\n"
				   "}\n"
				   "rule any-abuse {\n"
				   "\tqtype ANY\n"
				   "\tlimit 2/5s\n"
				   "}\n";
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	struct capture c;
	char err[ERR_LEN], *text;

	(void)state;
	cap_open(&c, &eth, 4);
	cap_mission(&c, ABUSER4, LEGIT4);
	cap_close(&c);
	assert_int_equal(run(conf, c.path, &text, err), 0);
	assert_line(text, "rule candidate: matched=500 accepted=1 dropped=0 "
			  "would-drop=499 held-down=0 total-refused=0");
	assert_line(text, "rule any-abuse: matched=500 accepted=5 dropped=495 "
			  "would-drop=0 held-down=0 total-refused=0");
	assert_line(text, "episodes: limited=2 held=0 released=0 running=2");
	assert_line(text, "   1 198.51.100.66/32 candidate 499");
	assert_line(text, "   2 198.51.100.66/32 any-abuse 495");
	assert_no_line_starting(text, "   3 ");
	/* the shadow rule's accepts decide nothing */
	assert_line(text, "accept: within-limit=5 allow-listed=0 "
			  "no-drop-rule=10 not-query=0 malformed=0");
	assert_line(text, "drop: rule=495 malformed=0 fragments=0");
	free(text);
	unlink(c.path);
}

/* An allow-listed source is never refused, however much it sends. */
static void test_allow_list(void **state)
{
	static const char conf[] = "table-size 4096\n"
				   "allow 198.51.100.0/24 2001:db8:66::/48\n"
				   "rule any-abuse {\n"
				   "\tqtype ANY\n"
				   "\tlimit 2/5s\n"
				   "}\n";
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	struct capture c;
	char err[ERR_LEN], *text;

	(void)state;
	cap_open(&c, &eth, 4);
	for (unsigned i = 0; i < 500; i++) {
		cap_query(&c, T0 + i * 20 * MS, ABUSER4, T_ANY);
		cap_query(&c, T0 + i * 20 * MS, ABUSER6, T_ANY);
		cap_query(&c, T0 + i * 20 * MS, "203.0.113.7", T_ANY);
	}
	cap_close(&c);
	assert_int_equal(run(conf, c.path, &text, err), 0);
	assert_line(text, "rule any-abuse: matched=500 accepted=5 dropped=495 "
			  "would-drop=0 held-down=0 total-refused=0");
	assert_line(text, "   1 203.0.113.7/32 any-abuse 495");
	assert_no_line_starting(text, "   2 ");
	assert_line(text, "totals: queries=1500 accepted=1005 dropped=495 "
			  "malformed=0 allowed=1000 evicted=0 "
			  "evicted-limited=0");
	assert_line(text, "accept: within-limit=5 allow-listed=1000 "
			  "no-drop-rule=0 not-query=0 malformed=0");
	free(text);
	unlink(c.path);
}

/* Writes one of each kind of packet the replay must not decide, and
 * those it must. */
static void cap_mixed(struct capture *c)
{
	uint8_t ip[FRAME_MAX], f[FRAME_MAX], dns[300];
	size_t len, dlen = pkt_dns_query(dns, 7, "big.example", T_ANY);
	uint64_t t = T0;

	/* an ARP frame */
	memset(f, 0, 42);
	pkt_put16(f + 12, 0x0806);
	cap_frame(c, t, f, 42);
	/* three VLAN tags are one too many */
	len = pkt_query_from(ip, ABUSER4, "big.example", T_ANY);
	memset(f, 0, 12);
	for (int i = 0; i < 3; i++) {
		pkt_put16(f + 12 + 4 * i, 0x8100);
		pkt_put16(f + 14 + 4 * i, 42);
	}
	pkt_put16(f + 24, 0x0800);
	memcpy(f + 26, ip, len);
	cap_frame(c, t, f, 26 + len);
	/* an IPv6 packet under the IPv4 ethertype */
	len = pkt_query_from(ip, ABUSER6, "big.example", T_ANY);
	memset(f, 0, 12);
	pkt_put16(f + 12, 0x0800);
	memcpy(f + 14, ip, len);
	cap_frame(c, t, f, 14 + len);

	/* TCP to port 53 */
	len = pkt_query_from(ip, ABUSER4, "big.example", T_ANY);
	ip[9] = 6;
	cap_ip(c, t, ip, len, false);
	/* UDP to port 123, and a reply from port 53 to a client (decided
	 * by the answer path: no answer, as QR is 0) */
	len = pkt_ipv4_udp(ip, ABUSER4, "198.51.100.1", 40000, 123, dns, dlen);
	cap_ip(c, t, ip, len, false);
	len = pkt_ipv4_udp(ip, "198.51.100.1", ABUSER4, 53, 40000, dns, dlen);
	cap_ip(c, t, ip, len, false);

	/* an IPv4 "first fragment" (a whole query with MF set: 37 octets of
	 * data, not a multiple of 8, so no fragment of a datagram) and an
	 * IPv6 first fragment, whose datagram never completes */
	len = pkt_query_from(ip, ABUSER4, "big.example", T_ANY);
	ip[6] = 0x20; /* MF */
	cap_ip(c, t, ip, len, false);
	memset(ip, 0, 56);
	ip[0] = 0x60;
	pkt_put16(ip + 4, 16);
	ip[6] = 44; /* fragment header */
	ip[7] = 64;
	inet_pton(AF_INET6, ABUSER6, ip + 8);
	ip[40] = 17;
	pkt_put16(ip + 42, 1); /* offset 0, more fragments */
	cap_ip(c, t, ip, 56, false);

	/* a UDP length past the end of the IP packet */
	len = pkt_query_from(ip, ABUSER4, "big.example", T_ANY);
	pkt_put16(ip + 24, 200);
	cap_ip(c, t, ip, len, false);
	/* a query whose UDP header lies past the daemon's copy range, behind
	 * a 480-byte destination options header */
	memset(ip, 0, 528);
	ip[0] = 0x60;
	pkt_put16(ip + 4, (uint16_t)(480 + 8 + dlen));
	ip[6] = 60; /* destination options */
	ip[7] = 64;
	inet_pton(AF_INET6, ABUSER6, ip + 8);
	inet_pton(AF_INET6, "2001:db8:1::1", ip + 24);
	ip[40] = 17;
	ip[41] = 480 / 8 - 1;
	pkt_put16(ip + 520, 40000);
	pkt_put16(ip + 522, 53);
	pkt_put16(ip + 524, (uint16_t)(8 + dlen));
	memcpy(ip + 528, dns, dlen);
	cap_ip(c, t, ip, 528 + dlen, false);

	/* decided: two ANY queries, a response and a payload that does not
	 * parse, all to port 53 */
	cap_query(c, t, ABUSER4, T_ANY);
	cap_query(c, t, ABUSER6, T_ANY);
	dns[2] |= 0x80; /* QR */
	len = pkt_ipv4_udp(ip, ABUSER4, "198.51.100.1", 40000, 53, dns, dlen);
	cap_ip(c, t, ip, len, false);
	len = pkt_ipv4_udp(ip, ABUSER4, "198.51.100.1", 40000, 53, dns, 5);
	cap_ip(c, t, ip, len, false);
}

static void test_skipped(void **state)
{
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	static const char *const settings[] = {"accept", "drop"};
	struct capture c;

	(void)state;
	cap_open(&c, &eth, 4);
	cap_mixed(&c);
	cap_close(&c);
	for (int i = 0; i < 2; i++) {
		char conf[256], err[ERR_LEN], *text;

		snprintf(conf, sizeof(conf), "malformed %s\n%s", settings[i],
			 mission_conf);
		assert_int_equal(run(conf, c.path, &text, err), 0);
		/* decided: the two ANY queries, the ANY behind 480 octets of
		 * destination options, the response, the payload that does
		 * not parse and the UDP length past the end (both by the
		 * malformed setting); the reply from port 53 is queued by no
		 * rule (the policy has no answer rule); both fragments go to the
		 * reassembly and never complete (the IPv4 one cut to 32
		 * octets of data, as the kernel cuts it).  (Before the
		 * replay read answers and reassembled, the reply was
		 * not-udp53, and so was the IPv6 first fragment, by its
		 * port 0.) */
		assert_line(text, "packets: read=14 decided=6 skipped=8 "
				  "(not-ip=3 outgoing=0 not-udp53=2 "
				  "fragments=2 answers-in=0 unqueued=1) "
				  "reassembled=0 "
				  "datagrams=0 dropped=0 (duplicate=0 "
				  "overlap=0 bad=0 timeout=0 no-room=0) "
				  "incomplete=2 held=2");
		assert_no_line_starting(text, "answers:");
		assert_line(text, "rule any-abuse: matched=3 accepted=3 "
				  "dropped=0 would-drop=0 held-down=0 "
				  "total-refused=0");
		assert_line(text, "   none");
		if (i == 0) {
			assert_line(text, "totals: queries=3 accepted=6 "
					  "dropped=0 malformed=2 allowed=0 "
					  "evicted=0 evicted-limited=0");
			assert_line(text, "accept: within-limit=3 "
					  "allow-listed=0 no-drop-rule=0 "
					  "not-query=1 malformed=2");
			assert_line(text,
				    "drop: rule=0 malformed=0 fragments=0");
		} else {
			assert_line(text, "totals: queries=3 accepted=4 "
					  "dropped=2 malformed=2 allowed=0 "
					  "evicted=0 evicted-limited=0");
			assert_line(text, "accept: within-limit=3 "
					  "allow-listed=0 no-drop-rule=0 "
					  "not-query=1 malformed=0");
			assert_line(text,
				    "drop: rule=0 malformed=2 fragments=0");
		}
		free(text);
	}
	unlink(c.path);
}

/* The capture's clock drives the buckets: 24 ANY at one per 2.5 s are
 * all accepted, the same 24 at once are not. */
static void test_timestamps_honoured(void **state)
{
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	char err[ERR_LEN], *text;
	struct capture c;

	(void)state;
	cap_open(&c, &eth, 4);
	for (unsigned i = 0; i < 24; i++)
		cap_query(&c, T0 + i * 2500 * MS, ABUSER4, T_ANY);
	cap_close(&c);
	assert_int_equal(run(mission_conf, c.path, &text, err), 0);
	assert_line(text, "time: 2024-05-01 10:00:00.000000000 .. 2024-05-01 "
			  "10:00:57.500000000 UTC, 57.500 s, 0 timestamps out "
			  "of order");
	assert_line(text, "rule any-abuse: matched=24 accepted=24 dropped=0 "
			  "would-drop=0 held-down=0 total-refused=0");
	assert_line(text, "   none");
	free(text);
	unlink(c.path);

	cap_open(&c, &eth, 4);
	for (unsigned i = 0; i < 24; i++)
		cap_query(&c, T0, ABUSER4, T_ANY);
	cap_close(&c);
	assert_int_equal(run(mission_conf, c.path, &text, err), 0);
	assert_line(text, "rule any-abuse: matched=24 accepted=2 dropped=22 "
			  "would-drop=0 held-down=0 total-refused=0");
	assert_line(text, "   1 198.51.100.66/32 any-abuse 22");
	free(text);
	unlink(c.path);
}

/* A timestamp before the last one counts as the last one. */
static void test_timestamps_backwards(void **state)
{
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	static const uint64_t at[] = {0, 0, 5 * SEC, 1 * SEC, 2 * SEC};
	char err[ERR_LEN], *text;
	struct capture c;

	(void)state;
	cap_open(&c, &eth, 4);
	for (size_t i = 0; i < 5; i++)
		cap_query(&c, T0 + at[i], ABUSER4, T_ANY);
	cap_close(&c);
	assert_int_equal(run(mission_conf, c.path, &text, err), 0);
	assert_line(text, "time: 2024-05-01 10:00:00.000000000 .. 2024-05-01 "
			  "10:00:05.000000000 UTC, 5.000 s, 2 timestamps out "
			  "of order");
	/* at 1 s and 2 s as read, the fourth would be dropped too */
	assert_line(text, "rule any-abuse: matched=5 accepted=4 dropped=1 "
			  "would-drop=0 held-down=0 total-refused=0");
	free(text);
	unlink(c.path);
}

/*
 * The sweep ends an episode once its source has been quiet for a period,
 * while the capture goes on, and so frees its slot: in a table of 16
 * slots, 100 new sources after it evict 84 others, not 85.
 */
static void test_sweep_ends_episodes(void **state)
{
	static const char conf[] = "table-size 16\n"
				   "rule any-abuse {\n"
				   "\tqtype ANY\n"
				   "\tlimit 2/5s\n"
				   "}\n";
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	char err[ERR_LEN], *text, src[32];
	struct capture c;

	(void)state;
	cap_open(&c, &eth, 4);
	for (unsigned i = 0; i < 10; i++)
		cap_query(&c, T0, ABUSER4, T_ANY);
	/* the clock goes on; A queries take no slot */
	for (unsigned i = 0; i <= 16; i++)
		cap_query(&c, T0 + i * 500 * MS, LEGIT4, T_A);
	for (unsigned i = 1; i <= 100; i++) {
		snprintf(src, sizeof(src), "198.18.0.%u", i);
		cap_query(&c, T0 + 8 * SEC, src, T_ANY);
	}
	cap_close(&c);
	assert_int_equal(run(conf, c.path, &text, err), 0);
	assert_line(text, "episodes: limited=1 held=0 released=1 running=0");
	assert_line(text, "   1 198.51.100.66/32 any-abuse 8");
	assert_line(text, "totals: queries=127 accepted=119 dropped=8 "
			  "malformed=0 allowed=0 evicted=84 evicted-limited=0");
	free(text);
	unlink(c.path);
}

/* Episodes that ended before the capture did are not running. */
static void test_episodes_end_with_capture(void **state)
{
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	char err[ERR_LEN], *text;
	struct capture c;

	(void)state;
	cap_open(&c, &eth, 4);
	for (unsigned i = 0; i < 10; i++)
		cap_query(&c, T0, ABUSER4, T_ANY);
	for (unsigned i = 0; i < 10; i++)
		cap_query(&c, T0, "203.0.113.7", T_ANY);
	/* a period later: two tokens, then a drop that opens an episode */
	for (unsigned i = 0; i < 3; i++)
		cap_query(&c, T0 + 5 * SEC, "203.0.113.7", T_ANY);
	cap_close(&c);
	assert_int_equal(run(mission_conf, c.path, &text, err), 0);
	assert_line(text, "episodes: limited=3 held=0 released=2 running=1");
	assert_line(text, "   1 203.0.113.7/32 any-abuse 9");
	assert_line(text, "   2 198.51.100.66/32 any-abuse 8");
	free(text);
	unlink(c.path);
}

/*
 * Silences: episodes end across a gap of 3 days and across one of 30
 * days, longer than the limiter's millisecond clock compares; a source
 * coming back starts a new episode, not a hold-down.
 */
static void test_sweep_across_silence(void **state)
{
	static const char conf[] = "table-size 4096\n"
				   "rule any-abuse {\n"
				   "\tqtype ANY\n"
				   "\tlimit 2/5s\n"
				   "\thold-down 10m\n"
				   "}\n";
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	static const uint64_t gaps[] = {3 * DAY, 30 * DAY};

	(void)state;
	for (size_t g = 0; g < 2; g++) {
		char err[ERR_LEN], *text;
		struct capture c;

		cap_open(&c, &eth, 4);
		for (unsigned i = 0; i < 10; i++)
			cap_query(&c, T0 + i * MS, ABUSER4, T_ANY);
		for (unsigned i = 0; i < 10; i++)
			cap_query(&c, T0 + gaps[g] + i * MS, ABUSER4, T_ANY);
		cap_close(&c);
		print_message("gap: %" PRIu64 " days\n", gaps[g] / DAY);
		assert_int_equal(run(conf, c.path, &text, err), 0);
		assert_line(text, "rule any-abuse: matched=20 accepted=4 "
				  "dropped=16 would-drop=0 held-down=0 "
				  "total-refused=0");
		assert_line(text, "episodes: limited=2 held=0 released=1 "
				  "running=1");
		assert_line(text, "   1 198.51.100.66/32 any-abuse 16");
		free(text);
		unlink(c.path);
	}
}

/* Hold-downs count in the source's refusals and in held-down. */
static void test_hold_down(void **state)
{
	static const char conf[] = "table-size 4096\n"
				   "rule any-abuse {\n"
				   "\tqtype ANY\n"
				   "\tlimit 2/5s\n"
				   "\thold-down 1m\n"
				   "}\n";
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	char err[ERR_LEN], *text;
	struct capture c;

	(void)state;
	cap_open(&c, &eth, 4);
	cap_mission(&c, ABUSER4, LEGIT4);
	cap_close(&c);
	assert_int_equal(run(conf, c.path, &text, err), 0);
	/*
	 * Drops from 40 ms; at 5.04 s, a whole period after the first, the
	 * hold-down starts, and every query after it is refused: the
	 * tokens of 2.5 s and 5 s are given, the one of 7.5 s is not.
	 */
	assert_line(text, "rule any-abuse: matched=500 accepted=4 dropped=496 "
			  "would-drop=0 held-down=247 total-refused=0");
	assert_line(text, "episodes: limited=1 held=1 released=0 running=1");
	assert_line(text, "   1 198.51.100.66/32 any-abuse 496");
	free(text);
	unlink(c.path);
}

/* A cut file: an error naming it, and the report of what came before. */
static void test_truncated(void **state)
{
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	uint8_t ip[FRAME_MAX];
	/* the last record: header, Ethernet, IPv4 query */
	off_t last = 16 + 14 +
		     (off_t)pkt_query_from(ip, ABUSER4, "big.example", T_ANY);
	const off_t cuts[] = {10, last - 7};
	const char *const why[] = {"captured bytes", "header bytes"};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		char err[ERR_LEN], *text;
		struct capture c;
		struct stat st;

		cap_open(&c, &eth, 4);
		cap_mission(&c, ABUSER4, LEGIT4);
		cap_close(&c);
		assert_int_equal(stat(c.path, &st), 0);
		assert_int_equal(truncate(c.path, st.st_size - cuts[i]), 0);
		assert_int_equal(run(mission_conf, c.path, &text, err),
				 -EINVAL);
		assert_int_equal(strncmp(err, c.path, strlen(c.path)), 0);
		assert_non_null(strstr(err, "truncated"));
		assert_non_null(strstr(err, why[i]));
		assert_non_null(strstr(err, "after 509 packets"));
		assert_line(text, "packets: read=509 decided=509 skipped=0 "
				  "(not-ip=0 outgoing=0 not-udp53=0 "
				  "fragments=0)");
		assert_line(text, "rule any-abuse: matched=499 accepted=5 "
				  "dropped=494 would-drop=0 held-down=0 "
				  "total-refused=0");
		assert_line(text, "   1 198.51.100.66/32 any-abuse 494");
		assert_true(has_prefix_line(text, "stopped: after 509 packets: "
						  "truncated"));
		free(text);
		unlink(c.path);
	}
}

static void test_open_errors(void **state)
{
	char path[64], want[256], err[ERR_LEN], *text;
	static const char junk[] = "not a capture, just some text\n";
	struct capture c;
	FILE *f;

	(void)state;
	assert_int_equal(run(mission_conf, "/nonexistent/x.pcap", &text, err),
			 -ENOENT);
	assert_string_equal(err, "/nonexistent/x.pcap: No such file or "
				 "directory");
	assert_string_equal(text, "");
	free(text);

	temp_path(path, sizeof(path));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(junk, f);
	fclose(f);
	assert_int_equal(run(mission_conf, path, &text, err), -EINVAL);
	snprintf(want, sizeof(want), "%s: ", path);
	assert_int_equal(strncmp(err, want, strlen(want)), 0);
	assert_true(strlen(err) > strlen(want));
	assert_string_equal(text, "");
	free(text);
	unlink(path);

	/* 802.11 frames */
	memset(&c, 0, sizeof(c));
	temp_path(c.path, sizeof(c.path));
	c.dead = pcap_open_dead(105, 65535);
	assert_non_null(c.dead);
	c.dump = pcap_dump_open(c.dead, c.path);
	assert_non_null(c.dump);
	cap_frame(&c, T0, (const uint8_t *)junk, sizeof(junk));
	cap_close(&c);
	assert_int_equal(run(mission_conf, c.path, &text, err), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s: unknown link type 105 (IEEE802_11); replay reads "
		 "Ethernet, Linux cooked v1 and v2, raw IP and BSD loopback "
		 "captures",
		 c.path);
	assert_string_equal(err, want);
	assert_string_equal(text, "");
	free(text);
	unlink(c.path);
}

/* A report that cannot be written is an error, not a silent loss. */
static void test_write_error(void **state)
{
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	char cerr[CONFIG_ERR_MAX], err[ERR_LEN], want[128];
	struct config *cfg;
	struct capture c;
	FILE *full;

	(void)state;
	cap_open(&c, &eth, 4);
	cap_mission(&c, ABUSER4, LEGIT4);
	cap_close(&c);
	cfg = config_parse("test.conf", mission_conf, strlen(mission_conf),
			   cerr, sizeof(cerr));
	assert_non_null(cfg);
	full = fopen("/dev/full", "w");
	assert_non_null(full);
	assert_int_equal(replay_run(cfg, c.path, full, err, sizeof(err)), -EIO);
	snprintf(want, sizeof(want), "%s: the report could not be written",
		 c.path);
	assert_string_equal(err, want);
	fclose(full);
	config_free(cfg);
	unlink(c.path);
}

/* More sources than the list shows: the 20 most refused, in order. */
static void test_top_twenty(void **state)
{
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	char err[ERR_LEN], *text, src[32], line[80];
	struct capture c;

	(void)state;
	cap_open(&c, &eth, 4);
	/* source .k sends k + 2 ANY at once: k refused */
	for (unsigned k = 1; k <= 30; k++) {
		snprintf(src, sizeof(src), "203.0.113.%u", k);
		for (unsigned i = 0; i < k + 2; i++)
			cap_query(&c, T0, src, T_ANY);
	}
	cap_close(&c);
	assert_int_equal(run(mission_conf, c.path, &text, err), 0);
	for (unsigned r = 1; r <= REPLAY_TOP; r++) {
		snprintf(line, sizeof(line), "%4u 203.0.113.%u/32 any-abuse %u",
			 r, 31 - r, 31 - r);
		assert_line(text, line);
	}
	assert_no_line_starting(text, "  21 ");
	assert_line(text, "episodes: limited=30 held=0 released=0 running=30");
	free(text);
	unlink(c.path);
}

/* The report has a line that begins with prefix. */
static void assert_line_starting(const char *text, const char *prefix)
{
	const char *p = text;

	for (; p != NULL; p = strchr(p, '\n'), p = p != NULL ? p + 1 : NULL)
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			return;
	fail_msg("no line starting '%s' in the report:\n%s", prefix, text);
}

/*
 * A query-only capture under a policy of query rules: the whole report,
 * line for line, as the replay wrote it before it read answers (this text
 * is that version's output for the same capture).
 */
static void test_query_only_unchanged(void **state)
{
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	static const char body[] =
		"packets: read=510 decided=510 skipped=0 (not-ip=0 "
		"outgoing=0 not-udp53=0 fragments=0)\n"
		"time: 2024-05-01 10:00:00.000000000 .. 2024-05-01 "
		"10:00:09.980000000 UTC, 9.980 s, 0 timestamps out of order\n"
		"rule any-abuse: matched=500 accepted=5 dropped=495 "
		"would-drop=0 held-down=0 total-refused=0\n"
		"episodes: limited=1 held=0 released=0 running=1\n"
		"top sources by refused queries:\n"
		"   1 198.51.100.66/32 any-abuse 495\n"
		"totals: queries=510 accepted=15 dropped=495 malformed=0 "
		"allowed=0 evicted=0 evicted-limited=0\n"
		"accept: within-limit=5 allow-listed=0 no-drop-rule=10 "
		"not-query=0 malformed=0\n"
		"drop: rule=495 malformed=0 fragments=0\n";
	char err[ERR_LEN], want[1024], *text;
	struct capture c;

	(void)state;
	cap_open(&c, &eth, 4);
	cap_mission(&c, ABUSER4, LEGIT4);
	cap_close(&c);
	assert_int_equal(run(mission_conf, c.path, &text, err), 0);
	snprintf(want, sizeof(want), "capture: %s (link type EN10MB)\n%s",
		 c.path, body);
	assert_string_equal(text, want);
	free(text);
	unlink(c.path);
}

/* The same capture under a policy with an answer rule: the answer lines
 * come, empty. */
static void test_query_only_answer_rule(void **state)
{
	static const char conf[] = "table-size 4096\n"
				   "rule any-abuse {\n"
				   "\tqtype ANY\n"
				   "\tlimit 2/5s\n"
				   "}\n"
				   "answer-rule big {\n"
				   "\tsize 1000\n"
				   "\tbytes 4000/10s\n"
				   "}\n";
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	char err[ERR_LEN], *text;
	struct capture c;

	(void)state;
	cap_open(&c, &eth, 4);
	cap_mission(&c, ABUSER4, LEGIT4);
	cap_close(&c);
	assert_int_equal(run(conf, c.path, &text, err), 0);
	assert_line(text, "packets: read=510 decided=510 skipped=0 (not-ip=0 "
			  "outgoing=0 not-udp53=0 fragments=0 answers-in=0 "
			  "unqueued=0)");
	assert_line(text, "rule any-abuse: matched=500 accepted=5 dropped=495 "
			  "would-drop=0 held-down=0 total-refused=0");
	assert_line(text, "rule big: matched=0 accepted=0 dropped=0 "
			  "would-drop=0 held-down=0 total-refused=0 bytes=0 "
			  "bytes-refused=0 truncated=0 truncate-failed=0 "
			  "would-refuse-bytes=0");
	assert_line(text, "top destinations by refused octets:");
	assert_line(text,
		    "answers: packets=0 verdicts=0 accepted=0 dropped=0 "
		    "replaced=0 answers=0 bytes=0 not-answers=0 allowed=0 "
		    "malformed=0 fragments=0 other=0 invalid=0 cut=0 "
		    "inserted=0 reused=0 evicted=0 evicted-limited=0 id-gaps=0 "
		    "enobufs=0 nl-errors=0 internal=0 send-fail=0");
	free(text);
	unlink(c.path);
}

/* Room for a frame of the longest test datagram. */
#define BIG_FRAME (65600 + 32)

static void cap_big(struct capture *c, uint64_t t, const uint8_t *ip,
		    size_t len, bool outgoing)
{
	static uint8_t f[BIG_FRAME];

	cap_frame(c, t, f, frame_wrap(c, ip, len, outgoing, f));
}

/* An answer of len octets (IP) from port 53 to dst. */
static void cap_answer(struct capture *c, uint64_t t, const char *dst,
		       size_t len, bool outgoing)
{
	static uint8_t ip[65536];

	assert_int_equal(pkt_answer_to(ip, dst, "big.example", 16, len), len);
	cap_big(c, t, ip, len, outgoing);
}

/* Fragments of one datagram, cut by fragbuild.h. */
struct frags {
	uint8_t whole[65536];
	size_t len;
	uint8_t f[64 * FRAG_STRIDE];
	size_t flen[64];
	size_t n;
};

/*
 * The answer of len octets to dst (IP ID or fragment identification id)
 * in fragments: IPv4 at MTU 1500, IPv6 at 1280 (Unbound's).
 */
static void frag_answer(struct frags *x, const char *dst, size_t len,
			uint32_t id)
{
	x->len = pkt_answer_to(x->whole, dst, "big.example", 16, len);
	assert_int_equal(x->len, len);
	if (strchr(dst, ':') != NULL) {
		x->n = frag_ipv6(x->whole, len, 40, 6, id, 1280, x->f, x->flen,
				 64);
	} else {
		pkt_put16(x->whole + 4, (uint16_t)id);
		pkt_put16(x->whole + 10, csum_ipv4_header(x->whole, 20));
		x->n = frag_ipv4(x->whole, len, 1500, x->f, x->flen, 64);
	}
}

static void cap_frag(struct capture *c, uint64_t t, const struct frags *x,
		     size_t k, bool outgoing)
{
	cap_big(c, t, x->f + k * FRAG_STRIDE, x->flen[k], outgoing);
}

/* All the fragments, last first. */
static void cap_frags_reversed(struct capture *c, uint64_t t,
			       const struct frags *x, bool outgoing)
{
	for (size_t k = x->n; k-- > 0;)
		cap_frag(c, t, x, k, outgoing);
}

/* The report after its "capture:" and "packets:" lines. */
static const char *after_packets(const char *text)
{
	const char *p = strstr(text, "\npackets: ");

	assert_non_null(p);
	p = strchr(p + 1, '\n');
	assert_non_null(p);
	return p + 1;
}

/* The number after " key=" in the line that starts with prefix. */
static uint64_t report_field(const char *text, const char *prefix,
			     const char *key)
{
	char k[64];
	const char *line = text, *nl, *at;

	while (strncmp(line, prefix, strlen(prefix)) != 0) {
		line = strchr(line, '\n');
		if (line == NULL)
			fail_msg("no line '%s' in:\n%s", prefix, text);
		line++;
	}
	nl = strchr(line, '\n');
	snprintf(k, sizeof(k), " %s=", key);
	at = strstr(line, k);
	if (at == NULL || (nl != NULL && at > nl))
		fail_msg("no %s in the line '%s'", key, prefix);
	return strtoull(at + strlen(k), NULL, 10);
}

static const char answer_conf[] = "table-size 4096\n"
				  "answer-rule big {\n"
				  "\tsize 1000\n"
				  "\tbytes 4000/10s\n"
				  "}\n";

/*
 * Answers at one instant: under bytes 4000/10s a destination gets its
 * burst, four answers of 1000 octets (the GCRA takes one while the
 * bucket is less than its burst ahead), and no more; answers below
 * `size` pass without a charge.
 */
static void answers_at_once(int family)
{
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	const char *abuser = family == 4 ? ABUSER4 : ABUSER6;
	const char *legit = family == 4 ? LEGIT4 : LEGIT6;
	char err[ERR_LEN], line[128], *text;
	struct capture c;

	cap_open(&c, &eth, family);
	for (int i = 0; i < 10; i++)
		cap_answer(&c, T0, abuser, 1000, false);
	for (int i = 0; i < 3; i++)
		cap_answer(&c, T0, legit, 1000, false);
	for (int i = 0; i < 5; i++)
		cap_answer(&c, T0, abuser, 600, false);
	cap_close(&c);
	assert_int_equal(run(answer_conf, c.path, &text, err), 0);
	assert_line(text, "packets: read=18 decided=13 skipped=5 (not-ip=0 "
			  "outgoing=0 not-udp53=0 fragments=0 answers-in=0 "
			  "unqueued=5)");
	assert_line(text, "rule big: matched=13 accepted=7 dropped=6 "
			  "would-drop=0 held-down=0 total-refused=0 "
			  "bytes=13000 bytes-refused=6000 truncated=0 "
			  "truncate-failed=0 would-refuse-bytes=0");
	assert_line(text, "episodes: limited=1 held=0 released=0 running=1");
	assert_line(text, "top sources by refused queries:");
	assert_line(text, "top destinations by refused octets:");
	snprintf(line, sizeof(line), "   1 %s big 6000",
		 family == 4 ? "198.51.100.66/32" : "2001:db8:66::/56");
	assert_line(text, line);
	assert_no_line_starting(text, "   2 ");
	assert_line(text, "totals: queries=0 accepted=0 dropped=0 malformed=0 "
			  "allowed=0 evicted=0 evicted-limited=0");
	assert_line_starting(text,
			     "answers: packets=13 verdicts=13 accepted=7 "
			     "dropped=6 replaced=0 answers=13 bytes=13000 "
			     "not-answers=0 allowed=0 malformed=0 fragments=0 "
			     "other=0 invalid=0 cut=0 ");
	free(text);
	unlink(c.path);
}

static void test_answers_at_once_ipv4(void **state)
{
	(void)state;
	answers_at_once(4);
}

static void test_answers_at_once_ipv6(void **state)
{
	(void)state;
	answers_at_once(6);
}

/*
 * Octets a rule's total cap refused belong to no destination (as a query
 * a total refused belongs to no source): the rule line counts them, the
 * destination list does not.
 */
static void test_answers_total_cap(void **state)
{
	static const char conf[] = "table-size 4096\n"
				   "answer-rule big {\n"
				   "\tsize 1000\n"
				   "\tbytes 100k/10s\n"
				   "\ttotal-bytes 4000/10s\n"
				   "}\n";
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	char err[ERR_LEN], *text;
	struct capture c;

	(void)state;
	cap_open(&c, &eth, 4);
	for (int i = 0; i < 10; i++)
		cap_answer(&c, T0, i % 2 ? ABUSER4 : LEGIT4, 1000, false);
	cap_close(&c);
	assert_int_equal(run(conf, c.path, &text, err), 0);
	assert_line(text, "rule big: matched=10 accepted=4 dropped=6 "
			  "would-drop=0 held-down=0 total-refused=6 "
			  "bytes=10000 bytes-refused=6000 truncated=0 "
			  "truncate-failed=0 would-refuse-bytes=0");
	assert_line(text, "top destinations by refused octets:");
	assert_line(text, "   none");
	assert_no_line_starting(text, "   1 ");
	free(text);
	unlink(c.path);
}

/*
 * A flood of 1200-octet answers, one every 100 ms for 10 s, under bytes
 * B=4000 per 10 s (a rate of 400 octets a second), with a shadow rule of
 * the same limit in front.  The rule's promise: over T seconds a
 * destination gets at most B + rate x T plus one answer.  With the
 * demand above the rate to the end (the last answer refused), the GCRA
 * also gives it more than B - 1 + rate x T: so what passes is the one
 * multiple of 1200 in (B - 1 + rate x T, B - 1 + rate x T + 1200], T
 * being 9.9 s from the first answer to the last.
 */
static void test_answers_promise(void **state)
{
	static const char conf[] = "table-size 4096\n"
				   "answer-rule shadow {\n"
				   "\tsize 1000\n"
				   "\tbytes 4000/10s\n"
				   "\taction log\n"
				   "}\n"
				   "answer-rule big {\n"
				   "\tsize 1000\n"
				   "\tbytes 4000/10s\n"
				   "}\n";
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	const uint64_t n = 100, len = 1200, burst = 4000, rate = 400;
	const uint64_t lo = burst - 1 + rate * 99 / 10; /* T = 9.9 s */
	const uint64_t passed = (lo / len + 1) * len;
	const uint64_t refused = n * len - passed;
	char err[ERR_LEN], line[128], *text;
	struct capture c;

	(void)state;
	assert_true(passed <= burst + rate * 99 / 10 + len);
	cap_open(&c, &eth, 4);
	for (uint64_t i = 0; i < n; i++)
		cap_answer(&c, T0 + i * 100 * MS, ABUSER4, len, false);
	cap_close(&c);
	assert_int_equal(run(conf, c.path, &text, err), 0);
	print_message("passed %" PRIu64 " of %" PRIu64 " octets\n", passed,
		      n * len);
	assert_int_equal(report_field(text, "rule big:", "bytes"), n * len);
	assert_int_equal(report_field(text, "rule big:", "bytes-refused"),
			 refused);
	assert_int_equal(report_field(text, "rule big:", "dropped"),
			 refused / len);
	assert_int_equal(report_field(text,
				      "rule shadow:", "would-refuse-bytes"),
			 refused);
	assert_int_equal(report_field(text, "rule shadow:", "bytes-refused"),
			 0);
	/* equal octets: the rule that comes first in the file first */
	snprintf(line, sizeof(line), "   1 198.51.100.66/32 shadow %" PRIu64,
		 refused);
	assert_line(text, line);
	snprintf(line, sizeof(line), "   2 198.51.100.66/32 big %" PRIu64,
		 refused);
	assert_line(text, line);
	assert_int_equal(report_field(text, "answers:", "bytes"), n * len);
	free(text);
	unlink(c.path);
}

/* The report of a capture, with its capture and packets lines apart. */
static char *replay_text(const char *conf, const char *path)
{
	char err[ERR_LEN], *text;

	assert_int_equal(run(conf, path, &text, err), 0);
	assert_string_equal(err, "");
	unlink(path);
	return text;
}

static const char trunc_conf[] = "table-size 4096\n"
				 "answer-rule big {\n"
				 "\tsize 1000\n"
				 "\tbytes 20k/10s\n"
				 "\taction truncate\n"
				 "}\n";

/*
 * 4000-octet answers to two destinations, captured whole and captured as
 * the wire carries them, in fragments (IPv4 at MTU 1500: 3; IPv6 at
 * 1280: 4), last fragment first and the two destinations' fragments
 * interleaved: the fragments are judged as the whole answers were, with
 * their whole length, and truncated as they were (a reassembled datagram
 * that did not read as the answer could not be rewritten).
 */
static void fragmented_like_whole(int family)
{
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	static struct frags a, b;
	const char *abuser = family == 4 ? ABUSER4 : ABUSER6;
	const char *legit = family == 4 ? LEGIT4 : LEGIT6;
	size_t per = family == 4 ? 3 : 4;
	char line[256], *whole, *frag;
	struct capture c;

	cap_open(&c, &eth, family);
	for (unsigned i = 0; i < 20; i++) {
		cap_answer(&c, T0 + i * 50 * MS, abuser, 4000, false);
		if (i % 10 == 0)
			cap_answer(&c, T0 + i * 50 * MS, legit, 4000, false);
	}
	cap_close(&c);
	whole = replay_text(trunc_conf, c.path);

	cap_open(&c, &eth, family);
	for (unsigned i = 0; i < 20; i++) {
		uint64_t t = T0 + i * 50 * MS;

		frag_answer(&a, abuser, 4000, 1000 + i);
		assert_int_equal(a.n, per);
		if (i % 10 != 0) {
			cap_frags_reversed(&c, t, &a, false);
			continue;
		}
		frag_answer(&b, legit, 4000, 1000 + i);
		for (size_t k = per; k-- > 0;) {
			cap_frag(&c, t, &a, k, false);
			cap_frag(&c, t, &b, k, false);
		}
	}
	cap_close(&c);
	frag = replay_text(trunc_conf, c.path);

	snprintf(line, sizeof(line),
		 "packets: read=%zu decided=22 skipped=%zu (not-ip=0 "
		 "outgoing=0 not-udp53=0 fragments=%zu answers-in=0 "
		 "unqueued=0) "
		 "reassembled=%zu datagrams=22 dropped=0 (duplicate=0 "
		 "overlap=0 bad=0 "
		 "timeout=0 no-room=0) incomplete=0 held=0",
		 22 * per, 22 * per, 22 * per, 22 * per);
	assert_line(frag, line);
	assert_string_equal(after_packets(frag), after_packets(whole));
	assert_int_equal(report_field(frag, "rule big:", "bytes"), 22 * 4000);
	assert_true(report_field(frag, "rule big:", "truncated") > 0);
	assert_int_equal(report_field(frag, "rule big:", "truncate-failed"), 0);
	free(whole);
	free(frag);
}

static void test_fragmented_answers_ipv4(void **state)
{
	(void)state;
	fragmented_like_whole(4);
}

static void test_fragmented_answers_ipv6(void **state)
{
	(void)state;
	fragmented_like_whole(6);
}

/*
 * The ways a fragmented answer is lost: a repeated fragment (dropped
 * alone), one overlapping another (its datagram dropped), one cut short
 * by the capture, a last fragment that never came, fragments that wait
 * past 30 s.  Only the two answers that came whole again are judged,
 * exactly as the same two captured whole.
 */
static void test_fragment_losses(void **state)
{
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	static struct frags x;
	static uint8_t f[FRAG_STRIDE];
	struct capture c;
	char *whole, *frag;

	(void)state;
	cap_open(&c, &eth, 4);
	cap_answer(&c, T0, ABUSER4, 4000, false);
	cap_answer(&c, T0, ABUSER4, 4000, false);
	cap_close(&c);
	whole = replay_text(trunc_conf, c.path);

	cap_open(&c, &eth, 4);
	/* 1: whole again; 2: with a fragment repeated */
	frag_answer(&x, ABUSER4, 4000, 1);
	cap_frags_reversed(&c, T0, &x, false);
	frag_answer(&x, ABUSER4, 4000, 2);
	cap_frag(&c, T0, &x, 0, false);
	cap_frag(&c, T0, &x, 0, false);
	cap_frag(&c, T0, &x, 1, false);
	cap_frag(&c, T0, &x, 2, false);
	/* 3: the second fragment 8 octets into the first; the third then
	 * waits for a datagram that never completes, and times out */
	frag_answer(&x, ABUSER4, 4000, 3);
	cap_frag(&c, T0, &x, 0, false);
	memcpy(f, x.f + FRAG_STRIDE, x.flen[1]);
	pkt_put16(f + 6, (uint16_t)(pkt_get16(f + 6) - 1));
	pkt_put16(f + 10, csum_ipv4_header(f, 20));
	cap_big(&c, T0, f, x.flen[1], false);
	cap_frag(&c, T0, &x, 2, false);
	/* 5: two fragments at 10 s ... */
	frag_answer(&x, ABUSER4, 4000, 5);
	cap_frag(&c, T0 + 10 * SEC, &x, 0, false);
	cap_frag(&c, T0 + 10 * SEC, &x, 1, false);
	/* 4: no last fragment, and a copy of the first cut by the capture */
	frag_answer(&x, ABUSER4, 4000, 4);
	cap_frag(&c, T0 + 20 * SEC, &x, 0, false);
	cap_frag(&c, T0 + 20 * SEC, &x, 1, false);
	cap_big(&c, T0 + 20 * SEC, x.f, x.flen[0] - 10, false);
	/* ... 5: and its last 35 s after them */
	frag_answer(&x, ABUSER4, 4000, 5);
	cap_frag(&c, T0 + 45 * SEC, &x, 2, false);
	cap_close(&c);
	frag = replay_text(trunc_conf, c.path);

	/* 16 fragments: 6 reassembled, 1 repeated, 2 dropped with the
	 * overlap, 1 cut, 3 timed out
	 * (at 45 s: answer 3's third and answer 5's first two), 3 held at
	 * the end (answer 4's two, answer 5's last) */
	assert_line(frag, "packets: read=16 decided=2 skipped=16 (not-ip=0 "
			  "outgoing=0 not-udp53=0 fragments=16 answers-in=0 "
			  "unqueued=0) "
			  "reassembled=6 datagrams=2 dropped=7 (duplicate=1 "
			  "overlap=2 bad=1 timeout=3 no-room=0) incomplete=2 "
			  "held=3");
	assert_string_equal(strstr(frag, "\nrule big: "),
			    strstr(whole, "\nrule big: "));
	assert_int_equal(report_field(frag, "rule big:", "bytes"), 8000);
	free(whole);
	free(frag);
}

/* A query of len octets (IP) for big.example from src, fragmented at mtu
 * (IPv6: identification id). */
static void frag_query(struct frags *x, const char *src, uint16_t qtype,
		       size_t mtu, uint32_t id)
{
	x->len = pkt_query_from(x->whole, src, "big.example", qtype);
	if (strchr(src, ':') != NULL) {
		x->n = frag_ipv6(x->whole, x->len, 40, 6, id, mtu, x->f,
				 x->flen, 64);
	} else {
		pkt_put16(x->whole + 4, (uint16_t)id);
		x->n = frag_ipv4(x->whole, x->len, mtu, x->f, x->flen, 64);
	}
	assert_int_equal(x->n, 2);
}

/*
 * Queries that come fragmented (the mission's, each in two fragments)
 * are decided whole, as the kernel hands them over after reassembly:
 * the same verdicts as the mission captured whole.
 */
static void fragmented_queries(int family)
{
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	static struct frags x;
	const char *abuser = family == 4 ? ABUSER4 : ABUSER6;
	const char *legit = family == 4 ? LEGIT4 : LEGIT6;
	/* 24 octets of data in the first fragment */
	size_t mtu = family == 4 ? 20 + 24 : 40 + 8 + 24;
	char err[ERR_LEN], *text;
	struct capture c;

	cap_open(&c, &eth, family);
	for (unsigned i = 0; i < 500; i++) {
		frag_query(&x, abuser, T_ANY, mtu, i);
		cap_frags_reversed(&c, T0 + i * 20 * MS, &x, false);
		if (i % 50 == 0) {
			frag_query(&x, legit, T_A, mtu, 1000 + i);
			cap_frags_reversed(&c, T0 + i * 20 * MS, &x, false);
		}
	}
	cap_close(&c);
	assert_int_equal(run(mission_conf, c.path, &text, err), 0);
	assert_line(text, "packets: read=1020 decided=510 skipped=1020 "
			  "(not-ip=0 outgoing=0 not-udp53=0 fragments=1020) "
			  "reassembled=1020 datagrams=510 dropped=0 "
			  "(duplicate=0 overlap=0 bad=0 timeout=0 "
			  "no-room=0) "
			  "incomplete=0 held=0");
	/* the mission's lines past the packets line */
	assert_line(text, "rule any-abuse: matched=500 accepted=5 dropped=495 "
			  "would-drop=0 held-down=0 total-refused=0");
	assert_line(text, family == 4 ? "   1 198.51.100.66/32 any-abuse 495"
				      : "   1 2001:db8:66::/56 any-abuse 495");
	assert_line(text, "totals: queries=510 accepted=15 dropped=495 "
			  "malformed=0 allowed=0 evicted=0 evicted-limited=0");
	assert_line(text, "drop: rule=495 malformed=0 fragments=0");
	assert_no_line_starting(text, "answers:");
	free(text);
	unlink(c.path);
}

static void test_fragmented_queries_ipv4(void **state)
{
	(void)state;
	fragmented_queries(4);
}

static void test_fragmented_queries_ipv6(void **state)
{
	(void)state;
	fragmented_queries(6);
}

/*
 * Linux cooked captures say which way a packet went: the resolver's
 * answers (sent, from port 53) are judged, fragmented or not; its own
 * queries upstream (sent, to port 53) are not, nor the answers it
 * receives from upstream (from port 53, received, fragmented or not);
 * the queries it receives are.
 */
static void test_cooked_answers(void **state)
{
	static const struct link cooked[] = {
		{"linux cooked v1", DLT_LINUX_SLL, 0, false},
		{"linux cooked v2", DLT_LINUX_SLL2, 0, false},
	};
	static struct frags x;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		char err[ERR_LEN], *text;
		struct capture c;

		cap_open(&c, &cooked[i], 4);
		for (int k = 0; k < 8; k++)
			cap_answer(&c, T0, ABUSER4, 1000, true);
		frag_answer(&x, ABUSER4, 4000, 77);
		cap_frags_reversed(&c, T0, &x, true);
		for (int k = 0; k < 3; k++)
			cap_query(&c, T0, ABUSER4, T_ANY);
		/* the resolver asking upstream, and its answers */
		for (int k = 0; k < 2; k++) {
			uint8_t ip[FRAME_MAX];

			cap_ip(&c, T0, ip,
			       pkt_query_from(ip, "198.51.100.1", "big.example",
					      T_ANY),
			       true);
			cap_answer(&c, T0, "198.51.100.1", 1000, false);
		}
		/* an upstream answer big enough to come in fragments */
		frag_answer(&x, "198.51.100.1", 4000, 78);
		cap_frags_reversed(&c, T0, &x, false);
		cap_close(&c);
		print_message("link: %s\n", cooked[i].name);
		assert_int_equal(run(answer_conf, c.path, &text, err), 0);
		/* read + datagrams made whole = decided + skipped */
		assert_line(text, "packets: read=21 decided=12 skipped=11 "
				  "(not-ip=0 outgoing=2 not-udp53=0 "
				  "fragments=6 answers-in=3 unqueued=0) "
				  "reassembled=6 "
				  "datagrams=2 dropped=0 (duplicate=0 "
				  "overlap=0 bad=0 "
				  "timeout=0 no-room=0) incomplete=0 held=0");
		/* 4 of the 1000-octet answers fill the burst: the rest and
		 * the 4000-octet one are refused */
		assert_line(text, "rule big: matched=9 accepted=4 dropped=5 "
				  "would-drop=0 held-down=0 total-refused=0 "
				  "bytes=12000 bytes-refused=8000 "
				  "truncated=0 truncate-failed=0 "
				  "would-refuse-bytes=0");
		assert_line(text, "   1 198.51.100.66/32 big 8000");
		assert_line(text, "totals: queries=3 accepted=3 dropped=0 "
				  "malformed=0 allowed=0 evicted=0 "
				  "evicted-limited=0");
		assert_line_starting(text,
				     "answers: packets=9 verdicts=9 accepted=4 "
				     "dropped=5 replaced=0 answers=9 "
				     "bytes=12000 not-answers=0 allowed=0 "
				     "malformed=0 fragments=0 other=0 "
				     "invalid=0 cut=0 ");
		free(text);
		unlink(c.path);
	}
}

/*
 * The real capture of tests/data (make-answer-fragments.sh: Unbound's
 * TXT answers in fragments at MTU 1280, three to 198.51.100.66 and three
 * to 2001:db8:2:1::1, dig's message sizes beside it).  Every answer is
 * judged whole: its octets are dig's size and the IP and UDP headers.  A
 * log rule of 5000 octets an hour lets each destination have answers
 * until it is past 5000 (the GCRA takes one while the bucket is less than
 * its burst ahead: two of 4 KB) and would refuse the third; a rule of
 * 100k lets all through.  The small answer is under the size: unqueued.
 */
static void test_real_capture(void **state)
{
	static const char conf[] = "table-size 4096\n"
				   "answer-rule shadow {\n"
				   "\tsize 1000\n"
				   "\tbytes 5000/1h\n"
				   "\taction log\n"
				   "}\n"
				   "answer-rule big {\n"
				   "\tsize 1000\n"
				   "\tbytes 100k/10s\n"
				   "\taction truncate\n"
				   "}\n";
	char err[ERR_LEN], line[256], *text;
	uint64_t v4 = 0, v6 = 0;
	unsigned fam, size;
	int n = 0;
	FILE *f;

	(void)state;
	f = fopen("tests/data/answer-fragments.sizes", "r");
	assert_non_null(f);
	while (fscanf(f, "%u %u", &fam, &size) == 2) {
		/* the third of each family is the one refused */
		if (fam == 4)
			v4 = 20 + 8 + size;
		else
			v6 = 40 + 8 + size;
		n++;
	}
	fclose(f);
	assert_int_equal(n, 6);
	assert_int_equal(
		run(conf, "tests/data/answer-fragments.pcap", &text, err), 0);
	assert_line(text, "packets: read=32 decided=13 skipped=25 (not-ip=0 "
			  "outgoing=0 not-udp53=0 fragments=24 answers-in=0 "
			  "unqueued=1) reassembled=24 datagrams=6 dropped=0 "
			  "(duplicate=0 overlap=0 bad=0 timeout=0 no-room=0) "
			  "incomplete=0 held=0");
	snprintf(line, sizeof(line),
		 "rule shadow: matched=6 accepted=4 dropped=0 would-drop=2 "
		 "held-down=0 total-refused=0 bytes=%" PRIu64
		 " bytes-refused=0 truncated=0 truncate-failed=0 "
		 "would-refuse-bytes=%" PRIu64,
		 3 * v4 + 3 * v6, v4 + v6);
	assert_line(text, line);
	snprintf(line, sizeof(line),
		 "rule big: matched=6 accepted=6 dropped=0 would-drop=0 "
		 "held-down=0 total-refused=0 bytes=%" PRIu64
		 " bytes-refused=0 truncated=0 truncate-failed=0 "
		 "would-refuse-bytes=0",
		 3 * v4 + 3 * v6);
	assert_line(text, line);
	snprintf(line, sizeof(line), "   1 2001:db8:2::/56 shadow %" PRIu64,
		 v6);
	assert_line(text, line);
	snprintf(line, sizeof(line), "   2 198.51.100.66/32 shadow %" PRIu64,
		 v4);
	assert_line(text, line);
	assert_line(text, "totals: queries=7 accepted=7 dropped=0 malformed=0 "
			  "allowed=0 evicted=0 evicted-limited=0");
	snprintf(line, sizeof(line),
		 "answers: packets=6 verdicts=6 accepted=6 dropped=0 "
		 "replaced=0 answers=6 bytes=%" PRIu64 " not-answers=0 ",
		 3 * v4 + 3 * v6);
	assert_line_starting(text, line);
	free(text);
}

/*
 * What the daemon's kernel rules never queue is not decided: with `serve
 * 198.51.100.64/26` (IPv4 only, so IPv6 is judged whole), queries from
 * and answers to 198.51.100.10 are unqueued, those of 198.51.100.66 and
 * of IPv6 are judged; so are answers of the smallest size and more, and
 * not one octet less.
 */
static void test_unqueued(void **state)
{
	static const char conf[] = "table-size 4096\n"
				   "serve 198.51.100.64/26\n"
				   "rule any-abuse {\n"
				   "\tqtype ANY\n"
				   "\tlimit 2/5s\n"
				   "}\n"
				   "answer-rule big {\n"
				   "\tsize 1000\n"
				   "\tbytes 4000/10s\n"
				   "}\n"
				   "answer-rule bigger {\n"
				   "\tsize 1200\n"
				   "\tbytes 4000/10s\n"
				   "}\n";
	static const struct link raw = {"raw", DLT_RAW, 0, false};
	char err[ERR_LEN], *text;
	struct capture c;

	(void)state;
	cap_open(&c, &raw, 4);
	for (int i = 0; i < 3; i++) {
		cap_query(&c, T0, ABUSER4, T_ANY);
		cap_query(&c, T0, LEGIT4, T_ANY);
		cap_query(&c, T0, ABUSER6, T_ANY);
	}
	for (int i = 0; i < 5; i++) {
		cap_answer(&c, T0, ABUSER4, 1000, false);
		cap_answer(&c, T0, ABUSER4, 999, false);
		cap_answer(&c, T0, LEGIT4, 1000, false);
		cap_answer(&c, T0, ABUSER6, 1000, false);
	}
	cap_close(&c);
	assert_int_equal(run(conf, c.path, &text, err), 0);
	assert_line(text, "packets: read=29 decided=16 skipped=13 (not-ip=0 "
			  "outgoing=0 not-udp53=0 fragments=0 answers-in=0 "
			  "unqueued=13)");
	assert_line(text, "rule any-abuse: matched=6 accepted=4 dropped=2 "
			  "would-drop=0 held-down=0 total-refused=0");
	/* four of 1000 octets fill each destination's 4000 */
	assert_line(text, "rule big: matched=10 accepted=8 dropped=2 "
			  "would-drop=0 held-down=0 total-refused=0 "
			  "bytes=10000 bytes-refused=2000 truncated=0 "
			  "truncate-failed=0 would-refuse-bytes=0");
	assert_line(text, "totals: queries=6 accepted=4 dropped=2 malformed=0 "
			  "allowed=0 evicted=0 evicted-limited=0");
	assert_line_starting(text, "answers: packets=10 verdicts=10 accepted=8 "
				   "dropped=2 replaced=0 answers=10 "
				   "bytes=10000 ");
	free(text);
	unlink(c.path);
}

/*
 * Between port 53 and port 53, and with no direction recorded, the QR
 * bit says which path.  An answer the capture cut short (to 186 octets of
 * its 1500, below the rule's size) is judged at its own length, as the
 * daemon saw it whole, and counted as cut.
 */
static void test_port53_both_and_cut(void **state)
{
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	static uint8_t ip[2000];
	char err[ERR_LEN], *text;
	struct capture c;
	struct pcap_pkthdr h;
	static uint8_t f[2100];
	size_t len, flen;

	(void)state;
	cap_open(&c, &eth, 4);
	len = pkt_answer_to(ip, ABUSER4, "big.example", 16, 1500);
	pkt_put16(ip + 22, 53); /* to port 53 too */
	cap_big(&c, T0, ip, len, false);
	len = pkt_query_from(ip, ABUSER4, "big.example", T_ANY);
	pkt_put16(ip + 20, 53); /* from port 53 too */
	cap_ip(&c, T0, ip, len, false);
	/* 1500 octets on the wire, 186 of them captured */
	len = pkt_answer_to(ip, ABUSER4, "big.example", 16, 1500);
	flen = frame_wrap(&c, ip, len, false, f);
	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)(T0 / SEC);
	h.caplen = (bpf_u_int32)(14 + 186);
	h.len = (bpf_u_int32)flen;
	pcap_dump((u_char *)c.dump, &h, f);
	cap_close(&c);
	assert_int_equal(run(answer_conf, c.path, &text, err), 0);
	assert_line(text, "packets: read=3 decided=3 skipped=0 (not-ip=0 "
			  "outgoing=0 not-udp53=0 fragments=0 answers-in=0 "
			  "unqueued=0)");
	assert_line(text, "rule big: matched=2 accepted=2 dropped=0 "
			  "would-drop=0 held-down=0 total-refused=0 "
			  "bytes=3000 bytes-refused=0 truncated=0 "
			  "truncate-failed=0 would-refuse-bytes=0");
	assert_line(text, "totals: queries=1 accepted=1 dropped=0 malformed=0 "
			  "allowed=0 evicted=0 evicted-limited=0");
	assert_line_starting(text, "answers: packets=2 verdicts=2 accepted=2 "
				   "dropped=0 replaced=0 answers=2 bytes=3000 "
				   "not-answers=0 allowed=0 malformed=0 "
				   "fragments=0 other=0 invalid=0 cut=1 ");
	free(text);
	unlink(c.path);
}

/*
 * The longest answer a header can claim, cut by the capture to 200
 * octets: an IPv6 payload length of 65535 is judged at 65575 octets, its
 * missing ones as zeros.
 */
static void test_cut_longest(void **state)
{
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	static uint8_t ip[2000], f[2100];
	char err[ERR_LEN], *text;
	struct pcap_pkthdr h;
	struct capture c;
	size_t len, flen;

	(void)state;
	cap_open(&c, &eth, 6);
	len = pkt_answer_to(ip, ABUSER6, "big.example", 16, 1500);
	pkt_put16(ip + 4, 65535);
	pkt_put16(ip + 44, 65535);
	flen = frame_wrap(&c, ip, len, false, f);
	memset(&h, 0, sizeof(h));
	h.ts.tv_sec = (time_t)(T0 / SEC);
	h.caplen = 14 + 200;
	h.len = (bpf_u_int32)(14 + 40 + 65535);
	pcap_dump((u_char *)c.dump, &h, f);
	cap_close(&c);
	(void)flen;
	assert_int_equal(run(answer_conf, c.path, &text, err), 0);
	assert_line_starting(text, "answers: packets=1 verdicts=1 accepted=1 "
				   "dropped=0 replaced=0 answers=1 "
				   "bytes=65575 not-answers=0 allowed=0 "
				   "malformed=0 fragments=0 other=0 invalid=0 "
				   "cut=1 ");
	free(text);
	unlink(c.path);
}

/*
 * The capture filter README.md gives for answers keeps every fragment of
 * an answer (non-first ones carry no UDP header), and the queries and
 * whole answers; libpcap's own compiler is the judge.
 */
static void test_capture_filter(void **state)
{
	static const char filter[] =
		"udp port 53 or (ip[6:2] & 0x1fff != 0) or ip6[6] = 44";
	static const struct link links_f[] = {
		{"ethernet", DLT_EN10MB, 0, false},
		{"linux cooked v1", DLT_LINUX_SLL, 0, false},
		{"linux cooked v2", DLT_LINUX_SLL2, 0, false},
	};
	static struct frags x;

	(void)state;
	for (size_t l = 0; l < 3; l++) {
		for (int family = 4; family <= 6; family += 2) {
			static uint8_t f[BIG_FRAME], ip[FRAME_MAX];
			struct bpf_program prog;
			struct pcap_pkthdr h;
			struct capture c;
			pcap_t *dead;
			size_t n;

			memset(&c, 0, sizeof(c));
			c.link = links_f[l];
			c.family = family;
			dead = pcap_open_dead(links_f[l].dlt, 65535);
			assert_non_null(dead);
			assert_int_equal(pcap_compile(dead, &prog, filter, 1,
						      PCAP_NETMASK_UNKNOWN),
					 0);
			memset(&h, 0, sizeof(h));
			frag_answer(&x, family == 4 ? ABUSER4 : ABUSER6, 4000,
				    9);
			for (size_t k = 0; k < x.n; k++) {
				n = frame_wrap(&c, x.f + k * FRAG_STRIDE,
					       x.flen[k], false, f);
				h.caplen = h.len = (bpf_u_int32)n;
				assert_true(pcap_offline_filter(&prog, &h, f));
			}
			n = frame_wrap(&c, x.whole, x.len, false, f);
			h.caplen = h.len = (bpf_u_int32)n;
			assert_true(pcap_offline_filter(&prog, &h, f));
			n = pkt_query_from(ip, family == 4 ? ABUSER4 : ABUSER6,
					   "big.example", T_ANY);
			n = frame_wrap(&c, ip, n, false, f);
			h.caplen = h.len = (bpf_u_int32)n;
			assert_true(pcap_offline_filter(&prog, &h, f));
			/* and not NTP */
			n = family == 4
				    ? pkt_ipv4_udp(ip, ABUSER4, "198.51.100.1",
						   40000, 123, ip + 200, 48)
				    : pkt_ipv6_udp(ip, ABUSER6, "2001:db8:1::1",
						   40000, 123, ip + 200, 48);
			n = frame_wrap(&c, ip, n, false, f);
			h.caplen = h.len = (bpf_u_int32)n;
			assert_false(pcap_offline_filter(&prog, &h, f));
			pcap_freecode(&prog);
			pcap_close(dead);
		}
	}
}

/*
 * README.md's filter for one interface, where the capture records no
 * direction: the resolver's (198.51.100.1) answers and their fragments,
 * the queries it receives, and not its own queries upstream nor their
 * answers.
 */
static void test_capture_filter_one_interface(void **state)
{
	static const char filter[] =
		"(udp dst port 53 and not src host 198.51.100.1) or "
		"(src host 198.51.100.1 and (udp src port 53 or "
		"ip[6:2] & 0x1fff != 0))";
	static const struct link eth = {"ethernet", DLT_EN10MB, 0, false};
	static uint8_t f[BIG_FRAME], ip[FRAME_MAX], dns[300];
	static struct frags x;
	struct bpf_program prog;
	struct pcap_pkthdr h;
	struct capture c;
	pcap_t *dead;
	size_t n, dlen = pkt_dns_query(dns, 1, "big.example", T_ANY);

	(void)state;
	memset(&c, 0, sizeof(c));
	c.link = eth;
	c.family = 4;
	dead = pcap_open_dead(DLT_EN10MB, 65535);
	assert_non_null(dead);
	assert_int_equal(
		pcap_compile(dead, &prog, filter, 1, PCAP_NETMASK_UNKNOWN), 0);
	memset(&h, 0, sizeof(h));
	frag_answer(&x, ABUSER4, 4000, 9);
	for (size_t k = 0; k < x.n; k++) {
		n = frame_wrap(&c, x.f + k * FRAG_STRIDE, x.flen[k], false, f);
		h.caplen = h.len = (bpf_u_int32)n;
		assert_true(pcap_offline_filter(&prog, &h, f));
	}
	n = frame_wrap(&c, ip, pkt_query_from(ip, ABUSER4, "big.example", 1),
		       false, f);
	h.caplen = h.len = (bpf_u_int32)n;
	assert_true(pcap_offline_filter(&prog, &h, f));
	/* the resolver asking upstream, and the answer it gets */
	n = pkt_ipv4_udp(ip, "198.51.100.1", "203.0.113.53", 40000, 53, dns,
			 dlen);
	n = frame_wrap(&c, ip, n, false, f);
	h.caplen = h.len = (bpf_u_int32)n;
	assert_false(pcap_offline_filter(&prog, &h, f));
	dns[2] |= 0x80;
	n = pkt_ipv4_udp(ip, "203.0.113.53", "198.51.100.1", 53, 40000, dns,
			 dlen);
	n = frame_wrap(&c, ip, n, false, f);
	h.caplen = h.len = (bpf_u_int32)n;
	assert_false(pcap_offline_filter(&prog, &h, f));
	pcap_freecode(&prog);
	pcap_close(dead);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mission_ipv4),
		cmocka_unit_test(test_table_sized_to_capture),
		cmocka_unit_test(test_mission_ipv6),
		cmocka_unit_test(test_cooked_outgoing),
		cmocka_unit_test(test_pcapng),
		cmocka_unit_test(test_shadow_rule),
		cmocka_unit_test(test_allow_list),
		cmocka_unit_test(test_skipped),
		cmocka_unit_test(test_timestamps_honoured),
		cmocka_unit_test(test_timestamps_backwards),
		cmocka_unit_test(test_sweep_ends_episodes),
		cmocka_unit_test(test_episodes_end_with_capture),
		cmocka_unit_test(test_sweep_across_silence),
		cmocka_unit_test(test_hold_down),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_top_twenty),
		cmocka_unit_test(test_query_only_unchanged),
		cmocka_unit_test(test_query_only_answer_rule),
		cmocka_unit_test(test_answers_at_once_ipv4),
		cmocka_unit_test(test_answers_at_once_ipv6),
		cmocka_unit_test(test_answers_promise),
		cmocka_unit_test(test_answers_total_cap),
		cmocka_unit_test(test_fragmented_answers_ipv4),
		cmocka_unit_test(test_fragmented_answers_ipv6),
		cmocka_unit_test(test_fragment_losses),
		cmocka_unit_test(test_fragmented_queries_ipv4),
		cmocka_unit_test(test_fragmented_queries_ipv6),
		cmocka_unit_test(test_cooked_answers),
		cmocka_unit_test(test_real_capture),
		cmocka_unit_test(test_unqueued),
		cmocka_unit_test(test_port53_both_and_cut),
		cmocka_unit_test(test_cut_longest),
		cmocka_unit_test(test_capture_filter),
		cmocka_unit_test(test_capture_filter_one_interface),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
