#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Description: long-poll with curl: ?since=oldest returns the retained
# messages in one JSON batch with "next"; a waiting poll is answered when a
# message is written to /dev/push; a quiet poll returns {"messages":[]}
# after --poll-timeout; two URLs on one curl reuse the connection.
. "$(dirname "$0")/lib.sh"
e2e_init curl jq

# --poll-timeout 8, not less: a waiting poll that times out before the
# publish reaches it answers [] (seen under load with 2 s, in 3 of ~10 runs).
pushd_start --poll-timeout 8 || { ok 1 "pushd starts"; e2e_done; }
CH=$(uniq_chan lp)
T=$E2E_TMP

# Three retained messages come back in one batch, in id order, with next = last id.
pub "$CH" one; pub "$CH" two; pub "$CH" 'three "quoted" \ back'
curl -s -m 20 -D "$T/h1" -o "$T/b1" "$BASE/sub/$CH?since=oldest"
check "since=oldest answers 200" grep -q '^HTTP/1.1 200' "$T/h1"
check "long-poll Content-Type is application/json" grep -qi '^content-type: application/json' "$T/h1"
check "batch holds the 3 payloads in order" \
	jq -e '[.messages[].data] == ["one","two","three \"quoted\" \\ back"]' "$T/b1"
check "every message is on the channel" jq -e --arg c "$CH" 'all(.messages[]; .channel == $c)' "$T/b1"
check "ids strictly increase" jq -e '[.messages[].id] | . == (sort | unique) and length == 3' "$T/b1"
check "next is the last id delivered" jq -e '.next == .messages[-1].id' "$T/b1"
check "time is RFC 3339 UTC with nanoseconds" \
	jq -e 'all(.messages[]; .time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}Z$"))' "$T/b1"
check "time is within a day of now" \
	jq -e --argjson now "$(date +%s)" '(.messages[0].time | sub("\\.[0-9]+Z$"; "Z") | fromdate) - $now | fabs < 86400' "$T/b1"
NEXT=$(jq -r .next "$T/b1")

# since=the first id skips it: "every retained message with id > N".
FIRST=$(jq -r '.messages[0].id' "$T/b1")
curl -s -m 20 -o "$T/b1b" "$BASE/sub/$CH?since=$FIRST"
check "since=N returns only ids > N" jq -e '[.messages[].data] == ["two","three \"quoted\" \\ back"]' "$T/b1b"

# A poll with nothing pending waits, and is answered by the next write to the device.
curl -s -m 20 -o "$T/b2" "$BASE/sub/$CH?since=$NEXT" &
CURL=$!
wait_subscribers "$CH" longpoll 1 && running $CURL
ok $? "poll with nothing pending waits (counted as a waiting long-poll)"
START=$(date +%s%N)
echo "@$CH four" >"$PUSH_DEVICE"	# the plainest publisher there is
wait_for 10 eval '! running $CURL'
ok $? "waiting poll answered within 10 s of the publish"
wait $CURL
ok $? "waiting poll completed without a curl error"
check "waiting poll delivered the new message" jq -e '[.messages[].data] == ["four"]' "$T/b2"
check "its next is its id and > the previous next" \
	jq -e --argjson n "$NEXT" '.next == .messages[0].id and .next > $n' "$T/b2"
NEXT=$(jq -r .next "$T/b2")

# Without since, only messages published after the poll began.
curl -s -m 20 -o "$T/b2b" "$BASE/sub/$CH" &
CURL=$!
wait_subscribers "$CH" longpoll 1
ok $? "GET /pub/CH counts the waiting long-poll subscriber"
pub "$CH" five
wait $CURL
check "poll without since delivers only the new message" jq -e '[.messages[].data] == ["five"]' "$T/b2b"
NEXT=$(jq -r .next "$T/b2b")

# A quiet poll ends after --poll-timeout 8 with an empty batch and the same next.
START=$(date +%s%N)
curl -s -m 30 -o "$T/b3" "$BASE/sub/$CH?since=$NEXT"
ok $? "quiet poll completed"
MS=$((($(date +%s%N) - START) / 1000000))
check "quiet poll answers {messages:[], next:since}" \
	jq -e --argjson n "$NEXT" '.messages == [] and .next == $n' "$T/b3"
[ $MS -ge 7500 ] && [ $MS -le 30000 ]
ok $? "quiet poll lasted about --poll-timeout 8 s (took $MS ms)"

# Two URLs on one curl: the second request reuses the kept-alive connection.
curl -sv -m 20 -o /dev/null -o /dev/null "$BASE/sub/$CH?since=oldest" "$BASE/sub/$CH?since=oldest" 2>"$T/v"
check "second request re-uses the connection" grep -q 'Re-using existing connection' "$T/v"
[ "$(grep -c '^< HTTP/1.1 200' "$T/v")" = 2 ]
ok $? "both requests on the connection answered 200"

pushd_stop TERM
ok "$PUSHD_RC" "pushd exits 0 on SIGTERM" "exit status $PUSHD_RC; log: $(tail -n 5 "$PUSHD_LOG")"
e2e_done
