# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts sourcing this
#
# The namespace harness of the integration tests, the demo and the
# benchmark.  Source it from a bash script that runs as root with `set -eu`:
#
#	. "$(dirname "$0")/lib.sh"
#	ns_setup		# server and client namespaces, one veth pair
#	unbound_start		# Unbound on $SRV4 and $SRV6, port 53
#	syslog_start		# logsink on $RUN_DIR/devlog -> $SYSLOG_FILE
#	nfqueue_rule_add 0	# the NFQUEUE rule, with --queue-bypass
#	daemon_start "$DNSRL" -d -c "$conf"
#	line=$(cli "$QGEN" query --dst "$SRV4" --qtype ANY ...)
#	assert_eq "answered" "$(kv answered "$line")" 5
#	finish			# summary line, cleanup, exit status
#
# Also: srv CMD / cli CMD (run in a namespace), in_private_devlog CMD,
# daemon_stop, wait_for_log RE, log_count RE, nfqueue_rules_del,
# rule_packets [4|6] [COMMENT], if_rx_packets, snmp_counter NAME,
# kv KEY LINE, assert_eq / assert_range / assert_true, track_pid PID,
# on_cleanup CMD, and hex_* builders of packets for qgen send and raw.
#
# Sourcing registers `cleanup` on EXIT, INT and TERM: whatever the run
# started is stopped and removed, even after a failure.  KEEP_RUN_DIR=1
# keeps the run's temporary directory (configs, logs) for a post-mortem.
#
# Topology (no default route anywhere, so nothing leaves the two
# namespaces; nothing is sent from the root namespace):
#
#   server ns $SRV_NS                         client ns $CLI_NS
#   $SRV_IF 198.51.100.1/24    <--veth-->     $CLI_IF 198.51.100.10 legit
#           2001:db8:1::1/64                          198.51.100.66 attacker
#   routes to the client side:                        198.51.100.67 attacker 2
#     203.0.113.0/24, 198.18.0.0/15                   203.0.113.10 allow-listed
#     2001:db8::/32 (less specific                    2001:db8:1::10
#     than the link's /64)                            2001:db8:2:1::1 } one /56
#                                                     2001:db8:2:2::1 }
#                                                     2001:db8:3::1  another /56
#
# Packets with spoofed sources in 198.18.0.0/15 or 2001:db8::/32 (qgen
# flood --src-net $FLOOD4_NET or $FLOOD6_NET) reach the server, and its answers go back to the client
# namespace, which does not forward and drops them.

