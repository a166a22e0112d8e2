#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: request heads have an absolute deadline (issue 9, item 5).

HALF_OPEN (default 2000) connections send a request line and never finish
their headers, and 5 more send one header byte a second (which resets an
inactivity timeout forever); an attacker would hold them for 60 s.  Every
one must be closed by pushd within --header-timeout (10 s by default) plus
the 1 s sweep and some slack, while a normal SSE subscriber gets every
message published once a second meanwhile.  The figures are printed as
"# figure:" lines (docs/PUSHD.md quotes them)."""

import os
import resource
import selectors
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

HEADER_TIMEOUT = 10
HOLD = 60


def main(tap):
    E.require()
    n = int(os.environ.get("HALF_OPEN", "2000"))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 200), hard))
    pd = E.Pushd("--heartbeat", "60")
    ch = E.unique_channel("halfopen")
    sub = E.SseClient(pd.port, "/sub/" + ch)
    tap.eq(200, sub.head(20)[0], "a normal SSE subscriber is served")

    sel = selectors.DefaultSelector()
    opened = {}
    t_start = time.monotonic()
    for i in range(n):
        s = socket.socket()
        s.setblocking(True)
        s.settimeout(10)
        try:
            s.connect(("127.0.0.1", pd.port))
            s.sendall(b"GET /sub/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % ch.encode())
        except OSError as e:
            tap.diag("connection %d: %r" % (i, e))
            s.close()
            continue
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, ("half", i))
        opened[s] = time.monotonic()
    trickle = []
    for i in range(5):
        s = socket.create_connection(("127.0.0.1", pd.port), timeout=10)
        s.sendall(b"GET /stats HTTP/1.1\r\nX-Slow: ")
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, ("trickle", i))
        opened[s] = time.monotonic()
        trickle.append(s)
    t_open = time.monotonic() - t_start
    tap.ok(len(opened) >= n, "%d half-open and 5 trickling connections made in %.1f s"
           % (len(opened) - 5, t_open))

    dev = E.Device()
    closed_after = {}
    published, received = [], []
    next_pub = time.monotonic()
    next_trickle = time.monotonic() + 1
    end = time.monotonic() + HOLD
    while opened and time.monotonic() < end:
        now = time.monotonic()
        if now >= next_pub:
            published.append(dev.publish_id(ch, "tick-%d" % len(published)))
            next_pub = now + 1
        if now >= next_trickle:
            for s in trickle:
                if s in opened:
                    try:
                        s.send(b"x")
                    except OSError:
                        pass
            next_trickle = now + 1
        for key, _ in sel.select(0.2):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                closed_after[key.data] = time.monotonic() - opened.pop(s)
                sel.unregister(s)
                s.close()
        try:
            while True:
                ev = sub.next_event(0.01)
                if ev is None:
                    break
                received.append(ev)
        except socket.timeout:
            pass
    left = len(opened)
    half = [v for k, v in closed_after.items() if k[0] == "half"]
    slow = [v for k, v in closed_after.items() if k[0] == "trickle"]
    worst = max(half + slow) if half + slow else -1
    print("# figure: %d half-open + 5 trickling connections: %d closed by pushd, %d still open; "
          "closed after %.1f-%.1f s (--header-timeout %d); subscriber got %d of %d messages"
          % (n, len(closed_after), left, min(half + slow or [0]), worst, HEADER_TIMEOUT,
             len(received), len(published)), flush=True)
    limit = HEADER_TIMEOUT + 5 + t_open
    tap.ok(left == 0 and len(half) >= n, "every half-open connection closed by pushd", left)
    tap.ok(len(slow) == 5 and max(slow) <= limit,
           "trickling connections (a byte a second) closed within %.0f s" % limit, slow)
    tap.ok(half and max(half) <= limit, "half-open ones within %.0f s" % limit,
           max(half) if half else None)
    got = set()
    for ev in received:
        for pid in published:
            if '"id":%d,' % pid in (ev.get("data") or ""):
                got.add(pid)
    tap.eq(len(published), len(got), "the normal subscriber got every message meanwhile")
    st = E.http(pd.port, "GET", "/stats", timeout=5)[0]
    tap.eq(200, st, "/stats answers after")
    sub.close()
    dev.close()
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")


E.run_main(main)
