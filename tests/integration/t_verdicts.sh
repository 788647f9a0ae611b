#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t_verdicts.sh: every packet gets a verdict.  For 2 s at once: legitimate
# A/AAAA clients over IPv4 and IPv6, an ANY abuser, a spoofed ANY flood
# over IPv4 (1000 sources, 10000 packets) and a spoofed mixed flood over
# IPv6 (500 /56s, 2000 packets, 5% ANY).  The IPv4 client asks for a short
# name (the printed prefilter accepts it in the kernel); the IPv6 client
# and flood ask for a 14-label name, which the prefilter always queues, so
# that the daemon sees A/AAAA traffic too.  Afterwards:
#   - the NFQUEUE rules' packet counters (iptables + ip6tables) equal the
#     daemon's packets and verdicts, exactly; with the prefilter's they
#     equal what the tools sent, split as expected;
#   - the kernel queue is empty (the queue line's waiting=0, and the
#     namespace's /proc/net/netfilter/nfnetlink_queue), nothing was
#     dropped by the kernel or lost on the way (id-gaps=0, enobufs=0);
#   - the limiter's figures are the exact ones: each IPv4 flood source
#     sends 10 ANY over 1.8 s and gets its burst of 2 (2000 accepted);
#     each IPv6 one gets at most 2 of its ANY (computed from qgen's mix).
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

conf=

# ANY queries, and those a 2-burst lets through, in `qgen flood --mix
# A:90,AAAA:5,ANY:5` of TOTAL packets over SOURCES sources: packet seq
# comes from source seq % SOURCES and has slot seq * 63 % 100 of the mix
# (A 0-89, AAAA 90-94, ANY 95-99; 63 is qgen's step for a sum of 100).
mix_any() {
	awk -v total="$1" -v n="$2" 'BEGIN {
		for (s = 0; s < total; s++)
			if (s * 63 % 100 >= 95) { any++; per[s % n]++ }
		for (k in per) ok += per[k] < 2 ? per[k] : 2
		print any, ok
	}'
}

