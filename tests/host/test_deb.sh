#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Description: the Debian packages (debian/, docs/INSTALL.md).  Copies the
# tree's tracked and unignored files to build/deb/src/push (a git repository
# of its own), runs `dpkg-buildpackage -b` there as a fresh clone would,
# and checks: both packages are built; each holds what it must; lintian
# reports nothing beyond the overrides explained in debian/; and the build
# wrote nothing git would see.  The .debs stay in build/deb/ for
# tests/vm/test_packages.sh, which installs them in the VM.
# test-timeout: 900
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
out=$top/build/deb
src=$out/src/push

# shellcheck source=tests/tap.sh
. "$top/tests/tap.sh"

for t in dpkg-buildpackage dh dh_dkms lintian git; do
	command -v "$t" >/dev/null || { echo "1..0 # SKIP no $t (tools/install-deps)"; exit 4; }
done

rm -rf "$out"
mkdir -p "$src"
git ls-files -co --exclude-standard -z | grep -zv '^build/' | xargs -0 cp --parents -t "$src" 2>/dev/null
( cd "$src" && git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm t ) ||
	{ echo "not ok 1 - copy of the tree"; exit 1; }

log=$out/dpkg-buildpackage.log
( cd "$src" && dpkg-buildpackage -b -us -uc ) > "$log" 2>&1
tap $? "dpkg-buildpackage -b" "$(tail -n 30 "$log")"

ver=$(cd "$src" && dpkg-parsechangelog -S Version)
arch=$(dpkg --print-architecture)
dkms_deb=$out/src/push-dkms_${ver}_all.deb
pushd_deb=$out/src/pushd_${ver}_${arch}.deb
[ -f "$dkms_deb" ] && [ -f "$pushd_deb" ]
tap $? "push-dkms_${ver}_all.deb and pushd_${ver}_${arch}.deb built" "$(ls "$out/src")"
cp -f "$out"/src/*.deb "$out/" 2>/dev/null

# contents: what each package must hold
want_pushd="./usr/sbin/pushd ./usr/sbin/push-probe ./usr/bin/pushctl
	./lib/systemd/system/pushd.service ./lib/systemd/system/pushd.socket
	./lib/udev/rules.d/99-push.rules ./usr/lib/sysusers.d/push.conf
	./usr/share/man/man8/pushd.8.gz ./usr/share/man/man1/pushctl.1.gz
	./usr/share/man/man8/push-probe.8.gz ./usr/share/man/man4/push.4.gz
	./etc/push/pushd.conf ./usr/include/linux/push.h"
want_dkms="./usr/src/push-$ver/dkms.conf ./usr/src/push-$ver/Kbuild
	./usr/src/push-$ver/kmod/push_main.c ./usr/src/push-$ver/kmod/include/uapi/linux/push.h"
missing() { # missing DEB FILES...: the FILES the package lacks
	local deb=$1 list f; shift
	list=$(dpkg-deb -c "$deb" 2>/dev/null | awk '{print $6}')
	for f in "$@"; do grep -qxF "$f" <<< "$list" || echo "$f"; done
}
# shellcheck disable=SC2086
m=$(missing "$pushd_deb" $want_pushd)
tap "$([ -z "$m" ]; echo $?)" "pushd holds its programs, units, rules, man pages, config" "$m"
# shellcheck disable=SC2086
m=$(missing "$dkms_deb" $want_dkms)
tap "$([ -z "$m" ]; echo $?)" "push-dkms holds dkms.conf and the module's source" "$m"
dpkg-deb -f "$dkms_deb" Depends | grep -q dkms
tap $? "push-dkms depends on dkms" "$(dpkg-deb -f "$dkms_deb" Depends)"
dpkg-deb -f "$pushd_deb" Depends | grep -q libsystemd0
tap $? "pushd depends on libsystemd0 (sd_notify)" "$(dpkg-deb -f "$pushd_deb" Depends)"
dpkg-deb -I "$pushd_deb" postinst 2>/dev/null | grep -q 'systemd-sysusers'
tap $? "pushd's postinst creates user pushd and group push (sysusers)"
dpkg-deb -I "$pushd_deb" conffiles 2>/dev/null | grep -qx /etc/push/pushd.conf
tap $? "/etc/push/pushd.conf is a conffile"

# lintian: no error or warning left (informational tags are in the log)
lint=$(lintian --fail-on error,warning --suppress-tags-from-file /dev/null "$out"/src/*.changes 2>&1)
tap $? "lintian: no errors or warnings" "$lint"
printf '%s\n' "$lint" > "$out/lintian.log"

# nothing generated that git would see
st=$(cd "$src" && git status --porcelain)
tap "$([ -z "$st" ]; echo $?)" "the build left nothing git would see" "$st"

tap_done
