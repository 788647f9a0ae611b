#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t_prefilter.sh: the prefilter rule keeps legitimate queries in the
# kernel.  Behind the rules `dnsrl --print-rules` prints for the mission
# policy (ANY 2/5s): an xt_bpf ACCEPT rule just before the NFQUEUE rule in
# the DNSRL chain, for IPv4 and IPv6.
#
# 1. 200 A over IPv4 and 200 AAAA over IPv6 (100/s each), a 6-label PTR
#    and dig as a real client: all answered, the bpf rules counted every
#    one of them, the NFQUEUE rules none, and the daemon received nothing
#    (packets=0 in its SIGUSR1 line).
# 2. What the program cannot follow goes to the queue: a 9-label name
#    over IPv4 and IPv6 (the programs unroll 7 and 8 labels) and an IPv6
#    query behind a hop-by-hop header: the daemon receives exactly those.
# 3. ANY abuse is limited exactly as before: 500 ANY at 50/s from one
#    source get 4 to 6 answers, over IPv4 and over IPv6; every ANY went
#    through the queue and none through the bpf rule.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

conf=

# The rules of the DNSRL chain, numbered, the bytecode cut short.
show_chain() {
	srv "$1" -w -t mangle -S DNSRL | awk '{ print "   " NR ": " substr($0, 1, 100) \
		(length($0) > 100 ? " ..." : "") }'
}

# Checks that rule 1 of the chain is the printed bpf rule and rule 2 the
# NFQUEUE rule.  CMD (iptables or ip6tables).
check_order() {
	local ipt=$1 fam=4 printed got

	[ "$ipt" = ip6tables ] && fam=6
	printed=$(dnsrl_printed_rules "$conf" "$fam" | grep -- ' -m bpf ')
	got=$(srv "$ipt" -w -t mangle -S DNSRL | sed -n 2p)
	assert_eq "$ipt: rule 1 of DNSRL is the printed bpf rule" \
		"$got" "$printed"
	assert_true "$ipt: rule 2 of DNSRL is the NFQUEUE rule" \
		grep -qE -- '-j NFQUEUE --queue-num 0 --queue-bypass$' \
		<<<"$(srv "$ipt" -w -t mangle -S DNSRL | sed -n 3p)"
}

# A query for NAME of type QTYPE from CLI4 or CLI6 to the server: qgen's
# line.  FAMILY NAME QTYPE COUNT RATE.
ask() {
	local src=$CLI4 dst=$SRV4

	if [ "$1" = 6 ]; then
		src=$CLI6
		dst=$SRV6
	fi
	cli "$QGEN" query --src "$src" --dst "$dst" --qtype "$3" \
		--qname "$2" --count "$4" --rate "$5"
}

