#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# serial
# suite: long
#
# t_valgrind.sh: the daemon under valgrind's memcheck, in the server
# namespace, behind the printed rules, with a small table (table-size
# 4096) and low rates (valgrind runs it some 20-50 times slower):
#   1. legitimate A/AAAA queries through the queue, all answered; 20 ANY
#      at once from one source: exactly 2 answered;
#   2. SIGHUP with a changed file (TXT 3/60s raised to 5/60s, ANY
#      unchanged): 10 TXT from a fresh source, 5 answered; the ANY source
#      still spent (its bucket kept): 0 of 10;
#   3. SIGHUP with a broken file: "reload failed", 5/60s stays;
#   4. SIGTERM.  valgrind must report 0 errors, no definitely or
#      indirectly lost bytes (--errors-for-leak-kinds makes those errors
#      too), and the exit status must be 0 (--error-exitcode=99 on any
#      error).  Of the descriptors open at exit (--track-fds=yes), besides
#      the standard ones and those inherited from the test's shell, only
#      syslog's socket (openlog) may remain: the queue socket, signalfd
#      and timerfd must be closed.
# valgrind cannot run an AddressSanitizer build: with one ($B links libasan
# or carries __asan_init) the test prints "skipped: ASan build" and ends
# with no check.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib-fault.sh
. "$(dirname "$0")/lib-fault.sh"

conf=
VG_LOG=

# Writes the configuration: the shared settings with a table of 4096,
# then stdin.
vg_conf() {
	{
		printf '%s\n' 'queue 0' 'table-size 4096' 'stats-interval 0' \
			'syslog-facility daemon'
		cat
	} >"$conf.new"
	mv "$conf.new" "$conf"
}

# The rules with TXT limit N.  ANY is always 2/60s: no token comes back
# while the test runs (qgen waits 5 s for answers that never come), so
# that the bucket's survival over the reload shows.
rules() {
	cat <<EOF
rule any-abuse {
	qtype ANY
	limit 2/60s
}
rule txt-abuse {
	qtype TXT
	limit $1/60s
}
EOF
}

# COUNT queries of QTYPE at once from SRC over IPv4, waiting up to 5 s for
# the answers (valgrind is slow); prints qgen's line.
burst() {
	cli "$QGEN" query --src "$1" --dst "$SRV4" --qtype "$2" \
		--qname big.example --rate 1000 --count "$3" --wait 5000
}

# The last match of the extended regular expression in valgrind's log.
vg_last() {
	grep -oE "$1" "$VG_LOG" | tail -n 1
}

# Sends SIGHUP and waits up to 30 s for the Nth line matching RE.
# shellcheck disable=SC2317 # called through assert_true
hup_and_wait() {
	local re=$1 nth=$2 i

	kill -HUP "$DAEMON_PID"
	for ((i = 0; i < 300; i++)); do
		[ "$(log_count "$re")" -ge "$nth" ] && return 0
		sleep 0.1
	done
	return 1
}

