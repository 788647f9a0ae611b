/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Capture replay: the daemon's decision over a capture file.
 *
 * Each frame loses its link layer here; fragments are put back together
 * (defrag.c); what is left goes to policy_decide() (queries) or
 * policy_decide_answer() (answers) with the capture's own timestamp as
 * the clock, exactly as the queue workers of the two paths hand over a
 * queued packet, with a struct stats each, as each path's workers keep
 * theirs, once the kernel's queue rules (as rules.c writes them) would
 * have queued it.  The per-source (per-destination) list comes from the
 * limiter's own events (an episode's queries, or octets, refused when it
 * ends) and, at the end, from limiter_walk() for the episodes still
 * running.  Unlike the packet path this side may allocate: the list
 * grows with the capture.  The reassembler's memory is fixed at the
 * start.
 */
#include "replay.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/if_ether.h>
#include <pcap/pcap.h>
#include <pcap/sll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "defrag.h"
#include "limiter.h"
#include "packet.h"
#include "periodic.h"
#include "policy.h"
#include "queue.h"
#include "report.h"
#include "siphash.h"
#include "stats.h"
#include "wire.h"

#define NS_PER_S CLOCK_NS_PER_S
#define NS_PER_MS CLOCK_NS_PER_MS

/* Timestamps saturate here (the year 2116), far from any overflow. */
#define TIME_MAX ((uint64_t)1 << 62)

#define VLAN_TAGS_MAX 2
#define VLAN_TAG_LEN 4
#define LOOP_HDR_LEN 4
#define TALLY_MIN 1024 /* slots of the source list at first */

/* BSD loopback address families for IPv6, by system. */
#define LOOP_AF_INET 2
#define LOOP_AF_INET6_LINUX 10
#define LOOP_AF_INET6_BSD 24
#define LOOP_AF_INET6_FREEBSD 28
#define LOOP_AF_INET6_DARWIN 30

/* The longest IP datagram a header can claim: IPv6's, 40 + 65535. */
#define WHOLE_MAX (WIRE_IPV6_HDR + 65535)

/*
 * What a frame (or a datagram made whole) is; all but the first two are
 * reasons to skip it.
 */
enum frame {
	FRAME_QUERY,	 /* decided by the query path */
	FRAME_ANSWER,	 /* decided by the answer path */
	FRAME_NOT_IP,	 /* anything else, or a cut link header */
	FRAME_OUTGOING,	 /* sent by the capturing host, and no answer */
	FRAME_NOT_DNS,	 /* IP, but neither UDP to port 53 nor from it */
	FRAME_FRAGMENT,	 /* an IP fragment: to the reassembly */
	FRAME_ANSWER_IN, /* an answer the capturing host received */
	FRAME_UNQUEUED,	 /* a query or answer no NFQUEUE rule would take */
	FRAME_NKINDS
};

/* Which way a frame went, where the link type says (cooked captures). */
enum dir {
	DIR_UNKNOWN,
	DIR_IN,
	DIR_OUT,
};

/*
 * Refused queries of one (query rule, source prefix) over all its
 * episodes, or refused octets of one (answer rule, destination prefix).
 */
struct tally {
	uint64_t key;
	uint64_t refused;
	uint8_t rule; /* 0: a free slot */
	uint8_t family;
	uint8_t pos; /* the rule's place in the config, for the order */
};

struct replay {
	const struct config *cfg;
	const char *name; /* of the capture, for messages */
	int dlt;
	struct policy *policy;
	struct limiter *limiter;
	struct policy_ctx ctx; /* the query path's worker ... */
	struct stats stats;
	struct policy_ctx actx; /* ... and the answer path's, on one table */
	struct stats astats;
	bool answer_rule[LIMITER_RULE_IDS];  /* by rule id */
	size_t nanswer;			     /* answer rules */
	uint32_t answer_min;		     /* the smallest answer rule size */
	uint8_t replacement[POLICY_OUT_MAX]; /* a truncated answer's */
	struct defrag *defrag;
	uint8_t *whole; /* a cut answer made whole again: WHOLE_MAX octets */

	struct periodic_ops pops;
	struct periodic periodic; /* in capture time, from the first packet */
	uint64_t limited;	  /* episodes begun ... */
	uint64_t held;		  /* ... hold-downs started in them ... */
	uint64_t released;	  /* ... episodes ended ... */
	uint64_t running;	  /* ... and still on at the end */

	bool started;	    /* a packet was read */
	uint64_t first;	    /* capture time of the first packet, ns */
	uint64_t now;	    /* the latest, never going back */
	uint64_t backwards; /* timestamps before the latest */
	uint64_t read;
	uint64_t frames[FRAME_NKINDS];

	struct tally *tally;
	size_t tally_cap; /* a power of two */
	size_t tally_used;
	uint64_t tally_key[2];
	int error; /* -ENOMEM once the list could not grow */
};

static bool link_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
		return true;
	default:
		return false;
	}
}

