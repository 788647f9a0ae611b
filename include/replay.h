/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Capture replay, `dnsrl -r capture.pcap [-c FILE]`: runs a policy over
 * recorded traffic, so an operator can tune it on yesterday's queries and
 * answers before enforcing it.
 *
 * The decision is the daemon's own: policy_decide() for queries and
 * policy_decide_answer() for answers, on one bucket table of
 * cfg->table_size sources (the two paths share it, as in the daemon), in
 * capture order, the clock taken from the capture's timestamps (so
 * buckets refill at the capture's pace) and the table swept as the daemon
 * sweeps it, a chunk each 100 ms of capture time (one chunk over a pause,
 * a whole pass over a pause of an hour or more, and at the end).  Nothing
 * of the decision is done here.
 *
 * What is decided is what the daemon's NFQUEUE rules would queue: the
 * query path's (INPUT, `-p udp --dport 53`) takes IPv4 and IPv6 UDP
 * datagrams the resolver receives on port 53, the answer path's (OUTPUT,
 * `-p udp --sport 53`) those it sends from port 53.  Which way a packet
 * went is known in a Linux cooked capture (`tcpdump -i any`): a packet it
 * marks outgoing is judged as an answer when it is from port 53 and
 * skipped as `outgoing` otherwise (the resolver's own queries upstream);
 * one it marks incoming is a query when it is to port 53 and skipped as
 * `answers-in` when it is only from port 53 (answers from upstream
 * servers).  On other links the ports decide (to port 53: a query, from
 * port 53: an answer; between port 53 and port 53, the QR bit).  Such a
 * capture must not hold the resolver's own traffic with upstream servers,
 * or its queries are judged by their source (the resolver) and their
 * answers by their destination (the resolver): filter it out when
 * capturing, or capture on `any`.
 *
 * Of those, what the daemon's kernel rules (rules.c) would not queue is
 * skipped as `unqueued`: a query from a source outside `serve` (when it
 * lists prefixes of the family), an answer to a destination outside it,
 * an answer shorter than the smallest answer rule's `size` (xt_length,
 * the IP length), and every answer when the policy has no answer rule.
 * The daemon accepts them without a look; the counters of each path are
 * then the daemon's own.  The prefilter and the kernel holds of query
 * rules are not modelled: queries they keep from the queue are decided
 * here (accepted, or refused in the hold-down).
 *
 * A capture for the answer path must hold every fragment of an answer
 * (a non-first fragment has no UDP header, so `udp port 53` alone misses
 * it); a fragment the capture cut short is dropped (bad), and with it its
 * answer.  A whole answer cut short (a small snap length) is judged at
 * the length its IP header gives, the octets not captured as zeros (the
 * question comes first): counted as `cut=` on the answers line.
 *
 * Fragments are put back together first (defrag.h: by IPv4 source,
 * destination, protocol and ID, or IPv6 source, destination and
 * identification; at most DEFRAG_SLOTS_MAX datagrams and DEFRAG_BYTES_MAX
 * octets at once, fewer for a smaller capture; 30 s of capture time per
 * datagram), and the whole datagram is decided when its last fragment
 * comes, as one more packet, with its whole IP length: for an answer that
 * is what the answer path saw at OUTPUT, before the kernel cut it (for
 * IPv6 without the fragment header).  A fragmented query is decided whole
 * too: the kernel reassembles IPv4 before the queue, and IPv6 when
 * conntrack's defragmentation runs (without it the daemon would see, and
 * judge by the `fragments` setting, only the first fragment; that setting
 * is not exercised here).
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

#define REPLAY_TOP 20 /* sources, and destinations, listed */

