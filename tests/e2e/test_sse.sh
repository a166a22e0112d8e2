#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Description: Server-Sent Events with curl: headers, the retry line, "id:"
# equal to each message id, a multi-line payload delivered intact, the
# ": hb" heartbeat at --heartbeat 1, Last-Event-ID and ?since= resume, and
# /sub/a,b delivering both channels (and nothing else) in id order.
. "$(dirname "$0")/lib.sh"
e2e_init curl jq

pushd_start --heartbeat 1 || { ok 1 "pushd starts"; e2e_done; }
T=$E2E_TMP
CH=$(uniq_chan sse)

# events FILE: the captured stream as a JSON array of parser items, without
# the end markers sse_end publishes.
events() {
	$PY "$E2E_DIR/e2elib.py" sse "$1" | jq -s "map(select(((.data // \"\") | fromjson? // {data: .}).data != \"$END\"))"
}

# datas FILE: the decoded "data" of each event of a captured stream, for diagnostics.
datas() {
	events "$1" | jq -c '[.[] | select(.event) | {event, id, data: (.data | fromjson? // .)}]'
}

# sse OUT URL [CURL ARGS...]: subscribe in the background (at most 60 s); $! is curl.
sse() {
	local out=$1 url=$2
	shift 2
	curl -sN -m 60 -D "$out.h" -o "$out" -H 'Accept: text/event-stream' "$@" "$url" &
}

# count_ge FILE REGEX N: at least N lines of FILE match REGEX.
count_ge() {
	local n
	n=$(grep -c "$2" "$1" 2>/dev/null)
	[ "${n:-0}" -ge "$3" ]
}