/* Whether an IP packet of version want (0: 4 or 6) is at f[off..len). */
static bool ip_at(const uint8_t *f, size_t len, size_t off, unsigned want,
		  const uint8_t **ip, size_t *iplen)
{
	unsigned v;

	if (off >= len)
		return false;
	v = f[off] >> 4;
	if ((v != 4 && v != 6) || (want != 0 && v != want))
		return false;
	*ip = f + off;
	*iplen = len - off;
	return true;
}

/* What follows an ethertype that ends at f[off]: up to two VLAN tags. */
static bool ether_payload(const uint8_t *f, size_t len, size_t off,
			  uint16_t type, const uint8_t **ip, size_t *iplen)
{
	for (int tags = 0;
	     type == ETH_P_8021Q || type == ETH_P_8021AD || type == ETH_P_QINQ1;
	     tags++) {
		if (tags == VLAN_TAGS_MAX || len - off < VLAN_TAG_LEN)
			return false;
		type = wire_read16(f + off + 2);
		off += VLAN_TAG_LEN;
	}
	if (type == ETH_P_IP)
		return ip_at(f, len, off, 4, ip, iplen);
	if (type == ETH_P_IPV6)
		return ip_at(f, len, off, 6, ip, iplen);
	return false;
}

/* BSD loopback: a 4-byte address family, in the capturing host's byte
 * order (NULL) or big-endian (LOOP); both are read. */
static bool loop_payload(const uint8_t *f, size_t len, const uint8_t **ip,
			 size_t *iplen)
{
	uint32_t af;

	if (len < LOOP_HDR_LEN)
		return false;
	af = wire_read32(f);
	if (af > 0xffff)
		af = __builtin_bswap32(af);
	switch (af) {
	case LOOP_AF_INET:
		return ip_at(f, len, LOOP_HDR_LEN, 4, ip, iplen);
	case LOOP_AF_INET6_LINUX:
	case LOOP_AF_INET6_BSD:
	case LOOP_AF_INET6_FREEBSD:
	case LOOP_AF_INET6_DARWIN:
		return ip_at(f, len, LOOP_HDR_LEN, 6, ip, iplen);
	default:
		return false;
	}
}

/*
 * Strips the link layer of a frame f[0..len): whether an IP packet is
 * left, at *ip.  *dir is set where the link header says.
 */
static bool frame_ip(int dlt, const uint8_t *f, size_t len, const uint8_t **ip,
		     size_t *iplen, enum dir *dir)
{
	switch (dlt) {
	case DLT_EN10MB:
		if (len < ETH_HLEN)
			return false;
		return ether_payload(f, len, ETH_HLEN, wire_read16(f + 12), ip,
				     iplen);
	case DLT_LINUX_SLL:
		if (len < SLL_HDR_LEN)
			return false;
		*dir = wire_read16(f) == LINUX_SLL_OUTGOING ? DIR_OUT : DIR_IN;
		return ether_payload(f, len, SLL_HDR_LEN, wire_read16(f + 14),
				     ip, iplen);
	case DLT_LINUX_SLL2:
		if (len < SLL2_HDR_LEN)
			return false;
		*dir = f[10] == LINUX_SLL_OUTGOING ? DIR_OUT : DIR_IN;
		return ether_payload(f, len, SLL2_HDR_LEN, wire_read16(f), ip,
				     iplen);
	case DLT_NULL:
	case DLT_LOOP:
		return loop_payload(f, len, ip, iplen);
	case DLT_IPV4:
		return ip_at(f, len, 0, 4, ip, iplen);
	case DLT_IPV6:
		return ip_at(f, len, 0, 6, ip, iplen);
	default: /* DLT_RAW */
		return ip_at(f, len, 0, 0, ip, iplen);
	}
}

/*
 * Which path, if any, would have queued a whole datagram: the query
 * rule (INPUT, -p udp --dport 53) or the answer rule (OUTPUT, -p udp
 * --sport 53).  Where the capture says which way a packet went, that
 * decides: what the host sent is an answer if it is from port 53 and
 * else not for us (its own queries upstream), what it received is a
 * query if it is to port 53 (an answer from an upstream server is not
 * judged).  Elsewhere the ports decide, and between port 53 and port 53
 * the QR bit.  A packet the walk finds broken is decided by the query
 * path, as the daemon decides it: by the `malformed` setting.
 */
static enum frame frame_path(const uint8_t *ip, size_t len, enum dir dir)
{
	struct packet pk;
	bool to53, from53;

