#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t_answers.sh: the answer path against a real Unbound (edns-buffer-size
# 4096) and real clients asking with a 4096-octet EDNS buffer, measured in
# the bytes that reach the customer: the client namespace's own INPUT
# counters (IP datagrams, after reassembly) and tcpdump on the client's
# link.
#   0. Control, no daemon and no rule: `dig +bufsize=4096 TXT big.example`
#      gets its ~4 KB answer over UDP, without TC, in IP fragments (the
#      link's MTU is 1500).
#   1. answer-rule big (size 1000, bytes 20k/10s, drop): a customer
#      drawing the big answer 20 times a second for 4 s (qgen) gets, over
#      UDP, no more than 20000 + 2000/s x the time + one answer in IP
#      datagrams (what its socket received, and for IPv4 the client's
#      INPUT counter, which agrees), IPv6 too; each gets at least its
#      burst (the limit is not a block).  Its small answers (www A, under
#      the size) all come, and never reach the answer queue: the
#      kernel's counter of the queue (id sequence) does not move for
#      them, and moves once for each big answer.
#   2. The same rule with action truncate (a reload): a fresh customer
#      asking with dig, which retries over TCP on TC, gets every full
#      answer (15 of 15 with the TXT set, IPv4 and IPv6); over UDP it
#      received at most the budget in big answers (those dig did not
#      retry), and the rest as truncated ones.  tcpdump -vv reads every
#      truncated answer as one whole datagram with a good UDP checksum
#      (and a good IPv4 header checksum: tcpdump says "bad cksum"
#      otherwise), TC set ("|"), no answer record, the OPT record and the
#      question, one per TCP retry; the client's INPUT counter (IPv4)
#      adds up to the big and truncated answers; as many first fragments
#      left as big answers (a 4 KB answer leaves in fragments at MTU
#      1500): none for a truncated one.  The daemon's counters agree:
#      replaced = the rule's truncated, verdicts = packets = accepted +
#      dropped + replaced.
#   3. A query rule (TXT, 2/1h, action truncate), by reload: a fresh
#      customer asking 10 times with dig gets every full answer, 8 of them
#      over TCP after a UDP answer with TC (the resolver truncated it: the
#      query asked for 512 octets), IPv4 and IPv6; over UDP the customer
#      received 2 big answers and 8 of at most 512 octets (IPv4 counter);
#      the rule counts 16 truncated and none dropped, the query path 16
#      replaced.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

BURST=20000 # bytes 20k/10s
RATE=2000   # octets a second
BIG_MAX=4096

# dig from SRC to DST for NAME TYPE with a 4096-octet EDNS buffer, over UDP
# only; prints "SIZE FLAGS" (message size, header flags), or nothing.
dig_udp() {
	cli dig +bufsize=4096 +ignore +tries=1 +time=2 -b "$1" @"$2" "$3" "$4" |
		awk '/^;; flags:/ { sub(/^;; flags: /, ""); sub(/;.*/, "");
				f = $0; gsub(/ /, ",", f) }
			/^;; MSG SIZE/ { s = $NF }
			END { if (s != "") print s, f }'
}

# A counter in the client namespace's INPUT of the UDP datagrams from port
# 53 to ADDR (FAMILY 4 or 6): added once, read as "packets bytes".
counter_add() {
	local ipt=iptables

	[ "$1" = 6 ] && ipt=ip6tables
	cli "$ipt" -w -I INPUT -p udp --sport 53 -d "$2" \
		-m comment --comment "t_answers $2"
}

counter() {
	local ipt=iptables

	[ "$1" = 6 ] && ipt=ip6tables
	cli "$ipt" -w -vnxL INPUT |
		awk -v c="t_answers $2" 'index($0, "/* " c " */") {
			p += $1; b += $2 } END { print p + 0, b + 0 }'
}

# Draws the big TXT answer from SRC to DST at 20 a second for 4 s (qgen,
# EDNS 4096); prints qgen's line.
draw() {
	cli "$QGEN" query --src "$1" --dst "$2" --qtype TXT \
		--qname big.example --rate 20 --count 80 --edns 4096
}

