#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# suite: deb
#
# t_deb.sh: the Debian package, as an operator meets it (`make check-deb`;
# run.sh's suites leave it out).  Root, a few minutes.
#
#   - Build: the tracked files of the tree (as they are in the work tree)
#     copied to a directory of the run; `dpkg-source -b`, then
#     `dpkg-buildpackage -us -uc -b` in a clean environment.  lintian on
#     the source and the binary package: no error, no warning (overrides
#     carry their reason).  The package holds exactly the expected files,
#     root's, with their modes; /etc/dnsrl/dnsrl.conf is its one
#     conffile; Depends names the package of every library the binaries
#     link (dpkg -S is the oracle) and iptables; the compile and link
#     lines carry every flag dpkg-buildflags gives; the binaries are PIE,
#     RELRO, BIND_NOW, stack-protected and fortified (readelf); the build
#     ran every unit test and fuzz corpus (dh_auto_test).
#   - The maintainer scripts under systemd, run with every command that
#     acts on the system stubbed (a private /run with /run/systemd/system):
#     installing enables the unit and starts nothing; an upgrade restarts
#     it (try-restart: only if it runs) and stops nothing before; removal
#     stops it, then removes the rules; purge forgets the unit.
#   - apt-get install ./dnsrl_VERSION_ARCH.deb: the files, owners and
#     modes, `dpkg --verify`, the dnsrl system user and group, /run/dnsrl,
#     the unit enabled and accepted by `systemd-analyze verify`, no daemon
#     running, `dnsrl --version` and `dnsrlctl --version` are the
#     changelog's version (dpkg-parsechangelog).
#   - systemd is not PID 1 here, so the daemon is started as the unit
#     starts it, in the server namespace with Unbound: the operator's
#     rules (`dnsrl --print-rules | sh`), the unit's ExecStartPre lines,
#     then its ExecStart line, read from the installed unit.  It runs as
#     dnsrl; ANY is limited (2 of 20); the source held is in the kernel
#     set (ipset list) and its ANY dropped before the queue.
#   - Upgrade to the same tree rebuilt as VERSION+test1, with the
#     conffile changed locally: no prompt, the change stays, only it is
#     reported changed; the daemon restarted as `systemctl restart` does
#     reads the hold back from the kernel (the source stays held, a
#     new one is served) and says the new version.
#   - The daemon stopped, `apt-get remove` (in the server namespace, so
#     that the prerm's `dnsrl --remove-rules` acts there): no dnsrl chain
#     or set left, the held source answered again, the conffile kept.
#   - `apt-get purge`: nothing of the package left (its file list, the
#     configuration, /run/dnsrl, the unit's enablement); the dnsrl user
#     stays, as Debian leaves system users.
# The machine is left as found, on failure too (the harness's trap): the
# package purged, the user and group removed if the package made them.
# It does not run where dnsrl is installed already.
set -eu

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lib-ops.sh
. "$(dirname "$0")/lib-ops.sh"

# The installed programs, not the build's.
DNSRL=/usr/sbin/dnsrl
DNSRLCTL=/usr/sbin/dnsrlctl
UNIT=/lib/systemd/system/dnsrl.service
CONF=/etc/dnsrl/dnsrl.conf
WANTS=/etc/systemd/system/multi-user.target.wants/dnsrl.service
ARCH=$(dpkg --print-architecture)
SET4=dnsrl-any-abuse-4
made_user=0

# dpkg's abbreviated status of dnsrl ("ii ", "rc "), empty when unknown.
pkg_status() {
	dpkg-query -W -f='${db:Status-Abbrev}' dnsrl 2>/dev/null || true
}

# What `apt-get ...` does, noninteractive, no standard input: a conffile
# prompt would fail it.
apt_run() {
	DEBIAN_FRONTEND=noninteractive apt-get -y -q "$@" </dev/null
}

