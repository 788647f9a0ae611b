#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# serial
# suite: long
#
# t_failopen.sh: a daemon that stops answering (SIGSTOP for 2 s) behind a
# small queue (queue-maxlen 64), under a steady stream of A queries for a
# 14-label name (the printed prefilter queues those: every one meets the
# daemon), 500/s for 5 s from the IPv4 client.  Run twice, with a fresh
# daemon each time:
#
#   fail-open yes: the queue fills (the kernel shows exactly 64 waiting)
#     and the kernel passes the rest unchecked: 100 probe queries sent over
#     IPv6 during the stop are all answered before SIGCONT; every query of
#     the stream is answered (the 64 queued late).  Nothing is counted as
#     dropped by the kernel; the NFQUEUE rules' packets minus the daemon's
#     verdicts are the packets passed unchecked: more than the probe, in
#     line with 500/s over the measured stop minus the 64 the queue held.
#   fail-open no: the same, but the packets beyond the queue are dropped:
#     the probe gets no answer, the stream loses what the kernel dropped,
#     and the queue line's kernel-dropped equals rule packets - verdicts
#     and the clients' losses, exactly.
#
# Both times, after SIGCONT: same pid, queue empty (waiting=0), no id gap
# (a full queue takes no id), every id verdicted, and the limiter works:
# 20 ANY at once from one source, exactly 2 answered.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib-fault.sh
. "$(dirname "$0")/lib-fault.sh"

MAXLEN=64
STREAM_RATE=500
STREAM_COUNT=2500 # 5 s
PROBE_COUNT=100
STOP_MS=2000

