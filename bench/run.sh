#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run.sh: the benchmark of `make bench`.  Six sections, each printing its
# raw numbers as it goes, then one summary table (markdown):
#
#   1. decision cost in process: bench/decide, ns per packet (its own
#      timing) and instructions per decision (callgrind, Ir of run_mix()
#      over its 6 passes / (6 x packets)); bench/answer, the same for the
#      answer path (policy_decide_answer over answers of 1000..4000
#      octets, Ir of decide_batch()), with every answer over its budget
#      dropped, and rewritten (truncate), and the rewrite's own
#      instructions (Ir of truncate_answer / rewrites);
#   2. end to end in network namespaces, at one offered flood rate that
#      the bare accept-all reader passes without loss (probed once):
#      no rule, the bare reader, the in-kernel string + hashlimit recipe,
#      dnsrl behind the same all-queries NFQUEUE rule as the bare reader
#      (dnsrl-q), dnsrl behind the rules `dnsrl --print-rules` prints
#      (dnsrl, with its BPF prefilter): queue reader CPU per packet,
#      packets that passed unfiltered, the resolver's queries/s under
#      dnsperf (alone, and under the flood), in interleaved rounds;
#   3. memory: dnsrl's RSS before and after a flood from 1,000,000 IPv6
#      /64s, bytes per tracked source, table use and evictions;
#   4. flood resilience: an ANY abuser, a polite ANY client and
#      legitimate clients (A, which the prefilter passes in the kernel;
#      ip6.arpa PTR and 14-label names, which it queues; IPv4 and IPv6)
#      during an ANY flood for ~4 KB answers from 100,000 spoofed
#      sources, with no rule, behind the bare reader, dnsrl, dnsrl with a
#      total cap on the rule (RES_TOTAL, `total 500/1s`: each flood source
#      stays within its own limit, so only a cap over all sources holds
#      the sum down), the hashlimit recipe and the `recent` recipe:
#      legitimate queries lost, big answers out of the resolver per
#      second, and for dnsrl what happened to the packets (its counters,
#      the kernel's queue drops, rule counter - verdicts);
#   5. the answer path: (a) the resolver's qps under dnsperf -e with 1
#      query in 50 for a ~4 KB answer, with no rule, dnsrl with the query
#      path alone (section 2's dnsrl) and with both paths (an answer rule
#      whose budget dnsperf's one address never reaches), interleaved
#      rounds, and the server's CPU per query in the same runs; (b) the
#      octets that reach a customer drawing the ~4 KB TXT answer at 50/s
#      (qgen's bytes + headers, and for IPv4 a counter in the client
#      namespace), with no rule, the query path alone (the shipped ANY
#      rule: no effect on TXT), an answer rule that drops and one that
#      truncates (bytes 64k/10s), and meanwhile small and within-budget
#      answers to others; (c) the answer queue under load: a flood of
#      TXT queries from spoofed sources pushed past what Unbound answers,
#      then the daemon stopped for a few seconds under a flood: the
#      queue's kernel counters, Unbound's socket and counters, big
#      answers by dig (lost, or their wait), small answers;
#   6. kernel holds: ANY big.example from 1000 spoofed sources, each at
#      1/s for 60 s (over the shipped rule's 2/5s: each is held within
#      the first seconds), and dnsperf meanwhile, with no rule, dnsrl
#      with `kernel-hold no` (held sources' queries dropped in the
#      daemon) and dnsrl as shipped (dropped in the kernel, before the
#      queue), interleaved rounds: over a window after the holds began,
#      packets reaching the queue per second (its id sequence), the
#      daemon's CPU per second (utime + stime), dnsperf's qps against no
#      rule, big answers out of the resolver.
#
# Run as root (namespaces, iptables, raw sockets), after building:
#
#	make bench                    # deps, build, this script
#	sudo B=build bench/run.sh     # this script alone
#
# Settings (environment; defaults in brackets):
#	BENCH_SECTIONS   sections to run ["1 2 3 4 5 6"]
#	DECIDE_PACKETS   packets of a timed decide run [1000000]
#	CG_PACKETS       packets of a decide run under callgrind [100000]
#	ANSWER_PACKETS   answers of a timed bench/answer run [100000]
#	CG_ANSWERS       answers of a bench/answer run under callgrind [20000]
#	BENCH_RATE       offered flood rate, pps; unset: probed [unset]
#	BENCH_RATES      candidates of the probe, highest first
#	                 ["50000 40000 30000 20000 10000"]
#	PROBE_SECONDS    length of one probe [4]
#	E2E_SECONDS      flood length of section 2 [3]
#	DNSPERF_SECONDS  dnsperf run length [3]
#	E2E_REPEAT       rounds of section 2, interleaved; medians [4]
#	E2E_SOURCES      flood sources of section 2 [100000]
#	E2E_MIX          flood qtype mix of section 2 [A:90,AAAA:5,ANY:5]
#	MEM_SOURCES      distinct IPv6 /64s of section 3 [1000000]
#	MEM_RATE         flood rate of section 3, pps [the section 2 rate]
#	MEM_LIMIT        the rule's limit in section 3 [2/1h]
#	RES_SOURCES      flood sources of section 4 [100000]
#	RES_RATE         flood rate of section 4, pps [the section 2 rate]
#	RES_QNAME        the flood's ANY name in section 4 [big.example:
#	                 ~4 KB answers, the amplification the caps are
#	                 for; www.big.example gives short ones]
#	RES_LEAD         seconds of flood before the clients start [4]
#	RES_TOTAL        the total cap of the dnsrl-total variant [500/1s]
#	HASHLIMIT_OPTS   extra hashlimit options (see lib-bench.sh) [none]
#	ANS_REPEAT       rounds of section 5a, interleaved; medians [5]
#	ANS_BIG_EVERY    5a: one dnsperf query in this many for the ~4 KB
#	                 TXT answer [50]
#	ANS_E2E_BYTES    5a: the answer rule's per-destination budget [1G/10s]
#	ANS_BYTES        5b, 5c: the answer rule's budget [64k/10s]
#	ANS_SECONDS      5b: how long the abusers draw [10]
#	ANS_FLOOD_RATE   5c: the pushed flood's rate, pps [60000]
#	ANS_STALL_RATE   5c: the flood's rate while the daemon stops [20000]
#	ANS_STALL        5c: seconds the daemon is stopped [3]
#	HOLD_SECONDS     6: the flood's length, s [60]
#	HOLD_SOURCES     6: its spoofed sources [1000]
#	HOLD_RATE        6: its rate, pps [HOLD_SOURCES: 1 ANY/s a source]
#	HOLD_SETTLE      6: seconds of flood before the window [15: with
#	                 the shipped rule every source is held by about
#	                 14 s, see the section's output]; the window (and
#	                 dnsperf) lasts to 2 s before the flood's end
#	HOLD_REPEAT      6: rounds, interleaved; medians [3]
#	DNSRL_SETTLE     seconds a started dnsrl is left before a
#	                 measurement (see lib-bench.sh) [3]
#	SRV_CPU, GEN_CPU resolver + reader CPU, generators' CPU [1, 0]
set -eu

# lib.sh reads TEST_NAME.
# shellcheck disable=SC2034
TEST_NAME=bench
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../tests/integration/lib.sh
. "$here/../tests/integration/lib.sh"
# shellcheck source=lib-bench.sh
. "$here/lib-bench.sh"

BENCH_SECTIONS=${BENCH_SECTIONS:-1 2 3 4 5 6}
DECIDE_PACKETS=${DECIDE_PACKETS:-1000000}
CG_PACKETS=${CG_PACKETS:-100000}
ANSWER_PACKETS=${ANSWER_PACKETS:-100000}
CG_ANSWERS=${CG_ANSWERS:-20000}
BENCH_RATE=${BENCH_RATE:-}
BENCH_RATES=${BENCH_RATES:-50000 40000 30000 20000 10000}
PROBE_SECONDS=${PROBE_SECONDS:-4}
E2E_SECONDS=${E2E_SECONDS:-3}
DNSPERF_SECONDS=${DNSPERF_SECONDS:-3}
E2E_REPEAT=${E2E_REPEAT:-4}
E2E_SOURCES=${E2E_SOURCES:-100000}
E2E_MIX=${E2E_MIX:-A:90,AAAA:5,ANY:5}
MEM_SOURCES=${MEM_SOURCES:-1000000}
MEM_LIMIT=${MEM_LIMIT:-2/1h}
RES_SOURCES=${RES_SOURCES:-100000}
RES_QNAME=${RES_QNAME:-big.example}
RES_LEAD=${RES_LEAD:-4}
RES_TOTAL=${RES_TOTAL:-500/1s}
ANS_REPEAT=${ANS_REPEAT:-5}
ANS_BIG_EVERY=${ANS_BIG_EVERY:-50}
ANS_E2E_BYTES=${ANS_E2E_BYTES:-1G/10s}
ANS_BYTES=${ANS_BYTES:-64k/10s}
ANS_SECONDS=${ANS_SECONDS:-10}
ANS_FLOOD_RATE=${ANS_FLOOD_RATE:-60000}
ANS_STALL_RATE=${ANS_STALL_RATE:-20000}
ANS_STALL=${ANS_STALL:-3}
HOLD_SECONDS=${HOLD_SECONDS:-60}
HOLD_SOURCES=${HOLD_SOURCES:-1000}
HOLD_RATE=${HOLD_RATE:-$HOLD_SOURCES}
HOLD_SETTLE=${HOLD_SETTLE:-15}
HOLD_REPEAT=${HOLD_REPEAT:-3}
# The configurations of section 5: no rule; the query path alone (the
# shipped rule, as section 2's dnsrl); both paths (the same and an answer
# rule), with a budget no destination reaches (5a), dropping (5b) and
# truncating (5b, 5c) over 64k/10s.
ANS_QPS_CONFIGS="none dnsrl dnsrl-a"
ANS_BYTES_CONFIGS="none dnsrl dnsrl-ad dnsrl-at"
TABLE_SIZE=1048576

# The summary: one markdown row per figure.
ROWS=()
row() {
	ROWS+=("| $1 | $2 | $3 | $4 |")
}

# "met" or "NOT met" for VALUE against a target: OP (le or ge) LIMIT.
verdict() {
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
		if (v !~ /^-?[0-9.]+$/) { print "not measured"; exit }
		ok = (op == "le") ? (v + 0 <= l + 0) : (v + 0 >= l + 0)
		print ok ? "met" : "NOT met" }'
}

section_on() {
	case " $BENCH_SECTIONS " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

for f in "$DNSRL" "$QGEN" "$LOGSINK" "$NFQ_ACCEPT" "$DECIDE" "$ANSWER"; do
	if [ ! -x "$f" ]; then
		_err "$f missing: run make B=$B all tools and the bench binaries"
		exit 1
	fi
done
if [ "$(id -u)" != 0 ]; then
	_err "run as root: namespaces, iptables rules and raw sockets"
	exit 1
fi

# The shipped mission rule, as conf/dnsrl.conf has it.
mission_rule() {
	sed -n '/^rule any-abuse {/,/^}/p' "$TOP/conf/dnsrl.conf"
}

machine() {
	echo "nproc $(nproc), $(awk -F': ' '/^model name/ { print $2; exit }' \
		/proc/cpuinfo), kernel $(uname -r), $(awk '/^MemTotal/ {
		printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
}

echo "== dnsrl benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "   machine: $(machine); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   settings: BENCH_SECTIONS='$BENCH_SECTIONS' BENCH_RATE=${BENCH_RATE:-probed}" \
	"E2E_REPEAT=$E2E_REPEAT E2E_SECONDS=$E2E_SECONDS" \
	"DNSPERF_SECONDS=$DNSPERF_SECONDS E2E_SOURCES=$E2E_SOURCES" \
	"DECIDE_PACKETS=$DECIDE_PACKETS CG_PACKETS=$CG_PACKETS" \
	"MEM_SOURCES=$MEM_SOURCES RES_SOURCES=$RES_SOURCES" \
	"ANS_REPEAT=$ANS_REPEAT HOLD_SECONDS=$HOLD_SECONDS" \
	"HOLD_SOURCES=$HOLD_SOURCES HOLD_RATE=$HOLD_RATE" \
	"HOLD_SETTLE=$HOLD_SETTLE HOLD_REPEAT=$HOLD_REPEAT"
echo "   $("$DNSRL" -V 2>&1 | head -n 1), tree $(git -C "$TOP" describe --always \
	--dirty 2>/dev/null || echo unknown), build $BUILD"

# --- 1. Decision cost ------------------------------------------------------

# Instructions per decision of one decide run under callgrind.
decide_ir() {
	local out=$1 sources=$2 mix=$3 ir

	valgrind --tool=callgrind --toggle-collect=run_mix \
		--callgrind-out-file="$out.cg" "$DECIDE" "$sources" \
		"$CG_PACKETS" "$TABLE_SIZE" "$mix" >"$out.stdout" 2>"$out.stderr"
	ir=$(sed -n 's/^==[0-9]*== Collected : \([0-9]*\).*/\1/p' "$out.stderr")
	[ -n "$ir" ] || ir=$(awk '/^summary:/ { print $2 }' "$out.cg")
	awk -v ir="$ir" -v p="$CG_PACKETS" 'BEGIN {
		printf "%.0f\n", ir / (6 * p) }'
}

