#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# serial
#
# t_notify.sh: the service manager's side of Type=notify and WatchdogSec,
# played by the test.  The daemon's NOTIFY_SOCKET is the run's logsink
# socket, the one its syslog goes to, so that notifications and log lines
# land in one file in the order they were sent; WATCHDOG_USEC=1000000
# (1 s), WATCHDOG_PID = the daemon's own pid.
#   1. READY=1 (with STATUS=running) comes once, after the start line,
#      which the daemon logs once its queue is bound; the queue is bound
#      in the kernel, and ANY queries sent at once are limited (2 of 10).
#   2. WATCHDOG=1 every third of the interval, at the next 100 ms tick
#      (0.4 s): 6..9 in 3 s, the first after READY.
#   3. A hung worker: its thread alone stopped for 2 s (ptrace), the main
#      thread running on: no WATCHDOG=1 in the last 1.2 s of it (a ping
#      decided before may still arrive), one "worker stalled" line; let
#      go, the pings come back.  The whole process SIGSTOPped: none in
#      1.5 s either, and they come back on SIGCONT.  (The decision itself, beats against the interval, is
#      unit-tested in tests/test_notify.c, the clock driven by the test.)
#   4. SIGHUP: RELOADING=1, then the "reloaded" line, then READY=1; with
#      a broken file READY=1 says "STATUS=reload failed; old policy".
#   5. SIGTERM: the stop line, STOPPING=1, then the final counters.
#   6. Started again with WATCHDOG_PID naming another process: READY=1,
#      and no WATCHDOG=1 in 2 s.
#   7. SIGHUP and SIGTERM at once, as `systemctl reload dnsrl; systemctl
#      stop dnsrl` may send them: RELOADING=1, READY=1, STOPPING=1, the
#      final counters, exit status 0.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib-ops.sh
. "$(dirname "$0")/lib-ops.sh"

conf=
RE_READY='^READY=1\\nSTATUS=running$'
RE_WD='^WATCHDOG=1$'

# Starts the daemon with the notification environment; WATCHDOG_PID is
# its own pid ("self") or the number given.  Does not wait.
start_notifying() {
	local env=(env "NOTIFY_SOCKET=$SYSLOG_SOCK" WATCHDOG_USEC=1000000)

	if [ "$1" = self ]; then
		# sh execs the daemon: its $$ is the daemon's pid
		# shellcheck disable=SC2016
		daemon_start "${env[@]}" /bin/sh -c \
			'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"' \
			notify "$DNSRL" -f -c "$conf"
	else
		daemon_start "${env[@]}" "WATCHDOG_PID=$1" "$DNSRL" -f -c "$conf"
	fi
}

# Waits up to 10 s for the start line of the daemon.
wait_started() {
	local i

	for ((i = 0; i < 100; i++)); do
		[ "$(log_count "dnsrl\[$DAEMON_PID\]: dnsrl [^ ]+ started: ")" != 0 ] &&
			return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	_err "dnsrl did not start: $(tail -n 5 "$RUN_DIR/daemon.out")"
	exit 1
}

# The notifications in the log: lines of KIND ("READY=1" ...).
notes() {
	log_count "^$1"
}

