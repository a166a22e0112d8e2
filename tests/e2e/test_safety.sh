#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Description: pushd's safety options end to end: HTTPS and WSS with
# --cert/--key (SSE over https with curl, WebSocket over wss with
# python3-websockets), --user dropping root while the device still feeds
# live and resumed subscribers, and --max-conns-per-ip refusing one more.
. "$(dirname "$0")/lib.sh"
e2e_init curl openssl

T=$E2E_TMP
CH=$(uniq_chan safe)
PORT=$(free_port)

# A throw-away self-signed certificate for 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
ok $? "self-signed certificate made"

"$PUSHD" --listen "127.0.0.1:$PORT" --cert "$T/cert.pem" --key "$T/key.pem" \
	--user nobody >"$T/pushd.log" 2>&1 &
PUSHD_PID=$!
BASE=https://127.0.0.1:$PORT
up() { [ "$(curl -s --cacert "$T/cert.pem" -o /dev/null -m 2 -w '%{http_code}' "$BASE/stats")" = 200 ]; }
wait_for 30 up
ok $? "pushd answers over HTTPS" "$(tail -n 5 "$T/pushd.log")"

check "plain HTTP on the TLS port gets no HTTP answer" \
	test "$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$PORT/stats")" = 000

uid=$(awk '/^Uid:/ {print $2}' "/proc/$PUSHD_PID/status")
check "--user nobody: pushd runs as nobody's uid" test "$uid" = "$(id -u nobody)"

pub "$CH" before
# The clients live long enough for a loaded emulator to start both (the
# Python one takes seconds); they are ended by kill once checked.
curl -sN -m 120 --cacert "$T/cert.pem" -H 'Accept: text/event-stream' \
	"$BASE/sub/$CH?since=oldest" -o "$T/sse" &
SSE=$!
/usr/bin/python3 - "$PORT" "$CH" "$T/cert.pem" >"$T/ws" 2>&1 <<'PY' &
import asyncio, json, ssl, sys
import websockets
port, ch, ca = sys.argv[1:4]
ctx = ssl.create_default_context(cafile=ca)
async def main():
    async with websockets.connect("wss://127.0.0.1:%s/sub/%s?since=oldest" % (port, ch),
                                  ssl=ctx, open_timeout=90) as ws:
        for _ in range(2):
            print(json.loads(await asyncio.wait_for(ws.recv(), 90))["data"], flush=True)
asyncio.run(main())
PY
WS=$!
wait_subscribers_tls() {
	curl -s -m 5 --cacert "$T/cert.pem" "$BASE/pub/$CH" |
		jq -e '.subscribers.sse >= 1 and .subscribers.websocket >= 1' >/dev/null
}
wait_for 30 wait_subscribers_tls
ok $? "SSE (https) and WebSocket (wss) subscribers counted"
pub "$CH" after
wait_for 20 eval "grep -q '\"data\":\"after\"' '$T/sse'"
ok $? "SSE over HTTPS: the resumed and the live message (device read after dropping root)" "$(cat "$T/sse")"
wait "$WS"
ok $? "WebSocket over WSS: exits cleanly" "$(cat "$T/ws")"
check "WebSocket over WSS: the resumed and the live message" \
	test "$(tr '\n' ' ' < "$T/ws")" = "before after "
kill "$SSE" 2>/dev/null
wait "$SSE" 2>/dev/null

code=$(curl -s --cacert "$T/cert.pem" -o /dev/null -w '%{http_code}' -X POST --data-binary hi "$BASE/pub/$CH")
check "POST /pub over HTTPS from loopback as nobody: 201" test "$code" = 201
pushd_stop TERM
ok "$PUSHD_RC" "pushd (TLS, nobody) exits 0 on SIGTERM" "exit status $PUSHD_RC"

# --max-conns-per-ip 2: two streams from 127.0.0.1 are served, a third is
# not, while 127.0.0.2 (another loopback address) still gets one.
PORT=$(free_port)
pushd_start --max-conns-per-ip 2 || { ok 1 "pushd starts"; e2e_done; }
sse_from() { # SOURCE OUT: an SSE stream from address SOURCE, at most 60 s
	curl -sN -m 60 --interface "$1" -H 'Accept: text/event-stream' "$BASE/sub/$CH" \
		-o "$2" -w '%{http_code}' >"$2.code"
}
count_from2() {
	curl -s -m 2 --interface 127.0.0.2 "$BASE/pub/$CH" | jq -e ".subscribers.sse >= $1" >/dev/null
}
sse_from 127.0.0.1 "$T/c1" &
C1=$!
sse_from 127.0.0.1 "$T/c2" &
C2=$!
wait_for 30 count_from2 2
ok $? "two SSE streams from 127.0.0.1 are served"
sse_from 127.0.0.1 "$T/c3"
check "a third stream from 127.0.0.1 is refused" test "$(cat "$T/c3.code")" != 200 -a ! -s "$T/c3"
sse_from 127.0.0.2 "$T/c4" &
C4=$!
wait_for 30 count_from2 3
ok $? "a stream from 127.0.0.2 is still served"
pub "$CH" to-all
wait_for 20 eval "grep -q to-all '$T/c1' && grep -q to-all '$T/c2' && grep -q to-all '$T/c4'"
ok $? "the served streams get the message"
kill "$C1" "$C2" "$C4" 2>/dev/null
wait "$C1" "$C2" "$C4" 2>/dev/null
pushd_stop TERM
e2e_done
