#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# serial
#
# t_shipped.sh: the shipped pieces together, installed the way README
# says: `make install` (into a directory of the run, whose paths the unit
# then names), the sysusers.d and tmpfiles.d entries applied for real with
# systemd-sysusers and systemd-tmpfiles (the dnsrl user, /run/dnsrl), the
# unit checked with systemd-analyze verify, the example configuration
# copied into place with its Prometheus file turned on.  systemd is not
# PID 1 here, so the daemon is started as the unit starts it: its
# ExecStartPre check, then its ExecStart, in the server namespace, behind
# the rules --print-rules prints.  Then:
#   - it runs as dnsrl, with CAP_NET_ADMIN alone;
#   - the control socket is /run/dnsrl/control.sock, the user's, 0600;
#     dnsrlctl stats answers root;
#   - the Prometheus file appears in /run/dnsrl (mode 0644), with counters;
#   - ANY is limited (2 of 20);
#   - the unit's ExecReload (dnsrlctl reload) succeeds, and fails with the
#     file:line for a broken file, the running policy staying;
#   - SIGTERM: exit 0, the control socket removed.
# The machine is left as found: the user and /run/dnsrl are removed if
# this test made them.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib-ops.sh
. "$(dirname "$0")/lib-ops.sh"

made_user=0
made_run=0

restore_machine() {
	[ "$made_run" = 1 ] && rm -rf /run/dnsrl
	if [ "$made_user" = 1 ]; then
		userdel dnsrl 2>/dev/null || true
		groupdel dnsrl 2>/dev/null || true
	fi
}

# The value of KEY= in the unit's [Service] section.
unit_value() {
	sed -n "s|^$1=||p" "$stage/lib/systemd/system/dnsrl.service"
}

main() {
	local st=0 i line out prom sock=/run/dnsrl/control.sock pre start
	local stage conf

	dnsrl_require
	_run_dir
	stage=$RUN_DIR/stage
	on_cleanup restore_machine
	if [ -e /run/dnsrl ] || getent passwd dnsrl >/dev/null; then
		echo "skipped: a dnsrl user or /run/dnsrl exists on this machine"
		finish
	fi

	echo "== make install into $stage"
	make -s -C "$TOP" B="$B" install PREFIX="$stage/usr" \
		SYSCONFDIR="$stage/etc" UNITDIR="$stage/lib/systemd/system" \
		SYSUSERSDIR="$stage/usr/lib/sysusers.d" \
		TMPFILESDIR="$stage/usr/lib/tmpfiles.d" >/dev/null
	assert_true "systemd-analyze verify accepts the unit" \
		systemd-analyze verify --man=no \
		"$stage/lib/systemd/system/dnsrl.service"

	echo "== systemd-sysusers and systemd-tmpfiles"
	made_user=1
	systemd-sysusers "$stage/usr/lib/sysusers.d/dnsrl.conf"
	made_run=1
	systemd-tmpfiles --create "$stage/usr/lib/tmpfiles.d/dnsrl.conf"
	assert_eq "the dnsrl user exists, a system one, without a shell" \
		"$(getent passwd dnsrl | cut -d: -f7 | grep -c nologin)" 1
	assert_eq "/run/dnsrl is the user's" "$(stat -c '%U:%G %a' /run/dnsrl)" \
		"dnsrl:dnsrl 755"

	conf=$stage/etc/dnsrl/dnsrl.conf
	sed 's|^#prometheus-file\t/run/dnsrl/dnsrl.prom$|prometheus-file\t/run/dnsrl/dnsrl.prom|' \
		"$stage/etc/dnsrl/dnsrl.conf.example" >"$conf"
	chmod 0644 "$conf"
	assert_eq "the example's Prometheus line turned on" \
		"$(grep -c '^prometheus-file' "$conf")" 1
	# the run's directory holds the installed tree: nobody must enter it
	chmod 0711 "$RUN_DIR"

	ns_setup
	unbound_start
	syslog_start
	dnsrl_rules_install "$conf"
	pre=$(unit_value ExecStartPre | grep -- ' -t ')
	start=$(unit_value ExecStart)
	echo "   ExecStartPre: $pre"
	echo "   ExecStart: $start"
	# shellcheck disable=SC2086 # the unit's command line
	assert_true "the unit's ExecStartPre check passes" srv $pre
	# shellcheck disable=SC2086
	daemon_start $start -f
	assert_true "the daemon starts" \
		wait_for_log "dnsrl\[$DAEMON_PID\]: dnsrl [^ ]+ started: " 10
	assert_eq "it runs as dnsrl" \
		"$(ops_proc_status "$DAEMON_PID" Uid | awk '{ print $1 }')" \
		"$(id -u dnsrl)"
	assert_eq "with CAP_NET_ADMIN alone" \
		"$(ops_proc_status "$DAEMON_PID" CapEff)" 0000000000001000
	assert_eq "the control socket is the user's, 0600" \
		"$(stat -c '%U %a %F' "$sock")" "dnsrl 600 socket"
	out=$("$stage/usr/sbin/dnsrlctl" stats)
	assert_true "dnsrlctl stats answers root" grep -q '^stats: packets=' <<<"$out"

	line=$(cli "$QGEN" query --src "$ATTACK4" --dst "$SRV4" --qtype ANY \
		--qname big.example --rate 1000 --count 20)
	echo "   ANY x20: $line"
	assert_eq "ANY limited" "$(kv answered "$line")" 2

	prom=/run/dnsrl/dnsrl.prom
	for ((i = 0; i < 120; i++)); do
		[ -s "$prom" ] && break
		sleep 0.1
	done
	assert_true "the Prometheus file appears within 12 s, with counters" \
		grep -q '^dnsrl_' "$prom"
	assert_eq "the Prometheus file: the user's, 0644" \
		"$(stat -c '%U %a' "$prom")" "dnsrl 644"

	out=$("$stage/usr/sbin/dnsrlctl" reload) || st=$?
	assert_eq "ExecReload: a good file" "$st:$out" "0:reloaded: 2 rules"
	sed -i 's|^\tlimit\t\t2/5s$|\tlimit\t\t2per5s|' "$conf"
	st=0
	out=$("$stage/usr/sbin/dnsrlctl" reload 2>&1) || st=$?
	echo "   broken file: $out"
	assert_eq "ExecReload: a broken file fails" "$st" 1
	assert_true "and names the line" grep -qF "reload failed: $conf:" <<<"$out"

	st=0
	daemon_stop TERM || st=$?
	assert_eq "exit status after SIGTERM" "$st" 0
	assert_true "the control socket is gone" test ! -e "$sock"
	dnsrl_assert_clean
	finish
}

main "$@"
