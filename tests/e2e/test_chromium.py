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
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--remote-debugging-port=0", "--remote-allow-origins=*"]

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


class Cdp:
    """A DevTools protocol session on one page target."""

    def __init__(self, ws):
        self.ws = ws
        self.ids = itertools.count(1)
        self.events = []

    async def call(self, method, timeout=60, **params):
        mid = next(self.ids)
        await self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            msg = json.loads(await asyncio.wait_for(self.ws.recv(),
                                                    max(0.1, deadline - time.monotonic())))
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError("%s: %r" % (method, msg["error"]))
                return msg.get("result", {})
            self.events.append(msg)

    async def eval(self, expr, timeout=60):
        r = await self.call("Runtime.evaluate", timeout, expression=expr, returnByValue=True)
        return r.get("result", {}).get("value")


def start_chromium(profile, log):
    env = dict(os.environ, HOME=profile)
    p = subprocess.Popen([CHROMIUM] + FLAGS + ["--user-data-dir=" + profile, "about:blank"],
                         stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env,
                         start_new_session=True)
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise RuntimeError("chromium exited with %d" % p.returncode)
        try:
            with open(port_file) as f:
                port = int(f.readline())
            return p, port
        except (OSError, ValueError):
            time.sleep(0.2)
    raise RuntimeError("chromium wrote no DevToolsActivePort in 120 s")


def stop_chromium(p):
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(10)


def main(tap):
    E.require(CHROMIUM)
    import websockets
    pd = E.Pushd("--heartbeat", "5", "--poll-timeout", "30")
    st, h, page = E.http(pd.port, "GET", "/")
    tap.ok(st == 200 and h.get("content-type", "").startswith("text/html"),
           "GET / serves an HTML page", "%d %r" % (st, h))
    ext = re.findall(rb'(?:src|href)\s*=\s*["\']?(?:https?:)?//[^"\'\s>]+', page)
    ext = [u for u in ext if b"127.0.0.1" not in u and b"localhost" not in u]
    tap.ok(not ext, "demo page references no external asset", ext[:5])

    profile = tempfile.mkdtemp(prefix="e2e-chromium-")
    log = open(os.path.join(pd.dir, "chromium.log"), "wb")
    chrome, dport = start_chromium(profile, log)
    try:
        st, _, targets = E.http_json(dport, "GET", "/json/list", timeout=30)
        page_t = [t for t in targets if t.get("type") == "page"][0]

        async def drive():
            async with websockets.connect(page_t["webSocketDebuggerUrl"], max_size=2**24,
                                          ping_interval=None, open_timeout=60) as ws:
                cdp = Cdp(ws)
                await cdp.call("Runtime.enable")
                await cdp.call("Network.enable")
                await cdp.call("Page.navigate", url="http://127.0.0.1:%d/" % pd.port)
                deadline = time.monotonic() + 90
                base = "http://127.0.0.1:%d/" % pd.port
                while not (await cdp.eval("document.readyState + '|' + location.href") or
                           "").startswith("complete|" + base):
                    if time.monotonic() > deadline:
                        raise RuntimeError("page did not load in 90 s")
                    await asyncio.sleep(0.5)
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
                want = {"longpoll": 1, "sse": 1, "websocket": 1}
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
                tap.ok(chan is not None, "page subscribes with all three transports (channel %s)"
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
                    lib = await cdp.eval("document.getElementById('log-client').innerText") or ""
                    lib_state = await cdp.eval(
                        "document.getElementById('state-client').innerText") or ""
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
        stop_chromium(chrome)
        log.close()
        shutil.rmtree(profile, ignore_errors=True)
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")


E.run_main(main)
