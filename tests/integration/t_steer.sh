#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t_steer.sh: runtime control with dnsrlctl show, release, hold and
# allow, against Unbound and the kernel's sets.  The daemon runs as
# nobody with `control-group adm`; the rule: ANY, 2/1s, hold-down 30s.
# The oracles: the ipset command (the kernel's set), dig and qgen (the
# answers a client gets), the kernel's queue counter, the log.
#   1. ATTACK4 floods ANY and is held: `show` says held, with the time
#      left and the level the set's entry has, and the kernel line the
#      same; a source never limited is "no state" and in no set.
#   2. `release` restores service at once: dig from ATTACK4 gets no
#      answer before and one right after, its set entry is gone, the
#      release is logged with uid and pid; a second release says there
#      is nothing to release.
#   3. `hold ATTACK4B any-abuse 20s`: in the set with ~20 s and level 1,
#      its ANY refused in the kernel (nothing reaches the queue).
#   4. `allow 198.51.100.64/30 3s`: ATTACK4B's kernel entry goes at once;
#      both sources get 20 ANY of 20 answered (over the limit); 3 s on,
#      2 of 20 again (a full bucket, then the limit), and the end is
#      logged.
#   5. An allow-list entry survives `dnsrlctl reload` and a restart
#      (read back from the file beside the socket).
#   6. Who may: a member of adm may show (and list the allow-list), is
#      told release changes state and is refused, which is logged; a
#      user outside adm cannot connect; nobody (the daemon's user) may
#      release.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib-ops.sh
. "$(dirname "$0")/lib-ops.sh"

SET=dnsrl-any-abuse-4
READER=12345
STRANGER=12346
sock=

ctl() {
	"$DNSRLCTL" -s "$sock" "$@"
}

# COUNT ANY from SRC at RATE a second: qgen's line.
any() {
	any_query "$1" "$SRV4" "$2" "$3"
}

# One ANY from SRC by dig (UDP only, the answer taken even truncated):
# prints "answered" or "no answer".
dig_any() {
	if cli dig -b "$1" +tries=1 +time=1 +notcp +ignore +bufsize=4096 \
		+noall +comments @"$SRV4" big.example ANY 2>/dev/null |
		grep -q 'status: NOERROR'; then
		echo answered
	else
		echo "no answer"
	fi
}

# The whole seconds of "N.Ns" or "Ns" after WORD in TEXT, rounded up.
secs_after() {
	sed -nE "s/.*$1 ([0-9]+)(\.[0-9])?s left.*/\1 \2/p" <<<"$2" |
		head -n 1 | awk '{ print $1 + ($2 != "" ? 1 : 0) }'
}