# Where things are: the tree, the build directory ($B as make passes it).
LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$LIB_DIR/../.." && pwd)
B=${B:-build}
case $B in
/*) BUILD=$B ;;
*) BUILD=$TOP/$B ;;
esac
QGEN=$BUILD/tools/qgen
LOGSINK=$BUILD/tools/logsink
DNSRL=$BUILD/dnsrl
TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}

# Names unique to this run, so that parallel runs do not collide.
RUN_ID=${RUN_ID:-$$}
SRV_NS=dnsrl-srv-$RUN_ID
CLI_NS=dnsrl-cli-$RUN_ID
SRV_IF=dsv$RUN_ID
CLI_IF=dcl$RUN_ID
NFQ_COMMENT=dnsrl-nfq-$RUN_ID
RUN_DIR=

# Addresses (see the topology above).
SRV4=198.51.100.1
SRV6=2001:db8:1::1
CLI4=198.51.100.10
ATTACK4=198.51.100.66
ATTACK4B=198.51.100.67
ALLOWED4=203.0.113.10
CLI6=2001:db8:1::10
ATTACK6A=2001:db8:2:1::1
ATTACK6B=2001:db8:2:2::1
OTHER6=2001:db8:3::1
FLOOD4_NET=198.18.0.0/15
FLOOD6_NET=2001:db8:100::/40
# What Unbound answers for www.big.example.
WWW4=198.51.100.80
WWW6=2001:db8:1::80

UNBOUND_PID=
LOGSINK_PID=
DAEMON_PID=
SYSLOG_SOCK=
SYSLOG_FILE=
PASS_COUNT=0
FAIL_COUNT=0
_PIDS=()
_CLEANUP_HOOKS=()

_err() {
	printf '%s: %s\n' "$TEST_NAME" "$*" >&2
}

# Runs a command in the server / client namespace.
srv() {
	ip netns exec "$SRV_NS" "$@"
}

cli() {
	ip netns exec "$CLI_NS" "$@"
}

# The per-run temporary directory, made on first use.
_run_dir() {
	if [ -z "$RUN_DIR" ]; then
		RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dnsrl-test.$RUN_ID.XXXXXX")
	fi
}

# Processes that cleanup stops; commands it runs first (`on_cleanup CMD`).
# A pid that has been waited for must be untracked: it may be reused.
track_pid() {
	_PIDS+=("$1")
}

untrack_pid() {
	local pid keep=()

	for pid in "${_PIDS[@]}"; do
		[ "$pid" = "$1" ] || keep+=("$pid")
	done
	_PIDS=("${keep[@]}")
}

on_cleanup() {
	_CLEANUP_HOOKS+=("$1")
}

# Stops what the run started and removes what it made.  Idempotent: safe
# from the traps, from finish and from the test itself.
cleanup() {
	local h pid i alive

	for h in "${_CLEANUP_HOOKS[@]}"; do
		eval "$h" >/dev/null 2>&1 || true
	done
	_CLEANUP_HOOKS=()
	for pid in "${_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	# Up to 5 s for a clean exit, then SIGKILL.
	for ((i = 0; i < 50; i++)); do
		alive=0
		for pid in "${_PIDS[@]}"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		[ "$alive" = 0 ] && break
		sleep 0.1
	done
	for pid in "${_PIDS[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
		wait "$pid" 2>/dev/null || true
	done
	_PIDS=()
	ip netns del "$SRV_NS" 2>/dev/null || true
	ip netns del "$CLI_NS" 2>/dev/null || true
	if [ -n "$RUN_DIR" ] && [ -d "$RUN_DIR" ]; then
		if [ "${KEEP_RUN_DIR:-0}" = 1 ]; then
			echo "$TEST_NAME: kept $RUN_DIR"
		else
			rm -rf "$RUN_DIR"
		fi
	fi
}

# From a trap, bash 5.2 warns "wait_for: No record of process" once
# cleanup has killed a child and runs another command: noise, hidden.
trap 'cleanup 2>/dev/null' EXIT
trap 'cleanup 2>/dev/null; exit 130' INT
trap 'cleanup 2>/dev/null; exit 143' TERM

# Creates both namespaces, the veth pair, addresses and routes.  Prints
# nothing on success.
ns_setup() {
	if [ "$(id -u)" != 0 ]; then
		_err "needs root (namespaces, iptables, raw sockets)"
		return 1
	fi
	_run_dir
	(
		set -e
		ip netns add "$SRV_NS"
		ip netns add "$CLI_NS"
		for ns in "$SRV_NS" "$CLI_NS"; do
			# No duplicate address detection: addresses are
			# usable at once, link-local ones included.
			ip netns exec "$ns" sysctl -qw \
				net.ipv6.conf.all.accept_dad=0 \
				net.ipv6.conf.default.accept_dad=0
			ip -n "$ns" link set lo up
		done
		# Made inside the namespaces: never a link in the root one.
		ip link add "$SRV_IF" netns "$SRV_NS" type veth \
			peer name "$CLI_IF" netns "$CLI_NS"

		ip -n "$SRV_NS" addr add "$SRV4/24" dev "$SRV_IF"
		ip -n "$SRV_NS" addr add "$SRV6/64" dev "$SRV_IF" nodad
		ip -n "$SRV_NS" link set "$SRV_IF" up

		ip -n "$CLI_NS" addr add "$CLI4/24" dev "$CLI_IF"
		ip -n "$CLI_NS" addr add "$ATTACK4/24" dev "$CLI_IF"
		ip -n "$CLI_NS" addr add "$ATTACK4B/24" dev "$CLI_IF"
		ip -n "$CLI_NS" addr add "$ALLOWED4/24" dev "$CLI_IF"
		for a in "$CLI6" "$ATTACK6A" "$ATTACK6B" "$OTHER6"; do
			ip -n "$CLI_NS" addr add "$a/64" dev "$CLI_IF" nodad
		done
		ip -n "$CLI_NS" link set "$CLI_IF" up

		# The server reaches every client-side source through the
		# client's link address; that includes spoofed flood sources,
		# whose answers the client then drops (it does not forward).
		ip -n "$SRV_NS" route add 203.0.113.0/24 via "$CLI4"
		ip -n "$SRV_NS" route add "$FLOOD4_NET" via "$CLI4"
		ip -n "$SRV_NS" -6 route add 2001:db8::/32 via "$CLI6"
	) || {
		_err "ns_setup failed"
		return 1
	}
}

# The zone: ~4 KB answers at big.example. for ANY (from the SOA, MX, A and
# AAAA sets: see unbound_start) and for TXT.
_big_zone() {
	local i pad

	pad=$(printf '%0255d' 0 | tr 0 x)
	cat <<EOF
\$ORIGIN big.example.
\$TTL 3600
@	IN SOA	ns.big.example. hostmaster.big.example. 1 3600 900 604800 300
@	IN NS	ns.big.example.
ns	IN A	$SRV4
ns	IN AAAA	$SRV6
www	IN A	$WWW4
www	IN AAAA	$WWW6
EOF
	for ((i = 1; i <= 8; i++)); do
		printf '@\tIN MX\t%d mail%02d-%s.big.example.\n' \
			"$((i * 10))" "$i" "${pad:0:40}"
	done
	for ((i = 1; i <= 64; i++)); do
		printf '@\tIN A\t198.18.%d.%d\n' "$((i / 250))" "$((i % 250))"
	done
	for ((i = 1; i <= 84; i++)); do
		printf '@\tIN AAAA\t2001:db8:53::%x\n' "$i"
	done
	for ((i = 1; i <= 15; i++)); do
		printf '@\tIN TXT\t"%02d %s"\n' "$i" "${pad:0:247}"
	done
}

_unbound_conf() {
	local d=$1

	cat <<EOF
server:
	directory: "$d"
	chroot: ""
	username: ""
	do-daemonize: no
	pidfile: "$d/unbound.pid"
	logfile: "$d/unbound.log"
	use-syslog: no
	verbosity: 1
	num-threads: 1
	interface: $SRV4
	interface: $SRV6
	port: 53
	do-ip4: yes
	do-ip6: yes
	access-control: 198.51.100.0/24 allow
	access-control: 203.0.113.0/24 allow
	access-control: 198.18.0.0/15 allow
	access-control: 2001:db8::/32 allow
	edns-buffer-size: 4096
	max-udp-size: 4096
	minimal-responses: no
	deny-any: no
	ratelimit: 0
	ip-ratelimit: 0
	module-config: "iterator"
	# No recursion: every name outside big.example. gets NXDOMAIN at
	# once, so no query ever tries to leave the namespace.
	local-zone: "." static
	local-zone: "big.example." transparent
auth-zone:
	name: "big.example."
	zonefile: "$d/big.example.zone"
	for-downstream: yes
	for-upstream: no
	fallback-enabled: no
remote-control:
	control-enable: no
EOF
}

# Starts Unbound in the server namespace and waits until it answers on
# both addresses.  Unbound 1.17 answers ANY from local-data with NODATA,
# and from an auth-zone with the SOA, MX, A and AAAA sets only (RFC 8482
# style), never TXT: the zone makes those four sets ~4 KB together.
unbound_start() {
	local d i ok

	_run_dir
	d=$RUN_DIR/unbound
	mkdir -p "$d"
	_big_zone >"$d/big.example.zone"
	_unbound_conf "$d" >"$d/unbound.conf"
	if ! unbound-checkconf "$d/unbound.conf" >"$d/checkconf.out" 2>&1; then
		_err "unbound-checkconf: $(cat "$d/checkconf.out")"
		return 1
	fi
	# ip netns exec, setpriv and unbound exec in turn: $! is Unbound's
	# pid.  The parent-death signal stops it should this shell be killed.
	ip netns exec "$SRV_NS" setpriv --pdeathsig TERM \
		unbound -d -c "$d/unbound.conf" >"$d/stderr" 2>&1 &
	UNBOUND_PID=$!
	track_pid "$UNBOUND_PID"
	for ((i = 0; i < 50; i++)); do
		if ! kill -0 "$UNBOUND_PID" 2>/dev/null; then
			_err "unbound exited: $(cat "$d/stderr" "$d/unbound.log" 2>/dev/null)"
			return 1
		fi
		ok=0
		[ "$(cli dig +short +tries=1 +time=1 @"$SRV4" www.big.example A)" = "$WWW4" ] && ok=$((ok + 1))
		[ "$(cli dig +short +tries=1 +time=1 @"$SRV6" www.big.example AAAA)" = "$WWW6" ] && ok=$((ok + 1))
		[ "$ok" = 2 ] && return 0
		sleep 0.1
	done
	_err "unbound does not answer on $SRV4 and $SRV6"
	return 1
}

# Starts logsink on $SYSLOG_SOCK and waits for the socket.  Each syslog
# message then becomes one line of $SYSLOG_FILE.
syslog_start() {
	local i

	_run_dir
	SYSLOG_SOCK=$RUN_DIR/devlog
	SYSLOG_FILE=$RUN_DIR/syslog.txt
	: >"$SYSLOG_FILE"
	"$LOGSINK" "$SYSLOG_SOCK" "$SYSLOG_FILE" 2>>"$RUN_DIR/logsink.err" &
	LOGSINK_PID=$!
	track_pid "$LOGSINK_PID"
	for ((i = 0; i < 50; i++)); do
		[ -S "$SYSLOG_SOCK" ] && return 0
		kill -0 "$LOGSINK_PID" 2>/dev/null || break
		sleep 0.1
	done
	_err "logsink did not start: $(cat "$RUN_DIR/logsink.err")"
	return 1
}

# Run by `sh -c` in a private mount namespace inside the server namespace:
# a tmpfs over /dev holding the usual nodes (bind-mounted from the real
# /dev) and a /dev/log that is a symlink to the run's logsink socket; then
# it execs the command.  Nothing changes in the root mount namespace, and
# the process keeps its pid through the execs (ip, unshare, sh).
# shellcheck disable=SC2016
_PRIVATE_DEV_SH='
set -e
run=$1
shift
mkdir -p "$run/hostdev"
mount --rbind /dev "$run/hostdev"
mount -t tmpfs -o mode=0755,nosuid,size=1m dnsrl-dev /dev
for n in null zero full random urandom tty; do
	[ -e "$run/hostdev/$n" ] || continue
	: >"/dev/$n"
	mount --bind "$run/hostdev/$n" "/dev/$n"
done
for d in pts shm; do
	[ -d "$run/hostdev/$d" ] || continue
	mkdir "/dev/$d"
	mount --rbind "$run/hostdev/$d" "/dev/$d"
done
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
ln -s pts/ptmx /dev/ptmx
ln -s "$run/devlog" /dev/log
umount -l "$run/hostdev"
exec "$@"
'

# Runs a command in the server namespace with /dev/log going to logsink.
in_private_devlog() {
	ip netns exec "$SRV_NS" unshare --mount --propagation private \
		/bin/sh -c "$_PRIVATE_DEV_SH" private-dev "$RUN_DIR" "$@"
}

# Starts the daemon (or any command) like in_private_devlog, in the
# background; its output goes to $RUN_DIR/daemon.out.  Sets DAEMON_PID,
# the command's own pid.  It gets SIGTERM should this shell be killed.
daemon_start() {
	_run_dir
	ip netns exec "$SRV_NS" setpriv --pdeathsig TERM \
		unshare --mount --propagation private \
		/bin/sh -c "$_PRIVATE_DEV_SH" private-dev "$RUN_DIR" "$@" \
		>>"$RUN_DIR/daemon.out" 2>&1 &
	DAEMON_PID=$!
	track_pid "$DAEMON_PID"
}

# Sends SIGTERM (or the signal given) to the daemon and waits up to 10 s.
# Returns the daemon's exit status, or 124 after having to SIGKILL it.
daemon_stop() {
	local sig=${1:-TERM} i status=0 killed=0

	[ -n "$DAEMON_PID" ] || return 0
	kill -"$sig" "$DAEMON_PID" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -KILL "$DAEMON_PID" 2>/dev/null || true
		killed=1
	fi
	wait "$DAEMON_PID" 2>/dev/null || status=$?
	untrack_pid "$DAEMON_PID"
	DAEMON_PID=
	[ "$killed" = 0 ] || return 124
	return "$status"
}

# Waits up to TIMEOUT seconds (default 5) for a line of $SYSLOG_FILE
# matching the extended regular expression.
wait_for_log() {
	local re=$1 timeout=${2:-5} i

	for ((i = 0; i < timeout * 10; i++)); do
		grep -Eq -- "$re" "$SYSLOG_FILE" && return 0
		sleep 0.1
	done
	return 1
}

# How many lines of $SYSLOG_FILE match the extended regular expression.
log_count() {
	grep -Ec -- "$1" "$SYSLOG_FILE" || true
}

# Appends the NFQUEUE rule for UDP/53 to INPUT, IPv4 and IPv6, in the
# server namespace.  QNUM is a queue number or a range N-M (balanced);
# further arguments are added to both rules.
nfqueue_rule_add() {
	local q=$1 qspec ipt

	shift
	case $q in
	*-*) qspec="--queue-balance ${q%-*}:${q#*-}" ;;
	*) qspec="--queue-num $q" ;;
	esac
	for ipt in iptables ip6tables; do
		# shellcheck disable=SC2086 # qspec is two words
		srv "$ipt" -w -A INPUT -p udp --dport 53 \
			-m comment --comment "$NFQ_COMMENT" \
			-j NFQUEUE $qspec --queue-bypass "$@" || return 1
	done
}

# Deletes every rule this run added with nfqueue_rule_add.
nfqueue_rules_del() {
	local ipt rule

	for ipt in iptables ip6tables; do
		srv "$ipt" -w -S INPUT | grep -F -- "--comment $NFQ_COMMENT " |
			while read -r rule; do
				# The rule text has no quoted words: split it.
				# shellcheck disable=SC2086
				srv "$ipt" -w ${rule/-A/-D}
			done
	done
}

# Packets counted by the INPUT rules carrying COMMENT (default: the
# NFQUEUE rule), for FAMILY 4, 6 or all (default).
rule_packets() {
	local fam=${1:-all} comment=${2:-$NFQ_COMMENT} n=0 ipt c

	case $fam in
	4) set -- iptables ;;
	6) set -- ip6tables ;;
	*) set -- iptables ip6tables ;;
	esac
	for ipt in "$@"; do
		c=$(srv "$ipt" -w -vnxL INPUT |
			awk -v c="/* $comment */" 'index($0, c) { s += $1 }
				END { print s + 0 }')
		n=$((n + c))
	done
	echo "$n"
}

