# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for bench/run.sh
#
# Helpers of bench/run.sh, on top of tests/integration/lib.sh (source that
# first): CPU accounting, the queue readers under comparison, the rule
# sets under comparison, the load generators.  Every process started here
# is tracked, so that lib.sh's cleanup stops it even after a failure.

NFQ_ACCEPT=$BUILD/bench/nfq_accept
DECIDE=$BUILD/bench/decide
ANSWER=$BUILD/bench/answer

# The CPU the resolver and the queue reader share, and the one the load
# generators use.
SRV_CPU=${SRV_CPU:-1}
GEN_CPU=${GEN_CPU:-0}

READER_KIND=
READER_PID=
READER_LINE=
# Seconds a started dnsrl is left alone before anything is measured: its
# first kernel-hold reads fault in their tables (two of 6 MB, some 40 ms
# of CPU in the first 2.5 s), a start-up cost that would otherwise be
# charged to the packets of the first window.
DNSRL_SETTLE=${DNSRL_SETTLE:-3}

# CPU time in ns of every thread of PID: field 1 of each
# /proc/PID/task/*/schedstat, summed.
cpu_ns() {
	local f t s=0

	for f in /proc/"$1"/task/*/schedstat; do
		t=
		read -r t _ <"$f" 2>/dev/null || true
		[ -n "$t" ] && s=$((s + t))
	done
	echo "$s"
}

# CPU time in ns of the threads of PID named COMM (/proc/PID/task/*/comm:
# dnsrl names its workers dnsrl-qN and dnsrl-aN).
cpu_ns_comm() {
	local d t c s=0

	for d in /proc/"$1"/task/*; do
		c=
		read -r c <"$d/comm" 2>/dev/null || true
		[ "$c" = "$2" ] || continue
		t=
		read -r t _ <"$d/schedstat" 2>/dev/null || true
		[ -n "$t" ] && s=$((s + t))
	done
	echo "$s"
}

# CPU time in ns of the threads of PID other than the main thread.
cpu_ns_workers() {
	local f t s=0

	for f in /proc/"$1"/task/*/schedstat; do
		[ "$f" = "/proc/$1/task/$1/schedstat" ] && continue
		t=
		read -r t _ <"$f" 2>/dev/null || true
		[ -n "$t" ] && s=$((s + t))
	done
	echo "$s"
}

# CPU time of process PID (all its threads) in clock ticks: utime +
# stime, fields 14 and 15 of /proc/PID/stat (counted from after the
# command's closing parenthesis, which may hide spaces).
cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# "BUSY IDLE STEAL" clock ticks of CPU N so far, machine-wide (the cpuN
# line of /proc/stat: user nice system idle iowait irq softirq steal):
# busy = user + nice + system + irq + softirq, idle = idle + iowait,
# steal = taken by the hypervisor for others.
cpu_stat() {
	awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8, $5 + $6, $9 }' \
		/proc/stat
}

# A / B with D decimals ("-" when B is 0 or either is not a number).
ratio() {
	awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN {
		if (a !~ /^-?[0-9.]+$/ || b !~ /^-?[0-9.]+$/ || b + 0 == 0)
			print "-"
		else
			printf "%.*f\n", d, a / b }'
}

# The value of KEY in a line of key=value pairs, or "-".
kvd() {
	kv "$1" "$2" 2>/dev/null || echo -
}

# Runs a command in the client namespace on the generators' CPU.
gen() {
	cli taskset -c "$GEN_CPU" "$@"
}

# --- Rule sets --------------------------------------------------------------

# Removes every rule of the server namespace's INPUT and OUTPUT chains
# (filter; INPUT and OUTPUT of mangle; INPUT of security) and dnsrl's
# chains, which sit in mangle (the namespace is the run's own: nothing
# else is there); then dnsrl's kernel-hold sets and their accounting
# objects (dnsrl --remove-rules), which outlive the rules: left in place,
# the next daemon would read their holds back and start with the last
# configuration's sources held.
rules_clear() {
	local ipt c

	for ipt in iptables ip6tables; do
		srv "$ipt" -w -F INPUT
		srv "$ipt" -w -F OUTPUT
		srv "$ipt" -w -t mangle -F INPUT
		srv "$ipt" -w -t mangle -F OUTPUT
		srv "$ipt" -w -t security -F INPUT
		for c in DNSRL DNSRL-Q DNSRL-OUT; do
			if srv "$ipt" -w -t mangle -nL "$c" >/dev/null 2>&1; then
				srv "$ipt" -w -t mangle -F "$c"
				srv "$ipt" -w -t mangle -X "$c"
			fi
		done
	done
	srv "$DNSRL" --remove-rules
}