# Puts the machine back: the daemon stopped, the package purged (in the
# server namespace, where its rules are; a namespace of its own if that is
# gone), the user and group removed if the package made them.  Run by the
# harness's cleanup on any exit, and by the test itself at the end.
restore_machine() {
	local ns=$SRV_NS made_ns=0

	daemon_stop TERM >/dev/null 2>&1 || true
	if [ -n "$(pkg_status)" ]; then
		if ! ip netns list | grep -qw "$ns"; then
			ns=dnsrl-purge-$RUN_ID
			ip netns add "$ns" && made_ns=1
		fi
		ip netns exec "$ns" dpkg --purge dnsrl ||
			ip netns exec "$ns" dpkg --purge --force-remove-reinstreq dnsrl
		[ "$made_ns" = 0 ] || ip netns del "$ns"
	fi
	if [ "$made_user" = 1 ]; then
		getent passwd dnsrl >/dev/null && userdel dnsrl
		getent group dnsrl >/dev/null && groupdel dnsrl
	fi
	return 0
}

# The value(s) of KEY= in the installed unit.
unit_value() {
	sed -n "s|^$1=||p" "$UNIT"
}

# STRING with the characters special to an extended regular expression
# escaped.
ere() {
	sed 's/[][\.*^$+?(){}|/]/\\&/g' <<<"$1"
}

# Copies the tracked files of the tree, as they are in the work tree, to
# DIR (outside git: the tree without its build directories).
copy_tree() {
	mkdir -p "$1"
	if git -C "$TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		(cd "$TOP" && git ls-files -z |
			tar --null --no-recursion --ignore-failed-read -T - -cf -) |
			tar -C "$1" -xf -
	else
		tar -C "$TOP" --exclude='./build*' -cf - . | tar -C "$1" -xf -
	fi
}

# Builds the binary package in DIR (a tree named dnsrl-VERSION) into its
# parent, with DEB_BUILD_OPTIONS OPTS, in an environment of its own (no
# MAKEFLAGS, B or CFLAGS of the make that runs this test); LOG gets the
# output.
build_pkg() {
	local dir=$1 log=$2 opts=$3

	(cd "$dir" && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
		LC_ALL=C.UTF-8 DEB_BUILD_OPTIONS="$opts" \
		dpkg-buildpackage -us -uc -b) >"$log" 2>&1
}

# The files of a .deb (not its directories): "MODE OWNER PATH" lines.
deb_files() {
	dpkg-deb -c "$1" | awk '$1 !~ /^d/ { print $1, $2, $6 }' | sort
}

# Runs maintainer script SCRIPT of the control area CTL with ARGS as on a
# machine where systemd is PID 1: in a private mount namespace whose /run
# is an empty tmpfs but for /run/systemd/system, every command that would
# act on the system (deb-systemd-helper, deb-systemd-invoke, systemctl,
# systemd-sysusers, systemd-tmpfiles, dnsrl) a stub that logs its
# arguments.  Prints the log, one command a line.
under_systemd() {
	local ctl=$1 script=$2 stubs=$RUN_DIR/stubs log=$RUN_DIR/stubs.log c

	shift 2
	if [ ! -d "$stubs" ]; then
		mkdir -p "$stubs"
		for c in deb-systemd-helper deb-systemd-invoke systemctl \
			systemd-sysusers systemd-tmpfiles dnsrl; do
			printf '#!/bin/sh\necho "%s $*" >>"%s"\n' "$c" "$log" \
				>"$stubs/$c"
			chmod 0755 "$stubs/$c"
		done
	fi
	: >"$log"
	# shellcheck disable=SC2016 # for the inner shell
	unshare --mount --propagation private sh -c '
		mount -t tmpfs -o mode=0755 dnsrl-run /run
		mkdir -p /run/systemd/system
		stubs=$1
		shift
		PATH=$stubs:$PATH exec "$@"' sh "$stubs" "$ctl/$script" "$@" ||
		echo "exit status $?"
	cat "$log"
}

# The number of lines of TEXT matching the extended regular expression RE.
count() {
	grep -cE -- "$2" <<<"$1" || true
}

