#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# serial
#
# t_reload_stall.sh: reloads while the worker is stopped (ptrace), then
# after it is let go.  The policy: ANY 2/60s (any-abuse, never changed)
# and a TXT rule that each reload replaces by a new one (another name, so
# a fresh rule: a new id, no buckets of its own yet).
#   1. ATTACK4 spends its tokens: 10 ANY, 2 answered; 10 TXT (txt-a 3/60s),
#      3 answered.
#   2. The worker stopped for 9 s: three reloads (txt-b, txt-c, txt-d),
#      each says, after waiting 2 s, that a worker has not taken the new
#      policy; the daemon stays up.
#   3. Let go: the worker takes the last policy; a fourth reload (txt-e
#      5/60s) is clean.  ATTACK4's 10 TXT now get 5 answers: the new rule
#      has no buckets of the rules before it (had it inherited txt-a's
#      spent bucket, 0); its 10 ANY get 0 (any-abuse kept its bucket).
# Freeing the retired policies is test_reload's (unit, under ASan).
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib-ops.sh
. "$(dirname "$0")/lib-ops.sh"

conf=

# The configuration with TXT rule NAME at N/60s.
write_conf() {
	dnsrl_conf "$conf.new" <<EOF
rule any-abuse {
	qtype ANY
	limit 2/60s
}
rule $1 {
	qtype TXT
	limit $2/60s
}
EOF
	mv "$conf.new" "$conf"
}

# Writes the file, sends SIGHUP and waits for the Nth line matching RE.
reload_until() {
	local re=$3 nth=$4 i

	write_conf "$1" "$2"
	kill -HUP "$DAEMON_PID"
	for ((i = 0; i < 60; i++)); do
		[ "$(log_count "$re")" -ge "$nth" ] && return 0
		sleep 0.1
	done
	_fail "no line '$re' number $nth within 6 s"
	return 1
}

burst() {
	cli "$QGEN" query --src "$1" --dst "$SRV4" --qtype "$2" \
		--qname big.example --rate 1000 --count 10
}

main() {
	local line tid w st=0 stalled

	_run_dir
	conf=$RUN_DIR/dnsrl.conf
	write_conf txt-a 3
	dnsrl_env "$conf"

	echo "== 1. ATTACK4 spends its tokens"
	line=$(burst "$ATTACK4" ANY)
	assert_eq "ANY answered" "$(kv answered "$line")" 2
	line=$(burst "$ATTACK4" TXT)
	assert_eq "txt-a: TXT answered" "$(kv answered "$line")" 3

	echo "== 2. three reloads while the worker is stopped"
	tid=$(ops_worker_tid "$DAEMON_PID")
	stop_thread "$tid" 9 >"$RUN_DIR/ptrace.out" 2>&1 &
	w=$!
	track_pid "$w"
	assert_true "the worker thread is stopped" \
		ops_wait_count "$RUN_DIR/ptrace.out" '^stopped$' 1 5
	stalled="dnsrl\[$DAEMON_PID\]: reload: a worker has not taken"
	reload_until txt-b 4 "$stalled" 1
	reload_until txt-c 6 "$stalled" 2
	reload_until txt-d 7 "$stalled" 3
	assert_eq "three reloads, three warnings" "$(log_count "$stalled")" 3
	assert_true "the daemon is alive" kill -0 "$DAEMON_PID"
	wait "$w" || st=$?
	untrack_pid "$w"
	assert_eq "the worker let go (ptrace helper's exit)" "$st" 0

	echo "== 3. a reload after the worker is back"
	reload_until txt-e 5 "dnsrl\[$DAEMON_PID\]: reloaded: " 4
	assert_eq "no warning for the fourth reload" \
		"$(log_count "$stalled")" 3
	line=$(burst "$ATTACK4" TXT)
	echo "   ATTACK4 TXT x10 under txt-e 5/60s: $line"
	assert_eq "txt-e: a fresh rule, no inherited bucket" \
		"$(kv answered "$line")" 5
	line=$(burst "$ATTACK4" ANY)
	assert_eq "any-abuse kept its bucket" "$(kv answered "$line")" 0
	dnsrl_usr1 any-abuse txt-e
	echo "   $(dnsrl_rule_stats txt-e)"
	assert_eq "txt-e: matched" "$(kv matched "$(dnsrl_rule_stats txt-e)")" 10
	dnsrl_finish
}

main "$@"
