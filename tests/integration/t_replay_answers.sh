#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t_replay_answers.sh: `dnsrl -r` against the daemon itself, on the same
# traffic.  The daemon runs against Unbound with query rules and answer
# rules while tcpdump captures on the server's end of the veth, whose MTU
# is 1280 on both ends: the big answers (~4 KB: TXT, ANY) leave in IPv4
# and IPv6 fragments, which the daemon never saw (it judges them whole at
# OUTPUT, before the kernel cuts them), and the capture holds nothing
# else.  The replay of that capture, under the same file, must give every
# rule line the daemon gave (SIGUSR1), counter for counter, and the same
# answer path counters.
#   The capture must be what the daemon judged: tcpdump on the link sees
#   queries before the daemon and answers after it.  So the answer rules
#   are `action log` (the answers leave as they came) while a query rule
#   truncates for real (the query the daemon rewrote draws a small answer
#   with TC from Unbound, which both the daemon and the capture see) and
#   another logs.  The budgets are per hour: a decision does not depend on
#   how many milliseconds apart the daemon and tcpdump stamp a packet.
#   Traffic (dig, EDNS 4096, no TCP retry): 198.51.100.66 asks TXT 5
#   times, 198.51.100.67 ANY 6 times, 198.51.100.10 www A 3 times and TXT
#   twice; 2001:db8:2:1::1 TXT 5 times, 2001:db8:3::1 ANY 4 times.  The
#   checks compare; a few more show the traffic did what it was meant
#   to (4 queries truncated, 18 answers judged, octets refused).
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

RULES="any-trunc txt-log shadow per-net"

# dig from SRC to DST for NAME TYPE, UDP only (dig 9.18 asks ANY over TCP
# unless told); its answer is not checked.
ask() {
	cli dig +notcp +bufsize=4096 +ignore +tries=1 +time=2 -b "$1" @"$2" "$3" "$4" \
		>/dev/null 2>&1 || true
}

# The frames in the capture FILE so far.
frames() {
	tcpdump -nr "$1" 2>/dev/null | wc -l
}

# The counters of a rule line: what follows "rule NAME: ", without the
# daemon's " tracked=N".
counters() {
	sed -E 's/^(.*: )?rule [^:]+: //; s/ tracked=[0-9]+$//'
}

