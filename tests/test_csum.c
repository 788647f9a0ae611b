/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Internet checksum: the worked example of RFC 1071 (section 3), a
 * published IPv4 header, UDP datagrams the Linux kernel accepted (see
 * kernel_udp4 and kernel_udp6), and for everything else a plain sum
 * written here, over random data of every length up to 300, odd and even,
 * in one piece and in chained pieces.  The RFC 1624 update is checked
 * against a full recompute for random fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "csum.h"

/* a fixed xorshift, so every run draws the same data */
static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t draw(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 32);
}

static void fill(uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)draw();
}

/* The one's-complement sum, plainly: octets into their half of a word. */
static uint16_t plain_sum(const uint8_t *b, size_t n)
{
	uint32_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc += i % 2 == 0 ? (uint32_t)b[i] << 8 : b[i];
	while (acc > 0xffff)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
static void test_rfc1071_example(void **state)
{
	static const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03,
				    0xf4, 0xf5, 0xf6, 0xf7};

	(void)state;
	assert_int_equal(csum_add(0, b, sizeof(b)), 0xddf2);
	assert_int_equal(csum_buf(b, sizeof(b)), 0x220d);
	/* in pieces: the sum is associative and commutative */
	assert_int_equal(csum_add(csum_add(0, b + 4, 4), b, 4), 0xddf2);
	assert_int_equal(csum_add(csum_add(csum_add(0, b, 2), b + 2, 2), b + 4,
				  4),
			 0xddf2);
}

static void test_odd_lengths(void **state)
{
	static const uint8_t b[] = {0xab, 0xcd, 0xef};

	(void)state;
	/* an odd last octet is the high half of a word */
	assert_int_equal(csum_add(0, b, 1), 0xab00);
	assert_int_equal(csum_add(0, b, 3), 0xabcd + 0xef00 - 0xffff);
	assert_int_equal(csum_add(0, b, 0), 0);
	assert_int_equal(csum_buf(b, 0), 0xffff);
	assert_int_equal(csum_add(0x1234, b, 0), 0x1234);
}

/* Every length 0..300, whole and split at every even offset. */
static void test_against_plain(void **state)
{
	uint8_t b[301];

	(void)state;
	for (size_t n = 0; n <= 300; n++) {
		fill(b, n);
		uint16_t want = plain_sum(b, n);

		assert_int_equal(csum_add(0, b, n), want);
		assert_int_equal(csum_buf(b, n), (uint16_t)~want);
		for (size_t k = 0; k <= n; k += 2)
			assert_int_equal(csum_add(csum_add(0, b, k), b + k,
						  n - k),
					 want);
	}
	/* all ones: the sum that folds back onto itself */
	memset(b, 0xff, sizeof(b));
	assert_int_equal(csum_add(0, b, 300), 0xffff);
	assert_int_equal(csum_add(0xffff, b, 300), 0xffff);
}

/* 64 KiB of 0xff octets: the accumulator must not lose a carry. */
static void test_long_buffer(void **state)
{
	static uint8_t b[1 << 17];

	(void)state;
	memset(b, 0xff, sizeof(b));
	assert_int_equal(csum_add(0, b, sizeof(b)), 0xffff);
	fill(b, sizeof(b));
	assert_int_equal(csum_add(0, b, sizeof(b)), plain_sum(b, sizeof(b)));
}

/* The IPv4 header checksum example of the Wikipedia article, b861. */
static void test_ipv4_header(void **state)
{
	uint8_t h[24] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
			 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
			 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

	(void)state;
	assert_int_equal(csum_ipv4_header(h, 20), 0xb861);
	assert_int_equal(csum_buf(h, 20), 0);
	/* the field is read as zero, whatever it holds */
	h[10] = 0x12;
	h[11] = 0x34;
	assert_int_equal(csum_ipv4_header(h, 20), 0xb861);
	/* with 4 octets of options (router alert) */
	h[0] = 0x46;
	h[20] = 0x94;
	h[21] = 0x04;
	h[10] = 0;
	h[11] = 0;
	uint16_t c = csum_ipv4_header(h, 24);

	assert_int_equal(c, (uint16_t)~plain_sum(h, 24));
	h[10] = (uint8_t)(c >> 8);
	h[11] = (uint8_t)c;
	assert_int_equal(csum_buf(h, 24), 0);
}