# The server interface's received packets.
if_rx_packets() {
	srv cat "/sys/class/net/$SRV_IF/statistics/rx_packets"
}

# A counter of the server namespace's IP stack, by its nstat name:
# UdpInDatagrams, UdpInCsumErrors, Udp6InDatagrams ...
snmp_counter() {
	srv cat /proc/net/snmp /proc/net/snmp6 | awk -v want="$1" '
		# snmp: per protocol, a line of names, then one of values
		/^[A-Za-z0-9]+: / {
			if (hdr != $1) { hdr = $1; split($0, names); next }
			p = substr($1, 1, length($1) - 1)
			for (i = 2; i <= NF; i++)
				if (p names[i] == want) print $i
			hdr = ""; next
		}
		# snmp6: a name and its value
		$1 == want { print $2 }'
}

# The value of KEY in a line of key=value pairs (qgen's output).
kv() {
	local key=$1 w

	for w in $2; do
		case $w in
		"$key="*)
			echo "${w#*=}"
			return 0
			;;
		esac
	done
	return 1
}

# Assertions: each prints one "ok" or "FAIL" line and is counted.
_ok() {
	PASS_COUNT=$((PASS_COUNT + 1))
	printf 'ok   %s\n' "$*"
}

_fail() {
	FAIL_COUNT=$((FAIL_COUNT + 1))
	printf 'FAIL %s\n' "$*"
}