main() {
	local conf cap tdpid n i last out line r live rep
	local frag

	dnsrl_require
	ns_setup
	srv ip link set "$SRV_IF" mtu 1280
	cli ip link set "$CLI_IF" mtu 1280
	unbound_start
	syslog_start
	conf=$RUN_DIR/dnsrl.conf
	dnsrl_conf "$conf" <<'EOF2'
rule any-trunc {
	qtype ANY
	limit 3/1h
	action truncate
}
rule txt-log {
	qtype TXT
	limit 2/1h
	action log
}
answer-rule shadow {
	size 1000
	bytes 10k/1h
	action log
}
answer-rule per-net {
	size 3000
	bytes 20k/1h
	ipv4-prefix 24
	ipv6-prefix 48
	action log
}
EOF2
	dnsrl_rules_install "$conf"
	dnsrl_start "$conf"

	cap=$RUN_DIR/server.pcap
	# not through srv/cli: $! must be tcpdump itself (ip netns exec
	# execs it), so that wait returns once it has written everything
	ip netns exec "$SRV_NS" tcpdump -i "$SRV_IF" -U -s 0 -w "$cap" \
		'udp port 53 or (ip[6:2] & 0x1fff != 0) or ip6[6] = 44' \
		>/dev/null 2>"$cap.err" &
	tdpid=$!
	track_pid "$tdpid"
	for ((n = 0; n < 100; n++)); do
		grep -q 'listening on' "$cap.err" 2>/dev/null && break
		sleep 0.1
	done
	assert_true "tcpdump listens on the server's link" \
		grep -q 'listening on' "$cap.err"

	echo "== traffic"
	for ((i = 0; i < 6; i++)); do
		[ "$i" -lt 5 ] && ask "$ATTACK4" "$SRV4" big.example TXT
		ask "$ATTACK4B" "$SRV4" big.example ANY
		[ "$i" -lt 3 ] && ask "$CLI4" "$SRV4" www.big.example A
		[ "$i" -lt 2 ] && ask "$CLI4" "$SRV4" big.example TXT
		[ "$i" -lt 5 ] && ask "$ATTACK6A" "$SRV6" big.example TXT
		[ "$i" -lt 4 ] && ask "$OTHER6" "$SRV6" big.example ANY
	done
	# tcpdump may lag behind, and what it has not read when it stops is
	# lost: wait (15 s at most) until it has written the 25 queries and
	# then nothing more for a second
	last=-1
	i=0
	for ((n = 0; n < 75; n++)); do
		if [ "$(tcpdump -nr "$cap" 'udp dst port 53' 2>/dev/null | wc -l)" -ge 25 ]; then
			[ "$(frames "$cap")" = "$last" ] && i=$((i + 1)) || i=0
			[ "$i" -ge 5 ] && break
			last=$(frames "$cap")
		fi
		sleep 0.2
	done
	kill "$tdpid" 2>/dev/null || true
	wait "$tdpid" 2>/dev/null || true
	untrack_pid "$tdpid"
	n=$(frames "$cap")
	frag=$(tcpdump -nr "$cap" '(ip[6:2] & 0x3fff != 0) or ip6[6] = 44' 2>/dev/null | wc -l)
	echo "   captured $n frames, $frag of them fragments"
	assert_eq "queries captured" \
		"$(tcpdump -nr "$cap" 'udp dst port 53' 2>/dev/null | wc -l)" 25
	assert_range "fragments captured (big answers over IPv4 and IPv6)" \
		"$frag" 40 1000

	# shellcheck disable=SC2086 # the rule names
	dnsrl_usr1 $RULES
	out=$("$DNSRL" -r "$cap" -c "$conf")
	echo "   replay:"
	printf '%s\n' "$out" | sed 's/^/     /'
	line=$(grep -m1 '^packets: ' <<<"$out")
	assert_eq "replay: every fragment made a datagram" \
		"$(kv reassembled "$line")" "$frag"
	assert_eq "replay: nothing dropped by the reassembly" \
		"$(kv dropped "$line")" 0
	for r in $RULES; do
		live=$(dnsrl_rule_stats "$r" | counters)
		rep=$(grep -m1 -E "^rule $r: " <<<"$out" | counters)
		echo "   daemon $r: $live"
		assert_eq "rule $r: the replay's counters are the daemon's" \
			"$rep" "$live"
	done
	live=$(grep -m1 -E ': answers \(SIGUSR1\): ' <<<"$STATS_CHUNK" || true)
	rep=$(grep -m1 -E '^answers: ' <<<"$out")
	echo "   daemon ${live#*: }"
	for n in packets verdicts accepted dropped replaced answers bytes \
		not-answers allowed malformed fragments invalid cut; do
		assert_eq "answer path $n: the replay's is the daemon's" \
			"$(kv "$n" "$rep")" "$(kv "$n" "$live")"
	done
	# the checks above can fail: the traffic did what it was meant to
	r=$(dnsrl_rule_stats any-trunc)
	assert_eq "any-trunc truncated queries" "$(kv truncated "$r")" 4
	r=$(dnsrl_rule_stats shadow)
	assert_range "shadow would have refused octets" \
		"$(kv would-refuse-bytes "$r")" 4000 1000000
	r=$(dnsrl_rule_stats per-net)
	assert_range "per-net would have refused octets" \
		"$(kv would-refuse-bytes "$r")" 4000 1000000
	# 12 TXT and 6 ANY of ~4 KB (the 4 truncated queries draw small
	# answers, which the daemon's rules never queue)
	assert_eq "answers judged by the daemon" "$(kv answers "$live")" 18
	# a replay needs the file alone: on an analyst's machine there is
	# neither the daemon's user nor its directories
	sed -e 's|^user[[:space:]].*|user dnsrl-no-such-user|' \
		-e 's|^control-socket[[:space:]].*|control-socket /nonexistent/dnsrl/c.sock|' \
		"$TOP/conf/dnsrl.conf" >"$RUN_DIR/elsewhere.conf"
	assert_true "replay under the shipped file, without its user or directories" \
		"$DNSRL" -r "$cap" -c "$RUN_DIR/elsewhere.conf"
	dnsrl_finish
}

main "$@"