section_decide() {
	local cases=("1 mix" "1000 mix" "100000 mix" "1000000 mix"
		"1000000 any")
	local c s m line i ir pids=() k
	local -A nsv irv

	echo "== 1. decision cost in process (bench/decide, table $TABLE_SIZE)"
	for c in "${cases[@]}"; do
		read -r s m <<<"$c"
		line=$(taskset -c "$SRV_CPU" "$DECIDE" "$s" "$DECIDE_PACKETS" \
			"$TABLE_SIZE" "$m")
		echo "   $line"
		nsv[$c]=$(kvd ns_per_packet "$line")
	done
	echo "   callgrind, $CG_PACKETS packets, Ir of run_mix / (6 x packets):"
	# Instruction counts do not depend on timing: two at a time.
	i=0
	for c in "${cases[@]}"; do
		read -r s m <<<"$c"
		decide_ir "$RUN_DIR/cg.$i" "$s" "$m" >"$RUN_DIR/cg.$i.ir" &
		pids+=($!)
		track_pid "$!"
		i=$((i + 1))
		if [ "${#pids[@]}" = 2 ]; then
			for k in "${pids[@]}"; do
				wait "$k"
				untrack_pid "$k"
			done
			pids=()
		fi
	done
	for k in "${pids[@]}"; do
		wait "$k"
		untrack_pid "$k"
	done
	i=0
	for c in "${cases[@]}"; do
		read -r s m <<<"$c"
		ir=$(cat "$RUN_DIR/cg.$i.ir")
		irv[$c]=$ir
		echo "   sources=$s $m: $ir instructions per decision" \
			"($(kvd evicted "$(cat "$RUN_DIR/cg.$i.stdout")") evicted)"
		i=$((i + 1))
	done
	for c in "${cases[@]}"; do
		read -r s m <<<"$c"
		row "1 decide" "$m, $s sources: instructions / ns per decision" \
			"${irv[$c]} Ir / ${nsv[$c]} ns" ""
	done
	section_decide_answers
}

# Instructions of one answer run under callgrind: those of FUNC (a
# pattern: gcc may clone it) over the 6 passes, divided by DIV.
answer_ir() {
	local out=$1 dests=$2 mode=$3 func=$4 ir

	valgrind --tool=callgrind "--toggle-collect=$func" \
		--callgrind-out-file="$out.cg" "$ANSWER" "$dests" \
		"$CG_ANSWERS" "$TABLE_SIZE" "$mode" >"$out.stdout" 2>"$out.stderr"
	ir=$(sed -n 's/^==[0-9]*== Collected : \([0-9]*\).*/\1/p' "$out.stderr")
	[ -n "$ir" ] || ir=$(awk '/^summary:/ { print $2 }' "$out.cg")
	echo "$ir"
}

# The answer path in process: bench/answer, ns per answer and
# instructions per decision (decide_batch), for the mix and for answers
# that are all over their budget, dropped or rewritten; and the
# instructions of the rewrite alone (truncate_answer, its checksums).
section_decide_answers() {
	local cases=("1000 mix" "1000000 mix" "100000 drop" "100000 trunc")
	local c d m line i ir pids=() k tr n
	local -A nsv irv outv

	echo "   -- the answer path (bench/answer, $ANSWER_PACKETS answers of" \
		"1000..4000 octets, table $TABLE_SIZE)"
	for c in "${cases[@]}"; do
		read -r d m <<<"$c"
		line=$(taskset -c "$SRV_CPU" "$ANSWER" "$d" "$ANSWER_PACKETS" \
			"$TABLE_SIZE" "$m")
		echo "   $line"
		nsv[$c]=$(kvd ns_per_answer "$line")
		outv[$c]="accepted $(kvd accepted "$line"), dropped $(kvd dropped "$line"), truncated $(kvd truncated "$line") of $ANSWER_PACKETS; mean $(kvd mean_octets "$line") octets"
	done
	echo "   callgrind, $CG_ANSWERS answers, Ir of decide_batch / (6 x answers);" \
		"of truncate_answer / rewrites:"
	i=0
	for c in "${cases[@]}" "1000 trunc"; do
		read -r d m <<<"$c"
		if [ "$i" = "${#cases[@]}" ]; then
			answer_ir "$RUN_DIR/acg.$i" "$d" "$m" 'truncate_answer' \
				>"$RUN_DIR/acg.$i.ir" &
		else
			answer_ir "$RUN_DIR/acg.$i" "$d" "$m" 'decide_batch*' \
				>"$RUN_DIR/acg.$i.ir" &
		fi
		pids+=($!)
		track_pid "$!"
		i=$((i + 1))
		if [ "${#pids[@]}" = 2 ]; then
			for k in "${pids[@]}"; do
				wait "$k"
				untrack_pid "$k"
			done
			pids=()
		fi
	done
	for k in "${pids[@]}"; do
		wait "$k"
		untrack_pid "$k"
	done
	i=0
	for c in "${cases[@]}"; do
		read -r d m <<<"$c"
		ir=$(cat "$RUN_DIR/acg.$i.ir")
		irv[$c]=$(awk -v ir="$ir" -v p="$CG_ANSWERS" 'BEGIN {
			printf "%.0f\n", ir / (6 * p) }')
		echo "   dests=$d $m: ${irv[$c]} instructions per decision" \
			"($(kvd evicted "$(cat "$RUN_DIR/acg.$i.stdout")") evicted)"
		i=$((i + 1))
	done
	ir=$(cat "$RUN_DIR/acg.$i.ir")
	n=$(kvd truncated_all "$(cat "$RUN_DIR/acg.$i.stdout")")
	tr=$(ratio "$ir" "$n" 0)
	echo "   truncate_answer: $ir instructions for $n rewrites = $tr each"
	for c in "${cases[@]}"; do
		read -r d m <<<"$c"
		row "1 answer" "$m, $d destinations: instructions / ns per answer" \
			"${irv[$c]} Ir / ${nsv[$c]} ns" "${outv[$c]}"
	done
	d=${irv[100000 trunc]}
	m=${irv[100000 drop]}
	row "1 answer" "the rewrite: trunc - drop per answer; truncate_answer alone" \
		"$((d - m)) Ir; $tr Ir" \
		"truncate_answer with its checksums, callgrind (toggle-collect=truncate_answer)"
}

# --- 2. End to end -----------------------------------------------------------

DNSRL_CONF=
E2E_RATE=
# The configurations compared: no rule; the bare accept-all reader behind
# an NFQUEUE rule for all UDP/53; the in-kernel string + hashlimit recipe;
# dnsrl behind that same all-queries rule (dnsrl-q: the same packets as
# the bare reader, so the difference is the decision alone); dnsrl behind
# the rules `dnsrl --print-rules` prints (with its BPF prefilter, which
# accepts in the kernel the queries no rule can match).
E2E_CONFIGS="none bare hashlimit dnsrl-q dnsrl"

# Puts the rules of KIND in place and starts its reader, if any.
config_up() {
	rules_clear
	case $1 in
	none) ;;
	bare)
		nfqueue_rule_add 0
		reader_start bare
		;;
	hashlimit) rules_hashlimit ;;
	recent) rules_recent ;;
	dnsrl-q)
		nfqueue_rule_add 0
		reader_start dnsrl "$DNSRL_CONF"
		;;
	dnsrl)
		dnsrl_rules_install "$DNSRL_CONF"
		reader_start dnsrl "$DNSRL_CONF"
		;;
	dnsrl-total)
		dnsrl_rules_install "$DNSRL_TOTAL_CONF"
		reader_start dnsrl "$DNSRL_TOTAL_CONF"
		;;
	dnsrl-nokh)
		dnsrl_rules_install "$DNSRL_NOKH_CONF"
		reader_start dnsrl "$DNSRL_NOKH_CONF"
		;;
	dnsrl-a | dnsrl-ad | dnsrl-at)
		local conf=$DNSRL_ANS_E2E_CONF

		[ "$1" = dnsrl-ad ] && conf=$DNSRL_ANS_DROP_CONF
		[ "$1" = dnsrl-at ] && conf=$DNSRL_ANS_TRUNC_CONF
		dnsrl_rules_install "$conf"
		reader_start dnsrl "$conf"
		;;
	esac
}

has_reader() {
	case $1 in
	bare | dnsrl | dnsrl-q | dnsrl-total | dnsrl-nokh | dnsrl-a | dnsrl-ad | dnsrl-at)
		return 0
		;;
	esac
	return 1
}

# Packets the NFQUEUE rule(s) of KIND counted.
queue_rule_packets() {
	case $1 in
	bare | dnsrl-q) rule_packets ;;
	dnsrl | dnsrl-total | dnsrl-nokh) dnsrl_rule_packets ;;
	*) echo 0 ;;
	esac
}

# Packets the prefilter of dnsrl's chain returned (mangle table): those
# it let through in the kernel.
prefilter_packets() {
	dnsrl_prefilter_packets
}

# The server's UDP datagrams delivered to sockets, and refused by a full
# receive buffer, IPv4 and IPv6.
udp_in() {
	echo $(($(snmp_counter UdpInDatagrams) + $(snmp_counter Udp6InDatagrams)))
}

udp_rcvbuf() {
	echo $(($(snmp_counter UdpRcvbufErrors) + $(snmp_counter Udp6RcvbufErrors)))
}

# Counters before a measured window.
C0=0 P0=0 W0=0 U0='' F0=0
snap0() {
	C0=0 P0=0 W0=0 F0=0
	if has_reader "$1"; then
		C0=$(queue_rule_packets "$1")
		P0=$(cpu_ns "$READER_PID")
		W0=$(cpu_ns_workers "$READER_PID")
	fi
	[ "$1" = dnsrl ] && F0=$(prefilter_packets)
	U0="$(udp_in) $(udp_rcvbuf)"
}

# After the window: stops the reader and sets SNAP to the window's
# figures as key=value pairs: the server's UDP datagrams in and those its
# sockets refused (Unbound's receive buffer full); for a reader, packets
# the NFQUEUE rule counted, the reader's packets and verdicts, unfiltered
# (rule counter - verdicts), id-gaps, CPU ns per packet it read (all
# threads; for dnsrl also the threads but the main one) and, given the
# packets OFFERED, CPU ns per packet offered.
SNAP=
snap1() {
	local kind=$1 offered=${2:-} c1 p1 w1 v pk in0 rb0

	sleep 0.5 # what is queued drains
	read -r in0 rb0 <<<"$U0"
	SNAP="udp_in=$(($(udp_in) - in0))"
	SNAP+=" rcvbuf_errors=$(($(udp_rcvbuf) - rb0))"
	[ "$kind" = dnsrl ] &&
		SNAP+=" prefiltered=$(($(prefilter_packets) - F0))"
	has_reader "$kind" || return 0
	c1=$(queue_rule_packets "$kind")
	p1=$(cpu_ns "$READER_PID")
	w1=$(cpu_ns_workers "$READER_PID")
	reader_stop
	v=$(kvd verdicts "$READER_LINE")
	pk=$(kvd packets "$READER_LINE")
	SNAP+=" queued=$((c1 - C0)) packets=$pk verdicts=$v"
	SNAP+=" unfiltered=$((c1 - C0 - v))"
	SNAP+=" id_gaps=$(kvd id-gaps "$READER_LINE")"
	SNAP+=" cpu_ns_per_pkt=$(ratio $((p1 - P0)) "$pk" 0)"
	if [ -n "$offered" ]; then
		SNAP+=" cpu_ns_per_offered=$(ratio $((p1 - P0)) "$offered" 0)"
	fi
	if [ "$kind" != bare ]; then
		SNAP+=" worker_ns_per_pkt=$(ratio $((w1 - W0)) "$pk" 0)"
		SNAP+=" enobufs=$(kvd enobufs "$READER_LINE")"
		SNAP+=" send_fail=$(kvd send-fail "$READER_LINE")"
	fi
}

# The flood of section 2 at RATE for SECONDS, on the generators' CPU.
e2e_flood() {
	gen "$QGEN" flood --dst "$SRV4" --src-net "$FLOOD4_NET" \
		--sources "$E2E_SOURCES" --rate "$1" --duration "$2" \
		--qname www.big.example --mix "$E2E_MIX" 2>&1 | tr '\n' ' '
}

# dnsperf, closed loop, on the generators' CPU; prints "qps=N lost=N".
# A query lost holds one of the 100 outstanding slots until the timeout:
# 1 s rather than dnsperf's 5 s.
e2e_dnsperf() {
	local out=$RUN_DIR/dnsperf.out

	gen dnsperf -s "$SRV4" -d "$RUN_DIR/queries.txt" -l "$DNSPERF_SECONDS" \
		-c 10 -q 100 -t 1 >"$out" 2>&1 || true
	awk '/Queries per second:/ { q = $4 } /Queries lost:/ { l = $3 }
		END { printf "qps=%.0f lost=%s\n", q, l }' "$out"
}

