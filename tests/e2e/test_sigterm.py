#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: SIGTERM ends every subscriber properly: a WebSocket client
(python3-websockets) gets close 1001, an SSE stream ends with "event: close"
and reason "shutdown", a pending long-poll is answered with JSON, and pushd
exits 0 within 10 s."""

import asyncio
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402


def main(tap):
    E.require()
    websockets = E.require_websockets()
    pd = E.Pushd("--heartbeat", "30", "--poll-timeout", "60")
    ch = E.unique_channel("term")
    res = {}

    async def ws_client(ready):
        async with websockets.connect("ws://127.0.0.1:%d/sub/%s" % (pd.port, ch),
                                      ping_interval=None, open_timeout=20) as ws:
            ready.set()
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 30)
            except websockets.ConnectionClosed:
                pass
            except asyncio.TimeoutError:
                res["ws_timeout"] = True
            res["ws_code"] = ws.close_code
            res["ws_reason"] = ws.close_reason

    def ws_thread(ready):
        try:
            asyncio.run(ws_client(ready))
        except Exception as e:  # noqa: BLE001 - reported below
            res["ws_error"] = repr(e)
            ready.set()

    ready = threading.Event()
    tw = threading.Thread(target=ws_thread, args=(ready,))
    tw.start()
    ready.wait(30)
    sse = E.SseClient(pd.port, "/sub/" + ch)
    lp = E.LongPoll(pd.port, "/sub/" + ch, timeout=30)
    pd.wait_subscribers(ch, {"longpoll": 1, "sse": 1, "websocket": 1})

    t0 = time.monotonic()
    pd.signal(signal.SIGTERM)

    # SSE: read to the end; the last event must be "close" with reason shutdown.
    events, ended = [], False
    try:
        while True:
            ev = sse.next_event(15)
            if ev is None:
                ended = True
                break
            events.append(ev)
    except OSError as e:
        tap.diag("SSE read: %r" % e)
    last = events[-1] if events else {}
    try:
        reason = json.loads(last.get("data", "{}")).get("reason")
    except ValueError:
        reason = None
    tap.ok(last.get("event") == "close" and reason == "shutdown",
           "SSE: last event is close with reason shutdown", events)
    tap.ok(ended, "SSE: stream ends after the close event")
    sse.close()

    tw.join(30)
    tap.eq(1001, res.get("ws_code"), "WebSocket: close code 1001 (going away)")
    if "ws_error" in res or res.get("ws_timeout"):
        tap.diag("WebSocket client: %r" % res)

    st, _, body = lp.result(30)
    tap.ok(st == 200 and isinstance(body, dict) and isinstance(body.get("messages"), list)
           and "next" in body, "long-poll: pending poll answered 200 with a JSON batch",
           "%s %r" % (st, body))
    tap.ok((lp.seconds or 99) < 15, "long-poll answered promptly (%.1f s, poll-timeout 60)"
           % (lp.seconds or 99))

    rc = pd.wait(max(0.1, 10 - (time.monotonic() - t0)))
    tap.ok(rc is not None, "pushd exits within 10 s of SIGTERM")
    tap.eq(0, rc, "pushd exit status 0")
    if rc is None:
        tap.diag(pd.tail())
    pd.kill()


E.run_main(main)
