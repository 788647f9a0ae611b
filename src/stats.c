/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "stats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void stats_add(struct stats *sum, const struct stats *s)
{
	for (size_t i = 0; i < STATS_NCOUNTERS; i++)
		sum->c[i] += s->c[i];
	for (size_t i = 0; i < PACKET_NKINDS; i++)
		sum->pkt[i] += s->pkt[i];
	for (size_t i = 0; i < DNS_NSTATUS; i++)
		sum->dns[i] += s->dns[i];
	sum->table.inserted += s->table.inserted;
	sum->table.reused += s->table.reused;
	sum->table.evicted += s->table.evicted;
	sum->table.evicted_limited += s->table.evicted_limited;
	for (size_t id = 0; id < LIMITER_RULE_IDS; id++)
		for (size_t i = 0; i < STATS_R_NCOUNTERS; i++)
			sum->rule[id][i] += s->rule[id][i];
}

void stats_clear_rule(struct stats *s, unsigned id)
{
	if (id < LIMITER_RULE_IDS)
		memset(s->rule[id], 0, sizeof(s->rule[id]));
}

int stats_box_init(struct stats_box *b)
{
	int rc;

	memset(&b->snap, 0, sizeof(b->snap));
	rc = pthread_mutex_init(&b->lock, NULL);
	return -rc;
}

void stats_box_destroy(struct stats_box *b)
{
	pthread_mutex_destroy(&b->lock);
}

void stats_publish(struct stats_box *b, const struct stats *s)
{
	pthread_mutex_lock(&b->lock);
	memcpy(&b->snap, s, sizeof(*s));
	pthread_mutex_unlock(&b->lock);
}

void stats_collect(struct stats_box *b, struct stats *sum)
{
	pthread_mutex_lock(&b->lock);
	stats_add(sum, &b->snap);
	pthread_mutex_unlock(&b->lock);
}

int stats_format_daemon(const struct stats *s, char *buf, size_t buflen)
{
	return snprintf(
		buf, buflen,
		"packets=%" PRIu64 " verdicts=%" PRIu64 " accepted=%" PRIu64
		" dropped=%" PRIu64 " replaced=%" PRIu64 " queries=%" PRIu64
		" allowed=%" PRIu64 " malformed=%" PRIu64 " fragments=%" PRIu64
		" other=%" PRIu64 " invalid=%" PRIu64 " cut=%" PRIu64
		" responses=%" PRIu64 " opcode=%" PRIu64 " qdcount=%" PRIu64
		" inserted=%" PRIu64 " reused=%" PRIu64 " evicted=%" PRIu64
		" evicted-limited=%" PRIu64 " id-gaps=%" PRIu64
		" enobufs=%" PRIu64 " nl-errors=%" PRIu64 " internal=%" PRIu64
		" send-fail=%" PRIu64,
		s->c[STATS_PACKETS], s->c[STATS_VERDICTS], s->c[STATS_ACCEPTED],
		s->c[STATS_DROPPED], s->c[STATS_REPLACED], s->dns[DNS_QUERY],
		s->c[STATS_ALLOWED], s->c[STATS_MALFORMED],
		s->pkt[PACKET_FRAGMENT], s->pkt[PACKET_OTHER],
		s->pkt[PACKET_INVALID], s->c[STATS_CUT], s->dns[DNS_RESPONSE],
		s->dns[DNS_OPCODE], s->dns[DNS_QDCOUNT], s->table.inserted,
		s->table.reused, s->table.evicted, s->table.evicted_limited,
		s->c[STATS_ID_GAPS], s->c[STATS_ENOBUFS], s->c[STATS_NL_ERRORS],
		s->c[STATS_INTERNAL], s->c[STATS_SEND_FAIL]);
}

int stats_format_answers(const struct stats *s, char *buf, size_t buflen)
{
	return snprintf(
		buf, buflen,
		"packets=%" PRIu64 " verdicts=%" PRIu64 " accepted=%" PRIu64
		" dropped=%" PRIu64 " replaced=%" PRIu64 " answers=%" PRIu64
		" bytes=%" PRIu64 " not-answers=%" PRIu64 " allowed=%" PRIu64
		" malformed=%" PRIu64 " fragments=%" PRIu64 " other=%" PRIu64
		" invalid=%" PRIu64 " cut=%" PRIu64 " inserted=%" PRIu64
		" reused=%" PRIu64 " evicted=%" PRIu64
		" evicted-limited=%" PRIu64 " id-gaps=%" PRIu64
		" enobufs=%" PRIu64 " nl-errors=%" PRIu64 " internal=%" PRIu64
		" send-fail=%" PRIu64,
		s->c[STATS_PACKETS], s->c[STATS_VERDICTS], s->c[STATS_ACCEPTED],
		s->c[STATS_DROPPED], s->c[STATS_REPLACED], s->c[STATS_ANSWERS],
		s->c[STATS_ANSWER_BYTES], s->c[STATS_NOT_ANSWER],
		s->c[STATS_ALLOWED], s->c[STATS_MALFORMED],
		s->pkt[PACKET_FRAGMENT], s->pkt[PACKET_OTHER],
		s->pkt[PACKET_INVALID], s->c[STATS_CUT], s->table.inserted,
		s->table.reused, s->table.evicted, s->table.evicted_limited,
		s->c[STATS_ID_GAPS], s->c[STATS_ENOBUFS], s->c[STATS_NL_ERRORS],
		s->c[STATS_INTERNAL], s->c[STATS_SEND_FAIL]);
}

int stats_format_rule(const struct stats *s, unsigned id, unsigned what,
		      char *buf, size_t buflen)
{
	const uint64_t *r;
	int n, m;

	if (id >= LIMITER_RULE_IDS) {
		errno = EINVAL;
		return -1;
	}
	r = s->rule[id];
	n = snprintf(buf, buflen,
		     "matched=%" PRIu64 " accepted=%" PRIu64 " dropped=%" PRIu64
		     " would-drop=%" PRIu64 " held-down=%" PRIu64
		     " total-refused=%" PRIu64,
		     r[STATS_R_MATCHED], r[STATS_R_ACCEPTED],
		     r[STATS_R_DROPPED], r[STATS_R_WOULD_DROP], r[STATS_R_HELD],
		     r[STATS_R_TOTAL]);
	if (n < 0 || !(what & (STATS_FMT_ANSWER | STATS_FMT_TRUNCATE)))
		return n;
	if (what & STATS_FMT_ANSWER)
		m = snprintf((size_t)n < buflen ? buf + n : NULL,
			     (size_t)n < buflen ? buflen - (size_t)n : 0,
			     " bytes=%" PRIu64 " bytes-refused=%" PRIu64
			     " truncated=%" PRIu64 " truncate-failed=%" PRIu64
			     " would-refuse-bytes=%" PRIu64,
			     r[STATS_R_BYTES], r[STATS_R_BYTES_REFUSED],
			     r[STATS_R_TRUNCATED], r[STATS_R_TRUNC_FAILED],
			     r[STATS_R_BYTES_WOULD]);
	else
		m = snprintf((size_t)n < buflen ? buf + n : NULL,
			     (size_t)n < buflen ? buflen - (size_t)n : 0,
			     " truncated=%" PRIu64 " truncate-failed=%" PRIu64,
			     r[STATS_R_TRUNCATED], r[STATS_R_TRUNC_FAILED]);
	return m < 0 ? m : n + m;
}
