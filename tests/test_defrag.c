/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * IP fragment reassembly.  The oracle is the whole datagram: built first
 * (pktbuild.h), cut into fragments as Linux cuts them (fragbuild.h, not
 * the code under test), fed in every order, and what comes back must be
 * the same octets.  Then the ways a datagram is lost: repeats, overlaps,
 * contradictions, fragments that cannot be used, timeouts, and room.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "defrag.h"

#include "fragbuild.h"
#include "pktbuild.h"

#define SEC UINT64_C(1000000000)
#define T0 (UINT64_C(1714557600) * SEC)
#define BIG 4000 /* octets of the test answers: 3 IPv4 fragments at 1500 */
#define NFRAGS_MAX 64
/* made by tests/data/make-answer-fragments.sh; the tests run from the top */
#define REAL_PCAP "tests/data/answer-fragments.pcap"
#define REAL_SIZES "tests/data/answer-fragments.sizes"

struct frags {
	uint8_t whole[65536];
	size_t len;
	uint8_t f[NFRAGS_MAX * FRAG_STRIDE];
	size_t flen[NFRAGS_MAX];
	size_t n;
};

static uint8_t *frag_at(struct frags *x, size_t k)
{
	return x->f + k * FRAG_STRIDE;
}

/* A 4000-octet IPv4 answer with IP ID id, in 3 fragments at MTU 1500. */
static void big4(struct frags *x, uint16_t id)
{
	x->len = pkt_answer_to(x->whole, "198.51.100.66", "big.example", 16,
			       BIG);
	assert_int_equal(x->len, BIG);
	pkt_put16(x->whole + 4, id);
	pkt_put16(x->whole + 10, csum_ipv4_header(x->whole, 20));
	x->n = frag_ipv4(x->whole, x->len, 1500, x->f, x->flen, NFRAGS_MAX);
	assert_int_equal(x->n, 3);
}

/* The same over IPv6 at MTU 1280, as Unbound sends: 4 fragments. */
static void big6(struct frags *x, uint32_t id)
{
	x->len = pkt_answer_to(x->whole, "2001:db8:66::1", "big.example", 16,
			       BIG);
	assert_int_equal(x->len, BIG);
	x->n = frag_ipv6(x->whole, x->len, 40, 6, id, 1280, x->f, x->flen,
			 NFRAGS_MAX);
	assert_int_equal(x->n, 4);
	assert_int_equal(x->flen[0], 1280);
}

static struct defrag *new_defrag(size_t slots, size_t bytes)
{
	struct defrag *d = defrag_new(slots, bytes, DEFRAG_TIMEOUT_NS);

	assert_non_null(d);
	return d;
}

static enum defrag_result add(struct defrag *d, struct frags *x, size_t k,
			      uint64_t now, struct defrag_datagram *out)
{
	return defrag_add(d, frag_at(x, k), x->flen[k], now, 7, out);
}

/* Every fragment is reassembled, dropped, or still held. */
static void assert_adds_up(const struct defrag *d)
{
	const struct defrag_counters *c = defrag_counters(d);
	uint64_t dgrams, held, dropped = 0;

	defrag_pending(d, &dgrams, &held);
	for (int i = 0; i < DEFRAG_NDROPS; i++)
		dropped += c->dropped[i];
	assert_int_equal(c->fragments, c->reassembled + dropped + held);
}

static void assert_pending(const struct defrag *d, uint64_t want_dgrams,
			   uint64_t want_held)
{
	uint64_t dgrams, held;

	defrag_pending(d, &dgrams, &held);
	assert_int_equal(dgrams, want_dgrams);
	assert_int_equal(held, want_held);
	assert_adds_up(d);
}

static void assert_whole(const struct frags *x,
			 const struct defrag_datagram *out)
{
	assert_int_equal(out->len, x->len);
	assert_memory_equal(out->pkt, x->whole, x->len);
	assert_int_equal(out->tag, 7);
}

/* Feeds the fragments in order[0..n); the last must complete it. */
static void feed_all(struct defrag *d, struct frags *x, const size_t *order,
		     size_t n)
{
	struct defrag_datagram out;

	for (size_t i = 0; i + 1 < n; i++)
		assert_int_equal(add(d, x, order[i], T0, &out), DEFRAG_HELD);
	assert_int_equal(add(d, x, order[n - 1], T0, &out), DEFRAG_DONE);
	assert_whole(x, &out);
}