	switch (packet_parse(ip, len, &pk)) {
	case PACKET_UDP:
		break;
	case PACKET_INVALID:
		return dir == DIR_OUT ? FRAME_OUTGOING : FRAME_QUERY;
	default:
		/* not UDP; or a fragment the reassembly takes for whole
		 * (behind an IPv6 jumbo payload length), with no port */
		return dir == DIR_OUT ? FRAME_OUTGOING : FRAME_NOT_DNS;
	}
	to53 = pk.dport == WIRE_DNS_PORT;
	from53 = pk.sport == WIRE_DNS_PORT;
	if (dir == DIR_OUT)
		return from53 ? FRAME_ANSWER : FRAME_OUTGOING;
	if (dir == DIR_IN)
		return to53	? FRAME_QUERY
		       : from53 ? FRAME_ANSWER_IN
				: FRAME_NOT_DNS;
	if (to53 && from53)
		return pk.payload_len > 2 && (pk.payload[2] & 0x80)
			       ? FRAME_ANSWER
			       : FRAME_QUERY;
	return to53 ? FRAME_QUERY : from53 ? FRAME_ANSWER : FRAME_NOT_DNS;
}

/* Whether addr (of family AF_INET or AF_INET6) is in one of p[0..n). */
static bool prefix_has(const struct config_prefix *p, size_t n, int family,
		       const uint8_t *addr)
{
	for (size_t i = 0; i < n; i++) {
		unsigned bits = p[i].len, whole = bits / 8, rest = bits % 8;

		if (p[i].family != family ||
		    memcmp(p[i].addr, addr, whole) != 0)
			continue;
		if (rest == 0 ||
		    ((p[i].addr[whole] ^ addr[whole]) & (0xff00 >> rest)) == 0)
			return true;
	}
	return false;
}

/* Whether `serve` lists prefixes of the family, and addr is in none. */
static bool not_served(const struct config *cfg, int family,
		       const uint8_t *addr)
{
	bool listed = false;

	for (size_t i = 0; i < cfg->nserve && !listed; i++)
		listed = cfg->serve[i].family == family;
	return listed && !prefix_has(cfg->serve, cfg->nserve, family, addr);
}

/*
 * What the daemon's kernel rules (rules.c) would send to a queue: of the
 * queries, those from a served source (`serve`); of the answers, those of
 * at least the smallest answer rule's `size` (xt_length: the IP length)
 * to a served destination, and none when there is no answer rule (full:
 * the IP length, len: the octets captured).  A
 * packet that cannot be walked to its UDP header goes to its path, as the
 * port match would have sent it.
 */
static enum frame frame_queued(const struct replay *r, enum frame fr,
			       const uint8_t *ip, size_t len, size_t full)
{
	struct packet pk;

	if (fr == FRAME_ANSWER && (r->nanswer == 0 || full < r->answer_min))
		return FRAME_UNQUEUED;
	if (r->cfg->nserve == 0 || packet_parse(ip, len, &pk) != PACKET_UDP)
		return fr;
	if (fr == FRAME_QUERY)
		return not_served(r->cfg, pk.family, pk.src) ? FRAME_UNQUEUED
							     : fr;
	return not_served(r->cfg, pk.family, pk.dst) ? FRAME_UNQUEUED : fr;
}

/*
 * The length the IP header gives the packet at ip[0..len): the IPv4
 * total length, the IPv6 payload length and its header; len when the
 * header cannot say (too short, an IPv6 jumbogram).  A frame holds more
 * when the link padded it, less when the capture cut it.
 */
static size_t ip_length(const uint8_t *ip, size_t len)
{
	size_t n;

	if (len >= WIRE_IPV4_HDR_MIN && ip[0] >> 4 == 4) {
		n = wire_read16(ip + WIRE_IPV4_TOTAL_LEN);
		return n >= (size_t)(ip[0] & 0x0f) * 4 && n >= WIRE_IPV4_HDR_MIN
			       ? n
			       : len;
	}
	if (len >= WIRE_IPV6_HDR && ip[0] >> 4 == 6) {
		n = wire_read16(ip + WIRE_IPV6_PAYLOAD_LEN);
		return n > 0 ? WIRE_IPV6_HDR + n : len;
	}
	return len;
}

static size_t tally_slot(const struct replay *r, uint8_t rule, uint8_t family,
			 uint64_t key)
{
	return (size_t)siphash13_16(r->tally_key, key,
				    (uint64_t)rule | (uint64_t)family << 8) &
	       (r->tally_cap - 1);
}

static struct tally *tally_find(struct replay *r, uint8_t rule, uint8_t family,
				uint64_t key)
{
	size_t i = tally_slot(r, rule, family, key);

	/* linear probing; the list is never more than half full */
	for (;; i = (i + 1) & (r->tally_cap - 1)) {
		struct tally *t = &r->tally[i];

		if (t->rule == 0 ||
		    (t->rule == rule && t->family == family && t->key == key))
			return t;
	}
}

static int tally_grow(struct replay *r)
{
	struct tally *old = r->tally;
	size_t oldcap = r->tally_cap;
	size_t cap = oldcap ? oldcap * 2 : TALLY_MIN;

	r->tally = calloc(cap, sizeof(*r->tally));
	if (r->tally == NULL) {
		r->tally = old;
		return -ENOMEM;
	}
	r->tally_cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].rule != 0)
			*tally_find(r, old[i].rule, old[i].family, old[i].key) =
				old[i];
	free(old);
	return 0;
}

