#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: heartbeats only where a stream is quiet (issue 10, item 5).
At --heartbeat 3, an SSE stream and a WebSocket that get a message every
second get no ": hb" comment and no ping while the messages flow, and
their heartbeat comes once the messages stop; an idle SSE stream and an
idle WebSocket beside them get theirs every 3 s, on time.  Answered pings
keep the idle WebSocket open (--ping-misses)."""

import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

HB = 3.0          # --heartbeat
BUSY_S = 12       # seconds of one message a second
QUIET_S = 2 * HB + 2  # then this long without any


def collect(recv, kind_of, until, out):
    """(time, kind) per item that recv(timeout) gives until @until, kind_of()
    naming it (None: not logged); the stream's end (None, or a kind "end")
    ends the log."""
    while time.monotonic() < until:
        try:
            item = recv(max(0.05, until - time.monotonic()))
        except socket.timeout:
            break
        kind = "end" if item is None else kind_of(item)
        if kind:
            out.append((time.monotonic(), kind))
        if kind == "end":
            break


def read_sse(cl, until, out):
    """SSE items until @until: "msg" or "hb"."""
    def kind_of(ev):
        if "event" in ev:
            return "msg"
        return "hb" if ev.get("comment") == "hb" else None
    collect(cl.next, kind_of, until, out)


def read_ws(ws, until, out):
    """WebSocket frames until @until: "msg" or "ping" (answered)."""
    def kind_of(f):
        op = f[2]
        if op == E.OP_PING:
            ws.send(E.OP_PONG, f[3])
            return "ping"
        return {E.OP_TEXT: "msg", E.OP_CLOSE: "end"}.get(op)
    collect(ws.recv_frame, kind_of, until, out)


def times(log, kind):
    return [t for t, k in log if k == kind]


def on_time(ts, start, period, slack):
    """True if the first beat comes within @period + @slack of @start (the
    stream opened a little before) and the next every @period, within @slack."""
    if not ts or ts[0] - start > period + slack:
        return False
    return all(period - slack <= b - a <= period + slack for a, b in zip(ts, ts[1:]))


def main(tap):
    E.require()
    pd = E.Pushd("--heartbeat", str(int(HB)))
    busy = E.unique_channel("hb-busy")
    quiet = E.unique_channel("hb-quiet")
    s_busy = E.SseClient(pd.port, "/sub/" + busy, timeout=20)
    s_idle = E.SseClient(pd.port, "/sub/" + quiet, timeout=20)
    w_busy = E.RawWs(pd.port, "/sub/" + busy, timeout=20)
    w_idle = E.RawWs(pd.port, "/sub/" + quiet, timeout=20)
    tap.eq(200, s_busy.head(20)[0], "busy SSE stream open")
    tap.eq(200, s_idle.head(20)[0], "idle SSE stream open")
    seen = pd.wait_subscribers(busy, {"sse": 1, "websocket": 1}, timeout=30)
    tap.ok(seen.get("sse") == 1 and seen.get("websocket") == 1, "busy subscribers registered", seen)
    start = time.monotonic()
    until = start + BUSY_S + QUIET_S
    logs = {}
    threads = []
    for name, fn, cl in (("sse busy", read_sse, s_busy), ("sse idle", read_sse, s_idle),
                         ("ws busy", read_ws, w_busy), ("ws idle", read_ws, w_idle)):
        logs[name] = []
        th = threading.Thread(target=fn, args=(cl, until, logs[name]), daemon=True)
        th.start()
        threads.append(th)

    # one message a second on the busy channel: the pace is what is tested
    dev = E.Device()
    for i in range(BUSY_S):
        dev.publish(busy, b'{"n":%d}' % i)
        time.sleep(max(0.0, start + i + 1 - time.monotonic()))
    last_pub = time.monotonic()
    dev.close()
    for th in threads:
        th.join(until - time.monotonic() + 10)

    sb, si, wb, wi = logs["sse busy"], logs["sse idle"], logs["ws busy"], logs["ws idle"]
    for name, log in logs.items():
        tap.diag("%s: %s" % (name, " ".join("%s@%.1f" % (k, t - start) for t, k in log)))

    # busy streams: every message, no heartbeat while they flow
    msgs = times(sb, "msg")
    tap.eq(BUSY_S, len(msgs), "busy SSE stream got every message")
    hb_during = [t for t in times(sb, "hb") if t <= msgs[-1]] if msgs else None
    tap.eq([], hb_during, "busy SSE stream: no ': hb' while a message comes every second "
           "(--heartbeat %d)" % HB)
    wmsgs = times(wb, "msg")
    tap.eq(BUSY_S, len(wmsgs), "busy WebSocket got every message")
    ping_during = [t for t in times(wb, "ping") if t <= wmsgs[-1]] if wmsgs else None
    tap.eq([], ping_during, "busy WebSocket: no ping while a message comes every second")

    # ...and their heartbeat once the messages stop
    hb_after = [t for t in times(sb, "hb") if t > last_pub]
    tap.ok(hb_after and hb_after[0] - msgs[-1] <= HB + 1.5,
           "busy SSE stream gets ': hb' within %d s of its last message once quiet" % (HB + 1.5),
           hb_after and hb_after[0] - msgs[-1])
    ping_after = [t for t in times(wb, "ping") if t > last_pub]
    tap.ok(ping_after and ping_after[0] - wmsgs[-1] <= 2 * HB + 1.5,
           "busy WebSocket gets a ping within %d s of its last message once quiet" % (2 * HB + 1.5),
           ping_after and ping_after[0] - wmsgs[-1])

    # idle streams: a heartbeat every --heartbeat, on time, still open
    hbs = times(si, "hb")
    tap.ok(len(hbs) >= int((BUSY_S + QUIET_S) / HB) - 1 and on_time(hbs, start, HB, 1.5),
           "idle SSE stream: ': hb' every %d s (%d in %d s)" % (HB, len(hbs), BUSY_S + QUIET_S),
           [round(t - start, 1) for t in hbs])
    pings = times(wi, "ping")
    tap.ok(len(pings) >= int((BUSY_S + QUIET_S) / HB) - 1 and on_time(pings, start, HB, 1.5),
           "idle WebSocket: a ping every %d s (%d in %d s)" % (HB, len(pings), BUSY_S + QUIET_S),
           [round(t - start, 1) for t in pings])
    tap.ok(not times(wi, "end") and not times(si, "end"), "idle streams still open")
    for cl in (s_busy, s_idle):
        cl.close()
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")


if __name__ == "__main__":
    E.run_main(main)
