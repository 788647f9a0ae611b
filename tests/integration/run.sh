#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run.sh: the integration tests of a suite, in order: the harness check
# (smoke-harness.sh), then each t_*.sh of the suite.  Each runs on its
# own, in its own namespaces; this prints each one's summary line and
# time, the ok/FAIL lines and the end of the output of a test that
# failed, and a total.  Exits 0 when every test passed.
#
# Two suites: `quick` (the default, what `make check` runs: every
# correctness check, a few minutes) and `long` (`make check-long`: the
# soak and the fault runs, marked "# suite: long" in their header).
#
#   make check-integration            # B=build, the quick suite
#   make check-long                   # the long suite
#   sudo B=build-asan tests/integration/run.sh [quick|long|all]
#   VERBOSE=1 ... run.sh              # every test's whole output too
#   JOBS=3                            # tests at a time (default 3)
#   TEST_TIMEOUT=300                  # seconds a test may take (default)
set -eu

suite=${1:-quick}
case $suite in
quick | long | all) ;;
*)
	echo "usage: run.sh [quick|long|all]" >&2
	exit 2
	;;
esac

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
export B=${B:-build}

if [ "$(id -u)" != 0 ]; then
	echo "run.sh: the integration tests must run as root (they make" \
		"network namespaces, iptables rules and raw sockets);" \
		"try: sudo B=$B $0" >&2
	exit 1
fi

case $B in
/*) build=$B ;;
*) build=$top/$B ;;
esac
for f in "$build/dnsrl" "$build/tools/qgen" "$build/tools/logsink"; do
	if [ ! -x "$f" ]; then
		echo "run.sh: $f missing: run make B=$B all tools" >&2
		exit 1
	fi
done

# The order of the brief, from the simplest; a t_*.sh not listed runs
# after these, in name order.
order=(smoke-harness t_legit t_any_limit t_shadow t_bad_packets t_verdicts
	t_kill9 t_reload)
# The suite a test belongs to: its header says "# suite: long", or quick.
# "# suite: deb" (t_deb, the Debian package) is in neither: make check-deb
# runs it.
in_suite() {
	local s=quick

	grep -q '^# suite: deb$' "$here/$1.sh" && return 1
	grep -q '^# suite: long$' "$here/$1.sh" && s=long
	[ "$suite" = all ] || [ "$suite" = "$s" ]
}

tests=()
for t in "${order[@]}"; do
	[ -f "$here/$t.sh" ] && in_suite "$t" && tests+=("$t")
done
for f in "$here"/t_*.sh; do
	t=$(basename "$f" .sh)
	case " ${order[*]} " in
	*" $t "*) ;;
	*) in_suite "$t" && tests+=("$t") ;;
	esac
done

logs=$(mktemp -d "${TMPDIR:-/tmp}/dnsrl-run.XXXXXX")
trap 'rm -rf "$logs"' EXIT

ms_now() {
	date +%s%3N
}

# Runs test $1 into $logs/$1.log; leaves its exit status and seconds in
# $logs/$1.st and $logs/$1.secs.
run_one() {
	local t=$1 log=$logs/$1.log t0 st=0 limit=${TEST_TIMEOUT:-300}

	t0=$(ms_now)
	# the soak runs SOAK_SECONDS by design: give it that and some
	if [ "$t" = t_soak ] && [ "$limit" -lt "$((${SOAK_SECONDS:-300} + 120))" ]; then
		limit=$((${SOAK_SECONDS:-300} + 120))
	fi
	# The test's own traps clean up on the TERM a timeout sends.
	if [ "${VERBOSE:-0}" = 1 ]; then
		timeout --kill-after=20 "$limit" "$here/$t.sh" 2>&1 |
			tee "$log" || st=${PIPESTATUS[0]}
	else
		timeout --kill-after=20 "$limit" "$here/$t.sh" \
			>"$log" 2>&1 || st=$?
	fi
	awk -v ms="$(($(ms_now) - t0))" 'BEGIN { printf "%.1f", ms / 1000 }' \
		>"$logs/$t.secs"
	echo "$st" >"$logs/$t.st"
}

# Prints the result of a test that has finished, and counts it.
report() {
	local t=$1 log=$logs/$1.log st secs summary skip passed fails

	st=$(cat "$logs/$t.st")
	secs=$(cat "$logs/$t.secs")
	summary=$(grep -E "^$t: [0-9]+ passed, [0-9]+ failed$" "$log" | tail -n 1 || true)
	if [ -n "$summary" ]; then
		read -r _ passed _ fails _ <<<"$summary"
		a_ok=$((a_ok + passed))
		a_fail=$((a_fail + fails))
	fi
	if [ "$st" = 0 ] && [ -n "$summary" ]; then
		n_ok=$((n_ok + 1))
		skip=$(grep -m1 '^skipped: ' "$log" || true)
		[ -z "$skip" ] || n_skip=$((n_skip + 1))
		printf '%-44s %6s s%s\n' "$summary" "$secs" "${skip:+   $skip}"
		return
	fi
	n_fail=$((n_fail + 1))
	failed+=("$t")
	[ "$st" = 124 ] && summary="$t: timed out"
	printf '%-44s %6s s   exit %s\n' "${summary:-$t: no summary line}" \
		"$secs" "$st"
	if [ "${VERBOSE:-0}" != 1 ]; then
		grep -E '^FAIL ' "$log" | sed 's/^/    /' || true
		echo "    --- last lines of $t:"
		tail -n 15 "$log" | sed 's/^/    /'
	fi
}

# Reports the tests of running[] that have finished; keeps the others.
reap() {
	local t keep=()

	for t in "${running[@]}"; do
		if [ -f "$logs/$t.st" ]; then
			report "$t"
		else
			keep+=("$t")
		fi
	done
	running=("${keep[@]}")
}

# Waits until fewer than $1 tests run.
wait_below() {
	while [ "${#running[@]}" -ge "$1" ]; do
		wait -n 2>/dev/null || true
		reap
	done
}

t_all=$(ms_now)
n_ok=0
n_fail=0
n_skip=0
a_ok=0
a_fail=0
failed=()
running=()
# JOBS tests at a time; a test whose header says "# serial" (it measures
# timing) runs alone.
jobs=${JOBS:-3}
[ "${VERBOSE:-0}" = 1 ] && jobs=1
echo "integration tests ($suite, $jobs at a time), B=$B: ${tests[*]}"
for t in "${tests[@]}"; do
	if grep -q '^# serial$' "$here/$t.sh"; then
		wait_below 1
		run_one "$t"
		report "$t"
		continue
	fi
	wait_below "$jobs"
	run_one "$t" &
	running+=("$t")
done
wait_below 1
secs=$(awk -v ms="$(($(ms_now) - t_all))" 'BEGIN { printf "%.1f", ms / 1000 }')
echo "total: $n_ok of ${#tests[@]} tests passed ($n_skip skipped), $n_fail failed" \
	"(checks: $a_ok passed, $a_fail failed) in $secs s"
if [ "$n_fail" != 0 ]; then
	echo "failed: ${failed[*]}"
	exit 1
fi