static void tally_add(struct replay *r, uint8_t rule, uint8_t family,
		      uint64_t key, uint64_t refused)
{
	struct tally *t;

	if (r->error != 0 || rule == 0)
		return;
	if ((r->tally_used + 1) * 2 > r->tally_cap) {
		int rc = tally_grow(r);

		if (rc < 0) {
			r->error = rc;
			return;
		}
	}
	t = tally_find(r, rule, family, key);
	if (t->rule == 0) {
		t->rule = rule;
		t->family = family;
		t->key = key;
		r->tally_used++;
	}
	t->refused += refused;
}

/* A transition from policy_decide or a sweep. */
static void on_event(void *arg, const struct limiter_event *ev)
{
	struct replay *r = arg;

	if (ev->kind == LIMITER_EV_LIMITED) {
		r->limited++;
	} else if (ev->kind == LIMITER_EV_HELD) {
		r->held++;
	} else if (ev->kind == LIMITER_EV_RELEASED) {
		r->released++;
		tally_add(r, ev->rule, ev->family, ev->key, ev->drops);
	}
}

/* The same from policy_decide, which also lends the query. */
static void on_query_event(void *arg, const struct limiter_event *ev,
			   struct dns_question *q)
{
	(void)q;
	on_event(arg, ev);
}

/* An episode still running when the capture ends. */
static void on_entry(void *arg, const struct limiter_entry *e)
{
	struct replay *r = arg;

	r->running++;
	tally_add(r, e->rule, e->family, e->key, e->drops);
}

/* Episodes that a sweep may end; an evicted one ended unannounced. */
static bool episodes_open(const struct replay *r)
{
	return r->limited > r->released + r->stats.table.evicted_limited +
				    r->astats.table.evicted_limited;
}

/* Sweeps can end nothing while no episode is open. */
static bool sweep_wanted(void *arg)
{
	return episodes_open(arg);
}

/* The capture time of a packet, in ns, never before the last one. */
static uint64_t packet_time(struct replay *r, const struct timeval *tv)
{
	uint64_t ns;

	/* tv_usec holds nanoseconds: the capture was opened so */
	if (tv->tv_sec < 0)
		ns = 0;
	else if ((uint64_t)tv->tv_sec >= TIME_MAX / NS_PER_S)
		ns = TIME_MAX;
	else
		ns = (uint64_t)tv->tv_sec * NS_PER_S;
	if (tv->tv_usec > 0 && ns < TIME_MAX)
		ns += (uint64_t)tv->tv_usec % NS_PER_S;
	if (!r->started) {
		r->started = true;
		r->first = ns;
		r->now = ns;
		periodic_init(&r->periodic, r->limiter, &r->pops, ns);
	} else if (ns < r->now) {
		r->backwards++;
	} else {
		r->now = ns;
	}
	return r->now;
}

/* The query path: what queue_process counts for each packet it answers. */
static void decide_query(struct replay *r, const uint8_t *ip, size_t len,
			 uint64_t now)
{
	enum policy_verdict v = policy_decide(r->policy, &r->ctx, ip, len, now);

	r->stats.c[STATS_PACKETS]++;
	r->stats.c[STATS_VERDICTS]++;
	r->stats.c[v == POLICY_DROP ? STATS_DROPPED : STATS_ACCEPTED]++;
}

/*
 * The answer path: what queue_process counts for each packet it answers.
 * An answer the capture cut short (cut) was made whole again with zeros:
 * it is judged at the length it had, and counted as the daemon counts a
 * packet the kernel copied in part.
 */
static void decide_answer(struct replay *r, const uint8_t *ip, size_t len,
			  bool cut, uint64_t now)
{
	struct policy_out out = {.buf = r->replacement,
				 .room = sizeof(r->replacement)};
	struct stats *s = &r->astats;
	enum policy_verdict v;

	v = policy_decide_answer(r->policy, &r->actx, ip, len, now, &out);
	s->c[STATS_PACKETS]++;
	if (cut)
		s->c[STATS_CUT]++;
	s->c[STATS_VERDICTS]++;
	s->c[v == POLICY_DROP	   ? STATS_DROPPED
	     : v == POLICY_REPLACE ? STATS_REPLACED
				   : STATS_ACCEPTED]++;
}

/*
 * A whole datagram ip[0..len): a frame, or fragments made whole, of full
 * octets (more than len when the capture cut it).
 */
static void replay_ip(struct replay *r, const uint8_t *ip, size_t len,
		      size_t full, enum dir dir, uint64_t now)
{
	enum frame fr = frame_path(ip, len, dir);

	if (fr == FRAME_QUERY || fr == FRAME_ANSWER)
		fr = frame_queued(r, fr, ip, len, full);
	r->frames[fr]++;
	if (fr == FRAME_QUERY) {
		decide_query(r, ip, len, now);
	} else if (fr == FRAME_ANSWER && full > len) {
		/* the question is in what was captured; the octets that
		 * were not count as zeros */
		memcpy(r->whole, ip, len);
		memset(r->whole + len, 0, full - len);
		decide_answer(r, r->whole, full, true, now);
	} else if (fr == FRAME_ANSWER) {
		decide_answer(r, ip, len, false, now);
	}
}