main() {
	local pid line st=0 r0 vg n fds re

	if fault_is_asan "$DNSRL"; then
		echo "skipped: ASan build: $DNSRL carries AddressSanitizer," \
			"which valgrind cannot run; use a build without SANITIZE=1"
		finish
	fi
	if ! vg=$(command -v valgrind); then
		_fail "valgrind is not installed (scripts/install-deps.sh installs it)"
		finish
	fi
	_run_dir
	conf=$RUN_DIR/dnsrl.conf
	VG_LOG=$RUN_DIR/valgrind.log
	rules 3 | vg_conf
	dnsrl_require
	"$DNSRL" -t -c "$conf" >/dev/null
	ns_setup
	unbound_start
	syslog_start
	dnsrl_rules_install "$conf"
	r0=$(dnsrl_rule_packets)

	echo "== $($vg --version) memcheck on $DNSRL"
	fault_start_cmd 60 "$vg" --tool=memcheck --leak-check=full \
		--show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
		--track-fds=yes --log-file="$VG_LOG" "$DNSRL" -f -c "$conf"
	pid=$DAEMON_PID
	echo "   started, pid $pid"

	echo "== 1. traffic"
	line=$(cli "$QGEN" query --src "$CLI4" --dst "$SRV4" --qtype A \
		--qname "$QUEUED_NAME" --rate 20 --count 50 --wait 5000)
	echo "   A x50 (IPv4):    $line"
	assert_eq "A over IPv4, through the queue: answered" \
		"$(kv answered "$line")" 50
	line=$(cli "$QGEN" query --src "$CLI6" --dst "$SRV6" --qtype AAAA \
		--qname "$QUEUED_NAME" --rate 20 --count 50 --wait 5000)
	echo "   AAAA x50 (IPv6): $line"
	assert_eq "AAAA over IPv6, through the queue: answered" \
		"$(kv answered "$line")" 50
	line=$(burst "$ATTACK4" ANY 20)
	echo "   ANY x20 burst:   $line"
	assert_eq "under valgrind, ANY x20: answered" "$(kv answered "$line")" 2

	echo "== 2. SIGHUP, TXT raised to 5/60s"
	rules 5 | vg_conf
	assert_true "reloaded" hup_and_wait "dnsrl\[$pid\]: reloaded: " 1
	line=$(burst "$ATTACK4B" TXT 10)
	echo "   TXT x10 burst:   $line"
	assert_eq "new TXT limit: answered" "$(kv answered "$line")" 5
	line=$(burst "$ATTACK4" ANY 10)
	echo "   ANY x10 burst:   $line"
	assert_eq "ANY bucket kept over the reload: answered" \
		"$(kv answered "$line")" 0

	echo "== 3. SIGHUP with a broken file"
	printf 'rule broken {\n\tqtype ANY\n\tlimit 2per5s\n}\n' | vg_conf
	n=$(grep -n 2per5s "$conf" | cut -d: -f1)
	assert_true "reload failed, logged with $conf:$n" \
		hup_and_wait "dnsrl\[$pid\]: reload failed: $conf:$n: " 1
	line=$(burst "$CLI4" TXT 10)
	echo "   TXT x10 burst:   $line"
	assert_eq "the running policy stays: TXT answered" \
		"$(kv answered "$line")" 5

	dnsrl_usr1 any-abuse txt-abuse
	echo "   $STATS_LINE"
	echo "   $QUEUE_LINE"
	assert_eq "NFQUEUE rule packets = verdicts" \
		"$(($(dnsrl_rule_packets) - r0))" "$(kv verdicts "$STATS_LINE")"
	# 50 + 50 + 20 + 10 + 10 + 10 queries; 50 + 50 + 2 + 5 + 0 + 5 passed
	assert_eq "verdicts" "$(kv verdicts "$STATS_LINE")" 150
	assert_eq "accepted" "$(kv accepted "$STATS_LINE")" 112
	assert_eq "id-gaps" "$(kv id-gaps "$STATS_LINE")" 0
	assert_eq "internal" "$(kv internal "$STATS_LINE")" 0

	echo "== 4. SIGTERM"
	fault_daemon_stop 60 || st=$?
	assert_eq "exit status under valgrind (99: valgrind found errors)" \
		"$st" 0
	assert_true "final counters logged" \
		wait_for_log "dnsrl\[$pid\]: stats \(final\): " 2
	echo "   --- $VG_LOG (summary):"
	re='FILE DESCRIPTORS|Open (file|AF_)|in use at exit|All heap blocks'
	re+='|(definitely|indirectly) lost|ERROR SUMMARY'
	grep -E "$re" "$VG_LOG" | sed 's/^/   /'
	assert_eq "valgrind: error summary" \
		"$(vg_last 'ERROR SUMMARY: [0-9]+ errors')" "ERROR SUMMARY: 0 errors"
	n=$(grep -cE 'All heap blocks were freed' "$VG_LOG" || true)
	if [ "$n" = 0 ]; then
		assert_eq "valgrind: definitely lost" \
			"$(vg_last 'definitely lost: [0-9,]+ bytes')" \
			"definitely lost: 0 bytes"
		assert_eq "valgrind: indirectly lost" \
			"$(vg_last 'indirectly lost: [0-9,]+ bytes')" \
			"indirectly lost: 0 bytes"
	else
		_ok "valgrind: all heap blocks were freed"
	fi
	# Each "Open ..." block on one line: the descriptor and its stack,
	# or "<inherited from parent>".
	fds=$(awk '{ sub(/^==[0-9]+== */, "") }
		/^Open / { b = $0; next }
		b != "" && $0 == "" { print b; b = ""; next }
		b != "" { b = b " | " $0 }' "$VG_LOG" |
		grep -v '<inherited from parent>' || true)
	echo "   opened by the daemon, open at exit:"
	printf '%s\n' "${fds:-none}" | sed 's/^/     /'
	n=$(grep -c . <<<"$fds" || true)
	assert_eq "valgrind: descriptors the daemon left open at exit" "$n" 1
	assert_eq "valgrind: of them made by openlog (syslog's socket)" \
		"$(grep -c 'by .*: openlog ' <<<"$fds" || true)" 1
	dnsrl_assert_clean
	# Last, so that run.sh's tail of a failed test shows them: the errors
	# met while running (after the 6 lines of valgrind's banner, before
	# its descriptor list) and the leak records.
	if ! grep -q 'ERROR SUMMARY: 0 errors' "$VG_LOG"; then
		echo "   --- valgrind's errors (KEEP_RUN_DIR=1 keeps $VG_LOG):"
		{
			awk 'NR > 6 && /== FILE DESCRIPTORS/ { exit } NR > 6' "$VG_LOG"
			awk '/ lost in loss record / { p = 1 }
				p && /^==[0-9]+== *$/ { p = 0 } p' "$VG_LOG"
		} | grep -vE '^==[0-9]+== *$' | head -n 40 | sed 's/^/   /'
	fi
	finish
}

main "$@"
