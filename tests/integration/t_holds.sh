#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t_holds.sh: held-down sources stop in the kernel, keep their holds over
# a restart, and still escalate.  The rule: ANY, 2/1s, hold-down 8s
# (doubling up to 80s: long enough for a loaded machine); the oracle for the kernel side is the ipset
# command and the kernel's own queue counter (id sequence).
#   1. ATTACK4 (IPv4) and ATTACK6A (IPv6) send ANY at 20/s for 2 s: each
#      is held, and within a second its prefix is in the rule's set
#      (dnsrl-any-abuse-4 / -6) with at most 8 s to live and "dnsrl level
#      1".  Then 20 more ANY from ATTACK4: none answered, and none
#      reaches the queue (its id sequence stands still) while the set
#      entry counts 20; 10 A queries from ATTACK4 are all answered (the
#      customer's other queries are never touched).  The SIGUSR1 report:
#      the rule's dropped counter holds those 20 kernel drops, and the
#      kernel holds line says dropped=20.
#   2. Escalation: ATTACK4B sends ANY at 10/s for 13 s; its hold begins,
#      the kernel drops it, and when the hold ends it is held again at
#      level 2, for 16 s (the set entry's comment and timeout).
#   3. kill -9 and restart: the new daemon reads the hold of CLI4 (held
#      just before the kill) back ("1 holds restored" or more); its ANY is
#      still refused 1 s before the hold's end, and answered 1 s after
#      it: the hold kept its timing within a second.
#   4. A full set (kernel-hold-max 1): a second held source is counted
#      (full=1), and still refused, by the daemon: its ANY reach the queue
#      and are dropped there.  --remove-rules then leaves no set.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

RULE='rule any-abuse {
	qtype ANY
	limit 2/1s
	hold-down 8s
	hold-down-max 80s
}'

# COUNT ANY from SRC to DST at RATE a second: qgen's line.
any() {
	cli "$QGEN" query --src "$1" --dst "$2" --qtype ANY \
		--qname big.example --rate "$3" --count "$4"
}

