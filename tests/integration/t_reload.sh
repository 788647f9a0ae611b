#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t_reload.sh: SIGHUP.  The policy: ANY 2/60s and TXT 3/60s per source (a
# minute, so that no token comes back during the test and every count is
# exact).
#   1. ATTACK4 spends its tokens: 10 ANY at once, 2 answered; 10 TXT, 3.
#   2. A broken file (ANY raised to 100/1s, then a mistake on line 11):
#      the log names file:line, the daemon runs on, the old policy stays
#      (ATTACK4B: 10 ANY, 2 answered, not 10; ATTACK4: 0).
#   3. A good file: ANY unchanged, TXT raised to 6/60s.  The TXT rule
#      changed, so it starts fresh with its new limit (ATTACK4: 10 TXT, 6
#      answered); the ANY rule did not, so it keeps its buckets (ATTACK4,
#      spent before the reload: 10 ANY, 0 answered) and still limits a
#      fresh source (CLI4: 3 ANY, 2 answered).
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

conf=

# Replaces the configuration file with stdin (after the shared settings)
# and sends SIGHUP; waits for the daemon's answer: a "reloaded" or a
# "reload failed" line, the Nth of its kind.
reload_with() {
	local want=$1 nth=$2 i

	dnsrl_conf "$conf.new"
	mv "$conf.new" "$conf"
	kill -HUP "$DAEMON_PID"
	for ((i = 0; i < 50; i++)); do
		[ "$(log_count ": $want")" -ge "$nth" ] && return 0
		sleep 0.1
	done
	_fail "no '$want' line number $nth within 5 s"
	return 1
}

# 10 queries of QTYPE at once from SRC over IPv4; prints qgen's line.
burst() {
	cli "$QGEN" query --src "$1" --dst "$SRV4" --qtype "$2" \
		--qname big.example --rate 1000 --count "${3:-10}"
}

main() {
	local line err

	_run_dir
	conf=$RUN_DIR/dnsrl.conf
	dnsrl_conf "$conf" <<'EOF'
rule any-abuse {
	qtype ANY
	limit 2/60s
}
rule txt-abuse {
	qtype TXT
	limit 3/60s
}
EOF
	dnsrl_env "$conf"

	echo "== 1. the first policy"
	line=$(burst "$ATTACK4" ANY)
	echo "   ATTACK4 ANY x10: $line"
	assert_eq "ATTACK4 ANY: answered" "$(kv answered "$line")" 2
	line=$(burst "$ATTACK4" TXT)
	echo "   ATTACK4 TXT x10: $line"
	assert_eq "ATTACK4 TXT: answered" "$(kv answered "$line")" 3

	echo "== 2. SIGHUP with a broken file"
	reload_with "reload failed: " 1 <<'EOF'
rule any-abuse {
	qtype ANY
	limit 100/1s
}
rule txt-abuse {
	qtype TXT
	limit 3per60s
}
EOF
	assert_eq "the mistake is on line 11 of the file" \
		"$(grep -n 3per60s "$conf" | cut -d: -f1)" 11
	err=$(grep -F ": reload failed: " "$SYSLOG_FILE" || true)
	echo "   $err"
	assert_eq "reload failed line names $conf:11" \
		"$(grep -cF ": reload failed: $conf:11: " "$SYSLOG_FILE" || true)" 1
	assert_eq "and says the running policy stays" \
		"$(log_count ": reload failed: .*; the running policy stays$")" 1
	assert_true "daemon alive" kill -0 "$DAEMON_PID"
	line=$(burst "$ATTACK4B" ANY)
	echo "   ATTACK4B ANY x10: $line"
	assert_eq "old policy: ATTACK4B ANY answered" "$(kv answered "$line")" 2
	line=$(burst "$ATTACK4" ANY)
	echo "   ATTACK4 ANY x10:  $line"
	assert_eq "old policy: ATTACK4 still spent" "$(kv answered "$line")" 0

	echo "== 3. SIGHUP with a good file: TXT raised to 6/60s"
	reload_with "reloaded: " 1 <<'EOF'
rule any-abuse {
	qtype ANY
	limit 2/60s
}
rule txt-abuse {
	qtype TXT
	limit 6/60s
}
EOF
	grep -E ": (reloaded|rule [a-z-]+: qtype)" "$SYSLOG_FILE" | tail -n 3 |
		sed 's/^/   /'
	assert_eq "reloaded: the new TXT limit logged" \
		"$(log_count ": rule txt-abuse: qtype TXT limit 6/")" 1
	line=$(burst "$ATTACK4" TXT)
	echo "   ATTACK4 TXT x10: $line"
	assert_eq "new limit: ATTACK4 TXT answered" "$(kv answered "$line")" 6
	line=$(burst "$ATTACK4" ANY)
	echo "   ATTACK4 ANY x10: $line"
	assert_eq "unchanged rule kept its bucket: ATTACK4 ANY answered" \
		"$(kv answered "$line")" 0
	line=$(burst "$CLI4" ANY 3)
	echo "   CLI4 ANY x3:     $line"
	assert_eq "unchanged rule limits a fresh source: answered" \
		"$(kv answered "$line")" 2

	dnsrl_usr1 any-abuse txt-abuse
	echo "   $STATS_LINE"
	echo "   $(dnsrl_rule_stats any-abuse)"
	echo "   $(dnsrl_rule_stats txt-abuse)"
	# 7 bursts, 63 queries; answered 2 + 3, 2 + 0, 6 + 0 + 2.
	assert_eq "daemon: packets" "$(kv packets "$STATS_LINE")" 63
	assert_eq "daemon: accepted, as answered" \
		"$(kv accepted "$STATS_LINE")" 15
	assert_eq "daemon: dropped over the three policies" \
		"$(kv dropped "$STATS_LINE")" 48
	dnsrl_finish
}

main "$@"
