#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: resuming while messages keep coming loses nothing.

A publisher writes 4,000 messages to /dev/push at 1,000 a second.  A
long-poll client follows with ?since=<next>; an SSE client reconnects with
Last-Event-ID after every 150 messages; a WebSocket client reconnects with
?since=<last id> after every 150.  Each must see every message exactly
once, in order: a resume from an id just behind the live head must join
history and live stream without a hole or a repeat."""

import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

N = 4000
RATE = 1000.0
EVERY = 150
DEADLINE_S = 120


class Follower:
    def __init__(self, kind, pd, ch, since):
        self.kind, self.pd, self.ch, self.last = kind, pd, ch, since
        self.items, self.sessions, self.holes = [], 0, []
        self.got_last = False
        self.error = None
        self.deadline = time.monotonic() + DEADLINE_S
        self.thread = threading.Thread(target=self.run, daemon=True)

    def take(self, m):
        mid = m.get("id")
        if self.items and isinstance(mid, int) and isinstance(self.items[-1].get("id"), int):
            a = int(str(self.items[-1].get("data", "seq=-1")).split("=")[1])
            b = int(str(m.get("data", "seq=-1")).split("=")[1])
            if b != a + 1 and len(self.holes) < 10:
                self.holes.append("session %d, resumed after id %d: seq %d -> %d"
                                  % (self.sessions, self.resumed_from, a, b))
        self.items.append(m)
        if isinstance(mid, int) and m.get("type") != "gap":
            self.last = mid
        if m.get("data") == "seq=%d" % (N - 1):
            self.got_last = True

    def left(self):
        return max(0.01, self.deadline - time.monotonic())

    def run(self):
        try:
            while not self.got_last and time.monotonic() < self.deadline:
                self.sessions += 1
                self.resumed_from = self.last
                getattr(self, "session_" + self.kind)()
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            self.error = repr(e)

    def session_longpoll(self):
        st, _, body = E.http_json(self.pd.port, "GET", "/sub/%s?since=%d" % (self.ch, self.last),
                                  timeout=min(30, self.left()))
        if st != 200:
            raise RuntimeError("long-poll %d %r" % (st, body))
        for m in body["messages"]:
            self.take(m)

    def session_sse(self):
        sse = E.SseClient(self.pd.port, "/sub/" + self.ch, {"Last-Event-ID": str(self.last)})
        try:
            for _ in range(EVERY):
                ev = sse.next_event(min(20, self.left()))
                if ev is None:
                    raise EOFError("SSE stream ended")
                self.take(json.loads(ev["data"]))
                if self.got_last:
                    return
        finally:
            sse.close()

    def session_websocket(self):
        ws = E.RawWs(self.pd.port, "/sub/%s?since=%d" % (self.ch, self.last))
        try:
            for _ in range(EVERY):
                m = ws.recv_json(min(20, self.left()))
                if m is None:
                    raise EOFError("WebSocket closed %r" % ws.close_code)
                self.take(m)
                if self.got_last:
                    return
        finally:
            ws.close()


def main(tap):
    E.require()
    pd = E.Pushd("--heartbeat", "30", "--poll-timeout", "5")
    dev = E.Device()
    ch = E.unique_channel("resume")
    since = dev.info()["next_id"] - 1
    fs = [Follower(k, pd, ch, since) for k in ("longpoll", "sse", "websocket")]
    for f in fs:
        f.thread.start()
    t0 = time.monotonic()
    for i in range(N):
        dev.publish(ch, "seq=%d" % i)
        ahead = (i + 1) / RATE - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
    tap.diag("published %d in %.1f s" % (N, time.monotonic() - t0))
    for f in fs:
        f.thread.join(max(1, f.deadline - time.monotonic()))
        problem = f.error or E.check_ids(f.items)
        if problem is None and len(f.items) != N:
            problem = "%d of %d messages" % (len(f.items), N)
        tap.ok(problem is None, "%s: %d messages once, in order, over %d resumes"
               % (f.kind, N, f.sessions - 1), "%s\n%s" % (problem, "\n".join(f.holes)))
    dev.close()
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")


E.run_main(main)
