#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Description: the Debian packages, installed in the test VM.  Installs
# build/deb/push-dkms_*.deb and pushd_*.deb (made by tests/host/test_deb.sh)
# into the guest's throwaway tmpfs root with dpkg, as on a real machine:
# DKMS builds push.ko against the running kernel's headers and installs it
# in updates/dkms; `modprobe push` then loads that module with the
# parameters of /etc/modprobe.d/push.conf; pushd, as installed, started as
# its unit starts it (user pushd, group push, --config /etc/push/pushd.conf)
# serves a message published on the device.  Afterwards the packages are
# purged and build/push.ko is loaded again with the boot's parameters, so
# the tests after this one see the device they expect.
# It names the default ring_size below to get a boot of its own, so that
# the DKMS build (300-900 s under TCG) does not eat the main boot's limit.
# vm-params: ring_size=4194304
# test-timeout: 1500
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
kver=$(uname -r)
tmp=$(mktemp -d /tmp/pkgtest.XXXXXX)
pid=

# shellcheck source=tests/tap.sh
. "$top/tests/tap.sh"

# Put back what the boot loaded (tools/vm/guest-init), whatever happened.
restore() {
	[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	dpkg --purge pushd push-dkms > "$tmp/purge.log" 2>&1
	rm -f /etc/modprobe.d/push.conf
	mountpoint -q /var/lib/dpkg && umount /var/lib/dpkg
	mountpoint -q /run/pkgtest-dpkg && umount /run/pkgtest-dpkg
	rmmod push 2>/dev/null
	# shellcheck source=/dev/null
	. /run/pushvm/env
	# shellcheck disable=SC2086
	[ -n "${PUSHVM_MODULE:-}" ] && insmod "$PUSHVM_MODULE" $PUSHVM_PARAMS
	rm -rf "$tmp"
}

[ -n "${PUSHVM:-}" ] || { echo "1..0 # SKIP not in the test VM (tools/vm/run)"; exit 4; }
shopt -s nullglob
debs=(build/deb/push-dkms_*_all.deb build/deb/pushd_*.deb)
if [ ${#debs[@]} -ne 2 ]; then
	echo "1..0 # SKIP no packages in build/deb/ (tests/host/test_deb.sh builds them)"
	exit 4
fi
[ -d "/usr/src/linux-headers-$kver" ] ||
	{ echo "1..0 # SKIP no headers for $kver (tools/install-deps)"; exit 4; }
trap restore EXIT

# The guest's /lib/modules/$kver is the unpacked image's: give it the
# build link the headers package gives a real machine.
ln -sfn "/usr/src/linux-headers-$kver" "/lib/modules/$kver/build"
# dpkg's database on a tmpfs of its own: dpkg replaces its status file by
# rename(), which the overlay over virtiofs fails with ESTALE.
mkdir -p /run/pkgtest-dpkg
mount -t tmpfs -o mode=0755 tmpfs /run/pkgtest-dpkg && cp -a /var/lib/dpkg/. /run/pkgtest-dpkg/ &&
	mount --bind /run/pkgtest-dpkg /var/lib/dpkg
# No man-db index rebuild under TCG (a real machine does it, it takes minutes here).
rm -f /var/lib/man-db/auto-update

if ! rmmod push 2>"$tmp/rmmod"; then
	tap 1 "build/push.ko unloaded before the test" "$(cat "$tmp/rmmod")"
	tap_done; exit 1
fi
printf 'options push ring_size=1048576 max_msg_size=2048\n' > /etc/modprobe.d/push.conf

# dpkg, as `apt install ./push-dkms_*.deb ./pushd_*.deb` would run it: the
# dependencies (dkms, libmicrohttpd, ...) are installed by tools/install-deps.
start=$SECONDS
dpkg -i "${debs[@]}" > "$tmp/dpkg.log" 2>&1
tap $? "dpkg -i push-dkms pushd ($((SECONDS - start)) s, DKMS build included)" "$(cat "$tmp/dpkg.log")"
cp "$tmp/dpkg.log" "${PUSH_RESULTS:-build/test-results}/packages-dpkg.log" 2>/dev/null

st=$(dkms status push 2>&1)
grep -q "push/.*, $kver, .*: installed" <<< "$st"
tap $? "dkms status: push installed for $kver" "$st"
ko=$(modinfo -n push 2>&1)
[[ $ko == /lib/modules/$kver/updates/dkms/push.ko* ]]
tap $? "modinfo -n push is the DKMS module ($ko)" "$ko"

out=$(modprobe push 2>&1)
tap $? "modprobe push" "$out"
rs=$(cat /sys/module/push/parameters/ring_size 2>/dev/null)
ms=$(cat /sys/module/push/parameters/max_msg_size 2>/dev/null)
[ "$rs" = 1048576 ] && [ "$ms" = 2048 ]
tap $? "parameters from /etc/modprobe.d: ring_size=$rs max_msg_size=$ms"
[ -c /dev/push ]
tap $? "/dev/push exists"

getent passwd pushd > /dev/null && id -nG pushd | grep -qw push
tap $? "user pushd in group push (systemd-sysusers from the postinst)" "$(id pushd 2>&1)"
systemd-analyze verify /lib/systemd/system/pushd.service > "$tmp/verify" 2>&1
tap $? "systemd-analyze verify of the installed pushd.service" "$(cat "$tmp/verify")"
[ -L /etc/systemd/system/multi-user.target.wants/pushd.service ]
tap $? "pushd.service enabled by the postinst"

# Start pushd as the unit does, less systemd: its ExecStart as user pushd,
# group push.  No udevd runs in this VM, so give the device to group push
# as kmod/99-push.rules does.
chgrp push /dev/push && chmod 0660 /dev/push
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i "s/^listen = .*/listen = 127.0.0.1:$port/" /etc/push/pushd.conf
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/pushd.service)
# shellcheck disable=SC2086
setpriv --reuid=pushd --regid=push --init-groups -- $exec_start > "$tmp/pushd.log" 2>&1 &
pid=$!
code=
for _ in $(seq 300); do
	code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$port/stats")
	[ "$code" = 200 ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
[ "$code" = 200 ]
tap $? "installed pushd ($exec_start) serves on the port from pushd.conf" "$(cat "$tmp/pushd.log")"
user=$(ps -o user= -p "$pid" 2>/dev/null | tr -d ' ')
[ "$user" = pushd ]
tap $? "it runs as user pushd ($user)"

# A message published with the installed pushctl reaches a long-poll through it.
/usr/bin/pushctl pub pkgtest "hello from the package" > "$tmp/pub" 2>&1
curl -s -m 30 "http://127.0.0.1:$port/sub/pkgtest?since=oldest" > "$tmp/sub" 2>&1
grep -q '"data":"hello from the package"' "$tmp/sub"
tap $? "a long-poll through it gets a message published by /usr/bin/pushctl" "$(cat "$tmp/pub" "$tmp/sub")"

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
tap "$rc" "SIGTERM ends it with status 0 (got $rc)" "$(cat "$tmp/pushd.log")"

# Removal: dkms removes the module it built.
rmmod push
dpkg --purge pushd push-dkms > "$tmp/purge.log" 2>&1
tap $? "dpkg --purge pushd push-dkms" "$(cat "$tmp/purge.log")"
[ ! -e "/lib/modules/$kver/updates/dkms/push.ko" ] && [ ! -e /usr/sbin/pushd ]
tap $? "purge removed the DKMS module and pushd"

tap_done
