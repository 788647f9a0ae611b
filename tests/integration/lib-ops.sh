# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts sourcing this
#
# Helpers of the operations tests (t_multiqueue, t_privs, t_notify,
# t_escape, t_config_perms).  Source lib.sh first, then this:
#
#	. "$(dirname "$0")/lib.sh"
#	. "$(dirname "$0")/lib-ops.sh"
#
#	ops_conf FILE QUEUE <<EOF ...	# dnsrl_conf with another queue setting
#	ops_usr1 "0 1" any-abuse	# SIGUSR1; STATS_LINE, STATS_CHUNK and
#	ops_queue_line 1		#   the line of each queue named
#	ops_proc_status PID FIELD	# a field of /proc/PID/status
#	ops_bound_queues FIRST [LAST]	# queues bound in the server namespace
#	ops_wait_count FILE RE N [S]	# until N lines of FILE match RE
#	ops_wait_exit PID [S]		# until PID has ended by itself
#	ops_line_no FILE RE [NTH]	# the line number of the NTH match
#	ops_hex_label HEX...		# wire-format labels, from their octets
#	ops_dns_text HEX		# the daemon's text for a label's octets
#	ops_sink_decode LINE		# a logsink line back to the datagram
#	stop_thread TID SECONDS		# one thread stopped (ptrace), then let go
#	ops_worker_tid PID		# a thread of PID that is not the main one
#
# $DNSRLCTL is the control client of the build.

DNSRLCTL=$BUILD/dnsrlctl

# Writes FILE as dnsrl_conf does, with QUEUE (a number or A-B) for the
# queue setting, then what comes on stdin.
ops_conf() {
	{
		printf '%s\n' "queue $2" 'table-size 65536' 'stats-interval 0' \
			'syslog-facility daemon'
		cat
	} >"$1"
}

# Like dnsrl_usr1, for several queues: asks for the counters (SIGUSR1)
# and waits up to 5 s for the daemon line, the line of each queue in
# QUEUES (a list of numbers, "0 1 2 3"; "" waits for none) and of each
# RULE named.  Sets STATS_LINE, STATS_CHUNK and QUEUE_LINE (the first
# queue's; empty when QUEUES is).
ops_usr1() {
	local queues=$1 n i q r whole

	shift
	sleep 0.3
	dnsrl_alive_or_finish
	n=$(wc -l <"$SYSLOG_FILE")
	kill -USR1 "$DAEMON_PID" 2>/dev/null || dnsrl_alive_or_finish
	for ((i = 0; i < 50; i++)); do
		STATS_CHUNK=$(tail -n +"$((n + 1))" "$SYSLOG_FILE")
		STATS_LINE=$(grep -m1 -E ': stats \(SIGUSR1\): ' <<<"$STATS_CHUNK" || true)
		whole=1
		[ -n "$STATS_LINE" ] || whole=0
		for q in $queues; do
			grep -qE ": queue $q: waiting=" <<<"$STATS_CHUNK" || whole=0
		done
		for r in "$@"; do
			grep -qE ": rule $r: matched=" <<<"$STATS_CHUNK" || whole=0
		done
		if [ "$whole" = 1 ]; then
			QUEUE_LINE=
			for q in $queues; do
				QUEUE_LINE=$(ops_queue_line "$q")
				break
			done
			return 0
		fi
		sleep 0.1
	done
	dnsrl_alive_or_finish
	_fail "no complete SIGUSR1 report (queues $queues) within 5 s"
	finish
}

# The line of queue NUM from the last ops_usr1 or dnsrl_usr1.
ops_queue_line() {
	grep -m1 -E ": queue $1: waiting=" <<<"$STATS_CHUNK" || true
}

# The value of FIELD ("Uid", "CapEff", "NoNewPrivs" ...) in
# /proc/PID/status, or /proc/PID/task/TID/status given as PID/task/TID;
# its words joined by one space.
ops_proc_status() {
	awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print; exit }' \
		"/proc/$1/status"
}

