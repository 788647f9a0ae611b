#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Makes answer-fragments.pcap and answer-fragments.sizes beside this
# script: real answers of a real Unbound in fragments, for the
# reassembly's tests (test_defrag, test_replay).  Run as root from the
# top of the tree, after `make tools` (lib.sh's harness):
#
#	tests/data/make-answer-fragments.sh
#
# The harness's two namespaces (lib.sh) with the veth's MTU at 1280 on
# both ends; Unbound (edns-buffer-size 4096) answers dig, asking with a
# 4096-octet EDNS buffer, the ~4 KB TXT set of big.example three times
# over IPv4 (from 198.51.100.66) and three times over IPv6 (from
# 2001:db8:2:1::1), and www.big.example A once (a small answer).
# tcpdump captures on the client's end of the veth (Ethernet, every
# fragment: `udp port 53 or (ip[6:2] & 0x1fff != 0) or ip6[6] = 44`).
# The .sizes file is the outside oracle: dig's "MSG SIZE rcvd" for each
# big answer, "FAMILY SIZE" a line in the order asked (the client's
# kernel put the fragments back together for dig).
set -eu

# shellcheck source=../integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"

OUT=$(cd "$(dirname "$0")" && pwd)

main() {
	local cap sizes tdpid n fam src dst size

	ns_setup
	srv ip link set "$SRV_IF" mtu 1280
	cli ip link set "$CLI_IF" mtu 1280
	unbound_start
	cap=$RUN_DIR/answer-fragments.pcap
	sizes=$RUN_DIR/answer-fragments.sizes
	: >"$sizes"
	# not through srv/cli: $! must be tcpdump itself (ip netns exec
	# execs it), so that wait returns once it has written everything
	ip netns exec "$CLI_NS" tcpdump -i "$CLI_IF" -U -s 0 -w "$cap" \
		'udp port 53 or (ip[6:2] & 0x1fff != 0) or ip6[6] = 44' \
		>/dev/null 2>"$cap.err" &
	tdpid=$!
	track_pid "$tdpid"
	for ((n = 0; n < 100; n++)); do
		grep -q 'listening on' "$cap.err" 2>/dev/null && break
		sleep 0.1
	done
	assert_true "tcpdump listens" grep -q 'listening on' "$cap.err"
	for fam in 4 6 4 6 4 6; do
		src=$ATTACK4 dst=$SRV4
		[ "$fam" = 6 ] && src=$ATTACK6A dst=$SRV6
		size=$(cli dig +bufsize=4096 +ignore +tries=1 +time=2 -b "$src" \
			@"$dst" big.example TXT | awk '/^;; MSG SIZE/ { print $NF }')
		assert_range "IPv$fam: the TXT set's answer, in octets" \
			"${size:-0}" 3000 4096
		echo "$fam $size" >>"$sizes"
	done
	cli dig +tries=1 +time=2 -b "$ATTACK4" @"$SRV4" www.big.example A \
		>/dev/null
	# what tcpdump has not written yet is lost when it stops
	for ((n = 0; n < 50; n++)); do
		[ "$(tcpdump -nr "$cap" 2>/dev/null | wc -l)" -ge 32 ] && break
		sleep 0.1
	done
	kill "$tdpid" 2>/dev/null || true
	wait "$tdpid" 2>/dev/null || true
	untrack_pid "$tdpid"
	# 7 queries; 3 x 4 IPv4 fragments (1260 octets of data at most
	# each), 3 x 4 IPv6 ones (1232), 1 small answer
	assert_eq "frames captured" "$(tcpdump -nr "$cap" 2>/dev/null | wc -l)" 32
	cp "$cap" "$OUT/answer-fragments.pcap"
	cp "$sizes" "$OUT/answer-fragments.sizes"
	finish
}

main "$@"
