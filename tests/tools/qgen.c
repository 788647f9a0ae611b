/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qgen: DNS traffic for the integration tests, the demo and the benchmark,
 * in four modes: query (a paced client that counts answers), send (a raw
 * UDP payload), raw (a whole IP packet) and flood (spoofed sources through
 * a raw socket).  usage_text below lists the options.
 *
 * Each mode prints one line of key=value pairs on stdout and exits 0;
 * errors go to stderr with exit code 1.  Every mode ends by itself: counts,
 * rates and waits are range-checked so that no run exceeds about ten
 * minutes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NSEC 1000000000ULL
#define MSEC 1000000ULL

#define DNS_HDR_LEN 12
#define DNS_NAME_MAX 255
#define DNS_OPT_LEN 11
/* header, longest name, qtype and qclass, OPT */
#define DNS_QUERY_MAX (DNS_HDR_LEN + DNS_NAME_MAX + 4 + DNS_OPT_LEN)
#define UDP_HDR_LEN 8
#define IP4_HDR_LEN 20
#define IP6_HDR_LEN 40
#define PKT_MAX (IP6_HDR_LEN + UDP_HDR_LEN + DNS_QUERY_MAX)

#define MAX_RATE 2000000ULL    /* packets or queries per second */
#define MAX_SECONDS 600	       /* longest send schedule */
#define MAX_WAIT_MS 60000      /* longest wait for answers */
#define MAX_SOURCES (1U << 24) /* flood: distinct source addresses */
#define MAX_SEND_COUNT 1000000 /* send and raw: datagrams per run */
#define FLOOD_BATCH 64	       /* flood: packets per sendmmsg */
#define MIX_MAX 16	       /* flood: qtypes in a mix */
#define MIX_SUM_MAX 10000      /* flood: sum of the mix weights */
#define SOCKBUF (4 * 1024 * 1024)

enum opt {
	OPT_DST,
	OPT_SRC,
	OPT_PORT,
	OPT_QTYPE,
	OPT_QNAME,
	OPT_RATE,
	OPT_COUNT,
	OPT_EDNS,
	OPT_WAIT,
	OPT_ID_BASE,
	OPT_HEX,
	OPT_SRC_NET,
	OPT_SOURCES,
	OPT_DURATION,
	OPT_MIX,
	OPT_HELP,
	OPT_NUM
};

#define BIT(o) (1U << (o))
/* getopt_long's value for an option: clear of '?' and of 0. */
#define OPTV(o) (256 + (o))

static const struct option longopts[] = {
	{"dst", required_argument, NULL, OPTV(OPT_DST)},
	{"src", required_argument, NULL, OPTV(OPT_SRC)},
	{"port", required_argument, NULL, OPTV(OPT_PORT)},
	{"qtype", required_argument, NULL, OPTV(OPT_QTYPE)},
	{"qname", required_argument, NULL, OPTV(OPT_QNAME)},
	{"rate", required_argument, NULL, OPTV(OPT_RATE)},
	{"count", required_argument, NULL, OPTV(OPT_COUNT)},
	{"edns", required_argument, NULL, OPTV(OPT_EDNS)},
	{"wait", required_argument, NULL, OPTV(OPT_WAIT)},
	{"id-base", required_argument, NULL, OPTV(OPT_ID_BASE)},
	{"hex", required_argument, NULL, OPTV(OPT_HEX)},
	{"src-net", required_argument, NULL, OPTV(OPT_SRC_NET)},
	{"sources", required_argument, NULL, OPTV(OPT_SOURCES)},
	{"duration", required_argument, NULL, OPTV(OPT_DURATION)},
	{"mix", required_argument, NULL, OPTV(OPT_MIX)},
	{"help", no_argument, NULL, OPTV(OPT_HELP)},
	{NULL, 0, NULL, 0},
};

/* The option strings as given; each mode converts what it uses. */
struct args {
	const char *val[OPT_NUM];
};

struct mode {
	const char *name;
	int (*run)(const struct args *);
	unsigned int allowed;
	unsigned int required;
};

/* Received datagrams land here; large enough for any UDP payload. */
static uint8_t rbuf[65536];