assert_eq() {
	if [ "$2" = "$3" ]; then
		_ok "$1: $2"
	else
		_fail "$1: got '$2', want '$3'"
	fi
}

# GOT an integer within LO..HI.
assert_range() {
	if [[ $2 =~ ^-?[0-9]+$ ]] && [ "$2" -ge "$3" ] && [ "$2" -le "$4" ]; then
		_ok "$1: $2 (in $3..$4)"
	else
		_fail "$1: got '$2', want $3..$4"
	fi
}

# The command succeeds.
assert_true() {
	local name=$1

	shift
	if "$@"; then
		_ok "$name"
	else
		_fail "$name: '$*' failed"
	fi
}

# Prints the closing line, cleans up and exits: 0 if nothing failed.
finish() {
	printf '%s: %d passed, %d failed\n' "$TEST_NAME" "$PASS_COUNT" \
		"$FAIL_COUNT"
	cleanup
	[ "$FAIL_COUNT" = 0 ] || exit 1
	exit 0
}

# Packet building, in hex for `qgen send` and `qgen raw`.  Checksums are
# left 0: the kernel fills the IPv4 header's, nobody checks the UDP one
# before NFQUEUE.

hex_ip4() {
	local IFS=.

	# shellcheck disable=SC2086 # split on the dots
	printf '%02x%02x%02x%02x' $1
}

