#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t_rules.sh: where dnsrl's rules sit, and who keeps them right.
#   1. The operator's own filter rules: an early `-p udp --dport 53 -j
#      ACCEPT` in filter INPUT, and an ACL that drops ATTACK4B.  Behind the
#      printed rules (run twice: the second run leaves the same ruleset),
#      ANY is still limited (2 of 20 answered, IPv4 and IPv6), the ACL
#      still drops (ATTACK4B: 0 of 5 A answered), a plain A query is
#      answered; the daemon's start-up check says the rules are in place.
#   2. The live check on reload: with the jump gone it says "missing";
#      with a rule ahead of the jump in mangle INPUT, "shadowed".
#   3. manage-rules yes, the daemon running as nobody: it installs its
#      rules itself; a reload that adds a TXT rule limits TXT at once (2
#      of 10 answered; 10 of 10 before the reload, when the prefilter
#      returned TXT in the kernel), and the live bpf rule is the one
#      --print-rules prints for the new file.  No manual step.
#   4. dnsrl --remove-rules leaves no DNSRL chain nor jump, IPv4 or IPv6.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

conf=

# The mangle table without counters and comments, IPv4 then IPv6.
mangle() {
	{
		srv iptables-save -t mangle
		srv ip6tables-save -t mangle
	} | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]/[]/'
}

# Sends SIGHUP and waits for the Nth line matching RE.
hup_until() {
	local re=$1 nth=$2 i

	kill -HUP "$DAEMON_PID"
	for ((i = 0; i < 100; i++)); do
		[ "$(log_count "$re")" -ge "$nth" ] && return 0
		sleep 0.1
	done
	_fail "no line '$re' number $nth within 10 s"
	return 1
}

# COUNT queries of QTYPE at once from SRC to DST; prints qgen's line.
burst() {
	cli "$QGEN" query --src "$1" --dst "$2" --qtype "$3" \
		--qname big.example --rate 1000 --count "$4"
}

operator_rules() {
	echo "== 1. the operator's filter rules come first"
	for ipt in iptables ip6tables; do
		srv "$ipt" -w -A INPUT -p udp --dport 53 -j ACCEPT
	done
	srv iptables -w -I INPUT 1 -s "$ATTACK4B" -j DROP
	srv iptables -w -S INPUT | sed 's/^/   filter: /'
	dnsrl_rules_install "$conf"
	local before after line
	before=$(mangle)
	dnsrl_rules_install "$conf"
	after=$(mangle)
	assert_eq "the printed script run twice: the same ruleset" \
		"$after" "$before"
	assert_eq "one jump to DNSRL in mangle INPUT (IPv4 and IPv6)" \
		"$(grep -c -- '^-A INPUT -p udp -m udp --dport 53 -j DNSRL$' \
			<<<"$after")" 2
	dnsrl_start "$conf"
	assert_true "start: the rules are in place" \
		wait_for_log "dnsrl\[$DAEMON_PID\]: rules: in place" 5

	line=$(burst "$ATTACK4" "$SRV4" ANY 20)
	echo "   ATTACK4 ANY x20: $line"
	assert_eq "IPv4 ANY limited behind an early ACCEPT" \
		"$(kv answered "$line")" 2
	line=$(burst "$ATTACK6A" "$SRV6" ANY 20)
	echo "   ATTACK6A ANY x20: $line"
	assert_eq "IPv6 ANY limited behind an early ACCEPT" \
		"$(kv answered "$line")" 2
	line=$(burst "$ATTACK4B" "$SRV4" A 5)
	echo "   ATTACK4B A x5: $line"
	assert_eq "the ACL still drops ATTACK4B" "$(kv answered "$line")" 0
	dig_expect "$SRV4 www.big.example A $WWW4"
}

