#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t_multiqueue.sh: `queue 0-3`, one worker per queue, behind the printed
# `--queue-balance 0:3` rules.  The kernel spreads packets over the queues
# by a (randomly seeded) hash of the addresses, not by prefix, so the
# sources of one prefix land on several workers; their shared limit must
# hold anyway.  The rule: ANY 5/1h per /24 (IPv4) and per /48 (IPv6); an
# hour, so that no token comes back during the test and counts are exact.
# Four phases, each from one prefix:
#   1. 64 real client addresses of 198.18.7.0/24 (one ANY each, all at
#      once): exactly 5 answered;
#   2. a spoofed flood from 255 addresses of 198.18.0.0/24 (510 ANY);
#   3. 64 real client addresses of 2001:db8:77::/48, each in a /56 of
#      its own (one ANY each, all at once): exactly 5 answered;
#   4. a spoofed flood from 255 addresses of 2001:db8:100::/96 (510 ANY).
# The kernel's IPv6 queue hash reads only the last 32 bits of the
# addresses and the smaller of the source's and destination's bits 32-63
# (here always the server's): addresses that differ only in bits 48-95
# all land on one queue.  So the IPv6 sources differ in their last 32
# bits too (phase 3: 2001:db8:77:N00::N; phase 4: a /96).
# For each phase: every queue's id-sequence moved (each worker had part
# of the prefix's traffic), the queues' packets add up to what the
# NFQUEUE rules passed, and the rule accepted exactly 5 and dropped the
# rest, with one "limited" line for the prefix.  Per-worker buckets would
# accept up to 5 per queue; keys per address would accept every query
# of phases 1 and 3.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib-ops.sh
. "$(dirname "$0")/lib-ops.sh"

QUEUES="0 1 2 3"
LIMIT=5
conf=
# id-sequence of each queue, and the rule's counters, at the last report.
declare -A prev_seq=()
prev_matched=0
prev_accepted=0
prev_dropped=0
prev_rule_packets=0

# Reads the counters and checks one phase: LABEL SENT [ANSWERED] (ANSWERED
# only for real clients, whose answers are counted).
check_phase() {
	local label=$1 sent=$2 answered=${3:-} q line seq d sum=0 split='' rl
	local m a dr rp

	ops_usr1 "$QUEUES" any-abuse
	for q in $QUEUES; do
		line=$(ops_queue_line "$q")
		seq=$(kv id-sequence "$line")
		d=$((seq - ${prev_seq[$q]:-0}))
		prev_seq[$q]=$seq
		split+=" q$q=$d"
		sum=$((sum + d))
		assert_range "$label: queue $q got part of the traffic" "$d" 1 "$sent"
	done
	rl=$(dnsrl_rule_stats any-abuse)
	m=$(($(kv matched "$rl") - prev_matched))
	a=$(($(kv accepted "$rl") - prev_accepted))
	dr=$(($(kv dropped "$rl") - prev_dropped))
	prev_matched=$(kv matched "$rl")
	prev_accepted=$(kv accepted "$rl")
	prev_dropped=$(kv dropped "$rl")
	rp=$(($(dnsrl_rule_packets) - prev_rule_packets))
	prev_rule_packets=$((prev_rule_packets + rp))
	echo "   $label: sent $sent${answered:+, answered $answered};" \
		"NFQUEUE rules passed $rp; per queue:$split;" \
		"rule matched $m, accepted $a, dropped $dr"
	assert_eq "$label: NFQUEUE rules passed what was sent" "$rp" "$sent"
	assert_eq "$label: the queues' packets add up to it" "$sum" "$sent"
	assert_eq "$label: rule matched" "$m" "$sent"
	assert_eq "$label: rule accepted, across the workers" "$a" "$LIMIT"
	assert_eq "$label: rule dropped" "$dr" "$((sent - LIMIT))"
	if [ -n "$answered" ]; then
		assert_eq "$label: answers received" "$answered" "$LIMIT"
	fi
}

