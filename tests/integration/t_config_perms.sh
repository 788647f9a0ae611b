#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t_config_perms.sh: whoever can write the configuration sets the policy,
# so the daemon refuses a file that is writable by group or others, or
# that belongs to anyone but root or its configured `user`.
#   1. `dnsrl -t -c`: mode 0644 owned by root is OK; 0664 and 0606 are
#      refused (exit 1) with "writable by group or others (mode 0NNN)";
#      owned by uid 12345, refused with "owned by uid 12345"; with `user
#      nobody`, a file of nobody's in a directory nobody cannot enter is
#      refused (a reload could not read it), once the directory is 0711
#      it is OK, and one of uid 12345 is refused naming uid 65534.
#   2. The daemon refuses to start on such a file: exit 1, the message on
#      its stderr, no queue bound; the NFQUEUE rule's --queue-bypass then
#      passes every query (10 ANY, 10 answered).
#   3. Running on a good file (ANY 2/1m): the file rewritten to ANY
#      100/1s and made group-writable, SIGHUP: "reload failed: ...
#      writable by group or others ..."; given back its mode but to uid
#      12345: "reload failed: ... owned by uid 12345 ..."; each time the
#      old policy goes on (10 ANY from a fresh source, 2 answered).
#      Given back to root: reloaded, and the new limit applies (10 of 10),
#      which shows the refusals were for the file's mode and owner alone.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib-ops.sh
. "$(dirname "$0")/lib-ops.sh"

# Runs `dnsrl -t -c FILE`; prints "STATUS OUTPUT" (stdout and stderr).
check_file() {
	local out st=0

	out=$("$DNSRL" -t -c "$1" 2>&1) || st=$?
	echo "$st $out"
}

# Writes FILE with the shared settings, then stdin; mode 0644, root's.
write_conf() {
	dnsrl_conf "$1"
	chown root:root "$1"
	chmod 0644 "$1"
}

any_rule() {
	printf 'rule any-abuse {\n\tqtype ANY\n\tlimit %s\n}\n' "$1"
}

# 10 ANY at once from SRC over IPv4; prints qgen's line.
burst() {
	cli "$QGEN" query --src "$1" --dst "$SRV4" --qtype ANY \
		--qname big.example --rate 1000 --count 10
}

# SIGHUP, then waits for the Nth line matching RE.
hup_and_wait() {
	kill -HUP "$DAEMON_PID"
	ops_wait_count "$SYSLOG_FILE" "$1" "$2" 5 ||
		_fail "no line number $2 matching '$1' within 5 s"
}