# 1: the customer SRC of FAMILY, held to the byte budget.
budget() {
	local fam=$1 src=$2 dst=$3 hdr=$4 line t0 t1 ms got seq0 seq1 big
	local small n bound reached

	counter_add "$fam" "$src"
	seq0=$(queue_seq 1)
	t0=$(date +%s%N)
	line=$(draw "$src" "$dst")
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	got=$(counter "$fam" "$src")
	seq1=$(queue_seq 1)
	echo "   IPv$fam: qgen: $line; in ${ms} ms; reached $src: $got (packets bytes)"
	big=$((BIG_MAX + hdr))
	bound=$((BURST + RATE * (ms + 999) / 1000 + big))
	# the IP datagrams the customer's socket received: qgen's payload
	# octets and the headers
	reached=$(($(kv bytes "$line") + $(kv answered "$line") * hdr))
	assert_range "IPv$fam: octets that reached the customer (IP datagrams)" \
		"$reached" "$BURST" "$bound"
	if [ "$fam" = 4 ]; then
		assert_eq "IPv4: the client's INPUT counter agrees" \
			"$got" "$(kv answered "$line") $reached"
	fi
	assert_range "IPv$fam: big answers received" "$(kv answered "$line")" \
		5 $((bound / 3000 + 1))
	assert_eq "IPv$fam: each big answer queued once (id sequence)" \
		$((seq1 - seq0)) 80
	# the small ones, from the same customer, while it is limited
	seq0=$(queue_seq 1)
	small=0
	for ((n = 0; n < 10; n++)); do
		got=$(dig_udp "$src" "$dst" www.big.example "$([ "$fam" = 6 ] && echo AAAA || echo A)")
		[ -n "$got" ] && small=$((small + 1))
	done
	assert_eq "IPv$fam: small answers to the limited customer" "$small" 10
	assert_eq "IPv$fam: none of them queued" "$(($(queue_seq 1) - seq0))" 0
}

# The IP length of each datagram tcpdump -vv printed (one per line of
# LINES, the IPv4 "length N" or the IPv6 "payload length: N" plus 40).
ip_lengths() {
	sed -nE 's/.*[(, ]payload length: ([0-9]+)[,)].*/6 \1/p;
		 t;
		 s/.*[(, ]length ([0-9]+)\).*/4 \1/p' |
		awk '{ print $1 == 6 ? $2 + 40 : $2 }'
}