# The median of the numbers given, rounded to D decimals ("-" for none).
median_d() {
	local d=$1

	shift
	printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | awk -v d="$d" '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "-"; exit }
			if (NR % 2) m = v[(NR + 1) / 2]
			else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.*f\n", d, m
		}'
}

median() {
	median_d 0 "$@"
}

# The median of signed numbers, 3 decimals.
median_signed() {
	printf '%s\n' "$@" | grep -E '^-?[0-9.]+$' | sort -g | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) { print "-"; exit }
			if (NR % 2) m = v[(NR + 1) / 2]
			else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.3f\n", m
		}'
}

median_f() {
	median_d 2 "$@"
}

# Flood alone with the bare reader at each candidate rate, highest first;
# the first one without loss is the rate of sections 2 to 4: every packet
# got a verdict, no id gap, the generator kept its schedule, and Unbound's
# socket refused under 1% (beyond that the resolver, not the filter, is
# the bottleneck and the qps figures measure only its overload).
probe_rate() {
	local r f

	if [ -n "$BENCH_RATE" ]; then
		E2E_RATE=$BENCH_RATE
		echo "   offered rate: $E2E_RATE pps (BENCH_RATE)"
		return
	fi
	for r in $BENCH_RATES; do
		config_up bare
		snap0 bare
		f=$(e2e_flood "$r" "$PROBE_SECONDS")
		snap1 bare
		echo "   probe $r pps, bare reader: $f| $SNAP"
		E2E_RATE=$r
		if [ "$(kvd unfiltered "$SNAP")" = 0 ] &&
			[ "$(kvd id_gaps "$SNAP")" = 0 ] &&
			[ "$(kvd sent "$f")" = $((r * PROBE_SECONDS)) ] &&
			[[ $f != *behind* ]] &&
			[ "$(kvd rcvbuf_errors "$SNAP")" -le $((r * PROBE_SECONDS / 100)) ]; then
			break
		fi
	done
	echo "   offered rate: $E2E_RATE pps (the highest candidate that the" \
		"bare reader passed whole, and Unbound took with under 1%" \
		"refused for a full receive buffer)"
}

# The three measured phases of section 2 for config K; they add to the
# arrays of section_e2e.
# A: the flood alone: reader CPU per packet, unfiltered, id gaps.
e2e_phase_flood() {
	local k=$1 f

	config_up "$k"
	snap0 "$k"
	f=$(e2e_flood "$E2E_RATE" "$E2E_SECONDS")
	snap1 "$k" "$(kvd sent "$f")"
	echo "   [$k] flood: $f| $SNAP"
	cpu[$k]+=" $(kvd cpu_ns_per_pkt "$SNAP")"
	cpuo[$k]+=" $(kvd cpu_ns_per_offered "$SNAP")"
	wcpu[$k]+=" $(kvd worker_ns_per_pkt "$SNAP")"
	queued[$k]=$(kvd queued "$SNAP")
	offered=$(kvd sent "$f")
	unf[$k]=$((${unf[$k]:-0} + $(kvd unfiltered "$SNAP" | tr -- - 0)))
	gaps[$k]=$((${gaps[$k]:-0} + $(kvd id_gaps "$SNAP" | tr -- - 0)))
	if [ "$k" = hashlimit ]; then
		echo "     hashlimit: ANY accepted" \
			"$(comment_packets bench-any-ok), dropped" \
			"$(comment_packets bench-any-drop)"
	fi
}

# B: dnsperf alone.
e2e_phase_dnsperf() {
	local k=$1 dp

	config_up "$k"
	snap0 "$k"
	dp=$(e2e_dnsperf)
	snap1 "$k"
	echo "   [$k] dnsperf alone: $dp | $SNAP"
	qps[$k]+=" $(kvd qps "$dp")"
}

# C: dnsperf under the flood.
e2e_phase_both() {
	local k=$1 dp fl

	config_up "$k"
	snap0 "$k"
	gen "$QGEN" flood --dst "$SRV4" --src-net "$FLOOD4_NET" \
		--sources "$E2E_SOURCES" --rate "$E2E_RATE" \
		--duration "$((DNSPERF_SECONDS + 1))" \
		--qname www.big.example --mix "$E2E_MIX" \
		>"$RUN_DIR/flood.out" 2>&1 &
	fl=$!
	track_pid "$fl"
	sleep 0.5
	dp=$(e2e_dnsperf)
	wait "$fl" || true
	untrack_pid "$fl"
	snap1 "$k"
	echo "   [$k] dnsperf under the flood: $dp |" \
		"$(tr '\n' ' ' <"$RUN_DIR/flood.out")| $SNAP"
	qpsf[$k]+=" $(kvd qps "$dp")"
	unff[$k]=$((${unff[$k]:-0} + $(kvd unfiltered "$SNAP" | tr -- - 0)))
}

# This round's X / bare ratio of the last values of array A.
round_ratio() {
	local -n arr=$1

	ratio "${arr[$2]##* }" "${arr[bare]##* }" 3
}

section_e2e() {
	local k rep phase order offered=0
	local -A cpu cpuo wcpu unf gaps qps qpsf unff queued
	local r_cq='' r_co='' r_qq='' r_q='' r_fq='' r_f=''

	echo "== 2. end to end (Unbound and the reader on CPU $SRV_CPU," \
		"generators on CPU $GEN_CPU; $E2E_REPEAT rounds, medians)"
	probe_rate
	echo "   flood: $E2E_RATE pps x ${E2E_SECONDS}s, $E2E_MIX," \
		"$E2E_SOURCES sources; dnsperf ${DNSPERF_SECONDS}s"
	for ((rep = 1; rep <= E2E_REPEAT; rep++)); do
		# Each phase runs every config back to back, the readers next
		# to each other, in alternating order (the machine's other
		# load drifts: the ratios are taken within a round).
		order=$E2E_CONFIGS
		if [ $((rep % 2)) = 0 ]; then
			order=$(tr ' ' '\n' <<<"$E2E_CONFIGS" | tac | tr '\n' ' ')
		fi
		echo "   -- round $rep (load average $(cut -d' ' -f1-3 /proc/loadavg))"
		for phase in flood dnsperf both; do
			for k in $order; do
				"e2e_phase_$phase" "$k"
			done
		done
		r_cq+=" $(round_ratio cpu dnsrl-q)"
		r_co+=" $(round_ratio cpuo dnsrl)"
		r_qq+=" $(round_ratio qps dnsrl-q)"
		r_q+=" $(round_ratio qps dnsrl)"
		r_fq+=" $(round_ratio qpsf dnsrl-q)"
		r_f+=" $(round_ratio qpsf dnsrl)"
	done
	rules_clear

	local -A mc mo mw mq mqf
	for k in $E2E_CONFIGS; do
		# shellcheck disable=SC2086 # lists of numbers
		{
			mc[$k]=$(median ${cpu[$k]})
			mo[$k]=$(median ${cpuo[$k]})
			mw[$k]=$(median ${wcpu[$k]})
			mq[$k]=$(median ${qps[$k]})
			mqf[$k]=$(median ${qpsf[$k]})
		}
		echo "   $k: reader CPU ns per packet read${cpu[$k]}, per packet" \
			"offered${cpuo[$k]}; qps alone${qps[$k]}; qps under the" \
			"flood${qpsf[$k]}"
	done
	echo "   per round, dnsrl-q / bare: CPU per packet$r_cq, qps alone$r_qq," \
		"under the flood$r_fq; dnsrl / bare: CPU per packet offered$r_co," \
		"qps alone$r_q, under the flood$r_f"

	local cq co qq q fq f
	# shellcheck disable=SC2086 # lists of numbers
	{
		cq=$(median_f $r_cq)
		co=$(median_f $r_co)
		qq=$(median_f $r_qq)
		q=$(median_f $r_q)
		fq=$(median_f $r_fq)
		f=$(median_f $r_f)
	}
	row "2 e2e" "offered flood rate (bare reader: no loss)" \
		"$E2E_RATE pps, $E2E_SOURCES sources, $E2E_MIX" \
		"figures below: medians of $E2E_REPEAT rounds"
	row "2 e2e" "reader CPU per packet read: bare / dnsrl-q / dnsrl" \
		"${mc[bare]} / ${mc[dnsrl-q]} / ${mc[dnsrl]} ns" \
		"dnsrl-q's packet thread ${mw[dnsrl-q]} ns"
	row "2 e2e" "dnsrl-q / bare CPU per packet (same packets queued)" \
		"$cq" "<= 1.1: $(verdict "$cq" le 1.1); rounds$r_cq"
	row "2 e2e" "dnsrl's prefilter: packets queued of those offered" \
		"${queued[dnsrl]} of $offered" \
		"the rest passed on (RETURN) by the bpf match in the kernel"
	row "2 e2e" "reader CPU per packet offered: bare / dnsrl" \
		"${mo[bare]} / ${mo[dnsrl]} ns" \
		"dnsrl / bare $co, <= 1.1: $(verdict "$co" le 1.1); rounds$r_co; the bpf match's own cost is in softirq, not in these"
	row "2 e2e" "unfiltered (rule - verdicts), bare / dnsrl-q / dnsrl; id-gaps" \
		"${unf[bare]} / ${unf[dnsrl-q]} / ${unf[dnsrl]}; ${gaps[bare]} / ${gaps[dnsrl-q]} / ${gaps[dnsrl]}" \
		"0 (sums over the rounds)"
	row "2 e2e" "resolver qps, dnsperf alone: none / bare / hashlimit / dnsrl-q / dnsrl" \
		"${mq[none]} / ${mq[bare]} / ${mq[hashlimit]} / ${mq[dnsrl-q]} / ${mq[dnsrl]}" \
		"vs none: bare $(ratio "${mq[bare]}" "${mq[none]}"), hashlimit $(ratio "${mq[hashlimit]}" "${mq[none]}"), dnsrl-q $(ratio "${mq[dnsrl-q]}" "${mq[none]}"), dnsrl $(ratio "${mq[dnsrl]}" "${mq[none]}")"
	row "2 e2e" "dnsrl / bare resolver qps, dnsperf alone" "$q" \
		">= 0.9: $(verdict "$q" ge 0.9); rounds$r_q; dnsrl-q / bare $qq (rounds$r_qq)"
	row "2 e2e" "resolver qps under the flood: none / bare / hashlimit / dnsrl-q / dnsrl" \
		"${mqf[none]} / ${mqf[bare]} / ${mqf[hashlimit]} / ${mqf[dnsrl-q]} / ${mqf[dnsrl]}" \
		"vs none: bare $(ratio "${mqf[bare]}" "${mqf[none]}"), hashlimit $(ratio "${mqf[hashlimit]}" "${mqf[none]}"), dnsrl-q $(ratio "${mqf[dnsrl-q]}" "${mqf[none]}"), dnsrl $(ratio "${mqf[dnsrl]}" "${mqf[none]}")"
	row "2 e2e" "dnsrl / bare resolver qps under the flood" "$f" \
		">= 0.9: $(verdict "$f" ge 0.9); rounds$r_f; dnsrl-q / bare $fq (rounds$r_fq)"
	row "2 e2e" "unfiltered under the flood + dnsperf, bare / dnsrl-q / dnsrl" \
		"${unff[bare]} / ${unff[dnsrl-q]} / ${unff[dnsrl]}" \
		"0 (sums over the rounds)"
}

# --- 3. Memory ---------------------------------------------------------------

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

