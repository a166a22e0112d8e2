#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: a stream being closed cannot be held open by trickling
(--close-timeout).

A raw SSE subscriber and a raw WebSocket subscriber, each with a 4 KiB
receive buffer, read 256 bytes every 0.25 s: far slower than the 60 KiB
messages published to them, so pushd cuts them off (--max-queue 65536)
and queues its close event / close frame behind what their sockets
already hold.  They keep trickling, which keeps libmicrohttpd's
inactivity timeout from ever firing and would let them take their
last ~60 KiB, and so hold the connection, for a minute.  pushd must
end each within --close-timeout (3 s) and a tick of slack, before the
client got the close (a RST: what its socket still held is dropped, not
sent on), and /stats counts one close_timeout for the transport."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

CLOSE_S = 3
SLACK_S = 7           # the 1 s tick, a loaded emulator
BIG = 60 * 1024
DEADLINE_S = 120

HEADERS = {
    "sse": {"Accept": "text/event-stream"},
    "websocket": {"Upgrade": "websocket", "Connection": "Upgrade",
                  "Sec-WebSocket-Version": "13",
                  "Sec-WebSocket-Key": "dHJpY2tsaW5nIHJlYWRlcg=="},
}
# What the end of the stream looks like to the client: the SSE close event,
# or a WebSocket close frame (opcode 8, FIN set) with 1008 "slow consumer".
CLOSE_MARK = {"sse": b"event: close", "websocket": b"slow consumer"}


def trickler(port, path, headers):
    """Reads 256 bytes every 0.25 s.  A small MSS keeps pushd's send buffer
    small: on loopback's 64 KiB MSS the kernel would take all that is left
    at once and libmicrohttpd would hold nothing."""
    return E.PacedReader(port, path, headers, chunk=256, pause=0.25, deadline_s=DEADLINE_S,
                         rcvbuf=4096, mss=536)


def one(tap, pd, dev, t):
    ch = E.unique_channel("trickle")
    before = pd.stats()["transports"][t]
    r = trickler(pd.port, "/sub/" + ch, HEADERS[t])
    pd.wait_subscribers(ch, {t: 1}, timeout=60)
    payload = "z" * BIG
    cut_at = None
    for i in range(200):
        dev.publish(ch, "%d %s" % (i, payload))
        if pd.subscribers(ch).get(t, 1) == 0:
            cut_at = time.monotonic()
            break
    tap.ok(cut_at is not None, "%s: the trickling subscriber is cut off as slow (after %d "
           "messages of 60 KiB)" % (t, i + 1))
    if cut_at is None:
        r.sock.close()
        return
    # pushd's end of it: the connection leaves /stats.
    released = None
    limit = cut_at + CLOSE_S + SLACK_S + 30
    while time.monotonic() < limit:
        if pd.stats()["transports"][t]["connections"] == before["connections"]:
            released = time.monotonic()
            break
        time.sleep(0.1)
    got_close = r.seen(CLOSE_MARK[t])
    took = "%.1f s" % (released - cut_at) if released else "not within %d s" % (limit - cut_at)
    tap.ok(released is not None and released - cut_at <= CLOSE_S + SLACK_S,
           "%s: pushd lets go of it %s after the cut (--close-timeout %d)" % (t, took, CLOSE_S))
    tap.ok(not got_close, "%s: while the client, still trickling, had not taken the close "
           "(%d bytes read)" % (t, len(r.data)))
    # The client's end: it reads what its own buffer held, then the RST.
    while time.monotonic() < limit and not r.end:
        time.sleep(0.1)
    tap.ok(r.end and "ConnectionReset" in r.end and not r.seen(CLOSE_MARK[t]),
           "%s: the client's connection is reset, the rest never sent: %s" % (t, r.end))
    after = pd.stats()["transports"][t]
    tap.eq(before["close_timeouts"] + 1, after["close_timeouts"],
           "%s: /stats transports.%s.close_timeouts counts it" % (t, t))
    tap.eq(before["slow_disconnects"] + 1, after["slow_disconnects"],
           "%s: and slow_disconnects counts the cut" % t)
    r.sock.close()
    r.thread.join(5)


def main(tap):
    E.require()
    pd = E.Pushd("--max-queue", "65536", "--heartbeat", "60",
                 "--close-timeout", str(CLOSE_S))
    dev = E.Device()
    for t in ("sse", "websocket"):
        one(tap, pd, dev, t)
    dev.close()
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")


E.run_main(main)