# sse_end PID OUT CHANNEL [HB]: publish the end marker on CHANNEL, wait (30 s
# at most) for it and HB heartbeats in OUT, then stop that curl.  Messages
# reach a subscriber in id order, so whatever else the stream was going to
# carry came before the marker: a stray event is always caught, however
# slow the host.  events() leaves the markers out.
END=end-of-test-stream
sse_end() {
	local pid=$1 out=$2 ch=$3 hb=${4:-0}
	pub "$ch" "$END"
	wait_for 30 eval "grep -q '$END' '$out' && count_ge '$out' '^: hb' $hb"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# ok_d STREAM NAME CMD...: check, showing the stream's events if it fails.
ok_d() {
	local f=$1 name=$2
	shift 2
	"$@" >/dev/null 2>&1
	ok $? "$name" "$(datas "$f")"
}

sse "$T/s1" "$BASE/sub/$CH"
C1=$!
wait_subscribers "$CH" sse 1
ok $? "GET /pub/CH counts the SSE subscriber"
pub "$CH" first
pub "$CH" $'line one\nline two\r\nline three'
pub "$CH" 'third: {"json":"in payload"}'
sse_end $C1 "$T/s1" "$CH" 3	# and 3 heartbeats at --heartbeat 1
events "$T/s1" >"$T/e1"

check "answers 200" grep -q '^HTTP/1.1 200' "$T/s1.h"
check "Content-Type: text/event-stream" grep -qi '^content-type: text/event-stream' "$T/s1.h"
check "X-Accel-Buffering: no" grep -qi '^x-accel-buffering: no' "$T/s1.h"
check "Cache-Control: no-cache" grep -qi '^cache-control: no-cache' "$T/s1.h"
check "stream starts with retry: 2000" jq -e '.[0].retry == "2000"' "$T/e1"
check "three message events" jq -e '[.[] | select(.event == "message")] | length == 3' "$T/e1"
check "each data is one JSON object" \
	jq -e '[.[] | select(.event) | .data | fromjson | type] == ["object","object","object"]' "$T/e1"
check "id: line equals the JSON id of each message" \
	jq -e 'all(.[] | select(.event); (.id | tonumber) == (.data | fromjson | .id))' "$T/e1"
ok_d "$T/s1" "payloads intact, in order (multi-line one included)" \
	jq -e '[.[] | select(.event) | .data | fromjson | .data] == ["first","line one\nline two\r\nline three","third: {\"json\":\"in payload\"}"]' "$T/e1"
check "channel field is the channel" \
	jq -e --arg c "$CH" 'all(.[] | select(.event); (.data | fromjson | .channel) == $c)' "$T/e1"
check "each JSON event is one data: line (CR and LF escaped, never raw)" \
	jq -e 'all(.[] | select(.event); (.lines | length) == 1)' "$T/e1"
check "': hb' heartbeat comments at --heartbeat 1" \
	jq -e '[.[] | select(.comment == "hb")] | length >= 3' "$T/e1"
ID1=$(jq -r '[.[] | select(.event)][0].id' "$T/e1")
ID3=$(jq -r '[.[] | select(.event)][2].id' "$T/e1")

# Last-Event-ID: N resumes with every message after N, then live ones.
sse "$T/s2" "$BASE/sub/$CH" -H "Last-Event-ID: $ID1"
C2=$!
wait_subscribers "$CH" sse 1
pub "$CH" live
sse_end $C2 "$T/s2" "$CH"
events "$T/s2" >"$T/e2"
ok_d "$T/s2" "Last-Event-ID resume: messages after it, then live" \
	jq -e '[.[] | select(.event) | .data | fromjson | .data] == ["line one\nline two\r\nline three","third: {\"json\":\"in payload\"}","live"]' "$T/e2"
check "resumed ids strictly increase from after Last-Event-ID" \
	jq -e --argjson f "$ID1" '[.[] | select(.event) | .id | tonumber] | .[0] > $f and . == (sort | unique)' "$T/e2"

# ?since=N does the same; ?since=oldest gives all retained.
sse "$T/s3" "$BASE/sub/$CH?since=$ID3"
C3=$!
sse "$T/s4" "$BASE/sub/$CH?since=oldest"
C4=$!
wait_subscribers "$CH" sse 2
ok $? "two resuming subscribers counted"
sse_end $C3 "$T/s3" "$CH"
wait_for 30 grep -q "$END" "$T/s4"
kill $C4 2>/dev/null; wait $C4 2>/dev/null
ok_d "$T/s3" "?since=N resume" jq -e '[.[] | select(.event) | .data | fromjson | .data] == ["live"]' <(events "$T/s3")
check "?since=oldest replays the 4 retained" \
	jq -e '[.[] | select(.event) | .data | fromjson | .data] | length == 4 and .[0] == "first"' <(events "$T/s4")

# /sub/a,b: both channels, in id order, never a third one.
A=$(uniq_chan a); B=$(uniq_chan b); C=$(uniq_chan c)
sse "$T/s5" "$BASE/sub/$A,$B"
C5=$!
wait_subscribers "$A" sse 1 && wait_subscribers "$B" sse 1
ok $? "multi-channel subscriber counted on both channels"
for i in 1 2 3; do pub "$A" "a$i"; pub "$C" "c$i"; pub "$B" "b$i"; done
pub "$C" c-last
sse_end $C5 "$T/s5" "$B"
events "$T/s5" >"$T/e5"
check "/sub/a,b delivers a and b interleaved, not c" \
	jq -e '[.[] | select(.event) | .data | fromjson | .data] == ["a1","b1","a2","b2","a3","b3"]' "$T/e5"
check "/sub/a,b ids in increasing order" \
	jq -e '[.[] | select(.event) | .id | tonumber] | . == (sort | unique)' "$T/e5"
check "/sub/a,b channel fields" \
	jq -e --arg a "$A" --arg b "$B" '[.[] | select(.event) | .data | fromjson | .channel] == [$a,$b,$a,$b,$a,$b]' "$T/e5"

# ?format=raw: e.data is the payload itself, a multi-line one split into
# one data: line per line (WHATWG: LF, CRLF and CR all end a line).
R=$(uniq_chan raw)
sse "$T/s6" "$BASE/sub/$R?format=raw"
C6=$!
wait_subscribers "$R" sse 1
ok $? "?format=raw subscriber counted as SSE"
pub "$R" plain
pub "$R" $'line one\nline two\r\nline three\rline four'
sse_end $C6 "$T/s6" "$R"
events "$T/s6" >"$T/e6"
ok_d "$T/s6" "?format=raw: each event's data is the payload, lines joined by LF" \
	jq -e '[.[] | select(.event) | .data] == ["plain","line one\nline two\nline three\nline four"]' "$T/e6"
check "?format=raw: the 4-line payload took 4 data: lines" \
	test "$(grep -c '^data: line ' "$T/s6")" -eq 4
check "?format=raw: id: lines carry increasing message ids" \
	jq -e '[.[] | select(.event) | .id | tonumber] | length == 2 and .[0] < .[1]' "$T/e6"
check "?format=xml -> 400" \
	test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: text/event-stream' "$BASE/sub/$R?format=xml")" = 400
check "?format=raw on long-poll -> 400" \
	test "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/sub/$R?format=raw")" = 400

pushd_stop TERM
ok "$PUSHD_RC" "pushd exits 0 on SIGTERM" "exit status $PUSHD_RC"
e2e_done
