# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts sourcing this
#
# lib-fault.sh: helpers of the fault tests (t_failopen, t_overflow,
# t_hup_storm, t_soak, t_valgrind).  Source it after lib.sh:
#
#	. "$(dirname "$0")/lib.sh"
#	. "$(dirname "$0")/lib-fault.sh"
#
#	fault_stop / fault_cont		# SIGSTOP / SIGCONT the daemon
#	fault_kqueue Q			# the kernel's queue Q, now
#	fault_snapshot			# NFQUEUE rule packets and the queue
#	fault_reload FILE		# atomic config replacement + SIGHUP
#	fault_rss PID / fault_fds PID	# memory and descriptors of a process
#	fault_is_asan FILE		# the binary carries AddressSanitizer
#	fault_start_cmd SECS CMD...	# start a wrapped daemon, wait for it
#	fault_daemon_stop SECS		# SIGTERM, its exit status
#	fault_mad RULE			# "matched accepted dropped" of RULE
#	ms_now, sleep_until_ms T	# milliseconds, for the schedules
#
# Nothing here sends traffic or touches the root namespace.

# Milliseconds since the epoch.
ms_now() {
	date +%s%3N
}

# Sleeps until the time T (ms_now's clock), if it is still ahead.
sleep_until_ms() {
	local left=$(($1 - $(ms_now)))

	[ "$left" -gt 0 ] || return 0
	sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
}

# The kernel's counters of queue Q in the server namespace,
# from /proc/net/netfilter/nfnetlink_queue: "WAITING DROPPED USER_DROPPED
# ID_SEQUENCE" (queue_total, queue_dropped, queue_user_dropped,
# id_sequence).  Empty when no process has the queue bound.
fault_kqueue() {
	srv cat /proc/net/netfilter/nfnetlink_queue |
		awk -v q="$1" '$1 == q { print $3, $6, $7, $8 }'
}

# Reads, in this order, the NFQUEUE rules' packets (IPv4 + IPv6) and the
# kernel's queue 0, and sets SNAP_RULE, SNAP_WAITING, SNAP_DROPPED,
# SNAP_UDROPPED and SNAP_ID.  The rule counter is read first: while the
# daemon is stopped and its queue full, a packet arriving between the two
# reads is passed or dropped without an id, so (counting the rule from
# when the queue was bound, and with no id gap) SNAP_RULE - SNAP_ID is
# exactly what the queue did not take up to the first read.
fault_snapshot() {
	SNAP_RULE=$(dnsrl_rule_packets)
	read -r SNAP_WAITING SNAP_DROPPED SNAP_UDROPPED SNAP_ID < <(fault_kqueue 0)
}

# "MATCHED ACCEPTED DROPPED" of rule NAME in the last dnsrl_usr1 report.
fault_mad() {
	local r

	r=$(dnsrl_rule_stats "$1")
	echo "$(kv matched "$r") $(kv accepted "$r") $(kv dropped "$r")"
}

# The state letter of a process (R, S, T ...) from /proc/PID/stat.
fault_state() {
	awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null
}

# Stops the daemon with SIGSTOP and waits (up to 2 s) until every thread
# is stopped.  Cleanup continues it, so that a failing test still ends it
# with SIGTERM rather than SIGKILL.
fault_stop() {
	local i

	# only while it is still the daemon: a waited-for pid may be reused
	on_cleanup "[ \"\$DAEMON_PID\" = $DAEMON_PID ] && kill -CONT $DAEMON_PID"
	kill -STOP "$DAEMON_PID"
	for ((i = 0; i < 200; i++)); do
		[ "$(fault_state "$DAEMON_PID")" = T ] && return 0
		sleep 0.01
	done
	_err "daemon $DAEMON_PID did not stop"
	return 1
}

fault_cont() {
	kill -CONT "$DAEMON_PID"
}

# Replaces FILE with the shared settings plus stdin (dnsrl_conf), by a
# rename, so that the daemon never reads half a file; then SIGHUP.
fault_reload() {
	dnsrl_conf "$1.new"
	mv "$1.new" "$1"
	kill -HUP "$DAEMON_PID"
}

# Resident memory (kB) and open descriptors of PID.
fault_rss() {
	awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}

