#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: no loss across a crash of pushd.  A publisher writes 10,000
messages to /dev/push at a bounded rate; halfway through pushd is killed
with SIGKILL and started again on the same port.  One client per transport
(SSE, WebSocket, long-poll) reconnects with its last id (Last-Event-ID,
?since=) and must see every message exactly once, in order, with no gap.
Messages written while pushd is down wait in the device's history."""

import json
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

N = int(os.environ.get("E2E_RESTART_N", "10000"))
RATE = float(os.environ.get("E2E_RESTART_RATE", "1000"))	# messages per second
DEADLINE_S = 240


class Client:
    """Common state: every message seen, reconnections, first error."""

    def __init__(self, name, pd, ch, since):
        self.name, self.pd, self.ch = name, pd, ch
        self.last = since
        self.items = []
        self.reconnects = 0
        self.got_last = False
        self.errors = []
        self.deadline = time.monotonic() + DEADLINE_S
        self.thread = threading.Thread(target=self.run, name=name)

    def done(self):
        return self.got_last or time.monotonic() > self.deadline

    def take(self, obj):
        self.items.append(obj)
        if str(obj.get("data", "")) == "seq=%d" % (N - 1):
            self.got_last = True
        if obj.get("type") != "gap" and isinstance(obj.get("id"), int):
            self.last = obj["id"]

    def run(self):
        first = True
        while not self.done():
            if not first:
                self.reconnects += 1
                time.sleep(0.05)
            first = False
            try:
                self.session()
            except (OSError, EOFError, ValueError, RuntimeError) as e:
                if len(self.errors) < 20:
                    self.errors.append("%.1f %s" % (time.monotonic(), e))


class SseSub(Client):
    def session(self):
        hdr = {"Last-Event-ID": str(self.last)}
        sse = E.SseClient(self.pd.port, "/sub/" + self.ch, hdr, timeout=5)
        try:
            st, _ = sse.head(10)
            if st != 200:
                raise RuntimeError("SSE status %d" % st)
            while not self.done():
                ev = sse.next_event(20)
                if ev is None:
                    return
                if ev["event"] in ("message", "gap"):
                    obj = json.loads(ev["data"])
                    if ev["event"] == "message" and ev["id"] != str(obj.get("id")):
                        self.errors.append("id: %s for %r" % (ev["id"], obj))
                    self.take(obj)
                elif ev["event"] == "close":
                    return
        finally:
            sse.close()


class WsSub(Client):
    def session(self):
        ws = E.RawWs(self.pd.port, "/sub/%s?since=%d" % (self.ch, self.last), timeout=5)
        try:
            while not self.done():
                m = ws.recv_json(20)
                if m is None:
                    return
                self.take(m)
        finally:
            ws.close()


class PollSub(Client):
    def session(self):
        while not self.done():
            st, _, body = E.http_json(self.pd.port, "GET",
                                      "/sub/%s?since=%d" % (self.ch, self.last), timeout=40)
            if st != 200 or not isinstance(body, dict):
                raise RuntimeError("long-poll %d %r" % (st, body))
            for m in body.get("messages", []):
                self.take(m)
            nxt = body.get("next")
            if isinstance(nxt, int) and nxt != self.last:
                self.errors.append("next %r after last id %d" % (nxt, self.last))


def main(tap):
    E.require()
    pd = E.Pushd("--heartbeat", "5", "--poll-timeout", "5")
    dev = E.Device()
    ch = E.unique_channel("restart")
    since = dev.info()["next_id"] - 1
    clients = [SseSub("sse", pd, ch, since), WsSub("websocket", pd, ch, since),
               PollSub("longpoll", pd, ch, since)]
    for c in clients:
        c.thread.start()
    pd.wait_subscribers(ch, {"sse": 1, "websocket": 1})

    kill_at = N // 2
    restart = {}

    def restarter():
        pd.kill()
        restart["killed"] = time.monotonic()
        try:
            pd.start(ready_timeout=30)
            restart["up"] = time.monotonic()
        except RuntimeError as e:
            restart["error"] = str(e)

    t0 = time.monotonic()
    rt = None
    for i in range(N):
        dev.publish(ch, "seq=%d" % i)
        if i == kill_at:
            rt = threading.Thread(target=restarter)
            rt.start()
        ahead = (i + 1) / RATE - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
    pub_s = time.monotonic() - t0
    tap.diag("published %d messages in %.1f s (%.0f/s)" % (N, pub_s, N / pub_s))
    rt.join(60)
    tap.ok("up" in restart, "pushd restarted on the same port after SIGKILL",
           restart.get("error"))
    if "up" in restart:
        tap.diag("pushd was down %.2f s" % (restart["up"] - restart["killed"]))

    for c in clients:
        c.thread.join(max(1, c.deadline - time.monotonic() + 5))
        problem = E.check_ids(c.items)
        if problem is None and len(c.items) != N:
            problem = "%d of %d messages" % (len(c.items), N)
        tap.ok(problem is None, "%s: all %d ids once, in order, across the restart" % (c.name, N),
               "%s; errors: %s" % (problem, c.errors[:5]))
        tap.ok(c.reconnects >= 1, "%s reconnected (%d times)" % (c.name, c.reconnects))
        ids = [m.get("id") for m in c.items]
        tap.eq(len(ids), len(set(ids)), "%s: no duplicate ids" % c.name)

    dev.close()
    tap.eq(0, pd.stop(), "restarted pushd exits 0 on SIGTERM")


if __name__ == "__main__":
    socket.setdefaulttimeout(30)
    E.run_main(main)