# An IPv6 address as 32 hex digits (:: expanded; no embedded IPv4).
hex_ip6() {
	local a=$1 head tail g out='' n
	local -a h=() t=()

	if [[ $a == *::* ]]; then
		head=${a%%::*}
		tail=${a#*::}
	else
		head=$a
		tail=
	fi
	[ -n "$head" ] && IFS=: read -ra h <<<"$head"
	[ -n "$tail" ] && IFS=: read -ra t <<<"$tail"
	for g in "${h[@]}"; do
		out+=$(printf '%04x' "0x$g")
	done
	for ((n = ${#h[@]} + ${#t[@]}; n < 8; n++)); do
		out+=0000
	done
	for g in "${t[@]}"; do
		out+=$(printf '%04x' "0x$g")
	done
	echo "$out"
}

# A name in wire format.
hex_name() {
	local out='' l IFS=.

	for l in $1; do
		[ -n "$l" ] || continue
		out+=$(printf '%02x' "${#l}")$(printf '%s' "$l" | od -An -v -tx1 | tr -d ' \n')
	done
	echo "${out}00"
}

# A query: NAME QTYPE (a number) [ID]; RD set, no EDNS.
hex_query() {
	printf '%04x01000001000000000000%s%04x0001\n' "${3:-4660}" \
		"$(hex_name "$1")" "$2"
}

# A UDP header and payload: SPORT DPORT PAYLOAD_HEX.
hex_udp() {
	printf '%04x%04x%04x0000%s\n' "$1" "$2" "$((${#3} / 2 + 8))" "$3"
}

# An IPv4 header and payload: SRC DST PROTO PAYLOAD_HEX.
hex_ip4_packet() {
	printf '4500%04x00000000%02x%02x0000%s%s%s\n' \
		"$((${#4} / 2 + 20))" 64 "$3" "$(hex_ip4 "$1")" \
		"$(hex_ip4 "$2")" "$4"
}

# An IPv6 header and payload: SRC DST NEXT_HEADER PAYLOAD_HEX.
hex_ip6_packet() {
	printf '60000000%04x%02x40%s%s%s\n' "$((${#4} / 2))" "$3" \
		"$(hex_ip6 "$1")" "$(hex_ip6 "$2")" "$4"
}

# An IPv6 fragment header: NEXT_HEADER OFFSET(8-octet units) MORE(0|1) ID.
hex_frag6() {
	printf '%02x00%04x%08x\n' "$1" "$((($2 << 3) | $3))" "$4"
}

# --- The daemon under test -------------------------------------------------
#
#	dnsrl_require			# the daemon and the tools are built
#	dnsrl_conf "$conf" <<EOF ...	# shared settings, then the test's rules
#	dnsrl_env "$conf"		# namespaces, Unbound, syslog, the
#					# printed rules, the daemon
#	dnsrl_usr1 any-abuse		# counters: STATS_LINE, QUEUE_LINE
#	kv dropped "$(dnsrl_rule_stats any-abuse)"	# and the rules'
#	dnsrl_finish			# SIGTERM, exit 0, no sanitizer report
#
# The daemon runs in the foreground (-f), so its log also goes to its
# stderr, which daemon_start keeps in $RUN_DIR/daemon.out together with any
# ASan or UBSan report.

STATS_LINE=
QUEUE_LINE=
STATS_CHUNK=
# A name of 14 labels.  The printed rules' prefilter (an xt_bpf program of
# at most 64 instructions, 6 a label) follows at most 10 labels and queues
# the rest: a query for this name always reaches the daemon, whatever its
# type.  Unbound answers it NXDOMAIN.
QUEUED_NAME=q1.q2.q3.q4.q5.q6.q7.q8.q9.q10.q11.www.big.example

dnsrl_require() {
	local f

	for f in "$DNSRL" "$QGEN" "$LOGSINK"; do
		if [ ! -x "$f" ]; then
			_err "$f missing: run make B=$B all tools"
			return 1
		fi
	done
}

# Writes FILE: the settings every test shares (one queue, a small table,
# counters only on SIGUSR1), then what comes on stdin.
dnsrl_conf() {
	{
		printf '%s\n' 'queue 0' 'table-size 65536' 'stats-interval 0' \
			'syslog-facility daemon'
		cat
	} >"$1"
}

# Runs, in the server namespace, the script `dnsrl --print-rules -c CONF`
# prints, so that the tests run behind the very rules operators are told
# to install.  DNSRL_TEST_OMIT_NFQUEUE=1 leaves the NFQUEUE rules out (the
# chain stays, without them): every daemon test must then fail, which
# shows that its checks depend on the daemon seeing traffic.
dnsrl_rules_install() {
	local conf=$1 script

	_run_dir
	script=$RUN_DIR/rules.sh
	"$DNSRL" --print-rules -c "$conf" >"$script" || {
		_err "dnsrl --print-rules -c $conf failed"
		return 1
	}
	if ! grep -q -- '-j NFQUEUE ' "$script"; then
		_err "--print-rules printed no NFQUEUE rule"
		return 1
	fi
	if [ "${DNSRL_TEST_OMIT_NFQUEUE:-0}" = 1 ]; then
		_err "DNSRL_TEST_OMIT_NFQUEUE=1: the NFQUEUE rules left out"
		sed -i '/ -j NFQUEUE /d' "$script"
	fi
	srv sh "$script" || {
		_err "the printed rules failed: $(cat "$script")"
		return 1
	}
}

# Removes dnsrl's rules in the server namespace (dnsrl --remove-rules),
# so that rules for another configuration can follow.
dnsrl_rules_remove() {
	srv "$DNSRL" --remove-rules || {
		_err "dnsrl --remove-rules failed"
		return 1
	}
}

# The rules `dnsrl --print-rules -c CONF` prints for FAMILY 4 or 6: the
# lines of that family's iptables-restore input that add to dnsrl's chains.
dnsrl_printed_rules() {
	local tool=iptables-restore

	[ "$2" = 6 ] && tool=ip6tables-restore
	"$DNSRL" --print-rules -c "$1" |
		awk -v t="$tool" '$1 == t { on = 1; next }
			on && $0 == "EOF" { on = 0 }
			on && /^-A DNSRL/ { print }'
}

# Whether `dnsrl --print-rules -c CONF` prints a prefilter (bpf) rule for
# FAMILY 4 or 6.
dnsrl_has_prefilter() {
	dnsrl_printed_rules "$1" "$2" |
		grep -qE -- '-m bpf --bytecode "[^"]+" -j RETURN$'
}

# dig as a real client, once per "SERVER NAME TYPE WANT" argument (+tries=1:
# one packet each); asserts that every answer is WANT.  DIG_SENT is set to
# the number of queries sent.
DIG_SENT=0
dig_expect() {
	local d n ok=0

	DIG_SENT=0
	for d in "$@"; do
		# shellcheck disable=SC2086 # four words
		set -- $d
		DIG_SENT=$((DIG_SENT + 1))
		n=$(cli dig +short +tries=1 +time=2 @"$1" "$2" "$3" || true)
		echo "   dig @$1 $2 $3: $n"
		[ "$n" = "$4" ] && ok=$((ok + 1))
	done
	assert_eq "dig answers as expected" "$ok" "$DIG_SENT"
}

# Packets counted by the rules of the DNSRL chain (mangle table) whose
# target is TARGET, for FAMILY 4, 6 or all (default).
dnsrl_chain_packets() {
	local target=$1 fam=${2:-all} n=0 ipt c

	case $fam in
	4) set -- iptables ;;
	6) set -- ip6tables ;;
	*) set -- iptables ip6tables ;;
	esac
	for ipt in "$@"; do
		c=$(srv "$ipt" -w -t mangle -vnxL DNSRL | awk -v t="$target" \
			'$3 == t { s += $1 } END { print s + 0 }')
		n=$((n + c))
	done
	echo "$n"
}

# The prefilter's (bpf RETURN) and the NFQUEUE rules' packets, for FAMILY.
# shellcheck disable=SC2120 # FAMILY is optional
dnsrl_prefilter_packets() {
	dnsrl_chain_packets RETURN "${1:-all}"
}

# The kernel's id sequence of queue NUM (default 0) in the server
# namespace: the last packet id it handed out, packets queued so far.
queue_seq() {
	srv cat /proc/net/netfilter/nfnetlink_queue |
		awk -v q="${1:-0}" '$1 == q { print $8 }'
}

# The entry of PREFIX in ipset SET (server namespace), as the ipset
# command lists it: "timeout T packets P comment C", or nothing.
set_entry() {
	srv ipset list "$1" 2>/dev/null |
		awk -v p="$2" '$1 == p {
			for (i = 2; i < NF; i++) {
				if ($i == "timeout") t = $(i + 1)
				if ($i == "packets") n = $(i + 1)
			}
			c = $0; sub(/.*comment "/, "", c); sub(/".*/, "", c)
			print "timeout", t, "packets", n, "comment", c }'
}

