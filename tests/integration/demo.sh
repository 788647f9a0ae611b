#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# demo.sh: dnsrl against a simulated amplification attack, for an operator
# to watch.  In two network namespaces of its own (a resolver and its
# customers; nothing leaves them): Unbound serving big.example, whose ANY
# and TXT answers are about 4 KB each.  For 10 s at the same time:
#   - well-behaved customers (A and AAAA queries, a few ANY);
#   - one burst of 6 ANY from a script gone wrong, once;
#   - an infected host sending ANY at 50/s with EDNS 4096, so that the big
#     answers come back over UDP;
#   - another one that has switched to TXT (50/s, EDNS 4096): the ANY rule
#     does not see it, only the answer rule does;
#   - a customer whose dig (+bufsize=4096) asks for the TXT set 30 times in
#     a row, past its byte budget: dig retries over TCP when an answer
#     comes truncated, so it gets every answer.
# The same traffic runs three times: with the filter off (no rule, no
# daemon); with the shipped conf/dnsrl.conf without its answer-rule block
# (the ANY rule alone: 2 ANY per 5 s per source, hold-down for repeat
# offenders); with the shipped file as it is (and its answer-rule
# big-answers: 64 KB of answers of 1000+ octets per customer at once, then
# 6.4 KB a second, truncated past that).  Each time the rules `dnsrl
# --print-rules` prints and the daemon.  It prints per customer what was
# sent and answered and the octets the attackers drew, for each run, then
# the daemon's log of the last run, and at the end one line of figures per
# run for tests/integration/t_demo.sh ("demo-figures: run=...").
#
#   make demo               # installs the dependencies, builds, runs this
#   sudo B=build tests/integration/demo.sh
#
# Takes about 40 s; removes everything it made when it ends.
set -eu

TEST_NAME=demo
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# Two more customers, on the client side's link (demo only).
TXT4=198.51.100.68 # the attacker that switched to TXT
DIG4=198.51.100.11 # the customer with dig
DIG_COUNT=30
# IPv4 and UDP headers: the octets of a datagram over its DNS message.
HDR4=28

# Runs the command and prints its one line of output followed by
# " ms=N", the milliseconds it took.
timed() {
	local t0 line

	t0=$(date +%s%N)
	line=$("$@")
	echo "$line ms=$((($(date +%s%N) - t0) / 1000000))"
}

# The TXT set of big.example from SRC to DST: COUNT queries at RATE a
# second, EDNS 4096.  Prints qgen's line.
txt_query() {
	cli "$QGEN" query --src "$1" --dst "$2" --qtype TXT \
		--qname big.example --edns 4096 --rate "$3" --count "$4"
}

# dig as a customer runs it, COUNT times in a row from SRC to DST (the TXT
# set, EDNS buffer 4096; on a truncated answer dig retries over TCP).
# Prints "sent=N full=N tcp=N": the answers with the whole set (WANT
# records), those that came over TCP after a truncated UDP one.
dig_user() {
	local src=$1 dst=$2 count=$3 want=$4 i out full=0 tcp=0

	for ((i = 0; i < count; i++)); do
		out=$(cli dig +bufsize=4096 +tries=2 +time=2 -b "$src" \
			@"$dst" big.example TXT 2>&1 || true)
		grep -q "ANSWER: $want," <<<"$out" && full=$((full + 1))
		grep -q 'Truncated, retrying in TCP mode' <<<"$out" &&
			tcp=$((tcp + 1))
	done
	echo "sent=$count full=$full tcp=$tcp"
}

