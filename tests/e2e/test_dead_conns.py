#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: dead and stalled connections do not hold slots (issue 9,
item 5): long-poll and SSE subscribers that reset their connection while
suspended are gone at once (RDHUP/HUP on the socket), not after
--poll-timeout or the next heartbeat; a WebSocket that answers no ping for
--ping-misses heartbeats is closed (1008 "no pong") while one that answers
stays; --max-conns is clamped to RLIMIT_NOFILE."""

import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402

N = 50


def reset(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def main(tap):
    E.require()
    pd = E.Pushd("--poll-timeout", "120", "--heartbeat", "120")
    ch = E.unique_channel("dead")
    lps = []
    for _ in range(N):
        s = E.connect(pd.port)
        s.sendall(E.request_bytes("GET", "/sub/%s" % ch, port=pd.port))
        lps.append(s)
    sses = [E.SseClient(pd.port, "/sub/" + ch) for _ in range(N)]
    for s in sses:
        s.head(20)
    seen = pd.wait_subscribers(ch, {"longpoll": N, "sse": N}, timeout=60)
    tap.ok(seen.get("longpoll") == N and seen.get("sse") == N,
           "%d long-poll and %d SSE subscribers waiting" % (N, N), seen)
    t0 = time.monotonic()
    for s in lps:
        reset(s)
    for s in sses:
        reset(s.sock)
    gone = False
    while time.monotonic() - t0 < 20 and not gone:
        sub = pd.subscribers(ch)
        gone = sub.get("longpoll", -1) == 0 and sub.get("sse", -1) == 0
        if not gone:
            time.sleep(0.2)
    took = time.monotonic() - t0
    print("# figure: %d long-poll + %d SSE subscribers reset while suspended: "
          "all gone after %.1f s (--poll-timeout 120, --heartbeat 120)" % (N, N, took), flush=True)
    tap.ok(gone and took < 10, "all gone within 10 s of the resets (%.1f s)" % took,
           pd.subscribers(ch))
    st = E.http(pd.port, "GET", "/stats")[0]
    tap.eq(200, st, "pushd still answers")
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")

    # WebSocket: pings every second, closed after 2 unanswered.
    pd = E.Pushd("--heartbeat", "1", "--ping-misses", "2")
    mute = E.RawWs(pd.port, "/sub/" + ch, timeout=20)
    good = E.RawWs(pd.port, "/sub/" + ch, timeout=20)
    t0 = time.monotonic()
    code = None
    pings = 0
    alive = True
    while time.monotonic() - t0 < 20 and code is None:
        try:
            f = mute.recv_frame(0.5)
        except socket.timeout:
            f = False
        if f is None:
            break
        if f and f[2] == E.OP_PING:
            pings += 1
        if f and f[2] == E.OP_CLOSE:
            code = struct.unpack("!H", f[3][:2])[0] if len(f[3]) >= 2 else 1005
        try:
            good.recv(0.05)  # answers pings
        except socket.timeout:
            pass
        except OSError:
            alive = False
    took = time.monotonic() - t0
    tap.ok(code == 1008, "a WebSocket that answers no ping is closed with 1008 (after %d pings, "
           "%.1f s)" % (pings, took), code)
    try:
        good.send(E.OP_PING, b"still")
        while True:
            m = good.recv(3)
            if m is None:
                alive = False
            break
    except socket.timeout:
        pass
    except OSError:
        alive = False
    tap.ok(alive and good.close_code is None, "one that answers stays open")
    mute.close()
    good.close()
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")

    # A WebSocket behind a backlog reaches pushd's pings only after the data
    # before them: while it takes the data it is slow, not dead, and must not
    # be closed for the pings it has not reached yet (a review feared it was).
    pd = E.Pushd("--heartbeat", "1", "--ping-misses", "2", "--max-queue", str(64 << 20))
    bch = E.unique_channel("backlog")
    dev = E.Device()
    n_big, pad = 150, "b" * 16000
    for i in range(n_big):
        dev.publish(bch, "n=%d %s" % (i, pad))
    # a resume: the whole backlog is queued before the first ping
    slow = E.RawWs(pd.port, "/sub/%s?since=oldest" % bch, timeout=30, rcvbuf=16384)
    got, t0 = 0, time.monotonic()
    while got < n_big and time.monotonic() - t0 < 120:
        m = slow.recv(10)
        if m is None:
            break
        if m[0] == E.OP_TEXT and b'"n=' in m[1]:
            got += 1
        time.sleep(0.05)  # ~300 KB/s: the backlog takes several heartbeats
    tap.ok(got == n_big, "a WebSocket draining a %d KB backlog for %.1f s at --heartbeat 1 "
           "--ping-misses 2 gets all %d messages (got %d, close %r)"
           % (n_big * 16, time.monotonic() - t0, n_big, got, slow.close_code))
    slow.close()
    tap.eq(0, pd.stop(), "pushd exits 0 on SIGTERM")

    # --max-conns beyond RLIMIT_NOFILE is clamped, and says so.
    port = E.free_port()
    p = subprocess.Popen(["prlimit", "--nofile=256:256", E.PUSHD, "--listen", "127.0.0.1:%d" % port,
                          "--device", E.DEVICE, "--max-conns", "60000"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ok = False
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not ok and p.poll() is None:
        try:
            ok = E.http(port, "GET", "/stats", timeout=2)[0] == 200
        except OSError:
            time.sleep(0.2)
    p.terminate()
    out = p.communicate(timeout=20)[0].decode("utf-8", "replace")
    tap.ok(ok and "--max-conns 60000 clamped to 192" in out,
           "under RLIMIT_NOFILE 256, --max-conns 60000 is clamped to 192 and pushd serves", out)


E.run_main(main)
