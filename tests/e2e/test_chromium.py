#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# test-timeout: 420
# vm-params: boot=browser
"""Description: a real browser runs the demo page.  Headless chromium,
driven over the DevTools protocol (python3-websockets), loads GET / from
pushd; once the page holds a subscriber of each transport (long-poll, SSE,
WebSocket), one message written to /dev/push must show up in all three of
its panes, and in the fourth, the client library's (/push.js), which
says it is on WebSocket.  Chromium's handshakes (seen over DevTools) agree
on permessage-deflate with pushd, and the library's on push.v1.  The page
must load no external asset."""

import asyncio
import base64
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402
import browserlib as B  # noqa: E402

# For each transport, the text of the elements that look like its pane.
PANES_JS = r"""
(() => {
  const want = { longpoll: /long.?poll|\bpoll\b|\blp\b/i, sse: /\bsse\b|event.?source|event.?stream/i,
                 websocket: /web.?socket|\bws\b/i };
  const out = {};
  for (const [t, re] of Object.entries(want)) {
    out[t] = [];
    for (const el of document.querySelectorAll('[id],[class],[data-transport]')) {
      const tag = [el.id, el.className, el.dataset ? el.dataset.transport : ''].join(' ');
      if (re.test(tag)) out[t].push(el.innerText || el.value || '');
    }
  }
  return JSON.stringify(out);
})()
"""


def main(tap):
    E.require(B.CHROMIUM)
    pd = E.Pushd("--heartbeat", "5", "--poll-timeout", "30")
    st, h, page = E.http(pd.port, "GET", "/")
    tap.ok(st == 200 and h.get("content-type", "").startswith("text/html"),
           "GET / serves an HTML page", "%d %r" % (st, h))
    ext = re.findall(rb'(?:src|href)\s*=\s*["\']?(?:https?:)?//[^"\'\s>]+', page)
    ext = [u for u in ext if b"127.0.0.1" not in u and b"localhost" not in u]
    tap.ok(not ext, "demo page references no external asset", ext[:5])

    browser = B.Browser(log_dir=pd.dir)
    try:
        async def drive():
            # Network first: the page's WebSocket handshakes are read from its events.
            _, cdp = await browser.tab("http://127.0.0.1:%d/" % pd.port, domains=["Network"])
            html = await cdp.eval("document.documentElement.outerHTML") or ""
            inputs = await cdp.eval("JSON.stringify([...document.querySelectorAll('input,select')]"
                                    ".map(e => e.value))") or "[]"
            # The page's subscribers: the channel it names or shows, else the usual defaults.
            cands = []
            for m in re.findall(r"/sub/([A-Za-z0-9_.:,-]+)", html) + \
                    [v for v in json.loads(inputs) if re.fullmatch(r"[A-Za-z0-9_.:,-]{1,200}", v)] + \
                    ["demo", "default"]:
                for c in m.split(","):
                    if c not in cands:
                        cands.append(c)
            # websocket 2: the WebSocket pane and the client library's pane.  With 1
            # the message could be published before the library had subscribed
            # (seen once with two test runs on the host: "client library pane
            # shows the message" failed with the pane saying only "on websocket").
            want = {"longpoll": 1, "sse": 1, "websocket": 2}
            chan, subs = None, {}
            deadline = time.monotonic() + 60
            while chan is None and time.monotonic() < deadline:
                for c in cands:
                    subs = await asyncio.get_running_loop().run_in_executor(
                        None, pd.subscribers, c)
                    if all(subs.get(k, 0) >= v for k, v in want.items()):
                        chan = c
                        break
                else:
                    await asyncio.sleep(0.5)
            tap.ok(chan is not None, "page subscribes with all three transports and the client "
                   "library (channel %s)"
                   % chan, "candidates %r, last counts %r, stats %r" % (cands, subs, pd.stats()))
            if chan is None:
                return
            token = "e2e-chromium-%d" % os.getpid()
            if chan == "default":  # exactly what the README tells a person to type
                subprocess.run(["sh", "-c", "echo 'hello from /dev/push %s' > /dev/push" % token],
                               check=True, timeout=30)
            else:
                dev = E.Device()
                dev.publish(chan, "hello from /dev/push " + token)
                dev.close()
            deadline = time.monotonic() + 60
            count = 0
            while time.monotonic() < deadline:
                text = await cdp.eval("document.body.innerText") or ""
                count = text.count(token)
                if count >= 3:
                    break
                await asyncio.sleep(0.5)
            tap.ok(count >= 3, "the message appears 3 times on the page (seen %d)" % count, text[-2000:])
            lib, lib_state = "", ""
            while time.monotonic() < deadline:
                lib = await cdp.eval("document.getElementById('log-client')?.innerText") or ""
                lib_state = await cdp.eval(
                    "document.getElementById('state-client')?.innerText") or ""
                if token in lib and lib_state == "websocket":
                    break
                await asyncio.sleep(0.5)
            tap.ok(token in lib, "client library pane shows the message", lib[-500:])
            tap.eq("websocket", lib_state, "client library pane says it is on WebSocket")
            hs = [{k.lower(): v for k, v in e["params"]["response"].get("headers", {}).items()}
                  for e in cdp.events
                  if e.get("method") == "Network.webSocketHandshakeResponseReceived"]
            exts = [h.get("sec-websocket-extensions", "") for h in hs]
            tap.ok(hs and all(x.startswith("permessage-deflate") and
                              "server_no_context_takeover" in x for x in exts),
                   "Chromium's WebSockets agree on permessage-deflate", exts)
            tap.ok(any(h.get("sec-websocket-protocol") == "push.v1" for h in hs),
                   "the library's WebSocket agrees on push.v1",
                   [h.get("sec-websocket-protocol") for h in hs])
            shot = os.environ.get("PUSH_E2E_SCREENSHOT")
            if shot:  # a picture of the page for a person to look at
                await cdp.call("Emulation.setDeviceMetricsOverride", width=1400, height=800,
                               deviceScaleFactor=1, mobile=False)
                await asyncio.sleep(2.5)  # let the probe figures under the panes refresh
                img = await cdp.call("Page.captureScreenshot", format="png")
                with open(shot, "wb") as f:
                    f.write(base64.b64decode(img["data"]))
            panes = json.loads(await cdp.eval(PANES_JS) or "{}")
            for t in ("longpoll", "sse", "websocket"):
                texts = panes.get(t, [])
                if texts:
                    tap.ok(any(token in x for x in texts), "%s pane shows the message" % t,
                           [x[-300:] for x in texts])
                else:
                    tap.ok(False, "%s pane found on the page" % t, panes)

        asyncio.run(asyncio.wait_for(drive(), 300))
    finally:
        browser.stop()
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")


E.run_main(main)