# What the customers do, for ~10 s, at the same time.  Each writes its
# line into DIR/NAME.
traffic() {
	local dir=$1 p pids=()

	mkdir -p "$dir"
	cli "$QGEN" query --src "$CLI4" --dst "$SRV4" --qtype A \
		--qname www.big.example --rate 10 --count 100 >"$dir/good-a" &
	pids+=($!)
	cli "$QGEN" query --src "$CLI6" --dst "$SRV6" --qtype AAAA \
		--qname www.big.example --rate 10 --count 100 >"$dir/good-aaaa" &
	pids+=($!)
	# A few ANY, far apart, as a diagnostic tool or an old client sends.
	any_slowly "$CLI4" "$SRV4" 3 4 >"$dir/good-any" &
	pids+=($!)
	timed any_query "$ATTACK4" "$SRV4" 50 500 >"$dir/any" &
	pids+=($!)
	# A script gone wrong, once: 6 ANY at once, then silence.
	any_query "$ATTACK4B" "$SRV4" 1000 6 >"$dir/burst" &
	pids+=($!)
	timed txt_query "$TXT4" "$SRV4" 50 500 >"$dir/txt" &
	pids+=($!)
	timed dig_user "$DIG4" "$SRV4" "$DIG_COUNT" "$TXT_RECORDS" \
		>"$dir/dig" &
	pids+=($!)
	for p in "${pids[@]}"; do
		track_pid "$p"
	done
	for p in "${pids[@]}"; do
		wait "$p"
		untrack_pid "$p"
	done
}

# Octets the resolver's interface sent: everything on the "backhaul".
tx_bytes() {
	srv cat "/sys/class/net/$SRV_IF/statistics/tx_bytes"
}

# UDP datagrams the resolver sent, IPv4 and IPv6 (the kernel's counters).
udp_out() {
	echo $(($(snmp_counter UdpOutDatagrams) + $(snmp_counter Udp6OutDatagrams)))
}

# Answers the kernel queued to the daemon's answer queue (the DNSRL-OUT
# chain's NFQUEUE rules, IPv4 and IPv6; 0 without the chain).
answers_queued() {
	local ipt n=0 c

	for ipt in iptables ip6tables; do
		c=$(srv "$ipt" -w -t mangle -vnxL DNSRL-OUT 2>/dev/null |
			awk '$3 == "NFQUEUE" { s += $1 } END { print s + 0 }')
		n=$((n + c))
	done
	echo "$n"
}

# The octets of the IP datagrams of a qgen line's answers (IPv4).
ip_octets() {
	echo $(($(kv bytes "$1") + $(kv answered "$1") * HDR4))
}

# A table cell: "N of M" from a line of sent= answered= (or full=), and
# what came truncated, or over TCP after a truncated answer.
cell() {
	local line=$1 a t

	a=$(kv answered "$line" || kv full "$line")
	printf '%s of %s' "$a" "$(kv sent "$line")"
	if t=$(kv tcp "$line") && [ "$t" != 0 ]; then
		printf ', %s by TCP' "$t"
	elif t=$(kv truncated "$line") && [ "$t" != 0 ]; then
		printf ', %s TC' "$t"
	fi
}

# Prints its arguments as a paragraph of lines of at most 78 characters.
say() {
	printf '%s\n' "$*" | fmt -w 78
}

# Octets in a readable form: 1987500 -> "1.99 MB".
human() {
	awk -v b="$1" 'BEGIN {
		if (b >= 1e6) printf "%.2f MB", b / 1e6
		else if (b >= 1e3) printf "%.1f kB", b / 1e3
		else printf "%d B", b }'
}

# The rules dnsrl --print-rules prints for CONF, IPv4 (the IPv6 ones are
# alike), the prefilter's bytecode cut.
show_rules() {
	dnsrl_printed_rules "$1" 4 |
		sed -E 's/(--bytecode )"[^"]+"/\1"..."/; s/^/    /'
}

# Installs the printed rules and starts the daemon with CONF.
filter_on() {
	dnsrl_rules_install "$1"
	dnsrl_start "$1"
}

# Stops the daemon and removes its rules; its exit status goes to
# $RUN_DIR/NAME.status.
filter_off() {
	local st=0

	daemon_stop TERM || st=$?
	echo "$st" >"$RUN_DIR/$1.status"
	dnsrl_rules_remove
}

# One line of figures for t_demo.sh: RUN DIR TX_BYTES.  *_bytes are the
# octets of the IP datagrams that reached the customer, *_ms the time its
# queries took.
figures() {
	local run=$1 dir=$2 f line out="demo-figures: run=$1"

	for f in good-a good-aaaa good-any burst any txt dig; do
		line=$(cat "$dir/$f")
		out+=" ${f//-/_}_sent=$(kv sent "$line")"
		case $f in
		dig)
			out+=" dig_full=$(kv full "$line") dig_tcp=$(kv tcp "$line")"
			;;
		*) out+=" ${f//-/_}_answered=$(kv answered "$line")" ;;
		esac
		case $f in
		any | txt)
			out+=" ${f}_truncated=$(kv truncated "$line")"
			out+=" ${f}_bytes=$(ip_octets "$line")"
			;;
		esac
		case $f in
		any | txt | dig) out+=" ${f}_ms=$(kv ms "$line")" ;;
		esac
	done
	echo "$out any_size=$ANY_SIZE txt_size=$TXT_SIZE txt_records=$TXT_RECORDS dig_size=$DIG_SIZE tx_bytes=$3"
}

