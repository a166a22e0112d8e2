#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: pushd on the host with a FIFO as its device, as
tools/bench/hostprof runs it: records written into the FIFO reach long-poll
clients, and the answers cost no ioctl each.  Every long-poll answer
carries the device's epoch; a FIFO has none (PUSH_IOC_INFO fails with
ENOTTY), and pushd used to ask again for every answer (0.87 failed ioctls
per delivery in hostprof's profile).  With strace attached while 20
long-polls are answered: at most one ioctl.

A keep-alive client's long-polls share one hang-up watch: pushd added its
socket to the hub's epoll set for every wait and deleted it after, two
epoll_ctl()s per delivery; 20 waits on one connection now add it once.
The watch still catches a client that leaves while its second wait is
pending, and it steps aside when the same connection turns into an SSE
stream or a WebSocket (both put the socket in the same epoll set).
pushd runs under ASan and UBSan (build/san/bin/pushd) where make built it.
Host only: needs build/bin/pushd and strace (skips without)."""

import base64
import http.client
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# pushd under ASan/UBSan (make builds it with the tests), else the plain one
PUSHD = os.environ.get("PUSHD") or next(
    (p for p in (os.path.join(TOP, "build", "san", "bin", "pushd"),
                 os.path.join(TOP, "build", "bin", "pushd")) if os.access(p, os.X_OK)),
    os.path.join(TOP, "build", "bin", "pushd"))
HDR = struct.Struct("<QQIIHBBI")  # struct push_record (docs/ABI.txt)
N = 20
n_tap = failed = 0


def tap(cond, name, diag=None):
    global n_tap, failed
    n_tap += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n_tap, name), flush=True)
    if not cond:
        failed += 1
        for ln in str(diag).splitlines()[-20:]:
            print("#   " + ln, flush=True)


def record(rid, chan, data):
    size = (HDR.size + len(chan) + len(data) + 7) & ~7
    pad = size - HDR.size - len(chan) - len(data)
    return HDR.pack(rid, time.time_ns(), size, len(data), 1, len(chan), 0, 0) + chan + data + \
        b"\0" * pad


def get(port, path, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def stats(port):
    return json.loads(get(port, "/stats")[1])


def wait_for(cond, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


class Raw:
    """One keep-alive connection, requests written and answers read by hand."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.host = "127.0.0.1:%d" % port
        self.buf = b""

    def send(self, path, headers=""):
        self.s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (path, self.host, headers))
                       .encode())

    def fill(self):
        b = self.s.recv(65536)
        if not b:
            raise EOFError("connection closed")
        self.buf += b

    def until(self, sep):
        while sep not in self.buf:
            self.fill()
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def take(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def has(self, needle, timeout=5):
        """Reads until @needle has come, the connection ends or @timeout."""
        end = time.monotonic() + timeout
        try:
            while needle not in self.buf and time.monotonic() < end:
                self.fill()
        except (EOFError, OSError):
            pass
        return needle in self.buf

    def answer(self):
        head = self.until(b"\r\n\r\n").decode()
        n = 0
        for ln in head.split("\r\n")[1:]:
            k, _, v = ln.partition(":")
            if k.strip().lower() == "content-length":
                n = int(v)
        return head.split(" ")[1], self.take(n)

    def close(self):
        self.s.close()


def long_poll_on(raw, wfd, rid, chan):
    """A long-poll that waits, then gets record @rid."""
    raw.send("/sub/%s?since=%d" % (chan, rid - 1))
    time.sleep(0.15)
    os.write(wfd, record(rid, chan.encode(), b"m%d" % rid))
    status, body = raw.answer()
    return [m["id"] for m in json.loads(body)["messages"]] if status == "200" else [status]


def turn_into(port, wfd, rid, chan, transport, headers, status):
    """A long-poll, then a @transport request on the same connection: it gets
    the next message, and its hang-up is seen at once (its own watch took
    the socket from long-poll's).  Returns the last id written."""
    raw = Raw(port)
    rid += 1
    first = long_poll_on(raw, wfd, rid, chan)
    raw.send("/sub/%s?since=%d" % (chan, rid), headers)
    head = raw.until(b"\r\n\r\n").decode()
    conns = lambda: stats(port)["transports"][transport]["connections"]  # noqa: E731
    ok = wait_for(lambda: conns() == 1, 5)
    rid += 1
    os.write(wfd, record(rid, chan.encode(), b"m%d" % rid))
    tap(first == [rid - 1] and head.startswith("HTTP/1.1 " + status) and ok and
        raw.has(b"m%d" % rid),
        "long-poll then %s on one connection: it gets the next message" % transport,
        (first, head, raw.buf))
    raw.close()
    tap(wait_for(lambda: conns() == 0, 5), "and its hang-up is seen at once", stats(port))
    return rid


def watch_checks(port, pid, wfd, d):
    rid = N
    # 20 waits on one connection: its socket goes into the hub's epoll set once
    out = os.path.join(d, "epoll.txt")
    st = subprocess.Popen(["strace", "-f", "-o", out, "-e", "trace=epoll_ctl", "-p", str(pid)],
                          stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    raw = Raw(port)
    got = []
    for _ in range(N):
        rid += 1
        got += long_poll_on(raw, wfd, rid, "kw")
    time.sleep(0.3)
    st.send_signal(signal.SIGINT)
    st.wait(20)
    tap(got == list(range(N + 1, rid + 1)), "%d waiting long-polls on one connection answered" % N,
        got)
    lines = open(out).read().splitlines()
    adds = [ln for ln in lines if "EPOLL_CTL_ADD" in ln and "EPOLLRDHUP" in ln]
    dels = [ln for ln in lines if "EPOLL_CTL_DEL" in ln]
    tap(len(adds) == 1, "%d hang-up watches added for %d waits on one connection (one)" %
        (len(adds), N), "\n".join(lines))
    tap(len(dels) <= N, "%d epoll_ctl DEL for %d waits (libmicrohttpd's own at most)" %
        (len(dels), N), "\n".join(lines))

    # the client leaves during its next wait: freed at once, not after --poll-timeout
    gone = stats(port)["peer_gone"]
    raw.send("/sub/kw?since=%d" % rid)
    ok = wait_for(lambda: stats(port)["transports"]["longpoll"]["connections"] == 1, 5)
    raw.close()
    left = wait_for(lambda: stats(port)["transports"]["longpoll"]["connections"] == 0, 5)
    tap(ok and left and stats(port)["peer_gone"] == gone + 1,
        "a client that leaves during its second wait is unsubscribed at once", stats(port))

    # long-poll, then an SSE stream, then a WebSocket, each on a connection of its own
    rid = turn_into(port, wfd, rid, "ks", "sse", "Accept: text/event-stream\r\n", "200")
    key = base64.b64encode(os.urandom(16)).decode()
    rid = turn_into(port, wfd, rid, "kx", "websocket",
                    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                    "Sec-WebSocket-Version: 13\r\n" % key, "101")
    return rid


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def main():
    if not os.access(PUSHD, os.X_OK):
        print("1..0 # SKIP no %s (run make)" % PUSHD)
        return 4
    if not shutil.which("strace"):
        print("1..0 # SKIP no strace")
        return 4
    d = tempfile.mkdtemp(prefix="fifo-dev-")
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    wfd = os.open(fifo, os.O_RDWR)	# a writer that stays: EOF would be a vanished device
    port = free_port()
    log = open(os.path.join(d, "pushd.log"), "wb")
    san = os.path.join(d, "san")
    env = dict(os.environ, ASAN_OPTIONS="log_path=%s:abort_on_error=0" % san,
               UBSAN_OPTIONS="log_path=%s:print_stacktrace=1" % san)
    pd = subprocess.Popen([PUSHD, "--device", fifo, "--reader", "read",
                           "--listen", "127.0.0.1:%d" % port, "--heartbeat", "600"],
                          stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        up = False
        for _ in range(100):
            try:
                up = get(port, "/healthz", 2)[0] == 200
            except OSError:
                pass
            if up:
                break
            time.sleep(0.1)
        tap(up, "pushd serves with a FIFO as its device")
        if not up:
            return 1
        out = os.path.join(d, "strace.txt")
        st = subprocess.Popen(["strace", "-f", "-c", "-o", out, "-e", "trace=ioctl",
                               "-p", str(pd.pid)], stderr=subprocess.DEVNULL)
        time.sleep(1.5)
        got = []
        for i in range(1, N + 1):
            os.write(wfd, record(i, b"lp", b"m%d" % i))
            status, body = get(port, "/sub/lp?since=%d" % (i - 1))
            msgs = json.loads(body).get("messages", []) if status == 200 else []
            got += [m["id"] for m in msgs]
        time.sleep(0.3)
        st.send_signal(signal.SIGINT)
        st.wait(20)
        tap(got == list(range(1, N + 1)), "%d long-polls answered with ids 1..%d" % (N, N), got)
        text = open(out).read()
        calls = 0
        for ln in text.splitlines():
            f = ln.split()
            if f and f[-1] == "ioctl" and len(f) >= 5:
                calls = int(f[3])
        tap(calls <= 1, "%d ioctl for %d answers: the missing epoch is asked for once" % (calls, N),
            text)
        rid = watch_checks(port, pd.pid, wfd, d) + 1
        # SIGTERM with a keep-alive connection's second long-poll waiting:
        # its watch too is freed (the sanitizer's leak check below)
        raw = Raw(port)
        first = long_poll_on(raw, wfd, rid, "kt")
        raw.send("/sub/kt?since=%d" % rid)
        waiting = wait_for(lambda: stats(port)["transports"]["longpoll"]["connections"] == 1, 5)
        tap(first == [rid] and waiting, "a second long-poll waits at SIGTERM", stats(port))
        pd.send_signal(signal.SIGTERM)
        rc = pd.wait(20)
        reports = "".join(open(os.path.join(d, f), errors="replace").read()
                          for f in sorted(os.listdir(d)) if f.startswith("san."))
        tap(rc == 0, "pushd exits 0 on SIGTERM (%s)" % os.path.relpath(PUSHD, TOP), rc)
        tap(not reports, "no AddressSanitizer or UBSan report", reports)
    finally:
        if pd.poll() is None:
            pd.kill()
            pd.wait()
        os.close(wfd)
        shutil.rmtree(d, ignore_errors=True)
    print("1..%d" % n_tap)
    return 1 if failed else 0


sys.exit(main())