main() {
	local conf e line q0 t0 left pid st bg i p0 p4 p6

	_run_dir
	conf=$RUN_DIR/dnsrl.conf
	printf '%s\n' "$RULE" | dnsrl_conf "$conf"
	dnsrl_env "$conf"
	pid=$DAEMON_PID

	echo "== 1. held, then dropped in the kernel"
	any "$ATTACK4" "$SRV4" 20 40 >/dev/null &
	bg=$!
	track_pid "$bg"
	cli "$QGEN" query --src "$ATTACK6A" --dst "$SRV6" --qtype ANY \
		--qname big.example --rate 20 --count 40 >/dev/null
	wait "$bg"
	untrack_pid "$bg"
	assert_true "IPv4: the prefix is in the set" \
		wait_set_entry dnsrl-any-abuse-4 "$ATTACK4"
	assert_true "IPv6: the /56 is in the set" \
		wait_set_entry dnsrl-any-abuse-6 2001:db8:2::/56
	e=$(set_entry dnsrl-any-abuse-4 "$ATTACK4")
	echo "   dnsrl-any-abuse-4 $ATTACK4: $e"
	assert_range "IPv4: seconds to live" "$(awk '{ print $2 }' <<<"$e")" 1 8
	assert_eq "IPv4: its level" "${e#*comment }" "dnsrl level 1"
	echo "   dnsrl-any-abuse-6: $(set_entry dnsrl-any-abuse-6 2001:db8:2::/56)"
	q0=$(queue_seq 0)
	p0=$(awk '{ print $4 }' <<<"$e")
	line=$(any "$ATTACK4" "$SRV4" 100 20)
	echo "   20 more ANY from $ATTACK4: $line"
	assert_eq "none answered" "$(kv answered "$line")" 0
	assert_eq "none queued (queue 0 id sequence)" "$(($(queue_seq 0) - q0))" 0
	p4=$(awk '{ print $4 }' <<<"$(set_entry dnsrl-any-abuse-4 "$ATTACK4")")
	p6=$(awk '{ print $4 }' <<<"$(set_entry dnsrl-any-abuse-6 2001:db8:2::/56)")
	assert_eq "the set entry counted them" "$((p4 - p0))" 20
	line=$(cli "$QGEN" query --src "$ATTACK4" --dst "$SRV4" --qtype A \
		--qname www.big.example --rate 100 --count 10)
	assert_eq "its A queries answered" "$(kv answered "$line")" 10
	sleep 1.2 # one read of the counters back
	dnsrl_usr1 any-abuse
	line=$(grep -m1 -E ': kernel holds \(SIGUSR1\): ' <<<"$STATS_CHUNK" || true)
	echo "   ${line#*: }"
	assert_eq "kernel holds: the kernel's drops read back (the entries)" \
		"$(kv dropped "$line")" "$((p4 + p6))"
	assert_eq "kernel holds: both holds added" "$(kv added "$line")" 2
	assert_range "rule any-abuse: dropped counts them" \
		"$(kv dropped "$(dnsrl_rule_stats any-abuse)")" 60 200

	echo "== 2. escalation of a source the kernel drops"
	any "$ATTACK4B" "$SRV4" 10 130 >/dev/null &
	bg=$!
	track_pid "$bg"
	# level 1 (8 s) within the first seconds, level 2 when it ends
	e=
	t0=$(date +%s)
	while (($(date +%s) - t0 < 20)); do
		e=$(set_entry dnsrl-any-abuse-4 "$ATTACK4B")
		[ "${e#*comment }" = "dnsrl level 2" ] && break
		sleep 0.1
	done
	echo "   dnsrl-any-abuse-4 $ATTACK4B: $e"
	assert_eq "held again, at level 2" "${e#*comment }" "dnsrl level 2"
	assert_range "for 16 s" "$(awk '{ print $2 }' <<<"$e")" 13 16
	wait "$bg"
	untrack_pid "$bg"

	echo "== 3. kill -9 and restart: the hold keeps its time"
	any "$CLI4" "$SRV4" 20 24 >/dev/null
	assert_true "$CLI4 held" wait_set_entry dnsrl-any-abuse-4 "$CLI4"
	e=$(set_entry dnsrl-any-abuse-4 "$CLI4")
	t0=$(date +%s%N)
	echo "   dnsrl-any-abuse-4 $CLI4: $e"
	left=$(awk '{ print $2 }' <<<"$e")
	assert_range "seconds left" "$left" 2 8
	st=0
	daemon_stop KILL 2>/dev/null || st=$?
	assert_eq "killed" "$st" 137
	dnsrl_start "$conf"
	pid=$DAEMON_PID
	assert_true "holds restored" \
		wait_for_log "dnsrl\[$pid\]: kernel holds: [0-9]+ holds restored" 3
	# the kernel's seconds are whole: the hold ends within (left-1, left]
	sleep "$(awk -v l="$left" -v t="$(($(date +%s%N) - t0))" 'BEGIN {
		s = l - 2 - t / 1e9; print (s > 0 ? s : 0) }')"
	line=$(any "$CLI4" "$SRV4" 1 1)
	echo "   1 s before the end: $line"
	assert_eq "still refused" "$(kv answered "$line")" 0
	sleep 2.2
	line=$(any "$CLI4" "$SRV4" 1 1)
	echo "   1 s after the end: $line"
	assert_eq "answered again" "$(kv answered "$line")" 1
	st=0
	daemon_stop TERM || st=$?
	assert_eq "daemon exit status" "$st" 0

	echo "== 4. a full set: the hold stays in the daemon"
	{
		echo "kernel-hold-max 1"
		printf '%s\n' "$RULE"
	} | dnsrl_conf "$conf"
	dnsrl_rules_remove
	dnsrl_rules_install "$conf"
	dnsrl_start "$conf"
	any "$ATTACK4" "$SRV4" 20 30 >/dev/null
	assert_true "the first held in the kernel" \
		wait_set_entry dnsrl-any-abuse-4 "$ATTACK4"
	any "$ATTACK4B" "$SRV4" 20 30 >/dev/null
	sleep 0.3
	q0=$(queue_seq 0)
	line=$(any "$ATTACK4B" "$SRV4" 100 10)
	echo "   the second, held by the daemon: $line"
	assert_eq "still refused" "$(kv answered "$line")" 0
	assert_eq "its queries reach the queue" "$(($(queue_seq 0) - q0))" 10
	assert_eq "not in the set" "$(set_entry dnsrl-any-abuse-4 "$ATTACK4B")" ""
	dnsrl_usr1 any-abuse
	line=$(grep -m1 -E ': kernel holds \(SIGUSR1\): ' <<<"$STATS_CHUNK" || true)
	echo "   ${line#*: }"
	assert_eq "counted full" "$(kv full "$line")" 1
	st=0
	daemon_stop TERM || st=$?
	assert_eq "daemon exit status" "$st" 0
	dnsrl_rules_remove
	assert_eq "--remove-rules takes the sets too" \
		"$(srv ipset list -n | grep -c '^dnsrl-' || true)" 0
	dnsrl_finish
}

main "$@"
