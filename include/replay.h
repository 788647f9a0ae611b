/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Capture replay, `dnsrl -r capture.pcap [-c FILE]`: runs a policy over
 * recorded traffic, so an operator can tune it on yesterday's queries
 * before enforcing it.
 *
 * The decision is the daemon's own: policy_decide() with a bucket table
 * of cfg->table_size sources, the clock taken from the capture's
 * timestamps (so buckets refill at the capture's pace) and the table swept
 * as the daemon sweeps it, a chunk each 100 ms of capture time (one chunk
 * over a pause, a whole pass over a pause of an hour or more, and at the
 * end).  Nothing of the decision is done here.
 *
 * What is decided is what the NFQUEUE rule (`-p udp --dport 53`) would
 * queue: IPv4 and IPv6 UDP datagrams to port 53, cut to the daemon's copy
 * range.  The rest is counted as skipped: other traffic, packets a Linux
 * cooked capture marks outgoing, and fragments.  The kernel reassembles
 * IPv4 before the rule sees it, and of a fragmented IPv6 query the daemon
 * would see the first fragment only (a rare thing); the replay does not
 * reassemble, so the `fragments` setting is not exercised here.  A
 * capture taken on the resolver holds its own queries to upstream servers
 * too; on link types that do not record the direction, filter them out
 * when capturing (`tcpdump -Q in`, or `dst host` the resolver).
 *
 * Link types: Ethernet (with up to two 802.1Q/802.1ad tags), Linux cooked
 * v1 and v2, raw IP (RAW, IPV4, IPV6), BSD loopback (NULL, LOOP); pcap or
 * pcapng files.
 */
#ifndef DNSRL_REPLAY_H
#define DNSRL_REPLAY_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

#define REPLAY_TOP 20 /* sources listed, by refused queries */

/*
 * Replays the capture file at path ("-" reads standard input) under cfg
 * and writes a report to out.  For the mission's traffic (one source
 * sending ANY at 50/s for 10 s, another an A query a second) under
 * `limit 2/5s` it reads, long lines wrapped here with a backslash:
 *
 *	capture: capture.pcap (link type EN10MB)
 *	packets: read=510 decided=510 skipped=0 (not-ip=0 outgoing=0 \
 *	  not-udp53=0 fragments=0 broken=0)
 *	time: 2024-05-01 10:00:00.000000000 .. 2024-05-01 \
 *	  10:00:09.980000000 UTC, 9.980 s, 0 timestamps out of order
 *	rule any-abuse: matched=500 accepted=5 dropped=495 would-drop=0 \
 *	  held-down=0 total-refused=0
 *	episodes: limited=1 held=0 released=0 running=1
 *	top sources by refused queries:
 *	   1 198.51.100.66/32 any-abuse 495
 *	totals: queries=510 accepted=15 dropped=495 malformed=0 allowed=0 \
 *	  evicted=0 evicted-limited=0
 *	accept: within-limit=5 allow-listed=0 no-drop-rule=10 not-query=0 \
 *	  malformed=0
 *	drop: rule=495 malformed=0 fragments=0
 *
 * packets: read = decided + skipped, and skipped by reason: not IPv4 or
 * IPv6, outgoing, not UDP to port 53, fragments, broken IP/UDP headers.
 * time: the first and the latest timestamp; one before the latest is
 * taken as the latest and counted as out of order.
 * rule: one line per rule, in config order, the daemon's counters.
 * episodes: how many times a source began being limited, hold-downs
 * begun, episodes ended, episodes still open at the end (the daemon's
 * "limited", "hold-down" and "released" log lines, before their budget).
 * top sources: up to REPLAY_TOP (rule, source prefix) by refused queries,
 * then by rule order; "   none" when nobody was refused.  A source's
 * count is what its own bucket refused (drops and would-drops, hold-downs
 * included) over all its episodes; refusals by a rule's total cap belong
 * to no source (total-refused).  A source whose open episode was evicted
 * from a full table loses that episode's count (evicted-limited).
 * totals: the daemon's counters; accepted + dropped = decided.
 * accept / drop: what gave each verdict: a drop rule's limit, the
 * allow-list, no drop rule matching (log rules only, or none), not a
 * standard query, the malformed setting.
 *
 * Returns 0, or -errno with a message naming the capture in err[0..errlen):
 * -ENOENT and the like when the file cannot be opened, -EINVAL when it is
 * not a capture or its link type is not supported (nothing is written to
 * out then), -EINVAL when it turns out corrupt or truncated part way (the
 * report of what came before is written first, ending in a "stopped:"
 * line), -ENOMEM, or -EIO when out could not be written.
 */
int replay_run(const struct config *cfg, const char *path, FILE *out, char *err,
	       size_t errlen);

/*
 * The same over a capture already open for reading, reported under name.
 * Takes ownership of capture: it is closed before the function returns,
 * whatever the outcome.
 */
int replay_run_stream(const struct config *cfg, FILE *capture, const char *name,
		      FILE *out, char *err, size_t errlen);

#endif