main() {
	local d1 d2 d3 conf3 conf2 tx0 tx1 tx2 tx3 t0 st f line pid
	local pf nq uo aq run

	dnsrl_require
	t0=$(date +%s)
	say "Setting up: namespaces $SRV_NS (resolver) and $CLI_NS" \
		"(customers), Unbound on $SRV4 and $SRV6"
	ns_setup
	cli ip addr add "$TXT4/24" dev "$CLI_IF"
	cli ip addr add "$DIG4/24" dev "$CLI_IF"
	unbound_start
	syslog_start
	d1=$RUN_DIR/off
	d2=$RUN_DIR/any-rule
	d3=$RUN_DIR/shipped
	conf3=$RUN_DIR/dnsrl.conf
	conf2=$RUN_DIR/dnsrl-no-answer-rule.conf
	# As shipped, but for the installed system's parts: the demo runs
	# the daemon as root in a namespace, without the dnsrl user and
	# /run/dnsrl that the package (or make install) brings.
	sed -E '/^(user|control-socket)[[:space:]]/d' "$TOP/conf/dnsrl.conf" \
		>"$conf3"
	# Run 2's file: the same without the answer-rule block.
	sed -E '/^answer-rule[[:space:]]/,/^}/d' "$conf3" >"$conf2"
	chmod 0600 "$conf3" "$conf2"
	if grep -q '^answer-rule' "$conf2" || ! grep -q '^answer-rule' "$conf3" ||
		! grep -q '^rule any-abuse' "$conf2"; then
		_err "conf/dnsrl.conf: expected a rule any-abuse and an answer-rule block"
		exit 1
	fi
	# Checked now rather than after the first run.
	"$DNSRL" -t -c "$conf3" >/dev/null
	"$DNSRL" -t -c "$conf2" >/dev/null

	line=$(any_query "$CLI4" "$SRV4" 1 1)
	ANY_SIZE=$(kv bytes "$line")
	line=$(txt_query "$CLI4" "$SRV4" 1 1)
	TXT_SIZE=$(kv bytes "$line")
	# What a full answer looks like to dig: its records and size.
	line=$(cli dig +bufsize=4096 +tries=2 +time=2 -b "$DIG4" @"$SRV4" \
		big.example TXT)
	TXT_RECORDS=$(sed -nE 's/.*, ANSWER: ([0-9]+),.*/\1/p' <<<"$line")
	DIG_SIZE=$(sed -nE 's/^;; MSG SIZE +rcvd: ([0-9]+)$/\1/p' <<<"$line")
	say "One ANY query for big.example: 40 octets of DNS in, $ANY_SIZE" \
		"out ($((ANY_SIZE / 40))x); TXT: 40 in, $TXT_SIZE out" \
		"($((TXT_SIZE / 40))x)."
	echo
	echo "Run 1, filter off (no rule, no daemon): 10 s of traffic ..."
	tx0=$(tx_bytes)
	traffic "$d1"
	tx1=$(($(tx_bytes) - tx0))

	say "Run 2, conf/dnsrl.conf without its answer-rule block (the ANY" \
		"rule alone).  Its rules (IPv6 alike):"
	show_rules "$conf2"
	filter_on "$conf2"
	echo "dnsrl running (pid $DAEMON_PID); 10 s of the same traffic ..."
	tx0=$(tx_bytes)
	traffic "$d2"
	tx2=$(($(tx_bytes) - tx0))
	filter_off run2

	say "Run 3, conf/dnsrl.conf as shipped (the ANY rule and the" \
		"answer-rule big-answers).  Its rules (IPv6 alike):"
	show_rules "$conf3"
	filter_on "$conf3"
	pid=$DAEMON_PID
	echo "dnsrl running (pid $pid); 10 s of the same traffic ..."
	pf=$(dnsrl_prefilter_packets)
	nq=$(dnsrl_rule_packets)
	uo=$(udp_out)
	aq=$(answers_queued)
	tx0=$(tx_bytes)
	traffic "$d3"
	tx3=$(($(tx_bytes) - tx0))
	pf=$(($(dnsrl_prefilter_packets) - pf))
	nq=$(($(dnsrl_rule_packets) - nq))
	uo=$(($(udp_out) - uo))
	aq=$(($(answers_queued) - aq))
	filter_off run3

	echo
	say "What each customer got: answers of queries sent.  TC: the" \
		"answer came truncated (TC=1, no records).  By TCP: dig's" \
		"answer came truncated, dig asked again over TCP and got it" \
		"whole."
	printf '  %-34s %-20s %-20s %s\n' "" "1: filter off" \
		"2: ANY rule only" "3: as shipped"
	for f in good-a good-aaaa good-any burst any txt dig; do
		case $f in
		good-a) line="well-behaved $CLI4, A" ;;
		good-aaaa) line="well-behaved $CLI6, AAAA" ;;
		good-any) line="well-behaved $CLI4, ANY" ;;
		burst) line="one burst $ATTACK4B, 6 ANY" ;;
		any) line="attacker $ATTACK4, ANY 50/s" ;;
		txt) line="attacker $TXT4, TXT 50/s" ;;
		dig) line="dig user $DIG4, $DIG_COUNT TXT" ;;
		esac
		printf '  %-34s %-20s %-20s %s\n' "$line" "$(cell "$(cat "$d1/$f")")" \
			"$(cell "$(cat "$d2/$f")")" "$(cell "$(cat "$d3/$f")")"
	done
	echo
	say "Answer octets (IP datagrams) that reached the attackers for" \
		"their 500 queries of 68 octets each:"
	for f in any txt; do
		case $f in
		any) line="attacker $ATTACK4, ANY" ;;
		txt) line="attacker $TXT4, TXT" ;;
		esac
		printf '  %-34s %-20s %-20s %s\n' "$line" \
			"$(human "$(ip_octets "$(cat "$d1/$f")")")" \
			"$(human "$(ip_octets "$(cat "$d2/$f")")")" \
			"$(human "$(ip_octets "$(cat "$d3/$f")")")"
	done
	printf '  %-34s %-20s %-20s %s\n' "all octets the resolver sent" \
		"$(human "$tx1")" "$(human "$tx2")" "$(human "$tx3")"
	echo
	say "The ANY rule: a source gets 2 ANY at once and 2 more per 5 s;" \
		"one that keeps exceeding that for 5 s is refused for 10" \
		"minutes (hold-down), one that stops is released.  It does" \
		"not see TXT: in run 2 the TXT attacker draws as much as with" \
		"the filter off."
	echo
	say "The answer rule counts each customer's answers of 1000" \
		"octets or more, whatever their type: 64 KB at once, then" \
		"6.4 KB a second.  Past that an answer is truncated (68" \
		"octets, TC=1): the attacker gets little, and a real client" \
		"retries over TCP and gets its whole answer, as the dig user" \
		"did."
	echo
	say "In run 3, of the $((pf + nq)) queries, the prefilter accepted" \
		"$pf in the kernel (the types no query rule names); the daemon" \
		"decided on the $nq others.  Of the $uo UDP answers the" \
		"resolver sent, the kernel queued the $aq of 1000 octets or" \
		"more to the daemon."
	echo
	echo "The daemon's syslog in run 3:"
	grep -F "dnsrl[$pid]:" "$SYSLOG_FILE" | sed -E 's/^<[0-9]+>//; s/^/  /'
	echo
	st=0
	for run in run2 run3; do
		f=$(cat "$RUN_DIR/$run.status")
		if [ "$f" != 0 ]; then
			echo "demo: dnsrl exited with status $f in $run" >&2
			st=1
		fi
	done
	[ "$st" = 0 ] || exit 1
	echo "Done in $(($(date +%s) - t0)) s; removing the namespaces."
	echo "The figures, for tests/integration/t_demo.sh:"
	figures off "$d1" "$tx1"
	figures any-rule "$d2" "$tx2"
	figures shipped "$d3" "$tx3"
	cleanup
}

main "$@"
