#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# serial
# suite: long
#
# t_hup_storm.sh: 100 SIGHUPs, one every 100 ms, during 10 s of traffic.
# Each reload swaps the policy: any-abuse (ANY 2/5s) stays the same, so
# it keeps its buckets and counters; txt-abuse goes round TXT 3/60s (the
# first file), 4/60s, 5/60s, so it is a changed rule each time (fresh id,
# fresh buckets, the old ones forgotten), and the last file (4/60s)
# differs from the first.  The traffic:
#   - a spoofed flood, 3000 packets a second: ten floods of 1 s one after
#     the other, each from 1000 sources of its own /19 of 198.18.0.0/15,
#     A:90,ANY:10 for a 14-label name (the prefilter queues all of it);
#     qgen's mix gives 100 of each flood's sources ANY only, 3 each,
#     0.33 s apart: 2 accepted, 1 dropped, whatever the timing;
#   - an abuser, ANY at 50/s for 10 s: 4 to 6 answered (5 expected: at 0 s
#     twice, then 2.5, 5 and 7.5 s; a bucket reset by a reload would give
#     it 2 more each time).
# Afterwards: no packet without a verdict (NFQUEUE rule packets = packets
# = verdicts = id-sequence, waiting=0, id-gaps=0, nothing dropped by the
# kernel), any-abuse's counters are exact (matched 3000 + 500, accepted
# 2000 + the abuser's answers), the log shows the reloads (90..100
# "reloaded" lines: two SIGHUPs that arrive while the main thread is busy
# are one pending signal, so a stall of over 100 ms merges two; none
# failed, no worker held back a retirement), the last file is the one in
# force (10 TXT from a fresh source: exactly its limit answered), and the
# daemon is the same process.  Last, one more SIGHUP and a SIGTERM right
# behind it (the daemon stops with a reload's old policy not yet retired):
# exit status 0, the reload and the final counters logged, no sanitizer
# report.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib-fault.sh
. "$(dirname "$0")/lib-fault.sh"

conf=
HUPS=100
FLOODS=10
FLOOD_RATE=3000
FLOOD_SOURCES=1000

# The policy with TXT limit N.
policy() {
	cat <<EOF
rule any-abuse {
	qtype ANY
	limit 2/5s
}
rule txt-abuse {
	qtype TXT
	limit $1/60s
}
EOF
}

# The ten floods, one after the other; each prints its qgen line.
floods() {
	local i net

	for ((i = 0; i < FLOODS; i++)); do
		net=198.$((18 + i / 8)).$((i % 8 * 32)).0/19
		cli "$QGEN" flood --dst "$SRV4" --src-net "$net" \
			--sources "$FLOOD_SOURCES" --rate "$FLOOD_RATE" \
			--duration 1 --qname "$QUEUED_NAME" --mix A:90,ANY:10
	done
}

# ANY packets of one flood, and those a 2-burst accepts: packet seq comes
# from source seq % SOURCES with slot seq * 63 % 100 of the mix (ANY
# 90-99); with 1000 sources a source's slot never changes.
flood_any() {
	awk -v total="$FLOOD_RATE" -v n="$FLOOD_SOURCES" 'BEGIN {
		for (s = 0; s < total; s++)
			if (s * 63 % 100 >= 90) { any++; per[s % n]++ }
		for (k in per) ok += per[k] < 2 ? per[k] : 2
		print any, ok
	}'
}

