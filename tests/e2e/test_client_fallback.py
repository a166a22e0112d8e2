#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# test-timeout: 420
# vm-params: boot=browser
"""Description: the browser client (clients/js/push.js) in headless
Chromium finds the transport that works through a proxy, and loses and
repeats nothing on the way.  Behind an nginx that does not pass WebSocket
upgrades (nginx's default) it falls back to SSE; once nginx is reloaded to
pass them it comes back to WebSocket by itself; behind an nginx whose SSE
stream is held back (buffered and compressed: the first bytes never come)
it falls back to long-polling and stays there.  Messages are published
while each transport is failing and after the client settles: every id
arrives once, in order."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402
import browserlib as B  # noqa: E402

OPTS = {"connectTimeout": 3000, "heartbeat": 2, "pollTimeout": 10, "upgradeMin": 4000,
        "upgradeMax": 8000, "backoffMin": 500, "backoffMax": 2000, "shared": False}


def first(st, k, etype, transport=None, after=0):
    """The page time (ms) of client k's first etype event (on transport) after ms."""
    for e in st["log"]:
        if e["k"] == k and e["type"] == etype and e["ms"] >= after and \
                (transport is None or e["transport"] == transport):
            return e["ms"]
    return None


def main(tap):
    pd, ngx, browser = B.behind_nginx(tap, "no-websocket")
    chan = E.unique_channel("fallback")
    pub = B.Publisher(chan)
    opts = dict(OPTS, channels=[chan])

    def transport_is(k, t):
        return lambda s: len(s["clients"]) > k and s["clients"][k]["transport"] == t

    async def drive():
        _, cdp = await browser.tab(ngx.base + "/t.html")

        # 1. No WebSocket through this proxy: SSE, with what was published
        # while the upgrade was failing.
        t0 = await cdp.eval("Math.round(performance.now())")
        await B.start_clients(cdp, "", opts)
        await B.wait_page(cdp, lambda s: s["clients"][0]["lastId"] is not None, "pinned position")
        sent = pub.burst(5, "during-websocket")
        st = await B.wait_page(cdp, transport_is(0, "sse"), "open on SSE")
        tap.ok(any(e["type"] == "error" and e["transport"] == "websocket" for e in st["log"]),
               "the refused WebSocket is reported as an error event", st["log"])
        tap.ok(not any(e["type"] == "open" and e["transport"] == "websocket" for e in st["log"]),
               "no WebSocket opened through nginx without upgrades")
        tap.diag("open on SSE %d ms after the start" % (first(st, 0, "open", "sse") - t0))
        sent += pub.burst(5, "on-sse")
        st = await B.wait_ids(cdp, sent)
        B.tap_once(tap, st, sent, "falling back to SSE: every id once, in order")

        # 2. The proxy passes upgrades now: back to WebSocket, without a hole.
        t1 = await cdp.eval("Math.round(performance.now())")
        ngx.reload("good")
        sent += pub.burst(5, "before-upgrade")
        st = await B.wait_page(cdp, transport_is(0, "websocket"), "come back to WebSocket", 60)
        tap.ok(True, "back on WebSocket once nginx passes upgrades")
        tap.diag("back on WebSocket %d ms after the reload" % (first(st, 0, "open", "websocket", t1) - t1))
        sent += pub.burst(5, "on-websocket")
        st = await B.wait_ids(cdp, sent)
        B.tap_once(tap, st, sent, "switching SSE -> WebSocket: every id once, in order")
        tap.ok(not any(e["type"] == "close" for e in st["log"]),
               "the switch is not a close (the new connection opened first)",
               [e for e in st["log"] if e["type"] == "close"])
        await cdp.eval("window.__push.clients[0].close()")

        # 3. WebSocket refused and SSE held back: long-polling.
        ngx.reload("buffering")
        t2 = await cdp.eval("Math.round(performance.now())")
        await B.start_clients(cdp, "", opts)
        await B.wait_page(cdp, lambda s: s["clients"][1]["lastId"] is not None, "pinned position")
        sent2 = pub.burst(5, "during-failures")
        st = await B.wait_page(cdp, transport_is(1, "longpoll"), "open on long-poll", 60)
        mine = [e for e in st["log"] if e["k"] == 1]
        tap.ok(any(e["type"] == "error" and e["transport"] == "sse" for e in mine) and
               not any(e["type"] == "open" and e["transport"] == "sse" for e in mine),
               "the buffered SSE stream never counts as open and is reported", mine)
        tap.diag("open on long-poll %d ms after the start" % (first(st, 1, "open", "longpoll") - t2))
        sent2 += pub.burst(5, "on-longpoll")
        # The demoted transports are tried again beside the long-poll; each
        # try fails (an SSE try through this proxy needs connectTimeout).
        st = await B.wait_page(cdp, lambda s: sent2[-1] in B.message_ids(s, 1) and sum(
            1 for e in s["log"] if e["k"] == 1 and e["type"] == "error" and e["transport"] == "sse")
            >= 2, "a failed SSE retry after settling", 60)
        sent2 += pub.burst(5, "after-retries")
        st = await B.wait_ids(cdp, sent2, [1])
        tap.eq("longpoll", st["clients"][1]["transport"], "still on long-poll after the retries failed")
        B.tap_once(tap, st, sent2, "falling back to long-poll and retrying: every id once, in order", 1)
        B.tap_no_gap(tap, st)

    B.run(drive(), 360, browser.stop, ngx.stop, pub.close)
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")


E.run_main(main)
