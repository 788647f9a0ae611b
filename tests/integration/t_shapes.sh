#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# serial
#
# t_shapes.sh: every packet shape the resolvers answer big is held by
# dnsrl.  The oracle is outside dnsrl: the real kernel and two real
# resolvers (Unbound, and BIND 9 from lib-resolvers.sh) decide which shapes
# of an ANY big.example query draw a big answer, and the client counts
# what comes back on the wire (tests/tools/shapes: whole frames sent and
# captured on the client's veth, every shape and resolver from a source
# of its own: a /32 in 198.18.0.0/15, a /56 in 2001:db8:100::/40).
#
# a. Control, without dnsrl (no NFQUEUE rule): each shape $PROBES times
#    to each resolver, one shape after the other, with the server's IP
#    stack counters read around each shape: which shapes each resolver
#    answers big, and what the kernel does with the others (dropped, and
#    by which counter, or answered small).
# b. With dnsrl (the rules --print-rules prints for the mission policy,
#    ANY 2/5s per /32 and /56, and the daemon): each shape $RATE times a
#    second for $SECS s to each resolver, all shapes at once.  For every
#    shape a resolver answered big in (a), at most 2 + 2/5 x D big
#    answers may come back, D the seconds from the first query sent to
#    the last, rounded up (6 for the default 10 s).
# c. The IPv6 fragment shapes again, with conntrack (so nf_defrag_ipv6)
#    active in the server namespace: its reassembly comes before the
#    INPUT hook, so the queue sees whole datagrams.  Control (the dnsrl
#    rules removed) and with dnsrl, as in (a) and (b), on fresh sources.
#
# Harness checks (each can fail): the capture lost nothing, no answer came
# from an unexpected address, every frame sent reached the server's
# interface, plain queries are answered big by both resolvers without
# dnsrl and limited with it, and (c) really reassembles before the stack.
# A shape that passes dnsrl big fails with its numbers in the table.
#
# Alone: B=build tests/integration/t_shapes.sh
# SHAPES_SECONDS (default 10) and SHAPES_RATE (default 5) set (b) and (c).
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib-resolvers.sh
. "$(dirname "$0")/lib-resolvers.sh"

SHAPES=$BUILD/tools/shapes
PROBES=3
RATE=${SHAPES_RATE:-5}
SECS=${SHAPES_SECONDS:-10}
BIG=1000
# The most big answers a shape may draw in a measurement, per phase: the
# mission policy's 2 at once, then 2 every 5 s.
declare -A LIMIT
FRAG6='frag_*'

# Per shape/family/resolver, from each phase's output.
declare -A CTL_BIG CTL_SENT CTL_BYTES CTL_ANS CTL_LARGEST CTL_RCODE CTL_ICMP \
	CTL_KERNEL RUN_BIG RUN_SENT RUN_BYTES
SHAPE_KEYS=()
TARGETS=()
SRV_MAC=
T0=$SECONDS

# A heading, with the seconds since the start.
say() {
	echo "== [$((SECONDS - T0)) s] $*"
}

# Runs the tool in the client namespace: MODE SLOT, then its options.
shapes_tool() {
	local mode=$1 slot=$2

	shift 2
	cli "$SHAPES" "$mode" --if "$CLI_IF" --dst-mac "$SRV_MAC" \
		"${TARGETS[@]}" --slot "$slot" --big "$BIG" "$@"
}

# The key=value pairs of one of the tool's lines into L (kv without a
# subshell each: there are a few hundred lines).
declare -A L
split_line() {
	local w

	L=()
	for w in $1; do
		L[${w%%=*}]=${w#*=}
	done
}

# Reads a probe's output (FILE) into the CTL_ arrays under PHASE; the
# first phase also lists the shapes (SHAPE_KEYS: shape/family).
read_probe() {
	local phase=$1 line k

	while IFS= read -r line; do
		case $line in
		shape=*) ;;
		*) continue ;;
		esac
		split_line "$line"
		k="$phase/${L[shape]}/${L[family]}/${L[resolver]}"
		CTL_BIG[$k]=${L[big]}
		CTL_SENT[$k]=${L[sent]}
		CTL_BYTES[$k]=${L[bytes]}
		CTL_ANS[$k]=${L[answers]}
		CTL_LARGEST[$k]=${L[largest]}
		CTL_RCODE[$k]=${L[rcode]}
		CTL_ICMP[$k]=${L[icmp_type]}
		CTL_KERNEL[$k]=${L[kernel]}
		if [ "$phase" = a ] && [ "${L[resolver]}" = unbound ]; then
			SHAPE_KEYS+=("${L[shape]}/${L[family]}")
		fi
	done <"$2"
}

