/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * replace_probe QUEUE PAYLOAD_HEX COUNT SECONDS [bad-csum] [gather]: the
 * real kernel's side of the queue's QUEUE_REPLACE, for t_replace.sh.
 *
 * Binds NFQUEUE queue QUEUE through the queue module (queue_open,
 * queue_process: the verdict path dnsrl uses) and answers each UDP packet
 * it receives, IPv4 or IPv6 without extension headers, not a fragment,
 * with QUEUE_REPLACE: the same IP header (IPv4 options included) and
 * ports, the UDP payload replaced by the octets PAYLOAD_HEX gives, the IP
 * and UDP lengths, the IPv4 header checksum and the UDP checksum computed
 * anew (include/csum.h).  With bad-csum the UDP checksum written is wrong
 * on purpose (the negative control: a receiver must discard the packet).
 * Any other packet is accepted as it is and counted as skipped.  With
 * gather it reads nothing until the kernel holds COUNT packets on the
 * queue (/proc/net/netfilter/nfnetlink_queue), so that up to QUEUE_BATCH
 * of them come in one receive and are answered in one send.
 *
 * Prints "ready queue=N" once bound, and on exit, after COUNT packets or
 * SECONDS seconds, one line: "packets=N replaced=N ipv4=N ipv6=N
 * skipped=N batches=N send-fail=N nl-errors=N internal=N".  Exits 0, or
 * 1 on an error (usage, the queue cannot be bound, the socket fails).
 * Needs CAP_NET_ADMIN.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "csum.h"
#include "queue.h"
#include "stats.h"
#include "wire.h"

#define IPV4_CSUM 10 /* the header checksum in the IPv4 header */
#define IPPROTO_UDP_NUM 17
#define MAX_SECONDS 600
#define MAX_COUNT 1000000
#define GRACE_MS 200 /* after the last packet, for an error reply */
#define GATHER_STEP_MS 10
/* room for a whole gathered batch of 64 KB packets' messages */
#define MAXLEN 1024
#define RCVBUF (16 * 1024 * 1024)
/*
 * The longest payload that fits in a replacement at all (IPv4 without
 * options); a packet whose headers leave less room is skipped.
 */
#define PAYLOAD_MAX (QUEUE_REPLACE_MAX - WIRE_IPV4_HDR_MIN - WIRE_UDP_HDR)