# Waits up to 5 s for the kernel set SET (server namespace) to hold ADDR.
# shellcheck disable=SC2317 # called through assert_true
set_has() {
	local i

	for ((i = 0; i < 50; i++)); do
		srv ipset list "$1" 2>/dev/null | grep -q "^$2 " && return 0
		sleep 0.1
	done
	return 1
}

# The pids of the processes running /usr/sbin/dnsrl (the installed one,
# replaced or not).
installed_daemons() {
	local p exe

	for p in /proc/[0-9]*; do
		exe=$(readlink "$p/exe" 2>/dev/null) || continue
		case $exe in
		"$DNSRL" | "$DNSRL (deleted)") echo "${p#/proc/}" ;;
		esac
	done
}

# Starts the daemon as the unit does: its ExecStartPre lines (the '+' of
# full privileges dropped: this is root), then its ExecStart line, in the
# server namespace; waits for the start line naming VERSION.
start_as_unit() {
	local version=$1 pre line

	while read -r pre; do
		echo "   ExecStartPre: $pre"
		# shellcheck disable=SC2086 # the unit's command line
		srv ${pre#+} >/dev/null || {
			_fail "ExecStartPre failed: $pre"
			return 1
		}
	done < <(unit_value ExecStartPre)
	line=$(unit_value ExecStart)
	echo "   ExecStart: $line"
	# shellcheck disable=SC2086
	daemon_start $line
	if ! wait_for_log "dnsrl\[$DAEMON_PID\]: dnsrl $(ere "$version") started: " 10; then
		_fail "no start line of dnsrl $version"
		tail -n 5 "$SYSLOG_FILE" "$RUN_DIR/daemon.out" 2>/dev/null
		return 1
	fi
	_ok "the daemon started: dnsrl $version"
}

# ANY queries for big.example from SRC: how many were answered of N.
any_answered() {
	kv answered "$(cli "$QGEN" query --src "$1" --dst "$SRV4" --qtype ANY \
		--qname big.example --rate 1000 --count "$2")"
}

build_and_lint() {
	local out st=0 f w p miss

	echo "== build $VERSION from a copy of the tree"
	copy_tree "$SRC1"
	(cd "$PKG1" && dpkg-source -b "dnsrl-$VERSION" >"$RUN_DIR/source.log" 2>&1) ||
		st=$?
	assert_eq "dpkg-source -b: exit status" "$st" 0
	st=0
	build_pkg "$SRC1" "$RUN_DIR/build1.log" parallel=2 || st=$?
	assert_eq "dpkg-buildpackage -us -uc -b: exit status" "$st" 0
	if [ "$st" != 0 ]; then
		tail -n 30 "$RUN_DIR/build1.log"
		finish
	fi
	DEB1=$PKG1/dnsrl_${VERSION}_$ARCH.deb
	assert_true "it made $(basename "$DEB1")" test -f "$DEB1"

	echo "== lintian"
	st=0
	# as nobody, the way lintian wants to be run
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		env HOME=/nonexistent TMPDIR=/tmp \
		lintian --fail-on error,warning -I -E --pedantic --show-overrides \
		"$PKG1/dnsrl_$VERSION.dsc" \
		"$PKG1/dnsrl_${VERSION}_$ARCH.changes" 2>&1) || st=$?
	printf '%s\n' "$out" | sed 's/^/   /'
	assert_eq "lintian: no error or warning (exit status)" "$st" 0
	assert_eq "lintian: E: and W: lines" "$(count "$out" '^[EW]: ')" 0

	echo "== the package's files"
	deb_files "$DEB1" >"$RUN_DIR/files"
	sort >"$RUN_DIR/files.want" <<EOF