main() {
	local r0 p0 pids=() p f line sent=0 any=0 acc=0 v6any v6ok rl proc

	_run_dir
	conf=$RUN_DIR/dnsrl.conf
	dnsrl_conf "$conf" <<'EOF'
rule any-abuse {
	qtype ANY
	limit 2/5s
}
EOF
	dnsrl_env "$conf"
	r0=$(dnsrl_rule_packets)
	p0=$(dnsrl_prefilter_packets)

	echo "== 2 s of mixed traffic"
	cli "$QGEN" query --src "$CLI4" --dst "$SRV4" --qtype A \
		--qname www.big.example --rate 100 --count 200 >"$RUN_DIR/legit4" &
	pids+=($!)
	cli "$QGEN" query --src "$CLI6" --dst "$SRV6" --qtype AAAA \
		--qname "$QUEUED_NAME" --rate 100 --count 200 >"$RUN_DIR/legit6" &
	pids+=($!)
	any_query "$ATTACK4" "$SRV4" 50 100 >"$RUN_DIR/abuse4" &
	pids+=($!)
	cli "$QGEN" flood --dst "$SRV4" --src-net "$FLOOD4_NET" \
		--sources 1000 --rate 5000 --duration 2 --qtype ANY \
		--qname big.example >"$RUN_DIR/flood4" &
	pids+=($!)
	cli "$QGEN" flood --dst "$SRV6" --src-net "$FLOOD6_NET" \
		--sources 500 --rate 1000 --duration 2 --qname "$QUEUED_NAME" \
		--mix A:90,AAAA:5,ANY:5 >"$RUN_DIR/flood6" &
	pids+=($!)
	for p in "${pids[@]}"; do
		track_pid "$p"
	done
	for p in "${pids[@]}"; do
		wait "$p"
		untrack_pid "$p"
	done
	for f in legit4 legit6 abuse4 flood4 flood6; do
		line=$(cat "$RUN_DIR/$f")
		printf '   %-6s %s\n' "$f" "$line"
		sent=$((sent + $(kv sent "$line")))
	done
	# The daemon's part, accepting every legitimate query, is checked
	# exactly below (dropped = the rule's drops).  Unbound, one thread,
	# may itself lose a few queries under the flood on a busy machine.
	line=$(cat "$RUN_DIR/legit4")
	assert_range "legit IPv4: answered" "$(kv answered "$line")" 190 200
	line=$(cat "$RUN_DIR/legit6")
	assert_range "legit IPv6: answered" "$(kv answered "$line")" 190 200
	line=$(cat "$RUN_DIR/abuse4")
	assert_eq "abuser: answered" "$(kv answered "$line")" 2
	assert_eq "flood IPv4: sent" "$(kv sent "$(cat "$RUN_DIR/flood4")")" 10000
	assert_eq "flood IPv6: sent" "$(kv sent "$(cat "$RUN_DIR/flood6")")" 2000

	dnsrl_usr1 any-abuse
	rl=$(dnsrl_rule_stats any-abuse)
	echo "   $STATS_LINE"
	echo "   $QUEUE_LINE"
	echo "   $rl"
	echo "   NFQUEUE rules: IPv4 $(dnsrl_rule_packets 4), IPv6" \
		"$(dnsrl_rule_packets 6); prefilter: IPv4" \
		"$(dnsrl_prefilter_packets 4), IPv6 $(dnsrl_prefilter_packets 6)"
	assert_eq "daemon verdicts = NFQUEUE rules (IPv4 + IPv6)" \
		"$(kv verdicts "$STATS_LINE")" "$(dnsrl_rule_packets)"
	assert_eq "prefilter + NFQUEUE rules = packets sent" \
		"$(($(dnsrl_prefilter_packets) - p0 + $(dnsrl_rule_packets) - r0))" \
		"$sent"
	assert_eq "prefilter: the IPv4 client's A queries" \
		"$(($(dnsrl_prefilter_packets) - p0))" 200
	assert_eq "daemon packets = verdicts" "$(kv packets "$STATS_LINE")" \
		"$(kv verdicts "$STATS_LINE")"
	assert_eq "accepted + dropped = verdicts" \
		"$(($(kv accepted "$STATS_LINE") + $(kv dropped "$STATS_LINE")))" \
		"$(kv verdicts "$STATS_LINE")"
	assert_eq "id-gaps" "$(kv id-gaps "$STATS_LINE")" 0
	assert_eq "enobufs" "$(kv enobufs "$STATS_LINE")" 0
	assert_eq "send-fail" "$(kv send-fail "$STATS_LINE")" 0
	assert_eq "queue line: waiting" "$(kv waiting "$QUEUE_LINE")" 0
	assert_eq "queue line: kernel-dropped" \
		"$(kv kernel-dropped "$QUEUE_LINE")" 0
	assert_eq "queue line: user-dropped" "$(kv user-dropped "$QUEUE_LINE")" 0
	assert_eq "queue line: id-sequence = verdicts" \
		"$(kv id-sequence "$QUEUE_LINE")" "$(kv verdicts "$STATS_LINE")"
	# queue, portid, waiting, copy mode, range, dropped, user-dropped, id
	proc=$(srv cat /proc/net/netfilter/nfnetlink_queue)
	echo "   /proc/net/netfilter/nfnetlink_queue: $proc"
	assert_eq "nfnetlink_queue: queue 0 waiting, dropped, user-dropped" \
		"$(awk '$1 == 0 { print $3, $6, $7 }' <<<"$proc")" "0 0 0"

	read -r v6any v6ok < <(mix_any 2000 500)
	any=$((100 + 10000 + v6any))
	acc=$((2 + 2000 + v6ok))
	echo "   ANY: abuser 100, IPv4 flood 10000, IPv6 flood $v6any;" \
		"expected accepted: 2 + 2000 + $v6ok"
	assert_eq "rule matched (every ANY)" "$(kv matched "$rl")" "$any"
	assert_eq "rule accepted (2 per source)" "$(kv accepted "$rl")" "$acc"
	assert_eq "rule dropped" "$(kv dropped "$rl")" "$((any - acc))"
	assert_eq "daemon dropped = rule dropped" "$(kv dropped "$STATS_LINE")" \
		"$((any - acc))"
	assert_eq "evicted (the table is large enough)" \
		"$(kv evicted "$STATS_LINE")" 0

	dnsrl_finish
}

main "$@"