section_memory() {
	local conf=$RUN_DIR/dnsrl-mem.conf rate=${MEM_RATE:-$E2E_RATE}
	local secs r0 r1 f line kib cap used bpe chg start rl

	echo "== 3. memory (table-size $TABLE_SIZE, $MEM_SOURCES IPv6 /64s" \
		"sending ANY, limit $MEM_LIMIT so that their buckets stay live)"
	printf '%s\n' 'queue 0' "table-size $TABLE_SIZE" 'stats-interval 0' \
		'syslog-facility daemon' 'rule any-abuse {' '	qtype ANY' \
		"	limit $MEM_LIMIT" '	ipv6-prefix 64' '}' >"$conf"
	rules_clear
	dnsrl_rules_install "$conf"
	reader_start dnsrl "$conf"
	sleep 1
	r0=$(rss_kb "$READER_PID")
	start=$(grep -m1 -E "dnsrl\[$READER_PID\]: dnsrl [^ ]+ started: " \
		"$SYSLOG_FILE")
	kib=$(sed -n 's/.*table-size [0-9]* (\([0-9]*\) KiB).*/\1/p' <<<"$start")
	echo "   start: VmRSS $r0 kB; ${start#*: }"
	secs=$(awk -v n="$MEM_SOURCES" -v r="$rate" 'BEGIN {
		printf "%.6f\n", n / r }')
	snap0 dnsrl
	# Every /64 of FLOOD6_NET's spread once: ANY for a name outside the
	# zone (a short NXDOMAIN), so that Unbound's answers stay small.
	f=$(gen "$QGEN" flood --dst "$SRV6" --src-net "$FLOOD6_NET" \
		--sources "$MEM_SOURCES" --rate "$rate" --duration "$secs" \
		--qtype ANY --qname nx.example 2>&1 | tr '\n' ' ')
	echo "   flood: $MEM_SOURCES sources at $rate pps: $f"
	# A whole sweep of the table (2 s) counts the live buckets.
	sleep 3
	r1=$(rss_kb "$READER_PID")
	dnsrl_usr1 any-abuse
	echo "   after: VmRSS $r1 kB"
	echo "   ${STATS_LINE#*]: }"
	rl=$(dnsrl_rule_stats any-abuse)
	echo "   ${rl#*]: }"
	snap1 dnsrl
	line=$SNAP
	echo "   $line"
	used=$(kvd table-used "$STATS_LINE")
	cap=${used#*/}
	bpe=$(awk -v k="$kib" -v c="$cap" 'BEGIN {
		if (c > 0) printf "%.1f\n", k * 1024 / c; else print "-" }')
	chg=$(awk -v a="$r0" -v b="$r1" 'BEGIN {
		printf "%+.1f\n", (b - a) * 100 / a }')
	row "3 memory" "dnsrl VmRSS at start / after $MEM_SOURCES sources" \
		"$r0 / $r1 kB ($chg%)" \
		"within 5%: $(verdict "$(tr -d '+-' <<<"$chg")" le 5)"
	row "3 memory" "table bytes / capacity = bytes per tracked source" \
		"$((kib * 1024)) / $cap = $bpe" "<= 32: $(verdict "$bpe" le 32)"
	row "3 memory" "table-used, inserted, reused, evicted after the flood" \
		"$used, $(kvd inserted "$STATS_LINE"), $(kvd reused "$STATS_LINE"), $(kvd evicted "$STATS_LINE")" \
		"unfiltered $(kvd unfiltered "$line")"
	rules_clear
}

# --- 4. Flood resilience ---------------------------------------------------

RES_CONFIGS="none bare dnsrl dnsrl-total hashlimit recent"

# The legitimate clients of section 4, a line "NAME SRC DST QTYPE QNAME"
# each: the A client, which the prefilter lets through in the kernel, and
# queries it cannot read whole, which wait in the queue with the flood's
# ANY: PTR for an ip6.arpa name (34 labels) and a name of 14 labels
# (QUEUED_NAME), each over IPv4 and IPv6.  Unbound answers all but the
# first with NXDOMAIN at once.
res_legit_clients() {
	local ptr

	ptr=$(ip6_arpa "$CLI6")
	echo "a4 $CLI4 $SRV4 A www.big.example"
	echo "ptr4 $CLI4 $SRV4 PTR $ptr"
	echo "ptr6 $CLI6 $SRV6 PTR $ptr"
	echo "long4 $CLI4 $SRV4 A $QUEUED_NAME"
	echo "long6 $CLI6 $SRV6 AAAA $QUEUED_NAME"
}

# The answers a cap N/T lets through in a window of W +- H seconds of a
# flood that keeps it spent (one per T/N, and one more at the edge), plus
# the real abuser's own burst of 2 (each of its queries also passes the
# total: this is a margin, not a share).
res_cap_allows() {
	awk -v c="$1" -v w="$2" -v h="$3" 'BEGIN {
		n = c; sub(/\/.*/, "", n); t = c; sub(/^[^\/]*\//, "", t)
		u = t; sub(/^[0-9.]+/, "", u); t += 0
		if (u == "ms") t /= 1000; else if (u == "m") t *= 60
		else if (u == "h") t *= 3600
		printf "%.0f\n", (w + h) * n / t + 1 + 2 }'
}

# The values of associative array A for each of RES_CONFIGS, "x / y ...".
res_each() {
	local -n arr=$1
	local k out=

	for k in $RES_CONFIGS; do
		out+="${out:+ / }${arr[$k]:--}"
	done
	echo "$out"
}

section_resilience() {
	local rate=${RES_RATE:-$E2E_RATE} k fl ab po secs extra per p c n
	local name src dst qt qn lost sent fail fo any_sent q4 q6
	local t0 t1 h0 h1 b0 b1 y0 y1 w qk0 qk1 qu0 qu1 un0 un1
	local -A abv pav pov lostv bigv bign bigyv wv failv clientv fov urv
	local -A cl kdw
	local -a pids

	secs=$((RES_LEAD + 12))
	per=$(awk -v n="$RES_SOURCES" -v r="$rate" 'BEGIN {
		printf "%.1f\n", n / r }')
	echo "== 4. flood resilience: ANY $RES_QNAME from $RES_SOURCES spoofed" \
		"sources at $rate pps for ${secs}s (each source once every" \
		"$per s); after ${RES_LEAD}s, for 10 s: the abuser $ATTACK4" \
		"(ANY big.example at 50/s), a polite ANY client $ATTACK4B (4" \
		"ANY, one every ~3 s: within the limit) and legitimate clients" \
		"at 50/s each (500 queries):"
	res_legit_clients | sed 's/^/     /'
	for k in $RES_CONFIGS; do
		echo "   -- $k (load average $(cut -d' ' -f1-3 /proc/loadavg))"
		config_up "$k"
		rules_counters "$ATTACK4"
		snap0 "$k"
		un0=$(cpu_ns "$UNBOUND_PID")
		gen "$QGEN" flood --dst "$SRV4" --src-net "$FLOOD4_NET" \
			--sources "$RES_SOURCES" --rate "$rate" --duration "$secs" \
			--qtype ANY --qname "$RES_QNAME" >"$RUN_DIR/flood.out" 2>&1 &
		fl=$!
		track_pid "$fl"
		sleep "$RES_LEAD"
		# The big answers of the window the clients run in: the
		# flood's first pass is behind (each source's first query
		# is within its burst).
		read -r t0 h0 b0 y0 < <(big_answers)
		read -r qk0 qu0 < <(queue_drops)
		pids=()
		gen "$QGEN" query --src "$ATTACK4" --dst "$SRV4" --qtype ANY \
			--qname big.example --rate 50 --count 500 \
			>"$RUN_DIR/abuser.out" 2>&1 &
		ab=$!
		pids+=("$ab")
		any_slowly "$ATTACK4B" "$SRV4" 4 2 >"$RUN_DIR/polite.out" 2>&1 &
		po=$!
		pids+=("$po")
		while read -r name src dst qt qn; do
			gen "$QGEN" query --src "$src" --dst "$dst" \
				--qtype "$qt" --qname "$qn" --rate 50 --count 500 \
				</dev/null >"$RUN_DIR/legit-$name.out" 2>&1 &
			pids+=("$!")
		done < <(res_legit_clients)
		for p in "${pids[@]}"; do
			track_pid "$p"
		done
		for p in "${pids[@]}"; do
			wait "$p" || true
			untrack_pid "$p"
		done
		read -r t1 h1 b1 y1 < <(big_answers)
		read -r qk1 qu1 < <(queue_drops)
		w=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }')
		wv[$k]="$w $(awk -v a="$h0" -v b="$h1" 'BEGIN {
			printf "%.3f\n", a + b }')"
		bign[$k]=$((b1 - b0))
		wait "$fl" || true
		untrack_pid "$fl"
		un1=$(cpu_ns "$UNBOUND_PID")
		pav[$k]=$(passed_packets)
		extra=
		fail=
		case $k in
		dnsrl | dnsrl-total)
			# after the flood: the counters of all of it
			sleep 0.2
			dnsrl_usr1 any-abuse
			echo "   [$k] ${STATS_LINE#*]: }"
			echo "     ${QUEUE_LINE#*]: }"
			echo "     $(dnsrl_rule_stats any-abuse | sed 's/.*]: //')"
			extra="table-used $(kvd table-used "$STATS_LINE"), evicted $(kvd evicted "$STATS_LINE")"
			[ "$k" = dnsrl ] ||
				extra+=", total-refused $(kvd total-refused "$(dnsrl_rule_stats any-abuse)") (rule total $RES_TOTAL)"
			fo=$(grep -m1 -E "dnsrl\[$READER_PID\]: dnsrl [^ ]+ started: " \
				"$SYSLOG_FILE" | grep -oE 'fail-open (yes|no)' || true)
			fail="$(kvd packets "$STATS_LINE") / $(kvd verdicts "$STATS_LINE") / $(kvd accepted "$STATS_LINE") / $(kvd dropped "$STATS_LINE"); $(kvd kernel-dropped "$QUEUE_LINE") / $(kvd user-dropped "$QUEUE_LINE")"
			# when the queue overflowed: before, while and after
			# the clients ran (their queued queries share its fate
			# only in the middle one)
			kdw[$k]=$((qk1 - qk0))
			extra="kernel-dropped before / while / after the clients $qk0 / $((qk1 - qk0)) / $(($(kvd kernel-dropped "$QUEUE_LINE") - qk1)), user-dropped $qu0 / $((qu1 - qu0)) / $(($(kvd user-dropped "$QUEUE_LINE") - qu1)); $extra"
			;;
		hashlimit)
			extra="table $(srv cat /proc/net/ipt_hashlimit/dnsany |
				wc -l) entries"
			# What neither rule counted was dropped by hashlimit
			# itself: no entry could be made for a new source.
			any_sent=$(($(kvd sent "$(cat "$RUN_DIR/flood.out")") + \
				$(kvd sent "$(cat "$RUN_DIR/abuser.out")") + \
				$(kvd sent "$(cat "$RUN_DIR/polite.out")")))
			extra+="; ANY accepted $(comment_packets bench-any-ok), over the limit $(comment_packets bench-any-drop), dropped for a full table $((any_sent - $(comment_packets bench-any-ok) - $(comment_packets bench-any-drop)))"
			;;
		recent)
			extra="table $(srv cat /proc/net/xt_recent/dnsany |
				wc -l) entries (ip_list_tot $(cat /sys/module/xt_recent/parameters/ip_list_tot 2>/dev/null || echo ?)); dropped $(comment_packets bench-any-drop)"
			;;
		esac
		snap1 "$k"
		abv[$k]=$(kvd answered "$(cat "$RUN_DIR/abuser.out")")
		pov[$k]=$(kvd answered "$(cat "$RUN_DIR/polite.out")")
		echo "   [$k] abuser: $(cat "$RUN_DIR/abuser.out")" \
			"(its queries let through: ${pav[$k]})"
		echo "     polite ANY: $(cat "$RUN_DIR/polite.out")"
		lost=0
		sent=0
		clientv[$k]=
		while read -r name _; do
			c=$(cat "$RUN_DIR/legit-$name.out")
			echo "     legit $name: $c"
			n=$(($(kvd sent "$c") - $(kvd answered "$c")))
			lost=$((lost + n))
			sent=$((sent + $(kvd sent "$c")))
			clientv[$k]+="${clientv[$k]:+, }$name $n"
			cl[$k.$name]=$n
		done < <(res_legit_clients)
		lostv[$k]=$lost
		bigv[$k]=$(ratio $((b1 - b0)) "$w" 0)
		bigyv[$k]=$(awk -v b=$((y1 - y0)) -v w="$w" 'BEGIN {
			printf "%.1f\n", b / w / 1e6 }')
		echo "     legit lost (sent - answered): $lost of $sent" \
			"(${clientv[$k]}); big answers: $((b1 - b0)) in ${w}s" \
			"(+- $(cut -d' ' -f2 <<<"${wv[$k]}")s)" \
			"= ${bigv[$k]}/s, ${bigyv[$k]} MB/s"
		echo "     flood: $(tr '\n' ' ' <"$RUN_DIR/flood.out")| $SNAP"
		[ -z "$extra" ] || echo "     $extra"
		extra="Unbound refused $(kvd rcvbuf_errors "$SNAP")${extra:+; $extra}"
		echo "     Unbound: CPU $(ratio $((un1 - un0)) 1000000000 2) s in the flood's ${secs} s"
		if has_reader "$k"; then
			extra="rule - verdicts $(kvd unfiltered "$SNAP"); $extra"
		fi
		if [ -n "$fail" ]; then
			failv[$k]="$fail; $(kvd unfiltered "$SNAP")"
			fov[$k]=$fo
		fi
		urv[$k]=$(kvd rcvbuf_errors "$SNAP")
		row "4 flood" "$k: abuser let through / answered (of 500); polite ANY answered (of 4); legit lost (of $sent)" \
			"${pav[$k]} / ${abv[$k]}; ${pov[$k]}; $lost" \
			"${clientv[$k]}; $extra"
	done
	rules_clear
	row "4 flood" "legit lost (sent - answered, of $sent): ${RES_CONFIGS// / \/ }" \
		"$(res_each lostv)" \
		"Unbound refused (full receive buffer, IPv4 + IPv6) $(res_each urv)"
	row "4 flood" "big answers (>= 1000 B) out of the resolver per s while the clients run: ${RES_CONFIGS// / \/ }" \
		"$(res_each bigv)" \
		"flood $rate pps of ANY $RES_QNAME; MB/s $(res_each bigyv)"
	# shellcheck disable=SC2086 # "W H"
	c=$(res_cap_allows "$RES_TOTAL" ${wv[dnsrl-total]})
	row "4 flood" "dnsrl-total holds the big answers to its cap: answers in the clients' window" \
		"${bign[dnsrl-total]} in $(cut -d' ' -f1 <<<"${wv[dnsrl-total]}") s (${bigv[dnsrl-total]}/s)" \
		"<= $c, the rule's total $RES_TOTAL over the window (+- the counter reads' $(cut -d' ' -f2 <<<"${wv[dnsrl-total]}") s), + 1, + the abuser's burst of 2: $(verdict "${bign[dnsrl-total]}" le "$c"); dnsrl (per-source limits only) ${bigv[dnsrl]}/s"
	for k in dnsrl dnsrl-total; do
		row "4 flood" "$k: packets / verdicts / accepted / dropped; queue kernel-dropped / user-dropped; rule - verdicts" \
			"${failv[$k]}" \
			"the daemon's ${fov[$k]:-fail-open ?}: what the kernel could not queue (kernel-dropped) was $(case ${fov[$k]:-} in *yes) echo passed unjudged ;; *) echo dropped ;; esac)"
	done
	row "4 flood" "dnsrl holds the abuser to its limit: queries let through (a counter in security INPUT, after dnsrl's chain)" "${pav[dnsrl]}" \
		"4..6: $(if [ "${pav[dnsrl]}" -ge 4 ] && [ "${pav[dnsrl]}" -le 6 ]; then echo met; else echo NOT met; fi); answered ${abv[dnsrl]} (Unbound refused ${urv[dnsrl]} queries of all); dnsrl-total ${pav[dnsrl-total]}"
	# Where dnsrl's were lost: the A client's queries never enter the
	# queue; the others wait in it, IPv4 ones then share Unbound's
	# flooded IPv4 socket, IPv6 ones do not.
	q4=$((${cl[dnsrl.ptr4]:-0} + ${cl[dnsrl.long4]:-0}))
	q6=$((${cl[dnsrl.ptr6]:-0} + ${cl[dnsrl.long6]:-0}))
	row "4 flood" "legit lost, dnsrl vs hashlimit" \
		"${lostv[dnsrl]} vs ${lostv[hashlimit]}" \
		"<= hashlimit: $(verdict "${lostv[dnsrl]}" le "${lostv[hashlimit]}"); dnsrl's: A (not queued) ${cl[dnsrl.a4]}, queued IPv4 $q4, queued IPv6 $q6, kernel-dropped while the clients ran ${kdw[dnsrl]}, Unbound refused ${urv[dnsrl]} (hashlimit ${urv[hashlimit]}); dnsrl-total ${lostv[dnsrl-total]}, none ${lostv[none]}"
}