fault_fds() {
	find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l
}

# Whether FILE is built with AddressSanitizer: gcc links libasan
# (NEEDED), clang links its runtime statically and exports __asan_init.
fault_is_asan() {
	readelf -d "$1" 2>/dev/null | grep -qE 'NEEDED.*\[libasan' && return 0
	readelf --dyn-syms -W "$1" 2>/dev/null | grep -qw __asan_init
}

# Starts CMD (the daemon under a wrapper such as valgrind) like
# dnsrl_start, and waits up to SECS seconds for its start line.  The
# wrapper must exec the daemon in the same process (valgrind does), so
# that DAEMON_PID is the pid in its log lines.
fault_start_cmd() {
	local secs=$1 i

	shift
	daemon_start "$@"
	for ((i = 0; i < secs * 10; i++)); do
		[ "$(log_count "dnsrl\[$DAEMON_PID\]: dnsrl [^ ]+ started: ")" = 0 ] ||
			return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	_err "did not start within $secs s:" \
		"$(tail -n 5 "$RUN_DIR/daemon.out" 2>/dev/null)"
	return 1
}

# Like daemon_stop TERM, but waits up to SECS seconds (a daemon under
# valgrind checks its heap on the way out).  Returns the exit status, or
# 124 after having to SIGKILL it.
fault_daemon_stop() {
	local secs=$1 i status=0 st=0

	[ -n "$DAEMON_PID" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null || true
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -KILL "$DAEMON_PID" 2>/dev/null || true
		status=124
	fi
	wait "$DAEMON_PID" 2>/dev/null || st=$?
	[ "$status" = 124 ] || status=$st
	untrack_pid "$DAEMON_PID"
	DAEMON_PID=
	return "$status"
}

# The setting of the fail-open and overflow tests: the mission rule, the
# namespaces, Unbound, syslog, and the rules it prints (which depend on the
# rules only, so one set serves every phase).
fault_setup_mission() {
	_run_dir
	dnsrl_conf "$RUN_DIR/dnsrl.conf" <<'EOF'
rule any-abuse {
	qtype ANY
	limit 2/5s
}
EOF
	dnsrl_require
	ns_setup
	unbound_start
	syslog_start
	dnsrl_rules_install "$RUN_DIR/dnsrl.conf"
}

# After a fault: a burst of 20 ANY from the abuser gets exactly 2 answers,
# and the rule's counters say so (the SIGUSR1 lines stay in STATS_LINE and
# QUEUE_LINE for the caller's further checks).
fault_limits_again() {
	local mode=$1 what=$2 line

	line=$(any_query "$ATTACK4" "$SRV4" 1000 20)
	echo "   ANY x20 $what: $line"
	assert_eq "$mode: limits again: ANY x20 answered" \
		"$(kv answered "$line")" 2
	dnsrl_usr1 any-abuse
	assert_eq "$mode: rule any-abuse: matched accepted dropped" \
		"$(fault_mad any-abuse)" "20 2 18"
}

# Every packet the NFQUEUE rules passed (RULE_PACKETS, since the daemon
# started) got its verdict and nothing was lost on the way, by the last
# SIGUSR1 lines (STATS_LINE, QUEUE_LINE).
fault_all_verdicted() {
	local rule=$1 c

	assert_eq "NFQUEUE rule packets = verdicts" \
		"$rule" "$(kv verdicts "$STATS_LINE")"
	assert_eq "packets = verdicts" "$(kv packets "$STATS_LINE")" \
		"$(kv verdicts "$STATS_LINE")"
	assert_eq "id-sequence = verdicts" "$(kv id-sequence "$QUEUE_LINE")" \
		"$(kv verdicts "$STATS_LINE")"
	assert_eq "queue line: waiting" "$(kv waiting "$QUEUE_LINE")" 0
	assert_eq "queue line: kernel-dropped" \
		"$(kv kernel-dropped "$QUEUE_LINE")" 0
	assert_eq "queue line: user-dropped" "$(kv user-dropped "$QUEUE_LINE")" 0
	for c in id-gaps enobufs internal send-fail; do
		assert_eq "$c" "$(kv "$c" "$STATS_LINE")" 0
	done
}