static void replay_packet(struct replay *r, const struct pcap_pkthdr *h,
			  const uint8_t *data)
{
	uint64_t now = packet_time(r, &h->ts);
	struct defrag_datagram dg;
	enum dir dir = DIR_UNKNOWN;
	const uint8_t *ip = NULL;
	size_t len = 0, full;

	r->read++;
	periodic_run(&r->periodic, now);
	defrag_expire(r->defrag, now);
	if (!frame_ip(r->dlt, data, h->caplen, &ip, &len, &dir)) {
		r->frames[dir == DIR_OUT ? FRAME_OUTGOING : FRAME_NOT_IP]++;
		return;
	}
	/* the datagram the kernel handled: without the link's padding */
	full = ip_length(ip, len);
	if (full < len)
		len = full;
	switch (defrag_add(r->defrag, ip, len, now, dir, &dg)) {
	case DEFRAG_WHOLE:
		replay_ip(r, ip, len, full, dir, now);
		break;
	case DEFRAG_DONE:
		r->frames[FRAME_FRAGMENT]++;
		/* decided when it is whole, in capture order */
		replay_ip(r, dg.pkt, dg.len, dg.len, (enum dir)dg.tag, now);
		break;
	default:
		r->frames[FRAME_FRAGMENT]++;
		break;
	}
}

static void replay_free(struct replay *r)
{
	if (r == NULL)
		return;
	policy_free(r->policy);
	limiter_free(r->limiter);
	defrag_free(r->defrag);
	free(r->whole);
	free(r->tally);
	free(r);
}

static struct replay *replay_new(const struct config *cfg, const char *name,
				 int dlt, size_t capacity, size_t frag_slots,
				 size_t frag_bytes)
{
	struct replay *r = calloc(1, sizeof(*r));
	uint8_t key[SIPHASH_KEY_LEN];
	ssize_t n;
	int e;

	if (r == NULL)
		return NULL;
	r->cfg = cfg;
	r->name = name;
	r->dlt = dlt;
	/* the list's hash is keyed: a capture cannot aim collisions at it */
	n = getrandom(key, sizeof(key), 0);
	if (n != (ssize_t)sizeof(key)) {
		if (n >= 0)
			errno = EIO;
		goto fail;
	}
	siphash13_key(r->tally_key, key);
	explicit_bzero(key, sizeof(key));
	r->policy = policy_new(cfg, NULL, NULL);
	if (r->policy == NULL)
		goto fail;
	r->limiter = limiter_new(capacity, false);
	if (r->limiter == NULL)
		goto fail;
	r->defrag = defrag_new(frag_slots, frag_bytes, DEFRAG_TIMEOUT_NS);
	if (r->defrag == NULL)
		goto fail;
	r->whole = malloc(WHOLE_MAX);
	if (r->whole == NULL)
		goto fail;
	for (size_t i = 0; i < policy_nrules(r->policy); i++) {
		unsigned id = policy_rule_id(r->policy, i);

		if (policy_rule_by_id(r->policy, id)->kind ==
		    CONFIG_RULE_ANSWER) {
			r->answer_rule[id] = true;
			r->nanswer++;
		}
	}
	r->answer_min = config_answer_min_size(cfg);
	if (tally_grow(r) < 0) {
		errno = ENOMEM;
		goto fail;
	}
	r->ctx.limiter = r->limiter;
	r->ctx.stats = &r->stats;
	r->ctx.event = on_query_event;
	r->ctx.event_arg = r;
	r->actx = r->ctx;
	r->actx.stats = &r->astats;
	r->pops = (struct periodic_ops){
		.released = on_event,
		.sweep_wanted = sweep_wanted,
		.arg = r,
	};
	return r;

fail:
	e = errno;
	replay_free(r);
	errno = e;
	return NULL;
}

static int tally_cmp(const void *a, const void *b)
{
	const struct tally *x = a, *y = b;

	if (x->refused != y->refused)
		return x->refused > y->refused ? -1 : 1;
	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return 0;
}

/* Sorts the list in place (most refused first); returns its length. */
static size_t tally_sort(struct replay *r)
{
	uint8_t pos[LIMITER_RULE_IDS] = {0};
	size_t n = 0;

	for (size_t i = 0; i < policy_nrules(r->policy); i++)
		pos[policy_rule_id(r->policy, i)] = (uint8_t)i;
	for (size_t i = 0; i < r->tally_cap; i++) {
		if (r->tally[i].rule == 0)
			continue;
		r->tally[n] = r->tally[i];
		r->tally[n].pos = pos[r->tally[n].rule];
		n++;
	}
	qsort(r->tally, n, sizeof(*r->tally), tally_cmp);
	/* the table is a list now, no longer a hash table */
	r->tally_used = n;
	return n;
}

