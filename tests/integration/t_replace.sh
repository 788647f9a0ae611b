#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t_replace.sh: the kernel takes the queue module's replacement verdict
# (QUEUE_REPLACE: an NFQNL_MSG_VERDICT NF_ACCEPT carrying NFQA_PAYLOAD) and
# sends the new packet in place of the one queued.  No daemon: the tool
# replace_probe binds queue 7 through queue_open/queue_process and
# replaces each packet's UDP payload with 40 fixed octets, rebuilding the
# IP and UDP lengths and checksums.  In the server namespace a UDP server
# on port 9053 answers every datagram with 3000 octets; an NFQUEUE rule in
# mangle OUTPUT (iptables and ip6tables, --sport 9053, no bypass) queues
# those answers, whole (before fragmentation), to the probe.
#   - IPv4 and IPv6: the client's socket receives one datagram, the 40
#     octets and nothing else.  The oracle is the client's own stack: it
#     delivers a datagram only when the IP and UDP lengths agree and the
#     UDP checksum verifies (veth leaves the checking to it, which the
#     control below shows), and its checksum-error counters stay 0;
#   - a capture on the client's side (tcpdump -vv, which verifies the
#     IPv4 header and UDP checksums itself) holds exactly those two
#     packets, "udp sum ok", no bad checksum, no fragment;
#   - the probe replaced one packet of each family; no verdict came back
#     refused, no send failed;
#   - a full batch: 128 IPv6 answers held on the queue until all are
#     there, then received in one batch and each replaced by a packet of
#     QUEUE_REPLACE_MAX (1280) octets, in one send of about 165 KiB: the
#     kernel takes it whole (no send failure, no error back) and the
#     client receives the 128 new datagrams;
#   - control: the probe writes a wrong UDP checksum on purpose: the
#     client receives nothing, its Udp and Udp6 InCsumErrors count one
#     each, and tcpdump says "bad udp cksum" twice.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

PROBE=$BUILD/tools/replace_probe
PORT=9053 # not 53: no other rule of the harness touches it
QNUM=7
ANSWER_LEN=3000
# A full batch's new UDP payload: an IPv6 packet of 1280 octets.
BATCH=128
LONG_LEN=1232
# The new UDP payload: 40 octets of text, nothing like the answer's start
NEW=$(printf 'replaced by replace_probe: 40 octets....' | od -An -v -tx1 |
	tr -d ' \n')

# A UDP server: answers each datagram on $SRV4 and $SRV6 port $PORT with
# ANSWER_LEN octets; ends after SECONDS.  Prints "ready" once bound.
# shellcheck disable=SC2016
SERVER_PY='
import select, socket, sys, time
port, size, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s4.bind((sys.argv[4], port))
s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
s6.bind((sys.argv[5], port))
# a queued answer holds its share of the send buffer until its verdict:
# room for a whole batch of them (SO_SNDBUFFORCE)
for s in (s4, s6):
    s.setsockopt(socket.SOL_SOCKET, 32, 8 << 20)
answer = bytes(i * 7 % 256 for i in range(size))
print("ready", flush=True)
end = time.monotonic() + secs
while time.monotonic() < end:
    r, _, _ = select.select([s4, s6], [], [], max(0, end - time.monotonic()))
    for s in r:
        data, peer = s.recvfrom(2048)
        s.sendto(answer, peer)
'

# A client: sends one datagram to ADDR PORT and prints what comes back
# within WAIT seconds of the send (and 0.5 s after the first answer):
# "datagrams=N len=L hex=H" of the first one (len=0 hex=- without; H
# ends in ... after 64 octets).
CLIENT_PY='
import socket, sys, time
addr, port, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.sendto(b"q", (addr, port))
got = []
end = time.monotonic() + wait
while time.monotonic() < end:
    s.settimeout(max(0.01, end - time.monotonic()))
    try:
        got.append(s.recv(65535))
    except socket.timeout:
        break
    end = min(end, time.monotonic() + 0.5)
first = got[0] if got else b""
hex = first[:64].hex() + ("..." if len(first) > 64 else "")
print("datagrams=%d len=%d hex=%s" % (len(got), len(first),
                                     hex if got else "-"))
'

# A burst: sends N datagrams to ADDR PORT from one socket and counts, for
# WAIT seconds at most, the datagrams that come back and those equal to
# HEX: "datagrams=N same=N".
BURST_PY='
import socket, sys, time
addr, port, n, want, wait = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]),
                             bytes.fromhex(sys.argv[4]), float(sys.argv[5]))
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE
for i in range(n):
    s.sendto(b"q", (addr, port))
