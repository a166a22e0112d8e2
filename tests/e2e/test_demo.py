#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# test-timeout: 420
# vm-params: boot=browser
"""Description: the demo as a newcomer meets it (make demo), in headless
Chromium.  pushd runs as make demo runs it (every address, a per-run
--token-file) and the page is loaded from the VM's own network address
(not loopback, as through make demo's port forward) with the token in the
address's fragment.  Its publish box must publish (201; it was 401/403)
and the message reach the three panes.  pushd restarts: messages published
while it is down reach every pane exactly once (the SSE pane used to start
a fresh EventSource after "close" and lose them); after a gap and a
reconnect the WebSocket pane resumes from the gap's next_id (it used to
resume from before the gap and get it again).  Last, tools/demo-guest (the
VM side of make demo) takes over: pushd with the token and push-probe
attached; the cost panes and the CPU split line fill from the first
message published from the page."""

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402
import browserlib as B  # noqa: E402

GUEST = os.path.join(E.ROOT, "tools", "demo-guest")
PROBE = os.path.join(E.ROOT, "build", "bin", "push-probe")
ONE_CPU = os.path.join(E.ROOT, "tools", "vm", "one-cpu")
PANES = ("longpoll", "sse", "websocket")

STATE_JS = r"""JSON.stringify({
  logs: Object.fromEntries(%s.map(n => [n, Array.from(document.getElementById("log-" + n).children)
                                         .map(li => li.textContent).reverse()])),
  states: Object.fromEntries(%s.map(n => [n, document.getElementById("state-" + n).textContent])),
  probes: Object.fromEntries(%s.map(n => [n, document.getElementById("probes-" + n).innerText])),
  pub: document.getElementById("pubresult").textContent,
  split: (document.getElementById("cpusplit") || {}).textContent || ""})""" % ((json.dumps(PANES),) * 3)


def messages(log):
    """The data of the "#ID data" lines of a pane, in order; gaps as "GAP"."""
    out = []
    for line in log:
        if line.startswith("gap:"):
            out.append("GAP")
        elif line.startswith("#"):
            out.append(line.split(" ", 1)[1] if " " in line else "")
    return out


