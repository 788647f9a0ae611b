#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# suite: long
#
# t_demo.sh: the figures `make demo` shows an operator keep the promises
# they illustrate.  It runs demo.sh whole (the filter off; the shipped
# conf/dnsrl.conf without its answer-rule block; the shipped file as it
# is: see its header) and reads its "demo-figures:" lines, one per run,
# counted by the clients themselves (qgen, dig):
#   - every legitimate query is answered in every run: A and AAAA 100 of
#     100, the slow ANY 3 of 3, the dig user's TXT (30 in a row) all with
#     the whole set;
#   - filter off: the attackers get (nearly) every answer, ~4 KB each;
#   - the ANY rule (runs 2 and 3): the burst of 6 gets its 2; the ANY
#     attacker gets at least 3 (2 at once, one 2.5 s later before the
#     hold-down at 5 s) and at most 2 + 2 per 5 s over the time it sent,
#     and no more octets than those answers;
#   - run 2 (no answer rule): the TXT attacker is not seen, it draws
#     what it draws with the filter off (>= 90% of 500 full answers, none
#     truncated), and the dig user gets nothing truncated;
#   - run 3 (the answer-rule big-answers, 64k/10s, truncate): the TXT
#     attacker's octets (IP datagrams) <= 64000 + 6400/s x its time + one
#     answer + its truncated answers, each no bigger than its query (68
#     octets); it still gets at least its burst (15 full answers: a limit,
#     not a block) and an answer (truncated) to >= 90% of its queries;
#     under a fifth of run 2's octets; the dig user gets every full
#     answer, some over TCP after a truncated one, and over UDP at least
#     its burst and at most its budget for the time it asked;
#   - the demo ends with status 0 (the daemon exited 0 after SIGTERM in
#     both runs).
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

BURST=64000 # big-answers: bytes 64k/10s
RATE=6400   # octets a second
# A query for TXT or ANY big.example with an OPT record, as qgen and dig
# (without its cookie) send it: 12 + 13 + 4 + 11 octets of DNS, 28 of IPv4
# and UDP.  A truncated answer is no bigger.
QUERY_IP=68
HDR4=28

# The figure KEY of run RUN.
fig() {
	kv "$2" "$(grep -m1 "^demo-figures: run=$1 " "$OUT")"
}

# Ceiling of A x B / 1000 (octets over milliseconds).
per_ms() {
	echo $((($1 * $2 + 999) / 1000))
}

legit() {
	local run=$1

	assert_eq "$run: A answered" "$(fig "$run" good_a_answered)" 100
	assert_eq "$run: AAAA answered" "$(fig "$run" good_aaaa_answered)" 100
	assert_eq "$run: the slow ANY answered" \
		"$(fig "$run" good_any_answered)" 3
	assert_eq "$run: the dig user's full answers" \
		"$(fig "$run" dig_full)" "$(fig "$run" dig_sent)"
}

# The ANY rule in run RUN.
any_rule() {
	local run=$1 ms hi

	assert_eq "$run: the burst of 6 ANY gets 2" \
		"$(fig "$run" burst_answered)" 2
	ms=$(fig "$run" any_ms)
	hi=$((2 + 2 * ms / 5000))
	assert_range "$run: ANY attacker answered (2 at once, 2 per 5 s over $ms ms)" \
		"$(fig "$run" any_answered)" 3 "$hi"
	assert_range "$run: ANY attacker octets" "$(fig "$run" any_bytes)" \
		$((2 * (ANY_SIZE + HDR4))) $((hi * (ANY_SIZE + HDR4)))
}

