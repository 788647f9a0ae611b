#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Writes the seed corpus of fuzz_packet into tests/fuzz/corpus/packet:
# IP packets (as NFQUEUE hands them over) and bare DNS messages, since the
# target reads every input both ways.  Deterministic; needs xxd.
set -eu

out=${1:-$(dirname "$0")/corpus/packet}
mkdir -p "$out"

# hex helpers: every value is a string of hex digits, two per octet
h16() { printf '%04x' "$1"; }
len() { echo $((${#1} / 2)); }

# wire-format name from dotted text ("" is the root)
name() {
	n=''
	old_ifs=$IFS
	IFS=.
	for l in $1; do
		n=$n$(printf '%02x' ${#l})$(printf '%s' "$l" | xxd -p | tr -d '\n')
	done
	IFS=$old_ifs
	echo "${n}00"
}

# header: flags qdcount arcount
hdr() { echo "beef$(h16 "$1")$(h16 "$2")00000000$(h16 "$3")"; }
# an EDNS OPT record: 1232 octets, DO set
opt() { echo "00002904d0000080000000"; }
# a query: name qtype [edns]
query() {
	if [ "${3:-}" = edns ]; then
		echo "$(hdr 0x0100 1 1)$(name "$1")$(h16 "$2")0001$(opt)"
	else
		echo "$(hdr 0x0100 1 0)$(name "$1")$(h16 "$2")0001"
	fi
}

udp() { echo "9c400035$(h16 $(($(len "$1") + 8)))0000$1"; }

# ipv4: proto frag payload [options]
ipv4() {
	o=${4:-}
	ihl=$((5 + $(len "$o") / 4))
	tot=$((ihl * 4 + $(len "$3")))
	echo "4${ihl}00$(h16 $tot)1234$(h16 "$2")40$(printf '%02x' "$1")0000c6336407cb007135$o$3"
}

# ipv6: next payload (extension headers included)
ipv6() {
	echo "60000000$(h16 $(len "$2"))$(printf '%02x' "$1")4020010db80000000000000000000000072001" \
		"0db8005300000000000000000053$2" | tr -d ' '
}

put() { echo "$2" | xxd -r -p >"$out/$1"; }

q_a=$(query www.example.com 1 edns)
q_any=$(query example.com 255 edns)

# bare DNS messages
put dns-a-edns "$q_a"
put dns-any-edns "$q_any"
put dns-root-ns "$(query '' 2)"
put dns-mixed-case "$(query Zone@[\`{.ExAmPlE.CoM 16)"
# "www" then a pointer to example.com after the question
put dns-pointer "$(hdr 0x0100 1 0)03777777c01600010001$(name example.com)"
put dns-pointer-loop "$(hdr 0x0100 1 0)c00c00010001"
l63=$(printf 'a%.0s' $(seq 63))
l61=$(printf 'b%.0s' $(seq 61))
l62=$(printf 'c%.0s' $(seq 62))
put dns-name-255 "$(query "$l63.$l63.$l63.$l61" 255)"
put dns-name-256 "$(query "$l63.$l63.$l63.$l62" 255)"
put dns-qdcount-2 "$(hdr 0x0100 2 0)$(name example.com)00ff0001$(name example.net)00010001"
put dns-response "$(hdr 0x8180 1 0)$(name example.com)00010001c00c000100010000012c0004c6336401"
put dns-bad-label "$(hdr 0x0100 1 0)406162630000010001"
put dns-escapes "$(query 'a%n.b\"c' 1)"
put dns-label-cut "$(hdr 0x0100 1 0)076578616d706c"
put dns-truncated "$(hdr 0x0100 1 0)$(name example.com)00"

# IPv4
put ipv4-a-edns "$(ipv4 17 0 "$(udp "$q_a")")"
put ipv4-any-edns "$(ipv4 17 0x4000 "$(udp "$q_any")")"
put ipv4-options "$(ipv4 17 0 "$(udp "$q_any")" 94040000)"
put ipv4-padding "$(ipv4 17 0 "$(udp "$q_a")")000000000000"
put ipv4-fragment "$(ipv4 17 0x2000 "$(udp "$q_any")")"
put ipv4-fragment-offset "$(ipv4 17 0x00b9 "$q_any")"
# a capture cut by the copy range inside the question
put ipv4-cut "$(ipv4 17 0 "$(udp "$q_a")" | cut -c1-100)"
put ipv4-tcp "$(ipv4 6 0 "9c400035000000000000000050020000000000000000")"

# IPv6, with hop-by-hop, destination options, routing, AH and an atomic
# fragment header in front of the second query
put ipv6-a-edns "$(ipv6 17 "$(udp "$q_a")")"
ext="3c00010400000000"
ext="${ext}2b01010c000000000000000000000000"
ext="${ext}330204000000000000000000000000000000000000000000"
ext="${ext}2c0100001000000000000000"
ext="${ext}1100000000abcdef"
put ipv6-any-ext "$(ipv6 0 "$ext$(udp "$q_any")")"
# one destination options header more than the walk allows
dst9=""
for i in 1 2 3 4 5 6 7 8; do dst9="${dst9}3c00010400000000"; done
put ipv6-ext-too-many "$(ipv6 60 "${dst9}1100010400000000$(udp "$q_any")")"
put ipv6-fragment "$(ipv6 44 "1100000900abcdef$(udp "$q_any")")"
put ipv6-icmpv6 "$(ipv6 58 "80000000123400010203")"
put ipv6-jumbo "$(ipv6 17 "$(udp "$q_a")" | sed 's/^\(.\{8\}\)..../\10000/')"

# fixed noise, for a start off the paths above
put random "6f1d2a9c04e7b3580cf1a26e9d4b7e1305c8f7a2d36b941e7c08e5f3a1942bd7"
