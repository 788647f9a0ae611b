/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the rewrite of an answer into a truncated one.
 *
 * Each input is rewritten twice: as it is, and with its IP and UDP
 * lengths made to agree with its size (so that mutations which change
 * the size still reach the DNS walk).  Whatever the input, nothing may
 * crash, and a status other than TRUNCATE_OK leaves *out_used at 0.  On
 * TRUNCATE_OK, truncate_oracle.h checks the result: no longer than the
 * input, the same IP header and ports, both checksums right by a plain
 * sum, and a DNS message that ldns_wire2pkt reads as a header with TC=1,
 * the original's question and at most its OPT (agreeing with ldns's
 * reading of the original where ldns can read it; see oracle_same).  The out buffer is
 * exactly as large as the input, or the result, so ASan sees any write
 * past what is claimed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "truncate.h"

#include "../truncate_oracle.h"

#define FIX_MAX 65535 /* the largest IPv4 datagram */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

static void check(const uint8_t *pkt, size_t len)
{
	uint8_t *out = malloc(len > 0 ? len : 1), *again;
	size_t used = 1, used2 = 1, dns;
	enum truncate_status s;

	require(out != NULL);
	/* the result is never longer than the input: len always fits */
	s = truncate_answer(pkt, len, out, len, &used);
	require((unsigned int)s < TRUNCATE_NSTATUS && s != TRUNCATE_NO_ROOM);
	if (s != TRUNCATE_OK) {
		require(used == 0);
		free(out);
		return;
	}
	require(used <= len);
	require(oracle_frame(pkt, len, out, used, &dns) == NULL);
	require(oracle_dns(pkt + dns, len - dns, out + dns, used - dns,
			   false) == NULL);

	/* exactly the room needed is enough, one octet less is not */
	again = malloc(used);
	require(again != NULL);
	require(truncate_answer(pkt, len, again, used - 1, &used2) ==
		TRUNCATE_NO_ROOM);
	require(used2 == 0);
	require(truncate_answer(pkt, len, again, used, &used2) == TRUNCATE_OK);
	require(used2 == used && memcmp(again, out, used) == 0);
	free(again);
	free(out);
}

/*
 * Makes the IP payload length and the UDP length (where the walk over
 * hop-by-hop, destination options and fragment headers finds UDP) agree
 * with len, leaving every other octet as the fuzzer made it.
 */
static void fix_lengths(uint8_t *p, size_t len)
{
	size_t off;
	uint8_t next;

	if (len >= 20 && p[0] >> 4 == 4) {
		put16(p + 2, len);
		off = (size_t)(p[0] & 0x0f) * 4;
		next = p[9];
	} else if (len >= 40 && p[0] >> 4 == 6) {
		put16(p + 4, len - 40);
		off = 40;
		next = p[6];
		while ((next == 0 || next == 60 || next == 44) &&
		       off + 8 <= len) {
			size_t ext = next == 44 ? 8
						: ((size_t)p[off + 1] + 1) * 8;

			next = p[off];
			off += ext;
		}
	} else {
		return;
	}
	if (next == 17 && off + 8 <= len)
		put16(p + off + 4, len - off);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	/* a private copy of exactly size octets, so ASan sees overreads */
	copy = malloc(size > 0 ? size : 1);
	require(copy != NULL);
	memcpy(copy, data, size);
	check(copy, size);
	require(memcmp(copy, data, size) == 0);
	if (size <= FIX_MAX) {
		fix_lengths(copy, size);
		check(copy, size);
	}
	free(copy);
	return 0;
}
