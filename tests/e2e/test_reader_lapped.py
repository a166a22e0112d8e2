#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: pushd's device reader, lapped by the writer, reports the
exact loss, through the mapping (--reader mmap) and read() (--reader read)
alike.  With a 64 KiB ring: pushd is stopped (SIGSTOP) once it has read
message M, more than a ring of messages is published, and it is continued;
an SSE and a WebSocket subscriber then get one gap object
{"first_id": M+1, "next_id": the oldest retained id, "lost": the
difference}, then every retained message in order, and /stats counts one
gap read.  Then a writer publishes as fast as it can while pushd reads:
every id from the first to the last is delivered or inside a gap, once.
--reader mmap on a device without a mapping (/dev/null) and a bad
--reader value are refused with a clear message.

vm-params: ring_size=65536 max_msg_size=4096 devices=2
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402


def wait_read(pd, last, secs=30):
    """Wait until pushd's hub has read id last."""
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        if pd.stats().get("last_id", 0) >= last:
            return True
        time.sleep(0.05)
    return False


def sse_items(sse, n, timeout=30):
    out = []
    for ev in sse.events(n, timeout):
        try:
            out.append(json.loads(ev["data"]))
        except (KeyError, ValueError):
            out.append(ev)
    return out


def lapped(tap, reader, dev):
    pd = E.Pushd("--reader", reader, "-v", "--heartbeat", "60")
    log = pd.tail() if hasattr(pd, "tail") else ""
    tap.eq(reader == "mmap", "through its mapping" in log,
           "%s: the hub reads the device %s" % (reader, "through its mapping" if reader == "mmap"
                                                else "with read()"))
    ch = E.unique_channel("lap" + reader)
    sse = E.SseClient(pd.port, "/sub/" + ch, timeout=60)
    ws = E.RawWs(pd.port, "/sub/" + ch, timeout=60)
    tap.eq(200, sse.head(20)[0], "%s: SSE subscribed" % reader)
    deadline = time.monotonic() + 20
    while pd.subscribers(ch).get("websocket", 0) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    first = dev.publish_id(ch, "before")
    got = [sse_items(sse, 1), ws.json_messages(1, 30)]
    tap.ok(all(g and g[0].get("id") == first for g in got), "%s: message %d delivered" % (reader, first),
           got)
    gaps0 = pd.stats().get("gaps_in")
    tap.ok(wait_read(pd, first), "%s: the hub read it" % reader)

    pd.signal(signal.SIGSTOP)
    # kill() returns before the hub thread stops: it could read on meanwhile
    tap.ok(pd.stopped(), "%s: pushd stopped (every thread)" % reader)
    ids = []
    try:
        info = dev.info()
        while dev.info()["oldest_id"] <= first + 5:
            ids.append(dev.publish_id(ch, "x" * 1000))
            if len(ids) > 10 * info["ring_size"] // 1000:
                break
        info = dev.info()
    finally:
        pd.signal(signal.SIGCONT)
    oldest, nxt = info["oldest_id"], info["next_id"]
    tap.ok(oldest > first + 1, "%s: while it was stopped, %d messages lapped it (oldest retained %d)"
           % (reader, len(ids), oldest))
    want = [{"gap": (first + 1, oldest, oldest - first - 1)}] + list(range(oldest, nxt))

    def shape(items):
        out = []
        for it in items:
            if it.get("type") == "gap":
                out.append({"gap": (it.get("first_id"), it.get("next_id"), it.get("lost"))})
            else:
                out.append(it.get("id"))
        return out

    n = len(want)
    got_sse = shape(sse_items(sse, n))
    got_ws = shape(ws.json_messages(n, 30))
    tap.eq(want[:1], got_sse[:1], "%s: SSE: one gap, first_id %d, next_id %d, lost %d exactly"
           % ((reader,) + want[0]["gap"]))
    tap.eq(want[1:], got_sse[1:], "%s: SSE: then the %d retained messages in order" % (reader, n - 1))
    tap.eq(want, got_ws, "%s: WebSocket: the same gap and messages" % reader)
    tap.eq(gaps0 + 1, pd.stats().get("gaps_in"), "%s: /stats: one gap record read" % reader)

    # A writer as fast as it can go, pushd reading meanwhile.
    total = 3000
    start = dev.info()["next_id"]
    done = []

    def writer():
        w = E.Device()
        for i in range(total):
            w.publish_id(ch, "y" * (40 + i % 200))
        w.close()
        done.append(True)

    th = threading.Thread(target=writer)
    th.start()
    seen, lost_ids, bad = [], set(), []
    deadline = time.monotonic() + 120
    end = start + total - 1
    while time.monotonic() < deadline:
        items = ws.json_messages(1, 30)
        if not items:
            break
        it = items[0]
        if it.get("type") == "gap":
            rng = set(range(it["first_id"], it["next_id"]))
            if it.get("lost") != len(rng) or rng & lost_ids or rng & set(seen):
                bad.append(it)
            lost_ids |= rng
        else:
            if seen and it.get("id") <= seen[-1]:
                bad.append(it)
            seen.append(it.get("id"))
        if (seen and seen[-1] >= end) or (lost_ids and max(lost_ids) >= end):
            break
    th.join(60)
    covered = set(seen) | lost_ids
    tap.ok(not bad and covered >= set(range(start, end + 1)) and
           not (set(seen) & lost_ids),
           "%s: a fast writer: ids %d..%d each delivered or in a gap, once (%d delivered, %d lost)"
           % (reader, start, end, len(seen), len(lost_ids)), bad[:3] or sorted(set(range(start, end + 1)) - covered)[:10])
    sse.close()
    ws.close()
    tap.eq(0, pd.stop(), "%s: pushd exits 0 on SIGTERM" % reader)


def refused(tap):
    """--reader mmap on a device without a mapping, and a bad --reader: clear errors."""
    for args, code, what in ((["--reader", "mmap", "--device", "/dev/null"], 1, "cannot map /dev/null"),
                             (["--reader", "mapped"], 2, "expected auto, mmap or read")):
        p = subprocess.run([E.PUSHD, "--listen", "127.0.0.1:%d" % E.free_port()] + args,
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
        err = p.stderr.decode("utf-8", "replace")
        tap.ok(p.returncode == code and what in err, "%s: exit %d, '%s'" % (" ".join(args), code, what),
               "exit %d: %s" % (p.returncode, err[-300:]))


def main(tap):
    E.require()
    refused(tap)
    dev = E.Device()
    if dev.info()["ring_size"] > 1 << 20:
        E.skip_all("needs a small ring (vm-params: ring_size=65536)")
    for reader in ("mmap", "read"):
        lapped(tap, reader, dev)
    dev.close()


E.run_main(main)
