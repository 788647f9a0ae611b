#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `make install DESTDIR=... PREFIX=...` puts every file where it belongs,
# and `make uninstall` with the same variables takes them all away.
set -eu
B=${B:-build}
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
fail=0

make -s B="$B" install DESTDIR="$dest" PREFIX=/usr SYSCONFDIR=/etc \
	UNITDIR=/lib/systemd/system >/dev/null
for f in usr/sbin/dnsrl usr/sbin/dnsrlctl etc/dnsrl/dnsrl.conf.example \
	lib/systemd/system/dnsrl.service usr/share/man/man5/dnsrl.conf.5 \
	usr/share/man/man8/dnsrl.8 usr/share/man/man8/dnsrlctl.8 \
	usr/lib/sysusers.d/dnsrl.conf usr/lib/tmpfiles.d/dnsrl.conf; do
	if [ ! -f "$dest/$f" ]; then
		echo "FAIL: $f not installed"
		fail=1
	fi
done
# the unit points at the installed binary and configuration
grep -q '^ExecStart=/usr/sbin/dnsrl -c /etc/dnsrl/dnsrl.conf$' \
	"$dest/lib/systemd/system/dnsrl.service" ||
	{ echo "FAIL: ExecStart paths"; fail=1; }
grep -q '^ExecReload=/usr/sbin/dnsrlctl reload$' \
	"$dest/lib/systemd/system/dnsrl.service" ||
	{ echo "FAIL: ExecReload"; fail=1; }
"$dest/usr/sbin/dnsrl" -V >/dev/null || { echo "FAIL: dnsrl -V"; fail=1; }
make -s B="$B" uninstall DESTDIR="$dest" PREFIX=/usr SYSCONFDIR=/etc \
	UNITDIR=/lib/systemd/system
left=$(find "$dest" -type f | sed "s|^$dest/||")
if [ -n "$left" ]; then
	echo "FAIL: left after uninstall: $left"
	fail=1
fi
[ "$fail" -eq 0 ] && echo "install/uninstall: ok"
exit "$fail"