main() {
	local conf f msg line i st

	_run_dir
	conf=$RUN_DIR/dnsrl.conf
	f=$RUN_DIR/check.conf
	any_rule 2/1m | write_conf "$conf"

	echo "== 1. dnsrl -t"
	any_rule 2/1m | write_conf "$f"
	assert_eq "0644, root's: OK" "$(check_file "$f")" \
		"0 dnsrl: $f: configuration OK"
	chmod 0664 "$f"
	assert_eq "0664: refused" "$(check_file "$f")" \
		"1 dnsrl: $f: writable by group or others (mode 0664): anyone who can write it sets the policy; chmod go-w $f"
	chmod 0606 "$f"
	assert_eq "0606: refused" "$(check_file "$f")" \
		"1 dnsrl: $f: writable by group or others (mode 0606): anyone who can write it sets the policy; chmod go-w $f"
	chmod 0644 "$f"
	chown 12345:12345 "$f"
	assert_eq "uid 12345's: refused" "$(check_file "$f")" \
		"1 dnsrl: $f: owned by uid 12345; it must belong to root or to the daemon's user (uid 0)"
	{
		echo "user nobody"
		any_rule 2/1m
	} | write_conf "$f"
	chown nobody "$f"
	assert_eq "with user nobody, in a directory nobody cannot enter: refused" \
		"$(check_file "$f")" \
		"1 dnsrl: $f: $RUN_DIR: user nobody (uid 65534) may not enter it (mode 0700, uid 0, gid 0): a reload, as that user, could not read it"
	chmod 0711 "$RUN_DIR"
	assert_eq "with user nobody, nobody's: OK" "$(check_file "$f")" \
		"0 dnsrl: $f: configuration OK"
	chown 12345 "$f"
	assert_eq "with user nobody, uid 12345's: refused" "$(check_file "$f")" \
		"1 dnsrl: $f: owned by uid 12345; it must belong to root or to the daemon's user (uid 65534)"

	dnsrl_require
	ns_setup
	unbound_start
	syslog_start
	dnsrl_rules_install "$conf"

	echo "== 2. the daemon refuses to start"
	any_rule 2/1m | write_conf "$f"
	for i in mode owner; do
		if [ "$i" = mode ]; then
			chmod 0664 "$f"
			msg="dnsrl: $f: writable by group or others (mode 0664): anyone who can write it sets the policy; chmod go-w $f"
		else
			chmod 0644 "$f"
			chown 12345 "$f"
			msg="dnsrl: $f: owned by uid 12345; it must belong to root or to the daemon's user (uid 0)"
		fi
		: >"$RUN_DIR/daemon.out"
		daemon_start "$DNSRL" -f -c "$f"
		ops_wait_exit "$DAEMON_PID" 5 || true
		st=0
		daemon_stop TERM || st=$?
		echo "   $i: exit $st, stderr: $(cat "$RUN_DIR/daemon.out")"
		assert_eq "$i: exit status" "$st" 1
		assert_eq "$i: the message on stderr" \
			"$(cat "$RUN_DIR/daemon.out")" "$msg"
		assert_eq "$i: no queue bound" \
			"$(ops_bound_queues 0)" 0
		line=$(burst "$ATTACK4")
		echo "   $i: ATTACK4 ANY x10: $line"
		assert_eq "$i: the queue is bypassed: answered" \
			"$(kv answered "$line")" 10
	done

	echo "== 3. reloads of a file that is no longer safe"
	: >"$RUN_DIR/daemon.out"
	dnsrl_start "$conf"
	line=$(burst "$ATTACK4")
	echo "   ATTACK4 ANY x10: $line"
	assert_eq "running, ANY 2/1m: answered" "$(kv answered "$line")" 2

	any_rule 100/1s | dnsrl_conf "$conf"
	chmod 0664 "$conf"
	hup_and_wait ": reload failed: " 1
	grep -F ": reload failed: " "$SYSLOG_FILE" | sed 's/^/   /'
	assert_eq "group-writable: reload failed, the running policy stays" \
		"$(grep -cF ": reload failed: $conf: writable by group or others (mode 0664): anyone who can write it sets the policy; chmod go-w $conf; the running policy stays" "$SYSLOG_FILE" || true)" 1
	line=$(burst "$ATTACK4B")
	echo "   ATTACK4B ANY x10: $line"
	assert_eq "old policy: ATTACK4B answered" "$(kv answered "$line")" 2

	chmod 0644 "$conf"
	chown 12345 "$conf"
	hup_and_wait ": reload failed: " 2
	grep -F ": reload failed: " "$SYSLOG_FILE" | tail -n 1 | sed 's/^/   /'
	assert_eq "uid 12345's: reload failed, the running policy stays" \
		"$(grep -cF ": reload failed: $conf: owned by uid 12345; it must belong to root or to the daemon's user (uid 0); the running policy stays" "$SYSLOG_FILE" || true)" 1
	line=$(burst "$CLI4")
	echo "   CLI4 ANY x10: $line"
	assert_eq "old policy: CLI4 answered" "$(kv answered "$line")" 2

	chown root "$conf"
	hup_and_wait ": reloaded: " 1
	assert_eq "root's again: reloaded with the new limit" \
		"$(log_count ": rule any-abuse: qtype ANY limit 100/1s ")" 1
	line=$(burst "$ATTACK4")
	echo "   ATTACK4 ANY x10: $line"
	assert_eq "new policy (a changed rule starts fresh): answered" \
		"$(kv answered "$line")" 10
	dnsrl_usr1 any-abuse
	echo "   $STATS_LINE"
	# 4 bursts of 10 reached it: 2 + 2 + 2 + 10 answered
	assert_eq "daemon: packets, accepted, dropped" \
		"$(kv packets "$STATS_LINE") $(kv accepted "$STATS_LINE") $(kv dropped "$STATS_LINE")" \
		"40 16 24"

	dnsrl_finish
}

main "$@"
