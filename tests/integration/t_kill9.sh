#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t_kill9.sh: the resolver survives the daemon.  With the daemon running,
# 20 ANY at once from one source get exactly 2 answers.  After kill -9,
# the rules' --queue-bypass passes everything: 50 A queries (for a name
# the prefilter always queues, so that they do meet the bypass) are all
# answered and 20 ANY at once from a fresh source get 20 answers, over
# IPv4 and IPv6, while the NFQUEUE rules still count them.  Restarted,
# the daemon limits again (a new table: 20 ANY at once from the first
# source, 2 answered) and its counters start from zero.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

conf=

main() {
	local line r0 st=0 pid1 pid2

	_run_dir
	conf=$RUN_DIR/dnsrl.conf
	dnsrl_conf "$conf" <<'EOF'
rule any-abuse {
	qtype ANY
	limit 2/5s
}
EOF
	dnsrl_env "$conf"
	pid1=$DAEMON_PID

	echo "== daemon $pid1 running: 20 ANY at once from $ATTACK4"
	line=$(any_query "$ATTACK4" "$SRV4" 1000 20)
	echo "   $line"
	assert_eq "limited: answered" "$(kv answered "$line")" 2

	echo "== kill -9 $pid1"
	# bash reports the killed job on stderr: expected here, not shown
	daemon_stop KILL 2>/dev/null || st=$?
	assert_eq "daemon died of SIGKILL (status 128+9)" "$st" 137
	assert_true "no such process" test ! -e "/proc/$pid1"

	r0=$(dnsrl_rule_packets)
	line=$(cli "$QGEN" query --src "$CLI4" --dst "$SRV4" --qtype A \
		--qname "$QUEUED_NAME" --rate 200 --count 50)
	echo "   A x50:          $line"
	assert_eq "bypass: A queries answered" "$(kv answered "$line")" 50
	line=$(any_query "$ATTACK4B" "$SRV4" 1000 20)
	echo "   ANY x20 burst:  $line"
	assert_eq "bypass: ANY no longer limited, answered" \
		"$(kv answered "$line")" 20
	line=$(cli "$QGEN" query --src "$ATTACK6A" --dst "$SRV6" --qtype ANY \
		--qname big.example --rate 1000 --count 20)
	echo "   IPv6 ANY x20:   $line"
	assert_eq "bypass: IPv6 ANY answered" "$(kv answered "$line")" 20
	sleep 0.2
	# The packets did go through the NFQUEUE rule: it is the bypass
	# that passed them, not a missing rule.
	assert_eq "NFQUEUE rules counted them" \
		"$(($(dnsrl_rule_packets) - r0))" 90

	echo "== restart"
	dnsrl_start "$conf"
	pid2=$DAEMON_PID
	echo "   daemon $pid2 running"
	assert_eq "one start line each" \
		"$(log_count "dnsrl\[($pid1|$pid2)\]: dnsrl [^ ]+ started: ")" 2
	line=$(any_query "$ATTACK4" "$SRV4" 1000 20)
	echo "   ANY x20 burst:  $line"
	assert_eq "limited again: answered" "$(kv answered "$line")" 2
	line=$(cli "$QGEN" query --src "$CLI4" --dst "$SRV4" --qtype A \
		--qname "$QUEUED_NAME" --rate 200 --count 50)
	assert_eq "A queries still answered" "$(kv answered "$line")" 50
	dnsrl_usr1 any-abuse
	echo "   $STATS_LINE"
	echo "   $(dnsrl_rule_stats any-abuse)"
	assert_eq "new daemon's packets (its own only)" \
		"$(kv packets "$STATS_LINE")" 70
	assert_eq "new daemon's verdicts" "$(kv verdicts "$STATS_LINE")" 70
	assert_eq "rule: matched, accepted, dropped" \
		"$(kv matched "$(dnsrl_rule_stats any-abuse)") $(kv accepted "$(dnsrl_rule_stats any-abuse)") $(kv dropped "$(dnsrl_rule_stats any-abuse)")" \
		"20 2 18"
	dnsrl_finish
}

main "$@"
