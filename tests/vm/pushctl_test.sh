#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# pushctl_test.sh - end-to-end test of pushctl against the real /dev/push.
#
# Runs in the test VM, from the repository, with the module loaded:
#   tools/vm/run -- tests/vm/pushctl_test.sh
# Prints TAP; exits 0 if every test passed, 1 otherwise, 4 (skip) without
# /dev/push.  JSON output is checked with python3's json module.
set -u

PUSHCTL=${PUSHCTL:-build/bin/pushctl}
STATS=/sys/class/misc/push/stats
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
# check NAME CONDITION-COMMAND...: ok if the command succeeds.
check() { local name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi; }
next_id() { cat "$STATS/next_id"; }
# wait_sub_open CMD...: starts CMD in the background (pid in $sub) and
# returns once it has opened the device and had time to seek.
wait_sub_open() {
	local before i
	before=$(cat "$STATS/readers")
	"$@" &
	sub=$!
	for i in $(seq 100); do
		[ "$(cat "$STATS/readers")" -gt "$before" ] && break
		sleep 0.1
	done
	sleep 0.5
}
# json_get FILE LINE EXPR: evaluates EXPR on the LINE-th (1-based) object as o.
json_get() { python3 -c 'import json,sys; o=json.loads(open(sys.argv[1]).read().splitlines()[int(sys.argv[2])-1]); print(eval(sys.argv[3]))' "$@"; }

if [ ! -c /dev/push ]; then
	echo "1..0 # SKIP no /dev/push (load the module)"
	exit 4
fi
if [ ! -x "$PUSHCTL" ]; then
	echo "Bail out! $PUSHCTL not built (make progs)"
	exit 1
fi

# pub prints the id the message got; ids then continue from it.
id=$("$PUSHCTL" pub ctl_a "hello world")
check "pub prints the new id" [ "$id" -ge 1 ] 2>/dev/null
check "next id follows it" [ "$(next_id)" = $((id + 1)) ]

# sub --from ID --count 1 prints exactly that message's data.
out=$("$PUSHCTL" sub --from "$id" --count 1)
check "sub --from ID prints the data" [ "$out" = "hello world" ]

# The default channel, and data starting with '@' kept as is.
id2=$("$PUSHCTL" pub "@x not a channel")
"$PUSHCTL" sub --json --from "$id2" --count 1 > "$TMP/at.json"
check "pub without channel goes to default" \
	[ "$(json_get "$TMP/at.json" 1 'o["channel"]')" = default ]
check "pub keeps a leading @ in the data" \
	[ "$(json_get "$TMP/at.json" 1 'o["data"]')" = "@x not a channel" ]

# --json: one object with id, channel, RFC 3339 time matching time_ns, data.
"$PUSHCTL" sub --json --from "$id" --count 1 > "$TMP/one.json"
check "sub --json prints one line" [ "$(wc -l < "$TMP/one.json")" = 1 ]
check "json id, channel and data" [ "$(json_get "$TMP/one.json" 1 \
	'"%d %s %s" % (o["id"], o["channel"], o["data"])')" = "$id ctl_a hello world" ]
check "json time is RFC 3339 of time_ns" [ "$(json_get "$TMP/one.json" 1 \
	'__import__("datetime").datetime.fromtimestamp(o["time_ns"] // 10**9, __import__("datetime").timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + ".%09dZ" % (o["time_ns"] % 10**9) == o["time"]')" = True ]