-rw-r--r-- root/root ./etc/dnsrl/dnsrl.conf
-rw-r--r-- root/root ./lib/systemd/system/dnsrl.service
-rw-r--r-- root/root ./usr/lib/sysusers.d/dnsrl.conf
-rw-r--r-- root/root ./usr/lib/tmpfiles.d/dnsrl.conf
-rwxr-xr-x root/root ./usr/sbin/dnsrl
-rwxr-xr-x root/root ./usr/sbin/dnsrlctl
-rw-r--r-- root/root ./usr/share/doc/dnsrl/README.md.gz
-rw-r--r-- root/root ./usr/share/doc/dnsrl/changelog.gz
-rw-r--r-- root/root ./usr/share/doc/dnsrl/copyright
-rw-r--r-- root/root ./usr/share/lintian/overrides/dnsrl
-rw-r--r-- root/root ./usr/share/man/man5/dnsrl.conf.5.gz
-rw-r--r-- root/root ./usr/share/man/man8/dnsrl.8.gz
-rw-r--r-- root/root ./usr/share/man/man8/dnsrlctl.8.gz
EOF
	if diff -u "$RUN_DIR/files.want" "$RUN_DIR/files"; then
		_ok "the package holds exactly the expected files, modes, owners"
	else
		_fail "the package's files differ from the expected ones"
	fi
	assert_eq "its conffiles" "$(dpkg-deb -I "$DEB1" conffiles)" "$CONF"
	assert_true "the conffile is the example policy" \
		cmp -s "$TOP/conf/dnsrl.conf" \
		<(dpkg-deb --fsys-tarfile "$DEB1" | tar -xOf - ./etc/dnsrl/dnsrl.conf)
	assert_eq "Architecture" "$(dpkg-deb -f "$DEB1" Architecture)" "$ARCH"

	rm -rf "$RUN_DIR/x" "$RUN_DIR/ctl1"
	dpkg-deb -x "$DEB1" "$RUN_DIR/x"
	dpkg-deb -e "$DEB1" "$RUN_DIR/ctl1"
	DEPENDS=$(dpkg-deb -f "$DEB1" Depends)
	echo "   Depends: $DEPENDS"
	miss=
	for f in dnsrl dnsrlctl; do
		for w in $(readelf -dW "$RUN_DIR/x/usr/sbin/$f" |
			sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
			p=$(dpkg -S "*/$w" 2>/dev/null | head -n 1 | cut -d: -f1)
			grep -qE "(^|, )$(ere "$p") \(>= " <<<"$DEPENDS" ||
				miss="$miss $f:$w:${p:-?}"
		done
	done
	assert_eq "Depends: every library linked, with a version (shlibs)" \
		"${miss:-none missing}" "none missing"
	assert_true "Depends: iptables (the daemon runs iptables-restore)" \
		grep -qE '(^|, )iptables(,|$)' <<<"$DEPENDS"
	assert_true "Depends: systemd-sysusers for the user" \
		grep -qF 'systemd | systemd-standalone-sysusers | systemd-sysusers' \
		<<<"$DEPENDS"

	echo "== build flags and hardening"
	# what dpkg-buildflags gives in the build directory (its prefix map)
	miss=
	for w in $(cd "$SRC1" && DEB_BUILD_MAINT_OPTIONS=hardening=+all \
		dpkg-buildflags --get CPPFLAGS && DEB_BUILD_MAINT_OPTIONS=hardening=+all \
		dpkg-buildflags --get CFLAGS); do
		grep -E -- ' -o build/obj/main\.o src/main\.c$' "$RUN_DIR/build1.log" |
			grep -qF -- " $w " || miss="$miss $w"
	done
	assert_eq "the compile line has every CPPFLAGS and CFLAGS word" \
		"${miss:-none missing}" "none missing"
	miss=
	for w in $(cd "$SRC1" && DEB_BUILD_MAINT_OPTIONS=hardening=+all \
		dpkg-buildflags --get LDFLAGS); do
		grep -E -- ' -o build/dnsrl ' "$RUN_DIR/build1.log" |
			grep -qF -- " $w " || miss="$miss $w"
	done
	assert_eq "the link line has every LDFLAGS word" \
		"${miss:-none missing}" "none missing"
	for f in dnsrl dnsrlctl; do
		f=$RUN_DIR/x/usr/sbin/$f
		assert_eq "$(basename "$f"): PIE" \
			"$(readelf -hW "$f" | awk '$1 == "Type:" { print $2 }')" DYN
		assert_true "$(basename "$f"): RELRO" \
			grep -q GNU_RELRO <(readelf -lW "$f")
		assert_true "$(basename "$f"): BIND_NOW" \
			grep -qE '\(FLAGS(_1)?\).*\bNOW\b' <(readelf -dW "$f")
		assert_true "$(basename "$f"): stack protector" \
			grep -q __stack_chk_fail <(readelf --dyn-syms -W "$f")
	done
	assert_true "dnsrl: fortified functions" \
		grep -qE '__[a-z_]+_chk' <(readelf --dyn-syms -W "$RUN_DIR/x/usr/sbin/dnsrl")
	assert_eq "dh_auto_test ran every unit test" \
		"$(grep -cE '^== build/tests/test_[a-z_]+$' "$RUN_DIR/build1.log")" \
		"$(find "$SRC1/tests" -maxdepth 1 -name 'test_*.c' | wc -l)"
	assert_eq "and every fuzz corpus" \
		"$(grep -cE '^== corpus [a-z_]+$' "$RUN_DIR/build1.log")" \
		"$(find "$SRC1/tests/fuzz" -maxdepth 1 -name 'fuzz_*.c' | wc -l)"
}

