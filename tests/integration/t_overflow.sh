#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# serial
# suite: long
#
# t_overflow.sh: a netlink overflow.  The queue is big (queue-maxlen
# 10000) but the queue socket's receive buffer tiny (queue-rcvbuf 16384;
# the kernel doubles it): with the daemon stopped (SIGSTOP), a burst of
# 2000 A queries for a 14-label name (each one queued) fills the buffer
# after a few dozen messages.  The kernel gives every packet of the burst
# an id (the queue is far from full) and, when its message does not fit,
# passes it (fail-open yes) or drops it and counts it as user-dropped
# (fail-open no).  Each of the two is run with a fresh daemon.
#
# While stopped: the id sequence grew by exactly 2000, the queue holds
# what the buffer took.  After SIGCONT, and one normal query (the id after
# a gap shows it; a gap at the end of the burst is only seen then):
#   - id-gaps = the ids the kernel gave out but never delivered, exactly
#     (from the two snapshots) = NFQUEUE rule packets - verdicts; with
#     fail-open no, also = the queue line's user-dropped = the client's
#     unanswered queries; with fail-open yes the client got every answer;
#   - a "packets lost to a netlink overflow" line within 2 s (the daemon
#     looks once a second) with that number;
#   - the same pid, enobufs=0 (NETLINK_NO_ENOBUFS), waiting=0, a normal
#     query answered, and exact ANY limiting: 20 at once, 2 answered.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib-fault.sh
. "$(dirname "$0")/lib-fault.sh"

BURST=2000

# One normal query through the queue from CLI4; prints answered=.
one_query() {
	kv answered "$(cli "$QGEN" query --src "$CLI4" --dst "$SRV4" \
		--qtype A --qname "$QUEUED_NAME" --rate 1 --count 1)"
}

phase() {
	local mode=$1 conf=$RUN_DIR/dnsrl-$1.conf pid r0 bpid burst line
	local id0 wait0 held gaps rl verdicts st=0 logged re

	echo "== fail-open $mode: queue-maxlen 10000, queue-rcvbuf 16384"
	dnsrl_conf "$conf" <<EOF
queue-maxlen 10000
queue-rcvbuf 16384
fail-open $mode
rule any-abuse {
	qtype ANY
	limit 2/5s
}
EOF
	dnsrl_start "$conf"
	pid=$DAEMON_PID
	r0=$(dnsrl_rule_packets)
	assert_eq "$mode: a query before the overflow: answered" "$(one_query)" 1

	fault_stop
	fault_snapshot
	id0=$SNAP_ID
	wait0=$SNAP_WAITING
	echo "   SIGSTOP $pid; kernel queue: waiting=$wait0 id=$id0"
	cli "$QGEN" query --src "$CLI4" --dst "$SRV4" --qtype A \
		--qname "$QUEUED_NAME" --rate 20000 --count "$BURST" \
		--wait 3000 >"$RUN_DIR/burst-$mode" &
	bpid=$!
	track_pid "$bpid"
	# The burst takes 0.1 s; its answers (fail-open yes) come at once.
	sleep 1
	fault_snapshot
	held=$((SNAP_WAITING - wait0))
	gaps=$((SNAP_ID - id0 - held))
	echo "   after the burst, kernel queue: waiting=$SNAP_WAITING" \
		"user-dropped=$SNAP_UDROPPED id=$SNAP_ID: $held messages" \
		"held in the socket, $gaps ids not delivered"
	assert_eq "$mode: stopped: the burst took $BURST ids" \
		"$((SNAP_ID - id0))" "$BURST"
	assert_eq "$mode: stopped: the full queue refused nothing" \
		"$SNAP_DROPPED" 0
	# How many fit depends on what the kernel charges a message (its
	# buffer's true size): 39 in 2 x 16384 bytes on Linux 6.18.  Far
	# fewer than the burst either way.
	assert_range "$mode: stopped: messages the small buffer held" \
		"$held" 1 500
	fault_cont
	wait "$bpid"
	untrack_pid "$bpid"
	burst=$(cat "$RUN_DIR/burst-$mode")
	echo "   SIGCONT; burst: $burst"
	assert_eq "$mode: same pid after SIGCONT" "$DAEMON_PID" "$pid"
	assert_eq "$mode: a query after the overflow: answered" \
		"$(one_query)" 1
	logged=0
	re="dnsrl\[$pid\]: [0-9]+ packets lost to a netlink overflow"
	if wait_for_log "$re" 2; then
		grep -E "$re" "$SYSLOG_FILE" | sed 's/^/   /'
		logged=$(grep -E "$re" "$SYSLOG_FILE" |
			sed -E 's/.*: ([0-9]+) packets lost.*/\1/' |
			awk '{ s += $1 } END { print s + 0 }')
	fi

	dnsrl_usr1 any-abuse
	echo "   $STATS_LINE"
	echo "   $QUEUE_LINE"
	rl=$(($(dnsrl_rule_packets) - r0))
	verdicts=$(kv verdicts "$STATS_LINE")
	echo "   NFQUEUE rules: $rl packets; verdicts $verdicts"
	assert_true "$mode: id-gaps > 0" test "$(kv id-gaps "$STATS_LINE")" -gt 0
	assert_eq "$mode: id-gaps = ids not delivered during the stop" \
		"$(kv id-gaps "$STATS_LINE")" "$gaps"
	assert_eq "$mode: id-gaps = NFQUEUE rule packets - verdicts" \
		"$(kv id-gaps "$STATS_LINE")" "$((rl - verdicts))"
	assert_eq "$mode: overflow lines within 2 s count the gaps" \
		"$logged" "$gaps"
	assert_eq "$mode: packets = verdicts" "$(kv packets "$STATS_LINE")" \
		"$verdicts"
	assert_eq "$mode: id-sequence = verdicts + id-gaps" \
		"$(kv id-sequence "$QUEUE_LINE")" "$((verdicts + gaps))"
	assert_eq "$mode: enobufs" "$(kv enobufs "$STATS_LINE")" 0
	assert_eq "$mode: internal" "$(kv internal "$STATS_LINE")" 0
	assert_eq "$mode: queue line: waiting" "$(kv waiting "$QUEUE_LINE")" 0
	assert_eq "$mode: queue line: kernel-dropped" \
		"$(kv kernel-dropped "$QUEUE_LINE")" 0
	assert_eq "$mode: burst: sent" "$(kv sent "$burst")" "$BURST"
	if [ "$mode" = yes ]; then
		assert_eq "yes: queue line: user-dropped" \
			"$(kv user-dropped "$QUEUE_LINE")" 0
		assert_eq "yes: burst: every query answered (passed or queued)" \
			"$(kv answered "$burst")" "$BURST"
	else
		assert_eq "no: queue line: user-dropped = id-gaps" \
			"$(kv user-dropped "$QUEUE_LINE")" "$gaps"
		assert_eq "no: burst: answered = what the buffer held" \
			"$(kv answered "$burst")" "$held"
	fi

	fault_limits_again "$mode" "after the overflow"
	assert_eq "$mode: no further gap" "$(kv id-gaps "$STATS_LINE")" "$gaps"
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
