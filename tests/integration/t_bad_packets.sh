#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t_bad_packets.sh: what is not a plain query is counted, never breaks the
# daemon, and gets its verdict.
#
# Steps 1 to 3 run behind printed rules without a prefilter (the policy has
# a rule that names no qtype, so none can be compiled): every UDP/53
# packet goes to the daemon, and every counter can be exact.
# 1. DNS payloads (qgen send, over a real UDP socket), each kind a distinct
#    number of times so that no two kinds can stand in for each other:
#    truncated header x1, label past the end x2, compression pointer in the
#    question x3, a 257-octet name x4, a reserved label type x5 (all
#    "malformed": 15), QDCOUNT 0 x2 and 2 x3 ("qdcount": 5), a response
#    x4 ("responses"), opcode STATUS x3 ("opcode").
# 2. 20 payloads of random bytes: each lands in exactly one DNS status, so
#    the statuses grow by 20 together.
# 3. Whole packets (qgen raw): IPv4 UDP headers whose length field is too
#    long (x2) or below 8 (x1), an IPv6 one too long (x1): "invalid" 4; a
#    UDP header cut to its 4 port octets (x2), which iptables-nft's
#    "--dport 53" still matches (legacy iptables' udp match would drop it
#    itself): "invalid" as many as the rule passed, which must be all or
#    none; IPv6 first fragments of a query (x3): "fragments" 3, dropped
#    (fragments drop); an atomic IPv6 fragment (offset 0, no more
#    fragments) is a whole query (x1).
# After each step: the NFQUEUE rules' count equals the daemon's packets and
# verdicts; at the end the daemon runs and a normal query is answered.
# 4. The payloads of step 1 again, behind the rules printed for the mission
#    policy alone (ANY), prefilter included, with a new daemon: every
#    malformed one still reaches the daemon (15), and so does QDCOUNT 0
#    (no question to read); the prefilter accepts in the kernel the other
#    10, which carry a whole question of type A.

# dnsrl_usr1 without rule names is meant: the daemon line is enough.
# shellcheck disable=SC2119
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

conf=
prev_line=
prev_rule=0

# A DNS header: ID FLAGS QDCOUNT ANCOUNT NSCOUNT ARCOUNT (numbers).
hdr() {
	printf '%04x%04x%04x%04x%04x%04x' "$@"
}

# qgen send of HEX, COUNT times, from CLI4; no wait for answers.
send() {
	local hex=$1 count=$2 line

	line=$(cli "$QGEN" send --src "$CLI4" --dst "$SRV4" --hex "$hex" \
		--count "$count" --wait 0)
	[ "$(kv sent "$line")" = "$count" ] || _fail "qgen send: $line"
	sent_total=$((sent_total + count))
}

# Counter KEY of the daemon line: the increase since the previous step.
delta() {
	echo $(($(kv "$1" "$STATS_LINE") - $(kv "$1" "$prev_line")))
}

# The DNS payloads of step 1 (see the top), from CLI4.
send_kinds() {
	local q name long

	q=$(hex_name www.big.example)00010001
	send 0102030405 1                                  # header cut short
	send "$(hdr 1 256 1 0 0 0)05616263" 2               # label past the end
	send "$(hdr 2 256 1 0 0 0)c00c00ff0001" 3           # pointer
	# 63 octets with no two 16-octet lines alike (see hex_name's od).
	name=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-
	long=$(hex_name "$name.$name.$name.$name")
	send "$(hdr 3 256 1 0 0 0)${long}00010001" 4        # 257 octets
	send "$(hdr 4 256 1 0 0 0)41${q:2}" 5               # label type 0x40
	send "$(hdr 5 256 0 0 0 0)" 2                       # QDCOUNT 0
	send "$(hdr 6 256 2 0 0 0)$q$q" 3                   # QDCOUNT 2
	send "$(hdr 7 33152 1 0 0 0)$q" 4                   # QR=1 (0x8180)
	send "$(hdr 8 $((0x1100)) 1 0 0 0)$q" 3             # opcode 2, RD
}