scripts_under_systemd() {
	local out ctl=$RUN_DIR/ctl1

	echo "== the maintainer scripts under systemd (stubbed)"
	assert_true "no preinst (nothing is stopped before an upgrade)" \
		test ! -e "$ctl/preinst"
	out=$(under_systemd "$ctl" postinst configure)
	printf '%s\n' "$out" | sed 's/^/   install: /'
	assert_eq "install: the user, then /run/dnsrl" \
		"$(grep -nE '^systemd-(sysusers|tmpfiles)' <<<"$out" | cut -d: -f2 | tr '\n' ';')" \
		"systemd-sysusers dnsrl.conf;systemd-tmpfiles --create dnsrl.conf;"
	assert_eq "install: the unit enabled" \
		"$(count "$out" '^deb-systemd-helper enable dnsrl\.service$')" 1
	assert_eq "install: nothing started (no deb-systemd-invoke)" \
		"$(count "$out" '^deb-systemd-invoke')" 0
	out=$(under_systemd "$ctl" prerm upgrade "$VERSION+test1")
	assert_eq "upgrade: the old prerm stops nothing" "$out" ""
	out=$(under_systemd "$ctl" postinst configure "$VERSION")
	printf '%s\n' "$out" | sed 's/^/   upgrade: /'
	assert_eq "upgrade: the new postinst restarts it, if it runs" \
		"$(grep '^deb-systemd-invoke' <<<"$out")" \
		"deb-systemd-invoke try-restart dnsrl.service"
	out=$(under_systemd "$ctl" prerm remove)
	printf '%s\n' "$out" | sed 's/^/   remove: /'
	assert_eq "remove: stopped, then its rules removed" \
		"$(tr '\n' ';' <<<"$out")" \
		"deb-systemd-invoke stop dnsrl.service;dnsrl --remove-rules;"
	out=$(under_systemd "$ctl" postrm purge)
	assert_eq "purge: the unit's enablement forgotten" \
		"$(count "$out" '^deb-systemd-helper purge dnsrl\.service$')" 1
}

