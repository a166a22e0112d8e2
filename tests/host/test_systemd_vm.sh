#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Description: pushd.service under a real systemd.  Boots the test VM with
# systemd 252 as init (tools/vm/run --systemd) and, inside, installs the
# pushd package (build/deb/, from tests/host/test_deb.sh), then: systemctl
# start pushd serves (Type=notify: active only after READY=1); systemctl
# stop ends it cleanly; a pushd stopped with SIGSTOP misses its watchdog
# and systemd restarts it; pushd.socket passes its socket to pushd, which
# serves on it instead of its own listen address; and the running unit's
# systemd-analyze security exposure.  test-timeout: 1300
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1

if [ "${1:-}" != --inner ]; then
	shopt -s nullglob
	debs=(build/deb/pushd_*.deb)
	[ ${#debs[@]} -eq 1 ] ||
		{ echo "1..0 # SKIP no build/deb/pushd_*.deb (tests/host/test_deb.sh builds it)"; exit 4; }
	[ -f build/push.ko ] || { echo "1..0 # SKIP no build/push.ko (make)"; exit 4; }
	res=$top/build/test-results
	mkdir -p "$res"
	exec tools/vm/run --systemd --timeout 1200 --console "$res/vm-console-systemd.log" -- "$0" --inner
fi

# --- inside the VM, under systemd ------------------------------------------
tmp=$(mktemp -d /tmp/sdtest.XXXXXX)
# shellcheck source=tests/tap.sh
. "$top/tests/tap.sh"
# wait_for SECONDS CMD...: until CMD succeeds, polling every 0.2 s
wait_for() {
	local t=$(($1 * 5)); shift
	while [ "$t" -gt 0 ]; do "$@" && return 0; sleep 0.2; t=$((t - 1)); done
	return 1
}
prop() { systemctl show -P "$1" pushd.service; }
http_ok() { [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/stats")" = 200 ]; }
# systemd's own messages are in the kernel log (--log-target=kmsg), pushd's in the journal
journal() { dmesg | grep -E 'pushd\.(service|socket)' | tail -n 15; journalctl -b -u pushd.service --no-pager 2>&1 | tail -n 10; }

[ "$(cat /proc/1/comm)" = systemd ]
tap $? "PID 1 is systemd ($(cat /proc/1/comm))"

# dpkg's database on a tmpfs: the overlay over virtiofs fails its rename()s.
mkdir -p /run/sdtest-dpkg
mount -t tmpfs tmpfs /run/sdtest-dpkg && cp -a /var/lib/dpkg/. /run/sdtest-dpkg/ &&
	mount --bind /run/sdtest-dpkg /var/lib/dpkg
rm -f /var/lib/man-db/auto-update
dpkg -i build/deb/pushd_*.deb > "$tmp/dpkg" 2>&1
tap $? "dpkg -i pushd (its postinst enables and starts pushd.service)" "$(cat "$tmp/dpkg")"
# The build hosts have no udev: do what kmod/99-push.rules does.
chgrp push /dev/push && chmod 0660 /dev/push

# start: active only once READY=1 came, and serving then
systemctl stop pushd.service 2>/dev/null
systemctl reset-failed pushd.service 2>/dev/null
systemctl start pushd.service
rc=$?
tap $rc "systemctl start pushd (returns once pushd sent READY=1)" "$(journal)"
http_ok 8080
tap $? "pushd.service serves GET /stats on 127.0.0.1:8080 at once" "$(journal)"
[ "$(prop User)" = pushd ] && [ "$(ps -o user= -p "$(prop MainPID)" | tr -d ' ')" = pushd ]
tap $? "it runs as user pushd"
pushctl pub sdtest "hello from systemd" > /dev/null
curl -s -m 20 "http://127.0.0.1:8080/sub/sdtest?since=oldest" > "$tmp/sub"
grep -q '"data":"hello from systemd"' "$tmp/sub"
tap $? "a long-poll gets a message published on the device" "$(cat "$tmp/sub")"
[ "$(prop NotifyAccess)" = main ] && [ "$(prop WatchdogUSec)" = 10s ]
tap $? "Type=notify with WatchdogSec=10s ($(prop Type), $(prop WatchdogUSec))"

# watchdog: a live pushd sends WATCHDOG=1 (systemd stamps each one) ...
w1=$(prop WatchdogTimestampMonotonic)
wait_for 15 sh -c '[ "$(systemctl show -P WatchdogTimestampMonotonic pushd)" != "$0" ]' "$w1"
tap $? "pushd sends WATCHDOG=1: systemd's WatchdogTimestamp moves ($w1 -> $(prop WatchdogTimestampMonotonic))"
# ... a stopped one sends none and is restarted
pid1=$(prop MainPID)
restarts=$(prop NRestarts)
kill -STOP "$pid1"
start=$SECONDS
wait_for 60 sh -c '[ "$(systemctl show -P MainPID pushd)" != "$0" ] && [ "$(systemctl show -P ActiveState pushd)" = active ]' "$pid1"
rc=$?
tap $rc "SIGSTOP: the watchdog kills pushd and systemd restarts it ($((SECONDS - start)) s, pid $pid1 -> $(prop MainPID))" "$(journal)"
[ "$(prop NRestarts)" = $((restarts + 1)) ]
tap $? "NRestarts $restarts -> $(prop NRestarts)" "$(journal)"
# systemd logs to the kernel log here (tools/vm/guest-init: --log-target=kmsg)
dmesg | grep -q 'pushd.service: Watchdog timeout'
tap $? "systemd logged 'pushd.service: Watchdog timeout'" "$(dmesg | grep pushd | tail -n 20)"
wait_for 30 http_ok 8080
tap $? "the restarted pushd serves" "$(journal)"

# stop: SIGTERM, clean exit
pid=$(prop MainPID)
systemctl stop pushd.service
[ "$(prop ActiveState)" = inactive ] && [ "$(prop Result)" = success ] && ! kill -0 "$pid" 2>/dev/null
tap $? "systemctl stop: inactive, Result=$(prop Result), exit status $(prop ExecMainStatus)" "$(journal)"

# socket activation: systemd listens on 8081, pushd takes that socket
sed -i 's/^listen = .*/listen = 127.0.0.1:8082/' /etc/push/pushd.conf
mkdir -p /etc/systemd/system/pushd.socket.d
printf '[Socket]\nListenStream=\nListenStream=127.0.0.1:8081\n' > /etc/systemd/system/pushd.socket.d/port.conf
systemctl daemon-reload
systemctl start pushd.socket
tap $? "systemctl start pushd.socket" "$(journal)"
[ "$(prop ActiveState)" = inactive ]
tap $? "pushd not started before a client comes"
wait_for 60 http_ok 8081
tap $? "the first request on 8081 starts pushd and is answered" "$(journal)"
[ "$(prop ActiveState)" = active ] && ! http_ok 8082
tap $? "pushd serves on systemd's socket, not on its own listen (8082)"
systemctl stop pushd.socket pushd.service

# the running unit's exposure, as docs/INSTALL.md quotes it
systemd-analyze security pushd.service 2>&1 | tail -n 1 | sed 's/^/# /'

tap_done
