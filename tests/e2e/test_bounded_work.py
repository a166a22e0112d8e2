#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: bounded work per request and an honest health (issue 9,
item 7): GET /healthz; --max-channels caps the channel table (a subscriber
naming one more gets 503, nothing else changes); /stats stays cheap with
many subscribers; a device read error is logged once and turns /healthz
unhealthy; a device that ends makes pushd exit non-zero, at once."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402


def run_on(device, port, secs):
    """pushd on a fake device for up to secs seconds: (exit status or None, log, healthz)."""
    log = os.path.join(E.tempfile.mkdtemp(prefix="e2e-dev-"), "log")
    with open(log, "wb") as f:
        p = subprocess.Popen([E.PUSHD, "--listen", "127.0.0.1:%d" % port, "--device", device],
                             stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    health = None
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline and p.poll() is None:
        try:
            health = E.http_json(port, "GET", "/healthz", timeout=2)
            if health[0] and time.monotonic() > deadline - secs / 2:
                break
        except OSError:
            pass
        time.sleep(0.2)
    rc = p.poll()
    if rc is None:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)
    with open(log, "rb") as f:
        return rc, f.read().decode("utf-8", "replace"), health


def main(tap):
    E.require()
    pd = E.Pushd("--max-channels", "20", "--heartbeat", "60")
    st, _, body = E.http_json(pd.port, "GET", "/healthz")
    tap.ok(st == 200 and isinstance(body, dict) and body.get("healthy") is True,
           "GET /healthz: 200, healthy", (st, body))
    stats0 = E.http(pd.port, "GET", "/stats")[2]

    base = E.unique_channel("cap")
    names = ["%s.%d" % (base, i) for i in range(20)]
    subs = [E.SseClient(pd.port, "/sub/" + n) for n in names]
    heads = [s.head(20)[0] for s in subs]
    tap.ok(all(h == 200 for h in heads), "20 channels under --max-channels 20", heads)
    st, _, body = E.http(pd.port, "GET", "/sub/%s.extra" % base, timeout=10)
    tap.ok(st == 503 and b"max-channels" in body,
           "a 21st channel: 503 naming --max-channels", (st, body))
    st, _, body = E.http(pd.port, "GET", "/sub/%s,%s.extra2?since=0" % (names[0], base), timeout=10)
    tap.ok(st == 503, "a list with one new channel too many: 503, nothing subscribed", (st, body))
    more = E.SseClient(pd.port, "/sub/" + names[3])
    tap.eq(200, more.head(20)[0], "an existing channel still takes subscribers")
    dev = E.Device()
    mid = dev.publish_id(names[3], "hello")
    ev = more.next_event(20)
    tap.ok(ev is not None and '"id":%d' % mid in (ev.get("data") or ""),
           "and it is delivered", ev)
    for s in subs[:5]:
        s.close()
    ok = False
    deadline = time.monotonic() + 20
    extra = None
    while time.monotonic() < deadline and not ok:
        extra = E.SseClient(pd.port, "/sub/%s.extra" % base)
        ok = extra.head(10)[0] == 200
        if not ok:
            extra.close()
            time.sleep(0.2)
    tap.ok(ok, "room again once subscribers of 5 channels left")
    # /stats is bounded: it sums counters and lists no channel or client, so
    # some twenty subscribers on 21 channels make it no longer than none did (a few
    # more digits at most).  A timing check would be a benchmark, not a test.
    st, _, stats1 = E.http(pd.port, "GET", "/stats")
    tap.ok(st == 200 and abs(len(stats1) - len(stats0)) < 64,
           "/stats does not grow with channels and subscribers (%d -> %d bytes)"
           % (len(stats0), len(stats1)), stats1[:300])
    for s in subs[5:] + [more] + ([extra] if extra else []):
        s.close()
    dev.close()
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")

    # A device whose reads fail (EIO): logged once, /healthz 503, pushd stays up.
    rc, log, health = run_on("/proc/self/mem", E.free_port(), 6)
    errs = [ln for ln in log.splitlines() if "read /proc/self/mem" in ln]
    tap.ok(rc is None, "a failing device read: pushd keeps running", log[-500:])
    tap.eq(1, len(errs), "the read error is logged once in 6 s, not every 100 ms")
    tap.ok(health is not None and health[0] == 503 and isinstance(health[2], dict)
           and health[2].get("healthy") is False, "/healthz: 503, unhealthy", health)

    # A device that ends (read returns 0): pushd exits non-zero by itself.
    t0 = time.monotonic()
    rc, log, _ = run_on("/dev/null", E.free_port(), 20)
    took = time.monotonic() - t0
    tap.ok(rc is not None and rc != 0 and took < 15,
           "a device that is gone: pushd exits non-zero (status %s after %.1f s)" % (rc, took),
           log[-500:])
    tap.ok("gone" in log and log.count("read /dev/null") == 1, "and says why, once", log[-500:])


E.run_main(main)