static const char usage_text[] =
	"usage: qgen query --dst ADDR [--src ADDR] [--port P] --qtype T\n"
	"                  --qname NAME --rate R --count C [--edns SIZE|0]\n"
	"                  [--wait MS] [--id-base N]\n"
	"       qgen send  --dst ADDR [--src ADDR] [--port P] --hex HEX\n"
	"                  [--count N] [--wait MS]\n"
	"       qgen raw   --hex HEX [--count N]\n"
	"       qgen flood --dst ADDR [--port P] --src-net CIDR --sources N\n"
	"                  --rate R --duration S [--qtype T] [--qname NAME]\n"
	"                  [--mix T:W,...] [--edns SIZE|0]\n"
	"query prints: sent= answered= truncated= rcode0= bytes=\n"
	"send prints:  sent= received=\n"
	"raw prints:   sent=   (IPv4: the kernel rewrites total length and\n"
	"              header checksum, and fills a zero source and id)\n"
	"flood prints: sent= seconds=   (sources spread evenly over CIDR)\n";

/* Prints "qgen: ", the message and, unless err is 0, its text; exits 1. */
__attribute__((format(printf, 2, 0), noreturn)) static void
vdie(int err, const char *fmt, va_list ap)
{
	fputs("qgen: ", stderr);
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

/* As fatalx, with ": strerror(errno)" appended. */
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

static void sleep_until(uint64_t t)
{
	struct timespec ts = {.tv_sec = (time_t)(t / NSEC),
			      .tv_nsec = (long)(t % NSEC)};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/* A decimal integer in lo..hi, the whole string; exits otherwise. */
static uint64_t parse_uint(const char *opt, const char *s, uint64_t lo,
			   uint64_t hi)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		fatalx("--%s: expected a number, got '%s'", opt, s);
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0' || v < lo || v > hi)
		fatalx("--%s: expected %" PRIu64 "..%" PRIu64 ", got '%s'", opt,
		       lo, hi, s);
	return v;
}

/* An IPv4 or IPv6 address, told apart by its syntax. */
static socklen_t parse_addr(const char *opt, const char *s, uint16_t port,
			    struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return sizeof(*sin);
	}
	if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return sizeof(*sin6);
	}
	fatalx("--%s: not an IPv4 or IPv6 address: '%s'", opt, s);
}

static const struct {
	const char *name;
	uint16_t type;
} qtypes[] = {
	{"A", 1},      {"NS", 2},      {"CNAME", 5},  {"SOA", 6},
	{"PTR", 12},   {"HINFO", 13},  {"MX", 15},    {"TXT", 16},
	{"AAAA", 28},  {"SRV", 33},    {"DS", 43},    {"RRSIG", 46},
	{"NSEC", 47},  {"DNSKEY", 48}, {"NSEC3", 50}, {"IXFR", 251},
	{"AXFR", 252}, {"ANY", 255},   {"CAA", 257},
};

/* A qtype mnemonic or TYPEnnn; "TYPE12x" is refused, not read as 12. */
static uint16_t parse_qtype(const char *opt, const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(qtypes) / sizeof(qtypes[0]); i++)
		if (strcasecmp(s, qtypes[i].name) == 0)
			return qtypes[i].type;
	if (strncasecmp(s, "TYPE", 4) == 0 && s[4] != '\0')
		return (uint16_t)parse_uint(opt, s + 4, 0, 65535);
	fatalx("--%s: unknown type '%s' (a mnemonic or TYPEnnn)", opt, s);
}

/*
 * A dotted name in wire format.  Labels are taken literally (no escapes);
 * "." is the root.  Returns the wire length.
 */
static size_t parse_qname(const char *s, uint8_t *out)
{
	size_t len = 0;
	const char *p = s;

	if (strcmp(s, ".") == 0) {
		out[0] = 0;
		return 1;
	}
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		if (l == 0 || l > 63)
			fatalx("--qname: label of %zu octets in '%s'", l, s);
		if (len + 1 + l + 1 > DNS_NAME_MAX)
			fatalx("--qname: longer than 255 octets: '%s'", s);
		out[len++] = (uint8_t)l;
		memcpy(out + len, p, l);
		len += l;
		p += l;
		if (*p == '.')
			p++;
	}
	if (len == 0)
		fatalx("--qname: empty name");
	out[len++] = 0;
	return len;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex digits, two per octet; blanks between octets are allowed. */
