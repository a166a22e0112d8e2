#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Description: push-probe's numbers on a controlled workload, per transport:
# N messages to M clients of one transport on a fresh pushd.  Delivered
# counts and connections are exact; the TCP payload the probes counted each
# way equals, byte for byte, what the clients read and wrote; the wire bytes
# are that payload plus 40-60 bytes of IPv4+TCP headers per segment (20 +
# 20, plus at most 20 of options: loopback uses 12 of timestamps), 60-80
# over IPv6 (one SSE run on [::1]);
# retransmitted payload (tail loss probes happen even on loopback under
# TCG) is counted apart; syscalls, CPU, lifetimes and the module's
# latencies are counted.  Runs in the VM (tools/vm/run).
# test-timeout: 420
. "$(dirname "$0")/../e2e/lib.sh"

. "$(dirname "$0")/probe.sh"
COSTS=$E2E_ROOT/tools/costs
M=8
N=25

e2e_init jq bpftool
[ -x "$PROBE" ] || { echo "1..0 # SKIP no $PROBE (run make)"; exit $KSFT_SKIP; }
[ -e /sys/kernel/btf/vmlinux ] || { echo "1..0 # SKIP no kernel BTF"; exit $KSFT_SKIP; }
probe detach >/dev/null
trap 'probe detach >/dev/null 2>&1; e2e_cleanup' EXIT

# pushd_start6: pushd on [::1]:$PORT, waiting up to 30 s for GET /stats.
pushd_start6() {
	"$PUSHD" --listen "[::1]:$PORT" --device "$PUSH_DEVICE" "$@" >>"$E2E_TMP/pushd6.log" 2>&1 &
	PUSHD_PID=$!
	wait_for 30 sh -c "curl -s -g -o /dev/null -m 2 'http://[::1]:$PORT/stats'"
}

# The three transports over IPv4, then SSE over IPv6 (40-byte IP headers).
for t in longpoll sse websocket sse6; do
	host=127.0.0.1 start=pushd_start hmin=40 hmax=60
	if [ $t = sse6 ]; then
		t=sse host=::1 start=pushd_start6 hmin=60 hmax=80
		ip -6 addr show dev lo | grep -q '::1' || { ok 0 "IPv6 # SKIP no ::1"; continue; }
	fi
	PORT=$(free_port)
	probe attach --port "$PORT" >/dev/null
	ok $? "$t ($host): attach"
	$start --heartbeat 300 || { ok 1 "$t: pushd starts"; probe detach >/dev/null; continue; }
	W=$("$COSTS" workload --port "$PORT" --host $host --transport "$t" --clients $M \
		--messages $N --rate 40 --size 100 --channel "$(uniq_chan acc)" 2>&1)
	R=$(probe report --json)
	pushd_stop
	probe detach >/dev/null
	w() { jq -e ".$1" <<<"$W"; }
	r() { jq -e ".transports.$t.$1" <<<"$R"; }

	[ "$(w complete)" = true ] && [ "$(w delivered)" = $((M * N)) ]
	ok $? "$t: the $M clients got all $N messages each" "$W"
	[ "$(r delivered)" = $((M * N)) ]
	ok $? "$t: probes count $((M * N)) delivered messages, exactly" "$(r delivered)"
	[ "$(r connections)" = "$(w connections)" ]
	ok $? "$t: probes count the clients' $(w connections) connections" "$(r connections)"
	# Retransmitted payload went on the wire twice but was read once.
	[ $(( $(r tx_payload) - $(r retransmit_bytes) )) = "$(w client_rx_bytes)" ]
	ok $? "$t: TCP payload sent, less $(r retransmit_bytes) B retransmitted, = bytes the clients read ($(w client_rx_bytes))" \
		"$(r tx_payload) $(r retransmit_bytes)"
	[ $(( $(r rx_payload) - $(r rx_dup_payload) )) = "$(w client_tx_bytes)" ]
	ok $? "$t: TCP payload received, less $(r rx_dup_payload) B resent, = bytes the clients wrote ($(w client_tx_bytes))" \
		"$(r rx_payload) $(r rx_dup_payload)"

	# Wire bytes: the payload plus hmin..hmax bytes of headers per segment.
	for dir in tx rx; do
		b=$(r ${dir}_bytes) p=$(r ${dir}_payload) s=$(r ${dir}_segs)
		[ "$s" -gt 0 ] && [ $((b - p)) -ge $((hmin * s)) ] && [ $((b - p)) -le $((hmax * s)) ]
		ok $? "$t: $dir wire bytes $b = payload $p + $(( (b - p) / (s ? s : 1) )) B/segment x $s segments" \
			"$(jq -c ".transports.$t" <<<"$R")"
	done
	[ "$(r syscalls)" -gt 0 ] && [ "$(r syscall_ns)" -gt 0 ]
	ok $? "$t: pushd's syscalls on the connections counted ($(r syscalls))"
	jq -e '.process.cpu_ns > 0 and .process.connections_opened >= '"$(w connections)" <<<"$R" >/dev/null
	ok $? "$t: pushd's CPU and the connections opened counted" "$(jq .process <<<"$R")"
	# Clients closed, pushd stopped: lifetimes of closed connections.
	jq -e ".transports.$t | .mean_lifetime_s == null or .mean_lifetime_s > 0" <<<"$R" >/dev/null
	ok $? "$t: connection lifetimes are positive" "$(r mean_lifetime_s)"
	# The module's tracepoints: every publish (N + the warm-up), and at
	# least one device read per message.
	jq -e ".latency_ns.publish.count == $((N + 1)) and .latency_ns.device.count >= $N and
		.process.published == $((N + 1)) and .process.published_bytes == $((N * 100 + 7))" \
		<<<"$R" >/dev/null
	ok $? "$t: push_publish and push_record_read counted ($((N + 1)) publishes)" \
		"$(jq -c '.latency_ns, .process' <<<"$R")"
done

e2e_done