read_run() {
	local phase=$1 line k

	while IFS= read -r line; do
		case $line in
		shape=*) ;;
		*) continue ;;
		esac
		split_line "$line"
		k="$phase/${L[shape]}/${L[family]}/${L[resolver]}"
		RUN_BIG[$k]=${L[big]}
		RUN_SENT[$k]=${L[sent]}
		RUN_BYTES[$k]=${L[bytes]}
	done <"$2"
}

# The summary line of a tool run: nothing lost, nothing stray.
check_summary() {
	local label=$1 s

	s=$(grep -m1 '^summary=' "$2" || true)
	echo "   $label: $s"
	assert_eq "$label: frames lost by the capture" "$(kv drops "$s")" 0
	assert_eq "$label: packets to our sources from elsewhere" \
		"$(kv stray "$s")" 0
}

# Runs the tool's run mode for PHASE on SLOT with the shape globs ONLY,
# checks that every frame reached the server, reads the output.
measure() {
	local phase=$1 slot=$2 only=$3 out=$RUN_DIR/run-$1.out rx0 rx1 frames s

	rx0=$(if_rx_packets)
	shapes_tool run "$slot" --only "$only" --count "$((RATE * SECS))" \
		--rate "$RATE" --wait 1000 >"$out"
	rx1=$(if_rx_packets)
	check_summary "run $phase" "$out"
	s=$(grep -m1 '^summary=' "$out")
	frames=$(kv frames "$s")
	LIMIT[$phase]=$((2 + (2 * $(kv send_ms "$s") + 4999) / 5000))
	echo "   run $phase: at most ${LIMIT[$phase]} big answers a shape and resolver" \
		"(2 + 2/5 x $(kv send_ms "$s") ms, rounded up)"
	assert_range "run $phase: server interface received the $frames frames sent" \
		"$((rx1 - rx0))" "$frames" "$((frames + 1000))"
	read_run "$phase" "$out"
}

# Why a shape drew no big answer in the control phase P, from both
# resolvers' lines and the kernel's counters.
why_not_big() {
	local p=$1 sk=$2 r k ans=0 what='' kernel

	for r in unbound bind; do
		k="$p/$sk/$r"
		ans=$((ans + CTL_ANS[$k]))
		if [ "${CTL_ANS[$k]}" != 0 ]; then
			what+=" $r:rcode=${CTL_RCODE[$k]},${CTL_LARGEST[$k]}B"
		fi
	done
	kernel=${CTL_KERNEL[$p/$sk/unbound]}
	if [ "$ans" != 0 ]; then
		echo "answered small:$what"
	elif [[ $kernel == *InDatagrams* ]]; then
		echo "delivered to UDP, not answered (kernel: $kernel)"
	elif [ "$kernel" = - ]; then
		echo "dropped, no counter moved${CTL_ICMP[$p/$sk/unbound]:+ (icmp ${CTL_ICMP[$p/$sk/unbound]})}"
	else
		echo "dropped by the stack: $kernel, icmp ${CTL_ICMP[$p/$sk/unbound]}"
	fi
}

# The table of phase control P / measurement M for the shape keys given;
# asserts the limit for every shape and resolver that P answered big.
judge() {
	local p=$1 m=$2 sk r k cb rb verdict fails=() small=()

	shift 2
	printf '   %-22s %-3s %-8s %9s %10s %9s %10s  %s\n' shape fam resolver \
		"big/sent" bytes "big/sent" bytes "(without dnsrl | with)"
	for sk in "$@"; do
		local any=0

		for r in unbound bind; do
			k="$sk/$r"
			cb=${CTL_BIG[$p/$k]}
			[ "$cb" != 0 ] || continue
			any=1
			rb=${RUN_BIG[$m/$k]}
			verdict=held
			[ "$rb" != 0 ] || verdict="held (none answered)"
			if [ "$rb" -gt "${LIMIT[$m]}" ]; then
				verdict="PASSES dnsrl"
				fails+=("${sk%/*}/v${sk#*/}/$r:$rb")
			fi
			printf '   %-22s %-3s %-8s %9s %10s %9s %10s  %s\n' \
				"${sk%/*}" "${sk#*/}" "$r" \
				"$cb/${CTL_SENT[$p/$k]}" "${CTL_BYTES[$p/$k]}" \
				"$rb/${RUN_SENT[$m/$k]}" "${RUN_BYTES[$m/$k]}" \
				"$verdict"
		done
		[ "$any" = 1 ] || small+=("$sk")
	done
	echo "   shapes no resolver answered big (what the kernel and the resolvers did):"
	for sk in "${small[@]}"; do
		printf '   %-22s %-3s %s\n' "${sk%/*}" "${sk#*/}" \
			"$(why_not_big "$p" "$sk")"
	done
	for sk in "$@"; do
		for r in unbound bind; do
			k="$sk/$r"
			[ "${CTL_BIG[$p/$k]}" != 0 ] || continue
			assert_range "$m: ${sk%/*} IPv${sk#*/} $r: big answers with dnsrl (without: ${CTL_BIG[$p/$k]} of ${CTL_SENT[$p/$k]})" \
				"${RUN_BIG[$m/$k]}" 0 "${LIMIT[$m]}"
		done
	done
	if [ "${#fails[@]}" != 0 ]; then
		echo "   shapes that pass dnsrl big ($m): ${fails[*]}"
	fi
}