# How many of the queues FIRST..LAST (default: FIRST alone) a process has
# bound in the server namespace (/proc/net/netfilter/nfnetlink_queue:
# queue, portid, waiting, copy mode, range, dropped, user-dropped, id).
ops_bound_queues() {
	srv cat /proc/net/netfilter/nfnetlink_queue |
		awk -v lo="$1" -v hi="${2:-$1}" \
			'$1 >= lo && $1 <= hi && $2 != 0 { n++ } END { print n + 0 }'
}

# Waits up to S seconds (default 5) for process PID to end by itself
# (daemon_stop then collects its exit status); 1 when it has not.
ops_wait_exit() {
	local i

	for ((i = 0; i < ${2:-5} * 20; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# Waits up to S seconds (default 5) until at least N lines of FILE match
# the extended regular expression RE.
ops_wait_count() {
	local file=$1 re=$2 want=$3 timeout=${4:-5} i

	for ((i = 0; i < timeout * 20; i++)); do
		[ "$(grep -Ec -- "$re" "$file" || true)" -ge "$want" ] && return 0
		sleep 0.05
	done
	return 1
}

# The line number in FILE of the NTH (default first) line matching the
# extended regular expression RE; 0 when there is none.
ops_line_no() {
	grep -nE -- "$2" "$1" | sed -n "${3:-1}p" | cut -d: -f1 |
		grep . || echo 0
}

# Labels in wire format: each argument is the octets of one label in
# hex ("610a62" for "a", LF, "b"); no root octet is added.
ops_hex_label() {
	local l

	for l in "$@"; do
		printf '%02x%s' "$((${#l} / 2))" "$l"
	done
	echo
}

# The text the daemon logs for the octets of a label (hex): letters,
# digits, '-', '_' and '*' as they are, every other octet as \DDD (its
# decimal value).  Capital letters are not expected: the daemon logs
# the name case-folded.
ops_dns_text() {
	local hex=$1 i c out=''

	for ((i = 0; i < ${#hex}; i += 2)); do
		c=$((16#${hex:i:2}))
		if { [ "$c" -ge 97 ] && [ "$c" -le 122 ]; } ||
			{ [ "$c" -ge 48 ] && [ "$c" -le 57 ]; } ||
			[ "$c" = 45 ] || [ "$c" = 95 ] || [ "$c" = 42 ]; then
			out+=$(printf '%b' "\\x${hex:i:2}")
		else
			out+=$(printf '\\%03d' "$c")
		fi
	done
	printf '%s\n' "$out"
}

# Writes to stdout the datagram a logsink line stands for: logsink writes
# a backslash as \\ and LF, CR, TAB and other control octets as \n, \r,
# \t and \xHH, which are exactly printf's %b escapes.  (A line holding
# a '\c' cannot come from logsink: its backslashes are doubled.)
ops_sink_decode() {
	printf '%b' "$1"
}

# Stops thread TID alone (ptrace: seize, interrupt) for SECONDS, then lets
# it go; prints "stopped" once it is.  Needs the ptrace system call's
# number: x86_64 and aarch64 only.
stop_thread() {
	local nr

	case $(uname -m) in
	x86_64) nr=101 ;;
	aarch64) nr=117 ;;
	*) return 2 ;;
	esac
	# PTRACE_SEIZE 0x4206, PTRACE_INTERRUPT 0x4207, PTRACE_DETACH 17;
	# waitpid on another process's thread needs __WALL (0x40000000)
	perl -e '
		my ($nr, $tid, $secs) = map { 0 + $_ } @ARGV;
		$| = 1;
		syscall($nr, 0x4206, $tid, 0, 0) == 0 or die "PTRACE_SEIZE: $!\n";
		syscall($nr, 0x4207, $tid, 0, 0) == 0 or die "PTRACE_INTERRUPT: $!\n";
		waitpid($tid, 0x40000000) == $tid or die "waitpid: $!\n";
		print "stopped\n";
		select(undef, undef, undef, $secs);
		syscall($nr, 17, $tid, 0, 0) == 0 or die "PTRACE_DETACH: $!\n";
	' "$nr" "$1" "$2"
}

# A thread of PID other than its main thread (with one queue: the worker).
ops_worker_tid() {
	local t tid=

	for t in /proc/"$1"/task/*; do
		[ "${t##*/}" = "$1" ] || tid=${t##*/}
	done
	echo "$tid"
}