install_and_check() {
	local st=0 f out

	echo "== apt-get install $(basename "$DEB1")"
	getent passwd dnsrl >/dev/null || made_user=1
	apt_run install "$DEB1" >"$RUN_DIR/install1.log" 2>&1 || st=$?
	assert_eq "apt-get install: exit status" "$st" 0
	[ "$st" = 0 ] || { tail -n 20 "$RUN_DIR/install1.log"; finish; }
	assert_eq "dpkg: installed" "$(pkg_status)" "ii "
	assert_eq "dpkg: its version" \
		"$(dpkg-query -W -f='${Version}' dnsrl)" "$VERSION"
	out=$(dpkg --verify dnsrl 2>&1 || true)
	assert_eq "dpkg --verify: every file as shipped" "$out" ""
	while read -r f; do
		assert_eq "$f: mode, owner" "$(stat -c '%A %U:%G' "$f")" \
			"$(awk -v p=".$f" '$3 == p { print $1 }' "$RUN_DIR/files") root:root"
	done < <(cut -d' ' -f3 "$RUN_DIR/files" | sed 's/^\.//' |
		grep -E '^/(etc|lib|usr/sbin|usr/lib)/')
	assert_eq "dnsrl --version: the changelog's" "$("$DNSRL" --version)" \
		"dnsrl $VERSION"
	assert_eq "dnsrlctl --version: the changelog's" \
		"$("$DNSRLCTL" --version)" "dnsrlctl $VERSION"

	IFS=: read -r _ _ uid gid _ home shell < <(getent passwd dnsrl) || true
	assert_true "the dnsrl user exists" test -n "${uid:-}"
	assert_range "a system uid" "${uid:-x}" 1 999
	assert_eq "its group is dnsrl" "$(getent group "${gid:-x}" | cut -d: -f1)" \
		dnsrl
	assert_eq "no home, no shell" "$home $shell" "/nonexistent /usr/sbin/nologin"
	assert_eq "/run/dnsrl: the user's" "$(stat -c '%U:%G %a' /run/dnsrl)" \
		"dnsrl:dnsrl 755"
	assert_eq "$CONF: root's, 0644, a conffile" \
		"$(stat -c '%U:%G %a' "$CONF") $(dpkg-query -W -f='${Conffiles}' dnsrl | awk '{ print $1 }')" \
		"root:root 644 $CONF"

	st=0
	out=$(systemd-analyze verify "$UNIT" 2>&1) || st=$?
	assert_eq "systemd-analyze verify $UNIT: exit status" "$st:$out" "0:"
	assert_eq "the unit is enabled (multi-user.target.wants)" \
		"$(readlink "$WANTS")" "$UNIT"
	assert_eq "systemctl is-enabled (offline)" \
		"$(systemctl --root=/ is-enabled dnsrl.service 2>&1)" enabled
	assert_eq "nothing started: no process runs $DNSRL" \
		"$(installed_daemons | wc -l)" 0
}

run_as_unit() {
	local n

	echo "== the daemon as the unit runs it (server namespace, Unbound)"
	unbound_start
	syslog_start
	"$DNSRL" --print-rules -c "$CONF" >"$RUN_DIR/rules.sh"
	assert_true "the operator's rules (--print-rules | sh)" \
		srv sh "$RUN_DIR/rules.sh"
	start_as_unit "$VERSION" || finish
	assert_eq "it runs as dnsrl" \
		"$(ops_proc_status "$DAEMON_PID" Uid | awk '{ print $1 }')" \
		"$(id -u dnsrl)"
	assert_eq "with CAP_NET_ADMIN alone" \
		"$(ops_proc_status "$DAEMON_PID" CapEff)" 0000000000001000
	assert_true "dnsrlctl stats answers" \
		grep -q '^stats: packets=' <(srv "$DNSRLCTL" stats)

	n=$(any_answered "$ATTACK4" 20)
	assert_eq "ANY limited: answered of 20" "$n" 2
	# a hold-down starts once the source is still over its limit a whole
	# T (5 s) after its first drop: 6 s more at 10 a second, the bucket
	# refilling 2 each 5 s until then
	n=$(kv answered "$(cli "$QGEN" query --src "$ATTACK4" --dst "$SRV4" \
		--qtype ANY --qname big.example --rate 10 --count 60)")
	assert_range "kept up 6 s: answered of 60" "$n" 0 4
	assert_true "the source is held in the kernel ($SET4)" \
		set_has "$SET4" "$ATTACK4"
	assert_eq "its ANY dropped: answered of 5" "$(any_answered "$ATTACK4" 5)" 0
	assert_eq "another source's ANY: answered of 2" \
		"$(any_answered "$CLI4" 2)" 2
}