static size_t parse_hex(const char *s, uint8_t *out, size_t cap)
{
	size_t len = 0;
	int hi, lo;

	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		if (*s == '\0')
			return len;
		hi = hexval(s[0]);
		lo = hi < 0 ? -1 : hexval(s[1]);
		if (lo < 0)
			fatalx("--hex: not pairs of hex digits near '%.8s'", s);
		if (len == cap)
			fatalx("--hex: longer than %zu octets", cap);
		out[len++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * A query with id 0 and RD=1; an OPT record advertising edns octets unless
 * edns is 0.  Returns the length; the qtype sits at 12 + qlen.
 */
static size_t dns_query(uint8_t *buf, const uint8_t *qname, size_t qlen,
			uint16_t qtype, unsigned int edns)
{
	size_t n = DNS_HDR_LEN;

	memset(buf, 0, DNS_HDR_LEN);
	buf[2] = 0x01; /* RD */
	put16(buf + 4, 1);
	put16(buf + 10, edns ? 1 : 0);
	memcpy(buf + n, qname, qlen);
	n += qlen;
	put16(buf + n, qtype);
	put16(buf + n + 2, 1); /* IN */
	n += 4;
	if (edns) {
		buf[n] = 0; /* root owner */
		put16(buf + n + 1, 41);
		put16(buf + n + 3, (uint16_t)edns);
		/* extended rcode, version, flags, rdlength */
		memset(buf + n + 5, 0, 6);
		n += DNS_OPT_LEN;
	}
	return n;
}

static unsigned int parse_edns(const char *s)
{
	unsigned int v;

	if (s == NULL)
		return 4096;
	v = (unsigned int)parse_uint("edns", s, 0, 65535);
	if (v != 0 && v < 512)
		fatalx("--edns: expected 0 (no OPT) or 512..65535, got '%s'",
		       s);
	return v;
}

/* A UDP socket of dst's family, bound to src when given. */
static int udp_socket(const struct args *a, struct sockaddr_storage *dst,
		      socklen_t *dstlen)
{
	struct sockaddr_storage src;
	socklen_t srclen;
	uint16_t port = 53;
	int fd, sz = SOCKBUF;

	if (a->val[OPT_PORT])
		port = (uint16_t)parse_uint("port", a->val[OPT_PORT], 1, 65535);
	*dstlen = parse_addr("dst", a->val[OPT_DST], port, dst);
	fd = socket(dst->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fatal("socket");
	/* Best effort: bursts of 4 KB answers overrun the default. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (a->val[OPT_SRC]) {
		srclen = parse_addr("src", a->val[OPT_SRC], 0, &src);
		if (src.ss_family != dst->ss_family)
			fatalx("--src and --dst are of different families");
		if (bind(fd, (struct sockaddr *)&src, srclen) < 0)
			fatal("bind %s", a->val[OPT_SRC]);
	}
	return fd;
}

static int same_peer(const struct sockaddr_storage *x,
		     const struct sockaddr_storage *y)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)x;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)y;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)x;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)y;

	if (x->ss_family != y->ss_family)
		return 0;
	if (x->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		       a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	       memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
}

/* One datagram from peer into rbuf, without blocking: length, or -1. */
static ssize_t recv_from_peer(int fd, const struct sockaddr_storage *peer)
{
	struct sockaddr_storage from;
	socklen_t fromlen;
	ssize_t n;

	for (;;) {
		fromlen = sizeof(from);
		n = recvfrom(fd, rbuf, sizeof(rbuf), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fromlen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -1;
			fatal("recvfrom");
		}
		if (same_peer(&from, peer))
			return n;
	}
}

/* Waits for fd to become readable, at most until deadline (ns). */
static void wait_readable(int fd, uint64_t deadline)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	uint64_t now = now_ns();

	if (now >= deadline)
		return;
	/* poll's millisecond is too coarse for the send schedule. */
	if (deadline - now < MSEC) {
		sleep_until(deadline);
		return;
	}
	if (poll(&pfd, 1, (int)((deadline - now) / MSEC)) < 0 && errno != EINTR)
		fatal("poll");
}

/* Sends one datagram; 0, or -1 with errno when the kernel refused it. */
static int send_one(int fd, const void *buf, size_t len,
		    const struct sockaddr_storage *dst, socklen_t dstlen)
{
	for (;;) {
		if (sendto(fd, buf, len, 0, (const struct sockaddr *)dst,
			   dstlen) >= 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

struct query_stats {
	uint64_t sent, failed, answered, truncated, rcode0, bytes;
	int last_errno;
};

/* Outstanding ids, one bit each: a query is counted once answered. */
static uint8_t outstanding[65536 / 8];

static void query_drain(int fd, const struct sockaddr_storage *dst,
			struct query_stats *st)
{
	ssize_t n;
	uint16_t id;

	while ((n = recv_from_peer(fd, dst)) >= 0) {
		if (n < DNS_HDR_LEN || !(rbuf[2] & 0x80)) /* QR */
			continue;
		id = get16(rbuf);
		if (!(outstanding[id / 8] & (1U << (id % 8))))
			continue;
		outstanding[id / 8] &= (uint8_t) ~(1U << (id % 8));
		st->answered++;
		if (rbuf[2] & 0x02) /* TC */
			st->truncated++;
		if ((rbuf[3] & 0x0f) == 0)
			st->rcode0++;
		st->bytes += (uint64_t)n;
	}
}

static int run_query(const struct args *a)
{
	struct sockaddr_storage dst;
	struct query_stats st = {0};
	uint8_t qname[DNS_NAME_MAX], q[DNS_QUERY_MAX];
	uint64_t rate, count, wait_ms, t0, t, i;
	uint16_t id_base, id;
	socklen_t dstlen;
	size_t qlen, len;
	int fd;

	rate = parse_uint("rate", a->val[OPT_RATE], 1, MAX_RATE);
	/* At most one query per id, so that every answer is attributable. */
	count = parse_uint("count", a->val[OPT_COUNT], 1, 65536);
	if (count > rate * MAX_SECONDS)
		fatalx("--count / --rate: a schedule over %d s", MAX_SECONDS);
	wait_ms = 1000;
	if (a->val[OPT_WAIT])
		wait_ms = parse_uint("wait", a->val[OPT_WAIT], 0, MAX_WAIT_MS);
	if (a->val[OPT_ID_BASE])
		id_base = (uint16_t)parse_uint("id-base", a->val[OPT_ID_BASE],
					       0, 65535);
	else if (getrandom(&id_base, sizeof(id_base), 0) != sizeof(id_base))
		fatal("getrandom");
	qlen = parse_qname(a->val[OPT_QNAME], qname);
	len = dns_query(q, qname, qlen, parse_qtype("qtype", a->val[OPT_QTYPE]),
			parse_edns(a->val[OPT_EDNS]));
	fd = udp_socket(a, &dst, &dstlen);

	/* Absolute schedule: query i leaves at t0 + i / rate. */
	t0 = now_ns();
	for (i = 0; i < count; i++) {
		t = t0 + i * NSEC / rate;
		while (now_ns() < t) {
			wait_readable(fd, t);
			query_drain(fd, &dst, &st);
		}
		id = (uint16_t)(id_base + i);
		put16(q, id);
		outstanding[id / 8] |= (uint8_t)(1U << (id % 8));
		if (send_one(fd, q, len, &dst, dstlen) < 0) {
			outstanding[id / 8] &= (uint8_t) ~(1U << (id % 8));
			st.failed++;
			st.last_errno = errno;
			continue;
		}
		st.sent++;
		query_drain(fd, &dst, &st);
	}
	t = now_ns() + wait_ms * MSEC;
	while (st.answered < st.sent && now_ns() < t) {
		wait_readable(fd, t);
		query_drain(fd, &dst, &st);
	}
	close(fd);
	if (st.failed)
		fprintf(stderr, "qgen: query: %" PRIu64 " sends failed: %s\n",
			st.failed, strerror(st.last_errno));
	printf("sent=%" PRIu64 " answered=%" PRIu64 " truncated=%" PRIu64
	       " rcode0=%" PRIu64 " bytes=%" PRIu64 "\n",
	       st.sent, st.answered, st.truncated, st.rcode0, st.bytes);
	return 0;
}

static int run_send(const struct args *a)
{
	static uint8_t payload[65507]; /* the largest UDP payload over IPv4 */
	struct sockaddr_storage dst;
	uint64_t count = 1, wait_ms = 1000, i, sent = 0, received = 0, t;
	socklen_t dstlen;
	size_t len;
	int fd, err = 0;

	if (a->val[OPT_COUNT])
		count = parse_uint("count", a->val[OPT_COUNT], 1,
				   MAX_SEND_COUNT);
	if (a->val[OPT_WAIT])
		wait_ms = parse_uint("wait", a->val[OPT_WAIT], 0, MAX_WAIT_MS);
	len = parse_hex(a->val[OPT_HEX], payload, sizeof(payload));
	fd = udp_socket(a, &dst, &dstlen);

	for (i = 0; i < count; i++) {
		if (send_one(fd, payload, len, &dst, dstlen) < 0)
			err = errno;
		else
			sent++;
		while (recv_from_peer(fd, &dst) >= 0)
			received++;
	}
	t = now_ns() + wait_ms * MSEC;
	while (now_ns() < t) {
		wait_readable(fd, t);
		while (recv_from_peer(fd, &dst) >= 0)
			received++;
	}
	close(fd);
	if (sent < count)
		fprintf(stderr, "qgen: send: %" PRIu64 " sends failed: %s\n",
			count - sent, strerror(err));
	printf("sent=%" PRIu64 " received=%" PRIu64 "\n", sent, received);
	return 0;
}

/*
 * A raw socket that takes whole IP packets: IPPROTO_RAW implies
 * IP_HDRINCL for IPv4, and on Linux takes the IPv6 header as given too.
 */
static int raw_socket(int family)
{
	int fd, sz = SOCKBUF;

	fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (fd < 0)
		fatal("raw socket");
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	return fd;
}

static int run_raw(const struct args *a)
{
	static uint8_t pkt[65535];
	struct sockaddr_storage dst;
	struct sockaddr_in *sin = (struct sockaddr_in *)&dst;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&dst;
	uint64_t count = 1, i;
	socklen_t dstlen;
	size_t len;
	int fd;

	if (a->val[OPT_COUNT])
		count = parse_uint("count", a->val[OPT_COUNT], 1,
				   MAX_SEND_COUNT);
	len = parse_hex(a->val[OPT_HEX], pkt, sizeof(pkt));
	memset(&dst, 0, sizeof(dst));
	/* The destination comes from the packet's own header. */
	if (len >= IP4_HDR_LEN && pkt[0] >> 4 == 4) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, pkt + 16, 4);
		dstlen = sizeof(*sin);
	} else if (len >= IP6_HDR_LEN && pkt[0] >> 4 == 6) {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, pkt + 24, 16);
		dstlen = sizeof(*sin6);
	} else {
		fatalx("raw: need an IPv4 (>= 20 octets) or IPv6 (>= 40) "
		       "packet, got %zu octets of version %u",
		       len, len ? pkt[0] >> 4 : 0);
	}
	fd = raw_socket(dst.ss_family);
	for (i = 0; i < count; i++)
		if (send_one(fd, pkt, len, &dst, dstlen) < 0)
			fatal("raw: send %" PRIu64 " of %" PRIu64, i + 1,
			      count);
	close(fd);
	printf("sent=%" PRIu64 "\n", count);
	return 0;
}

/* Internet checksum: the sum in 16-bit big-endian words, then folded. */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += get16(p + i);
	if (n & 1)
		sum += (uint64_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A network and how flood spreads its sources over it. */
struct srcnet {
	int family;
	uint8_t base[16];   /* host bits cleared */
	unsigned int alen;  /* 4 or 16 */
	unsigned int width; /* host bits the source index is spread over */
	unsigned int shift; /* their distance from the last bit */
	uint64_t stride;
};

/*
 * Source i of n is base + (i + 1) * stride, with stride = 2^width / (n + 1),
 * in the top 32 (or fewer) host bits: the sources spread evenly over the
 * network: with an IPv6 /40, up to 65535 sources each get a /56.  The host
 * bits below them are ::1, never the subnet-router anycast address.
 */
static void parse_srcnet(const char *s, int family, uint64_t n,
			 struct srcnet *net)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	unsigned int plen, hostbits, i;
	size_t alen;

	if (!slash || (size_t)(slash - s) >= sizeof(buf) - 1)
		fatalx("--src-net: expected ADDR/LEN, got '%s'", s);
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, buf, net->base) == 1) {
		net->family = AF_INET;
		net->alen = 4;
	} else if (inet_pton(AF_INET6, buf, net->base) == 1) {
		net->family = AF_INET6;
		net->alen = 16;
	} else {
		fatalx("--src-net: not an address: '%s'", buf);
	}
	if (net->family != family)
		fatalx("--src-net and --dst are of different families");
	alen = net->alen;
	plen = (unsigned int)parse_uint("src-net", slash + 1, 0, alen * 8);
	for (i = plen; i < alen * 8; i++)
		net->base[i / 8] &= (uint8_t) ~(0x80U >> (i % 8));
	hostbits = (unsigned int)alen * 8 - plen;
	net->width = hostbits < 32 ? hostbits : 32;
	net->shift = hostbits - net->width;
	/* A /32 or /128 holds one source: the address itself. */
	if (net->width == 0 ? n > 1 : n + 1 > 1ULL << net->width)
		fatalx("--sources %" PRIu64 ": more than %s holds", n, s);
	net->stride = (1ULL << net->width) / (n + 1);
}

static void srcnet_addr(const struct srcnet *net, uint64_t i, uint8_t *out)
{
	uint64_t v = (i + 1) * net->stride;
	unsigned int k, bit;

	memcpy(out, net->base, net->alen);
	for (k = 0; k < net->width; k++) {
		if (!(v >> k & 1))
			continue;
		bit = net->alen * 8 - 1 - (net->shift + k);
		out[bit / 8] |= (uint8_t)(0x80U >> (bit % 8));
	}
	if (net->shift > 0)
		out[net->alen - 1] |= 1;
}

/* The qtype of each packet, in exact proportions per cycle of the sum. */
struct mix {
	uint16_t slot[MIX_SUM_MAX];
	uint64_t sum, step;
};

static uint64_t gcd(uint64_t x, uint64_t y)
{
	while (y) {
		uint64_t t = x % y;

		x = y;
		y = t;
	}
	return x;
}

static void parse_mix(const char *s, struct mix *m)
{
	char item[64], *colon;
	const char *p = s, *comma;
	uint64_t w, k;
	size_t l;
	unsigned int entries = 0;
	uint16_t type;

	m->sum = 0;
	while (*p != '\0') {
		comma = strchr(p, ',');
		l = comma ? (size_t)(comma - p) : strlen(p);
		if (l == 0 || l >= sizeof(item) || ++entries > MIX_MAX)
			fatalx("--mix: expected up to %d TYPE:WEIGHT items, "
			       "got '%s'",
			       MIX_MAX, s);
		memcpy(item, p, l);
		item[l] = '\0';
		colon = strchr(item, ':');
		if (!colon)
			fatalx("--mix: '%s' is not TYPE:WEIGHT", item);
		*colon = '\0';
		type = parse_qtype("mix", item);
		w = parse_uint("mix", colon + 1, 1, MIX_SUM_MAX);
		if (m->sum + w > MIX_SUM_MAX)
			fatalx("--mix: weights add up to more than %d",
			       MIX_SUM_MAX);
		for (k = 0; k < w; k++)
			m->slot[m->sum + k] = type;
		m->sum += w;
		p += l;
		if (*p == ',')
			p++;
	}
	if (m->sum == 0)
		fatalx("--mix: empty");
	/* Walking the slots by a step prime to the sum interleaves types. */
	m->step = m->sum * 618 / 1000 + 1;
	while (gcd(m->step, m->sum) != 1)
		m->step++;
}

struct flood {
	struct srcnet net;
	struct sockaddr_storage dst;
	socklen_t dstlen;
	uint16_t port;
	uint8_t dns[DNS_QUERY_MAX];
	size_t dnslen, qtype_off;
	const struct mix *mix; /* NULL: the qtype in dns stays */
};

/* Packet seq of the flood into pkt; returns its length. */
static size_t flood_packet(const struct flood *f, uint64_t seq,
			   uint64_t sources, uint8_t *pkt)
{
	const struct sockaddr_in *d4 = (const struct sockaddr_in *)&f->dst;
	const struct sockaddr_in6 *d6 = (const struct sockaddr_in6 *)&f->dst;
	size_t iplen = f->net.family == AF_INET ? IP4_HDR_LEN : IP6_HDR_LEN;
	size_t udplen = UDP_HDR_LEN + f->dnslen;
	uint8_t *ip = pkt, *udp = pkt + iplen, *dns = udp + UDP_HDR_LEN;
	uint8_t *src;
	uint64_t sum;
	uint16_t ck;

	memcpy(dns, f->dns, f->dnslen);
	put16(dns, (uint16_t)seq);
	if (f->mix)
		put16(dns + f->qtype_off,
		      f->mix->slot[seq * f->mix->step % f->mix->sum]);
	if (f->net.family == AF_INET) {
		memset(ip, 0, IP4_HDR_LEN);
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(iplen + udplen));
		put16(ip + 4, (uint16_t)seq);
		ip[8] = 64;
		ip[9] = IPPROTO_UDP;
		src = ip + 12;
		memcpy(ip + 16, &d4->sin_addr, 4);
	} else {
		memset(ip, 0, IP6_HDR_LEN);
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)udplen);
		ip[6] = IPPROTO_UDP;
		ip[7] = 64;
		src = ip + 8;
		memcpy(ip + 24, &d6->sin6_addr, 16);
	}
	srcnet_addr(&f->net, seq % sources, src);
	/* Ephemeral-looking source ports, 1024..65535. */
	put16(udp, (uint16_t)(1024 + seq * 7919 % 64512));
	put16(udp + 2, f->port);
	put16(udp + 4, (uint16_t)udplen);
	put16(udp + 6, 0);
	/* Pseudo header: source, destination, protocol, UDP length. */
	sum = csum_add(0, src, f->net.alen);
	sum = csum_add(sum, src + f->net.alen, f->net.alen);
	sum += IPPROTO_UDP + udplen;
	ck = csum_fold(csum_add(sum, udp, udplen));
	put16(udp + 6, ck ? ck : 0xffff);
	if (f->net.family == AF_INET)
		put16(ip + 10, csum_fold(csum_add(0, ip, IP4_HDR_LEN)));
	return iplen + udplen;
}

