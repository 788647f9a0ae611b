#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# serial
#
# t_control_flood.sh: monitoring scrapers cannot hold the daemon up.  The
# daemon has a table of 16777216 sources (a `top` walks 4194304 buckets)
# and counters every second; the service manager's part is played as in
# t_notify (NOTIFY_SOCKET, WATCHDOG_USEC 2 s: a ping due each second), with
# every line of the log stamped on arrival.  Four clients ask `top 1000`
# back to back for 8 s, then SIGTERM comes while they still ask:
#   - the clients are answered all along;
#   - no gap between two "stats:" lines exceeds the interval + 1 s (2 s);
#   - no gap between two WATCHDOG=1 exceeds WatchdogSec/2 (1 s; the
#     daemon pings every third of it, at the next 100 ms tick);
#   - the daemon has exited within 1 s of SIGTERM, status 0.
# `dnsrlctl reload` answers when the reload is done: ok for a good file,
# exit status 1 and the file:line for a broken one.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib-ops.sh
. "$(dirname "$0")/lib-ops.sh"

conf=
sock=

# Clients asking `top 1000` until SECONDS have passed; prints the number
# of answers it got.
scrape() {
	local end=$((SECONDS + $1)) n=0

	while [ "$SECONDS" -lt "$end" ]; do
		"$DNSRLCTL" -s "$sock" top 1000 >/dev/null 2>&1 && n=$((n + 1))
	done
	echo "$n"
}

# The largest gap, in ms, between the stamps of lines matching RE.
max_gap() {
	grep -E "^[0-9]+ $1" "$SYSLOG_FILE" | awk '
		{ if (NR > 1 && $1 - last > max) max = $1 - last; last = $1 }
		END { print max + 0 }'
}

main() {
	local pids=() p n total=0 t0 t1 st=0 out

	_run_dir
	conf=$RUN_DIR/dnsrl.conf
	sock=$RUN_DIR/ctl.sock
	cat >"$conf" <<EOF
queue 0
syslog-facility daemon
table-size 16777216
stats-interval 1s
control-socket $sock
rule any-abuse {
	qtype ANY
	limit 2/5s
}
EOF
	dnsrl_require
	ns_setup
	unbound_start
	LOGSINK_STAMP=1 syslog_start
	dnsrl_rules_install "$conf"
	daemon_start env "NOTIFY_SOCKET=$SYSLOG_SOCK" WATCHDOG_USEC=2000000 \
		"$DNSRL" -f -c "$conf"
	assert_true "the daemon starts (a table of 16M sources)" \
		ops_wait_count "$SYSLOG_FILE" "dnsrl\[$DAEMON_PID\]: dnsrl [^ ]+ started: " 1 30
	assert_true "and is READY" \
		ops_wait_count "$SYSLOG_FILE" '^[0-9]+ READY=1' 1 10

	echo "== four clients ask top 1000 without pause for 8 s"
	for i in 1 2 3 4; do
		scrape 9 >"$RUN_DIR/scrape.$i" &
		pids+=($!)
		track_pid "$!"
	done
	sleep 8
	t0=$(date +%s%3N)
	kill -TERM "$DAEMON_PID"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.01
	done
	t1=$(date +%s%3N)
	wait "$DAEMON_PID" || st=$?
	untrack_pid "$DAEMON_PID"
	DAEMON_PID=
	for p in "${pids[@]}"; do
		wait "$p" || true
		untrack_pid "$p"
	done
	for i in 1 2 3 4; do
		n=$(cat "$RUN_DIR/scrape.$i")
		total=$((total + n))
	done
	echo "   answers to the clients: $total"
	assert_true "the clients were answered" test "$total" -ge 8
	echo "   stats lines: $(grep -cE '^[0-9]+ <[0-9]+>.*: stats: ' "$SYSLOG_FILE")," \
		"WATCHDOG=1: $(grep -cE '^[0-9]+ WATCHDOG=1$' "$SYSLOG_FILE")"
	assert_range "largest gap between stats lines, ms" \
		"$(max_gap '<[0-9]+>.*: stats: ')" 500 2000
	assert_range "largest gap between watchdog pings, ms" \
		"$(max_gap 'WATCHDOG=1$')" 300 1000
	echo "   SIGTERM to exit: $((t1 - t0)) ms"
	assert_range "exited within 1 s of SIGTERM, ms" "$((t1 - t0))" 0 1000
	assert_eq "exit status" "$st" 0

	echo "== dnsrlctl reload"
	dnsrl_start "$conf"
	out=$("$DNSRLCTL" -s "$sock" reload 2>&1) || st=$?
	echo "   good file: $out"
	assert_eq "good file: exit status" "$st" 0
	assert_true "good file: the daemon says reloaded" \
		grep -q '^reloaded: 1 rules$' <<<"$out"
	sed -i 's|^\tlimit 2/5s$|\tlimit 2per5s|' "$conf"
	st=0
	out=$("$DNSRLCTL" -s "$sock" reload 2>&1) || st=$?
	echo "   broken file: $out"
	assert_eq "broken file: exit status" "$st" 1
	assert_true "broken file: file:line in the answer" \
		grep -qF "reload failed: $conf:" <<<"$out"
	dnsrl_finish
}

main "$@"