main() {
	local conf out line e t k q0 t0 ms st pid adm

	adm=$(getent group adm | cut -d: -f3)
	[ -n "$adm" ] || {
		_err "no group adm on this machine"
		exit 1
	}
	_run_dir
	# nobody reaches the run directory and owns the socket's (where
	# the allow-list file goes); adm and others may pass through it
	chmod 0711 "$RUN_DIR"
	mkdir -m 0711 "$RUN_DIR/ctl"
	chown nobody:nogroup "$RUN_DIR/ctl"
	sock=$RUN_DIR/ctl/control.sock
	conf=$RUN_DIR/dnsrl.conf
	dnsrl_conf "$conf" <<EOF
user nobody
control-socket $sock
control-group adm
rule any-abuse {
	qtype ANY
	limit 2/1s
	hold-down 30s
}
EOF
	chmod 0644 "$conf"
	[ -x "$DNSRLCTL" ] || {
		_err "$DNSRLCTL missing: run make B=$B all tools"
		exit 1
	}
	dnsrl_env "$conf"
	pid=$DAEMON_PID
	assert_eq "socket: mode, owner, group" "$(stat -c '%a %U %G' "$sock")" \
		"660 nobody adm"

	echo "== 1. show and the kernel's set agree"
	any "$ATTACK4" 20 30 >/dev/null
	assert_true "ATTACK4 held in the kernel" wait_set_entry "$SET" "$ATTACK4"
	e=$(set_entry "$SET" "$ATTACK4")
	out=$(ctl show "$ATTACK4")
	echo "   ipset: $ATTACK4 $e"
	echo "   show| ${out//$'\n'/$'\n'   show| }"
	t=$(awk '{ print $2 }' <<<"$e")
	line=$(grep -E '^rule any-abuse: ' <<<"$out" || true)
	assert_eq "show: held, at level 1" \
		"$(grep -cE "^rule any-abuse: ${ATTACK4//./\\.}/32 held, [0-9.]+s left, level 1; " <<<"$line" || true)" 1
	assert_range "show: the time left is the set's (s)" \
		"$(secs_after held, "$line")" "$t" "$((t + 2))"
	k=$(grep -E '^  kernel: ' <<<"$out" || true)
	assert_eq "show: the kernel line names the set and the level" \
		"$(grep -cE "^  kernel: in $SET, [0-9.]+s left \(level 1\), [0-9]+ dropped there$" <<<"$k" || true)" 1
	assert_range "show: the kernel's time left (s)" \
		"$(secs_after "$SET," "$k")" "$t" "$((t + 1))"
	assert_eq "ipset: level 1" "${e#*comment }" "dnsrl level 1"
	out=$(ctl show "$CLI4")
	assert_eq "show: a source never limited" "$out" \
		"$CLI4: not on an allow-list
rule any-abuse: $CLI4/32 no state: not limited, bucket full
  kernel: not in $SET"
	assert_eq "ipset: no entry for it" "$(set_entry "$SET" "$CLI4")" ""
	out=$(ctl show 198.51.100.0/24)
	assert_eq "show of the /24: one source, ATTACK4, held" \
		"$(grep -cE "^rule any-abuse: 1 source of 198\.51\.100\.0/24 in the table|^  ${ATTACK4//./\\.}/32 held" <<<"$out" || true)" 2
	st=0
	out=$(ctl show 198.51.100.300 2>&1) || st=$?
	echo "   $out"
	assert_eq "show of a bad address: exit 1" "$st" 1
	assert_eq "show of a bad address: said so" "$out" \
		"dnsrlctl: the daemon says: show: expected an address or prefix such as 203.0.113.0/24 or 2001:db8::/32, got '198.51.100.300'"

	echo "== 2. release restores service at once"
	assert_eq "dig from ATTACK4 before: no answer" "$(dig_any "$ATTACK4")" \
		"no answer"
	t0=$(date +%s%N)
	out=$(ctl release "$ATTACK4")
	line=$(dig_any "$ATTACK4")
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "   release| $out"
	echo "   dig from ATTACK4 after: $line ($ms ms after the release began)"
	assert_eq "release: released, from the set too" \
		"$(grep -cE "^rule any-abuse: ${ATTACK4//./\\.}/32 released \(was held, [0-9.]+s left, level 1; .*\); removed from $SET$" <<<"$out" || true)" 1
	assert_eq "dig from ATTACK4 after: answered" "$line" answered
	assert_eq "ipset: its entry is gone" "$(set_entry "$SET" "$ATTACK4")" ""
	assert_true "logged with uid and pid" wait_for_log \
		"dnsrl\[$pid\]: control: release ${ATTACK4//./\\.} by uid 0 pid [0-9]+: rule any-abuse: ${ATTACK4//./\\.}/32 released \(was held" 2
	out=$(ctl release "$ATTACK4")
	assert_eq "a second release: nothing to release" \
		"$(tail -n 1 <<<"$out")" \
		"nothing to release: $ATTACK4 is not held or limited under any rule"

	echo "== 3. hold"
	out=$(ctl hold "$ATTACK4B" any-abuse 20s)
	echo "   hold| $out"
	assert_eq "hold: said" "$out" \
		"rule any-abuse: $ATTACK4B/32 held for 20s (level 1); in $SET"
	e=$(set_entry "$SET" "$ATTACK4B")
	echo "   ipset: $ATTACK4B $e"
	assert_range "ipset: ~20 s to live" "$(awk '{ print $2 }' <<<"$e")" 19 20
	assert_eq "ipset: level 1" "${e#*comment }" "dnsrl level 1"
	out=$(ctl show "$ATTACK4B")
	assert_range "show: the same time left" \
		"$(secs_after held, "$out")" 19 20
	q0=$(queue_seq 0)
	line=$(any "$ATTACK4B" 100 5)
	echo "   5 ANY from ATTACK4B: $line"
	assert_eq "refused" "$(kv answered "$line")" 0
	assert_eq "in the kernel: none reached the queue" \
		"$(($(queue_seq 0) - q0))" 0
	assert_true "hold logged" wait_for_log \
		"dnsrl\[$pid\]: control: hold ${ATTACK4B//./\\.} any-abuse 20s by uid 0 pid [0-9]+: rule any-abuse: ${ATTACK4B//./\\.}/32 held for 20s" 2

	echo "== 4. allow for 3 s"
	t0=$(date +%s%N)
	out=$(ctl allow 198.51.100.64/30 3s)
	echo "   allow| ${out//$'\n'/$'\n'   allow| }"
	assert_eq "allow: said, with where it is kept" \
		"$(grep -cE "^allowed: 198\.51\.100\.64/30 for 3s, until |^kept over a reload and a restart \($RUN_DIR/ctl/allow\.state\)$" <<<"$out" || true)" 2
	assert_eq "allow: ATTACK4B's hold released, in the kernel too" \
		"$(grep -cE "^  ${ATTACK4B//./\\.}/32 released \(was held.*|^  kernel: 1 entry removed from $SET$" <<<"$out" || true)" 2
	assert_eq "ipset: ATTACK4B's entry is gone" "$(set_entry "$SET" "$ATTACK4B")" ""
	line=$(any "$ATTACK4" 100 20)
	echo "   ATTACK4, 20 ANY at 100/s: $line"
	assert_eq "ATTACK4 let through over the limit" "$(kv answered "$line")" 20
	line=$(any "$ATTACK4B" 100 20)
	echo "   ATTACK4B, 20 ANY at 100/s: $line"
	assert_eq "ATTACK4B let through over the limit" "$(kv answered "$line")" 20
	ms=$((($(date +%s%N) - t0) / 1000000))
	assert_range "both within the 3 s (ms since the allow)" "$ms" 0 2800
	sleep "$(awk -v ms="$ms" 'BEGIN { s = (3300 - ms) / 1000; print (s > 0 ? s : 0) }')"
	line=$(any "$ATTACK4" 100 20)
	echo "   3.3 s on, ATTACK4, 20 ANY at 100/s: $line"
	assert_eq "ATTACK4 limited again: its burst of 2" "$(kv answered "$line")" 2
	line=$(any "$ATTACK4B" 100 20)
	assert_eq "ATTACK4B limited again: its burst of 2" "$(kv answered "$line")" 2
	assert_true "the end logged" wait_for_log \
		"dnsrl\[$pid\]: control: allow 198\.51\.100\.64/30 ended \(set by uid 0 pid [0-9]+\)" 2
	assert_eq "the allow-list is empty" "$(ctl allow)" \
		"the temporary allow-list is empty (at most 64 entries)"

	echo "== 5. kept over a reload and a restart"
	ctl allow "$CLI4" 1h >/dev/null
	out=$(ctl reload)
	assert_eq "reload: ok" "$out" "reloaded: 1 rules"
	assert_eq "after the reload: listed" \
		"$(ctl allow | grep -cE "^  $CLI4/32 +(59m[0-9]+s|1h) left" || true)" 1
	st=0
	daemon_stop TERM || st=$?
	assert_eq "stopped" "$st" 0
	echo "   allow.state| $(grep -v '^#' "$RUN_DIR/ctl/allow.state")"
	dnsrl_start "$conf"
	pid=$DAEMON_PID
	assert_true "read back at start" wait_for_log \
		"dnsrl\[$pid\]: control: 1 temporary allow-list entry read back from $RUN_DIR/ctl/allow\.state" 3
	out=$(ctl allow)
	echo "   allow| ${out//$'\n'/$'\n'   allow| }"
	assert_eq "after the restart: listed" \
		"$(grep -cE "^  $CLI4/32 +(59m[0-9]+s|1h) left" <<<"$out" || true)" 1
	line=$(any "$CLI4" 100 10)
	assert_eq "and let through" "$(kv answered "$line")" 10
	out=$(ctl allow "$CLI4" 0)
	assert_eq "taken away" \
		"$(grep -cE "^taken away: $CLI4 \(it had (59m[0-9]+s|1h) left\)$" <<<"$out" || true)" 1
	assert_eq "the file is empty again" \
		"$(grep -vc '^#' "$RUN_DIR/ctl/allow.state" || true)" 0

	echo "== 6. who may"
	out=$(setpriv --reuid "$READER" --regid "$READER" --groups "$adm" \
		"$DNSRLCTL" -s "$sock" show "$ATTACK4" 2>&1) || out="failed: $out"
	assert_eq "a member of adm: show" \
		"$(grep -cE "^rule any-abuse: ${ATTACK4//./\\.}/32 " <<<"$out" || true)" 1
	out=$(setpriv --reuid "$READER" --regid "$READER" --groups "$adm" \
		"$DNSRLCTL" -s "$sock" allow 2>&1) || out="failed: $out"
	assert_eq "a member of adm: the allow-list" "$out" \
		"the temporary allow-list is empty (at most 64 entries)"
	st=0
	out=$(setpriv --reuid "$READER" --regid "$READER" --groups "$adm" \
		"$DNSRLCTL" -s "$sock" release "$ATTACK4" 2>&1) || st=$?
	echo "   uid $READER (adm): release: $out"
	assert_eq "a member of adm: release refused (exit 1)" "$st" 1
	assert_eq "a member of adm: told why" "$out" \
		"dnsrlctl: the daemon says: permission denied: release changes the daemon's state; only root and the daemon's user (uid 65534) may; uid $READER may only read (stats, top, show, allow without arguments)"
	assert_true "the refusal logged" wait_for_log \
		"dnsrl\[$pid\]: control: release by uid $READER pid [0-9]+: refused \(it may only read\)" 2
	st=0
	out=$(setpriv --reuid "$STRANGER" --regid "$STRANGER" --clear-groups \
		"$DNSRLCTL" -s "$sock" show "$ATTACK4" 2>&1) || st=$?
	echo "   uid $STRANGER: $out"
	assert_eq "another user: exit 1" "$st" 1
	assert_eq "another user: cannot connect" \
		"$(grep -c 'Permission denied' <<<"$out" || true)" 1
	out=$(setpriv --reuid nobody --regid nogroup --clear-groups \
		"$DNSRLCTL" -s "$sock" release "$CLI4" 2>&1) || out="failed: $out"
	assert_eq "the daemon's user may release" "$(tail -n 1 <<<"$out")" \
		"nothing to release: $CLI4 is not held or limited under any rule"
	dnsrl_finish
}

main "$@"
