#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# smoke-harness.sh: checks the harness itself (lib.sh, qgen, logsink) end
# to end, without the daemon: namespaces, Unbound, an NFQUEUE rule with
# --queue-bypass and no reader (so every packet passes), each qgen mode,
# the private /dev/log, and a cleanup that leaves nothing behind.
#
#   make B=build tools && sudo B=build tests/integration/smoke-harness.sh
#
# Prints one ok/FAIL line per check and a closing "N passed, N failed";
# exits non-zero on any failure.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

for tool in "$QGEN" "$LOGSINK"; do
	if [ ! -x "$tool" ]; then
		_err "$tool missing: run make B=$B tools"
		exit 1
	fi
done

ms_now() {
	date +%s%3N
}

t_start=$(ms_now)
ns_before=$(ip netns list | sort)
devlog_before=$(stat -Lc '%F %i' /dev/log 2>/dev/null || echo absent)

echo "== setup"
ns_setup
unbound_start
syslog_start
echo "   namespaces $SRV_NS $CLI_NS, run dir $RUN_DIR" \
	"($(($(ms_now) - t_start)) ms)"

echo "== dig as a real client"
assert_eq "dig @$SRV4 www.big.example A" \
	"$(cli dig +short +tries=2 +time=2 @"$SRV4" www.big.example A)" "$WWW4"
assert_eq "dig @$SRV6 www.big.example AAAA" \
	"$(cli dig +short +tries=2 +time=2 @"$SRV6" www.big.example AAAA)" \
	"$WWW6"

echo "== NFQUEUE rule with --queue-bypass and no reader"
nfqueue_rule_add 0
assert_eq "rule counter at start" "$(rule_packets)" 0

t0=$(ms_now)
line=$(cli "$QGEN" query --dst "$SRV4" --src "$CLI4" --qtype A \
	--qname www.big.example --rate 50 --count 20)
t1=$(ms_now)
echo "   $line"
assert_eq "query A x20: sent" "$(kv sent "$line")" 20
assert_eq "query A x20: answered" "$(kv answered "$line")" 20
assert_eq "query A x20: rcode0" "$(kv rcode0 "$line")" 20
# 19 gaps of 20 ms, then the last answer: about 0.38 s.
assert_range "query A x20 at 50/s: ms" "$((t1 - t0))" 370 900
assert_eq "rule counter v4 after 20 queries" "$(rule_packets 4)" 20

# The query is 40 octets of DNS: 12 header, 17 question, 11 OPT.
line=$(cli "$QGEN" query --dst "$SRV4" --src "$ATTACK4" --qtype ANY \
	--qname big.example --edns 4096 --rate 10 --count 5)
echo "   $line"
assert_eq "ANY x5 over IPv4: answered" "$(kv answered "$line")" 5
assert_eq "ANY x5 over IPv4: truncated" "$(kv truncated "$line")" 0
per=$(($(kv bytes "$line") / 5))
echo "   ANY answer over IPv4: $per octets for a 40-octet query" \
	"($((per / 40))x the DNS octets)"
assert_range "ANY over IPv4: octets per answer" "$per" 3800 4096
assert_eq "rule counter v4" "$(rule_packets 4)" 25

line=$(cli "$QGEN" query --dst "$SRV4" --src "$ATTACK4" --qtype ANY \
	--qname big.example --edns 0 --rate 10 --count 2)
echo "   $line"
assert_eq "ANY without EDNS: truncated" "$(kv truncated "$line")" 2

line=$(cli "$QGEN" query --dst "$SRV6" --src "$ATTACK6A" --qtype ANY \
	--qname big.example --edns 4096 --rate 10 --count 5)
echo "   $line"
assert_eq "ANY x5 over IPv6: answered" "$(kv answered "$line")" 5
assert_eq "ANY x5 over IPv6: truncated" "$(kv truncated "$line")" 0
per=$(($(kv bytes "$line") / 5))
echo "   ANY answer over IPv6: $per octets"
assert_range "ANY over IPv6: octets per answer" "$per" 3800 4096
assert_eq "rule counter v6" "$(rule_packets 6)" 5

echo "== flood from spoofed sources"
# Counting rules ahead of the NFQUEUE rule (an accepted packet leaves
# the chain): hashlimit keeps one entry per source, or per /56.
hl="-m hashlimit --hashlimit-above 1000000/sec --hashlimit-mode srcip
	--hashlimit-htable-size 65536 --hashlimit-htable-max 200000
	--hashlimit-htable-expire 60000"