# One ANY from each address given, all at once; prints the sums of the
# qgen lines as "sent=N answered=N".
one_any_each() {
	local dst=$1 i=0 a pids=() p s=0 n=0 line

	shift
	for a in "$@"; do
		cli "$QGEN" query --src "$a" --dst "$dst" --qtype ANY \
			--qname big.example --rate 1 --count 1 --wait 1500 \
			>"$RUN_DIR/one.$i" &
		pids+=($!)
		track_pid "$!"
		i=$((i + 1))
	done
	for p in "${pids[@]}"; do
		wait "$p"
		untrack_pid "$p"
	done
	for ((i = 0; i < $#; i++)); do
		line=$(cat "$RUN_DIR/one.$i")
		s=$((s + $(kv sent "$line")))
		n=$((n + $(kv answered "$line")))
	done
	echo "sent=$s answered=$n"
}

# A spoofed ANY flood from SOURCES addresses of NET, 2 packets each.
flood() {
	local dst=$1 net=$2 sources=$3

	cli "$QGEN" flood --dst "$dst" --src-net "$net" --sources "$sources" \
		--rate 2000 --duration "$(awk -v n="$sources" \
			'BEGIN { printf "%.3f", 2 * n / 2000 }')" \
		--qtype ANY --qname big.example
}

main() {
	local a4=() a6=() i line n q

	_run_dir
	conf=$RUN_DIR/dnsrl.conf
	ops_conf "$conf" 0-3 <<EOF
rule any-abuse {
	qtype ANY
	limit $LIMIT/1h
	ipv4-prefix 24
	ipv6-prefix 48
}
EOF
	dnsrl_env "$conf"
	assert_eq "the printed rules balance over queues 0:3" \
		"$("$DNSRL" --print-rules -c "$conf" | grep -c -- '-j NFQUEUE --queue-balance 0:3 --queue-bypass$')" 2
	assert_eq "start line: queues 0-3" \
		"$(log_count ": dnsrl [^ ]+ started: queues 0-3, ")" 1
	assert_eq "queues 0..3 bound in the kernel" "$(ops_bound_queues 0 3)" 4
	ops_usr1 "$QUEUES" any-abuse
	for q in $QUEUES; do
		line=$(ops_queue_line "$q")
		prev_seq[$q]=$(kv id-sequence "$line")
	done
	prev_rule_packets=$(dnsrl_rule_packets)

	for ((i = 1; i <= 64; i++)); do
		a4+=("198.18.7.$i")
		a6+=("$(printf '2001:db8:77:%x00::%x' "$i" "$i")")
	done
	for i in "${a4[@]}"; do
		ip -n "$CLI_NS" addr add "$i/32" dev "$CLI_IF"
	done
	for i in "${a6[@]}"; do
		ip -n "$CLI_NS" addr add "$i/128" dev "$CLI_IF" nodad
	done

	echo "== 1. 64 client addresses of 198.18.7.0/24, one ANY each"
	line=$(one_any_each "$SRV4" "${a4[@]}")
	echo "   $line"
	check_phase "198.18.7.0/24" "$(kv sent "$line")" "$(kv answered "$line")"
	assert_eq "64 ANY sent" "$(kv sent "$line")" 64

	echo "== 2. spoofed: 255 addresses of 198.18.0.0/24, 2 ANY each"
	line=$(flood "$SRV4" 198.18.0.0/24 255)
	echo "   flood $line"
	assert_eq "flood IPv4: sent" "$(kv sent "$line")" 510
	check_phase "198.18.0.0/24" "$(kv sent "$line")"

	echo "== 3. 64 client addresses of 2001:db8:77::/48 (64 /56s), one ANY each"
	line=$(one_any_each "$SRV6" "${a6[@]}")
	echo "   $line"
	check_phase "2001:db8:77::/48" "$(kv sent "$line")" "$(kv answered "$line")"
	assert_eq "64 ANY sent" "$(kv sent "$line")" 64

	echo "== 4. spoofed: 255 addresses of 2001:db8:100::/96, 2 ANY each"
	line=$(flood "$SRV6" 2001:db8:100::/96 255)
	echo "   flood $line"
	assert_eq "flood IPv6: sent" "$(kv sent "$line")" 510
	check_phase "2001:db8:100::/48" "$(kv sent "$line")"

	echo "== totals"
	echo "   $STATS_LINE"
	for q in $QUEUES; do
		line=$(ops_queue_line "$q")
		echo "   $line"
		assert_eq "queue $q: waiting, kernel-dropped, user-dropped" \
			"$(kv waiting "$line") $(kv kernel-dropped "$line") $(kv user-dropped "$line")" \
			"0 0 0"
	done
	echo "   $(dnsrl_rule_stats any-abuse)"
	assert_eq "daemon verdicts = NFQUEUE rules (IPv4 + IPv6)" \
		"$(kv verdicts "$STATS_LINE")" "$(dnsrl_rule_packets)"
	assert_eq "daemon packets = verdicts" "$(kv packets "$STATS_LINE")" \
		"$(kv verdicts "$STATS_LINE")"
	assert_eq "daemon accepted: 5 per prefix" \
		"$(kv accepted "$STATS_LINE")" "$((4 * LIMIT))"
	assert_eq "id-gaps" "$(kv id-gaps "$STATS_LINE")" 0
	for n in 198.18.7.0/24 198.18.0.0/24 2001:db8:77::/48 2001:db8:100::/48; do
		assert_eq "one limited line for $n" \
			"$(log_count ": limited: rule any-abuse source ${n//./\\.} exceeds $LIMIT/1h ")" 1
	done
	assert_eq "no other limited line" "$(log_count ": limited: ")" 4

	dnsrl_finish
}

main "$@"