/* Three IPv4 fragments in each of their six orders: the same datagram. */
static void test_ipv4_every_order(void **state)
{
	static const size_t orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
					    {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
	static struct frags x;

	(void)state;
	big4(&x, 0x4242);
	for (size_t o = 0; o < 6; o++) {
		struct defrag *d = new_defrag(16, 65536);
		const struct defrag_counters *c = defrag_counters(d);

		feed_all(d, &x, orders[o], 3);
		assert_int_equal(c->fragments, 3);
		assert_int_equal(c->reassembled, 3);
		assert_int_equal(c->datagrams, 1);
		assert_pending(d, 0, 0);
		defrag_free(d);
	}
}

/* IPv6 with a fragment header, last fragment first: the header goes. */
static void test_ipv6_fragment_header(void **state)
{
	static const size_t order[] = {3, 1, 0, 2};
	static struct frags x;
	struct defrag *d = new_defrag(16, 65536);

	(void)state;
	big6(&x, 0xdeadbeef);
	feed_all(d, &x, order, 4);
	assert_int_equal(defrag_counters(d)->datagrams, 1);
	assert_pending(d, 0, 0);
	defrag_free(d);
}

/* Inserts n octets of ext at x->whole[at], fixing the IP lengths. */
static void insert_hdr(struct frags *x, size_t at, const uint8_t *ext, size_t n)
{
	memmove(x->whole + at + n, x->whole + at, x->len - at);
	memcpy(x->whole + at, ext, n);
	x->len += n;
	if (x->whole[0] >> 4 == 4) {
		x->whole[0] = (uint8_t)(0x40 | (at + n) / 4);
		pkt_put16(x->whole + 2, (uint16_t)x->len);
		pkt_put16(x->whole + 10, csum_ipv4_header(x->whole, at + n));
	} else {
		pkt_put16(x->whole + 4, (uint16_t)(x->len - 40));
	}
}

/* A hop-by-hop header stays in front; the one before the fragment header
 * names what it carried again. */
static void test_ipv6_hop_by_hop(void **state)
{
	/* next header UDP, length 0 (8 octets), PadN of 6 */
	static const uint8_t hbh[8] = {17, 0, 1, 4, 0, 0, 0, 0};
	static const size_t order[] = {1, 2, 3, 0};
	static struct frags x;
	struct defrag *d = new_defrag(16, 65536);

	(void)state;
	x.len = pkt_answer_to(x.whole, "2001:db8:66::1", "big.example", 16,
			      BIG);
	insert_hdr(&x, 40, hbh, sizeof(hbh));
	x.whole[6] = 0; /* hop-by-hop */
	x.n = frag_ipv6(x.whole, x.len, 48, 40, 99, 1280, x.f, x.flen,
			NFRAGS_MAX);
	assert_int_equal(x.n, 4);
	assert_int_equal(frag_at(&x, 0)[40], 44);
	feed_all(d, &x, order, 4);
	defrag_free(d);
}

/* IPv4 options: the first fragment's header, options and all. */
static void test_ipv4_options(void **state)
{
	static const uint8_t nops[4] = {1, 1, 1, 0};
	static const size_t order[] = {2, 1, 0};
	static struct frags x;
	struct defrag *d = new_defrag(16, 65536);

	(void)state;
	x.len = pkt_answer_to(x.whole, "198.51.100.66", "big.example", 16, BIG);
	insert_hdr(&x, 20, nops, sizeof(nops));
	x.n = frag_ipv4(x.whole, x.len, 1500, x.f, x.flen, NFRAGS_MAX);
	assert_int_equal(x.n, 3);
	assert_int_equal(frag_at(&x, 1)[0], 0x46);
	feed_all(d, &x, order, 3);
	defrag_free(d);
}

/* A repeated fragment is dropped alone; the datagram still completes. */
static void test_duplicate(void **state)
{
	static struct frags x;
	struct defrag *d = new_defrag(16, 65536);
	struct defrag_datagram out;

	(void)state;
	big4(&x, 1);
	assert_int_equal(add(d, &x, 1, T0, &out), DEFRAG_HELD);
	assert_int_equal(add(d, &x, 1, T0, &out), DEFRAG_DROPPED);
	assert_int_equal(add(d, &x, 0, T0, &out), DEFRAG_HELD);
	assert_int_equal(add(d, &x, 2, T0, &out), DEFRAG_DONE);
	assert_whole(&x, &out);
	assert_int_equal(defrag_counters(d)->dropped[DEFRAG_DUPLICATE], 1);
	assert_int_equal(defrag_counters(d)->dropped[DEFRAG_OVERLAP], 0);
	assert_int_equal(defrag_counters(d)->reassembled, 3);
	assert_pending(d, 0, 0);
	defrag_free(d);
}

/* A partial overlap drops the datagram with every fragment it held. */
static void test_partial_overlap(void **state)
{
	static struct frags x;
	struct defrag *d = new_defrag(16, 65536);
	struct defrag_datagram out;
	uint8_t *f;

	(void)state;
	big4(&x, 2);
	/* the second fragment 8 octets early: into the first one's data */
	f = frag_at(&x, 1);
	pkt_put16(f + 6, (uint16_t)(pkt_get16(f + 6) - 1));
	pkt_put16(f + 10, csum_ipv4_header(f, 20));
	assert_int_equal(add(d, &x, 0, T0, &out), DEFRAG_HELD);
	assert_int_equal(add(d, &x, 1, T0, &out), DEFRAG_DROPPED);
	assert_int_equal(defrag_counters(d)->dropped[DEFRAG_OVERLAP], 2);
	assert_pending(d, 0, 0);
	/* what comes after begins a datagram that never completes */
	assert_int_equal(add(d, &x, 2, T0, &out), DEFRAG_HELD);
	assert_pending(d, 1, 1);
	defrag_free(d);
}

static void test_missing_last(void **state)
{
	static struct frags x;
	struct defrag *d = new_defrag(16, 65536);
	struct defrag_datagram out;

	(void)state;
	big6(&x, 3);
	for (size_t k = 0; k < 3; k++)
		assert_int_equal(add(d, &x, k, T0, &out), DEFRAG_HELD);
	assert_pending(d, 1, 3);
	assert_int_equal(defrag_counters(d)->datagrams, 0);
	defrag_free(d);
}

/* 30 s after its first fragment a datagram is gone; a moment less, not. */
static void test_timeout(void **state)
{
	static struct frags x;
	struct defrag_datagram out;

	(void)state;
	big4(&x, 4);
	for (int late = 0; late < 2; late++) {
		struct defrag *d = new_defrag(16, 65536);
		uint64_t last = T0 + DEFRAG_TIMEOUT_NS - (late ? 0 : 1);

		assert_int_equal(add(d, &x, 0, T0, &out), DEFRAG_HELD);
		assert_int_equal(add(d, &x, 1, T0 + 10 * SEC, &out),
				 DEFRAG_HELD);
		if (!late) {
			assert_int_equal(add(d, &x, 2, last, &out),
					 DEFRAG_DONE);
			assert_whole(&x, &out);
			assert_pending(d, 0, 0);
		} else {
			assert_int_equal(add(d, &x, 2, last, &out),
					 DEFRAG_HELD);
			assert_int_equal(
				defrag_counters(d)->dropped[DEFRAG_TIMEOUT], 2);
			assert_pending(d, 1, 1);
			/* and the late one 30 s after it came */
			defrag_expire(d, last + DEFRAG_TIMEOUT_NS);
			assert_int_equal(
				defrag_counters(d)->dropped[DEFRAG_TIMEOUT], 3);
			assert_pending(d, 0, 0);
		}
		defrag_free(d);
	}
}

/* Clears MF of fragment k (IPv4): a last fragment ending where it ends. */
static void make_last(struct frags *x, size_t k)
{
	uint8_t *f = frag_at(x, k);

	pkt_put16(f + 6, pkt_get16(f + 6) & 0x1fff);
	pkt_put16(f + 10, csum_ipv4_header(f, 20));
}

/* Two ends, or data past the end: the datagram is dropped. */
static void test_contradictions(void **state)
{
	static struct frags x;
	struct defrag_datagram out;
	struct defrag *d;

	(void)state;
	/* the true last, then a second "last" ending elsewhere */
	big4(&x, 5);
	d = new_defrag(16, 65536);
	assert_int_equal(add(d, &x, 0, T0, &out), DEFRAG_HELD);
	assert_int_equal(add(d, &x, 2, T0, &out), DEFRAG_HELD);
	make_last(&x, 1);
	assert_int_equal(add(d, &x, 1, T0, &out), DEFRAG_DROPPED);
	assert_int_equal(defrag_counters(d)->dropped[DEFRAG_BAD], 3);
	assert_pending(d, 0, 0);
	defrag_free(d);

	/* a last fragment before data held past it (IPv6, M cleared) */
	big6(&x, 6);
	d = new_defrag(16, 65536);
	assert_int_equal(add(d, &x, 2, T0, &out), DEFRAG_HELD);
	frag_at(&x, 1)[43] &= 0xfe;
	assert_int_equal(add(d, &x, 1, T0, &out), DEFRAG_DROPPED);
	assert_int_equal(defrag_counters(d)->dropped[DEFRAG_BAD], 2);
	assert_pending(d, 0, 0);
	defrag_free(d);

	/* data past the end a last fragment gave */
	big6(&x, 7);
	d = new_defrag(16, 65536);
	frag_at(&x, 1)[43] &= 0xfe;
	assert_int_equal(add(d, &x, 1, T0, &out), DEFRAG_HELD);
	assert_int_equal(add(d, &x, 2, T0, &out), DEFRAG_DROPPED);
	assert_int_equal(defrag_counters(d)->dropped[DEFRAG_BAD], 2);
	assert_pending(d, 0, 0);
	defrag_free(d);
}

/*
 * IPv4 fragments no datagram can use: one cut short by the capture is
 * dropped alone; one without data drops alone when it has no datagram,
 * and with its datagram when it has one (ip_frag_queue: end == offset).
 */
static void test_unusable_ipv4(void **state)
{
	static struct frags x;
	struct defrag *d = new_defrag(16, 65536);
	struct defrag_datagram out;
	uint8_t f[FRAG_STRIDE];

	(void)state;
	big4(&x, 8);
	/* cut by the capture: fewer octets than its total length */
	assert_int_equal(defrag_add(d, frag_at(&x, 0), x.flen[0] - 100, T0, 0,
				    &out),
			 DEFRAG_DROPPED);
	/* no data at all, and no datagram */
	memcpy(f, frag_at(&x, 1), 20);
	pkt_put16(f + 2, 20);
	pkt_put16(f + 10, csum_ipv4_header(f, 20));
	assert_int_equal(defrag_add(d, f, 20, T0, 0, &out), DEFRAG_DROPPED);
	assert_int_equal(defrag_counters(d)->dropped[DEFRAG_BAD], 2);
	assert_pending(d, 0, 0);
	/* the real ones still make the datagram */
	feed_all(d, &x, (const size_t[]){0, 1, 2}, 3);
	/* an empty fragment of a datagram held takes it along */
	assert_int_equal(add(d, &x, 2, T0, &out), DEFRAG_HELD);
	assert_int_equal(defrag_add(d, f, 20, T0, 0, &out), DEFRAG_DROPPED);
	assert_int_equal(defrag_counters(d)->dropped[DEFRAG_BAD], 4);
	assert_pending(d, 0, 0);
	defrag_free(d);
}

/*
 * An IPv4 fragment that is not the last with data not in units of 8 is
 * cut to them (ip_frag_queue: end &= ~7): three octets of trailing junk
 * on the first fragment are gone from the datagram.
 */
static void test_ipv4_cut_to_eight(void **state)
{
	static struct frags x;
	struct defrag *d = new_defrag(16, 65536);
	struct defrag_datagram out;
	static uint8_t f[FRAG_STRIDE];

	(void)state;
	big4(&x, 9);
	memcpy(f, frag_at(&x, 0), x.flen[0]);
	memset(f + x.flen[0], 0xee, 3);
	pkt_put16(f + 2, (uint16_t)(x.flen[0] + 3));
	pkt_put16(f + 10, csum_ipv4_header(f, 20));
	assert_int_equal(add(d, &x, 2, T0, &out), DEFRAG_HELD);
	assert_int_equal(defrag_add(d, f, x.flen[0] + 3, T0, 7, &out),
			 DEFRAG_HELD);
	assert_int_equal(add(d, &x, 1, T0, &out), DEFRAG_DONE);
	assert_whole(&x, &out);
	assert_pending(d, 0, 0);
	defrag_free(d);
}

/*
 * IPv6 fragments dropped alone (ip6_frag_queue, ipv6_frag_rcv): not the
 * last and not in units of 8; ending past 65535; a first fragment
 * without its whole UDP header.  The datagram they would have joined
 * still completes.
 */
static void test_unusable_ipv6(void **state)
{
	static struct frags x;
	struct defrag *d = new_defrag(16, 65536);
	struct defrag_datagram out;
	static uint8_t f[FRAG_STRIDE];

	(void)state;
	big6(&x, 10);
	assert_int_equal(add(d, &x, 3, T0, &out), DEFRAG_HELD);
	/* the second fragment with 4 octets more */
	memcpy(f, frag_at(&x, 1), x.flen[1]);
	pkt_put16(f + 4, (uint16_t)(pkt_get16(f + 4) + 4));
	assert_int_equal(defrag_add(d, f, x.flen[1] + 4, T0, 0, &out),
			 DEFRAG_DROPPED);
	/* the same at offset 65528, as a last fragment: past 65535 */
	memcpy(f, frag_at(&x, 1), x.flen[1]);
	pkt_put16(f + 42, 65528);
	assert_int_equal(defrag_add(d, f, x.flen[1], T0, 0, &out),
			 DEFRAG_DROPPED);
	/* a first fragment of 8 octets of data (it joins the datagram),
	 * and one of another datagram with 4 */
	memcpy(f, frag_at(&x, 0), 48 + 8);
	pkt_put16(f + 4, 8 + 8);
	assert_int_equal(defrag_add(d, f, 48 + 8, T0, 0, &out), DEFRAG_HELD);
	pkt_put16(f + 4, 8 + 4);
	pkt_put16(f + 46, 0x77);
	assert_int_equal(defrag_add(d, f, 48 + 4, T0, 0, &out), DEFRAG_DROPPED);
	assert_int_equal(defrag_counters(d)->dropped[DEFRAG_BAD], 3);
	assert_pending(d, 1, 2);
	defrag_free(d);

	d = new_defrag(16, 65536);
	assert_int_equal(add(d, &x, 3, T0, &out), DEFRAG_HELD);
	memcpy(f, frag_at(&x, 1), x.flen[1]);
	pkt_put16(f + 4, (uint16_t)(pkt_get16(f + 4) + 4));
	assert_int_equal(defrag_add(d, f, x.flen[1] + 4, T0, 0, &out),
			 DEFRAG_DROPPED);
	feed_all(d, &x, (const size_t[]){2, 1, 0}, 3);
	assert_pending(d, 0, 0);
	defrag_free(d);
}

/*
 * Duplicate or overlap, as inet_frag_queue_insert() tells them: runs
 * are fragments that came in order, one after the other; data wholly
 * inside one run is a duplicate (dropped alone), data across two runs an
 * overlap (the datagram dropped), even when the runs touch.  Five
 * fragments of 800 octets; the extra one repeats [400, 1200).
 */
static void test_runs(void **state)
{
	static struct frags x;
	static uint8_t f[FRAG_STRIDE];
	struct defrag_datagram out;
	struct defrag *d;
	size_t flen;

	(void)state;
	x.len = pkt_answer_to(x.whole, "198.51.100.66", "big.example", 16, BIG);
	x.n = frag_ipv4(x.whole, x.len, 20 + 800, x.f, x.flen, NFRAGS_MAX);
	assert_int_equal(x.n, 5);
	memcpy(f, x.whole, 20);
	memcpy(f + 20, x.whole + 20 + 400, 800);
	flen = 20 + 800;
	pkt_put16(f + 2, (uint16_t)flen);
	pkt_put16(f + 6, 0x2000 | 400 / 8);
	pkt_put16(f + 10, csum_ipv4_header(f, 20));

	/* in order: [0, 1600) is one run */
	d = new_defrag(16, 65536);
	assert_int_equal(add(d, &x, 0, T0, &out), DEFRAG_HELD);
	assert_int_equal(add(d, &x, 1, T0, &out), DEFRAG_HELD);
	assert_int_equal(defrag_add(d, f, flen, T0, 0, &out), DEFRAG_DROPPED);
	assert_int_equal(defrag_counters(d)->dropped[DEFRAG_DUPLICATE], 1);
	feed_all(d, &x, (const size_t[]){4, 3, 2}, 3);
	assert_pending(d, 0, 0);
	defrag_free(d);

	/* the second first: two runs, [0, 800) and [800, 1600) */
	d = new_defrag(16, 65536);
	assert_int_equal(add(d, &x, 1, T0, &out), DEFRAG_HELD);
	assert_int_equal(add(d, &x, 0, T0, &out), DEFRAG_HELD);
	assert_int_equal(defrag_add(d, f, flen, T0, 0, &out), DEFRAG_DROPPED);
	assert_int_equal(defrag_counters(d)->dropped[DEFRAG_OVERLAP], 3);
	assert_pending(d, 0, 0);
	defrag_free(d);

	/* past the tail fragment and into it: an overlap */
	d = new_defrag(16, 65536);
	assert_int_equal(add(d, &x, 0, T0, &out), DEFRAG_HELD);
	pkt_put16(f + 6, 0x2000 | 792 / 8);
	pkt_put16(f + 10, csum_ipv4_header(f, 20));
	assert_int_equal(defrag_add(d, f, flen, T0, 0, &out), DEFRAG_DROPPED);
	assert_int_equal(defrag_counters(d)->dropped[DEFRAG_OVERLAP], 2);
	assert_pending(d, 0, 0);
	defrag_free(d);
}

/* A datagram longer than IP allows is dropped when it would be whole. */
static void test_oversize(void **state)
{
	static uint8_t f[FRAG_STRIDE];
	struct defrag *d = new_defrag(16, 65536);
	struct defrag_datagram out;
	size_t off;

	(void)state;
	/* 60 octets of header and 65480 of data: 65540 in all */
	memset(f, 0, sizeof(f));
	f[0] = 0x4f;
	f[9] = 17;
	for (off = 0; off < 65480; off += 1480) {
		size_t k = 65480 - off < 1480 ? 65480 - off : 1480;

		pkt_put16(f + 2, (uint16_t)(60 + k));
		pkt_put16(f + 6,
			  (uint16_t)(off / 8 | (off + k < 65480 ? 0x2000 : 0)));
		assert_int_equal(defrag_add(d, f, 60 + k, T0, 0, &out),
				 off + k < 65480 ? DEFRAG_HELD
						 : DEFRAG_DROPPED);
	}
	assert_int_equal(defrag_counters(d)->dropped[DEFRAG_BAD], 45);
	/* data that would end past 65535 is refused at once */
	pkt_put16(f + 2, 60 + 48);
	pkt_put16(f + 6, 65512 / 8);
	assert_int_equal(defrag_add(d, f, 60 + 48, T0, 0, &out),
			 DEFRAG_DROPPED);
	assert_int_equal(defrag_counters(d)->dropped[DEFRAG_BAD], 46);
	assert_pending(d, 0, 0);
	defrag_free(d);
}

/* Out of slots, the oldest datagram makes room. */
static void test_no_room_slots(void **state)
{
	static struct frags a, b, c;
	struct defrag *d = new_defrag(2, 65536);
	struct defrag_datagram out;

	(void)state;
	big4(&a, 10);
	big4(&b, 11);
	big4(&c, 12);
	assert_int_equal(add(d, &a, 0, T0, &out), DEFRAG_HELD);
	assert_int_equal(add(d, &b, 0, T0, &out), DEFRAG_HELD);
	assert_int_equal(add(d, &c, 0, T0, &out), DEFRAG_HELD);
	assert_int_equal(defrag_counters(d)->dropped[DEFRAG_NO_ROOM], 1);
	assert_pending(d, 2, 2);
	assert_int_equal(add(d, &b, 1, T0, &out), DEFRAG_HELD);
	assert_int_equal(add(d, &b, 2, T0, &out), DEFRAG_DONE);
	assert_whole(&b, &out);
	assert_pending(d, 1, 1);
	defrag_free(d);
}

/* Out of pages: older datagrams make room, or the fragment's own goes. */
static void test_no_room_bytes(void **state)
{
	static struct frags a, b;
	struct defrag_datagram out;
	struct defrag *d;

	(void)state;
	big4(&a, 20);
	big4(&b, 21);
	/* 4000 octets take 4 pages of 1024, and there are 3 */
	d = new_defrag(16, 3 * DEFRAG_PAGE);
	assert_int_equal(add(d, &a, 0, T0, &out), DEFRAG_HELD);
	assert_int_equal(add(d, &a, 1, T0, &out), DEFRAG_HELD);
	assert_int_equal(add(d, &a, 2, T0, &out), DEFRAG_DROPPED);
	assert_int_equal(defrag_counters(d)->dropped[DEFRAG_NO_ROOM], 3);
	assert_pending(d, 0, 0);
	defrag_free(d);

	/* with 4, a newer datagram drops an older one to complete */
	d = new_defrag(16, 4 * DEFRAG_PAGE);
	assert_int_equal(add(d, &a, 0, T0, &out), DEFRAG_HELD);
	assert_int_equal(add(d, &b, 0, T0, &out), DEFRAG_HELD);
	assert_int_equal(add(d, &b, 1, T0, &out), DEFRAG_HELD);
	assert_int_equal(defrag_counters(d)->dropped[DEFRAG_NO_ROOM], 1);
	assert_int_equal(add(d, &b, 2, T0, &out), DEFRAG_DONE);
	assert_whole(&b, &out);
	assert_pending(d, 0, 0);
	defrag_free(d);
}

/* Whole packets, an IPv6 atomic fragment and broken headers are let be. */
static void test_not_fragments(void **state)
{
	static struct frags x;
	struct defrag *d = new_defrag(16, 65536);
	struct defrag_datagram out;
	uint8_t f[FRAG_STRIDE];
	size_t n;

	(void)state;
	big4(&x, 30);
	assert_int_equal(defrag_add(d, x.whole, x.len, T0, 0, &out),
			 DEFRAG_WHOLE);
	/* an IPv6 answer behind an atomic fragment header */
	n = pkt_answer_to(f, "2001:db8:66::1", "big.example", 16, 600);
	memmove(f + 48, f + 40, n - 40);
	f[40] = f[6];
	f[41] = 0;
	memset(f + 42, 0, 6);
	f[6] = 44;
	pkt_put16(f + 4, (uint16_t)(n - 40 + 8));
	assert_int_equal(defrag_add(d, f, n + 8, T0, 0, &out), DEFRAG_WHOLE);
	/* MF with a header length under 20 */
	memcpy(f, frag_at(&x, 0), x.flen[0]);
	f[0] = 0x44;
	assert_int_equal(defrag_add(d, f, x.flen[0], T0, 0, &out),
			 DEFRAG_WHOLE);
	/* no IP at all */
	f[0] = 0x25;
	assert_int_equal(defrag_add(d, f, x.flen[0], T0, 0, &out),
			 DEFRAG_WHOLE);
	assert_int_equal(defrag_counters(d)->fragments, 0);
	defrag_free(d);
}

/* Two datagrams with the same addresses and another ID, interleaved. */
static void test_interleaved(void **state)
{
	static struct frags a, b;
	struct defrag *d = new_defrag(16, 65536);
	struct defrag_datagram out;

	(void)state;
	big6(&a, 40);
	big6(&b, 41);
	for (size_t k = 0; k < 3; k++) {
		assert_int_equal(add(d, &b, k, T0, &out), DEFRAG_HELD);
		assert_int_equal(add(d, &a, 3 - k, T0, &out), DEFRAG_HELD);
	}
	assert_int_equal(add(d, &a, 0, T0, &out), DEFRAG_DONE);
	assert_whole(&a, &out);
	assert_int_equal(add(d, &b, 3, T0, &out), DEFRAG_DONE);
	assert_whole(&b, &out);
	assert_pending(d, 0, 0);
	defrag_free(d);
}

/*
 * Real answers of a real Unbound, fragmented by a real kernel at MTU 1280
 * and captured by tcpdump (tests/data/make-answer-fragments.sh): three
 * IPv4 and three IPv6 answers of the TXT set, each in four fragments, and
 * the queries and a small answer whole.  The oracles are outside this
 * code: each datagram made whole carries the UDP checksum its sender
 * computed over all of it (so every octet is in its place), its DNS
 * message is as long as dig said it received, and its IP header says its
 * length and (IPv4) passes its checksum.  Every fragment is used.
 */
static void test_real_capture(void **state)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct defrag *d = new_defrag(16, 65536);
	const struct defrag_counters *c = defrag_counters(d);
	struct defrag_datagram out;
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned fam[16], size[16];
	size_t nsizes = 0, done = 0, whole = 0;
	pcap_t *pc;
	FILE *f;

	(void)state;
	f = fopen(REAL_SIZES, "r");
	assert_non_null(f);
	while (nsizes < 16 &&
	       fscanf(f, "%u %u", &fam[nsizes], &size[nsizes]) == 2)
		nsizes++;
	fclose(f);
	assert_int_equal(nsizes, 6);
	pc = pcap_open_offline(REAL_PCAP, errbuf);
	assert_non_null(pc);
	assert_int_equal(pcap_datalink(pc), DLT_EN10MB);
	while (pcap_next_ex(pc, &h, &data) == 1) {
		const uint8_t *ip = data + 14, *p, *udp;
		uint64_t now = (uint64_t)h->ts.tv_sec * SEC +
			       (uint64_t)h->ts.tv_usec * 1000;
		size_t hl, ulen;
		uint16_t sum;

		assert_int_equal(h->caplen, h->len);
		switch (defrag_add(d, ip, h->caplen - 14, now, 0, &out)) {
		case DEFRAG_WHOLE:
			whole++;
			continue;
		case DEFRAG_HELD:
			continue;
		case DEFRAG_DONE:
			break;
		default:
			fail_msg("a fragment of the capture dropped");
		}
		assert_true(done < nsizes);
		p = out.pkt;
		assert_int_equal(p[0] >> 4, fam[done]);
		if (fam[done] == 4) {
			hl = (size_t)(p[0] & 0x0f) * 4;
			assert_int_equal(pkt_get16(p + 2), out.len);
			assert_int_equal(pkt_get16(p + 6) & 0x3fff, 0);
			assert_int_equal(p[9], 17);
			assert_int_equal(csum_buf(p, hl), 0);
		} else {
			hl = 40;
			assert_int_equal(pkt_get16(p + 4) + 40, out.len);
			assert_int_equal(p[6], 17);
		}
		udp = p + hl;
		ulen = out.len - hl;
		assert_int_equal(pkt_get16(udp), 53);
		assert_int_equal(pkt_get16(udp + 4), ulen);
		assert_int_equal(ulen - 8, size[done]);
		sum = fam[done] == 4 ? csum_udp_ipv4(p + 12, p + 16, udp, ulen)
				     : csum_udp_ipv6(p + 8, p + 24, udp, ulen);
		assert_int_equal(sum, pkt_get16(udp + 6));
		/* an answer (QR) with the 15 TXT records */
		assert_true(udp[8 + 2] & 0x80);
		assert_int_equal(pkt_get16(udp + 8 + 6), 15);
		done++;
	}
	pcap_close(pc);
	assert_int_equal(done, 6);
	assert_int_equal(whole, 8);
	assert_int_equal(c->fragments, 24);
	assert_int_equal(c->reassembled, 24);
	assert_int_equal(c->datagrams, 6);
	assert_pending(d, 0, 0);
	defrag_free(d);
}

static void test_new_limits(void **state)
{
	(void)state;
	assert_null(defrag_new(0, 65536, DEFRAG_TIMEOUT_NS));
	assert_null(defrag_new(DEFRAG_SLOTS_MAX + 1, 65536, DEFRAG_TIMEOUT_NS));
	assert_null(defrag_new(16, DEFRAG_BYTES_MAX + 1, DEFRAG_TIMEOUT_NS));
	defrag_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_every_order),
		cmocka_unit_test(test_ipv6_fragment_header),
		cmocka_unit_test(test_ipv6_hop_by_hop),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_duplicate),
		cmocka_unit_test(test_partial_overlap),
		cmocka_unit_test(test_missing_last),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_contradictions),
		cmocka_unit_test(test_unusable_ipv4),
		cmocka_unit_test(test_ipv4_cut_to_eight),
		cmocka_unit_test(test_unusable_ipv6),
		cmocka_unit_test(test_runs),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_no_room_slots),
		cmocka_unit_test(test_no_room_bytes),
		cmocka_unit_test(test_not_fragments),
		cmocka_unit_test(test_interleaved),
		cmocka_unit_test(test_real_capture),
		cmocka_unit_test(test_new_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