/* "2024-05-01 10:00:00.000000000" */
static void time_text(uint64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / NS_PER_S);
	struct tm tm;
	size_t n;

	if (gmtime_r(&s, &tm) == NULL ||
	    (n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm)) == 0) {
		snprintf(buf, len, "%" PRIu64 " ns", ns);
		return;
	}
	snprintf(buf + n, len - n, ".%09" PRIu64, ns % NS_PER_S);
}

/* Whether the report has an answer path: the policy has answer rules. */
static bool answers_shown(const struct replay *r)
{
	return r->nanswer > 0;
}

/*
 * Whether the packets line names the reasons a query-only replay without
 * `serve` never has (else it is that replay's, word for word).
 */
static bool reasons_shown(const struct replay *r)
{
	return r->nanswer > 0 || r->cfg->nserve > 0 ||
	       r->frames[FRAME_ANSWER_IN] > 0 || r->frames[FRAME_UNQUEUED] > 0;
}

/* The packets line's tail: what became of the fragments. */
static void report_fragments(const struct replay *r, FILE *out)
{
	const struct defrag_counters *c = defrag_counters(r->defrag);
	const uint64_t *d = c->dropped;
	uint64_t datagrams, held;

	defrag_pending(r->defrag, &datagrams, &held);
	fprintf(out,
		" reassembled=%" PRIu64 " datagrams=%" PRIu64
		" dropped=%" PRIu64 " (duplicate=%" PRIu64 " overlap=%" PRIu64
		" bad=%" PRIu64 " timeout=%" PRIu64 " no-room=%" PRIu64
		") incomplete=%" PRIu64 " held=%" PRIu64,
		c->reassembled, c->datagrams,
		d[DEFRAG_DUPLICATE] + d[DEFRAG_OVERLAP] + d[DEFRAG_BAD] +
			d[DEFRAG_TIMEOUT] + d[DEFRAG_NO_ROOM],
		d[DEFRAG_DUPLICATE], d[DEFRAG_OVERLAP], d[DEFRAG_BAD],
		d[DEFRAG_TIMEOUT], d[DEFRAG_NO_ROOM], datagrams, held);
}

static void report_head(const struct replay *r, FILE *out)
{
	const uint64_t *f = r->frames;
	const char *link = pcap_datalink_val_to_name(r->dlt);
	uint64_t skipped = 0;
	char a[64], b[64];
	uint64_t span;

	for (int k = FRAME_NOT_IP; k < FRAME_NKINDS; k++)
		skipped += f[k];
	fprintf(out, "capture: %s (link type %s)\n", r->name,
		link != NULL ? link : "?");
	fprintf(out,
		"packets: read=%" PRIu64 " decided=%" PRIu64 " skipped=%" PRIu64
		" (not-ip=%" PRIu64 " outgoing=%" PRIu64 " not-udp53=%" PRIu64
		" fragments=%" PRIu64,
		r->read, f[FRAME_QUERY] + f[FRAME_ANSWER], skipped,
		f[FRAME_NOT_IP], f[FRAME_OUTGOING], f[FRAME_NOT_DNS],
		f[FRAME_FRAGMENT]);
	if (reasons_shown(r))
		fprintf(out, " answers-in=%" PRIu64 " unqueued=%" PRIu64,
			f[FRAME_ANSWER_IN], f[FRAME_UNQUEUED]);
	fputc(')', out);
	if (f[FRAME_FRAGMENT] > 0)
		report_fragments(r, out);
	fputc('\n', out);
	if (!r->started) {
		fprintf(out, "time: no packets\n");
		return;
	}
	span = r->now - r->first;
	time_text(r->first, a, sizeof(a));
	time_text(r->now, b, sizeof(b));
	fprintf(out,
		"time: %s .. %s UTC, %" PRIu64 ".%03" PRIu64 " s, %" PRIu64
		" timestamps out of order\n",
		a, b, span / NS_PER_S, span % NS_PER_S / NS_PER_MS,
		r->backwards);
}

/* The sorted list's entries of one kind of rule, the first REPLAY_TOP. */
static void report_list(const struct replay *r, size_t n, bool answers,
			FILE *out)
{
	size_t rank = 0;

	for (size_t i = 0; i < n && rank < REPLAY_TOP; i++) {
		const struct tally *t = &r->tally[i];
		const struct config_rule *c =
			policy_rule_by_id(r->policy, t->rule);
		char src[64];

		if (c == NULL || r->answer_rule[t->rule] != answers)
			continue;
		limiter_key_text(t->family, t->key,
				 t->family == 4 ? c->ipv4_prefix
						: c->ipv6_prefix,
				 src, sizeof(src));
		fprintf(out, "%4zu %s %s %" PRIu64 "\n", ++rank, src, c->name,
			t->refused);
	}
	if (rank == 0)
		fprintf(out, "   none\n");
}

static void report_top(struct replay *r, FILE *out)
{
	size_t n = tally_sort(r);

	fprintf(out, "top sources by refused queries:\n");
	report_list(r, n, false, out);
	if (!answers_shown(r))
		return;
	fprintf(out, "top destinations by refused octets:\n");
	report_list(r, n, true, out);
}

