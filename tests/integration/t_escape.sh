#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# t_escape.sh: packet bytes are escaped before they reach a log line.  Two
# ANY queries whose names hold what could harm a log, each sent 5 times
# (limit 2/1m, so that the third is a first drop and its name is logged in
# the "limited" line):
#   1. IPv4, from ATTACK4: labels with LF, CR, "%n%s", a NUL, ESC "[31m",
#      0x7f, 0xff, '.', ' ', '\' and the octets kept as they are
#      (letters, digits, '-', '_', '*');
#   2. IPv6, from ATTACK6A: a name of the longest length, 255 octets, whose
#      four labels hold every octet value but the capital letters.
# Expected: the daemon's text of the name, exactly (octets other than
# a-z, 0-9, '-', '_', '*' as \DDD, decimal); one syslog message for the
# line, with nothing but printable ASCII in it; the same line on the
# daemon's stderr, and no other octet there either.  logsink writes a
# message's backslashes doubled and control octets as \n, \r, \t, \xHH:
# the lines are decoded back to the datagram before they are checked.
# Then the daemon is unaffected: an A query it sees and a fresh ANY are
# answered, and its counters are exact.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib-ops.sh
. "$(dirname "$0")/lib-ops.sh"

# Octets FROM..TO (decimal) in hex.
octets() {
	local i

	for ((i = $1; i <= $2; i++)); do
		printf '%02x' "$i"
	done
}

# An ANY query (id 0x1234, RD) for the wire-format name NAME_HEX.
any_query_hex() {
	printf '123401000001000000000000%s00ff0001\n' "$1"
}

# How many octets of stdin are not printable ASCII (0x20..0x7e).
unprintable() {
	od -An -v -tu1 | awk '{ for (i = 1; i <= NF; i++)
		if ($i < 32 || $i > 126) n++ } END { print n + 0 }'
}

# Sends the query for NAME_HEX 5 times from SRC to DST and checks the
# "limited" line of SOURCE (its text in the log) against the text
# EXPECTED for the name.
check_name() {
	local label=$1 src=$2 dst=$3 source=$4 name=$5 expected=$6 out line
	local msg want n

	out=$(cli "$QGEN" send --src "$src" --dst "$dst" --count 5 --wait 500 \
		--hex "$(any_query_hex "$name")")
	echo "   $label: a name of $((${#name} / 2)) octets; qgen send: $out"
	assert_eq "$label: 5 sent, the 2 accepted answered" "$out" \
		"sent=5 received=2"
	want="limited: rule any-abuse source $source exceeds 2/1m (ANY $expected)"
	assert_true "$label: its limited line is logged" \
		wait_for_log ": limited: rule any-abuse source ${source//./\\.} " 3
	# -a: a file with octets over 0x7f is no text to grep otherwise
	n=$(LC_ALL=C grep -acF ": limited: rule any-abuse source $source " "$SYSLOG_FILE" || true)
	assert_eq "$label: one syslog message" "$n" 1
	line=$(LC_ALL=C grep -a -m1 -F ": limited: rule any-abuse source $source " "$SYSLOG_FILE" || true)
	echo "   $label: the syslog file's line:"
	echo "     $line"
	assert_eq "$label: the datagram's unprintable octets" \
		"$(ops_sink_decode "$line" | unprintable)" 0
	msg=$(ops_sink_decode "$line")
	msg=${msg#*"dnsrl[$DAEMON_PID]: "}
	assert_eq "$label: the message, exactly" "$msg" "$want"
	assert_eq "$label: the same line on the daemon's stderr" \
		"$(LC_ALL=C grep -acxF -- "$want" "$RUN_DIR/daemon.out" || true)" 1
}

main() {
	local conf name expected l1 l2 l3 l4 line rl

	_run_dir
	conf=$RUN_DIR/dnsrl.conf
	dnsrl_conf "$conf" <<'EOF'
rule any-abuse {
	qtype ANY
	limit 2/1m
}
EOF
	dnsrl_env "$conf"

	echo "== 1. control octets, format directives, 0x7f, 0xff (IPv4)"
	# a LF b / CR % n % s / x NUL y / ESC [ 3 1 m / DEL 0xff /
	# a . b SP c \ / x - y _ z * 0 9 / big / example
	name=$(ops_hex_label 610a62 0d256e2573 780079 1b5b33316d 7fff \
		612e6220635c 782d795f7a2a3039 626967 6578616d706c65)00
	expected='a\010b.\013\037n\037s.x\000y.\027\09131m.\127\255.a\046b\032c\092.x-y_z*09.big.example.'
	check_name "IPv4" "$ATTACK4" "$SRV4" "$ATTACK4/32" "$name" "$expected"

	echo "== 2. 255 octets: every octet value but A-Z (IPv6)"
	l1=$(octets 128 190)
	l2=$(octets 191 253)
	l3=$(octets 254 255)$(octets 0 31)7f$(octets 32 59)
	l4=$(octets 60 64)$(octets 91 96)$(octets 123 126)$(octets 97 122)$(octets 128 147)
	name=$(ops_hex_label "$l1" "$l2" "$l3" "$l4")00
	assert_eq "the name's length in octets" "$((${#name} / 2))" 255
	expected="$(ops_dns_text "$l1").$(ops_dns_text "$l2").$(ops_dns_text "$l3").$(ops_dns_text "$l4")."
	check_name "IPv6" "$ATTACK6A" "$SRV6" "2001:db8:2::/56" "$name" "$expected"

	echo "== the logs as a whole"
	assert_eq "the daemon's stderr: octets outside printable ASCII and LF" \
		"$(tr -d '\n' <"$RUN_DIR/daemon.out" | unprintable)" 0
	n=0
	while IFS= read -r line; do
		[ "$(ops_sink_decode "$line" | unprintable)" = 0 ] || n=$((n + 1))
	done <"$SYSLOG_FILE"
	assert_eq "syslog messages with an unprintable octet" "$n" 0
	assert_eq "syslog file: octets over 0x7e" \
		"$(LC_ALL=C tr -d '\n -~' <"$SYSLOG_FILE" | wc -c)" 0

	echo "== the daemon afterwards"
	line=$(cli "$QGEN" query --src "$CLI4" --dst "$SRV4" --qtype A \
		--qname "$QUEUED_NAME" --rate 1 --count 1)
	echo "   CLI4 A (queued name): $line"
	assert_eq "an A query through the daemon: answered" "$(kv answered "$line")" 1
	line=$(any_query "$CLI4" "$SRV4" 1 1)
	echo "   CLI4 ANY: $line"
	assert_eq "a fresh source's ANY: answered" "$(kv answered "$line")" 1
	dnsrl_usr1 any-abuse
	rl=$(dnsrl_rule_stats any-abuse)
	echo "   $STATS_LINE"
	echo "   $rl"
	assert_eq "daemon: packets, verdicts, malformed" \
		"$(kv packets "$STATS_LINE") $(kv verdicts "$STATS_LINE") $(kv malformed "$STATS_LINE")" \
		"12 12 0"
	assert_eq "rule: matched, accepted, dropped" \
		"$(kv matched "$rl") $(kv accepted "$rl") $(kv dropped "$rl")" "11 5 6"

	dnsrl_finish
}

main "$@"
