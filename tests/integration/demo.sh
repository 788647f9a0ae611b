#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# demo.sh: dnsrl against a simulated amplification attack, for an operator
# to watch.  In two network namespaces of its own (a resolver and its
# customers; nothing leaves them): Unbound serving big.example, whose ANY
# answer is about 4 KB; a well-behaved customer (A and AAAA queries, a few
# ANY); an infected one sending ANY at 50/s for 10 s with EDNS 4096, so
# the big answers come back over UDP.  The same traffic runs twice: with
# the filter off (no rule, no daemon), then on (the rules `dnsrl
# --print-rules` prints and the daemon with the shipped conf/dnsrl.conf:
# 2 ANY per 5 s per source, hold-down for repeat offenders).  It prints
# per customer what was sent and answered and the bytes the attacker's
# queries drew, off and on, then the daemon's own log.
#
#   make demo               # installs the dependencies, builds, runs this
#   sudo B=build tests/integration/demo.sh
#
# Takes about 30 s; removes everything it made when it ends.
set -eu

TEST_NAME=demo
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

# What the two customers do, for ~10 s, at the same time.  Each qgen run
# writes its line into DIR/NAME.
traffic() {
	local dir=$1 p pids=()

	mkdir -p "$dir"
	cli "$QGEN" query --src "$CLI4" --dst "$SRV4" --qtype A \
		--qname www.big.example --rate 10 --count 100 >"$dir/good-a" &
	pids+=($!)
	cli "$QGEN" query --src "$CLI6" --dst "$SRV6" --qtype AAAA \
		--qname www.big.example --rate 10 --count 100 >"$dir/good-aaaa" &
	pids+=($!)
	# A few ANY, far apart, as a diagnostic tool or an old client sends.
	any_slowly "$CLI4" "$SRV4" 3 4 >"$dir/good-any" &
	pids+=($!)
	any_query "$ATTACK4" "$SRV4" 50 500 >"$dir/attack" &
	pids+=($!)
	# A script gone wrong, once: 6 ANY at once, then silence.
	any_query "$ATTACK4B" "$SRV4" 1000 6 >"$dir/burst" &
	pids+=($!)
	for p in "${pids[@]}"; do
		track_pid "$p"
	done
	for p in "${pids[@]}"; do
		wait "$p"
		untrack_pid "$p"
	done
}

# Octets the resolver's interface sent: everything on the "backhaul".
tx_bytes() {
	srv cat "/sys/class/net/$SRV_IF/statistics/tx_bytes"
}

# "N sent, M answered" from a qgen line.
sa() {
	printf '%s sent, %s answered' "$(kv sent "$1")" "$(kv answered "$1")"
}

# Octets in a readable form: 1987500 -> "1.99 MB".
human() {
	awk -v b="$1" 'BEGIN {
		if (b >= 1e6) printf "%.2f MB", b / 1e6
		else if (b >= 1e3) printf "%.1f kB", b / 1e3
		else printf "%d B", b }'
}

main() {
	local off on conf tx0 tx_off tx_on t0 st=0 f line per pf0 nq0

	dnsrl_require
	t0=$(date +%s)
	echo "Setting up: namespaces $SRV_NS (resolver) and $CLI_NS" \
		"(customers), Unbound on $SRV4 and $SRV6"
	ns_setup
	unbound_start
	syslog_start
	off=$RUN_DIR/off
	on=$RUN_DIR/on
	conf=$RUN_DIR/dnsrl.conf
	# As shipped, but for the installed system's parts: the demo runs
	# the daemon as root in a namespace, without the dnsrl user and
	# /run/dnsrl that the package (or make install) brings.
	sed -E '/^(user|control-socket)[[:space:]]/d' "$TOP/conf/dnsrl.conf" \
		>"$conf"
	chmod 0600 "$conf"
	# Checked now rather than after the first run.
	"$DNSRL" -t -c "$conf" >/dev/null

	line=$(any_query "$CLI4" "$SRV4" 1 1)
	per=$(kv bytes "$line")
	echo "One ANY query for big.example: 40 octets of DNS in, $per out" \
		"($((per / 40))x)."
	echo
	echo "Run 1, filter off (no rule, no daemon): 10 s of traffic ..."
	tx0=$(tx_bytes)
	traffic "$off"
	tx_off=$(($(tx_bytes) - tx0))

	echo "Run 2, filter on.  The rules, from dnsrl --print-rules (the" \
		"prefilter's bytecode cut):"
	# The prefilter's bpf rule accepts in the kernel the queries of
	# types no rule names; the rest goes to the daemon.
	"$DNSRL" --print-rules -c "$conf" | grep -vE '^#' |
		sed -E 's/(--bytecode )"[^"]+"/\1"..."/; s/^/    /'
	dnsrl_rules_install "$conf"
	dnsrl_start "$conf"
	pf0=$(dnsrl_prefilter_packets)
	nq0=$(dnsrl_rule_packets)
	echo "dnsrl running (pid $DAEMON_PID) with conf/dnsrl.conf; 10 s of" \
		"the same traffic ..."
	tx0=$(tx_bytes)
	traffic "$on"
	tx_on=$(($(tx_bytes) - tx0))
	pf0=$(($(dnsrl_prefilter_packets) - pf0))
	nq0=$(($(dnsrl_rule_packets) - nq0))
	dnsrl_usr1 any-abuse
	daemon_stop TERM || st=$?

	echo
	echo "What each customer got (queries sent and answered):"
	printf '  %-36s %-26s %s\n' "" "filter off" "filter on"
	for f in good-a good-aaaa good-any burst attack; do
		case $f in
		good-a) line="well-behaved $CLI4, A" ;;
		good-aaaa) line="well-behaved $CLI6, AAAA" ;;
		good-any) line="well-behaved $CLI4, ANY" ;;
		burst) line="one burst $ATTACK4B, 6 ANY" ;;
		attack) line="attacker $ATTACK4, ANY 50/s" ;;
		esac
		printf '  %-36s %-26s %s\n' "$line" "$(sa "$(cat "$off/$f")")" \
			"$(sa "$(cat "$on/$f")")"
	done
	echo
	echo "Answer octets the attacker's 500 queries (20000 octets of DNS)" \
		"drew onto the backhaul:"
	printf '  %-36s %-26s %s\n' "" \
		"$(human "$(kv bytes "$(cat "$off/attack")")")" \
		"$(human "$(kv bytes "$(cat "$on/attack")")")"
	printf '  %-36s %-26s %s\n' "all octets the resolver sent" \
		"$(human "$tx_off")" "$(human "$tx_on")"
	echo
	echo "With the filter on, a source gets 2 ANY at once and 2 more per" \
		"5 s; one that keeps"
	echo "exceeding that for 5 s is refused for 10 minutes (hold-down)," \
		"one that stops is"
	echo "released.  Other query types are never touched: of run 2's" \
		"$((pf0 + nq0)) queries, the"
	echo "prefilter accepted $pf0 in the kernel; the daemon decided on" \
		"the $nq0 others."
	echo
	echo "The daemon's syslog (the lines it wrote during run 2):"
	sed -E 's/^<[0-9]+>//' "$SYSLOG_FILE" | sed 's/^/  /'
	echo
	if [ "$st" != 0 ]; then
		echo "demo: dnsrl exited with status $st" >&2
		exit 1
	fi
	echo "Done in $(($(date +%s) - t0)) s; removing the namespaces."
	cleanup
}

main "$@"