/* The answer path's counters, as the daemon's "answers:" line has them. */
static void report_answers(const struct replay *r, FILE *out)
{
	char buf[1024];

	stats_format_answers(&r->astats, buf, sizeof(buf));
	fprintf(out, "answers: %s\n", buf);
}

/* Totals, and which part of the policy gave each verdict. */
static void report_totals(const struct replay *r, FILE *out)
{
	const struct stats *s = &r->stats;
	uint64_t within = 0, ruled = 0, other, mal_accept = 0, mal_drop = 0;

	for (size_t i = 0; i < policy_nrules(r->policy); i++) {
		unsigned id = policy_rule_id(r->policy, i);

		/* a log rule's accept decides nothing */
		if (policy_rule_by_id(r->policy, id)->action ==
		    CONFIG_ACTION_DROP)
			within += s->rule[id][STATS_R_ACCEPTED];
		ruled += s->rule[id][STATS_R_DROPPED];
	}
	if (r->cfg->malformed == CONFIG_DROP)
		mal_drop = s->c[STATS_MALFORMED];
	else
		mal_accept = s->c[STATS_MALFORMED];
	other = s->dns[DNS_QUERY] - s->c[STATS_ALLOWED] - within - ruled;

	fprintf(out,
		"totals: queries=%" PRIu64 " accepted=%" PRIu64
		" dropped=%" PRIu64 " malformed=%" PRIu64 " allowed=%" PRIu64
		" evicted=%" PRIu64 " evicted-limited=%" PRIu64 "\n",
		s->dns[DNS_QUERY], s->c[STATS_ACCEPTED], s->c[STATS_DROPPED],
		s->c[STATS_MALFORMED], s->c[STATS_ALLOWED], s->table.evicted,
		s->table.evicted_limited);
	fprintf(out,
		"accept: within-limit=%" PRIu64 " allow-listed=%" PRIu64
		" no-drop-rule=%" PRIu64 " not-query=%" PRIu64 " malformed="
		"%" PRIu64 "\n",
		within, s->c[STATS_ALLOWED], other,
		s->dns[DNS_RESPONSE] + s->dns[DNS_OPCODE] + s->dns[DNS_QDCOUNT],
		mal_accept);
	fprintf(out,
		"drop: rule=%" PRIu64 " malformed=%" PRIu64
		" fragments=%" PRIu64 "\n",
		ruled, mal_drop,
		r->cfg->fragments == CONFIG_DROP ? s->pkt[PACKET_FRAGMENT] : 0);
}

static int report(struct replay *r, FILE *out, const char *stopped, char *err,
		  size_t errlen)
{
	const struct limiter_rule *rules[LIMITER_RULE_IDS];
	char buf[512];

	/* episodes that ended by the last packet are over, not running */
	if (r->started && episodes_open(r))
		periodic_sweep_whole(&r->periodic, r->now);
	policy_limiter_rules(r->policy, rules);
	limiter_walk(r->limiter, rules, r->now, on_entry, r);
	if (r->error != 0) {
		snprintf(err, errlen, "%s: %s", r->name, strerror(-r->error));
		return r->error;
	}
	report_head(r, out);
	for (size_t i = 0; i < policy_nrules(r->policy); i++) {
		unsigned id = policy_rule_id(r->policy, i);
		const struct config_rule *c = policy_rule_by_id(r->policy, id);

		/* a rule's counters are its path's */
		stats_format_rule(r->answer_rule[id] ? &r->astats : &r->stats,
				  id, report_rule_fmt(c), buf, sizeof(buf));
		fprintf(out, "rule %s: %s\n", c->name, buf);
	}
	/* the daemon's "limited", "hold-down" and "released" log lines,
	 * before its log-limit budget */
	fprintf(out,
		"episodes: limited=%" PRIu64 " held=%" PRIu64
		" released=%" PRIu64 " running=%" PRIu64 "\n",
		r->limited, r->held, r->released, r->running);
	report_top(r, out);
	report_totals(r, out);
	if (answers_shown(r))
		report_answers(r, out);
	if (stopped != NULL)
		fprintf(out, "stopped: %s\n", stopped);
	if (fflush(out) != 0 || ferror(out)) {
		snprintf(err, errlen, "%s: the report could not be written",
			 r->name);
		return -EIO;
	}
	return 0;
}

/*
 * The table the replay needs: room for every (rule, source) the capture
 * can hold, four slots each so that the table's two-choice buckets almost
 * never evict (as in a daemon's table sized for its sources), and never
 * more than the configured one.  A record takes 16 octets at least (its
 * pcap header), so size / 16 bounds the packets: a 30 KB capture gets a
 * table of some thousands of slots, not the configured million.
 */
