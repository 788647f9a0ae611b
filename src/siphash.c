/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SipHash-1-3 (Aumasson and Bernstein): one compression round per 8-byte
 * word, three finalisation rounds.
 */
#include <endian.h>
#include <string.h>

#include "siphash.h"

struct sip {
	uint64_t v0, v1, v2, v3;
};

static inline uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void sip_round(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = rotl(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl(s->v2, 32);
}

static inline void sip_init(struct sip *s, uint64_t k0, uint64_t k1)
{
	/* "somepseudorandomlygeneratedbytes" */
	s->v0 = k0 ^ UINT64_C(0x736f6d6570736575);
	s->v1 = k1 ^ UINT64_C(0x646f72616e646f6d);
	s->v2 = k0 ^ UINT64_C(0x6c7967656e657261);
	s->v3 = k1 ^ UINT64_C(0x7465646279746573);
}

static inline void sip_compress(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	s->v0 ^= m;
}

static inline uint64_t sip_finish(struct sip *s)
{
	s->v2 ^= 0xff;
	sip_round(s);
	sip_round(s);
	sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* memcpy, so an unaligned input is no undefined behaviour. */
static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t x;

	memcpy(&x, p, sizeof(x));
	return le64toh(x);
}

void siphash13_key(uint64_t k[2], const uint8_t key[SIPHASH_KEY_LEN])
{
	k[0] = load_le64(key);
	k[1] = load_le64(key + 8);
}

uint64_t siphash13(const uint8_t key[SIPHASH_KEY_LEN], const void *data,
		   size_t len)
{
	const uint8_t *in = data;
	const uint8_t *end = in + (len & ~(size_t)7);
	uint64_t b = (uint64_t)len << 56;
	uint64_t k[2];
	struct sip s;

	siphash13_key(k, key);
	sip_init(&s, k[0], k[1]);
	for (; in != end; in += 8)
		sip_compress(&s, load_le64(in));
	/* The last word: the tail bytes, and the length mod 256 on top. */
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)in[i] << (8 * i);
	sip_compress(&s, b);
	return sip_finish(&s);
}

uint64_t siphash13_16(const uint64_t k[2], uint64_t m0, uint64_t m1)
{
	struct sip s;

	sip_init(&s, k[0], k[1]);
	sip_compress(&s, m0);
	sip_compress(&s, m1);
	sip_compress(&s, (uint64_t)16 << 56);
	return sip_finish(&s);
}