# Waits up to 3 s for PREFIX to be in SET.
wait_set_entry() {
	local i

	for ((i = 0; i < 30; i++)); do
		[ -n "$(set_entry "$1" "$2")" ] && return 0
		sleep 0.1
	done
	return 1
}

# shellcheck disable=SC2120 # FAMILY is optional
dnsrl_rule_packets() {
	dnsrl_chain_packets NFQUEUE "${1:-all}"
}

# Starts the daemon with CONF in the server namespace (foreground, syslog to
# the run's logsink) and waits up to 10 s for its start line.  The
# configuration is checked with -t first, so that a mistake in a test's
# file says so.
dnsrl_start() {
	local conf=$1 i

	"$DNSRL" -t -c "$conf" >/dev/null || {
		_err "dnsrl -t -c $conf refused the configuration"
		return 1
	}
	daemon_start "$DNSRL" -f -c "$conf"
	for ((i = 0; i < 100; i++)); do
		if [ "$(log_count "dnsrl\[$DAEMON_PID\]: dnsrl [^ ]+ started: ")" != 0 ]; then
			return 0
		fi
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	_err "dnsrl did not start: $(tail -n 5 "$RUN_DIR/daemon.out" 2>/dev/null)"
	return 1
}

# The usual start of a test: namespaces, Unbound, the syslog listener, the
# printed rules and the daemon with CONF.
dnsrl_env() {
	dnsrl_require
	ns_setup
	unbound_start
	syslog_start
	dnsrl_rules_install "$1"
	dnsrl_start "$1"
}