/*
 * Sends msgs[0..n).  A packet refused for want of room, or by a firewall,
 * is skipped; returns how many were, with the last errno in *err.
 */
static uint64_t flood_send(int fd, struct mmsghdr *msgs, uint64_t n, int *err)
{
	uint64_t k = 0, failed = 0;
	int r;

	while (k < n) {
		r = sendmmsg(fd, msgs + k, (unsigned int)(n - k), 0);
		if (r > 0) {
			k += (uint64_t)r;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != ENOBUFS && errno != EAGAIN && errno != EPERM)
			fatal("flood: sendmmsg");
		*err = errno;
		failed++;
		k++;
	}
	return failed;
}

static int run_flood(const struct args *a)
{
	static uint8_t pkts[FLOOD_BATCH][PKT_MAX];
	static struct mmsghdr msgs[FLOOD_BATCH];
	static struct iovec iov[FLOOD_BATCH];
	static struct mix mix;
	static struct flood f;
	uint8_t qname[DNS_NAME_MAX];
	uint64_t rate, sources, total, batch, seq = 0, sent = 0, failed = 0;
	uint64_t t0, end, n, k;
	double duration;
	uint16_t qtype;
	char *tail;
	int fd, err = 0;

	rate = parse_uint("rate", a->val[OPT_RATE], 1, MAX_RATE);
	errno = 0;
	duration = strtod(a->val[OPT_DURATION], &tail);
	if (errno || *tail != '\0' || !(duration > 0) || duration > MAX_SECONDS)
		fatalx("--duration: expected seconds in (0, %d], got '%s'",
		       MAX_SECONDS, a->val[OPT_DURATION]);
	total = (uint64_t)((double)rate * duration + 0.5);
	if (total == 0)
		fatalx("--rate %" PRIu64 " for %s s is no packet", rate,
		       a->val[OPT_DURATION]);
	sources = parse_uint("sources", a->val[OPT_SOURCES], 1, MAX_SOURCES);
	f.port = 53;
	if (a->val[OPT_PORT])
		f.port = (uint16_t)parse_uint("port", a->val[OPT_PORT], 1,
					      65535);
	f.dstlen = parse_addr("dst", a->val[OPT_DST], 0, &f.dst);
	parse_srcnet(a->val[OPT_SRC_NET], f.dst.ss_family, sources, &f.net);
	if (a->val[OPT_MIX] && a->val[OPT_QTYPE])
		fatalx("--mix and --qtype exclude each other");
	/* The amplification case unless told otherwise. */
	n = parse_qname(a->val[OPT_QNAME] ? a->val[OPT_QNAME] : "big.example",
			qname);
	qtype = parse_qtype("qtype",
			    a->val[OPT_QTYPE] ? a->val[OPT_QTYPE] : "ANY");
	f.qtype_off = DNS_HDR_LEN + n;
	f.dnslen =
		dns_query(f.dns, qname, n, qtype, parse_edns(a->val[OPT_EDNS]));
	if (a->val[OPT_MIX]) {
		parse_mix(a->val[OPT_MIX], &mix);
		f.mix = &mix;
	}
	fd = raw_socket(f.dst.ss_family);

	/* Batches about every millisecond, smaller at low rates. */
	batch = rate / 1000;
	if (batch < 1)
		batch = 1;
	if (batch > FLOOD_BATCH)
		batch = FLOOD_BATCH;
	for (k = 0; k < batch; k++) {
		iov[k].iov_base = pkts[k];
		msgs[k].msg_hdr.msg_name = &f.dst;
		msgs[k].msg_hdr.msg_namelen = f.dstlen;
		msgs[k].msg_hdr.msg_iov = &iov[k];
		msgs[k].msg_hdr.msg_iovlen = 1;
	}
	t0 = now_ns();
	/* A machine too slow for the rate stops a second after schedule. */
	end = t0 + (uint64_t)(duration * (double)NSEC) + NSEC;
	while (seq < total && now_ns() < end) {
		/* Absolute schedule: packet seq leaves at t0 + seq / rate. */
		sleep_until(t0 + seq * NSEC / rate);
		n = total - seq < batch ? total - seq : batch;
		for (k = 0; k < n; k++)
			iov[k].iov_len =
				flood_packet(&f, seq + k, sources, pkts[k]);
		failed += flood_send(fd, msgs, n, &err);
		sent += n;
		seq += n;
	}
	sent -= failed;
	close(fd);
	if (failed)
		fprintf(stderr, "qgen: flood: %" PRIu64 " sends failed: %s\n",
			failed, strerror(err));
	if (seq < total)
		fprintf(stderr,
			"qgen: flood: behind schedule, stopped after %" PRIu64
			" of %" PRIu64 " packets\n",
			seq, total);
	printf("sent=%" PRIu64 " seconds=%.3f\n", sent,
	       (double)(now_ns() - t0) / (double)NSEC);
	return 0;
}