main() {
	local pid r0 fpid apid i t0 limit line sent=0 rl n fany fok any acc
	local st=0

	_run_dir
	conf=$RUN_DIR/dnsrl.conf
	policy 3 | dnsrl_conf "$conf"
	dnsrl_env "$conf"
	pid=$DAEMON_PID
	r0=$(dnsrl_rule_packets)

	echo "== $HUPS SIGHUPs, 100 ms apart, during $FLOODS x 1 s of flood" \
		"($FLOOD_RATE/s) and an ANY abuser (50/s)"
	floods >"$RUN_DIR/floods" 2>&1 &
	fpid=$!
	track_pid "$fpid"
	any_query "$ATTACK4" "$SRV4" 50 500 >"$RUN_DIR/abuser" &
	apid=$!
	track_pid "$apid"
	t0=$(ms_now)
	for ((i = 1; i <= HUPS; i++)); do
		sleep_until_ms "$((t0 + i * 100))"
		limit=$((3 + i % 3))
		policy "$limit" | fault_reload "$conf"
	done
	echo "   $HUPS SIGHUPs sent in $(($(ms_now) - t0)) ms; the last file" \
		"has TXT $limit/60s"
	wait "$fpid"
	untrack_pid "$fpid"
	wait "$apid"
	untrack_pid "$apid"
	sed 's/^/   flood  /' "$RUN_DIR/floods"
	line=$(cat "$RUN_DIR/abuser")
	echo "   abuser $line"
	while read -r line; do
		sent=$((sent + $(kv sent "$line")))
	done < <(grep '^sent=' "$RUN_DIR/floods")
	assert_eq "floods: sent" "$sent" "$((FLOODS * FLOOD_RATE))"
	assert_eq "floods: no qgen complaint" \
		"$(grep -vc '^sent=' "$RUN_DIR/floods" || true)" 0
	assert_eq "abuser: sent" "$(kv sent "$(cat "$RUN_DIR/abuser")")" 500
	assert_range "abuser: answered (limit held through the reloads)" \
		"$(kv answered "$(cat "$RUN_DIR/abuser")")" 4 6

	# The last reload may still be on its way.
	wait_for_log "dnsrl\[$pid\]: rule txt-abuse: qtype TXT limit $limit/" 5 || true
	sleep 0.5
	n=$(log_count "dnsrl\[$pid\]: reloaded: ")
	echo "   reloaded lines: $n of $HUPS SIGHUPs"
	assert_range "reloaded lines" "$n" 90 "$HUPS"
	assert_eq "reload failed lines" "$(log_count "dnsrl\[$pid\]: reload failed")" 0
	assert_eq "worker held back a retirement" \
		"$(log_count "dnsrl\[$pid\]: reload: a worker has not taken")" 0
	assert_eq "restart-only settings untouched" \
		"$(log_count "dnsrl\[$pid\]: reload: .* needs a restart")" 0

	dnsrl_usr1 any-abuse txt-abuse
	rl=$(dnsrl_rule_stats any-abuse)
	echo "   $STATS_LINE"
	echo "   $QUEUE_LINE"
	echo "   $rl"
	echo "   NFQUEUE rules: $(($(dnsrl_rule_packets) - r0)) packets"
	assert_eq "same pid" "$DAEMON_PID" "$pid"
	assert_eq "NFQUEUE rule packets = what was sent" \
		"$(($(dnsrl_rule_packets) - r0))" "$((sent + 500))"
	fault_all_verdicted "$(($(dnsrl_rule_packets) - r0))"

	read -r fany fok < <(flood_any)
	any=$((FLOODS * fany + 500))
	acc=$((FLOODS * fok + $(kv answered "$(cat "$RUN_DIR/abuser")")))
	echo "   ANY: floods $FLOODS x $fany (a 2-burst accepts $fok of each)," \
		"abuser 500"
	assert_eq "any-abuse: matched (counters kept through the reloads)" \
		"$(kv matched "$rl")" "$any"
	assert_eq "any-abuse: accepted (2 per flood source + the abuser's answers)" \
		"$(kv accepted "$rl")" "$acc"
	assert_eq "any-abuse: dropped" "$(kv dropped "$rl")" "$((any - acc))"

	line=$(cli "$QGEN" query --src "$ATTACK4B" --dst "$SRV4" --qtype TXT \
		--qname big.example --rate 1000 --count 10)
	echo "   TXT x10 from $ATTACK4B: $line"
	assert_eq "the last file is in force: TXT answered" \
		"$(kv answered "$line")" "$limit"

	echo "== one more SIGHUP, then SIGTERM at once (a reload in flight)"
	n=$(log_count "dnsrl\[$pid\]: reloaded: ")
	policy 5 | fault_reload "$conf"
	daemon_stop TERM || st=$?
	assert_eq "exit status after SIGHUP + SIGTERM" "$st" 0
	# Pending together, SIGHUP (1) is read before SIGTERM (15).
	assert_eq "the last reload logged before the stop" \
		"$(log_count "dnsrl\[$pid\]: reloaded: ")" "$((n + 1))"
	assert_true "final counters logged" \
		wait_for_log "dnsrl\[$pid\]: stats \(final\): " 2
	dnsrl_assert_clean
	finish
}

main "$@"
