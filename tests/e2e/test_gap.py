#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: resuming from an id the device's history no longer holds
yields a gap object first, in every transport, then the retained messages.

Three messages go to channel CH, then more than ring_size bytes of filler
on another channel overwrite them, then two more messages go to CH.  A
resume from just before the first of the three must give
{"type":"gap","first_id":<that id>,"next_id":B,"lost":3} (3: only CH's
messages count) and then the two retained ones, over long-poll
(?since=), SSE (Last-Event-ID, "event: gap") and WebSocket (?since=)."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402


def check_gap(tap, name, gap, first, new_ids):
    ok = isinstance(gap, dict) and gap.get("type") == "gap" and gap.get("first_id") == first \
        and isinstance(gap.get("next_id"), int) and first < gap["next_id"] <= new_ids[0] \
        and gap.get("lost") == 3
    tap.ok(ok, "%s: gap object first: first_id %d, next_id in (%d, %d], lost 3"
           % (name, first, first, new_ids[0]), gap)


def main(tap):
    E.require()
    pd = E.Pushd("--heartbeat", "30", "--poll-timeout", "5")
    dev = E.Device()
    ch = E.unique_channel("gap")
    old = [dev.publish_id(ch, "old-%d" % i) for i in range(3)]
    info = dev.info()
    chunk = min(60000, info["max_msg_size"])
    filler = E.unique_channel("filler")
    for _ in range(info["ring_size"] * 5 // 4 // chunk + 2):
        dev.publish_id(filler, b"f" * chunk)
    new = [dev.publish_id(ch, "new-%d" % i) for i in range(2)]
    info = dev.info()
    if info["oldest_id"] <= old[-1]:
        tap.ok(False, "filler overwrote the old messages", info)
        return
    since = old[0] - 1
    # pushd's hub reads the device on its own time: let it see the last
    # message first, or a resume could still be served from what it read
    # before the filler (no loss then, but no gap to check either).
    deadline = time.monotonic() + 30
    while (pd.stats() or {}).get("last_id", 0) < new[-1] and time.monotonic() < deadline:
        time.sleep(0.1)

    # Long-poll: follow "next" (at most 3 polls) until both new messages came.
    msgs, nxt, polls = [], since, 0
    while polls < 3 and new[-1] not in [m.get("id") for m in msgs]:
        st, _, body = E.http_json(pd.port, "GET", "/sub/%s?since=%d" % (ch, nxt), timeout=30)
        polls += 1
        if st != 200 or not isinstance(body, dict):
            tap.ok(False, "long-poll: 200 JSON", "%d %r" % (st, body))
            break
        msgs += body.get("messages", [])
        nxt = body.get("next")
    tap.diag("long-poll: %d polls to get the gap and the messages" % polls)
    check_gap(tap, "long-poll", msgs[0] if msgs else None, old[0], new)
    tap.eq(new, [m.get("id") for m in msgs[1:]], "long-poll: then the retained messages, no other gap")
    tap.eq(new[-1], nxt, "long-poll: next is the last message id")

    sse = E.SseClient(pd.port, "/sub/" + ch, {"Last-Event-ID": str(since)})
    evs = sse.events(3, diag=tap.diag)
    sse.close()
    tap.ok(evs and evs[0]["event"] == "gap", "SSE: first event is 'event: gap'", evs[:1])
    check_gap(tap, "SSE", json.loads(evs[0]["data"]) if evs else None, old[0], new)
    tap.eq([str(i) for i in new], [e.get("id") for e in evs[1:]], "SSE: then the retained messages")

    ws = E.RawWs(pd.port, "/sub/%s?since=%d" % (ch, since))
    got = ws.json_messages(3, 20, tap.diag)
    ws.close()
    check_gap(tap, "WebSocket", got[0] if got else None, old[0], new)
    tap.eq(new, [m.get("id") for m in got[1:]], "WebSocket: then the retained messages")

    # A resume from a retained id has no gap.
    st, _, body = E.http_json(pd.port, "GET", "/sub/%s?since=%d" % (ch, new[0]), timeout=30)
    tap.eq([new[1]], [m.get("id") for m in body.get("messages", [])] if isinstance(body, dict)
           else body, "resume inside the history: no gap")
    dev.close()
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")


E.run_main(main)
