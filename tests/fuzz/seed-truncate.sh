#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Writes the seed corpus of fuzz_truncate into tests/fuzz/corpus/truncate:
# DNS answers from port 53 as NFQUEUE hands them over at OUTPUT (whole IP
# datagrams), the shapes the rewrite keeps and the ones it refuses.  The
# checksums are left 0: the rewrite does not read them.  Deterministic;
# needs xxd.
#
# The corpus also holds inputs this script does not write: empty; fuzz-*,
# the inputs of a 5-minute run that reach an edge of truncate.c or csum.c
# the seeds do not (libFuzzer -merge=1 -use_counters=0 over a build that
# instruments only those two); ldns-ns-*, answers whose NS RDATA disagrees
# with its RDLENGTH, which ldns_wire2pkt frames differently from the RFC
# (see oracle_rrs in tests/truncate_oracle.h).
set -eu

out=${1:-$(dirname "$0")/corpus/truncate}
mkdir -p "$out"

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

# header: flags qd an ns ar
hdr() { echo "beef$(h16 "$1")$(h16 "$2")$(h16 "$3")$(h16 "$4")$(h16 "$5")"; }
# OPT: 1232 octets, DO, a client and server cookie
opt_cookie="00002904d000008000001c000a001801020304050607080100000065432100deadbeefcafebabe"
# OPT: extended RCODE 1 (BADCOOKIE with RCODE 7), no options
opt_ext="00002904d0010080000000"
# answer and authority for the question at 12 (pointers to its name):
# two TXT, then NS ns1.example.
rrs() {
	echo "c00c001000010000012c000403616263" \
		"c00c001000010000012c000706616e73776572" \
		"c00c0002000100015180000d036e7331076578616d706c6500" | tr -d ' '
}
ns_glue="036e7331076578616d706c6500000100010000012c0004c6336401"
# TSIG: key.example. ANY, hmac-sha256., a 32-octet MAC
tsig="036b6579076578616d706c6500" # owner
tsig="${tsig}00fa00ff0000000000" # type, class, TTL, then RDLENGTH
# algorithm, time (48 bits), fudge, MAC size and MAC, original ID,
# error, other length
tsig_rd="0b686d61632d73686132353600""000065530000""012c""0020$(printf '%064d' 0)"
tsig_rd="${tsig_rd}beef00000000"
tsig="${tsig}$(printf '%02x' $(($(len "$tsig_rd"))))$tsig_rd"

udp() { echo "0035a112$(h16 $(($(len "$1") + 8)))0000$1"; }

# ipv4: frag payload [options]
ipv4() {
	o=${3:-}
	ihl=$((5 + $(len "$o") / 4))
	tot=$((ihl * 4 + $(len "$2")))
	echo "4${ihl}b8$(h16 $tot)4d2e$(h16 "$1")3d110000c6336435cb007107$o$2"
}

# ipv6: next payload (extension headers included)
ipv6() {
	echo "6b812345$(h16 $(len "$2"))$(printf '%02x' "$1")3920010db800530000000000000000005320010db8" \
		"000000000000000000000007$2" | tr -d ' '
}

put() { echo "$2" | xxd -r -p >"$out/$1"; }

q=$(name www.example.com)0010 # TXT, then IN
q="${q}0001"
full="$(hdr 0x8580 1 2 1 2)${q}$(rrs)${ns_glue}${opt_cookie}"
put v4-full-opt-last "$(ipv4 0x4000 "$(udp "$full")")"
first="$(hdr 0x8180 1 2 1 2)${q}$(rrs)${opt_cookie}${ns_glue}"
put v4-options-opt-first "$(ipv4 0 "$(udp "$first")" 94040000)"
# NXDOMAIN for . NS with an SOA (root names, zero numbers) for authority
root="$(hdr 0x81a3 1 0 1 0)0000020001000006000100015180001600$(printf '%042d' 0)"
put v4-root-nxdomain "$(ipv4 0 "$(udp "$root")")"
put v6-ext-rcode "$(ipv6 17 "$(udp "$(hdr 0x8187 1 0 0 1)${q}${opt_ext}")")"
ext="3c00050200000100" # hop-by-hop: router alert, PadN
ext="${ext}2c011e08000000000000000001020000" # destination options
ext="${ext}1100000012345678" # atomic fragment
put v6-chain "$(ipv6 0 "$ext$(udp "$full")")"
put v6-routing "$(ipv6 43 "110204000000000020010db8000000000000000000000007$(udp "$full")")"
put v6-fragment "$(ipv6 44 "1100000112345678$(udp "$full")")"
put v4-fragment "$(ipv4 0x2000 "$(udp "$full")")"
put v4-lsrr "$(ipv4 0 "$(udp "$full")" 01830704c6336409)"
put v4-tsig "$(ipv4 0 "$(udp "$(hdr 0x8580 1 2 1 3)${q}$(rrs)${ns_glue}${opt_cookie}${tsig}")")"
put v4-query "$(ipv4 0 "$(udp "$(hdr 0x0100 1 0 0 1)${q}${opt_cookie}")")"
put v4-two-opts "$(ipv4 0 "$(udp "$(hdr 0x8180 1 0 0 2)${q}${opt_ext}${opt_cookie}")")"
put v4-opt-in-answer "$(ipv4 0 "$(udp "$(hdr 0x8180 1 1 0 0)${q}${opt_ext}")")"
put v4-question-pointer "$(ipv4 0 "$(udp "$(hdr 0x8180 1 0 0 0)03777777c01600100001$(name example.com)")")"
l63=$(printf 'a%.0s' $(seq 63))
l61=$(printf 'b%.0s' $(seq 61))
put v6-name-255-any "$(ipv6 17 "$(udp "$(hdr 0x8180 1 0 0 1)$(name "$l63.$l63.$l63.$l61")00ff0001${opt_cookie}")")"
put v4-trailing "$(ipv4 0 "$(udp "$(hdr 0x8180 1 0 0 1)${q}${opt_ext}deadbeef00")")"
# the OPT's RDLENGTH one octet past the end of the message
put v4-opt-past-end "$(ipv4 0 "$(udp "$(hdr 0x8180 1 0 0 1)${q}00002904d000008000000201")")"
put v4-counts-65535 "$(ipv4 0 "$(udp "$(hdr 0x8180 1 65535 65535 65535)${q}$(rrs)")")"
