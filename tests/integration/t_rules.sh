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
#   5. Answer rules (and served prefixes): the printed script, run twice,
#      leaves the same ruleset, whose DNSRL-OUT lines are the printed ones
#      and whose jump is the first rule of mangle OUTPUT (IPv4 and IPv6).
#      With no daemon bound to the answer queue answers still flow
#      (--queue-bypass): a 4 KB answer (dig +bufsize=4096) is counted
#      once by the NFQUEUE rule, with the bytes of the whole datagram
#      (OUTPUT sees it before fragmentation); a small answer, and a big
#      one to a prefix not served, are not counted.  The daemon's live
#      check says "in place", then "shadowed" behind an ACCEPT inserted
#      first in mangle OUTPUT, "missing" without the jump, "stale" once a
#      reload drops the answer rule; the printed script for that file
#      removes the answer chain.  manage-rules: a reload without answer
#      rules takes them out, one with them puts them back.  Each time,
#      and after --remove-rules, mangle OUTPUT is otherwise as it was.
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

# Two texts are the same: one line when they are, a diff when not.
assert_same() {
	if [ "$2" = "$3" ]; then
		_ok "$1 ($(wc -l <<<"$2") lines)"
	else
		_fail "$1: got (<) / want (>):"
		diff <(echo "$2") <(echo "$3") | sed 's/^/     /'
	fi
}

# mangle OUTPUT (its policy line and rules), IPv4 then IPv6.
mangle_output() {
	mangle | grep -E '^(:OUTPUT |-A OUTPUT )'
}

# The first rule of mangle OUTPUT, for iptables or ip6tables.
first_output_rule() {
	srv "$1" -w -t mangle -S OUTPUT | grep -m1 -- '^-A '
}

# "PACKETS BYTES" counted by the NFQUEUE rules of DNSRL-OUT, for FAMILY.
answer_counts() {
	local ipt=iptables

	[ "$1" = 6 ] && ipt=ip6tables
	srv "$ipt" -w -t mangle -vnxL DNSRL-OUT |
		awk '$3 == "NFQUEUE" { p += $1; b += $2 }
			END { print p + 0, b + 0 }'
}

# dig from SRC to DST for NAME TYPE with a 4096-octet EDNS buffer, never
# retried over TCP; prints "SIZE FLAGS" (the DNS message's size and its
# header flags), or nothing without an answer.
dig_size() {
	cli dig +bufsize=4096 +ignore +tries=1 +time=2 -b "$1" @"$2" "$3" "$4" |
		awk '/^;; flags:/ { sub(/^;; flags: /, ""); sub(/;.*/, "");
				f = $0; gsub(/ /, ",", f) }
			/^;; MSG SIZE/ { s = $NF }
			END { if (s != "") print s, f }'
}

# The log line matching RE, once more than now: sends SIGHUP and waits.
hup_expect() {
	hup_until "$1" "$(($(log_count "$1") + 1))"
}