main() {
	local n0 n1 r w i pid tid line out st

	_run_dir
	conf=$RUN_DIR/dnsrl.conf
	dnsrl_conf "$conf" <<'EOF'
rule any-abuse {
	qtype ANY
	limit 2/1m
}
EOF
	dnsrl_require
	ns_setup
	unbound_start
	syslog_start
	dnsrl_rules_install "$conf"

	echo "== 1. READY=1 once bound"
	start_notifying self
	pid=$DAEMON_PID
	# looked at as soon as READY=1 is there (ops_wait_count: every 50 ms)
	assert_true "READY=1 arrives" ops_wait_count "$SYSLOG_FILE" "$RE_READY" 1 5
	assert_eq "queue 0 is bound in the kernel by then" "$(ops_bound_queues 0)" 1
	line=$(cli "$QGEN" query --src "$ATTACK4" --dst "$SRV4" --qtype ANY \
		--qname big.example --rate 1000 --count 10)
	echo "   ANY x10 right after READY: $line"
	assert_eq "ANY x10 right after READY: answered" "$(kv answered "$line")" 2
	wait_started
	assert_eq "the daemon's WATCHDOG_PID is its own pid" \
		"$(tr '\0' '\n' <"/proc/$pid/environ" | grep '^WATCHDOG_PID=')" \
		"WATCHDOG_PID=$pid"
	r=$(ops_line_no "$SYSLOG_FILE" "$RE_READY")
	n0=$(ops_line_no "$SYSLOG_FILE" "dnsrl\[$pid\]: dnsrl [^ ]+ started: ")
	n1=$(ops_line_no "$SYSLOG_FILE" "dnsrl\[$pid\]: prefilter: ")
	sed -n "1,${r}p" "$SYSLOG_FILE" | grep -vE '^<' | sed 's/^/   notification: /'
	echo "   lines: started $n0, prefilter (the last start line) $n1, READY $r"
	assert_true "READY=1 after the start lines ($n0, $n1 < $r)" \
		test "$n0" -gt 0 -a "$n0" -lt "$r" -a "$n1" -lt "$r"
	assert_eq "READY=1 once" "$(notes 'READY=1')" 1
	assert_eq "no other notification before it" \
		"$(sed -n "1,${r}p" "$SYSLOG_FILE" | grep -cvE '^<' || true)" 1

	echo "== 2. WATCHDOG=1 every 0.4 s"
	assert_true "a first WATCHDOG=1 within 1.5 s" \
		ops_wait_count "$SYSLOG_FILE" "$RE_WD" 1 2
	assert_true "the first WATCHDOG=1 after READY=1" \
		test "$(ops_line_no "$SYSLOG_FILE" "$RE_WD")" -gt "$r"
	n0=$(notes WATCHDOG=1)
	sleep 3
	n1=$(notes WATCHDOG=1)
	echo "   WATCHDOG=1 in 3 s: $((n1 - n0))"
	assert_range "WATCHDOG=1 in 3 s (7 or 8 expected)" "$((n1 - n0))" 6 9

	echo "== 3. a hung worker, a stopped daemon"
	tid=
	for i in /proc/"$pid"/task/*; do
		[ "${i##*/}" = "$pid" ] || tid=${i##*/}
	done
	st=0
	stop_thread "$tid" 3 >"$RUN_DIR/ptrace.out" 2>&1 &
	w=$!
	track_pid "$w"
	for ((i = 0; i < 50; i++)); do
		grep -q stopped "$RUN_DIR/ptrace.out" && break
		kill -0 "$w" 2>/dev/null || break
		sleep 0.05
	done
	if grep -q stopped "$RUN_DIR/ptrace.out"; then
		echo "   worker thread $tid stopped: $(awk '{ print $3 }' "/proc/$pid/task/$tid/stat")" \
			"(main thread: $(awk '{ print $3 }' "/proc/$pid/task/$pid/stat"))"
		# a ping the worker's last beat before the stop earned comes
		# a third of an interval (0.33 s) after the ping before it, at
		# the next 100 ms tick: 0.43 s at most, and some scheduling
		sleep 0.9
		n0=$(notes WATCHDOG=1)
		sleep 1.2
		n1=$(notes WATCHDOG=1)
		wait "$w" || st=$?
		untrack_pid "$w"
		assert_eq "worker stopped: WATCHDOG=1 in 1.2 s" "$((n1 - n0))" 0
		assert_eq "main thread alive: one 'worker stalled' line" \
			"$(log_count "dnsrl\[$pid\]: queue 0: worker stalled; not feeding the watchdog$")" 1
		assert_eq "the worker let go (ptrace helper's exit)" "$st" 0
		assert_true "worker back: WATCHDOG=1 again within 1.5 s" \
			ops_wait_count "$SYSLOG_FILE" "$RE_WD" "$((n1 + 1))" 2
	else
		wait "$w" || st=$?
		untrack_pid "$w"
		if [ "$st" = 2 ]; then
			echo "   skipped: no ptrace number for $(uname -m)"
		else
			_fail "could not stop the worker thread: $(cat "$RUN_DIR/ptrace.out")"
		fi
	fi
	kill -STOP "$pid"
	sleep 0.6
	n0=$(notes WATCHDOG=1)
	sleep 1.5
	n1=$(notes WATCHDOG=1)
	kill -CONT "$pid"
	assert_eq "SIGSTOP: WATCHDOG=1 in 1.5 s" "$((n1 - n0))" 0
	assert_true "SIGCONT: WATCHDOG=1 again within 1.5 s" \
		ops_wait_count "$SYSLOG_FILE" "$RE_WD" "$((n1 + 1))" 2

	echo "== 4. SIGHUP"
	kill -HUP "$pid"
	assert_true "READY=1 after the reload" \
		ops_wait_count "$SYSLOG_FILE" "$RE_READY" 2 5
	n0=$(ops_line_no "$SYSLOG_FILE" '^RELOADING=1$')
	n1=$(ops_line_no "$SYSLOG_FILE" "dnsrl\[$pid\]: reloaded: ")
	r=$(ops_line_no "$SYSLOG_FILE" "$RE_READY" 2)
	echo "   lines: RELOADING $n0, reloaded $n1, READY $r"
	assert_true "RELOADING=1, then reloaded, then READY=1" \
		test "$n0" -gt 0 -a "$n0" -lt "$n1" -a "$n1" -lt "$r"
	cp "$conf" "$conf.good"
	sed 's|limit 2/1m|limit 2per1m|' "$conf.good" >"$conf"
	kill -HUP "$pid"
	assert_true "a failed reload: READY=1 with its status" \
		ops_wait_count "$SYSLOG_FILE" '^READY=1\\nSTATUS=reload failed; old policy$' 1 5
	n0=$(ops_line_no "$SYSLOG_FILE" '^RELOADING=1$' 2)
	n1=$(ops_line_no "$SYSLOG_FILE" "dnsrl\[$pid\]: reload failed: ")
	r=$(ops_line_no "$SYSLOG_FILE" '^READY=1\\nSTATUS=reload failed')
	echo "   lines: RELOADING $n0, reload failed $n1, READY $r"
	assert_true "RELOADING=1, then reload failed, then READY=1" \
		test "$n0" -gt 0 -a "$n0" -lt "$n1" -a "$n1" -lt "$r"
	mv "$conf.good" "$conf"
	assert_eq "RELOADING=1 twice in all" "$(notes RELOADING=1)" 2

	echo "== 5. SIGTERM"
	# the policy the reload replaced is retired by then (see step 7)
	sleep 0.5
	st=0
	daemon_stop TERM || st=$?
	assert_eq "SIGTERM: exit status" "$st" 0
	n0=$(ops_line_no "$SYSLOG_FILE" "dnsrl\[$pid\]: signal 15: stopping$")
	n1=$(ops_line_no "$SYSLOG_FILE" '^STOPPING=1$')
	r=$(ops_line_no "$SYSLOG_FILE" "dnsrl\[$pid\]: stats \(final\): ")
	echo "   lines: stopping $n0, STOPPING=1 $n1, final counters $r"
	assert_true "the stop line, STOPPING=1, then the final counters" \
		test "$n0" -gt 0 -a "$n0" -lt "$n1" -a "$n1" -lt "$r"
	assert_eq "STOPPING=1 once" "$(notes STOPPING=1)" 1

	echo "== 6. WATCHDOG_PID of another process"
	n0=$(notes WATCHDOG=1)
	start_notifying 1
	pid=$DAEMON_PID
	wait_started
	assert_true "READY=1 arrives" ops_wait_count "$SYSLOG_FILE" "$RE_READY" 3 5
	sleep 2
	n1=$(notes WATCHDOG=1)
	echo "   WATCHDOG=1 in 2 s: $((n1 - n0))"
	assert_eq "WATCHDOG_PID=1: no WATCHDOG=1 in 2 s" "$((n1 - n0))" 0

	echo "== 7. SIGHUP and SIGTERM at once (systemctl reload, then stop)"
	kill -HUP "$pid"
	kill -TERM "$pid"
	st=0
	daemon_stop TERM || st=$?
	assert_eq "SIGHUP and SIGTERM at once: exit status" "$st" 0
	n0=$(ops_line_no "$SYSLOG_FILE" '^RELOADING=1$' 3)
	r=$(ops_line_no "$SYSLOG_FILE" "$RE_READY" 4)
	n1=$(ops_line_no "$SYSLOG_FILE" '^STOPPING=1$' 2)
	w=$(ops_line_no "$SYSLOG_FILE" "dnsrl\[$pid\]: stats \(final\): ")
	echo "   lines: RELOADING $n0, READY $r, STOPPING $n1, final counters $w"
	assert_true "RELOADING=1, READY=1, STOPPING=1, final counters" \
		test "$n0" -gt 0 -a "$n0" -lt "$r" -a "$r" -lt "$n1" -a "$n1" -lt "$w"
	out=$(grep -vE '^<' "$SYSLOG_FILE" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
	echo "   all notifications:$out"

	dnsrl_assert_clean
	finish
}

main "$@"