static size_t table_for(const struct config *cfg, uint64_t size)
{
	uint64_t frames = size / 16 + 1;
	uint64_t want = frames * (cfg->nrules > 0 ? cfg->nrules : 1) * 4;

	if (want < 64)
		want = 64;
	return want < cfg->table_size ? (size_t)want : cfg->table_size;
}

/*
 * The reassembly room the capture could fill: no more datagrams in
 * progress than it has fragments (a record of one takes 37 octets at
 * least: its pcap header, an IPv4 header and an octet of data), and no
 * more pages than they could touch (each its data's length over the page
 * size plus two, so at most size / 18 pages in all); never more than the
 * reassembler's limits.
 */
static void defrag_for(uint64_t size, size_t *slots, size_t *bytes)
{
	uint64_t n = size / 37 + 1;
	uint64_t pages = size / 18 + 2;

	*slots = n < DEFRAG_SLOTS_MAX ? (size_t)n : DEFRAG_SLOTS_MAX;
	*bytes = pages < DEFRAG_BYTES_MAX / DEFRAG_PAGE
			 ? (size_t)pages * DEFRAG_PAGE
			 : DEFRAG_BYTES_MAX;
}

/*
 * The capture's size in octets, from where it is read.  A stream that
 * cannot seek (a pipe) is copied into a temporary file first; *capture
 * then is the copy (the original is closed).  Returns 0 or -errno.
 */
static int capture_size(FILE **capture, uint64_t *size)
{
	off_t here, end;

	here = ftello(*capture);
	if (here < 0 || fseeko(*capture, 0, SEEK_END) < 0) {
		FILE *copy = tmpfile();
		char buf[65536];
		size_t n;

		if (copy == NULL)
			return -errno;
		while ((n = fread(buf, 1, sizeof(buf), *capture)) > 0)
			if (fwrite(buf, 1, n, copy) != n) {
				fclose(copy);
				return -EIO;
			}
		fclose(*capture);
		*capture = copy;
		here = 0;
		if (fseeko(copy, 0, SEEK_END) < 0)
			return -errno;
	}
	end = ftello(*capture);
	if (end < 0 || fseeko(*capture, here, SEEK_SET) < 0)
		return -errno;
	*size = (uint64_t)(end - here);
	return 0;
}

int replay_run_stream(const struct config *cfg, FILE *capture, const char *name,
		      FILE *out, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct replay *r = NULL;
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *pc;
	int rc = 0, dlt;
	size_t frag_slots, frag_bytes;
	uint64_t size;

	rc = capture_size(&capture, &size);
	if (rc < 0) {
		fclose(capture);
		snprintf(err, errlen, "%s: %s", name, strerror(-rc));
		return rc;
	}
	pc = pcap_fopen_offline_with_tstamp_precision(
		capture, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (pc == NULL) {
		fclose(capture);
		snprintf(err, errlen, "%s: %s", name, ebuf);
		return -EINVAL;
	}
	dlt = pcap_datalink(pc);
	if (!link_supported(dlt)) {
		const char *link = pcap_datalink_val_to_name(dlt);

		snprintf(err, errlen,
			 "%s: unknown link type %d (%s); replay reads "
			 "Ethernet, Linux cooked v1 and v2, raw IP and BSD "
			 "loopback captures",
			 name, dlt, link != NULL ? link : "no name");
		rc = -EINVAL;
		goto out;
	}
	defrag_for(size, &frag_slots, &frag_bytes);
	r = replay_new(cfg, name, dlt, table_for(cfg, size), frag_slots,
		       frag_bytes);
	if (r == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		goto out;
	}
	while (r->error == 0 && (rc = pcap_next_ex(pc, &h, &data)) == 1)
		replay_packet(r, h, data);
	if (r->error != 0) {
		rc = r->error;
		snprintf(err, errlen, "%s: %s", name, strerror(-rc));
	} else if (rc == PCAP_ERROR_BREAK) {
		rc = report(r, out, NULL, err, errlen);
	} else {
		/* corrupt or cut short: say what was read up to there */
		snprintf(ebuf, sizeof(ebuf), "after %" PRIu64 " packets: %s",
			 r->read, pcap_geterr(pc));
		rc = report(r, out, ebuf, err, errlen);
		if (rc == 0) {
			snprintf(err, errlen, "%s: %s", name, ebuf);
			rc = -EINVAL;
		}
	}
out:
	replay_free(r);
	pcap_close(pc);
	return rc;
}

int replay_run(const struct config *cfg, const char *path, FILE *out, char *err,
	       size_t errlen)
{
	FILE *f;
	int e;

	if (strcmp(path, "-") == 0) {
		/* a copy, so that closing the capture leaves stdin open */
		int fd = dup(STDIN_FILENO);

		f = fd < 0 ? NULL : fdopen(fd, "rb");
		if (f == NULL && fd >= 0) {
			e = errno;
			close(fd);
			errno = e;
		}
	} else {
		f = fopen(path, "rbe");
	}
	if (f == NULL) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	return replay_run_stream(cfg, f,
				 strcmp(path, "-") == 0 ? "stdin" : path, out,
				 err, errlen);
}
