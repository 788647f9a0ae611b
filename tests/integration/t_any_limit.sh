#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t_any_limit.sh: the mission policy, "2 ANY per 5 s per source".
#
# IPv4: ATTACK4 sends ANY at 50/s for 10 s (500 queries) and gets 4 to 6
# answers (5 expected: at 0 s twice, then 2.5, 5 and 7.5 s), while CLI4,
# sending one ANY every 3 s, gets every answer.  IPv6: ATTACK6A and
# ATTACK6B, two addresses in one /56, share a bucket: 25/s each for 10 s,
# 4 to 6 answers together; OTHER6, in another /56, gets every answer.
# The daemon's rule counters must agree with what the clients saw: matched
# = what the NFQUEUE rule passed to it = what qgen sent, accepted = what
# qgen got answered, dropped = the rest.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

conf=
# The rule's counters at the previous report.
prev_matched=0
prev_accepted=0
prev_dropped=0

# Checks the daemon's counters against what the clients of one phase sent
# and got answered.  LABEL SENT ANSWERED QUEUED (the NFQUEUE rules' delta).
check_counters() {
	local label=$1 sent=$2 answered=$3 queued=$4 rl m a d

	dnsrl_usr1 any-abuse
	rl=$(dnsrl_rule_stats any-abuse)
	echo "   $rl"
	m=$(($(kv matched "$rl") - prev_matched))
	a=$(($(kv accepted "$rl") - prev_accepted))
	d=$(($(kv dropped "$rl") - prev_dropped))
	prev_matched=$(kv matched "$rl")
	prev_accepted=$(kv accepted "$rl")
	prev_dropped=$(kv dropped "$rl")
	echo "   $label: qgen sent $sent, answered $answered;" \
		"NFQUEUE rules passed $queued to the daemon;" \
		"rule matched $m, accepted $a, dropped $d"
	assert_eq "$label: NFQUEUE rules = queries sent" "$queued" "$sent"
	assert_eq "$label: rule matched = queries sent" "$m" "$sent"
	assert_eq "$label: rule accepted = answers received" "$a" "$answered"
	assert_eq "$label: rule dropped = sent - answered" "$d" \
		"$((sent - answered))"
	assert_eq "$label: verdicts = packets" \
		"$(kv verdicts "$STATS_LINE")" "$(kv packets "$STATS_LINE")"
}

main() {
	local r0 atk cli_pid out line a1 a2 n s

	_run_dir
	conf=$RUN_DIR/dnsrl.conf
	dnsrl_conf "$conf" <<'EOF'
rule any-abuse {
	qtype ANY
	limit 2/5s
}
EOF
	dnsrl_env "$conf"
	out=$RUN_DIR/slow.out

	echo "== IPv4: $ATTACK4 ANY at 50/s for 10 s; $CLI4 one ANY every 3 s"
	r0=$(dnsrl_rule_packets)
	any_slowly "$CLI4" "$SRV4" 4 3 >"$out" &
	cli_pid=$!
	track_pid "$cli_pid"
	atk=$(any_query "$ATTACK4" "$SRV4" 50 500)
	wait "$cli_pid"
	untrack_pid "$cli_pid"
	line=$(cat "$out")
	echo "   attacker $atk"
	echo "   client   $line"
	assert_eq "ATTACK4: sent" "$(kv sent "$atk")" 500
	assert_range "ATTACK4: answered (5 expected)" "$(kv answered "$atk")" 4 6
	assert_eq "ATTACK4: truncated answers" "$(kv truncated "$atk")" 0
	assert_eq "CLI4 within its limit: sent" "$(kv sent "$line")" 4
	assert_eq "CLI4 within its limit: answered" "$(kv answered "$line")" 4
	assert_eq "limited line for $ATTACK4/32" \
		"$(log_count ": limited: rule any-abuse source $ATTACK4/32 exceeds 2/5s( \(ANY big\.example\.\))?$")" 1
	assert_eq "no limited line for $CLI4" \
		"$(log_count ": limited: rule any-abuse source $CLI4/")" 0
	s=$(($(kv sent "$atk") + $(kv sent "$line")))
	n=$(($(kv answered "$atk") + $(kv answered "$line")))
	check_counters "IPv4" "$s" "$n" "$(($(dnsrl_rule_packets) - r0))"

	echo "== IPv6: $ATTACK6A and $ATTACK6B (one /56) 25/s each for 10 s;" \
		"$OTHER6 one ANY every 3 s"
	r0=$(dnsrl_rule_packets)
	any_slowly "$OTHER6" "$SRV6" 4 3 >"$out" &
	cli_pid=$!
	track_pid "$cli_pid"
	any_query "$ATTACK6B" "$SRV6" 25 250 >"$RUN_DIR/atk6b.out" &
	a2=$!
	track_pid "$a2"
	a1=$(any_query "$ATTACK6A" "$SRV6" 25 250)
	wait "$a2"
	untrack_pid "$a2"
	a2=$(cat "$RUN_DIR/atk6b.out")
	wait "$cli_pid"
	untrack_pid "$cli_pid"
	line=$(cat "$out")
	echo "   attacker A $a1"
	echo "   attacker B $a2"
	echo "   other /56  $line"
	n=$(($(kv answered "$a1") + $(kv answered "$a2")))
	assert_eq "ATTACK6A + ATTACK6B: sent" \
		"$(($(kv sent "$a1") + $(kv sent "$a2")))" 500
	assert_range "ATTACK6A + ATTACK6B: answered together (5 expected)" \
		"$n" 4 6
	assert_eq "OTHER6 within its limit: sent" "$(kv sent "$line")" 4
	assert_eq "OTHER6 within its limit: answered" "$(kv answered "$line")" 4
	assert_eq "limited line for the shared /56" \
		"$(log_count ": limited: rule any-abuse source 2001:db8:2::/56 exceeds 2/5s( \(ANY big\.example\.\))?$")" 1
	assert_eq "no limited line for OTHER6's /56" \
		"$(log_count ": limited: rule any-abuse source 2001:db8:3:")" 0
	s=$(($(kv sent "$a1") + $(kv sent "$a2") + $(kv sent "$line")))
	n=$((n + $(kv answered "$line")))
	check_counters "IPv6" "$s" "$n" "$(($(dnsrl_rule_packets) - r0))"

	dnsrl_finish
}

main "$@"
