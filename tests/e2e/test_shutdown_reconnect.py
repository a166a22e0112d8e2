#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: SIGTERM while clients reconnect.  20 long-poll clients poll in
a loop on keep-alive connections (re-polling at once after every answer,
reconnecting at once after every error) while messages are published
(until just before the SIGTERM), a
WebSocket is open, and a second WebSocket has sent half its handshake: it
completes the handshake after the SIGTERM, so it arrives mid-shutdown.
pushd must exit 0 every time (it used to abort, 134, in about one run of
two: a poll that came back after the cut was suspended when libmicrohttpd
was stopped), within 15 s; the late WebSocket gets close 1001 or no
upgrade, never a hang.  Repeated RUNS times."""

import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

RUNS = 6
POLLERS = 20


def poller(port, ch, stop, counts, k):
    """Long-poll in a loop; keep-alive; reconnect at once on any error."""
    since = None
    sock = rd = None
    while not stop.is_set():
        try:
            if sock is None:
                sock = E.connect(port, 5)
                rd = E.Reader(sock)
            path = "/sub/%s%s" % (ch, "" if since is None else "?since=%d" % since)
            sock.sendall(E.request_bytes("GET", path, {}, port=port))
            deadline = time.monotonic() + 10
            st, h = E.read_head(rd, deadline)
            body = E.BodyReader(rd, h).read_all(deadline)
            counts[k] += 1
            if st == 200:
                try:
                    since = int(body.split(b'"next":')[1].rstrip(b"}\n "))
                except (IndexError, ValueError):
                    pass
            if "close" in h.get("connection", "").lower():
                sock.close()
                sock = None
        except (OSError, EOFError, ValueError):
            if sock is not None:
                sock.close()
            sock = None
            if stop.is_set():
                break
            time.sleep(0.005)	# refused: the listener is gone; bounded by stop
    if sock is not None:
        sock.close()


def publisher(ch, stop):
    dev = E.Device()
    try:
        n = 0
        while not stop.is_set():
            dev.publish(ch, "seq=%d" % n)
            n += 1
            time.sleep(0.002)
    finally:
        dev.close()


def one_run(tap, run):
    pd = E.Pushd("--heartbeat", "30", "--poll-timeout", "30")
    ch = E.unique_channel("term%d" % run)
    stop = threading.Event()
    counts = [0] * POLLERS
    threads = [threading.Thread(target=poller, args=(pd.port, ch, stop, counts, k))
               for k in range(POLLERS)]
    pub_stop = threading.Event()
    pub = threading.Thread(target=publisher, args=(ch, pub_stop))
    threads.append(pub)
    for t in threads:
        t.start()
    ws = E.RawWs(pd.port, "/sub/" + ch)
    # half a handshake now, the rest after SIGTERM: a WebSocket arriving mid-shutdown
    late = E.connect(pd.port, 10)
    late.sendall(("GET /sub/%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                  % (ch, pd.port)).encode())
    try:
        pd.wait_subscribers(ch, {"longpoll": POLLERS // 2, "websocket": 1})
        # every poller has had answers, and is polling again
        deadline = time.monotonic() + 30
        while min(counts) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        # the publisher stops: polls that come back after the cut wait, suspended
        pub_stop.set()
        pub.join(30)
        polls = sum(counts)
        pd.signal(signal.SIGTERM)
        late.sendall(b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     b"Sec-WebSocket-Version: 13\r\n\r\n")
        rc = pd.wait(15)
        # the late WebSocket: a 1001 close after the 101, or no upgrade at all
        late_rd, late_out = E.Reader(late), "?"
        try:
            st, _ = E.read_head(late_rd, time.monotonic() + 10)
            if st != 101:
                late_out = "status %d" % st
            else:
                data, deadline = late_rd.buf, time.monotonic() + 10
                late_rd.buf = b""
                try:
                    while late_rd.fill(deadline):
                        data += late_rd.buf
                        late_rd.buf = b""
                except (ConnectionResetError, socket.timeout):
                    pass
                codes = [int.from_bytes(p[:2], "big") for _, op, p in E.ws_frames(data)
                         if op == E.OP_CLOSE and len(p) >= 2]
                late_out = "101 then close %s" % (codes[0] if codes else None)
        except (EOFError, ConnectionResetError):
            late_out = "closed without an answer"
        except (socket.timeout, ValueError) as e:
            late_out = "no end: %r" % e
        ws_code, _, _ = ws.wait_close(10)
    finally:
        stop.set()
        pub_stop.set()
        for t in threads:
            t.join(30)
        late.close()
        ws.close()
    if rc is None:
        pd.stop()
    elif rc != 0:
        pd.report(rc)
    pd.kill()
    tap.ok(rc == 0, "run %d: pushd exits 0 after SIGTERM with %d pollers reconnecting "
           "(%d polls before it; exit %s)" % (run, POLLERS, polls, rc))
    tap.ok(late_out in ("101 then close 1001", "closed without an answer") or
           late_out.startswith("status 503"),
           "run %d: WebSocket arriving mid-shutdown: %s" % (run, late_out))
    tap.eq(1001, ws_code, "run %d: open WebSocket gets close 1001" % run)


def main(tap):
    E.require()
    for run in range(RUNS):
        one_run(tap, run)


E.run_main(main)