live_check() {
	echo "== 2. the live check on reload"
	srv iptables -w -t mangle -D INPUT -p udp --dport 53 -j DNSRL
	hup_until "dnsrl\[$DAEMON_PID\]: rules: missing: " 1
	assert_true "the missing jump is named" wait_for_log \
		"rules: missing: IPv4: no rule of mangle INPUT jumps to DNSRL" 1
	srv iptables -w -t mangle -I INPUT 1 -p udp --dport 53 -j DNSRL
	srv iptables -w -t mangle -I INPUT 1 -p udp -j ACCEPT
	hup_until "dnsrl\[$DAEMON_PID\]: rules: shadowed: " 1
	assert_true "the rule ahead is counted" wait_for_log \
		"rules: shadowed: IPv4: 1 rules of mangle INPUT come before" 1
	srv iptables -w -t mangle -D INPUT -p udp -j ACCEPT
	local st=0
	daemon_stop TERM || st=$?
	assert_eq "daemon exit status" "$st" 0
}

managed() {
	local line live printed

	echo "== 3. manage-rules yes, as nobody: a reload adds TXT"
	dnsrl_rules_remove
	dnsrl_conf "$conf" <<'EOF'
user nobody
manage-rules yes
rule any-abuse {
	qtype ANY
	limit 2/60s
}
EOF
	# nobody reads the file on reload
	chmod 0711 "$RUN_DIR"
	chmod 0644 "$conf"
	dnsrl_start "$conf"
	assert_true "the daemon installed its rules" \
		wait_for_log "dnsrl\[$DAEMON_PID\]: rules: installed" 5
	assert_true "and found them in place" \
		wait_for_log "dnsrl\[$DAEMON_PID\]: rules: in place" 5
	assert_eq "the daemon runs as nobody" \
		"$(awk '/^Uid:/ { print $2 }' "/proc/$DAEMON_PID/status")" \
		"$(id -u nobody)"
	line=$(burst "$ATTACK4" "$SRV4" TXT 10)
	echo "   before: ATTACK4 TXT x10: $line"
	assert_eq "before: TXT is not limited" "$(kv answered "$line")" 10

	dnsrl_conf "$conf.new" <<'EOF'
user nobody
manage-rules yes
rule any-abuse {
	qtype ANY
	limit 2/60s
}
rule txt-abuse {
	qtype TXT
	limit 2/60s
}
EOF
	chmod 0644 "$conf.new"
	mv "$conf.new" "$conf"
	hup_until "dnsrl\[$DAEMON_PID\]: reloaded: " 1
	assert_true "after the reload, the rules are in place" \
		wait_for_log "dnsrl\[$DAEMON_PID\]: rules: in place" 5
	assert_eq "no reload warning" \
		"$(log_count "dnsrl\[$DAEMON_PID\]: reload.*(failed|could not)")" 0
	line=$(burst "$ATTACK4" "$SRV4" TXT 10)
	echo "   after: ATTACK4 TXT x10: $line"
	assert_eq "after: TXT limited at once" "$(kv answered "$line")" 2
	live=$(srv iptables -w -t mangle -S DNSRL | grep -- ' -m bpf ')
	printed=$(dnsrl_printed_rules "$conf" 4 | grep -- ' -m bpf ')
	assert_eq "the live bpf rule is the printed one for the new file" \
		"$live" "$printed"
	dnsrl_finish_keep
}

# Like dnsrl_finish, without finishing: the daemon stops cleanly.
dnsrl_finish_keep() {
	local st=0

	daemon_stop TERM || st=$?
	assert_eq "daemon exit status after SIGTERM" "$st" 0
}

removed() {
	echo "== 4. dnsrl --remove-rules"
	srv "$DNSRL" --remove-rules
	assert_eq "no DNSRL left in mangle" \
		"$(mangle | grep -c DNSRL || true)" 0
	srv "$DNSRL" --remove-rules
	assert_true "a second removal finds nothing and succeeds" true
}

main() {
	dnsrl_require
	ns_setup
	unbound_start
	syslog_start
	_run_dir
	conf=$RUN_DIR/dnsrl.conf
	dnsrl_conf "$conf" <<'EOF'
rule any-abuse {
	qtype ANY
	limit 2/60s
}
EOF
	operator_rules
	live_check
	managed
	removed
	dnsrl_assert_clean
	finish
}

main "$@"