# --- 5. The answer path ----------------------------------------------------

# The answer rule of section 5 with bytes BYTES and action ACTION (slip 2
# under truncate), appended to the configuration of section 2's dnsrl.
answer_conf() {
	local out=$1 bytes=$2 action=$3

	{
		cat "$DNSRL_CONF"
		printf '%s\n' 'answer-rule big {' '	size 1000' \
			"	bytes $bytes" "	action $action"
		[ "$action" = truncate ] && printf '\tslip 2\n'
		printf '}\n'
	} >"$out"
}

# The queue number of the answer path in the rules CONF prints.
answer_queue_of() {
	"$DNSRL" --print-rules -c "$1" | sed -n \
		's/.*-A DNSRL-OUT .*--queue-num \([0-9]*\).*/\1/p' | head -n 1
}

# Packets the NFQUEUE rules of DNSRL-OUT counted (IPv4 and IPv6).
answer_rule_packets() {
	local ipt n=0 c

	for ipt in iptables ip6tables; do
		c=$(srv "$ipt" -w -t mangle -vnxL DNSRL-OUT 2>/dev/null |
			awk '$3 == "NFQUEUE" { s += $1 } END { print s + 0 }')
		n=$((n + c))
	done
	echo "$n"
}

# dnsperf as in section 2, with EDNS (-e) and the query file with big
# answers; prints "qps=N lost=N completed=N".
ans_dnsperf() {
	local out=$RUN_DIR/dnsperf-ans.out

	gen dnsperf -s "$SRV4" -d "$RUN_DIR/queries-big.txt" -e \
		-l "$DNSPERF_SECONDS" -c 10 -q 100 -t 1 >"$out" 2>&1 || true
	awk '/Queries per second:/ { q = $4 } /Queries lost:/ { l = $3 }
		/Queries completed:/ { d = $3 }
		END { printf "qps=%.0f lost=%s completed=%s\n", q, l, d }' "$out"
}

# The server side's CPU time in ns: Unbound, the reader (all its
# threads) if any, and ksoftirqd on the server's CPU (without
# IRQ_TIME_ACCOUNTING a softirq is charged to the task it interrupts, so
# these hold the kernel's packet work done on the server's CPU).
server_cpu_ns() {
	local n

	n=$(($(cpu_ns "$UNBOUND_PID") + $(cpu_ns "$KSOFTIRQD_PID")))
	[ -n "$READER_PID" ] && n=$((n + $(cpu_ns "$READER_PID")))
	echo "$n"
}

# The last line of dnsrl PID's syslog output matching RE (after its
# final counters, those).
daemon_line() {
	grep -E "dnsrl\[$1\]: $2" "$SYSLOG_FILE" | tail -n 1 | sed 's/.*]: //'
}

# Stops the reader, then sets ANS_FINAL to its final answers line and
# ANS_RULE to its rule big line (empty without an answer path).
ans_reader_stop() {
	local pid=$READER_PID

	reader_stop
	ANS_FINAL=$(daemon_line "$pid" 'answers \(final\): ')
	ANS_RULE=$(daemon_line "$pid" 'rule big: matched=')
}

# 5a: one dnsperf run behind config K; adds to the arrays of
# section_answers_qps.
ans_phase_qps() {
	local k=$1 dp s0 s1 c0=0 c1=0 n v0 v1 sc

	config_up "$k"
	read -r _ _ _ s0 < <(queue_kstats "$AQ")
	has_reader "$k" && c0=$(cpu_ns_comm "$READER_PID" "dnsrl-a$AQ")
	v0=$(server_cpu_ns)
	dp=$(ans_dnsperf)
	v1=$(server_cpu_ns)
	sleep 0.3
	read -r _ _ _ s1 < <(queue_kstats "$AQ")
	has_reader "$k" && c1=$(cpu_ns_comm "$READER_PID" "dnsrl-a$AQ")
	n=$((s1 - s0))
	if has_reader "$k"; then
		ans_reader_stop
	fi
	sc=$(ratio $((v1 - v0)) "$(kvd completed "$dp")" 0)
	echo "   [$k] dnsperf: $dp | server CPU per query $sc ns;" \
		"answers queued $n${ANS_RULE:+; $ANS_RULE}"
	aqps[$k]+=" $(kvd qps "$dp")"
	alost[$k]+=" $(kvd lost "$dp")"
	acpq[$k]+=" $sc"
	if [ "$k" = dnsrl-a ]; then
		ajudged+=" $n"
		acpu+=" $(ratio $((c1 - c0)) "$n" 0)"
		arefused+=" $(($(kvd dropped "$ANS_RULE" | tr -- - 0) + $(kvd truncated "$ANS_RULE" | tr -- - 0)))"
	fi
	ANS_RULE=
}

section_answers_qps() {
	local rep k order r_q="" r_a="" r_d="" r_c="" q a d c
	local -A aqps alost acpq
	local ajudged='' acpu='' arefused=''

	echo "   -- 5a. resolver qps under dnsperf -e (1 query in $ANS_BIG_EVERY" \
		"for TXT big.example, ~4 KB answers), $ANS_REPEAT rounds:" \
		"none, dnsrl (query path), dnsrl-a (both paths: answer rule" \
		"size 1000, bytes $ANS_E2E_BYTES, truncate, slip 2)"
	for ((rep = 1; rep <= ANS_REPEAT; rep++)); do
		order=$ANS_QPS_CONFIGS
		if [ $((rep % 2)) = 0 ]; then
			order=$(tr ' ' '\n' <<<"$ANS_QPS_CONFIGS" | tac | tr '\n' ' ')
		fi
		echo "   -- round $rep (load average $(cut -d' ' -f1-3 /proc/loadavg))"
		for k in $order; do
			ans_phase_qps "$k"
		done
		q=$(ratio "${aqps[dnsrl]##* }" "${aqps[none]##* }" 3)
		a=$(ratio "${aqps[dnsrl-a]##* }" "${aqps[none]##* }" 3)
		r_q+=" $q"
		r_a+=" $a"
		r_d+=" $(awk -v a="$a" -v q="$q" 'BEGIN { printf "%.3f\n", a - q }')"
		r_c+=" $(awk -v a="${acpq[dnsrl-a]##* }" -v q="${acpq[dnsrl]##* }" \
			-v n="${acpq[none]##* }" 'BEGIN {
			if (n > 0) printf "%.3f\n", (a - q) / n; else print "-" }')"
	done
	rules_clear
	for k in $ANS_QPS_CONFIGS; do
		echo "   $k: qps${aqps[$k]}; lost${alost[$k]}; server CPU ns per query${acpq[$k]}"
	done
	echo "   per round vs none: dnsrl$r_q; dnsrl-a$r_a; dnsrl-a - dnsrl$r_d;" \
		"server CPU per query, (dnsrl-a - dnsrl) / none$r_c"
	echo "   dnsrl-a: answers judged${ajudged}; answer worker CPU ns per answer${acpu}; refused by the rule${arefused}"
	local mq mj mc mr
	# shellcheck disable=SC2086 # lists of numbers
	{
		q=$(median_f $r_q)
		a=$(median_f $r_a)
		d=$(median_signed $r_d)
		c=$(median_signed $r_c)
		mq="$(median ${aqps[none]}) / $(median ${aqps[dnsrl]}) / $(median ${aqps[dnsrl-a]})"
		mj=$(median $ajudged)
		mc=$(median $acpu)
		mr=$(median $arefused)
	}
	row "5 answers" "resolver qps, dnsperf -e with 1 in $ANS_BIG_EVERY queries for a ~4 KB answer: none / dnsrl / dnsrl-a" \
		"$mq" "medians of $ANS_REPEAT rounds; vs none: dnsrl $q, dnsrl-a $a"
	row "5 answers" "dnsrl-a / none - dnsrl / none (both paths against the query path alone)" \
		"$d" ">= -0.03: $(verdict "$d" ge -0.03); rounds$r_d"
	# shellcheck disable=SC2086 # lists of numbers
	row "5 answers" "server CPU per query (Unbound + dnsrl + ksoftirqd on its CPU), same runs: none / dnsrl / dnsrl-a" \
		"$(median ${acpq[none]}) / $(median ${acpq[dnsrl]}) / $(median ${acpq[dnsrl-a]}) ns" \
		"(dnsrl-a - dnsrl) / none: $c (rounds$r_c)"
	row "5 answers" "dnsrl-a: answers the answer queue judged per run; worker CPU per answer; refused" \
		"$mj; $mc ns; $mr" \
		"rounds:$ajudged; the rule's per-destination budget ($ANS_E2E_BYTES) stands for the many customers behind dnsperf's one address: the cost of judging, not of refusing"
}

# "BYTES SECONDS" of a budget B/T as the configuration writes it (k, M, G:
# powers of 1000; ms, s, m, h, d).
budget_of() {
	awk -v r="$1" 'BEGIN {
		b = r; sub(/\/.*/, "", b); t = r; sub(/^[^\/]*\//, "", t)
		m = 1; if (b ~ /k$/) m = 1e3; else if (b ~ /M$/) m = 1e6
		else if (b ~ /G$/) m = 1e9
		sub(/[kMG]$/, "", b)
		u = t; sub(/^[0-9.]+/, "", u); t += 0
		if (u == "ms") t /= 1000; else if (u == "m") t *= 60
		else if (u == "h") t *= 3600; else if (u == "d") t *= 86400
		printf "%.0f %g\n", b * m, t }'
}

# 5b: an abusing customer drawing the ~4 KB TXT answer of big.example.
# The clients of a run, "NAME SRC DST QTYPE QNAME RATE COUNT HDR" each
# (HDR: the IP and UDP headers of each answer).
ans_clients() {
	local n=$((50 * ANS_SECONDS))

	echo "abuser4 $ATTACK4 $SRV4 TXT big.example 50 $n 28"
	echo "abuser6 $ATTACK6A $SRV6 TXT big.example 50 $n 48"
	echo "small4 $CLI4 $SRV4 A www.big.example 50 $n 28"
	echo "big6 $CLI6 $SRV6 TXT big.example 1 $ANS_SECONDS 48"
}

