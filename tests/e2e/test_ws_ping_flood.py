#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# test-timeout: 240
"""Description: WebSocket clients flooding pings and never reading cannot
grow pushd (issue 9, item 1).

PING_CLIENTS (default 200) WebSocket clients each send empty pings as fast
as loopback allows for PING_SECS (default 10) seconds and never read a
byte.  pushd keeps at most one pong per client and stops reading a client
whose output is blocked, so its RSS must grow by less than
clients x (--max-queue + 64 KiB); meanwhile /stats answers (how fast is printed) and a normal
subscriber gets a message.  The figures are printed as "# figure:" lines
(docs/PUSHD.md quotes them)."""

import os
import select
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

MAX_QUEUE = 65536


def main(tap):
    E.require()
    nclients = int(os.environ.get("PING_CLIENTS", "200"))
    secs = float(os.environ.get("PING_SECS", "10"))
    bound_kb = nclients * (MAX_QUEUE + 65536) // 1024
    pd = E.Pushd("--max-queue", str(MAX_QUEUE), "--heartbeat", "60")
    ch = E.unique_channel("flood")
    socks = []
    try:
        for _ in range(nclients):
            ws = E.RawWs(pd.port, "/sub/" + ch, timeout=30)
            ws.sock.setblocking(False)
            socks.append(ws)
    except (OSError, RuntimeError) as e:
        tap.ok(False, "%d WebSocket clients connect" % nclients, repr(e))
        return
    tap.ok(True, "%d WebSocket clients connect" % nclients)
    normal = E.RawWs(pd.port, "/sub/" + ch, timeout=30)
    pd.wait_subscribers(ch, {"websocket": nclients + 1}, timeout=60)
    rss0 = pd.rss_kb()

    # Empty masked pings: 0x89 0x80 + a 4-byte key, 6 bytes each.  Half-way
    # through, /stats is asked and a message published to the normal
    # subscriber, while the flood goes on.
    burst = E.RawWs.frame(E.OP_PING, b"") * 10000
    sent = 0
    peak = rss0
    start = time.monotonic()
    end, mid_at = start + secs, start + secs / 2
    by_fd = {w.sock.fileno(): w for w in socks}
    dev = E.Device()
    mid = st = took = got = None
    got_at = None
    while time.monotonic() < end or (mid is not None and got_at is None and
                                     time.monotonic() < end + 20):
        flooding = time.monotonic() < end
        if flooding:
            _, wr, _ = select.select([], list(by_fd), [], 0.2)
            for fd in wr:
                try:
                    sent += by_fd[fd].sock.send(burst)
                except BlockingIOError:
                    pass
                except OSError:
                    del by_fd[fd]
        if mid is None and time.monotonic() >= mid_at:
            t0 = time.monotonic()
            try:
                st = E.http(pd.port, "GET", "/stats", timeout=5)[0]
            except OSError as e:
                st = repr(e)
            took = time.monotonic() - t0
            mid = dev.publish_id(ch, "still-served")
        if mid is not None and got_at is None:
            try:
                m = normal.recv_json(0.01 if flooding else 1)
                if isinstance(m, dict) and m.get("id") == mid:
                    got, got_at = m, time.monotonic()
                elif m is None:
                    got, got_at = "closed", time.monotonic()
            except (TimeoutError, OSError, ValueError):
                pass
        rss = pd.rss_kb() or 0
        peak = max(peak, rss)
        if rss - rss0 > 4 * bound_kb or not pd.alive():
            break  # already failed: do not run the guest out of memory
    growth = peak - rss0
    print("# figure: %d clients sent %.1f MB of pings in %.0f s; pushd RSS %d kB -> peak %d kB, "
          "growth %d kB (bound %d kB = clients x (--max-queue %d + 64 KiB))"
          % (nclients, sent / 1e6, secs, rss0, peak, growth, bound_kb, MAX_QUEUE), flush=True)
    tap.ok(sent > 0, "the clients got pings out (%d bytes)" % sent)
    tap.ok(growth < bound_kb, "RSS growth %d kB < %d kB" % (growth, bound_kb))
    print("# figure: /stats during the flood answered in %s s" % ("%.3f" % took if took else "-"),
          flush=True)
    # How fast is a figure (above), not a pass mark: a loaded host is slower.
    tap.ok(st == 200 and took is not None,
           "/stats answers during the flood, within the client's 5 s (asked %.1f s into it)"
           % (secs / 2), st)
    tap.ok(isinstance(got, dict) and got_at is not None and got_at < end,
           "a normal WebSocket subscriber gets its message during the flood (%s)"
           % ("%.2f s before its end" % (end - got_at) if got_at else "not at all"), got)
    dev.close()
    for w in socks:
        w.close()
    normal.close()
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")


E.run_main(main)