# 2: a fresh customer SRC of FAMILY asks 15 times with dig (TCP retry on).
truncated() {
	local fam=$1 src=$2 dst=$3 hdr=$4 size=$5 ok=0 tcp=0 n out cap got
	local lines tl trunc tbytes first bound tdpid big t0 ms

	counter_add "$fam" "$src"
	cap=$RUN_DIR/trunc$fam.pcap
	cli tcpdump -i "$CLI_IF" -U -s 0 -w "$cap" \
		"(udp and src port 53) or (ip[6:2] & 0x3fff != 0) or (ip6[6] = 44)" \
		>/dev/null 2>"$cap.err" &
	tdpid=$!
	track_pid "$tdpid"
	# capturing once it says so
	for ((n = 0; n < 100; n++)); do
		grep -q 'listening on' "$cap.err" 2>/dev/null && break
		sleep 0.1
	done
	assert_true "IPv$fam: tcpdump listens" grep -q 'listening on' "$cap.err"
	t0=$(date +%s%N)
	for ((n = 0; n < 15; n++)); do
		out=$(cli dig +bufsize=4096 +tries=1 +time=3 -b "$src" @"$dst" \
			big.example TXT 2>&1 || true)
		grep -q 'ANSWER: 15,' <<<"$out" && ok=$((ok + 1))
		grep -q 'Truncated, retrying in TCP mode' <<<"$out" &&
			tcp=$((tcp + 1))
	done
	ms=$((($(date +%s%N) - t0) / 1000000))
	# tcpdump may lag behind under load: what it has not read yet is lost
	# when it stops, so wait (5 s at most) for the truncated answers dig
	# saw (the count is checked below; a wait that ends early changes it)
	for ((n = 0; n < 50; n++)); do
		[ "$(tcpdump -nr "$cap" 2>/dev/null | grep -c ' 0/0/1 ' || true)" -ge "$tcp" ] && break
		sleep 0.1
	done
	sleep 0.2
	kill "$tdpid" 2>/dev/null || true
	wait "$tdpid" 2>/dev/null || true
	untrack_pid "$tdpid"
	got=$(counter "$fam" "$src")
	echo "   IPv$fam: $ok of 15 full answers in $ms ms, $tcp over TCP after TC; reached $src over UDP: $got (packets bytes)"
	assert_eq "IPv$fam: every full answer comes (UDP or TCP)" "$ok" 15
	assert_range "IPv$fam: those over TCP after a truncated one" "$tcp" 5 14

	# tcpdump's own reading: one line a datagram
	lines=$(tcpdump -vv -nr "$cap" 2>/dev/null | tr -s ' \n' ' ' |
		sed -E 's/ (IP6? )/\n\1/g')
	trunc=$(grep ' q: TXT? big.example. 0/0/1 ' <<<"$lines" || true)
	n=$(grep -c . <<<"$trunc" || true)
	echo "   tcpdump -vv: $n truncated answers; the first:"
	head -n 1 <<<"$trunc" | cut -c1-240 | sed 's/^/     /'
	assert_eq "IPv$fam: tcpdump reads one truncated answer per TCP retry" "$n" "$tcp"
	assert_eq "IPv$fam: ... each with a good UDP checksum" \
		"$(grep -c 'udp sum ok' <<<"$trunc" || true)" "$n"
	assert_eq "IPv$fam: ... each with TC set (|)" \
		"$(grep -cE ' [0-9]+[*-]*\| q: ' <<<"$trunc" || true)" "$n"
	assert_eq "IPv$fam: ... and the OPT record (ar: . OPT)" \
		"$(grep -c ' ar: . OPT UDPsize=4096' <<<"$trunc" || true)" "$n"
	assert_eq "IPv$fam: no checksum tcpdump calls bad" \
		"$(grep -ciE 'bad (cksum|udp)' <<<"$lines" || true)" 0
	assert_eq "IPv$fam: no truncated answer tcpdump finds cut short" \
		"$(grep -ciE 'truncated-ip|\[\|domain\]' <<<"$trunc" || true)" 0
	tl=$(ip_lengths <<<"$trunc")
	assert_eq "IPv$fam: ... each one whole datagram (a length per answer)" \
		"$(grep -c . <<<"$tl" || true)" "$n"
	tbytes=$(awk '{ s += $1 } END { print s + 0 }' <<<"$tl")
	# the rest came whole over UDP: dig did not retry those
	big=$((15 - tcp))
	bound=$((BURST + RATE * (ms + 999) / 1000 + BIG_MAX + hdr))
	echo "   truncated: $n datagrams, $tbytes octets; big answers over UDP: $big of $((size + hdr)) octets"
	assert_range "IPv$fam: big answers over UDP, in octets" \
		$((big * (size + hdr))) "$BURST" "$bound"
	if [ "$fam" = 4 ]; then
		# IPv4 reassembles before INPUT: the client's counter agrees
		assert_eq "IPv4: the client's INPUT counter: big + truncated" \
			"$got" "$((big + n)) $((big * (size + hdr) + tbytes))"
	fi
	# every big answer leaves in fragments (MTU 1500), a truncated one
	# whole: as many first fragments as big answers received
	if [ "$fam" = 4 ]; then
		first=$(tcpdump -nr "$cap" 'ip[6:2] & 0x3fff = 0x2000' 2>/dev/null | wc -l)
	else
		first=$(tcpdump -nr "$cap" 'ip6[6] = 44 and (ip6[42:2] & 0xfff9) = 1' 2>/dev/null | wc -l)
	fi
	assert_eq "IPv$fam: first fragments = big answers received (none for a truncated one)" \
		"$first" "$big"
}

# 3: a fresh customer SRC of FAMILY asks 10 times for the TXT set with dig
# (EDNS 4096, TCP retry on): the rule lets 2 through, then each query goes
# on asking for 512 octets; the answers that come over UDP are the 2 big
# ones and 8 of at most 512 octets with TC, then TCP brings the full set.
query_truncated() {
	local fam=$1 src=$2 dst=$3 hdr=$4 ok=0 tcp=0 n out got

	counter_add "$fam" "$src"
	for ((n = 0; n < 10; n++)); do
		out=$(cli dig +bufsize=4096 +tries=1 +time=3 -b "$src" @"$dst" \
			big.example TXT 2>&1 || true)
		grep -q 'ANSWER: 15,' <<<"$out" && ok=$((ok + 1))
		grep -q 'Truncated, retrying in TCP mode' <<<"$out" &&
			tcp=$((tcp + 1))
	done
	got=$(counter "$fam" "$src")
	echo "   IPv$fam: $ok of 10 full answers, $tcp over TCP after TC; UDP from port 53 to $src: $got (packets bytes)"
	assert_eq "IPv$fam: every full answer comes" "$ok" 10
	assert_eq "IPv$fam: 8 over TCP after a truncated UDP answer" "$tcp" 8
	if [ "$fam" = 4 ]; then
		# the 2 big answers whole, 8 truncated of at most 512 + headers
		assert_range "IPv4: UDP octets to the customer" "${got#* }" \
			$((2 * 3000)) $((2 * (BIG_MAX + hdr) + 8 * (512 + hdr)))
	fi
}