# A report and the checks every step shares: all the packets the NFQUEUE
# rules passed were received, each got a verdict.  SENT: how many the
# step's packets the rules should have seen.
step_report() {
	local sent=$1 rule

	dnsrl_usr1
	echo "   $STATS_LINE"
	rule=$(dnsrl_rule_packets)
	assert_eq "NFQUEUE rules saw" "$((rule - prev_rule))" "$sent"
	assert_eq "daemon packets" "$(delta packets)" "$sent"
	assert_eq "daemon verdicts" "$(delta verdicts)" "$sent"
	assert_true "daemon alive" kill -0 "$DAEMON_PID"
	prev_rule=$rule
}

main() {
	local q i hex n udp pkt line st=0 p0

	_run_dir
	conf=$RUN_DIR/dnsrl.conf
	dnsrl_conf "$conf" <<'EOF'
malformed accept
fragments drop
rule any-abuse {
	qtype ANY
	limit 2/5s
}
rule watch {
	qname example.invalid
	limit 100/1s
	action log
}
EOF
	dnsrl_env "$conf"
	assert_true "printed rules: no IPv4 prefilter (rule watch has no qtype)" \
		test -z "$(dnsrl_has_prefilter "$conf" 4 && echo yes)"
	assert_true "printed rules: no IPv6 prefilter" \
		test -z "$(dnsrl_has_prefilter "$conf" 6 && echo yes)"
	dnsrl_usr1
	prev_line=$STATS_LINE
	prev_rule=$(dnsrl_rule_packets)

	echo "== 1. DNS payloads of each kind"
	sent_total=0
	send_kinds
	step_report "$sent_total"
	assert_eq "malformed (1+2+3+4+5)" "$(delta malformed)" 15
	assert_eq "qdcount (2+3)" "$(delta qdcount)" 5
	assert_eq "responses" "$(delta responses)" 4
	assert_eq "opcode" "$(delta opcode)" 3
	assert_eq "queries" "$(delta queries)" 0
	assert_eq "invalid" "$(delta invalid)" 0
	assert_eq "dropped (malformed accept)" "$(delta dropped)" 0
	assert_eq "log lines: none at warning or worse" \
		"$(log_count '^<(2[4-8]|1[0-9]|[0-9])>')" 0
	prev_line=$STATS_LINE

	echo "== 2. 20 payloads of random bytes, 1 to 64 octets"
	sent_total=0
	for ((i = 0; i < 20; i++)); do
		n=$((1 + RANDOM % 64))
		hex=$(head -c "$n" /dev/urandom | od -An -v -tx1 | tr -d ' \n')
		# Printed, so that a failure can be replayed.
		echo "   $hex"
		send "$hex" 1
	done
	step_report "$sent_total"
	n=0
	for i in queries responses opcode qdcount malformed; do
		echo "   $i +$(delta "$i")"
		n=$((n + $(delta "$i")))
	done
	assert_eq "DNS statuses counted, together" "$n" 20
	prev_line=$STATS_LINE

	echo "== 3. whole packets: broken UDP headers, IPv6 fragments"
	q=$(hex_query www.big.example 1)
	# UDP length fields: longer than the packet, then below the header.
	udp=$(printf '%04x%04x%04x0000%s' 40000 53 200 "$q")
	pkt=$(hex_ip4_packet "$CLI4" "$SRV4" 17 "$udp")
	line=$(cli "$QGEN" raw --hex "$pkt" --count 2)
	udp=$(printf '%04x%04x%04x0000%s' 40001 53 4 "$q")
	pkt=$(hex_ip4_packet "$CLI4" "$SRV4" 17 "$udp")
	line+=" $(cli "$QGEN" raw --hex "$pkt")"
	udp=$(printf '%04x%04x%04x0000%s' 40002 53 300 "$q")
	pkt=$(hex_ip6_packet "$CLI6" "$SRV6" 17 "$udp")
	line+=" $(cli "$QGEN" raw --hex "$pkt")"
	echo "   invalid UDP lengths: $line"
	step_report 4
	assert_eq "invalid" "$(delta invalid)" 4
	assert_eq "accepted" "$(delta accepted)" 4
	prev_line=$STATS_LINE

	# Four octets of UDP header, the ports alone.  nftables reads the
	# destination port from them and queues the packet; xt_udp (legacy
	# iptables) would drop it for want of a whole header.
	pkt=$(hex_ip4_packet "$CLI4" "$SRV4" 17 9c400035)
	line=$(cli "$QGEN" raw --hex "$pkt" --count 2)
	sleep 0.2 # the veth delivers on the server's softirq
	n=$(($(dnsrl_rule_packets) - prev_rule))
	echo "   UDP header cut to 4 octets: $line; the NFQUEUE rule saw $n"
	assert_true "the rule saw all or none of the 2" test "$n" = 2 -o "$n" = 0
	step_report "$n"
	assert_eq "invalid (each packet that reached the daemon)" \
		"$(delta invalid)" "$n"
	prev_line=$STATS_LINE

	udp=$(hex_udp 40003 53 "$(hex_query big.example 255)")
	pkt=$(hex_ip6_packet "$ATTACK6A" "$SRV6" 44 \
		"$(hex_frag6 17 0 1 4242)$udp")
	line=$(cli "$QGEN" raw --hex "$pkt" --count 3)
	pkt=$(hex_ip6_packet "$CLI6" "$SRV6" 44 \
		"$(hex_frag6 17 0 0 4243)$(hex_udp 40004 53 "$q")")
	line+=" $(cli "$QGEN" raw --hex "$pkt")"
	echo "   3 first fragments, 1 atomic fragment: $line"
	step_report 4
	assert_eq "fragments" "$(delta fragments)" 3
	assert_eq "dropped (fragments drop)" "$(delta dropped)" 3
	assert_eq "queries (the atomic fragment)" "$(delta queries)" 1
	assert_eq "rule any-abuse matched no fragment" \
		"$(log_count ': limited: ')" 0

	echo "== the daemon still runs and answers"
	assert_true "daemon pid $DAEMON_PID alive" kill -0 "$DAEMON_PID"
	line=$(cli "$QGEN" query --src "$CLI4" --dst "$SRV4" --qtype A \
		--qname www.big.example --rate 10 --count 1)
	echo "   $line"
	assert_eq "a normal query right after: answered" \
		"$(kv answered "$line")" 1
	line=$(cli "$QGEN" query --src "$CLI6" --dst "$SRV6" --qtype AAAA \
		--qname www.big.example --rate 10 --count 1)
	echo "   $line"
	assert_eq "a normal IPv6 query right after: answered" \
		"$(kv answered "$line")" 1
	dnsrl_usr1
	assert_eq "internal errors" "$(kv internal "$STATS_LINE")" 0
	assert_eq "id-gaps" "$(kv id-gaps "$STATS_LINE")" 0
	assert_eq "verdicts = packets" "$(kv verdicts "$STATS_LINE")" \
		"$(kv packets "$STATS_LINE")"

	echo "== 4. behind the mission policy's printed rules, prefilter included"
	daemon_stop TERM || st=$?
	assert_eq "first daemon: exit status after SIGTERM" "$st" 0
	dnsrl_rules_remove "$conf"
	dnsrl_conf "$conf" <<'EOF'
malformed accept
rule any-abuse {
	qtype ANY
	limit 2/5s
}
EOF
	assert_true "printed rules: an IPv4 prefilter" \
		dnsrl_has_prefilter "$conf" 4
	dnsrl_rules_install "$conf"
	dnsrl_start "$conf"
	dnsrl_usr1
	prev_line=$STATS_LINE
	prev_rule=$(dnsrl_rule_packets)
	p0=$(dnsrl_prefilter_packets)
	sent_total=0
	send_kinds
	step_report 17
	assert_eq "malformed: all reached the daemon" "$(delta malformed)" 15
	assert_eq "qdcount: QDCOUNT 0 reached the daemon" "$(delta qdcount)" 2
	assert_eq "responses (accepted in the kernel)" "$(delta responses)" 0
	assert_eq "opcode (accepted in the kernel)" "$(delta opcode)" 0
	assert_eq "prefilter accepted: QDCOUNT 2, responses, opcode (3+4+3)" \
		"$(($(dnsrl_prefilter_packets) - p0))" 10
	assert_eq "prefilter + NFQUEUE = sent" \
		"$(($(dnsrl_prefilter_packets) - p0 + 17))" "$sent_total"
	dnsrl_finish
}

main "$@"