# With answer rules, no daemon: big answers are counted (whole) by the
# NFQUEUE rule and flow; small ones and those to strangers stay in the
# kernel.  FAMILY SRC STRANGER SERVER HEADER (the IP and UDP headers'
# octets).
answer_traffic() {
	local fam=$1 src=$2 stranger=$3 dst=$4 hdr=$5 got size flags n0 n1

	srv "$(ip_tool "$fam")" -w -t mangle -Z DNSRL-OUT
	got=$(dig_size "$src" "$dst" www.big.example A)
	echo "   IPv$fam small answer: ${got:-none}"
	assert_range "IPv$fam: a small answer comes" "${got%% *}" 1 999
	assert_eq "IPv$fam: the small answer is not queued (packets bytes)" \
		"$(answer_counts "$fam")" "0 0"
	got=$(dig_size "$src" "$dst" big.example TXT)
	echo "   IPv$fam big answer: ${got:-none}"
	size=${got%% *}
	flags=${got#* }
	assert_range "IPv$fam: the big answer comes, no daemon bound" \
		"$size" 3000 4096
	assert_eq "IPv$fam: and is whole (no TC)" \
		"$(tr , '\n' <<<"$flags" | grep -cx tc || true)" 0
	assert_eq "IPv$fam: the NFQUEUE rule saw it once, whole (packets bytes)" \
		"$(answer_counts "$fam")" "1 $((size + hdr))"
	n0=$(answer_counts "$fam")
	got=$(dig_size "$stranger" "$dst" big.example TXT)
	echo "   IPv$fam big answer to $stranger (not served): ${got:-none}"
	assert_range "IPv$fam: a big answer to a stranger comes" \
		"${got%% *}" 3000 4096
	n1=$(answer_counts "$fam")
	assert_eq "IPv$fam: it is not queued" "$n1" "$n0"
}

ip_tool() {
	if [ "$1" = 6 ]; then echo ip6tables; else echo iptables; fi
}

answers() {
	local aconf=$RUN_DIR/answers.conf qconf=$RUN_DIR/queries.conf
	local before after out_before ipt printed live pid st

	echo "== 5. the answer path: mangle OUTPUT, chain DNSRL-OUT"
	# an operator's rule of its own in mangle OUTPUT, left as it is
	for ipt in iptables ip6tables; do
		srv "$ipt" -w -t mangle -A OUTPUT -p tcp -j MARK --set-mark 7
	done
	out_before=$(mangle_output)
	cat >"$RUN_DIR/answers.body" <<'EOF'
serve 198.51.100.0/24 2001:db8:1::/64
rule any-abuse {
	qtype ANY
	limit 2/60s
}
answer-rule big {
	size 1000
	bytes 64k/10s
	action truncate
}
EOF
	# the same without the answer rule
	sed '/^answer-rule/,/^}/d' "$RUN_DIR/answers.body" \
		>"$RUN_DIR/queries.body"
	dnsrl_conf "$aconf" <"$RUN_DIR/answers.body"
	dnsrl_conf "$qconf" <"$RUN_DIR/queries.body"
	dnsrl_rules_install "$aconf"
	before=$(mangle)
	dnsrl_rules_install "$aconf"
	after=$(mangle)
	assert_same "the printed script run twice: the same ruleset" \
		"$after" "$before"
	for ipt in iptables ip6tables; do
		assert_eq "$ipt: the first rule of mangle OUTPUT" \
			"$(first_output_rule "$ipt")" \
			"-A OUTPUT -p udp -m udp --sport 53 -j DNSRL-OUT"
	done
	assert_eq "the operator's OUTPUT rule stays, once per family" \
		"$(grep -c -- '^-A OUTPUT -p tcp -j MARK' <<<"$after")" 2
	for fam in 4 6; do
		printed=$(dnsrl_printed_rules "$aconf" "$fam" | sort)
		live=$(srv "$(ip_tool "$fam")-save" -t mangle |
			grep -- '^-A DNSRL' | sort)
		assert_same "IPv$fam: iptables-save prints the printed rules back" \
			"$live" "$printed"
	done
	assert_eq "IPv4: one answer rule a served prefix" \
		"$(grep -c -- '^-A DNSRL-OUT -d 198.51.100.0/24 ' <<<"$after")" 1

	echo "   no daemon: --queue-bypass"
	answer_traffic 4 "$CLI4" "$ALLOWED4" "$SRV4" 28
	answer_traffic 6 "$CLI6" "$OTHER6" "$SRV6" 48

	dnsrl_start "$aconf"
	pid=$DAEMON_PID
	assert_true "start: the rules are in place" \
		wait_for_log "dnsrl\[$pid\]: rules: in place" 5
	srv iptables -w -t mangle -I OUTPUT 1 -p udp -j ACCEPT
	hup_expect "dnsrl\[$pid\]: rules: shadowed: "
	assert_true "an accept ahead of the OUTPUT jump: shadowed" \
		wait_for_log "dnsrl\[$pid\]: rules: shadowed: IPv4: 1 rules of mangle OUTPUT come before the jump to DNSRL-OUT" 1
	srv iptables -w -t mangle -D OUTPUT -p udp -j ACCEPT
	srv ip6tables -w -t mangle -D OUTPUT -p udp --sport 53 -j DNSRL-OUT
	hup_expect "dnsrl\[$pid\]: rules: missing: "
	assert_true "no OUTPUT jump: missing" \
		wait_for_log "dnsrl\[$pid\]: rules: missing: IPv6: no rule of mangle OUTPUT jumps to DNSRL-OUT" 1
	dnsrl_rules_install "$aconf"
	hup_expect "dnsrl\[$pid\]: rules: in place"
	assert_eq "the script put the jump back, first" \
		"$(first_output_rule ip6tables)" \
		"-A OUTPUT -p udp -m udp --sport 53 -j DNSRL-OUT"
	cp "$qconf" "$aconf.new"
	mv "$aconf.new" "$aconf"
	hup_expect "dnsrl\[$pid\]: rules: stale: "
	assert_true "no answer rule, DNSRL-OUT still there: stale" \
		wait_for_log "dnsrl\[$pid\]: rules: stale: IPv4: chain DNSRL-OUT in the mangle table sends answers to a queue, but the configuration has no answer-rule" 1
	dnsrl_rules_install "$aconf"
	assert_eq "the script for the file without answer rules: no DNSRL-OUT" \
		"$(mangle | grep -c DNSRL-OUT || true)" 0
	assert_same "and mangle OUTPUT as it was" \
		"$(mangle_output)" "$out_before"
	hup_expect "dnsrl\[$pid\]: rules: in place"
	st=0
	daemon_stop TERM || st=$?
	assert_eq "daemon exit status" "$st" 0

	echo "   manage-rules yes: reloads take the answer path out and back"
	dnsrl_rules_remove
	{
		echo "manage-rules yes"
		cat "$RUN_DIR/answers.body"
	} | dnsrl_conf "$RUN_DIR/a.managed"
	{
		echo "manage-rules yes"
		cat "$RUN_DIR/queries.body"
	} | dnsrl_conf "$RUN_DIR/q.managed"
	cp "$RUN_DIR/a.managed" "$aconf"
	dnsrl_start "$aconf"
	pid=$DAEMON_PID
	assert_true "the daemon installed its rules" \
		wait_for_log "dnsrl\[$pid\]: rules: installed" 5
	assert_true "and found them in place" \
		wait_for_log "dnsrl\[$pid\]: rules: in place" 5
	assert_eq "the jump to DNSRL-OUT, first in mangle OUTPUT" \
		"$(first_output_rule ip6tables)" \
		"-A OUTPUT -p udp -m udp --sport 53 -j DNSRL-OUT"
	cp "$RUN_DIR/q.managed" "$aconf.new"
	mv "$aconf.new" "$aconf"
	hup_expect "dnsrl\[$pid\]: rules: in place"
	assert_eq "a reload without answer rules: no DNSRL-OUT" \
		"$(mangle | grep -c DNSRL-OUT || true)" 0
	assert_same "and mangle OUTPUT as it was" \
		"$(mangle_output)" "$out_before"
	cp "$RUN_DIR/a.managed" "$aconf.new"
	mv "$aconf.new" "$aconf"
	hup_expect "dnsrl\[$pid\]: rules: in place"
	assert_eq "a reload with them again: the jump, once a family" \
		"$(mangle | grep -c -- '^-A OUTPUT -p udp -m udp --sport 53 -j DNSRL-OUT$' || true)" 2
	assert_eq "no reload warning" \
		"$(log_count "dnsrl\[$pid\]: reload.*(failed|could not)")" 0
	st=0
	daemon_stop TERM || st=$?
	assert_eq "daemon exit status" "$st" 0

	srv "$DNSRL" --remove-rules
	assert_eq "--remove-rules: no DNSRL left in mangle" \
		"$(mangle | grep -c DNSRL || true)" 0
	assert_same "--remove-rules: mangle OUTPUT as it was" \
		"$(mangle_output)" "$out_before"
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
	answers
	dnsrl_assert_clean
	finish
}

main "$@"