/*
 * UDP datagrams whose checksums the Linux kernel accepted: each was sent
 * over lo in a scratch network namespace with an AF_PACKET socket and
 * delivered to a bound UDP socket, and the same datagram with the
 * checksum off by one was not.  From 198.51.100.53 port 53 to 203.0.113.7
 * port 41234 (IPv6: 2001:db8:0:53::53 to 2001:db8::7), 21 octets: a DNS
 * header and a zero octet, an odd length.
 */
static const uint8_t kernel_src4[4] = {198, 51, 100, 53};
static const uint8_t kernel_dst4[4] = {203, 0, 113, 7};
static const uint8_t kernel_udp4[] = {
	0x00, 0x35, 0xa1, 0x12, 0x00, 0x15, 0x00, 0x00, 0xbe, 0xef, 0x83,
	0x80, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint16_t kernel_csum4 = 0xb59a;

static void test_udp_ipv4(void **state)
{
	uint8_t u[sizeof(kernel_udp4)], pseudo[12 + sizeof(kernel_udp4)];
	uint16_t c;

	(void)state;
	memcpy(u, kernel_udp4, sizeof(u));
	assert_int_equal(csum_udp_ipv4(kernel_src4, kernel_dst4, u, sizeof(u)),
			 kernel_csum4);
	/* the field is read as zero; the plain sum agrees */
	u[6] = 0xaa;
	c = csum_udp_ipv4(kernel_src4, kernel_dst4, u, sizeof(u));
	assert_int_equal(c, kernel_csum4);
	for (size_t n = 8; n <= sizeof(u); n++) {
		memcpy(pseudo, kernel_src4, 4);
		memcpy(pseudo + 4, kernel_dst4, 4);
		pseudo[8] = 0;
		pseudo[9] = 17;
		pseudo[10] = (uint8_t)(n >> 8);
		pseudo[11] = (uint8_t)n;
		memcpy(pseudo + 12, u, n);
		pseudo[12 + 6] = 0;
		pseudo[12 + 7] = 0;
		c = csum_udp_ipv4(kernel_src4, kernel_dst4, u, n);
		assert_int_not_equal(c, 0);
		/* stored, the whole sums to all ones */
		pseudo[12 + 6] = (uint8_t)(c >> 8);
		pseudo[12 + 7] = (uint8_t)c;
		assert_int_equal(plain_sum(pseudo, 12 + n), 0xffff);
	}
}

static const uint8_t kernel_src6[16] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0x53, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53};
static const uint8_t kernel_dst6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
					0,    0,    0,	  0,	0, 0, 0, 0x07};
