#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t_shadow.sh: a shadow (action log) rule in front of an enforcing one.
# "candidate" (ANY 1/10s, log) counts what it would drop and passes every
# query on; "enforce" (ANY 3/10s, drop) still decides.  A burst of 20 ANY
# from one source (20 ms, far below a refill) must give, from the SIGUSR1
# lines: candidate matched 20, accepted 1, would-drop 19, dropped 0;
# enforce matched 20, accepted 3, dropped 17; and 3 answers at the client.
# Then the same from a second source, to see the counters add up.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

conf=

burst() {
	local src=$1 sent=$2 k=$3 line c e

	echo "== $sent ANY at once from $src (burst number $k)"
	line=$(any_query "$src" "$SRV4" 1000 "$sent")
	echo "   $line"
	assert_eq "$src: sent" "$(kv sent "$line")" "$sent"
	assert_eq "$src: answered (enforce's burst)" "$(kv answered "$line")" 3
	dnsrl_usr1 candidate enforce
	c=$(dnsrl_rule_stats candidate)
	e=$(dnsrl_rule_stats enforce)
	echo "   $c"
	echo "   $e"
	# Counters are totals since the start: k bursts so far.
	assert_eq "candidate: matched" "$(kv matched "$c")" "$((k * sent))"
	assert_eq "candidate: accepted" "$(kv accepted "$c")" "$k"
	assert_eq "candidate: would-drop (sent - 1)" "$(kv would-drop "$c")" \
		"$((k * (sent - 1)))"
	assert_eq "candidate: dropped (a log rule drops nothing)" \
		"$(kv dropped "$c")" 0
	assert_eq "enforce: matched (everything passed on)" \
		"$(kv matched "$e")" "$((k * sent))"
	assert_eq "enforce: accepted" "$(kv accepted "$e")" "$((k * 3))"
	assert_eq "enforce: dropped (sent - 3)" "$(kv dropped "$e")" \
		"$((k * (sent - 3)))"
	assert_eq "enforce: would-drop" "$(kv would-drop "$e")" 0
	assert_eq "daemon: dropped" "$(kv dropped "$STATS_LINE")" \
		"$((k * (sent - 3)))"
}

main() {
	_run_dir
	conf=$RUN_DIR/dnsrl.conf
	dnsrl_conf "$conf" <<'EOF'
rule candidate {
	qtype ANY
	limit 1/10s
	action log
}
rule enforce {
	qtype ANY
	limit 3/10s
}
EOF
	dnsrl_env "$conf"
	assert_eq "start line names the log rule" \
		"$(log_count ": rule candidate: qtype ANY limit 1/10s .*action log$")" 1

	burst "$ATTACK4" 20 1
	burst "$ATTACK4B" 20 2
	dnsrl_finish
}

main "$@"