# The in-kernel recipe of the blog, written properly: an ANY query (qtype
# 255, class IN, right after the name's terminating zero label) is found
# by a string match from the start of the question (offset 40 = 20 IPv4 +
# 8 UDP + 12 DNS header; 60 over IPv6); up to 2 per 5 s per source
# address pass (hashlimit rates are per second or minute: 24/minute with a
# burst of 2), the rest is dropped.  HASHLIMIT_OPTS adds options such as
# --hashlimit-htable-size / --hashlimit-htable-max (defaults: see
# BENCHMARKS.md).
ANY_HEX='|0000ff0001|'
HASHLIMIT_OPTS=${HASHLIMIT_OPTS:-}
rules_hashlimit() {
	local ipt from

	for ipt in iptables ip6tables; do
		from=40
		[ "$ipt" = ip6tables ] && from=60
		# shellcheck disable=SC2086 # HASHLIMIT_OPTS is a word list
		srv "$ipt" -w -A INPUT -p udp --dport 53 \
			-m string --algo bm --from "$from" \
			--hex-string "$ANY_HEX" \
			-m hashlimit --hashlimit-name dnsany \
			--hashlimit-mode srcip --hashlimit-upto 24/minute \
			--hashlimit-burst 2 $HASHLIMIT_OPTS \
			-m comment --comment bench-any-ok -j ACCEPT
		srv "$ipt" -w -A INPUT -p udp --dport 53 \
			-m string --algo bm --from "$from" \
			--hex-string "$ANY_HEX" \
			-m comment --comment bench-any-drop -j DROP
	done
}

# The blog's `recent` recipe: every ANY query is recorded per source; a
# source with 3 or more in the last 5 s is dropped (2 per 5 s pass).
rules_recent() {
	local ipt from

	for ipt in iptables ip6tables; do
		from=40
		[ "$ipt" = ip6tables ] && from=60
		srv "$ipt" -w -A INPUT -p udp --dport 53 \
			-m string --algo bm --from "$from" \
			--hex-string "$ANY_HEX" \
			-m recent --set --name dnsany \
			-m comment --comment bench-any-seen
		srv "$ipt" -w -A INPUT -p udp --dport 53 \
			-m string --algo bm --from "$from" \
			--hex-string "$ANY_HEX" \
			-m recent --name dnsany --rcheck --seconds 5 \
			--hitcount 3 -m comment --comment bench-any-drop -j DROP
	done
}

# Counters appended after the rules of a configuration: the big answers
# leaving the resolver, UDP from port 53 of 1000 bytes or more (an
# amplified answer; OUTPUT sees each datagram once, before it is
# fragmented), IPv4 and IPv6; and the queries from SRC that every rule
# let through: security INPUT, which sees a packet after mangle (dnsrl's
# chain) and filter (the recipes, whose ACCEPT ends only filter).
# rules_clear removes them.
rules_counters() {
	local ipt

	for ipt in iptables ip6tables; do
		srv "$ipt" -w -A OUTPUT -p udp --sport 53 \
			-m length --length 1000:65535 \
			-m comment --comment bench-big-answers
	done
	srv iptables -w -t security -A INPUT -s "$1" -p udp --dport 53 \
		-m comment --comment bench-passed
}

# Queries the bench-passed counter of rules_counters counted.
passed_packets() {
	srv iptables -w -t security -vnxL INPUT |
		awk 'index($0, "/* bench-passed */") { s += $1 }
			END { print s + 0 }'
}

# "TIME HALF PACKETS BYTES" of that counter, IPv4 and IPv6: TIME (s,
# CLOCK_REALTIME) is the middle of the IPv4 read, HALF (s) half its
# length, so the counter was read within TIME +- HALF.  Timed in the
# namespace itself: on a loaded machine entering it can take a tenth of
# a second, which would blur a rate over a few seconds.
big_answers() {
	# shellcheck disable=SC2016 # a script for the namespace's shell
	srv sh -c 'a=$(date +%s.%N)
		iptables -w -vnxL OUTPUT
		echo "time $a $(date +%s.%N)"
		ip6tables -w -vnxL OUTPUT' | awk '
		$1 == "time" { t = ($2 + $3) / 2; h = ($3 - $2) / 2; next }
		index($0, "/* bench-big-answers */") { p += $1; b += $2 }
		END { printf "%.4f %.4f %.0f %.0f\n", t, h, p, b }'
}

# --- Queue readers ------------------------------------------------------------

# "KERNEL USER" drops of queue 0 so far (/proc/net/netfilter/
# nfnetlink_queue: full queue without fail-open, and messages the reader's
# socket could not take), "0 0" when no reader is bound.
queue_drops() {
	# shellcheck disable=SC2016 # an awk program
	srv awk '$1 == 0 { k = $6; u = $7 } END { print k + 0, u + 0 }' \
		/proc/net/netfilter/nfnetlink_queue
}

# "WAITING KERNEL-DROPPED USER-DROPPED ID-SEQUENCE" of queue NUM of the
# server namespace (fields 3, 6, 7, 8 of /proc/net/netfilter/
# nfnetlink_queue), "0 0 0 0" when no reader is bound.  The id sequence
# counts the packets handed to the reader's socket (user-dropped ones
# too), not those refused for a full queue.
queue_kstats() {
	# shellcheck disable=SC2016 # an awk program
	srv awk -v q="$1" '$1 == q { w = $3; k = $6; u = $7; s = $8 }
		END { print w + 0, k + 0, u + 0, s + 0 }' \
		/proc/net/netfilter/nfnetlink_queue
}