static const struct mode modes[] = {
	{"query", run_query,
	 BIT(OPT_DST) | BIT(OPT_SRC) | BIT(OPT_PORT) | BIT(OPT_QTYPE) |
		 BIT(OPT_QNAME) | BIT(OPT_RATE) | BIT(OPT_COUNT) |
		 BIT(OPT_EDNS) | BIT(OPT_WAIT) | BIT(OPT_ID_BASE),
	 BIT(OPT_DST) | BIT(OPT_QTYPE) | BIT(OPT_QNAME) | BIT(OPT_RATE) |
		 BIT(OPT_COUNT)},
	{"send", run_send,
	 BIT(OPT_DST) | BIT(OPT_SRC) | BIT(OPT_PORT) | BIT(OPT_HEX) |
		 BIT(OPT_COUNT) | BIT(OPT_WAIT),
	 BIT(OPT_DST) | BIT(OPT_HEX)},
	{"raw", run_raw, BIT(OPT_HEX) | BIT(OPT_COUNT), BIT(OPT_HEX)},
	{"flood", run_flood,
	 BIT(OPT_DST) | BIT(OPT_PORT) | BIT(OPT_SRC_NET) | BIT(OPT_SOURCES) |
		 BIT(OPT_RATE) | BIT(OPT_DURATION) | BIT(OPT_QTYPE) |
		 BIT(OPT_QNAME) | BIT(OPT_MIX) | BIT(OPT_EDNS),
	 BIT(OPT_DST) | BIT(OPT_SRC_NET) | BIT(OPT_SOURCES) | BIT(OPT_RATE) |
		 BIT(OPT_DURATION)},
};