static const uint8_t kernel_udp6[] = {
	0x00, 0x35, 0xa1, 0x12, 0x00, 0x15, 0x00, 0x00, 0xbe, 0xef, 0x83,
	0x80, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint16_t kernel_csum6 = 0xbfec;

static void test_udp_ipv6(void **state)
{
	uint8_t u[sizeof(kernel_udp6)], pseudo[40 + sizeof(kernel_udp6)];
	uint16_t c;

	(void)state;
	memcpy(u, kernel_udp6, sizeof(u));
	assert_int_equal(csum_udp_ipv6(kernel_src6, kernel_dst6, u, sizeof(u)),
			 kernel_csum6);
	for (size_t n = 8; n <= sizeof(u); n++) {
		memset(pseudo, 0, 40);
		memcpy(pseudo, kernel_src6, 16);
		memcpy(pseudo + 16, kernel_dst6, 16);
		pseudo[34] = (uint8_t)(n >> 8);
		pseudo[35] = (uint8_t)n;
		pseudo[39] = 17;
		memcpy(pseudo + 40, u, n);
		c = csum_udp_ipv6(kernel_src6, kernel_dst6, u, n);
		assert_int_not_equal(c, 0);
		pseudo[40 + 6] = (uint8_t)(c >> 8);
		pseudo[40 + 7] = (uint8_t)c;
		assert_int_equal(plain_sum(pseudo, 40 + n), 0xffff);
	}
}

/* The IPv6 pseudo-header's length has 32 bits (a jumbogram's would). */
static void test_udp_ipv6_long(void **state)
{
	static uint8_t big[40 + 70001];
	const size_t n = 70001;
	uint16_t c;

	(void)state;
	memset(big, 0, 40);
	memcpy(big, kernel_src6, 16);
	memcpy(big + 16, kernel_dst6, 16);
	big[33] = (uint8_t)(n >> 16);
	big[34] = (uint8_t)(n >> 8);
	big[35] = (uint8_t)n;
	big[39] = 17;
	fill(big + 40, n);
	big[46] = 0;
	big[47] = 0;
	c = csum_udp_ipv6(kernel_src6, kernel_dst6, big + 40, n);
	big[46] = (uint8_t)(c >> 8);
	big[47] = (uint8_t)c;
	assert_int_equal(plain_sum(big, 40 + n), 0xffff);
}

/*
 * A computed 0 is sent as 0xffff.  The datagram is chosen so that its sum
 * is 0xffff: the last word makes up the difference.
 */
static void test_udp_zero_is_ffff(void **state)
{
	uint8_t u[12] = {0x00, 0x35, 0x12, 0x34, 0x00, 0x0c, 0, 0};
	uint8_t pseudo[12 + 12];
	uint16_t rest;

	(void)state;
	memcpy(pseudo, kernel_src4, 4);
	memcpy(pseudo + 4, kernel_dst4, 4);
	pseudo[8] = 0;
	pseudo[9] = 17;
	pseudo[10] = 0;
	pseudo[11] = 12;
	memcpy(pseudo + 12, u, 12);
	/* sum + rest = 0xffff in one's complement */
	rest = (uint16_t)(0xffff - plain_sum(pseudo, 24));
	u[10] = (uint8_t)(rest >> 8);
	u[11] = (uint8_t)rest;
	memcpy(pseudo + 12, u, 12);
	assert_int_equal(plain_sum(pseudo, 24), 0xffff);
	assert_int_equal(csum_udp_ipv4(kernel_src4, kernel_dst4, u, 12),
			 0xffff);
}

static int all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/* How a UDP sender stores a checksum: 0 goes out as 0xffff. */
static uint16_t udp_map(uint16_t c)
{
	return c == 0 ? 0xffff : c;
}

/*
 * RFC 1624: an updated field, against the sum done again, as it is and as
 * a UDP sender stores it.  All-0xff data makes the sum 0xffff and so the
 * checksum 0, the case the UDP mapping is for.
 */
static void test_update16(void **state)
{
	uint8_t b[64];
	unsigned int mapped = 0;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		size_t n = 2 + draw() % 63, off = 2 * (draw() % (n / 2));
		uint16_t old, new, before, after;
		int zero_before;

		fill(b, n);
		if (i % 16 == 0)
			memset(b, 0xff, n);
		zero_before = all_zero(b, n);
		before = csum_buf(b, n);
		old = (uint16_t)(b[off] << 8 | b[off + 1]);
		new = (uint16_t)draw();
		if (i % 7 == 0)
			new = (uint16_t)~old;
		if (i % 11 == 0)
			new = old;
		b[off] = (uint8_t)(new >> 8);
		b[off + 1] = (uint8_t) new;
		after = csum_buf(b, n);
		/* all-zero data has two sums, 0 and 0xffff (header comment) */
		if (zero_before || all_zero(b, n))
			continue;
		assert_int_equal(csum_update16(before, old, new), after);
		assert_int_equal(
			udp_map(csum_update16(udp_map(before), old, new)),
			udp_map(after));
		mapped += before == 0;
	}
	assert_true(mapped > 1000);
	/* the documented exception, and equal values otherwise */
	assert_int_equal(csum_update16(0xffff, 0xffff, 0), 0xffff);
	assert_int_equal(csum_update16(0x1234, 0x5678, 0x5678), 0x1234);
}

/* A header with its checksum, a field changed: it still verifies. */
static void test_update16_ipv4_header(void **state)
{
	uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
			 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
			 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

	(void)state;
	for (unsigned int v = 0; v < 0x10000; v += 257) {
		uint16_t old = (uint16_t)(h[4] << 8 | h[5]);
		uint16_t c = (uint16_t)(h[10] << 8 | h[11]);

		c = csum_update16(c, old, (uint16_t)v); /* the ID */
		h[4] = (uint8_t)(v >> 8);
		h[5] = (uint8_t)v;
		h[10] = (uint8_t)(c >> 8);
		h[11] = (uint8_t)c;
		assert_int_equal(csum_buf(h, 20), 0);
		assert_int_equal(c, csum_ipv4_header(h, 20));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1071_example),
		cmocka_unit_test(test_odd_lengths),
		cmocka_unit_test(test_against_plain),
		cmocka_unit_test(test_long_buffer),
		cmocka_unit_test(test_ipv4_header),
		cmocka_unit_test(test_udp_ipv4),
		cmocka_unit_test(test_udp_ipv6),
		cmocka_unit_test(test_udp_ipv6_long),
		cmocka_unit_test(test_udp_zero_is_ffff),
		cmocka_unit_test(test_update16),
		cmocka_unit_test(test_update16_ipv4_header),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