# Client namespace counters of the UDP datagrams from port 53 to ATTACK4
# (IPv4 is reassembled before INPUT: one per answer).
ans_counter_add() {
	cli iptables -w -I INPUT -p udp --sport 53 -d "$ATTACK4" \
		-m comment --comment bench-abuser4
}

ans_counter() {
	cli iptables -w -vnxL INPUT | awk 'index($0, "/* bench-abuser4 */") {
		p += $1; b += $2 } END { print p + 0, b + 0 }'
}

section_answers_bytes() {
	local k name src dst qt qn rate count hdr p line oct full big
	local cp0 cb0 cp1 cb1 bound b4 t4 bb bt
	local -A octv ansv trv smallv bigv cntv
	local -a pids

	echo "   -- 5b. an abusing customer: TXT big.example (EDNS 4096) at 50/s" \
		"for ${ANS_SECONDS}s from $ATTACK4 and from $ATTACK6A;" \
		"meanwhile $CLI4 (A www.big.example, 50/s: small answers) and" \
		"$CLI6 (TXT big.example, 1/s: within the budget)"
	ans_counter_add
	for k in $ANS_BYTES_CONFIGS; do
		config_up "$k"
		rules_counters "$ATTACK4"
		read -r cp0 cb0 < <(ans_counter)
		pids=()
		while read -r name src dst qt qn rate count _; do
			gen "$QGEN" query --src "$src" --dst "$dst" --qtype "$qt" \
				--qname "$qn" --rate "$rate" --count "$count" \
				--edns 4096 </dev/null >"$RUN_DIR/ans-$name.out" 2>&1 &
			pids+=("$!")
			track_pid "$!"
		done < <(ans_clients)
		for p in "${pids[@]}"; do
			wait "$p" || true
			untrack_pid "$p"
		done
		read -r cp1 cb1 < <(ans_counter)
		big=$(srv iptables -w -vnxL OUTPUT | awk 'index($0, "/* bench-big-answers */") { print $1 }')
		ANS_RULE=
		if has_reader "$k"; then
			ans_reader_stop
		fi
		echo "   [$k]${ANS_RULE:+ $ANS_RULE}"
		while read -r name src dst qt qn rate count hdr; do
			line=$(cat "$RUN_DIR/ans-$name.out")
			oct=$(($(kvd bytes "$line") + $(kvd answered "$line") * hdr))
			echo "     $name: $line; octets that reached it (DNS + $hdr per answer) $oct = $(ratio "$oct" "$ANS_SECONDS" 0)/s"
			octv[$k.$name]=$(ratio "$oct" "$ANS_SECONDS" 0)
			ansv[$k.$name]=$(kvd answered "$line")
			trv[$k.$name]=$(kvd truncated "$line")
		done < <(ans_clients)
		cntv[$k]="$((cp1 - cp0)) $((cb1 - cb0))"
		echo "     $ATTACK4's INPUT counter in the client namespace: ${cntv[$k]} (datagrams octets); big answers (IPv4, >= 1000 octets) out of the resolver's OUTPUT: $big"
		smallv[$k]=$(kvd answered "$(cat "$RUN_DIR/ans-small4.out")")
		bigv[$k]=$(kvd answered "$(cat "$RUN_DIR/ans-big6.out")")
	done
	rules_clear
	# the budget's bound: the burst, the rate for the time, one answer
	full=$(awk -v o="${octv[none.abuser4]}" -v n="${ansv[none.abuser4]}" \
		-v s="$ANS_SECONDS" 'BEGIN { if (n > 0) printf "%.0f\n", o * s / n; else print 4013 }')
	read -r bb bt < <(budget_of "$ANS_BYTES")
	bound=$(awk -v s="$ANS_SECONDS" -v f="$full" -v b="$bb" -v t="$bt" 'BEGIN {
		printf "%.0f\n", (b + b / t * s + f) / s }')
	for k in $ANS_BYTES_CONFIGS; do
		row "5 answers" "$k: octets/s reaching the abuser, IPv4 / IPv6 (answers, of them truncated)" \
			"${octv[$k.abuser4]} / ${octv[$k.abuser6]} (${ansv[$k.abuser4]}, ${trv[$k.abuser4]} / ${ansv[$k.abuser6]}, ${trv[$k.abuser6]})" \
			"of $((50 * ANS_SECONDS)) each; small answers to $CLI4 ${smallv[$k]} of $((50 * ANS_SECONDS)), big to $CLI6 ${bigv[$k]} of $ANS_SECONDS; client counter (IPv4) ${cntv[$k]}"
	done
	# full answers only: what the budget holds (truncated ones are ~70)
	b4=$(awk -v a="${ansv[dnsrl-at.abuser4]}" -v t="${trv[dnsrl-at.abuser4]}" \
		-v f="$full" -v s="$ANS_SECONDS" 'BEGIN {
		printf "%.0f\n", (a - t) * f / s }')
	t4=$(ratio "${octv[dnsrl-ad.abuser4]}" "${octv[none.abuser4]}" 3)
	row "5 answers" "the answer rule holds the abuser to $ANS_BYTES: octets/s, drop; full answers' under truncate (IPv4)" \
		"${octv[dnsrl-ad.abuser4]}; $b4" \
		"<= $bound ($bb + $bb/${bt} s x ${ANS_SECONDS} s + one answer of $full, over ${ANS_SECONDS} s): $(verdict "${octv[dnsrl-ad.abuser4]}" le "$bound"), $(verdict "$b4" le "$bound"); $t4 of none; the query path alone (ANY only): $(ratio "${octv[dnsrl.abuser4]}" "${octv[none.abuser4]}" 3) of none"
}

# 5c: what an overloaded answer queue does.  The queue waiting, sampled
# every 0.25 s into FILE until the file STOP exists.
ans_sample() {
	local t0=$1 out=$2 stop=$3 w k u s

	while [ ! -e "$stop" ]; do
		read -r w k u s < <(queue_kstats "$AQ")
		echo "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {
			printf "%.2f\n", b - a }') $w $k $u $s" >>"$out"
		sleep 0.25
	done
}

# dig from SRC to DST for the big answer, once: prints "OFFSET MS" (the
# query time) or "OFFSET lost".
ans_dig() {
	local off=$1 src=$2 dst=$3 out ms

	out=$(cli dig +bufsize=4096 +tries=1 +time="$((ANS_STALL + 3))" \
		-b "$src" @"$dst" big.example TXT 2>&1 || true)
	ms=$(sed -n 's/^;; Query time: \([0-9]*\) msec.*/\1/p' <<<"$out")
	if [ -n "$ms" ] && grep -q 'ANSWER: 15,' <<<"$out"; then
		echo "$off $ms"
	else
		echo "$off lost"
	fi
}

# The send and receive buffers of Unbound's UDP socket on ADDR port 53:
# "allocated/size" of each, from ss -m (skmem t, tb; r, rb).
ans_sockbuf() {
	srv ss -u -a -m -n "sport = :53" | awk -v a="$1:53" '
		$4 == a || $4 == "[" a "]" { on = 1; next }
		on && /skmem:/ {
			match($0, /skmem:\([^)]*\)/)
			n = split(substr($0, RSTART + 7, RLENGTH - 8), f, ",")
			for (i = 1; i <= n; i++) {
				k = f[i]; sub(/[0-9]+$/, "", k)
				v = f[i]; sub(/^[a-z]+/, "", v); m[k] = v
			}
			printf "send %s/%s recv %s/%s\n", m["t"], m["tb"], m["r"], m["rb"]
			exit
		}'
}

# Lines of Unbound's log so far that say it dropped an answer it could
# not send.
unbound_blocked() {
	grep -c 'send udp blocked for long' "$RUN_DIR/unbound/unbound.log" || true
}

udp_sndbuf() {
	echo $(($(snmp_counter UdpSndbufErrors) + $(snmp_counter Udp6SndbufErrors)))
}

# Summarises dig results "OFFSET MS|lost" from FILE between offsets A and
# B (A <= offset < B): "answered/sent, ms ..." .
ans_digs_in() {
	awk -v a="$2" -v b="$3" '$1 >= a && $1 < b {
		n++; if ($2 != "lost") { k++; ms = ms " " $2 } }
		END { printf "%d/%d,%s\n", k, n, (ms == "" ? " -" : ms) }' "$1"
}

section_answers_overload() {
	local k=dnsrl-at fl sp secs k0 u0 s0 k1 u1 s1 r0 r1 rb0 rb1 f
	local maxw stop t0 i tstop tcont sb0 sb1 bl0 bl1 sock
	local s4 s6 d4 d6 st
	local -a pids

	echo "   -- 5c. the answer queue under load: TXT big.example from" \
		"100000 spoofed sources in $FLOOD4_NET (each within its budget)," \
		"dnsrl-at's rules (fail-open no, queue-maxlen 4096)"
	# pushed: a rate beyond what Unbound answers
	config_up "$k"
	read -r _ k0 u0 s0 < <(queue_kstats "$AQ")
	r0=$(answer_rule_packets)
	rb0=$(udp_rcvbuf)
	stop=$RUN_DIR/sample.stop
	rm -f "$stop" "$RUN_DIR/sample.push"
	ans_sample "$(date +%s.%N)" "$RUN_DIR/sample.push" "$stop" &
	sp=$!
	track_pid "$sp"
	f=$(gen "$QGEN" flood --dst "$SRV4" --src-net "$FLOOD4_NET" \
		--sources 100000 --rate "$ANS_FLOOD_RATE" --duration 4 \
		--qtype TXT --qname big.example 2>&1 | tr '\n' ' ')
	sleep 0.5
	touch "$stop"
	wait "$sp" || true
	untrack_pid "$sp"
	read -r _ k1 u1 s1 < <(queue_kstats "$AQ")
	r1=$(answer_rule_packets)
	rb1=$(udp_rcvbuf)
	maxw=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$RUN_DIR/sample.push")
	ans_reader_stop
	echo "   [pushed] flood $ANS_FLOOD_RATE pps for 4 s: $f| big answers" \
		"to the queue $((r1 - r0)) ($(ratio $((r1 - r0)) 4 0)/s);" \
		"queued $((s1 - s0)), kernel-dropped $((k1 - k0)), user-dropped" \
		"$((u1 - u0)); most waiting (sampled every 0.25 s) $maxw;" \
		"Unbound refused $((rb1 - rb0)) queries (receive buffer full)"
	echo "     $ANS_FINAL"
	row "5 answers" "answer queue, flood of TXT big.example at $ANS_FLOOD_RATE pps for 4 s: big answers/s judged; most waiting; kernel- / user-dropped" \
		"$(ratio $((s1 - s0)) 4 0)/s; $maxw; $((k1 - k0)) / $((u1 - u0))" \
		"Unbound (1 thread, same CPU) refused $((rb1 - rb0)) of $(kvd sent "$f") queries: the resolver saturates before the answer worker"

	# stalled: the daemon stopped for ANS_STALL s under a flood that
	# Unbound answers whole
	secs=$((ANS_STALL + 5))
	config_up "$k"
	read -r _ k0 u0 s0 < <(queue_kstats "$AQ")
	r0=$(answer_rule_packets)
	rb0=$(udp_rcvbuf)
	sb0=$(udp_sndbuf)
	bl0=$(unbound_blocked)
	rm -f "$stop" "$RUN_DIR/sample.stall" "$RUN_DIR/digs4" "$RUN_DIR/digs6"
	t0=$(date +%s.%N)
	ans_sample "$t0" "$RUN_DIR/sample.stall" "$stop" &
	sp=$!
	track_pid "$sp"
	gen "$QGEN" flood --dst "$SRV4" --src-net "$FLOOD4_NET" \
		--sources 100000 --rate "$ANS_STALL_RATE" --duration "$secs" \
		--qtype TXT --qname big.example >"$RUN_DIR/flood.out" 2>&1 &
	fl=$!
	track_pid "$fl"
	pids=()
	for ((i = 0; i < 2 * secs; i++)); do
		if [ "$i" = 4 ]; then
			kill -STOP "$READER_PID"
			tstop=$(date +%s.%N)
			# small answers while it is stopped, on the socket
			# the flood fills (IPv4) and on the other (IPv6)
			gen "$QGEN" query --src "$CLI4" --dst "$SRV4" --qtype A \
				--qname www.big.example --rate 50 \
				--count $((50 * ANS_STALL)) >"$RUN_DIR/small4.out" 2>&1 &
			pids+=("$!")
			track_pid "$!"
			gen "$QGEN" query --src "$CLI6" --dst "$SRV6" --qtype AAAA \
				--qname www.big.example --rate 50 \
				--count $((50 * ANS_STALL)) >"$RUN_DIR/small6.out" 2>&1 &
			pids+=("$!")
			track_pid "$!"
		fi
		if [ "$i" = 6 ]; then
			sock=$(ans_sockbuf "$SRV4")
		fi
		if [ "$i" = $((4 + 2 * ANS_STALL)) ]; then
			kill -CONT "$READER_PID"
			tcont=$(date +%s.%N)
		fi
		st=$(awk -v i="$i" 'BEGIN { printf "%.1f\n", i / 2 }')
		ans_dig "$st" "$CLI4" "$SRV4" >>"$RUN_DIR/digs4" &
		pids+=("$!")
		track_pid "$!"
		ans_dig "$st" "$CLI6" "$SRV6" >>"$RUN_DIR/digs6" &
		pids+=("$!")
		track_pid "$!"
		sleep 0.5
	done
	for i in "${pids[@]}" "$fl"; do
		wait "$i" || true
		untrack_pid "$i"
	done
	touch "$stop"
	wait "$sp" || true
	untrack_pid "$sp"
	read -r _ k1 u1 s1 < <(queue_kstats "$AQ")
	r1=$(answer_rule_packets)
	rb1=$(udp_rcvbuf)
	sb1=$(udp_sndbuf)
	bl1=$(unbound_blocked)
	ans_reader_stop
	maxw=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$RUN_DIR/sample.stall")
	echo "   [stalled] flood $ANS_STALL_RATE pps for ${secs}s, the daemon" \
		"stopped (SIGSTOP) from 2 s to $((2 + ANS_STALL)) s" \
		"($(awk -v a="$tstop" -v b="$tcont" 'BEGIN { printf "%.2f\n", b - a }') s):" \
		"$(tr '\n' ' ' <"$RUN_DIR/flood.out")| big answers to the queue" \
		"$((r1 - r0)), queued $((s1 - s0)), kernel-dropped $((k1 - k0))," \
		"user-dropped $((u1 - u0)); Unbound: send buffer errors" \
		"$((sb1 - sb0)), 'send udp blocked for long, dropping packet'" \
		"$((bl1 - bl0)) times, queries refused (receive buffer full)" \
		"$((rb1 - rb0)); its IPv4 socket 1 s into the stop: $sock"
	echo "     $ANS_FINAL"
	echo "     the queue (s since the flood's start, waiting, kernel-dropped, user-dropped, id sequence):"
	awk '{ printf "%s%s", (NR % 4 == 1 ? "       " : "; "), $1 " " $2 " " $3 " " $4 " " $5 } NR % 4 == 0 { print "" } END { if (NR % 4) print "" }' "$RUN_DIR/sample.stall"
	for i in 4 6; do
		sort -g "$RUN_DIR/digs$i" >"$RUN_DIR/digs$i.sorted"
		echo "     dig TXT big.example over IPv$i every 0.5 s (s: ms or lost):" \
			"$(awk '{ printf "%s%s:%s", (NR > 1 ? ", " : ""), $1, $2 }' "$RUN_DIR/digs$i.sorted")"
	done
	s4=$(cat "$RUN_DIR/small4.out")
	s6=$(cat "$RUN_DIR/small6.out")
	echo "     small answers while stopped: IPv4 $s4; IPv6 $s6"
	d4=$(ans_digs_in "$RUN_DIR/digs4.sorted" 2 $((2 + ANS_STALL)))
	d6=$(ans_digs_in "$RUN_DIR/digs6.sorted" 2 $((2 + ANS_STALL)))
	row "5 answers" "daemon stopped ${ANS_STALL} s under $ANS_STALL_RATE pps of big answers (IPv4): most waiting in the queue; kernel- / user-dropped; Unbound's send blocked (log lines, SndbufErrors); queries it refused" \
		"$maxw; $((k1 - k0)) / $((u1 - u0)); $((bl1 - bl0)), $((sb1 - sb0)); $((rb1 - rb0))" \
		"queue-maxlen 4096 never reached: the answers waiting hold Unbound's socket send buffer ($sock 1 s in), which fills first (the queue sampled every 0.25 s)"
	row "5 answers" "while stopped: small answers IPv4 (the flooded socket) / IPv6; dig big answer IPv4 / IPv6 answered/sent, query times (ms)" \
		"$(kvd answered "$s4")/$(kvd sent "$s4") / $(kvd answered "$s6")/$(kvd sent "$s6"); ${d4%%,*} / ${d6%%,*}; IPv4${d4#*,}; IPv6${d6#*,}" \
		"before and after the stop: IPv4 $(ans_digs_in "$RUN_DIR/digs4.sorted" 0 2 | cut -d, -f1) + $(ans_digs_in "$RUN_DIR/digs4.sorted" $((2 + ANS_STALL)) 99 | cut -d, -f1), IPv6 $(ans_digs_in "$RUN_DIR/digs6.sorted" 0 2 | cut -d, -f1) + $(ans_digs_in "$RUN_DIR/digs6.sorted" $((2 + ANS_STALL)) 99 | cut -d, -f1); what waits is answered in order when the daemon runs again"
}

