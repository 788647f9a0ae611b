#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the Debian packages dnsrl's build, tests, benchmark and demo
# need.  Idempotent: asks apt-get only for what is missing.
#
#   scripts/install-deps.sh        # build, tests, benchmark, demo
#   scripts/install-deps.sh deb    # and the Debian package's build and
#                                  # lintian (make check-deb)
set -eu

PKGS="
build-essential
pkg-config
clang
clang-format
libmnl-dev
libnetfilter-queue-dev
libnfnetlink-dev
libldns-dev
libcmocka-dev
libpcap-dev
iptables
ipset
iproute2
unbound
bind9
dnsutils
dnsperf
procps
psmisc
util-linux
valgrind
systemd
python3
tcpdump
"

# debian/control's Build-Depends are the packages above (pkg-config is
# pkgconf's) and debhelper.
if [ "${1:-}" = deb ]; then
	PKGS="$PKGS
debhelper
dpkg-dev
lintian
"
fi

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	"install ok installed") ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing:$missing" >&2
	echo "install-deps: run as root (or install them) and try again" >&2
	exit 1
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing

# The unbound and bind9 packages start a system resolver on install where
# systemd runs; the tests start their own instances, in namespaces.
