#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# serial
# suite: long
#
# t_soak.sh: SOAK_SECONDS (default 300, 60..600) of steady mixed load,
# every source bounded in count and time:
#   - legitimate clients: A over IPv4 and AAAA over IPv6 at 50/s each, for
#     a 14-label name (the prefilter queues them: the daemon sees them);
#   - a small ANY abuse: one source, 2/s;
#   - a spoofed flood over IPv4, 800/s from 20000 sources of 198.18.0.0/16,
#     A:85,AAAA:5,ANY:5,TXT:5 (a source every 25 s: buckets come and go);
#   - a spoofed flood over IPv4, 200/s from 100 sources of 198.19.0.0/24,
#     ANY:50,TXT:50 for big.example (each source 2/s: limited, and TXT
#     sources held down and released over and over);
#   - a spoofed flood over IPv6, 200/s from 5000 /56s of 2001:db8:100::/40,
#     A:90,AAAA:5,ANY:5.
# Every 30 s it samples the daemon's resident memory (VmRSS), its open
# descriptors and its counters (SIGUSR1), and prints them.  Checks:
#   - memory flat: from the first sample after warm-up (30 s) on, max - min
#     within 5% of that sample (the table is allocated and touched at
#     start; nothing on the packet path allocates);
#   - descriptors: the same number in every sample, the first included;
#   - every packet verdicted at the end: NFQUEUE rule packets = packets =
#     verdicts = id-sequence (with the kernel holds' drops: what was sent),
#     waiting=0, id-gaps=0, nothing dropped by the queue; the daemon's
#     and the kernel holds' drops are exactly its rules' drops (no A or
#     AAAA dropped);
#   - the abuser is limited exactly to 2 + one per 2.5 s over its run (one
#     either way for where the run's last query falls).
# `run.sh`'s default TEST_TIMEOUT (300 s) is shorter than this test: run it
# with TEST_TIMEOUT=$((SOAK_SECONDS + 120)) or more.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib-fault.sh
. "$(dirname "$0")/lib-fault.sh"

SOAK_SECONDS=${SOAK_SECONDS:-300}
SAMPLE_SECONDS=30
LEGIT_RATE=50
ABUSE_RATE=2

# One sample: seconds since the start, VmRSS, descriptors, counters.
sample() {
	local secs=$1 rss fds

	rss=$(fault_rss "$DAEMON_PID")
	fds=$(fault_fds "$DAEMON_PID")
	dnsrl_usr1
	printf '   t=%4ss rss=%6s kB fds=%2s packets=%-8s verdicts=%-8s %s\n' \
		"$secs" "$rss" "$fds" "$(kv packets "$STATS_LINE")" \
		"$(kv verdicts "$STATS_LINE")" \
		"table-used=$(kv table-used "$STATS_LINE")"
	echo "$secs $rss $fds" >>"$RUN_DIR/samples"
}

