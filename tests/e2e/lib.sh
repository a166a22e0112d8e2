# SPDX-License-Identifier: GPL-2.0
# Shared helpers of the shell end-to-end tests of pushd.  Source it, then:
#
#   e2e_init curl                  skip (exit 4) unless pushd, /dev/push, curl
#   pushd_start --heartbeat 1      pushd on a free loopback port: $PORT, $BASE
#   pub CHANNEL TEXT               one write() to /dev/push
#   ok COND_STATUS "name" [diag]   one TAP line; e2e_done exits 0 or 1
#
# Every wait is bounded; the EXIT trap stops pushd and removes $E2E_TMP.

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_ROOT=$(cd "$E2E_DIR/../.." && pwd)
PUSHD=${PUSHD:-$E2E_ROOT/build/bin/pushd}
PUSH_DEVICE=${PUSH_DEVICE:-/dev/push}
PY=/usr/bin/python3
KSFT_SKIP=4
. "$E2E_ROOT/tests/tap.sh"	# TAP_N, TAP_FAILED, tap()
PUSHD_PID=
E2E_TMP=

e2e_cleanup() {
	pushd_kill
	local p
	for p in $(jobs -p); do kill "$p" 2>/dev/null; done
	[ -n "$E2E_TMP" ] && rm -rf "$E2E_TMP"
}

# e2e_init [PROGRAM...]: skip the whole test unless everything it needs exists.
e2e_init() {
	local t
	if [ ! -x "$PUSHD" ]; then
		echo "1..0 # SKIP no pushd at $PUSHD (run make)"; exit $KSFT_SKIP
	fi
	if [ ! -e "$PUSH_DEVICE" ]; then
		echo "1..0 # SKIP no $PUSH_DEVICE: run inside tools/vm/run"; exit $KSFT_SKIP
	fi
	for t in "$@"; do
		if ! command -v "$t" >/dev/null; then
			echo "1..0 # SKIP no $t"; exit $KSFT_SKIP
		fi
	done
	E2E_TMP=$(mktemp -d /tmp/e2e.XXXXXX)
	trap e2e_cleanup EXIT
	trap 'exit 130' INT TERM
}

# ok STATUS NAME [DIAG]: STATUS 0 is a pass (tests/tap.sh's tap).
ok() { tap "$@"; }

# check NAME COMMAND...: run COMMAND, one TAP line for its status.
check() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	ok $rc "$name" "$out"
}

e2e_done() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ] && [ "$TAP_N" -gt 0 ] && exit 0
	exit 1
}

free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# pushd_start [ARGS...]: start pushd, wait up to 30 s for GET /stats.
pushd_start() {
	local i
	PORT=${PORT:-$(free_port)}
	BASE=http://127.0.0.1:$PORT
	PUSHD_LOG=$E2E_TMP/pushd.log
	"$PUSHD" --listen "127.0.0.1:$PORT" --device "$PUSH_DEVICE" "$@" >>"$PUSHD_LOG" 2>&1 &
	PUSHD_PID=$!
	for i in $(seq 300); do
		if ! running "$PUSHD_PID"; then
			echo "pushd exited at start:" >&2; tail -n 20 "$PUSHD_LOG" >&2
			PUSHD_PID=; return 1
		fi
		[ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$BASE/stats")" = 200 ] && return 0
		sleep 0.1
	done
	echo "pushd not answering after 30 s" >&2; tail -n 20 "$PUSHD_LOG" >&2
	return 1
}

# pushd_stop [SIGNAL]: signal pushd (TERM), wait up to 10 s, then KILL;
# the exit status is left in $PUSHD_RC (137 if it had to be killed).
pushd_stop() {
	local sig=${1:-TERM} i
	[ -n "$PUSHD_PID" ] || return 0
	kill -"$sig" "$PUSHD_PID" 2>/dev/null
	for i in $(seq 100); do
		running "$PUSHD_PID" || break
		sleep 0.1
	done
	running "$PUSHD_PID" && kill -KILL "$PUSHD_PID"
	wait "$PUSHD_PID" 2>/dev/null
	PUSHD_RC=$?
	PUSHD_PID=
}

pushd_kill() {
	[ -n "$PUSHD_PID" ] || return 0
	kill -KILL "$PUSHD_PID" 2>/dev/null
	wait "$PUSHD_PID" 2>/dev/null
	PUSHD_PID=
}

# running PID: the process exists and is not a zombie waiting to be reaped.
running() {
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# vmrss_kb PID: resident set size in kB (empty if the process is gone).
vmrss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

# pub CHANNEL TEXT: publish TEXT on CHANNEL with one write() (the shell's
# printf may split a multi-line text into several writes; dd does not).
pub() {
	printf '@%s %s\n' "$1" "$2" | dd of="$PUSH_DEVICE" bs=1M iflag=fullblock status=none
}

# wait_for SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds.
wait_for() {
	local n=$(($1 * 10)) i
	shift
	for i in $(seq "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# wait_subscribers CHANNEL TRANSPORT N: GET /pub/CHANNEL counts N subscribers.
wait_subscribers() {
	wait_for 30 sh -c "curl -s -m 2 '$BASE/pub/$1' | jq -e '.subscribers.$2 >= $3' >/dev/null"
}

uniq_chan() {
	echo "$1-$$-$RANDOM"
}
