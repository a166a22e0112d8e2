#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Description: push-probe attach and detach, over and over, with live
# traffic: a publisher writing to /dev/push all the time, an SSE subscriber
# reading through pushd all along, and pushd itself restarted every few
# cycles.  Each cycle a fresh SSE subscriber (pushd tags connections as
# they come) must have its deliveries counted by the new probes, and
# detach must leave no pin behind.  This is the workload that hung the
# guest kernel
# (soft lockup in syscall_trace_enter) before attach and detach ran on one
# online CPU: see tools/vm/one-cpu.  PUSH_SOAK_CYCLES sets the count
# (default 12; the record in docs/TESTVM.md is of 100).  Runs in the VM.
# test-timeout: 600
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/probe.sh"

CYCLES=${PUSH_SOAK_CYCLES:-12}
e2e_init jq curl
[ -x "$PROBE" ] || { echo "1..0 # SKIP no $PROBE (run make)"; exit $KSFT_SKIP; }
[ -e /sys/kernel/btf/vmlinux ] || { echo "1..0 # SKIP no kernel BTF"; exit $KSFT_SKIP; }
probe detach >/dev/null
trap 'probe detach >/dev/null 2>&1; e2e_cleanup' EXIT
CH=$(uniq_chan soak)

# The publisher: one message every 20 ms, for as long as the test may run.
(
	end=$((SECONDS + 600))
	i=0
	while [ $SECONDS -lt $end ]; do
		printf '@%s m%d\n' "$CH" "$i" > "$PUSH_DEVICE" || exit 1
		i=$((i + 1))
		sleep 0.02
	done
) &

# sub_start: pushd up and one SSE subscriber on $CH reading through it.
sub_start() {
	pushd_start --heartbeat 300 || return 1
	curl -sN -m 600 "$BASE/sub/$CH" -H 'Accept: text/event-stream' > /dev/null &
	SUB_PID=$!
	wait_subscribers "$CH" sse 1
}
sub_stop() {
	kill "$SUB_PID" 2>/dev/null
	wait "$SUB_PID" 2>/dev/null
	pushd_stop
}

delivered() { # the probes' SSE delivery count is above $1
	local n
	n=$(probe report --json 2>/dev/null | jq '.transports.sse.delivered // 0')
	[ "${n:-0}" -gt "$1" ]
}

sub_start
ok $? "pushd and an SSE subscriber on $CH"
bad_attach=0 bad_count=0 bad_detach=0 restarts=0
for i in $(seq "$CYCLES"); do
	if [ $((i % 5)) = 0 ]; then
		sub_stop
		sub_start || { bad_attach=$((bad_attach + 1)); continue; }
		restarts=$((restarts + 1))
	fi
	if ! probe attach --port "$PORT" >/dev/null; then
		bad_attach=$((bad_attach + 1))
		echo "# cycle $i: attach failed"
		continue
	fi
	# Live probes: once pushd has found them (it looks every second), they
	# count a new subscriber's deliveries.
	wait_for 10 sh -c "curl -s -m 2 '$BASE/stats' | jq -e .probes.transports >/dev/null" ||
		echo "# cycle $i: pushd's /stats shows no probes"
	curl -sN -m 20 "$BASE/sub/$CH" -H 'Accept: text/event-stream' > /dev/null &
	c=$!
	wait_for 10 delivered 0 || { bad_count=$((bad_count + 1)); echo "# cycle $i: no delivery counted"; }
	kill $c 2>/dev/null; wait $c 2>/dev/null
	probe detach >/dev/null && [ ! -e /sys/fs/bpf/push ] ||
		{ bad_detach=$((bad_detach + 1)); echo "# cycle $i: detach left $(ls /sys/fs/bpf/push 2>&1)"; }
done
sub_stop

[ "$bad_attach" = 0 ]
ok $? "$CYCLES attaches with traffic flowing, pushd restarted $restarts times ($bad_attach failed)"
[ "$bad_count" = 0 ]
ok $? "every cycle's probes counted deliveries ($bad_count did not)"
[ "$bad_detach" = 0 ]
ok $? "every detach left no pin ($bad_detach did)"
e2e_done