# Entries of ipset set NAME in the server namespace, 0 when there is no
# such set.
kset_entries() {
	srv ipset list -t "$1" 2>/dev/null |
		awk '/^Number of entries:/ { n = $4 } END { print n + 0 }'
}

# Waits up to 5 s until queue 0 of the server namespace has a reader bound.
queue_bound_wait() {
	local i

	for ((i = 0; i < 50; i++)); do
		# shellcheck disable=SC2016 # an awk program
		if srv awk '$1 == 0 && $2 != 0 { f = 1 } END { exit !f }' \
			/proc/net/netfilter/nfnetlink_queue 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	_err "no reader bound to queue 0"
	return 1
}

# Starts the queue reader of KIND (bare or dnsrl [CONF]) on the
# resolver's CPU, sets READER_PID; a dnsrl is then left DNSRL_SETTLE s.
# The rules of the kind must be in place.
reader_start() {
	READER_KIND=$1
	READER_LINE=
	case $1 in
	bare)
		ip netns exec "$SRV_NS" setpriv --pdeathsig TERM \
			taskset -c "$SRV_CPU" "$NFQ_ACCEPT" 0 \
			>"$RUN_DIR/nfq_accept.out" 2>&1 &
		READER_PID=$!
		track_pid "$READER_PID"
		;;
	dnsrl)
		dnsrl_start "$2"
		READER_PID=$DAEMON_PID
		taskset -a -p -c "$SRV_CPU" "$READER_PID" >/dev/null
		;;
	*)
		_err "reader_start: unknown kind $1"
		return 1
		;;
	esac
	queue_bound_wait
	if [ "$1" = dnsrl ]; then
		sleep "$DNSRL_SETTLE"
	fi
}

# Stops the reader and sets READER_LINE: "packets=N verdicts=N id-gaps=N"
# and, for dnsrl, its whole final counters line.
reader_stop() {
	local pid=$READER_PID i

	case $READER_KIND in
	bare)
		kill -TERM "$pid"
		wait "$pid" || true
		untrack_pid "$pid"
		READER_LINE=$(grep -m1 '^packets=' "$RUN_DIR/nfq_accept.out" || true)
		;;
	dnsrl)
		daemon_stop TERM || _err "dnsrl exit status $?"
		for ((i = 0; i < 50; i++)); do
			READER_LINE=$(grep -m1 -E "dnsrl\[$pid\]: stats \(final\): " \
				"$SYSLOG_FILE" || true)
			[ -n "$READER_LINE" ] && break
			sleep 0.1
		done
		;;
	esac
	READER_PID=
	[ -n "$READER_LINE" ] || {
		_err "no final counters from the $READER_KIND reader"
		READER_LINE="packets=- verdicts=-"
	}
}

# Packets counted by the INPUT rules carrying COMMENT, IPv4 and IPv6.
comment_packets() {
	rule_packets all "$1"
}

# --- Load -------------------------------------------------------------------

# The ip6.arpa name of an IPv6 address: 32 nibble labels, then ip6 and
# arpa (34 labels: deeper than the prefilter reads, so a PTR query for it
# always reaches the queue).
ip6_arpa() {
	local a=$1 head tail g i n hex='' out=''
	local -a h t

	head=$a
	tail=
	if [[ $a == *::* ]]; then
		head=${a%%::*}
		tail=${a#*::}
	fi
	IFS=: read -ra h <<<"$head"
	IFS=: read -ra t <<<"$tail"
	n=$((8 - ${#h[@]} - ${#t[@]}))
	for g in "${h[@]}"; do hex+=$(printf '%04x' "0x$g"); done
	for ((i = 0; i < n; i++)); do hex+=0000; done
	for g in "${t[@]}"; do hex+=$(printf '%04x' "0x$g"); done
	for ((i = 31; i >= 0; i--)); do out+="${hex:i:1}."; done
	echo "${out}ip6.arpa"
}

# The same with one query in EVERY for the ~4 KB TXT set of big.example
# (answered whole to dnsperf -e, whose EDNS buffer is larger): answers of
# over 1000 octets, which the answer path's rule sends to its queue.
dnsperf_queries_big() {
	dnsperf_queries | awk -v e="$1" '{ print }
		NR % (e - 1) == 0 { print "big.example TXT" }'
}

# A dnsperf query file: names Unbound answers at once from its own data
# (the auth zone, and NXDOMAIN for names outside it), mostly A and AAAA.
dnsperf_queries() {
	local i

	for ((i = 0; i < 100; i++)); do
		echo "www.big.example A"
		echo "www.big.example AAAA"
		echo "ns.big.example A"
		echo "ns.big.example AAAA"
		echo "host$i.example.com A"
		echo "host$i.example.org AAAA"
		echo "www.big.example MX"
		echo "$i.100.51.198.in-addr.arpa PTR"
	done
}