main() {
	local pf4 pf6 q0 line4 line6 line n udp pkt rl

	_run_dir
	conf=$RUN_DIR/dnsrl.conf
	dnsrl_conf "$conf" <<'EOF'
rule any-abuse {
	qtype ANY
	limit 2/5s
}
EOF
	dnsrl_env "$conf"
	echo "== daemon $DAEMON_PID up; the DNSRL chains from --print-rules:"
	show_chain iptables
	show_chain ip6tables
	check_order iptables
	check_order ip6tables

	echo "== 200 A over IPv4 and 200 AAAA over IPv6 at 100/s each"
	pf4=$(dnsrl_prefilter_packets 4)
	pf6=$(dnsrl_prefilter_packets 6)
	q0=$(dnsrl_rule_packets)
	line4=$(ask 4 www.big.example A 200 100)
	line6=$(ask 6 www.big.example AAAA 200 100)
	echo "   IPv4 $line4"
	echo "   IPv6 $line6"
	assert_eq "IPv4 A: answered" "$(kv answered "$line4")" 200
	assert_eq "IPv4 A: rcode NOERROR" "$(kv rcode0 "$line4")" 200
	assert_eq "IPv6 AAAA: answered" "$(kv answered "$line6")" 200
	assert_eq "IPv6 AAAA: rcode NOERROR" "$(kv rcode0 "$line6")" 200
	line=$(ask 4 10.100.51.198.in-addr.arpa PTR 1 10)
	echo "   PTR (6 labels) $line"
	assert_eq "PTR: answered" "$(kv answered "$line")" 1

	echo "== dig as a real client (EDNS, cookies)"
	dig_expect "$SRV4 www.big.example A $WWW4" \
		"$SRV4 www.big.example AAAA $WWW6" \
		"$SRV6 www.big.example A $WWW4" \
		"$SRV6 www.big.example AAAA $WWW6"

	dnsrl_usr1 any-abuse
	echo "   $STATS_LINE"
	pf4=$(($(dnsrl_prefilter_packets 4) - pf4))
	pf6=$(($(dnsrl_prefilter_packets 6) - pf6))
	echo "   bpf rules: IPv4 $pf4, IPv6 $pf6;" \
		"NFQUEUE rules: $(($(dnsrl_rule_packets) - q0))"
	assert_eq "IPv4 bpf rule counted the A, the PTR and 2 dig" "$pf4" 203
	assert_eq "IPv6 bpf rule counted the AAAA and 2 dig" "$pf6" 202
	assert_eq "NFQUEUE rules counted none" "$(($(dnsrl_rule_packets) - q0))" 0
	assert_eq "daemon packets" "$(kv packets "$STATS_LINE")" 0
	assert_eq "daemon verdicts" "$(kv verdicts "$STATS_LINE")" 0

	echo "== what the programs cannot follow goes to the queue"
	pf4=$(dnsrl_prefilter_packets)
	q0=$(dnsrl_rule_packets)
	line4=$(ask 4 a.b.c.d.e.f.g.big.example A 1 10)
	line6=$(ask 6 a.b.c.d.e.f.g.big.example AAAA 1 10)
	echo "   9 labels: IPv4 $line4"
	echo "   9 labels: IPv6 $line6"
	assert_eq "9 labels, IPv4: answered" "$(kv answered "$line4")" 1
	assert_eq "9 labels, IPv6: answered" "$(kv answered "$line6")" 1
	# A hop-by-hop header (next UDP, a PadN option of 4) before UDP.
	udp=$(hex_udp 40005 53 "$(hex_query www.big.example 28)")
	pkt=$(hex_ip6_packet "$CLI6" "$SRV6" 0 "1100010400000000$udp")
	line=$(cli "$QGEN" raw --hex "$pkt")
	echo "   hop-by-hop: $line"
	dnsrl_usr1 any-abuse
	echo "   $STATS_LINE"
	assert_eq "NFQUEUE rules counted them" "$(($(dnsrl_rule_packets) - q0))" 3
	assert_eq "bpf rules counted none of them" \
		"$(($(dnsrl_prefilter_packets) - pf4))" 0
	assert_eq "daemon packets" "$(kv packets "$STATS_LINE")" 3
	assert_eq "daemon queries" "$(kv queries "$STATS_LINE")" 3
	assert_eq "daemon accepted" "$(kv accepted "$STATS_LINE")" 3

	echo "== IPv4: $ATTACK4 ANY at 50/s for 10 s"
	pf4=$(dnsrl_prefilter_packets)
	q0=$(dnsrl_rule_packets)
	line=$(any_query "$ATTACK4" "$SRV4" 50 500)
	echo "   $line"
	assert_eq "ATTACK4: sent" "$(kv sent "$line")" 500
	assert_range "ATTACK4: answered (5 expected)" "$(kv answered "$line")" 4 6
	dnsrl_usr1 any-abuse
	rl=$(dnsrl_rule_stats any-abuse)
	echo "   $rl"
	assert_eq "IPv4 ANY: NFQUEUE rules counted all" \
		"$(($(dnsrl_rule_packets) - q0))" 500
	assert_eq "IPv4 ANY: bpf rules counted none" \
		"$(($(dnsrl_prefilter_packets) - pf4))" 0
	assert_eq "rule any-abuse matched" "$(kv matched "$rl")" 500
	assert_eq "rule any-abuse accepted = answered" \
		"$(kv accepted "$rl")" "$(kv answered "$line")"
	assert_eq "limited line for $ATTACK4/32" \
		"$(log_count ": limited: rule any-abuse source $ATTACK4/32 exceeds 2/5s \\(ANY big\\.example\\.\\)$")" 1

	echo "== IPv6: $ATTACK6A ANY at 50/s for 10 s"
	q0=$(dnsrl_rule_packets)
	n=$(kv matched "$rl")
	line=$(any_query "$ATTACK6A" "$SRV6" 50 500)
	echo "   $line"
	assert_eq "ATTACK6A: sent" "$(kv sent "$line")" 500
	assert_range "ATTACK6A: answered (5 expected)" "$(kv answered "$line")" 4 6
	dnsrl_usr1 any-abuse
	rl=$(dnsrl_rule_stats any-abuse)
	echo "   $rl"
	assert_eq "IPv6 ANY: NFQUEUE rules counted all" \
		"$(($(dnsrl_rule_packets) - q0))" 500
	assert_eq "IPv6 ANY: bpf rules counted none" \
		"$(($(dnsrl_prefilter_packets) - pf4))" 0
	assert_eq "rule any-abuse matched" "$(($(kv matched "$rl") - n))" 500
	assert_eq "verdicts = packets" \
		"$(kv verdicts "$STATS_LINE")" "$(kv packets "$STATS_LINE")"

	dnsrl_finish
}

main "$@"
