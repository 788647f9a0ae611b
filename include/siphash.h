/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SipHash-1-3 with a 64-bit output: a keyed hash for hash tables, fast on
 * short inputs.  With a secret random key nobody outside can predict which
 * bucket an input falls into, so collisions cannot be aimed.  (1-3 is the
 * variant hash tables use; a MAC would want 2-4.)
 */
#ifndef DNSRL_SIPHASH_H
#define DNSRL_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#define SIPHASH_KEY_LEN 16

/*
 * SipHash-1-3 of data[0..len) under key; byte order as in the reference
 * implementation (key and input read little-endian).  data need not be
 * aligned.  Cannot fail.
 */
uint64_t siphash13(const uint8_t key[SIPHASH_KEY_LEN], const void *data,
		   size_t len);

/*
 * Reads a key into the two words siphash13_16() takes, so a table can
 * convert its key once rather than per call.
 */
void siphash13_key(uint64_t k[2], const uint8_t key[SIPHASH_KEY_LEN]);

/*
 * The fast path for exactly 16 bytes of input given as two words: equal to
 * siphash13(key, in, 16) where in holds m0 then m1, each little-endian, and
 * k comes from siphash13_key(k, key).
 */
uint64_t siphash13_16(const uint64_t k[2], uint64_t m0, uint64_t m1);

#endif