/*
 * Replays the capture file at path ("-" reads standard input) under cfg
 * and writes a report to out.  For the mission's traffic (one source
 * sending ANY at 50/s for 10 s, another an A query a second) under
 * `limit 2/5s` it reads, long lines wrapped here with a backslash:
 *
 *	capture: capture.pcap (link type EN10MB)
 *	packets: read=510 decided=510 skipped=0 (not-ip=0 outgoing=0 \
 *	  not-udp53=0 fragments=0)
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
 * With answer rules in the policy, `serve` in it, or answers in the
 * capture (else the report is the above, line for line): for three IPv4
 * and three IPv6 answers of ~4 KB, each in four fragments, under
 * `size 1000`, `bytes 5000/1h` and `action truncate`
 * (tests/data/answer-fragments.pcap):
 *
 *	packets: read=32 decided=13 skipped=25 (not-ip=0 outgoing=0 \
 *	  not-udp53=0 fragments=24 answers-in=0 unqueued=1) \
 *	  reassembled=24 datagrams=6 dropped=0 (duplicate=0 overlap=0 \
 *	  bad=0 timeout=0 no-room=0) incomplete=0 held=0
 *	...
 *	rule big: matched=6 accepted=4 dropped=0 would-drop=0 held-down=0 \
 *	  total-refused=0 bytes=24138 bytes-refused=7890 truncated=2 \
 *	  truncate-failed=0 would-refuse-bytes=0
 *	...
 *	top destinations by refused octets:
 *	   1 2001:db8:2::/56 big 4033
 *	   2 198.51.100.66/32 big 4013
 *	...
 *	answers: packets=6 verdicts=6 accepted=4 dropped=0 replaced=2 \
 *	  answers=6 bytes=24138 not-answers=0 allowed=0 malformed=0 \
 *	  fragments=0 other=0 invalid=0 cut=0 inserted=2 reused=0 \
 *	  evicted=0 evicted-limited=0 id-gaps=0 enobufs=0 nl-errors=0 \
 *	  internal=0 send-fail=0
 *
 * packets: read + datagrams = decided + skipped: a datagram made whole
 * from fragments is decided (or skipped) as one more packet.  skipped by
 * reason: not IPv4 or IPv6, outgoing (sent by the capturing host, and no
 * answer), neither UDP to port 53 nor from it, fragments (each goes to
 * the reassembly), and in the longer form answers-in (answers the
 * capturing host received) and unqueued (what no NFQUEUE rule of the
 * daemon would take, above).  With fragments, what became of them:
 * reassembled into datagrams, dropped (duplicate: inside data their
 * datagram held; overlap: overlapping it otherwise, with their datagram;
 * bad: cut short by the capture, not usable, or contradicting their
 * datagram; timeout: their datagram not whole 30 s after its first
 * fragment; no-room: dropped to make room), and held at the end in
 * incomplete datagrams: fragments = reassembled + dropped + held.
 * time: the first and the latest timestamp; one before the latest is
 * taken as the latest and counted as out of order.
 * rule: one line per rule, in config order, the daemon's counters
 * (stats_format_rule, its path's); an answer rule's add bytes= (octets
 * of the answers it matched), bytes-refused= (that did not leave: a
 * dropped answer's length, a truncated one's less what went instead),
 * truncated=, truncate-failed=, would-refuse-bytes= (a log rule's).
 * episodes: how many times a source (or destination) began being
 * limited, hold-downs begun, episodes ended, episodes still open at the
 * end (the daemon's "limited", "hold-down" and "released" log lines,
 * before their budget), query and answer rules alike.
 * top sources: up to REPLAY_TOP (query rule, source prefix) by refused
 * queries, then by rule order; "   none" when nobody was refused.  A
 * source's count is what its own bucket refused (drops and would-drops,
 * hold-downs included) over all its episodes; refusals by a rule's total
 * cap belong to no source (total-refused).  A source whose open episode
 * was evicted from a full table loses that episode's count
 * (evicted-limited).
 * top destinations (with answer rules): the same for (answer rule,
 * destination prefix), in octets: what the destination's episodes
 * refused or would have, a whole answer's length for each (truncated
 * ones too), as the daemon's top and "released" lines count them.
 * totals: the query path's counters; accepted + dropped = its decisions.
 * accept / drop: what gave each query verdict: a drop rule's limit, the
 * allow-list, no drop rule matching (log rules only, or none), not a
 * standard query, the malformed setting.
 * answers (with answer rules): the answer path's counters as the daemon's
 * "answers:" line has them (stats_format_answers): packets = verdicts =
 * accepted + dropped + replaced; cut counts answers the capture cut
 * short.  The decided of the packets line is the query path's plus the
 * answer path's.
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