struct probe {
	uint8_t payload[PAYLOAD_MAX];
	size_t payload_len;
	bool bad_csum;
	uint64_t replaced, ipv4, ipv6, skipped;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The UDP checksum to write: the right one, or one sure to be wrong. */
static uint16_t udp_csum(const struct probe *p, uint16_t right)
{
	if (!p->bad_csum)
		return right;
	/* neither the right value nor 0 (IPv4: "no checksum") */
	return right == 0x1111 ? 0x2222 : 0x1111;
}

/*
 * Writes the UDP header (the ports of udp_in) and the payload at udp;
 * returns the UDP length.
 */
static size_t put_udp(const struct probe *p, uint8_t *udp,
		      const uint8_t *udp_in)
{
	size_t ulen = WIRE_UDP_HDR + p->payload_len;

	memcpy(udp, udp_in, 4); /* source and destination ports */
	put16(udp + WIRE_UDP_LEN, (uint16_t)ulen);
	put16(udp + WIRE_UDP_CSUM, 0);
	memcpy(udp + WIRE_UDP_HDR, p->payload, p->payload_len);
	return ulen;
}

/* IPv4: returns the new packet's length, or 0 when it is not for us. */
static size_t rebuild4(const struct probe *p, const uint8_t *pkt, size_t len,
		       uint8_t *out, size_t room)
{
	size_t hl, ulen;

	if (len < WIRE_IPV4_HDR_MIN)
		return 0;
	hl = (size_t)(pkt[0] & 0x0f) * 4;
	if (hl < WIRE_IPV4_HDR_MIN || len < hl + WIRE_UDP_HDR ||
	    pkt[WIRE_IPV4_PROTO] != IPPROTO_UDP_NUM ||
	    (wire_read16(pkt + WIRE_IPV4_FRAG) & WIRE_IPV4_FRAG_MASK) != 0 ||
	    hl + WIRE_UDP_HDR + p->payload_len > room)
		return 0;
	memcpy(out, pkt, hl);
	ulen = put_udp(p, out + hl, pkt + hl);
	put16(out + WIRE_IPV4_TOTAL_LEN, (uint16_t)(hl + ulen));
	put16(out + IPV4_CSUM, csum_ipv4_header(out, hl));
	put16(out + hl + WIRE_UDP_CSUM,
	      udp_csum(p, csum_udp_ipv4(out + WIRE_IPV4_SRC,
					out + WIRE_IPV4_DST, out + hl, ulen)));
	return hl + ulen;
}

/* IPv6 without extension headers: likewise. */
static size_t rebuild6(const struct probe *p, const uint8_t *pkt, size_t len,
		       uint8_t *out, size_t room)
{
	size_t ulen;

	if (len < WIRE_IPV6_HDR + WIRE_UDP_HDR ||
	    pkt[WIRE_IPV6_NEXT] != IPPROTO_UDP_NUM ||
	    WIRE_IPV6_HDR + WIRE_UDP_HDR + p->payload_len > room)
		return 0;
	memcpy(out, pkt, WIRE_IPV6_HDR);
	ulen = put_udp(p, out + WIRE_IPV6_HDR, pkt + WIRE_IPV6_HDR);
	put16(out + WIRE_IPV6_PAYLOAD_LEN, (uint16_t)ulen);
	put16(out + WIRE_IPV6_HDR + WIRE_UDP_CSUM,
	      udp_csum(p,
		       csum_udp_ipv6(out + WIRE_IPV6_SRC, out + WIRE_IPV6_DST,
				     out + WIRE_IPV6_HDR, ulen)));
	return WIRE_IPV6_HDR + ulen;
}

static enum queue_verdict decide(void *arg, const uint8_t *pkt, size_t len,
				 uint64_t now, struct queue_out *out)
{
	struct probe *p = arg;
	size_t n = 0;

	(void)now;
	if (len > 0 && pkt[0] >> 4 == 4)
		n = rebuild4(p, pkt, len, out->buf, out->room);
	else if (len > 0 && pkt[0] >> 4 == 6)
		n = rebuild6(p, pkt, len, out->buf, out->room);
	if (n == 0) {
		p->skipped++;
		return QUEUE_ACCEPT;
	}
	p->replaced++;
	if (pkt[0] >> 4 == 4)
		p->ipv4++;
	else
		p->ipv6++;
	out->len = n;
	return QUEUE_REPLACE;
}

static int parse_hex(const char *hex, uint8_t *out, size_t max, size_t *len)
{
	size_t n = strlen(hex);

	if (n == 0 || n % 2 != 0 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1 ||
		    strspn(hex + 2 * i, "0123456789abcdefABCDEF") < 2)
			return -1;
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

static int parse_num(const char *s, long max, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return errno != 0 || *end != '\0' || end == s || *v < 1 || *v > max ? -1
									    : 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits until the kernel holds count packets on queue num, or until end. */
static int gather(uint16_t num, long count, uint64_t end)
{
	const struct timespec step = {.tv_nsec = GATHER_STEP_MS * 1000000L};
	struct queue_kstats ks;
	int fd = queue_kstats_open();

	if (fd < 0)
		return fd;
	while (now_ms() < end) {
		if (queue_kstats_read(fd, num, &ks) == 0 &&
		    ks.total >= (uint32_t)count)
			break;
		nanosleep(&step, NULL);
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	static struct probe p;
	static struct stats s;
	struct queue_params qp = {.maxlen = MAXLEN,
				  .copy_range = QUEUE_COPY_RANGE,
				  .rcvbuf = RCVBUF};
	const struct queue_handler h = {decide, &p};
	long num, count, seconds;
	bool gathering = false, usage = argc < 5;
	uint64_t end;
	struct queue *q;
	int rc = 0;

	for (int i = 5; i < argc; i++) {
		if (strcmp(argv[i], "bad-csum") == 0)
			p.bad_csum = true;
		else if (strcmp(argv[i], "gather") == 0)
			gathering = true;
		else
			usage = true;
	}
	if (usage || parse_num(argv[1], UINT16_MAX, &num) < 0 ||
	    parse_hex(argv[2], p.payload, sizeof(p.payload), &p.payload_len) <
		    0 ||
	    parse_num(argv[3], MAX_COUNT, &count) < 0 ||
	    parse_num(argv[4], MAX_SECONDS, &seconds) < 0) {
		fprintf(stderr,
			"usage: replace_probe QUEUE PAYLOAD_HEX COUNT SECONDS "
			"[bad-csum] [gather]\n  (QUEUE 1..65535, payload "
			"1..%d octets, COUNT 1..%d, SECONDS 1..%d)\n",
			PAYLOAD_MAX, MAX_COUNT, MAX_SECONDS);
		return 1;
	}
	qp.num = (uint16_t)num;
	q = queue_open(&qp);
	if (q == NULL) {
		fprintf(stderr, "replace_probe: queue %ld: %s\n", num,
			strerror(errno));
		return 1;
	}
	printf("ready queue=%ld\n", num);
	fflush(stdout);
	end = now_ms() + (uint64_t)seconds * 1000;
	if (gathering) {
		rc = gather(qp.num, count, end);
		if (rc < 0)
			fprintf(stderr, "replace_probe: queue counters: %s\n",
				strerror(-rc));
	}
	while (rc == 0 && p.replaced + p.skipped < (uint64_t)count) {
		struct pollfd pfd = {.fd = queue_fd(q), .events = POLLIN};
		uint64_t t = now_ms();
		int n;

		if (t >= end)
			break;
		n = poll(&pfd, 1, (int)(end - t));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			fprintf(stderr, "replace_probe: poll: %s\n",
				strerror(errno));
			break;
		}
		/* drain what is there, as the daemon's worker does */
		while ((n = queue_process(q, &h, &s)) > 0)
			;
		if (n < 0) {
			rc = n;
			fprintf(stderr, "replace_probe: receive: %s\n",
				strerror(-n));
		}
	}
	/* a verdict the kernel refused comes back as an error: read it */
	if (rc == 0) {
		struct pollfd pfd = {.fd = queue_fd(q), .events = POLLIN};

		if (poll(&pfd, 1, GRACE_MS) > 0)
			queue_process(q, &h, &s);
	}
	printf("packets=%" PRIu64 " replaced=%" PRIu64 " ipv4=%" PRIu64
	       " ipv6=%" PRIu64 " skipped=%" PRIu64 " batches=%" PRIu64
	       " send-fail=%" PRIu64 " nl-errors=%" PRIu64 " internal=%" PRIu64
	       "\n",
	       s.c[STATS_PACKETS], p.replaced, p.ipv4, p.ipv6, p.skipped,
	       s.c[STATS_BATCHES], s.c[STATS_SEND_FAIL], s.c[STATS_NL_ERRORS],
	       s.c[STATS_INTERNAL]);
	queue_close(q);
	return rc == 0 ? 0 : 1;
}