async def wait_state(cdp, cond, what, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        st = json.loads(await cdp.eval(STATE_JS))
        if cond(st):
            return st
        if time.monotonic() > deadline:
            raise RuntimeError("no %s in %d s; page state %r" % (what, timeout, st))
        await asyncio.sleep(0.3)


T0 = time.monotonic()


def mark(tap, what):
    tap.diag("%5.1f s: %s" % (time.monotonic() - T0, what))


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def main(tap):
    E.require(B.CHROMIUM, PROBE)
    addr = E.own_address()
    if not addr:
        E.skip_all("no non-loopback address in the VM (tools/vm/run --net)")
    tmp = tempfile.mkdtemp(prefix="e2e-demo-")
    tokf = os.path.join(tmp, "token")
    token = os.urandom(16).hex()
    with open(tokf, "w") as f:
        f.write(token + "\n")
    port = E.free_port()
    ch = E.unique_channel("demo")
    dev = E.Device()
    pds, guest = [], {}
    try:
        url = "http://%s:%d/?channel=%s#token=%s" % (addr, port, ch, token)
        asyncio.run(drive(tap, url, port, tokf, token, ch, dev, pds, guest))
    finally:
        if guest.get("pid") and pid_alive(guest["pid"]):
            os.kill(guest["pid"], signal.SIGKILL)
        for pd in pds:
            pd.kill()
        if guest:
            subprocess.run([ONE_CPU, PROBE, "detach"], capture_output=True, timeout=120)
            mark(tap, "probes detached")
        dev.close()


def restart(port, tokf, pds):
    """pushd as make demo runs it: on every address, with the token."""
    pd = E.Pushd("--listen", "0.0.0.0:%d" % port, "--token-file", tokf, port=port)
    pds.append(pd)
    return pd


async def publish_box(cdp, text):
    await cdp.eval("(() => { const f = document.getElementById('publish');"
                   " document.getElementById('pubresult').textContent = '';"
                   " f.elements.data.value = %s; f.requestSubmit(); })()" % json.dumps(text))
    st = await wait_state(cdp, lambda s: s["pub"] != "", "a publish result", 30)
    return st["pub"]


async def wait_last(cdp, tap, text):
    """The page's state once every pane's last message is text (or after 30 s)."""
    try:
        return await wait_state(cdp, lambda s: all(messages(s["logs"][n])[-1:] == [text]
                                                   for n in PANES), text + " in every pane", 30)
    except RuntimeError as e:
        tap.diag(str(e)[:300])
        return json.loads(await cdp.eval(STATE_JS))


async def drive(tap, url, port, tokf, token, ch, dev, pds, guest):
    pd = restart(port, tokf, pds)
    # no proxy detection for an address that is not loopback
    br = B.Browser(["--no-proxy-server"])
    try:
        mark(tap, "chromium up")
        _, cdp = await br.tab(url)
        mark(tap, "page loaded")
        await wait_state(cdp, lambda s: s["states"]["sse"] == "open" and
                         s["states"]["websocket"] == "open" and s["states"]["longpoll"] == "waiting",
                         "three panes subscribed")

        # the publish box, through a non-loopback address, with the token of the fragment
        res = await publish_box(cdp, "m1")
        tap.ok(res.startswith("published #"), "publish box from %s: %s" % (url.split("/")[2], res))
        await wait_state(cdp, lambda s: all("m1" in messages(s["logs"][n]) for n in PANES),
                         "m1 in every pane", 30)
        mark(tap, "m1 in the panes")

        # restart: what was published meanwhile reaches every pane once
        pd.stop()
        dev.publish(ch, "m2")
        dev.publish(ch, "m3")
        pd = restart(port, tokf, pds)
        pd.wait_subscribers(ch, {"sse": 1, "websocket": 1}, timeout=30)
        dev.publish(ch, "m4")
        st = await wait_last(cdp, tap, "m4")
        want = ["m1", "m2", "m3", "m4"]
        for n in PANES:
            tap.eq(want, messages(st["logs"][n]), "%s pane after a restart: every message once" % n)
        mark(tap, "restart checked")

        # a gap while pushd is down: then a reconnect must not bring it back
        pd.stop()
        dev.publish(ch, "m5")
        info = dev.info()
        chunk = min(60000, info["max_msg_size"])
        filler = E.unique_channel("filler")
        for _ in range(info["ring_size"] * 5 // 4 // chunk + 2):
            dev.publish_id(filler, b"f" * chunk)
        pd = restart(port, tokf, pds)
        await wait_state(cdp, lambda s: all("GAP" in messages(s["logs"][n]) for n in PANES),
                         "the gap in every pane", 30)
        pd.wait_subscribers(ch, {"sse": 1, "websocket": 1}, timeout=30)
        # the WebSocket pane reconnects (as after any close) from where it is
        await cdp.eval("current.ws.close(4000, 'test')")
        await wait_state(cdp, lambda s: s["states"]["websocket"] == "open", "WebSocket reopened", 30)
        pd.wait_subscribers(ch, {"websocket": 1}, timeout=30)
        dev.publish(ch, "m6")
        st = await wait_last(cdp, tap, "m6")
        want += ["GAP", "m6"]
        for n in PANES:
            tap.eq(want, messages(st["logs"][n]), "%s pane after a gap and a reconnect: one gap, "
                   "nothing repeated" % n)
        tap.eq(0, pd.stop(), "pushd exits 0")
        mark(tap, "gap checked")

        # make demo's VM side: pushd with the token, probes attached; the page reconnects
        r = subprocess.run([GUEST, "--token-file", tokf, "--port", str(port), "--no-shell"],
                           capture_output=True, timeout=120, start_new_session=True)
        guest["ran"] = True
        out = r.stdout.decode(errors="replace")
        with open("/tmp/pushd.pid") as f:
            guest["pid"] = int(f.read())
        tap.ok(r.returncode == 0 and "#token=" + token in out and "push-probe is attached" in out,
               "demo-guest: pushd up, probes attached, the address printed with #token=",
               out + r.stderr.decode(errors="replace"))
        mark(tap, "demo-guest done")
        E.Pushd.wait_subscribers(pd, ch, {"sse": 1, "websocket": 1}, timeout=60)
        res = await publish_box(cdp, "m7")
        tap.ok(res.startswith("published #"), "publish box, pushd of demo-guest: %s" % res)

        # costs from the first message
        # A pane shows its rows as soon as push-probe reports the transport,
        # with 0 delivered; the split is as old as the page's last /stats
        # poll (every 2 s).  Only a poll that saw m7 on every transport
        # comes after all three connections did their first system calls.
        def delivered(pane):
            m = re.search(r"messages delivered\s+(\d+)", pane)
            return int(m.group(1)) if m else 0

        def filled(s):
            return all(delivered(s["probes"][n]) >= 1 for n in PANES) and "%" in s["split"]
        try:
            st = await wait_state(cdp, filled, "cost panes", 30)
            ok = True
        except RuntimeError as e:
            ok, st = False, {"error": str(e)}
        tap.ok(ok, "cost panes and the CPU split fill from the first message", st)
        if ok:
            tap.diag("CPU split line: " + st["split"])
            pcts = [int(x) for x in re.findall(r"(\d+)% \(", st["split"])]
            tap.ok(len(pcts) == 3 and 98 <= sum(pcts) <= 102 and
                   all(w in st["split"] for w in ("long-poll", "SSE", "WebSocket", "not attributed")),
                   "the CPU split gives each transport's share of the sockets' time (%r) and the "
                   "rest" % pcts, st["split"])
        st = await wait_last(cdp, tap, "m7")
        for n in PANES:
            tap.eq(want + ["m7"], messages(st["logs"][n]), "%s pane, through to demo-guest's pushd" % n)
        os.kill(guest["pid"], signal.SIGTERM)
        deadline = time.monotonic() + 15
        while pid_alive(guest["pid"]) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        tap.ok(not pid_alive(guest["pid"]), "demo-guest's pushd ends on SIGTERM")
    finally:
        await br.close_conns()
        br.stop()


E.run_main(main)