upgrade() {
	local st=0 sum out pid_old

	echo "== upgrade to $VERSION2, with the configuration changed"
	sed -i 's/^report-top\t10$/report-top\t20/' "$CONF"
	echo "# changed here (t_deb)" >>"$CONF"
	assert_eq "the local change" "$(grep -c '^report-top.20$' "$CONF")" 1
	sum=$(sha256sum "$CONF")

	copy_tree "$SRC2"
	sed -i "1s/^dnsrl (\([^)]*\))/dnsrl (\1+test1)/" "$SRC2/debian/changelog"
	assert_eq "the copy's changelog says $VERSION2" \
		"$(dpkg-parsechangelog -l "$SRC2/debian/changelog" -S Version)" \
		"$VERSION2"
	build_pkg "$SRC2" "$RUN_DIR/build2.log" "nocheck parallel=2" || st=$?
	assert_eq "dpkg-buildpackage (nocheck: the same tests ran): exit status" \
		"$st" 0
	[ "$st" = 0 ] || { tail -n 30 "$RUN_DIR/build2.log"; finish; }
	DEB2=$PKG2/dnsrl_${VERSION2}_$ARCH.deb

	pid_old=$DAEMON_PID
	st=0
	apt_run install "$DEB2" >"$RUN_DIR/install2.log" 2>&1 || st=$?
	assert_eq "apt-get install (no conffile prompt): exit status" "$st" 0
	[ "$st" = 0 ] || { tail -n 20 "$RUN_DIR/install2.log"; finish; }
	assert_eq "dpkg: the new version" \
		"$(dpkg-query -W -f='${Version}' dnsrl)" "$VERSION2"
	assert_eq "the changed configuration stays" "$(sha256sum "$CONF")" "$sum"
	assert_eq "no .dpkg-dist, .dpkg-new or .dpkg-old beside it" \
		"$(find /etc/dnsrl -name '*.dpkg-*' | wc -l)" 0
	out=$(dpkg --verify dnsrl 2>&1 || true)
	assert_eq "dpkg --verify: only the conffile changed" "$out" \
		"??5?????? c $CONF"
	assert_eq "dnsrl --version" "$("$DNSRL" --version)" "dnsrl $VERSION2"
	assert_eq "dnsrlctl --version" "$("$DNSRLCTL" --version)" \
		"dnsrlctl $VERSION2"
	assert_eq "the old daemon runs on, its binary replaced" \
		"$(readlink "/proc/$pid_old/exe")" "$DNSRL (deleted)"

	# what the postinst's try-restart does under systemd: stop, start
	st=0
	daemon_stop TERM || st=$?
	assert_eq "restart: the old daemon's exit status" "$st" 0
	assert_true "the hold stays in the kernel meanwhile" \
		set_has "$SET4" "$ATTACK4"
	start_as_unit "$VERSION2" || finish
	assert_true "it reads the hold back" \
		wait_for_log "dnsrl\[$DAEMON_PID\]: kernel holds: 1 holds restored from the kernel" 5
	assert_eq "the held source stays held: ANY answered of 5" \
		"$(any_answered "$ATTACK4" 5)" 0
	assert_eq "a new source's ANY: answered of 2" \
		"$(any_answered "$ATTACK4B" 2)" 2
}