now=$(date +%s)
check "json time_ns is now" [ "$(json_get "$TMP/one.json" 1 \
	"abs(o['time_ns'] // 10**9 - $now) <= 60")" = True ]

# Escaping: quotes, backslash, controls, valid UTF-8 kept, bad bytes \u00XX.
printf 'q"b\\s\nt\t\001\177 \303\251 \377\300\257 \355\240\200 end' > "$TMP/esc.bin"
eid=$("$PUSHCTL" pub ctl_esc - < "$TMP/esc.bin")
"$PUSHCTL" sub --json --from "$eid" --count 1 > "$TMP/esc.json"
check "pub - publishes stdin" [ -n "$eid" ]
check "json escapes quotes, backslashes and controls" \
	grep -qF '"q\"b\\s\nt\t\u0001\u007f ' "$TMP/esc.json"
check "json keeps valid UTF-8" grep -qF " é " "$TMP/esc.json"
check "json escapes invalid UTF-8 bytes as \\u00XX" \
	grep -qF ' \u00ff\u00c0\u00af \u00ed\u00a0\u0080 end"' "$TMP/esc.json"
check "json line parses" python3 -c 'import json, sys; json.loads(open(sys.argv[1]).read())' "$TMP/esc.json"

# Binary data with NUL bytes goes through unchanged (non-JSON output).
printf 'a\000b\000' > "$TMP/nul.bin"
bid=$("$PUSHCTL" pub ctl_bin - < "$TMP/nul.bin")
"$PUSHCTL" sub --from "$bid" --count 1 > "$TMP/nul.out"
printf 'a\000b\000\n' > "$TMP/nul.want"
check "binary data unchanged" cmp -s "$TMP/nul.want" "$TMP/nul.out"

# --count N stops after N messages; channels filter.
first=$(next_id)
for c in ctl_f1 ctl_f2 ctl_f3 ctl_f1 ctl_f2 ctl_f3; do
	"$PUSHCTL" pub "$c" "m-$c" > /dev/null
done
out=$("$PUSHCTL" sub --from "$first" --count 4 | tr '\n' ' ')
check "--count 4 prints 4 messages in order" \
	[ "$out" = "m-ctl_f1 m-ctl_f2 m-ctl_f3 m-ctl_f1 " ]
out=$("$PUSHCTL" sub --from "$first" --count 4 ctl_f1 ctl_f3 | tr '\n' ' ')
check "channel filter shows only those channels" \
	[ "$out" = "m-ctl_f1 m-ctl_f3 m-ctl_f1 m-ctl_f3 " ]
"$PUSHCTL" sub --json --from oldest --count 1 > "$TMP/oldest.json"
check "--from oldest starts at the oldest retained" \
	[ "$(json_get "$TMP/oldest.json" 1 'o["id"]')" = "$(cat $STATS/oldest_id)" ]

# --from end (the default) prints only messages published after it starts.
"$PUSHCTL" pub ctl_new "already there" > /dev/null
wait_sub_open "$PUSHCTL" sub --count 1 ctl_new > "$TMP/new.out"
"$PUSHCTL" pub ctl_new "late" > /dev/null
"$PUSHCTL" pub ctl_new "later" > /dev/null
wait $sub
st=$?
check "sub (from end) exits 0 after --count" [ "$st" = 0 ]
check "sub (from end) prints only new messages" [ "$(cat "$TMP/new.out")" = late ]

# info: device and channel state, as text and JSON.
"$PUSHCTL" info > "$TMP/info.txt"
check "info shows next_id" grep -qx "next_id $(next_id)" "$TMP/info.txt"
check "info shows max_msg_size" grep -qx "max_msg_size $(cat /sys/module/push/parameters/max_msg_size)" "$TMP/info.txt"
"$PUSHCTL" info ctl_f2 > "$TMP/chan.txt"
check "info CHANNEL counts messages" grep -qx "published 2" "$TMP/chan.txt"
check "info CHANNEL bytes" grep -qx "bytes 16" "$TMP/chan.txt"
"$PUSHCTL" info --json ctl_f2 > "$TMP/chan.json"
check "info --json" [ "$(json_get "$TMP/chan.json" 1 '"%s %d %d" % (o["channel"], o["published"], o["last_id"])')" = "ctl_f2 2 $((first + 4))" ]
"$PUSHCTL" info ctl_never 2> "$TMP/err"
check "info of an unknown channel fails with 1" [ $? = 1 ]

# Errors: clear messages and exit codes.
max=$(cat /sys/module/push/parameters/max_msg_size)
head -c $((max + 1)) /dev/zero | "$PUSHCTL" pub ctl_big - 2> "$TMP/err"
check "too big: exit 1" [ $? = 1 ]
check "too big: says why" grep -q "Message too long" "$TMP/err"
"$PUSHCTL" sub --from $(( $(next_id) + 5 )) --count 1 2> "$TMP/err"
check "--from beyond next id: exit 2" [ $? = 2 ]
"$PUSHCTL" sub --count x 2> /dev/null
check "bad --count: exit 2" [ $? = 2 ]
"$PUSHCTL" pub "bad/chan" x 2> /dev/null
check "bad channel: exit 2" [ $? = 2 ]
"$PUSHCTL" --device /nonexistent info 2> "$TMP/err"
check "missing device: exit 1" [ $? = 1 ]
check "missing device: says why" grep -q "No such file or directory" "$TMP/err"
for c in pub sub info; do
	"$PUSHCTL" $c --help > "$TMP/help"
	check "$c --help" [ $? = 0 ]
	check "$c --help shows usage" grep -q "^Usage: pushctl $c" "$TMP/help"
done

# Gap report: overwrite a message, then subscribe from it.
from=$(next_id)
"$PUSHCTL" pub ctl_gap "soon gone" > /dev/null
python3 - "$from" <<'EOF'
import os, sys
target = int(sys.argv[1])
fd = os.open("/dev/push", os.O_WRONLY)
size = int(open("/sys/module/push/parameters/max_msg_size").read())
msg = b"@ctl_fill " + b"x" * min(4000, size)
while int(open("/sys/class/misc/push/stats/oldest_id").read()) <= target:
    os.write(fd, msg)
EOF
oldest=$(cat $STATS/oldest_id)
"$PUSHCTL" sub --json --from "$from" --count 1 > "$TMP/gap.json"
check "json gap object" [ "$(head -n1 "$TMP/gap.json")" = \
	"{\"gap\":{\"first_id\":$from,\"next_id\":$oldest,\"lost\":$((oldest - from))}}" ]
check "then the oldest message" [ "$(json_get "$TMP/gap.json" 2 'o["id"]')" = "$oldest" ]
"$PUSHCTL" sub --from "$from" --count 1 > /dev/null 2> "$TMP/err"
check "text mode reports the loss on stderr" \
	grep -qx "pushctl: lost $((oldest - from)) messages (ids $from..$((oldest - 1)))" "$TMP/err"
wait_sub_open "$PUSHCTL" sub --json --from "$from" --count 1 ctl_gap > "$TMP/gapf.json"
"$PUSHCTL" pub ctl_gap "after" > /dev/null
wait $sub
check "filtered gap counts only its channels" [ "$(head -n1 "$TMP/gapf.json")" = \
	"{\"gap\":{\"first_id\":$from,\"next_id\":$oldest,\"lost\":1}}" ]

# sub --mmap: the same messages, read from the mapped history.
first_m=$("$PUSHCTL" pub ctl_m "m one")
"$PUSHCTL" pub ctl_other "not this" > /dev/null
"$PUSHCTL" pub ctl_m "m two" > /dev/null
"$PUSHCTL" sub --json --from "$first_m" --count 3 > "$TMP/read.json"
oldest=$(cat "$STATS/oldest_id")
"$PUSHCTL" sub --mmap --json --from oldest --count $((first_m + 3 - oldest)) |
	tail -n 3 > "$TMP/mmap.json"
check "sub --mmap prints what read() does" cmp -s "$TMP/read.json" "$TMP/mmap.json"
"$PUSHCTL" sub --mmap --from oldest --count 1 ctl_m > "$TMP/mmapf.txt" 2>&1
check "sub --mmap filters channels" [ "$(head -n1 "$TMP/mmapf.txt")" = "m one" ]
wait_sub_open "$PUSHCTL" sub --mmap --json --count 1 ctl_live > "$TMP/mlive.json"
id_live=$("$PUSHCTL" pub ctl_live "live")
wait $sub
check "sub --mmap follows new messages (poll wakes it)" \
	[ "$(json_get "$TMP/mlive.json" 1 '"%d %s" % (o["id"], o["data"])')" = "$id_live live" ]
"$PUSHCTL" sub --mmap --from 5 2> "$TMP/err"
check "sub --mmap --from ID is refused" [ $? = 2 ]
"$PUSHCTL" info > "$TMP/info2.txt"
check "info shows the epoch" grep -qx "epoch $(cat "$STATS/epoch")" "$TMP/info2.txt"

echo "1..$n"
[ "$failed" = 0 ]
