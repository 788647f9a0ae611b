#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# check-deps.sh: after any header changes, an incremental make rebuilds
# every binary whose sources include it (directly or not), and no other.
#
# The oracle is the compiler's own view of the includes (cc -MM on each
# source), not the Makefile: for each header the script makes it newer
# than every binary, asks make which targets it must remake
# (--debug=basic -n, nothing is built), compares that with the binaries
# whose sources include the header, and puts the header's time back.
# It runs after a build of every directory it checks (make all tests
# tools, and bench or fuzz when those were built).
#
#   B=build tests/check-deps.sh
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
CC=${CC:-cc}

lib_srcs=$(ls src/*.c | grep -v -e '^src/main.c$' -e '^src/dnsrlctl.c$')
cflags="-std=c11 -D_GNU_SOURCE -Iinclude $(pkg-config --cflags libmnl \
	libnetfilter_queue libpcap cmocka 2>/dev/null)"

# The headers each source includes, asked once per source.
declare -A hdrs
headers_of() {
	local f

	for f in "$@"; do
		if [ -z "${hdrs[$f]+set}" ]; then
			# shellcheck disable=SC2086 # cflags is a list
			hdrs[$f]=$($CC $cflags -MM "$f" | tr ' \\' '\n\n' |
				grep -E '\.h$' | grep -v '^/' |
				xargs -r realpath --relative-to=. | tr '\n' ' ')
		fi
		echo "${hdrs[$f]}"
	done
}

declare -A srcs
add() { # BINARY SOURCES...: only binaries that were built are checked
	local bin=$1

	shift
	[ -e "$bin" ] && srcs[$bin]="$*"
	return 0
}
add "$B/dnsrl" src/main.c $lib_srcs
add "$B/dnsrlctl" src/dnsrlctl.c $lib_srcs
for f in tests/test_*.c; do
	add "$B/tests/$(basename "$f" .c)" "$f" $lib_srcs
done
for f in tests/tools/*.c; do
	n=$(basename "$f" .c)
	# a tool with a rule of its own that links the library
	if grep -q "^\$(B)/tools/$n: .*\$(B)/libdnsrl\.a" Makefile; then
		add "$B/tools/$n" "$f" $lib_srcs
	else
		add "$B/tools/$n" "$f"
	fi
done
for f in bench/*.c; do
	add "$B/bench/$(basename "$f" .c)" "$f" $lib_srcs
done
for f in tests/fuzz/fuzz_*.c; do
	n=$(basename "$f" .c)
	add "$B/fuzz-replay/$n" "$f" tests/fuzz/replay_main.c $lib_srcs
	add "build-fuzz/$n" "$f" $lib_srcs
done
if [ "${#srcs[@]}" = 0 ]; then
	echo "check-deps: nothing built in $B; run make all tests tools" >&2
	exit 1
fi

declare -A incl
for bin in "${!srcs[@]}"; do
	# shellcheck disable=SC2086 # a list of sources
	headers_of ${srcs[$bin]} >/dev/null
	# shellcheck disable=SC2086
	incl[$bin]=" $(headers_of ${srcs[$bin]} | tr ' ' '\n' | sort -u |
		tr '\n' ' ') "
done

# A binary built but out of date (a fuzz build from before the last
# change) cannot be checked: it is left out, and said so.
targets=()
for bin in "${!srcs[@]}"; do
	if make -q "$bin" >/dev/null 2>&1; then
		targets+=("$bin")
	else
		echo "check-deps: $bin is not up to date; left out"
	fi
done
if [ "${#targets[@]}" = 0 ]; then
	echo "check-deps: no binary is up to date; build them first" >&2
	exit 1
fi

ref=$(mktemp)
trap 'rm -f "$ref"' EXIT
fail=0
nh=0
for h in $(ls include/*.h src/*.h tests/*.h 2>/dev/null); do
	nh=$((nh + 1))
	touch -r "$h" "$ref"
	touch "$h"
	remade=" $(make --debug=basic -n "${targets[@]}" 2>/dev/null |
		sed -n "s/^ *Must remake target '\(.*\)'\.$/\1/p" | tr '\n' ' ') "
	touch -r "$ref" "$h"
	for bin in "${targets[@]}"; do
		want=0
		got=0
		[[ ${incl[$bin]} == *" $h "* ]] && want=1
		[[ $remade == *" $bin "* ]] && got=1
		if [ "$want" != "$got" ]; then
			fail=$((fail + 1))
			if [ "$want" = 1 ]; then
				echo "FAIL $h: $bin includes it but is not rebuilt"
			else
				echo "FAIL $h: $bin is rebuilt but does not include it"
			fi
		fi
	done
done
echo "check-deps: $nh headers x ${#targets[@]} binaries, $fail wrong"
[ "$fail" = 0 ]