section_answers() {
	echo "== 5. the answer path (Unbound and dnsrl on CPU $SRV_CPU," \
		"clients on CPU $GEN_CPU)"
	AQ=$(answer_queue_of "$DNSRL_ANS_TRUNC_CONF")
	KSOFTIRQD_PID=$(pgrep -x "ksoftirqd/$SRV_CPU" | head -n 1)
	echo "   answer queue $AQ; answer rules: $ANS_BYTES (drop, truncate" \
		"slip 2) and, for 5a, $ANS_E2E_BYTES (truncate, slip 2), size 1000"
	section_answers_qps
	section_answers_bytes
	section_answers_overload
}

# --- 6. Kernel holds --------------------------------------------------------

# The configurations of section 6: no rule; dnsrl with the shipped rule
# and `kernel-hold no` (holds kept in the daemon: a held source's queries
# still reach the queue, to be dropped there); dnsrl as shipped, kernel
# holds on (section 2's dnsrl: a held source's queries of the rule's
# types dropped before the queue).
HOLD_CONFIGS="none dnsrl-nokh dnsrl"

# The queue's id sequence and the entries of the IPv4 hold set, sampled
# about once a second into FILE ("SECONDS ID-SEQUENCE ENTRIES", SECONDS
# since T0) until the file STOP exists, at most HOLD_SECONDS + 15 times.
hold_sample() {
	local t0=$1 out=$2 stop=$3 i

	for ((i = 0; i < HOLD_SECONDS + 15; i++)); do
		[ -e "$stop" ] && break
		# shellcheck disable=SC2016 # a script for the namespace's shell
		srv sh -c 'awk "\$1 == 0 { s = \$8 } END { printf \"%d \", s }" \
				/proc/net/netfilter/nfnetlink_queue
			ipset list -t "$1" 2>/dev/null |
				awk "/^Number of entries:/ { n = \$4 }
					END { print n + 0 }"' sh "$HOLD_SET" |
			awk -v a="$t0" -v b="$(date +%s.%N)" '{
				printf "%.2f %s %s\n", b - a, $1, $2 }' >>"$out"
		sleep 1
	done
}

# dnsperf as in section 2 for SECONDS; prints "qps=N lost=N completed=N".
hold_dnsperf() {
	local out=$RUN_DIR/dnsperf-hold.out

	gen dnsperf -s "$SRV4" -d "$RUN_DIR/queries.txt" -l "$1" \
		-c 10 -q 100 -t 1 >"$out" 2>&1 || true
	awk '/Queries per second:/ { q = $4 } /Queries lost:/ { l = $3 }
		/Queries completed:/ { d = $3 }
		END { printf "qps=%.0f lost=%s completed=%s\n", q, l, d }' "$out"
}

# One run of config K in round REP: the flood of HOLD_SECONDS, and from
# HOLD_SETTLE s on, for HOLD_WINDOW s, dnsperf and the measured window.
# Adds to the arrays of section_holds.
hold_phase() {
	local k=$1 rep=$2 fl dp sp stop smp t0 t1 h0 h1 b0 b1 bend y
	local q0=0 q1=0 c0=0 c1=0 d0=0 d1=0 w dq line first all prof kh
	local u0 u1 s0 s1 g0 g1

	config_up "$k"
	rules_counters "$ATTACK4"
	stop=$RUN_DIR/hold.stop
	smp=$RUN_DIR/hold.$k.$rep
	rm -f "$stop" "$smp"
	hold_sample "$(date +%s.%N)" "$smp" "$stop" &
	sp=$!
	track_pid "$sp"
	gen "$QGEN" flood --dst "$SRV4" --src-net "$FLOOD4_NET" \
		--sources "$HOLD_SOURCES" --rate "$HOLD_RATE" \
		--duration "$HOLD_SECONDS" --qtype ANY --qname big.example \
		>"$RUN_DIR/flood.out" 2>&1 &
	fl=$!
	track_pid "$fl"
	sleep "$HOLD_SETTLE"
	read -r _ _ _ q0 < <(queue_kstats 0)
	if has_reader "$k"; then
		c0=$(cpu_ticks "$READER_PID")
		d0=$(dnsrl_chain_packets DROP)
	fi
	u0=$(cpu_ns "$UNBOUND_PID")
	s0=$(cpu_stat "$SRV_CPU")
	g0=$(cpu_stat "$GEN_CPU")
	read -r t0 h0 b0 _ < <(big_answers)
	hold_dnsperf "$HOLD_WINDOW" >"$RUN_DIR/hold-dp.out" &
	dp=$!
	track_pid "$dp"
	sleep "$HOLD_WINDOW"
	read -r t1 h1 b1 _ < <(big_answers)
	u1=$(cpu_ns "$UNBOUND_PID")
	s1=$(cpu_stat "$SRV_CPU")
	g1=$(cpu_stat "$GEN_CPU")
	read -r _ _ _ q1 < <(queue_kstats 0)
	if has_reader "$k"; then
		c1=$(cpu_ticks "$READER_PID")
		d1=$(dnsrl_chain_packets DROP)
	fi
	for y in "$dp" "$fl"; do
		wait "$y" || true
		untrack_pid "$y"
	done
	touch "$stop"
	wait "$sp" || true
	untrack_pid "$sp"
	read -r _ _ bend _ < <(big_answers)
	w=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }')
	line=$(cat "$RUN_DIR/hold-dp.out")
	kh=
	if has_reader "$k"; then
		dnsrl_usr1 any-abuse
		kh=$(grep -m1 -E ': kernel holds \(SIGUSR1\): ' <<<"$STATS_CHUNK" |
			sed 's/.*]: //' || true)
		echo "   [$k] ${STATS_LINE#*]: }"
		echo "     ${QUEUE_LINE#*]: }"
		echo "     $(dnsrl_rule_stats any-abuse | sed 's/.*]: //')"
		[ -z "$kh" ] || echo "     $kh"
		reader_stop
	else
		echo "   [$k]"
	fi
	dq=$((q1 - q0))
	echo "     flood: $(tr '\n' ' ' <"$RUN_DIR/flood.out")| window" \
		"${HOLD_SETTLE}..$((HOLD_SETTLE + HOLD_WINDOW)) s ($w s, the" \
		"counter reads +- $(awk -v a="$h0" -v b="$h1" 'BEGIN {
			printf "%.3f\n", a + b }') s): queued $dq," \
		"dropped by the hold rule $((d1 - d0)), daemon CPU" \
		"$((c1 - c0)) ticks; big answers $((b1 - b0)) (in the whole" \
		"flood $bend); dnsperf $line"
	# when the set got its first entry, and all HOLD_SOURCES
	first=$(awk '$3 > 0 { print $1; exit }' "$smp")
	all=$(awk -v n="$HOLD_SOURCES" '$3 >= n { print $1; exit }' "$smp")
	# packets queued per second, from one sample to the next
	prof=$(awk 'NR > 1 && $1 > t { printf "%s%.0f", (NR > 2 ? " " : ""),
		($2 - s) / ($1 - t) } { t = $1; s = $2 }' "$smp")
	echo "     queued per s, each second of the flood: $prof"
	echo "     in the window: Unbound CPU $(ratio $(((u1 - u0) / 1000000)) "$w" 0)" \
		"ms/s; machine-wide busy / idle / steal, CPU $SRV_CPU (server)" \
		"$(hold_cpu_pct "$s0" "$s1") %, CPU $GEN_CPU (generators)" \
		"$(hold_cpu_pct "$g0" "$g1") %"
	if [ "$k" = dnsrl ]; then
		echo "     the hold set's first entry at ${first:--} s, all" \
			"$HOLD_SOURCES sources at ${all:--} s (sampled about" \
			"once a second)"
	fi
	hwin[$k]+=" $w"
	hq[$k]+=" $dq"
	hqr[$k]+=" $(ratio "$dq" "$w" 1)"
	hcpu[$k]+=" $(awk -v c=$((c1 - c0)) -v hz="$HZ_TICKS" -v w="$w" \
		'BEGIN { printf "%.1f\n", c * 1000 / hz / w }')"
	hdrop[$k]+=" $(ratio $((d1 - d0)) "$w" 0)"
	hbig[$k]+=" $(ratio $((b1 - b0)) "$w" 1)"
	hbigall[$k]+=" $bend"
	hqps[$k]+=" $(kvd qps "$line")"
	hucpu[$k]+=" $(ratio $(((u1 - u0) / 1000000)) "$w" 0)"
	# dnsperf's answers per second of Unbound's CPU: its qps freed of
	# the share of the server's CPU Unbound got (other work on the
	# machine takes a varying part)
	hqpc[$k]+=" $(awk -v a="$(kvd completed "$line")" -v u=$((u1 - u0)) \
		'BEGIN { if (a ~ /^[0-9]+$/ && u > 0) printf "%.0f\n", a / (u / 1e9)
			else print "-" }')"
	hlost[$k]+=" $(kvd lost "$line")"
	if [ "$k" = dnsrl ]; then
		hfirst+=" ${first:--}"
		hall+=" ${all:--}"
		hkh+=" $(kvd added "$kh")/$(kvd dropped "$kh")"
	fi
}