got = same = 0
end = time.monotonic() + wait
while got < n and time.monotonic() < end:
    s.settimeout(max(0.01, end - time.monotonic()))
    try:
        d = s.recv(65535)
    except socket.timeout:
        break
    got += 1
    same += d == want
print("datagrams=%d same=%d" % (got, same))
'

# A counter of the client namespace's IP stack (lib.sh's snmp_counter
# reads the server's: it runs in $SRV_NS, here the client's for a call).
cli_snmp() {
	SRV_NS=$CLI_NS snmp_counter "$1"
}

# Waits up to 5 s for FILE to hold a line matching RE.
wait_file() {
	local i

	for ((i = 0; i < 50; i++)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	_err "$1: no line matching '$2': $(cat "$1" 2>/dev/null)"
	return 1
}

# Background commands go through `ip netns exec` itself (not srv or cli,
# which are functions run in a subshell): $! is then the command's pid.

# Starts the probe (OUT PAYLOAD COUNT, further arguments passed on) and
# waits until it has bound the queue.  Sets PROBE_PID; output in
# $RUN_DIR/OUT.
probe_start() {
	local out=$RUN_DIR/$1 payload=$2 count=$3

	shift 3
	ip netns exec "$SRV_NS" "$PROBE" "$QNUM" "$payload" "$count" 30 "$@" \
		>"$out" 2>&1 &
	PROBE_PID=$!
	track_pid "$PROBE_PID"
	wait_file "$out" '^ready queue='
}

# Waits for the probe to end (it does after COUNT packets, or 30 s: the
# clients are slow to start on a loaded machine) and sets
# PROBE_LINE, its closing line.
probe_wait() {
	local status=0

	wait "$PROBE_PID" || status=$?
	untrack_pid "$PROBE_PID"
	assert_eq "probe exit status" "$status" 0
	PROBE_LINE=$(tail -n 1 "$RUN_DIR/$1")
}

# Captures what the client's interface receives of UDP (fragments
# included) into $RUN_DIR/$1, each packet written as it comes.  Sets
# CAP_PID and CAP_FILE.
capture_start() {
	CAP_FILE=$RUN_DIR/$1
	ip netns exec "$CLI_NS" tcpdump -i "$CLI_IF" -Q in -U --immediate-mode \
		-n -w "$CAP_FILE" \
		'udp or (ip6 and ip6[6] == 44)' 2>"$RUN_DIR/$1.err" &
	CAP_PID=$!
	track_pid "$CAP_PID"
	wait_file "$RUN_DIR/$1.err" 'listening on'
}

# Packets in the capture file so far.
capture_count() {
	tcpdump -n -q -r "$CAP_FILE" 2>/dev/null | wc -l
}

# Stops the capture once it holds N packets, or after 3 s: a packet the
# client received may still be on its way from the kernel to tcpdump.
capture_stop() {
	local i

	for ((i = 0; i < 30; i++)); do
		[ "$(capture_count)" -ge "$1" ] && break
		sleep 0.1
	done
	kill -INT "$CAP_PID" 2>/dev/null || true
	wait "$CAP_PID" 2>/dev/null || true
	untrack_pid "$CAP_PID"
}

main() {
	local ipt line out pcap v4 v6 csum4 csum6 long

	if [ ! -x "$PROBE" ]; then
		_err "$PROBE missing: run make B=$B tools"
		exit 1
	fi
	ns_setup
	for ipt in iptables ip6tables; do
		srv "$ipt" -w -t mangle -A OUTPUT -p udp --sport "$PORT" \
			-m comment --comment "$NFQ_COMMENT" \
			-j NFQUEUE --queue-num "$QNUM"
	done
	ip netns exec "$SRV_NS" python3 -c "$SERVER_PY" "$PORT" "$ANSWER_LEN" \
		60 "$SRV4" "$SRV6" >"$RUN_DIR/server.out" 2>&1 &
	track_pid "$!"
	wait_file "$RUN_DIR/server.out" '^ready$'
	csum4=$(cli_snmp UdpInCsumErrors)
	csum6=$(cli_snmp Udp6InCsumErrors)

	echo "== 3000-octet answers replaced by 40 octets"
	capture_start good.pcap
	probe_start probe.out "$NEW" 2
	v4=$(cli python3 -c "$CLIENT_PY" "$SRV4" "$PORT" 5)
	v6=$(cli python3 -c "$CLIENT_PY" "$SRV6" "$PORT" 5)
	probe_wait probe.out
	line=$PROBE_LINE
	capture_stop 2
	echo "   IPv4 client: $v4"
	echo "   IPv6 client: $v6"
	echo "   probe: $line"
	assert_eq "IPv4: one datagram, the 40 octets" "$v4" \
		"datagrams=1 len=40 hex=$NEW"
	assert_eq "IPv6: one datagram, the 40 octets" "$v6" \
		"datagrams=1 len=40 hex=$NEW"
	assert_eq "probe: replaced, by family, skipped" \
		"$(kv replaced "$line") $(kv ipv4 "$line") $(kv ipv6 "$line") $(kv skipped "$line")" \
		"2 1 1 0"
	assert_eq "probe: send-fail, nl-errors, internal" \
		"$(kv send-fail "$line") $(kv nl-errors "$line") $(kv internal "$line")" \
		"0 0 0"
	assert_eq "client: Udp InCsumErrors, Udp6 InCsumErrors (unchanged)" \
		"$(cli_snmp UdpInCsumErrors) $(cli_snmp Udp6InCsumErrors)" \
		"$csum4 $csum6"

	pcap=$(tcpdump -n -vv -r "$RUN_DIR/good.pcap" 2>/dev/null)
	while IFS= read -r out; do
		echo "   | $out"
	done <<<"$pcap"
	assert_eq "capture: packets" "$(capture_count)" 2
	assert_eq "capture: UDP, length 40" \
		"$(grep -c 'UDP, length 40$' <<<"$pcap" || true)" 2
	assert_eq "capture: udp sum ok" \
		"$(grep -c '\[udp sum ok\]' <<<"$pcap" || true)" 2
	assert_eq "capture: bad checksums" \
		"$(grep -ci 'bad' <<<"$pcap" || true)" 0
	assert_eq "capture: fragments (IPv4 MF or offset, IPv6 header)" \
		"$(grep -cE 'flags \[\+|offset [1-9]|frag \(' <<<"$pcap" || true)" 0

	echo "== a full batch: $BATCH replacements of 1280 octets in one send"
	long=$(python3 -c "print((bytes(range(1, 256)) * 5)[:$LONG_LEN].hex())")
	probe_start probe-batch.out "$long" "$BATCH" gather
	out=$(cli python3 -c "$BURST_PY" "$SRV6" "$PORT" "$BATCH" "$long" 10)
	probe_wait probe-batch.out
	line=$PROBE_LINE
	echo "   IPv6 client: $out"
	echo "   probe: $line"
	assert_eq "probe: replaced (IPv6), skipped, batches" \
		"$(kv replaced "$line") $(kv ipv6 "$line") $(kv skipped "$line") $(kv batches "$line")" \
		"$BATCH $BATCH 0 1"
	assert_eq "probe: send-fail, nl-errors, internal" \
		"$(kv send-fail "$line") $(kv nl-errors "$line") $(kv internal "$line")" \
		"0 0 0"
	assert_eq "IPv6 client: datagrams, the new payload" "$out" \
		"datagrams=$BATCH same=$BATCH"
	assert_eq "client: Udp6 InCsumErrors (unchanged)" \
		"$(cli_snmp Udp6InCsumErrors)" "$csum6"

	echo "== control: a wrong UDP checksum is not delivered"
	capture_start bad.pcap
	probe_start probe-bad.out "$NEW" 2 bad-csum
	v4=$(cli python3 -c "$CLIENT_PY" "$SRV4" "$PORT" 1)
	v6=$(cli python3 -c "$CLIENT_PY" "$SRV6" "$PORT" 1)
	probe_wait probe-bad.out
	line=$PROBE_LINE
	capture_stop 2
	echo "   IPv4 client: $v4"
	echo "   IPv6 client: $v6"
	echo "   probe: $line"
	assert_eq "IPv4: nothing received" "$v4" "datagrams=0 len=0 hex=-"
	assert_eq "IPv6: nothing received" "$v6" "datagrams=0 len=0 hex=-"
	assert_eq "probe: replaced" "$(kv replaced "$line")" 2
	assert_eq "client: Udp InCsumErrors, Udp6 InCsumErrors (one each)" \
		"$(cli_snmp UdpInCsumErrors) $(cli_snmp Udp6InCsumErrors)" \
		"$((csum4 + 1)) $((csum6 + 1))"
	out=$(tcpdump -n -vv -r "$RUN_DIR/bad.pcap" 2>/dev/null)
	assert_eq "capture: bad udp cksum" \
		"$(grep -c 'bad udp cksum' <<<"$out" || true)" 2

	finish
}

main "$@"