remove_and_purge() {
	local st=0 f left

	echo "== apt-get remove"
	# what the prerm's deb-systemd-invoke stop does under systemd
	daemon_stop TERM || st=$?
	assert_eq "the daemon stopped: exit status" "$st" 0
	assert_true "before: dnsrl's chain in mangle" \
		grep -q '^:DNSRL ' <(srv iptables-save -t mangle)
	st=0
	srv env DEBIAN_FRONTEND=noninteractive apt-get -y -q remove dnsrl \
		</dev/null >"$RUN_DIR/remove.log" 2>&1 || st=$?
	assert_eq "apt-get remove: exit status" "$st" 0
	assert_eq "dpkg: only the configuration left" "$(pkg_status)" "rc "
	assert_true "$DNSRL is gone" test ! -e "$DNSRL"
	assert_eq "no dnsrl chain or jump left (IPv4, IPv6)" \
		"$(srv iptables-save | grep -c DNSRL || true) $(srv ip6tables-save | grep -c DNSRL || true)" \
		"0 0"
	assert_eq "no dnsrl kernel set left" \
		"$(srv ipset list -n | grep -c '^dnsrl-' || true)" 0
	assert_eq "the held source's ANY answered again, of 3" \
		"$(any_answered "$ATTACK4" 3)" 3
	assert_true "the changed configuration is kept" \
		grep -q '^# changed here (t_deb)$' "$CONF"
	assert_true "/run/dnsrl is gone" test ! -e /run/dnsrl

	echo "== apt-get purge"
	st=0
	srv env DEBIAN_FRONTEND=noninteractive apt-get -y -q purge dnsrl \
		</dev/null >"$RUN_DIR/purge.log" 2>&1 || st=$?
	assert_eq "apt-get purge: exit status" "$st" 0
	assert_eq "dpkg: dnsrl unknown" "$(pkg_status)" ""
	left=
	while read -r f; do
		[ -e "$f" ] || [ -L "$f" ] && left="$left $f"
	done < <(cut -d' ' -f3 "$RUN_DIR/files" | sed 's/^\.//')
	for f in /etc/dnsrl /usr/share/doc/dnsrl /run/dnsrl "$WANTS" \
		/var/lib/systemd/deb-systemd-helper-enabled/dnsrl.service.dsh-also \
		/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/dnsrl.service; do
		[ -e "$f" ] || [ -L "$f" ] && left="$left $f"
	done
	left="$left$(find /var/lib/dpkg/info -name 'dnsrl.*' -printf ' %p')"
	assert_eq "nothing of the package left" "${left:-nothing}" nothing
	assert_eq "no dnsrl process left" "$(installed_daemons | wc -l)" 0
	assert_true "the dnsrl user stays (Debian leaves system users)" \
		getent passwd dnsrl
}

main() {
	local f

	for f in "$QGEN" "$LOGSINK"; do
		[ -x "$f" ] || {
			_err "$f missing: run make B=$B tools"
			exit 1
		}
	done
	for f in dpkg-buildpackage dpkg-source dpkg-parsechangelog lintian dh; do
		command -v "$f" >/dev/null || {
			_err "$f missing: run scripts/install-deps.sh deb"
			exit 1
		}
	done
	if [ -n "$(pkg_status)" ]; then
		echo "skipped: dpkg knows a dnsrl package on this machine"
		finish
	fi
	for f in /etc/dnsrl /run/dnsrl "$DNSRL" "$DNSRLCTL" "$UNIT" "$WANTS"; do
		if [ -e "$f" ] || [ -L "$f" ]; then
			echo "skipped: $f exists (a dnsrl installed by hand?)"
			finish
		fi
	done
	VERSION=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)
	VERSION2=$VERSION+test1
	echo "   debian/changelog: $VERSION"

	_run_dir
	on_cleanup restore_machine
	# _apt reads the .debs (apt-get install ./...); nothing secret here
	chmod 0711 "$RUN_DIR"
	PKG1=$RUN_DIR/pkg1
	PKG2=$RUN_DIR/pkg2
	SRC1=$PKG1/dnsrl-$VERSION
	SRC2=$PKG2/dnsrl-$VERSION2
	mkdir -p "$PKG1" "$PKG2"
	chmod 0755 "$PKG1" "$PKG2"
	# before anything is installed: removals run their prerm in it
	ns_setup

	build_and_lint
	scripts_under_systemd
	install_and_check
	run_as_unit
	upgrade
	remove_and_purge

	echo "== the machine as found"
	restore_machine
	assert_eq "dpkg: dnsrl unknown" "$(pkg_status)" ""
	if [ "$made_user" = 1 ]; then
		assert_eq "the user and group this test made are gone" \
			"$(getent passwd dnsrl | wc -l) $(getent group dnsrl | wc -l)" "0 0"
	fi
	finish
}

main "$@"