main() {
	local st=0 n run big sent ms bound full tr trb udp

	_run_dir
	OUT=$RUN_DIR/demo.out
	echo "== demo.sh"
	timeout --kill-after=20 200 "$LIB_DIR/demo.sh" >"$OUT" 2>&1 &
	n=$!
	track_pid "$n"
	wait "$n" || st=$?
	untrack_pid "$n"
	sed 's/^/   | /' "$OUT"
	assert_eq "demo.sh exit status" "$st" 0
	n=$(grep -c '^demo-figures: run=' "$OUT" || true)
	assert_eq "figure lines (one per run)" "$n" 3
	[ "$n" = 3 ] || finish

	ANY_SIZE=$(fig off any_size)
	TXT_SIZE=$(fig off txt_size)
	big=$((TXT_SIZE + HDR4))
	assert_range "one ANY answer, octets of DNS" "$ANY_SIZE" 3000 4096
	assert_range "one TXT answer, octets of DNS" "$TXT_SIZE" 3000 4096
	assert_range "dig's TXT answer, octets of DNS" "$(fig off dig_size)" \
		3000 4096
	assert_eq "the dig user asked 30 times" "$(fig off dig_sent)" 30

	for run in off any-rule shipped; do
		legit "$run"
	done

	echo "== 1. filter off"
	sent=$(fig off any_sent)
	assert_eq "ANY attacker sent" "$sent" 500
	assert_range "ANY attacker answered" "$(fig off any_answered)" \
		$((sent * 9 / 10)) "$sent"
	assert_range "ANY attacker octets (~4 KB a query)" \
		"$(fig off any_bytes)" $((sent * 9 * (ANY_SIZE + HDR4) / 10)) \
		$((sent * (ANY_SIZE + HDR4)))
	assert_eq "the burst of 6 ANY answered" "$(fig off burst_answered)" 6
	assert_eq "TXT attacker: none truncated" "$(fig off txt_truncated)" 0
	assert_eq "dig user: none over TCP" "$(fig off dig_tcp)" 0

	echo "== 2. the ANY rule alone (no answer rule)"
	any_rule any-rule
	sent=$(fig any-rule txt_sent)
	assert_eq "TXT attacker sent" "$sent" 500
	assert_eq "TXT attacker: none truncated" \
		"$(fig any-rule txt_truncated)" 0
	assert_range "TXT attacker octets, not seen by the ANY rule (~4 KB a query)" \
		"$(fig any-rule txt_bytes)" $((sent * 9 * big / 10)) \
		$((sent * big))
	assert_eq "dig user: none over TCP" "$(fig any-rule dig_tcp)" 0

	echo "== 3. as shipped (the ANY rule and the answer-rule big-answers)"
	any_rule shipped
	sent=$(fig shipped txt_sent)
	ms=$(fig shipped txt_ms)
	tr=$(fig shipped txt_truncated)
	full=$(($(fig shipped txt_answered) - tr))
	bound=$((BURST + $(per_ms "$RATE" "$ms") + big + tr * QUERY_IP))
	echo "   TXT attacker: $full full answers and $tr truncated in $ms ms"
	assert_eq "TXT attacker sent" "$sent" 500
	assert_range "TXT attacker octets <= 64000 + 6400/s x $ms ms + one answer + $tr truncated x $QUERY_IP" \
		"$(fig shipped txt_bytes)" 0 "$bound"
	trb=$(($(fig shipped txt_bytes) - full * big))
	assert_range "TXT attacker: the $tr truncated answers' octets (each <= the query)" \
		"$trb" $((tr * (12 + 17 + HDR4))) $((tr * QUERY_IP))
	assert_range "TXT attacker: full answers, at least its burst" \
		"$full" $((BURST / big)) "$sent"
	assert_range "TXT attacker: answered (truncated, not dropped)" \
		"$(fig shipped txt_answered)" $((sent * 9 / 10)) "$sent"
	assert_range "TXT attacker octets: under a fifth of run 2's" \
		"$(fig shipped txt_bytes)" 0 $(($(fig any-rule txt_bytes) / 5))
	ms=$(fig shipped dig_ms)
	n=$(fig shipped dig_tcp)
	udp=$(($(fig shipped dig_sent) - n))
	big=$(($(fig off dig_size) + HDR4))
	echo "   dig user: $udp full answers over UDP, $n over TCP after a truncated one, in $ms ms"
	assert_range "dig user: over TCP after a truncated answer" "$n" 1 \
		"$(fig shipped dig_sent)"
	assert_range "dig user: full answers over UDP, its burst .. 64000 + 6400/s x $ms ms + one" \
		"$udp" $((BURST / big)) \
		$(((BURST + $(per_ms "$RATE" "$ms")) / big + 1))
	finish
}

main "$@"