# shellcheck disable=SC2086 # $hl is a list of words
srv iptables -w -I INPUT 1 -p udp --dport 53 -s "$FLOOD4_NET" $hl \
	--hashlimit-name "src$RUN_ID"
# shellcheck disable=SC2086
srv ip6tables -w -I INPUT 1 -p udp --dport 53 -s "${FLOOD6_NET}" $hl \
	--hashlimit-srcmask 56 --hashlimit-name "src$RUN_ID"

r0=$(rule_packets 4)
rx0=$(if_rx_packets)
in0=$(snmp_counter UdpInDatagrams)
ce0=$(snmp_counter UdpInCsumErrors)
line=$(cli "$QGEN" flood --dst "$SRV4" --src-net "$FLOOD4_NET" \
	--sources 1000 --rate 5000 --duration 2 --qtype ANY \
	--qname big.example)
echo "   $line"
sleep 0.2
assert_eq "flood v4: sent" "$(kv sent "$line")" 10000
secs=$(kv seconds "$line")
assert_range "flood v4: ms" "$(echo "$secs" | tr -d .)" 1990 2500
assert_eq "flood v4: NFQUEUE rule counter" "$(($(rule_packets 4) - r0))" \
	10000
# The veth link also carries ARP and IPv6 housekeeping.
assert_range "flood v4: interface rx" "$(($(if_rx_packets) - rx0))" \
	10000 10050
assert_eq "flood v4: UDP datagrams in" \
	"$(($(snmp_counter UdpInDatagrams) - in0))" 10000
assert_eq "flood v4: UDP checksum errors" \
	"$(($(snmp_counter UdpInCsumErrors) - ce0))" 0
assert_eq "flood v4: distinct sources" \
	"$(srv cat "/proc/net/ipt_hashlimit/src$RUN_ID" | wc -l)" 1000

r0=$(rule_packets 6)
in0=$(snmp_counter Udp6InDatagrams)
ce0=$(snmp_counter Udp6InCsumErrors)
line=$(cli "$QGEN" flood --dst "$SRV6" --src-net "$FLOOD6_NET" \
	--sources 500 --rate 2000 --duration 1 --mix A:90,AAAA:8,ANY:2)
echo "   $line"
sleep 0.2
assert_eq "flood v6: sent" "$(kv sent "$line")" 2000
assert_eq "flood v6: NFQUEUE rule counter" "$(($(rule_packets 6) - r0))" \
	2000
assert_eq "flood v6: UDP datagrams in" \
	"$(($(snmp_counter Udp6InDatagrams) - in0))" 2000
assert_eq "flood v6: UDP checksum errors" \
	"$(($(snmp_counter Udp6InCsumErrors) - ce0))" 0
assert_eq "flood v6: distinct /56 sources" \
	"$(srv cat "/proc/net/ip6t_hashlimit/src$RUN_ID" | wc -l)" 500

assert_eq "flood refuses 2,000,001 pps" \
	"$(cli "$QGEN" flood --dst "$SRV4" --src-net "$FLOOD4_NET" \
		--sources 10 --rate 2000001 --duration 1 2>/dev/null ||
		echo "exit $?")" "exit 1"
assert_eq "flood refuses 601 s" \
	"$(cli "$QGEN" flood --dst "$SRV4" --src-net "$FLOOD4_NET" \
		--sources 10 --rate 10 --duration 601 2>/dev/null ||
		echo "exit $?")" "exit 1"

echo "== send and raw"
r0=$(rule_packets 4)
line=$(cli "$QGEN" send --dst "$SRV4" --src "$CLI4" --hex 0102030405 \
	--wait 500)
echo "   $line"
assert_eq "send 5 octets: sent" "$(kv sent "$line")" 1
assert_eq "send 5 octets: no answer" "$(kv received "$line")" 0
assert_eq "send 5 octets: rule counter" "$(($(rule_packets 4) - r0))" 1

# A whole IPv4 packet, with a source that is not the client's own.
r0=$(rule_packets 4)
in0=$(snmp_counter UdpInDatagrams)
pkt=$(hex_ip4_packet 198.18.7.7 "$SRV4" 17 \
	"$(hex_udp 40000 53 "$(hex_query www.big.example 1)")")
line=$(cli "$QGEN" raw --hex "$pkt")
sleep 0.2
assert_eq "raw IPv4: sent" "$(kv sent "$line")" 1
assert_eq "raw IPv4: rule counter" "$(($(rule_packets 4) - r0))" 1
assert_eq "raw IPv4: UDP datagrams in" \
	"$(($(snmp_counter UdpInDatagrams) - in0))" 1

