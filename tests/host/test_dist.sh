#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Description: what `make install` and the packages ship, checked on the host
# (docs/INSTALL.md): the man pages pass `mandoc -T lint` and document every
# option of pushd --help; the systemd units pass `systemd-analyze verify`
# and pushd.service's `systemd-analyze security` exposure stays at most
# 2.0; pushd --config takes every option of its --help as a setting, names
# the line of a bad one and lets the command line win; make install and
# uninstall with DESTDIR; dkms.conf, pushd and debian/changelog agree on
# the version.  Needs `make` (build/bin/pushd, build/man/).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
tmp=$(mktemp -d /tmp/test_dist.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pushd_bin=build/bin/pushd

# shellcheck source=tests/tap.sh
. "$top/tests/tap.sh"
empty() { [ -z "$1" ]; echo $?; }

for t in mandoc systemd-analyze scdoc; do
	command -v "$t" >/dev/null || { echo "1..0 # SKIP no $t (tools/install-deps)"; exit 4; }
done
[ -x "$pushd_bin" ] || { echo "1..0 # SKIP no $pushd_bin (make)"; exit 4; }
make -s man >/dev/null

# --- man pages ---
for m in pushd.8 pushctl.1 push-probe.8 push.4; do
	out=$(mandoc -T lint -W warning "build/man/$m" 2>&1)
	tap "$(empty "$out")" "mandoc -T lint: $m" "$out"
done
# A failing scdoc must fail the build and leave no page behind: behind a
# pipe into tools/man-tidy its status was lost, and make kept an empty
# push.4 as up to date (seen on a host where scdoc was not yet installed).
mkdir -p "$tmp/bin"
printf '#!/bin/sh\nexit 1\n' > "$tmp/bin/scdoc"
chmod +x "$tmp/bin/scdoc"
PATH=$tmp/bin:$PATH make -s O="$tmp/o" "$tmp/o/man/push.4" >/dev/null 2>&1
rc=$?
[ "$rc" -ne 0 ] && [ ! -e "$tmp/o/man/push.4" ]
tap $? "a failing scdoc fails make and leaves no man page (make status $rc)"
opts=$("$pushd_bin" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
missing=$(for o in $opts; do grep -qF -- "*$o*" docs/man/pushd.8.scd || echo "$o"; done)
tap "$(empty "$missing")" "pushd(8) documents every option of pushd --help" "$missing"

# --- systemd units ---
sed -e "s|@SBINDIR@|$top/build/bin|" -e 's|@SYSCONFDIR@|/etc|' dist/systemd/pushd.service.in > "$tmp/pushd.service"
cp dist/systemd/pushd.socket "$tmp/"
# Documentation= is checked against our own man pages.
mkdir -p "$tmp/man/man4" "$tmp/man/man8"
cp build/man/pushd.8 "$tmp/man/man8/" && cp build/man/push.4 "$tmp/man/man4/"
out=$(cd "$tmp" && MANPATH=$tmp/man: systemd-analyze verify ./pushd.service ./pushd.socket 2>&1)
tap $? "systemd-analyze verify pushd.service pushd.socket" "$out"
out=$(cd "$tmp" && systemd-analyze security --offline=yes --threshold=20 ./pushd.service 2>&1)
rc=$?
score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for pushd.service: \([0-9.]*\).*/\1/p')
tap $rc "systemd-analyze security pushd.service: exposure $score (at most 2.0)" "$(printf '%s\n' "$out" | grep '✗')"
echo "# exposure $score: $(printf '%s\n' "$out" | tail -n 1)"

# --- pushd --config with the real option table ---
printf 'device = %s\n' "$tmp/nodev-file" > "$tmp/ok.conf"
out=$("$pushd_bin" --config "$tmp/ok.conf" 2>&1)
grep -q "$tmp/nodev-file" <<< "$out"
tap $? "pushd takes device from the file" "$out"
out=$("$pushd_bin" --config "$tmp/ok.conf" --device "$tmp/nodev-cmd" 2>&1)
grep -q "$tmp/nodev-cmd" <<< "$out" && ! grep -q nodev-file <<< "$out"
tap $? "the command line wins over the file" "$out"
bad=""
for o in $opts; do
	o=${o#--}
	case $o in config|help|version) continue ;; esac
	# accepted as a name (string values are taken as they are; a flag
	# given a value other than yes/no is refused, but not as unknown)
	printf '# line 1\n%s = x\n' "$o" > "$tmp/one.conf"
	out=$("$pushd_bin" --config "$tmp/one.conf" --device "$tmp/nodev" 2>&1)
	grep -q 'unknown setting' <<< "$out" && bad+="$o: $out"$'\n'
done
tap "$(empty "$bad")" "every option of pushd --help is a setting of the file" "$bad"
for kv in "heartbeat = abc" "listen = nowhere" "max-conns = 0" "verbose = maybe"; do
	printf '# line 1\n\n%s\n' "$kv" > "$tmp/bad.conf"
	out=$("$pushd_bin" --config "$tmp/bad.conf" --device "$tmp/nodev" 2>&1)
	rc=$?
	[ $rc -eq 2 ] && grep -q "bad.conf:3: " <<< "$out"
	tap $? "'$kv' refused, status 2, naming line 3" "rc $rc: $out"
done
# -Vv: 'V' is handled while getopt is still inside "-Vv", next to the
# file's last argument; no line of the file may be blamed for it
out=$("$pushd_bin" -Vv --config="$tmp/ok.conf" 2>&1)
[ $? -eq 0 ] && ! grep -q 'invalid setting' <<< "$out"
tap $? "--version after a --config file blames no line of it" "$out"
printf 'heartbeat = 5\nhelp\n' > "$tmp/deny.conf"
out=$("$pushd_bin" --config "$tmp/deny.conf" 2>&1)
[ $? -eq 2 ] && grep -q "deny.conf:2: 'help' cannot be set in a file" <<< "$out"
tap $? "help cannot be set in a file" "$out"
printf 'heartbeat = 5\nheartbeat = 6\n' > "$tmp/twice.conf"
out=$("$pushd_bin" --config "$tmp/twice.conf" 2>&1)
[ $? -eq 2 ] && grep -q "twice.conf:2: 'heartbeat' is already set on line 1" <<< "$out"
tap $? "a setting given twice is refused" "$out"
out=$("$pushd_bin" --config "$tmp/none.conf" 2>&1)
[ $? -eq 2 ] && grep -q "none.conf: No such file" <<< "$out"
tap $? "a missing --config file is refused" "$out"
out=$("$pushd_bin" --config dist/pushd.conf --device "$tmp/nodev" 2>&1)
grep -q "$tmp/nodev: No such file" <<< "$out"
tap $? "the shipped dist/pushd.conf is valid" "$out"

# --- make install / uninstall ---
dest=$tmp/dest
make -s install DESTDIR="$dest" PREFIX=/usr > "$tmp/install" 2>&1
rc=$?
want="usr/sbin/pushd usr/sbin/push-probe usr/bin/pushctl usr/include/linux/push.h
	lib/systemd/system/pushd.service lib/systemd/system/pushd.socket lib/udev/rules.d/99-push.rules
	usr/lib/sysusers.d/push.conf usr/share/man/man8/pushd.8 usr/share/man/man4/push.4
	usr/share/man/man1/pushctl.1 usr/share/man/man8/push-probe.8 etc/push/pushd.conf
	usr/share/doc/pushd/examples/modprobe.d/push.conf"
m=$(for f in $want; do [ -f "$dest/$f" ] || echo "$f"; done)
tap "$([ $rc -eq 0 ] && [ -z "$m" ]; echo $?)" "make install DESTDIR PREFIX=/usr" "$m$(cat "$tmp/install")"
grep -q '^ExecStart=/usr/sbin/pushd --config /etc/push/pushd.conf$' "$dest/lib/systemd/system/pushd.service"
tap $? "the installed unit runs /usr/sbin/pushd --config /etc/push/pushd.conf"
echo "listen = 127.0.0.1:9" > "$dest/etc/push/pushd.conf"
make -s install DESTDIR="$dest" PREFIX=/usr > /dev/null 2>&1
grep -qx "listen = 127.0.0.1:9" "$dest/etc/push/pushd.conf"
tap $? "a second make install keeps the local pushd.conf"
make -s uninstall DESTDIR="$dest" PREFIX=/usr > /dev/null 2>&1
left=$(cd "$dest" && find . -type f | sort)
tap "$([ "$left" = ./etc/push/pushd.conf ]; echo $?)" "make uninstall leaves only the local pushd.conf" "$left"
make -s install-dkms DESTDIR="$dest" > /dev/null 2>&1 && [ -f "$dest/usr/src/push-0.1/dkms.conf" ] &&
	[ -f "$dest/usr/src/push-0.1/kmod/push_main.c" ] && [ -f "$dest/usr/src/push-0.1/Kbuild" ]
tap $? "make install-dkms: /usr/src/push-0.1 with dkms.conf, Kbuild, kmod/"

# --- one version everywhere ---
v_dkms=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
v_pushd=$("$pushd_bin" --version | awk '{print $2}')
v_deb=$(dpkg-parsechangelog -S Version 2>/dev/null)
[ "$v_dkms" = "$v_pushd" ] && [ "$v_deb" = "$v_pushd" ]
tap $? "one version: dkms.conf $v_dkms, pushd $v_pushd, debian/changelog $v_deb"

tap_done