# Ends the test when the daemon is gone: one FAIL line with its exit
# status, the end of its stderr (its log, or a crash report), the
# sanitizer check, and finish's summary.  Returns when it runs.
dnsrl_alive_or_finish() {
	local st=0

	kill -0 "$DAEMON_PID" 2>/dev/null && return 0
	wait "$DAEMON_PID" 2>/dev/null || st=$?
	untrack_pid "$DAEMON_PID"
	_fail "daemon $DAEMON_PID is gone, exit status $st" \
		"(over 128: killed by signal $((st > 128 ? st - 128 : 0)))"
	echo "     --- the end of its stderr ($RUN_DIR/daemon.out):"
	tail -n 20 "$RUN_DIR/daemon.out" 2>/dev/null | sed 's/^/     /'
	DAEMON_PID=
	dnsrl_assert_clean
	finish
}

# Asks the daemon for its counters (SIGUSR1) and waits up to 5 s for the
# daemon line, the queue line and the line of each RULE named.  Workers
# publish their counters every 100 ms: it waits 300 ms first, so that what
# was sent before the call is counted.  Sets STATS_LINE, QUEUE_LINE and
# STATS_CHUNK (all the lines of this report, for dnsrl_rule_stats).
dnsrl_usr1() {
	local n i r whole

	sleep 0.3
	dnsrl_alive_or_finish
	n=$(wc -l <"$SYSLOG_FILE")
	kill -USR1 "$DAEMON_PID" 2>/dev/null || dnsrl_alive_or_finish
	for ((i = 0; i < 50; i++)); do
		STATS_CHUNK=$(tail -n +"$((n + 1))" "$SYSLOG_FILE")
		STATS_LINE=$(grep -m1 -E ': stats \(SIGUSR1\): ' <<<"$STATS_CHUNK" || true)
		QUEUE_LINE=$(grep -m1 -E ': queue 0: waiting=' <<<"$STATS_CHUNK" || true)
		whole=1
		[ -n "$STATS_LINE" ] && [ -n "$QUEUE_LINE" ] || whole=0
		for r in "$@"; do
			grep -qE ": rule $r: matched=" <<<"$STATS_CHUNK" || whole=0
		done
		[ "$whole" = 0 ] || return 0
		sleep 0.1
	done
	dnsrl_alive_or_finish
	_fail "no complete SIGUSR1 report within 5 s"
	finish
}