# One phase: a daemon with fail-open MODE, stopped for STOP_MS during the
# stream.
phase() {
	local mode=$1 conf=$RUN_DIR/dnsrl-$1.conf pid r0 spid t_stop t_cont
	local probe stream line passed_snap passed stop_ms expect kd rl st=0

	echo "== fail-open $mode: queue-maxlen $MAXLEN"
	dnsrl_conf "$conf" <<EOF
queue-maxlen $MAXLEN
fail-open $mode
rule any-abuse {
	qtype ANY
	limit 2/5s
}
EOF
	dnsrl_start "$conf"
	pid=$DAEMON_PID
	# The queue instance is new (ids from 1); the rule counters are not.
	r0=$(dnsrl_rule_packets)

	cli "$QGEN" query --src "$CLI4" --dst "$SRV4" --qtype A \
		--qname "$QUEUED_NAME" --rate "$STREAM_RATE" \
		--count "$STREAM_COUNT" --wait 2000 >"$RUN_DIR/stream-$mode" &
	spid=$!
	track_pid "$spid"
	sleep 1

	t_stop=$(ms_now)
	fault_stop
	echo "   SIGSTOP $pid"
	# 300 ms at 500/s: 150 queries, more than the queue holds.
	sleep 0.3
	fault_snapshot
	echo "   stopped, kernel queue: waiting=$SNAP_WAITING" \
		"dropped=$SNAP_DROPPED user-dropped=$SNAP_UDROPPED id=$SNAP_ID"
	assert_eq "$mode: stopped: the queue is full (waiting = queue-maxlen)" \
		"$SNAP_WAITING" "$MAXLEN"
	# The probe runs and ends while the daemon is stopped.
	probe=$(cli "$QGEN" query --src "$CLI6" --dst "$SRV6" --qtype A \
		--qname "$QUEUED_NAME" --rate 250 --count "$PROBE_COUNT" \
		--wait 400)
	echo "   probe during the stop (IPv6): $probe"
	assert_true "$mode: the daemon is still stopped after the probe" \
		test "$(fault_state "$pid")" = T
	sleep_until_ms "$((t_stop + STOP_MS))"
	fault_snapshot
	t_cont=$(ms_now)
	fault_cont
	stop_ms=$((t_cont - t_stop))
	passed_snap=$((SNAP_RULE - r0 - SNAP_ID))
	echo "   SIGCONT after $stop_ms ms; kernel queue: waiting=$SNAP_WAITING" \
		"dropped=$SNAP_DROPPED id=$SNAP_ID; rule packets - ids:" \
		"$passed_snap"
	assert_eq "$mode: still full at the end of the stop" \
		"$SNAP_WAITING" "$MAXLEN"

	wait "$spid"
	untrack_pid "$spid"
	stream=$(cat "$RUN_DIR/stream-$mode")
	echo "   stream (IPv4): $stream"

	dnsrl_usr1 any-abuse
	echo "   $STATS_LINE"
	echo "   $QUEUE_LINE"
	rl=$(($(dnsrl_rule_packets) - r0))
	passed=$((rl - $(kv verdicts "$STATS_LINE")))
	kd=$(kv kernel-dropped "$QUEUE_LINE")
	echo "   NFQUEUE rules: $rl packets; verdicts $(kv verdicts "$STATS_LINE");" \
		"difference $passed"
	assert_eq "$mode: same pid after SIGCONT" "$DAEMON_PID" "$pid"
	assert_eq "$mode: stream: sent" "$(kv sent "$stream")" "$STREAM_COUNT"
	assert_eq "$mode: queue line: waiting" "$(kv waiting "$QUEUE_LINE")" 0
	assert_eq "$mode: id-gaps (a full queue takes no id)" \
		"$(kv id-gaps "$STATS_LINE")" 0
	assert_eq "$mode: queue line: user-dropped" \
		"$(kv user-dropped "$QUEUE_LINE")" 0
	assert_eq "$mode: every id verdicted (id-sequence = verdicts)" \
		"$(kv id-sequence "$QUEUE_LINE")" "$(kv verdicts "$STATS_LINE")"
	assert_eq "$mode: packets = verdicts" "$(kv packets "$STATS_LINE")" \
		"$(kv verdicts "$STATS_LINE")"
	assert_eq "$mode: no overflow line" \
		"$(log_count "dnsrl\[$pid\]: .*lost to a netlink overflow")" 0
	# The kernel counts each packet the queue refused once, in the rule;
	# from the snapshot to the daemon draining its queue after SIGCONT,
	# a few more arrive (500/s: 50 in 100 ms; a loaded machine has been
	# seen to take 66 ms to get there).
	assert_range "$mode: refused after the last snapshot" \
		"$((passed - passed_snap))" 0 50
	# 500/s over the measured stop, plus the probe, less the 64 the
	# queue held.  The bounds allow for the milliseconds between taking
	# the time and the signals' effect, and for what the daemon had in
	# hand when it stopped (0 to a few packets).
	expect=$((stop_ms * STREAM_RATE / 1000 + PROBE_COUNT - MAXLEN))
	echo "   expected refused: ~$expect (${stop_ms} ms x $STREAM_RATE/s" \
		"+ $PROBE_COUNT - $MAXLEN)"
	assert_range "$mode: refused by the full queue ~ stop x rate + probe - maxlen" \
		"$passed" "$((expect - 15))" "$((expect + 40))"

	if [ "$mode" = yes ]; then
		assert_eq "yes: probe answered during the stop (passed unchecked)" \
			"$(kv answered "$probe")" "$PROBE_COUNT"
		assert_eq "yes: stream: every query answered" \
			"$(kv answered "$stream")" "$STREAM_COUNT"
		assert_eq "yes: queue line: kernel-dropped" "$kd" 0
		assert_true "yes: passed unchecked = rule packets - verdicts > probe" \
			test "$passed" -gt "$PROBE_COUNT"
	else
		assert_eq "no: probe answered during the stop (dropped)" \
			"$(kv answered "$probe")" 0
		assert_eq "no: kernel-dropped = rule packets - verdicts" \
			"$kd" "$passed"
		assert_eq "no: clients' losses = kernel-dropped" \
			"$((STREAM_COUNT - $(kv answered "$stream") + PROBE_COUNT))" \
			"$kd"
		assert_true "no: the stream lost queries during the stop" \
			test "$(kv answered "$stream")" -lt "$STREAM_COUNT"
	fi

	fault_limits_again "$mode" "after SIGCONT"
	daemon_stop TERM || st=$?
	assert_eq "$mode: exit status after SIGTERM" "$st" 0
}

main() {
	fault_setup_mission

	phase yes
	phase no
	dnsrl_assert_clean
	finish
}

main "$@"
