#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# test-timeout: 420
# vm-params: boot=browser
"""Description: the browser client (clients/js/push.js) in headless
Chromium, behind nginx, survives pushd restarts mid-stream on each
transport.  Three clients in one page (WebSocket first, SSE only,
long-poll only) receive messages; pushd is stopped (SIGTERM: close events),
messages are published to /dev/push while it is down, it starts again on
the same port, more are published; then the same with SIGKILL (connections
just break).  Every client must deliver every id once, in order, with no
gap, and the first must be back on WebSocket."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402
import browserlib as B  # noqa: E402

OPTS = {"connectTimeout": 3000, "heartbeat": 2, "pollTimeout": 10, "backoffMin": 500,
        "backoffMax": 2000, "upgradeMin": 3000, "upgradeMax": 6000, "shared": False}
KINDS = [None, ["sse"], ["longpoll"]]	# client k's transports (None: all, WebSocket first)
WANT = ["websocket", "sse", "longpoll"]


def main(tap):
    pd, ngx, browser = B.behind_nginx(tap)
    chan = E.unique_channel("restart")
    pub = B.Publisher(chan)

    def all_open(s):
        return [c["transport"] for c in s["clients"]] == WANT

    def closes(s, k):
        return sum(1 for e in s["log"] if e["k"] == k and e["type"] == "close")

    async def drive():
        _, cdp = await browser.tab(ngx.base + "/t.html")
        for kind in KINDS:
            o = dict(OPTS, channels=[chan])
            if kind:
                o["transports"] = kind
            await B.start_clients(cdp, "", o)
        await B.wait_page(cdp, all_open, "three clients open")
        sent = pub.burst(5, "before")
        await B.wait_ids(cdp, sent, range(len(KINDS)))

        for how in ("SIGTERM", "SIGKILL"):
            before = await B.page_state(cdp)
            if how == "SIGTERM":
                tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM with three browser subscribers")
            else:
                pd.kill()
            # Each client sees its connection go (a long-poll only when it next polls).
            st = await B.wait_page(cdp, lambda s: all(closes(s, k) > closes(before, k)
                                                      for k in range(len(KINDS))),
                                   "a close event in every client after %s" % how)
            sent += pub.burst(5, "down-" + how)
            pd.start()
            sent += pub.burst(5, "up-" + how)
            st = await B.wait_ids(cdp, sent, range(len(KINDS)))
            for k, t in enumerate(WANT):
                B.tap_once(tap, st, sent, "%s client, pushd restarted after %s: every id once, "
                           "in order" % (t, how), k)
            st = await B.wait_page(cdp, all_open, "all three back on their transports", 60)
            tap.ok(True, "after %s: back on %s" % (how, ", ".join(WANT)))
        B.tap_no_gap(tap, st)
        tap.ok(all(e["type"] != "error" or not e["fatal"] for e in st["log"]), "no fatal error")

    B.run(drive(), 360, browser.stop, ngx.stop, pub.close)
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")


E.run_main(main)
