#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Description: push-probe's life cycle around pushd: attach with pushd not
# running, bpftool sees the pinned maps with field names, a second attach
# is refused and counts nothing twice, probes attached before pushd starts,
# pushd restarted while attached, attach while pushd runs, detach leaves no
# pin, program or cgroup attachment behind.  Runs in the VM (tools/vm/run).
. "$(dirname "$0")/../e2e/lib.sh"

. "$(dirname "$0")/probe.sh"
COSTS=$E2E_ROOT/tools/costs
PIN=/sys/fs/bpf/push

e2e_init jq bpftool curl
[ -x "$PROBE" ] || { echo "1..0 # SKIP no $PROBE (run make)"; exit $KSFT_SKIP; }
[ -e /sys/kernel/btf/vmlinux ] || { echo "1..0 # SKIP no kernel BTF"; exit $KSFT_SKIP; }
probe detach >/dev/null
trap 'probe detach >/dev/null 2>&1; e2e_cleanup' EXIT

# push_progs: how many BPF programs named push_* the kernel holds.
push_progs() { bpftool prog show 2>/dev/null | grep -c ' name push_'; }

# field T KEY: a number from the JSON report of transport T.
field() { probe report --json | jq -e ".transports.$1.$2"; }

# workload T CLIENTS MESSAGES: run the clients, leave their JSON in $W.
workload() {
	W=$("$COSTS" workload --port "$PORT" --transport "$1" --clients "$2" \
		--messages "$3" --rate 50 --channel "$(uniq_chan probe)" 2>&1)
}

# exact T CLIENTS MESSAGES NAME: the probes saw exactly what the clients did.
exact() {
	local t=$1 want=$(($2 * $3)) got rx tx
	got=$(field "$t" delivered)
	rx=$(( $(field "$t" tx_payload) - $(field "$t" retransmit_bytes) ))
	tx=$(( $(field "$t" rx_payload) - $(field "$t" rx_dup_payload) ))
	[ "$(jq -r .complete <<<"$W")" = true ] && [ "$got" = "$want" ] &&
		[ "$rx" = "$(jq .client_rx_bytes <<<"$W")" ] &&
		[ "$tx" = "$(jq .client_tx_bytes <<<"$W")" ]
	ok $? "$4: $t delivered $got of $want, TCP payload out $rx in $tx match the clients'" \
		"$W"
}

# Nothing attached: show and report say so, with a failing status.
probe show >/dev/null 2>&1; s=$?
probe report >/dev/null 2>&1; r=$?
[ $s -ne 0 ] && [ $r -ne 0 ]
ok $? "show and report fail cleanly when not attached"

# Attach with pushd not running.
PORT=$(free_port)
out=$(probe attach --port "$PORT" 2>&1)
ok $? "attach with pushd not running" "$out"
n_progs=$(push_progs)
probe show >/dev/null
ok $? "show lists what is attached ($n_progs programs)"
[ "$n_progs" -ge 7 ]
ok $? "at least 7 push_* programs loaded" "$(bpftool prog show)"

# The maps carry BTF: bpftool prints their fields by name.
dump=$(bpftool map dump pinned $PIN/push_transports 2>&1)
grep -q '"tx_bytes"' <<<"$dump" && grep -q '"lifetime_ns"' <<<"$dump"
ok $? "bpftool map dump pinned $PIN/push_transports shows named fields" "$dump"
dump=$(bpftool map dump pinned $PIN/push_proc 2>&1)
grep -q '"cpu_ns"' <<<"$dump"
ok $? "bpftool map dump pinned $PIN/push_proc shows named fields" "$dump"

# A report with pushd not running: zeros, valid JSON.
[ "$(probe report --json | jq '.process.cpu_ns')" = 0 ]
ok $? "report with pushd not running: valid JSON, no CPU counted"

# A second attach is refused and loads nothing more.
probe attach --port "$PORT" >/dev/null 2>&1; r=$?
[ $r -ne 0 ] && [ "$(push_progs)" = "$n_progs" ]
ok $? "second attach refused (status $r), still $n_progs programs"

# Probes attached before pushd starts: its connections are counted, once.
pushd_start --heartbeat 300
workload sse 4 15
exact sse 4 15 "attached before pushd started"
[ "$(field sse connections)" = 4 ]
ok $? "4 SSE connections counted" "$(probe report)"
# pushd's /stats embeds the same report while the probes are pinned.
[ "$(curl -s -m 5 "$BASE/stats" | jq .probes.transports.sse.delivered)" = 60 ]
ok $? "GET /stats embeds the probes' report" "$(curl -s -m 5 "$BASE/stats" | head -c 600)"
cpu1=$(probe report --json | jq .process.cpu_ns)
[ "$cpu1" -gt 0 ]
ok $? "pushd's CPU time counted ($cpu1 ns)"

# pushd restarted while attached: the new process is followed too.
pushd_stop
pushd_start --heartbeat 300
workload websocket 3 10
exact websocket 3 10 "pushd restarted while attached"
cpu2=$(probe report --json | jq .process.cpu_ns)
[ "$cpu2" -gt "$cpu1" ]
ok $? "CPU of the restarted pushd added ($cpu1 -> $cpu2 ns)"

# Re-attach while pushd runs: it picks up the new maps within a second.
probe detach >/dev/null
probe attach --port "$PORT" >/dev/null
ok $? "re-attach while pushd runs"
sleep 1.2
workload longpoll 3 10
exact longpoll 3 10 "attached while pushd ran"

# Detach leaves nothing: no pin, no program, no cgroup attachment.
pushd_stop
out=$(probe detach 2>&1)
ok $? "detach" "$out"
[ ! -e $PIN ]
ok $? "nothing left under $PIN" "$(ls -la $PIN 2>&1)"
# Programs are freed once their last link goes, possibly after an RCU grace.
no_push_progs() { [ "$(push_progs)" = 0 ]; }
wait_for 5 no_push_progs
ok $? "no push_* program left in bpftool prog show" "$(bpftool prog show)"
! bpftool cgroup show /sys/fs/cgroup 2>/dev/null | grep -q push_
ok $? "no push_* program left on the root cgroup"
probe show >/dev/null 2>&1
[ $? -eq 1 ]
ok $? "show says not attached after detach"

e2e_done