# "BUSY / IDLE / STEAL" percentages between two cpu_stat readings.
hold_cpu_pct() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		t = (y[1] - x[1]) + (y[2] - x[2]) + (y[3] - x[3])
		if (t <= 0) { print "-"; exit }
		printf "%.0f / %.0f / %.0f\n", (y[1] - x[1]) * 100 / t,
			(y[2] - x[2]) * 100 / t, (y[3] - x[3]) * 100 / t }'
}

# (b) / (c) packets queued per second, from their counts and windows;
# (c)'s count taken as at least 1, so that no packet in the window gives
# a bound ("> N") rather than a division by zero.
hold_pk_ratio() {
	awk -v qb="$1" -v wb="$2" -v qc="$3" -v wc="$4" 'BEGIN {
		if (qb !~ /^[0-9]+$/ || qc !~ /^[0-9]+$/ || wb <= 0 || wc <= 0) {
			print "-"; exit }
		r = (qb / wb) / ((qc > 0 ? qc : 1) / wc)
		printf "%s%.1f\n", (qc > 0 ? "" : ">"), r }'
}

section_holds() {
	local rep k order r_pk='' r_qn='' r_qk='' r_c='' pk qn qkr c late
	local -A hwin hq hqr hcpu hdrop hbig hbigall hqps hlost hucpu hqpc
	local hfirst='' hall='' hkh=''

	HZ_TICKS=$(getconf CLK_TCK)
	HOLD_WINDOW=$((HOLD_SECONDS - HOLD_SETTLE - 2))
	HOLD_SET=$("$DNSRL" --print-rules -c "$DNSRL_CONF" |
		sed -n 's/.*--match-set \([^ ]*-4\) src.*/\1/p' | head -n 1)
	echo "== 6. kernel holds: ANY big.example from $HOLD_SOURCES spoofed" \
		"sources in $FLOOD4_NET at $HOLD_RATE pps for ${HOLD_SECONDS}s" \
		"(each source every $(awk -v n="$HOLD_SOURCES" -v r="$HOLD_RATE" \
		'BEGIN { printf "%.2f\n", n / r }') s); from ${HOLD_SETTLE}s," \
		"for ${HOLD_WINDOW}s, dnsperf as in section 2 and the measured" \
		"window; $HOLD_REPEAT rounds"
	if [ "$HOLD_WINDOW" -lt 3 ]; then
		_err "HOLD_SECONDS $HOLD_SECONDS leaves no window after HOLD_SETTLE $HOLD_SETTLE"
		return 1
	fi
	if [ -z "$HOLD_SET" ] ||
		"$DNSRL" --print-rules -c "$DNSRL_NOKH_CONF" | grep -q -- '--match-set '; then
		_err "section 6 needs the rule to hold in the kernel as shipped and not with kernel-hold no: $("$DNSRL" -t -v -c "$DNSRL_CONF" | tail -n 4)"
		return 1
	fi
	echo "   configurations: none (no rule); dnsrl-nokh (the rule with" \
		"kernel-hold no); dnsrl (as shipped: kernel holds in $HOLD_SET" \
		"and its -6)"
	for ((rep = 1; rep <= HOLD_REPEAT; rep++)); do
		order=$HOLD_CONFIGS
		if [ $((rep % 2)) = 0 ]; then
			order=$(tr ' ' '\n' <<<"$HOLD_CONFIGS" | tac | tr '\n' ' ')
		fi
		echo "   -- round $rep (load average $(cut -d' ' -f1-3 /proc/loadavg))"
		for k in $order; do
			hold_phase "$k" "$rep"
		done
		r_pk+=" $(hold_pk_ratio "${hq[dnsrl-nokh]##* }" \
			"${hwin[dnsrl-nokh]##* }" "${hq[dnsrl]##* }" \
			"${hwin[dnsrl]##* }")"
		r_qn+=" $(ratio "${hqps[dnsrl-nokh]##* }" "${hqps[none]##* }" 3)"
		r_qk+=" $(ratio "${hqps[dnsrl]##* }" "${hqps[none]##* }" 3)"
		r_c+=" $(ratio "${hcpu[dnsrl-nokh]##* }" "${hcpu[dnsrl]##* }" 1)"
	done
	rules_clear
	for k in $HOLD_CONFIGS; do
		echo "   $k: queued per s${hqr[$k]}; daemon CPU ms per s${hcpu[$k]};" \
			"dropped by the hold rule per s${hdrop[$k]}; big answers per" \
			"s${hbig[$k]}, in the whole flood${hbigall[$k]}; dnsperf" \
			"qps${hqps[$k]}, lost${hlost[$k]}; Unbound CPU ms per" \
			"s${hucpu[$k]}; dnsperf answers per Unbound CPU s${hqpc[$k]}"
	done
	echo "   per round: packets queued per s, kernel-hold no / kernel" \
		"holds$r_pk; daemon CPU, the same$r_c; qps vs none:" \
		"dnsrl-nokh$r_qn, dnsrl$r_qk"
	echo "   dnsrl: the hold set's first entry at$hfirst s, all" \
		"$HOLD_SOURCES at$hall s; kernel holds added/dropped$hkh"

	local -A mq mc md mb mp mu mqc
	# shellcheck disable=SC2086 # lists of numbers
	{
		for k in $HOLD_CONFIGS; do
			mq[$k]=$(median_d 1 ${hqr[$k]})
			mc[$k]=$(median_d 1 ${hcpu[$k]})
			md[$k]=$(median ${hdrop[$k]})
			mb[$k]=$(median_d 1 ${hbig[$k]})
			mp[$k]=$(median ${hqps[$k]})
			mu[$k]=$(median ${hucpu[$k]})
			mqc[$k]=$(median ${hqpc[$k]})
		done
		qn=$(median_f $r_qn)
		qkr=$(median_f $r_qk)
		c=$(median_d 1 $r_c)
	}
	# the median of the ratios, bounds (">N") taken at N: a bound
	# stays a bound
	# shellcheck disable=SC2086 # a list of numbers
	pk=$(printf '%s\n' $r_pk | tr -d '>' | sort -g | awk '
		{ v[NR] = $1 } END {
			if (NR == 0) { print "-"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.1f\n", m }')
	[[ $r_pk == *">"* ]] && pk=">$pk"
	late=$(awk -v s="$HOLD_SETTLE" '{ for (i = 1; i <= NF; i++)
		if ($i == "-" || $i + 0 > s) n++ } END { print n + 0 }' <<<"$hall")
	row "6 holds" "offered: ANY big.example from $HOLD_SOURCES spoofed sources, $HOLD_RATE pps for $HOLD_SECONDS s; dnsperf (section 2's queries) from $CLI4" \
		"window ${HOLD_SETTLE}..$((HOLD_SETTLE + HOLD_WINDOW)) s" \
		"medians of $HOLD_REPEAT rounds; the shipped rule ($(mission_rule | awk '$1 == "limit" || $1 == "hold-down" || $1 == "total" {
			printf "%s%s %s", (n++ ? ", " : ""), $1, $2 }')); kernel holds: every source in the set at$hall s ($late rounds of $HOLD_REPEAT after the window began)"
	row "6 holds" "packets reaching the queue per s in the window: none / kernel-hold no / kernel holds" \
		"${mq[none]} / ${mq[dnsrl-nokh]} / ${mq[dnsrl]}" \
		"queue 0's id sequence; dropped in the kernel by the hold rule per s: ${md[dnsrl]}"
	row "6 holds" "kernel-hold no / kernel holds, packets to userspace" "$pk" \
		">= 20: $(verdict "${pk#>}" ge 20); rounds$r_pk (> : no packet queued with kernel holds, the bound taken as 1 packet)"
	row "6 holds" "daemon CPU per s (utime + stime): kernel-hold no / kernel holds" \
		"${mc[dnsrl-nokh]} / ${mc[dnsrl]} ms/s" \
		"ratio $c (rounds$r_c); ${HZ_TICKS} ticks a second"
	row "6 holds" "legit qps (dnsperf): none / kernel-hold no / kernel holds" \
		"${mp[none]} / ${mp[dnsrl-nokh]} / ${mp[dnsrl]}" \
		"vs none: kernel-hold no $qn (rounds$r_qn), kernel holds $qkr (rounds$r_qk)"
	row "6 holds" "the same per s of Unbound's CPU (dnsperf's answers / Unbound's CPU time): none / kernel-hold no / kernel holds" \
		"${mqc[none]} / ${mqc[dnsrl-nokh]} / ${mqc[dnsrl]}" \
		"Unbound's CPU ms/s ${mu[none]} / ${mu[dnsrl-nokh]} / ${mu[dnsrl]}: its share of the server CPU varies with the machine's other load, the qps with it; vs none: kernel-hold no $(ratio "${mqc[dnsrl-nokh]}" "${mqc[none]}"), kernel holds $(ratio "${mqc[dnsrl]}" "${mqc[none]}")"
	row "6 holds" "big answers (>= 1000 B) out of the resolver per s in the window: none / kernel-hold no / kernel holds" \
		"${mb[none]} / ${mb[dnsrl-nokh]} / ${mb[dnsrl]}" \
		"in the whole flood (of $((HOLD_RATE * HOLD_SECONDS)) ANY):${hbigall[none]} /${hbigall[dnsrl-nokh]} /${hbigall[dnsrl]}; kernel holds added/dropped$hkh"
}

# --- Run ---------------------------------------------------------------------

# Runs a section function and notes how long it took.
TIMES=
timed() {
	local s=$SECONDS

	"$@"
	TIMES+="${TIMES:+, }${1#section_} $((SECONDS - s)) s"
}

_run_dir
t0=$(date +%s)
if section_on 1; then
	timed section_decide
fi
if section_on 2 || section_on 3 || section_on 4 || section_on 5 ||
	section_on 6; then
	ns_setup
	unbound_start
	syslog_start
	taskset -a -p -c "$SRV_CPU" "$UNBOUND_PID" >/dev/null
	dnsperf_queries >"$RUN_DIR/queries.txt"
	DNSRL_CONF=$RUN_DIR/dnsrl.conf
	{
		printf '%s\n' 'queue 0' "table-size $TABLE_SIZE" \
			'stats-interval 0' 'syslog-facility daemon'
		mission_rule
	} >"$DNSRL_CONF"
	# the same with the cap over all sources RES_TOTAL, for the flood
	# section (in place of the shipped rule's own total, if it has one)
	DNSRL_TOTAL_CONF=$RUN_DIR/dnsrl-total.conf
	sed -E -e '/^[[:space:]]*total[[:space:]]/d' \
		-e "s|^}\$|	total $RES_TOTAL\n}|" "$DNSRL_CONF" >"$DNSRL_TOTAL_CONF"
	# and with answer rules, for section 5
	DNSRL_ANS_E2E_CONF=$RUN_DIR/dnsrl-ans-e2e.conf
	DNSRL_ANS_DROP_CONF=$RUN_DIR/dnsrl-ans-drop.conf
	DNSRL_ANS_TRUNC_CONF=$RUN_DIR/dnsrl-ans-trunc.conf
	answer_conf "$DNSRL_ANS_E2E_CONF" "$ANS_E2E_BYTES" truncate
	answer_conf "$DNSRL_ANS_DROP_CONF" "$ANS_BYTES" drop
	answer_conf "$DNSRL_ANS_TRUNC_CONF" "$ANS_BYTES" truncate
	dnsperf_queries_big "$ANS_BIG_EVERY" >"$RUN_DIR/queries-big.txt"
	# and with its holds kept in the daemon, for section 6
	DNSRL_NOKH_CONF=$RUN_DIR/dnsrl-nokh.conf
	sed -E "s|^}\$|	kernel-hold no\n}|" "$DNSRL_CONF" >"$DNSRL_NOKH_CONF"
	echo "   dnsrl's rule (conf/dnsrl.conf): $(mission_rule | tr -s '\t\n' '  ')"
	if section_on 2; then
		timed section_e2e
	elif section_on 3 || section_on 4; then
		timed probe_rate
	fi
	if section_on 3; then
		timed section_memory
	fi
	if section_on 4; then
		timed section_resilience
	fi
	if section_on 5; then
		timed section_answers
	fi
	if section_on 6; then
		timed section_holds
	fi
fi

echo
echo "== summary ($(machine); $(($(date +%s) - t0)) s: $TIMES)"
echo
echo "| section | measurement | value | target / note |"
echo "| --- | --- | --- | --- |"
printf '%s\n' "${ROWS[@]}"