main() {
	local conf line got fr pid size n i

	dnsrl_require
	ns_setup
	unbound_start
	syslog_start
	conf=$RUN_DIR/dnsrl.conf

	echo "== 0. control: no daemon, no rule"
	got=$(dig_udp "$CLI4" "$SRV4" big.example TXT)
	echo "   dig +bufsize=4096 TXT big.example: $got"
	size=${got%% *}
	assert_range "the big answer over UDP" "$size" 3000 "$BIG_MAX"
	assert_eq "without TC" "$(tr , '\n' <<<"${got#* }" | grep -cx tc || true)" 0

	echo "== 1. answer-rule big: 20k/10s of answers of 1000+ octets, drop"
	dnsrl_conf "$conf" <<'EOF'
answer-rule big {
	size 1000
	bytes 20k/10s
}
EOF
	dnsrl_rules_install "$conf"
	dnsrl_start "$conf"
	pid=$DAEMON_PID
	budget 4 "$ATTACK4" "$SRV4" 28
	budget 6 "$ATTACK6A" "$SRV6" 48

	echo "== 2. action truncate (reload)"
	dnsrl_conf "$conf.new" <<'EOF'
answer-rule big {
	size 1000
	bytes 20k/10s
	action truncate
}
EOF
	mv "$conf.new" "$conf"
	kill -HUP "$pid"
	assert_true "reloaded" wait_for_log "dnsrl\[$pid\]: reloaded: " 5
	truncated 4 "$ATTACK4B" "$SRV4" 28 "$size"
	truncated 6 "$OTHER6" "$SRV6" 48 "$size"

	dnsrl_usr1
	line=$(grep -m1 -E ': answers \(SIGUSR1\): ' <<<"$STATS_CHUNK" || true)
	fr=$(dnsrl_rule_stats big)
	echo "   $line"
	echo "   $fr"
	assert_eq "replaced = the rule's truncated" "$(kv replaced "$line")" \
		"$(kv truncated "$fr")"
	assert_eq "verdicts = packets" "$(kv verdicts "$line")" \
		"$(kv packets "$line")"
	assert_eq "verdicts = accepted + dropped + replaced" \
		"$(kv verdicts "$line")" \
		$(($(kv accepted "$line") + $(kv dropped "$line") + $(kv replaced "$line")))
	assert_eq "no truncation failed" "$(kv truncate-failed "$fr")" 0

	echo "== 3. a query rule that truncates (reload)"
	dnsrl_conf "$conf.new" <<'EOF'
rule txt {
	qtype TXT
	limit 2/1h
	action truncate
}
EOF
	mv "$conf.new" "$conf"
	# a new query type: the printed rules again (manage-rules is off)
	dnsrl_rules_install "$conf"
	n=$(log_count "dnsrl\[$pid\]: reloaded: ")
	kill -HUP "$pid"
	for ((i = 0; i < 50; i++)); do
		[ "$(log_count "dnsrl\[$pid\]: reloaded: ")" -gt "$n" ] && break
		sleep 0.1
	done
	assert_eq "reloaded again" "$(log_count "dnsrl\[$pid\]: reloaded: ")" $((n + 1))
	query_truncated 4 "$ALLOWED4" "$SRV4" 28
	query_truncated 6 "$ATTACK6B" "$SRV6" 48
	dnsrl_usr1 txt
	fr=$(dnsrl_rule_stats txt)
	echo "   $fr"
	assert_eq "the rule: truncated = its refusals" "$(kv truncated "$fr")" 16
	assert_eq "the rule: nothing dropped" "$(kv dropped "$fr")" 0
	line=$(grep -m1 -E ': stats \(SIGUSR1\): ' <<<"$STATS_CHUNK" || true)
	assert_eq "the query path replaced 16 queries" "$(kv replaced "$line")" 16
	dnsrl_finish
}

main "$@"
