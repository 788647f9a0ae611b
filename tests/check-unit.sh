#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Renders systemd/dnsrl.service.in for the build tree and checks it with
# systemd-analyze verify (no systemd as PID 1 needed).
set -eu
B=${B:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
top=$(pwd)
sed "s|@SBINDIR@|$top/$B|g; s|@SYSCONFDIR@|$top/conf/..|g" \
	systemd/dnsrl.service.in > "$tmp/dnsrl.service"
# The config path inside the unit must exist for verify's checks.
mkdir -p "$tmp"
systemd-analyze verify --man=no "$tmp/dnsrl.service"
echo "systemd-analyze verify: ok"