# The counters of rule NAME from the last dnsrl_usr1 (empty when absent).
dnsrl_rule_stats() {
	grep -m1 -E ": rule $1: matched=" <<<"$STATS_CHUNK" || true
}

# One assertion: the daemon's stderr holds no ASan, LSan or UBSan report.
dnsrl_assert_clean() {
	local f=$RUN_DIR/daemon.out re n

	re='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:'
	n=$(grep -cE "$re" "$f" 2>/dev/null || true)
	if [ "${n:-0}" = 0 ]; then
		_ok "no sanitizer report on the daemon's stderr"
	else
		_fail "sanitizer report on the daemon's stderr (KEEP_RUN_DIR=1 keeps $f):"
		grep -E -A 12 "$re" "$f" | head -n 40 | sed 's/^/     /'
	fi
}

# Ends a daemon test: stops the daemon with SIGTERM (it must exit 0 and log
# its final counters), checks its stderr, then finish.
dnsrl_finish() {
	local st=0 pid=$DAEMON_PID

	if [ -n "$pid" ]; then
		daemon_stop TERM || st=$?
		assert_eq "daemon exit status after SIGTERM" "$st" 0
		assert_true "final counters logged" \
			wait_for_log "dnsrl\[$pid\]: stats \(final\): " 2
	fi
	dnsrl_assert_clean
	finish
}

# `qgen query` for ANY big.example (EDNS 4096, the answers come over UDP)
# from SRC to DST: COUNT queries at RATE a second.  Prints qgen's line.
any_query() {
	cli "$QGEN" query --src "$1" --dst "$2" --qtype ANY \
		--qname big.example --rate "$3" --count "$4"
}

# COUNT single ANY queries from SRC to DST, GAP seconds apart (a client
# within the limit; qgen's rate cannot go below 1/s).  Prints the sums as
# "sent=N answered=N bytes=N".
any_slowly() {
	local src=$1 dst=$2 count=$3 gap=$4 i line s=0 a=0 b=0

	for ((i = 0; i < count; i++)); do
		[ "$i" = 0 ] || sleep "$gap"
		line=$(any_query "$src" "$dst" 1 1)
		s=$((s + $(kv sent "$line")))
		a=$((a + $(kv answered "$line")))
		b=$((b + $(kv bytes "$line")))
	done
	echo "sent=$s answered=$a bytes=$b"
}
