#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t_legit.sh: a legitimate client is never touched.  Behind the printed
# rules and the mission rule (ANY 2/5s): 200 A queries over IPv4 and 200
# over IPv6 (100/s each) and dig as a real client; the printed prefilter
# accepts these in the kernel.  Then 100 A over each family for a name of
# 14 labels, more than the prefilter follows: these go through the daemon.
# All are answered; the DNSRL chain counted each query once (prefilter or
# NFQUEUE, exactly as expected); the daemon got exactly the queued ones,
# accepted them all, and its rule matched none.  Three ANY at the end show
# the rule is live (two answered, matched 3), so that "matched 0" means
# something.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

conf=

main() {
	local r0 p0 line4 line6 n

	_run_dir
	conf=$RUN_DIR/dnsrl.conf
	dnsrl_conf "$conf" <<'EOF'
rule any-abuse {
	qtype ANY
	limit 2/5s
}
EOF
	dnsrl_env "$conf"
	echo "== daemon $DAEMON_PID up; IPv4 rules from --print-rules:"
	srv iptables -w -t mangle -S DNSRL | sed -E 's/(--bytecode )"[^"]*"/\1.../; s/^/   /'
	assert_true "printed rules have an IPv4 prefilter" \
		dnsrl_has_prefilter "$conf" 4
	assert_true "printed rules have an IPv6 prefilter" \
		dnsrl_has_prefilter "$conf" 6
	r0=$(dnsrl_rule_packets)
	p0=$(dnsrl_prefilter_packets)
	echo "== 200 A over IPv4 and 200 A over IPv6 at 100/s each"
	line4=$(cli "$QGEN" query --src "$CLI4" --dst "$SRV4" --qtype A \
		--qname www.big.example --rate 100 --count 200)
	line6=$(cli "$QGEN" query --src "$CLI6" --dst "$SRV6" --qtype A \
		--qname www.big.example --rate 100 --count 200)
	echo "   IPv4 $line4"
	echo "   IPv6 $line6"
	assert_eq "IPv4 A: sent" "$(kv sent "$line4")" 200
	assert_eq "IPv4 A: answered" "$(kv answered "$line4")" 200
	assert_eq "IPv4 A: rcode NOERROR" "$(kv rcode0 "$line4")" 200
	assert_eq "IPv6 A: sent" "$(kv sent "$line6")" 200
	assert_eq "IPv6 A: answered" "$(kv answered "$line6")" 200
	assert_eq "IPv6 A: rcode NOERROR" "$(kv rcode0 "$line6")" 200

	echo "== dig as a real client"
	# dig retries on its own; +tries=1 so that each query is one packet.
	dig_expect "$SRV4 www.big.example A $WWW4" \
		"$SRV4 www.big.example AAAA $WWW6" \
		"$SRV6 www.big.example A $WWW4" \
		"$SRV6 www.big.example AAAA $WWW6" \
		"$SRV4 ns.big.example A $SRV4" \
		"$SRV6 ns.big.example AAAA $SRV6"

	echo "== 100 A over each family for $QUEUED_NAME (to the daemon)"
	line4=$(cli "$QGEN" query --src "$CLI4" --dst "$SRV4" --qtype A \
		--qname "$QUEUED_NAME" --rate 100 --count 100)
	line6=$(cli "$QGEN" query --src "$CLI6" --dst "$SRV6" --qtype A \
		--qname "$QUEUED_NAME" --rate 100 --count 100)
	echo "   IPv4 $line4"
	echo "   IPv6 $line6"
	# NXDOMAIN: answered, rcode not 0.
	assert_eq "IPv4 A, 14 labels: answered" "$(kv answered "$line4")" 100
	assert_eq "IPv6 A, 14 labels: answered" "$(kv answered "$line6")" 100

	dnsrl_usr1 any-abuse
	echo "   $STATS_LINE"
	echo "   $(dnsrl_rule_stats any-abuse)"
	n=$((200 + 200 + DIG_SENT))
	echo "   DNSRL chain: prefilter $(($(dnsrl_prefilter_packets) - p0))," \
		"NFQUEUE $(($(dnsrl_rule_packets) - r0))"
	assert_eq "prefilter accepted the short names" \
		"$(($(dnsrl_prefilter_packets) - p0))" "$n"
	# The long names passed through the queue, not around it.
	assert_eq "NFQUEUE rules counted the long names" \
		"$(($(dnsrl_rule_packets) - r0))" 200
	assert_eq "daemon packets" "$(kv packets "$STATS_LINE")" 200
	assert_eq "daemon verdicts" "$(kv verdicts "$STATS_LINE")" 200
	assert_eq "daemon accepted" "$(kv accepted "$STATS_LINE")" 200
	assert_eq "daemon dropped" "$(kv dropped "$STATS_LINE")" 0
	assert_eq "daemon queries" "$(kv queries "$STATS_LINE")" 200
	assert_eq "rule any-abuse matched (legit traffic)" \
		"$(kv matched "$(dnsrl_rule_stats any-abuse)")" 0
	assert_eq "no limited line" "$(log_count ': limited: ')" 0

	echo "== the rule is live: 3 ANY at once from the same client"
	line4=$(any_query "$CLI4" "$SRV4" 1000 3)
	echo "   $line4"
	assert_eq "ANY x3: answered" "$(kv answered "$line4")" 2
	dnsrl_usr1 any-abuse
	echo "   $(dnsrl_rule_stats any-abuse)"
	assert_eq "rule any-abuse matched" \
		"$(kv matched "$(dnsrl_rule_stats any-abuse)")" 3
	assert_eq "rule any-abuse dropped" \
		"$(kv dropped "$(dnsrl_rule_stats any-abuse)")" 1

	dnsrl_finish
}

main "$@"
