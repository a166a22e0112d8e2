#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# test-timeout: 420
# vm-params: boot=browser
"""Description: tabs of one origin share one connection.  Three headless
Chromium tabs run the browser client (clients/js/push.js) on the same
channel behind nginx: exactly one is the leader, and pushd counts exactly
one subscriber (GET /pub/CH and /stats).  Messages reach all three.  The
leader's tab is closed while messages are being published: another tab
takes over, pushd counts one subscriber again, and each remaining tab has
every id once, in order.  Done with the Web Locks election, then with the
BroadcastChannel one (for browsers without Web Locks)."""

import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402
import browserlib as B  # noqa: E402

OPTS = {"connectTimeout": 3000, "heartbeat": 2, "pollTimeout": 10, "backoffMin": 500,
        "backoffMax": 2000}


def subscribers(pd, chan):
    s = pd.subscribers(chan)
    return sum(s.get(t, 0) for t in ("longpoll", "sse", "websocket"))


def stats_subscribers(pd):
    t = pd.stats()["transports"]
    return sum(t[k]["connections"] for k in ("longpoll", "sse", "websocket"))


async def wait_count(pd, chan, n, what, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        seen = await asyncio.get_running_loop().run_in_executor(None, subscribers, pd, chan)
        if seen == n:
            return seen
        if time.monotonic() > deadline:
            raise RuntimeError("%s: pushd counts %d subscribers of %s, want %d" % (what, seen, chan, n))
        await asyncio.sleep(0.2)


def main(tap):
    pd, ngx, browser = B.behind_nginx(tap)

    async def round_of(election):
        chan = E.unique_channel("tabs-" + election)
        pub = B.Publisher(chan)
        opts = dict(OPTS, channels=[chan], election=election)
        tabs = []
        for _ in range(3):
            tid, cdp = await browser.tab(ngx.base + "/t.html")
            await B.start_clients(cdp, "", opts)
            tabs.append((tid, cdp))

        async def states():
            return [await B.page_state(cdp) for _, cdp in tabs]

        async def settled(live, what, timeout=60):
            """Wait for one leader among live tabs and all of them open."""
            deadline = time.monotonic() + timeout
            while True:
                sts = [await B.page_state(tabs[i][1]) for i in live]
                cl = [s["clients"][0] for s in sts]
                leaders = [i for i, c in zip(live, cl) if c["leader"]]
                if len(leaders) == 1 and all(c["state"] == "open" for c in cl):
                    return leaders[0], sts
                if time.monotonic() > deadline:
                    evs = [["%s %s %s %s" % (e["ms"], e["type"], e["transport"], e["reason"])
                            for e in st["log"][-8:]] for st in sts]
                    raise RuntimeError("%s: leaders %r, clients %r, last events %r"
                                       % (what, leaders, cl, evs))
                await asyncio.sleep(0.2)

        leader, sts = await settled([0, 1, 2], "three tabs settled")
        tap.ok(True, "%s: one leader among three tabs (tab %d), all open on %s"
               % (election, leader, sts[leader]["clients"][0]["transport"]))
        # What the leader went through to get there (a transport that failed, and why).
        for e in sts[leader]["log"]:
            if e["type"] in ("error", "close"):
                tap.diag("%s: leader at %d ms: %s %s %s" % (election, e["ms"], e["type"],
                                                          e["transport"], e["reason"]))
        await wait_count(pd, chan, 1, "three tabs")
        tap.eq(1, subscribers(pd, chan), "%s: GET /pub/CH counts one subscriber for three tabs" % election)
        tap.eq(1, stats_subscribers(pd), "%s: /stats counts one subscriber connection" % election)

        sent = pub.burst(10, "three-tabs")
        for i, (_, cdp) in enumerate(tabs):
            st = await B.wait_ids(cdp, sent)
            B.tap_once(tap, st, sent, "%s: tab %d (%s) has every id once"
                       % (election, i, "leader" if i == leader else "relayed"))

        # The leader goes while messages are being published.
        sent += pub.burst(10, "before-close")
        await browser.close_tab(tabs[leader][0])
        sent += pub.burst(10, "during-handover")
        live = [i for i in range(3) if i != leader]
        new, _ = await settled(live, "a new leader", 60)
        sent += pub.burst(10, "after-handover")
        tap.ok(new != leader, "%s: tab %d took over from closed tab %d" % (election, new, leader))
        for i in live:
            st = await B.wait_ids(tabs[i][1], sent)
            B.tap_once(tap, st, sent, "%s: tab %d has every id once across the handover" % (election, i))
            B.tap_no_gap(tap, st, "%s: tab %d saw no gap" % (election, i))
        await wait_count(pd, chan, 1, "after the handover")
        tap.ok(True, "%s: one subscriber again after the handover" % election)
        for i in live:
            await browser.close_tab(tabs[i][0])
        await wait_count(pd, chan, 0, "all tabs closed")
        pub.close()

    async def drive():
        await round_of("locks")
        await round_of("broadcast")

    B.run(drive(), 360, browser.stop, ngx.stop)
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")


E.run_main(main)
