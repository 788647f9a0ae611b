#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t_privs.sh: the daemon opens its queue and control socket as root, then
# runs as `user nobody` with CAP_NET_ADMIN alone, which every message to
# the queue needs, verdicts included.
#   1. /proc/PID/status of the process and of each of its threads: uid and
#      gid 65534, no supplementary group, CapPrm = CapEff = CapBnd =
#      0000000000001000 (CAP_NET_ADMIN, 12), nothing inheritable or
#      ambient, NoNewPrivs 1.
#   2. Verdicts work after the drop, both ways: 20 ANY at once from
#      ATTACK4 under 2/1m get exactly 2 answers (drops), 20 A queries
#      for a name the prefilter always queues all get theirs (accepts);
#      the counters agree and no verdict failed; the SIGUSR1 report
#      still has its queue line (the kernel's counters of the queue).
#   3. The control socket is mode 0600, owned by nobody:nogroup;
#      dnsrlctl (root) prints the counters and the abuser with its 18
#      drops; nobody may ask too, another user may not.  A reload, read
#      as nobody, works.  At SIGTERM the daemon removes its socket.
#   4. The point of 2: the same daemon started without CAP_NET_ADMIN in
#      its bounding set (setpriv) cannot bind the queue, exits 1 saying
#      why, and the same burst of 20 ANY, from a fresh source, is then
#      answered 20 times (--queue-bypass).  So the 2 of step 2 are the
#      daemon's verdicts.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib-ops.sh
. "$(dirname "$0")/lib-ops.sh"

NET_ADMIN_ONLY=0000000000001000
NONE=0000000000000000

# The capability and identity lines of /proc/PID/status (or of a task).
check_status() {
	local who=$1 p=$2

	assert_eq "$who: Uid" "$(ops_proc_status "$p" Uid)" "65534 65534 65534 65534"
	assert_eq "$who: Gid" "$(ops_proc_status "$p" Gid)" "65534 65534 65534 65534"
	assert_eq "$who: Groups (none)" "$(ops_proc_status "$p" Groups)" ""
	assert_eq "$who: CapPrm" "$(ops_proc_status "$p" CapPrm)" "$NET_ADMIN_ONLY"
	assert_eq "$who: CapEff" "$(ops_proc_status "$p" CapEff)" "$NET_ADMIN_ONLY"
	assert_eq "$who: CapBnd" "$(ops_proc_status "$p" CapBnd)" "$NET_ADMIN_ONLY"
	assert_eq "$who: CapInh" "$(ops_proc_status "$p" CapInh)" "$NONE"
	assert_eq "$who: CapAmb" "$(ops_proc_status "$p" CapAmb)" "$NONE"
	assert_eq "$who: NoNewPrivs" "$(ops_proc_status "$p" NoNewPrivs)" 1
}

# 20 ANY at once from SRC; prints qgen's line.
any_burst() {
	cli "$QGEN" query --src "$1" --dst "$SRV4" --qtype ANY \
		--qname big.example --rate 1000 --count 20
}

