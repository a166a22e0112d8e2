#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Description: a guest that locks up, hangs, crashes, freezes or overruns
# its time fails its tools/vm/run at once (exit 255), and the kernel's
# stack trace is in the console log and on the runner's stderr.  Each case
# boots the test VM (host side of the suite):
#   soft lockup   test-only push_lockup.ko spins with preemption off
#                 (watchdog_thresh=5: reported after 10 s, then panic)
#   hung task     push_lockup.ko sleeps uninterruptibly (hung_task 5 s)
#   oops          echo c > /proc/sysrq-trigger
#   frozen guest  QEMU stopped with SIGSTOP: its heartbeat ends, and the
#                 runner kills it after --stall seconds
#   time-out      a command that sleeps past --timeout
# test-timeout: 600
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
RUN=tools/vm/run
KO=build/tests/push_lockup.ko
# Each run's console log, output and stderr stay here for a post-mortem.
tmp=$top/build/test-results/failfast
rm -rf "$tmp"
mkdir -p "$tmp"
n=0 failed=0

ok() { # STATUS NAME [DIAG FILE]
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
		[ -n "${3:-}" ] && { echo "#   (in $3)"; tail -n 30 "$3" | sed 's/^/#   /'; }
	fi
}

if [ ! -f "$KO" ] || [ ! -f build/push.ko ]; then
	echo "1..0 # SKIP $KO or build/push.ko not built (run make)"; exit 4
fi
if [ ! -e /dev/kvm ] && ! command -v qemu-system-x86_64 >/dev/null; then
	echo "1..0 # SKIP no qemu-system-x86_64"; exit 4
fi

# boot NAME [run options] -- CMD...: start a run in the background; its
# status and duration land in $tmp/NAME.rc and $tmp/NAME.took.  The five
# cases run at once: each mostly waits for a watchdog or a timer.
boot() {
	local name=$1
	shift
	(
		start=$SECONDS
		"$RUN" --console "$tmp/$name.console" "$@" > "$tmp/$name.out" 2> "$tmp/$name.err"
		echo $? > "$tmp/$name.rc"
		echo $((SECONDS - start)) > "$tmp/$name.took"
	) &
}

# verdict NAME MAX_SECONDS PATTERN: the run ended with 255 within
# MAX_SECONDS, and the runner's stderr says PATTERN (an extended regex).
verdict() {
	local name=$1 max=$2 pat=$3 rc took
	rc=$(cat "$tmp/$name.rc" 2>/dev/null) took=$(cat "$tmp/$name.took" 2>/dev/null)
	[ "$rc" = 255 ] && [ "${took:-999}" -le "$max" ]
	ok $? "$name: the run failed with 255 in ${took}s (at most ${max}s; exit $rc)" "$tmp/$name.err"
	grep -Eq "$pat" "$tmp/$name.err"
	ok $? "$name: the runner says /$pat/" "$tmp/$name.err"
}

# trace NAME PATTERN: the kernel's console log has PATTERN and a stack trace.
trace() {
	grep -Eq "$2" "$tmp/$1.console" && grep -q 'Call Trace' "$tmp/$1.console"
	ok $? "$1: the console log holds /$2/ and a stack trace" "$tmp/$1.console"
}

boot softlockup --append watchdog_thresh=5 --timeout 300 -- insmod "$KO" mode=spin
boot hungtask --timeout 300 -- sh -c "sysctl -qw kernel.hung_task_timeout_secs=5 && insmod $KO mode=hung"
boot oops --timeout 300 -- sh -c 'echo c > /proc/sysrq-trigger'
boot frozen --stall 20 --timeout 300 -- sh -c 'echo running; sleep 300'
boot timeout --timeout 30 -- sleep 300
# Frozen: stop QEMU itself once the guest runs its command.
for _ in $(seq 1200); do
	p=$(pgrep -f "chardev file,id=con,path=$tmp/frozen.console" | head -n1)
	if [ -n "$p" ] && [ -s "$tmp/frozen.out" ]; then kill -STOP "$p"; break; fi
	sleep 0.1
done
wait

verdict softlockup 150 'soft lockup - CPU#[0-9]+ stuck'
trace softlockup 'push_lockup_init'
verdict hungtask 150 'blocked for more than'
trace hungtask 'schedule_timeout'
verdict oops 90 'Kernel panic'
trace oops 'sysrq_handle_crash'
verdict frozen 150 'no heartbeat'
verdict timeout 120 'timed out after 30s'

echo "1..$n"
[ "$failed" = 0 ]