__attribute__((noreturn)) static void usage(int status)
{
	fputs(usage_text, status ? stderr : stdout);
	exit(status);
}

int main(int argc, char **argv)
{
	const struct mode *m = NULL;
	struct args a = {{NULL}};
	size_t i;
	int c;

	if (argc < 2)
		usage(1);
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0)
		usage(0);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(argv[1], modes[i].name) == 0)
			m = &modes[i];
	if (m == NULL)
		fatalx("unknown mode '%s' (query, send, raw or flood)",
		       argv[1]);

	/* The mode's own options, after its name. */
	while ((c = getopt_long(argc - 1, argv + 1, "", longopts, NULL)) !=
	       -1) {
		if (c == OPTV(OPT_HELP))
			usage(0);
		if (c < OPTV(0) || c >= OPTV(OPT_NUM))
			usage(1);
		c -= OPTV(0);
		if (!(m->allowed & BIT(c)))
			fatalx("%s: --%s does not apply", m->name,
			       longopts[c].name);
		if (a.val[c])
			fatalx("%s: --%s given twice", m->name,
			       longopts[c].name);
		a.val[c] = optarg;
	}
	if (optind < argc - 1)
		fatalx("%s: unexpected argument '%s'", m->name,
		       argv[optind + 1]);
	for (c = 0; c < OPT_NUM; c++)
		if ((m->required & BIT(c)) && !a.val[c])
			fatalx("%s: --%s is required", m->name,
			       longopts[c].name);
	return m->run(&a);
}