main() {
	local conf sock t tasks=0 names= line out st pid

	_run_dir
	# nobody reaches the run directory (to reread its configuration)
	# and owns the socket's directory (to remove its socket at exit)
	chmod 0711 "$RUN_DIR"
	mkdir -m 0700 "$RUN_DIR/ctl"
	chown nobody:nogroup "$RUN_DIR/ctl"
	sock=$RUN_DIR/ctl/control.sock
	conf=$RUN_DIR/dnsrl.conf
	dnsrl_conf "$conf" <<EOF
user nobody
control-socket $sock
rule any-abuse {
	qtype ANY
	limit 2/1m
}
EOF
	chmod 0644 "$conf"
	[ -x "$DNSRLCTL" ] || {
		_err "$DNSRLCTL missing: run make B=$B all tools"
		exit 1
	}
	dnsrl_env "$conf"

	echo "== 1. identity and capabilities after the start"
	grep -E "dnsrl\[$DAEMON_PID\]: running as " "$SYSLOG_FILE" | sed 's/^/   /'
	assert_eq "log: running as uid 65534 gid 65534 with CAP_NET_ADMIN only" \
		"$(log_count "dnsrl\[$DAEMON_PID\]: running as uid 65534 gid 65534 with CAP_NET_ADMIN only$")" 1
	grep -E '^(Uid|Gid|Groups|Cap[A-Za-z]+|NoNewPrivs):' \
		"/proc/$DAEMON_PID/status" | sed 's/^/   /'
	check_status "process" "$DAEMON_PID"
	for t in /proc/"$DAEMON_PID"/task/*; do
		tasks=$((tasks + 1))
		names="$names $(cat "$t/comm")"
		check_status "thread ${t##*/} ($(cat "$t/comm"))" \
			"$DAEMON_PID/task/${t##*/}"
	done
	assert_eq "threads: main, one worker, the control socket's" "$tasks" 3
	# shellcheck disable=SC2086 # one name a word
	assert_eq "threads' names" "$(printf '%s\n' $names | sort | xargs)" \
		"dnsrl dnsrl-control dnsrl-q0"

	echo "== 2. verdicts after the drop"
	line=$(any_burst "$ATTACK4")
	echo "   ATTACK4 ANY x20: $line"
	assert_eq "ATTACK4 ANY: sent" "$(kv sent "$line")" 20
	assert_eq "ATTACK4 ANY: answered (drops work)" "$(kv answered "$line")" 2
	line=$(cli "$QGEN" query --src "$CLI4" --dst "$SRV4" --qtype A \
		--qname "$QUEUED_NAME" --rate 1000 --count 20)
	echo "   CLI4 A x20 (queued name): $line"
	assert_eq "CLI4 A: answered (accepts work)" "$(kv answered "$line")" 20
	# the queue line is looked for on its own below
	ops_usr1 "" any-abuse
	echo "   $STATS_LINE"
	echo "   $(dnsrl_rule_stats any-abuse)"
	sleep 0.5
	QUEUE_LINE=$(grep -E "dnsrl\[$DAEMON_PID\]: queue 0: waiting=" \
		"$SYSLOG_FILE" | tail -n 1 || true)
	echo "   ${QUEUE_LINE:-(no queue 0 line)}"
	# The line is read from /proc/net/netfilter/nfnetlink_queue, which
	# is mode 0440 root:root: the daemon's user cannot open it.
	assert_eq "the SIGUSR1 report keeps its queue line after the drop" \
		"$(kv id-sequence "$QUEUE_LINE" || echo none)" 40
	assert_eq "daemon packets, verdicts, accepted, dropped" \
		"$(kv packets "$STATS_LINE") $(kv verdicts "$STATS_LINE") $(kv accepted "$STATS_LINE") $(kv dropped "$STATS_LINE")" \
		"40 40 22 18"
	assert_eq "verdicts = NFQUEUE rules" "$(kv verdicts "$STATS_LINE")" \
		"$(dnsrl_rule_packets)"
	assert_eq "nl-errors, send-fail" \
		"$(kv nl-errors "$STATS_LINE") $(kv send-fail "$STATS_LINE")" "0 0"

	echo "== 3. the control socket"
	echo "   $(stat -c '%n: %F, mode %a, %U:%G' "$sock")"
	assert_eq "socket: type, mode, owner" "$(stat -c '%F %a %U %G' "$sock")" \
		"socket 600 nobody nogroup"
	out=$(srv "$DNSRLCTL" -s "$sock" stats) || out="dnsrlctl failed: $out"
	echo "   stats| ${out//$'\n'/$'\n'   stats| }"
	assert_eq "dnsrlctl stats: the daemon line" \
		"$(grep -cE '^stats: packets=40 verdicts=40 accepted=22 dropped=18 ' <<<"$out" || true)" 1
	assert_eq "dnsrlctl stats: the rule line" \
		"$(grep -cE '^rule any-abuse: matched=20 accepted=2 dropped=18 ' <<<"$out" || true)" 1
	out=$(srv "$DNSRLCTL" -s "$sock" top) || out="dnsrlctl failed: $out"
	echo "   top| ${out//$'\n'/$'\n'   top| }"
	assert_eq "dnsrlctl top: one source limited" \
		"$(grep -cE '^rule any-abuse: 1 source limited$' <<<"$out" || true)" 1
	assert_eq "dnsrlctl top: ATTACK4 with its 18 drops" \
		"$(grep -cE "^ +1  ${ATTACK4//./\\.}/32 +18 drops  limited$" <<<"$out" || true)" 1
	out=$(srv setpriv --reuid nobody --regid nogroup --clear-groups \
		"$DNSRLCTL" -s "$sock" stats 2>&1) || out="dnsrlctl failed: $out"
	assert_eq "dnsrlctl as nobody: the rule line" \
		"$(grep -cE '^rule any-abuse: matched=20 ' <<<"$out" || true)" 1
	st=0
	out=$(srv setpriv --reuid 12345 --regid 12345 --clear-groups \
		"$DNSRLCTL" -s "$sock" stats 2>&1) || st=$?
	echo "   as uid 12345: $out"
	assert_eq "dnsrlctl as uid 12345: refused (exit 1)" "$st" 1
	assert_eq "dnsrlctl as uid 12345: no counters" \
		"$(grep -c 'matched=' <<<"$out" || true)" 0
	kill -HUP "$DAEMON_PID"
	assert_true "SIGHUP: reloaded, the file read as nobody" \
		wait_for_log "dnsrl\[$DAEMON_PID\]: reloaded: " 5
	line=$(any_burst "$ATTACK4")
	assert_eq "after the reload ATTACK4 is still limited: answered" \
		"$(kv answered "$line")" 0
	pid=$DAEMON_PID
	st=0
	daemon_stop TERM || st=$?
	assert_eq "daemon exit status after SIGTERM" "$st" 0
	assert_true "final counters logged" \
		wait_for_log "dnsrl\[$pid\]: stats \(final\): " 2
	assert_true "the socket is removed at exit" test ! -e "$sock"

	echo "== 4. the same daemon without CAP_NET_ADMIN"
	daemon_start setpriv --inh-caps=-all --bounding-set=-net_admin \
		"$DNSRL" -f -c "$conf"
	pid=$DAEMON_PID
	ops_wait_exit "$pid" 5 || true
	st=0
	daemon_stop TERM || st=$?
	grep -E "dnsrl\[$pid\]: " "$SYSLOG_FILE" | sed 's/^/   /'
	assert_eq "without CAP_NET_ADMIN: exit status" "$st" 1
	assert_eq "it says why" \
		"$(log_count "dnsrl\[$pid\]: queue 0: cannot bind \(needs CAP_NET_ADMIN\): Operation not permitted$")" 1
	assert_eq "no queue bound in the kernel" \
		"$(ops_bound_queues 0)" 0
	line=$(any_burst "$ATTACK4B")
	echo "   ATTACK4B ANY x20: $line"
	assert_eq "then the burst passes the bypassed queue: answered" \
		"$(kv answered "$line")" 20

	dnsrl_assert_clean
	finish
}

main "$@"
