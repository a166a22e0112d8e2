#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Description: --pub-listen, a second address for publishing only, served
by a libmicrohttpd thread of its own (pushd(8)).  A POST /pub/CH there
reaches subscribers of every transport on --listen; GET /pub/CH, /stats,
/metrics and /healthz answer there, anything else is 404 (no subscribing,
no demo page, no WebSocket upgrade); the Host check takes its address and
refuses a rebinding name; with --token-file it wants the token as --listen
does; it adds one thread, and a POST there is answered while the main
libmicrohttpd thread is held still (ptrace stops that one thread: --listen
then answers nothing, --pub-listen still publishes); a bad value exits 2 and
an address in use exits 1 naming --pub-listen; SIGTERM still exits 0.  How
much that is worth (a POST that does not wait behind long-poll answers) is
measured by tools/bench/matrix (BENCH_PUSHD_PUB_PORT), not timed here."""

import ctypes
import json
import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib as E  # noqa: E402


def threads(pid):
    return len(os.listdir("/proc/%d/task" % pid))


PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT = 17, 0x4206, 0x4207
WALL = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long


def mhd_threads(pid):
    """libmicrohttpd's threads, oldest first: --listen's daemon starts first."""
    tids = []
    for t in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, t)) as f:
            if f.read().startswith("MHD"):
                tids.append(int(t))
    return sorted(tids)


class ThreadStop:
    """Hold one thread of another process still (PTRACE_INTERRUPT stops that
    thread only, not its process), until close()."""

    def __init__(self, tid):
        self.tid = tid
        if libc.ptrace(PTRACE_SEIZE, tid, None, None) != 0:
            raise OSError(ctypes.get_errno(), "PTRACE_SEIZE %d" % tid)
        libc.ptrace(PTRACE_INTERRUPT, tid, None, None)
        os.waitpid(tid, WALL)

    def state(self):
        with open("/proc/%d/stat" % self.tid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]

    def close(self):
        libc.ptrace(PTRACE_DETACH, self.tid, None, None)


def main(tap):
    E.require()
    # one pushd without, for the thread count
    plain = E.Pushd()
    n_plain = threads(plain.pid)
    plain.stop()

    tokdir = tempfile.mkdtemp(prefix="e2e-pub-")
    tokf = os.path.join(tokdir, "token")
    with open(tokf, "w") as f:
        f.write("s3cret-pub\n")
    auth = {"Authorization": "Bearer s3cret-pub"}
    pport = E.free_port()
    pd = E.Pushd("--pub-listen", "127.0.0.1:%d" % pport, "--token-file", tokf,
                 "--poll-timeout", "30")
    tap.eq(n_plain + 1, threads(pd.pid), "--pub-listen adds one thread (%d without)" % n_plain)

    ch = E.unique_channel("publ")
    sse, ws, lp = pd.subscribe_each(ch)
    s0 = pd.stats()

    st, _, body = E.http_json(pport, "POST", "/pub/" + ch, auth, b"via the pub port")
    pid = body.get("id") if isinstance(body, dict) else None
    tap.ok(st == 201 and isinstance(pid, int) and body.get("channel") == ch,
           "POST /pub/CH on --pub-listen -> 201 {id, channel}", (st, body))
    ev = sse.next_event(20)
    msg = json.loads(ev["data"]) if ev else {}
    tap.ok(ev is not None and ev.get("id") == str(pid) and msg.get("data") == "via the pub port",
           "an SSE subscriber on --listen gets it", ev)
    m = ws.recv_json(20)
    tap.ok(m is not None and m.get("id") == pid, "a WebSocket subscriber on --listen gets it", m)
    st, _, got = lp.result()
    tap.ok(st == 200 and isinstance(got, dict) and
           [x.get("id") for x in got.get("messages", [])] == [pid],
           "a long-poll subscriber on --listen gets it", got)
    tap.eq(1, pd.stats().get("published", 0) - s0.get("published", 0), "/stats counts it published")

    # what answers there, and what does not
    st, _, info = E.http_json(pport, "GET", "/pub/" + ch)
    tap.ok(st == 200 and isinstance(info, dict) and info.get("last_id") == pid,
           "GET /pub/CH on --pub-listen: the channel's state", info)
    for path in ("/stats", "/metrics", "/healthz"):
        st, _, _ = E.http(pport, "GET", path)
        tap.eq(200, st, "GET %s on --pub-listen -> 200" % path)
    for path in ("/sub/" + ch, "/", "/push.js"):
        st, _, text = E.http(pport, "GET", path)
        tap.ok(st == 404 and b"--pub-listen" in text and b"--listen" in text,
               "GET %s on --pub-listen -> 404 naming both addresses" % path, (st, text[:200]))
    st, _, _ = E.http(pport, "GET", "/sub/" + ch, {"Upgrade": "websocket", "Connection": "Upgrade",
                                                   "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                                                   "Sec-WebSocket-Version": "13"})
    tap.eq(404, st, "a WebSocket upgrade on --pub-listen -> 404")
    st, _, _ = E.http(pport, "POST", "/pub/" + ch, None, b"no token")
    tap.eq(401, st, "POST on --pub-listen without the token -> 401, as on --listen")
    st, _, _ = E.http(pport, "POST", "/pub/" + ch, {"Authorization": "Bearer wrong"}, b"x")
    tap.ok(st in (401, 403), "POST on --pub-listen with a wrong token refused (%d)" % st)
    st, _, _ = E.http(pport, "POST", "/pub/" + ch, dict(auth, Host="rebind.evil.example"), b"x")
    tap.eq(403, st, "POST on --pub-listen with a rebinding Host -> 403")
    st, _, _ = E.http(pport, "POST", "/pub/" + ch, dict(auth, Host="localhost:%d" % pport), b"x")
    tap.eq(201, st, "Host localhost on --pub-listen (loopback) -> 201")
    st, _, _ = E.http(pport, "POST", "/pub/bad%20name", auth, b"x")
    tap.eq(400, st, "a bad channel name on --pub-listen -> 400")

    # the main address is unchanged: it still publishes too
    st, _, _ = E.http(pd.port, "POST", "/pub/" + ch, auth, b"via the main port")
    tap.eq(201, st, "POST /pub/CH on --listen still -> 201")

    # the point of the option: the main thread held still, publishing goes on
    mhd = mhd_threads(pd.pid)
    tap.ok(len(mhd) == 2, "two libmicrohttpd threads", mhd)
    stop = ThreadStop(mhd[0])
    try:
        tap.eq("t", stop.state(), "--listen's thread is stopped (ptrace), alone")
        try:
            st_main = E.http(pd.port, "GET", "/healthz", timeout=2)[0]
        except OSError as e:
            st_main = repr(e)
        tap.ok(st_main != 200, "--listen answers nothing meanwhile", st_main)
        st, _, body = E.http_json(pport, "POST", "/pub/" + ch, auth, b"while held", timeout=5)
        held_id = body.get("id") if isinstance(body, dict) else None
        tap.ok(st == 201 and isinstance(held_id, int),
               "POST /pub/CH on --pub-listen -> 201 while --listen's thread is stopped", (st, body))
    finally:
        stop.close()
    seen = []
    for _ in range(5):                          # the two POSTs above come first
        ev = sse.next_event(20)
        if ev is None:
            break
        seen.append(ev.get("id"))
        if ev.get("id") == str(held_id):
            break
    tap.ok(str(held_id) in seen, "the message published while held reaches the SSE subscriber",
           seen)
    st, _, _ = E.http(pd.port, "GET", "/healthz")
    tap.eq(200, st, "--listen answers again once its thread runs")

    # bad values and a taken address
    r = subprocess.run([E.PUSHD, "--device", E.DEVICE, "--pub-listen", "nowhere"],
                       capture_output=True, timeout=20)
    tap.ok(r.returncode == 2 and b"--pub-listen" in r.stderr,
           "--pub-listen nowhere: exit 2 naming the option", (r.returncode, r.stderr))
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    r = subprocess.run([E.PUSHD, "--device", E.DEVICE, "--listen", "127.0.0.1:%d" % E.free_port(),
                        "--pub-listen", "127.0.0.1:%d" % busy.getsockname()[1]],
                       capture_output=True, timeout=20)
    busy.close()
    tap.ok(r.returncode == 1 and b"--pub-listen" in r.stderr,
           "--pub-listen on an address in use: exit 1 naming it", (r.returncode, r.stderr))

    sse.close()
    ws.close()
    tap.eq(0, pd.stop(), "pushd with --pub-listen exits 0 on SIGTERM")


E.run_main(main)