# The first fragment of a fragmented UDP/53 query over IPv6.
srv ip6tables -w -I INPUT 1 -m frag --fragfirst \
	-m comment --comment "frag$RUN_ID"
r0=$(rule_packets 6)
pkt=$(hex_ip6_packet "$ATTACK6B" "$SRV6" 44 \
	"$(hex_frag6 17 0 1 12345)$(hex_udp 40000 53 "$(hex_query big.example 255)")")
line=$(cli "$QGEN" raw --hex "$pkt")
sleep 0.2
assert_eq "raw IPv6 fragment: sent" "$(kv sent "$line")" 1
assert_eq "raw IPv6 fragment: -m frag counter" \
	"$(rule_packets 6 "frag$RUN_ID")" 1
assert_eq "raw IPv6 fragment: NFQUEUE rule counter" \
	"$(($(rule_packets 6) - r0))" 1

nfqueue_rules_del
assert_eq "NFQUEUE rules deleted" \
	"$(srv iptables -S INPUT | grep -c "$NFQ_COMMENT" || true)/$(srv ip6tables -S INPUT | grep -c "$NFQ_COMMENT" || true)" \
	0/0

echo "== syslog through the private /dev/log"
# A syslog(3) caller, as the daemon is one.
hello=$RUN_DIR/syslog-hello
if "${CC:-cc}" -x c -o "$hello" - <<'EOF'; then
#include <syslog.h>
int main(int argc, char **argv)
{
	openlog("smoke", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	syslog(LOG_INFO, "hello %s\nsecond line", argc > 1 ? argv[1] : "");
	closelog();
	return 0;
}
EOF
	in_private_devlog "$hello" "run$RUN_ID"
	assert_true "syslog(3) line arrives" wait_for_log "hello run$RUN_ID" 5
	echo "   $(grep -F "hello run$RUN_ID" "$SYSLOG_FILE" || true)"
	assert_eq "priority daemon.info, ident, pid" \
		"$(log_count "^<30>.* smoke\[[0-9]+\]: hello run$RUN_ID")" 1
	assert_eq "newline escaped, one line" \
		"$(grep -cF "run$RUN_ID\\nsecond line" "$SYSLOG_FILE" || true)" 1
else
	_fail "cannot compile the syslog(3) test program with ${CC:-cc}"
fi
in_private_devlog logger -t smoke "logger run$RUN_ID"
assert_true "logger line arrives" wait_for_log "smoke: logger run$RUN_ID" 5
assert_true "private /dev: null, urandom and the log link" \
	in_private_devlog sh -c \
	'echo x >/dev/null && test -c /dev/urandom && test -S /dev/log'
assert_eq "root namespace /dev/log untouched" \
	"$(stat -Lc '%F %i' /dev/log 2>/dev/null || echo absent)" \
	"$devlog_before"

echo "== a daemon in the private /dev/log namespace"
# A stand-in for dnsrl: logs at start and on SIGTERM, then exits 0.
daemon_start sh -c 'logger -t fake-daemon "up $$"
	trap "logger -t fake-daemon down; exit 0" TERM
	while :; do sleep 0.1; done'
assert_true "daemon start line" wait_for_log "fake-daemon: up $DAEMON_PID" 5
assert_eq "DAEMON_PID is in the server namespace" \
	"$(readlink "/proc/$DAEMON_PID/ns/net")" \
	"$(srv readlink /proc/self/ns/net)"
assert_true "DAEMON_PID has a mount namespace of its own" \
	test "$(readlink "/proc/$DAEMON_PID/ns/mnt")" != \
	"$(readlink /proc/self/ns/mnt)"
status=0
daemon_stop TERM || status=$?
assert_eq "daemon_stop: exit status" "$status" 0
assert_true "daemon stop line" wait_for_log "fake-daemon: down" 5

echo "== cleanup"
pids=("${_PIDS[@]}")
run_dir=$RUN_DIR
cleanup
alive=0
for pid in "${pids[@]}"; do
	kill -0 "$pid" 2>/dev/null && alive=$((alive + 1))
done
assert_eq "processes left (of ${#pids[@]})" "$alive" 0
# Other runs may come and go meanwhile: look for this run's names.
assert_eq "namespaces of this run left" \
	"$(ip netns list | grep -cE "^($SRV_NS|$CLI_NS)( |\$)" || true)" 0
echo "   ip netns list: $(echo "$ns_before" | grep -c .) namespaces" \
	"before, $(ip netns list | grep -c .) after"
assert_eq "run dir removed" "$([ -e "$run_dir" ] && echo present || echo gone)" \
	gone

echo "   total $(($(ms_now) - t_start)) ms"
finish