main() {
	local conf k f r sk frag6=()

	dnsrl_require
	if [ ! -x "$SHAPES" ]; then
		_err "$SHAPES missing: run make B=$B tools"
		exit 1
	fi
	_run_dir
	conf=$RUN_DIR/dnsrl.conf
	dnsrl_conf "$conf" <<'EOF'
rule any-abuse {
	qtype ANY
	limit 2/5s
}
EOF
	ns_setup
	# The answers to the shapes' sources end on the client's veth, where
	# the tool captures them; the client's stack then discards them
	# without an ICMP error (an unreachable route would send one back).
	cli ip route add blackhole "$FLOOD4_NET"
	cli ip -6 route add blackhole "$FLOOD6_NET"
	unbound_start
	bind_start
	syslog_start
	SRV_MAC=$(srv cat "/sys/class/net/$SRV_IF/address")
	TARGETS=(--target "unbound=$SRV4,$SRV6" --target "bind=$BIND4,$BIND6")
	say "unbound $UNBOUND_PID on $SRV4 $SRV6, named $BIND_PID on $BIND4 $BIND6"

	say "a. control, no dnsrl: every shape $PROBES times to each resolver"
	shapes_tool probe 0 --count "$PROBES" --wait 200 \
		--server-net "/proc/$UNBOUND_PID/net" >"$RUN_DIR/probe-a.out"
	check_summary "control" "$RUN_DIR/probe-a.out"
	read_probe a "$RUN_DIR/probe-a.out"
	for f in 4 6; do
		for r in unbound bind; do
			assert_eq "control: plain IPv$f $r answered big every time" \
				"${CTL_BIG[a/plain/$f/$r]}" "$PROBES"
		done
	done

	say "b. dnsrl (ANY 2/5s): every shape at $RATE/s for $SECS s to each resolver"
	dnsrl_rules_install "$conf"
	dnsrl_start "$conf"
	measure b 1 '*'
	for f in 4 6; do
		for r in unbound bind; do
			assert_range "dnsrl: plain IPv$f $r is limited" \
				"${RUN_BIG[b/plain/$f/$r]}" 2 "${LIMIT[b]}"
		done
	done
	dnsrl_usr1 any-abuse
	echo "   $STATS_LINE"
	echo "   $(dnsrl_rule_stats any-abuse)"
	judge a b "${SHAPE_KEYS[@]}"

	say "c. IPv6 fragments with conntrack (nf_defrag_ipv6) in the server namespace"
	for sk in "${SHAPE_KEYS[@]}"; do
		# shellcheck disable=SC2053 # the glob is meant
		[[ ${sk#*/} == 6 && ${sk%/*} == $FRAG6 ]] && frag6+=("$sk")
	done
	srv ip6tables -w -t mangle -A PREROUTING -m conntrack \
		--ctstate NEW,ESTABLISHED,RELATED,INVALID,UNTRACKED \
		-m comment --comment "$NFQ_COMMENT-ct"
	dnsrl_rules_remove "$conf"
	shapes_tool probe 2 --count "$PROBES" --wait 200 --family 6 \
		--only "$FRAG6" --server-net "/proc/$UNBOUND_PID/net" \
		>"$RUN_DIR/probe-c.out"
	check_summary "control with conntrack" "$RUN_DIR/probe-c.out"
	read_probe c "$RUN_DIR/probe-c.out"
	# nf_defrag_ipv6 reassembles in PREROUTING: the stack's own
	# reassembly never sees these fragments.
	k=${CTL_KERNEL[c/frag_q_first/6/unbound]}
	assert_true "conntrack: frag_q_first reached the stack whole (kernel: $k)" \
		test -n "$k" -a "${k/ReasmReqds/}" = "$k"
	dnsrl_rules_install "$conf"
	measure c 3 "$FRAG6"
	judge c c "${frag6[@]}"

	say "done"
	dnsrl_finish
}

main "$@"
