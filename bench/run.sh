#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run.sh: the benchmark of `make bench`.  Four sections, each printing its
# raw numbers as it goes, then one summary table (markdown):
#
#   1. decision cost in process: bench/decide, ns per packet (its own
#      timing) and instructions per decision (callgrind, Ir of run_mix()
#      over its 6 passes / (6 x packets));
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
#      the kernel's queue drops, rule counter - verdicts).
#
# Run as root (namespaces, iptables, raw sockets), after building:
#
#	make bench                    # deps, build, this script
#	sudo B=build bench/run.sh     # this script alone
#
# Settings (environment; defaults in brackets):
#	BENCH_SECTIONS   sections to run ["1 2 3 4"]
#	DECIDE_PACKETS   packets of a timed decide run [1000000]
#	CG_PACKETS       packets of a decide run under callgrind [100000]
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

BENCH_SECTIONS=${BENCH_SECTIONS:-1 2 3 4}
DECIDE_PACKETS=${DECIDE_PACKETS:-1000000}
CG_PACKETS=${CG_PACKETS:-100000}
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

for f in "$DNSRL" "$QGEN" "$LOGSINK" "$NFQ_ACCEPT" "$DECIDE"; do
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
	"MEM_SOURCES=$MEM_SOURCES RES_SOURCES=$RES_SOURCES"
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
	esac
}

has_reader() {
	case $1 in
	bare | dnsrl | dnsrl-q | dnsrl-total) return 0 ;;
	esac
	return 1
}

# Packets the NFQUEUE rule(s) of KIND counted.
queue_rule_packets() {
	case $1 in
	bare | dnsrl-q) rule_packets ;;
	dnsrl | dnsrl-total) dnsrl_rule_packets ;;
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

# --- Run ---------------------------------------------------------------------

_run_dir
t0=$(date +%s)
if section_on 1; then
	section_decide
fi
if section_on 2 || section_on 3 || section_on 4; then
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
	# the same with a cap over all sources, for the flood section
	DNSRL_TOTAL_CONF=$RUN_DIR/dnsrl-total.conf
	sed "s|^}\$|	total $RES_TOTAL\n}|" "$DNSRL_CONF" >"$DNSRL_TOTAL_CONF"
	echo "   dnsrl's rule (conf/dnsrl.conf): $(mission_rule | tr -s '\t\n' '  ')"
	if section_on 2; then
		section_e2e
	else
		probe_rate
	fi
	if section_on 3; then
		section_memory
	fi
	if section_on 4; then
		section_resilience
	fi
fi

echo
echo "== summary ($(machine); $(($(date +%s) - t0)) s)"
echo
echo "| section | measurement | value | target / note |"
echo "| --- | --- | --- | --- |"
printf '%s\n' "${ROWS[@]}"
