# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the scripts sourcing this
#
# lib-resolvers.sh: a second resolver, BIND 9, beside lib.sh's Unbound, so
# that a test can ask two implementations what they answer.  Source it
# after lib.sh, and call bind_start after ns_setup:
#
#	. "$(dirname "$0")/lib.sh"
#	. "$(dirname "$0")/lib-resolvers.sh"
#	ns_setup
#	unbound_start			# Unbound on $SRV4 and $SRV6
#	bind_start			# named on $BIND4 and $BIND6
#	bind_stop			# SIGTERM, waits for it (cleanup does too)
#
# named is authoritative for lib.sh's big.example zone (_big_zone) and
# nothing else: no recursion, no DNSSEC validation, no control channel,
# no rate limiting.  minimal-any is off (BIND answers ANY with every set
# of the name) and max-udp-size is 4096 (BIND 9.18's default is 1232), so
# that an ANY query with EDNS 4096 gets its big answer over UDP, as from
# Unbound.  The zone is _big_zone without its TXT set: with it, the sets
# at big.example. add up to ~8 KB, and BIND 9.18 answers such an ANY over
# UDP with TC=1 and an empty answer section (40 octets).  Unbound leaves
# TXT out of ANY anyway, so both answer the same sets (BIND adds the NS),
# ~4 KB.
#
# Everything it writes is in $RUN_DIR/named (configuration, zone, pid
# file, session key, logs): nothing under /etc or /var.  It runs as root
# (no -u), in the foreground (-f), one worker thread (-n 1), in the server
# namespace, with the parent-death signal set like Unbound; cleanup
# stops it with the other tracked processes.

BIND4=198.51.100.2
BIND6=2001:db8:1::2
BIND_PID=

_named_conf() {
	local d=$1

	cat <<EOF
options {
	directory "$d";
	pid-file "$d/named.pid";
	session-keyfile "$d/session.key";
	managed-keys-directory "$d";
	dump-file "$d/named.dump";
	statistics-file "$d/named.stats";
	listen-on port 53 { $BIND4; };
	listen-on-v6 port 53 { $BIND6; };
	recursion no;
	allow-query { any; };
	dnssec-validation no;
	notify no;
	minimal-any no;
	minimal-responses no;
	max-udp-size 4096;
	edns-udp-size 4096;
	answer-cookie no;
	server-id none;
	version none;
};
controls { };
logging {
	channel run {
		file "$d/named.log";
		severity info;
		print-time yes;
		print-category yes;
	};
	category default { run; };
	category lame-servers { null; };
};
zone "big.example" {
	type primary;
	file "$d/big.example.zone";
};
EOF
}

# Adds $BIND4 and $BIND6 to the server's interface (once), starts named
# and waits until it answers on both.
bind_start() {
	local d i ok

	_run_dir
	d=$RUN_DIR/named
	mkdir -p "$d"
	if ! srv ip -4 addr show dev "$SRV_IF" | grep -qF " $BIND4/"; then
		srv ip addr add "$BIND4/24" dev "$SRV_IF" || return 1
		srv ip addr add "$BIND6/64" dev "$SRV_IF" nodad || return 1
	fi
	_big_zone | grep -v '	IN TXT	' >"$d/big.example.zone"
	_named_conf "$d" >"$d/named.conf"
	if ! named-checkconf "$d/named.conf" >"$d/checkconf.out" 2>&1; then
		_err "named-checkconf: $(cat "$d/checkconf.out")"
		return 1
	fi
	if ! named-checkzone -q big.example "$d/big.example.zone"; then
		_err "named-checkzone refused the zone"
		return 1
	fi
	# ip netns exec, setpriv and named exec in turn: $! is named's pid.
	ip netns exec "$SRV_NS" setpriv --pdeathsig TERM \
		named -f -n 1 -c "$d/named.conf" >"$d/stderr" 2>&1 &
	BIND_PID=$!
	track_pid "$BIND_PID"
	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "$BIND_PID" 2>/dev/null; then
			_err "named exited: $(cat "$d/stderr" "$d/named.log" 2>/dev/null | tail -n 20)"
			BIND_PID=
			return 1
		fi
		ok=0
		[ "$(cli dig +short +tries=1 +time=1 @"$BIND4" www.big.example A)" = "$WWW4" ] && ok=$((ok + 1))
		[ "$(cli dig +short +tries=1 +time=1 @"$BIND6" www.big.example AAAA)" = "$WWW6" ] && ok=$((ok + 1))
		[ "$ok" = 2 ] && return 0
		sleep 0.1
	done
	_err "named does not answer on $BIND4 and $BIND6: $(tail -n 20 "$d/named.log" 2>/dev/null)"
	return 1
}

# Stops named (SIGTERM, up to 10 s, then SIGKILL).  Returns its exit
# status, 124 after a SIGKILL.
bind_stop() {
	local i status=0 killed=0

	[ -n "$BIND_PID" ] || return 0
	kill -TERM "$BIND_PID" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$BIND_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$BIND_PID" 2>/dev/null; then
		kill -KILL "$BIND_PID" 2>/dev/null || true
		killed=1
	fi
	wait "$BIND_PID" 2>/dev/null || status=$?
	untrack_pid "$BIND_PID"
	BIND_PID=
	[ "$killed" = 0 ] || return 124
	return "$status"
}