main() {
	local pid r0 t0 k pids=() p f line sent=0 rss_base rss_min rss_max
	local fds0 fds_min fds_max last any_exp drops txt_drops ans legit_sent
	local kdrops

	if ! [[ $SOAK_SECONDS =~ ^[0-9]+$ ]] || [ "$SOAK_SECONDS" -lt 60 ] ||
		[ "$SOAK_SECONDS" -gt 600 ]; then
		_fail "SOAK_SECONDS: want 60..600 (qgen runs at most 600 s)," \
			"got '$SOAK_SECONDS'"
		finish
	fi
	_run_dir
	dnsrl_conf "$RUN_DIR/dnsrl.conf" <<'EOF'
rule any-abuse {
	qtype ANY
	limit 2/5s
}
rule txt-abuse {
	qtype TXT
	limit 5/10s
	hold-down 10s
	hold-down-max 40s
}
EOF
	dnsrl_env "$RUN_DIR/dnsrl.conf"
	pid=$DAEMON_PID
	r0=$(dnsrl_rule_packets)
	: >"$RUN_DIR/samples"

	echo "== $SOAK_SECONDS s of mixed load; a sample every $SAMPLE_SECONDS s"
	sample 0
	t0=$(ms_now)
	cli "$QGEN" query --src "$CLI4" --dst "$SRV4" --qtype A \
		--qname "$QUEUED_NAME" --rate "$LEGIT_RATE" \
		--count "$((LEGIT_RATE * SOAK_SECONDS))" >"$RUN_DIR/legit4" &
	pids+=($!)
	cli "$QGEN" query --src "$CLI6" --dst "$SRV6" --qtype AAAA \
		--qname "$QUEUED_NAME" --rate "$LEGIT_RATE" \
		--count "$((LEGIT_RATE * SOAK_SECONDS))" >"$RUN_DIR/legit6" &
	pids+=($!)
	any_query "$ATTACK4" "$SRV4" "$ABUSE_RATE" \
		"$((ABUSE_RATE * SOAK_SECONDS))" >"$RUN_DIR/abuser" &
	pids+=($!)
	cli "$QGEN" flood --dst "$SRV4" --src-net 198.18.0.0/16 \
		--sources 20000 --rate 800 --duration "$SOAK_SECONDS" \
		--qname "$QUEUED_NAME" --mix A:85,AAAA:5,ANY:5,TXT:5 \
		>"$RUN_DIR/flood4" &
	pids+=($!)
	cli "$QGEN" flood --dst "$SRV4" --src-net 198.19.0.0/24 \
		--sources 100 --rate 200 --duration "$SOAK_SECONDS" \
		--qname big.example --mix ANY:50,TXT:50 >"$RUN_DIR/flood4b" &
	pids+=($!)
	cli "$QGEN" flood --dst "$SRV6" --src-net "$FLOOD6_NET" \
		--sources 5000 --rate 200 --duration "$SOAK_SECONDS" \
		--qname "$QUEUED_NAME" --mix A:90,AAAA:5,ANY:5 >"$RUN_DIR/flood6" &
	pids+=($!)
	for p in "${pids[@]}"; do
		track_pid "$p"
	done
	for ((k = SAMPLE_SECONDS; k <= SOAK_SECONDS; k += SAMPLE_SECONDS)); do
		sleep_until_ms "$((t0 + k * 1000))"
		dnsrl_alive_or_finish
		sample "$k"
	done
	for p in "${pids[@]}"; do
		wait "$p"
		untrack_pid "$p"
	done
	echo "   load ended after $((($(ms_now) - t0) / 1000)) s"
	for f in legit4 legit6 abuser flood4 flood4b flood6; do
		line=$(cat "$RUN_DIR/$f")
		printf '   %-7s %s\n' "$f" "$line"
		sent=$((sent + $(kv sent "$line")))
	done

	# Memory and descriptors over the samples.
	read -r rss_base rss_min rss_max < <(awk -v s="$SAMPLE_SECONDS" '
		$1 >= s { if (b == "") b = $2
			if (lo == "" || $2 < lo) lo = $2
			if ($2 > hi) hi = $2 }
		END { print b, lo, hi }' "$RUN_DIR/samples")
	read -r fds0 fds_min fds_max < <(awk '
		{ if (f == "") f = $3
		  if (lo == "" || $3 < lo) lo = $3
		  if ($3 > hi) hi = $3 }
		END { print f, lo, hi }' "$RUN_DIR/samples")
	echo "   RSS from ${SAMPLE_SECONDS} s: first $rss_base kB, min $rss_min," \
		"max $rss_max (spread $((rss_max - rss_min)) kB);" \
		"fds: $fds_min..$fds_max"
	assert_range "RSS spread after warm-up, kB (within 5% of $rss_base)" \
		"$((rss_max - rss_min))" 0 "$((rss_base * 5 / 100))"
	assert_eq "open descriptors: min max = first" "$fds_min $fds_max" \
		"$fds0 $fds0"

	dnsrl_usr1 any-abuse txt-abuse
	echo "   $STATS_LINE"
	echo "   $QUEUE_LINE"
	echo "   $(dnsrl_rule_stats any-abuse)"
	echo "   $(dnsrl_rule_stats txt-abuse)"
	line=$(grep -m1 -E ': kernel holds \(SIGUSR1\): ' <<<"$STATS_CHUNK" ||
		true)
	echo "   ${line#*: }"
	kdrops=$(kv dropped "$line")
	echo "   NFQUEUE rules: $(($(dnsrl_rule_packets) - r0)) packets;" \
		"dropped by kernel holds: $kdrops; sent by the tools: $sent"
	assert_eq "same pid" "$DAEMON_PID" "$pid"
	assert_true "kernel holds dropped some" test "${kdrops:-0}" -gt 0
	assert_eq "NFQUEUE rule packets + kernel holds' drops = what the tools sent" \
		"$(($(dnsrl_rule_packets) - r0 + kdrops))" "$sent"
	fault_all_verdicted "$(($(dnsrl_rule_packets) - r0))"
	read -r _ _ drops < <(fault_mad any-abuse)
	read -r _ _ txt_drops < <(fault_mad txt-abuse)
	drops=$((drops + txt_drops))
	assert_eq "daemon's + kernel holds' drops = the rules' drops (no A/AAAA dropped)" \
		"$(($(kv dropped "$STATS_LINE") + kdrops))" "$drops"
	assert_true "txt-abuse held sources down" \
		test "$(kv held-down "$(dnsrl_rule_stats txt-abuse)")" -gt 0

	# The abuser's queries leave every 1/ABUSE_RATE s; a full bucket
	# gives 2, then one for each 2.5 s its run lasts.
	last=$(((ABUSE_RATE * SOAK_SECONDS - 1) * 1000 / ABUSE_RATE))
	any_exp=$((2 + last / 2500))
	ans=$(kv answered "$(cat "$RUN_DIR/abuser")")
	assert_range "abuser: answered (2 + one per 2.5 s of $last ms)" \
		"$ans" "$((any_exp - 1))" "$((any_exp + 1))"
	# Unbound itself may lose a query now and then; the daemon's part is
	# checked exactly above (it dropped nothing but rule drops).
	for f in legit4 legit6; do
		line=$(cat "$RUN_DIR/$f")
		legit_sent=$(kv sent "$line")
		assert_range "$f: answered (at most 0.1% lost by the server)" \
			"$(kv answered "$line")" \
			"$((legit_sent - legit_sent / 1000))" "$legit_sent"
	done
	dnsrl_finish
}

main "$@"
