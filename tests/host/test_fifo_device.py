#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: pushd on the host with a FIFO as its device, as
tools/bench/hostprof runs it: records written into the FIFO reach long-poll
clients, and the answers cost no ioctl each.  Every long-poll answer
carries the device's epoch; a FIFO has none (PUSH_IOC_INFO fails with
ENOTTY), and pushd used to ask again for every answer (0.87 failed ioctls
per delivery in hostprof's profile).  With strace attached while 20
long-polls are answered: at most one ioctl.  pushd runs under ASan and
UBSan (build/san/bin/pushd) where make built it.  Host only: needs
build/bin/pushd and strace (skips without)."""

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
